/*
 * progress_day.c - step 3's working days: one deadline per request and day
 * ("req:<ID>:progress:<YYYY-MM-DD>", policy daily_progress) whose hook
 *
 *   at the reminder (16:00)  pings, in the chat's coalesced ping, only the
 *                            owners who have not posted yet;
 *   at the cut-off (17:00)   decides each department's day (on_time / missed),
 *                            @-mentions the late owners and heads (and the
 *                            superior after repeated misses), posts the digest
 *                            and sets the next working day;
 *   late, after an outage    also decides every later working day whose cut-off
 *                            passed meanwhile and posts one 补发 card listing
 *                            them (counted like any other day).
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
/* An outage longer than this many working days is caught up only this far
 * (one card must stay readable); the days beyond stay undecided. */
#define CATCH_UP_MAX_DAYS 60
/* A cut-off decided more than a minute after its time is a catch-up (the
 * scheduler's own measure of a late ping). */
#define CUT_OFF_LATE_MS 60000

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

/* Adds the people in who to mentions, each once. */
static void mention_all(json_t *mentions, json_t *who)
{
	size_t k, y;
	json_t *p, *m;
	json_array_foreach(who, k, p) {
		int seen = 0;
		json_array_foreach(mentions, y, m)
			seen |= json_equal(json_object_get(m, "id"), json_object_get(p, "id"));
		if (!seen)
			json_array_append(mentions, p);
	}
}

/*
 * Decides each department's day (cut-off at due): on time, or missed.  For
 * each department that missed it appends a line to late_lines and its owner
 * and head (and superior after repeated misses) to mentions; every verdict
 * goes to all_lines when given (the catch-up lists them all).  0, or -1 on
 * a store error.
 */
static int decide_day(struct cmd_ctx *ctx, const struct request_row *r, const char *day, ms_t due, json_t *mentions,
		      json_t *late_lines, json_t *all_lines)
{
	json_t *owners = progress_owners(ctx->store, r->id), *updates = progress_updates_of_day(ctx->store, r->id, day);
	if (!owners || !updates) {
		json_decref(owners);
		json_decref(updates);
		return -1;
	}
	size_t i, k;
	json_t *o, *u;
	json_array_foreach(owners, i, o) {
		const char *dept = json_string_value(json_object_get(o, "dept"));
		const char *owner = json_string_value(json_object_get(o, "user_id"));
		int on_time = 0, posted = 0;
		json_array_foreach(updates, k, u)
			if (!strcmp(json_string_value(json_object_get(u, "dept")), dept)) {
				posted = 1;
				on_time |= json_integer_value(json_object_get(u, "submitted_at")) <= due;
			}
		if (progress_day_decide(ctx->store, r->id, dept, day, on_time ? "on_time" : "missed", ctx->now) != STORE_OK ||
		    (!on_time && posted && progress_day_late(ctx->store, r->id, dept, day) != STORE_OK))
			ctx->failed = 1;
		struct dept_row dr;
		if (store_dept_get(ctx->store, dept, &dr) != STORE_OK)
			continue;
		char *owner_name = dir_name(ctx->store, owner);
		if (on_time) {
			if (all_lines)
				json_array_append_new(all_lines, json_sprintf("%s（%s）：✅ 按时提交", dr.name, owner_name));
			free(owner_name);
			dept_row_free(&dr);
			continue;
		}
		int misses = progress_misses_in_a_row(ctx->store, r->id, dept);
		int escalate = misses >= ctx->env->progress_escalate_after;
		json_t *people = dir_people(ctx->store, &dr, day);
		const char *roles[] = { "head", "superior" };
		json_t *who = json_array();
		json_array_append_new(who, json_pack("{s:s,s:s}", "id", owner, "name", owner_name));
		for (size_t x = 0; x < (escalate ? 2u : 1u); x++)
			json_array_extend(who, json_object_get(people, roles[x]));
		mention_all(mentions, who);
		const char *what = posted ? "迟交" : "未按时提交";
		char *line = misses > 1 ? xasprintf("%s（进度负责人 %s）：%s，已连续 %d 个工作日", dr.name, owner_name, what, misses)
					: xasprintf("%s（进度负责人 %s）：%s", dr.name, owner_name, what);
		if (escalate) {
			char *more = xasprintf("%s，已上报上级", line);
			free(line);
			line = more;
		}
		json_array_append_new(late_lines, json_string(line));
		if (all_lines)
			json_array_append_new(all_lines, json_sprintf("❗ %s", line));
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
	json_decref(owners);
	json_decref(updates);
	return 0;
}

/* "2026-12-08（周二）" for day; caller frees. */
static char *day_label(const char *day)
{
	static const char *const names[] = { "周日", "周一", "周二", "周三", "周四", "周五", "周六" };
	int y, m, d;
	if (calendar_parse_date(day, &y, &m, &d))
		return xstrdup(day);
	/* Zeller-free: the weekday of a civil date (Sakamoto's method). */
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
	int yy = m < 3 ? y - 1 : y;
	int w = (yy + yy / 4 - yy / 100 + yy / 400 + t[m - 1] + d) % 7;
	return xasprintf("%s（%s）", day, names[w]);
}

/*
 * After an outage (the cut-off fires late): decide the day and every working
 * day whose cut-off passed while the daemon was down, one verdict per day and
 * department, counted like any other (towards the superior's escalation and
 * the retrospective's figures), and post one catch-up card, marked 补发,
 * that lists the days.  Returns the last day decided in last.
 */
static void catch_up(struct cmd_ctx *ctx, const struct request_row *r, const char *day, ms_t due, char last[11])
{
	json_t *mentions = json_array(), *sections = json_array();
	char first[11];
	snprintf(first, sizeof first, "%s", day);
	snprintf(last, 11, "%s", day);
	int days = 0, missed = 0;
	for (ms_t cut = due; cut > 0 && cut <= ctx->now;) {
		json_t *late_lines = json_array(), *all_lines = json_array();
		if (decide_day(ctx, r, last, cut, mentions, late_lines, all_lines))
			ctx->failed = 1;
		days++;
		missed += (int)json_array_size(late_lines);
		char *heading = day_label(last);
		json_array_append_new(sections, json_pack("{s:s,s:o}", "heading", heading, "lines", all_lines));
		free(heading);
		json_decref(late_lines);
		char next[11];
		cut = next_cutoff(ctx, cut + 1, 0, next);
		if (cut <= 0 || cut > ctx->now || days >= CATCH_UP_MAX_DAYS)
			break;
		memcpy(last, next, 11);
	}
	int h = ctx->env->progress_cutoff_min / 60, m = ctx->env->progress_cutoff_min % 60;
	char *span = strcmp(first, last) ? xasprintf("%s 至 %s", first, last) : xstrdup(first);
	char *title = xasprintf("⏰ 补发 · 进度判定 · 需求 %s · %s", r->id, span);
	char *lead = xasprintf("补发：系统停机，%s 共 %d 个工作日 %02d:%02d 的进度判定未能按时发出，现逐日补判如下。"
			       "停机期间的工作日照常判定：未提交计为缺失，计入连续未提交次数（连续 %d 个工作日上报上级）"
			       "和复盘统计。未提交的部门请用 /进度 %s 提交今天的进度。",
			       span, days, h, m,
			       ctx->env->progress_escalate_after, r->id);
	json_t *body = json_pack("{s:s,s:s,s:O,s:s,s:O}", "title", title, "color", missed ? "red" : "green", "mentions",
				 mentions, "lead", lead, "sections", sections);
	cmd_card_link(ctx, body, r->id);
	cmd_notice_about(ctx, "card", body, r->chat_id, NULL, 0);
	json_t *detail = json_pack("{s:s,s:s,s:i}", "from", first, "to", last, "missed", missed);
	char *dt = json_dumps(detail, JSON_COMPACT);
	if (store_timeline_add(ctx->store, ctx->now, "collabd", "progress.catch_up", r->id, dt) != STORE_OK)
		ctx->failed = 1;
	free(dt);
	json_decref(detail);
	json_decref(body);
	free(lead);
	free(title);
	free(span);
	json_decref(sections);
	json_decref(mentions);
}

/* The cut-off: decide each department's day, ping the late, post the digest,
 * set the next working day.  Late (after an outage): catch up every missed
 * working day instead. */
static int cut_off(struct cmd_ctx *ctx, struct deadline_row *d, const struct request_row *r, const char *day, int late)
{
	char last[11];
	snprintf(last, sizeof last, "%s", day);
	if (late) {
		catch_up(ctx, r, day, d->due_at, last);
	} else {
		json_t *mentions = json_array(), *lines = json_array();
		if (decide_day(ctx, r, day, d->due_at, mentions, lines, NULL))
			ctx->failed = 1;
		if (json_array_size(lines)) {
			char *title = xasprintf("⏰ 进度逾期 · 需求 %s · %s", r->id, day);
			char lead[160];
			snprintf(lead, sizeof lead, "以下部门未在 %02d:%02d 前提交今日进度，请尽快补交（/进度 %s）：",
				 ctx->env->progress_cutoff_min / 60, ctx->env->progress_cutoff_min % 60, r->id);
			json_t *body = json_pack("{s:s,s:s,s:O,s:s,s:[{s:O}]}", "title", title, "color", "red", "mentions",
						 mentions, "lead", lead, "sections", "lines", lines);
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
		json_decref(mentions);
		json_decref(lines);
	}
	char next_day[11];
	ms_t next = next_cutoff(ctx, progress_cutoff(ctx->env->progress_cutoff_min, last) + 1, 0, next_day);
	/* A cut-off already over could only be one the catch-up has decided. */
	while (next > 0 && next <= ctx->now)
		next = next_cutoff(ctx, next + 1, 0, next_day);
	if (next > 0)
		schedule_day(ctx, r, next, next_day);
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
		/* A catch-up when the cut-off itself is behind (an outage, a held
		 * timer), not merely because a skipped reminder made the ping late. */
		rc = step == 0 ? remind(ctx, d, &r, day) : cut_off(ctx, d, &r, day, ctx->now - d->due_at > CUT_OFF_LATE_MS);
	}
	if (src == STORE_OK)
		request_row_free(&r);
	free(id);
	free(day);
	return rc;
}

const struct bot_hook hook_daily_progress = { .policy = "daily_progress", .run = on_daily_deadline };
