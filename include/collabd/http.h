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

#endif
