/*
 * util.h - memory policy and a growable byte buffer.
 *
 * Out-of-memory policy, stated once: small internal allocations go through
 * xmalloc()/xcalloc()/xrealloc()/xstrdup(), which abort with a message when the
 * allocator fails -- a daemon that cannot allocate a few hundred bytes cannot
 * keep any promise anyway.  Sizes driven by untrusted input (frames, fragment
 * sums, message lengths) are checked against limits *before* allocating and are
 * refused, never aborted on.
 */
#ifndef COLLABD_UTIL_H
#define COLLABD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Returns a new copy the caller frees; NULL in, NULL out. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer.  The buffer owns data; buf_free() releases it.
 * data is always NUL-terminated (the NUL is not counted in len). */
struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_append_str(struct buf *b, const char *s);
/* Appends s (UTF-8) as a JSON string literal, quotes included, escaped as
 * jansson's compact output escapes it: for hot paths that build a small
 * fixed-shape document without an object tree. */
void buf_append_json_string(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (who frees it) and leaves b empty. */
char *buf_steal(struct buf *b);

/* Counts UTF-8 characters (code points); returns -1 for invalid UTF-8. */
long utf8_count(const char *s);
/* 1 when the two secrets are equal; takes the same time wherever they
 * differ, so a token cannot be guessed a character at a time. */
int secret_equal(const char *a, const char *b);
int utf8_valid(const char *s, size_t len);

/*
 * Cutting text without breaking a character: every place that shortens a
 * string goes through these, because half a character makes the whole text
 * invalid UTF-8, which JSON (and so the platforms and the store) refuses.
 *
 * utf8_complete: len, less the bytes of a last character cut short.
 * utf8_cut: the length of the longest prefix of s (len bytes) that is at most
 * max bytes and does not end inside a character.
 * utf8_snprintf/utf8_vsnprintf: snprintf that, when it must cut, cuts back to
 * a character boundary.  Return the length written (not the length wanted).
 */
size_t utf8_complete(const char *s, size_t len);
size_t utf8_cut(const char *s, size_t len, size_t max);
int utf8_vsnprintf(char *out, size_t size, const char *fmt, va_list ap);
int utf8_snprintf(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
