/*
 * store_engine.h - the two database engines behind one statement interface.
 *
 * The store's SQL files never call SQLite or libpq: they prepare, bind, step
 * and read columns through struct stmt, and each engine (store_sqlite.c,
 * store_pg.c) fills in struct db_ops.  SQLite runs in-process on a file;
 * PostgreSQL is the shared store several collabd instances use at once.
 *
 * Statement text is written in SQLite's dialect with ?N placeholders; the
 * PostgreSQL engine turns ?N into $N once, when it prepares.  Where the two
 * dialects differ, the caller picks the text with store_dialect_sql().
 */
#ifndef COLLABD_STORE_ENGINE_H
#define COLLABD_STORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct stmt;
struct store_limits;

/* What a step did. */
enum step_rc { STEP_ROW, STEP_DONE, STEP_ERR, STEP_CONSTRAINT };

/* A column's value type, as far as the store cares. */
enum col_type { COL_NULL, COL_INT, COL_REAL, COL_TEXT, COL_BLOB };

enum dialect { DIALECT_SQLITE, DIALECT_PG };

struct db_ops {
	const char *name;
	enum dialect dialect;
	/* Runs sql (may hold several statements); 0, or -1 with err filled. */
	int (*exec)(struct store *st, const char *sql, char *err, size_t errsz);
	/* Prepares sql (a static string); NULL with the error left for errmsg. */
	void *(*prepare)(struct store *st, const char *sql);
	void (*finalize)(void *h);
	/* Forgets the last run and clears the bindings. */
	void (*reset)(void *h);
	/* i counts from 1.  The text is copied. */
	void (*bind_text)(void *h, int i, const char *v, size_t len);
	/* Optional (NULL: bind_text): the text is only borrowed, and must stay
	 * as it is until the statement is reset (store_bind_text_borrowed). */
	void (*bind_text_borrowed)(void *h, int i, const char *v, size_t len);
	void (*bind_int64)(void *h, int i, int64_t v);
	void (*bind_double)(void *h, int i, double v);
	void (*bind_null)(void *h, int i);
	void (*bind_blob)(void *h, int i, const void *v, size_t len);
	enum step_rc (*step)(struct store *st, void *h);
	int (*col_count)(void *h);
	const char *(*col_name)(void *h, int i);
	enum col_type (*col_type)(void *h, int i);
	int64_t (*col_int64)(void *h, int i);
	double (*col_double)(void *h, int i);
	/* Borrowed until the next step or reset; NULL for SQL NULL. */
	const char *(*col_text)(void *h, int i);
	size_t (*col_bytes)(void *h, int i);
	/* Bytes of a BLOB (BYTEA) column, borrowed like col_text; *len its size. */
	const void *(*col_blob)(void *h, int i, size_t *len);
	/* Rows changed by the last statement that ran. */
	int64_t (*changes)(struct store *st);
	/* The id the last INSERT gave its row (an INTEGER PRIMARY KEY / identity). */
	int64_t (*last_insert_id)(struct store *st);
	const char *(*errmsg)(struct store *st);
	/* Non-zero while a transaction is open. */
	int (*in_transaction)(struct store *st);
	void (*close)(struct store *st);
	/* Optional (NULL on SQLite): see store_set_limits(), store_maintain()
	 * and store_reachable() in collabd/store.h. */
	void (*set_limits)(struct store *st, const struct store_limits *lim);
	long (*maintain)(struct store *st);
	int (*reachable)(struct store *st);
};

/* A prepared statement of either engine. */
struct stmt {
	const struct db_ops *ops;
	struct store *st;
	const char *sql; /* the text as given (the dialect's own) */
	void *h;         /* the engine's handle */
};

extern const struct db_ops db_sqlite_ops, db_pg_ops;

/* Open the connection into st (st->ops, st->conn set); 0, or -1 with err. */
int db_sqlite_open(struct store *st, const char *path, char *err, size_t errsz);
int db_pg_open(struct store *st, const char *uri, char *err, size_t errsz);


/* Rewrites SQLite DDL for PostgreSQL: INTEGER is 64-bit there as in SQLite
 * (BIGINT), an INTEGER PRIMARY KEY is an identity column, WITHOUT ROWID
 * goes.  Returns a new string (caller frees). */
char *pg_ddl_new(const char *sqlite_ddl);

/* ?N placeholders as $N, outside quoted text; *max_param (if not NULL) gets
 * the highest N (of ?N or $N).  A new string (caller frees). */
char *pg_placeholders_new(const char *sql, int *max_param);

#endif
