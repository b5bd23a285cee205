/*
 * board_overview.c - /board: every request still in play, grouped by state,
 * with each department's answer and today's progress, overdue deadlines
 * highlighted, and the open issues with their SLA countdowns.
 *
 * The page refreshes itself every minute (a meta refresh, no script), so
 * the countdowns and highlights follow the clock on a wall screen.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/clock.h"
#include "collabd/daemon.h"
#include "collabd/html.h"
#include "collabd/store_board.h"
#include "collabd/webboard.h"

#define REFRESH_S 60

/* The states in the order work flows through them; others follow. */
static const char *const state_order[] = { "pending_approval", "syncing", "in_progress" };

static void today(ms_t now, char *day, size_t daysz)
{
	int y, m, dd, minute;
	calendar_local_date(now, &y, &m, &dd, &minute);
	snprintf(day, daysz, "%04d-%02d-%02d", y, m, dd);
}

/* The request's name from its stored form (borrowed from form). */
static const char *form_name(json_t *form) { return html_str(form, "需求名称"); }

/* The deadline in deadlines whose key ends with suffix, or NULL. */
static json_t *deadline_with_suffix(json_t *deadlines, const char *suffix)
{
	size_t i, n = strlen(suffix);
	json_t *dl;
	json_array_foreach(deadlines, i, dl) {
		const char *key = html_str(dl, "key");
		size_t k = key ? strlen(key) : 0;
		if (k >= n && !strcmp(key + k - n, suffix))
			return dl;
	}
	return NULL;
}

static int any_overdue(json_t *deadlines, ms_t now)
{
	size_t i;
	json_t *dl;
	json_array_foreach(deadlines, i, dl)
		if (html_int(dl, "due_at") <= now)
			return 1;
	return 0;
}

static json_t *progress_of(json_t *progress, const char *dept)
{
	size_t i;
	json_t *p;
	json_array_foreach(progress, i, p)
		if (html_str(p, "dept") && !strcmp(html_str(p, "dept"), dept))
			return p;
	return NULL;
}

/* Today's progress cell: the cut-off's verdict, else whether an update came. */
static void progress_cell(struct buf *b, json_t *p, int executing)
{
	const char *verdict = html_str(p, "verdict");
	if (verdict) {
		buf_printf(b, "<td class=\"p-%s\">", !strcmp(verdict, "on_time") ? "ok" : !strcmp(verdict, "late") ? "late"
										      : "missed");
		html_esc(b, board_label("progress", verdict));
	} else if (p && html_int(p, "updated")) {
		html_raw(b, "<td class=\"p-ok\">已更新");
	} else if (p || executing) {
		html_raw(b, "<td class=\"p-waiting\">待更新");
	} else {
		html_raw(b, "<td class=\"p-none\">—");
	}
	html_raw(b, "</td>");
}

static void dept_table(struct daemon *d, struct buf *b, json_t *req, json_t *deadlines, ms_t now, const char *day)
{
	const char *id = html_str(req, "id");
	int executing = !strcmp(html_str(req, "state"), "in_progress");
	json_t *depts = store_board_request_depts(d->store, id);
	json_t *progress = executing ? store_board_progress_today(d->store, id, day) : NULL;
	if (json_array_size(depts)) {
		html_raw(b, "<table class=\"depts\"><thead><tr><th>部门</th><th>确认</th>");
		if (executing)
			html_raw(b, "<th>今日进度</th>");
		html_raw(b, "</tr></thead><tbody>");
		size_t i;
		json_t *row;
		json_array_foreach(depts, i, row) {
			const char *dept = html_str(row, "dept"), *state = html_str(row, "state");
			char suffix[64];
			snprintf(suffix, sizeof suffix, ":confirm:%s", dept ? dept : "");
			json_t *dl = deadline_with_suffix(deadlines, suffix);
			int late = dl && html_int(dl, "due_at") <= now;
			buf_printf(b, "<tr%s>", late ? " class=\"overdue\"" : "");
			html_el(b, "<td>", html_str(row, "dept_name"), dept, "</td>");
			buf_printf(b, "<td class=\"s-%s\">", state && !strcmp(state, "confirmed")  ? "ok"
							     : state && !strcmp(state, "objected") ? "objected"
							     : state && !strcmp(state, "overruled") ? "ok"
												    : "waiting");
			html_esc(b, board_label("dept", state));
			if (html_str(row, "signer_name"))
				html_el(b, "<small>", html_str(row, "signer_name"), "", "</small>");
			if (dl && state && !strcmp(state, "pending"))
				html_countdown(b, html_int(dl, "due_at"), now);
			html_raw(b, "</td>");
			if (executing)
				progress_cell(b, progress_of(progress, dept), 1);
			html_raw(b, "</tr>");
		}
		html_raw(b, "</tbody></table>");
	}
	json_decref(progress);
	json_decref(depts);
}

static void deadline_list(struct buf *b, json_t *deadlines, ms_t now)
{
	if (!json_array_size(deadlines))
		return;
	html_raw(b, "<ul class=\"deadlines\">");
	size_t i;
	json_t *dl;
	json_array_foreach(deadlines, i, dl) {
		ms_t due = html_int(dl, "due_at");
		buf_printf(b, "<li%s>", due <= now ? " class=\"overdue\"" : "");
		html_esc(b, html_str(dl, "subject"));
		html_raw(b, " · ");
		html_countdown(b, due, now);
		html_raw(b, "</li>");
	}
	html_raw(b, "</ul>");
}

static void request_card(struct daemon *d, struct buf *b, json_t *req, ms_t now, const char *day, int *overdue)
{
	const char *id = html_str(req, "id");
	json_t *form = json_loads(html_str(req, "form") ? html_str(req, "form") : "{}", 0, NULL);
	json_t *deadlines = store_board_open_deadlines(d->store, id);
	int late = any_overdue(deadlines, now);
	*overdue += late;
	html_raw(b, late ? "<article class=\"card overdue\" id=\"req-" : "<article class=\"card\" id=\"req-");
	html_url_segment(b, id);
	html_raw(b, "\"><h3><a href=\"/board/req/");
	html_url_segment(b, id);
	html_el(b, "\">", id, "", "</a> ");
	html_el(b, "<span class=\"name\">", form_name(form), "（未命名）", "</span>");
	if (late)
		html_raw(b, " <span class=\"badge overdue-tag\">超时</span>");
	html_raw(b, "</h3><p class=\"meta\">");
	html_esc(b, html_str(req, "dept_name") ? html_str(req, "dept_name") : html_str(req, "dept"));
	html_raw(b, " · ");
	html_esc(b, html_str(req, "initiator_name") ? html_str(req, "initiator_name") : html_str(req, "initiator"));
	html_el(b, " · 期望完成 ", html_str(form, "期望完成时间"), "—", "");
	buf_printf(b, " · 第 %lld 版</p>", html_int(req, "version"));
	dept_table(d, b, req, deadlines, now, day);
	deadline_list(b, deadlines, now);
	html_raw(b, "</article>");
	json_decref(deadlines);
	json_decref(form);
}

static int in_order(const char *state)
{
	for (size_t i = 0; i < ARRAY_LEN(state_order); i++)
		if (!strcmp(state_order[i], state))
			return 1;
	return 0;
}

static void state_section(struct daemon *d, struct buf *b, json_t *reqs, const char *state, ms_t now,
			  const char *day, int *overdue)
{
	size_t i, n = 0;
	json_t *req;
	json_array_foreach(reqs, i, req)
		n += !strcmp(html_str(req, "state"), state);
	if (!n)
		return;
	html_raw(b, "<section class=\"state\"><h2>");
	html_esc(b, board_label("request", state));
	buf_printf(b, " <span class=\"count\">%zu</span></h2><div class=\"cards\">", n);
	json_array_foreach(reqs, i, req)
		if (!strcmp(html_str(req, "state"), state))
			request_card(d, b, req, now, day, overdue);
	html_raw(b, "</div></section>");
}

/* The issue's own deadline among its request's (keys carry the issue id). */
static json_t *issue_deadline(json_t *deadlines, const char *issue_id)
{
	size_t i;
	json_t *dl;
	char mid[96], tail[96];
	snprintf(mid, sizeof mid, ":%s:", issue_id);
	snprintf(tail, sizeof tail, ":%s", issue_id);
	json_array_foreach(deadlines, i, dl) {
		const char *key = html_str(dl, "key");
		size_t k = key ? strlen(key) : 0, t = strlen(tail);
		if (key && (strstr(key, mid) || (k >= t && !strcmp(key + k - t, tail))))
			return dl;
	}
	return NULL;
}

static void open_issues(struct daemon *d, struct buf *b, ms_t now)
{
	json_t *issues = store_board_open_issues(d->store);
	buf_printf(b, "<section class=\"issues\"><h2>未解决的问题 <span class=\"count\">%zu</span></h2>",
		   json_array_size(issues));
	if (!json_array_size(issues)) {
		html_raw(b, "<p class=\"empty\">没有未解决的问题。</p></section>");
		json_decref(issues);
		return;
	}
	html_raw(b, "<div class=\"scroll\"><table class=\"list\"><thead><tr><th>问题</th><th>需求</th><th>级别</th>"
		    "<th>状态</th><th>描述</th><th>时限</th></tr></thead><tbody>");
	size_t i;
	json_t *is;
	json_array_foreach(issues, i, is) {
		const char *rid = html_str(is, "request_id");
		json_t *deadlines = store_board_open_deadlines(d->store, rid);
		json_t *dl = issue_deadline(deadlines, html_str(is, "id"));
		int late = dl && html_int(dl, "due_at") <= now;
		const char *sev = html_str(is, "severity");
		buf_printf(b, "<tr%s>", late ? " class=\"overdue\"" : "");
		html_el(b, "<td>", html_str(is, "id"), "", "</td><td><a href=\"/board/req/");
		html_url_segment(b, rid);
		html_el(b, "\">", rid, "", "</a></td>");
		buf_printf(b, "<td class=\"sev-%s\">", sev && (!strcmp(sev, "紧急") || !strcmp(sev, "urgent")) ? "urgent" : "normal");
		html_el(b, "", sev, "", "</td>");
		html_el(b, "<td>", board_label("issue", html_str(is, "state")), "", "</td>");
		html_el(b, "<td class=\"text\">", html_str(is, "description"), "", "</td><td>");
		if (dl)
			html_countdown(b, html_int(dl, "due_at"), now);
		else
			html_raw(b, "—");
		html_raw(b, "</td></tr>");
		json_decref(deadlines);
	}
	html_raw(b, "</tbody></table></div></section>");
	json_decref(issues);
}

int board_page_overview(struct daemon *d, struct buf *out)
{
	ms_t now = clock_now_ms();
	char day[16];
	today(now, day, sizeof day);
	json_t *reqs = store_board_active_requests(d->store);
	struct buf body;
	buf_init(&body);
	int overdue = 0;
	for (size_t i = 0; i < ARRAY_LEN(state_order); i++)
		state_section(d, &body, reqs, state_order[i], now, day, &overdue);
	/* States added by later steps (e.g. completion) follow in stored order. */
	size_t i;
	json_t *req;
	json_array_foreach(reqs, i, req) {
		const char *state = html_str(req, "state");
		int first = 1;
		for (size_t j = 0; j < i; j++)
			first &= strcmp(html_str(json_array_get(reqs, j), "state"), state) != 0;
		if (first && !in_order(state))
			state_section(d, &body, reqs, state, now, day, &overdue);
	}
	if (!json_array_size(reqs))
		html_raw(&body, "<p class=\"empty\">目前没有进行中的协作需求。</p>");
	open_issues(d, &body, now);

	html_page_start(out, "进度看板", REFRESH_S, "board", now);
	buf_printf(out, "<p class=\"summary\">进行中的需求 <b>%zu</b> 项", json_array_size(reqs));
	buf_printf(out, overdue ? " · <b class=\"overdue-tag\">%d 项超时</b>" : " · 无超时", overdue);
	buf_printf(out, " · 今天 %s</p>", day);
	buf_append(out, body.data, body.len);
	html_page_end(out);
	buf_free(&body);
	json_decref(reqs);
	return 200;
}
