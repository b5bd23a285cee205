/*
 * wsconn.h - one client WebSocket connection, as both platforms' gateway
 * connections use it.  libcurl opens the connection (TCP, TLS, a proxy's
 * tunnel), libwebsockets' loop polls it; collabd's own RFC 6455 codec
 * (wsframe.h) does the upgrade and the frames, so that a flood costs a bulk
 * copy per frame instead of a function call per byte, and the frames queued
 * in one turn of the loop (a batch's acks) leave in one write.
 */
#ifndef COLLABD_WSCONN_H
#define COLLABD_WSCONN_H

#include <stddef.h>

struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct http_client;
struct wsconn;

/* How a connection ended, for wsconn_events.closed. */
struct wsconn_end {
	int was_open;        /* the upgrade had been accepted */
	int status;          /* a refused upgrade's HTTP status, else 0 */
	const char *head;    /* that response's head (ws_header() reads it), else NULL */
	size_t head_len;
	const char *why;     /* English, for the log */
};

/* The owner's callbacks; arg is the one given to wsconn_dial().  None of them
 * may free the wsconn; wsconn_close() and wsconn_abandon() are allowed. */
struct wsconn_events {
	void (*opened)(void *arg);                                          /* frames may be sent */
	void (*message)(void *arg, const unsigned char *data, size_t len);  /* valid during the call */
	void (*too_big)(void *arg);                                         /* a message was skipped */
	void (*pong)(void *arg);
	/* The connection is gone: never connected, refused, or closed by either
	 * side.  Called once; the wsconn is freed when it returns. */
	void (*closed)(void *arg, const struct wsconn_end *end);
};

/* Dials url (ws:// or wss://, query string kept): http opens the connection
 * (http_connect), lws polls it.  Messages over max_message bytes are skipped
 * (too_big); binary says which opcode wsconn_send() uses.  Returns the
 * connection, owned by this module until events->closed has returned (drop
 * your pointer then); NULL when the URL is unusable or the dial could not
 * start (no callback follows). */
struct wsconn *wsconn_dial(struct lws_context *ctx, struct lws_vhost *vhost, struct http_client *http,
			   const char *url, size_t max_message, int binary, const struct wsconn_events *events,
			   void *arg);

/* Queues one message (copied) and asks for a write; frames queued before the
 * loop's next turn leave together.  Ignored unless the connection is open. */
void wsconn_send(struct wsconn *c, const void *data, size_t len);
/* Queues a WebSocket ping (the peer answers with a pong). */
void wsconn_ping(struct wsconn *c);
/* Closes from our side (a close frame, then the socket); closed() follows. */
void wsconn_close(struct wsconn *c, const char *why);
/* Closes without any further callback: for an owner that goes away. */
void wsconn_abandon(struct wsconn *c);

/* All connections' back-pressure, for /metrics and the stats. */
struct wsconn_stats {
	long long pauses;    /* reading stopped: too much of our output unsent */
	size_t unsent_max;   /* the most output one connection held unsent, bytes */
};
/* Process-wide; valid for the process's life. */
const struct wsconn_stats *wsconn_stats(void);

/* Registered on the client vhost: the lws protocol all wsconns run on. */
extern const struct lws_protocols wsconn_protocol;

#endif
