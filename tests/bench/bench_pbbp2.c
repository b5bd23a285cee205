/*
 * bench_pbbp2.c - how fast the Feishu frame codec decodes and encodes.
 *
 * Prints figures; it is not a test.  Run: make bench (or build/bench/bench_pbbp2).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collabd/pbbp2.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	/* A typical data frame: six headers and a 600-byte event payload. */
	struct pbbp2_frame f = { .seq_id = 12345, .log_id = 0xFFFFFFFFFFFFFF00ULL, .service = 33554678, .method = 1 };
	pbbp2_add_header(&f, "type", "event");
	pbbp2_add_header(&f, "message_id", "9b4c2f4e-0a47-4a55-9d1e-4f1c2d3e4f50");
	pbbp2_add_header(&f, "sum", "1");
	pbbp2_add_header(&f, "seq", "0");
	pbbp2_add_header(&f, "trace_id", "4b8f2c1d9e7a6b5c4d3e2f1a0b9c8d7e");
	pbbp2_add_header(&f, "timestamp", "1795848743191");
	char payload[600];
	memset(payload, 'x', sizeof payload);
	f.payload = (unsigned char *)payload;
	f.payload_len = sizeof payload;

	struct buf b;
	buf_init(&b);
	pbbp2_encode(&f, &b);
	f.payload = NULL; /* borrowed: do not free */
	pbbp2_frame_free(&f);

	const int n = 200000;
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		struct pbbp2_frame g;
		if (pbbp2_decode(b.data, b.len, &g) != PBBP2_OK)
			return 1;
		pbbp2_frame_free(&g);
	}
	double t1 = now_s();
	struct pbbp2_frame g;
	pbbp2_decode(b.data, b.len, &g);
	struct buf out;
	buf_init(&out);
	double t2 = now_s();
	for (int i = 0; i < n; i++) {
		buf_reset(&out);
		pbbp2_encode(&g, &out);
	}
	double t3 = now_s();
	printf("pbbp2: frame %zu bytes; decode %.0f frames/s (%.2f us each); encode %.0f frames/s (%.2f us each)\n",
	       b.len, n / (t1 - t0), (t1 - t0) / n * 1e6, n / (t3 - t2), (t3 - t2) / n * 1e6);
	pbbp2_frame_free(&g);
	buf_free(&out);
	buf_free(&b);
	return 0;
}
