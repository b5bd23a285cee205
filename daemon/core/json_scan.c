/*
 * json_scan.c - the validating one-pass JSON reader of json_scan.h.
 *
 * The rules are jansson 2.14's json_loadb(text, len, 0) (load.c, utf.c):
 * an object or array at the top, nothing but blanks (space, tab, CR, LF)
 * after it; strings of valid UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF) without raw control characters, with the escapes
 * \" \\ \/ \b \f \n \r \t \uXXXX, a high surrogate escape only followed by a
 * low one, never \u0000; integers that fit in 64 bits; reals that do not
 * overflow a double; true, false, null.  Duplicate keys are allowed, the last
 * one counts.  One quirk is kept: a single NUL byte right after a number or
 * true/false/null is skipped (jansson loses it when it puts it back).
 *
 * A field is matched by comparing each key on the way down with its path, a
 * bit mask per level of the fields still in the running; when a key comes
 * again, the fields below it are cleared first, so the last occurrence wins
 * as in a jansson object.
 */
#include "collabd/json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/util.h"

typedef uint32_t mask_t; /* one bit per field: JSCAN_MAX_FIELDS */

struct scan {
	const unsigned char *p, *end;
	struct jscan_field *f;
	size_t n;
	enum jscan_rc rc; /* why the scan stopped */
	/* strlen of each field's path keys, so that a key of another length
	 * costs one comparison, not a call (most keys are of another length) */
	unsigned char want_len[JSCAN_MAX_FIELDS][JSCAN_MAX_PATH];
	/* The fields whose path key at a level is n bytes long, by n % 32
	 * (those of 255 or more bytes in long_keys): the only ones a plain key
	 * of n bytes can match, found without visiting the others. */
	mask_t by_len[JSCAN_MAX_PATH][32], long_keys[JSCAN_MAX_PATH];
};

static int fail(struct scan *s, enum jscan_rc rc)
{
	s->rc = rc;
	return -1;
}

static inline __attribute__((always_inline)) void skip_blanks(struct scan *s)
{
	const unsigned char *p = s->p;
	/* most calls find a non-blank at once: one comparison says so */
	while (p < s->end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	s->p = p;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 4 hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const unsigned char *p)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_value(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* One UTF-8 sequence at p starting with a byte >= 0x80, as jansson's
 * utf8_check_first/utf8_check_full: its length, or 0 when invalid. */
static inline __attribute__((always_inline)) size_t utf8_sequence(const unsigned char *p,
								    const unsigned char *end)
{
	unsigned char u = p[0];
	size_t n;
	long v;
	if (u >= 0xC2 && u <= 0xDF) {
		n = 2;
		v = u & 0x1F;
	} else if (u >= 0xE0 && u <= 0xEF) {
		n = 3;
		v = u & 0x0F;
	} else if (u >= 0xF0 && u <= 0xF4) {
		n = 4;
		v = u & 0x07;
	} else {
		return 0; /* a continuation byte, 0xC0/0xC1, or >= 0xF5 */
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

/* The bytes that end a string's plain run -- a quote, a backslash, a
 * control character, a byte that is not ASCII -- among the 8 bytes of x (as
 * read from memory): a mask with the high bit of each such byte set, 0 when
 * there is none.  These are the classic "has a zero byte" tests; their false
 * positives only ever sit above a true one (a borrow runs upward from a byte
 * that is itself a hit), so the lowest mark is exact. */
static uint64_t special_bytes(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
	uint64_t zero_quote = (quote - ones) & ~quote;
	uint64_t zero_backslash = (backslash - ones) & ~backslash;
	uint64_t control = (x - ones * 0x20) & ~x;
	return (zero_quote | zero_backslash | control | x) & highs;
}

/* The 8 bytes at p as a little-endian word: the first byte in the lowest
 * bits, where the exact hit of special_bytes() is. */
static uint64_t load_word(const unsigned char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* Which byte of its word the first mark of a mask of special_bytes() (not 0) is on. */
static size_t first_marked(uint64_t mask) { return (size_t)__builtin_ctzll(mask) >> 3; }

/* The code point of a validated \\u escape at p (its high and low surrogate
 * pair when it is one); *n gets the bytes it takes (6 or 12). */
static unsigned long escaped_code_point(const unsigned char *p, size_t *n)
{
	unsigned long cp = (unsigned long)hex4(p + 2);
	*n = 6;
	if (cp >= 0xD800 && cp <= 0xDBFF) { /* validated: a low surrogate follows */
		unsigned long lo = (unsigned long)hex4(p + 8);
		*n = 12;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	return cp;
}

static size_t utf8_put(unsigned long cp, char *out);

/* A string; s->p is just past its opening quote.  On return s->p is past
 * the closing quote; *escaped says whether it had escapes.  With out (room
 * for the rest of the document + 1 bytes) the value is unescaped there as
 * it is read, NUL-terminated, its length in *out_len: one pass over an
 * escaped document instead of two.  Only the call with out writes; the
 * compiler keeps a copy of this function without the writes for keys. */
static inline __attribute__((always_inline)) int scan_string_to(struct scan *s, int *escaped, char *out,
								size_t *out_len)
{
	const unsigned char *p = s->p, *end = s->end;
	size_t n = 0; /* bytes written to out */
	*escaped = 0;
	for (;;) {
		/* The common case, printable ASCII, 8 bytes at a time; a word with
		 * a special byte puts p on it at once (an escaped JSON document
		 * has one every few bytes: no byte loop to find it).  out gets
		 * each word whole (n never overtakes p - s->p: escapes only
		 * shrink) and counts only its bytes before the special one. */
		while (end - p >= 8) {
			uint64_t special = special_bytes(load_word(p));
			if (out)
				memcpy(out + n, p, 8);
			if (special) {
				size_t k = first_marked(special);
				p += k;
				n += k;
				goto special;
			}
			p += 8;
			n += 8;
		}
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			if (out)
				out[n] = (char)*p;
			n++;
			p++;
		}
		if (p >= end)
			return fail(s, JSCAN_INVALID);
	special:;
		unsigned char c = *p;
		if (c == '\\') {
			*escaped = 1;
			if (end - p < 2)
				return fail(s, JSCAN_INVALID);
			c = p[1];
			if (c != 'u') {
				char plain;
				switch (c) {
				case '"': case '\\': case '/': plain = (char)c; break;
				case 'b': plain = '\b'; break;
				case 'f': plain = '\f'; break;
				case 'n': plain = '\n'; break;
				case 'r': plain = '\r'; break;
				case 't': plain = '\t'; break;
				default: return fail(s, JSCAN_INVALID);
				}
				if (out)
					out[n] = plain;
				n++;
				p += 2;
				continue;
			}
			if (end - p < 6)
				return fail(s, JSCAN_INVALID);
			long v = hex4(p + 2);
			if (v <= 0) /* not hex, or \u0000: jansson refuses NUL in strings and keys */
				return fail(s, JSCAN_INVALID);
			if (v >= 0xDC00 && v <= 0xDFFF)
				return fail(s, JSCAN_INVALID); /* a low surrogate alone */
			if (v >= 0xD800 && v <= 0xDBFF) {
				if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
					return fail(s, JSCAN_INVALID);
				long w = hex4(p + 8);
				if (w < 0xDC00 || w > 0xDFFF)
					return fail(s, JSCAN_INVALID);
			}
			size_t used;
			unsigned long cp = escaped_code_point(p, &used);
			if (out)
				n += utf8_put(cp, out + n);
			p += used;
			continue;
		}
		if (c == '"') {
			s->p = p + 1;
			if (out) {
				out[n] = '\0';
				*out_len = n;
			}
			return 0;
		}
		if (c < 0x20)
			return fail(s, JSCAN_INVALID);
		size_t k = utf8_sequence(p, end); /* c >= 0x80 */
		if (!k)
			return fail(s, JSCAN_INVALID);
		if (out)
			memcpy(out + n, p, k);
		n += k;
		p += k;
	}
}

/* A key, or a string value nobody asked to copy. */
static int scan_string(struct scan *s, int *escaped) { return scan_string_to(s, escaped, NULL, NULL); }

/* A string value a field wants copied into its buffer. */
static int scan_string_copy(struct scan *s, int *escaped, char *out, size_t *out_len)
{
	return scan_string_to(s, escaped, out, out_len);
}

/* A number, as jansson lexes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *s, enum jscan_type *type, long long *integer)
{
	const unsigned char *p = s->p, *end = s->end, *start = p;
	int negative = 0;
	if (*p == '-') {
		negative = 1;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return fail(s, JSCAN_INVALID);
	/* Accumulated negative, so that INT64_MIN fits. */
	long long v = 0;
	int overflow = 0;
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			return fail(s, JSCAN_INVALID);
	} else {
		while (p < end && *p >= '0' && *p <= '9') {
			int d = *p++ - '0';
			if (v < (INT64_MIN + d) / 10)
				overflow = 1;
			else
				v = v * 10 - d;
		}
	}
	if (p >= end || (*p != '.' && *p != 'e' && *p != 'E')) {
		if (overflow || (!negative && v == INT64_MIN))
			return fail(s, JSCAN_INVALID); /* jansson: "too big integer" */
		*type = JV_INTEGER;
		*integer = negative ? v : -v;
		s->p = p;
		return 0;
	}
	if (*p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(s, JSCAN_INVALID);
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(s, JSCAN_INVALID);
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	/* jansson refuses a real that overflows a double (underflow is fine). */
	char copy[64];
	size_t n = (size_t)(p - start);
	if (n >= sizeof copy)
		return fail(s, JSCAN_UNSURE);
	memcpy(copy, start, n);
	copy[n] = '\0';
	errno = 0;
	double d = strtod(copy, NULL);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
		return fail(s, JSCAN_INVALID);
	*type = JV_REAL;
	s->p = p;
	return 0;
}

static int scan_literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return fail(s, JSCAN_INVALID);
	s->p += n;
	return 0;
}

/* Whether the key text (between quotes) equals want. */
/* want_len: strlen(want), or 255 when that is longer (then compared in full). */
static int key_is(const unsigned char *key, size_t len, int escaped, const char *want, size_t want_len)
{
	if (!escaped) {
		if (want_len < 255)
			return len == want_len && (!len || key[0] == (unsigned char)want[0]) && !memcmp(key, want, len);
		return !strncmp((const char *)key, want, len) && want[len] == '\0';
	}
	struct jscan_field f = { .type = JV_STRING, .start = (const char *)key, .len = len, .escaped = 1 };
	return jscan_string_is(&f, want);
}

static void clear(struct scan *s, mask_t m)
{
	for (; m; m &= m - 1) {
		size_t i = (size_t)__builtin_ctz(m);
		s->f[i].type = JV_NONE;
		s->f[i].start = NULL;
		s->f[i].len = 0;
		s->f[i].copy_len = 0;
	}
}

static int scan_value(struct scan *s, int level, mask_t mask);

/* A value no field wants, `level` keys below the root: a string (most of
 * them) is read here without the call and the bookkeeping of scan_value(),
 * anything else by scan_value() as usual.  (Strings as deep as
 * JSCAN_MAX_DEPTH still go there, to be JSCAN_UNSURE as before.) */
static int skip_unwanted(struct scan *s, int level)
{
	skip_blanks(s);
	if (s->p < s->end && *s->p == '"' && level < JSCAN_MAX_DEPTH) {
		int escaped;
		s->p++;
		return scan_string(s, &escaped);
	}
	return scan_value(s, level, 0);
}

/* Whether field i's path ends `level` keys below the root (it takes the value there). */
static int path_ends(const struct scan *s, size_t i, int level)
{
	return level >= JSCAN_MAX_PATH + 1 || !s->f[i].path[level];
}

static int scan_object(struct scan *s, int level, mask_t mask)
{
	s->p++; /* { */
	skip_blanks(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (s->p >= s->end || *s->p != '"')
			return fail(s, JSCAN_INVALID);
		const unsigned char *key = ++s->p;
		int escaped;
		if (scan_string(s, &escaped))
			return -1;
		size_t keylen = (size_t)(s->p - 1 - key);
		mask_t child = 0;
		if (mask && level < JSCAN_MAX_PATH) {
			/* Only the fields still in the running whose key here could
			 * have this length (an escaped key's text is longer than
			 * its value: then all of them). */
			mask_t m = mask;
			if (!escaped)
				m &= s->by_len[level][keylen % 32] | s->long_keys[level];
			for (; m; m &= m - 1) {
				size_t i = (size_t)__builtin_ctz(m);
				const char *want = s->f[i].path[level];
				if (want && key_is(key, keylen, escaped, want, s->want_len[i][level]))
					child |= (mask_t)1 << i;
			}
		}
		skip_blanks(s);
		if (s->p >= s->end || *s->p != ':')
			return fail(s, JSCAN_INVALID);
		s->p++;
		if (child) {
			clear(s, child); /* this key's value replaces an earlier one's */
			if (scan_value(s, level + 1, child))
				return -1;
		} else if (skip_unwanted(s, level + 1)) {
			return -1;
		}
		skip_blanks(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			skip_blanks(s);
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return fail(s, JSCAN_INVALID);
	}
}

static int scan_array(struct scan *s, int level)
{
	s->p++; /* [ */
	skip_blanks(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (skip_unwanted(s, level + 1))
			return -1;
		skip_blanks(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return fail(s, JSCAN_INVALID);
	}
}

/* The value at s->p (after blanks), `level` keys below the root; mask: the
 * fields whose path so far leads here (those whose path ends here take it). */
static int scan_value(struct scan *s, int level, mask_t mask)
{
	if (level >= JSCAN_MAX_DEPTH)
		return fail(s, JSCAN_UNSURE); /* jansson's limit is 2048; not worth a stack here */
	skip_blanks(s);
	if (s->p >= s->end)
		return fail(s, JSCAN_INVALID);
	const unsigned char *start = s->p;
	enum jscan_type type;
	long long integer = 0;
	int escaped = 0, rc;
	struct jscan_field *copied = NULL; /* the field whose copy holds this string */
	size_t copied_len = 0;
	switch (*s->p) {
	case '{':
		type = JV_OBJECT;
		rc = scan_object(s, level, mask);
		break;
	case '[':
		type = JV_ARRAY;
		rc = scan_array(s, level);
		break;
	case '"':
		type = JV_STRING;
		s->p++;
		/* The first field taking this value that wants a copy gets it as
		 * the string is read (any other one a memcpy of it below). */
		for (mask_t m = mask; m && !copied; m &= m - 1) {
			size_t i = (size_t)__builtin_ctz(m);
			if (path_ends(s, i, level) && s->f[i].copy)
				copied = &s->f[i];
		}
		rc = copied ? scan_string_copy(s, &escaped, copied->copy, &copied_len) : scan_string(s, &escaped);
		break;
	case 't':
		type = JV_TRUE;
		rc = scan_literal(s, "true", 4);
		break;
	case 'f':
		type = JV_FALSE;
		rc = scan_literal(s, "false", 5);
		break;
	case 'n':
		type = JV_NULL;
		rc = scan_literal(s, "null", 4);
		break;
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			rc = scan_number(s, &type, &integer);
		else
			rc = fail(s, JSCAN_INVALID);
		break;
	}
	if (rc)
		return -1;
	const unsigned char *value_end = s->p;
	/* jansson reads one character past a number or a literal and puts it
	 * back; a NUL byte put back is lost (its one-character buffer reads
	 * NUL as empty), so one NUL right after them is skipped. */
	if (type != JV_OBJECT && type != JV_ARRAY && type != JV_STRING && s->p < s->end && *s->p == '\0')
		s->p++;
	for (mask_t m = mask; m; m &= m - 1) {
		size_t i = (size_t)__builtin_ctz(m);
		if (!path_ends(s, i, level))
			continue;
		struct jscan_field *f = &s->f[i];
		f->type = type;
		f->integer = integer;
		f->escaped = escaped;
		if (type == JV_STRING) {
			f->start = (const char *)start + 1;
			f->len = (size_t)(value_end - start - 2);
			if (f->copy && f != copied)
				memcpy(f->copy, copied->copy, copied_len + 1);
			f->copy_len = copied_len;
		} else {
			f->start = (const char *)start;
			f->len = (size_t)(value_end - start);
		}
	}
	return 0;
}

static mask_t all_fields(size_t n) { return n >= 32 ? ~(mask_t)0 : ((mask_t)1 << n) - 1; }

static void measure_paths(struct scan *s)
{
	memset(s->by_len, 0, sizeof s->by_len);
	memset(s->long_keys, 0, sizeof s->long_keys);
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < JSCAN_MAX_PATH && s->f[i].path[k]; k++) {
			size_t n = strlen(s->f[i].path[k]);
			s->want_len[i][k] = (unsigned char)(n < 255 ? n : 255);
			if (n < 255)
				s->by_len[k][n % 32] |= (mask_t)1 << i;
			else
				s->long_keys[k] |= (mask_t)1 << i;
		}
}

enum jscan_rc jscan(const char *text, size_t len, enum jscan_type *root, struct jscan_field *fields,
		    size_t nfields)
{
	if (nfields > JSCAN_MAX_FIELDS)
		abort(); /* a programming error: the masks hold JSCAN_MAX_FIELDS */
	struct scan s = { .p = (const unsigned char *)text, .end = (const unsigned char *)text + len, .f = fields,
			  .n = nfields, .rc = JSCAN_OK };
	measure_paths(&s);
	clear(&s, all_fields(nfields));
	if (root)
		*root = JV_NONE;
	skip_blanks(&s);
	if (s.p >= s.end || (*s.p != '{' && *s.p != '['))
		return JSCAN_INVALID;
	enum jscan_type type = *s.p == '{' ? JV_OBJECT : JV_ARRAY;
	if (scan_value(&s, 0, type == JV_OBJECT ? all_fields(nfields) : 0)) {
		clear(&s, all_fields(nfields));
		return s.rc;
	}
	skip_blanks(&s);
	if (s.p != s.end) {
		clear(&s, all_fields(nfields));
		return JSCAN_INVALID;
	}
	if (root)
		*root = type;
	return JSCAN_OK;
}

/* ---- reading a validated string ---- */

static size_t utf8_put(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Unescapes a validated string body into out (room for len + 1 bytes: no
 * escape grows); returns the length. */
static size_t unescape(const char *in, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + len;
	size_t n = 0;
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	while (p < end) {
		/* Plain bytes 8 at a time; the word that holds a backslash is
		 * copied whole too (n never overtakes p - in: escapes only
		 * shrink, so the room is there) and only its bytes before the
		 * backslash count (escapes come every few bytes in an escaped
		 * JSON document: no byte loop, no call each). */
		while (end - p >= 8) {
			uint64_t x = load_word(p), b = x ^ (ones * '\\');
			uint64_t backslash = (b - ones) & ~b & highs;
			memcpy(out + n, p, 8);
			if (backslash) {
				size_t k = first_marked(backslash);
				n += k;
				p += k;
				goto escape;
			}
			n += 8;
			p += 8;
		}
		while (p < end && *p != '\\')
			out[n++] = (char)*p++;
		if (p >= end)
			break;
	escape:;
		unsigned char c = p[1];
		p += 2;
		switch (c) {
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			size_t used;
			unsigned long cp = escaped_code_point(p - 2, &used);
			p += used - 2;
			n += utf8_put(cp, out + n);
			break;
		}
		default: out[n++] = (char)c; break; /* " \ / */
		}
	}
	out[n] = '\0';
	return n;
}

size_t jscan_string_copy(const struct jscan_field *f, char *out)
{
	if (f->escaped)
		return unescape(f->start, f->len, out);
	memcpy(out, f->start, f->len);
	out[f->len] = '\0';
	return f->len;
}

char *jscan_string_new(const struct jscan_field *f, size_t *len)
{
	if (!f || f->type != JV_STRING)
		return NULL;
	char *out = xmalloc(f->len + 1);
	size_t n = jscan_string_copy(f, out);
	if (len)
		*len = n;
	return out;
}

int jscan_string_is(const struct jscan_field *f, const char *want)
{
	if (!f || f->type != JV_STRING)
		return 0;
	size_t wlen = strlen(want);
	if (!f->escaped)
		return f->len == wlen && !memcmp(f->start, want, wlen);
	if (f->len < wlen)
		return 0; /* escapes only shrink: the value is at least len / 6 long, at most len */
	char small[256];
	char *buf = f->len < sizeof small ? small : xmalloc(f->len + 1);
	size_t n = unescape(f->start, f->len, buf);
	int same = n == wlen && !memcmp(buf, want, wlen);
	if (buf != small)
		free(buf);
	return same;
}

/* ---- arrays ---- */

void jscan_iter_init(struct jscan_iter *it, const struct jscan_field *array)
{
	if (array && array->type == JV_ARRAY) {
		it->p = array->start + 1;
		it->end = array->start + array->len - 1; /* before the ] */
	} else {
		it->p = it->end = NULL;
	}
}

int jscan_iter_next(struct jscan_iter *it, enum jscan_type *type, struct jscan_field *fields, size_t nfields)
{
	if (nfields > JSCAN_MAX_FIELDS)
		abort();
	struct scan s = { .p = (const unsigned char *)it->p, .end = (const unsigned char *)it->end, .f = fields,
			  .n = nfields, .rc = JSCAN_OK };
	measure_paths(&s);
	clear(&s, all_fields(nfields));
	skip_blanks(&s);
	if (s.p < s.end && *s.p == ',')
		s.p++;
	skip_blanks(&s);
	if (s.p >= s.end)
		return 0;
	const unsigned char *start = s.p;
	*type = *start == '{' ? JV_OBJECT : JV_NONE;
	/* The document was read whole before, so this cannot fail; the type
	 * of a non-object element does not matter to the callers. */
	if (scan_value(&s, 0, *start == '{' ? all_fields(nfields) : 0)) {
		it->p = it->end;
		return 0;
	}
	it->p = (const char *)s.p;
	return 1;
}
