/*
 * pbbp2.c - encoder and defensive decoder for the Feishu frame.
 */
#include "collabd/pbbp2.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FIELD_NUMBER ((1u << 29) - 1)

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };

const char *pbbp2_strerror(enum pbbp2_err err)
{
	switch (err) {
	case PBBP2_OK: return "ok";
	case PBBP2_ETRUNCATED: return "truncated frame";
	case PBBP2_EVARINT: return "malformed varint";
	case PBBP2_EWIRETYPE: return "unexpected wire type";
	case PBBP2_EMISSING: return "required field missing";
	case PBBP2_ELIMIT: return "frame exceeds limits";
	case PBBP2_EUTF8: return "string field is not UTF-8";
	case PBBP2_EFIELD: return "invalid field number";
	}
	return "unknown error";
}

struct reader {
	const unsigned char *p;
	const unsigned char *end;
};

static enum pbbp2_err read_varint(struct reader *r, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0, i = 0; i < 10; i++, shift += 7) {
		if (r->p >= r->end)
			return PBBP2_ETRUNCATED;
		unsigned char b = *r->p++;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return PBBP2_OK;
		}
	}
	return PBBP2_EVARINT;
}

/* Reads a length prefix and returns a view of that many bytes. */
static enum pbbp2_err read_len(struct reader *r, const unsigned char **p, size_t *n)
{
	uint64_t len;
	enum pbbp2_err err = read_varint(r, &len);
	if (err)
		return err;
	if (len > (uint64_t)(r->end - r->p))
		return PBBP2_ETRUNCATED;
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	return PBBP2_OK;
}

static enum pbbp2_err read_string(struct reader *r, char **out)
{
	const unsigned char *p;
	size_t n;
	enum pbbp2_err err = read_len(r, &p, &n);
	if (err)
		return err;
	if (n > PBBP2_MAX_STRING)
		return PBBP2_ELIMIT;
	if (!utf8_valid((const char *)p, n) || memchr(p, '\0', n))
		return PBBP2_EUTF8;
	free(*out); /* a repeated optional field: the last one wins, as in protobuf */
	*out = xstrndup((const char *)p, n);
	return PBBP2_OK;
}

static enum pbbp2_err skip_field(struct reader *r, unsigned wt)
{
	uint64_t v;
	const unsigned char *p;
	size_t n;
	switch (wt) {
	case WT_VARINT: return read_varint(r, &v);
	case WT_LEN: return read_len(r, &p, &n);
	case WT_FIXED64:
		if (r->end - r->p < 8)
			return PBBP2_ETRUNCATED;
		r->p += 8;
		return PBBP2_OK;
	case WT_FIXED32:
		if (r->end - r->p < 4)
			return PBBP2_ETRUNCATED;
		r->p += 4;
		return PBBP2_OK;
	default:
		return PBBP2_EWIRETYPE; /* groups (3, 4) and reserved types */
	}
}

static enum pbbp2_err decode_header(const unsigned char *p, size_t n, struct pbbp2_header *h)
{
	struct reader r = { p, p + n };
	enum pbbp2_err err = PBBP2_OK;
	while (r.p < r.end && !err) {
		uint64_t tag;
		if ((err = read_varint(&r, &tag)))
			break;
		if ((tag >> 3) == 0 || (tag >> 3) > MAX_FIELD_NUMBER) {
			err = PBBP2_EFIELD;
			break;
		}
		unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
		if ((field == 1 || field == 2) && wt != WT_LEN)
			err = PBBP2_EWIRETYPE;
		else if (field == 1)
			err = read_string(&r, &h->key);
		else if (field == 2)
			err = read_string(&r, &h->value);
		else
			err = skip_field(&r, wt);
	}
	if (!err && (!h->key || !h->value))
		err = PBBP2_EMISSING;
	return err;
}

enum pbbp2_err pbbp2_decode(const unsigned char *data, size_t len, struct pbbp2_frame *out)
{
	struct reader r = { data, data + len };
	unsigned seen = 0;
	enum pbbp2_err err = PBBP2_OK;
	memset(out, 0, sizeof *out);

	while (r.p < r.end && !err) {
		uint64_t tag, v;
		if ((err = read_varint(&r, &tag)))
			break;
		if ((tag >> 3) == 0 || (tag >> 3) > MAX_FIELD_NUMBER) {
			err = PBBP2_EFIELD;
			break;
		}
		unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
		int want_varint = field >= 1 && field <= 4;
		int want_len = field >= 5 && field <= 9;
		if ((want_varint && wt != WT_VARINT) || (want_len && wt != WT_LEN)) {
			err = PBBP2_EWIRETYPE;
			break;
		}
		if (want_varint) {
			if ((err = read_varint(&r, &v)))
				break;
			seen |= 1u << field;
			switch (field) {
			case 1: out->seq_id = v; break;
			case 2: out->log_id = v; break;
			/* int32 travels as a sign-extended varint: keep the low 32 bits. */
			case 3: out->service = (int32_t)(uint32_t)v; break;
			case 4: out->method = (int32_t)(uint32_t)v; break;
			}
			continue;
		}
		switch (field) {
		case 5: {
			const unsigned char *p;
			size_t n;
			if ((err = read_len(&r, &p, &n)))
				break;
			if (out->nheaders >= PBBP2_MAX_HEADERS) {
				err = PBBP2_ELIMIT;
				break;
			}
			out->headers = xrealloc(out->headers, (out->nheaders + 1) * sizeof *out->headers);
			struct pbbp2_header *h = &out->headers[out->nheaders++];
			memset(h, 0, sizeof *h);
			err = decode_header(p, n, h);
			break;
		}
		case 6: err = read_string(&r, &out->payload_encoding); break;
		case 7: err = read_string(&r, &out->payload_type); break;
		case 8: {
			const unsigned char *p;
			size_t n;
			if ((err = read_len(&r, &p, &n)))
				break;
			free(out->payload);
			out->payload = xmalloc(n + 1);
			memcpy(out->payload, p, n);
			out->payload[n] = '\0'; /* convenient for JSON parsing; not counted */
			out->payload_len = n;
			break;
		}
		case 9: err = read_string(&r, &out->log_id_new); break;
		default: err = skip_field(&r, wt); break;
		}
	}
	if (!err && (seen & 0x1E) != 0x1E)
		err = PBBP2_EMISSING;
	if (err)
		pbbp2_frame_free(out);
	return err;
}

static void put_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (unsigned char)(v & 0x7F);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_append(b, tmp, n);
}

static void put_bytes(struct buf *b, unsigned field, const void *p, size_t n)
{
	put_varint(b, (uint64_t)(field << 3 | WT_LEN));
	put_varint(b, n);
	buf_append(b, p, n);
}

void pbbp2_encode(const struct pbbp2_frame *f, struct buf *out)
{
	put_varint(out, 1 << 3 | WT_VARINT);
	put_varint(out, f->seq_id);
	put_varint(out, 2 << 3 | WT_VARINT);
	put_varint(out, f->log_id);
	/* Negative int32 is sign-extended to 64 bits, as protobuf specifies. */
	put_varint(out, 3 << 3 | WT_VARINT);
	put_varint(out, (uint64_t)(int64_t)f->service);
	put_varint(out, 4 << 3 | WT_VARINT);
	put_varint(out, (uint64_t)(int64_t)f->method);
	for (size_t i = 0; i < f->nheaders; i++) {
		struct buf h;
		buf_init(&h);
		put_bytes(&h, 1, f->headers[i].key, strlen(f->headers[i].key));
		put_bytes(&h, 2, f->headers[i].value, strlen(f->headers[i].value));
		put_bytes(out, 5, h.data, h.len);
		buf_free(&h);
	}
	if (f->payload_encoding)
		put_bytes(out, 6, f->payload_encoding, strlen(f->payload_encoding));
	if (f->payload_type)
		put_bytes(out, 7, f->payload_type, strlen(f->payload_type));
	if (f->payload)
		put_bytes(out, 8, f->payload, f->payload_len);
	if (f->log_id_new)
		put_bytes(out, 9, f->log_id_new, strlen(f->log_id_new));
}

void pbbp2_frame_free(struct pbbp2_frame *f)
{
	for (size_t i = 0; i < f->nheaders; i++) {
		free(f->headers[i].key);
		free(f->headers[i].value);
	}
	free(f->headers);
	free(f->payload_encoding);
	free(f->payload_type);
	free(f->payload);
	free(f->log_id_new);
	memset(f, 0, sizeof *f);
}

const char *pbbp2_header(const struct pbbp2_frame *f, const char *key)
{
	for (size_t i = 0; i < f->nheaders; i++)
		if (strcmp(f->headers[i].key, key) == 0)
			return f->headers[i].value;
	return NULL;
}

void pbbp2_add_header(struct pbbp2_frame *f, const char *key, const char *value)
{
	f->headers = xrealloc(f->headers, (f->nheaders + 1) * sizeof *f->headers);
	f->headers[f->nheaders].key = xstrdup(key);
	f->headers[f->nheaders].value = xstrdup(value);
	f->nheaders++;
}
