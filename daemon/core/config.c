/*
 * config.c - the option table, JSON loading, environment overrides, checks.
 *
 * Every option is one row of config_options[]: adding an option is adding a
 * row (and a line in deploy/collabd.example.json's documentation).
 */
#include "collabd/config.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collabd/calendar.h"
#include "collabd/log.h"
#include "collabd/sla.h"
#include "collabd/store.h"
#include "collabd/util.h"

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_URL, OPT_LOGLEVEL, OPT_JSON };

struct config_option {
	const char *path;     /* dotted JSON path */
	enum opt_type type;
	size_t offset;        /* into struct config */
	const char *def;      /* default, as text; NULL = empty */
	long min, max;        /* for OPT_INT */
	const char *env;      /* environment variable that overrides, or NULL */
	int secret;
};

#define OFF(field) offsetof(struct config, field)

static const struct config_option config_options[] = {
	{ "database", OPT_STRING, OFF(database), "/var/lib/collabd/collabd.db", 0, 0, "COLLABD_DATABASE", 0 },
	{ "timezone", OPT_STRING, OFF(timezone), "Asia/Shanghai", 0, 0, NULL, 0 },
	{ "log_level", OPT_LOGLEVEL, OFF(log_level), "info", 0, 0, "COLLABD_LOG_LEVEL", 0 },
	{ "admin.listen", OPT_STRING, OFF(admin_listen), "127.0.0.1", 0, 0, NULL, 0 },
	{ "admin.port", OPT_INT, OFF(admin_port), "0", 0, 65535, "COLLABD_ADMIN_PORT", 0 },
	{ "admin.max_connections", OPT_INT, OFF(admin_max_connections), "16", 1, 100000, NULL, 0 },
	{ "admin.idle_timeout_s", OPT_INT, OFF(admin_idle_timeout_s), "10", 1, 3600, NULL, 0 },
	{ "admin.token", OPT_STRING, OFF(admin_token), NULL, 0, 0, "COLLABD_ADMIN_TOKEN", 1 },
	{ "testing.clock_control", OPT_BOOL, OFF(test_clock_control), "false", 0, 0, NULL, 0 },
	{ "testing.start_at", OPT_STRING, OFF(test_start_at), "", 0, 0, NULL, 0 },
	{ "testing.no_descriptor_reserve", OPT_BOOL, OFF(test_no_descriptor_reserve), "false", 0, 0, NULL, 0 },
	{ "testing.synchronous_normal", OPT_BOOL, OFF(test_sync_normal), "false", 0, 0, NULL, 0 },
	{ "testing.wal_sync_delay_ms", OPT_INT, OFF(test_wal_sync_delay_ms), "0", 0, 1000, NULL, 0 },
	{ "testing.fail_events_containing", OPT_STRING, OFF(test_fail_marker), NULL, 0, 0, NULL, 0 },
	{ "feishu.enabled", OPT_BOOL, OFF(feishu.enabled), "true", 0, 0, NULL, 0 },
	{ "feishu.base_url", OPT_URL, OFF(feishu.base_url), "https://open.feishu.cn", 0, 0, "COLLABD_FEISHU_BASE_URL", 0 },
	{ "feishu.app_id", OPT_STRING, OFF(feishu.app_id), NULL, 0, 0, "COLLABD_FEISHU_APP_ID", 0 },
	{ "feishu.app_secret", OPT_STRING, OFF(feishu.app_secret), NULL, 0, 0, "COLLABD_FEISHU_APP_SECRET", 1 },
	{ "feishu.bot_open_id", OPT_STRING, OFF(feishu.bot_open_id), NULL, 0, 0, NULL, 0 },
	{ "feishu.fragment_memory_bytes", OPT_INT, OFF(feishu.fragment_memory_bytes), "16777216", 4194304, 1073741824, NULL, 0 },
	{ "dingtalk.enabled", OPT_BOOL, OFF(dingtalk.enabled), "false", 0, 0, NULL, 0 },
	{ "dingtalk.base_url", OPT_URL, OFF(dingtalk.base_url), "https://api.dingtalk.com", 0, 0, "COLLABD_DINGTALK_BASE_URL", 0 },
	{ "dingtalk.client_id", OPT_STRING, OFF(dingtalk.client_id), NULL, 0, 0, "COLLABD_DINGTALK_CLIENT_ID", 0 },
	{ "dingtalk.client_secret", OPT_STRING, OFF(dingtalk.client_secret), NULL, 0, 0, "COLLABD_DINGTALK_CLIENT_SECRET", 1 },
	{ "dingtalk.rate_per_chat_per_minute", OPT_INT, OFF(dingtalk.rate_per_chat_per_minute), "20", 1, 600, NULL, 0 },
	{ "dingtalk.rate_per_app", OPT_INT, OFF(dingtalk.rate_per_app), "20", 1, 1000, NULL, 0 },
	{ "dingtalk.card_templates", OPT_JSON, OFF(dingtalk.card_templates), NULL, 0, 0, NULL, 0 },
	{ "dingtalk.card_template_id", OPT_STRING, OFF(dingtalk.card_template_id), "", 0, 0, "COLLABD_DINGTALK_CARD_TEMPLATE_ID", 0 },
	{ "inbox.batch_max_events", OPT_INT, OFF(inbox_batch_max_events), "512", 1, 10000, NULL, 0 },
	{ "inbox.batch_max_wait_ms", OPT_INT, OFF(inbox_batch_max_wait_ms), "10", 0, 1000, NULL, 0 },
	{ "outbox.max_attempts", OPT_INT, OFF(outbox.max_attempts), "12", 1, 1000, NULL, 0 },
	{ "outbox.backoff_base_ms", OPT_INT, OFF(outbox.backoff_base_ms), "1000", 10, 3600000, NULL, 0 },
	{ "outbox.backoff_max_ms", OPT_INT, OFF(outbox.backoff_max_ms), "300000", 10, 86400000, NULL, 0 },
	{ "outbox.max_inflight", OPT_INT, OFF(outbox.max_inflight), "8", 1, 256, NULL, 0 },
	{ "outbox.rate_per_app", OPT_INT, OFF(outbox.rate_per_app), "50", 1, 1000, NULL, 0 },
	{ "outbox.rate_per_chat", OPT_INT, OFF(outbox.rate_per_chat), "5", 1, 100, NULL, 0 },
	{ "calendar.dir", OPT_STRING, OFF(calendar.dir), COLLABD_DATADIR "/calendar", 0, 0, "COLLABD_CALENDAR_DIR", 0 },
	{ "calendar.work_start", OPT_STRING, OFF(calendar.work_start), "09:00", 0, 0, NULL, 0 },
	{ "calendar.work_end", OPT_STRING, OFF(calendar.work_end), "18:00", 0, 0, NULL, 0 },
	{ "calendar.lunch_start", OPT_STRING, OFF(calendar.lunch_start), "", 0, 0, NULL, 0 },
	{ "calendar.lunch_end", OPT_STRING, OFF(calendar.lunch_end), "", 0, 0, NULL, 0 },
	{ "calendar.extra_days_off", OPT_JSON, OFF(calendar.extra_days_off), NULL, 0, 0, NULL, 0 },
	{ "cluster.settings_poll_ms", OPT_INT, OFF(settings_poll_ms), "5000", 100, 600000, NULL, 0 },
	{ "sla", OPT_JSON, OFF(sla), NULL, 0, 0, NULL, 0 },
	{ "admins", OPT_JSON, OFF(admins), NULL, 0, 0, NULL, 0 },
	{ "requests.dedicated_chat", OPT_BOOL, OFF(dedicated_chat), "false", 0, 0, NULL, 0 },
	{ "issues.urgent_app", OPT_BOOL, OFF(issue_urgent_app), "false", 0, 0, NULL, 0 },
	{ "issues.alert_department_chats", OPT_BOOL, OFF(issue_dept_chats), "false", 0, 0, NULL, 0 },
	{ "progress.cutoff", OPT_STRING, OFF(progress.cutoff), "17:00", 0, 0, NULL, 0 },
	{ "progress.escalate_after_misses", OPT_INT, OFF(progress.escalate_after_misses), "2", 1, 30, NULL, 0 },
	{ "commands.per_user_per_minute", OPT_INT, OFF(commands_per_minute), "20", 1, 10000, NULL, 0 },
	{ "commands.per_user_burst", OPT_INT, OFF(commands_burst), "10", 1, 10000, NULL, 0 },
	/* The inbox remembers an event key at least as long as the platforms
	 * redeliver (Feishu and DingTalk: up to 7 days), or a late redelivery
	 * would be applied twice. */
	{ "retention.inbox_days", OPT_INT, OFF(retention.inbox_days), "7", 7, 3650, NULL, 0 },
	{ "retention.outbox_days", OPT_INT, OFF(retention.outbox_days), "30", 1, 3650, NULL, 0 },
	{ "retention.event_log_days", OPT_INT, OFF(retention.event_log_days), "90", 1, 3650, NULL, 0 },
	/* On the shared store every wait of the event loop on the server is
	 * bounded (daemon/store/store_pg.c). */
	{ "postgresql.connect_timeout_ms", OPT_INT, OFF(postgresql.connect_timeout_ms), "2000", 100, 60000, NULL, 0 },
	{ "postgresql.statement_timeout_ms", OPT_INT, OFF(postgresql.statement_timeout_ms), "2000", 100, 600000, NULL, 0 },
	{ "postgresql.lock_timeout_ms", OPT_INT, OFF(postgresql.lock_timeout_ms), "1000", 10, 600000, NULL, 0 },
	{ "health.outbox_stuck_after_s", OPT_INT, OFF(outbox_stuck_after_s), "300", 1, 86400, NULL, 0 },
	{ "archive.dir", OPT_STRING, OFF(archive.dir), "", 0, 0, "COLLABD_ARCHIVE_DIR", 0 },
	{ "archive.prefix", OPT_STRING, OFF(archive.prefix), "XMB", 0, 0, NULL, 0 },
	{ "management.dept", OPT_STRING, OFF(archive.management_dept), "", 0, 0, NULL, 0 },
	{ "board.listen", OPT_STRING, OFF(board.listen), "127.0.0.1", 0, 0, NULL, 0 },
	{ "board.port", OPT_INT, OFF(board.port), "0", 0, 65535, "COLLABD_BOARD_PORT", 0 },
	{ "board.max_connections", OPT_INT, OFF(board.max_connections), "64", 1, 100000, NULL, 0 },
	{ "board.idle_timeout_s", OPT_INT, OFF(board.idle_timeout_s), "10", 1, 3600, NULL, 0 },
	{ "board.token", OPT_STRING, OFF(board.token), NULL, 0, 0, "COLLABD_BOARD_TOKEN", 1 },
	{ "board.public_url", OPT_STRING, OFF(board.public_url), NULL, 0, 0, NULL, 0 },
	{ "tls.ca_file", OPT_STRING, OFF(tls_ca_file), "", 0, 0, "COLLABD_TLS_CA_FILE", 0 },
};

static void problem(struct config_problems *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct config_problems *pr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("(out of memory formatting a problem)");
	va_end(ap);
	pr->items = xrealloc(pr->items, (pr->count + 1) * sizeof *pr->items);
	pr->items[pr->count++] = msg;
}

static char **str_field(struct config *cfg, const struct config_option *o)
{
	return (char **)((char *)cfg + o->offset);
}

static json_t **json_field(struct config *cfg, const struct config_option *o)
{
	return (json_t **)((char *)cfg + o->offset);
}

static int *int_field(struct config *cfg, const struct config_option *o)
{
	return (int *)((char *)cfg + o->offset);
}

/* Sets one option from text (a default or an environment value). */
static void set_from_text(struct config *cfg, const struct config_option *o, const char *text,
			  const char *origin, struct config_problems *pr)
{
	switch (o->type) {
	case OPT_STRING:
	case OPT_URL:
		free(*str_field(cfg, o));
		*str_field(cfg, o) = text ? xstrdup(text) : NULL;
		return;
	case OPT_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			*int_field(cfg, o) = 1;
		else if (!strcmp(text, "false") || !strcmp(text, "0"))
			*int_field(cfg, o) = 0;
		else
			problem(pr, "%s (from %s): expected true or false, got \"%s\"", o->path, origin, text);
		return;
	case OPT_INT: {
		char *end;
		errno = 0;
		long v = strtol(text, &end, 10);
		if (errno || *end || end == text)
			problem(pr, "%s (from %s): expected a whole number, got \"%s\"", o->path, origin, text);
		else if (v < o->min || v > o->max)
			problem(pr, "%s (from %s): %ld is outside %ld..%ld", o->path, origin, v, o->min, o->max);
		else
			*int_field(cfg, o) = (int)v;
		return;
	}
	case OPT_JSON:
		return; /* no text form: only from the file */
	case OPT_LOGLEVEL: {
		int lv = log_level_parse(text);
		if (lv < 0)
			problem(pr, "%s (from %s): expected debug, info, warn or error, got \"%s\"", o->path, origin, text);
		else
			*int_field(cfg, o) = lv;
		return;
	}
	}
}

void config_defaults(struct config *cfg)
{
	struct config_problems ignored = { 0 };
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < ARRAY_LEN(config_options); i++)
		if (config_options[i].def)
			set_from_text(cfg, &config_options[i], config_options[i].def, "default", &ignored);
	config_problems_free(&ignored);
}

static const struct config_option *find_option(const char *path)
{
	for (size_t i = 0; i < ARRAY_LEN(config_options); i++)
		if (!strcmp(config_options[i].path, path))
			return &config_options[i];
	return NULL;
}

static int is_section(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < ARRAY_LEN(config_options); i++)
		if (!strncmp(config_options[i].path, path, n) && config_options[i].path[n] == '.')
			return 1;
	return 0;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "a number";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "true/false";
	case JSON_NULL: return "null";
	}
	return "a value";
}

static void set_from_json(struct config *cfg, const struct config_option *o, json_t *v,
			  struct config_problems *pr)
{
	switch (o->type) {
	case OPT_JSON:
		json_decref(*json_field(cfg, o));
		*json_field(cfg, o) = json_incref(v);
		return;
	case OPT_STRING:
	case OPT_URL:
	case OPT_LOGLEVEL:
		if (!json_is_string(v)) {
			problem(pr, "%s: expected a string, got %s", o->path, json_type_name(v));
			return;
		}
		if (o->secret)
			pr->secret_in_file = 1;
		set_from_text(cfg, o, json_string_value(v), "file", pr);
		return;
	case OPT_BOOL:
		if (!json_is_boolean(v)) {
			problem(pr, "%s: expected true or false, got %s", o->path, json_type_name(v));
			return;
		}
		*int_field(cfg, o) = json_is_true(v);
		return;
	case OPT_INT:
		if (!json_is_integer(v)) {
			problem(pr, "%s: expected a whole number, got %s", o->path, json_type_name(v));
			return;
		}
		json_int_t n = json_integer_value(v);
		if (n < o->min || n > o->max)
			problem(pr, "%s: %lld is outside %ld..%ld", o->path, (long long)n, o->min, o->max);
		else
			*int_field(cfg, o) = (int)n;
		return;
	}
}

/* Walks the JSON object, setting known options and reporting unknown keys. */
static void walk(struct config *cfg, json_t *obj, const char *prefix, struct config_problems *pr)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		char *path = prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);
		const struct config_option *o = find_option(path);
		if (o)
			set_from_json(cfg, o, v, pr);
		else if (is_section(path) && json_is_object(v))
			walk(cfg, v, path, pr);
		else if (is_section(path))
			problem(pr, "%s: expected an object, got %s", path, json_type_name(v));
		else if (key[0] != '_') /* "_comment" style keys are allowed anywhere */
			problem(pr, "%s: unknown option", path);
		free(path);
	}
}

static void apply_env(struct config *cfg, struct config_problems *pr)
{
	for (size_t i = 0; i < ARRAY_LEN(config_options); i++) {
		const struct config_option *o = &config_options[i];
		const char *v = o->env ? getenv(o->env) : NULL;
		if (v && *v)
			set_from_text(cfg, o, v, o->env, pr);
	}
}

static int empty(const char *s) { return !s || !*s; }

static void problem_text(void *arg, const char *text) { problem(arg, "%s", text); }

int config_calendar_hours(const struct config *cfg, struct calendar_hours *h)
{
	struct calendar_hours d = CALENDAR_HOURS_DEFAULT;
	*h = d;
	const struct calendar_config *c = &cfg->calendar;
	if (calendar_parse_hhmm(c->work_start, &h->start_min) || calendar_parse_hhmm(c->work_end, &h->end_min))
		return -1;
	if (empty(c->lunch_start) != empty(c->lunch_end))
		return -1;
	if (!empty(c->lunch_start) &&
	    (calendar_parse_hhmm(c->lunch_start, &h->lunch_start_min) || calendar_parse_hhmm(c->lunch_end, &h->lunch_end_min)))
		return -1;
	return calendar_hours_check(h, NULL, 0);
}

int config_calendar_load(const struct config *cfg, struct calendar *cal, char *err, size_t errsz)
{
	if (calendar_load_dir(cal, cfg->calendar.dir, err, errsz))
		return -1;
	size_t i;
	json_t *v;
	json_array_foreach(cfg->calendar.extra_days_off, i, v) {
		int y, m, d;
		if (!json_is_string(v) || calendar_parse_date(json_string_value(v), &y, &m, &d)) {
			snprintf(err, errsz, "calendar.extra_days_off[%zu]: expected a date YYYY-MM-DD", i);
			return -1;
		}
		calendar_add_day_off(cal, y, m, d);
	}
	return 0;
}

int config_is_loopback(const char *addr)
{
	return addr && (!strncmp(addr, "127.", 4) || !strcmp(addr, "::1") || !strcmp(addr, "localhost"));
}

int config_token_weak(const char *token, char *why, size_t whysz)
{
	size_t n = strlen(token), distinct = 0;
	int lower = 0, upper = 0, digit = 0, other = 0;
	unsigned char seen[256] = { 0 };
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)token[i];
		distinct += !seen[c]++;
		lower |= c >= 'a' && c <= 'z';
		upper |= c >= 'A' && c <= 'Z';
		digit |= c >= '0' && c <= '9';
		other |= c == '-' || c == '_' || c == '.';
	}
	if (n < CONFIG_TOKEN_MIN_LEN)
		snprintf(why, whysz, "use at least %d characters", CONFIG_TOKEN_MIN_LEN);
	else if (strpbrk(token, " \t\r\n\"&?#%+=;,\\"))
		snprintf(why, whysz, "use letters, digits, '-', '_' or '.' only (it travels in URLs and cookies)");
	else if (distinct < CONFIG_TOKEN_MIN_DISTINCT || lower + upper + digit + other < 2)
		snprintf(why, whysz, "too easy to guess: use at least %d different characters of two kinds or more "
			 "(`collabd gen-token` prints a strong one)", CONFIG_TOKEN_MIN_DISTINCT);
	else
		return 0;
	return 1;
}

/* A listener beyond loopback needs its token, and any token set must be strong. */
static void validate_token(const char *key, const char *listen, int port, const char *token, struct config_problems *pr)
{
	char why[160];
	if (port && !empty(listen) && !config_is_loopback(listen) && empty(token))
		problem(pr, "%s: required when %.*s.listen (%s) is not a loopback address (or set COLLABD_%s_TOKEN)", key,
			(int)(strchr(key, '.') - key), key, listen, !strncmp(key, "admin", 5) ? "ADMIN" : "BOARD");
	if (!empty(token) && config_token_weak(token, why, sizeof why))
		problem(pr, "%s: %s", key, why);
}

/* The board answers the open network only with a token; its public URL is
 * what chat links start with, so one canonical form without a trailing slash. */
static void validate_board(struct board_config *b, struct config_problems *pr)
{
	if (b->port && empty(b->listen))
		problem(pr, "board.listen: required when board.port is set");
	validate_token("board.token", b->listen, b->port, b->token, pr);
	if (!empty(b->public_url)) {
		char *u = b->public_url;
		if ((strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) || strpbrk(u, " \t\r\n\"<>"))
			problem(pr, "board.public_url: must be an http:// or https:// URL");
		size_t n = strlen(u);
		while (n > 0 && u[n - 1] == '/')
			u[--n] = '\0';
	}
}

/* Archive names and the management department use directory-style codes. */
static int capital_code(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 6)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return 0;
	return 1;
}

static void validate_archive(const struct archive_config *a, struct config_problems *pr)
{
	if (empty(a->prefix) || !capital_code(a->prefix))
		problem(pr, "archive.prefix: expected 2 to 6 capital letters (e.g. XMB), got \"%s\"", a->prefix ? a->prefix : "");
	if (!empty(a->management_dept) && !capital_code(a->management_dept))
		problem(pr, "management.dept: expected a department code of 2 to 6 capital letters, got \"%s\"",
			a->management_dept);
}

/* The working hours parse, the data files load, the extra days are dates. */
static void validate_calendar(struct config *cfg, struct config_problems *pr)
{
	struct calendar_hours h;
	char err[300];
	if (config_calendar_hours(cfg, &h)) {
		calendar_hours_check(&h, err, sizeof err);
		problem(pr, "calendar: working hours must be HH:MM with work_start < work_end (and lunch_start < "
			    "lunch_end inside them, both set or both empty)");
		return;
	}
	if (cfg->calendar.extra_days_off && !json_is_array(cfg->calendar.extra_days_off)) {
		problem(pr, "calendar.extra_days_off: expected an array of dates YYYY-MM-DD");
		return;
	}
	struct calendar *cal = calendar_new(&h);
	if (config_calendar_load(cfg, cal, err, sizeof err))
		problem(pr, "calendar: %s", err);
	calendar_free(cal);
	int cutoff;
	if (calendar_parse_hhmm(cfg->progress.cutoff, &cutoff) || cutoff <= h.start_min || cutoff > h.end_min)
		problem(pr, "progress.cutoff: expected HH:MM inside the working hours (%s-%s), e.g. \"17:00\"",
			cfg->calendar.work_start, cfg->calendar.work_end);
}

/* True when a problem about key was already reported (one message per key). */
static int reported(const struct config_problems *pr, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < pr->count; i++)
		if (!strncmp(pr->items[i], key, n) && (pr->items[i][n] == ':' || pr->items[i][n] == ' '))
			return 1;
	return 0;
}

static void validate(struct config *cfg, struct config_problems *pr)
{
	for (size_t i = 0; i < ARRAY_LEN(config_options); i++) {
		const struct config_option *o = &config_options[i];
		if (o->type != OPT_URL)
			continue;
		char **s = str_field(cfg, o);
		const char *host = empty(*s) ? NULL : !strncmp(*s, "http://", 7) ? *s + 7
						  : !strncmp(*s, "https://", 8) ? *s + 8 : NULL;
		/* A host must follow the scheme, and a URL has no blanks. */
		if (!host || !*host || *host == '/' || strpbrk(*s, " \t\r\n")) {
			if (!reported(pr, o->path))
				problem(pr, "%s: must be an http:// or https:// URL", o->path);
			continue;
		}
		size_t n = strlen(*s);
		while (n > 0 && (*s)[n - 1] == '/') /* one canonical form: no trailing slash */
			(*s)[--n] = '\0';
	}
	if (empty(cfg->database))
		problem(pr, "database: must name the SQLite file or a postgresql:// URI");
	/* Beside a SQLite file by default; with a shared store every instance
	 * must write the same archive, so it is named explicitly. */
	else if (store_is_pg_uri(cfg->database) && empty(cfg->archive.dir))
		problem(pr, "archive.dir: required with a PostgreSQL database (a directory every instance shares)");
	/* A lock wait the statement's own timeout would cut short is no wait. */
	if (cfg->postgresql.lock_timeout_ms >= cfg->postgresql.statement_timeout_ms)
		problem(pr, "postgresql.lock_timeout_ms: must be less than postgresql.statement_timeout_ms (%d)",
			cfg->postgresql.statement_timeout_ms);
	/* A zone glibc cannot find silently becomes UTC: refuse it instead. */
	char zonefile[300];
	struct stat zst;
	snprintf(zonefile, sizeof zonefile, "/usr/share/zoneinfo/%s", cfg->timezone ? cfg->timezone : "");
	if (empty(cfg->timezone) || strstr(cfg->timezone, "..") || stat(zonefile, &zst) || !S_ISREG(zst.st_mode))
		problem(pr, "timezone: \"%s\" is not a known time zone (e.g. Asia/Shanghai; is tzdata installed?)",
			cfg->timezone ? cfg->timezone : "");
	if (cfg->feishu.enabled) {
		const char *id = cfg->feishu.app_id;
		if (empty(id)) {
			if (!reported(pr, "feishu.app_id"))
				problem(pr, "feishu.app_id: required when feishu.enabled (or set COLLABD_FEISHU_APP_ID)");
		}
		else if (strncmp(id, "cli_", 4) || strlen(id) < 5)
			problem(pr, "feishu.app_id: \"%s\" does not look like a Feishu app id (cli_...)", id);
		if (empty(cfg->feishu.app_secret))
			problem(pr, "feishu.app_secret: required when feishu.enabled; "
				    "prefer the environment variable COLLABD_FEISHU_APP_SECRET");
	}
	if (cfg->dingtalk.enabled) {
		if (empty(cfg->dingtalk.client_id) && !reported(pr, "dingtalk.client_id"))
			problem(pr, "dingtalk.client_id: required when dingtalk.enabled (or set COLLABD_DINGTALK_CLIENT_ID)");
		if (empty(cfg->dingtalk.client_secret))
			problem(pr, "dingtalk.client_secret: required when dingtalk.enabled; "
				    "prefer the environment variable COLLABD_DINGTALK_CLIENT_SECRET");
	}
	size_t ai;
	json_t *admin;
	if (cfg->admins && !json_is_array(cfg->admins))
		problem(pr, "admins: expected a list of user ids");
	json_array_foreach(cfg->admins, ai, admin)
		if (!json_is_string(admin) || !*json_string_value(admin))
			problem(pr, "admins[%zu]: expected a user id string", ai);
	json_t *templates = cfg->dingtalk.card_templates;
	const char *kind;
	json_t *tid;
	if (templates && !json_is_object(templates))
		problem(pr, "dingtalk.card_templates: expected an object of notice kind -> template id");
	json_object_foreach(templates, kind, tid) {
		if (kind[0] == '_')
			continue;
		if (strcmp(kind, "status") && strcmp(kind, "sla_pings"))
			problem(pr, "dingtalk.card_templates.%s: no card for this notice kind (status, sla_pings)", kind);
		else if (!json_is_string(tid) || !*json_string_value(tid))
			problem(pr, "dingtalk.card_templates.%s: expected the template id as a string", kind);
	}
	if (!cfg->feishu.enabled && !cfg->dingtalk.enabled)
		problem(pr, "no platform is enabled: set feishu.enabled or dingtalk.enabled to true");
	if (cfg->outbox.backoff_base_ms > cfg->outbox.backoff_max_ms)
		problem(pr, "outbox.backoff_base_ms: must not exceed outbox.backoff_max_ms");
	if (cfg->admin_port && empty(cfg->admin_listen))
		problem(pr, "admin.listen: required when admin.port is set");
	if (cfg->test_clock_control && !cfg->admin_port)
		problem(pr, "testing.clock_control: needs admin.port (the clock is moved through it)");
	if (!empty(cfg->test_start_at)) {
		int y, mo, dd, minute, second;
		if (!cfg->test_clock_control)
			problem(pr, "testing.start_at: only with testing.clock_control (it sets the test clock)");
		else if (config_parse_start_at(cfg->test_start_at, &y, &mo, &dd, &minute, &second))
			problem(pr, "testing.start_at: expected local time \"YYYY-MM-DD HH:MM[:SS]\", got \"%s\"",
				cfg->test_start_at);
	}
	validate_archive(&cfg->archive, pr);
	validate_token("admin.token", cfg->admin_listen, cfg->admin_port, cfg->admin_token, pr);
	validate_board(&cfg->board, pr);
	if (!empty(cfg->tls_ca_file) && access(cfg->tls_ca_file, R_OK))
		problem(pr, "tls.ca_file: cannot read %s: %s", cfg->tls_ca_file, strerror(errno));
	validate_calendar(cfg, pr);
	struct sla_policies *sla = sla_policies_new(cfg->sla, problem_text, pr);
	sla_policies_free(sla);
}

int config_parse_start_at(const char *text, int *y, int *m, int *d, int *minute, int *second)
{
	/* Exactly "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS": digits where digits go. */
	static const char *const shapes[] = { "dddd-dd-dd dd:dd", "dddd-dd-dd dd:dd:dd" };
	size_t n = strlen(text);
	int ok = 0;
	for (size_t k = 0; k < ARRAY_LEN(shapes); k++) {
		if (n != strlen(shapes[k]))
			continue;
		ok = 1;
		for (size_t i = 0; i < n; i++)
			ok &= shapes[k][i] == 'd' ? text[i] >= '0' && text[i] <= '9' : text[i] == shapes[k][i];
	}
	char date[11];
	memcpy(date, text, ok ? 10 : 0);
	date[ok ? 10 : 0] = '\0';
	if (!ok || calendar_parse_date(date, y, m, d))
		return -1;
	int hh = atoi(text + 11), mm = atoi(text + 14), ss = n > 16 ? atoi(text + 17) : 0;
	if (hh > 23 || mm > 59 || ss > 59)
		return -1;
	*minute = hh * 60 + mm;
	*second = ss;
	return 0;
}

static int load_json(struct config *cfg, json_t *root, struct config_problems *pr)
{
	if (!json_is_object(root))
		problem(pr, "the configuration must be a JSON object");
	else
		walk(cfg, root, NULL, pr);
	apply_env(cfg, pr);
	validate(cfg, pr);
	return (int)pr->count;
}

int config_load_text(struct config *cfg, const char *json_text, struct config_problems *pr)
{
	memset(pr, 0, sizeof *pr);
	config_defaults(cfg);
	json_error_t jerr;
	json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		problem(pr, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return (int)pr->count;
	}
	int n = load_json(cfg, root, pr);
	json_decref(root);
	return n;
}

int config_load(struct config *cfg, const char *path, struct config_problems *pr)
{
	memset(pr, 0, sizeof *pr);
	config_defaults(cfg);
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0 || jerr.position == 0)
			problem(pr, "cannot read: %s", jerr.text);
		else
			problem(pr, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return (int)pr->count;
	}
	int n = load_json(cfg, root, pr);
	json_decref(root);
	struct stat st;
	if (pr->secret_in_file && stat(path, &st) == 0 && (st.st_mode & 077))
		log_warn("msg=\"configuration file holds a secret but is readable by group or others; "
			 "chmod 600 it or move the secret to the environment\" file=%s mode=%03o",
			 path, (unsigned)(st.st_mode & 0777));
	return n;
}

void config_print_problems(FILE *out, const char *path, const struct config_problems *pr)
{
	for (size_t i = 0; i < pr->count; i++)
		fprintf(out, "collabd: %s: %s\n", path, pr->items[i]);
	if (pr->count)
		fprintf(out, "collabd: %s: %zu problem%s\n", path, pr->count, pr->count == 1 ? "" : "s");
}

void config_problems_free(struct config_problems *pr)
{
	for (size_t i = 0; i < pr->count; i++)
		free(pr->items[i]);
	free(pr->items);
	memset(pr, 0, sizeof *pr);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < ARRAY_LEN(config_options); i++) {
		const struct config_option *o = &config_options[i];
		if (o->type == OPT_STRING || o->type == OPT_URL) {
			free(*str_field(cfg, o));
			*str_field(cfg, o) = NULL;
		} else if (o->type == OPT_JSON) {
			json_decref(*json_field(cfg, o));
			*json_field(cfg, o) = NULL;
		}
	}
}

void config_dump(FILE *out, const struct config *cfg)
{
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	for (size_t i = 0; i < ARRAY_LEN(config_options); i++) {
		const struct config_option *o = &config_options[i];
		const char *p = (const char *)cfg + o->offset;
		fprintf(out, "%s = ", o->path);
		switch (o->type) {
		case OPT_STRING:
		case OPT_URL: {
			const char *s = *(char *const *)p;
			fprintf(out, "%s\n", !s ? "(unset)" : o->secret ? "(set, hidden)" : s);
			break;
		}
		case OPT_INT: fprintf(out, "%d\n", *(const int *)p); break;
		case OPT_BOOL: fprintf(out, "%s\n", *(const int *)p ? "true" : "false"); break;
		case OPT_LOGLEVEL: fprintf(out, "%s\n", levels[*(const int *)p]); break;
		case OPT_JSON: {
			char *j = *(json_t *const *)p ? json_dumps(*(json_t *const *)p, JSON_COMPACT) : NULL;
			fprintf(out, "%s\n", j ? j : "(default)");
			free(j);
			break;
		}
		}
	}
}
