/*
 * test_wsframe.c - the RFC 6455 client codec without I/O (wsframe.h): the
 * handshake values of RFC 6455's own example, masked frames out, frames in
 * over every split of the input, fragmentation with control frames in the
 * middle, messages over the limit, each protocol error, and the server's
 * response head.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/wsframe.h"

/* ---- helpers ---- */

/* Appends one server frame (unmasked), with the shortest length encoding
 * unless force_len is 126 or 127. */
static void srv_frame(struct buf *b, int fin, int op, const void *p, size_t len, int force_len)
{
	unsigned char h[10];
	size_t n = 0;
	h[n++] = (unsigned char)((fin ? 0x80 : 0) | op);
	if (force_len != 127 && (force_len == 126 || len > 125) && len <= 0xFFFF) {
		h[n++] = 126;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else if (force_len == 127 || len > 0xFFFF) {
		h[n++] = 127;
		for (int s = 56; s >= 0; s -= 8)
			h[n++] = (unsigned char)((uint64_t)len >> s);
	} else {
		h[n++] = (unsigned char)len;
	}
	buf_append(b, h, n);
	buf_append(b, p, len);
}

/* Every event, serialised into log so that two runs compare with memcmp. */
struct rec {
	struct buf log;
	int count;
	struct ws_event last;             /* pointers valid only in the callback */
	const unsigned char *last_data;
	int stop_at;                      /* return 7 on this event (1-based; 0 never) */
};

static int record(void *arg, const struct ws_event *ev)
{
	struct rec *r = arg;
	char head[96];
	int n = snprintf(head, sizeof head, "[%d b%d c%d n%zu:", (int)ev->kind, ev->binary, ev->close_code, ev->len);
	buf_append(&r->log, head, (size_t)n);
	if (ev->kind != WS_EV_TOO_BIG)
		buf_append(&r->log, ev->data, ev->len);
	buf_append(&r->log, "]", 1);
	r->count++;
	r->last = *ev;
	r->last_data = ev->data;
	return r->count == r->stop_at ? 7 : 0;
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->log);
}

/* Feeds in[0..len) cut at the positions cuts[0..ncuts) (ascending); returns
 * the first nonzero ws_decode result. */
static int feed_cuts(struct ws_decoder *d, struct rec *r, const unsigned char *in, size_t len, const size_t *cuts,
		     size_t ncuts, const char **why)
{
	size_t at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		int rc = ws_decode(d, in + at, to - at, record, r, why);
		if (rc)
			return rc;
		at = to;
	}
	return 0;
}

/* The events of in fed whole, max_message limit; rc in *rc. */
static void decode_whole(const unsigned char *in, size_t len, size_t limit, struct rec *r, int *rc)
{
	struct ws_decoder d;
	const char *why = NULL;
	ws_decoder_init(&d, limit);
	rec_init(r);
	*rc = ws_decode(&d, in, len, record, r, &why);
	ws_decoder_free(&d);
}

/* in gives the same events and result whole, byte by byte, and in every
 * two-piece split. */
static void assert_split_invariant(const unsigned char *in, size_t len, size_t limit)
{
	struct rec whole;
	int whole_rc;
	decode_whole(in, len, limit, &whole, &whole_rc);

	size_t *cuts = malloc((len + 1) * sizeof *cuts);
	for (size_t i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	for (int pass = 0; pass < 2; pass++) {
		size_t ncases = pass == 0 ? 1 : len + 1;
		for (size_t c = 0; c < ncases; c++) {
			struct ws_decoder d;
			struct rec r;
			const char *why = NULL;
			ws_decoder_init(&d, limit);
			rec_init(&r);
			size_t one = c;
			int rc = pass == 0 ? feed_cuts(&d, &r, in, len, cuts, len ? len - 1 : 0, &why)
					   : feed_cuts(&d, &r, in, len, &one, 1, &why);
			assert_int_equal(rc, whole_rc);
			assert_int_equal(r.count, whole.count);
			assert_int_equal(r.log.len, whole.log.len);
			assert_memory_equal(r.log.data, whole.log.data, whole.log.len);
			buf_free(&r.log);
			ws_decoder_free(&d);
		}
	}
	free(cuts);
	buf_free(&whole.log);
}

/* ---- the opening handshake ---- */

static void test_handshake_rfc_example(void **state)
{
	(void)state;
	/* RFC 6455 section 1.3: the nonce "the sample nonce" */
	char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1];
	ws_handshake_key((const unsigned char *)"the sample nonce", key);
	assert_string_equal(key, "dGhlIHNhbXBsZSBub25jZQ==");
	ws_handshake_accept("dGhlIHNhbXBsZSBub25jZQ==", accept);
	assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

	unsigned char zeros[16] = {0}, ones[16];
	memset(ones, 0xFF, sizeof ones);
	ws_handshake_key(zeros, key);
	assert_string_equal(key, "AAAAAAAAAAAAAAAAAAAAAA==");
	ws_handshake_key(ones, key);
	assert_string_equal(key, "/////////////////////w==");
}

static const char good_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static enum ws_head_rc parse(const char *head, struct ws_response *r, const char **why)
{
	return ws_response_parse(head, strlen(head), good_accept, r, why);
}

static void test_response_good(void **state)
{
	(void)state;
	static const char head[] = "HTTP/1.1 101 Switching Protocols\r\n"
				   "upgrade: WebSocket\r\n"
				   "CONNECTION:  keep-alive, Upgrade \r\n"
				   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				   "\r\n";
	char in[sizeof head + 8];
	memcpy(in, head, sizeof head - 1);
	memcpy(in + sizeof head - 1, "\x81\x02hi", 4); /* a frame right behind the head */
	struct ws_response r;
	const char *why = "x";
	assert_int_equal(ws_response_parse(in, sizeof head - 1 + 4, good_accept, &r, &why), WS_HEAD_OK);
	assert_int_equal(r.status, 101);
	assert_int_equal(r.head_len, sizeof head - 1);
	assert_null(why);

	assert_int_equal(parse("HTTP/1.0 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
			       "Sec-WebSocket-Accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
			       &r, &why),
			 WS_HEAD_OK);

	char value[64];
	assert_int_equal(ws_response_parse(in, sizeof head - 1, good_accept, &r, &why), WS_HEAD_OK);
	assert_int_equal(ws_header(in, r.head_len, "connection", value, sizeof value), 19);
	assert_string_equal(value, "keep-alive, Upgrade");
	assert_int_equal(ws_header(in, r.head_len, "Upgrade", value, sizeof value), 9);
	assert_string_equal(value, "WebSocket");
}

static void test_response_bad_upgrades(void **state)
{
	(void)state;
	struct ws_response r;
	const char *why;
	static const struct {
		const char *head;
		const char *why;
	} cases[] = {
		{"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n\r\n",
		 "wrong Sec-WebSocket-Accept"},
		{"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "without Sec-WebSocket-Accept"},
		{"HTTP/1.1 101 x\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		 "without Upgrade"},
		{"HTTP/1.1 101 x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		 "without Upgrade"},
		{"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
		 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		 "without Connection"},
		{"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		 "wrong Sec-WebSocket-Accept"},
		{"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
		 "extension"},
		{"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not HTTP"},
		{"HTTP/2 101\r\n\r\n", "not HTTP"},
		{"HTTP/1.1 1O1 x\r\n\r\n", "status line"},
		{"HTTP/1.1 101x\r\n\r\n", "status line"},
		{"HTTP/1.1 101 x\r\nno colon here\r\n\r\n", "header line"},
		{"HTTP/1.1 101 x\r\nUp grade: websocket\r\n\r\n", "header line"},
		{"HTTP/1.1 101 x\r\nUpgrade: web\rsocket\r\n\r\n", "header line"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		why = NULL;
		enum ws_head_rc rc = parse(cases[i].head, &r, &why);
		if (rc != WS_HEAD_BAD || !why || !strstr(why, cases[i].why))
			fail_msg("case %zu: rc %d why %s", i, (int)rc, why ? why : "(null)");
	}
	/* not HTTP is seen before the blank line arrives */
	assert_int_equal(ws_response_parse("SSH-2", 5, good_accept, &r, &why), WS_HEAD_BAD);
}

static void test_response_refused(void **state)
{
	(void)state;
	static const char head[] = "HTTP/1.1 403 Forbidden\r\n"
				   "Content-Type: text/plain\r\n"
				   "Handshake-Status: 514\r\n"
				   "handshake-msg:   鉴权失败 \r\n"
				   "handshake-autherrcode: 1000040350\r\n"
				   "Content-Length: 5\r\n"
				   "\r\n"
				   "nope!";
	struct ws_response r;
	const char *why = NULL;
	assert_int_equal(parse(head, &r, &why), WS_HEAD_REFUSED);
	assert_int_equal(r.status, 403);
	assert_non_null(why);
	assert_int_equal(r.head_len, strlen(head) - 5);

	char v[64];
	assert_int_equal(ws_header(head, r.head_len, "HANDSHAKE-MSG", v, sizeof v), (int)strlen("鉴权失败"));
	assert_string_equal(v, "鉴权失败");
	assert_int_equal(ws_header(head, r.head_len, "handshake-status", v, sizeof v), 3);
	assert_string_equal(v, "514");
	assert_int_equal(ws_header(head, r.head_len, "handshake-autherrcode", v, sizeof v), 10);
	assert_string_equal(v, "1000040350");
	assert_int_equal(ws_header(head, r.head_len, "handshake", v, sizeof v), -1);
	assert_int_equal(ws_header(head, r.head_len, "Forbidden", v, sizeof v), -1); /* the status line is no header */
	/* cut to the buffer, never inside a character (3 bytes each) */
	assert_int_equal(ws_header(head, r.head_len, "handshake-msg", v, 8), 6);
	assert_string_equal(v, "鉴权");
	assert_int_equal(ws_header(head, r.head_len, "handshake-status", v, 3), 2);
	assert_string_equal(v, "51");

	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n", &r, &why), WS_HEAD_REFUSED);
	assert_int_equal(r.status, 200);
	assert_int_equal(parse("HTTP/1.1 503\r\n\r\n", &r, &why), WS_HEAD_REFUSED);
	assert_int_equal(r.status, 503);
}

static void test_response_split_and_limit(void **state)
{
	(void)state;
	static const char head[] = "HTTP/1.1 101 Switching Protocols\r\n"
				   "Upgrade: websocket\r\n"
				   "Connection: Upgrade\r\n"
				   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				   "\r\n";
	struct ws_response r;
	const char *why;
	/* every prefix short of the blank line asks for more */
	for (size_t n = 0; n < sizeof head - 1; n++)
		assert_int_equal(ws_response_parse(head, n, good_accept, &r, &why), WS_HEAD_MORE);
	assert_int_equal(ws_response_parse(head, sizeof head - 1, good_accept, &r, &why), WS_HEAD_OK);

	/* a head that has not ended within 16 KiB is refused */
	struct buf big;
	buf_init(&big);
	buf_append_str(&big, "HTTP/1.1 403 x\r\n");
	while (big.len < 16384)
		buf_append_str(&big, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	assert_int_equal(ws_response_parse((char *)big.data, 16383, good_accept, &r, &why), WS_HEAD_MORE);
	why = NULL;
	assert_int_equal(ws_response_parse((char *)big.data, big.len, good_accept, &r, &why), WS_HEAD_BAD);
	assert_non_null(why);
	assert_non_null(strstr(why, "16 KiB"));
	/* ... also when its blank line is there, but past the limit */
	buf_append_str(&big, "\r\n");
	assert_int_equal(ws_response_parse((char *)big.data, big.len, good_accept, &r, &why), WS_HEAD_BAD);
	/* and one of exactly 16 KiB is fine */
	buf_reset(&big);
	buf_append_str(&big, "HTTP/1.1 403 x\r\nX-Filler: ");
	while (big.len < 16384 - 4)
		buf_append_str(&big, "a");
	buf_append_str(&big, "\r\n\r\n");
	assert_int_equal(big.len, 16384);
	assert_int_equal(ws_response_parse((char *)big.data, big.len, good_accept, &r, &why), WS_HEAD_REFUSED);
	assert_int_equal(r.head_len, 16384);
	buf_free(&big);
}

/* ---- frames out ---- */

static void test_frame_round_trip(void **state)
{
	(void)state;
	static const size_t lens[] = {0, 1, 7, 8, 9, 125, 126, 65535, 65536, 70001};
	static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		size_t len = lens[k];
		unsigned char *payload = malloc(len + 1);
		for (size_t i = 0; i < len; i++)
			payload[i] = (unsigned char)(i * 131 + 7);
		struct buf out;
		buf_init(&out);
		buf_append_str(&out, "pre"); /* frames are appended, not written over */
		ws_frame_append(&out, WS_OP_TEXT, payload, len, mask);

		const unsigned char *f = out.data + 3;
		assert_int_equal(f[0], 0x81);
		assert_true(f[1] & 0x80);
		size_t hl, got;
		if (len <= 125) {
			hl = 2;
			got = f[1] & 0x7F;
		} else if (len <= 65535) {
			hl = 4;
			assert_int_equal(f[1] & 0x7F, 126);
			got = (size_t)f[2] << 8 | f[3];
		} else {
			hl = 10;
			assert_int_equal(f[1] & 0x7F, 127);
			got = 0;
			for (int i = 2; i < 10; i++)
				got = got << 8 | f[i];
		}
		assert_int_equal(got, len);
		assert_memory_equal(f + hl, mask, 4);
		assert_int_equal(out.len, 3 + hl + 4 + len);
		assert_memory_equal(out.data, "pre", 3);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)(f[hl + 4 + i] ^ mask[i % 4]) != payload[i])
				fail_msg("len %zu: byte %zu unmasks wrong", len, i);
		buf_free(&out);
		free(payload);
	}

	/* control frames: opcode kept, FIN set */
	struct buf out;
	buf_init(&out);
	ws_frame_append(&out, WS_OP_PONG, "abc", 3, mask);
	ws_frame_append(&out, WS_OP_CLOSE, "\x03\xe8", 2, mask);
	assert_int_equal(out.len, 2 + 4 + 3 + 2 + 4 + 2);
	assert_int_equal(out.data[0], 0x8A);
	assert_int_equal(out.data[1], 0x83);
	assert_int_equal(out.data[9], 0x88);
	assert_int_equal(out.data[10], 0x82);
	assert_int_equal(out.data[15] ^ mask[0], 0x03);
	assert_int_equal(out.data[16] ^ mask[1], 0xe8);
	buf_free(&out);
}

/* ---- frames in ---- */

static void test_decode_lengths(void **state)
{
	(void)state;
	static const size_t lens[] = {0, 5, 125, 126, 300, 65535, 65536, 70000};
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		static const int forces[] = {0, 126, 127}; /* shortest, 16-bit, 64-bit length */
		for (size_t fi = 0; fi < 3; fi++) {
			int force = forces[fi];
			size_t len = lens[k];
			if (force == 126 && len > 0xFFFF)
				continue;
			unsigned char *payload = malloc(len + 1);
			for (size_t i = 0; i < len; i++)
				payload[i] = (unsigned char)(i * 7 + 1);
			struct buf in;
			buf_init(&in);
			srv_frame(&in, 1, WS_OP_BINARY, payload, len, force);
			struct ws_decoder d;
			struct rec r;
			const char *why = NULL;
			ws_decoder_init(&d, 1 << 20);
			rec_init(&r);
			assert_int_equal(ws_decode(&d, in.data, in.len, record, &r, &why), 0);
			assert_int_equal(r.count, 1);
			assert_int_equal(r.last.kind, WS_EV_MESSAGE);
			assert_int_equal(r.last.binary, 1);
			assert_int_equal(r.last.len, len);
			/* whole in the input: delivered where it lies */
			assert_ptr_equal(r.last_data, in.data + in.len - len);
			const char *hdr = strchr((char *)r.log.data, ':');
			assert_memory_equal(hdr + 1, payload, len);
			buf_free(&r.log);
			ws_decoder_free(&d);
			buf_free(&in);
			free(payload);
		}
	}
}

static void test_every_split(void **state)
{
	(void)state;
	unsigned char text[300];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (unsigned char)('a' + i % 26);
	/* the two-frame stream: a 16-bit length text and a ping */
	struct buf s;
	buf_init(&s);
	srv_frame(&s, 1, WS_OP_TEXT, text, 300, 0);
	srv_frame(&s, 1, WS_OP_PING, "ping!", 5, 0);
	struct rec r;
	int rc;
	decode_whole(s.data, s.len, 4096, &r, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.count, 2);
	buf_free(&r.log);
	assert_split_invariant(s.data, s.len, 4096);

	/* a busier one: 64-bit length, fragments, control frames between them,
	 * empty frames and a close */
	buf_reset(&s);
	srv_frame(&s, 1, WS_OP_TEXT, text, 20, 127);
	srv_frame(&s, 0, WS_OP_BINARY, text, 3, 0);
	srv_frame(&s, 1, WS_OP_PONG, "", 0, 0);
	srv_frame(&s, 0, WS_OP_CONT, "", 0, 0);
	srv_frame(&s, 1, WS_OP_PING, text, 125, 0);
	srv_frame(&s, 1, WS_OP_CONT, text + 3, 130, 0);
	srv_frame(&s, 1, WS_OP_TEXT, "", 0, 0);
	srv_frame(&s, 1, WS_OP_CLOSE, "\x03\xe9going", 7, 0);
	decode_whole(s.data, s.len, 4096, &r, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.count, 6);
	assert_int_equal(r.last.kind, WS_EV_CLOSE);
	assert_int_equal(r.last.close_code, 1001);
	buf_free(&r.log);
	assert_split_invariant(s.data, s.len, 4096);
	/* and with a limit that skips the fragmented message */
	assert_split_invariant(s.data, s.len, 100);
	buf_free(&s);
}

static void test_fragmented_with_ping(void **state)
{
	(void)state;
	struct buf s;
	buf_init(&s);
	srv_frame(&s, 0, WS_OP_TEXT, "Hel", 3, 0);
	srv_frame(&s, 1, WS_OP_PING, "p", 1, 0);
	srv_frame(&s, 0, WS_OP_CONT, "lo ", 3, 0);
	srv_frame(&s, 1, WS_OP_PONG, "", 0, 0);
	srv_frame(&s, 1, WS_OP_CONT, "world", 5, 0);
	srv_frame(&s, 1, WS_OP_BINARY, "\x00\x01", 2, 0);
	struct rec r;
	int rc;
	decode_whole(s.data, s.len, 64, &r, &rc);
	assert_int_equal(rc, 0);
	static const char want[] = "[1 b0 c0 n1:p][2 b0 c0 n0:][0 b0 c0 n11:Hello world][0 b1 c0 n2:\x00\x01]";
	assert_int_equal(r.log.len, sizeof want - 1);
	assert_memory_equal(r.log.data, want, sizeof want - 1);
	buf_free(&r.log);
	assert_split_invariant(s.data, s.len, 64);
	buf_free(&s);
}

static void test_too_big_skipped(void **state)
{
	(void)state;
	struct buf s;
	buf_init(&s);
	srv_frame(&s, 1, WS_OP_TEXT, "0123456789A", 11, 0);   /* one over: skipped */
	srv_frame(&s, 1, WS_OP_TEXT, "0123456789", 10, 0);    /* at the limit: delivered */
	srv_frame(&s, 0, WS_OP_BINARY, "012345", 6, 0);       /* fits so far */
	srv_frame(&s, 0, WS_OP_CONT, "6789AB", 6, 0);         /* now over: one TOO_BIG */
	srv_frame(&s, 1, WS_OP_PING, "still", 5, 0);          /* control frames still come */
	srv_frame(&s, 0, WS_OP_CONT, "CDEFGHIJKL", 10, 0);    /* no second TOO_BIG */
	srv_frame(&s, 1, WS_OP_CONT, "MN", 2, 0);
	srv_frame(&s, 1, WS_OP_TEXT, "ok", 2, 0);             /* in sync after it */
	struct rec r;
	int rc;
	decode_whole(s.data, s.len, 10, &r, &rc);
	assert_int_equal(rc, 0);
	static const char want[] = "[4 b0 c0 n11:][0 b0 c0 n10:0123456789][4 b1 c0 n12:][1 b0 c0 n5:still]"
				   "[0 b0 c0 n2:ok]";
	assert_int_equal(r.log.len, sizeof want - 1);
	assert_memory_equal(r.log.data, want, sizeof want - 1);
	buf_free(&r.log);
	assert_split_invariant(s.data, s.len, 10);

	/* a huge announced length is skipped, not allocated */
	buf_reset(&s);
	static const unsigned char huge[] = {0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}; /* 4 GiB */
	buf_append(&s, huge, sizeof huge);
	buf_append(&s, "xxxx", 4);
	struct ws_decoder d;
	const char *why;
	ws_decoder_init(&d, 1 << 20);
	rec_init(&r);
	assert_int_equal(ws_decode(&d, s.data, s.len, record, &r, &why), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.last.kind, WS_EV_TOO_BIG);
	assert_int_equal(d.msg.cap, 0);
	buf_free(&r.log);
	ws_decoder_free(&d);
	buf_free(&s);
}

static void test_close_codes(void **state)
{
	(void)state;
	struct buf s;
	buf_init(&s);
	srv_frame(&s, 1, WS_OP_CLOSE, "", 0, 0);
	srv_frame(&s, 1, WS_OP_CLOSE, "\x03\xe8", 2, 0);
	srv_frame(&s, 1, WS_OP_CLOSE, "\x0f\xa0gateway restart", 17, 0);
	struct rec r;
	int rc;
	decode_whole(s.data, s.len, 64, &r, &rc);
	assert_int_equal(rc, 0);
	static const char want[] = "[3 b0 c0 n0:][3 b0 c1000 n0:][3 b0 c4000 n15:gateway restart]";
	assert_int_equal(r.log.len, sizeof want - 1);
	assert_memory_equal(r.log.data, want, sizeof want - 1);
	buf_free(&r.log);
	buf_free(&s);
}

static void test_callback_stops(void **state)
{
	(void)state;
	struct buf s;
	buf_init(&s);
	srv_frame(&s, 1, WS_OP_TEXT, "one", 3, 0);
	srv_frame(&s, 1, WS_OP_TEXT, "two", 3, 0);
	srv_frame(&s, 1, WS_OP_PING, "", 0, 0);
	for (int stop = 1; stop <= 3; stop++) {
		struct ws_decoder d;
		struct rec r;
		const char *why;
		ws_decoder_init(&d, 64);
		rec_init(&r);
		r.stop_at = stop;
		assert_int_equal(ws_decode(&d, s.data, s.len, record, &r, &why), 7);
		assert_int_equal(r.count, stop);
		buf_free(&r.log);
		ws_decoder_free(&d);
	}
	buf_free(&s);
}

static void test_protocol_errors(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
		const char *why;
		int events_before;
	} cases[] = {
		{"masked", "\x81\x82\x01\x02\x03\x04\x69\x6b", 8, "masked", 0},
		{"rsv1", "\xc1\x00", 2, "RSV", 0},
		{"rsv2", "\xa1\x00", 2, "RSV", 0},
		{"rsv3", "\x91\x00", 2, "RSV", 0},
		{"opcode 3", "\x83\x00", 2, "unknown opcode", 0},
		{"opcode 0xB", "\x8b\x00", 2, "unknown opcode", 0},
		{"fragmented ping", "\x09\x00", 2, "fragmented control", 0},
		{"ping of 126", "\x89\x7e\x00\x7e", 4, "over 125", 0},
		{"close of 127", "\x88\x7f\x00\x00\x00\x00\x00\x00\x00\x7f", 10, "over 125", 0},
		{"lone continuation", "\x80\x00", 2, "continuation", 0},
		{"continuation after a whole message", "\x81\x01\x61\x80\x00", 5, "continuation", 1},
		{"message inside a message", "\x01\x01\x61\x81\x00", 5, "inside a fragmented", 0},
		{"binary inside a message", "\x01\x01\x61\x89\x00\x02\x00", 7, "inside a fragmented", 1},
		{"64-bit top bit", "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10, "top bit", 0},
		{"1-byte close", "\x88\x01\x03", 3, "1-byte", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			struct ws_decoder d;
			struct rec r;
			const char *why = NULL;
			int rc = 0;
			ws_decoder_init(&d, 64);
			rec_init(&r);
			if (bytewise) {
				for (size_t k = 0; k < cases[i].len && rc == 0; k++)
					rc = ws_decode(&d, (const unsigned char *)cases[i].bytes + k, 1, record, &r, &why);
			} else {
				rc = ws_decode(&d, (const unsigned char *)cases[i].bytes, cases[i].len, record, &r, &why);
			}
			if (rc != -1 || !why || !strstr(why, cases[i].why) || r.count != cases[i].events_before)
				fail_msg("%s (bytewise %d): rc %d why %s events %d", cases[i].name, bytewise, rc,
					 why ? why : "(null)", r.count);
			/* and it stays broken */
			why = NULL;
			assert_int_equal(ws_decode(&d, (const unsigned char *)"\x81\x00", 2, record, &r, &why), -1);
			assert_non_null(why);
			assert_int_equal(r.count, cases[i].events_before);
			buf_free(&r.log);
			ws_decoder_free(&d);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_rfc_example),
		cmocka_unit_test(test_response_good),
		cmocka_unit_test(test_response_bad_upgrades),
		cmocka_unit_test(test_response_refused),
		cmocka_unit_test(test_response_split_and_limit),
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_decode_lengths),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_fragmented_with_ping),
		cmocka_unit_test(test_too_big_skipped),
		cmocka_unit_test(test_close_codes),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_protocol_errors),
	};
	return cmocka_run_group_tests_name("wsframe", tests, NULL, NULL);
}
