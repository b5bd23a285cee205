/*
 * store_query.c - running the store's SQL on either engine: the prepared
 * statements (the core records' by id, the later steps' cached by the
 * address of their SQL text), stepping and binding helpers, and for the
 * domain files JSON-packed parameters and rows read as JSON objects.
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

/* A statement of this connection's engine, or NULL (the engine's error stays
 * in errmsg). */
static struct stmt *stmt_new(struct store *st, const char *sql)
{
	void *h = st->ops->prepare(st, sql);
	if (!h)
		return NULL;
	struct stmt *s = xcalloc(1, sizeof *s);
	*s = (struct stmt){ .ops = st->ops, .st = st, .sql = sql, .h = h };
	return s;
}

/* Resets and returns the prepared statement id, ready for binding. */
struct stmt *store_stmt(struct store *st, enum stmt_id id)
{
	struct stmt *s = &st->stmt[id];
	stmt_reset(s);
	return s;
}

/* A failure counts before its statement is reset (which would clear the
 * error message). */
static void count_failure(struct store *st, struct stmt *s)
{
	st->nerrors++;
	log_error("msg=\"database step failed\" engine=%s error=\"%s\" sql=\"%.60s\"", st->ops->name,
		  st->ops->errmsg(st), s ? s->sql : "");
}

unsigned long store_error_count(const struct store *st) { return st->nerrors; }

int64_t store_changes(struct store *st) { return st->ops->changes(st); }

int64_t store_last_insert_id(struct store *st) { return st->ops->last_insert_id(st); }

enum step_rc store_step(struct store *st, struct stmt *s)
{
	enum step_rc rc = s->ops->step(st, s->h);
	if (rc != STEP_ROW && rc != STEP_DONE)
		count_failure(st, s);
	return rc;
}

/* Steps a statement that returns no rows (a row it does return is read past:
 * its write is complete). */
enum store_rc store_step_done(struct store *st, struct stmt *s)
{
	enum step_rc rc;
	while ((rc = s->ops->step(st, s->h)) == STEP_ROW)
		;
	if (rc == STEP_DONE) {
		stmt_reset(s);
		return STORE_OK;
	}
	count_failure(st, s);
	stmt_reset(s);
	return STORE_ERR;
}

void store_bind_text(struct stmt *s, int i, const char *v)
{
	if (v)
		s->ops->bind_text(s->h, i, v, strlen(v));
	else
		s->ops->bind_null(s->h, i);
}

void store_bind_text_borrowed(struct stmt *s, int i, const char *v)
{
	if (v && s->ops->bind_text_borrowed)
		s->ops->bind_text_borrowed(s->h, i, v, strlen(v));
	else
		store_bind_text(s, i, v);
}

struct stmt *store_sql(struct store *st, const char *sql)
{
	for (size_t i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			stmt_reset(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	struct stmt *s = stmt_new(st, sql);
	if (!s) {
		st->nerrors++;
		log_error("msg=\"cannot prepare statement\" error=\"%s\" sql=\"%.60s\"", st->ops->errmsg(st), sql);
		return NULL;
	}
	st->cache = xrealloc(st->cache, (st->ncache + 1) * sizeof *st->cache);
	st->cache[st->ncache++] = (struct store_cached){ .sql = sql, .stmt = s };
	return s;
}

char *store_col_text(struct stmt *s, int i)
{
	const char *t = s->ops->col_text(s->h, i);
	return t ? xstrdup(t) : NULL;
}

int64_t store_scalar(struct store *st, enum stmt_id id, int64_t if_null)
{
	struct stmt *s = store_stmt(st, id);
	int64_t v = if_null;
	if (store_step(st, s) == STEP_ROW && stmt_col_type(s, 0) != COL_NULL)
		v = stmt_col_int64(s, 0);
	stmt_reset(s);
	return v;
}

enum store_rc store_rows_end(struct store *st, struct stmt *s, enum step_rc rc)
{
	if (rc != STEP_DONE && rc != STEP_ROW)
		count_failure(st, s);
	stmt_reset(s);
	return rc == STEP_DONE || rc == STEP_ROW ? STORE_OK : STORE_ERR;
}

enum store_rc store_prepare_all(struct store *st, char *err, size_t errsz)
{
	for (int i = 0; i < S_COUNT; i++) {
		const char *pg = store_stmt_sql_pg[i], *sql = store_stmt_sql[i];
		char *joined = NULL;
		if (store_dialect(st) == DIALECT_PG && pg)
			sql = pg[0] == '+' ? (joined = xasprintf("%s%s", store_stmt_sql[i], pg + 1)) : pg;
		/* The engines copy the text: a joined one can go after preparing. */
		void *h = st->ops->prepare(st, sql);
		free(joined);
		if (joined)
			sql = store_stmt_sql[i];
		if (!h) {
			snprintf(err, errsz, "preparing statement %d: %s", i, st->ops->errmsg(st));
			return STORE_ERR;
		}
		st->stmt[i] = (struct stmt){ .ops = st->ops, .st = st, .sql = sql, .h = h };
	}
	return STORE_OK;
}

void store_finalize_all(struct store *st)
{
	if (!st->ops)
		return;
	for (int i = 0; i < S_COUNT; i++) {
		if (st->stmt[i].h)
			st->ops->finalize(st->stmt[i].h);
		st->stmt[i].h = NULL;
	}
	for (size_t i = 0; i < st->ncache; i++) {
		st->ops->finalize(st->cache[i].stmt->h);
		free(st->cache[i].stmt);
	}
	free(st->cache);
	st->cache = NULL;
	st->ncache = 0;
}


static int bind_params(struct stmt *s, json_t *params)
{
	size_t i;
	json_t *v;
	json_array_foreach(params, i, v) {
		int col = (int)i + 1;
		switch (json_typeof(v)) {
		case JSON_STRING: s->ops->bind_text(s->h, col, json_string_value(v), json_string_length(v)); break;
		case JSON_INTEGER: s->ops->bind_int64(s->h, col, json_integer_value(v)); break;
		case JSON_REAL: s->ops->bind_double(s->h, col, json_real_value(v)); break;
		case JSON_TRUE: s->ops->bind_int64(s->h, col, 1); break;
		case JSON_FALSE: s->ops->bind_int64(s->h, col, 0); break;
		case JSON_NULL: s->ops->bind_null(s->h, col); break;
		default: return -1;
		}
	}
	return 0;
}

/* The statement for sql with fmt's parameters bound, or NULL (logged). */
static struct stmt *prepare(struct store *st, const char *sql, const char *fmt, va_list ap)
{
	struct stmt *s = store_sql(st, sql);
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

static json_t *row_object(struct stmt *s)
{
	json_t *row = json_object();
	for (int i = 0, n = s->ops->col_count(s->h); i < n; i++) {
		json_t *v;
		switch (s->ops->col_type(s->h, i)) {
		case COL_INT: v = json_integer(s->ops->col_int64(s->h, i)); break;
		case COL_REAL: v = json_real(s->ops->col_double(s->h, i)); break;
		case COL_NULL: v = json_null(); break;
		default: {
			/* Text stored by collabd is UTF-8 (it came through a JSON parser). */
			const char *t = s->ops->col_text(s->h, i);
			v = json_stringn_nocheck(t ? t : "", s->ops->col_bytes(s->h, i));
			break;
		}
		}
		json_object_set_new(row, s->ops->col_name(s->h, i), v);
	}
	return row;
}

static void step_failed(struct store *st, struct stmt *s)
{
	count_failure(st, s);
	stmt_reset(s);
}

enum store_rc store_run(struct store *st, int *changes, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct stmt *s = prepare(st, sql, fmt, ap);
	va_end(ap);
	if (!s)
		return STORE_ERR;
	enum step_rc rc;
	while ((rc = s->ops->step(st, s->h)) == STEP_ROW)
		;
	if (rc != STEP_DONE) {
		int constraint = rc == STEP_CONSTRAINT;
		if (!constraint)
			step_failed(st, s);
		stmt_reset(s);
		return constraint ? STORE_DUP : STORE_ERR;
	}
	if (changes)
		*changes = (int)st->ops->changes(st);
	stmt_reset(s);
	return STORE_OK;
}

static json_t *vrows(struct store *st, size_t max, const char *sql, const char *fmt, va_list ap)
{
	struct stmt *s = prepare(st, sql, fmt, ap);
	if (!s)
		return NULL;
	json_t *rows = json_array();
	enum step_rc rc = STEP_DONE;
	while (json_array_size(rows) < max && (rc = s->ops->step(st, s->h)) == STEP_ROW)
		json_array_append_new(rows, row_object(s));
	if (json_array_size(rows) < max && rc != STEP_DONE) {
		step_failed(st, s);
		json_decref(rows);
		return NULL;
	}
	stmt_reset(s);
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
	struct stmt *s = prepare(st, sql, fmt, ap);
	va_end(ap);
	if (!s)
		return if_none;
	long long v = if_none;
	enum step_rc rc = s->ops->step(st, s->h);
	if (rc == STEP_ROW && stmt_col_type(s, 0) != COL_NULL)
		v = stmt_col_int64(s, 0);
	else if (rc != STEP_ROW && rc != STEP_DONE)
		step_failed(st, s);
	stmt_reset(s);
	return v;
}
