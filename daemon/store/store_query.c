/*
 * store_query.c - running the store's SQL: the prepared statements (the core
 * records' by id, the later steps' cached by the address of their SQL text),
 * stepping and binding helpers, and for the domain files JSON-packed
 * parameters and rows read as JSON objects.
 *
 * Rows come back as JSON because that is what the workflow does with them
 * next: put them into notices, cards, archives and pages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
#include "collabd/util.h"
#include "store_internal.h"

/* Resets and returns the prepared statement id, ready for binding. */
sqlite3_stmt *store_stmt(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* A failure counts before its statement is reset (which would clear the
 * error message). */
static void count_failure(struct store *st, sqlite3_stmt *s)
{
	st->nerrors++;
	log_error("msg=\"sqlite step failed\" error=\"%s\" sql=\"%.60s\"", sqlite3_errmsg(st->db),
		  s ? sqlite3_sql(s) : "");
}

unsigned long store_error_count(const struct store *st) { return st->nerrors; }

int store_step(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		count_failure(st, s);
	return rc;
}

/* Steps a statement that returns no rows. */
enum store_rc store_step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return STORE_OK;
	}
	count_failure(st, s);
	sqlite3_reset(s);
	return STORE_ERR;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

sqlite3_stmt *store_sql(struct store *st, const char *sql)
{
	for (size_t i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	sqlite3_stmt *s;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		st->nerrors++;
		log_error("msg=\"cannot prepare statement\" error=\"%s\" sql=\"%.60s\"", sqlite3_errmsg(st->db), sql);
		return NULL;
	}
	st->cache = xrealloc(st->cache, (st->ncache + 1) * sizeof *st->cache);
	st->cache[st->ncache++] = (struct store_cached){ .sql = sql, .stmt = s };
	return s;
}

char *store_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

int64_t store_scalar(struct store *st, enum stmt_id id, int64_t if_null)
{
	sqlite3_stmt *s = store_stmt(st, id);
	int64_t v = if_null;
	if (store_step(st, s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

enum store_rc store_rows_end(struct store *st, sqlite3_stmt *s, int rc)
{
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		count_failure(st, s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

enum store_rc store_prepare_all(struct store *st, char *err, size_t errsz)
{
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, store_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL)) {
			snprintf(err, errsz, "preparing statement %d: %s", i, sqlite3_errmsg(st->db));
			return STORE_ERR;
		}
	}
	return STORE_OK;
}

void store_finalize_all(struct store *st)
{
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	free(st->cache);
	st->cache = NULL;
	st->ncache = 0;
}


static int bind_params(sqlite3_stmt *s, json_t *params)
{
	size_t i;
	json_t *v;
	json_array_foreach(params, i, v) {
		int col = (int)i + 1, rc;
		switch (json_typeof(v)) {
		case JSON_STRING:
			rc = sqlite3_bind_text(s, col, json_string_value(v), (int)json_string_length(v), SQLITE_TRANSIENT);
			break;
		case JSON_INTEGER: rc = sqlite3_bind_int64(s, col, json_integer_value(v)); break;
		case JSON_REAL: rc = sqlite3_bind_double(s, col, json_real_value(v)); break;
		case JSON_TRUE: rc = sqlite3_bind_int(s, col, 1); break;
		case JSON_FALSE: rc = sqlite3_bind_int(s, col, 0); break;
		case JSON_NULL: rc = sqlite3_bind_null(s, col); break;
		default: rc = SQLITE_MISUSE; break;
		}
		if (rc != SQLITE_OK)
			return -1;
	}
	return 0;
}

/* The statement for sql with fmt's parameters bound, or NULL (logged). */
static sqlite3_stmt *prepare(struct store *st, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *s = store_sql(st, sql);
	if (!s || !fmt)
		return s;
	json_error_t err;
	json_t *params = json_vpack_ex(&err, 0, fmt, ap);
	int bad = !json_is_array(params) || bind_params(s, params);
	json_decref(params);
	if (bad) {
		st->nerrors++;
		log_error("msg=\"cannot bind statement parameters\" error=\"%s\" sql=\"%.60s\"",
			  params ? "type" : err.text, sql);
		return NULL;
	}
	return s;
}

static json_t *row_object(sqlite3_stmt *s)
{
	json_t *row = json_object();
	for (int i = 0, n = sqlite3_column_count(s); i < n; i++) {
		json_t *v;
		switch (sqlite3_column_type(s, i)) {
		case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(s, i)); break;
		case SQLITE_FLOAT: v = json_real(sqlite3_column_double(s, i)); break;
		case SQLITE_NULL: v = json_null(); break;
		default: {
			/* Text stored by collabd is UTF-8 (it came through a JSON parser). */
			const char *t = (const char *)sqlite3_column_text(s, i);
			v = json_stringn_nocheck(t ? t : "", (size_t)sqlite3_column_bytes(s, i));
			break;
		}
		}
		json_object_set_new(row, sqlite3_column_name(s, i), v);
	}
	return row;
}

static void step_failed(struct store *st, sqlite3_stmt *s)
{
	count_failure(st, s);
	sqlite3_reset(s);
}

enum store_rc store_run(struct store *st, int *changes, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *s = prepare(st, sql, fmt, ap);
	va_end(ap);
	if (!s)
		return STORE_ERR;
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		int constraint = (rc & 0xff) == SQLITE_CONSTRAINT;
		if (!constraint)
			step_failed(st, s);
		sqlite3_reset(s);
		return constraint ? STORE_DUP : STORE_ERR;
	}
	if (changes)
		*changes = sqlite3_changes(sqlite3_db_handle(s));
	sqlite3_reset(s);
	return STORE_OK;
}

static json_t *vrows(struct store *st, size_t max, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *s = prepare(st, sql, fmt, ap);
	if (!s)
		return NULL;
	json_t *rows = json_array();
	int rc;
	while (json_array_size(rows) < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(rows, row_object(s));
	if (json_array_size(rows) < max && rc != SQLITE_DONE) {
		step_failed(st, s);
		json_decref(rows);
		return NULL;
	}
	sqlite3_reset(s);
	return rows;
}

json_t *store_rows(struct store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *rows = vrows(st, (size_t)-1, sql, fmt, ap);
	va_end(ap);
	return rows;
}

enum store_rc store_row(struct store *st, json_t **row, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *rows = vrows(st, 1, sql, fmt, ap);
	va_end(ap);
	*row = NULL;
	if (!rows)
		return STORE_ERR;
	if (json_array_size(rows))
		*row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return *row ? STORE_OK : STORE_NOTFOUND;
}

long long store_int(struct store *st, long long if_none, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *s = prepare(st, sql, fmt, ap);
	va_end(ap);
	if (!s)
		return if_none;
	long long v = if_none;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		step_failed(st, s);
	sqlite3_reset(s);
	return v;
}
