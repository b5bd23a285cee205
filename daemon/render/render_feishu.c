/*
 * render_feishu.c - notices as Feishu text messages and JSON 2.0 cards.
 *
 * Mentions are produced only from a notice's "mentions" list, never from text:
 * every piece of text that could have come from a user goes through
 * render_escape(), which turns '<' into the full-width '＜' (so no
 * "<at id=all>" can be smuggled in) and neutralises markdown emphasis.
 */
#include "collabd/render.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/log.h"
#include "collabd/util.h"

static void append_mentions(struct buf *b, json_t *mentions, const char *fmt)
{
	size_t i;
	json_t *m;
	json_array_foreach(mentions, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		const char *name = json_string_value(json_object_get(m, "name"));
		if (!id)
			continue;
		char *safe_id = render_escape(id);
		char *safe_name = render_escape(name ? name : "");
		if (json_is_true(json_object_get(m, "text_only")))
			buf_printf(b, "@%s ", safe_name); /* Feishu could not resolve this person */
		else
			buf_printf(b, fmt, safe_id, safe_name);
		free(safe_id);
		free(safe_name);
	}
}

static int render_text(json_t *body, struct feishu_message *out)
{
	const char *text = json_string_value(json_object_get(body, "text"));
	if (!text)
		return -1;
	struct buf b;
	buf_init(&b);
	append_mentions(&b, json_object_get(body, "mentions"), "<at user_id=\"%s\">%s</at> ");
	char *safe = render_escape(text);
	buf_append_str(&b, safe);
	free(safe);
	json_t *content = json_pack("{s:s}", "text", (const char *)b.data);
	buf_free(&b);
	out->msg_type = "text";
	out->content = json_dumps(content, JSON_COMPACT);
	json_decref(content);
	return 0;
}

/* A JSON 2.0 card: header, markdown body, optional callback buttons. */
static json_t *card(const char *title, const char *template, const char *markdown)
{
	return json_pack("{s:s,s:{s:b},s:{s:{s:s,s:s},s:s},s:{s:[{s:s,s:s}]}}",
			 "schema", "2.0",
			 "config", "update_multi", 1,
			 "header", "title", "tag", "plain_text", "content", title, "template", template,
			 "body", "elements", "tag", "markdown", "content", markdown);
}

static void card_add_button(json_t *c, const char *label, const char *type, json_t *value)
{
	json_t *elements = json_object_get(json_object_get(c, "body"), "elements");
	json_array_append_new(elements,
			      json_pack("{s:s,s:{s:s,s:s},s:s,s:[{s:s,s:o}]}",
					"tag", "button",
					"text", "tag", "plain_text", "content", label,
					"type", type,
					"behaviors", "type", "callback", "value", value));
}

static int render_status(json_t *body, struct feishu_message *out)
{
	const char *version = json_string_value(json_object_get(body, "version"));
	json_t *at = json_object_get(body, "at");
	json_t *started = json_object_get(body, "started_at");
	if (!version || !json_is_integer(at) || !json_is_integer(started))
		return -1;
	char at_text[32], started_text[32];
	render_local_time(json_integer_value(at), 1, at_text, sizeof at_text);
	render_local_time(json_integer_value(started), 1, started_text, sizeof started_text);
	int up = json_is_true(json_object_get(body, "feishu_connected"));
	char *md = xasprintf("**版本**：%s\n**启动时间**：%s\n**飞书长连接**：%s\n"
			     "**待发消息**：%lld 条\n**已处理事件**：%lld 个\n更新于 %s",
			     version, started_text, up ? "已连接" : "未连接",
			     (long long)json_integer_value(json_object_get(body, "outbox_pending")),
			     (long long)json_integer_value(json_object_get(body, "events_applied")),
			     at_text);
	json_t *c = card("collabd 运行状态", up ? "green" : "orange", md);
	free(md);
	card_add_button(c, "刷新", "default", json_pack("{s:s}", "action", "status.refresh"));
	out->msg_type = "interactive";
	out->content = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return 0;
}

/* Deadline pings for one chat, coalesced: everyone concerned is @-mentioned
 * once, each deadline gets a line and its snooze buttons. */
static int render_sla_pings(json_t *body, struct feishu_message *out)
{
	json_t *items = json_object_get(body, "items");
	if (!json_is_array(items) || !json_array_size(items))
		return -1;
	struct buf md;
	buf_init(&md);
	append_mentions(&md, json_object_get(body, "mentions"), "<at id=%s></at> ");
	int urgent = 0;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		const char *stage = json_string_value(json_object_get(it, "stage"));
		const char *subject = json_string_value(json_object_get(it, "subject"));
		json_t *due = json_object_get(it, "due_at");
		if (!stage || !subject || !json_is_integer(due)) {
			buf_free(&md);
			return -1;
		}
		urgent |= strcmp(stage, "reminder") != 0;
		char when[32];
		render_local_time(json_integer_value(due), 0, when, sizeof when);
		char *safe = render_escape(subject);
		buf_printf(&md, "\n**%s**｜%s，截止 %s", render_stage_label(stage, json_is_true(json_object_get(it, "late"))),
			   safe, when);
		free(safe);
	}
	json_t *c = card("⏰ 协作提醒", urgent ? "red" : "orange", (const char *)md.data);
	buf_free(&md);
	json_array_foreach(items, i, it) {
		if (i >= 5)
			break; /* a card stays readable: the rest can be snoozed by command */
		const char *key = json_string_value(json_object_get(it, "key"));
		int many = json_array_size(items) > 1;
		char *later = many ? xasprintf("第 %zu 条：1 小时后再提醒", i + 1) : xstrdup("1 小时后再提醒");
		char *tomorrow = many ? xasprintf("第 %zu 条：下个工作日再提醒", i + 1) : xstrdup("下个工作日再提醒");
		card_add_button(c, later, "default",
				json_pack("{s:s,s:s,s:s}", "action", "sched.snooze", "key", key, "for", "1h"));
		card_add_button(c, tomorrow, "default",
				json_pack("{s:s,s:s,s:s}", "action", "sched.snooze", "key", key, "for", "next_workday"));
		free(later);
		free(tomorrow);
	}
	out->msg_type = "interactive";
	out->content = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return 0;
}

/* The request's fields, escaped, as markdown lines; NULL when one is missing. */
static char *request_markdown(json_t *body)
{
	static const struct { const char *key, *label; } rows[] = {
		{ "name", "需求名称" }, { "dept", "发起部门" }, { "initiator", "发起人" },
		{ "background", "需求背景" }, { "tasks", "具体任务" }, { "departments", "涉及部门" },
		{ "due", "期望完成时间" }, { "resources", "资源需求" },
	};
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const char *v = json_string_value(json_object_get(body, rows[i].key));
		if (!v) {
			buf_free(&b);
			return NULL;
		}
		char *safe = render_escape(v);
		buf_printf(&b, "\n**%s**：%s", rows[i].label, safe);
		free(safe);
	}
	return buf_steal(&b);
}

/* The approver's card: the form, a reason input, 批准 and 驳回. */
static int render_request_approval(json_t *body, struct feishu_message *out)
{
	const char *id = json_string_value(json_object_get(body, "id"));
	char *fields = request_markdown(body);
	if (!id || !fields) {
		free(fields);
		return -1;
	}
	struct buf md;
	buf_init(&md);
	append_mentions(&md, json_object_get(body, "mentions"), "<at id=%s></at> ");
	buf_printf(&md, "请审批需求 **%s**（第 %d 版）%s", id, (int)json_integer_value(json_object_get(body, "version")),
		   fields);
	free(fields);
	json_t *outcome = json_object_get(body, "outcome");
	char *result = render_outcome_markdown(outcome);
	if (result) {
		/* decided: the outcome instead of the buttons */
		buf_printf(&md, "\n\n%s", result);
		free(result);
		json_t *c = card("📋 跨部门协作需求 · 已处理", "grey", (const char *)md.data);
		buf_free(&md);
		out->msg_type = "interactive";
		out->content = json_dumps(c, JSON_COMPACT);
		json_decref(c);
		return 0;
	}
	json_t *c = card("📋 跨部门协作需求 · 待审批", "blue", (const char *)md.data);
	buf_free(&md);
	json_t *form = json_pack("{s:s,s:s,s:[{s:s,s:s,s:{s:s,s:s},s:i}]}", "tag", "form", "name", "approval",
				 "elements", "tag", "input", "name", "reason", "placeholder", "tag", "plain_text",
				 "content", "驳回原因（驳回时必填）", "max_length", feishu_input_max_length(200));
	json_t *elements = json_object_get(form, "elements");
	json_array_append_new(elements, json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s,s:[{s:s,s:{s:s,s:s}}]}", "tag", "button",
						  "name", "approve", "text", "tag", "plain_text", "content", "批准",
						  "type", "primary", "form_action_type", "submit", "behaviors", "type",
						  "callback", "value", "action", "req.approve", "id", id));
	json_array_append_new(elements, json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s,s:[{s:s,s:{s:s,s:s}}]}", "tag", "button",
						  "name", "reject", "text", "tag", "plain_text", "content", "驳回",
						  "type", "danger", "form_action_type", "submit", "behaviors", "type",
						  "callback", "value", "action", "req.reject", "id", id));
	json_array_append_new(json_object_get(json_object_get(c, "body"), "elements"), form);
	out->msg_type = "interactive";
	out->content = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return 0;
}

/* The request card: the form, each department's answer, and while the
 * departments are asked, 确认无误 and an objection form. */
static int render_request_card(json_t *body, struct feishu_message *out)
{
	const char *id = json_string_value(json_object_get(body, "id"));
	const char *state = json_string_value(json_object_get(body, "state"));
	char *fields = request_markdown(body);
	if (!id || !state || !fields) {
		free(fields);
		return -1;
	}
	struct buf md;
	buf_init(&md);
	append_mentions(&md, json_object_get(body, "mentions"), "<at id=%s></at> ");
	buf_printf(&md, "需求 **%s**（第 %d 版）%s\n\n**各部门确认**", id,
		   (int)json_integer_value(json_object_get(body, "version")), fields);
	free(fields);
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(body, "depts"), i, d) {
		const char *by = json_string_value(json_object_get(d, "by"));
		char *name = render_escape(json_string_value(json_object_get(d, "name")) ?
					   json_string_value(json_object_get(d, "name")) : "");
		buf_printf(&md, "\n- %s：%s", name, json_string_value(json_object_get(d, "label")));
		if (by) {
			char *safe = render_escape(by);
			buf_printf(&md, "（%s）", safe);
			free(safe);
		}
		free(name);
	}
	char *result = render_outcome_markdown(json_object_get(body, "outcome"));
	if (result) {
		buf_printf(&md, "\n\n%s", result);
		free(result);
	}
	char *title = xasprintf("📋 需求 %s · %s", id, state);
	int open = json_is_true(json_object_get(body, "open"));
	json_t *c = card(title, open ? "blue" : "green", (const char *)md.data);
	free(title);
	buf_free(&md);
	if (open) {
		card_add_button(c, "确认无误", "primary", json_pack("{s:s,s:s}", "action", "req.confirm", "id", id));
		json_t *form = json_pack("{s:s,s:s,s:[{s:s,s:s,s:{s:s,s:s},s:i},{s:s,s:s,s:{s:s,s:s},s:i}]}",
					 "tag", "form", "name", "objection", "elements",
					 "tag", "input", "name", "explanation", "placeholder", "tag", "plain_text",
					 "content", "异议说明：哪里有问题", "max_length", FEISHU_INPUT_MAX_LENGTH,
					 "tag", "input", "name", "proposal", "placeholder", "tag", "plain_text",
					 "content", "建议方案：例如调整时间、增加资源", "max_length", FEISHU_INPUT_MAX_LENGTH);
		json_array_append_new(json_object_get(form, "elements"),
				      json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s,s:[{s:s,s:{s:s,s:s}}]}", "tag", "button",
						"name", "object", "text", "tag", "plain_text", "content", "提出异议",
						"type", "danger", "form_action_type", "submit", "behaviors", "type",
						"callback", "value", "action", "req.object", "id", id));
		json_array_append_new(json_object_get(json_object_get(c, "body"), "elements"), form);
	}
	out->msg_type = "interactive";
	out->content = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return 0;
}

/* 《跨部门协作需求信息表》 as a card form: inputs, the departments to pick
 * from, a date picker, and 提交. */
static int render_request_form(json_t *body, struct feishu_message *out)
{
	json_t *fields = json_object_get(body, "fields"), *depts = json_object_get(body, "departments");
	if (!json_is_array(fields) || !json_is_array(depts))
		return -1;
	json_t *options = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(depts, i, d)
		json_array_append_new(options, json_pack("{s:{s:s,s:s},s:s}", "text", "tag", "plain_text", "content",
							  json_string_value(json_object_get(d, "name")), "value",
							  json_string_value(json_object_get(d, "code"))));
	/* Two selects list every department; past the component limit they
	 * become text inputs taking department names (the command's way). */
	int selects = 2 * json_array_size(depts) + json_array_size(fields) + 4 <= FEISHU_CARD_MAX_COMPONENTS;
	json_t *elements = json_array();
	json_t *f;
	json_array_foreach(fields, i, f) {
		const char *key = json_string_value(json_object_get(f, "key"));
		const char *name = json_string_value(json_object_get(f, "name"));
		int required = json_is_true(json_object_get(f, "required"));
		int max = (int)json_integer_value(json_object_get(f, "max"));
		char *hint = max ? xasprintf("%s%s（不超过 %d 字）", key, required ? "（必填）" : "", max)
				 : xasprintf("%s%s", key, required ? "（必填）" : "");
		json_t *ph = json_pack("{s:s,s:s}", "tag", "plain_text", "content", hint);
		json_t *el;
		int dept_field = !strcmp(key, "涉及部门") || !strcmp(key, "发起部门");
		if (dept_field && !selects) {
			free(hint);
			hint = xasprintf("%s%s（部门名称，多个用、分隔）", key, required ? "（必填）" : "");
			json_object_set_new(ph, "content", json_string(hint));
			el = json_pack("{s:s,s:s,s:o,s:s,s:i,s:b}", "tag", "input", "name", name, "placeholder", ph,
				       "input_type", "text", "max_length", FEISHU_INPUT_MAX_LENGTH, "required", required);
		} else if (!strcmp(key, "涉及部门"))
			el = json_pack("{s:s,s:s,s:o,s:O,s:b}", "tag", "multi_select_static", "name", name, "placeholder", ph,
				       "options", options, "required", required);
		else if (!strcmp(key, "发起部门"))
			el = json_pack("{s:s,s:s,s:o,s:O}", "tag", "select_static", "name", name, "placeholder", ph,
				       "options", options);
		else if (!strcmp(key, "期望完成时间"))
			el = json_pack("{s:s,s:s,s:o,s:b}", "tag", "date_picker", "name", name, "placeholder", ph,
				       "required", required);
		else
			el = json_pack("{s:s,s:s,s:o,s:s,s:i,s:b}", "tag", "input", "name", name, "placeholder", ph,
				       "input_type", max > 100 ? "multiline_text" : "text",
				       "max_length", feishu_input_max_length(max),
				       "required", required);
		json_array_append_new(elements, el);
		free(hint);
	}
	json_decref(options);
	json_array_append_new(elements, json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s,s:[{s:s,s:{s:s}}]}", "tag", "button",
						  "name", "submit", "text", "tag", "plain_text", "content", "提交",
						  "type", "primary", "form_action_type", "submit", "behaviors", "type",
						  "callback", "value", "action", "req.submit"));
	json_t *c = card("📝 跨部门协作需求信息表", "blue", "填写后提交，提交给发起部门负责人审批。也可以发送 /需求 并每行写一项“字段：内容”。");
	json_array_append_new(json_object_get(json_object_get(c, "body"), "elements"),
			      json_pack("{s:s,s:s,s:o}", "tag", "form", "name", "request_form", "elements", elements));
	/* The text form too, for those who type (or paste from a document):
	 * the field names, required ones first, as on DingTalk. */
	struct buf text;
	buf_init(&text);
	buf_append_str(&text, "**或发送文字**（每行一项，复制后在冒号后填写）：\n/需求");
	for (int required = 1; required >= 0; required--) {
		if (!required)
			buf_append_str(&text, "\n（以上必填，以下选填）");
		json_array_foreach(fields, i, f)
			if (json_is_true(json_object_get(f, "required")) == required)
				buf_printf(&text, "\n%s：", json_string_value(json_object_get(f, "key")));
	}
	json_array_append_new(json_object_get(json_object_get(c, "body"), "elements"),
			      json_pack("{s:s,s:s}", "tag", "markdown", "content", (char *)text.data));
	buf_free(&text);
	out->msg_type = "interactive";
	out->content = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return 0;
}

static const struct {
	const char *kind;
	int (*render)(json_t *body, struct feishu_message *out);
} renderers[] = {
	{ "request_form", render_request_form },
	{ "request_approval", render_request_approval },
	{ "request_card", render_request_card },
	{ "text", render_text },
	{ "status", render_status },
	{ "sla_pings", render_sla_pings },
	{ "card", render_feishu_card },
};

int render_feishu(const char *kind, const char *body_json, struct feishu_message *out)
{
	memset(out, 0, sizeof *out);
	json_t *body = json_loads(body_json, 0, NULL);
	int rc = -1;
	for (size_t i = 0; body && i < ARRAY_LEN(renderers); i++)
		if (!strcmp(renderers[i].kind, kind))
			rc = renderers[i].render(body, out);
	json_decref(body);
	if (rc == 0 && !out->content)
		rc = -1;
	if (rc == 0 && !strcmp(out->msg_type, "interactive")) {
		/* Never send what Feishu would refuse: say why instead. */
		json_t *card = json_loads(out->content, 0, NULL);
		char why[128];
		if (feishu_card_check(card, strlen(out->content), why, sizeof why)) {
			log_error("msg=\"card over Feishu's limits; not sent\" kind=%s why=\"%s\"", kind, why);
			feishu_message_free(out);
			rc = -1;
		}
		json_decref(card);
	}
	return rc;
}

void feishu_message_free(struct feishu_message *m)
{
	free(m->content);
	m->content = NULL;
}
