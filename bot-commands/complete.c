/*
 * complete.c - /需求 完成 ID (step 5): the initiator marks the request
 * complete with its deliverables; the request is archived into the 协作项目库
 * and the retrospective starts.
 *
 *   /需求 完成 编号                         the completion card (a form; DingTalk: the lines to copy)
 *   /需求 完成 编号 + 交付物：链接或文件名、…   complete (交付物 may repeat; items split on 、，,；;)
 *                  [+ 原因：…]              required while issues are still open: recorded
 *
 * Only the initiator may complete, and only a request in progress.  Every
 * problem (no deliverable, an item too long, open issues without a reason,
 * an unknown field) is listed at once, and nothing changes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/archive.h"
#include "collabd/directory.h"
#include "collabd/render.h"
#include "collabd/request.h"
#include "collabd/retro.h"
#include "collabd/sched.h"
#include "collabd/store.h"

static int is_key(const char *k, const char *a, const char *b, const char *c)
{
	return !strcmp(k, a) || !strcmp(k, b) || !strcasecmp(k, c);
}

/* Length of a separator between deliverables at p, or 0. */
static size_t separator(const char *p)
{
	static const char *const seps[] = { "\n", "、", "，", ",", "；", ";" };
	for (size_t i = 0; i < ARRAY_LEN(seps); i++)
		if (!strncmp(p, seps[i], strlen(seps[i])))
			return strlen(seps[i]);
	return 0;
}

/* Length of a blank (ASCII or the ideographic space) at p, or 0. */
static size_t blank(const char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\r')
		return 1;
	return !strncmp(p, "\xe3\x80\x80", 3) ? 3 : 0;
}

/* Splits text into items, trimmed, appended to items as strings. */
static void split_items(const char *text, json_t *items)
{
	const char *p = text;
	while (*p) {
		const char *start = p;
		size_t n;
		while (*p && !separator(p))
			p++;
		const char *end = p;
		while (start < end && (n = blank(start)))
			start += n;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		while (end - start >= 3 && !strncmp(end - 3, "\xe3\x80\x80", 3))
			end -= 3;
		if (end > start)
			json_array_append_new(items, json_stringn(start, (size_t)(end - start)));
		if (*p)
			p += separator(p);
	}
}

/* The items as {kind: link|file, value}; problems appended. */
static json_t *deliverables(json_t *items, json_t *problems)
{
	json_t *out = json_array();
	size_t i;
	json_t *it;
	if (!json_array_size(items))
		json_array_append_new(problems, json_string("请列出成果交付物（链接或文件名），例如：交付物：https://…/方案.pdf、验收报告.docx"));
	if (json_array_size(items) > ARCHIVE_DELIVERABLES_MAX)
		json_array_append_new(problems, json_sprintf("交付物最多 %d 项，现在有 %zu 项。", ARCHIVE_DELIVERABLES_MAX,
							     json_array_size(items)));
	json_array_foreach(items, i, it) {
		const char *v = json_string_value(it);
		long chars = utf8_count(v);
		int link = !strncasecmp(v, "http://", 7) || !strncasecmp(v, "https://", 8);
		if (chars < 0 || chars > ARCHIVE_DELIVERABLE_CHARS) {
			char *echo = cmd_echo(v);
			json_array_append_new(problems, json_sprintf("交付物「%s…」太长（最多 %d 个字符）。", echo,
								     ARCHIVE_DELIVERABLE_CHARS));
			free(echo);
		} else if (link && strpbrk(v, " <>\"")) {
			char *echo = cmd_echo(v);
			json_array_append_new(problems, json_sprintf("链接「%s」含有空格或 < > \"，请检查。", echo));
			free(echo);
		}
		json_array_append_new(out, json_pack("{s:s,s:s}", "kind", link ? "link" : "file", "value", v));
	}
	return out;
}

/* "P01（技术·紧急·待响应）、…" for the open issues. */
static char *issue_list(json_t *open)
{
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *s;
	json_array_foreach(open, i, s)
		buf_printf(&b, "%s%s（%s·%s）", i ? "、" : "", json_string_value(json_object_get(s, "id")),
			   json_string_value(json_object_get(s, "type")), json_string_value(json_object_get(s, "severity")));
	return buf_steal(&b);
}

static const char *card_subject_fmt = "complete:%s"; /* the (first) completion card shown */

/* The completion card: deliverables and (if issues are open) a reason. */
static void show_card(struct cmd_ctx *ctx, const struct request_row *r, json_t *open)
{
	char *title = xasprintf("✅ 完成需求 %s", r->id);
	char *command = xasprintf("/需求 完成 %s\n交付物：\n原因：（有未解决的问题时必填）", r->id);
	json_t *body = json_pack("{s:s,s:s,s:s,s:{s:s,s:[{s:s,s:s,s:s,s:b,s:b,s:i},{s:s,s:s,s:s,s:b,s:b,s:i}],"
				 "s:{s:s,s:{s:s,s:s}},s:s}}",
				 "title", title, "color", "green", "lead",
				 "填写成果交付物（链接或文件名，每行一项），提交后需求归档并进入复盘。",
				 "form", "name", "complete", "inputs", "name", "deliverables", "label", "成果交付物（每行一项）",
				 "kind", "text", "required", 1, "multiline", 1, "max", 1000, "name", "reason", "label",
				 "未解决问题的原因", "kind", "text", "required", 0, "multiline", 1, "max", 1000, "submit", "label",
				 "提交并归档", "value", "action", "req.complete", "id", r->id, "command", command);
	if (json_array_size(open)) {
		char *list = issue_list(open);
		char *note = xasprintf("还有未解决的问题：%s。请先解决，或在“原因”中说明。", list);
		json_object_set_new(body, "note", json_string(note));
		free(note);
		free(list);
	}
	char *subject = xasprintf(card_subject_fmt, r->id);
	cmd_reply_about(ctx, "card", body, subject); /* closed once the request is completed */
	free(subject);
	json_decref(body);
	free(command);
	free(title);
}

static void reply_problems(struct cmd_ctx *ctx, const char *id, json_t *problems)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "需求 %s 暂不能完成，有 %zu 处需要处理（未保存任何内容）：", id, json_array_size(problems));
	cmd_list_problems(&b, problems);
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
}

/* Step 3's daily deadlines end with the execution. */
static void end_progress_deadlines(struct cmd_ctx *ctx, const char *id)
{
	char *prefix = xasprintf("req:%s:progress:", id);
	json_t *keys = store_open_deadline_keys(ctx->store, prefix);
	if (!keys)
		ctx->failed = 1;
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k)
		if (ctx->sched && sched_deadline_done(ctx->sched, json_string_value(k), "cancelled") == STORE_ERR)
			ctx->failed = 1;
	json_decref(keys);
	free(prefix);
}

/* Everything is valid: record, archive, start the retrospective. */
static void apply(struct cmd_ctx *ctx, const struct request_row *r, json_t *items, json_t *open, const char *reason)
{
	json_t *ids = json_array(), *s;
	size_t i;
	json_array_foreach(open, i, s)
		json_array_append(ids, json_object_get(s, "id"));
	json_t *detail = json_pack("{s:i,s:O,s:s?}", "deliverables", (int)json_array_size(items), "open_issues", ids,
				   "reason", reason);
	struct req_change c = { .actor = ctx->ev->user_id, .detail = detail };
	char why[160];
	enum req_enter_rc entered = req_enter(ctx->store, r, REQ_COMPLETE, &c, ctx->now, why, sizeof why);
	json_decref(detail);
	if (entered != REQ_ENTERED) {
		ctx->failed = 1; /* refused too: req_complete() checked the transition */
		json_decref(ids);
		return;
	}
	end_progress_deadlines(ctx, r->id);
	ms_t due = 0;
	retro_start(ctx, r, &due);
	if (store_completion_add(ctx->store, r->id, ctx->ev->user_id, ctx->now, items, ids, reason, due) != STORE_OK)
		ctx->failed = 1;
	json_decref(ids);
	char *name = archive_open(ctx, r->id);
	char when[32];
	render_local_time(due, 0, when, sizeof when);
	json_t *form = json_loads(r->form, 0, NULL);
	char *msg = xasprintf("需求 %s「%s」已完成，全部资料已归入协作项目库：%s（发送 /归档 %s 查看）。\n"
			      "请各参与部门在 %s 前完成复盘（复盘会），并提交复盘答复：/复盘 %s",
			      r->id, json_string_value(json_object_get(form, "需求名称")), name ? name : "—",
			      name ? name : r->id, when, r->id);
	cmd_reply_text(ctx, msg);
	free(msg);
	json_decref(form);
	free(name);
	req_card_refresh(ctx, r->id);
}

enum cmd_rc req_complete(struct cmd_ctx *ctx, const char *id, json_t *items, const char *reason, json_t *problems,
			 int form_if_empty, int *completed)
{
	*completed = 0;
	struct request_row r;
	if (!id || store_request_get(ctx->store, id, &r) != STORE_OK) {
		char *echo = cmd_echo(id ? id : ""), *msg = xasprintf("没有需求 %s。发送 /需求 列表 查看你的需求。", echo);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(echo);
		return CMD_ENOTFOUND;
	}
	enum cmd_rc rc = CMD_OK;
	char why[160];
	const char *to = req_transition(r.state, REQ_COMPLETE, why, sizeof why);
	json_t *open = NULL;
	if (strcmp(ctx->ev->user_id, r.initiator)) {
		char *name = dir_name(ctx->store, r.initiator), *msg = xasprintf("仅发起人 %s 可以标记需求 %s 完成。", name, r.id);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(name);
		rc = CMD_EPERM;
	} else if (!to) {
		cmd_reply_text(ctx, why);
	} else if (!(open = store_open_issues(ctx->store, r.id))) {
		ctx->failed = 1;
		rc = CMD_EINTERNAL;
	} else if (form_if_empty && !json_array_size(items) && !reason && !json_array_size(problems)) {
		show_card(ctx, &r, open);
	} else {
		json_t *list = deliverables(items, problems);
		if (json_array_size(open) && (!reason || !*reason)) {
			char *issues = issue_list(open);
			json_array_append_new(problems, json_sprintf("还有 %zu 个未解决的问题：%s。请先解决，或写明原因：原因：……",
								     json_array_size(open), issues));
			free(issues);
		}
		if (json_array_size(problems))
			reply_problems(ctx, r.id, problems);
		else {
			apply(ctx, &r, list, open, reason && *reason ? reason : NULL);
			*completed = !ctx->failed;
			/* however it was completed, the completion card asks no more */
			char *subject = xasprintf(card_subject_fmt, r.id);
			cmd_outcome_about(ctx, subject, r.chat_id, "已完成并归档", NULL);
			free(subject);
		}
		json_decref(list);
	}
	json_decref(open);
	request_row_free(&r);
	return ctx->failed ? CMD_EINTERNAL : rc;
}

enum cmd_rc req_complete_cmd(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	json_t *items = json_array(), *problems = json_array();
	const char *reason = NULL;
	for (size_t i = 0; i < a->nfields; i++) {
		const char *k = a->fields[i].key;
		if (is_key(k, "交付物", "成果交付物", "deliverables") || !strcasecmp(k, "deliverable")) {
			split_items(a->fields[i].value, items);
		} else if (is_key(k, "原因", "说明", "reason")) {
			reason = a->fields[i].value;
		} else {
			char *echo = cmd_echo(k);
			json_array_append_new(problems, json_sprintf("未知字段「%s」：完成时只填“交付物”和“原因”。", echo));
			free(echo);
		}
	}
	/* Lines under 交付物 without a key are further deliverables. */
	for (size_t i = 0; i < a->nlines; i++)
		split_items(a->lines[i], items);
	int completed;
	enum cmd_rc rc = req_complete(ctx, a->words[1], items, reason, problems, 1, &completed);
	json_decref(items);
	json_decref(problems);
	return rc;
}

/* The completion card's 提交并归档 button. */
static enum cmd_rc action_complete(struct cmd_ctx *ctx, json_t *value)
{
	json_t *fv = ctx->ev->form_value, *items = json_array(), *problems = json_array();
	const char *text = json_string_value(json_object_get(fv, "deliverables"));
	const char *reason = json_string_value(json_object_get(fv, "reason"));
	if (text)
		split_items(text, items);
	int completed;
	enum cmd_rc rc = req_complete(ctx, json_string_value(json_object_get(value, "id")), items,
				      reason && *reason ? reason : NULL, problems, 0, &completed);
	cmd_toast(ctx, completed ? "success" : "error", completed ? "已完成并归档，详见群消息" : "未能完成，详见群消息");
	if (completed)
		cmd_outcome(ctx, "已完成并归档", NULL, 0);
	json_decref(items);
	json_decref(problems);
	return rc;
}

const struct bot_action action_req_complete = { .name = "req.complete", .run = action_complete };
