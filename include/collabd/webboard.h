/*
 * webboard.h - the 进度看板 web board: server-rendered pages of the workflow.
 *
 * The daemon serves it with libwebsockets' HTTP server on board.listen:
 * board.port (127.0.0.1 by default).  Pages are plain HTML with one small
 * stylesheet, no scripts, and a Content-Security-Policy that forbids
 * everything else; every string that came from a user is escaped.  Beyond
 * loopback a token (board.token) is required with every request.
 *
 *   /board                 active requests by state, departments' answers,
 *                          today's progress, overdue deadlines, open issues
 *   /board/req/<ID>        one request: form, versions, signatures, progress,
 *                          issues, completion, retrospective, full timeline
 *   /board/archive         the archive (协作项目库) and closed requests
 *   /board/style.css       the stylesheet
 */
#ifndef COLLABD_WEBBOARD_H
#define COLLABD_WEBBOARD_H

#include <stddef.h>

#include "collabd/util.h"

struct daemon;
struct lws_protocols;
struct config;

/* The lws protocol of the board's vhost. */
extern const struct lws_protocols board_protocol;

/* Creates the board's listening vhost when board.port is set (logging where it
 * listens, and that a token is required beyond loopback).  0 on success or
 * when there is no board; -1 when it cannot listen. */
int board_listen(struct daemon *d);

/*
 * A page for path (the part after the host, without the query), written into
 * out as HTML; page is the query's page= (1 when absent: only the archive
 * list has pages).  Returns the HTTP status (200, 404); *content_type gets a
 * static string.  For the HTTP layer and the tests.
 */
int board_page(struct daemon *d, const char *path, int page, struct buf *out, const char **content_type);

/* The public link to a request's page for chat messages, e.g.
 * "https://board.example.com/board/req/2026-Q4-JSB-001"; NULL when
 * board.public_url is not set.  The caller frees it. */
char *board_request_link(const struct config *cfg, const char *request_id);
/* The same for the board's front page. */
char *board_home_link(const struct config *cfg);

/* ---- pages (each appends a whole HTML document to out; returns the status) ---- */

int board_page_overview(struct daemon *d, struct buf *out);
int board_page_request(struct daemon *d, const char *id, struct buf *out);
/* Page page (1 = newest) of the archive list, BOARD_ARCHIVE_PAGE rows each. */
#define BOARD_ARCHIVE_PAGE 100
int board_page_archive(struct daemon *d, int page, struct buf *out);
extern const char board_stylesheet[];

/* The Chinese word for a stored state: group is "request", "dept",
 * "progress", "objection", "issue", "timeline" or "detail" (a
 * timeline detail's key).  Unknown
 * values come back as they are (borrowed, static or value itself). */
const char *board_label(const char *group, const char *value);

#endif
