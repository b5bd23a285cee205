/*
 * board_request.c - /board/req/<ID>: everything about one request on one
 * page: the form, its versions, each department's signature, objections,
 * the open deadlines, the progress table, issues with their solution
 * records, the completion with the retrospective, and the full timeline.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/clock.h"
#include "collabd/daemon.h"
#include "collabd/html.h"
#include "collabd/request.h"
#include "collabd/store_board.h"
#include "collabd/webboard.h"

#define REFRESH_S 60

/* "涉及部门" is stored as department codes: show their names. */
static void dept_names(struct buf *b, json_t *codes, json_t *depts)
{
	size_t i, j;
	json_t *code, *row;
	json_array_foreach(codes, i, code) {
		const char *name = NULL;
		json_array_foreach(depts, j, row)
			if (json_string_value(code) && html_str(row, "dept") && !strcmp(html_str(row, "dept"), json_string_value(code)))
				name = html_str(row, "dept_name");
		if (i)
			html_raw(b, "、");
		html_esc(b, name ? name : json_string_value(code));
	}
}

static void form_section(struct buf *b, json_t *req, json_t *form, json_t *depts)
{
	html_raw(b, "<section><h2>跨部门协作需求信息表</h2><dl class=\"form\">");
	for (size_t i = 0; i < request_field_count; i++) {
		const char *key = request_fields[i].key;
		json_t *v = json_object_get(form, key);
		html_el(b, "<dt>", key, "", "</dt><dd>");
		if (json_is_array(v))
			dept_names(b, v, depts);
		else if (!strcmp(key, "发起部门")) /* stored as the code; people know the name */
			html_esc(b, html_str(req, "dept_name") ? html_str(req, "dept_name") : html_str(req, "dept"));
		else
			html_esc(b, json_string_value(v) ? json_string_value(v) : "—");
		html_raw(b, "</dd>");
	}
	if (html_str(req, "reason"))
		html_el(b, "<dt>驳回原因</dt><dd>", html_str(req, "reason"), "", "</dd>");
	html_raw(b, "</dl></section>");
}

static void signatures(struct buf *b, json_t *depts)
{
	html_raw(b, "<section><h2>各部门确认与签名</h2>");
	if (!json_array_size(depts)) {
		html_raw(b, "<p class=\"empty\">尚未同步给各部门。</p></section>");
		return;
	}
	html_raw(b, "<div class=\"scroll\"><table class=\"list\"><thead><tr><th>部门</th><th>状态</th><th>签名人</th>"
		    "<th>时间</th><th>版本</th><th>指纹</th></tr></thead><tbody>");
	size_t i;
	json_t *r;
	json_array_foreach(depts, i, r) {
		html_el(b, "<tr><td>", html_str(r, "dept_name"), html_str(r, "dept"), "</td>");
		html_el(b, "<td>", board_label("dept", html_str(r, "state")), "", "</td>");
		html_el(b, "<td>", html_str(r, "signer_name"), html_str(r, "signed_by") ? html_str(r, "signed_by") : "—",
			"</td><td>");
		html_time(b, html_int(r, "signed_at"));
		if (html_int(r, "version"))
			buf_printf(b, "</td><td>第 %lld 版</td>", html_int(r, "version"));
		else
			html_raw(b, "</td><td>—</td>");
		html_el(b, "<td><code>", html_str(r, "hash"), "—", "</code></td></tr>");
	}
	html_raw(b, "</tbody></table></div></section>");
}

static void versions(struct buf *b, json_t *rows)
{
	html_raw(b, "<section><h2>版本</h2><div class=\"scroll\"><table class=\"list\"><thead><tr><th>版本</th>"
		    "<th>时间</th><th>指纹</th></tr></thead><tbody>");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		buf_printf(b, "<tr><td>第 %lld 版</td><td>", html_int(r, "version"));
		html_time(b, html_int(r, "created_at"));
		html_el(b, "</td><td><code>", html_str(r, "hash"), "—", "</code></td></tr>");
	}
	html_raw(b, "</tbody></table></div></section>");
}

static void objections(struct buf *b, json_t *rows)
{
	if (!json_array_size(rows))
		return;
	html_raw(b, "<section><h2>异议</h2><div class=\"scroll\"><table class=\"list\"><thead><tr><th>编号</th><th>部门</th>"
		    "<th>提出人</th><th>异议说明</th><th>建议方案</th><th>状态</th><th>答复</th></tr></thead><tbody>");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		buf_printf(b, "<tr><td>%lld</td>", html_int(r, "id"));
		html_el(b, "<td>", html_str(r, "dept_name"), html_str(r, "dept"), "</td>");
		html_el(b, "<td>", html_str(r, "raiser_name"), "—", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "explanation"), "", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "proposal"), "", "</td>");
		html_el(b, "<td>", board_label("objection", html_str(r, "state")), "", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "answer"), "—", "</td></tr>");
	}
	html_raw(b, "</tbody></table></div></section>");
}

static void deadlines(struct buf *b, json_t *rows, ms_t now)
{
	if (!json_array_size(rows))
		return;
	html_raw(b, "<section><h2>待办时限</h2><ul class=\"deadlines\">");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		ms_t due = html_int(r, "due_at");
		buf_printf(b, "<li%s>", due <= now ? " class=\"overdue\"" : "");
		html_esc(b, html_str(r, "subject"));
		html_raw(b, " · 截止 ");
		html_time(b, due);
		html_raw(b, " · ");
		html_countdown(b, due, now);
		html_raw(b, "</li>");
	}
	html_raw(b, "</ul></section>");
}

static void progress(struct buf *b, json_t *rows)
{
	if (!json_array_size(rows))
		return;
	html_raw(b, "<section><h2>跨部门协作进度同步表</h2><div class=\"scroll\"><table class=\"list\"><thead><tr>"
		    "<th>日期</th><th>部门</th><th>填写人</th><th>已完成</th><th>未完成及原因</th><th>下一步计划</th>"
		    "<th>状态</th></tr></thead><tbody>");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		const char *verdict = html_str(r, "verdict");
		int missed = verdict && strcmp(verdict, "on_time");
		buf_printf(b, "<tr%s>", missed ? " class=\"overdue\"" : "");
		html_el(b, "<td>", html_str(r, "day"), "", "</td>");
		html_el(b, "<td>", html_str(r, "dept_name"), html_str(r, "dept"), "");
		if (html_int(r, "revision") > 1)
			buf_printf(b, "<small>第 %lld 次修改</small>", html_int(r, "revision") - 1);
		html_el(b, "</td><td>", html_str(r, "author_name"), "—", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "done"), "", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "undone"), "", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "next"), "", "</td>");
		html_el(b, "<td>", verdict ? board_label("progress", verdict) : html_int(r, "late") ? "补交" : "已提交", "",
			"</td></tr>");
	}
	html_raw(b, "</tbody></table></div></section>");
}

static void issues(struct buf *b, json_t *rows)
{
	if (!json_array_size(rows))
		return;
	html_raw(b, "<section><h2>问题反馈与解决</h2><div class=\"scroll\"><table class=\"list\"><thead><tr><th>问题</th>"
		    "<th>类型</th><th>级别</th><th>状态</th><th>描述</th><th>反馈人</th><th>负责人</th><th>原因与措施</th>"
		    "<th>结果</th></tr></thead><tbody>");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		const char *sev = html_str(r, "severity");
		html_el(b, "<tr><td>", html_str(r, "id"), "", "<small>");
		html_time(b, html_int(r, "created_at"));
		html_el(b, "</small></td><td>", html_str(r, "type"), "—", "</td>");
		buf_printf(b, "<td class=\"sev-%s\">", sev && (!strcmp(sev, "紧急") || !strcmp(sev, "urgent")) ? "urgent" : "normal");
		html_el(b, "", sev, "", "</td>");
		html_el(b, "<td>", board_label("issue", html_str(r, "state")), "", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "description"), "", "</td>");
		html_el(b, "<td>", html_str(r, "reporter_name"), "—", "</td>");
		html_el(b, "<td>", html_str(r, "owner_name"), "—", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "cause"), "—", "");
		html_el(b, "<br>", html_str(r, "measures"), "", "</td>");
		html_el(b, "<td class=\"text\">", html_str(r, "result"), "—", "</td></tr>");
	}
	html_raw(b, "</tbody></table></div></section>");
}

/* A deliverable is a link or a file name; only http(s) links become links. */
static void deliverable(struct buf *b, json_t *item)
{
	const char *v = json_is_string(item) ? json_string_value(item) : html_str(item, "value");
	if (v && (!strncmp(v, "https://", 8) || !strncmp(v, "http://", 7))) {
		html_raw(b, "<li><a rel=\"noopener noreferrer\" href=\"");
		html_esc(b, v);
		html_el(b, "\">", v, "", "</a></li>");
	} else {
		html_el(b, "<li>", v, "—", "</li>");
	}
}

static void completion(struct buf *b, json_t *c, json_t *retro, ms_t now)
{
	if (!c && !json_array_size(retro))
		return;
	html_raw(b, "<section id=\"retro\"><h2>成果归档与复盘</h2>");
	if (c) {
		html_el(b, "<p class=\"meta\">完成人 ", html_str(c, "completer_name"), "—", " · 完成于 ");
		html_time(b, html_int(c, "completed_at"));
		html_raw(b, " · 复盘截止 ");
		html_time(b, html_int(c, "retro_due"));
		if (html_int(c, "retro_due") > 0 && !json_array_size(retro)) {
			html_raw(b, " · ");
			html_countdown(b, html_int(c, "retro_due"), now);
		}
		html_raw(b, "</p><h3>交付成果</h3><ul>");
		json_t *items = json_loads(html_str(c, "deliverables") ? html_str(c, "deliverables") : "[]", 0, NULL);
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it)
			deliverable(b, it);
		json_decref(items);
		html_raw(b, "</ul>");
		if (html_str(c, "open_issues_reason"))
			html_el(b, "<p>遗留问题说明：", html_str(c, "open_issues_reason"), "", "</p>");
	}
	size_t i;
	json_t *r;
	json_array_foreach(retro, i, r) {
		html_el(b, "<h3>复盘 · ", html_str(r, "dept_name"), html_str(r, "dept"), "");
		html_el(b, "<small>", html_str(r, "author_name"), "—", " · ");
		html_time(b, html_int(r, "answered_at"));
		html_raw(b, "</small></h3><dl class=\"form\">");
		json_t *answers = json_loads(html_str(r, "answers") ? html_str(r, "answers") : "{}", 0, NULL);
		const char *q;
		json_t *a;
		json_object_foreach(answers, q, a) {
			html_el(b, "<dt>", q, "", "</dt>");
			html_el(b, "<dd>", json_string_value(a), "—", "</dd>");
		}
		json_decref(answers);
		html_raw(b, "</dl>");
	}
	html_raw(b, "</section>");
}

/* A timeline detail is JSON from the workflow or plain text: show its
 * values as "key：value" pairs, escaped like everything else. */
static void detail(struct buf *b, const char *text)
{
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		int first = 1;
		json_object_foreach(j, k, v) {
			char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			html_raw(b, first ? "" : "；");
			html_esc(b, board_label("detail", k));
			html_raw(b, "：");
			html_esc(b, s ? s : json_string_value(v));
			free(s);
			first = 0;
		}
	} else {
		html_esc(b, text);
	}
	json_decref(j);
}

static void timeline(struct buf *b, json_t *rows)
{
	html_raw(b, "<section><h2>完整时间线</h2><ol class=\"timeline\">");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		html_raw(b, "<li><time>");
		html_time(b, html_int(r, "at"));
		html_el(b, "</time> <b>", html_str(r, "actor_name"), html_str(r, "actor"), "</b> ");
		html_esc(b, board_label("timeline", html_str(r, "kind")));
		if (html_str(r, "detail")) {
			html_raw(b, " <small>");
			detail(b, html_str(r, "detail"));
			html_raw(b, "</small>");
		}
		html_raw(b, "</li>");
	}
	html_raw(b, "</ol></section>");
}

int board_page_request(struct daemon *d, const char *id, struct buf *out)
{
	ms_t now = clock_now_ms();
	json_t *req = store_board_request(d->store, id);
	if (!req) {
		html_page_start(out, "找不到需求", 0, "board", now);
		html_el(out, "<p class=\"empty\">找不到需求 ", id, "", "。</p>");
		html_page_end(out);
		return 404;
	}
	json_t *form = json_loads(html_str(req, "form") ? html_str(req, "form") : "{}", 0, NULL);
	json_t *depts = store_board_request_depts(d->store, id), *open = store_board_open_deadlines(d->store, id);
	char *title = xasprintf("%s %s", id, html_str(form, "需求名称") ? html_str(form, "需求名称") : "");
	html_page_start(out, title, REFRESH_S, "board", now);
	free(title);
	html_el(out, "<h1 class=\"req\"><span class=\"id\">", id, "", "</span> ");
	html_el(out, "", html_str(form, "需求名称"), "（未命名）", "");
	html_el(out, " <span class=\"badge\">", board_label("request", html_str(req, "state")), "", "</span>");
	buf_printf(out, " <span class=\"badge\">第 %lld 版</span></h1>", html_int(req, "version"));
	html_el(out, "<p class=\"meta\">发起人 ", html_str(req, "initiator_name"), html_str(req, "initiator"), " · 提交于 ");
	html_time(out, html_int(req, "created_at"));
	html_raw(out, " · 最近更新 ");
	html_time(out, html_int(req, "updated_at"));
	html_raw(out, "</p>");
	deadlines(out, open, now);
	form_section(out, req, form, depts);
	signatures(out, depts);
	json_t *rows = store_board_versions(d->store, id);
	versions(out, rows);
	json_decref(rows);
	objections(out, rows = store_board_objections(d->store, id));
	json_decref(rows);
	progress(out, rows = store_board_progress_all(d->store, id));
	json_decref(rows);
	issues(out, rows = store_board_issues(d->store, id));
	json_decref(rows);
	json_t *c = store_board_completion(d->store, id), *retro = store_board_retro(d->store, id);
	completion(out, c, retro, now);
	json_decref(c);
	json_decref(retro);
	timeline(out, rows = store_board_timeline(d->store, id));
	json_decref(rows);
	html_page_end(out);
	json_decref(open);
	json_decref(depts);
	json_decref(form);
	json_decref(req);
	return 200;
}
