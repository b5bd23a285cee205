/*
 * test_json_scan.c - jscan() judges documents as json_loadb(text, len, 0)
 * does and finds the values json_object_get() would (the fuzz target
 * tests/fuzz/fuzz_json_scan.c compares the two on generated inputs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>

#include "collabd/json_scan.h"

struct verdict {
	const char *text;
	size_t len; /* 0: strlen */
	enum jscan_rc want;
};

static const struct verdict verdicts[] = {
	{ "{}", 0, JSCAN_OK },
	{ " [1, -0, 2.5e3, true, false, null, \"x\", {}] \r\n", 0, JSCAN_OK },
	{ "{\"a\":9223372036854775807,\"b\":-9223372036854775808}", 0, JSCAN_OK },
	{ "{\"a\":9223372036854775808}", 0, JSCAN_INVALID },   /* too big integer */
	{ "{\"a\":-9223372036854775809}", 0, JSCAN_INVALID },
	{ "{\"a\":1e309}", 0, JSCAN_INVALID },                 /* real overflow */
	{ "{\"a\":1e-400}", 0, JSCAN_OK },                     /* underflow is fine */
	{ "{\"a\":01}", 0, JSCAN_INVALID },
	{ "{\"a\":1.}", 0, JSCAN_INVALID },
	{ "{\"a\":-}", 0, JSCAN_INVALID },
	{ "{\"a\":tru}", 0, JSCAN_INVALID },
	{ "{\"a\":truex}", 0, JSCAN_INVALID },
	{ "{\"a\":1,}", 0, JSCAN_INVALID },
	{ "[1,]", 0, JSCAN_INVALID },
	{ "{} x", 0, JSCAN_INVALID },                          /* end of file expected */
	{ "\"a\"", 0, JSCAN_INVALID },                         /* '[' or '{' expected */
	{ "", 0, JSCAN_INVALID },
	{ "{\"a\":\"\\u0000\"}", 0, JSCAN_INVALID },           /* NUL refused */
	{ "{\"\\u0000\":1}", 0, JSCAN_INVALID },
	{ "{\"a\":\"\\ud83d\\ude00\"}", 0, JSCAN_OK },
	{ "{\"a\":\"\\ud800\"}", 0, JSCAN_INVALID },           /* a high surrogate alone */
	{ "{\"a\":\"\\ud800\\u0041\"}", 0, JSCAN_INVALID },
	{ "{\"a\":\"\\udc00\"}", 0, JSCAN_INVALID },           /* a low one alone */
	{ "{\"a\":\"\\x\"}", 0, JSCAN_INVALID },
	{ "{\"a\":\"\\u12G4\"}", 0, JSCAN_INVALID },
	{ "{\"a\":\"tab\there\"}", 0, JSCAN_INVALID },         /* raw control character */
	{ "{\"a\":\"\xc0\x80\"}", 0, JSCAN_INVALID },          /* overlong */
	{ "{\"a\":\"\xed\xa0\x80\"}", 0, JSCAN_INVALID },      /* an encoded surrogate */
	{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0, JSCAN_INVALID },  /* past U+10FFFF */
	{ "{\"a\":\"\xe9\x83\"}", 0, JSCAN_INVALID },          /* cut short */
	{ "{\"a\":\"\xe9\x83\xa8\"}", 0, JSCAN_OK },
	{ "{\"a\":1\0,\"b\":2}", 14, JSCAN_OK },               /* jansson loses one NUL after a number */
	{ "{\"a\":true\0}", 11, JSCAN_OK },
	{ "{\"a\":1\0\0}", 9, JSCAN_INVALID },
	{ "{\"a\":\"x\"\0}", 10, JSCAN_INVALID },
	{ "{\"a\":1}\0", 8, JSCAN_INVALID },
};

static void verdicts_are_janssons(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
		const struct verdict *v = &verdicts[i];
		size_t len = v->len ? v->len : strlen(v->text);
		enum jscan_rc rc = jscan(v->text, len, NULL, NULL, 0);
		json_t *j = json_loadb(v->text, len, 0, NULL);
		if (rc != v->want || (rc == JSCAN_OK) != (j != NULL))
			fail_msg("case %zu (%s): jscan %d, want %d, jansson %s", i, v->text, rc, v->want,
				 j ? "accepts" : "rejects");
		json_decref(j);
	}
}

static void deep_nesting_is_left_to_jansson(void **state)
{
	(void)state;
	char text[2 * 100 + 1];
	memset(text, '[', 100);
	memset(text + 100, ']', 100);
	text[200] = '\0';
	assert_int_equal(jscan(text, 200, NULL, NULL, 0), JSCAN_UNSURE);
	assert_int_equal(jscan(text + 100 - 10, 20, NULL, NULL, 0), JSCAN_OK);
}

static void fields_are_what_json_object_get_gives(void **state)
{
	(void)state;
	const char *doc = "{\"headers\":{\"topic\":\"/t\",\"messageId\":\"m\\u00e9\\ud83d\\ude00\"},"
			  "\"data\":\"{\\\"k\\\":1}\",\"n\":-42,\"flag\":true,\"text\":{\"content\":\"old\"},"
			  "\"text\":{\"other\":1},\"list\":[{\"a\":\"x\"},2,{\"b\":3},{\"a\":\"y\",\"a\":\"z\"}],"
			  "\"\\u0064up\":\"escaped key\"}";
	enum { TOPIC, MID, DATA, N, FLAG, CONTENT, LIST, DUP, MISSING, NF };
	struct jscan_field f[NF] = {
		[TOPIC] = { .path = { "headers", "topic" } }, [MID] = { .path = { "headers", "messageId" } },
		[DATA] = { .path = { "data" } }, [N] = { .path = { "n" } }, [FLAG] = { .path = { "flag" } },
		[CONTENT] = { .path = { "text", "content" } }, [LIST] = { .path = { "list" } },
		[DUP] = { .path = { "dup" } }, [MISSING] = { .path = { "n", "x" } },
	};
	enum jscan_type root;
	assert_int_equal(jscan(doc, strlen(doc), &root, f, NF), JSCAN_OK);
	assert_int_equal(root, JV_OBJECT);
	assert_true(jscan_string_is(&f[TOPIC], "/t"));
	char *mid = jscan_string_new(&f[MID], NULL);
	assert_string_equal(mid, "m\xc3\xa9\xf0\x9f\x98\x80");
	free(mid);
	size_t len;
	char *data = jscan_string_new(&f[DATA], &len);
	assert_string_equal(data, "{\"k\":1}");
	assert_int_equal(len, 7);
	free(data);
	assert_int_equal(f[N].type, JV_INTEGER);
	assert_int_equal(f[N].integer, -42);
	assert_int_equal(f[FLAG].type, JV_TRUE);
	/* "text" came again without "content": the last object counts, as in jansson. */
	assert_int_equal(f[CONTENT].type, JV_NONE);
	assert_true(jscan_string_is(&f[DUP], "escaped key"));
	assert_int_equal(f[MISSING].type, JV_NONE); /* "n" is no object */
	assert_null(jscan_string_new(&f[N], NULL));

	struct jscan_iter it;
	jscan_iter_init(&it, &f[LIST]);
	struct jscan_field e[1] = { { .path = { "a" } } };
	enum jscan_type type;
	const char *want[] = { "x", NULL, NULL, "z" };
	size_t k = 0;
	while (jscan_iter_next(&it, &type, e, 1)) {
		assert_true(k < 4);
		if (want[k])
			assert_true(jscan_string_is(&e[0], want[k]));
		else
			assert_int_equal(e[0].type, JV_NONE);
		assert_int_equal(type, k == 1 ? JV_NONE : JV_OBJECT);
		k++;
	}
	assert_int_equal(k, 4);
}

static void an_invalid_document_fills_no_field(void **state)
{
	(void)state;
	const char *doc = "{\"a\":\"kept?\",\"b\":01}";
	struct jscan_field f[1] = { { .path = { "a" } } };
	assert_int_equal(jscan(doc, strlen(doc), NULL, f, 1), JSCAN_INVALID);
	assert_int_equal(f[0].type, JV_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdicts_are_janssons),
		cmocka_unit_test(deep_nesting_is_left_to_jansson),
		cmocka_unit_test(fields_are_what_json_object_get_gives),
		cmocka_unit_test(an_invalid_document_fills_no_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
