/*
 * daemon.h - the daemon as a whole: what it owns and its main loop.
 *
 * One struct daemon is passed to whoever needs the daemon's parts; there are
 * no globals beyond the signal flags.
 */
#ifndef COLLABD_DAEMON_H
#define COLLABD_DAEMON_H

#include <libwebsockets.h>

#include "collabd/command.h"
#include "collabd/config.h"
#include "collabd/http_guard.h"
#include "collabd/inbox.h"
#include "collabd/metrics.h"

struct lws_context;
struct lws_vhost;
struct store;
struct http_client;
struct feishu_api;
struct feishu_ws;
struct dingtalk_api;
struct dingtalk_ws;
struct outbox;
struct admin;
struct calendar;
struct sla_policies;
struct sched;

struct daemon {
	struct config cfg;
	struct store *store;
	struct lws_context *ctx;
	struct lws_vhost *client_vhost;
	struct lws *wake_wsi;               /* the eventfd a WAL sync thread writes: acks may go (daemon.c) */
	int wake_fd;                        /* ... its descriptor, valid while wake_wsi is set */
	struct http_client *http;
	struct feishu_api *feishu_api;
	struct feishu_ws *feishu_ws;        /* NULL when feishu.enabled is false */
	struct dingtalk_api *dingtalk_api;
	struct dingtalk_ws *dingtalk_ws;    /* NULL when dingtalk.enabled is false */
	struct outbox *outbox;
	struct calendar *calendar;
	struct sla_policies *policies;
	struct sched *sched;
	struct admin *admin;
	struct http_guard admin_guard;      /* the admin port's connection limits */
	struct http_guard board_guard;      /* the board's */
	struct inbox_batch *batch;          /* events read this turn, waiting for one commit */
	struct inbox_stats inbox;
	int kick_when_durable;              /* a batch queued notices: kick the outbox once it is on disk */
	struct metrics metrics;             /* per-platform and per-code counters for /metrics */
	long long reloads;                  /* SIGHUP reloads done */
	struct cmd_env env;
	const char *config_path;            /* borrowed from main(): re-read on SIGHUP */
	ms_t started_at;
	int exit_code;
	int stopping;
	lws_sorted_usec_list_t prune_timer; /* hourly: old inbox dedupe keys */
	lws_sorted_usec_list_t store_timer; /* a shared store's background reconnect (store_maintain) */
	int store_ticking;                  /* store_timer is armed: the store is reconnecting */
	lws_sorted_usec_list_t settings_timer; /* the shared settings' generation check */
	json_t *settings_doc;               /* owned: the shared settings in force (shared_settings.h) */
	long long settings_generation;      /* ... and their generation in the database */
	long long settings_applied;         /* generations published elsewhere and applied here */
};

/* Runs the daemon with a loaded, valid configuration until SIGTERM/SIGINT or a
 * fatal error.  Returns the process exit code. */
int daemon_run(struct daemon *d);

/* Applies the events waiting in the batch (one transaction), then acks
 * those already on disk.  Called after every turn of the loop. */
void daemon_flush_events(struct daemon *d);
/* Acks the events whose commit a sync thread has since put on disk; wait:
 * syncs first, so that all are acked (shutdown). */
void daemon_answer_durable(struct daemon *d, int wait);

/* Replays the dead letters an operator marked for retry (dead_letter.c);
 * returns {replayed: N, results: [{id, state, error?}]} (new reference). */
json_t *daemon_replay_dead_letters(struct daemon *d);

/* Fills *s with the daemon's current status. */
void daemon_status_get(struct daemon *d, struct daemon_status *s);

/* 1 when every enabled platform's connection is up. */
int daemon_connected(struct daemon *d);

/* Writes the daemon's counters as a JSON object (new reference). */
json_t *daemon_stats_json(struct daemon *d);

/* The counters in Prometheus' text format: a new string the caller frees. */
char *daemon_metrics_text(struct daemon *d);

/* /healthz: a new JSON object describing each check; *http_status gets 200
 * when every check passes, else 503. */
json_t *daemon_health(struct daemon *d, int *http_status);

/* SIGHUP: re-reads the configuration file and applies what can change while
 * running (calendar, log level, admins, board token and URL).  A file with
 * problems changes nothing (each problem is logged).  Returns 0 on success. */
int daemon_reload(struct daemon *d);

/* ---- the cluster's shared settings (settings_sync.c) ---- */

/* At start, with the files loaded into cfg and calendar: seeds the database's
 * copy, or reconciles with it (the precedence rule is in settings_sync.c).
 * 0, or -1 (logged) when the database cannot be read or written. */
int daemon_settings_open(struct daemon *d);
/* Starts the timer that applies what other instances publish (the loop's
 * end cancels it); stop drops settings_doc. */
void daemon_settings_start(struct daemon *d);
void daemon_settings_stop(struct daemon *d);
/* Puts cal (its contents are swapped in; the caller frees cal) and doc
 * (borrowed; its values already in cfg) in force at generation, as a reload
 * does: admins, timers re-planned. */
void daemon_settings_applied(struct daemon *d, struct calendar *cal, json_t *doc, int64_t generation);

/* ---- admin HTTP (health, stats, the test clock) ---- */

extern const struct lws_protocols admin_protocol;

#endif
