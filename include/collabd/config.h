/*
 * config.h - the daemon's configuration: one declarative table of options.
 *
 * A JSON file holds the settings; environment variables may supply any option
 * that names one (secrets especially, so no secret need sit in the file).
 * Loading collects *every* problem instead of stopping at the first, so
 * `collabd --check-config FILE` and a refused start both list them all.
 */
#ifndef COLLABD_CONFIG_H
#define COLLABD_CONFIG_H

#include <jansson.h>
#include <stdio.h>

struct feishu_config {
	int enabled;
	char *base_url;    /* e.g. https://open.feishu.cn, no trailing slash */
	char *app_id;
	char *app_secret;  /* secret: never logged */
	char *bot_open_id; /* optional; learned from /bot/v3/info when empty */
	int fragment_memory_bytes; /* all pending fragment merges together hold at most this */
};

struct dingtalk_config {
	int enabled;
	char *base_url;        /* https://api.dingtalk.com, no trailing slash */
	char *client_id;       /* the app's Client ID (AppKey); also the robotCode */
	char *client_secret;   /* secret: never logged */
	int rate_per_chat_per_minute; /* DingTalk throttles a group past 20 messages a minute */
	int rate_per_app;      /* sends per second for the whole app */
	json_t *card_templates; /* owned: notice kind -> card template id, or NULL (markdown only) */
	char *card_template_id; /* the generic card template for every workflow card, or NULL/"" (markdown) */
};

struct outbox_config {
	int max_attempts;
	int backoff_base_ms;
	int backoff_max_ms;
	int max_inflight;
	int rate_per_app;    /* sends per second, whole app (Feishu: 50) */
	int rate_per_chat;   /* sends per second, one chat (Feishu: 5) */
};

struct calendar_config {
	char *dir;               /* the holiday data files, one per year */
	char *work_start, *work_end;     /* "09:00", "18:00" */
	char *lunch_start, *lunch_end;   /* both empty: no lunch break */
	json_t *extra_days_off;  /* owned: array of "YYYY-MM-DD", a company's own days off */
};

struct config {
	char *database;
	char *tls_ca_file;        /* tls.ca_file: CAs trusted for the platforms' https/wss, "" = the system's */
	char *timezone;
	int log_level;
	char *admin_listen;
	int admin_port;        /* 0 = no admin HTTP listener */
	int admin_max_connections; /* open at once; more are closed on accept */
	int admin_idle_timeout_s;  /* a connection idle (or slow) this long is closed */

	char *admin_token;     /* secret: required when admin_listen is not loopback */
	int test_clock_control;
	char *test_start_at;   /* "YYYY-MM-DD HH:MM[:SS]" local: the test clock at start; empty = real time */
	int test_no_descriptor_reserve; /* tests: lws may take every descriptor (exercises the accept back-off) */
	int test_sync_normal;     /* testing.synchronous_normal: commits not synced (power-loss test) */
	int test_wal_sync_delay_ms; /* testing.wal_sync_delay_ms: the WAL sync thread waits this long first */
	char *test_fail_marker;   /* testing.fail_events_containing: such messages fail to apply */
	struct feishu_config feishu;
	struct dingtalk_config dingtalk;
	struct outbox_config outbox;
	int inbox_batch_max_events;   /* group commit: events per synced transaction at most */
	int inbox_batch_max_wait_ms;  /* ... and how long the first of them may wait for it */
	struct calendar_config calendar;
	int settings_poll_ms;     /* how often the shared settings' generation is checked */
	int commands_per_minute;  /* per user, after a burst of commands_burst */
	int commands_burst;
	json_t *sla;             /* owned: SLA policy overrides by name (see sla.h), or NULL */
	json_t *admins;          /* owned: user ids who may edit the directory in chat, or NULL */
	int dedicated_chat;      /* approved requests get their own 问题沟通群 (Feishu) */
	int issue_urgent_app;    /* 紧急 issues: Feishu's in-app buzz (urgent_app) to those alerted */
	int issue_dept_chats;    /* issue alerts also go to each receiving department's own chat */
	struct progress_config {
		char *cutoff;                /* "17:00": daily updates are due before it */
		int escalate_after_misses;   /* this many missed days in a row reach the superior */
	} progress;
	struct retention_config {
		int inbox_days;      /* event keys kept for dedupe; at least the platforms' 7-day redelivery */
		int outbox_days;     /* sent messages kept (those a card update may need stay) */
		int event_log_days;  /* the timeline's rows of commands and clicks received */
	} retention;
	struct {
		int connect_timeout_ms;   /* a reconnect attempt (made from a timer) gives up after this */
		int statement_timeout_ms; /* the server cancels a statement after this; the daemon waits a little longer */
		int lock_timeout_ms;      /* a row another instance holds is waited for at most this long */
	} postgresql;
	int outbox_stuck_after_s; /* /healthz: a message pending longer than this is "stuck" */
	struct archive_config {
		char *dir;           /* the 协作项目库; empty: "archive" next to the database */
		char *prefix;        /* archive names YYYY-Qn-PREFIX-NNN, default XMB */
		char *management_dept; /* 企业管理部's code in the directory: gets the reports; may be empty */
	} archive;
	struct board_config {
		char *listen;        /* the web board's address, 127.0.0.1 by default */
		int port;            /* 0 = no board */
		int max_connections; /* open at once; more are closed on accept */
		int idle_timeout_s;  /* a connection idle (or slow) this long is closed */
		char *token;         /* secret: required when listen is not loopback */
		char *public_url;    /* how people reach the board, for links in chat; may be empty */
	} board;
};

struct config_problems {
	char **items; /* owned */
	size_t count;
	int secret_in_file;    /* the file holds at least one secret */
};

/* Fills *cfg with defaults. */
void config_defaults(struct config *cfg);

/*
 * Loads path over the defaults, applies environment overrides and validates.
 * Returns 0 when there is no problem.  Otherwise returns the number of
 * problems, each described in *problems (which the caller frees with
 * config_problems_free()).  Warnings (e.g. a secret in a group/world readable
 * file) are logged, not counted as problems.
 */
int config_load(struct config *cfg, const char *path, struct config_problems *problems);

/* Same, from a JSON text (used by the unit tests). */
int config_load_text(struct config *cfg, const char *json_text, struct config_problems *problems);

void config_print_problems(FILE *out, const char *path, const struct config_problems *problems);
void config_problems_free(struct config_problems *problems);
void config_free(struct config *cfg);

struct calendar;
struct calendar_hours;
/* The configured working hours; -1 when they do not parse. */
int config_calendar_hours(const struct config *cfg, struct calendar_hours *h);
/* Loads the holiday files and the company's extra days off into cal. */
int config_calendar_load(const struct config *cfg, struct calendar *cal, char *err, size_t errsz);

/* Parses testing.start_at, "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS"
 * (local time).  Returns 0, or -1 when it is not such a time. */
int config_parse_start_at(const char *text, int *y, int *m, int *d, int *minute_of_day, int *second);

/* Tokens (board.token, admin.token): at least this long, with at least this
 * many different characters of two kinds or more. */
#define CONFIG_TOKEN_MIN_LEN 16
#define CONFIG_TOKEN_MIN_DISTINCT 8
/* 1 when token is too short, has characters that cannot travel in a URL or
 * cookie, or is too uniform to resist guessing (e.g. 16 x 'a'); why says which. */
int config_token_weak(const char *token, char *why, size_t whysz);

/* 1 when addr is a loopback address (127.x.x.x, ::1, localhost). */
int config_is_loopback(const char *addr);

/* Writes the effective configuration, one "key = value" line per option,
 * secrets shown only as "(set, hidden)". */
void config_dump(FILE *out, const struct config *cfg);

#endif
