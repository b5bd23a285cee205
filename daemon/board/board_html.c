/*
 * board_html.c - escaping and the page frame shared by the board's pages.
 */
#include "collabd/html.h"

#include <stdio.h>
#include <string.h>

#include "collabd/render.h"

void html_esc(struct buf *b, const char *s)
{
	if (!s)
		return;
	const char *run = s;
	for (const char *p = s; *p; p++) {
		const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
				  : *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;
		if (!rep)
			continue;
		buf_append(b, run, (size_t)(p - run));
		buf_append_str(b, rep);
		run = p + 1;
	}
	buf_append_str(b, run);
}

void html_raw(struct buf *b, const char *markup) { buf_append_str(b, markup); }

void html_el(struct buf *b, const char *open, const char *text, const char *fallback, const char *close)
{
	buf_append_str(b, open);
	html_esc(b, text && *text ? text : fallback);
	buf_append_str(b, close);
}

void html_url_segment(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-' ||
		    *p == '_' || *p == '.')
			buf_append(b, p, 1);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

const char *html_str(json_t *obj, const char *key) { return json_string_value(json_object_get(obj, key)); }
long long html_int(json_t *obj, const char *key) { return json_integer_value(json_object_get(obj, key)); }

void html_time(struct buf *b, ms_t t)
{
	char when[32];
	if (t <= 0) {
		buf_append_str(b, "—");
		return;
	}
	render_local_time(t, 0, when, sizeof when);
	buf_append_str(b, when);
}

void html_span(struct buf *b, ms_t span)
{
	long long min = span / 60000, days = min / 1440, hours = min % 1440 / 60, mins = min % 60;
	if (days > 0)
		buf_printf(b, hours ? "%lld天%lld小时" : "%lld天", days, hours);
	else if (hours > 0)
		buf_printf(b, mins ? "%lld小时%lld分" : "%lld小时", hours, mins);
	else if (mins > 0)
		buf_printf(b, "%lld分", mins);
	else
		buf_append_str(b, "不到1分");
}

void html_countdown(struct buf *b, ms_t due, ms_t now)
{
	if (due > now) {
		html_raw(b, "<span class=\"due\">剩余 ");
		html_span(b, due - now);
	} else {
		html_raw(b, "<span class=\"overdue-tag\">已超时 ");
		html_span(b, now - due);
	}
	html_raw(b, "</span>");
}

void html_page_start(struct buf *b, const char *title, int refresh_s, const char *active, ms_t now)
{
	html_raw(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<meta name=\"referrer\" content=\"no-referrer\">");
	if (refresh_s > 0)
		buf_printf(b, "<meta http-equiv=\"refresh\" content=\"%d\">", refresh_s);
	html_el(b, "<title>", title, "", " · 跨部门协作看板</title>");
	html_raw(b, "<link rel=\"stylesheet\" href=\"/board/style.css\"></head><body>"
		    "<header class=\"top\"><a class=\"brand\" href=\"/board\">跨部门协作 · 进度看板</a><nav>");
	buf_printf(b, "<a href=\"/board\"%s>看板</a><a href=\"/board/archive\"%s>协作项目库</a>",
		   !strcmp(active, "board") ? " class=\"on\"" : "", !strcmp(active, "archive") ? " class=\"on\"" : "");
	html_raw(b, "</nav><span class=\"now\">更新于 ");
	html_time(b, now);
	if (refresh_s > 0)
		buf_printf(b, " · 每 %d 秒刷新", refresh_s);
	html_raw(b, "</span></header><main>");
}

void html_page_end(struct buf *b)
{
	html_raw(b, "</main><footer>collabd · 时间按本地时区显示</footer></body></html>\n");
}
