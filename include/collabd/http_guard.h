/*
 * http_guard.h - what every HTTP listener of the daemon (the board, the
 * admin interface) enforces before its own code sees a request: plain HTTP
 * only (WebSocket and other upgrades, raw CONNECT tunnels refused), at most
 * max_connections at once (more are closed on accept and counted), and idle
 * or slow connections closed after idle_timeout_s.
 *
 * A listener owns one struct http_guard for its lifetime; its protocol
 * callback hands every callback to http_guard_callback() first.
 */
#ifndef COLLABD_HTTP_GUARD_H
#define COLLABD_HTTP_GUARD_H

struct lws;
struct lws_context_creation_info;

struct http_guard {
	const char *name;          /* "board", "admin": static, for logs and metrics */
	int max_connections;
	int idle_timeout_s;
	int open;                  /* connections now */
	long long refused;         /* closed on accept: max_connections reached */
	long long upgrades_refused;
};

/* Sets the vhost options that carry the idle timeout. */
void http_guard_vhost_info(const struct http_guard *g, struct lws_context_creation_info *info);

/* Call first from the listener's protocol callback.  Returns 1 when the
 * guard handled the callback (the caller returns *rc at once), 0 when the
 * caller's own code goes on. */
int http_guard_callback(struct http_guard *g, struct lws *wsi, int reason, int *rc);

#endif
