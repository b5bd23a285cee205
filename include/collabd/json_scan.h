/*
 * json_scan.h - a validating JSON reader for the inbound hot path: one pass
 * over the text, no tree, only the values asked for.
 *
 * Every inbound event is a JSON document (a DingTalk stream frame and the
 * event inside its `data` string, a Feishu event and its message content).
 * Building jansson trees for them cost half of the daemon's CPU under a flood.
 * jscan() reads the document once, checks it the way json_loadb(text, len, 0)
 * does, and records where the requested values are; the adapters keep jansson
 * for every other input.
 *
 * The contract with jansson (tests/fuzz/fuzz_json_scan.c compares the two):
 *   JSCAN_OK       json_loadb() accepts the text, and each field holds what
 *                  json_object_get() along its path would give (the last of
 *                  duplicate keys; nothing when a step is not an object);
 *   JSCAN_INVALID  json_loadb() rejects it;
 *   JSCAN_UNSURE   not decided here (nesting deeper than JSCAN_MAX_DEPTH, a
 *                  real number too long to check for overflow cheaply): the
 *                  caller asks jansson.
 */
#ifndef COLLABD_JSON_SCAN_H
#define COLLABD_JSON_SCAN_H

#include <stddef.h>

#define JSCAN_MAX_PATH 4    /* keys from the root to a field */
#define JSCAN_MAX_FIELDS 32 /* fields per scan */
#define JSCAN_MAX_DEPTH 64  /* nesting read here; deeper documents are JSCAN_UNSURE */

enum jscan_rc { JSCAN_OK, JSCAN_INVALID, JSCAN_UNSURE };

enum jscan_type { JV_NONE, JV_OBJECT, JV_ARRAY, JV_STRING, JV_INTEGER, JV_REAL, JV_TRUE, JV_FALSE, JV_NULL };

struct jscan_field {
	const char *path[JSCAN_MAX_PATH + 1]; /* in: object keys from the root, NULL-terminated */
	/* in, optional: a buffer of the scanned text's length + 1 bytes (the
	 * caller's) where a string value is unescaped while it is read, NUL-
	 * terminated, its length in copy_len: one pass over an escaped JSON
	 * document inside a string instead of two.  Valid only when the
	 * field's type is JV_STRING after a scan that returned JSCAN_OK. */
	char *copy;
	/* out (JV_NONE when absent): the value's text in the scanned buffer --
	 * for a string, between its quotes and still escaped. */
	enum jscan_type type;
	const char *start;
	size_t len;
	int escaped;        /* a string with backslash escapes */
	long long integer;  /* JV_INTEGER's value */
	size_t copy_len;    /* the length of the string unescaped into copy */
};

/* Reads text[0..len) (need not be NUL-terminated); fills each field, and
 * *root with the document's type when not NULL.  The fields point into text. */
enum jscan_rc jscan(const char *text, size_t len, enum jscan_type *root, struct jscan_field *fields,
		    size_t nfields);

/* The string's value, unescaped: a new NUL-terminated string the caller
 * frees, or NULL when the field is not a string.  *len (may be NULL) gets its
 * length.  Values never contain NUL (jansson rejects \u0000, and so does jscan). */
char *jscan_string_new(const struct jscan_field *f, size_t *len);

/* The same into out, which has room for f->len + 1 bytes (a string field
 * only); returns its length. */
size_t jscan_string_copy(const struct jscan_field *f, char *out);

/* Whether the field is a string equal to s (unescaped). */
int jscan_string_is(const struct jscan_field *f, const char *s);

/* The elements of an array field, in order.  Only for a field filled by a
 * jscan() that returned JSCAN_OK. */
struct jscan_iter {
	const char *p, *end;
};
void jscan_iter_init(struct jscan_iter *it, const struct jscan_field *array);
/* The next element: returns 1 and fills fields (their paths from the element)
 * and *type (JV_OBJECT, or JV_NONE for any other element), or 0 after the last. */
int jscan_iter_next(struct jscan_iter *it, enum jscan_type *type, struct jscan_field *fields, size_t nfields);

#endif
