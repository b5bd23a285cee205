/*
 * wsconn.c - a client WebSocket of our own framing (see wsconn.h).
 *
 * libcurl opens the connection (http_connect: TCP, TLS verified, a proxy's
 * tunnel) -- lws 4.1 cannot: its raw client starts TLS before the socket
 * exists and fails every wss dial.  lws then polls a dup of the socket (an
 * adopted raw descriptor, as http.c does for curl's transfers) and we read
 * and write through curl, which holds the TLS session.
 *
 * States: DIALING (curl connecting) -> UPGRADING (our GET sent, the response
 * head being read) -> OPEN -> CLOSING (our close frame queued).  The end
 * comes from curl (the dial failed) or from lws closing the descriptor (a
 * hang-up, our own close, a timeout); either way closed() is called once and
 * the wsconn freed.  Every state before OPEN has a deadline (curl's connect
 * timeout, then an lws timeout for the upgrade), so a dead peer never leaves
 * an owner waiting.
 */
#include "collabd/wsconn.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "collabd/http.h"
#include "collabd/log.h"
#include "collabd/util.h"
#include "collabd/wsframe.h"

#define CONNECT_TIMEOUT_MS 10000 /* TCP and TLS */
#define UPGRADE_TIMEOUT_S 10   /* from the socket up to the 101 */
#define READS_PER_TURN 4       /* 256 KiB (~a batch of frames), then the loop's other work */
#define CLOSE_GRACE_S 2        /* our close frame's time to leave */
#define MAX_HEAD_BYTES (16 * 1024)

enum wsconn_state { WC_DIALING, WC_UPGRADING, WC_OPEN, WC_CLOSING };

struct wsconn {
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	struct http_conn *conn;        /* curl's connection; NULL once closed */
	struct lws *wsi;               /* lws's handle on our dup of its socket */
	const struct wsconn_events *ev; /* NULL once abandoned */
	void *arg;
	enum wsconn_state state;
	int binary;
	int was_open;
	char *host_header, *path;      /* for the upgrade request */
	char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1];
	struct buf head;               /* the response head while UPGRADING */
	struct ws_decoder dec;
	struct buf out;                /* frames waiting for the socket */
	struct buf sending;            /* bytes handed to curl, retried unchanged */
	size_t sent;                   /* ... of which this many went */
	const char *why;               /* why we close, for closed() */
	char why_buf[160];
	int refused_status;
	int finished;                  /* closed() was called */
	lws_sorted_usec_list_t read_again; /* more may wait inside TLS: read on */
	lws_sorted_usec_list_t write_again; /* bytes left after a writeable callback: ask again after it */
	lws_sorted_usec_list_t end_timer;  /* closed while dialing: the end, next turn */
	unsigned char masks[256];      /* random bytes for frame masks, 4 per frame */
	size_t masks_used;
};

/* A frame's masking key must be unpredictable to the peer's network path
 * (RFC 6455 10.3): the kernel's random bytes, fetched 64 keys at a time. */
static const unsigned char *next_mask(struct wsconn *c)
{
	if (c->masks_used + 4 > sizeof c->masks) {
		if (getrandom(c->masks, sizeof c->masks, 0) != (ssize_t)sizeof c->masks) {
			/* Not reachable with a kernel that has getrandom; never mask with a fixed key. */
			for (size_t i = 0; i < sizeof c->masks; i++)
				c->masks[i] = (unsigned char)random();
		}
		c->masks_used = 0;
	}
	const unsigned char *m = c->masks + c->masks_used;
	c->masks_used += 4;
	return m;
}

static void want_write(struct wsconn *c)
{
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

static void queue_frame(struct wsconn *c, enum ws_opcode op, const void *data, size_t len)
{
	ws_frame_append(&c->out, op, data, len, next_mask(c));
	want_write(c);
}

static void wsconn_free(struct wsconn *c)
{
	lws_sul_cancel(&c->read_again);
	lws_sul_cancel(&c->write_again);
	lws_sul_cancel(&c->end_timer);
	http_conn_close(c->conn);
	free(c->host_header);
	free(c->path);
	buf_free(&c->head);
	buf_free(&c->out);
	buf_free(&c->sending);
	ws_decoder_free(&c->dec);
	free(c);
}

/* The end, whichever way it came: tell the owner once, then free.  Only
 * from a callback that does not touch c afterwards. */
static void finish(struct wsconn *c, const char *why)
{
	if (c->finished)
		return;
	c->finished = 1;
	if (c->wsi) {
		lws_set_opaque_user_data(c->wsi, NULL);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		c->wsi = NULL;
	}
	if (c->ev && c->ev->closed) {
		struct wsconn_end end = { .was_open = c->was_open, .why = c->why ? c->why : why };
		if (c->refused_status) {
			end.status = c->refused_status;
			end.head = (const char *)c->head.data;
			end.head_len = c->head.len;
		}
		c->ev->closed(c->arg, &end);
	}
	wsconn_free(c);
}

/* Ends the connection from inside our lws callback: returning -1 makes lws
 * close the descriptor, and RAW_CLOSE_FILE calls finish(). */
static int fail(struct wsconn *c, const char *why)
{
	if (!c->why)
		c->why = why;
	return -1;
}

/* Our close frame (or none when not open yet), then the socket after a
 * grace period at most. */
static void start_closing(struct wsconn *c, int code, const char *why)
{
	if (!c->why)
		c->why = why;
	if (c->state == WC_OPEN && code) {
		unsigned char b[2] = { (unsigned char)(code >> 8), (unsigned char)code };
		queue_frame(c, WS_OP_CLOSE, b, 2);
	}
	c->state = WC_CLOSING;
	if (c->wsi)
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, c->out.len || c->sending.len ? CLOSE_GRACE_S
									       : LWS_TO_KILL_ASYNC);
}

/* ---- the upgrade ---- */

static void send_upgrade(struct wsconn *c)
{
	unsigned char nonce[16];
	if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
		for (size_t i = 0; i < sizeof nonce; i++)
			nonce[i] = (unsigned char)random();
	ws_handshake_key(nonce, c->key);
	ws_handshake_accept(c->key, c->accept);
	buf_printf(&c->out,
		   "GET %s HTTP/1.1\r\n"
		   "Host: %s\r\n"
		   "Upgrade: websocket\r\n"
		   "Connection: Upgrade\r\n"
		   "Sec-WebSocket-Key: %s\r\n"
		   "Sec-WebSocket-Version: 13\r\n"
		   "User-Agent: collabd/" COLLABD_VERSION "\r\n"
		   "\r\n",
		   c->path, c->host_header, c->key);
	c->state = WC_UPGRADING;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_AWAITING_SERVER_RESPONSE, UPGRADE_TIMEOUT_S);
	want_write(c);
}

static int on_frame_event(void *arg, const struct ws_event *e)
{
	struct wsconn *c = arg;
	if (!c->ev || c->state != WC_OPEN)
		return 1; /* abandoned or closing: the rest is not wanted */
	switch (e->kind) {
	case WS_EV_MESSAGE:
		if (c->ev->message)
			c->ev->message(c->arg, e->data, e->len);
		break;
	case WS_EV_TOO_BIG:
		if (c->ev->too_big)
			c->ev->too_big(c->arg);
		break;
	case WS_EV_PING:
		queue_frame(c, WS_OP_PONG, e->data, e->len);
		break;
	case WS_EV_PONG:
		if (c->ev->pong)
			c->ev->pong(c->arg);
		break;
	case WS_EV_CLOSE:
		/* Answer with the same code, then the socket goes (RFC 6455 5.5.1). */
		snprintf(c->why_buf, sizeof c->why_buf, "the server closed the WebSocket (code %d)", e->close_code);
		start_closing(c, e->close_code ? e->close_code : 1000, c->why_buf);
		return 1;
	}
	return c->ev && c->state == WC_OPEN ? 0 : 1;
}

static void feed_frames(struct wsconn *c, const unsigned char *in, size_t len)
{
	const char *why = NULL;
	if (ws_decode(&c->dec, in, len, on_frame_event, c, &why) < 0) {
		log_warn("msg=\"WebSocket protocol violation; closing\" error=\"%s\"", why);
		start_closing(c, 1002, why);
	}
}

static int on_upgrade_bytes(struct wsconn *c, const unsigned char *in, size_t len)
{
	buf_append(&c->head, in, len);
	struct ws_response r;
	const char *why = NULL;
	switch (ws_response_parse((const char *)c->head.data, c->head.len, c->accept, &r, &why)) {
	case WS_HEAD_MORE:
		return 0;
	case WS_HEAD_BAD:
		return fail(c, why);
	case WS_HEAD_REFUSED:
		c->refused_status = r.status;
		c->head.len = r.head_len; /* the body is not ours to read */
		return fail(c, why);
	case WS_HEAD_OK:
		break;
	}
	c->state = WC_OPEN;
	c->was_open = 1;
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	size_t rest = c->head.len - r.head_len;
	unsigned char *frames = rest ? xmalloc(rest) : NULL;
	if (rest)
		memcpy(frames, c->head.data + r.head_len, rest);
	buf_free(&c->head);
	if (c->ev && c->ev->opened)
		c->ev->opened(c->arg);
	if (rest && c->state == WC_OPEN && c->ev)
		feed_frames(c, frames, rest);
	free(frames);
	return 0;
}

/* ---- the socket ---- */

static unsigned char rx_chunk[64 * 1024]; /* one loop, one reader at a time */

static void read_again_fired(lws_sorted_usec_list_t *sul);
static void end_fired(lws_sorted_usec_list_t *sul);

/* Reads what is there: until curl says it would block, since TLS may hold
 * decrypted bytes the socket no longer signals.  -1: close the socket. */
static int read_some(struct wsconn *c)
{
	for (int i = 0; i < READS_PER_TURN; i++) {
		if (c->state == WC_CLOSING || !c->conn)
			return 0; /* what comes now is not wanted */
		const char *error = NULL;
		long n = http_conn_recv(c->conn, rx_chunk, sizeof rx_chunk, &error);
		if (n == 0)
			return 0;
		if (n < 0) {
			snprintf(c->why_buf, sizeof c->why_buf, "%s", error);
			return fail(c, c->why_buf);
		}
		if (c->state == WC_UPGRADING) {
			if (on_upgrade_bytes(c, rx_chunk, (size_t)n))
				return -1;
		} else if (c->state == WC_OPEN && c->ev) {
			feed_frames(c, rx_chunk, (size_t)n);
		}
	}
	/* A flood: let the loop's other work run, then read on. */
	lws_sul_schedule(c->ctx, 0, &c->read_again, read_again_fired, 1);
	return 0;
}

static void read_again_fired(lws_sorted_usec_list_t *sul)
{
	struct wsconn *c = lws_container_of(sul, struct wsconn, read_again);
	if (c->wsi && read_some(c))
		start_closing(c, 0, c->why);
}

static void write_again_fired(lws_sorted_usec_list_t *sul)
{
	struct wsconn *c = lws_container_of(sul, struct wsconn, write_again);
	want_write(c);
}

/* From inside the writeable callback: lws (4.1, raw descriptors) clears
 * POLLOUT after that callback returns, so asking for it there is undone,
 * and what is left would wait for the next frame queued -- at the end of a
 * flood, forever (acks held, the gateway waiting for them).  Ask again
 * just after. */
static void rearm_write(struct wsconn *c)
{
	lws_sul_schedule(c->ctx, 0, &c->write_again, write_again_fired, 1);
}

/* Sends what is queued: one write for all the frames queued since the last
 * one (a batch's acks), retried unchanged when the socket is full (TLS wants
 * the same bytes again). */
static int write_some(struct wsconn *c)
{
	if (!c->sending.len) {
		struct buf t = c->sending;
		c->sending = c->out;
		c->out = t;
		buf_reset(&c->out);
		c->sent = 0;
	}
	while (c->sent < c->sending.len) {
		const char *error = NULL;
		long n = http_conn_send(c->conn, c->sending.data + c->sent, c->sending.len - c->sent, &error);
		if (n < 0) {
			snprintf(c->why_buf, sizeof c->why_buf, "%s", error);
			return fail(c, c->why_buf);
		}
		if (n == 0) {
			rearm_write(c);
			return 0;
		}
		c->sent += (size_t)n;
	}
	buf_reset(&c->sending);
	if (c->out.len)
		rearm_write(c);
	else if (c->state == WC_CLOSING)
		return -1; /* our close frame is out */
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	struct wsconn *c = lws_get_opaque_user_data(wsi);
	if (!c || c->wsi != wsi)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		return read_some(c);
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		return c->conn ? write_some(c) : -1;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		/* lws has more callbacks for this wsi (protocol drop, destroy): none
		 * may find c, which finish() frees. */
		lws_set_opaque_user_data(wsi, NULL);
		c->wsi = NULL;
		finish(c, c->was_open ? "the connection closed" : "closed before the upgrade was answered");
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols wsconn_protocol = {
	.name = "collabd-ws",
	.callback = callback,
};

/* curl has connected (or failed to): hand lws a dup of the socket to poll
 * and send the upgrade. */
static void connected(void *arg, struct http_conn *conn, const char *error)
{
	struct wsconn *c = arg;
	(void)conn;
	if (error) {
		snprintf(c->why_buf, sizeof c->why_buf, "connection failed: %s", error);
		finish(c, c->why_buf);
		return;
	}
	int fd = http_conn_fd(c->conn);
	int dupfd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (dupfd < 0) {
		snprintf(c->why_buf, sizeof c->why_buf, "cannot watch the socket: %s",
			 fd < 0 ? "curl has none" : strerror(errno));
		finish(c, c->why_buf);
		return;
	}
	lws_sock_file_fd_type desc;
	desc.filefd = dupfd;
	c->wsi = lws_adopt_descriptor_vhost(c->vhost, LWS_ADOPT_RAW_FILE_DESC, desc, wsconn_protocol.name, NULL);
	if (!c->wsi) {
		if (fcntl(dupfd, F_GETFD) >= 0) /* lws closes what it fails to adopt in some paths */
			close(dupfd);
		finish(c, "lws could not adopt the socket");
		return;
	}
	lws_set_opaque_user_data(c->wsi, c);
	send_upgrade(c);
}

struct wsconn *wsconn_dial(struct lws_context *ctx, struct lws_vhost *vhost, struct http_client *http,
			   const char *url, size_t max_message, int binary, const struct wsconn_events *events,
			   void *arg)
{
	char *copy = xstrdup(url);
	const char *proto = NULL, *address = NULL, *path = NULL;
	int port = 0;
	if (lws_parse_uri(copy, &proto, &address, &port, &path) || !*address ||
	    (strcmp(proto, "ws") && strcmp(proto, "wss"))) {
		free(copy);
		return NULL;
	}
	int tls = !strcmp(proto, "wss");
	struct wsconn *c = xcalloc(1, sizeof *c);
	c->ctx = ctx;
	c->vhost = vhost;
	c->ev = events;
	c->arg = arg;
	c->binary = binary;
	c->masks_used = sizeof c->masks; /* fetched on first use */
	c->path = xasprintf("/%s", path); /* lws_parse_uri drops the leading slash */
	c->host_header = (port == (tls ? 443 : 80)) ? xstrdup(address) : xasprintf("%s:%d", address, port);
	buf_init(&c->head);
	buf_init(&c->out);
	buf_init(&c->sending);
	ws_decoder_init(&c->dec, max_message);
	/* curl dials the host (the certificate is checked against it). */
	char *target = xasprintf("%s://%s:%d/", tls ? "https" : "http", address, port);
	free(copy);
	c->conn = http_connect(http, target, CONNECT_TIMEOUT_MS, connected, c);
	free(target);
	if (!c->conn) {
		wsconn_free(c);
		return NULL;
	}
	return c;
}

static void end_fired(lws_sorted_usec_list_t *sul)
{
	struct wsconn *c = lws_container_of(sul, struct wsconn, end_timer);
	finish(c, c->why);
}

void wsconn_send(struct wsconn *c, const void *data, size_t len)
{
	if (c && c->state == WC_OPEN)
		queue_frame(c, c->binary ? WS_OP_BINARY : WS_OP_TEXT, data, len);
}

void wsconn_ping(struct wsconn *c)
{
	if (c && c->state == WC_OPEN)
		queue_frame(c, WS_OP_PING, NULL, 0);
}

void wsconn_close(struct wsconn *c, const char *why)
{
	if (!c || c->state == WC_CLOSING)
		return;
	if (c->state == WC_DIALING) {
		/* curl is still connecting: stop it.  An owner that stays hears
		 * closed() on the next turn, never inside its own call. */
		if (!c->why)
			c->why = why;
		http_conn_close(c->conn);
		c->conn = NULL;
		c->state = WC_CLOSING;
		if (!c->ev)
			wsconn_free(c);
		else
			lws_sul_schedule(c->ctx, 0, &c->end_timer, end_fired, 1);
		return;
	}
	start_closing(c, 1000, why);
}

void wsconn_abandon(struct wsconn *c)
{
	if (!c)
		return;
	c->ev = NULL;
	wsconn_close(c, "abandoned");
}
