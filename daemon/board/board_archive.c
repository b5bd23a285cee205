/*
 * board_archive.c - /board/archive: the 协作项目库 (archived requests, newest
 * first, each with its report's state) and the requests closed without
 * execution (rejected, withdrawn).  Each links to the request's page, where
 * the completion, the deliverables and the retrospective report are shown.
 */
#include <jansson.h>

#include "collabd/clock.h"
#include "collabd/daemon.h"
#include "collabd/html.h"
#include "collabd/store_board.h"
#include "collabd/webboard.h"

#define CLOSED_ROWS 200

static void request_link(struct buf *b, const char *id)
{
	html_raw(b, "<a href=\"/board/req/");
	html_url_segment(b, id);
	html_el(b, "\">", id, "", "</a>");
}

static const char *name_of(json_t *row, json_t **form)
{
	*form = json_loads(html_str(row, "form") ? html_str(row, "form") : "{}", 0, NULL);
	return html_str(*form, "需求名称");
}

/* "第 2/1000 页 · 上一页 · 下一页" (links only where there is a page). */
static void pager(struct buf *out, int page, long long pages)
{
	if (pages <= 1)
		return;
	buf_printf(out, "<p class=\"pager\">第 %d / %lld 页", page, pages);
	if (page > 1)
		buf_printf(out, " · <a href=\"/board/archive?page=%d\">上一页（较新）</a>", page - 1);
	if (page < pages)
		buf_printf(out, " · <a href=\"/board/archive?page=%d\">下一页（较早）</a>", page + 1);
	html_raw(out, "</p>");
}

int board_page_archive(struct daemon *d, int page, struct buf *out)
{
	ms_t now = clock_now_ms();
	long long total = store_board_archive_count(d->store);
	long long pages = total > 0 ? (total + BOARD_ARCHIVE_PAGE - 1) / BOARD_ARCHIVE_PAGE : 1;
	if (page < 1)
		page = 1;
	if (page > pages)
		page = (int)pages;
	json_t *archives = store_board_archives(d->store, BOARD_ARCHIVE_PAGE, (long long)(page - 1) * BOARD_ARCHIVE_PAGE);
	/* The requests closed without execution are few: the first page shows them. */
	json_t *closed = page == 1 ? store_board_closed_requests(d->store, CLOSED_ROWS) : json_array();
	if (total < 0 || !archives || !closed) {
		json_decref(archives);
		json_decref(closed);
		html_page_start(out, "协作项目库", 0, "archive", now);
		html_raw(out, "<p class=\"empty\">数据库暂时无法读取，请稍后刷新。</p>");
		html_page_end(out);
		return 503;
	}
	html_page_start(out, "协作项目库", 0, "archive", now);
	buf_printf(out, "<section><h2>协作项目库 <span class=\"count\">%lld</span></h2>", total);
	pager(out, page, pages);
	if (!json_array_size(archives)) {
		html_raw(out, "<p class=\"empty\">还没有归档的项目。</p>");
	} else {
		html_raw(out, "<div class=\"scroll\"><table class=\"list\"><thead><tr><th>归档名</th><th>需求</th>"
			      "<th>名称</th><th>归档时间</th><th>复盘报告</th><th>目录</th></tr></thead><tbody>");
		size_t i;
		json_t *a;
		json_array_foreach(archives, i, a) {
			json_t *form;
			const char *name = name_of(a, &form);
			html_el(out, "<tr><td>", html_str(a, "name"), "", "</td><td>");
			request_link(out, html_str(a, "request_id"));
			html_el(out, "</td><td>", name, "—", "</td><td>");
			html_time(out, html_int(a, "created_at"));
			html_raw(out, "</td><td>");
			if (html_int(a, "report_at") > 0) {
				html_raw(out, "<a href=\"/board/req/");
				html_url_segment(out, html_str(a, "request_id"));
				html_raw(out, "#retro\">已形成（");
				html_time(out, html_int(a, "report_at"));
				html_raw(out, "）</a>");
			} else {
				html_raw(out, "<span class=\"p-waiting\">待复盘</span>");
			}
			html_el(out, "</td><td><code>", html_str(a, "dir"), "—", "</code></td></tr>");
			json_decref(form);
		}
		html_raw(out, "</tbody></table></div>");
		pager(out, page, pages);
	}
	html_raw(out, "</section>");
	if (json_array_size(closed)) {
		buf_printf(out, "<section><h2>未执行而关闭的需求 <span class=\"count\">%zu</span></h2>"
				"<div class=\"scroll\"><table class=\"list\"><thead><tr><th>需求</th><th>名称</th>"
				"<th>状态</th><th>关闭时间</th></tr></thead><tbody>",
			   json_array_size(closed));
		size_t i;
		json_t *r;
		json_array_foreach(closed, i, r) {
			json_t *form;
			const char *name = name_of(r, &form);
			html_raw(out, "<tr><td>");
			request_link(out, html_str(r, "id"));
			html_el(out, "</td><td>", name, "—", "</td>");
			html_el(out, "<td>", board_label("request", html_str(r, "state")), "", "</td><td>");
			html_time(out, html_int(r, "updated_at"));
			html_raw(out, "</td></tr>");
			json_decref(form);
		}
		html_raw(out, "</tbody></table></div></section>");
	}
	html_page_end(out);
	json_decref(closed);
	json_decref(archives);
	return 200;
}
