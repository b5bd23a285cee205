/*
 * wsframe.c - RFC 6455 for a WebSocket client, without I/O (wsframe.h).
 *
 * The decoder's hot path is a frame that lies whole in what was read: its
 * header is read in place and its payload handed to the callback where it
 * lies.  Only a frame cut by a read boundary (or a fragmented message) is
 * copied, in one memcpy per read.
 */
#include "collabd/wsframe.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

/* ---- the opening handshake ---- */

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_HEAD_LIMIT 16384
/* A finished message's buffer larger than this is given back, so one big
 * message does not pin its memory for the life of the connection. */
#define MSG_KEEP_CAP 65536

/* base64 of in[0..len) into out (want characters and a NUL).  lws wants
 * two bytes of room beyond the text, hence the larger buffer in between. */
static void base64(const unsigned char *in, int len, char *out, int want)
{
	char tmp[WS_ACCEPT_LEN + 4];
	int n = lws_b64_encode_string((const char *)in, len, tmp, (int)sizeof tmp);
	assert(n == want);
	(void)n;
	memcpy(out, tmp, (size_t)want);
	out[want] = '\0';
}

void ws_handshake_key(const unsigned char nonce[16], char key[WS_KEY_LEN + 1])
{
	base64(nonce, 16, key, WS_KEY_LEN);
}

void ws_handshake_accept(const char *key, char accept[WS_ACCEPT_LEN + 1])
{
	size_t klen = strlen(key), glen = sizeof WS_GUID - 1;
	unsigned char stackbuf[128], digest[20];
	unsigned char *joined = klen + glen <= sizeof stackbuf ? stackbuf : xmalloc(klen + glen);
	memcpy(joined, key, klen);
	memcpy(joined + klen, WS_GUID, glen);
	lws_SHA1(joined, klen + glen, digest);
	if (joined != stackbuf)
		free(joined);
	base64(digest, (int)sizeof digest, accept, WS_ACCEPT_LEN);
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static int lower(char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

static int equal_nocase(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* One "name: value" line of a head; value with its surrounding blanks trimmed. */
struct header_line {
	const char *name, *value;
	size_t name_len, value_len;
};

/* The header lines of a head: *pos starts just after the status line's CRLF
 * and end is where the blank line starts.  Returns 1 with the next header in
 * *h, 0 at the end, -1 for a line that is not "name: value".  A line starting
 * with a blank (an obsolete folded continuation) is passed over. */
static int next_header(const char *in, size_t *pos, size_t end, struct header_line *h)
{
	while (*pos < end) {
		const char *line = in + *pos;
		const char *eol = memchr(line, '\r', end - *pos);
		/* every line before end ends with CRLF (end starts one), so
		 * line[line_len + 1] is still inside the head */
		if (!eol || eol[1] != '\n')
			return -1;
		size_t line_len = (size_t)(eol - line);
		*pos += line_len + 2;
		if (line_len == 0 || is_blank(line[0]))
			continue;
		const char *colon = memchr(line, ':', line_len);
		if (!colon || colon == line)
			return -1;
		h->name = line;
		h->name_len = (size_t)(colon - line);
		for (size_t i = 0; i < h->name_len; i++)
			if (is_blank(line[i]) || (unsigned char)line[i] < 0x21 || (unsigned char)line[i] > 0x7e)
				return -1;
		const char *v = colon + 1, *vend = line + line_len;
		while (v < vend && is_blank(*v))
			v++;
		while (vend > v && is_blank(vend[-1]))
			vend--;
		h->value = v;
		h->value_len = (size_t)(vend - v);
		return 1;
	}
	return 0;
}

/* Does the comma-separated list value contain token (case-insensitive)? */
static int list_has(const char *v, size_t len, const char *token)
{
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && v[i] != ',')
			i++;
		size_t a = start, b = i;
		while (a < b && is_blank(v[a]))
			a++;
		while (b > a && is_blank(v[b - 1]))
			b--;
		if (equal_nocase(v + a, b - a, token))
			return 1;
		i++; /* past the comma */
	}
	return 0;
}

/* The end of the status line (its CR) when in[0..) starts "HTTP/1.x NNN",
 * with r->status filled; NULL when it does not. */
static const char *status_line(const char *in, size_t head_len, struct ws_response *r)
{
	if (head_len < 13 || memcmp(in, "HTTP/1.", 7) != 0 || (in[7] != '0' && in[7] != '1') || in[8] != ' ')
		return NULL;
	int status = 0;
	for (int i = 9; i < 12; i++) {
		if (in[i] < '0' || in[i] > '9')
			return NULL;
		status = status * 10 + (in[i] - '0');
	}
	if (in[12] != ' ' && in[12] != '\r')
		return NULL;
	if (status < 100)
		return NULL;
	const char *eol = memchr(in, '\r', head_len);
	if (eol[1] != '\n') /* a CR is there: the head ends in CRLFCRLF */
		return NULL;
	r->status = status;
	return eol;
}

enum ws_head_rc ws_response_parse(const char *in, size_t len, const char *expect_accept, struct ws_response *r,
				  const char **why)
{
	static const char prefix[] = "HTTP/1.";
	memset(r, 0, sizeof *r);
	*why = NULL;
	if (len == 0)
		return WS_HEAD_MORE;
	size_t cmp = len < sizeof prefix - 1 ? len : sizeof prefix - 1;
	if (memcmp(in, prefix, cmp) != 0) {
		*why = "the response is not HTTP/1.x";
		return WS_HEAD_BAD;
	}
	size_t scan = len < WS_HEAD_LIMIT ? len : WS_HEAD_LIMIT;
	const char *blank = scan >= 4 ? memmem(in, scan, "\r\n\r\n", 4) : NULL;
	if (!blank) {
		if (len >= WS_HEAD_LIMIT) {
			*why = "the response head is over 16 KiB";
			return WS_HEAD_BAD;
		}
		return WS_HEAD_MORE;
	}
	size_t head_len = (size_t)(blank - in) + 4;
	const char *eol = status_line(in, head_len, r);
	if (!eol) {
		*why = "malformed status line";
		return WS_HEAD_BAD;
	}
	r->head_len = head_len;

	int upgrade = 0, connection = 0, accept_seen = 0, accept_ok = 0, extension = 0;
	size_t pos = (size_t)(eol - in) + 2, end = head_len - 2;
	struct header_line h;
	int rc;
	while ((rc = next_header(in, &pos, end, &h)) > 0) {
		if (equal_nocase(h.name, h.name_len, "upgrade"))
			upgrade |= list_has(h.value, h.value_len, "websocket");
		else if (equal_nocase(h.name, h.name_len, "connection"))
			connection |= list_has(h.value, h.value_len, "upgrade");
		else if (equal_nocase(h.name, h.name_len, "sec-websocket-accept")) {
			accept_ok = !accept_seen && strlen(expect_accept) == h.value_len &&
				    memcmp(h.value, expect_accept, h.value_len) == 0;
			accept_seen = 1;
		} else if (equal_nocase(h.name, h.name_len, "sec-websocket-extensions"))
			extension |= h.value_len > 0;
	}
	if (rc < 0) {
		*why = "malformed header line";
		return WS_HEAD_BAD;
	}
	if (r->status != 101) {
		*why = "the server did not switch protocols";
		return WS_HEAD_REFUSED;
	}
	if (!upgrade) {
		*why = "101 without Upgrade: websocket";
		return WS_HEAD_BAD;
	}
	if (!connection) {
		*why = "101 without Connection: upgrade";
		return WS_HEAD_BAD;
	}
	if (!accept_seen) {
		*why = "101 without Sec-WebSocket-Accept";
		return WS_HEAD_BAD;
	}
	if (!accept_ok) {
		*why = "101 with a wrong Sec-WebSocket-Accept";
		return WS_HEAD_BAD;
	}
	/* We ask for no extension; one the server chose anyway would set RSV
	 * bits our decoder refuses, so refuse it here with a clearer reason. */
	if (extension) {
		*why = "101 with an extension the client did not ask for";
		return WS_HEAD_BAD;
	}
	return WS_HEAD_OK;
}

/* The value is cut at a character boundary (a gateway's handshake-msg may be
 * Chinese); the length returned is that of what out holds. */
int ws_header(const char *in, size_t head_len, const char *name, char *out, size_t outsz)
{
	const char *eol = head_len ? memchr(in, '\r', head_len) : NULL;
	if (!eol || head_len < 4 || memcmp(in + head_len - 4, "\r\n\r\n", 4) != 0)
		return -1;
	size_t pos = (size_t)(eol - in) + 2, end = head_len - 2;
	struct header_line h;
	while (next_header(in, &pos, end, &h) > 0) {
		if (!equal_nocase(h.name, h.name_len, name))
			continue;
		if (!outsz)
			return 0;
		const char *nul = memchr(h.value, '\0', h.value_len); /* out is a C string */
		size_t n = utf8_cut(h.value, nul ? (size_t)(nul - h.value) : h.value_len, outsz - 1);
		memcpy(out, h.value, n);
		out[n] = '\0';
		return (int)n;
	}
	return -1;
}

/* ---- frames out ---- */

/* XORs p[0..len) with the 4-byte mask, 8 bytes per step. */
static void mask_bytes(unsigned char *p, size_t len, const unsigned char mask[4])
{
	unsigned char pattern[8];
	memcpy(pattern, mask, 4);
	memcpy(pattern + 4, mask, 4);
	uint64_t m;
	memcpy(&m, pattern, 8);
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		w ^= m;
		memcpy(p + i, &w, 8);
	}
	for (; i < len; i++)
		p[i] ^= mask[i & 3];
}

void ws_frame_append(struct buf *out, enum ws_opcode op, const void *payload, size_t len,
		     const unsigned char mask[4])
{
	assert(!(op & 0x8) || len <= 125);
	unsigned char head[14];
	size_t n = 0;
	head[n++] = (unsigned char)(0x80 | (op & 0x0F));
	if (len <= 125) {
		head[n++] = (unsigned char)(0x80 | len);
	} else if (len <= 0xFFFF) {
		head[n++] = 0x80 | 126;
		head[n++] = (unsigned char)(len >> 8);
		head[n++] = (unsigned char)len;
	} else {
		head[n++] = 0x80 | 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			head[n++] = (unsigned char)((uint64_t)len >> shift);
	}
	memcpy(head + n, mask, 4);
	n += 4;
	buf_append(out, head, n);
	size_t at = out->len;
	buf_append(out, payload, len);
	mask_bytes(out->data + at, len, mask);
}

/* ---- frames in ---- */

void ws_decoder_init(struct ws_decoder *d, size_t max_message)
{
	memset(d, 0, sizeof *d);
	d->max_message = max_message;
	buf_init(&d->msg);
}

void ws_decoder_free(struct ws_decoder *d)
{
	buf_free(&d->msg);
	memset(d, 0, sizeof *d);
}

static int is_control(int op) { return (op & 0x8) != 0; }

/* Bytes of the header whose second byte is b1: 2, 4 or 10 (a server's
 * frames carry no masking key; first_bytes_error refuses one that does). */
static size_t head_size(unsigned char b1)
{
	unsigned char l7 = b1 & 0x7F;
	return l7 == 127 ? 10 : l7 == 126 ? 4 : 2;
}

static int fail(struct ws_decoder *d, const char **why, const char *reason)
{
	d->failed = 1;
	*why = reason;
	return -1;
}

/* The checks that need only the first two bytes. */
static const char *first_bytes_error(const struct ws_decoder *d, unsigned char b0, unsigned char b1)
{
	int op = b0 & 0x0F, fin = b0 >> 7;
	if (b0 & 0x70)
		return "RSV bits set without a negotiated extension";
	if (b1 & 0x80)
		return "masked frame from the server";
	switch (op) {
	case WS_OP_CONT:
		if (!d->msg_op)
			return "continuation frame with no message under way";
		return NULL;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (d->msg_op)
			return "new message inside a fragmented one";
		return NULL;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!fin)
			return "fragmented control frame";
		if ((b1 & 0x7F) > 125)
			return "control frame over 125 bytes";
		return NULL;
	default:
		return "unknown opcode";
	}
}

/* Reads a whole header h (head_size(h[1]) bytes, first_bytes_error already
 * passed) into the frame state.  Returns a reason on error. */
static const char *frame_start(struct ws_decoder *d, const unsigned char *h)
{
	unsigned long long n = h[1] & 0x7F;
	if (n == 126) {
		n = (unsigned long long)h[2] << 8 | h[3];
	} else if (n == 127) {
		if (h[2] & 0x80)
			return "64-bit payload length with its top bit set";
		n = 0;
		for (int i = 2; i < 10; i++)
			n = n << 8 | h[i];
	}
	d->frame_op = h[0] & 0x0F;
	d->frame_fin = h[0] >> 7;
	d->frame_left = n;
	d->in_frame = 1;
	d->ctl_have = 0;
	if (is_control(d->frame_op))
		return NULL;
	if (d->frame_op != WS_OP_CONT) {
		/* the first frame of a message */
		d->msg_op = d->frame_fin ? 0 : d->frame_op;
		d->msg_binary = d->frame_op == WS_OP_BINARY;
		d->msg_skip = 0;
		buf_reset(&d->msg);
	}
	return NULL;
}

/* Whether the data frame just started makes its message too big; if so the
 * event to report (once per message) is set in *ev and 1 returned. */
static int frame_too_big(struct ws_decoder *d, struct ws_event *ev)
{
	if (d->msg_skip)
		return 0;
	unsigned long long total = (unsigned long long)d->msg.len + d->frame_left;
	if (total <= d->max_message)
		return 0;
	d->msg_skip = 1;
	buf_reset(&d->msg);
	memset(ev, 0, sizeof *ev);
	ev->kind = WS_EV_TOO_BIG;
	ev->binary = d->msg_binary;
	ev->len = total > SIZE_MAX ? SIZE_MAX : (size_t)total; /* as much as is known so far */
	return 1;
}

/* The event of a control frame with its whole payload p[0..len); the frame
 * is over.  Returns what the callback returned, or -1 (1-byte close). */
static int control_event(struct ws_decoder *d, const unsigned char *p, size_t len, ws_event_fn fn, void *arg,
			 const char **why)
{
	struct ws_event ev = {.data = p, .len = len};
	d->in_frame = 0;
	switch (d->frame_op) {
	case WS_OP_PING: ev.kind = WS_EV_PING; break;
	case WS_OP_PONG: ev.kind = WS_EV_PONG; break;
	default:
		ev.kind = WS_EV_CLOSE;
		if (len == 1)
			return fail(d, why, "close frame with a 1-byte payload");
		if (len >= 2) {
			/* data/len: the reason text after the code */
			ev.close_code = p[0] << 8 | p[1];
			ev.data = p + 2;
			ev.len = len - 2;
		}
		break;
	}
	return fn(arg, &ev);
}

/* The data frame whose payload has all been taken is over: when it ends its
 * message, report that (or nothing when it was skipped). */
static int data_frame_end(struct ws_decoder *d, ws_event_fn fn, void *arg)
{
	d->in_frame = 0;
	if (!d->frame_fin)
		return 0;
	d->msg_op = 0;
	int rc = 0;
	if (!d->msg_skip) {
		struct ws_event ev = {.kind = WS_EV_MESSAGE, .binary = d->msg_binary, .data = d->msg.data,
				      .len = d->msg.len};
		if (!ev.data)
			ev.data = (const unsigned char *)"";
		rc = fn(arg, &ev);
	}
	d->msg_skip = 0;
	if (d->msg.cap > MSG_KEEP_CAP)
		buf_free(&d->msg);
	else
		buf_reset(&d->msg);
	return rc;
}

int ws_decode(struct ws_decoder *d, const unsigned char *in, size_t len, ws_event_fn fn, void *arg,
	      const char **why)
{
	static const char *const after_error = "fed again after a protocol error";
	if (d->failed) {
		*why = after_error;
		return -1;
	}
	size_t pos = 0;
	while (pos < len) {
		size_t avail = len - pos;
		int rc;
		if (!d->in_frame) {
			/* a frame header: in place when it lies whole in the input */
			const unsigned char *h;
			const char *err;
			if (d->head_have == 0 && avail >= 2 && avail >= head_size(in[pos + 1])) {
				h = in + pos;
				if ((err = first_bytes_error(d, h[0], h[1])) != NULL)
					return fail(d, why, err);
				pos += head_size(h[1]);
			} else {
				if (d->head_have < 2) {
					size_t take = 2 - d->head_have < avail ? 2 - d->head_have : avail;
					memcpy(d->head + d->head_have, in + pos, take);
					d->head_have += take;
					pos += take;
					avail -= take;
					if (d->head_have < 2)
						return 0;
					if ((err = first_bytes_error(d, d->head[0], d->head[1])) != NULL)
						return fail(d, why, err);
				}
				size_t need = head_size(d->head[1]) - d->head_have;
				size_t take = need < avail ? need : avail;
				memcpy(d->head + d->head_have, in + pos, take);
				d->head_have += take;
				pos += take;
				if (take < need)
					return 0;
				h = d->head;
				d->head_have = 0;
			}
			if ((err = frame_start(d, h)) != NULL)
				return fail(d, why, err);
			avail = len - pos;

			if (is_control(d->frame_op)) {
				if (d->frame_left <= avail) {
					/* whole: straight from the input */
					size_t n = (size_t)d->frame_left;
					pos += n;
					if ((rc = control_event(d, in + pos - n, n, fn, arg, why)) != 0)
						return rc;
				}
				continue;
			}
			struct ws_event big;
			if (frame_too_big(d, &big) && (rc = fn(arg, &big)) != 0) {
				/* stopped: the frame's payload is still to be skipped */
				return rc;
			}
			if (!d->msg_skip && d->frame_fin && d->msg.len == 0 && d->frame_left <= avail) {
				/* an unfragmented message (or the last piece of one that
				 * so far is empty) lying whole in the input: zero copy */
				size_t n = (size_t)d->frame_left;
				struct ws_event ev = {.kind = WS_EV_MESSAGE, .binary = d->msg_binary, .data = in + pos,
						      .len = n};
				pos += n;
				d->in_frame = 0;
				d->msg_op = 0;
				if ((rc = fn(arg, &ev)) != 0)
					return rc;
				continue;
			}
			if (d->frame_left == 0) {
				if ((rc = data_frame_end(d, fn, arg)) != 0)
					return rc;
				continue;
			}
			if (avail == 0)
				return 0;
		}

		/* payload: as much of the frame as this input holds, in one piece */
		size_t n = d->frame_left < avail ? (size_t)d->frame_left : avail;
		if (is_control(d->frame_op)) {
			memcpy(d->ctl + d->ctl_have, in + pos, n);
			d->ctl_have += n;
		} else if (!d->msg_skip) {
			buf_append(&d->msg, in + pos, n);
		}
		pos += n;
		d->frame_left -= n;
		if (d->frame_left)
			return 0;
		rc = is_control(d->frame_op) ? control_event(d, d->ctl, d->ctl_have, fn, arg, why)
					     : data_frame_end(d, fn, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}
