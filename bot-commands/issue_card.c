/*
 * issue_card.c - what step 4 shows and whom it tells: the issue card (one per
 * issue, updated in place), the alert (问题预警) with its @-mentions, the
 * urgent buzz and department chats, 《问题解决方案记录》 for every
 * participating department, the deadlines, and the hook that posts an alert
 * held until working hours.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/directory.h"
#include "collabd/issue.h"
#include "collabd/render.h"
#include "collabd/request.h"
#include "collabd/retro.h"
#include "collabd/sched.h"
#include "collabd/store.h"

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static ms_t num(json_t *o, const char *k) { return (ms_t)json_integer_value(json_object_get(o, k)); }

char *issue_deadline_key(json_t *issue, const char *what)
{
	if (!strcmp(what, "alert"))
		return xasprintf("alert:%s", str(issue, "id"));
	return xasprintf("req:%s:issue:%s:%s", str(issue, "request_id"), str(issue, "id"), what);
}

const char *issue_response_policy(const char *severity)
{
	return !strcmp(severity, "紧急") ? "issue_response_urgent" : "issue_response";
}

void issue_timeline_add_new(struct cmd_ctx *ctx, const char *kind, json_t *issue, json_t *detail)
{
	json_object_set_new(detail, "issue", json_string(str(issue, "id")));
	char *text = json_dumps(detail, JSON_COMPACT);
	if (!text || store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, kind, str(issue, "request_id"), text) !=
			     STORE_OK)
		ctx->failed = 1;
	free(text);
	json_decref(detail);
}

/* Appends person to list unless their id is there. */
static void add_person(json_t *list, json_t *person)
{
	const char *id = str(person, "id");
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p)
		if (id && !strcmp(str(p, "id"), id))
			return;
	json_array_append(list, person);
}

json_t *issue_people(struct cmd_ctx *ctx, json_t *depts)
{
	char today[11];
	cmd_today(ctx, today);
	static const char *const roles[] = { "owner", "head", "superior", "superior2" };
	json_t *all = json_object();
	for (size_t r = 0; r < ARRAY_LEN(roles); r++)
		json_object_set_new(all, roles[r], json_array());
	size_t i;
	json_t *code;
	json_array_foreach(depts, i, code) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		json_t *people = dir_people(ctx->store, &d, today);
		for (size_t r = 0; r < ARRAY_LEN(roles); r++) {
			size_t j;
			json_t *p;
			json_array_foreach(json_object_get(people, roles[r]), j, p)
				add_person(json_object_get(all, roles[r]), p);
		}
		json_decref(people);
		dept_row_free(&d);
	}
	return all;
}

/* Whom the alert @-mentions: heads, contacts and superiors of the receiving
 * departments, then the person the reporter named. */
static json_t *alert_mentions(struct cmd_ctx *ctx, json_t *issue, json_t *depts)
{
	json_t *people = issue_people(ctx, depts), *mentions = json_array();
	static const char *const roles[] = { "head", "owner", "superior" };
	for (size_t r = 0; r < ARRAY_LEN(roles); r++) {
		size_t j;
		json_t *p;
		json_array_foreach(json_object_get(people, roles[r]), j, p)
			add_person(mentions, p);
	}
	if (str(issue, "named_user")) {
		char *name = dir_name(ctx->store, str(issue, "named_user"));
		json_t *p = json_pack("{s:s,s:s}", "id", str(issue, "named_user"), "name", name);
		add_person(mentions, p);
		json_decref(p);
		free(name);
	}
	json_decref(people);
	return mentions;
}

static char *when(ms_t t)
{
	char buf[32];
	render_local_time(t, 0, buf, sizeof buf);
	return xstrdup(buf);
}

static void field(json_t *fields, const char *label, const char *value)
{
	json_array_append_new(fields, json_pack("{s:s,s:s}", "label", label, "value", value ? value : "—"));
}

static void field_time(json_t *fields, const char *label, json_t *issue, const char *key, const char *suffix)
{
	json_t *v = json_object_get(issue, key);
	char *t = json_is_integer(v) ? when((ms_t)json_integer_value(v)) : NULL;
	char *text = t ? xasprintf("%s%s", t, suffix ? suffix : "") : NULL;
	field(fields, label, text);
	free(text);
	free(t);
}

static void field_person(struct cmd_ctx *ctx, json_t *fields, const char *label, const char *id)
{
	char *name = id ? dir_name(ctx->store, id) : NULL;
	field(fields, label, name);
	free(name);
}

static json_t *input(const char *name, const char *label, const char *kind, int multiline)
{
	/* as long as the typed command takes (ISSUE_TEXT_MAX), not a renderer's default */
	return json_pack("{s:s,s:s,s:s,s:b,s:b,s:i}", "name", name, "label", label, "kind", kind, "required", 1,
			 "multiline", multiline, "max", ISSUE_TEXT_MAX);
}

/* What can be done next, as a card form (Feishu) and the command to type
 * (DingTalk); NULL when nothing. */
static json_t *next_form(struct cmd_ctx *ctx, json_t *issue)
{
	const char *state = str(issue, "state"), *id = str(issue, "id");
	json_t *inputs = json_array();
	const char *action, *label;
	char *cmd;
	/* The templates' example times follow the clock and the issue's own
	 * limits, so the lines copied as they are pass the form's rules. */
	const struct calendar *cal = ctx->sched ? sched_calendar(ctx->sched) : NULL;
	char meeting[32], due[32];
	render_local_time(issue_example_meeting(cal, str(issue, "severity"), num(issue, "created_at"), ctx->now), 0,
			  meeting, sizeof meeting);
	render_local_time(issue_example_due(cal, num(issue, "expected_at"), ctx->now), 0, due, sizeof due);
	if (!strcmp(state, "reported") || !strcmp(state, "reopened")) {
		json_array_append_new(inputs, input("owner", "解决责任人", "person", 0));
		json_array_append_new(inputs, input("meeting", "协调会时间", "datetime", 0));
		json_t *mode = input("mode", "会议形式", "select", 0);
		json_object_set_new(mode, "options", json_pack("[{s:s,s:s},{s:s,s:s}]", "value", "线上", "label", "线上",
								"value", "线下", "label", "线下"));
		json_array_append_new(inputs, mode);
		json_array_append_new(inputs, input("where", "会议链接或地点", "text", 0));
		action = "issue.respond";
		label = "提交响应";
		cmd = xasprintf("/问题 响应 %s\n解决责任人：@某人\n会议时间：%s\n会议形式：线上\n会议地点：会议链接或会议室",
				id, meeting);
	} else if (!strcmp(state, "responded")) {
		json_array_append_new(inputs, input("cause", "问题原因", "text", 1));
		json_array_append_new(inputs, input("measures", "解决措施", "text", 1));
		json_array_append_new(inputs, input("owner", "责任人", "person", 0));
		json_array_append_new(inputs, input("due", "完成时间", "datetime", 0));
		action = "issue.solution";
		label = "记录解决方案";
		cmd = xasprintf("/问题 方案 %s\n问题原因：…\n解决措施：…\n责任人：@某人\n完成时间：%s", id, due);
	} else if (!strcmp(state, "solution_recorded")) {
		json_array_append_new(inputs, input("result", "解决结果（处理过程及效果）", "text", 1));
		action = "issue.resolve";
		label = "填写结果并关闭";
		cmd = xasprintf("/问题 解决 %s\n解决结果：…", id);
	} else {
		json_array_append_new(inputs, input("reason", "重新打开的原因", "text", 1));
		action = "issue.reopen";
		label = "重新打开";
		cmd = xasprintf("/问题 重开 %s\n原因：…", id);
	}
	json_t *form = json_pack("{s:s,s:o,s:{s:s,s:{s:s,s:s}},s:s}", "name", action, "inputs", inputs, "submit",
				 "label", label, "value", "action", action, "id", id, "command", cmd);
	free(cmd);
	return form;
}

static const char *color_of(json_t *issue)
{
	const char *sev = str(issue, "severity"), *state = str(issue, "state");
	if (!strcmp(state, "resolved"))
		return "green";
	return !strcmp(sev, "紧急") ? "red" : !strcmp(sev, "重要") ? "orange" : "yellow";
}

/* The card: the form as reported, then each step recorded so far. */
static json_t *card_body(struct cmd_ctx *ctx, json_t *issue, json_t *mentions)
{
	const char *state = str(issue, "state");
	char *title = !strcmp(state, "reported") ? xasprintf("⚠️ 问题预警 · %s", str(issue, "id"))
						 : xasprintf("问题 %s · %s", str(issue, "id"), issue_state_label(state));
	struct request_row r;
	char *req = NULL;
	if (store_request_get(ctx->store, str(issue, "request_id"), &r) == STORE_OK) {
		json_t *form = json_loads(r.form, 0, NULL);
		req = xasprintf("%s「%s」", r.id, str(form, "需求名称") ? str(form, "需求名称") : "");
		json_decref(form);
		request_row_free(&r);
	}
	json_t *fields = json_array();
	field(fields, "关联需求", req ? req : str(issue, "request_id"));
	field(fields, "状态", issue_state_label(state));
	field(fields, "问题类型", str(issue, "type"));
	field(fields, "严重程度", str(issue, "severity"));
	field(fields, "影响范围", str(issue, "scope"));
	field(fields, "问题描述", str(issue, "description"));
	field_time(fields, "发生时间", issue, "occurred_at",
		   json_integer_value(json_object_get(issue, "report_late")) ? "（超过 1 小时后才反馈）" : NULL);
	field_time(fields, "预计解决时间", issue, "expected_at", NULL);
	char *depts = dir_dept_names(ctx->store, json_object_get(issue, "depts"));
	field(fields, "接收部门", depts);
	free(depts);
	field_person(ctx, fields, "反馈人", str(issue, "reporter"));
	if (str(issue, "named_user"))
		field_person(ctx, fields, "通知人", str(issue, "named_user"));
	if (str(issue, "owner")) {
		field_person(ctx, fields, "解决责任人", str(issue, "owner"));
		char *t = when(num(issue, "meeting_at"));
		char *meeting = xasprintf("%s · %s · %s", t, str(issue, "meeting_mode"), str(issue, "meeting_where"));
		field(fields, "协调会", meeting);
		free(meeting);
		free(t);
	} else if (json_is_integer(json_object_get(issue, "response_due"))) {
		field_time(fields, "响应时限", issue, "response_due", NULL);
	}
	json_t *sections = json_array();
	if (str(issue, "cause")) {
		char *owner = dir_name(ctx->store, str(issue, "solution_owner")), *due = when(num(issue, "solution_due"));
		char *l1 = xasprintf("问题原因：%s", str(issue, "cause")), *l2 = xasprintf("解决措施：%s", str(issue, "measures"));
		char *l3 = xasprintf("责任人：%s", owner), *l4 = xasprintf("完成时间：%s", due);
		json_array_append_new(sections, json_pack("{s:s,s:[s,s,s,s]}", "heading", "问题解决方案记录", "lines", l1,
							  l2, l3, l4));
		free(l1), free(l2), free(l3), free(l4), free(owner), free(due);
	}
	if (str(issue, "result")) {
		char *by = dir_name(ctx->store, str(issue, "resolved_by")), *at = when(num(issue, "resolved_at"));
		char *l1 = xasprintf("%s", str(issue, "result")), *l2 = xasprintf("%s 于 %s 关闭", by, at);
		json_array_append_new(sections, json_pack("{s:s,s:[s,s]}", "heading", "解决结果", "lines", l1, l2));
		free(l1), free(l2), free(by), free(at);
	}
	if (num(issue, "reopen_count") > 0) {
		char *l1 = xasprintf("第 %lld 次重新打开，原因：%s", (long long)num(issue, "reopen_count"),
				     str(issue, "reopen_reason") ? str(issue, "reopen_reason") : "—");
		json_array_append_new(sections, json_pack("{s:s,s:[s]}", "heading", "重新打开", "lines", l1));
		free(l1);
	}
	json_t *body = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "title", title, "color", color_of(issue), "mentions",
				 mentions ? json_incref(mentions) : json_array(), "fields", fields, "sections", sections,
				 "form", next_form(ctx, issue));
	if (!strcmp(state, "resolved"))
		json_object_set_new(body, "note", json_string("反馈人可在解决后 1 个工作日内重新打开（须写明原因）。"));
	cmd_card_link(ctx, body, str(issue, "request_id"));
	free(title);
	free(req);
	return body;
}

static char *subject_of(json_t *issue) { return xasprintf("issue:%s", str(issue, "id")); }

void issue_alert(struct cmd_ctx *ctx, json_t *issue)
{
	json_t *depts = json_object_get(issue, "depts");
	json_t *mentions = alert_mentions(ctx, issue, depts);
	json_t *body = card_body(ctx, issue, mentions);
	char *subject = subject_of(issue);
	const char *chat = str(issue, "chat_id"), *platform = str(issue, "platform");
	cmd_notice_about(ctx, "card", body, chat, subject, 0);
	/* 紧急 on Feishu: buzz everyone alerted once the card is out (the
	 * outbox resolves the card's message id when it sends this row). */
	if (!strcmp(str(issue, "severity"), "紧急") && !strcmp(platform, "feishu") && ctx->env &&
	    ctx->env->issue_urgent_app) {
		json_t *users = json_array();
		size_t i;
		json_t *m;
		json_array_foreach(mentions, i, m)
			json_array_append(users, json_object_get(m, "id"));
		json_t *ub = json_pack("{s:o}", "users", users);
		char *text = json_dumps(ub, JSON_COMPACT), *alias = xasprintf("subject:%s", subject);
		if (store_outbox_add(ctx->store, platform, chat, NULL, alias, "urgent", text, ctx->now, NULL) != STORE_OK)
			ctx->failed = 1;
		free(alias);
		free(text);
		json_decref(ub);
	}
	/* Each receiving department's own chat, with its own people. */
	size_t i;
	json_t *code;
	json_array_foreach(ctx->env && ctx->env->issue_dept_chats ? depts : NULL, i, code) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		if (d.chat_id && *d.chat_id && strcmp(d.chat_id, chat)) {
			json_t *one = json_pack("[O]", code), *dm = alert_mentions(ctx, issue, one);
			json_t *db = card_body(ctx, issue, dm);
			json_object_del(db, "form"); /* the steps happen on the group's card */
			json_object_set_new(db, "note", json_string("请在需求所在群的问题卡片上响应，或发送 /问题 响应 命令。"));
			cmd_notice_about(ctx, "card", db, d.chat_id, NULL, 0);
			json_decref(db);
			json_decref(dm);
			json_decref(one);
		}
		dept_row_free(&d);
	}
	if (store_issue_set_alerted(ctx->store, str(issue, "id"), ctx->now) != STORE_OK)
		ctx->failed = 1;
	free(subject);
	json_decref(body);
	json_decref(mentions);
}

void issue_card_refresh(struct cmd_ctx *ctx, const char *id)
{
	json_t *issue;
	if (store_issue_get(ctx->store, id, &issue) != STORE_OK) {
		ctx->failed = 1;
		return;
	}
	json_t *body = card_body(ctx, issue, NULL);
	char *subject = subject_of(issue);
	cmd_notice_about(ctx, "card", body, str(issue, "chat_id"), subject, 1);
	free(subject);
	json_decref(body);
	json_decref(issue);
}

/* Every participating department: the request's initiating and involved
 * departments, then any receiving department of the issue beyond them (new
 * array; NULL on a store error). */
static json_t *participating_depts(struct cmd_ctx *ctx, json_t *issue)
{
	json_t *all = retro_participants(ctx->store, str(issue, "request_id"));
	size_t i, j;
	json_t *code, *have;
	json_array_foreach(all ? json_object_get(issue, "depts") : NULL, i, code) {
		int seen = 0;
		json_array_foreach(all, j, have)
			seen |= json_equal(have, code);
		if (!seen)
			json_array_append(all, code);
	}
	return all;
}

void issue_solution_notice(struct cmd_ctx *ctx, json_t *issue)
{
	json_t *depts = json_object_get(issue, "depts");
	json_t *participants = participating_depts(ctx, issue);
	if (!participants) {
		ctx->failed = 1;
		return;
	}
	/* 同步至所有参与部门: every participating department's head and contacts. */
	json_t *people = issue_people(ctx, participants), *mentions = json_array();
	static const char *const roles[] = { "head", "owner" };
	for (size_t r = 0; r < ARRAY_LEN(roles); r++) {
		size_t j;
		json_t *p;
		json_array_foreach(json_object_get(people, roles[r]), j, p)
			add_person(mentions, p);
	}
	const char *ids[] = { str(issue, "reporter"), str(issue, "solution_owner") };
	for (size_t k = 0; k < ARRAY_LEN(ids); k++) {
		char *name = dir_name(ctx->store, ids[k]);
		json_t *p = json_pack("{s:s,s:s}", "id", ids[k], "name", name);
		add_person(mentions, p);
		json_decref(p);
		free(name);
	}
	char *owner = dir_name(ctx->store, str(issue, "solution_owner")), *due = when(num(issue, "solution_due"));
	char *names = dir_dept_names(ctx->store, depts);
	char *title = xasprintf("📝 问题解决方案记录 · %s", str(issue, "id"));
	json_t *body = json_pack("{s:s,s:s,s:o,s:s,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}],s:s}", "title",
				 title, "color", "blue", "mentions", mentions, "lead", "协调会已形成解决方案，同步给各参与部门：",
				 "fields", "label", "关联需求", "value", str(issue, "request_id"), "label", "问题原因", "value",
				 str(issue, "cause"), "label", "解决措施", "value", str(issue, "measures"), "label", "责任人",
				 "value", owner, "label", "完成时间", "value", due, "note",
				 "责任人完成后请填写解决结果并关闭问题：/问题 解决 编号 + 解决结果：…");
	cmd_card_link(ctx, body, str(issue, "request_id"));
	cmd_notice_about(ctx, "card", body, str(issue, "chat_id"), NULL, 0);
	json_decref(body);
	/* The departments' own chats hear of it too, when alerts go there. */
	size_t i;
	json_t *code;
	json_array_foreach(ctx->env && ctx->env->issue_dept_chats ? participants : NULL, i, code) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		if (d.chat_id && *d.chat_id && strcmp(d.chat_id, str(issue, "chat_id"))) {
			char *text = xasprintf("问题 %s 的解决方案已记录：责任人 %s，完成时间 %s。\n问题原因：%s\n解决措施：%s",
					       str(issue, "id"), owner, due, str(issue, "cause"), str(issue, "measures"));
			json_t *tb = json_pack("{s:s}", "text", text);
			cmd_notice_about(ctx, "text", tb, d.chat_id, NULL, 0);
			json_decref(tb);
			free(text);
		}
		dept_row_free(&d);
	}
	free(title);
	free(names);
	free(owner);
	free(due);
	json_decref(people);
	json_decref(participants);
}

void issue_response_deadline(struct cmd_ctx *ctx, json_t *issue)
{
	if (!ctx->sched)
		return;
	json_t *people = issue_people(ctx, json_object_get(issue, "depts"));
	char *key = issue_deadline_key(issue, "response");
	char *subject = xasprintf("问题 %s（%s）· 接收部门响应", str(issue, "id"), str(issue, "severity"));
	struct sched_deadline dl = { .key = key, .policy = issue_response_policy(str(issue, "severity")),
				     .platform = str(issue, "platform"), .chat_id = str(issue, "chat_id"),
				     .subject = subject, .people = people, .start = ctx->now };
	ms_t due = 0;
	if (sched_deadline_set(ctx->sched, &dl, &due) != STORE_OK ||
	    store_issue_set_response_due(ctx->store, str(issue, "id"), due) != STORE_OK)
		ctx->failed = 1;
	json_object_set_new(issue, "response_due", json_integer(due));
	free(subject);
	free(key);
	json_decref(people);
}

/* The issue_alert policy fires at the start of working hours for an alert
 * held overnight: post it now, unless someone already acted on the issue. */
static int alert_due(struct cmd_ctx *ctx, struct deadline_row *d, int step, int late)
{
	(void)step;
	(void)late;
	json_t *issue;
	const char *id = strncmp(d->key, "alert:", 6) ? NULL : d->key + 6;
	enum store_rc rc = id ? store_issue_get(ctx->store, id, &issue) : STORE_NOTFOUND;
	if (rc == STORE_ERR)
		return SCHED_HOOK_ERROR;
	if (rc == STORE_OK) {
		if (!strcmp(str(issue, "state"), "reported") && !json_is_integer(json_object_get(issue, "alerted_at")))
			issue_alert(ctx, issue);
		json_decref(issue);
	}
	if (sched_deadline_done(ctx->sched, d->key, "met") == STORE_ERR)
		ctx->failed = 1;
	return SCHED_HOOK_DONE;
}

const struct bot_hook hook_issue_alert = { .policy = "issue_alert", .run = alert_due };
