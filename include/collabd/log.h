/*
 * log.h - the small logging API: levels, key=value lines on stderr.
 *
 * Every line is "ts=... level=... msg=\"...\" key=value ...", greppable and
 * journald-friendly.  The level is checked before anything is formatted, so a
 * debug line costs one comparison when debug is off.  Secrets never go through
 * here unredacted: use log_redact_url() for URLs that carry tickets or keys.
 */
#ifndef COLLABD_LOG_H
#define COLLABD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn" or "error"; returns -1 when unknown. */
int log_level_parse(const char *name);

/* Ends every line with instance=ID (NULL or "" stops it): the daemon sets it
 * when it runs on a shared PostgreSQL store, so the lines of several
 * instances can be told apart once collected. */
void log_set_instance(const char *id);

/* Writes one line (repeats are rate-limited: see log.c).  fmt describes the
 * whole tail after "level=..", so callers
 * write: log_msg(LOG_INFO, "msg=\"connected\" conn=%s", id). */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_get_level() <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_get_level() <= LOG_INFO)  log_msg(LOG_INFO,  __VA_ARGS__); } while (0)
#define log_warn(...)  log_msg(LOG_WARN,  __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/*
 * Copies url into out (size outsz, always NUL-terminated) with the values of
 * secret query parameters (access_key, ticket, token, secret, app_secret)
 * replaced by "***".  Returns out.
 */
char *log_redact_url(const char *url, char *out, size_t outsz);

#endif
