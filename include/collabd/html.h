/*
 * html.h - writing HTML safely: escaping, and the board's page frame.
 *
 * Every string that came from a user (names, form fields, progress notes,
 * issue descriptions) goes through html_esc(), which escapes the five
 * characters that matter in text and in quoted attributes.  Page code writes
 * markup with html_raw() only for literals it owns.
 */
#ifndef COLLABD_HTML_H
#define COLLABD_HTML_H

#include <jansson.h>

#include "collabd/clock.h"
#include "collabd/util.h"

/* Appends s with & < > " ' escaped; NULL appends nothing. */
void html_esc(struct buf *b, const char *s);
/* Appends markup the caller wrote (never user text). */
void html_raw(struct buf *b, const char *markup);
/* open + escaped text (or fallback when text is NULL or empty) + close. */
void html_el(struct buf *b, const char *open, const char *text, const char *fallback, const char *close);
/* Appends s percent-encoded for a URL path segment (then safe in an attribute). */
void html_url_segment(struct buf *b, const char *s);

/* The string value of key in obj, or NULL. */
const char *html_str(json_t *obj, const char *key);
/* The integer value of key in obj, or 0. */
long long html_int(json_t *obj, const char *key);

/* Local "YYYY-MM-DD HH:MM"; "—" for 0. */
void html_time(struct buf *b, ms_t t);
/* A span as "2天3小时", "1小时23分", "5分", "不到1分". */
void html_span(struct buf *b, ms_t span);
/* "剩余 1小时23分" or, past due, "已超时 2小时" wrapped in a span with class
 * "due" or "overdue". */
void html_countdown(struct buf *b, ms_t due, ms_t now);

/* The page's head, header and navigation; refresh_s > 0 adds a meta refresh
 * (the SLA countdowns stay current without any script).  active: "board" or
 * "archive". */
void html_page_start(struct buf *b, const char *title, int refresh_s, const char *active, ms_t now);
void html_page_end(struct buf *b);

#endif
