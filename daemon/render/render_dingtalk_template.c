/*
 * render_dingtalk_template.c - notices as the generic DingTalk card's
 * parameters (see dingtalk_card.h).
 *
 * The text names people ("@王接口"), never their userIds: the card shows
 * text as it is, and the notification comes from atUserIds.  The title is
 * the card's header, so the body does not repeat it.  Buttons carry the same
 * action values as Feishu's; a form of one text field becomes the card's
 * input, a longer form the lines to fill in, sent as the typed command.
 */
#include "collabd/dingtalk_card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/render.h"
#include "collabd/util.h"

static const char *const content_keys[] = { "content", "content_2", "content_3", "content_4" };
#define TRUNCATED "\n\n……（内容过长，其余部分请在看板中查看）"

struct tcard {
	char *title;      /* owned, plain text */
	struct buf md;    /* the markdown body, escaped */
	json_t *buttons;  /* [{label, style, value: JSON string}] */
	json_t *at;       /* userId -> name */
	char *input_label, *input_placeholder, *input_default; /* owned; label NULL = no input */
	char *input_value; /* owned: what the input's submission does (a JSON string) */
};

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void tcard_init(struct tcard *t, const char *title)
{
	memset(t, 0, sizeof *t);
	t->title = xstrdup(title);
	buf_init(&t->md);
	t->buttons = json_array();
	t->at = json_object();
}

static void tcard_free(struct tcard *t)
{
	free(t->title);
	buf_free(&t->md);
	json_decref(t->buttons);
	json_decref(t->at);
	free(t->input_label);
	free(t->input_placeholder);
	free(t->input_default);
	free(t->input_value);
}

/* A paragraph; text is markdown already escaped where it holds user text.
 * Single newlines become blank lines: DingTalk markdown needs them to break. */
static void para(struct tcard *t, const char *md)
{
	if (!md || !*md)
		return;
	if (t->md.len)
		buf_append_str(&t->md, "\n\n");
	for (const char *s = md; *s; s++) {
		if (*s != '\n') {
			buf_append(&t->md, s, 1);
			continue;
		}
		while (s[1] == '\n')
			s++;
		buf_append_str(&t->md, "\n\n");
	}
}

static void para_safe(struct tcard *t, const char *text)
{
	char *safe = render_escape(text ? text : "");
	para(t, safe);
	free(safe);
}

/* The people to @: atUserIds, and their names as the first line. */
static void mentions(struct tcard *t, json_t *list)
{
	struct buf line;
	buf_init(&line);
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p) {
		const char *id = str(p, "id"), *name = str(p, "name");
		if (!id || !*id)
			continue;
		json_object_set_new(t->at, id, json_string(name && *name ? name : id));
		if (!name || !*name || !strcmp(name, id))
			continue; /* no name known: the notification alone, never the raw id */
		char *safe = render_escape(name);
		buf_printf(&line, "%s@%s", line.len ? " " : "", safe);
		free(safe);
	}
	if (line.len)
		para(t, (const char *)line.data);
	buf_free(&line);
}

/* value is stolen. */
static void button(struct tcard *t, const char *label, const char *style, json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT);
	json_array_append_new(t->buttons, json_pack("{s:s,s:s,s:s}", "label", label ? label : "确定", "style",
						    style && *style ? style : "default", "value", text));
	free(text);
	json_decref(value);
}

/* The card's one text input: DingTalk's input component asks for the text
 * and sends it with its own request, carrying value (stolen). */
static void input(struct tcard *t, const char *label, const char *placeholder, const char *fill, json_t *value)
{
	free(t->input_label);
	free(t->input_placeholder);
	free(t->input_default);
	free(t->input_value);
	t->input_label = xstrdup(label ? label : "");
	t->input_placeholder = xstrdup(placeholder ? placeholder : "");
	t->input_default = xstrdup(fill ? fill : "");
	t->input_value = json_dumps(value, JSON_COMPACT);
	json_decref(value);
}

/* The decision taken on this card, if any ({label, by, at, detail}, see
 * render.h): "处理结果：已批准 · 张三 · 2026-12-06 10:00", the detail under it.
 * Drawn last, as on Feishu. */
static void outcome(struct tcard *t, json_t *o)
{
	const char *label = str(o, "label");
	if (!label)
		return;
	struct buf b;
	buf_init(&b);
	char *safe = render_escape(label);
	buf_printf(&b, "**处理结果**：%s", safe);
	free(safe);
	if (str(o, "by")) {
		safe = render_escape(str(o, "by"));
		buf_printf(&b, " · %s", safe);
		free(safe);
	}
	if (json_is_integer(json_object_get(o, "at"))) {
		char when[32];
		render_local_time(json_integer_value(json_object_get(o, "at")), 0, when, sizeof when);
		buf_printf(&b, " · %s", when);
	}
	if (str(o, "detail")) {
		safe = render_escape(str(o, "detail"));
		buf_printf(&b, "\n%s", safe);
		free(safe);
	}
	para(t, (const char *)b.data);
	buf_free(&b);
}

/* Cuts s to at most max bytes at a line (or at least a character) boundary. */
static size_t cut_at(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return n;
	size_t k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	for (size_t j = k; j > max / 2; j--)
		if (s[j] == '\n')
			return j;
	return k;
}

static void set_str(json_t *params, const char *key, const char *value)
{
	json_object_set_new(params, key, json_string(value ? value : ""));
}

/* The parameters; t is consumed. */
static void finish(struct tcard *t, json_t *params, json_t **at)
{
	set_str(params, "title", t->title);
	const char *rest = t->md.len ? (const char *)t->md.data : "";
	for (size_t i = 0; i < ARRAY_LEN(content_keys); i++) {
		size_t room = DINGTALK_CARD_VALUE_MAX;
		int last = i + 1 == ARRAY_LEN(content_keys);
		if (last && strlen(rest) > room)
			room -= strlen(TRUNCATED);
		size_t n = cut_at(rest, room);
		char *part = xstrndup(rest, n);
		if (last && rest[n]) {
			char *more = xasprintf("%s%s", part, TRUNCATED);
			free(part);
			part = more;
		}
		set_str(params, content_keys[i], part);
		free(part);
		rest += n;
		while (*rest == '\n')
			rest++;
	}
	/* Buttons that do not fit the parameter's 1 KB are left out; the
	 * commands in /帮助 still do the same. */
	char *list = json_dumps(t->buttons, JSON_COMPACT);
	while (strlen(list) > DINGTALK_CARD_VALUE_MAX && json_array_size(t->buttons)) {
		json_array_remove(t->buttons, json_array_size(t->buttons) - 1);
		free(list);
		list = json_dumps(t->buttons, JSON_COMPACT);
	}
	set_str(params, "buttons", list);
	free(list);
	set_str(params, "has_buttons", json_array_size(t->buttons) ? "true" : "false");
	set_str(params, "has_input", t->input_label ? "true" : "false");
	set_str(params, "input_label", t->input_label);
	set_str(params, "input_placeholder", t->input_placeholder);
	set_str(params, "input_default", t->input_default);
	set_str(params, "input_value", t->input_value ? t->input_value : "{}");
	*at = json_incref(t->at);
	tcard_free(t);
}

/* ---- the generic card (render.h) ---- */

/* A form: one text field is the card's input, its submission the form's
 * (naming the field); more fields are the lines to fill in, sent as the
 * typed command. */
static void form(struct tcard *t, json_t *f)
{
	json_t *inputs = json_object_get(f, "inputs");
	json_t *submit = json_object_get(f, "submit");
	const char *label = str(submit, "label") ? str(submit, "label") : "提交";
	json_t *only = json_array_size(inputs) == 1 ? json_array_get(inputs, 0) : NULL;
	if (only && (!str(only, "kind") || !strcmp(str(only, "kind"), "text")) && str(only, "name") &&
	    json_is_object(json_object_get(submit, "value"))) {
		json_t *value = json_deep_copy(json_object_get(submit, "value"));
		json_object_set_new(value, "_input", json_string(str(only, "name")));
		char *what = xasprintf("%s：%s", label, str(only, "label") ? str(only, "label") : str(only, "name"));
		input(t, what, json_is_true(json_object_get(only, "required")) ? "必填" : "选填", "", value);
		free(what);
		return;
	}
	const char *cmd = str(f, "command");
	if (!cmd)
		return;
	const char *nl = strchr(cmd, '\n');
	char *head = nl ? xstrndup(cmd, (size_t)(nl - cmd)) : xstrdup(cmd);
	char *what = xasprintf("%s：在每行冒号后填写", label);
	input(t, what, "", nl ? nl + 1 : "", json_pack("{s:s}", "typed", head));
	free(what);
	free(head);
}

static int tpl_card(json_t *body, struct tcard *t)
{
	if (!str(body, "title"))
		return -1;
	tcard_init(t, str(body, "title"));
	mentions(t, json_object_get(body, "mentions"));
	char *md = render_card_markdown(body, NULL);
	para(t, md);
	free(md);
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(body, "buttons"), i, b) {
		json_t *value = json_object_get(b, "value");
		if (json_is_object(value))
			button(t, str(b, "label"), str(b, "style"), json_incref(value));
		else if (str(b, "command"))
			button(t, str(b, "label"), str(b, "style"), json_pack("{s:s}", "typed", str(b, "command")));
	}
	if (json_is_object(json_object_get(body, "form")))
		form(t, json_object_get(body, "form"));
	outcome(t, json_object_get(body, "outcome"));
	return 0;
}

/* ---- the notices with their own shape ---- */

static void field_lines(struct tcard *t, json_t *body, const char *const rows[][2], size_t n)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		const char *v = str(body, rows[i][0]);
		char *safe = render_escape(v && *v ? v : "—");
		buf_printf(&b, "%s- **%s**：%s", b.len ? "\n" : "", rows[i][1], safe);
		free(safe);
	}
	para(t, (const char *)b.data);
	buf_free(&b);
}

static int tpl_request_approval(json_t *body, struct tcard *t)
{
	static const char *const rows[][2] = {
		{ "name", "需求名称" }, { "dept", "发起部门" }, { "initiator", "发起人" },
		{ "background", "需求背景" }, { "tasks", "具体任务" }, { "departments", "涉及部门" },
		{ "due", "期望完成时间" }, { "resources", "资源需求" },
	};
	const char *id = str(body, "id");
	if (!id)
		return -1;
	tcard_init(t, "📋 跨部门协作需求 · 待审批");
	mentions(t, json_object_get(body, "mentions"));
	char *head = xasprintf("请审批需求 **%s**（第 %d 版）", id, (int)json_integer_value(json_object_get(body, "version")));
	para(t, head);
	free(head);
	field_lines(t, body, rows, ARRAY_LEN(rows));
	if (json_object_get(body, "outcome")) {
		outcome(t, json_object_get(body, "outcome"));
		return 0; /* decided: no buttons */
	}
	button(t, "批准", "primary", json_pack("{s:s,s:s}", "action", "req.approve", "id", id));
	input(t, "驳回：填写原因后提交", "驳回原因（必填）", "",
	      json_pack("{s:s,s:s,s:s}", "action", "req.reject", "id", id, "_input", "reason"));
	return 0;
}

static int tpl_request_card(json_t *body, struct tcard *t)
{
	static const char *const rows[][2] = { { "name", "需求名称" }, { "departments", "涉及部门" }, { "due", "期望完成时间" } };
	const char *id = str(body, "id"), *state = str(body, "state");
	if (!id || !state)
		return -1;
	char *title = xasprintf("📋 需求 %s · %s", id, state);
	tcard_init(t, title);
	free(title);
	mentions(t, json_object_get(body, "mentions"));
	field_lines(t, body, rows, ARRAY_LEN(rows));
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "**各部门确认**");
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(body, "depts"), i, d) {
		char *name = render_escape(str(d, "name") ? str(d, "name") : "");
		char *label = render_escape(str(d, "label") ? str(d, "label") : "");
		buf_printf(&b, "\n- %s：%s", name, label);
		if (str(d, "by")) {
			char *by = render_escape(str(d, "by"));
			buf_printf(&b, "（%s）", by);
			free(by);
		}
		free(name);
		free(label);
	}
	para(t, (const char *)b.data);
	buf_free(&b);
	if (json_object_get(body, "outcome"))
		outcome(t, json_object_get(body, "outcome"));
	else if (json_is_true(json_object_get(body, "open"))) {
		button(t, "确认无误", "primary", json_pack("{s:s,s:s}", "action", "req.confirm", "id", id));
		char *cmd = xasprintf("/异议 %s", id);
		input(t, "提出异议：填写说明和建议后提交", "", "说明：\n建议：", json_pack("{s:s}", "typed", cmd));
		free(cmd);
	}
	return 0;
}

static int tpl_request_form(json_t *body, struct tcard *t)
{
	json_t *fields = json_object_get(body, "fields");
	if (!json_is_array(fields))
		return -1;
	tcard_init(t, "跨部门协作需求信息表");
	para(t, "在下面的输入框里，按《跨部门协作需求信息表》在每行冒号后填写，然后提交。\n"
		"需求名称不超过 40 字，需求背景不超过 200 字；涉及部门写部门代码或名称，用顿号分隔；"
		"期望完成时间写日期，例如 2026-12-31。发起部门默认为你所在的部门。");
	struct buf lines;
	buf_init(&lines);
	for (int required = 1; required >= 0; required--) {
		size_t i;
		json_t *f;
		json_array_foreach(fields, i, f)
			if (json_is_true(json_object_get(f, "required")) == required && str(f, "key"))
				buf_printf(&lines, "%s%s：", lines.len ? "\n" : "", str(f, "key"));
	}
	input(t, "提交需求：在每行冒号后填写（前几行必填）", "", lines.len ? (const char *)lines.data : "",
	      json_pack("{s:s}", "typed", "/需求"));
	buf_free(&lines);
	return 0;
}

static int tpl_sla_pings(json_t *body, struct tcard *t)
{
	json_t *items = json_object_get(body, "items");
	if (!json_is_array(items) || !json_array_size(items))
		return -1;
	tcard_init(t, "⏰ 协作提醒");
	mentions(t, json_object_get(body, "mentions"));
	size_t i;
	json_t *it;
	size_t n = json_array_size(items);
	json_array_foreach(items, i, it) {
		const char *stage = str(it, "stage"), *subject = str(it, "subject"), *key = str(it, "key");
		json_t *due = json_object_get(it, "due_at");
		if (!stage || !subject || !key || !json_is_integer(due)) {
			tcard_free(t);
			return -1;
		}
		char when[32];
		render_local_time(json_integer_value(due), 0, when, sizeof when);
		char *safe = render_escape(subject);
		char *line = xasprintf("- **%s**｜%s，截止 %s",
				       render_stage_label(stage, json_is_true(json_object_get(it, "late"))), safe, when);
		para(t, line);
		free(line);
		free(safe);
		char later[96], tomorrow[96];
		snprintf(later, sizeof later, n > 1 ? "第 %zu 条 1 小时后再提醒" : "1 小时后再提醒", i + 1);
		snprintf(tomorrow, sizeof tomorrow, n > 1 ? "第 %zu 条下个工作日再提醒" : "下个工作日再提醒", i + 1);
		button(t, later, "default", json_pack("{s:s,s:s,s:s}", "action", "sched.snooze", "key", key, "for", "1h"));
		button(t, tomorrow, "default",
		       json_pack("{s:s,s:s,s:s}", "action", "sched.snooze", "key", key, "for", "next_workday"));
	}
	return 0;
}

static int tpl_status(json_t *body, struct tcard *t)
{
	const char *version = str(body, "version");
	json_t *at_ms = json_object_get(body, "at");
	if (!version || !json_is_integer(at_ms))
		return -1;
	char when[32];
	render_local_time(json_integer_value(at_ms), 0, when, sizeof when);
	tcard_init(t, "collabd 运行状态");
	char *md = xasprintf("- 版本：%s\n- 钉钉连接：%s\n- 待发消息：%lld 条\n- 已处理事件：%lld 个\n\n更新于 %s", version,
			     json_is_true(json_object_get(body, "dingtalk_connected")) ? "已连接" : "未连接",
			     (long long)json_integer_value(json_object_get(body, "outbox_pending")),
			     (long long)json_integer_value(json_object_get(body, "events_applied")), when);
	para(t, md);
	free(md);
	button(t, "刷新", "default", json_pack("{s:s}", "action", "status.refresh"));
	return 0;
}

/* A text notice that @-mentions someone (text without mentions is not a card). */
static int tpl_text(json_t *body, struct tcard *t)
{
	const char *text = str(body, "text");
	if (!text || !json_array_size(json_object_get(body, "mentions")))
		return -1;
	tcard_init(t, "协作通知");
	mentions(t, json_object_get(body, "mentions"));
	para_safe(t, text);
	return 0;
}

static const struct {
	const char *kind;
	int (*render)(json_t *body, struct tcard *t);
} templates[] = {
	{ "card", tpl_card },
	{ "request_approval", tpl_request_approval },
	{ "request_card", tpl_request_card },
	{ "request_form", tpl_request_form },
	{ "sla_pings", tpl_sla_pings },
	{ "status", tpl_status },
	{ "text", tpl_text },
};

int render_dingtalk_template(const char *kind, const char *body_json, json_t **params, json_t **at)
{
	*params = *at = NULL;
	json_t *body = json_loads(body_json, 0, NULL);
	int rc = -1;
	for (size_t i = 0; body && i < ARRAY_LEN(templates); i++) {
		if (strcmp(templates[i].kind, kind))
			continue;
		struct tcard t;
		rc = templates[i].render(body, &t);
		if (!rc) {
			*params = json_object();
			finish(&t, *params, at);
		}
	}
	json_decref(body);
	return rc;
}
