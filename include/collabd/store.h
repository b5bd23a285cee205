/*
 * store.h - the store (SQLite or PostgreSQL): every line of SQL in the daemon lives behind this.
 *
 * Two engines behind it (daemon/store/store_engine.h): a SQLite file in WAL
 * mode, the embedded default, or a PostgreSQL database that several
 * instances share (a postgresql:// URI).  The schema is versioned by the table
 * schema_migrations; opening a database made by an older collabd upgrades it
 * step by step, and one made by a newer collabd is refused.  The core
 * records' statements are prepared at open; each step's own file
 * (daemon/store/store_*.c) prepares its statements on first use and keeps
 * them.  The SQL of the later steps is declared in their own headers
 * (progress.h, issue.h, archive.h, retro.h, store_board.h) but lives in
 * daemon/store/ all the same.
 *
 * Keep this interface about the daemon's records, not about SQL.
 */
#ifndef COLLABD_STORE_H
#define COLLABD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "collabd/clock.h"

struct store;

enum store_rc {
	STORE_OK = 0,
	STORE_DUP,      /* the record already exists (e.g. a redelivered event) */
	STORE_NOTFOUND,
	STORE_ERR,      /* the database failed: see store_errmsg() */
	STORE_TOONEW,   /* the database was made by a newer collabd */
};

/* The newest schema version this build knows. */
int store_schema_version(void);

/* Opens (creating if needed) and migrates the database: a SQLite file path,
 * or a postgresql:// (postgres://) URI for the shared PostgreSQL store.  On failure
 * returns non-zero and writes a message into err (size errsz). */
enum store_rc store_open(const char *path, struct store **out, char *err, size_t errsz);
void store_close(struct store *st);
/* The last SQLite error message (borrowed, valid until the next call). */
const char *store_errmsg(struct store *st);
/* How long the daemon's event loop may wait on a shared store's server. */
struct store_limits {
	int connect_timeout_ms;   /* one reconnect attempt, driven by store_maintain() */
	int statement_timeout_ms; /* the server's statement_timeout; the client waits this + 500 ms at most */
	int lock_timeout_ms;      /* the server's lock_timeout */
};
/* From now on st serves an event loop: no statement waits on the server
 * longer than lim allows (the connection is dropped then), and a lost
 * connection is made again only by store_maintain(), never inside a
 * statement -- until then statements fail at once.  Nothing on SQLite. */
void store_set_limits(struct store *st, const struct store_limits *lim);
/* Moves a background reconnect on without blocking (called from a timer
 * while store_reachable() says 0); the milliseconds until it wants to run
 * again, -1 when there is nothing to drive (connected, or SQLite). */
long store_maintain(struct store *st);
/* 0 while the store's server is unreachable and being reconnected to. */
int store_reachable(struct store *st);
/* "sqlite" or "postgresql": the engine store_open() chose by the database
 * named (a file path, or a postgresql:// URI). */
const char *store_engine_name(const struct store *st);
/* This process's name among the instances sharing the store
 * (COLLABD_INSTANCE_ID, else host-pid): it holds the outbox rows it sends. */
const char *store_instance_id(const struct store *st);
/* database as it may be logged: a URI's password replaced by ***.  Writes
 * into out (size outsz) and returns it. */
char *store_database_redacted(const char *database, char *out, size_t outsz);
/* Non-zero when database is a postgresql:// (postgres://) URI, not a file. */
int store_is_pg_uri(const char *database);
/* Gives up this instance's claims on outbox rows it has not sent (at a
 * graceful stop), so another instance sends them without waiting. */
enum store_rc store_outbox_release(struct store *st);
/* Non-zero when several instances may share this store (PostgreSQL). */
int store_is_shared(const struct store *st);
/* A token from the shared bucket key (refilled at per_second, holding at
 * most burst) at wall-clock time now_ms: 0 when taken, else the milliseconds
 * until one will be there, -1 on a store error.  Only on a shared store. */
ms_t store_rate_take(struct store *st, const char *key, double per_second, double burst, ms_t now_ms);
/* Puts back a token store_rate_take() gave for a send that did not happen
 * (the app's bucket refused it after the chat's had given one). */
enum store_rc store_rate_give_back(struct store *st, const char *key, double burst);
/* store_rate_take() when the wait does not matter, in one statement: 1 taken, 0 none
 * left, -1 on a store error. */
int store_rate_try(struct store *st, const char *key, double per_second, double burst, ms_t now_ms);
/* The version the database was at before store_open() migrated it. */
int store_version_found(struct store *st);

enum store_rc store_begin(struct store *st);
/*
 * How many SQLite failures the store has seen since it opened.  A reader that
 * has no way to report a failure (a lookup returning NULL for "none") still
 * counts it here, so whoever applies an event compares the count before and
 * after and never acknowledges an event during which the store failed: a
 * failure can never be mistaken for "not found" and acked.
 */
unsigned long store_error_count(const struct store *st);
/* COMMIT.  The database runs synchronous=FULL, so once this returns STORE_OK
 * the transaction is on disk (it survives a power cut, not only a crash). */
enum store_rc store_commit(struct store *st);
void store_rollback(struct store *st);

/*
 * Group commit without the sync on the caller's thread (the inbox's batch,
 * issue 14 §3).  store_begin_nowait() opens a transaction whose
 * store_commit_nowait() writes it and returns at once with its number in
 * *seq; it is on disk -- as durable as store_commit()'s -- once
 * store_is_durable(st, seq) says so, which a sync thread makes true a few
 * milliseconds later.  Nothing that depends on the transaction may leave
 * the process (an ack) before that.  store_on_durable() registers fn, which
 * a sync thread calls (on its own thread: it must be thread-safe, e.g.
 * lws_cancel_service) each time more commits are durable.  store_sync()
 * makes every commit durable now, on the caller's thread.  On PostgreSQL
 * (and SQLite without its sync thread) a commit is durable when it returns.
 */
enum store_rc store_begin_nowait(struct store *st);
enum store_rc store_commit_nowait(struct store *st, uint64_t *seq);
int store_is_durable(struct store *st, uint64_t seq);
void store_on_durable(struct store *st, void (*fn)(void *arg), void *arg);
enum store_rc store_sync(struct store *st);
/* No sync thread from now on (the caller cannot be woken by it): every
 * commit syncs before it returns.  Call before the first commit. */
void store_wal_sync_off(struct store *st);
/* 1 while a transaction is open (0 also after SQLite rolled one back on its
 * own, e.g. on a full disk). */
int store_in_transaction(struct store *st);

/* One event's savepoint inside the batch transaction: store_release() keeps
 * its changes, store_rollback_to() undoes them alone (and ends it). */
enum store_rc store_savepoint(struct store *st);
enum store_rc store_release(struct store *st);
enum store_rc store_rollback_to(struct store *st);

/* WAL checkpoints (SQLite): the store's own thread copies the log into the
 * database (never the connection that commits, which runs on the event
 * loop); inline counts those the writer had to run itself because the log
 * outgrew its limit under a flood.  All zero on PostgreSQL. */
struct store_wal_stats {
	unsigned long long checkpoints, inline_checkpoints, failures;
	unsigned long long syncs;        /* WAL syncs for the inbox's commits by the sync thread */
	unsigned long long inline_syncs; /* and on the loop (a full batch waiting, another commit, shutdown) */
};
void store_wal_stats(struct store *st, struct store_wal_stats *out);

/* Testing only (testing.synchronous_normal): full=0 switches to
 * synchronous=NORMAL, where a commit survives a crash of the process but
 * not a power cut.  The power-loss test shows the difference. */
enum store_rc store_set_synchronous(struct store *st, int full);
/* Testing only (testing.wal_sync_delay_ms): the sync thread waits ms before
 * each sync, so that a power cut lands between a commit and its sync often
 * and an ack sent before the sync would show as a loss. */
void store_set_sync_delay(struct store *st, int ms);

/* Inbox: records that an event was applied.  STORE_DUP when it already was. */
enum store_rc store_inbox_record(struct store *st, const char *platform, const char *dedupe_key,
				 const char *event_type, ms_t now);
/* Deletes inbox records older than cutoff; returns how many. */
int store_inbox_prune(struct store *st, ms_t cutoff);
/* Deletes messages sent before cutoff, except those about a subject (a card
 * a later step updates in place, or the chat a request moved to).  Returns
 * how many, or -1. */
int store_outbox_prune_sent(struct store *st, ms_t cutoff);
/* Deletes the timeline's rows of received events (kinds "message",
 * "card_action", "other") older than cutoff; the workflow's own rows (a
 * request's or an issue's story) are kept for ever.  Returns how many, or -1. */
int store_timeline_prune_events(struct store *st, ms_t cutoff);
#define STORE_HAS_RETENTION 1 /* the two above exist (tests/bench/bench_retention.c runs on older trees too) */

/* Timeline: an append-only record of what happened, for audits and reports. */
enum store_rc store_timeline_add(struct store *st, ms_t at, const char *actor, const char *kind,
				 const char *subject, const char *detail_json);

/* Outbox rows: notices waiting to be sent. */
struct outbox_row {
	int64_t id;
	char *platform;     /* owned by the row */
	char *chat_id;      /* owned */
	char *reply_to;     /* owned; NULL when the notice is not a reply */
	char *update_of;    /* owned; a card message to update in place, or NULL */
	char *kind;         /* owned; the notice kind, e.g. "text" */
	char *body;         /* owned; the notice as JSON */
	char *idem_key;     /* owned; the platform idempotency key (Feishu uuid) */
	int attempts;
	ms_t next_attempt_at;
};

void outbox_row_free(struct outbox_row *row);

/* Adds a notice to the outbox inside the caller's transaction.  reply_to and
 * update_of may be NULL; id_out may be NULL. */
enum store_rc store_outbox_add(struct store *st, const char *platform, const char *chat_id,
			       const char *reply_to, const char *update_of, const char *kind,
			       const char *body_json, ms_t now, int64_t *id_out);
/* Loads up to max pending rows due at now, oldest first.  Only the oldest
 * pending row of each chat is eligible, so a chat's messages go out in order
 * even when one of them is waiting to be retried.  *n gets how many rows were
 * written to rows (the caller frees each with outbox_row_free()); on
 * STORE_ERR none are. */
enum store_rc store_outbox_due(struct store *st, ms_t now, struct outbox_row *rows, size_t max, size_t *n);
enum store_rc store_outbox_sent(struct store *st, int64_t id, const char *platform_message_id, ms_t now);
enum store_rc store_outbox_retry(struct store *st, int64_t id, ms_t next_attempt_at, const char *error);
enum store_rc store_outbox_failed(struct store *st, int64_t id, const char *error);
/* Earliest next_attempt_at among the pending head rows of each chat, or -1
 * when none is pending. */
ms_t store_outbox_next_due(struct store *st);
/* Number of pending rows. */
int64_t store_outbox_pending(struct store *st);

/* Deadlines: something someone must do by due_at, watched by a policy. */
struct deadline_row {
	char *key;        /* owned; e.g. "req:2026-Q4-JSB-003:confirm:JSB" */
	char *policy;     /* owned; the SLA policy's name */
	char *platform;   /* owned */
	char *chat_id;    /* owned; where the pings go */
	char *subject;    /* owned; what it is about, for people */
	char *people;     /* owned; JSON {"owner":[{"id","name"}],"head":[...],...} */
	ms_t started_at;
	ms_t due_at;
	char *state;      /* owned; "open", "met", "cancelled" (from store_deadline_get) */
};

void deadline_row_free(struct deadline_row *d);
/* Creates or replaces the deadline (state back to "open"); strings borrowed. */
enum store_rc store_deadline_put(struct store *st, const struct deadline_row *d);
/* STORE_NOTFOUND when there is no such deadline.  Free with deadline_row_free(). */
enum store_rc store_deadline_get(struct store *st, const char *key, struct deadline_row *out);
/* Closes an open deadline with state ("met" or "cancelled"); STORE_NOTFOUND if not open. */
enum store_rc store_deadline_close(struct store *st, const char *key, const char *state, ms_t now);

/* Timers: one row per future firing. */
struct timer_row {
	int64_t id;
	char *deadline_key; /* owned */
	char *chat_id;      /* owned; the deadline's chat, so pings can be batched by chat */
	int step;
	ms_t fire_at;
	int late;           /* already known to be a catch-up (held past an outage) */
};

void timer_row_free(struct timer_row *r);
enum store_rc store_timer_add(struct store *st, const char *deadline_key, const char *chat_id, int step,
			     ms_t fire_at);
/* Cancels a deadline's pending timers; returns how many (or -1). */
int store_timers_cancel(struct store *st, const char *deadline_key);
/* Holds a deadline's pending timers until at least fire_at (snooze: never
 * earlier than they were); returns how many are pending. */
int store_timers_reschedule(struct store *st, const char *deadline_key, ms_t fire_at);
/* Holds one pending timer until fire_at and marks it late: a catch-up that
 * came due outside working hours waits for their start (补发). */
enum store_rc store_timer_hold(struct store *st, int64_t id, ms_t fire_at);
/* Earliest pending fire time, or -1. */
ms_t store_timer_next(struct store *st);
int64_t store_timers_pending(struct store *st);
/* Loads up to max pending timers due at now, grouped by chat, *n of them
 * (free each row); on STORE_ERR none. */
enum store_rc store_timers_due(struct store *st, ms_t now, struct timer_row *rows, size_t max, size_t *n);
enum store_rc store_timer_fired(struct store *st, int64_t id, ms_t now, int late);

/* Reply webhooks (DingTalk sessionWebhook): the newest per chat is kept.
 * The same URL is not rewritten while its expiry moves by less than
 * STORE_WEBHOOK_REFRESH_MS: every DingTalk message carries the chat's URL
 * with an expiry ~90 minutes ahead, and rewriting the row per message cost
 * a quarter of an event's work in the store (issue 14).  So a stored expiry
 * may lag the newest by up to that much (a sender's margin covers it). */
#define STORE_WEBHOOK_REFRESH_MS 60000
enum store_rc store_webhook_put(struct store *st, const char *platform, const char *chat_id, const char *url,
				ms_t expires_at);
/* A URL still valid at valid_at (caller frees), or NULL. */
char *store_webhook_get(struct store *st, const char *platform, const char *chat_id, ms_t valid_at);
/* Drops url (e.g. the platform said it expired early). */
enum store_rc store_webhook_forget(struct store *st, const char *platform, const char *chat_id, const char *url);

/* ---- the department directory ---- */

/* Remembers a person's display name (latest wins). */
enum store_rc store_user_put(struct store *st, const char *user_id, const char *name);
/* The display name (caller frees), or NULL when unknown. */
char *store_user_name(struct store *st, const char *user_id);
/* The id of the user whose directory name is name (caller frees), or NULL. */
char *store_user_by_name(struct store *st, const char *name);

struct dept_row {
	char *code;       /* owned; 2-6 capital letters */
	char *name;       /* owned */
	char *head;       /* owned; a user id */
	char *superior;   /* owned; a user id or NULL */
	char *superior2;  /* owned; the superior's superior, or NULL */
	char *chat_id;    /* owned; the department's own chat, or NULL */
};

void dept_row_free(struct dept_row *d);
/* Creates or updates a department; strings borrowed. */
enum store_rc store_dept_put(struct store *st, const struct dept_row *d);
enum store_rc store_dept_get(struct store *st, const char *code, struct dept_row *out);
/*
 * List readers return STORE_OK with the rows and their count in the
 * out-parameters, or STORE_ERR with none (never a short list): "no rows" and
 * "SQLite failed" take different paths.
 */
/* All departments by code; *out is an array of *n the caller frees (each row
 * with dept_row_free, then the array). */
enum store_rc store_dept_list(struct store *st, struct dept_row **out, size_t *n);
/* Deletes every department and (by cascade) their contacts: for imports. */
enum store_rc store_dept_delete_all(struct store *st);
/* Replaces a department's contacts, in order. */
enum store_rc store_dept_contacts_set(struct store *st, const char *code, char *const *ids, size_t n);
/* A department's contacts in order; *ids is an array of *n strings the
 * caller frees (each, then the array). */
enum store_rc store_dept_contacts(struct store *st, const char *code, char ***ids, size_t *n);
/* user_id is away from from_day to to_day ("YYYY-MM-DD", inclusive). */
enum store_rc store_deputy_put(struct store *st, const char *user_id, const char *deputy_id, const char *from_day,
			       const char *to_day);
/* The deputy acting for user_id on day (caller frees), or NULL. */
char *store_deputy_for(struct store *st, const char *user_id, const char *day);

/* The next number for prefix (1, 2, ...), never reused; inside the caller's
 * transaction.  -1 on a store error. */
int64_t store_next_seq(struct store *st, const char *prefix);

/* ---- requests ---- */

struct request_row {
	char *id;         /* owned; "2026-Q4-JSB-001" */
	char *dept;       /* owned; the initiating department's code */
	char *initiator;  /* owned; user id */
	char *platform;   /* owned */
	char *chat_id;    /* owned; the request's group */
	char *state;      /* owned; see request_flow.c */
	int version;
	char *form;       /* owned; the current form as JSON */
	char *reason;     /* owned; the last rejection's reason, or NULL */
	ms_t created_at, updated_at;
};

void request_row_free(struct request_row *r);
enum store_rc store_request_add(struct store *st, const struct request_row *r);
enum store_rc store_request_get(struct store *st, const char *id, struct request_row *out);
/* Moves id from from_state to to_state (with version, form, reason); returns
 * STORE_NOTFOUND when the request is no longer in from_state. */
enum store_rc store_request_update(struct store *st, const char *id, const char *from_state, const char *to_state,
				   int version, const char *form, const char *reason, ms_t now);
enum store_rc store_request_version_add(struct store *st, const char *id, int version, const char *form,
					const char *hash, ms_t now);

/* What an outbox row is about, e.g. "request:2026-Q4-JSB-001", so a later
 * update can find the message it sent. */
enum store_rc store_outbox_set_subject(struct store *st, int64_t id, const char *subject);
/* The platform message id of the first sent message about subject (caller
 * frees), or NULL. */
char *store_outbox_subject_message(struct store *st, const char *subject);
/* The notice a sent message was drawn from: STORE_OK with *notice a new
 * object {"kind", "body" (JSON text)}, STORE_NOTFOUND, or STORE_ERR. */
enum store_rc store_outbox_sent_notice(struct store *st, const char *platform, const char *message_id,
				       json_t **notice);
/* The same for the first notice about subject, sent or not. */
enum store_rc store_outbox_subject_notice(struct store *st, const char *subject, json_t **notice);

/* Each involved department's answer to a request. */
struct request_dept_row {
	char *dept;       /* owned */
	char *state;      /* owned: pending, confirmed, objected, overruled */
	char *signed_by;  /* owned, or NULL */
	ms_t signed_at;
	int version;      /* the version signed */
	char *hash;       /* owned: its fingerprint, or NULL */
};

enum store_rc store_request_dept_put(struct store *st, const char *request_id, const char *dept, const char *state);
/* In the order they were added, *n of them; free with request_dept_rows_free(). */
enum store_rc store_request_depts(struct store *st, const char *request_id, struct request_dept_row **out,
				  size_t *n);
void request_dept_rows_free(struct request_dept_row *rows, size_t n);
/* Records a pending department's answer; STORE_NOTFOUND when it is not pending. */
enum store_rc store_request_dept_sign(struct store *st, const char *request_id, const char *dept, const char *state,
				      const char *user, ms_t at, int version, const char *hash);
enum store_rc store_objection_add(struct store *st, const char *request_id, const char *dept, const char *user,
				  const char *explanation, const char *proposal, ms_t now, int64_t *id_out);

/* An objection's request, department and state (each owned by the caller). */
enum store_rc store_objection_get(struct store *st, int64_t id, char **request_id, char **dept, char **state);
/* Moves an objection from from_state to to_state with the answer text;
 * STORE_NOTFOUND when it is not in from_state. */
enum store_rc store_objection_answer(struct store *st, int64_t id, const char *from_state, const char *to_state,
				     const char *answer, ms_t now);
/* Sets a department's answer state outright (overruled, or pending again). */
enum store_rc store_request_dept_set(struct store *st, const char *request_id, const char *dept, const char *state);

/* A revision answers every accepted (or still open) objection of a request.
 * *ids gets their *n ids (caller frees). */
enum store_rc store_objections_revised(struct store *st, const char *request_id, ms_t now, int64_t **ids, size_t *n);

/* The newest limit requests, *n of them; *out is an array the caller frees
 * (each row with request_row_free, then the array). */
enum store_rc store_request_recent(struct store *st, int limit, struct request_row **out, size_t *n);
/* The last limit timeline entries about subject, oldest first: a new JSON
 * array of {"at","actor","kind"}. */
json_t *store_timeline_for(struct store *st, const char *subject, int limit);
int store_request_version_count(struct store *st, const char *request_id);

/* Moves a request to another chat (e.g. its dedicated group). */
enum store_rc store_request_set_chat(struct store *st, const char *id, const char *chat_id);
/* The body of the first outbox row about subject (caller frees), or NULL. */
char *store_outbox_subject_body(struct store *st, const char *subject);

/* Copies the database at src_path to dst_path with SQLite's online backup,
 * safe while the daemon runs (a separate program, not the daemon's loop).
 * Returns 0 and the page count, or -1 with err filled. */
/* collabd migrate-db: copies every record of the SQLite file into the empty
 * PostgreSQL database at pg_uri (both migrated to this build's schema first)
 * in one transaction, printing each table's row count on report.  0, or -1
 * with err filled (nothing was written). */
int store_migrate_db(const char *sqlite_path, const char *pg_uri, FILE *report, char *err, size_t errsz);
int store_backup(const char *src_path, const char *dst_path, int *pages, char *err, size_t errsz);

#endif
