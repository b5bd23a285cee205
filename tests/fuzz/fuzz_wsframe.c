/*
 * fuzz_wsframe.c - libFuzzer target for the WebSocket codec (wsframe.h).
 *
 * The decoder faces bytes straight off the gateways' sockets in whatever
 * pieces the reads cut them, so beyond not crashing this checks:
 *   - the events do not depend on the cuts: the input fed in pieces (sizes
 *     from its first bytes) gives the same events (kinds, flags, payloads,
 *     hashed) and the same result as the input fed in one piece;
 *   - no MESSAGE over max_message, no control payload over 125 bytes;
 *   - after -1 the decoder stays failed and reports nothing more;
 *   - a masked frame built by ws_frame_append, unmasked as a server would
 *     send it, decodes to the payload it was built from.
 * The whole input also goes to ws_response_parse, whose answer must depend
 * only on the head, and to ws_header on the head it found.
 *
 * Input layout: byte 0 picks max_message, byte 1 % 8 is the number k of
 * piece-size bytes that follow (each size = byte + 1, used in turn), the
 * rest is the stream.  A mismatch calls abort() so libFuzzer saves the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/util.h"
#include "collabd/wsframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_wsframe: %s\n", what);
	abort();
}

struct trace {
	uint64_t hash;
	size_t events;
	size_t max_message;
	int failed; /* ws_decode has returned -1: no event may follow */
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ull; /* FNV-1a */
	}
}

static int on_event(void *arg, const struct ws_event *ev)
{
	struct trace *t = arg;
	if (t->failed)
		fail("an event after a protocol error");
	if (ev->kind == WS_EV_MESSAGE && ev->len > t->max_message)
		fail("a message over max_message");
	if ((ev->kind == WS_EV_PING || ev->kind == WS_EV_PONG) && ev->len > 125)
		fail("a control payload over 125 bytes");
	if (ev->kind == WS_EV_CLOSE && ev->len > 123)
		fail("a close reason over 123 bytes");
	if (ev->kind != WS_EV_TOO_BIG && ev->len && !ev->data)
		fail("payload bytes without a pointer");
	int head[4] = {(int)ev->kind, ev->binary, ev->close_code, 0};
	size_t len = ev->len;
	mix(&t->hash, head, sizeof head);
	mix(&t->hash, &len, sizeof len);
	if (ev->kind != WS_EV_TOO_BIG)
		mix(&t->hash, ev->data, ev->len);
	t->events++;
	return 0;
}

/* Feeds the stream cut into pieces of sizes[i % k] + 1 (k == 0: one piece). */
static int decode(const uint8_t *in, size_t len, const uint8_t *sizes, size_t k, size_t max_message,
		  struct trace *t, const char **why)
{
	struct ws_decoder d;
	ws_decoder_init(&d, max_message);
	memset(t, 0, sizeof *t);
	t->hash = 14695981039346656037ull;
	t->max_message = max_message;
	int rc = 0;
	size_t at = 0;
	for (size_t i = 0; at < len; i++) {
		size_t piece = k ? (size_t)sizes[i % k] + 1 : len;
		if (piece > len - at)
			piece = len - at;
		rc = ws_decode(&d, in + at, piece, on_event, t, why);
		at += piece;
		if (rc == -1) {
			t->failed = 1;
			const char *again = NULL;
			if (at < len && ws_decode(&d, in + at, len - at, on_event, t, &again) != -1)
				fail("fed again after -1, the decoder went on");
			break;
		}
		if (rc != 0)
			fail("ws_decode returned what no callback returned");
	}
	ws_decoder_free(&d);
	return rc;
}

static void check_frames(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	size_t max_message = data[0] & 0x80 ? (size_t)1 << 20 : (size_t)(data[0] & 0x7F) * 4;
	size_t k = data[1] % 8;
	if (size < 2 + k)
		return;
	const uint8_t *sizes = data + 2, *in = data + 2 + k;
	size_t len = size - 2 - k;

	struct trace pieces, whole;
	const char *why_pieces = NULL, *why_whole = NULL;
	int rc_pieces = decode(in, len, sizes, k, max_message, &pieces, &why_pieces);
	int rc_whole = decode(in, len, NULL, 0, max_message, &whole, &why_whole);
	if (rc_pieces != rc_whole)
		fail("fed in pieces, a different result");
	if (rc_whole == -1 && (!why_whole || !why_pieces || strcmp(why_whole, why_pieces) != 0))
		fail("fed in pieces, a different reason");
	if (pieces.events != whole.events || pieces.hash != whole.hash)
		fail("fed in pieces, different events");
}

/* The stream as one message: masked by ws_frame_append, then unmasked and
 * its mask bit cleared, it must decode to itself. */
static int same_payload(void *arg, const struct ws_event *ev)
{
	const struct buf *want = arg;
	if (ev->kind != WS_EV_MESSAGE || !ev->binary || ev->len != want->len ||
	    (ev->len && memcmp(ev->data, want->data, ev->len) != 0))
		fail("a built frame decodes to something else");
	return 1;
}

static void check_round_trip(const uint8_t *data, size_t size)
{
	unsigned char mask[4] = {0x5a, 0x01, 0xc3, 0xff};
	if (size >= 4)
		memcpy(mask, data, 4);
	struct buf payload, frame;
	buf_init(&payload);
	buf_init(&frame);
	buf_append(&payload, data, size);
	ws_frame_append(&frame, WS_OP_BINARY, payload.data, payload.len, mask);
	size_t hl = size <= 125 ? 2 : size <= 0xFFFF ? 4 : 10;
	if (frame.len != hl + 4 + size || !(frame.data[1] & 0x80) || memcmp(frame.data + hl, mask, 4) != 0)
		fail("ws_frame_append: a malformed frame");
	/* what the server would send: the header without mask bit and key */
	frame.data[1] &= 0x7F;
	for (size_t i = 0; i < size; i++)
		frame.data[hl + 4 + i] ^= mask[i & 3];
	memmove(frame.data + hl, frame.data + hl + 4, size);
	frame.len -= 4;
	struct ws_decoder d;
	const char *why = NULL;
	ws_decoder_init(&d, size);
	if (ws_decode(&d, frame.data, frame.len, same_payload, &payload, &why) != 1)
		fail("a built frame gives no message");
	ws_decoder_free(&d);
	buf_free(&payload);
	buf_free(&frame);
}

static void check_response(const uint8_t *data, size_t size)
{
	static const char accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
	const char *in = (const char *)data, *why = NULL;
	struct ws_response r;
	enum ws_head_rc rc = ws_response_parse(in, size, accept, &r, &why);
	if ((rc == WS_HEAD_BAD || rc == WS_HEAD_REFUSED) && !why)
		fail("a refusal without a reason");
	if (rc != WS_HEAD_OK && rc != WS_HEAD_REFUSED)
		return;
	if (r.head_len < 4 || r.head_len > size || r.head_len > 16384 ||
	    memcmp(in + r.head_len - 4, "\r\n\r\n", 4) != 0)
		fail("head_len is not the end of a head");
	if (r.status < 100 || r.status > 999 || (rc == WS_HEAD_OK) != (r.status == 101))
		fail("a status that does not match the answer");
	/* the answer depends on the head alone */
	struct ws_response again;
	const char *why2 = NULL;
	if (ws_response_parse(in, r.head_len, accept, &again, &why2) != rc || again.head_len != r.head_len ||
	    again.status != r.status)
		fail("the bytes after the head changed the answer");
	if (ws_response_parse(in, r.head_len - 1, accept, &again, &why2) == WS_HEAD_OK)
		fail("a head without its last byte was accepted");
	static const char *const names[] = {"upgrade", "Connection", "handshake-msg", "x"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char out[9];
		int n = ws_header(in, r.head_len, names[i], out, sizeof out);
		if (n >= (int)sizeof out || (n >= 0 && (size_t)n != strlen(out)))
			fail("ws_header: a length that is not what it wrote");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_frames(data, size);
	check_round_trip(data, size);
	check_response(data, size);
	return 0;
}
