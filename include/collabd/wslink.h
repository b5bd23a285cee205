/*
 * wslink.h - what both platforms' WebSocket connections need from lws: whole
 * messages assembled from fragments (with a size limit), an outbound queue
 * written one frame per writable callback, and dialling a ws:// or wss:// URL.
 */
#ifndef COLLABD_WSLINK_H
#define COLLABD_WSLINK_H

#include <stddef.h>

#include "collabd/util.h"

struct lws;
struct lws_context;
struct lws_vhost;

struct ws_rx {
	struct buf msg;   /* the message being assembled (owned) */
	size_t limit;     /* larger messages are dropped */
	int too_big;
};

enum ws_rx_result { WS_RX_MORE, WS_RX_MESSAGE, WS_RX_TOO_BIG };

/* Feeds one received fragment.  WS_RX_MESSAGE: rx->msg holds a whole message
 * (valid until the next call).  WS_RX_TOO_BIG is returned once per oversized
 * message, whose bytes are discarded. */
enum ws_rx_result ws_rx_feed(struct ws_rx *rx, struct lws *wsi, const void *in, size_t len);
void ws_rx_reset(struct ws_rx *rx);

struct ws_frame;
struct ws_txq {
	struct ws_frame *head, *tail;
};

/* Copies data into the queue and asks lws for a writable callback. */
void ws_txq_push(struct ws_txq *q, struct lws *wsi, const void *data, size_t len);
/* Writes the oldest frame (text or binary), asking for another callback when
 * more wait.  Returns -1 when the write failed (close the connection). */
int ws_txq_write(struct ws_txq *q, struct lws *wsi, int text);
void ws_txq_clear(struct ws_txq *q);

/* Dials url for protocol, with opaque as the wsi's user data; *pwsi is set
 * by lws.  Returns 0, or -1 when the URL is unusable or lws refused at once. */
int ws_dial(struct lws_context *ctx, struct lws_vhost *vhost, const char *url, const char *protocol,
	    void *opaque, struct lws **pwsi);

#endif
