/*
 * store_archive_read.c - reading everything a request's archive is made of.
 *
 * Rows come back as JSON objects keyed by column name (store_rows), oldest
 * first, so archive_build() can put them into the document as they are.
 * The progress and issue tables belong to steps 3 and 4; this file only
 * reads them.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/retro.h"
#include "collabd/util.h"
#include "store_internal.h"

json_t *store_request_versions_rows(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT version, hash, form, created_at FROM request_versions WHERE request_id = ?1"
			  " ORDER BY version",
			  "[s]", request_id);
}

json_t *store_request_depts_rows(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT dept, state, signed_by, signed_at, version, hash FROM request_depts"
			  " WHERE request_id = ?1 ORDER BY rowid",
			  "[s]", request_id);
}

json_t *store_objections_rows(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT id, dept, raised_by, explanation, proposal, state, answer, answered_at, created_at"
			  " FROM objections WHERE request_id = ?1 ORDER BY id",
			  "[s]", request_id);
}

json_t *store_progress_owner_rows(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT dept, user_id, set_by, set_at FROM progress_owners WHERE request_id = ?1 ORDER BY dept",
			  "[s]", request_id);
}

json_t *store_progress_update_rows(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT id, dept, day, revision, author, done, undone, next, late, submitted_at"
			  " FROM progress_updates WHERE request_id = ?1 ORDER BY day, dept, revision",
			  "[s]", request_id);
}

json_t *store_progress_day_rows(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT dept, day, state, decided_at FROM progress_days WHERE request_id = ?1 ORDER BY day, dept",
			  "[s]", request_id);
}

json_t *store_issue_rows(struct store *st, const char *request_id)
{
	json_t *rows = store_rows(st,
				  "SELECT id, reporter, type, severity, scope, description, occurred_at, expected_at,"
				  " named_user, state, report_late, owner, meeting_at, meeting_mode, meeting_where,"
				  " responded_by, responded_at, cause, measures, solution_owner, solution_due, solution_at,"
				  " result, resolved_by, resolved_at, reopen_count, reopen_reason, created_at, updated_at"
				  " FROM issues WHERE request_id = ?1 ORDER BY created_at, id",
				  "[s]", request_id);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		json_t *depts = store_rows(st, "SELECT dept FROM issue_depts WHERE issue_id = ?1 ORDER BY dept", "[s]",
					   json_string_value(json_object_get(row, "id")));
		if (!depts) {
			json_decref(rows);
			return NULL;
		}
		json_t *codes = json_array(), *d;
		size_t j;
		json_array_foreach(depts, j, d)
			json_array_append(codes, json_object_get(d, "dept"));
		json_decref(depts);
		json_object_set_new(row, "depts", codes);
	}
	return rows;
}

json_t *store_request_timeline(struct store *st, const char *request_id)
{
	/* Entries about the request, and about its deadlines: "req:ID:..."
	 * (a range, so characters in the id are never wildcards). */
	char *from = xasprintf("req:%s:", request_id), *to = xasprintf("req:%s;", request_id);
	json_t *rows = store_rows(st,
				  "SELECT at, actor, kind, subject, detail FROM timeline"
				  " WHERE subject = ?1 OR (subject >= ?2 AND subject < ?3) ORDER BY at, id",
				  "[s,s,s]", request_id, from, to);
	free(from);
	free(to);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *text = json_string_value(json_object_get(row, "detail"));
		json_t *v = text ? json_loads(text, 0, NULL) : NULL;
		json_object_set_new(row, "detail", v ? v : json_null());
	}
	return rows;
}

json_t *retro_participants(struct store *st, const char *request_id)
{
	/* The initiating department first, then the involved ones in the order
	 * they were asked; UNION ALL keeps that order, the NOT IN drops a repeat. */
	json_t *rows = store_rows(st,
				  "SELECT dept FROM requests WHERE id = ?1"
				  " UNION ALL SELECT dept FROM (SELECT dept FROM request_depts WHERE request_id = ?1"
				  "  AND dept NOT IN (SELECT dept FROM requests WHERE id = ?1) ORDER BY rowid) AS asked",
				  "[s]", request_id);
	if (!rows)
		return NULL;
	json_t *codes = json_array();
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
		json_array_append(codes, json_object_get(row, "dept"));
	json_decref(rows);
	return codes;
}
