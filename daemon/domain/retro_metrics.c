/*
 * retro_metrics.c - the retrospective's figures, measured from what the
 * request went through (timeline, signatures, objections, progress days,
 * issues, retrospective answers).  Nobody types a figure in.
 *
 * Each figure is measured against the rule the workflow set for it, on that
 * rule's clock: business time for the working-day and business-hour rules,
 * wall-clock time for urgent issues (their SLA policies say which).  The
 * limits come from the running SLA policies, so a company that changed a
 * rule is measured against its own rule.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/calendar.h"
#include "collabd/retro.h"
#include "collabd/sla.h"
#include "collabd/util.h"

#define ISSUE_REPORT_WITHIN (3600LL * 1000) /* report a problem within 1 hour of it happening */

struct rule {
	ms_t limit;
	enum sla_clock clock;
};

struct measure {
	struct store *st;
	const struct calendar *cal;
	const struct sla_policies *pol;
	json_t *timeline; /* raw rows: at (ms), kind, subject, detail (parsed) */
	json_t *names;    /* code -> department name */
};

static struct rule rule_of(const struct measure *m, const char *policy)
{
	const struct sla_policy *p = sla_policy_find(m->pol, policy);
	struct rule r = { 0, SLA_BUSINESS };
	if (!p)
		return r;
	r.clock = p->clock;
	r.limit = p->duration.ms + (ms_t)p->duration.working_days *
					   (p->clock == SLA_WALL ? 86400000 : calendar_day_length(m->cal));
	return r;
}

static ms_t elapsed(const struct measure *m, enum sla_clock clock, ms_t a, ms_t b)
{
	return clock == SLA_WALL ? (b > a ? b - a : 0) : calendar_business_between(m->cal, a, b);
}

static ms_t ms_of(json_t *o, const char *key) { return (ms_t)json_integer_value(json_object_get(o, key)); }
static const char *str_of(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static const char *dept_name(struct measure *m, const char *code)
{
	json_t *n = json_object_get(m->names, code);
	if (n)
		return json_string_value(n);
	struct dept_row d;
	if (store_dept_get(m->st, code, &d) == STORE_OK) {
		json_object_set_new(m->names, code, json_string(d.name));
		dept_row_free(&d);
	} else {
		json_object_set_new(m->names, code, json_string(code));
	}
	return json_string_value(json_object_get(m->names, code));
}

/* Submission (the one approved) to approval, and how often it was rejected. */
static json_t *approval(struct measure *m, ms_t *approved_at)
{
	ms_t submitted = -1;
	int rejections = 0;
	size_t i;
	json_t *e;
	json_array_foreach(m->timeline, i, e) {
		const char *kind = str_of(e, "kind");
		if (!strcmp(kind, "request.submitted") || !strcmp(kind, "request.resubmitted"))
			submitted = ms_of(e, "at");
		else if (!strcmp(kind, "request.rejected"))
			rejections++;
		else if (!strcmp(kind, "request.approved") && submitted >= 0) {
			struct rule r = rule_of(m, "approval");
			*approved_at = ms_of(e, "at");
			ms_t took = elapsed(m, r.clock, submitted, *approved_at);
			return json_pack("{s:I,s:I,s:I,s:I,s:b,s:i}", "submitted_at", (json_int_t)submitted, "approved_at",
					 (json_int_t)*approved_at, "elapsed_ms", (json_int_t)took, "limit_ms",
					 (json_int_t)r.limit, "within", took <= r.limit, "rejections", rejections);
		}
	}
	return json_null();
}

/* Each department's first answer (confirmed or objected) after the sync. */
static json_t *confirmations(struct measure *m, json_t *depts, ms_t asked)
{
	struct rule r = rule_of(m, "dept_confirm");
	json_t *out = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(depts, i, d) {
		const char *code = str_of(d, "dept");
		json_t *first = NULL, *e;
		size_t j;
		json_array_foreach(m->timeline, j, e) {
			const char *kind = str_of(e, "kind");
			if ((!strcmp(kind, "request.confirmed") || !strcmp(kind, "request.objected")) && ms_of(e, "at") >= asked &&
			    str_of(json_object_get(e, "detail"), "dept") && !strcmp(str_of(json_object_get(e, "detail"), "dept"), code)) {
				first = e;
				break;
			}
		}
		json_t *row = json_pack("{s:s,s:s,s:I}", "dept", code, "dept_name", dept_name(m, code), "asked_at",
					(json_int_t)asked);
		if (first) {
			ms_t took = elapsed(m, r.clock, asked, ms_of(first, "at"));
			json_object_set_new(row, "answered_at", json_integer(ms_of(first, "at")));
			json_object_set_new(row, "answer", json_string(!strcmp(str_of(first, "kind"), "request.confirmed")
									       ? "confirmed" : "objected"));
			json_object_set_new(row, "elapsed_ms", json_integer(took));
			json_object_set_new(row, "within", json_boolean(took <= r.limit));
		} else {
			json_object_set_new(row, "answered_at", json_null());
			json_object_set_new(row, "answer", json_null());
			json_object_set_new(row, "elapsed_ms", json_null());
			json_object_set_new(row, "within", json_false());
		}
		json_object_set_new(row, "limit_ms", json_integer(r.limit));
		json_array_append_new(out, row);
	}
	return out;
}

/* Each objection: the initiator's first answer (or the revision that
 * answered it), how long that took, and how it ended. */
static json_t *objections(struct measure *m, json_t *rows)
{
	struct rule r = rule_of(m, "objection_answer");
	json_t *out = json_array();
	size_t i;
	json_t *o;
	json_array_foreach(rows, i, o) {
		json_int_t id = json_integer_value(json_object_get(o, "id"));
		ms_t raised = ms_of(o, "created_at"), answered = -1;
		const char *first = NULL, *state = str_of(o, "state");
		size_t j;
		json_t *e;
		json_array_foreach(m->timeline, j, e) {
			const char *kind = str_of(e, "kind");
			json_t *detail = json_object_get(e, "detail");
			if (!strcmp(kind, "objection.answered") && json_integer_value(json_object_get(detail, "objection")) == id) {
				answered = ms_of(e, "at");
				first = str_of(detail, "to");
				break;
			}
			if (!strcmp(kind, "request.revised") && !strcmp(state, "revised") && ms_of(e, "at") >= raised) {
				answered = ms_of(e, "at");
				first = "revised";
				break;
			}
		}
		const char *code = str_of(o, "dept");
		json_t *row = json_pack("{s:I,s:s,s:s,s:I,s:s?,s:s,s:I}", "id", id, "dept", code, "dept_name",
					dept_name(m, code), "raised_at", (json_int_t)raised, "first_answer", first, "outcome",
					state, "limit_ms", (json_int_t)r.limit);
		ms_t took = answered >= 0 ? elapsed(m, r.clock, raised, answered) : -1;
		json_object_set_new(row, "answered_at", answered >= 0 ? json_integer(answered) : json_null());
		json_object_set_new(row, "elapsed_ms", took >= 0 ? json_integer(took) : json_null());
		json_object_set_new(row, "within", json_boolean(took >= 0 && took <= r.limit));
		json_array_append_new(out, row);
	}
	return out;
}

/*
 * Each executing department's working days: the verdict taken at the cut-off
 * (progress_days), or -- for a day not yet decided, e.g. the day of
 * completion -- what its updates say (late when every revision was late).
 */
static json_t *progress(struct measure *m, json_t *executing, json_t *days, json_t *updates)
{
	json_t *verdict = json_object(); /* "DEPT|DAY" -> state */
	size_t i;
	json_t *row;
	json_array_foreach(updates, i, row) {
		char *key = xasprintf("%s|%s", str_of(row, "dept"), str_of(row, "day"));
		if (!json_integer_value(json_object_get(row, "late")))
			json_object_set_new(verdict, key, json_string("on_time"));
		else if (!json_object_get(verdict, key))
			json_object_set_new(verdict, key, json_string("late"));
		free(key);
	}
	/* Decided days win over what the updates say. */
	json_array_foreach(days, i, row) {
		char *key = xasprintf("%s|%s", str_of(row, "dept"), str_of(row, "day"));
		json_object_set_new(verdict, key, json_string(str_of(row, "state")));
		free(key);
	}
	/* The executing (involved) departments, each listed even with nothing
	 * to count, then any other department that posted. */
	json_t *out = json_array(), *order = json_array();
	json_array_foreach(executing, i, row)
		json_array_append(order, json_object_get(row, "dept"));
	const char *key;
	json_t *v;
	json_object_foreach(verdict, key, v) {
		char *code = xstrndup(key, (size_t)(strchr(key, '|') - key));
		int known = 0;
		json_t *c;
		json_array_foreach(order, i, c)
			known |= !strcmp(json_string_value(c), code);
		if (!known)
			json_array_append_new(order, json_string(code));
		free(code);
	}
	json_t *c;
	json_array_foreach(order, i, c) {
		const char *code = json_string_value(c);
		int counts[3] = { 0, 0, 0 };
		size_t n = strlen(code);
		json_object_foreach(verdict, key, v) {
			if (strncmp(key, code, n) || key[n] != '|')
				continue;
			const char *s = json_string_value(v);
			counts[!strcmp(s, "on_time") ? 0 : !strcmp(s, "late") ? 1 : 2]++;
		}
		json_array_append_new(out, json_pack("{s:s,s:s,s:i,s:i,s:i}", "dept", code, "dept_name", dept_name(m, code),
						     "on_time", counts[0], "late", counts[1], "missed", counts[2]));
	}
	json_decref(order);
	json_decref(verdict);
	return out;
}

static void count(json_t *obj, const char *key)
{
	json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + 1));
}

/* Issues by type and severity; per issue its report delay, response and
 * resolution against their rules. */
static json_t *issues(struct measure *m, json_t *rows)
{
	json_t *by_type = json_object(), *by_sev = json_object(), *items = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(rows, i, s) {
		const char *sev = str_of(s, "severity");
		count(by_type, str_of(s, "type"));
		count(by_sev, sev);
		int urgent = !strcmp(sev, "紧急");
		struct rule resp = rule_of(m, urgent ? "issue_response_urgent" : "issue_response");
		/* The 1-hour reporting rule runs on the same clock as the response. */
		ms_t delay = elapsed(m, resp.clock, ms_of(s, "occurred_at"), ms_of(s, "created_at"));
		json_t *item = json_pack("{s:O,s:s,s:s,s:I,s:b,s:I}", "id", json_object_get(s, "id"), "type",
					 str_of(s, "type"), "severity", sev, "report_delay_ms", (json_int_t)delay,
					 "report_within", delay <= ISSUE_REPORT_WITHIN, "response_limit_ms", (json_int_t)resp.limit);
		json_t *responded = json_object_get(s, "responded_at");
		ms_t took = json_is_integer(responded) ? elapsed(m, resp.clock, ms_of(s, "created_at"), ms_of(s, "responded_at")) : -1;
		json_object_set_new(item, "response_ms", took >= 0 ? json_integer(took) : json_null());
		json_object_set_new(item, "response_within", json_boolean(took >= 0 && took <= resp.limit));
		json_t *due = json_object_get(s, "solution_due"), *resolved = json_object_get(s, "resolved_at");
		json_object_set(item, "solution_due", due ? due : json_null());
		json_object_set(item, "resolved_at", resolved ? resolved : json_null());
		json_object_set_new(item, "resolution_within",
				    json_is_integer(due) && json_is_integer(resolved)
					    ? json_boolean(json_integer_value(resolved) <= json_integer_value(due))
					    : json_null());
		json_array_append_new(items, item);
	}
	return json_pack("{s:o,s:o,s:o}", "by_type", by_type, "by_severity", by_sev, "items", items);
}

/*
 * Reminders, overdue pings, escalations and snoozes, by kind of deadline
 * (the third part of the deadline key "req:ID:KIND...").  The daily
 * progress deadline fires every day whether or not anyone is late (its hook
 * decides whom to ping), so for it the step's own events count instead:
 * progress.missed per department and day, progress.escalated.  An
 * escalation is every ping that reached a superior, whatever its step (the
 * urgent issue's first overdue ping already does).
 */
static const struct {
	const char *kind, *label;
	const char *overdue, *escalated; /* the step's own timeline kinds, or NULL: the scheduler's */
} deadline_kinds[] = {
	{ "approval", "需求审批", NULL, NULL },
	{ "confirm", "部门确认", NULL, NULL },
	{ "objection", "异议答复", NULL, NULL },
	{ "progress", "每日进度", "progress.missed", "progress.escalated" },
	{ "issue", "问题响应与解决", NULL, NULL },
	{ "retro", "复盘答复", NULL, NULL },
};

/* A ping that @-mentioned a superior (or the superior's superior): whatever
 * its step, it is an escalation.  Rows from before the roles were recorded
 * count by their stage. */
static int reached_superior(json_t *event)
{
	const char *kind = str_of(event, "kind");
	if (strncmp(kind, "sla.", 4) || !strcmp(kind, "sla.snooze"))
		return 0;
	json_t *roles = json_object_get(json_object_get(event, "detail"), "roles");
	if (!json_is_array(roles))
		return !strcmp(kind, "sla.escalation");
	size_t i;
	json_t *r;
	json_array_foreach(roles, i, r)
		if (!strcmp(json_string_value(r), "superior") || !strcmp(json_string_value(r), "superior2"))
			return 1;
	return 0;
}

static json_t *deadlines(struct measure *m, const char *id)
{
	size_t n = ARRAY_LEN(deadline_kinds), plen = strlen(id) + 5;
	int counts[ARRAY_LEN(deadline_kinds)][4] = { { 0 } };
	static const char *const stages[] = { "sla.reminder", "sla.overdue", "sla.escalation", "sla.snooze" };
	size_t i;
	json_t *e;
	json_array_foreach(m->timeline, i, e) {
		const char *subject = str_of(e, "subject"), *kind = str_of(e, "kind");
		for (size_t k = 0; k < n; k++) {
			if (deadline_kinds[k].overdue && subject && !strcmp(subject, id)) {
				counts[k][1] += !strcmp(kind, deadline_kinds[k].overdue);
				counts[k][2] += !strcmp(kind, deadline_kinds[k].escalated);
			}
		}
		/* The timeline query gave only this request's keys: "req:ID:...".
		 * An issue's alert held to working hours ("...:alert") is a
		 * delivery, not anyone's deadline. */
		size_t sl = subject ? strlen(subject) : 0;
		if (!subject || strncmp(subject, "req:", 4) || sl <= plen || (sl > 6 && !strcmp(subject + sl - 6, ":alert")))
			continue;
		for (size_t k = 0; k < n; k++) {
			size_t kl = strlen(deadline_kinds[k].kind);
			if (strncmp(subject + plen, deadline_kinds[k].kind, kl) || (subject[plen + kl] && subject[plen + kl] != ':'))
				continue;
			for (size_t st = deadline_kinds[k].overdue ? 3 : 0; st < ARRAY_LEN(stages); st++)
				counts[k][st] += st != 2 && !strcmp(kind, stages[st]);
			if (!deadline_kinds[k].overdue)
				counts[k][2] += reached_superior(e);
		}
	}
	json_t *out = json_array();
	for (size_t k = 0; k < n; k++)
		if (counts[k][0] || counts[k][1] || counts[k][2] || counts[k][3])
			json_array_append_new(out, json_pack("{s:s,s:s,s:i,s:i,s:i,s:i}", "kind", deadline_kinds[k].kind, "label",
							     deadline_kinds[k].label, "reminders", counts[k][0], "overdue",
							     counts[k][1], "escalations", counts[k][2], "snoozes", counts[k][3]));
	return out;
}

static json_t *retro(struct measure *m, json_t *answers, ms_t due)
{
	json_t *out = json_array();
	size_t i;
	json_t *a;
	json_array_foreach(answers, i, a) {
		const char *code = str_of(a, "dept");
		json_array_append_new(out, json_pack("{s:s,s:s,s:I,s:b}", "dept", code, "dept_name", dept_name(m, code),
						     "answered_at", (json_int_t)ms_of(a, "answered_at"), "within",
						     ms_of(a, "answered_at") <= due));
	}
	return out;
}

static int sum(json_t *rows, const char *key, int want_true)
{
	int n = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		json_t *v = json_object_get(r, key);
		n += want_true < 0 ? (int)json_integer_value(v) : want_true ? json_is_true(v) : json_is_false(v);
	}
	return n;
}

static json_t *totals(json_t *met)
{
	json_t *conf = json_object_get(met, "confirmations"), *obj = json_object_get(met, "objections"),
	       *prog = json_object_get(met, "progress"), *items = json_object_get(json_object_get(met, "issues"), "items"),
	       *dl = json_object_get(met, "deadlines");
	return json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "confirm_total", (int)json_array_size(conf),
			 "confirm_within", sum(conf, "within", 1), "objections", (int)json_array_size(obj),
			 "objections_within", sum(obj, "within", 1), "progress_on_time", sum(prog, "on_time", -1),
			 "progress_late", sum(prog, "late", -1), "progress_missed", sum(prog, "missed", -1), "issues",
			 (int)json_array_size(items), "report_late", sum(items, "report_within", 0), "response_late",
			 sum(items, "response_within", 0), "resolution_late", sum(items, "resolution_within", 0),
			 "escalations", sum(dl, "escalations", -1), "snoozes", sum(dl, "snoozes", -1));
}

json_t *retro_metrics(struct store *st, const struct calendar *cal, const struct sla_policies *pol,
		      const char *request_id, ms_t retro_due)
{
	struct sla_policies *own = pol ? NULL : sla_policies_new(NULL, NULL, NULL);
	struct measure m = { .st = st, .cal = cal, .pol = pol ? pol : own, .timeline = store_request_timeline(st, request_id),
			     .names = json_object() };
	json_t *depts = store_request_depts_rows(st, request_id), *objs = store_objections_rows(st, request_id),
	       *days = store_progress_day_rows(st, request_id), *updates = store_progress_update_rows(st, request_id),
	       *iss = store_issue_rows(st, request_id), *answers = store_retro_answers(st, request_id),
	       *parts = retro_participants(st, request_id), *met = NULL;
	if (m.timeline && depts && objs && days && updates && iss && answers && parts) {
		ms_t approved = -1;
		json_t *appr = approval(&m, &approved);
		met = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "approval", appr, "confirmations",
				approved >= 0 ? confirmations(&m, depts, approved) : json_array(), "objections",
				objections(&m, objs), "progress", progress(&m, depts, days, updates), "issues", issues(&m, iss),
				"deadlines", deadlines(&m, request_id), "retro", retro(&m, answers, retro_due));
		json_object_set_new(met, "totals", totals(met));
	}
	json_decref(m.timeline);
	json_decref(m.names);
	json_decref(depts);
	json_decref(objs);
	json_decref(days);
	json_decref(updates);
	json_decref(iss);
	json_decref(answers);
	json_decref(parts);
	sla_policies_free(own);
	return met;
}
