/*
 * bench_wsframe.c - how fast the WebSocket codec (wsframe.h) decodes a flood
 * of ~900-byte text frames, the gateways' event size, read in 4 KiB and in
 * 64 KiB pieces (a frame cut by a read is copied, a whole one is not), and
 * how fast it builds masked frames of that size.
 *
 * Prints figures; it is not a test.  Run: make bench (or build/bench/bench_wsframe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/util.h"
#include "collabd/wsframe.h"

#define FRAMES 200000
#define PAYLOAD 900

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count(void *arg, const struct ws_event *ev)
{
	size_t *sum = arg;
	*sum += ev->len + ev->data[ev->len / 2]; /* touch the payload */
	return 0;
}

static void decode_in(const struct buf *stream, size_t piece)
{
	struct ws_decoder d;
	const char *why = NULL;
	size_t sum = 0;
	ws_decoder_init(&d, 1 << 20);
	double t0 = now_s();
	for (size_t at = 0; at < stream->len; at += piece) {
		size_t n = stream->len - at < piece ? stream->len - at : piece;
		if (ws_decode(&d, stream->data + at, n, count, &sum, &why) != 0) {
			fprintf(stderr, "bench_wsframe: %s\n", why);
			exit(1);
		}
	}
	double t = now_s() - t0;
	ws_decoder_free(&d);
	printf("decode %d x %d-byte frames in %5zu-byte reads: %6.1f ns/frame, %6.0f MB/s (check %zu)\n", FRAMES,
	       PAYLOAD, piece, t / FRAMES * 1e9, (double)stream->len / t / 1e6, sum % 1000);
}

int main(void)
{
	unsigned char payload[PAYLOAD];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (unsigned char)(' ' + i % 90);
	/* the server's frames: FIN text, a 16-bit length, no mask */
	struct buf stream;
	buf_init(&stream);
	for (int i = 0; i < FRAMES; i++) {
		unsigned char h[4] = {0x81, 126, PAYLOAD >> 8, PAYLOAD & 0xFF};
		buf_append(&stream, h, sizeof h);
		buf_append(&stream, payload, sizeof payload);
	}
	decode_in(&stream, 4096);
	decode_in(&stream, 65536);

	static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
	struct buf out;
	buf_init(&out);
	double t0 = now_s();
	for (int i = 0; i < FRAMES; i++) {
		buf_reset(&out);
		ws_frame_append(&out, WS_OP_TEXT, payload, sizeof payload, mask);
	}
	double t = now_s() - t0;
	printf("encode %d x %d-byte masked frames: %6.1f ns/frame (check %u)\n", FRAMES, PAYLOAD,
	       t / FRAMES * 1e9, out.data[100]);
	buf_free(&out);
	buf_free(&stream);
	return 0;
}
