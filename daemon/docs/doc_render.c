/*
 * doc_render.c - prints the archive's document model (archive.h) as
 * Markdown and as self-contained HTML.
 *
 * Every string in a document may come from a user, so both printers escape
 * all of it: Markdown with backslashes (and entities for & < >), so no text
 * can become a link, an image, a heading, a table cell break or raw HTML;
 * HTML with entities.  The HTML has its style inline, no scripts and no
 * external resources, so the file opens anywhere offline and prints to PDF
 * from a browser (A4, table headers repeated on each page).
 */
#include <ctype.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/util.h"

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

/* ---- Markdown ---- */

/* Appends s escaped.  In a table cell a newline is <br> and | is escaped;
 * elsewhere a newline is a hard break. */
static void md_text(struct buf *b, const char *s, int cell)
{
	int line_start = !cell;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		unsigned char c = *p;
		if (c == '\n') {
			buf_append_str(b, cell ? "<br>" : "  \n");
			line_start = !cell;
			continue;
		}
		if (c < 0x20 || c == 0x7f) { /* control characters would break the layout */
			buf_append_str(b, " ");
			continue;
		}
		if (line_start && (c == ' ' || c == '\t')) {
			buf_append_str(b, "&#32;"); /* leading blanks would make code blocks */
			continue;
		}
		if (line_start && isdigit(c)) {
			/* "1. text" would become a list item: escape the dot. */
			const unsigned char *q = p;
			while (isdigit(*q))
				q++;
			buf_append(b, p, (size_t)(q - p));
			p = q - 1;
			if (*q == '.' || *q == ')') {
				buf_printf(b, "\\%c", *q);
				p = q;
			}
			line_start = 0;
			continue;
		}
		if (line_start && strchr("-+=", c)) /* a list item or a heading underline */
			buf_printf(b, "\\%c", c);
		else if (c == '&')
			buf_append_str(b, "&amp;");
		else if (c == '<')
			buf_append_str(b, "&lt;");
		else if (c == '>')
			buf_append_str(b, "&gt;");
		else if (strchr("\\`*_[]#|~", c)) /* ( and ! matter only next to [ ] */
			buf_printf(b, "\\%c", c);
		else
			buf_append(b, &c, 1);
		line_start = 0;
	}
}

static void md_table(struct buf *b, json_t *table)
{
	json_t *cols = json_object_get(table, "columns"), *rows = json_object_get(table, "rows"), *v, *row;
	size_t i, j;
	buf_append_str(b, "|");
	json_array_foreach(cols, i, v) {
		buf_append_str(b, " ");
		md_text(b, json_string_value(v), 1);
		buf_append_str(b, " |");
	}
	buf_append_str(b, "\n|");
	for (i = 0; i < json_array_size(cols); i++)
		buf_append_str(b, " --- |");
	buf_append_str(b, "\n");
	json_array_foreach(rows, i, row) {
		buf_append_str(b, "|");
		json_array_foreach(row, j, v) {
			buf_append_str(b, " ");
			md_text(b, json_string_value(v), 1);
			buf_append_str(b, " |");
		}
		buf_append_str(b, "\n");
	}
}

char *doc_markdown(json_t *doc)
{
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "# ");
	md_text(&b, str(doc, "title"), 1);
	buf_append_str(&b, "\n\n");
	if (str(doc, "subtitle")) {
		md_text(&b, str(doc, "subtitle"), 0);
		buf_append_str(&b, "\n\n");
	}
	size_t i, j;
	json_t *sec, *v;
	json_array_foreach(json_object_get(doc, "sections"), i, sec) {
		buf_append_str(&b, "## ");
		md_text(&b, str(sec, "heading"), 1);
		buf_append_str(&b, "\n\n");
		int any = 0;
		json_array_foreach(json_object_get(sec, "fields"), j, v) {
			buf_append_str(&b, "- **");
			md_text(&b, str(v, "label"), 1);
			buf_append_str(&b, "**：");
			md_text(&b, str(v, "value") && *str(v, "value") ? str(v, "value") : "—", 1);
			buf_append_str(&b, "\n");
			any = 1;
		}
		if (any)
			buf_append_str(&b, "\n");
		json_array_foreach(json_object_get(sec, "paragraphs"), j, v) {
			md_text(&b, json_string_value(v), 0);
			buf_append_str(&b, "\n\n");
			any = 1;
		}
		json_array_foreach(json_object_get(sec, "list"), j, v) {
			buf_append_str(&b, "- ");
			md_text(&b, json_string_value(v), 1);
			buf_append_str(&b, "\n");
			any = 1;
		}
		if (json_array_size(json_object_get(sec, "list")))
			buf_append_str(&b, "\n");
		json_t *table = json_object_get(sec, "table");
		if (table && json_array_size(json_object_get(table, "rows"))) {
			md_table(&b, table);
			buf_append_str(&b, "\n");
			any = 1;
		}
		if (!any) {
			md_text(&b, str(sec, "empty") ? str(sec, "empty") : "（无）", 0);
			buf_append_str(&b, "\n\n");
		}
	}
	return buf_steal(&b);
}

/* ---- HTML ---- */

static void html_text(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&': buf_append_str(b, "&amp;"); break;
		case '<': buf_append_str(b, "&lt;"); break;
		case '>': buf_append_str(b, "&gt;"); break;
		case '"': buf_append_str(b, "&quot;"); break;
		case '\'': buf_append_str(b, "&#39;"); break;
		case '\n': buf_append_str(b, "<br>"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_append_str(b, " ");
			else
				buf_append(b, p, 1);
		}
	}
}

static const char html_style[] =
	"body{font-family:\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",\"Source Han Sans SC\",sans-serif;"
	"color:#1f2329;margin:2em auto;max-width:60em;padding:0 1em;line-height:1.6;font-size:14px}"
	"h1{font-size:1.6em;border-bottom:2px solid #3370ff;padding-bottom:.3em}"
	"h2{font-size:1.2em;margin-top:1.6em;color:#3370ff}"
	".sub{color:#646a73}"
	"table{border-collapse:collapse;width:100%;margin:.5em 0}"
	"th,td{border:1px solid #dee0e3;padding:.3em .5em;text-align:left;vertical-align:top}"
	"th{background:#f5f6f7}"
	"dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}"
	"dt{font-weight:bold}dd{margin:0}"
	".empty{color:#8f959e}"
	"@page{size:A4;margin:15mm}"
	"@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}"
	"thead{display:table-header-group}tr{break-inside:avoid}}";

char *doc_html(json_t *doc)
{
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
			   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	html_text(&b, str(doc, "title"));
	buf_printf(&b, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1>", html_style);
	html_text(&b, str(doc, "title"));
	buf_append_str(&b, "</h1>\n");
	if (str(doc, "subtitle")) {
		buf_append_str(&b, "<p class=\"sub\">");
		html_text(&b, str(doc, "subtitle"));
		buf_append_str(&b, "</p>\n");
	}
	size_t i, j, k;
	json_t *sec, *v, *row;
	json_array_foreach(json_object_get(doc, "sections"), i, sec) {
		buf_printf(&b, "<section id=\"s%zu\">\n<h2>", i + 1);
		html_text(&b, str(sec, "heading"));
		buf_append_str(&b, "</h2>\n");
		int any = 0;
		if (json_array_size(json_object_get(sec, "fields"))) {
			buf_append_str(&b, "<dl>\n");
			json_array_foreach(json_object_get(sec, "fields"), j, v) {
				buf_append_str(&b, "<dt>");
				html_text(&b, str(v, "label"));
				buf_append_str(&b, "</dt><dd>");
				html_text(&b, str(v, "value") && *str(v, "value") ? str(v, "value") : "—");
				buf_append_str(&b, "</dd>\n");
			}
			buf_append_str(&b, "</dl>\n");
			any = 1;
		}
		json_array_foreach(json_object_get(sec, "paragraphs"), j, v) {
			buf_append_str(&b, "<p>");
			html_text(&b, json_string_value(v));
			buf_append_str(&b, "</p>\n");
			any = 1;
		}
		if (json_array_size(json_object_get(sec, "list"))) {
			buf_append_str(&b, "<ul>\n");
			json_array_foreach(json_object_get(sec, "list"), j, v) {
				buf_append_str(&b, "<li>");
				html_text(&b, json_string_value(v));
				buf_append_str(&b, "</li>\n");
			}
			buf_append_str(&b, "</ul>\n");
			any = 1;
		}
		json_t *table = json_object_get(sec, "table");
		if (table && json_array_size(json_object_get(table, "rows"))) {
			buf_append_str(&b, "<table>\n<thead><tr>");
			json_array_foreach(json_object_get(table, "columns"), j, v) {
				buf_append_str(&b, "<th>");
				html_text(&b, json_string_value(v));
				buf_append_str(&b, "</th>");
			}
			buf_append_str(&b, "</tr></thead>\n<tbody>\n");
			json_array_foreach(json_object_get(table, "rows"), j, row) {
				buf_append_str(&b, "<tr>");
				json_array_foreach(row, k, v) {
					buf_append_str(&b, "<td>");
					html_text(&b, json_string_value(v));
					buf_append_str(&b, "</td>");
				}
				buf_append_str(&b, "</tr>\n");
			}
			buf_append_str(&b, "</tbody>\n</table>\n");
			any = 1;
		}
		if (!any) {
			buf_append_str(&b, "<p class=\"empty\">");
			html_text(&b, str(sec, "empty") ? str(sec, "empty") : "（无）");
			buf_append_str(&b, "</p>\n");
		}
		buf_append_str(&b, "</section>\n");
	}
	buf_append_str(&b, "</main>\n</body>\n</html>\n");
	return buf_steal(&b);
}
