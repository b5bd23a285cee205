/*
 * progress_day.c - step 3's working days: one deadline per request and day
 * ("req:<ID>:progress:<YYYY-MM-DD>", policy daily_progress) whose hook
 *
 *   at the reminder (16:00)  pings, in the chat's coalesced ping, only the
 *                            owners who have not posted yet;
 *   at the cut-off (17:00)   decides each department's day (on_time / missed),
 *                            @-mentions the late owners and heads (and the
 *                            superior after repeated misses), posts the digest
 *                            and sets the next working day.
 *
 * progress_start() begins it when a request goes into execution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/progress.h"
#include "collabd/request.h"
#include "collabd/sched.h"

/* Two hours' notice at least: a request that starts at 16:30 owes its first
 * update the next working day. */
#define FIRST_DAY_NOTICE_MS (2 * 3600 * 1000LL)

/* ---- days and deadlines ---- */

/* The first working day whose cut-off is at least `notice` after from. */
static ms_t next_cutoff(const struct cmd_ctx *ctx, ms_t from, ms_t notice, char day[11])
{
	return progress_next_cutoff(sched_calendar(ctx->sched), ctx->env->progress_cutoff_min, from, notice, day);
}

/* {"owner": [{id,name}...]} for the given user ids. */
static json_t *people_of(struct cmd_ctx *ctx, json_t *ids)
{
	json_t *owner = json_array();
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id) {
		char *name = dir_name(ctx->store, json_string_value(id));
		json_array_append_new(owner, json_pack("{s:s,s:s}", "id", json_string_value(id), "name", name));
		free(name);
	}
	return json_pack("{s:o}", "owner", owner);
}

static void schedule_day(struct cmd_ctx *ctx, const struct request_row *r, ms_t due, const char *day)
{
	json_t *owners = progress_owners(ctx->store, r->id), *ids = json_array();
	size_t i;
	json_t *o;
	json_array_foreach(owners, i, o)
		json_array_append(ids, json_object_get(o, "user_id"));
	json_t *people = people_of(ctx, ids);
	char *key = xasprintf("req:%s:progress:%s", r->id, day);
	char *subject = xasprintf("需求 %s · %s 进度", r->id, day);
	struct sched_deadline dl = { .key = key, .policy = "daily_progress", .platform = r->platform,
				     .chat_id = r->chat_id, .subject = subject, .people = people, .start = ctx->now,
				     .due = due };
	if (!owners || sched_deadline_set(ctx->sched, &dl, NULL) != STORE_OK)
		ctx->failed = 1;
	free(subject);
	free(key);
	json_decref(people);
	json_decref(ids);
	json_decref(owners);
}


/* ---- the start and the daily deadline ---- */

void progress_start(struct cmd_ctx *ctx, const char *request_id)
{
	struct request_row r;
	if (store_request_get(ctx->store, request_id, &r) != STORE_OK) {
		ctx->failed = 1;
		return;
	}
	struct request_dept_row *rows;
	size_t n;
	if (store_request_depts(ctx->store, r.id, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	json_t *mentions = json_array(), *lines = json_array();
	for (size_t i = 0; i < n; i++) {
		struct dept_row d;
		if (store_dept_get(ctx->store, rows[i].dept, &d) != STORE_OK)
			continue;
		char **ids;
		size_t k;
		if (store_dept_contacts(ctx->store, d.code, &ids, &k) != STORE_OK)
			ctx->failed = 1;
		const char *owner = k ? ids[0] : d.head;
		if (progress_owner_set(ctx->store, r.id, d.code, owner, NULL, ctx->now) != STORE_OK)
			ctx->failed = 1;
		char *name = dir_name(ctx->store, owner);
		json_array_append_new(mentions, json_pack("{s:s,s:s}", "id", owner, "name", name));
		json_array_append_new(lines, json_sprintf("%s：%s", d.name, name));
		free(name);
		for (size_t j = 0; j < k; j++)
			free(ids[j]);
		free(ids);
		dept_row_free(&d);
	}
	request_dept_rows_free(rows, n);
	char day[11];
	ms_t due = next_cutoff(ctx, ctx->now, FIRST_DAY_NOTICE_MS, day);
	if (due > 0)
		schedule_day(ctx, &r, due, day);
	if (store_timeline_add(ctx->store, ctx->now, "collabd", "progress.started", r.id, NULL) != STORE_OK)
		ctx->failed = 1;
	char *title = xasprintf("🚀 需求 %s 进入执行阶段", r.id);
	char *lead = xasprintf("所有涉及部门都已确认，需求进入执行阶段。各部门进度负责人请在每个工作日 %02d:%02d 前"
			       "提交《跨部门协作进度同步表》（第一次：%s）。"
			       "部门负责人可用 /进度 负责人 %s @某人 更换。",
			       ctx->env->progress_cutoff_min / 60, ctx->env->progress_cutoff_min % 60, day, r.id);
	json_t *body = json_pack("{s:s,s:s,s:O,s:s,s:[{s:s,s:O}],s:o}", "title", title, "color", "green", "mentions",
				 mentions, "lead", lead, "sections", "heading", "进度负责人", "lines", lines, "form",
				 progress_form(r.id));
	cmd_card_link(ctx, body, r.id);
	cmd_notice_about(ctx, "card", body, r.chat_id, NULL, 0);
	json_decref(body);
	free(lead);
	free(title);
	json_decref(lines);
	json_decref(mentions);
	request_row_free(&r);
}

/* "req:<ID>:progress:<DAY>" -> id and day (both owned), or -1. */
static int parse_key(const char *key, char **id, char **day)
{
	const char *p = strstr(key, ":progress:");
	if (strncmp(key, "req:", 4) || !p || strlen(p + 10) != 10)
		return -1;
	*id = xstrndup(key + 4, (size_t)(p - key - 4));
	*day = xstrdup(p + 10);
	return 0;
}

/* 16:00: the owners who have not posted, through the standard (coalesced) ping. */
static int remind(struct cmd_ctx *ctx, struct deadline_row *d, const struct request_row *r, const char *day)
{
	json_t *owners = progress_owners(ctx->store, r->id), *updates = progress_updates_of_day(ctx->store, r->id, day);
	if (!owners || !updates) {
		json_decref(owners);
		json_decref(updates);
		return SCHED_HOOK_ERROR;
	}
	json_t *ids = json_array();
	struct buf names;
	buf_init(&names);
	size_t i, k;
	json_t *o, *u;
	json_array_foreach(owners, i, o) {
		const char *dept = json_string_value(json_object_get(o, "dept"));
		int posted = 0;
		json_array_foreach(updates, k, u)
			posted |= !strcmp(json_string_value(json_object_get(u, "dept")), dept);
		if (posted)
			continue;
		json_array_append(ids, json_object_get(o, "user_id"));
		struct dept_row dr;
		int ok = store_dept_get(ctx->store, dept, &dr) == STORE_OK;
		buf_printf(&names, "%s%s", names.len ? "、" : "", ok ? dr.name : dept);
		if (ok)
			dept_row_free(&dr);
	}
	int rc = SCHED_HOOK_SAID; /* everyone has posted: nothing to say */
	if (json_array_size(ids)) {
		json_t *people = people_of(ctx, ids);
		free(d->people);
		d->people = json_dumps(people, JSON_COMPACT);
		json_decref(people);
		free(d->subject);
		d->subject = xasprintf("需求 %s · 今日进度未提交：%s", r->id, (char *)names.data);
		rc = SCHED_HOOK_PING;
	}
	buf_free(&names);
	json_decref(ids);
	json_decref(owners);
	json_decref(updates);
	return rc;
}

/* The cut-off: decide each department's day, ping the late, post the digest,
 * set the next working day. */
static int cut_off(struct cmd_ctx *ctx, struct deadline_row *d, const struct request_row *r, const char *day)
{
	json_t *owners = progress_owners(ctx->store, r->id), *updates = progress_updates_of_day(ctx->store, r->id, day);
	if (!owners || !updates) {
		json_decref(owners);
		json_decref(updates);
		return SCHED_HOOK_ERROR;
	}
	json_t *mentions = json_array(), *lines = json_array();
	size_t i, k;
	json_t *o, *u;
	json_array_foreach(owners, i, o) {
		const char *dept = json_string_value(json_object_get(o, "dept"));
		const char *owner = json_string_value(json_object_get(o, "user_id"));
		int on_time = 0;
		json_array_foreach(updates, k, u)
			if (!strcmp(json_string_value(json_object_get(u, "dept")), dept))
				on_time |= json_integer_value(json_object_get(u, "submitted_at")) <= d->due_at;
		if (progress_day_decide(ctx->store, r->id, dept, day, on_time ? "on_time" : "missed", ctx->now) != STORE_OK)
			ctx->failed = 1;
		if (on_time)
			continue;
		struct dept_row dr;
		if (store_dept_get(ctx->store, dept, &dr) != STORE_OK)
			continue;
		int misses = progress_misses_in_a_row(ctx->store, r->id, dept);
		int escalate = misses >= ctx->env->progress_escalate_after;
		json_t *people = dir_people(ctx->store, &dr, day);
		const char *roles[] = { "head", "superior" };
		json_t *who = json_array();
		char *owner_name = dir_name(ctx->store, owner);
		json_array_append_new(who, json_pack("{s:s,s:s}", "id", owner, "name", owner_name));
		for (size_t x = 0; x < (escalate ? 2u : 1u); x++)
			json_array_extend(who, json_object_get(people, roles[x]));
		json_t *p;
		json_array_foreach(who, k, p) {
			int seen = 0;
			size_t y;
			json_t *m;
			json_array_foreach(mentions, y, m)
				seen |= json_equal(json_object_get(m, "id"), json_object_get(p, "id"));
			if (!seen)
				json_array_append(mentions, p);
		}
		char *line = misses > 1 ? xasprintf("%s（进度负责人 %s）：未按时提交，已连续 %d 个工作日", dr.name, owner_name, misses)
					: xasprintf("%s（进度负责人 %s）：未按时提交", dr.name, owner_name);
		if (escalate) {
			char *more = xasprintf("%s，已上报上级", line);
			free(line);
			line = more;
		}
		json_array_append_new(lines, json_string(line));
		free(line);
		json_t *detail = json_pack("{s:s,s:s,s:i}", "dept", dept, "day", day, "consecutive", misses);
		char *dt = json_dumps(detail, JSON_COMPACT);
		if (store_timeline_add(ctx->store, ctx->now, "collabd", "progress.missed", r->id, dt) != STORE_OK ||
		    (escalate && store_timeline_add(ctx->store, ctx->now, "collabd", "progress.escalated", r->id, dt) != STORE_OK))
			ctx->failed = 1;
		free(dt);
		json_decref(detail);
		free(owner_name);
		json_decref(who);
		json_decref(people);
		dept_row_free(&dr);
	}
	if (json_array_size(lines)) {
		char *title = xasprintf("⏰ 进度逾期 · 需求 %s · %s", r->id, day);
		char lead[160];
		snprintf(lead, sizeof lead, "以下部门未在 %02d:%02d 前提交今日进度，请尽快补交（/进度 %s）：",
			 ctx->env->progress_cutoff_min / 60, ctx->env->progress_cutoff_min % 60, r->id);
		json_t *body = json_pack("{s:s,s:s,s:O,s:s,s:[{s:O}]}", "title", title, "color", "red", "mentions", mentions,
					 "lead", lead, "sections", "lines", lines);
		cmd_notice_about(ctx, "card", body, r->chat_id, NULL, 0);
		json_decref(body);
		free(title);
	}
	json_t *digest = progress_digest_card(ctx, r->id, day, 1);
	if (digest)
		cmd_notice_about(ctx, "card", digest, r->chat_id, NULL, 0);
	else
		ctx->failed = 1;
	json_decref(digest);
	char next_day[11];
	ms_t next = next_cutoff(ctx, d->due_at + 1, 0, next_day);
	/* After a long downtime, skip the days already over: nobody could post. */
	while (next > 0 && next < ctx->now)
		next = next_cutoff(ctx, next + 1, 0, next_day);
	if (next > 0)
		schedule_day(ctx, r, next, next_day);
	json_decref(mentions);
	json_decref(lines);
	json_decref(owners);
	json_decref(updates);
	return sched_deadline_done(ctx->sched, d->key, "met") == STORE_OK ? SCHED_HOOK_DONE : SCHED_HOOK_ERROR;
}

static int on_daily_deadline(struct cmd_ctx *ctx, struct deadline_row *d, int step, int late)
{
	(void)late;
	char *id, *day;
	if (parse_key(d->key, &id, &day))
		return SCHED_HOOK_PING; /* not a request's day: an ordinary deadline */
	struct request_row r;
	enum store_rc src = store_request_get(ctx->store, id, &r);
	int rc;
	if (src != STORE_OK) {
		rc = src == STORE_NOTFOUND ? SCHED_HOOK_DONE : SCHED_HOOK_ERROR;
	} else if (strcmp(r.state, "in_progress")) {
		/* Completed or withdrawn meanwhile: no more days. */
		rc = sched_deadline_done(ctx->sched, d->key, "cancelled") == STORE_OK ? SCHED_HOOK_DONE : SCHED_HOOK_ERROR;
	} else {
		rc = step == 0 ? remind(ctx, d, &r, day) : cut_off(ctx, d, &r, day);
	}
	if (src == STORE_OK)
		request_row_free(&r);
	free(id);
	free(day);
	return rc;
}

const struct bot_hook hook_daily_progress = { .policy = "daily_progress", .run = on_daily_deadline };
