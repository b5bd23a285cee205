/*
 * store_archive.c - step 5's records: completions, archive entries,
 * retrospective answers, and the open deadlines a completion cancels.
 *
 * JSON columns (deliverables, open_issues, answers) are stored as compact
 * text and handed back parsed, so callers never see the storage form.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/util.h"
#include "store_internal.h"

/* Replaces the text column key of row by its parsed JSON (null if unparsable). */
static void parse_column(json_t *row, const char *key)
{
	const char *text = json_string_value(json_object_get(row, key));
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	json_object_set_new(row, key, v ? v : json_null());
}

enum store_rc store_completion_add(struct store *st, const char *request_id, const char *by, ms_t at,
				   json_t *deliverables, json_t *open_issues, const char *reason, ms_t retro_due)
{
	char *d = json_dumps(deliverables, JSON_COMPACT), *o = json_dumps(open_issues, JSON_COMPACT);
	enum store_rc rc = store_run(st, NULL,
				     "INSERT INTO completions (request_id, completed_by, completed_at, deliverables,"
				     " open_issues, open_issues_reason, retro_due) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
				     "[s,s,I,s,s,s?,I]", request_id, by, (json_int_t)at, d ? d : "[]", o ? o : "[]", reason,
				     (json_int_t)retro_due);
	free(d);
	free(o);
	return rc;
}

enum store_rc store_completion_get(struct store *st, const char *request_id, json_t **row)
{
	enum store_rc rc = store_row(st, row,
				     "SELECT request_id, completed_by, completed_at, deliverables, open_issues,"
				     " open_issues_reason, retro_due FROM completions WHERE request_id = ?1",
				     "[s]", request_id);
	if (rc == STORE_OK) {
		parse_column(*row, "deliverables");
		parse_column(*row, "open_issues");
	}
	return rc;
}

json_t *store_open_issues(struct store *st, const char *request_id)
{
	/* Resolved (and closed) issues are done; a reopened one is open again. */
	return store_rows(st,
			  "SELECT id, type, severity, state, description FROM issues"
			  " WHERE request_id = ?1 AND state NOT IN ('resolved', 'closed') ORDER BY id",
			  "[s]", request_id);
}

enum store_rc store_archive_add(struct store *st, const char *name, const char *request_id, const char *dir,
				ms_t created_at)
{
	return store_run(st, NULL,
			 "INSERT INTO archives (name, request_id, dir, created_at, written_at) VALUES (?1, ?2, ?3, ?4, ?4)",
			 "[s,s,s,I]", name, request_id, dir, (json_int_t)created_at);
}

enum store_rc store_archive_find(struct store *st, const char *key, json_t **row)
{
	enum store_rc rc = store_row(st, row,
				     "SELECT name, request_id, dir, created_at, written_at, report_at, report FROM archives"
				     " WHERE name = ?1 OR request_id = ?1",
				     "[s]", key);
	if (rc == STORE_OK)
		parse_column(*row, "report");
	return rc;
}

enum store_rc store_archive_written(struct store *st, const char *name, ms_t at, json_t *report)
{
	char *text = report ? json_dumps(report, JSON_COMPACT) : NULL;
	int changes = 0;
	enum store_rc rc = store_run(st, &changes,
				     "UPDATE archives SET written_at = ?2,"
				     " report_at = CASE WHEN ?3 IS NULL THEN report_at ELSE ?2 END,"
				     " report = coalesce(?3, report) WHERE name = ?1",
				     "[s,I,s?]", name, (json_int_t)at, text);
	free(text);
	return rc == STORE_OK && !changes ? STORE_NOTFOUND : rc;
}

json_t *store_archive_recent(struct store *st, int limit)
{
	return store_rows(st,
			  "SELECT name, request_id, dir, created_at, written_at, report_at FROM archives"
			  " ORDER BY created_at DESC, name DESC LIMIT ?1",
			  "[i]", limit);
}

enum store_rc store_retro_answer_put(struct store *st, const char *request_id, const char *dept, const char *author,
				     json_t *answers, ms_t at, int *revision)
{
	char *text = json_dumps(answers, JSON_COMPACT);
	enum store_rc rc = store_run(st, NULL,
				     "INSERT INTO retro_answers (request_id, dept, author, answers, answered_at)"
				     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (request_id, dept) DO UPDATE SET"
				     " author = excluded.author, answers = excluded.answers,"
				     " answered_at = excluded.answered_at, revision = retro_answers.revision + 1",
				     "[s,s,s,s,I]", request_id, dept, author, text ? text : "{}", (json_int_t)at);
	free(text);
	if (rc == STORE_OK && revision)
		*revision = (int)store_int(st, 1, "SELECT revision FROM retro_answers WHERE request_id = ?1 AND dept = ?2",
					   "[s,s]", request_id, dept);
	return rc;
}

json_t *store_retro_answers(struct store *st, const char *request_id)
{
	json_t *rows = store_rows(st,
				  "SELECT dept, author, answers, answered_at, revision FROM retro_answers"
				  " WHERE request_id = ?1 ORDER BY answered_at, dept",
				  "[s]", request_id);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
		parse_column(row, "answers");
	return rows;
}

json_t *store_open_deadline_keys(struct store *st, const char *prefix)
{
	/* A range instead of LIKE: ids may hold characters LIKE treats specially. */
	char *end = xstrdup(prefix);
	size_t n = strlen(end);
	if (n)
		end[n - 1]++;
	json_t *rows = store_rows(st,
				  "SELECT key FROM deadlines WHERE key >= ?1 AND key < ?2 AND state = 'open' ORDER BY key",
				  "[s,s]", prefix, end);
	free(end);
	if (!rows)
		return NULL;
	json_t *keys = json_array();
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
		json_array_append(keys, json_object_get(row, "key"));
	json_decref(rows);
	return keys;
}
