/*
 * issue.c - /问题 (/issue): report an issue with 《跨部门协作问题反馈表》,
 * list and view issues, and route the later steps (issue_steps.c).
 *
 *   /问题                         the form (a card with inputs on Feishu, the lines to copy on DingTalk)
 *   /问题 + "字段：内容" lines      report (every problem listed at once; nothing stored until valid)
 *   /问题 响应|方案|解决|重开 ID …   the steps after it
 *   /问题 列表 [需求编号] | 查看 ID
 *
 * Reporting raises the alert (问题预警) in the request's group and starts the
 * response deadline (2 business hours, 30 minutes for 紧急).  A non-urgent
 * issue reported outside working hours is alerted at their next start, like
 * every non-urgent ping; a 紧急 one at once.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/access.h"
#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/issue.h"
#include "collabd/render.h"
#include "collabd/sched.h"
#include "collabd/store.h"

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static ms_t num(json_t *o, const char *k) { return (ms_t)json_integer_value(json_object_get(o, k)); }

static char *when(ms_t t)
{
	char buf[32];
	render_local_time(t, 0, buf, sizeof buf);
	return xstrdup(buf);
}

/* Holds a non-urgent alert until working hours start (policy issue_alert:
 * business clock, due now, so its one step fires at the next start). */
static ms_t hold_alert(struct cmd_ctx *ctx, json_t *issue)
{
	char *key = issue_deadline_key(issue, "alert");
	char *subject = xasprintf("问题预警 %s", str(issue, "id"));
	json_t *people = json_object();
	struct sched_deadline dl = { .key = key, .policy = "issue_alert", .platform = str(issue, "platform"),
				     .chat_id = str(issue, "chat_id"), .subject = subject, .people = people,
				     .start = ctx->now, .due = ctx->now };
	if (sched_deadline_set(ctx->sched, &dl, NULL) != STORE_OK)
		ctx->failed = 1;
	json_decref(people);
	free(subject);
	free(key);
	return calendar_next_work_start(sched_calendar(ctx->sched), ctx->now);
}

/* 1 when the sender may report against r (access.h); otherwise tells them
 * who may and changes nothing. */
static int may_report(struct cmd_ctx *ctx, const struct request_row *r)
{
	char today[11];
	struct access_asker a;
	cmd_asker(ctx, &a, today);
	if (access_may_report(ctx->store, r, &a))
		return 1;
	char *msg = xasprintf("你不能对需求 %s 反馈问题：仅该需求相关部门的负责人、接口人、上级（及其代理人）、发起人，"
			      "或在该需求的群里可以反馈。", r->id);
	if (ctx->ev->kind == EVENT_CARD_ACTION)
		cmd_toast(ctx, "error", msg);
	else
		cmd_reply_text(ctx, msg);
	free(msg);
	return 0;
}

/* Validates and stores a report (form owned by the caller); returns the new
 * issue's id (caller frees) or NULL. */
static char *submit(struct cmd_ctx *ctx, json_t *form, json_t *problems)
{
	issue_resolve_mentions(ctx, &issue_report_form, form);
	struct issue_check c = { .now = ctx->now };
	issue_form_check(ctx->store, &issue_report_form, form, &c, problems);
	if (json_array_size(problems)) {
		issue_reply_problems(ctx, &issue_report_form, problems);
		return NULL;
	}
	struct request_row r;
	if (store_request_get(ctx->store, str(form, "关联需求"), &r) != STORE_OK) {
		ctx->failed = 1;
		return NULL;
	}
	if (!may_report(ctx, &r)) {
		request_row_free(&r);
		return NULL;
	}
	const struct calendar *cal = ctx->sched ? sched_calendar(ctx->sched) : NULL;
	const char *severity = str(form, "严重程度");
	ms_t occurred = num(form, "发生时间");
	int late = issue_report_late(cal, severity, occurred, ctx->now);
	char *id = issue_next_id(ctx->store, r.id);
	json_t *row = json_pack("{s:s?,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:O?,s:s?,s:s,s:b,s:I}", "id", id,
				"request_id", r.id, "reporter", ctx->ev->user_id, "platform", r.platform, "chat_id",
				r.chat_id, "type", str(form, "问题类型"), "severity", severity, "scope",
				str(form, "影响范围"), "description", str(form, "问题描述"), "occurred_at",
				(json_int_t)occurred, "expected_at", json_object_get(form, "预计解决时间"), "named_user",
				str(form, "通知人"), "state", "reported", "report_late", late, "created_at",
				(json_int_t)ctx->now);
	json_t *issue = NULL;
	int ok = id && row && store_issue_add(ctx->store, row) == STORE_OK;
	size_t i;
	json_t *code;
	json_array_foreach(ok ? json_object_get(form, "接收部门") : NULL, i, code)
		ok &= store_issue_dept_add(ctx->store, id, json_string_value(code)) == STORE_OK;
	if (!ok || store_issue_get(ctx->store, id, &issue) != STORE_OK) {
		ctx->failed = 1;
		free(id);
		json_decref(row);
		request_row_free(&r);
		return NULL;
	}
	issue_response_deadline(ctx, issue);
	int held = strcmp(severity, "紧急") && cal && !calendar_in_working_hours(cal, ctx->now);
	ms_t alert_at = held ? hold_alert(ctx, issue) : ctx->now;
	if (!held)
		issue_alert(ctx, issue);
	issue_timeline_add_new(ctx, "issue.reported", issue,
			       json_pack("{s:s,s:s,s:O,s:I,s:b,s:b,s:I}", "severity", severity, "type", str(form, "问题类型"),
				 "depts", json_object_get(form, "接收部门"), "occurred_at", (json_int_t)occurred,
				 "report_late", late, "alert_held", held, "response_due",
				 (json_int_t)num(issue, "response_due")));

	struct buf b;
	buf_init(&b);
	char *due = when(num(issue, "response_due"));
	buf_printf(&b, "已提交问题 %s（%s · %s），关联需求 %s。", id, severity, str(form, "问题类型"), r.id);
	if (held) {
		char *t = when(alert_at);
		buf_printf(&b, "\n现在是非工作时间，问题预警将于 %s 发出（紧急问题会立即发出）；接收部门须在 %s 前响应。", t, due);
		free(t);
	} else {
		buf_printf(&b, "\n已发出问题预警，接收部门须在 %s 前响应。", due);
	}
	if (late) {
		char *t = when(occurred);
		buf_printf(&b, "\n注意：问题发生于 %s，超过 1 小时才反馈，已记录为迟报。", t);
		free(t);
	}
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	free(due);
	json_decref(issue);
	json_decref(row);
	request_row_free(&r);
	return id;
}

/* No arguments: the form, with the requests and departments to choose from. */
static enum cmd_rc show_form(struct cmd_ctx *ctx)
{
	json_t *reqs = store_issue_open_requests(ctx->store, 50);
	if (!reqs) {
		ctx->failed = 1;
		return CMD_EINTERNAL;
	}
	if (!json_array_size(reqs)) {
		json_decref(reqs);
		cmd_reply_text(ctx, "现在没有待确认或执行中的需求，问题反馈须关联一个需求。");
		return CMD_OK;
	}
	json_t *req_opts = json_array(), *dept_opts = json_array();
	char today[11];
	struct access_asker asker;
	cmd_asker(ctx, &asker, today);
	size_t i;
	json_t *r;
	json_array_foreach(reqs, i, r) {
		struct request_row row;
		if (store_request_get(ctx->store, str(r, "id"), &row) != STORE_OK)
			continue;
		int mine = access_may_report(ctx->store, &row, &asker);
		request_row_free(&row);
		if (!mine)
			continue; /* a stranger is not told what others work on */
		char *label = xasprintf("%s %s", str(r, "id"), str(r, "name") ? str(r, "name") : "");
		json_array_append_new(req_opts, json_pack("{s:s,s:s}", "value", str(r, "id"), "label", label));
		free(label);
	}
	json_decref(reqs);
	if (!json_array_size(req_opts)) {
		json_decref(req_opts);
		json_decref(dept_opts);
		cmd_reply_text(ctx, "没有你可以反馈问题的需求：仅需求相关部门的人员、发起人，或在需求的群里可以反馈。");
		return CMD_OK;
	}
	struct dept_row *rows;
	size_t n;
	if (store_dept_list(ctx->store, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	for (size_t k = 0; k < n; k++) {
		json_array_append_new(dept_opts, json_pack("{s:s,s:s}", "value", rows[k].code, "label", rows[k].name));
		dept_row_free(&rows[k]);
	}
	free(rows);
	json_t *types = json_array(), *sevs = json_array();
	for (size_t k = 0; issue_types[k]; k++)
		json_array_append_new(types, json_pack("{s:s,s:s}", "value", issue_types[k], "label", issue_types[k]));
	for (size_t k = 0; issue_severities[k]; k++)
		json_array_append_new(sevs, json_pack("{s:s,s:s}", "value", issue_severities[k], "label", issue_severities[k]));
	json_t *inputs = json_pack(
		"[{s:s,s:s,s:s,s:b,s:o},{s:s,s:s,s:s,s:b,s:o},{s:s,s:s,s:s,s:b,s:o},{s:s,s:s,s:s,s:b,s:i},"
		"{s:s,s:s,s:s,s:b,s:b},{s:s,s:s,s:s,s:b},{s:s,s:s,s:s,s:b},{s:s,s:s,s:s,s:b,s:o},{s:s,s:s,s:s,s:b}]",
		"name", "request", "label", "关联需求", "kind", "select", "required", 1, "options", req_opts,
		"name", "type", "label", "问题类型", "kind", "select", "required", 1, "options", types,
		"name", "severity", "label", "严重程度", "kind", "select", "required", 1, "options", sevs,
		"name", "scope", "label", "影响范围", "kind", "text", "required", 1, "max", ISSUE_SCOPE_MAX,
		"name", "description", "label", "问题描述", "kind", "text", "required", 1, "multiline", 1,
		"name", "occurred", "label", "发生时间", "kind", "datetime", "required", 1,
		"name", "expected", "label", "预计解决时间", "kind", "datetime", "required", 0,
		"name", "departments", "label", "接收部门", "kind", "multi_select", "required", 1, "options", dept_opts,
		"name", "notify", "label", "通知人（可选）", "kind", "person", "required", 0);
	/* Example times from the clock: "now" passes 「发生时间」's not-in-the-future rule. */
	char occurred[32], expected[32];
	render_local_time(ctx->now / 60000 * 60000, 0, occurred, sizeof occurred);
	render_local_time(issue_example_due(ctx->sched ? sched_calendar(ctx->sched) : NULL, 0, ctx->now), 0, expected,
			  sizeof expected);
	char *command = xasprintf("/问题\n关联需求：需求编号\n问题类型：技术|资源|流程|其他\n严重程度：紧急|重要|一般\n"
				  "影响范围：…\n问题描述：…\n发生时间：%s\n预计解决时间：%s\n接收部门：部门名称或代码\n"
				  "通知人：@某人（可选）", occurred, expected);
	json_t *body = json_pack(
		"{s:s,s:s,s:s,s:{s:s,s:o,s:{s:s,s:{s:s}},s:s}}", "title", "跨部门协作问题反馈表", "color", "orange", "lead",
		"请在问题发生后 1 小时内提交。提交后会向接收部门负责人及上级主管发出问题预警；接收部门须在 2 小时内响应（紧急问题 30 分钟）。",
		"form", "name", "issue.submit", "inputs", inputs, "submit", "label", "提交问题", "value", "action",
		"issue.submit", "command", command);
	cmd_notice(ctx, "card", body, NULL);
	json_decref(body);
	free(command);
	return CMD_OK;
}

static enum cmd_rc report(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	json_t *problems = json_array();
	json_t *form = form_collect(&issue_report_form, a, NULL, problems);
	free(submit(ctx, form, problems));
	json_decref(form);
	json_decref(problems);
	return ctx->failed ? CMD_EINTERNAL : CMD_OK;
}

/* The form card's 提交 button. */
static enum cmd_rc action_submit(struct cmd_ctx *ctx, json_t *value)
{
	(void)value;
	json_t *problems = json_array();
	json_t *form = form_collect(&issue_report_form, NULL, ctx->ev->form_value, problems);
	char *id = submit(ctx, form, problems);
	char *msg = id ? xasprintf("已提交问题 %s，已发出问题预警", id) : xstrdup("表单有需要修改的地方，详见群消息");
	cmd_toast(ctx, id ? "success" : "error", msg);
	free(msg);
	free(id);
	json_decref(form);
	json_decref(problems);
	return ctx->failed ? CMD_EINTERNAL : CMD_OK;
}

/* ---- views ---- */

static const char *timeline_words(const char *kind)
{
	static const char *const words[][2] = {
		{ "issue.reported", "提交问题" }, { "issue.responded", "响应" }, { "issue.solution", "记录解决方案" },
		{ "issue.resolved", "填写解决结果并关闭" }, { "issue.reopened", "重新打开" },
		{ "sla.reminder", "到期提醒" }, { "sla.overdue", "逾期催办" }, { "sla.escalation", "升级上报" },
	};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (!strcmp(words[i][0], kind))
			return words[i][1];
	return kind;
}

static void line_person(struct cmd_ctx *ctx, struct buf *b, const char *label, const char *id)
{
	char *name = dir_name(ctx->store, id);
	buf_printf(b, "\n%s：%s", label, name);
	free(name);
}

static void line_time(struct buf *b, const char *label, json_t *issue, const char *key)
{
	if (!json_is_integer(json_object_get(issue, key)))
		return;
	char *t = when(num(issue, key));
	buf_printf(b, "\n%s：%s", label, t);
	free(t);
}

/* cmd_may_see() for request id (an issue's, or named in /问题 列表). */
static enum cmd_rc may_see_request(struct cmd_ctx *ctx, const char *id)
{
	struct request_row r;
	enum cmd_rc rc = cmd_load_request(ctx, id, &r);
	if (rc != CMD_OK)
		return rc;
	rc = cmd_may_see(ctx, &r, "查看");
	request_row_free(&r);
	return rc;
}

static enum cmd_rc view(struct cmd_ctx *ctx, const char *id)
{
	json_t *issue;
	enum store_rc rc = store_issue_get(ctx->store, id, &issue);
	if (rc == STORE_ERR) {
		ctx->failed = 1;
		return CMD_EINTERNAL;
	}
	if (rc == STORE_NOTFOUND) {
		char *echo = cmd_echo(id), *msg = xasprintf("没有问题 %s。发送 /问题 列表 查看与你相关的问题。", echo);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(echo);
		return CMD_ENOTFOUND;
	}
	enum cmd_rc may = may_see_request(ctx, str(issue, "request_id"));
	if (may != CMD_OK) {
		json_decref(issue);
		return may;
	}
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "问题 %s · %s\n关联需求：%s\n问题类型：%s\n严重程度：%s\n影响范围：%s\n问题描述：%s", str(issue, "id"),
		   issue_state_label(str(issue, "state")), str(issue, "request_id"), str(issue, "type"),
		   str(issue, "severity"), str(issue, "scope"), str(issue, "description"));
	line_time(&b, "发生时间", issue, "occurred_at");
	if (num(issue, "report_late"))
		buf_append_str(&b, "（超过 1 小时后才反馈）");
	line_time(&b, "预计解决时间", issue, "expected_at");
	buf_append_str(&b, "\n接收部门：");
	size_t i;
	json_t *code;
	json_array_foreach(json_object_get(issue, "depts"), i, code) {
		struct dept_row d;
		int ok = store_dept_get(ctx->store, json_string_value(code), &d) == STORE_OK;
		buf_printf(&b, "%s%s", i ? "、" : "", ok ? d.name : json_string_value(code));
		if (ok)
			dept_row_free(&d);
	}
	line_person(ctx, &b, "反馈人", str(issue, "reporter"));
	line_time(&b, "响应时限", issue, "response_due");
	if (str(issue, "owner")) {
		line_person(ctx, &b, "解决责任人", str(issue, "owner"));
		char *t = when(num(issue, "meeting_at"));
		buf_printf(&b, "\n协调会：%s · %s · %s", t, str(issue, "meeting_mode"), str(issue, "meeting_where"));
		free(t);
	}
	if (str(issue, "cause")) {
		buf_printf(&b, "\n问题原因：%s\n解决措施：%s", str(issue, "cause"), str(issue, "measures"));
		line_person(ctx, &b, "责任人", str(issue, "solution_owner"));
		line_time(&b, "完成时间", issue, "solution_due");
	}
	if (str(issue, "result"))
		buf_printf(&b, "\n解决结果：%s", str(issue, "result"));
	if (num(issue, "reopen_count"))
		buf_printf(&b, "\n重新打开 %lld 次，最近原因：%s", (long long)num(issue, "reopen_count"),
			   str(issue, "reopen_reason"));
	json_t *events = store_issue_timeline(ctx->store, str(issue, "request_id"), str(issue, "id"));
	json_t *e;
	if (json_array_size(events))
		buf_append_str(&b, "\n记录：");
	json_array_foreach(events, i, e) {
		char *t = when(num(e, "at")), *who = dir_name(ctx->store, str(e, "actor"));
		buf_printf(&b, "\n· %s %s %s", t, who, timeline_words(str(e, "kind")));
		free(who);
		free(t);
	}
	json_decref(events);
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	json_decref(issue);
	return CMD_OK;
}

/* Does the user head or answer for one of the issue's receiving departments? */
static int receives(struct cmd_ctx *ctx, json_t *issue, const char *today)
{
	int yes = 0;
	size_t i;
	json_t *code;
	json_array_foreach(json_object_get(issue, "depts"), i, code) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		yes |= dir_stands_for(ctx->store, ctx->ev->user_id, d.head, today);
		char **ids;
		size_t k;
		if (store_dept_contacts(ctx->store, d.code, &ids, &k) != STORE_OK)
			ctx->failed = 1;
		for (size_t j = 0; j < k; j++) {
			yes |= dir_stands_for(ctx->store, ctx->ev->user_id, ids[j], today);
			free(ids[j]);
		}
		free(ids);
		dept_row_free(&d);
	}
	return yes;
}

static void list_line(struct buf *b, json_t *issue)
{
	char *desc = cmd_echo(str(issue, "description"));
	buf_printf(b, "\n%s · %s · %s · %s", str(issue, "id"), str(issue, "severity"),
		   issue_state_label(str(issue, "state")), desc);
	free(desc);
}

/* Waiting for me, reported by me, my departments' -- or one request's issues. */
static enum cmd_rc list(struct cmd_ctx *ctx, const char *request_id)
{
	char today[11];
	cmd_today(ctx, today);
	enum cmd_rc may = request_id ? may_see_request(ctx, request_id) : CMD_OK;
	if (may != CMD_OK)
		return may;
	json_t *rows = store_issue_list(ctx->store, request_id, 200);
	if (!rows) {
		ctx->failed = 1;
		return CMD_EINTERNAL;
	}
	struct buf waiting, mine, dept, all, b;
	buf_init(&waiting);
	buf_init(&mine);
	buf_init(&dept);
	buf_init(&all);
	buf_init(&b);
	size_t i;
	json_t *issue;
	json_array_foreach(rows, i, issue) {
		const char *state = str(issue, "state");
		int member = receives(ctx, issue, today);
		int owner = str(issue, "solution_owner") &&
			    dir_stands_for(ctx->store, ctx->ev->user_id, str(issue, "solution_owner"), today);
		if (request_id)
			list_line(&all, issue);
		else if ((member && (!strcmp(state, "reported") || !strcmp(state, "reopened"))) ||
			 (owner && !strcmp(state, "solution_recorded")))
			list_line(&waiting, issue);
		else if (!strcmp(str(issue, "reporter"), ctx->ev->user_id))
			list_line(&mine, issue);
		else if (member)
			list_line(&dept, issue);
	}
	json_decref(rows);
	if (request_id)
		buf_printf(&b, all.len ? "需求 %s 的问题：%s" : "需求 %s 没有问题反馈。%s", request_id, all.len ? (char *)all.data : "");
	if (waiting.len)
		buf_printf(&b, "等我处理：%s\n", (char *)waiting.data);
	if (mine.len)
		buf_printf(&b, "我反馈的：%s\n", (char *)mine.data);
	if (dept.len)
		buf_printf(&b, "本部门接收的：%s\n", (char *)dept.data);
	if (!b.len)
		buf_append_str(&b, "没有与你相关的问题。发送 /问题 填写问题反馈表。");
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	buf_free(&waiting);
	buf_free(&mine);
	buf_free(&dept);
	buf_free(&all);
	return CMD_OK;
}

static enum cmd_rc run_respond(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return issue_step_command(ctx, a, ISSUE_RESPOND);
}
static enum cmd_rc run_solution(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return issue_step_command(ctx, a, ISSUE_SOLUTION);
}
static enum cmd_rc run_resolve(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return issue_step_command(ctx, a, ISSUE_RESOLVE);
}
static enum cmd_rc run_reopen(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return issue_step_command(ctx, a, ISSUE_REOPEN);
}
static enum cmd_rc run_view(struct cmd_ctx *ctx, const struct cmd_args *a) { return view(ctx, a->words[1]); }
static enum cmd_rc run_list(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return list(ctx, a->nwords == 2 ? a->words[1] : NULL);
}

/* /问题 without a subcommand: the form, or a report. */
static enum cmd_rc run_issue(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (a->nwords)
		return CMD_EUSAGE;
	return a->nfields ? report(ctx, a) : show_form(ctx);
}

/* The steps' fields are not required here: a step without them is answered
 * with every missing field at once, by the form's own check. */
static const struct bot_subcommand issue_subs[] = {
	{ "响应", "respond", 1, 1, 0, "/问题 响应 编号，换行写 解决责任人：… 会议时间：… 会议形式：… 会议地点：…", run_respond },
	{ "方案", "solution", 1, 1, 0, "/问题 方案 编号，换行写 问题原因：… 解决措施：… 责任人：… 完成时间：…", run_solution },
	{ "解决", "resolve", 1, 1, 0, "/问题 解决 编号，换行写 解决结果：…", run_resolve },
	{ "重开", "reopen", 1, 1, 0, "/问题 重开 编号，换行写 原因：…", run_reopen },
	{ "查看", "show", 1, 1, 0, "/问题 查看 编号", run_view },
	{ "列表", "list", 0, 1, 0, "/问题 列表 [需求编号]", run_list },
	{ 0 },
};

const struct bot_command cmd_issue = {
	.name = "问题",
	.alias = "issue",
	.usage = "/问题（每行一项“字段：内容”提交问题反馈表） | 响应 编号 + 解决责任人/会议时间/会议形式/会议地点 | "
		 "方案 编号 + 问题原因/解决措施/责任人/完成时间 | 解决 编号 + 解决结果 | 重开 编号 + 原因 | 查看 编号 | 列表 [需求编号]",
	.summary = "反馈协作中的问题并预警，接收部门响应，记录解决方案，解决、重开和查看",
	.run = run_issue,
	.subs = issue_subs,
};

const struct bot_action action_issue_submit = { .name = "issue.submit", .run = action_submit };
