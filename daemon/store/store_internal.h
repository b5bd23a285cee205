/*
 * store_internal.h - what the store's domain files (daemon/store_*.c) share.
 *
 * store.c owns the connection, the migrations and the core records.  Each
 * later part of the workflow keeps its SQL in a file of its own
 * (store_progress.c, store_issue.c, ...) and reaches the connection through
 * these helpers.  Nothing outside daemon/store*.c includes this header.
 *
 * Statements are prepared once and cached by the address of their SQL text,
 * so pass string literals (or other static strings), never built strings.
 */
#ifndef COLLABD_STORE_INTERNAL_H
#define COLLABD_STORE_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>

#include "collabd/store.h"

/* The cached statement for sql, reset with its bindings cleared; NULL when
 * it cannot be prepared (logged). */
sqlite3_stmt *store_sql(struct store *st, const char *sql);

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
