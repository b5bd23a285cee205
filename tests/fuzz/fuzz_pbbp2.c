/*
 * fuzz_pbbp2.c - libFuzzer target for the pbbp2 frame codec.
 *
 * The decoder faces bytes straight off the Feishu long connection, so it must
 * survive anything.  Beyond not crashing, this checks a round trip: whenever
 * pbbp2_decode() accepts the input, pbbp2_encode() of the frame must decode
 * again to the very same fields, and encoding that second frame must give the
 * same bytes as the first encoding.  A mismatch calls abort() so libFuzzer
 * reports it as a crash and saves the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/pbbp2.h"
#include "collabd/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_pbbp2: round trip mismatch: %s\n", what);
	abort();
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static void check_same(const struct pbbp2_frame *a, const struct pbbp2_frame *b)
{
	if (a->seq_id != b->seq_id)
		fail("seq_id");
	if (a->log_id != b->log_id)
		fail("log_id");
	if (a->service != b->service)
		fail("service");
	if (a->method != b->method)
		fail("method");
	if (a->nheaders != b->nheaders)
		fail("nheaders");
	for (size_t i = 0; i < a->nheaders; i++) {
		if (!a->headers[i].key || !a->headers[i].value)
			fail("decoded header without key or value");
		if (!str_eq(a->headers[i].key, b->headers[i].key))
			fail("header key");
		if (!str_eq(a->headers[i].value, b->headers[i].value))
			fail("header value");
	}
	if (!str_eq(a->payload_encoding, b->payload_encoding))
		fail("payload_encoding");
	if (!str_eq(a->payload_type, b->payload_type))
		fail("payload_type");
	if (!a->payload != !b->payload)
		fail("payload presence");
	if (a->payload) {
		if (a->payload_len != b->payload_len)
			fail("payload_len");
		if (a->payload_len && memcmp(a->payload, b->payload, a->payload_len))
			fail("payload bytes");
		if (a->payload[a->payload_len] != '\0' || b->payload[b->payload_len] != '\0')
			fail("payload not NUL-terminated");
	}
	if (!str_eq(a->log_id_new, b->log_id_new))
		fail("log_id_new");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbbp2_frame first, second;
	if (pbbp2_decode(data, size, &first) != PBBP2_OK)
		return 0;

	/* Exercise the lookup too: every decoded header must be findable. */
	for (size_t i = 0; i < first.nheaders; i++)
		if (!pbbp2_header(&first, first.headers[i].key))
			fail("pbbp2_header cannot find a decoded key");

	struct buf enc1, enc2;
	buf_init(&enc1);
	buf_init(&enc2);
	pbbp2_encode(&first, &enc1);
	enum pbbp2_err err = pbbp2_decode(enc1.data, enc1.len, &second);
	if (err != PBBP2_OK) {
		fprintf(stderr, "fuzz_pbbp2: re-decode failed: %s\n", pbbp2_strerror(err));
		abort();
	}
	check_same(&first, &second);

	pbbp2_encode(&second, &enc2);
	if (enc1.len != enc2.len || memcmp(enc1.data, enc2.data, enc1.len))
		fail("re-encoding is not byte-identical");

	buf_free(&enc1);
	buf_free(&enc2);
	pbbp2_frame_free(&first);
	pbbp2_frame_free(&second);
	return 0;
}
