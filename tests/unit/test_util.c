/*
 * test_util.c - cutting text on UTF-8 character boundaries; JSON string
 * literals built without jansson.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>

#include "collabd/util.h"

/* "部" is three bytes (E9 83 A8); "😀" four (F0 9F 98 80). */
static void cut_never_splits_a_character(void **state)
{
	(void)state;
	const char *s = "ab部😀c";
	size_t len = strlen(s); /* 2 + 3 + 4 + 1 = 10 */
	size_t want[] = { 0, 1, 2, 2, 2, 5, 5, 5, 5, 9, 10 };
	for (size_t max = 0; max <= len; max++) {
		size_t n = utf8_cut(s, len, max);
		assert_int_equal(n, want[max]);
		assert_true(utf8_valid(s, n));
	}
	assert_int_equal(utf8_cut(s, len, 100), len);
}

static void complete_drops_only_a_half_character(void **state)
{
	(void)state;
	assert_int_equal(utf8_complete("部", 3), 3);
	assert_int_equal(utf8_complete("部", 2), 0);
	assert_int_equal(utf8_complete("a部", 3), 1);
	assert_int_equal(utf8_complete("abc", 3), 3);
	assert_int_equal(utf8_complete("", 0), 0);
	/* Garbage is left as it is: not ours to judge here. */
	assert_int_equal(utf8_complete("\x80\x80\x80\x80\x80", 5), 5);
}

static void snprintf_cuts_between_characters(void **state)
{
	(void)state;
	char out[300];
	char dept[601];
	for (int i = 0; i < 200; i++)
		memcpy(dept + 3 * i, "部", 3);
	dept[600] = '\0';
	/* The prefix is 15 bytes: a plain cut at 299 would end two bytes into the 95th 部. */
	int n = utf8_snprintf(out, sizeof out, "发起部门「%s」不在部门目录中", dept);
	assert_true(n < (int)sizeof out);
	assert_int_equal((size_t)n, strlen(out));
	assert_true(utf8_valid(out, strlen(out)));
	assert_int_equal(n, 297);
	/* No cut: written as snprintf would. */
	assert_int_equal(utf8_snprintf(out, sizeof out, "%s=%d", "x", 42), 4);
	assert_string_equal(out, "x=42");
	char tiny[4];
	assert_int_equal(utf8_snprintf(tiny, sizeof tiny, "部部"), 3);
	assert_int_equal(utf8_snprintf(tiny, 3, "部部"), 0);
	assert_string_equal(tiny, "");
}

/* The acks' hand-built JSON must read back as the same string, and say it
 * the way jansson's compact output would. */
static void json_string_literal_matches_jansson(void **state)
{
	(void)state;
	const char *cases[] = { "", "msg_flood_1", "a\"b\\c/d", "tab\there\nnew\rline\b\f",
				"\x01\x1f\x7f", "部门 😀 \"引号\"", "{\"response\":null}" };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b;
		buf_init(&b);
		buf_append_json_string(&b, cases[i]);
		json_t *s = json_string(cases[i]);
		char *want = json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_string_equal((const char *)b.data, want);
		json_t *back = json_loads((const char *)b.data, JSON_DECODE_ANY, NULL);
		assert_string_equal(json_string_value(back), cases[i]);
		json_decref(back);
		free(want);
		json_decref(s);
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cut_never_splits_a_character),
		cmocka_unit_test(complete_drops_only_a_half_character),
		cmocka_unit_test(snprintf_cuts_between_characters),
		cmocka_unit_test(json_string_literal_matches_jansson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
