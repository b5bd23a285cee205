/*
 * log.c - leveled key=value logging to stderr.
 *
 * Timestamps are real wall-clock time (not the test clock) so that operators can
 * line the log up with other services even when tests move the daemon's clock.
 */
#include "collabd/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

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

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < current_level)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

	/* One fprintf per part but a single locked stream, so lines never interleave. */
	flockfile(stderr);
	fprintf(stderr, "ts=%s.%03ldZ level=%s ", ts, (long)(tv.tv_usec / 1000), level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
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
