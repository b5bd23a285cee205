/*
 * fuzz_json_scan.c - libFuzzer target: jscan() against jansson.
 *
 * jscan() (json_scan.h) stands in for json_loadb(text, len, 0) on the
 * inbound hot path, so it must judge every input as jansson does: when it
 * says JSCAN_OK jansson accepts the input and every field holds what
 * json_object_get() along its path gives (type, string bytes, integer), and
 * the elements of an array field are jansson's, in order; a string unescaped
 * while it was read (a field's copy buffer, every other field and an
 * element's, each exactly the input's length + 1 bytes so that ASan sees
 * a write past it) is that string too; when it says JSCAN_INVALID jansson
 * rejects it.  (JSCAN_UNSURE leaves the input to
 * jansson.)  Any disagreement abort()s.  The paths use short keys so that
 * the fuzzer finds them; the seeds are the platforms' frames.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[][JSCAN_MAX_PATH + 1] = {
	{ "a" }, { "b" }, { "a", "b" }, { "a", "b", "c" }, { "a", "b", "c", "d" }, { "" }, { "data" },
	{ "headers", "topic" }, { "text", "content" }, { "event", "message", "mentions" }, { "type" }, { "\xe9\x83\xa8" },
	{ "data" }, { "a" }, /* twice: two fields on one value, both copies filled */
};
#define NPATHS (sizeof paths / sizeof paths[0])

static enum jscan_type type_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return JV_OBJECT;
	case JSON_ARRAY: return JV_ARRAY;
	case JSON_STRING: return JV_STRING;
	case JSON_INTEGER: return JV_INTEGER;
	case JSON_REAL: return JV_REAL;
	case JSON_TRUE: return JV_TRUE;
	case JSON_FALSE: return JV_FALSE;
	case JSON_NULL: return JV_NULL;
	}
	abort();
}

/* The field must hold exactly v (NULL: absent). */
static void same(const struct jscan_field *f, const json_t *v)
{
	if (!v) {
		if (f->type != JV_NONE)
			abort();
		return;
	}
	if (f->type != type_of(v))
		abort();
	if (f->type == JV_STRING) {
		size_t n;
		char *s = jscan_string_new(f, &n);
		if (n != json_string_length(v) || memcmp(s, json_string_value(v), n) || strlen(s) != n)
			abort();
		if (!jscan_string_is(f, json_string_value(v)))
			abort();
		if (f->copy && (f->copy_len != n || memcmp(f->copy, s, n + 1)))
			abort();
		free(s);
	} else if (f->type == JV_INTEGER && f->integer != json_integer_value(v)) {
		abort();
	}
}

static const json_t *lookup(const json_t *root, const char *const *path)
{
	const json_t *v = root;
	for (int i = 0; path[i] && v; i++)
		v = json_object_get(v, path[i]);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan_field f[NPATHS];
	memset(f, 0, sizeof f);
	for (size_t i = 0; i < NPATHS; i++) {
		memcpy(f[i].path, paths[i], sizeof f[i].path);
		if (i % 2 == 0 || i >= NPATHS - 2)
			f[i].copy = malloc(size + 1);
	}
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	char *text = malloc(size ? size : 1);
	memcpy(text, data, size);
	enum jscan_type root;
	enum jscan_rc rc = jscan(text, size, &root, f, NPATHS);
	json_t *j = json_loadb(text, size, 0, NULL);
	if (rc == JSCAN_INVALID && j)
		abort();
	if (rc == JSCAN_OK) {
		if (!j || root != type_of(j))
			abort();
		for (size_t i = 0; i < NPATHS; i++) {
			const json_t *v = lookup(j, f[i].path);
			same(&f[i], v);
			if (f[i].type != JV_ARRAY)
				continue;
			/* Its elements, each with field "a". */
			struct jscan_iter it;
			jscan_iter_init(&it, &f[i]);
			char *element_copy = malloc(size + 1);
			struct jscan_field e[1] = { { .path = { "a" }, .copy = element_copy } };
			enum jscan_type et;
			size_t k = 0;
			while (jscan_iter_next(&it, &et, e, 1)) {
				const json_t *elem = json_array_get(v, k++);
				if (!elem || (et == JV_OBJECT) != json_is_object(elem))
					abort();
				same(&e[0], json_object_get(elem, "a"));
			}
			if (k != json_array_size(v))
				abort();
			free(element_copy);
		}
	}
	json_decref(j);
	for (size_t i = 0; i < NPATHS; i++)
		free(f[i].copy);
	free(text);
	return 0;
}
