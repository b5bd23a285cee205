/*
 * wsframe.h - RFC 6455 for a WebSocket client, without I/O: the opening
 * handshake (request key, expected accept value, the server's response head)
 * and the framing (masked frames out; unmasked frames in, reassembled into
 * whole messages with control frames interleaved).
 *
 * Why our own and not libwebsockets' ws role: lws 4.1 parses a client's
 * incoming frames one byte per function call, a quarter of the daemon's CPU
 * under a flood; the decoder here copies payloads whole (and not at all when
 * an unfragmented frame lies whole in what was read).  lws still owns the
 * socket, TLS and the event loop (wsconn.c drives it as a raw connection).
 */
#ifndef COLLABD_WSFRAME_H
#define COLLABD_WSFRAME_H

#include <stddef.h>

#include "collabd/util.h"

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* ---- the opening handshake ---- */

#define WS_KEY_LEN 24    /* base64 of 16 bytes */
#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1 digest */

/* key: base64 of the 16 random bytes of nonce, NUL-terminated. */
void ws_handshake_key(const unsigned char nonce[16], char key[WS_KEY_LEN + 1]);
/* accept: what the server must answer in Sec-WebSocket-Accept for key. */
void ws_handshake_accept(const char *key, char accept[WS_ACCEPT_LEN + 1]);

struct ws_response {
	int status;      /* the HTTP status of the response */
	size_t head_len; /* bytes of the head, up to and including the blank line */
};

enum ws_head_rc { WS_HEAD_MORE, WS_HEAD_OK, WS_HEAD_REFUSED, WS_HEAD_BAD };

/* Reads the server's response head from the first len bytes received.
 *   WS_HEAD_MORE     the blank line has not arrived yet (len < limit);
 *   WS_HEAD_OK       101, Upgrade: websocket, Connection: upgrade and the
 *                    expected Sec-WebSocket-Accept; bytes after head_len are
 *                    already frames;
 *   WS_HEAD_REFUSED  a well-formed response that is not an upgrade (any other
 *                    status): r->status says which, ws_header() reads it;
 *   WS_HEAD_BAD      not HTTP, a head over 16 KiB, a 101 with a wrong or
 *                    missing accept or upgrade header.
 * *why gets a static English reason for REFUSED and BAD. */
enum ws_head_rc ws_response_parse(const char *in, size_t len, const char *expect_accept, struct ws_response *r,
				  const char **why);

/* Copies the value of header name (case-insensitive, surrounding blanks
 * trimmed) of the response head in[0..head_len) into out (NUL-terminated,
 * cut to outsz - 1 bytes).  Returns its length, or -1 when absent. */
int ws_header(const char *in, size_t head_len, const char *name, char *out, size_t outsz);

/* ---- frames out ---- */

/* Appends one final (FIN) frame with opcode op and the payload, masked with
 * mask (a client's frames must be masked).  Control frames must carry at most
 * 125 bytes (the caller's duty; asserted). */
void ws_frame_append(struct buf *out, enum ws_opcode op, const void *payload, size_t len,
		     const unsigned char mask[4]);

/* ---- frames in ---- */

enum ws_event_kind {
	WS_EV_MESSAGE, /* a whole text or binary message */
	WS_EV_PING,    /* answer with a pong carrying data */
	WS_EV_PONG,
	WS_EV_CLOSE,   /* the server closes: code 0 when its frame had none */
	WS_EV_TOO_BIG, /* a message over the limit was skipped (once per message) */
};

struct ws_event {
	enum ws_event_kind kind;
	int binary;                /* MESSAGE: opcode was binary */
	const unsigned char *data; /* valid during the callback only; CLOSE: the
				    * reason after the code; TOO_BIG: NULL */
	size_t len;                /* TOO_BIG: the size known when it was seen */
	int close_code;            /* CLOSE */
};

/* Returns 0 to go on, anything else to stop decoding (ws_decode returns it). */
typedef int (*ws_event_fn)(void *arg, const struct ws_event *ev);

struct ws_decoder {
	size_t max_message;        /* larger messages are skipped, not fatal */
	/* the rest is the decoder's own */
	unsigned char head[14];    /* a frame header that spans reads */
	size_t head_have;
	int in_frame;              /* inside a frame's payload */
	int frame_op, frame_fin;
	unsigned long long frame_left;
	int msg_op;                /* the fragmented message under way (0: none) */
	int msg_binary;            /* the message under way is binary */
	int msg_skip;              /* that message is over the limit: drop its bytes */
	struct buf msg;            /* its payload so far (owned) */
	unsigned char ctl[125];    /* a control frame's payload that spans reads */
	size_t ctl_have;
	int failed;                /* a protocol error was returned */
};

void ws_decoder_init(struct ws_decoder *d, size_t max_message);
void ws_decoder_free(struct ws_decoder *d);

/* Feeds len received bytes.  Calls fn for each event, in order.  Returns 0
 * when all was consumed, what fn returned when it stopped the decoding, or
 * -1 on a protocol violation (*why: a static English reason; close the
 * connection with status 1002): a masked frame, RSV bits, an unknown or
 * fragmented control opcode, a control frame over 125 bytes, a continuation
 * with no message, a new message inside a fragmented one, a 64-bit length
 * with its top bit set.  After -1 the decoder must not be fed again. */
int ws_decode(struct ws_decoder *d, const unsigned char *in, size_t len, ws_event_fn fn, void *arg,
	      const char **why);

#endif
