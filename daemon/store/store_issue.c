/*
 * store_issue.c - the SQL of step 4: issues, their receiving departments,
 * each step's columns, and the issue's story from the timeline.
 *
 * Every step's UPDATE names the state it moves from, so a second click on
 * the same button changes nothing (STORE_NOTFOUND) instead of applying twice.
 */
#include "collabd/issue.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define ISSUE_COLUMNS                                                                                       \
	"id, request_id, reporter, platform, chat_id, type, severity, scope, description, occurred_at,"      \
	" expected_at, named_user, state, report_late, alerted_at, response_due, owner, meeting_at,"          \
	" meeting_mode, meeting_where, responded_by, responded_at, cause, measures, solution_owner,"          \
	" solution_due, solution_at, result, resolved_by, resolved_at, reopen_count, reopen_reason,"          \
	" reopened_at, created_at, updated_at"

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

enum store_rc store_issue_add(struct store *st, json_t *r)
{
	json_t *expected = json_object_get(r, "expected_at");
	return store_run(st, NULL,
			 "INSERT INTO issues (id, request_id, reporter, platform, chat_id, type, severity, scope,"
			 " description, occurred_at, expected_at, named_user, state, report_late, created_at, updated_at)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
			 "[s,s,s,s,s,s,s,s,s,I,O,s?,s,b,I]", str(r, "id"), str(r, "request_id"), str(r, "reporter"),
			 str(r, "platform"), str(r, "chat_id"), str(r, "type"), str(r, "severity"), str(r, "scope"),
			 str(r, "description"), (json_int_t)json_integer_value(json_object_get(r, "occurred_at")),
			 json_is_integer(expected) ? expected : json_null(), str(r, "named_user"), str(r, "state"),
			 json_is_true(json_object_get(r, "report_late")),
			 (json_int_t)json_integer_value(json_object_get(r, "created_at")));
}

enum store_rc store_issue_dept_add(struct store *st, const char *issue_id, const char *dept)
{
	return store_run(st, NULL,
			 store_dialect_sql(st, "INSERT OR IGNORE INTO issue_depts (issue_id, dept) VALUES (?1, ?2)",
					   "INSERT INTO issue_depts (issue_id, dept) VALUES (?1, ?2) ON CONFLICT DO NOTHING"),
			 "[s,s]", issue_id, dept);
}

/* Adds "depts" to each row; -1 on a store error. */
static int with_depts(struct store *st, json_t *rows)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		json_t *d = store_rows(st, "SELECT dept FROM issue_depts WHERE issue_id = ?1 ORDER BY rowid", "[s]",
				       str(row, "id"));
		if (!d)
			return -1;
		json_t *codes = json_array();
		size_t j;
		json_t *x;
		json_array_foreach(d, j, x)
			json_array_append(codes, json_object_get(x, "dept"));
		json_decref(d);
		json_object_set_new(row, "depts", codes);
	}
	return 0;
}

enum store_rc store_issue_get(struct store *st, const char *id, json_t **out)
{
	json_t *rows = store_rows(st, "SELECT " ISSUE_COLUMNS " FROM issues WHERE id = ?1", "[s]", id);
	if (!rows || with_depts(st, rows)) {
		json_decref(rows);
		return STORE_ERR;
	}
	if (!json_array_size(rows)) {
		json_decref(rows);
		return STORE_NOTFOUND;
	}
	*out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return STORE_OK;
}

json_t *store_issue_list(struct store *st, const char *request_id, int limit)
{
	json_t *rows = request_id
		? store_rows(st, "SELECT " ISSUE_COLUMNS " FROM issues WHERE request_id = ?1"
				 " ORDER BY created_at DESC, id DESC LIMIT ?2", "[s,i]", request_id, limit)
		: store_rows(st, "SELECT " ISSUE_COLUMNS " FROM issues ORDER BY created_at DESC, id DESC LIMIT ?1",
			     "[i]", limit);
	if (rows && with_depts(st, rows)) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

/* STORE_NOTFOUND when no row changed: the issue left from_state already. */
static enum store_rc moved(enum store_rc rc, int changes)
{
	return rc == STORE_OK && changes == 0 ? STORE_NOTFOUND : rc;
}

enum store_rc store_issue_respond(struct store *st, const char *id, const char *from_state, const char *to_state,
				  const char *owner, ms_t meeting_at, const char *mode, const char *where,
				  const char *by, ms_t now)
{
	int changes = 0;
	enum store_rc rc = store_run(
		st, &changes,
		"UPDATE issues SET state = ?3, owner = ?4, meeting_at = ?5, meeting_mode = ?6, meeting_where = ?7,"
		" responded_by = ?8, responded_at = IFNULL(responded_at, ?9), updated_at = ?9"
		" WHERE id = ?1 AND state = ?2",
		"[s,s,s,s,I,s,s,s,I]", id, from_state, to_state, owner, (json_int_t)meeting_at, mode, where, by,
		(json_int_t)now);
	return moved(rc, changes);
}

enum store_rc store_issue_solution(struct store *st, const char *id, const char *from_state, const char *to_state,
				   const char *cause, const char *measures, const char *owner, ms_t due, ms_t now)
{
	int changes = 0;
	enum store_rc rc = store_run(
		st, &changes,
		"UPDATE issues SET state = ?3, cause = ?4, measures = ?5, solution_owner = ?6, solution_due = ?7,"
		" solution_at = ?8, updated_at = ?8 WHERE id = ?1 AND state = ?2",
		"[s,s,s,s,s,s,I,I]", id, from_state, to_state, cause, measures, owner, (json_int_t)due, (json_int_t)now);
	return moved(rc, changes);
}

enum store_rc store_issue_resolve(struct store *st, const char *id, const char *from_state, const char *to_state,
				  const char *result, const char *by, ms_t now)
{
	int changes = 0;
	enum store_rc rc = store_run(st, &changes,
				     "UPDATE issues SET state = ?3, result = ?4, resolved_by = ?5, resolved_at = ?6,"
				     " updated_at = ?6 WHERE id = ?1 AND state = ?2",
				     "[s,s,s,s,s,I]", id, from_state, to_state, result, by, (json_int_t)now);
	return moved(rc, changes);
}

enum store_rc store_issue_reopen(struct store *st, const char *id, const char *from_state, const char *to_state,
				 const char *reason, ms_t now)
{
	int changes = 0;
	enum store_rc rc = store_run(st, &changes,
				     "UPDATE issues SET state = ?3, reopen_reason = ?4, reopen_count = reopen_count + 1,"
				     " reopened_at = ?5, updated_at = ?5 WHERE id = ?1 AND state = ?2",
				     "[s,s,s,s,I]", id, from_state, to_state, reason, (json_int_t)now);
	return moved(rc, changes);
}

enum store_rc store_issue_set_response_due(struct store *st, const char *id, ms_t due)
{
	return store_run(st, NULL, "UPDATE issues SET response_due = IFNULL(response_due, ?2) WHERE id = ?1", "[s,I]", id, (json_int_t)due);
}

enum store_rc store_issue_set_alerted(struct store *st, const char *id, ms_t at)
{
	return store_run(st, NULL, "UPDATE issues SET alerted_at = ?2 WHERE id = ?1", "[s,I]", id, (json_int_t)at);
}

json_t *store_issue_timeline(struct store *st, const char *request_id, const char *issue_id)
{
	/* Steps are filed under the request (so its story is whole); the SLA
	 * pings under the deadlines' keys, which name the issue. */
	return store_rows(st,
			  store_dialect_sql(st,
			  "SELECT at, actor, kind, detail FROM timeline"
			  " WHERE (subject = ?1 AND kind LIKE 'issue.%' AND json_extract(detail, '$.issue') = ?2)"
			  "    OR subject IN ('req:' || ?1 || ':issue:' || ?2 || ':response',"
			  "                   'req:' || ?1 || ':issue:' || ?2 || ':solution')"
			  " ORDER BY at, id",
			  "SELECT at, actor, kind, detail FROM timeline"
			  " WHERE (subject = ?1 AND kind LIKE 'issue.%' AND detail::jsonb ->> 'issue' = ?2)"
			  "    OR subject IN ('req:' || ?1 || ':issue:' || ?2 || ':response',"
			  "                   'req:' || ?1 || ':issue:' || ?2 || ':solution')"
			  " ORDER BY at, id"),
			  "[s,s]", request_id, issue_id);
}

json_t *store_issue_open_requests(struct store *st, int limit)
{
	return store_rows(st,
			  store_dialect_sql(st,
			  "SELECT id, json_extract(form, '$.\"需求名称\"') AS name FROM requests"
			  " WHERE state IN ('syncing', 'in_progress') ORDER BY created_at DESC LIMIT ?1",
			  "SELECT id, form::jsonb ->> '需求名称' AS name FROM requests"
			  " WHERE state IN ('syncing', 'in_progress') ORDER BY created_at DESC LIMIT ?1"),
			  "[i]", limit);
}

