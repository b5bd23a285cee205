/*
 * progress.c - step 3: 《跨部门协作进度同步表》, one update per department and
 * working day before the cut-off (17:00 by default).
 *
 *   /进度 [编号] [部门]                     the form (card) for that request
 *   /进度 编号 [部门] + 已完成：… 未完成原因：… 下一步：…      submit / amend today's update
 *   /进度 负责人 编号 [部门] @某人             the department head changes the owner
 *
 * Who may submit: the department's progress owner, its head, or their
 * deputies.  A second update the same day is a new revision (history kept);
 * one after the cut-off is accepted and marked late.  The days themselves
 * (reminder, cut-off, digest) are progress_day.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/progress.h"
#include "collabd/request.h"
#include "collabd/sched.h"


/* ---- who is who ---- */

/* 1 when user may speak for dept's progress today: owner, head, or a deputy of either. */
static int may_report(struct cmd_ctx *ctx, const char *user, const char *owner, const struct dept_row *d)
{
	char today[11];
	cmd_today(ctx, today);
	return (owner && dir_stands_for(ctx->store, user, owner, today)) || dir_stands_for(ctx->store, user, d->head, today);
}

/* "技术部（张三）、市场部（李四）": who may submit, for refusals; caller frees. */
static char *owners_text(struct cmd_ctx *ctx, json_t *owners)
{
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *o;
	json_array_foreach(owners, i, o) {
		struct dept_row d;
		const char *code = json_string_value(json_object_get(o, "dept"));
		int ok = store_dept_get(ctx->store, code, &d) == STORE_OK;
		char *name = dir_name(ctx->store, json_string_value(json_object_get(o, "user_id")));
		buf_printf(&b, "%s%s（%s）", i ? "、" : "", ok ? d.name : code, name);
		free(name);
		if (ok)
			dept_row_free(&d);
	}
	return buf_steal(&b);
}

/*
 * The department user reports for in request r: the one named (code or
 * name), else the only one they may report for.  Returns the code (caller
 * frees), or NULL after replying why.
 */
static char *reporting_dept(struct cmd_ctx *ctx, const struct request_row *r, const char *named)
{
	json_t *owners = progress_owners(ctx->store, r->id);
	if (!owners) {
		ctx->failed = 1;
		return NULL;
	}
	char *found = NULL;
	int count = 0;
	size_t i;
	json_t *o;
	json_array_foreach(owners, i, o) {
		const char *code = json_string_value(json_object_get(o, "dept"));
		struct dept_row d;
		if (store_dept_get(ctx->store, code, &d) != STORE_OK)
			continue;
		if ((!named || !strcmp(named, d.code) || !strcmp(named, d.name)) &&
		    may_report(ctx, ctx->ev->user_id, json_string_value(json_object_get(o, "user_id")), &d)) {
			if (!found)
				found = xstrdup(d.code);
			count++;
		}
		dept_row_free(&d);
	}
	if (!found) {
		char *who = owners_text(ctx, owners);
		char *msg = xasprintf("只有各执行部门的进度负责人、部门负责人或其代理人可以提交需求 %s 的进度：%s。", r->id, who);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(who);
	} else if (count > 1) {
		char *msg = xasprintf("你可以为需求 %s 的多个部门提交进度，请在编号后写部门，例如：/进度 %s 技术部", r->id, r->id);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(found);
		found = NULL;
	}
	json_decref(owners);
	return found;
}

/* ---- the form ---- */

static void reply_form(struct cmd_ctx *ctx, const struct request_row *r)
{
	json_t *form = json_loads(r->form, 0, NULL);
	char *title = xasprintf("📝 进度同步 · 需求 %s", r->id);
	char lead[200];
	int h = ctx->env->progress_cutoff_min / 60, m = ctx->env->progress_cutoff_min % 60;
	snprintf(lead, sizeof lead, "《跨部门协作进度同步表》：每个工作日 %02d:%02d 前提交；同一天再次提交会修改当天的进度（历史保留）。", h, m);
	json_t *body = json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:o}", "title", title, "color", "blue", "lead", lead,
				 "fields", "label", "需求名称", "value",
				 json_string_value(json_object_get(form, "需求名称")) ?
					 json_string_value(json_object_get(form, "需求名称")) : "",
				 "form", progress_form(r->id));
	cmd_notice(ctx, "card", body, NULL);
	json_decref(body);
	free(title);
	json_decref(form);
}

/* ---- submitting ---- */

/* Validates and records one update.  values: the collected form. */
static enum cmd_rc submit(struct cmd_ctx *ctx, const struct request_row *r, const char *named_dept, json_t *values,
			  json_t *problems)
{
	struct progress_text text;
	progress_check(values, &text, problems);
	if (strcmp(r->state, "in_progress")) {
		char *msg = xasprintf("需求 %s %s，不在执行阶段，无需提交进度。", r->id, req_state_label(r->state));
		cmd_reply_text(ctx, msg);
		free(msg);
		return CMD_EPERM;
	}
	char *dept = reporting_dept(ctx, r, named_dept);
	if (!dept)
		return ctx->failed ? CMD_EINTERNAL : CMD_EPERM;
	if (json_array_size(problems)) {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "进度未提交，请修改后重新提交（共 %zu 处问题）：", json_array_size(problems));
		cmd_list_problems(&b, problems);
		cmd_reply_text(ctx, (const char *)b.data);
		buf_free(&b);
		free(dept);
		return CMD_OK;
	}
	char today[11];
	progress_day_of(ctx->now, today);
	int workday = progress_is_workday(sched_calendar(ctx->sched), ctx->now);
	int late = workday && ctx->now >= progress_cutoff(ctx->env->progress_cutoff_min, today);
	int revision = 0;
	if (progress_update_add(ctx->store, r->id, dept, today, ctx->ev->user_id, text.done, text.undone, text.next, late,
				ctx->now, &revision) != STORE_OK ||
	    (late && progress_day_late(ctx->store, r->id, dept, today) != STORE_OK)) {
		free(dept);
		ctx->failed = 1;
		return CMD_EINTERNAL;
	}
	json_t *detail = json_pack("{s:s,s:s,s:b,s:i}", "dept", dept, "day", today, "late", late, "revision", revision);
	char *dt = json_dumps(detail, JSON_COMPACT);
	if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, "progress.updated", r->id, dt) != STORE_OK)
		ctx->failed = 1;
	free(dt);
	json_decref(detail);
	struct dept_row d;
	int ok = store_dept_get(ctx->store, dept, &d) == STORE_OK;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "已记录 %s %s 对需求 %s 的进度", today, ok ? d.name : dept, r->id);
	if (revision > 1)
		buf_printf(&b, "（当天第 %d 次提交，已更新，之前的版本保留）", revision);
	if (late)
		buf_printf(&b, "。已过 %02d:%02d 截止时间，记为逾期提交", ctx->env->progress_cutoff_min / 60,
			   ctx->env->progress_cutoff_min % 60);
	if (!workday)
		buf_append_str(&b, "。今天不是工作日，无需提交，已一并记录");
	buf_append_str(&b, "。");
	if (ctx->ev->kind == EVENT_CARD_ACTION) {
		/* the form stays: other departments, and tomorrow, use the same card */
		char *label = xasprintf("%s 已提交 %s 的进度%s", ok ? d.name : dept, today, late ? "（逾期）" : "");
		cmd_outcome(ctx, label, NULL, 1);
		free(label);
		cmd_toast(ctx, late ? "warning" : "success", (const char *)b.data);
	} else
		cmd_reply_text(ctx, (const char *)b.data);
	buf_free(&b);
	if (ok)
		dept_row_free(&d);
	free(dept);
	return CMD_OK;
}

/* ---- /进度 负责人 ---- */

static enum cmd_rc set_owner(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	if (args->nwords < 3)
		return CMD_EUSAGE;
	struct request_row r;
	enum cmd_rc rc = cmd_load_request(ctx, args->words[1], &r);
	if (rc != CMD_OK)
		return rc;
	const char *who = args->words[args->nwords - 1], *named = args->nwords > 3 ? args->words[2] : NULL;
	const char *uid = NULL, *uname = NULL;
	char *known = NULL;
	char *found = NULL;
	if (cmd_mention(ctx, who, &uid, &uname)) {
		/* Without a mention we can match (DingTalk): an id or a directory name. */
		found = dir_person(ctx->store, who);
		known = found ? store_user_name(ctx->store, found) : NULL;
		uid = found;
		uname = known;
	}
	char today[11];
	cmd_today(ctx, today);
	json_t *owners = progress_owners(ctx->store, r.id);
	char *dept = NULL;
	struct buf heads;
	buf_init(&heads);
	size_t i;
	json_t *o;
	json_array_foreach(owners, i, o) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(json_object_get(o, "dept")), &d) != STORE_OK)
			continue;
		char *head = dir_name(ctx->store, d.head);
		buf_printf(&heads, "%s%s（%s）", heads.len ? "、" : "", d.name, head);
		free(head);
		if (!dept && (!named || !strcmp(named, d.code) || !strcmp(named, d.name)) &&
		    (dir_stands_for(ctx->store, ctx->ev->user_id, d.head, today) || cmd_is_admin(ctx)))
			dept = xstrdup(d.code);
		dept_row_free(&d);
	}
	if (!uid) {
		char *safe = cmd_echo(who);
		char *msg = xasprintf("请 @ 新的进度负责人（“%s”不是本条消息里 @ 的人，也不在部门目录中）。用法：/进度 负责人 %s [部门] @某人", safe, r.id);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(safe);
		rc = CMD_OK;
	} else if (!dept) {
		char *msg = strcmp(r.state, "in_progress")
				    ? xasprintf("需求 %s %s，不在执行阶段。", r.id, req_state_label(r.state))
				    : xasprintf("只有执行部门的负责人（或代理人）可以更换本部门的进度负责人：%s。", (char *)heads.data);
		cmd_reply_text(ctx, msg);
		free(msg);
		rc = CMD_EPERM;
	} else if (progress_owner_set(ctx->store, r.id, dept, uid, ctx->ev->user_id, ctx->now) != STORE_OK) {
		rc = CMD_EINTERNAL;
	} else {
		json_t *detail = json_pack("{s:s,s:s}", "dept", dept, "owner", uid);
		char *dt = json_dumps(detail, JSON_COMPACT);
		if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, "progress.owner_set", r.id, dt) != STORE_OK)
			ctx->failed = 1;
		free(dt);
		json_decref(detail);
		json_t *codes = json_pack("[s]", dept);
		char *dept_name = dir_dept_names(ctx->store, codes);
		json_decref(codes);
		char *msg = xasprintf("需求 %s 的%s进度负责人已改为 %s，请每个工作日按时提交进度。", r.id, dept_name,
				      uname ? uname : uid);
		free(dept_name);
		json_t *body = json_pack("{s:s,s:[{s:s,s:s}]}", "text", msg, "mentions", "id", uid, "name", uname ? uname : uid);
		cmd_notice(ctx, "text", body, NULL);
		json_decref(body);
		free(msg);
	}
	buf_free(&heads);
	free(dept);
	free(known);
	free(found);
	json_decref(owners);
	request_row_free(&r);
	return rc;
}

/* ---- /进度 ---- */

/* The in-progress requests user may report for: [{id}]. */
static json_t *my_requests(struct cmd_ctx *ctx)
{
	json_t *mine = json_array();
	struct request_row *rows;
	size_t n;
	if (store_request_recent(ctx->store, 200, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	char today[11];
	cmd_today(ctx, today);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].state, "in_progress"))
			continue;
		json_t *owners = progress_owners(ctx->store, rows[i].id);
		size_t k;
		json_t *o;
		int may = 0;
		json_array_foreach(owners, k, o) {
			struct dept_row d;
			if (store_dept_get(ctx->store, json_string_value(json_object_get(o, "dept")), &d) != STORE_OK)
				continue;
			may |= may_report(ctx, ctx->ev->user_id, json_string_value(json_object_get(o, "user_id")), &d);
			dept_row_free(&d);
		}
		if (may)
			json_array_append_new(mine, json_string(rows[i].id));
		json_decref(owners);
	}
	for (size_t i = 0; i < n; i++)
		request_row_free(&rows[i]);
	free(rows);
	return mine;
}

static enum cmd_rc run_progress(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	if (!args->nwords) {
		json_t *mine = my_requests(ctx);
		enum cmd_rc rc = CMD_OK;
		if (json_array_size(mine) == 1) {
			struct request_row r;
			rc = cmd_load_request(ctx, json_string_value(json_array_get(mine, 0)), &r);
			if (rc == CMD_OK) {
				reply_form(ctx, &r);
				request_row_free(&r);
			}
		} else if (!json_array_size(mine)) {
			cmd_reply_text(ctx, "你目前没有需要提交进度的执行中需求。用法：/进度 编号，换行写 已完成任务：… 未完成原因：… 下一步计划：…");
		} else {
			struct buf b;
			buf_init(&b);
			buf_append_str(&b, "你负责多个执行中需求的进度，请写明编号：");
			size_t i;
			json_t *id;
			json_array_foreach(mine, i, id)
				buf_printf(&b, "\n/进度 %s", json_string_value(id));
			cmd_reply_text(ctx, (const char *)b.data);
			buf_free(&b);
		}
		json_decref(mine);
		return rc;
	}
	struct request_row r;
	enum cmd_rc rc = cmd_load_request(ctx, args->words[0], &r);
	if (rc != CMD_OK)
		return rc;
	const char *named = args->nwords > 1 ? args->words[1] : NULL;
	if (!args->nfields && !args->nlines) {
		if ((rc = cmd_may_see(ctx, &r, "查看")) != CMD_OK) {
			request_row_free(&r);
			return rc;
		}
		if (strcmp(r.state, "in_progress")) {
			char *msg = xasprintf("需求 %s %s，不在执行阶段，无需提交进度。", r.id, req_state_label(r.state));
			cmd_reply_text(ctx, msg);
			free(msg);
		} else {
			reply_form(ctx, &r);
		}
		request_row_free(&r);
		return CMD_OK;
	}
	json_t *problems = json_array();
	for (size_t i = 0; i < args->nlines; i++) {
		char *safe = cmd_echo(args->lines[i]);
		json_array_append_new(problems, json_sprintf("看不懂这一行：“%s”（每行写一项“字段：内容”）。", safe));
		free(safe);
	}
	json_t *values = form_collect(&progress_update_form, args, NULL, problems);
	rc = submit(ctx, &r, named, values, problems);
	json_decref(values);
	json_decref(problems);
	request_row_free(&r);
	return rc;
}

static const struct bot_subcommand progress_subs[] = {
	{ "负责人", "owner", 2, 3, 0, "/进度 负责人 编号 [部门] @某人", set_owner },
	{ 0 },
};

const struct bot_command cmd_progress = {
	.name = "进度",
	.alias = "progress",
	.usage = "/进度 [编号] [部门]，换行写 已完成任务：… 未完成原因：… 下一步计划：…；/进度 负责人 编号 [部门] @某人",
	.summary = "提交或修改今天的进度（每个工作日截止前），更换进度负责人",
	.run = run_progress,
	.subs = progress_subs,
};

static enum cmd_rc action_submit(struct cmd_ctx *ctx, json_t *value)
{
	const char *id = json_string_value(json_object_get(value, "id"));
	if (!id)
		return CMD_EUSAGE;
	struct request_row r;
	enum cmd_rc rc = cmd_load_request(ctx, id, &r);
	if (rc != CMD_OK)
		return rc;
	json_t *problems = json_array();
	if (!ctx->ev->form_value)
		json_array_append_new(problems, json_string("表单是空的。"));
	json_t *values = form_collect(&progress_update_form, NULL, ctx->ev->form_value, problems);
	rc = submit(ctx, &r, NULL, values, problems);
	json_decref(values);
	json_decref(problems);
	request_row_free(&r);
	return rc;
}

const struct bot_action action_progress_submit = { .name = "progress.submit", .run = action_submit };
