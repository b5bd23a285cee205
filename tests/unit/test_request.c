/*
 * test_request.c - the request form: every rule of 《跨部门协作需求信息表》,
 * every problem at once, department defaults, and ids never reused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/directory.h"
#include "collabd/request.h"
#include "collabd/store.h"

static void ignore(void *arg, const char *text)
{
	(void)arg;
	(void)text;
}

static int setup(void **state)
{
	struct store *st;
	char err[200];
	assert_int_equal(store_open(":memory:", &st, err, sizeof err), STORE_OK);
	json_t *doc = json_loads(
		"{\"users\":[{\"id\":\"u1\",\"name\":\"张三\"},{\"id\":\"u2\",\"name\":\"李四\"},{\"id\":\"u3\",\"name\":\"王五\"}],"
		"\"departments\":[{\"code\":\"JSB\",\"name\":\"技术部\",\"head\":\"u1\",\"contacts\":[\"u2\"]},"
		"{\"code\":\"SCB\",\"name\":\"市场部\",\"head\":\"u3\",\"contacts\":[\"u3\",\"u2\"]}]}", 0, NULL);
	store_begin(st);
	assert_int_equal(dir_import(st, doc, ignore, NULL), 0);
	store_commit(st);
	json_decref(doc);
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

static json_t *parse(const char *text, json_t *problems)
{
	struct cmd_args a;
	assert_int_equal(cmd_parse(text, &a), 1);
	json_t *form = request_form_from_args(&a, problems);
	cmd_args_free(&a);
	return form;
}

static char *repeat(const char *s, int n)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < n; i++)
		buf_append_str(&b, s);
	return buf_steal(&b);
}

static void test_valid_form_is_normalised(void **state)
{
	json_t *problems = json_array();
	json_t *form = parse("/需求\n需求名称：新品发布会\n联系方式: 13800000000\n背景：Q4 新品上市\n"
			     "具体任务：场地、物料、直播\n涉及部门：市场部、JSB\n期望完成时间：2026-12-31\nresources: 预算 5 万",
			     problems);
	assert_int_equal(request_form_check(*state, form, "u1", "2026-11-28", problems), 0);
	assert_int_equal(json_array_size(problems), 0);
	assert_string_equal(json_string_value(json_object_get(form, "发起部门")), "JSB"); /* u1 heads JSB */
	json_t *depts = json_object_get(form, "涉及部门");
	assert_int_equal(json_array_size(depts), 2);
	assert_string_equal(json_string_value(json_array_get(depts, 0)), "SCB");
	assert_string_equal(json_string_value(json_object_get(form, "资源需求")), "预算 5 万");
	json_decref(form);
	json_decref(problems);
}

static void test_background_limit_counts_characters(void **state)
{
	char *ok = repeat("汉", 200), *too_long = repeat("汉", 201);
	char *text_ok = xasprintf("/需求\n需求名称：x\n联系方式：1\n需求背景：%s\n具体任务：t\n涉及部门：JSB\n期望完成时间：2026-12-31", ok);
	char *text_bad = xasprintf("/需求\n需求名称：x\n联系方式：1\n需求背景：%s\n具体任务：t\n涉及部门：JSB\n期望完成时间：2026-12-31", too_long);
	json_t *problems = json_array();
	json_t *form = parse(text_ok, problems);
	assert_int_equal(request_form_check(*state, form, "u1", "2026-11-28", problems), 0);
	json_decref(form);
	form = parse(text_bad, problems);
	assert_int_equal(request_form_check(*state, form, "u1", "2026-11-28", problems), 1);
	assert_non_null(strstr(json_string_value(json_array_get(problems, 0)), "最多 200 个字，现在 201 个字"));
	json_decref(form);
	json_decref(problems);
	free(ok);
	free(too_long);
	free(text_ok);
	free(text_bad);
}

static void test_every_problem_at_once(void **state)
{
	json_t *problems = json_array();
	json_t *form = parse("/需求\n颜色：红\n涉及部门：JSB、财务部\n期望完成时间：2026-11-27\n发起部门：XYZ", problems);
	int n = request_form_check(*state, form, "u2", "2026-11-28", problems);
	/* unknown field; 联系方式, 需求名称, 需求背景, 具体任务 missing; XYZ; 财务部; date past */
	assert_int_equal(n, 7);
	assert_int_equal(json_array_size(problems), 8);
	json_decref(form);
	json_decref(problems);
}

static void test_initiating_department_must_be_clear(void **state)
{
	json_t *problems = json_array();
	/* u2 answers for both JSB and SCB: the department must be named. */
	json_t *form = parse("/需求\n需求名称：x\n联系方式：1\n需求背景：b\n具体任务：t\n涉及部门：SCB\n期望完成时间：2026-13-01",
			     problems);
	assert_int_equal(request_form_check(*state, form, "u2", "2026-11-28", problems), 2);
	assert_non_null(strstr(json_string_value(json_array_get(problems, 0)), "发起部门"));
	assert_non_null(strstr(json_string_value(json_array_get(problems, 1)), "应为日期"));
	json_decref(form);
	json_decref(problems);
}

static void test_ids_count_per_quarter_and_department(void **state)
{
	struct store *st = *state;
	store_begin(st);
	char *a = request_next_id(st, 2026, 4, "JSB");
	char *b = request_next_id(st, 2026, 4, "JSB");
	char *c = request_next_id(st, 2026, 4, "SCB");
	char *d = request_next_id(st, 2027, 1, "JSB");
	store_commit(st);
	assert_string_equal(a, "2026-Q4-JSB-001");
	assert_string_equal(b, "2026-Q4-JSB-002");
	assert_string_equal(c, "2026-Q4-SCB-001");
	assert_string_equal(d, "2027-Q1-JSB-001");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* A request in pending_approval, as the store holds it. */
static void add_request(struct store *st, struct request_row *r)
{
	*r = (struct request_row){ .id = "2026-Q4-JSB-001", .dept = "JSB", .initiator = "u2", .platform = "feishu",
				   .chat_id = "oc_1", .state = "pending_approval", .version = 1, .form = "{}",
				   .created_at = 1000, .updated_at = 1000 };
	store_begin(st);
	assert_int_equal(store_request_add(st, r), STORE_OK);
	store_commit(st);
}

static const char *state_of(struct store *st, const char *id)
{
	static char state[32];
	struct request_row r;
	assert_int_equal(store_request_get(st, id, &r), STORE_OK);
	snprintf(state, sizeof state, "%s", r.state);
	request_row_free(&r);
	return state;
}

static size_t timeline_rows(struct store *st, const char *id, const char *kind)
{
	json_t *rows = store_timeline_for(st, id, 100), *row;
	size_t i, n = 0;
	json_array_foreach(rows, i, row)
		n += !strcmp(json_string_value(json_object_get(row, "kind")), kind);
	json_decref(rows);
	return n;
}

static void test_enter_refuses_an_illegal_transition_and_writes_nothing(void **state)
{
	struct store *st = *state;
	struct request_row r;
	add_request(st, &r);
	char why[160] = "";
	struct req_change c = { .actor = "u1" };
	store_begin(st);
	assert_int_equal(req_enter(st, &r, REQ_COMPLETE, &c, 2000, why, sizeof why), REQ_REFUSED);
	store_commit(st);
	assert_string_equal(why, "该需求待审批，不能标记完成。");
	assert_string_equal(state_of(st, r.id), "pending_approval");
	assert_int_equal(timeline_rows(st, r.id, "request.completed"), 0);
}

static void test_enter_moves_the_row_and_writes_the_timeline(void **state)
{
	struct store *st = *state;
	struct request_row r;
	add_request(st, &r);
	char why[160];
	json_t *detail = json_pack("{s:i}", "version", 1);
	struct req_change c = { .actor = "u1", .detail = detail };
	store_begin(st);
	assert_int_equal(req_enter(st, &r, REQ_APPROVE, &c, 2000, why, sizeof why), REQ_ENTERED);
	store_commit(st);
	json_decref(detail);
	assert_string_equal(state_of(st, r.id), "syncing");
	assert_int_equal(timeline_rows(st, r.id, "request.approved"), 1);
	/* r still says pending_approval: entering again from it finds the row moved. */
	store_begin(st);
	assert_int_equal(req_enter(st, &r, REQ_APPROVE, &c, 3000, why, sizeof why), REQ_ENTER_FAILED);
	store_rollback(st);
	assert_int_equal(timeline_rows(st, r.id, "request.approved"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_form_is_normalised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_background_limit_counts_characters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_problem_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initiating_department_must_be_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_count_per_quarter_and_department, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enter_refuses_an_illegal_transition_and_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enter_moves_the_row_and_writes_the_timeline, setup, teardown),
	};
	return cmocka_run_group_tests_name("request form", tests, NULL, NULL);
}
