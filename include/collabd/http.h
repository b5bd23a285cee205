/*
 * http.h - asynchronous HTTP client: libcurl multi driven by the lws event loop.
 *
 * Nothing here blocks.  curl's sockets are watched by libwebsockets (each one
 * adopted as a raw descriptor -- a dup(), so that lws closing its copy never
 * closes curl's), and curl's timeout becomes an lws timer.  A request's
 * callback runs from the loop once the transfer ends, successfully or not.
 */
#ifndef COLLABD_HTTP_H
#define COLLABD_HTTP_H

#include <stddef.h>

struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct http_client;

struct http_response {
	long status;              /* HTTP status, 0 when the transfer failed */
	const char *error;        /* curl's error text when status is 0, else NULL */
	const char *body;         /* NUL-terminated; borrowed for the callback's duration */
	size_t body_len;
	long ratelimit_reset;     /* x-ogw-ratelimit-reset in seconds, -1 when absent */
	long retry_after;         /* Retry-After in seconds, -1 when absent */
	long elapsed_ms;
};

typedef void (*http_done_fn)(void *arg, const struct http_response *resp);

/* The lws protocol the client needs on the vhost it is given (for adopted
 * sockets).  Include it in the vhost's protocol list. */
extern const struct lws_protocols http_client_protocol;

/* Creates the client on ctx/vhost; returns NULL when curl cannot start. */
struct http_client *http_client_new(struct lws_context *ctx, struct lws_vhost *vhost);
/* Aborts every transfer -- each callback still runs once, with status 0 and
 * error "shutting down", so owners can release what they passed -- and frees
 * the client.  Requests started from those callbacks are refused. */
void http_client_free(struct http_client *hc);
/* Trust the CAs of this PEM file (copied) instead of the system's, for the
 * requests started from now on; NULL or "" goes back to the system's. */
void http_client_set_ca_file(struct http_client *hc, const char *path);

/*
 * Starts a request.  method is "GET", "POST", "PUT" or "PATCH"; headers is a
 * NULL-terminated array of "Name: value" strings (copied); body may be NULL.
 * The callback runs exactly once, from the event loop, never from inside this
 * call.  Returns 0, or -1 when the request could not be started (no callback).
 */
int http_request(struct http_client *hc, const char *method, const char *url,
		 const char *const *headers, const char *body, long timeout_ms,
		 http_done_fn done, void *arg);

/* Number of transfers in flight. */
int http_inflight(const struct http_client *hc);

/*
 * A connection for a protocol curl does not speak (the gateways' WebSocket):
 * curl opens it -- TCP, TLS with the certificate verified (tls.ca_file), an
 * HTTP proxy's tunnel when the environment names one -- and sends nothing;
 * the caller then reads and writes bytes and watches http_conn_fd() itself.
 * Each connection has a curl multi of its own: a connect-only connection
 * lives in its multi's connection cache, where a shared multi could evict it
 * to make room for other transfers' connections.
 */
struct http_conn;
/* error is NULL once connected, else why not (then only close it). */
typedef void (*http_conn_fn)(void *arg, struct http_conn *conn, const char *error);

/* Starts connecting to url's host and port (http:// or https://).  Returns
 * the connection, which the caller owns from now on and must give to
 * http_conn_close() in every case; done runs once, from the loop, unless the
 * connection is closed first.  NULL when it could not even start. */
struct http_conn *http_connect(struct http_client *hc, const char *url, long timeout_ms, http_conn_fn done,
			       void *arg);
/* The connected socket (curl's: watch a dup, never close it), or -1. */
int http_conn_fd(const struct http_conn *c);
/* Non-blocking: bytes read or written (> 0), 0 when the socket would block,
 * -1 when the connection is closed or broken (*error says which). */
long http_conn_recv(struct http_conn *c, void *buf, size_t len, const char **error);
long http_conn_send(struct http_conn *c, const void *buf, size_t len, const char **error);
/* Ends the connection (or the attempt) and frees it; safe inside done. */
void http_conn_close(struct http_conn *c);

#endif
