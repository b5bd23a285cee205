/*
 * store_migrate.c - `collabd migrate-db SQLITE_FILE postgresql://...`: moves
 * an installation from its SQLite file to a PostgreSQL store.
 *
 * Both are opened through store_open(), so both are at this build's schema
 * version first.  The target must hold no records.  Every table is copied in
 * one PostgreSQL transaction -- all of it or none -- and then counted on
 * both sides; identity sequences continue after the highest id copied.
 * Rows are copied in SQLite's rowid order where there is one, so the tables
 * whose order is their insertion order (request_depts, issue_depts) keep it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/util.h"
#include "store_internal.h"

/* Rows of SQL that name the tables to copy, in SQLite's catalogue order.
 * Not copied: the schema's own bookkeeping and the per-database instance
 * name (meta), which the target made for itself. */
static const char *const TABLES_SQL =
	"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
	"AND name NOT IN ('schema_migrations', 'meta') ORDER BY rowid";

static int count_rows(struct store *st, const char *table, int64_t *n)
{
	char *sql = xasprintf("SELECT COUNT(*) FROM %s", table);
	void *h = st->ops->prepare(st, sql);
	free(sql);
	if (!h)
		return -1;
	int ok = st->ops->step(st, h) == STEP_ROW;
	if (ok)
		*n = st->ops->col_int64(h, 0);
	st->ops->finalize(h);
	return ok ? 0 : -1;
}

/* The INSERT for table with the columns of the SQLite statement src. */
static char *insert_sql_new(const char *table, const struct db_ops *src_ops, void *src)
{
	size_t cap = 256, len = 0;
	char *sql = xmalloc(cap);
	len += (size_t)snprintf(sql, cap, "INSERT INTO %s (", table);
	int n = src_ops->col_count(src);
	for (int i = 0; i < n; i++) {
		const char *name = src_ops->col_name(src, i);
		size_t need = len + strlen(name) + 32;
		if (need > cap)
			sql = xrealloc(sql, cap = need * 2);
		len += (size_t)snprintf(sql + len, cap - len, "%s%s", i ? ", " : "", name);
	}
	sql = xrealloc(sql, cap = len + (size_t)n * 8 + 32);
	len += (size_t)snprintf(sql + len, cap - len, ") VALUES (");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, cap - len, "%s?%d", i ? ", " : "", i + 1);
	snprintf(sql + len, cap - len, ")");
	return sql;
}

static int copy_table(struct store *src, struct store *dst, const char *table, int64_t *copied, char *err,
		      size_t errsz)
{
	/* SELECT * leaves SQLite's implicit rowid out; PostgreSQL numbers its
	 * own rowid columns as the rows arrive, in this order. */
	char *sql = xasprintf("SELECT * FROM %s ORDER BY rowid", table);
	void *s = src->ops->prepare(src, sql);
	free(sql);
	if (!s) { /* WITHOUT ROWID: any order */
		sql = xasprintf("SELECT * FROM %s", table);
		s = src->ops->prepare(src, sql);
		free(sql);
	}
	if (!s) {
		snprintf(err, errsz, "reading %s: %s", table, src->ops->errmsg(src));
		return -1;
	}
	void *ins = NULL;
	int rc = 0;
	enum step_rc step;
	*copied = 0;
	while ((step = src->ops->step(src, s)) == STEP_ROW) {
		if (!ins) {
			char *text = insert_sql_new(table, src->ops, s);
			ins = dst->ops->prepare(dst, text);
			free(text);
			if (!ins) {
				snprintf(err, errsz, "writing %s: %s", table, dst->ops->errmsg(dst));
				rc = -1;
				break;
			}
		}
		dst->ops->reset(ins);
		for (int i = 0, n = src->ops->col_count(s); i < n; i++) {
			switch (src->ops->col_type(s, i)) {
			case COL_NULL: dst->ops->bind_null(ins, i + 1); break;
			case COL_INT: dst->ops->bind_int64(ins, i + 1, src->ops->col_int64(s, i)); break;
			case COL_REAL: dst->ops->bind_double(ins, i + 1, src->ops->col_double(s, i)); break;
			case COL_BLOB: {
				size_t bytes;
				const void *b = src->ops->col_blob(s, i, &bytes);
				dst->ops->bind_blob(ins, i + 1, b ? b : "", bytes);
				break;
			}
			case COL_TEXT: {
				const char *t = src->ops->col_text(s, i);
				dst->ops->bind_text(ins, i + 1, t ? t : "", src->ops->col_bytes(s, i));
				break;
			}
			}
		}
		enum step_rc w;
		while ((w = dst->ops->step(dst, ins)) == STEP_ROW)
			;
		if (w != STEP_DONE) {
			snprintf(err, errsz, "writing %s: %s", table, dst->ops->errmsg(dst));
			rc = -1;
			break;
		}
		(*copied)++;
	}
	if (rc == 0 && step != STEP_DONE) {
		snprintf(err, errsz, "reading %s: %s", table, src->ops->errmsg(src));
		rc = -1;
	}
	if (ins)
		dst->ops->finalize(ins);
	src->ops->finalize(s);
	return rc;
}

/* Moves each identity sequence past the highest id copied. */
static int continue_sequences(struct store *dst, char *err, size_t errsz)
{
	static const char *const sql =
		"DO $$ DECLARE r record; BEGIN FOR r IN SELECT table_name, column_name FROM "
		"information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP "
		"EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), "
		"COALESCE((SELECT MAX(%I) FROM %I), 0) + 1, false)', r.table_name, r.column_name, "
		"r.column_name, r.table_name); END LOOP; END $$";
	return dst->ops->exec(dst, sql, err, errsz);
}

int store_migrate_db(const char *sqlite_path, const char *pg_uri, FILE *report, char *err, size_t errsz)
{
	struct store *src = NULL, *dst = NULL;
	int rc = -1;
	*err = '\0';
	if (store_is_pg_uri(sqlite_path) || !store_is_pg_uri(pg_uri)) {
		snprintf(err, errsz, "usage: collabd migrate-db SQLITE_FILE postgresql://...");
		return -1;
	}
	if (store_open(sqlite_path, &src, err, errsz) != STORE_OK)
		goto out;
	if (store_open(pg_uri, &dst, err, errsz) != STORE_OK)
		goto out;
	json_t *tables = store_rows(src, TABLES_SQL, NULL);
	if (!tables) {
		snprintf(err, errsz, "listing the tables: %s", store_errmsg(src));
		goto out;
	}
	size_t i;
	json_t *row;
	json_array_foreach(tables, i, row) {
		int64_t n = 0;
		const char *t = json_string_value(json_object_get(row, "name"));
		if (count_rows(dst, t, &n) || n) {
			snprintf(err, errsz, "the target already holds records (%s: %lld rows): migrate into an empty database",
				 t, (long long)n);
			json_decref(tables);
			goto out;
		}
	}
	if (store_begin(dst) != STORE_OK) {
		snprintf(err, errsz, "%s", store_errmsg(dst));
		json_decref(tables);
		goto out;
	}
	json_array_foreach(tables, i, row) {
		const char *t = json_string_value(json_object_get(row, "name"));
		int64_t copied, counted = -1;
		if (copy_table(src, dst, t, &copied, err, errsz) || count_rows(src, t, &counted) || counted != copied) {
			if (counted >= 0 && counted != copied)
				snprintf(err, errsz, "%s: %lld rows read of %lld", t, (long long)copied, (long long)counted);
			store_rollback(dst);
			json_decref(tables);
			goto out;
		}
		fprintf(report, "%-20s %lld rows\n", t, (long long)copied);
	}
	json_decref(tables);
	if (continue_sequences(dst, err, errsz) || store_commit(dst) != STORE_OK) {
		if (!*err)
			snprintf(err, errsz, "%s", store_errmsg(dst));
		store_rollback(dst);
		goto out;
	}
	rc = 0;
out:
	store_close(dst);
	store_close(src);
	return rc;
}
