/*
 * log.c - leveled key=value logging to stderr.
 *
 * Timestamps are real wall-clock time (not the test clock) so that operators can
 * line the log up with other services even when tests move the daemon's clock.
 *
 * Repeats are rate-limited everywhere, so no failure that recurs in a tight
 * loop (accept on an exhausted descriptor table, a refused connect) can fill
 * the disk: lines that differ only in their numbers count as the same line;
 * each may appear LOG_BURST times per LOG_WINDOW_MS, and the first one after
 * a window in which some were held back carries suppressed=N.
 */
#include "collabd/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#define LOG_WINDOW_MS 10000
#define LOG_BURST 20
#define LOG_SLOTS 128

struct log_slot {
	uint64_t key;
	int64_t window_start;  /* monotonic ms */
	int count;             /* lines with this key in the window */
	long suppressed;       /* held back in the window */
};

static struct log_slot slots[LOG_SLOTS];

static enum log_level current_level = LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Set when several instances may share a database: every line then says
 * which one wrote it. */
static char instance_id[64];

void log_set_instance(const char *id) { snprintf(instance_id, sizeof instance_id, "%s", id ? id : ""); }

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a over the line without its digits, and the level. */
static uint64_t line_key(enum log_level level, const char *text)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)level;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p >= '0' && *p <= '9')
			continue;
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

static void write_line(enum log_level level, const char *text, long suppressed)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	/* One locked stream, so lines never interleave. */
	flockfile(stderr);
	fprintf(stderr, "ts=%s.%03ldZ level=%s %s", ts, (long)(tv.tv_usec / 1000), level_names[level], text);
	if (suppressed)
		fprintf(stderr, " suppressed=%ld", suppressed);
	if (instance_id[0])
		fprintf(stderr, " instance=%s", instance_id);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* Decides whether the line with this key is written now; *held gets the
 * count of its repeats held back before, to be reported with it. */
static int admit(uint64_t key, long *held)
{
	int64_t now = mono_ms();
	struct log_slot *s = &slots[key % LOG_SLOTS];
	*held = 0;
	if (s->key != key || now - s->window_start >= LOG_WINDOW_MS) {
		if (s->key != key && s->suppressed)
			/* Another line takes the slot: say what was held back. */
			write_line(LOG_WARN, "msg=\"repeated log lines suppressed\"", s->suppressed);
		else
			*held = s->suppressed;
		s->key = key;
		s->window_start = now;
		s->count = 1;
		s->suppressed = 0;
		return 1;
	}
	if (++s->count <= LOG_BURST)
		return 1;
	s->suppressed++;
	return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < current_level)
		return;
	char small[1024], *text = small;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof small) {
		text = malloc((size_t)n + 1);
		if (!text)
			return;
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	long held = 0;
	if (admit(line_key(level, text), &held))
		write_line(level, text, held);
	if (text != small)
		free(text);
}

static int is_secret_param(const char *name, size_t len)
{
	static const char *const secret[] = { "access_key", "ticket", "token", "secret", "app_secret" };
	for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
		if (strlen(secret[i]) == len && strncasecmp(name, secret[i], len) == 0)
			return 1;
	return 0;
}

char *log_redact_url(const char *url, char *out, size_t outsz)
{
	size_t o = 0;
	const char *p = url;
	int in_query = 0;
	if (outsz == 0)
		return out;
	while (*p && o + 1 < outsz) {
		if (*p == '?' || (in_query && *p == '&')) {
			in_query = 1;
			out[o++] = *p++;
			const char *name = p;
			while (*p && *p != '=' && *p != '&')
				p++;
			size_t nlen = (size_t)(p - name);
			for (size_t i = 0; i < nlen && o + 1 < outsz; i++)
				out[o++] = name[i];
			if (*p == '=' && is_secret_param(name, nlen)) {
				const char *mask = "=***";
				for (size_t i = 0; mask[i] && o + 1 < outsz; i++)
					out[o++] = mask[i];
				p++;
				while (*p && *p != '&')
					p++;
			}
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}
