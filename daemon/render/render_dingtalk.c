/*
 * render_dingtalk.c - notices as DingTalk text and markdown messages.
 *
 * Without card templates, a DingTalk group gets markdown; where a Feishu card
 * has a button, the message shows the exact command that does the same.
 * Mentions come only from the notice's mention list, as "@userId" in the text
 * plus at.atUserIds (webhook) or "@name" (OpenAPI, which cannot mention).
 */
#include "collabd/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/dingtalk_card.h"
#include "collabd/util.h"

void dingtalk_message_free(struct dingtalk_message *m)
{
	free(m->title);
	free(m->text_at);
	free(m->text_names);
	json_decref(m->at_user_ids);
	memset(m, 0, sizeof *m);
}

/* Prefixes both texts with the mentions and fills at_user_ids. */
static void mentions(struct dingtalk_message *m, json_t *list, struct buf *at, struct buf *names)
{
	m->at_user_ids = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));
		const char *name = json_string_value(json_object_get(p, "name"));
		if (!id)
			continue;
		char *safe_id = render_escape(id), *safe_name = render_escape(name && *name ? name : id);
		buf_printf(at, "@%s ", safe_id);
		buf_printf(names, "@%s ", safe_name);
		json_array_append_new(m->at_user_ids, json_string(id));
		free(safe_id);
		free(safe_name);
	}
}

static void both(struct buf *at, struct buf *names, const char *text)
{
	buf_append_str(at, text);
	buf_append_str(names, text);
}

static void finish(struct dingtalk_message *m, const char *msgtype, const char *title, struct buf *at,
		   struct buf *names)
{
	m->msgtype = msgtype;
	m->title = xstrdup(title);
	m->text_at = buf_steal(at);
	m->text_names = buf_steal(names);
}

static int render_text(json_t *body, struct dingtalk_message *m)
{
	const char *text = json_string_value(json_object_get(body, "text"));
	if (!text)
		return -1;
	struct buf at, names;
	buf_init(&at);
	buf_init(&names);
	mentions(m, json_object_get(body, "mentions"), &at, &names);
	char *safe = render_escape(text);
	both(&at, &names, safe);
	free(safe);
	finish(m, "text", "collabd", &at, &names);
	return 0;
}

static int render_status(json_t *body, struct dingtalk_message *m)
{
	const char *version = json_string_value(json_object_get(body, "version"));
	json_t *at_ms = json_object_get(body, "at");
	if (!version || !json_is_integer(at_ms))
		return -1;
	char when[32];
	render_local_time(json_integer_value(at_ms), 0, when, sizeof when);
	struct buf at, names;
	buf_init(&at);
	buf_init(&names);
	m->at_user_ids = json_array();
	char *md = xasprintf("#### collabd 运行状态\n\n- 版本：%s\n- 钉钉连接：%s\n- 待发消息：%lld 条\n"
			     "- 已处理事件：%lld 个\n\n更新于 %s，发送 /状态 刷新",
			     version, json_is_true(json_object_get(body, "dingtalk_connected")) ? "已连接" : "未连接",
			     (long long)json_integer_value(json_object_get(body, "outbox_pending")),
			     (long long)json_integer_value(json_object_get(body, "events_applied")), when);
	both(&at, &names, md);
	free(md);
	finish(m, "markdown", "collabd 运行状态", &at, &names);
	return 0;
}

static int render_sla_pings(json_t *body, struct dingtalk_message *m)
{
	json_t *items = json_object_get(body, "items");
	if (!json_is_array(items) || !json_array_size(items))
		return -1;
	struct buf at, names;
	buf_init(&at);
	buf_init(&names);
	both(&at, &names, "#### ⏰ 协作提醒\n\n");
	mentions(m, json_object_get(body, "mentions"), &at, &names);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		const char *stage = json_string_value(json_object_get(it, "stage"));
		const char *subject = json_string_value(json_object_get(it, "subject"));
		const char *key = json_string_value(json_object_get(it, "key"));
		json_t *due = json_object_get(it, "due_at");
		if (!stage || !subject || !key || !json_is_integer(due)) {
			buf_free(&at);
			buf_free(&names);
			json_decref(m->at_user_ids);
			m->at_user_ids = NULL;
			return -1;
		}
		char when[32];
		render_local_time(json_integer_value(due), 0, when, sizeof when);
		char *safe = render_escape(subject);
		char *line = xasprintf("\n\n- **%s**｜%s，截止 %s  \n  稍后再提醒：发送 /提醒 推迟 %s 1小时（或 明天）",
				       render_stage_label(stage, json_is_true(json_object_get(it, "late"))), safe, when, key);
		both(&at, &names, line);
		free(line);
		free(safe);
	}
	finish(m, "markdown", "协作提醒", &at, &names);
	return 0;
}

/* The approver's message: the form, and the commands that decide. */
static int render_request_approval(json_t *body, struct dingtalk_message *m)
{
	static const struct { const char *key, *label; } rows[] = {
		{ "name", "需求名称" }, { "dept", "发起部门" }, { "initiator", "发起人" },
		{ "background", "需求背景" }, { "tasks", "具体任务" }, { "departments", "涉及部门" },
		{ "due", "期望完成时间" }, { "resources", "资源需求" },
	};
	const char *id = json_string_value(json_object_get(body, "id"));
	if (!id)
		return -1;
	struct buf at, names;
	buf_init(&at);
	buf_init(&names);
	both(&at, &names, "#### 📋 跨部门协作需求 · 待审批\n\n");
	mentions(m, json_object_get(body, "mentions"), &at, &names);
	char *head = xasprintf("请审批需求 **%s**（第 %d 版）", id, (int)json_integer_value(json_object_get(body, "version")));
	both(&at, &names, head);
	free(head);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const char *v = json_string_value(json_object_get(body, rows[i].key));
		char *safe = render_escape(v ? v : "—");
		char *line = xasprintf("\n\n- **%s**：%s", rows[i].label, safe);
		both(&at, &names, line);
		free(line);
		free(safe);
	}
	char *how = xasprintf("\n\n批准：发送 /需求 批准 %s  \n驳回：发送 /需求 驳回 %s 并换行写“原因：……”", id, id);
	both(&at, &names, how);
	free(how);
	finish(m, "markdown", "需求待审批", &at, &names);
	return 0;
}

/* The request as markdown, with each department's answer and the commands. */
static int render_request_card(json_t *body, struct dingtalk_message *m)
{
	const char *id = json_string_value(json_object_get(body, "id"));
	const char *state = json_string_value(json_object_get(body, "state"));
	if (!id || !state)
		return -1;
	struct buf at, names;
	buf_init(&at);
	buf_init(&names);
	char *head = xasprintf("#### 📋 需求 %s · %s\n\n", id, state);
	both(&at, &names, head);
	free(head);
	mentions(m, json_object_get(body, "mentions"), &at, &names);
	static const char *const keys[][2] = { { "name", "需求名称" }, { "departments", "涉及部门" }, { "due", "期望完成时间" } };
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const char *v = json_string_value(json_object_get(body, keys[i][0]));
		char *safe = render_escape(v ? v : "—");
		char *line = xasprintf("\n\n- **%s**：%s", keys[i][1], safe);
		both(&at, &names, line);
		free(line);
		free(safe);
	}
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(body, "depts"), i, d) {
		char *name = render_escape(json_string_value(json_object_get(d, "name")) ?
					   json_string_value(json_object_get(d, "name")) : "");
		char *line = xasprintf("\n\n- %s：%s", name, json_string_value(json_object_get(d, "label")));
		both(&at, &names, line);
		free(line);
		free(name);
	}
	if (json_is_true(json_object_get(body, "open"))) {
		char *how = xasprintf("\n\n确认：发送 /确认 %s  \n异议：发送 /异议 %s 并换行写“说明：……”“建议：……”", id, id);
		both(&at, &names, how);
		free(how);
	}
	finish(m, "markdown", "跨部门协作需求", &at, &names);
	return 0;
}

/* Without a form card: the lines to copy, required ones first. */
static int render_request_form(json_t *body, struct dingtalk_message *m)
{
	json_t *fields = json_object_get(body, "fields");
	if (!json_is_array(fields))
		return -1;
	struct buf at, names;
	buf_init(&at);
	buf_init(&names);
	m->at_user_ids = json_array();
	both(&at, &names, "请按《跨部门协作需求信息表》填写，每行一项，复制后在冒号后填写：\n/需求");
	for (int required = 1; required >= 0; required--) {
		if (!required)
			both(&at, &names, "\n（以上必填，以下选填；发起部门默认为你所在的部门）");
		size_t i;
		json_t *f;
		json_array_foreach(fields, i, f) {
			if (json_is_true(json_object_get(f, "required")) != required)
				continue;
			char *line = xasprintf("\n%s：", json_string_value(json_object_get(f, "key")));
			both(&at, &names, line);
			free(line);
		}
	}
	both(&at, &names, "\n说明：需求名称不超过 40 字，需求背景不超过 200 字；涉及部门写部门代码或名称，用顿号分隔；"
			  "期望完成时间写日期，例如 2026-12-31。");
	finish(m, "text", "跨部门协作需求信息表", &at, &names);
	return 0;
}

static const struct {
	const char *kind;
	int (*render)(json_t *body, struct dingtalk_message *m);
} renderers[] = {
	{ "request_form", render_request_form },
	{ "request_approval", render_request_approval },
	{ "request_card", render_request_card },
	{ "text", render_text },
	{ "status", render_status },
	{ "sla_pings", render_sla_pings },
	{ "card", render_dingtalk_generic },
};

int render_dingtalk(const char *kind, const char *body_json, struct dingtalk_message *out)
{
	memset(out, 0, sizeof *out);
	json_t *body = json_loads(body_json, 0, NULL);
	int rc = -1;
	for (size_t i = 0; body && i < ARRAY_LEN(renderers); i++)
		if (!strcmp(renderers[i].kind, kind))
			rc = renderers[i].render(body, out);
	json_decref(body);
	if (rc)
		dingtalk_message_free(out);
	return rc;
}

/* ---- card templates ---- */

static void param_str(json_t *params, const char *key, const char *value)
{
	json_object_set_new(params, key, json_string(value ? value : ""));
}

static void param_int(json_t *params, const char *key, json_int_t v)
{
	char text[32];
	snprintf(text, sizeof text, "%lld", (long long)v);
	param_str(params, key, text);
}

static int card_status(json_t *body, json_t *params, json_t *at)
{
	(void)at;
	json_t *at_ms = json_object_get(body, "at");
	if (!json_is_integer(at_ms))
		return -1;
	char when[32];
	render_local_time(json_integer_value(at_ms), 0, when, sizeof when);
	param_str(params, "version", json_string_value(json_object_get(body, "version")));
	param_str(params, "connected", json_is_true(json_object_get(body, "dingtalk_connected")) ? "已连接" : "未连接");
	param_int(params, "outbox_pending", json_integer_value(json_object_get(body, "outbox_pending")));
	param_int(params, "events_applied", json_integer_value(json_object_get(body, "events_applied")));
	param_str(params, "updated_at", when);
	return 0;
}

/* The text as on the generic card: names, not userIds (the card shows its
 * text as it is; atUserIds notify), and no heading repeating the title. */
static int card_sla_pings(json_t *body, json_t *params, json_t *at)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *generic = NULL, *people = NULL;
	int rc = render_dingtalk_template("sla_pings", text, &generic, &people);
	free(text);
	if (rc)
		return -1;
	json_t *items = json_object_get(body, "items");
	param_str(params, "title", "⏰ 协作提醒");
	param_str(params, "content", json_string_value(json_object_get(generic, "content")));
	param_int(params, "count", (json_int_t)json_array_size(items));
	/* The first deadline's key, for the template's snooze buttons. */
	param_str(params, "key", json_string_value(json_object_get(json_array_get(items, 0), "key")));
	json_object_update(at, people);
	json_decref(generic);
	json_decref(people);
	return 0;
}

static const struct {
	const char *kind;
	int (*render)(json_t *body, json_t *params, json_t *at);
} card_renderers[] = {
	{ "status", card_status },
	{ "sla_pings", card_sla_pings },
};

int render_dingtalk_card(const char *kind, const char *body_json, json_t **params, json_t **at)
{
	*params = NULL;
	*at = NULL;
	json_t *body = json_loads(body_json, 0, NULL);
	int rc = -1;
	for (size_t i = 0; body && i < ARRAY_LEN(card_renderers); i++) {
		if (strcmp(card_renderers[i].kind, kind))
			continue;
		*params = json_object();
		*at = json_object();
		rc = card_renderers[i].render(body, *params, *at);
	}
	json_decref(body);
	if (rc) {
		json_decref(*params);
		json_decref(*at);
		*params = *at = NULL;
	}
	return rc;
}

json_t *render_dingtalk_card_reply(json_t *reply)
{
	const char *toast = json_string_value(json_object_get(json_object_get(reply, "toast"), "content"));
	if (!toast)
		return json_object(); /* an empty response changes nothing */
	return json_pack("{s:{s:b},s:{s:{s:s}}}", "cardUpdateOptions", "updatePrivateDataByKey", 1,
			 "userPrivateData", "cardParamMap", "toast", toast);
}
