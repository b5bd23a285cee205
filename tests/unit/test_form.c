/* Unit tests: form.h's one form type -- keys and aliases in any case, unknown
 * keys reported with the keys there are, lists only where a field takes one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/command.h"
#include "collabd/form.h"
#include "collabd/progress.h"
#include "collabd/request.h"
#include "collabd/util.h"

static const struct form_field fields[] = {
	{ "需求名称", { "name", "名称", NULL }, FORM_TEXT, 1, 40, NULL },
	{ "涉及部门", { "departments", "depts", NULL }, FORM_DEPTS, 1, 0, NULL },
	{ "备注", { "note", NULL, NULL }, FORM_TEXT, 0, 0, NULL },
};
static const struct form test_form = { "测试表", fields, ARRAY_LEN(fields) };

static json_t *collect(const struct form *f, const char *text, json_t *values, json_t *problems)
{
	struct cmd_args a;
	assert_int_equal(cmd_parse(text, &a), 1);
	json_t *form = form_collect(f, &a, values, problems);
	cmd_args_free(&a);
	return form;
}

static const char *get(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void test_keys_and_aliases_in_any_case(void **state)
{
	(void)state;
	json_t *problems = json_array();
	json_t *form = collect(&test_form, "/x\nNAME：发布会\nDepts：市场部\nNote：无", NULL, problems);
	assert_int_equal(json_array_size(problems), 0);
	assert_string_equal(get(form, "需求名称"), "发布会");
	assert_string_equal(get(form, "涉及部门"), "市场部");
	assert_string_equal(get(form, "备注"), "无");
	assert_int_equal(json_object_size(form), 3);
	json_decref(form);
	json_decref(problems);
}

static void test_unknown_key_names_the_keys_there_are(void **state)
{
	(void)state;
	json_t *problems = json_array();
	json_t *form = collect(&test_form, "/x\n颜色：红\n名称：会", NULL, problems);
	assert_int_equal(json_array_size(problems), 1);
	assert_string_equal(json_string_value(json_array_get(problems, 0)), "未知字段「颜色」（可用：需求名称、涉及部门、备注）");
	assert_string_equal(get(form, "需求名称"), "会");
	json_decref(form);
	json_decref(problems);
}

static void test_card_values_take_lists_only_where_a_field_does(void **state)
{
	(void)state;
	json_t *problems = json_array();
	json_t *values = json_pack("{s:[s,s],s:[s],s:s}", "departments", "SCB", "CWB", "name", "x", "note", "ok");
	json_t *form = collect(&test_form, "/x", values, problems);
	assert_int_equal(json_array_size(problems), 0);
	assert_int_equal(json_array_size(json_object_get(form, "涉及部门")), 2);
	assert_null(json_object_get(form, "需求名称")); /* a list where text belongs is dropped */
	assert_string_equal(get(form, "备注"), "ok");
	json_decref(form);
	json_decref(values);
	json_decref(problems);
}

/* The four forms now share this: /进度 reads "Done：" as /需求 reads "Name：". */
static void test_every_form_reads_english_keys_in_any_case(void **state)
{
	(void)state;
	json_t *problems = json_array();
	json_t *p = collect(&progress_update_form, "/进度 X\nDone：a\nNEXT：b", NULL, problems);
	json_t *r = collect(&request_form, "/需求\nName：n\nDUE：2026-12-31", NULL, problems);
	assert_int_equal(json_array_size(problems), 0);
	assert_string_equal(get(p, "已完成任务"), "a");
	assert_string_equal(get(p, "下一步计划"), "b");
	assert_string_equal(get(r, "需求名称"), "n");
	assert_string_equal(get(r, "期望完成时间"), "2026-12-31");
	json_decref(p);
	json_decref(r);
	json_decref(problems);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_aliases_in_any_case),
		cmocka_unit_test(test_unknown_key_names_the_keys_there_are),
		cmocka_unit_test(test_card_values_take_lists_only_where_a_field_does),
		cmocka_unit_test(test_every_form_reads_english_keys_in_any_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
