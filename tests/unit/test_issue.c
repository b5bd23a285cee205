/*
 * test_issue.c - step 4's forms, rules, state table and store: every problem
 * of 《跨部门协作问题反馈表》 at once, normalisation, times with and without
 * the picker's offset, late reports on both clocks, ids per request, and the
 * guarded steps that make a repeated click harmless.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/issue.h"
#include "collabd/render.h"
#include "collabd/request.h"

static void ignore(void *arg, const char *text)
{
	(void)arg;
	(void)text;
}

/* 2026-12-07 is a Monday. */
static ms_t local(int y, int m, int d, int hh, int mm) { return calendar_local_time(y, m, d, hh * 60 + mm); }

static int setup(void **state)
{
	struct store *st;
	char err[200];
	assert_int_equal(store_open(":memory:", &st, err, sizeof err), STORE_OK);
	json_t *doc = json_loads(
		"{\"users\":[{\"id\":\"u1\",\"name\":\"张三\"},{\"id\":\"u2\",\"name\":\"李四\"},{\"id\":\"u3\",\"name\":\"王五\"}],"
		"\"departments\":[{\"code\":\"JSB\",\"name\":\"技术部\",\"head\":\"u1\",\"contacts\":[\"u2\"]},"
		"{\"code\":\"CWB\",\"name\":\"财务部\",\"head\":\"u3\",\"contacts\":[\"u3\"]}]}", 0, NULL);
	store_begin(st);
	assert_int_equal(dir_import(st, doc, ignore, NULL), 0);
	struct request_row r = { .id = "2026-Q4-JSB-001", .dept = "JSB", .initiator = "u2", .platform = "feishu",
				 .chat_id = "oc_x", .state = "in_progress", .version = 1, .form = "{}", .created_at = 1 };
	assert_int_equal(store_request_add(st, &r), STORE_OK);
	r.id = "2026-Q4-JSB-002";
	r.state = "withdrawn";
	assert_int_equal(store_request_add(st, &r), STORE_OK);
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

static json_t *collect(const struct form *f, const char *text, json_t *problems)
{
	struct cmd_args a;
	assert_int_equal(cmd_parse(text, &a), 1);
	json_t *form = form_collect(f, &a, NULL, problems);
	cmd_args_free(&a);
	return form;
}

static int has(json_t *problems, const char *part)
{
	size_t i;
	json_t *p;
	json_array_foreach(problems, i, p)
		if (strstr(json_string_value(p), part))
			return 1;
	return 0;
}

static void test_valid_report_is_normalised(void **state)
{
	struct store *st = *state;
	json_t *problems = json_array();
	json_t *form = collect(&issue_report_form,
			       "/问题\nrequest: 2026-Q4-JSB-001\n类型：资源\n严重程度：一般\n范围：结算\n描述：缺人\n"
			       "发生时间：2026-12-07 09:30\n预计解决：2026-12-08T18:00\n接收部门：财务部、JSB、CWB\n通知人：@王五",
			       problems);
	struct issue_check c = { .now = local(2026, 12, 7, 10, 0) };
	assert_int_equal(issue_form_check(st, &issue_report_form, form, &c, problems), 0);
	assert_int_equal(json_array_size(problems), 0);
	assert_int_equal(json_integer_value(json_object_get(form, "发生时间")), local(2026, 12, 7, 9, 30));
	assert_int_equal(json_integer_value(json_object_get(form, "预计解决时间")), local(2026, 12, 8, 18, 0));
	json_t *depts = json_object_get(form, "接收部门");
	assert_int_equal(json_array_size(depts), 2); /* 财务部 and CWB are one department */
	assert_string_equal(json_string_value(json_array_get(depts, 0)), "CWB");
	assert_string_equal(json_string_value(json_array_get(depts, 1)), "JSB");
	assert_string_equal(json_string_value(json_object_get(form, "通知人")), "u3");
	json_decref(form);
	json_decref(problems);
}

static void test_every_problem_of_a_report_at_once(void **state)
{
	struct store *st = *state;
	json_t *problems = json_array();
	json_t *form = collect(&issue_report_form,
			       "/问题\n关联需求：2026-Q4-JSB-002\n问题类型：天灾\n严重程度：超级紧急\n发生时间：2026-12-07 11:00\n"
			       "预计解决时间：2026-12-07 10:00\n接收部门：保卫科\n通知人：@路人\n心情：差",
			       problems);
	struct issue_check c = { .now = local(2026, 12, 7, 10, 0) };
	issue_form_check(st, &issue_report_form, form, &c, problems);
	assert_int_equal(json_array_size(problems), 10);
	assert_true(has(problems, "未知字段「心情」"));
	assert_true(has(problems, "需求 2026-Q4-JSB-002 已撤回，不能反馈问题"));
	assert_true(has(problems, "「问题类型」应为 技术、资源、流程、其他 之一，不能是「天灾」"));
	assert_true(has(problems, "「严重程度」应为 紧急、重要、一般 之一"));
	assert_true(has(problems, "缺少「影响范围」"));
	assert_true(has(problems, "缺少「问题描述」"));
	assert_true(has(problems, "「发生时间」2026-12-07 11:00 还没有到"));
	assert_true(has(problems, "「预计解决时间」早于「发生时间」"));
	assert_true(has(problems, "接收部门「保卫科」不在部门目录中"));
	assert_true(has(problems, "「通知人」@路人 不在部门目录的人员中"));
	json_decref(form);
	json_decref(problems);
}

static void test_card_values_and_limits(void **state)
{
	struct store *st = *state;
	json_t *problems = json_array();
	json_t *values = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:[s]}", "request", "2026-Q4-JSB-001", "type", "技术",
				   "severity", "紧急", "scope", "", "description", "x", "occurred",
				   "2026-12-07 01:30 +0000", "departments", "CWB");
	struct buf big;
	buf_init(&big);
	for (int i = 0; i < ISSUE_SCOPE_MAX + 1; i++)
		buf_append_str(&big, "范");
	json_object_set_new(values, "scope", json_string((char *)big.data));
	buf_free(&big);
	json_t *form = form_collect(&issue_report_form, NULL, values, problems);
	struct issue_check c = { .now = local(2026, 12, 7, 10, 0) };
	issue_form_check(st, &issue_report_form, form, &c, problems);
	assert_int_equal(json_array_size(problems), 1);
	assert_true(has(problems, "「影响范围」最多 200 个字，现在 201 个字"));
	/* 01:30 UTC is 09:30 in Shanghai. */
	assert_int_equal(json_integer_value(json_object_get(form, "发生时间")), local(2026, 12, 7, 9, 30));
	json_decref(form);
	json_decref(values);
	json_decref(problems);
}

static void test_times(void **state)
{
	(void)state;
	ms_t t;
	assert_int_equal(issue_parse_time("2026-12-07 14:30", &t), 0);
	assert_int_equal(t, local(2026, 12, 7, 14, 30));
	assert_int_equal(issue_parse_time("2026-12-07 14:30:15", &t), 0);
	assert_int_equal(t, local(2026, 12, 7, 14, 30) + 15000);
	assert_int_equal(issue_parse_time("2026-12-07 14:30 +0800", &t), 0);
	assert_int_equal(t, local(2026, 12, 7, 14, 30));
	assert_int_equal(issue_parse_time("2026-12-07 06:30 +00:00", &t), 0);
	assert_int_equal(t, local(2026, 12, 7, 14, 30));
	const char *bad[] = { "2026-02-30 10:00", "2026-12-07 24:00", "2026-12-07", "2026-12-07 9:30", "明天 10:00",
			      "2026-12-07 10:00 +08", "2026-12-07 10:00 CST", "2026-12-07 10:00:99" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(issue_parse_time(bad[i], &t), -1);
}

static void test_late_reports_count_business_time_unless_urgent(void **state)
{
	(void)state;
	struct calendar *cal = calendar_new(NULL);
	char err[200];
	assert_int_equal(calendar_load_dir(cal, "deploy/calendar", err, sizeof err), 0);
	/* Friday 17:30 to Monday 09:10 is 40 minutes of business time. */
	ms_t fri = local(2026, 12, 4, 17, 30), mon = local(2026, 12, 7, 9, 10);
	assert_int_equal(issue_report_late(cal, "一般", fri, mon), 0);
	assert_int_equal(issue_report_late(cal, "紧急", fri, mon), 1);
	assert_int_equal(issue_report_late(cal, "重要", local(2026, 12, 7, 9, 0), local(2026, 12, 7, 10, 0)), 0);
	assert_int_equal(issue_report_late(cal, "重要", local(2026, 12, 7, 9, 0), local(2026, 12, 7, 10, 1)), 1);
	calendar_free(cal);
}

static void test_response_and_solution_rules(void **state)
{
	struct store *st = *state;
	json_t *problems = json_array();
	json_t *form = collect(&issue_response_form,
			       "/问题 响应 X\n责任人：李四\n会议时间：2026-12-07 11:00\n形式：线上\n链接：https://m/1", problems);
	struct issue_check c = { .now = local(2026, 12, 7, 10, 0), .severity = "紧急",
				 .occurred_at = local(2026, 12, 7, 9, 50), .created_at = local(2026, 12, 7, 9, 55) };
	issue_form_check(st, &issue_response_form, form, &c, problems);
	assert_int_equal(json_array_size(problems), 1);
	assert_true(has(problems, "紧急问题的协调会须在 30 分钟内召开（不晚于 2026-12-07 10:25）"));
	json_array_clear(problems);
	c.severity = "重要";
	json_decref(form);
	form = collect(&issue_response_form,
		       "/问题 响应 X\n责任人：李四\n会议时间：2026-12-07 09:00\n形式：线上\n链接：https://m/1", problems);
	issue_form_check(st, &issue_response_form, form, &c, problems);
	assert_true(has(problems, "「会议时间」早于问题的发生时间"));
	json_array_clear(problems);
	json_decref(form);
	form = collect(&issue_solution_form, "/问题 方案 X\n原因：a\n措施：b\n责任人：u2\n完成时间：2026-12-07 09:59",
		       problems);
	issue_form_check(st, &issue_solution_form, form, &c, problems);
	assert_int_equal(json_array_size(problems), 1);
	assert_true(has(problems, "「完成时间」2026-12-07 09:59 已经过去"));
	assert_string_equal(json_string_value(json_object_get(form, "责任人")), "u2");
	json_decref(form);
	json_decref(problems);
}

/* The templates' example times pass the rules whatever the clock says. */
static void test_example_times_pass_the_rules(void **state)
{
	struct store *st = *state;
	const struct calendar_hours h = CALENDAR_HOURS_DEFAULT;
	struct calendar *cal = calendar_new(&h); /* no holiday file: Monday to Friday */
	/* 紧急, answered at once: a quarter of an hour ahead on the five minutes. */
	assert_true(issue_example_meeting(cal, "紧急", local(2026, 12, 7, 10, 0), local(2026, 12, 7, 10, 2)) ==
		    local(2026, 12, 7, 10, 20));
	/* ... never past the 30 minutes after the report. */
	assert_true(issue_example_meeting(cal, "紧急", local(2026, 12, 7, 10, 0), local(2026, 12, 7, 10, 24)) ==
		    local(2026, 12, 7, 10, 30));
	/* Answered late: 30 minutes from now is the limit, and the example keeps inside it. */
	ms_t meeting = issue_example_meeting(cal, "紧急", local(2026, 12, 7, 10, 0), local(2026, 12, 7, 11, 3));
	assert_true(meeting == local(2026, 12, 7, 11, 20));
	/* 重要 on a Friday evening: the next working start. */
	assert_true(issue_example_meeting(cal, "重要", local(2026, 12, 11, 17, 0), local(2026, 12, 11, 17, 55)) ==
		    local(2026, 12, 14, 9, 0));
	/* Each example, written as the template writes it, passes the response rules. */
	char text[160], when[32];
	render_local_time(meeting, 0, when, sizeof when);
	snprintf(text, sizeof text, "/问题 响应 X\n责任人：李四\n会议时间：%s\n形式：线上\n链接：https://m/1", when);
	json_t *problems = json_array(), *form = collect(&issue_response_form, text, problems);
	struct issue_check c = { .now = local(2026, 12, 7, 11, 3), .severity = "紧急",
				 .occurred_at = local(2026, 12, 7, 9, 58), .created_at = local(2026, 12, 7, 10, 0) };
	assert_int_equal(issue_form_check(st, &issue_response_form, form, &c, problems), 0);
	/* 完成时间: the issue's expected time when ahead, else one working day on, on the hour. */
	assert_true(issue_example_due(cal, local(2026, 12, 9, 18, 0), local(2026, 12, 7, 10, 0)) == local(2026, 12, 9, 18, 0));
	assert_true(issue_example_due(cal, local(2026, 12, 7, 9, 0), local(2026, 12, 11, 10, 10)) ==
		    local(2026, 12, 14, 11, 0));
	json_decref(form);
	json_decref(problems);
	calendar_free(cal);
}

static void test_state_table(void **state)
{
	(void)state;
	char why[300];
	assert_string_equal(issue_transition("reported", ISSUE_RESPOND, why, sizeof why), "responded");
	assert_string_equal(issue_transition("responded", ISSUE_SOLUTION, why, sizeof why), "solution_recorded");
	assert_string_equal(issue_transition("solution_recorded", ISSUE_SOLUTION, why, sizeof why), "solution_recorded");
	assert_string_equal(issue_transition("solution_recorded", ISSUE_RESOLVE, why, sizeof why), "resolved");
	assert_string_equal(issue_transition("resolved", ISSUE_REOPEN, why, sizeof why), "reopened");
	assert_string_equal(issue_transition("reopened", ISSUE_RESPOND, why, sizeof why), "responded");
	assert_string_equal(issue_transition("reopened", ISSUE_SOLUTION, why, sizeof why), "solution_recorded");
	assert_null(issue_transition("responded", ISSUE_RESPOND, why, sizeof why));
	assert_non_null(strstr(why, "该问题已响应，待记录解决方案，不能响应"));
	assert_null(issue_transition("reported", ISSUE_RESOLVE, why, sizeof why));
	assert_non_null(strstr(why, "请先由接收部门响应"));
	assert_null(issue_transition("resolved", ISSUE_RESOLVE, why, sizeof why));
	assert_string_equal(why, "该问题已解决，不能填写解决结果并关闭。");
	assert_null(issue_transition("reported", ISSUE_REOPEN, why, sizeof why));
	assert_false(issue_is_open("resolved"));
	assert_true(issue_is_open("reopened"));
}

static void test_ids_and_guarded_steps(void **state)
{
	struct store *st = *state;
	store_begin(st);
	char *a = issue_next_id(st, "2026-Q4-JSB-001"), *b = issue_next_id(st, "2026-Q4-JSB-001");
	char *c = issue_next_id(st, "2026-Q4-JSB-002");
	assert_string_equal(a, "2026-Q4-JSB-001-P01");
	assert_string_equal(b, "2026-Q4-JSB-001-P02");
	assert_string_equal(c, "2026-Q4-JSB-002-P01");
	json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:b,s:I}", "id", a, "request_id",
				"2026-Q4-JSB-001", "reporter", "u2", "platform", "feishu", "chat_id", "oc_x", "type", "技术",
				"severity", "一般", "scope", "s", "description", "d", "occurred_at", (json_int_t)5, "state",
				"reported", "report_late", 1, "created_at", (json_int_t)10);
	assert_int_equal(store_issue_add(st, row), STORE_OK);
	assert_int_equal(store_issue_dept_add(st, a, "CWB"), STORE_OK);
	assert_int_equal(store_issue_dept_add(st, a, "JSB"), STORE_OK);
	assert_int_equal(store_issue_respond(st, a, "reported", "responded", "u3", 20, "线上", "l", "u3", 15), STORE_OK);
	/* The same click again finds the issue moved on: nothing changes. */
	assert_int_equal(store_issue_respond(st, a, "reported", "responded", "u1", 30, "线下", "x", "u1", 16),
			 STORE_NOTFOUND);
	assert_int_equal(store_issue_set_response_due(st, a, 100), STORE_OK);
	assert_int_equal(store_issue_set_response_due(st, a, 200), STORE_OK); /* the first one stays */
	json_t *got;
	assert_int_equal(store_issue_get(st, a, &got), STORE_OK);
	assert_string_equal(json_string_value(json_object_get(got, "owner")), "u3");
	assert_int_equal(json_integer_value(json_object_get(got, "responded_at")), 15);
	assert_int_equal(json_integer_value(json_object_get(got, "response_due")), 100);
	assert_int_equal(json_integer_value(json_object_get(got, "report_late")), 1);
	assert_true(json_is_null(json_object_get(got, "expected_at")));
	json_t *depts = json_object_get(got, "depts");
	assert_int_equal(json_array_size(depts), 2);
	assert_string_equal(json_string_value(json_array_get(depts, 0)), "CWB"); /* in the order given */
	json_decref(got);
	assert_int_equal(store_issue_get(st, "nope", &got), STORE_NOTFOUND);
	json_t *list = store_issue_list(st, "2026-Q4-JSB-001", 10);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	json_t *reqs = store_issue_open_requests(st, 10);
	assert_int_equal(json_array_size(reqs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 0), "id")), "2026-Q4-JSB-001");
	json_decref(reqs);
	store_commit(st);
	json_decref(row);
	free(a);
	free(b);
	free(c);
}

/* issue_enter(): a step the table does not allow writes nothing; an allowed
 * one writes its columns and its timeline row; the same step from the state
 * as first read finds the issue moved on (a repeated click). */
static void test_enter_checks_writes_and_records(void **state)
{
	struct store *st = *state;
	store_begin(st);
	json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:b,s:I}", "id", "2026-Q4-JSB-001-P01",
				"request_id", "2026-Q4-JSB-001", "reporter", "u2", "platform", "feishu", "chat_id", "oc_x",
				"type", "技术", "severity", "一般", "scope", "s", "description", "d", "occurred_at",
				(json_int_t)5, "state", "reported", "report_late", 0, "created_at", (json_int_t)10);
	assert_int_equal(store_issue_add(st, row), STORE_OK);
	json_decref(row);
	json_t *issue;
	assert_int_equal(store_issue_get(st, "2026-Q4-JSB-001-P01", &issue), STORE_OK);
	char why[300] = "";
	json_t *detail = json_pack("{s:s}", "result", "x");
	struct issue_change c = { .actor = "u3", .detail = detail, .result = "修好了" };
	assert_int_equal(issue_enter(st, issue, ISSUE_RESOLVE, &c, 20, why, sizeof why), ISSUE_REFUSED);
	assert_non_null(strstr(why, "不能填写解决结果并关闭"));
	json_t *events = store_issue_timeline(st, "2026-Q4-JSB-001", "2026-Q4-JSB-001-P01");
	assert_int_equal(json_array_size(events), 0);
	json_decref(events);

	struct issue_change r = { .actor = "u3", .owner = "u3", .meeting_at = 30, .mode = "线上", .where = "l" };
	assert_int_equal(issue_enter(st, issue, ISSUE_RESPOND, &r, 20, why, sizeof why), ISSUE_ENTERED);
	events = store_issue_timeline(st, "2026-Q4-JSB-001", "2026-Q4-JSB-001-P01");
	assert_int_equal(json_array_size(events), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "kind")), "issue.responded");
	json_decref(events);
	/* issue still says "reported": the same step again finds it moved on. */
	assert_int_equal(issue_enter(st, issue, ISSUE_RESPOND, &r, 21, why, sizeof why), ISSUE_MOVED);
	assert_non_null(strstr(why, "刚刚已被处理"));
	store_commit(st);
	json_t *got;
	assert_int_equal(store_issue_get(st, "2026-Q4-JSB-001-P01", &got), STORE_OK);
	assert_string_equal(json_string_value(json_object_get(got, "state")), "responded");
	json_decref(got);
	json_decref(detail);
	json_decref(issue);
}

int main(void)
{
	setenv("TZ", "Asia/Shanghai", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_report_is_normalised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_problem_of_a_report_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_card_values_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_reports_count_business_time_unless_urgent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_and_solution_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_times_pass_the_rules, setup, teardown),
		cmocka_unit_test(test_state_table),
		cmocka_unit_test_setup_teardown(test_ids_and_guarded_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enter_checks_writes_and_records, setup, teardown),
	};
	return cmocka_run_group_tests_name("issues", tests, NULL, NULL);
}
