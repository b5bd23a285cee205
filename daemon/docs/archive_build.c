/*
 * archive_build.c - assembles a request's archive document (schema version
 * ARCHIVE_SCHEMA_VERSION, described in deploy/archive.schema.json).
 *
 * Everything is read from the database at the moment of writing, so the
 * document is a pure function of the database (plus generated_at): writing
 * it again -- after the report, or by `collabd export` -- gives the same
 * content.  People appear as {id, name} and departments as {code, name}, so
 * the document reads on its own after the directory has changed; times are
 * ISO 8601 with the zone's offset.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/directory.h"
#include "collabd/request.h"
#include "collabd/retro.h"
#include "collabd/util.h"

/* {id, name} for a user id, or null. */
static json_t *person(struct store *st, json_t *id)
{
	if (!json_is_string(id))
		return json_null();
	char *name = dir_name(st, json_string_value(id));
	json_t *p = json_pack("{s:O,s:s}", "id", id, "name", name);
	free(name);
	return p;
}

/* {code, name} for a department code. */
static json_t *dept(struct store *st, json_t *code)
{
	struct dept_row d;
	const char *c = json_string_value(code);
	if (!c || store_dept_get(st, c, &d) != STORE_OK)
		return json_pack("{s:s,s:s}", "code", c ? c : "", "name", c ? c : "");
	json_t *v = json_pack("{s:s,s:s}", "code", d.code, "name", d.name);
	dept_row_free(&d);
	return v;
}

/* An ISO time for an integer ms column, or null. */
static json_t *iso(json_t *ms)
{
	if (!json_is_integer(ms))
		return json_null();
	char text[40];
	archive_iso_time(json_integer_value(ms), text, sizeof text);
	return json_string(text);
}

static json_t *iso_ms(ms_t ms)
{
	char text[40];
	archive_iso_time(ms, text, sizeof text);
	return json_string(text);
}

/* In each row, the named columns become people / departments / times. */
static void convert(struct store *st, json_t *rows, const char *const *people, const char *const *depts,
		    const char *const *times)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		for (const char *const *k = people; k && *k; k++)
			json_object_set_new(row, *k, person(st, json_object_get(row, *k)));
		for (const char *const *k = depts; k && *k; k++)
			json_object_set_new(row, *k, dept(st, json_object_get(row, *k)));
		for (const char *const *k = times; k && *k; k++)
			json_object_set_new(row, *k, iso(json_object_get(row, *k)));
	}
}

/* Moves keys of row into a new sub-object named name (null when all are null). */
static void group(json_t *row, const char *name, const char *const *keys)
{
	json_t *sub = json_object();
	int any = 0;
	for (const char *const *k = keys; *k; k++) {
		json_t *v = json_object_get(row, *k);
		any |= v && !json_is_null(v);
		json_object_set(sub, *k, v ? v : json_null());
		json_object_del(row, *k);
	}
	json_object_set_new(row, name, any ? sub : json_null());
	if (!any)
		json_decref(sub);
}

static json_t *versions(struct store *st, const char *id)
{
	json_t *rows = store_request_versions_rows(st, id);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		json_t *form = json_loads(json_string_value(json_object_get(row, "form")), 0, NULL);
		json_object_set_new(row, "form", form ? form : json_object());
	}
	static const char *const times[] = { "created_at", NULL };
	convert(st, rows, NULL, NULL, times);
	return rows;
}

static json_t *issues(struct store *st, const char *id)
{
	json_t *rows = store_issue_rows(st, id);
	static const char *const people[] = { "reporter", "named_user", "owner", "responded_by", "solution_owner",
					      "resolved_by", NULL };
	static const char *const times[] = { "occurred_at", "expected_at", "meeting_at", "responded_at", "solution_due",
					     "solution_at", "resolved_at", "created_at", "updated_at", NULL };
	convert(st, rows, people, NULL, times);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		json_t *codes = json_object_get(row, "depts"), *named = json_array(), *c;
		size_t j;
		json_array_foreach(codes, j, c)
			json_array_append_new(named, dept(st, c));
		json_object_set_new(row, "depts", named);
		json_object_set_new(row, "report_late", json_boolean(json_integer_value(json_object_get(row, "report_late"))));
		static const char *const response[] = { "owner", "responded_by", "responded_at", "meeting_at", "meeting_mode",
							"meeting_where", NULL };
		static const char *const solution[] = { "cause", "measures", "solution_owner", "solution_due", "solution_at",
							NULL };
		static const char *const resolution[] = { "result", "resolved_by", "resolved_at", NULL };
		group(row, "response", response);
		group(row, "solution", solution);
		group(row, "resolution", resolution);
	}
	return rows;
}

static json_t *progress(struct store *st, const char *id)
{
	json_t *owners = store_progress_owner_rows(st, id), *updates = store_progress_update_rows(st, id),
	       *days = store_progress_day_rows(st, id);
	if (!owners || !updates || !days) {
		json_decref(owners);
		json_decref(updates);
		json_decref(days);
		return NULL;
	}
	static const char *const op[] = { "user_id", "set_by", NULL }, *const od[] = { "dept", NULL },
				 *const ot[] = { "set_at", NULL };
	convert(st, owners, op, od, ot);
	static const char *const up[] = { "author", NULL }, *const ut[] = { "submitted_at", NULL };
	convert(st, updates, up, od, ut);
	size_t i;
	json_t *row;
	json_array_foreach(updates, i, row)
		json_object_set_new(row, "late", json_boolean(json_integer_value(json_object_get(row, "late"))));
	static const char *const dt[] = { "decided_at", NULL };
	convert(st, days, NULL, od, dt);
	return json_pack("{s:o,s:o,s:o}", "owners", owners, "updates", updates, "days", days);
}

static json_t *retrospective(struct store *st, const char *id, json_t *completion, json_t *archive_row)
{
	json_t *answers = store_retro_answers(st, id), *codes = retro_participants(st, id);
	if (!answers || !codes) {
		json_decref(answers);
		json_decref(codes);
		return NULL;
	}
	json_int_t due = json_integer_value(json_object_get(completion, "retro_due"));
	size_t i;
	json_t *row;
	json_array_foreach(answers, i, row)
		json_object_set_new(row, "on_time", json_boolean(json_integer_value(json_object_get(row, "answered_at")) <= due));
	static const char *const p[] = { "author", NULL }, *const d[] = { "dept", NULL }, *const t[] = { "answered_at", NULL };
	convert(st, answers, p, d, t);
	json_t *participants = json_array(), *c;
	json_array_foreach(codes, i, c)
		json_array_append_new(participants, dept(st, c));
	json_decref(codes);
	json_t *report = json_object_get(archive_row, "report");
	return json_pack("{s:o,s:o,s:o,s:O}", "due_at", iso(json_object_get(completion, "retro_due")), "participants",
			 participants, "answers", answers, "report", report ? report : json_null());
}

static json_t *request_part(struct store *st, const struct request_row *r)
{
	json_t *form = json_loads(r->form, 0, NULL);
	json_t *code = json_string(r->dept), *initiator = json_string(r->initiator);
	json_t *v = json_pack("{s:s,s:O,s:s,s:s,s:o,s:o,s:s,s:s,s:i,s:o,s:o,s:o}", "id", r->id, "name",
			      json_object_get(form, "需求名称") ? json_object_get(form, "需求名称") : json_null(),
			      "state", r->state, "state_label", req_state_label(r->state), "dept", dept(st, code),
			      "initiator", person(st, initiator), "platform", r->platform, "chat_id", r->chat_id,
			      "version", r->version, "created_at", iso_ms(r->created_at),
			      "updated_at", iso_ms(r->updated_at), "form", form ? form : json_object());
	json_decref(code);
	json_decref(initiator);
	return v;
}

/* The name's parts: "2026-Q4-XMB-001" -> 2026, 4, "XMB". */
static json_t *archive_part(json_t *row, ms_t now)
{
	const char *name = json_string_value(json_object_get(row, "name"));
	const char *first = strchr(name, '-'), *last = strrchr(name, '-');
	const char *second = first ? strchr(first + 1, '-') : NULL;
	char *prefix = second && last > second ? xstrndup(second + 1, (size_t)(last - second - 1)) : xstrdup("");
	char gen[40];
	archive_iso_time(now, gen, sizeof gen);
	json_t *v = json_pack("{s:s,s:s,s:i,s:i,s:O,s:o,s:o,s:s}", "name", name, "prefix", prefix, "year", atoi(name),
			      "quarter", first ? atoi(first + 2) : 0, "dir", json_object_get(row, "dir"), "archived_at",
			      iso(json_object_get(row, "created_at")), "report_at", iso(json_object_get(row, "report_at")),
			      "generated_at", gen);
	free(prefix);
	return v;
}

json_t *archive_build(struct store *st, const char *request_id, ms_t now)
{
	json_t *row = NULL, *completion = NULL;
	struct request_row r;
	if (store_archive_find(st, request_id, &row) != STORE_OK)
		return NULL;
	const char *id = json_string_value(json_object_get(row, "request_id"));
	if (store_request_get(st, id, &r) != STORE_OK) {
		json_decref(row);
		return NULL;
	}
	json_t *doc = NULL;
	json_t *sig = store_request_depts_rows(st, id), *obj = store_objections_rows(st, id), *ver = versions(st, id),
	       *prog = progress(st, id), *iss = issues(st, id), *tl = store_request_timeline(st, id);
	if (!sig || !obj || !ver || !prog || !iss || !tl || store_completion_get(st, id, &completion) != STORE_OK)
		goto out;
	static const char *const sp[] = { "signed_by", NULL }, *const sd[] = { "dept", NULL },
				 *const st_[] = { "signed_at", NULL };
	convert(st, sig, sp, sd, st_);
	static const char *const opp[] = { "raised_by", NULL }, *const ot[] = { "answered_at", "created_at", NULL };
	convert(st, obj, opp, sd, ot);
	static const char *const tp[] = { "actor", NULL }, *const tt[] = { "at", NULL };
	convert(st, tl, tp, NULL, tt);
	json_t *retro = retrospective(st, id, completion, row);
	if (!retro)
		goto out;
	json_t *done = json_pack("{s:o,s:o,s:O,s:O,s:O}", "completed_by", person(st, json_object_get(completion, "completed_by")),
				 "completed_at", iso(json_object_get(completion, "completed_at")), "deliverables",
				 json_object_get(completion, "deliverables"), "open_issues",
				 json_object_get(completion, "open_issues"), "open_issues_reason",
				 json_object_get(completion, "open_issues_reason"));
	doc = json_pack("{s:i,s:o,s:o,s:O,s:O,s:O,s:O,s:O,s:o,s:o,s:O}", "schema_version", ARCHIVE_SCHEMA_VERSION,
			"archive", archive_part(row, now), "request", request_part(st, &r), "versions", ver, "signatures",
			sig, "objections", obj, "progress", prog, "issues", iss, "completion", done, "retrospective", retro,
			"timeline", tl);
out:
	json_decref(sig);
	json_decref(obj);
	json_decref(ver);
	json_decref(prog);
	json_decref(iss);
	json_decref(tl);
	json_decref(completion);
	json_decref(row);
	request_row_free(&r);
	return doc;
}
