/*
 * issue_steps.c - the steps after a report, by command or card form:
 *
 *   /问题 响应 ID + 解决责任人/会议时间/会议形式/会议地点   a head or contact of a receiving department (or deputy)
 *   /问题 方案 ID + 问题原因/解决措施/责任人/完成时间       the same, or the reporter
 *   /问题 解决 ID + 解决结果                            the solution's 责任人 (or deputy)
 *   /问题 重开 ID + 原因                                the reporter, within 1 working day of the resolution
 *
 * One runner for all four, driven by a table: find the issue, ask the state
 * table, check who acts, check the form (every problem at once), then apply.
 * Anything refused changes nothing; a repeated click meets the state table.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/issue.h"
#include "collabd/render.h"
#include "collabd/sched.h"
#include "collabd/store.h"

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static ms_t num(json_t *o, const char *k) { return (ms_t)json_integer_value(json_object_get(o, k)); }

void issue_resolve_mentions(struct cmd_ctx *ctx, const struct form *f, json_t *form)
{
	for (size_t i = 0; i < f->count; i++) {
		if (f->fields[i].kind != FORM_PERSON)
			continue;
		const char *v = str(form, f->fields[i].key), *id, *name;
		if (v && !cmd_mention(ctx, v, &id, &name)) {
			/* A mention names the person exactly: remember who it is. */
			char *known = store_user_name(ctx->store, id);
			if (!known && store_user_put(ctx->store, id, name) != STORE_OK)
				ctx->failed = 1;
			free(known);
			json_object_set_new(form, f->fields[i].key, json_string(id));
		}
	}
}

void issue_reply_problems(struct cmd_ctx *ctx, const struct form *f, json_t *problems)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s有 %zu 处需要修改（未保存任何内容）：", f->title, json_array_size(problems));
	cmd_list_problems(&b, problems);
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
}

/* ---- who may ---- */

/* 1 when the user heads or answers for a receiving department (or stands
 * in for someone who does); else 0 with *who naming those who may. */
static int receiving_member(struct cmd_ctx *ctx, json_t *issue, char **who)
{
	char today[11];
	cmd_today(ctx, today);
	struct buf b;
	buf_init(&b);
	int yes = 0;
	size_t i;
	json_t *code;
	json_array_foreach(json_object_get(issue, "depts"), i, code) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		yes |= dir_stands_for(ctx->store, ctx->ev->user_id, d.head, today);
		char *head = dir_name(ctx->store, d.head);
		buf_printf(&b, "%s%s 负责人 %s", b.len ? "、" : "", d.name, head);
		free(head);
		char **ids;
		size_t k;
		if (store_dept_contacts(ctx->store, d.code, &ids, &k) != STORE_OK)
			ctx->failed = 1;
		for (size_t j = 0; j < k; j++) {
			yes |= dir_stands_for(ctx->store, ctx->ev->user_id, ids[j], today);
			char *name = dir_name(ctx->store, ids[j]);
			buf_printf(&b, "、接口人 %s", name);
			free(name);
			free(ids[j]);
		}
		free(ids);
		dept_row_free(&d);
	}
	if (!yes)
		*who = buf_steal(&b);
	buf_free(&b);
	return yes;
}

static int may_respond(struct cmd_ctx *ctx, json_t *issue, char **msg)
{
	char *who = NULL;
	if (receiving_member(ctx, issue, &who))
		return 1;
	*msg = xasprintf("仅接收部门的负责人或接口人（%s，或其代理人）可以响应问题 %s。", who, str(issue, "id"));
	free(who);
	return 0;
}

static int may_record(struct cmd_ctx *ctx, json_t *issue, char **msg)
{
	char *who = NULL;
	if (!strcmp(ctx->ev->user_id, str(issue, "reporter")) || receiving_member(ctx, issue, &who))
		return 1;
	char *reporter = dir_name(ctx->store, str(issue, "reporter"));
	*msg = xasprintf("仅接收部门的负责人或接口人（%s，或其代理人）或反馈人 %s 可以记录问题 %s 的解决方案。", who,
			 reporter, str(issue, "id"));
	free(reporter);
	free(who);
	return 0;
}

static int may_resolve(struct cmd_ctx *ctx, json_t *issue, char **msg)
{
	char today[11];
	cmd_today(ctx, today);
	const char *owner = str(issue, "solution_owner");
	if (owner && dir_stands_for(ctx->store, ctx->ev->user_id, owner, today))
		return 1;
	char *name = dir_name(ctx->store, owner ? owner : "?");
	*msg = xasprintf("仅解决责任人 %s（或其代理人）可以填写解决结果并关闭问题 %s。", name, str(issue, "id"));
	free(name);
	return 0;
}

static int may_reopen(struct cmd_ctx *ctx, json_t *issue, char **msg)
{
	if (strcmp(ctx->ev->user_id, str(issue, "reporter"))) {
		char *name = dir_name(ctx->store, str(issue, "reporter"));
		*msg = xasprintf("仅反馈人 %s 可以重新打开问题 %s。", name, str(issue, "id"));
		free(name);
		return 0;
	}
	const struct calendar *cal = ctx->sched ? sched_calendar(ctx->sched) : NULL;
	ms_t resolved = num(issue, "resolved_at");
	ms_t until = cal ? calendar_add_working_days(cal, resolved, 1) : resolved + 86400000;
	if (ctx->now <= until)
		return 1;
	char at[32], limit[32];
	render_local_time(resolved, 0, at, sizeof at);
	render_local_time(until, 0, limit, sizeof limit);
	*msg = xasprintf("问题 %s 于 %s 解决，重新打开须在 1 个工作日内（%s 前）。如问题再次出现，请发送 /问题 提交新的问题反馈表。",
			 str(issue, "id"), at, limit);
	return 0;
}

/* ---- what each step does ---- */

/* A text in the issue's group that @-mentions people (ids, NULL-terminated):
 * the answer to the command itself when it was sent there (*told set), else
 * a message of its own. */
static void tell(struct cmd_ctx *ctx, json_t *issue, const char *text, const char *const *ids, int *told)
{
	json_t *mentions = json_array();
	for (size_t i = 0; ids[i]; i++) {
		char *name = dir_name(ctx->store, ids[i]);
		json_array_append_new(mentions, json_pack("{s:s,s:s}", "id", ids[i], "name", name));
		free(name);
	}
	json_t *body = json_pack("{s:s,s:o}", "text", text, "mentions", mentions);
	if (ctx->ev->kind == EVENT_MESSAGE && !strcmp(ctx->ev->chat_id, str(issue, "chat_id"))) {
		cmd_notice(ctx, "text", body, NULL);
		*told = 1;
	} else {
		cmd_notice_about(ctx, "text", body, str(issue, "chat_id"), NULL, 0);
	}
	json_decref(body);
}

static void deadline_done(struct cmd_ctx *ctx, json_t *issue, const char *what)
{
	char *key = issue_deadline_key(issue, what);
	if (ctx->sched && sched_deadline_done(ctx->sched, key, "met") == STORE_ERR)
		ctx->failed = 1;
	free(key);
}

static char *when(ms_t t)
{
	char buf[32];
	render_local_time(t, 0, buf, sizeof buf);
	return xstrdup(buf);
}

/* issue_enter() for the user who acted; detail is stolen.  Refused or
 * overtaken by a concurrent click: *msg says so. */
static enum issue_enter_rc enter(struct cmd_ctx *ctx, json_t *issue, enum issue_event ev, struct issue_change *c,
				 json_t *detail, char **msg)
{
	char why[300];
	c->actor = ctx->ev->user_id;
	c->detail = detail;
	enum issue_enter_rc rc = issue_enter(ctx->store, issue, ev, c, ctx->now, why, sizeof why);
	json_decref(detail);
	if (rc == ISSUE_REFUSED || rc == ISSUE_MOVED)
		*msg = xstrdup(why);
	return rc;
}

static enum issue_enter_rc apply_respond(struct cmd_ctx *ctx, json_t *issue, json_t *form, char **msg, int *told)
{
	const char *owner = str(form, "解决责任人");
	ms_t meeting = num(form, "会议时间");
	json_t *due = json_object_get(issue, "response_due");
	struct issue_change c = { .owner = owner, .meeting_at = meeting, .mode = str(form, "会议形式"),
				  .where = str(form, "会议地点") };
	enum issue_enter_rc rc = enter(
		ctx, issue, ISSUE_RESPOND, &c,
		json_pack("{s:s,s:I,s:s,s:b,s:b}", "owner", owner, "meeting_at", (json_int_t)meeting, "meeting_mode",
			  str(form, "会议形式"), "late", json_is_integer(due) && ctx->now > json_integer_value(due),
			  "after_reopen", !strcmp(str(issue, "state"), "reopened")),
		msg);
	if (rc != ISSUE_ENTERED)
		return rc;
	deadline_done(ctx, issue, "response");
	char *name = dir_name(ctx->store, owner), *t = when(meeting);
	*msg = xasprintf("已响应问题 %s：解决责任人 %s，协调会 %s（%s · %s）。会后请记录解决方案：/问题 方案 %s", str(issue, "id"),
			 name, t, str(form, "会议形式"), str(form, "会议地点"), str(issue, "id"));
	const char *ids[] = { owner, str(issue, "reporter"), NULL };
	tell(ctx, issue, *msg, ids, told);
	free(t);
	free(name);
	return ISSUE_ENTERED;
}

static enum issue_enter_rc apply_solution(struct cmd_ctx *ctx, json_t *issue, json_t *form, char **msg, int *told)
{
	const char *owner = str(form, "责任人");
	ms_t due = num(form, "完成时间");
	int revised = !strcmp(str(issue, "state"), "solution_recorded");
	struct issue_change c = { .cause = str(form, "问题原因"), .measures = str(form, "解决措施"), .owner = owner,
				  .due = due };
	enum issue_enter_rc rc = enter(ctx, issue, ISSUE_SOLUTION, &c,
				       json_pack("{s:s,s:I,s:b}", "owner", owner, "due", (json_int_t)due, "revised", revised),
				       msg);
	if (rc != ISSUE_ENTERED)
		return rc;
	(void)told; /* the record is a card of its own, not a reply */
	if (!strcmp(str(issue, "state"), "reopened"))
		deadline_done(ctx, issue, "response");
	/* The 完成时间 is a deadline: the 责任人, escalating to the receiving
	 * departments' heads, then their superiors. */
	json_t *people = issue_people(ctx, json_object_get(issue, "depts"));
	char *oname = dir_name(ctx->store, owner);
	json_object_set_new(people, "owner", json_pack("[{s:s,s:s}]", "id", owner, "name", oname));
	char *key = issue_deadline_key(issue, "solution");
	char *subject = xasprintf("问题 %s · 解决方案完成", str(issue, "id"));
	struct sched_deadline dl = { .key = key, .policy = "solution_due", .platform = str(issue, "platform"),
				     .chat_id = str(issue, "chat_id"), .subject = subject, .people = people,
				     .start = ctx->now, .due = due };
	if (ctx->sched && sched_deadline_set(ctx->sched, &dl, NULL) != STORE_OK)
		ctx->failed = 1;
	json_t *fresh;
	if (store_issue_get(ctx->store, str(issue, "id"), &fresh) == STORE_OK) {
		issue_solution_notice(ctx, fresh);
		json_decref(fresh);
	} else {
		ctx->failed = 1;
	}
	char *t = when(due);
	*msg = xasprintf("已%s问题 %s 的解决方案：责任人 %s，完成时间 %s，已同步给各参与部门。", revised ? "更新" : "记录",
			 str(issue, "id"), oname, t);
	free(t);
	free(subject);
	free(key);
	free(oname);
	json_decref(people);
	return ISSUE_ENTERED;
}

static enum issue_enter_rc apply_resolve(struct cmd_ctx *ctx, json_t *issue, json_t *form, char **msg, int *told)
{
	struct issue_change c = { .result = str(form, "解决结果") };
	enum issue_enter_rc rc = enter(ctx, issue, ISSUE_RESOLVE, &c,
				       json_pack("{s:b,s:I}", "on_time", ctx->now <= num(issue, "solution_due"),
						 "solution_due", (json_int_t)num(issue, "solution_due")),
				       msg);
	if (rc != ISSUE_ENTERED)
		return rc;
	deadline_done(ctx, issue, "solution");
	*msg = xasprintf("问题 %s 已解决并关闭。反馈人如有异议，可在 1 个工作日内重新打开：/问题 重开 %s + 原因：…",
			 str(issue, "id"), str(issue, "id"));
	const char *ids[] = { str(issue, "reporter"), NULL };
	tell(ctx, issue, *msg, ids, told);
	return ISSUE_ENTERED;
}

static enum issue_enter_rc apply_reopen(struct cmd_ctx *ctx, json_t *issue, json_t *form, char **msg, int *told)
{
	struct issue_change c = { .reason = str(form, "原因") };
	enum issue_enter_rc rc = enter(ctx, issue, ISSUE_REOPEN, &c,
				       json_pack("{s:s,s:I}", "reason", str(form, "原因"), "reopen_count",
						 (json_int_t)num(issue, "reopen_count") + 1),
				       msg);
	if (rc != ISSUE_ENTERED)
		return rc;
	/* The receiving departments answer again, under the same SLA. */
	json_t *fresh;
	if (store_issue_get(ctx->store, str(issue, "id"), &fresh) != STORE_OK) {
		ctx->failed = 1;
		return ISSUE_ENTERED;
	}
	issue_response_deadline(ctx, fresh);
	*msg = xasprintf("问题 %s 已重新打开，原因：%s\n请接收部门重新响应（/问题 响应），或由责任人记录新的解决方案（/问题 方案）。",
			 str(issue, "id"), str(form, "原因"));
	const char *ids[] = { str(issue, "solution_owner"), str(issue, "owner"), NULL };
	tell(ctx, issue, *msg, ids[0] ? ids : ids + 1, told);
	json_decref(fresh);
	return ISSUE_ENTERED;
}

static const struct step {
	enum issue_event ev;
	const char *word, *alias;
	const struct form *form;
	int (*allowed)(struct cmd_ctx *ctx, json_t *issue, char **msg);
	enum issue_enter_rc (*apply)(struct cmd_ctx *ctx, json_t *issue, json_t *form, char **msg, int *told);
} steps[] = {
	{ ISSUE_RESPOND, "响应", "respond", &issue_response_form, may_respond, apply_respond },
	{ ISSUE_SOLUTION, "方案", "solution", &issue_solution_form, may_record, apply_solution },
	{ ISSUE_RESOLVE, "解决", "resolve", &issue_result_form, may_resolve, apply_resolve },
	{ ISSUE_REOPEN, "重开", "reopen", &issue_reopen_form, may_reopen, apply_reopen },
};

static const struct step *step_for(enum issue_event ev)
{
	for (size_t i = 0; i < ARRAY_LEN(steps); i++)
		if (steps[i].ev == ev)
			return &steps[i];
	return NULL;
}

/*
 * Runs a step on issue id with the fields from args or a card's values.
 * Returns CMD_OK with *msg the answer for whoever acted (caller frees) and
 * *done 1 when the step was applied; problems with the form are replied at
 * once (and *msg says so).  *told is set when the answer has been replied
 * already, with its @-mentions.
 */
static enum cmd_rc run_step(struct cmd_ctx *ctx, const struct step *s, const char *id, const struct cmd_args *args,
			    json_t *values, char **msg, int *done, int *told)
{
	json_t *issue;
	*done = 0;
	*told = 0;
	enum store_rc rc = id ? store_issue_get(ctx->store, id, &issue) : STORE_NOTFOUND;
	if (rc == STORE_ERR) {
		ctx->failed = 1;
		*msg = xstrdup("暂时无法读取问题，请稍后再试。");
		return CMD_EINTERNAL;
	}
	if (rc == STORE_NOTFOUND) {
		char *echo = cmd_echo(id ? id : "");
		*msg = xasprintf("没有问题 %s。发送 /问题 列表 查看与你相关的问题。", echo);
		free(echo);
		return CMD_ENOTFOUND;
	}
	char why[300];
	const char *to = issue_transition(str(issue, "state"), s->ev, why, sizeof why);
	enum cmd_rc out = CMD_OK;
	enum issue_enter_rc entered;
	if (!to) {
		*msg = xstrdup(why);
	} else if (!s->allowed(ctx, issue, msg)) {
		out = CMD_EPERM;
	} else {
		json_t *problems = json_array();
		json_t *form = form_collect(s->form, args, values, problems);
		issue_resolve_mentions(ctx, s->form, form);
		struct issue_check c = { .now = ctx->now, .severity = str(issue, "severity"),
					 .occurred_at = num(issue, "occurred_at"), .created_at = num(issue, "created_at") };
		issue_form_check(ctx->store, s->form, form, &c, problems);
		if (json_array_size(problems)) {
			issue_reply_problems(ctx, s->form, problems);
			*told = 1;
			*msg = xasprintf("%s有 %zu 处需要修改，详见群消息。", s->form->title, json_array_size(problems));
		} else if ((entered = s->apply(ctx, issue, form, msg, told)) == ISSUE_ENTER_FAILED) {
			ctx->failed = 1;
			*msg = xstrdup("暂时无法保存，请稍后再试。");
		} else if (entered == ISSUE_ENTERED) {
			*done = 1;
			issue_card_refresh(ctx, str(issue, "id"));
		}
		json_decref(form);
		json_decref(problems);
	}
	json_decref(issue);
	return out;
}

enum cmd_rc issue_step_command(struct cmd_ctx *ctx, const struct cmd_args *a, enum issue_event ev)
{
	if (a->nwords != 2)
		return CMD_EUSAGE;
	char *msg = NULL;
	int done, told;
	enum cmd_rc rc = run_step(ctx, step_for(ev), a->words[1], a, NULL, &msg, &done, &told);
	if (msg && !told)
		cmd_reply_text(ctx, msg);
	free(msg);
	return rc == CMD_EINTERNAL || ctx->failed ? CMD_EINTERNAL : rc;
}

/* The card forms' submit buttons: the same steps, answered with a toast. */
static enum cmd_rc card_step(struct cmd_ctx *ctx, json_t *value, enum issue_event ev)
{
	char *msg = NULL;
	int done, told;
	enum cmd_rc rc = run_step(ctx, step_for(ev), json_string_value(json_object_get(value, "id")), NULL,
				  ctx->ev->form_value, &msg, &done, &told);
	cmd_toast(ctx, done ? "success" : "error", msg ? msg : "");
	if (done) { /* the issue card is redrawn by run_step() with the next step's form */
		static const char *const said[] = { [ISSUE_RESPOND] = "已响应", [ISSUE_SOLUTION] = "已记录解决方案",
						    [ISSUE_RESOLVE] = "已解决并关闭", [ISSUE_REOPEN] = "已重新打开" };
		cmd_outcome(ctx, said[ev] ? said[ev] : "已处理", NULL, 1);
	}
	free(msg);
	return rc == CMD_EINTERNAL || ctx->failed ? CMD_EINTERNAL : rc;
}

static enum cmd_rc action_respond(struct cmd_ctx *ctx, json_t *value) { return card_step(ctx, value, ISSUE_RESPOND); }
static enum cmd_rc action_solution(struct cmd_ctx *ctx, json_t *value) { return card_step(ctx, value, ISSUE_SOLUTION); }
static enum cmd_rc action_resolve(struct cmd_ctx *ctx, json_t *value) { return card_step(ctx, value, ISSUE_RESOLVE); }
static enum cmd_rc action_reopen(struct cmd_ctx *ctx, json_t *value) { return card_step(ctx, value, ISSUE_REOPEN); }

const struct bot_action action_issue_respond = { .name = "issue.respond", .run = action_respond };
const struct bot_action action_issue_solution = { .name = "issue.solution", .run = action_solution };
const struct bot_action action_issue_resolve = { .name = "issue.resolve", .run = action_resolve };
const struct bot_action action_issue_reopen = { .name = "issue.reopen", .run = action_reopen };
