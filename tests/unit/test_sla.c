/*
 * test_sla.c - SLA policies: the defaults, config overrides (every problem
 * reported), and adding/subtracting spans on the business and wall clocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/calendar.h"
#include "collabd/sla.h"
#include "collabd/util.h"

struct problems {
	int n;
	char text[8][300];
};

static void collect(void *arg, const char *text)
{
	struct problems *p = arg;
	if (p->n < 8)
		snprintf(p->text[p->n], sizeof p->text[0], "%s", text);
	p->n++;
}

static int has(const struct problems *p, const char *needle)
{
	for (int i = 0; i < p->n && i < 8; i++)
		if (strstr(p->text[i], needle))
			return 1;
	return 0;
}

static void test_defaults_follow_the_workflow(void **state)
{
	(void)state;
	struct problems pr = { 0 };
	struct sla_policies *ps = sla_policies_new(NULL, collect, &pr);
	assert_non_null(ps);
	const struct sla_policy *p = sla_policy_find(ps, "dept_confirm");
	assert_non_null(p);
	assert_int_equal(p->duration.working_days, 1);
	assert_int_equal(p->clock, SLA_BUSINESS);
	assert_int_equal(p->remind_before.ms, 2 * 3600000);
	const struct sla_policy *u = sla_policy_find(ps, "issue_response_urgent");
	assert_int_equal(u->clock, SLA_WALL);
	assert_int_equal(u->duration.ms, 30 * 60000);
	assert_int_equal(sla_policy_find(ps, "issue_response")->duration.ms, 2 * 3600000);
	assert_int_equal(sla_policy_find(ps, "objection_answer")->duration.working_days, 2);
	assert_int_equal(sla_policy_find(ps, "retrospective")->duration.working_days, 3);
	assert_false(sla_policy_find(ps, "daily_progress")->has_duration);
	assert_null(sla_policy_find(ps, "nope"));
	sla_policies_free(ps);
}

static void test_override_changes_only_what_it_names(void **state)
{
	(void)state;
	json_t *o = json_loads("{\"dept_confirm\": {\"duration\": \"2wd\", \"escalation\": ["
			       "{\"after\": \"0\", \"notify\": [\"owner\"]},"
			       "{\"after\": \"1h30m\", \"notify\": [\"head\", \"superior2\"]}]},"
			       "\"_comment\": \"ignored\"}", 0, NULL);
	struct problems pr = { 0 };
	struct sla_policies *ps = sla_policies_new(o, collect, &pr);
	assert_non_null(ps);
	const struct sla_policy *p = sla_policy_find(ps, "dept_confirm");
	assert_int_equal(p->duration.working_days, 2);
	assert_int_equal(p->remind_before.ms, 2 * 3600000); /* untouched */
	assert_int_equal(p->nsteps, 2);
	assert_int_equal(p->steps[1].after.ms, 90 * 60000);
	assert_int_equal(p->steps[1].notify, SLA_HEAD | SLA_SUPERIOR2);
	sla_policies_free(ps);
	json_decref(o);
}

static void test_bad_overrides_are_all_reported(void **state)
{
	(void)state;
	json_t *o = json_loads("{\"no_such\": {}, \"approval\": {\"duration\": \"soon\", \"clock\": \"moon\","
			       " \"colour\": 1, \"escalation\": [{\"after\": \"1h\", \"notify\": [\"cto\"]}]}}",
			       0, NULL);
	struct problems pr = { 0 };
	assert_null(sla_policies_new(o, collect, &pr));
	assert_int_equal(pr.n, 5);
	assert_true(has(&pr, "sla.no_such: unknown policy"));
	assert_true(has(&pr, "sla.approval.duration"));
	assert_true(has(&pr, "sla.approval.clock"));
	assert_true(has(&pr, "sla.approval.colour: unknown option"));
	assert_true(has(&pr, "sla.approval.escalation[0].notify"));
	json_decref(o);
}

static void test_spans_on_both_clocks(void **state)
{
	(void)state;
	struct calendar *cal = calendar_new(NULL);
	char err[200];
	assert_int_equal(calendar_load_dir(cal, "deploy/calendar", err, sizeof err), 0);
	ms_t fri = calendar_local_time(2026, 12, 11, 17 * 60); /* Friday 17:00 */
	struct sla_span two_h = { .ms = 2 * 3600000 }, one_wd = { .working_days = 1 };
	assert_int_equal(sla_add(cal, SLA_BUSINESS, fri, two_h), calendar_local_time(2026, 12, 14, 10 * 60));
	assert_int_equal(sla_add(cal, SLA_WALL, fri, two_h), fri + 2 * 3600000);
	assert_int_equal(sla_add(cal, SLA_BUSINESS, fri, one_wd), calendar_local_time(2026, 12, 14, 17 * 60));
	/* 18:00 + 1 working day stays at 18:00 the next working day, not 09:00 after. */
	ms_t end = calendar_local_time(2026, 12, 11, 18 * 60);
	assert_int_equal(sla_add(cal, SLA_BUSINESS, end, one_wd), calendar_local_time(2026, 12, 14, 18 * 60));
	ms_t mon10 = calendar_local_time(2026, 12, 14, 10 * 60);
	assert_int_equal(sla_sub(cal, SLA_BUSINESS, mon10, two_h), fri);
	assert_int_equal(sla_sub(cal, SLA_WALL, mon10, two_h), mon10 - 2 * 3600000);
	struct sla_span s;
	assert_int_equal(sla_span_parse("0", &s), 0);
	assert_true(sla_span_is_zero(s));
	assert_int_not_equal(sla_span_parse("3 days", &s), 0);
	calendar_free(cal);
}

int main(void)
{
	setenv("TZ", "Asia/Shanghai", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_follow_the_workflow),
		cmocka_unit_test(test_override_changes_only_what_it_names),
		cmocka_unit_test(test_bad_overrides_are_all_reported),
		cmocka_unit_test(test_spans_on_both_clocks),
	};
	return cmocka_run_group_tests_name("sla", tests, NULL, NULL);
}
