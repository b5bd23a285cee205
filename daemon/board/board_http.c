/*
 * board_http.c - the board's HTTP side: its listener, routing, the token
 * check and the security headers every answer carries.
 *
 * Pages are rendered whole in the loop (a few SQLite reads) and written in
 * one go; nothing is kept between requests.  The Content-Security-Policy
 * allows the board's own stylesheet and nothing else: no script, no inline
 * style, no frame, no form target, so even a string that slipped past the
 * escaping could not run.
 */
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/daemon.h"
#include "collabd/html.h"
#include "collabd/log.h"
#include "collabd/webboard.h"

#define BOARD_HEADER_SPACE 2048
#define TOKEN_MAX 256
#define COOKIE_NAME "collabd_board"

static const char csp[] = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
			  "form-action 'none'; frame-ancestors 'none'";

struct board_session {
	int status;
	const char *content_type; /* static */
	char *body;               /* owned */
	size_t len;
	char *set_cookie;         /* owned: the token cookie after a ?token= login, or NULL */
	char *location;           /* owned: where a ?token= login sends the browser (303), or NULL */
};

static struct daemon *daemon_of(struct lws *wsi) { return lws_context_user(lws_get_context(wsi)); }

/* Copies at most n bytes of src (and never past outsz - 1) into out. */
static void copy_bounded(char *out, size_t outsz, const char *src, size_t n)
{
	if (n > outsz - 1)
		n = outsz - 1;
	memcpy(out, src, n);
	out[n] = '\0';
}

/* The token from the Authorization header, the cookie or ?token= (in that
 * order) into out; which one in *from ("bearer", "cookie", "query"). */
static int presented_token(struct lws *wsi, char *out, size_t outsz, const char **from)
{
	char h[TOKEN_MAX + 64];
	out[0] = '\0';
	if (lws_hdr_copy(wsi, h, sizeof h, WSI_TOKEN_HTTP_AUTHORIZATION) > 7 && !strncmp(h, "Bearer ", 7)) {
		copy_bounded(out, outsz, h + 7, strlen(h + 7));
		*from = "bearer";
		return 1;
	}
	if (lws_hdr_copy(wsi, h, sizeof h, WSI_TOKEN_HTTP_COOKIE) > 0) {
		for (char *p = h; (p = strstr(p, COOKIE_NAME "=")); p++) {
			if (p != h && p[-1] != ' ' && p[-1] != ';')
				continue;
			p += strlen(COOKIE_NAME "=");
			size_t n = strcspn(p, "; ");
			copy_bounded(out, outsz, p, n);
			*from = "cookie";
			return 1;
		}
	}
	const char *v = lws_get_urlarg_by_name(wsi, "token=", h, (int)sizeof h);
	if (v) {
		copy_bounded(out, outsz, v, strlen(v));
		*from = "query";
		return 1;
	}
	return 0;
}

static void set_body(struct board_session *s, int status, const char *type, struct buf *b)
{
	s->status = status;
	s->content_type = type;
	s->len = b->len;
	s->body = buf_steal(b);
}

static void refuse(struct board_session *s, int status, const char *title, const char *text)
{
	struct buf b;
	buf_init(&b);
	html_page_start(&b, title, 0, "board", 0);
	html_el(&b, "<p class=\"empty\">", text, "", "</p>");
	html_page_end(&b);
	set_body(s, status, "text/html; charset=utf-8", &b);
}

int board_page(struct daemon *d, const char *path, int page, struct buf *out, const char **content_type)
{
	*content_type = "text/html; charset=utf-8";
	if (!strcmp(path, "/") || !strcmp(path, "/board") || !strcmp(path, "/board/"))
		return board_page_overview(d, out);
	if (!strcmp(path, "/board/archive") || !strcmp(path, "/board/archive/"))
		return board_page_archive(d, page, out);
	if (!strncmp(path, "/board/req/", 11) && path[11] && !strchr(path + 11, '/'))
		return board_page_request(d, path + 11, out);
	if (!strcmp(path, "/board/style.css")) {
		*content_type = "text/css; charset=utf-8";
		buf_append_str(out, board_stylesheet);
		return 200;
	}
	html_page_start(out, "找不到页面", 0, "board", 0);
	html_raw(out, "<p class=\"empty\">找不到这个页面。<a href=\"/board\">回到看板</a></p>");
	html_page_end(out);
	return 404;
}

/* The URL of this request without its token argument (path re-encoded,
 * other arguments kept), for the redirect after a ?token= login: the token
 * must not stay in the address bar, the history or a proxy's log.  Leading
 * slashes collapse to one, so the answer can never point at another host. */
static char *url_without_token(struct lws *wsi, const char *path)
{
	struct buf b;
	buf_init(&b);
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (!n && b.len)
			break;
		char *seg = xstrndup(p, n);
		buf_append_str(&b, "/");
		html_url_segment(&b, seg);
		free(seg);
		p += n;
	}
	if (!b.len)
		buf_append_str(&b, "/");
	char arg[512];
	int first = 1;
	for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
		if (!strncmp(arg, "token=", 6) || !strcmp(arg, "token"))
			continue;
		char *eq = strchr(arg, '=');
		if (eq)
			*eq = '\0';
		buf_append_str(&b, first ? "?" : "&");
		html_url_segment(&b, arg);
		if (eq) {
			buf_append_str(&b, "=");
			html_url_segment(&b, eq + 1);
		}
		first = 0;
	}
	return buf_steal(&b);
}

/* Decides the answer to one request; the body is written when writable. */
static void answer(struct lws *wsi, struct board_session *s, const char *path)
{
	struct daemon *d = daemon_of(wsi);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
		refuse(s, 405, "不支持的请求", "看板只读：只接受 GET 请求。");
		return;
	}
	const char *want = d->cfg.board.token;
	/* The stylesheet holds nothing secret; the login page needs it. */
	if (want && *want && strcmp(path, "/board/style.css")) {
		char got[TOKEN_MAX];
		const char *from = "";
		if (!presented_token(wsi, got, sizeof got, &from) || !secret_equal(got, want)) {
			refuse(s, 401, "需要访问令牌",
			       "访问看板需要令牌：在地址后加 ?token=令牌，或在请求头中带 Authorization: Bearer 令牌。");
			return;
		}
		/* A link with ?token= logs the browser in: later pages need no token
		 * in their URLs, and this one is sent on to itself without it.  The
		 * cookie is Secure when people reach the board over https. */
		if (!strcmp(from, "query")) {
			const char *pub = d->cfg.board.public_url;
			int https = pub && !strncmp(pub, "https://", 8);
			s->set_cookie = xasprintf(COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict%s", got,
						  https ? "; Secure" : "");
			s->location = url_without_token(wsi, path);
			struct buf b;
			buf_init(&b);
			html_page_start(&b, "已登录", 0, "board", 0);
			html_el(&b, "<p class=\"empty\"><a href=\"", s->location, "", "\">继续</a></p>");
			html_page_end(&b);
			set_body(s, 303, "text/html; charset=utf-8", &b);
			return;
		}
	}
	struct buf b;
	const char *type;
	buf_init(&b);
	char arg[32];
	int page = 1;
	const char *v = lws_get_urlarg_by_name(wsi, "page=", arg, (int)sizeof arg); /* points past "page=" */
	if (v)
		page = atoi(v);
	int status = board_page(d, path, page, &b, &type);
	set_body(s, status, type, &b);
}

static int header(struct lws *wsi, const char *name, const char *value, unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
					   (int)strlen(value), p, end);
}

static int write_answer(struct lws *wsi, struct board_session *s)
{
	unsigned char *buf = xmalloc(LWS_PRE + BOARD_HEADER_SPACE + s->len);
	unsigned char *start = buf + LWS_PRE, *p = start, *end = start + BOARD_HEADER_SPACE;
	int rc = 0;
	if (lws_add_http_common_headers(wsi, (unsigned int)s->status, s->content_type, (lws_filepos_t)s->len, &p, end) ||
	    header(wsi, "content-security-policy:", csp, &p, end) ||
	    header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
	    header(wsi, "x-frame-options:", "DENY", &p, end) ||
	    header(wsi, "referrer-policy:", "no-referrer", &p, end) ||
	    header(wsi, "cache-control:", "no-store", &p, end) ||
	    (s->status == 401 && header(wsi, "www-authenticate:", "Bearer realm=\"collabd board\"", &p, end)) ||
	    (s->set_cookie && header(wsi, "set-cookie:", s->set_cookie, &p, end)) ||
	    (s->location && header(wsi, "location:", s->location, &p, end)) ||
	    lws_finalize_write_http_header(wsi, start, &p, end)) {
		rc = -1;
	} else if (s->len) {
		memcpy(buf + LWS_PRE, s->body, s->len);
		if (lws_write(wsi, buf + LWS_PRE, s->len, LWS_WRITE_HTTP_FINAL) != (int)s->len)
			rc = -1;
	}
	free(buf);
	free(s->body);
	free(s->set_cookie);
	free(s->location);
	s->body = s->set_cookie = s->location = NULL;
	if (rc || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static int board_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct board_session *s = user;
	int guard_rc;
	if (http_guard_callback(&daemon_of(wsi)->board_guard, wsi, (int)reason, &guard_rc))
		return guard_rc; /* connection limits, idle timeout, no upgrades */
	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		char path[256];
		memset(s, 0, sizeof *s);
		utf8_snprintf(path, sizeof path, "%.*s", (int)len, (const char *)in);
		answer(wsi, s, path);
		lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_HTTP_BODY:
		return -1; /* read-only: a body has nowhere to go */
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!s->body)
			return 0;
		return write_answer(wsi, s);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (s) {
			free(s->body);
			free(s->set_cookie);
			free(s->location);
			s->body = s->set_cookie = s->location = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

const struct lws_protocols board_protocol = {
	.name = "collabd-board",
	.callback = board_cb,
	.per_session_data_size = sizeof(struct board_session),
};

int board_listen(struct daemon *d)
{
	static const struct lws_protocols *protocols[] = { &board_protocol, NULL };
	const struct board_config *b = &d->cfg.board;
	if (!b->port)
		return 0;
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.vhost_name = "board";
	info.port = b->port;
	/* "0.0.0.0", "::" or "*" mean every interface, which lws spells NULL. */
	info.iface = !strcmp(b->listen, "0.0.0.0") || !strcmp(b->listen, "::") || !strcmp(b->listen, "*") ? NULL : b->listen;
	info.pprotocols = protocols;
	d->board_guard = (struct http_guard){ .name = "board", .max_connections = b->max_connections,
					      .idle_timeout_s = b->idle_timeout_s };
	http_guard_vhost_info(&d->board_guard, &info);
	if (!lws_create_vhost(d->ctx, &info)) {
		log_error("msg=\"cannot listen for the board\" listen=%s port=%d", b->listen, b->port);
		return -1;
	}
	log_info("msg=\"board listening\" listen=%s port=%d token=%s public_url=%s", b->listen, b->port,
		 b->token && *b->token ? "required" : "none", b->public_url && *b->public_url ? b->public_url : "-");
	if (!config_is_loopback(b->listen))
		log_warn("msg=\"the board listens beyond loopback: every request must carry board.token "
			 "(?token=, a Bearer header or the cookie it sets); put it behind HTTPS\" listen=%s port=%d",
			 b->listen, b->port);
	return 0;
}

static char *link_to(const struct config *cfg, const char *path, const char *segment)
{
	const char *base = cfg->board.public_url;
	if (!base || !*base)
		return NULL;
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, base);
	buf_append_str(&b, path);
	if (segment)
		html_url_segment(&b, segment);
	return buf_steal(&b);
}

char *board_request_link(const struct config *cfg, const char *request_id)
{
	return link_to(cfg, "/board/req/", request_id);
}

char *board_home_link(const struct config *cfg) { return link_to(cfg, "/board", NULL); }
