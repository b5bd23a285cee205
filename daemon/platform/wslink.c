/*
 * wslink.c - fragment assembly, the outbound frame queue, and dialling.
 */
#include "collabd/wslink.h"

#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct ws_frame {
	struct ws_frame *next;
	size_t len;
	unsigned char data[]; /* LWS_PRE bytes of head room, then the frame */
};

enum ws_rx_result ws_rx_feed(struct ws_rx *rx, struct lws *wsi, const void *in, size_t len)
{
	enum ws_rx_result r = WS_RX_MORE;
	if (lws_is_first_fragment(wsi))
		ws_rx_reset(rx);
	if (!rx->too_big && rx->msg.len + len > rx->limit) {
		rx->too_big = 1;
		buf_reset(&rx->msg);
		r = WS_RX_TOO_BIG;
	}
	if (!rx->too_big)
		buf_append(&rx->msg, in, len);
	if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
		if (!rx->too_big)
			r = WS_RX_MESSAGE;
		rx->too_big = 0;
	}
	return r;
}

void ws_rx_reset(struct ws_rx *rx)
{
	buf_reset(&rx->msg);
	rx->too_big = 0;
}

void ws_txq_push(struct ws_txq *q, struct lws *wsi, const void *data, size_t len)
{
	struct ws_frame *f = xmalloc(sizeof *f + LWS_PRE + len);
	f->next = NULL;
	f->len = len;
	memcpy(f->data + LWS_PRE, data, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	lws_callback_on_writable(wsi);
}

/* Holds back partial TCP segments while on: the frames written meanwhile
 * leave in as few segments as fit (one wake-up of the peer, not one each). */
static void cork(struct lws *wsi, int on)
{
	lws_sockfd_type fd = lws_get_socket_fd(wsi);
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on); /* an optimisation only */
}

/* Writes queued frames while the socket takes them whole.  One frame per
 * WRITEABLE callback would cost a poll turn per ack under a flood (the acks
 * of a 256-event batch would trickle out over 256 turns); lws allows more
 * writes in one callback as long as none of them was left partly unsent,
 * which lws_send_pipe_choked() reports (and then we wait for POLLOUT). */
int ws_txq_write(struct ws_txq *q, struct lws *wsi, int text)
{
	if (!q->head)
		return 0;
	int corked = q->head->next != NULL;
	if (corked)
		cork(wsi, 1);
	int rc = 0;
	do {
		struct ws_frame *f = q->head;
		q->head = f->next;
		if (!q->head)
			q->tail = NULL;
		int n = lws_write(wsi, f->data + LWS_PRE, f->len, text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
		free(f);
		if (n < 0) {
			rc = -1;
			break;
		}
	} while (q->head && !lws_send_pipe_choked(wsi));
	if (corked)
		cork(wsi, 0); /* uncorking sends what is held at once */
	if (rc == 0 && q->head)
		lws_callback_on_writable(wsi);
	return rc;
}

void ws_txq_clear(struct ws_txq *q)
{
	while (q->head) {
		struct ws_frame *f = q->head;
		q->head = f->next;
		free(f);
	}
	q->tail = NULL;
}

int ws_dial(struct lws_context *ctx, struct lws_vhost *vhost, const char *url, const char *protocol,
	    void *opaque, struct lws **pwsi)
{
	char *copy = xstrdup(url);
	const char *proto = NULL, *address = NULL, *path = NULL;
	int port = 0, rc = -1;
	if (lws_parse_uri(copy, &proto, &address, &port, &path) == 0) {
		char *fullpath = xasprintf("/%s", path); /* lws_parse_uri drops the leading slash */
		struct lws_client_connect_info ci;
		memset(&ci, 0, sizeof ci);
		ci.context = ctx;
		ci.vhost = vhost;
		ci.address = address;
		ci.port = port;
		ci.path = fullpath;
		ci.host = address;
		ci.origin = address;
		ci.ssl_connection = (!strcmp(proto, "wss") || !strcmp(proto, "https")) ? LCCSCF_USE_SSL : 0;
		ci.local_protocol_name = protocol;
		ci.opaque_user_data = opaque;
		ci.pwsi = pwsi;
		rc = lws_client_connect_via_info(&ci) ? 0 : -1;
		free(fullpath);
	}
	free(copy);
	return rc;
}
