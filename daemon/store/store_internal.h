/*
 * store_internal.h - what the files of daemon/store/ share: the connection
 * (struct store) and the statement helpers of store_query.c.
 *
 * store.c opens and closes the connection; each part of the workflow keeps
 * its SQL in a file of its own (store_inbox.c, store_outbox.c,
 * store_request.c, store_progress.c, store_issue.c, ...).  Nothing outside
 * daemon/store/ includes this header.
 *
 * Statements are prepared once and cached by the address of their SQL text,
 * so pass string literals (or other static strings), never built strings.
 * They run on either engine (store_engine.h): SQLite's dialect with ?N
 * placeholders, and store_dialect_sql() where PostgreSQL needs other text.
 */
#ifndef COLLABD_STORE_INTERNAL_H
#define COLLABD_STORE_INTERNAL_H

#include <jansson.h>
#include "store_engine.h"

#include "collabd/store.h"

/* The core records' statements (store_statements.c). */
enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
	S_INBOX_ADD, S_INBOX_PRUNE, S_OUTBOX_PRUNE, S_TIMELINE_PRUNE,
	S_TIMELINE_ADD,
	S_OUTBOX_ADD, S_OUTBOX_DUE, S_OUTBOX_SENT, S_OUTBOX_RETRY, S_OUTBOX_FAILED,
	S_OUTBOX_NEXT, S_OUTBOX_PENDING,
	S_DEADLINE_PUT, S_DEADLINE_GET, S_DEADLINE_CLOSE,
	S_TIMER_ADD, S_TIMER_CANCEL, S_TIMER_NEXT, S_TIMER_DUE, S_TIMER_FIRED, S_TIMER_RESCHEDULE,
	S_TIMER_PENDING, S_TIMER_HOLD,
	S_WEBHOOK_PUT, S_WEBHOOK_GET, S_WEBHOOK_FORGET,
	S_USER_PUT, S_USER_NAME, S_DEPT_PUT, S_DEPT_GET, S_DEPT_LIST, S_DEPT_DELETE_ALL,
	S_CONTACTS_CLEAR, S_CONTACT_ADD, S_CONTACTS_GET, S_DEPUTY_PUT, S_DEPUTY_FOR,
	S_NEXT_SEQ,
	S_REQ_ADD, S_REQ_GET, S_REQ_UPDATE, S_REQ_VERSION_ADD,
	S_OUTBOX_SUBJECT_SET, S_OUTBOX_SUBJECT_MSG,
	S_RDEPT_PUT, S_RDEPT_LIST, S_RDEPT_SIGN, S_OBJ_ADD, S_OBJ_GET, S_OBJ_ANSWER, S_RDEPT_SET, S_OBJ_REVISED, S_OBJ_OPEN_IDS, S_REQ_RECENT, S_TIMELINE_FOR, S_REQ_VERSIONS,
	S_REQ_SET_CHAT, S_OUTBOX_SUBJECT_BODY,
	S_COUNT
};

/* The connection.  Only daemon/store/ sees inside it. */
struct store {
	const struct db_ops *ops;    /* the engine: SQLite or PostgreSQL */
	void *conn;                  /* the engine's connection */
	struct stmt stmt[S_COUNT];   /* the core records' statements, by id */
	int version_found;           /* schema version found at open (before migrating) */
	struct store_cached *cache;  /* the later steps' statements (store_sql) */
	unsigned long nerrors;       /* database failures so far (store_error_count) */
	char instance[96];           /* this process among those sharing the store */
	size_t ncache;
	struct checkpointer *checkpointer; /* SQLite: the WAL checkpoint thread (owned); NULL otherwise */
	struct webhook_memo *webhooks;     /* SQLite: the committed webhook rows (store_webhook.c, owned) */
	struct wal_sync *wal_sync;         /* SQLite: the WAL sync thread (owned); NULL otherwise */
	uint64_t commit_seq;               /* commits so far (store_commit_nowait's numbers) */
	uint64_t durable_seq;              /* without wal_sync: the newest commit, on disk when it returned */
	int sync_normal;                   /* testing.synchronous_normal: commits never synced */
	int nowait_open;                   /* a store_begin_nowait() transaction is open */
};

/* The webhook memo (store_webhook.c): started once the store is open on
 * SQLite, told of every transaction boundary by store.c, freed at close. */
void webhook_memo_start(struct store *st);
void webhook_memo_free(struct store *st);
void webhook_memo_on_begin(struct store *st);
void webhook_memo_on_savepoint(struct store *st);
void webhook_memo_on_release(struct store *st);
void webhook_memo_on_rollback_to(struct store *st);
void webhook_memo_on_end(struct store *st, int committed);

/* The SQLite engine's WAL syncs (store_sqlite.c); only called with st->wal_sync set. */
int db_sqlite_sync_request(struct store *st, uint64_t seq);
int db_sqlite_sync_now(struct store *st, uint64_t seq);
uint64_t db_sqlite_durable(struct store *st);

struct store_cached {
	const char *sql; /* the caller's static text: its address is the key */
	struct stmt *stmt;
};

/* The core records' SQL by id (store_statements.c), and PostgreSQL's own
 * text for the few where the dialects differ (NULL: the same text). */
extern const char *const store_stmt_sql[S_COUNT];
extern const char *const store_stmt_sql_pg[S_COUNT];

/* This connection's dialect. */
static inline enum dialect store_dialect(const struct store *st) { return st->ops->dialect; }
/* The text for this connection: sqlite where the engine is SQLite, pg where
 * it is PostgreSQL.  Both must be static strings (statements are cached by
 * address). */
static inline const char *store_dialect_sql(const struct store *st, const char *sqlite, const char *pg)
{
	return st->ops->dialect == DIALECT_PG ? pg : sqlite;
}

/* Prepares every store_stmt_sql statement; STORE_ERR with err filled. */
enum store_rc store_prepare_all(struct store *st, char *err, size_t errsz);
/* Finalizes every prepared and cached statement (the connection stays open). */
void store_finalize_all(struct store *st);

/* The core statement id, reset with its bindings cleared. */
struct stmt *store_stmt(struct store *st, enum stmt_id id);
/* Steps a statement that returns no rows: STORE_OK or STORE_ERR (logged). */
enum store_rc store_step_done(struct store *st, struct stmt *s);
/* One step that counts a failure (anything but STEP_ROW/STEP_DONE) in
 * st->nerrors and logs it; returns the step's result. */
enum step_rc store_step(struct store *st, struct stmt *s);
/* Ends a loop of store_step() over rows: rc is the last step's result
 * (STEP_ROW when the loop stopped at its limit).  Resets s; STORE_OK, or
 * STORE_ERR (logged) when the step failed -- never a short list. */
enum store_rc store_rows_end(struct store *st, struct stmt *s, enum step_rc rc);
/* Binds v as text, or NULL when v is NULL. */
void store_bind_text(struct stmt *s, int i, const char *v);
/* The same without a copy where the engine can: only for a statement run
 * to its end (store_step_done) while v is still the caller's, since the
 * engine reads v when it steps. */
void store_bind_text_borrowed(struct stmt *s, int i, const char *v);
static inline void stmt_bind_int64(struct stmt *s, int i, int64_t v) { s->ops->bind_int64(s->h, i, v); }
static inline void stmt_reset(struct stmt *s) { s->ops->reset(s->h); }
static inline int64_t stmt_col_int64(struct stmt *s, int i) { return s->ops->col_int64(s->h, i); }
static inline int stmt_col_int(struct stmt *s, int i) { return (int)s->ops->col_int64(s->h, i); }
static inline enum col_type stmt_col_type(struct stmt *s, int i) { return s->ops->col_type(s->h, i); }
/* Column i as a new string (caller frees), NULL for SQL NULL. */
char *store_col_text(struct stmt *s, int i);
/* Rows changed by the last statement; the id the last INSERT gave its row. */
int64_t store_changes(struct store *st);
int64_t store_last_insert_id(struct store *st);
/* The first column of the core statement id's first row; if_null when none. */
int64_t store_scalar(struct store *st, enum stmt_id id, int64_t if_null);

/* The cached statement for sql, reset with its bindings cleared; NULL when
 * it cannot be prepared (logged). */
struct stmt *store_sql(struct store *st, const char *sql);

/*
 * Runs sql with parameters packed from fmt (json_pack syntax for an array,
 * e.g. "[s,I]"; NULL for none) bound to ?1..?n: strings, integers, null,
 * booleans (as 0/1).  A NULL string argument with "s?" binds NULL.
 */
/* A statement without rows.  *changes (may be NULL) gets the rows changed. */
enum store_rc store_run(struct store *st, int *changes, const char *sql, const char *fmt, ...);
/* Every row as a JSON object keyed by column name; a new array, or NULL on
 * error (logged). */
json_t *store_rows(struct store *st, const char *sql, const char *fmt, ...);
/* The first row: STORE_OK with *row a new object, STORE_NOTFOUND, or STORE_ERR. */
enum store_rc store_row(struct store *st, json_t **row, const char *sql, const char *fmt, ...);
/* The first column of the first row as an integer; if_none when there is no
 * row or it is NULL, and if_none too on error (logged). */
long long store_int(struct store *st, long long if_none, const char *sql, const char *fmt, ...);

#endif
