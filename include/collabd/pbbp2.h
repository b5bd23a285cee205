/*
 * pbbp2.h - the Feishu long-connection frame (protobuf package pbbp2, proto2).
 *
 *   message Header { required string key = 1; required string value = 2; }
 *   message Frame  { required uint64 SeqID = 1; required uint64 LogID = 2;
 *                    required int32 service = 3; required int32 method = 4;
 *                    repeated Header headers = 5; optional string payload_encoding = 6;
 *                    optional string payload_type = 7; optional bytes payload = 8;
 *                    optional string LogIDNew = 9; }
 *
 * A small hand-written codec: the frame is tiny and fixed, and a generated
 * codec would pull in a dependency the project does not otherwise need.  The
 * decoder treats its input as hostile: every length is checked against what
 * is left, unknown fields are skipped, and limits bound what one frame can
 * make us allocate.
 */
#ifndef COLLABD_PBBP2_H
#define COLLABD_PBBP2_H

#include <stddef.h>
#include <stdint.h>

#include "collabd/util.h"

#define PBBP2_METHOD_CONTROL 0
#define PBBP2_METHOD_DATA 1
#define PBBP2_MAX_HEADERS 64
#define PBBP2_MAX_STRING 4096

struct pbbp2_header {
	char *key;   /* owned by the frame */
	char *value; /* owned by the frame */
};

struct pbbp2_frame {
	uint64_t seq_id;
	uint64_t log_id;
	int32_t service;
	int32_t method;
	struct pbbp2_header *headers; /* owned */
	size_t nheaders;
	char *payload_encoding;       /* owned, NULL when absent */
	char *payload_type;           /* owned, NULL when absent */
	unsigned char *payload;       /* owned, NULL when absent */
	size_t payload_len;
	char *log_id_new;             /* owned, NULL when absent */
};

enum pbbp2_err {
	PBBP2_OK = 0,
	PBBP2_ETRUNCATED,   /* input ends inside a field */
	PBBP2_EVARINT,      /* varint longer than 10 bytes */
	PBBP2_EWIRETYPE,    /* known field with the wrong wire type, or a group */
	PBBP2_EMISSING,     /* a required field is absent */
	PBBP2_ELIMIT,       /* too many headers, or a string over PBBP2_MAX_STRING */
	PBBP2_EUTF8,        /* a string field is not UTF-8 */
	PBBP2_EFIELD,       /* field number 0 or above 2^29-1, which protobuf forbids */
};

const char *pbbp2_strerror(enum pbbp2_err err);

/* Decodes len bytes into *out (zeroed first).  On success the caller owns the
 * frame's memory and releases it with pbbp2_frame_free(); on error *out holds
 * nothing that needs freeing. */
enum pbbp2_err pbbp2_decode(const unsigned char *data, size_t len, struct pbbp2_frame *out);

/* Appends the encoding of f to out.  Fields 1-4 are always written, even when
 * zero, because they are required and the platform's decoders insist. */
void pbbp2_encode(const struct pbbp2_frame *f, struct buf *out);

void pbbp2_frame_free(struct pbbp2_frame *f);

/* Returns the value of the first header named key (borrowed), or NULL. */
const char *pbbp2_header(const struct pbbp2_frame *f, const char *key);
/* Appends a header; key and value are copied. */
void pbbp2_add_header(struct pbbp2_frame *f, const char *key, const char *value);

#endif
