/*
 * store_sqlite.c - the SQLite engine: one file, WAL mode, the embedded
 * default.  A thin mapping of struct db_ops onto the SQLite C API.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collabd/util.h"
#include "collabd/log.h"
#include "store_checkpointer.h"
#include "store_wal_sync.h"
#include "store_internal.h"

static sqlite3 *db_of(struct store *st) { return st->conn; }

static int sq_exec(struct store *st, const char *sql, char *err, size_t errsz)
{
	char *msg = NULL;
	if (sqlite3_exec(db_of(st), sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s", msg ? msg : sqlite3_errmsg(db_of(st)));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void *sq_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v3(db_of(st), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
		return NULL;
	return s;
}

static void sq_finalize(void *h) { sqlite3_finalize(h); }

static void sq_reset(void *h)
{
	sqlite3_reset(h);
	sqlite3_clear_bindings(h);
}

static void sq_bind_text(void *h, int i, const char *v, size_t len) { sqlite3_bind_text(h, i, v, (int)len, SQLITE_TRANSIENT); }
static void sq_bind_text_borrowed(void *h, int i, const char *v, size_t len)
{
	sqlite3_bind_text(h, i, v, (int)len, SQLITE_STATIC);
}
static void sq_bind_int64(void *h, int i, int64_t v) { sqlite3_bind_int64(h, i, v); }
static void sq_bind_double(void *h, int i, double v) { sqlite3_bind_double(h, i, v); }
static void sq_bind_null(void *h, int i) { sqlite3_bind_null(h, i); }
static void sq_bind_blob(void *h, int i, const void *v, size_t len) { sqlite3_bind_blob(h, i, v, (int)len, SQLITE_TRANSIENT); }

static enum step_rc sq_step(struct store *st, void *h)
{
	(void)st;
	int rc = sqlite3_step(h);
	if (rc == SQLITE_ROW)
		return STEP_ROW;
	if (rc == SQLITE_DONE)
		return STEP_DONE;
	return (rc & 0xff) == SQLITE_CONSTRAINT ? STEP_CONSTRAINT : STEP_ERR;
}

static int sq_col_count(void *h) { return sqlite3_column_count(h); }
static const char *sq_col_name(void *h, int i) { return sqlite3_column_name(h, i); }

static enum col_type sq_col_type(void *h, int i)
{
	switch (sqlite3_column_type(h, i)) {
	case SQLITE_INTEGER: return COL_INT;
	case SQLITE_FLOAT: return COL_REAL;
	case SQLITE_NULL: return COL_NULL;
	case SQLITE_BLOB: return COL_BLOB;
	default: return COL_TEXT;
	}
}

static int64_t sq_col_int64(void *h, int i) { return sqlite3_column_int64(h, i); }
static double sq_col_double(void *h, int i) { return sqlite3_column_double(h, i); }
static const char *sq_col_text(void *h, int i) { return (const char *)sqlite3_column_text(h, i); }
static size_t sq_col_bytes(void *h, int i) { return (size_t)sqlite3_column_bytes(h, i); }

static const void *sq_col_blob(void *h, int i, size_t *len)
{
	const void *v = sqlite3_column_blob(h, i);
	*len = (size_t)sqlite3_column_bytes(h, i);
	return v;
}
static int64_t sq_changes(struct store *st) { return sqlite3_changes(db_of(st)); }
static int64_t sq_last_insert_id(struct store *st) { return sqlite3_last_insert_rowid(db_of(st)); }
static const char *sq_errmsg(struct store *st) { return db_of(st) ? sqlite3_errmsg(db_of(st)) : "not open"; }
static int sq_in_transaction(struct store *st) { return !sqlite3_get_autocommit(db_of(st)); }

static void sq_close(struct store *st)
{
	checkpointer_stop(st->checkpointer); /* before the writer: its hook points at it */
	st->checkpointer = NULL;
	wal_sync_stop(st->wal_sync);
	st->wal_sync = NULL;
	sqlite3_close(db_of(st));
	st->conn = NULL;
}

const struct db_ops db_sqlite_ops = {
	.name = "sqlite",
	.dialect = DIALECT_SQLITE,
	.exec = sq_exec,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.reset = sq_reset,
	.bind_text = sq_bind_text,
	.bind_text_borrowed = sq_bind_text_borrowed,
	.bind_int64 = sq_bind_int64,
	.bind_double = sq_bind_double,
	.bind_null = sq_bind_null,
	.bind_blob = sq_bind_blob,
	.step = sq_step,
	.col_count = sq_col_count,
	.col_name = sq_col_name,
	.col_type = sq_col_type,
	.col_int64 = sq_col_int64,
	.col_double = sq_col_double,
	.col_text = sq_col_text,
	.col_bytes = sq_col_bytes,
	.col_blob = sq_col_blob,
	.changes = sq_changes,
	.last_insert_id = sq_last_insert_id,
	.errmsg = sq_errmsg,
	.in_transaction = sq_in_transaction,
	.close = sq_close,
};

int db_sqlite_open(struct store *st, const char *path, char *err, size_t errsz)
{
	sqlite3 *db = NULL;
	st->ops = &db_sqlite_ops;
	/* SQLite's memory statistics take a global mutex on every allocation
	 * of every connection; nothing reads them.  Only possible before the
	 * library initialises (the first open): later calls are refused,
	 * harmlessly. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	/* A new database is created 0600: the workflow's forms, names and
	 * chats are nobody else's business.  SQLite gives its -wal, -shm and
	 * -journal files the database's own mode. */
	if (strcmp(path, ":memory:") && access(path, F_OK)) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	/* NOMUTEX: only the event loop's thread uses this connection (the
	 * checkpointer opens its own, and its WAL hook runs inside our commit),
	 * so the per-call mutex SQLite takes in its default serialized mode is
	 * pure cost (with the memory statistics below, ~14 % of the instructions an event costs in the store, callgrind, issue 14). */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errsz, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	st->conn = db;
	/* A busy timeout only matters for outside readers (sqlite3 shell, backups):
	 * the daemon itself is the only writer. */
	sqlite3_busy_timeout(db, 250);
	/* FULL: in WAL mode every COMMIT syncs the log before it returns, so
	 * what the daemon acks after a commit survives a power cut, not only a
	 * crash of the process (NORMAL syncs only at checkpoints). */
	/* cache_size: 256 KiB of page cache instead of SQLite's 2 MiB.  The
	 * pages an event touches (inbox, timeline, the request it names) are few
	 * and hot; everything else the kernel's page cache serves as fast, and
	 * the daemon's peak RSS stays ~2 MB lower (issue 14: <= 16 MB). */
	if (sq_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
			"PRAGMA cache_size=-256;", err, errsz))
		return -1;
	/* Checkpoints off the event loop (store_checkpointer.c).  Without the
	 * thread the store still works, with SQLite's inline checkpoints. */
	if (strcmp(path, ":memory:")) {
		char why[256];
		st->checkpointer = checkpointer_start(db, path, why, sizeof why);
		if (!st->checkpointer)
			log_warn("msg=\"wal checkpoints stay on the event loop\" error=\"%s\"", why);
		/* The inbox's commits are synced by this thread (store_wal_sync.c);
		 * without them every commit syncs inline (FULL), as before. */
		st->wal_sync = wal_sync_start(db, why, sizeof why);
		if (!st->wal_sync)
			log_warn("msg=\"wal syncs stay on the event loop\" error=\"%s\"", why);
	}
	return 0;
}

int db_sqlite_sync_request(struct store *st, uint64_t seq) { return wal_sync_request(st->wal_sync, seq); }
int db_sqlite_sync_now(struct store *st, uint64_t seq) { return wal_sync_now(st->wal_sync, seq); }
uint64_t db_sqlite_durable(struct store *st) { return wal_sync_durable(st->wal_sync); }

void store_set_sync_delay(struct store *st, int ms)
{
	if (st && st->ops == &db_sqlite_ops && st->wal_sync)
		wal_sync_set_delay(st->wal_sync, ms);
}

void store_wal_sync_off(struct store *st)
{
	if (st && st->ops == &db_sqlite_ops && st->wal_sync) {
		wal_sync_stop(st->wal_sync);
		st->wal_sync = NULL;
	}
}

void store_on_durable(struct store *st, void (*fn)(void *arg), void *arg)
{
	if (st && st->ops == &db_sqlite_ops && st->wal_sync)
		wal_sync_on_durable(st->wal_sync, fn, arg);
}

void store_wal_stats(struct store *st, struct store_wal_stats *out)
{
	struct checkpointer_stats c;
	checkpointer_stats(st && st->ops == &db_sqlite_ops ? st->checkpointer : NULL, &c);
	out->checkpoints = c.checkpoints;
	out->inline_checkpoints = c.inline_checkpoints;
	out->failures = c.failures;
	out->syncs = out->inline_syncs = 0;
	if (st && st->ops == &db_sqlite_ops && st->wal_sync)
		wal_sync_counts(st->wal_sync, &out->syncs, &out->inline_syncs);
}
