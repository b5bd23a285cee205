/*
 * test_request_flow.c - the request's state machine, through req_transition():
 * every legal transition of WORKFLOW.md's table gives its state, and every
 * other (state, event) pair is refused with a sentence naming the state and
 * the action.  The expected table is written out here independently of
 * request_flow.c, so a row added, lost or changed there fails this test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/request.h"
#include "collabd/util.h"

static const char *const states[] = {
	"pending_approval", "syncing", "in_progress", "rejected", "withdrawn", "completed", "archived",
};

static const struct {
	enum req_event ev;
	const char *name; /* for failure messages */
	const char *verb; /* as the refusal says it */
} events[] = {
	{ REQ_APPROVE, "approve", "审批" },     { REQ_REJECT, "reject", "驳回" },
	{ REQ_RESUBMIT, "resubmit", "重新提交" }, { REQ_WITHDRAW, "withdraw", "撤回" },
	{ REQ_ALL_SETTLED, "settled", "进入执行" }, { REQ_REVISE, "revise", "修订" },
	{ REQ_COMPLETE, "complete", "标记完成" }, { REQ_REPORT, "report", "生成复盘报告" },
};

static const struct {
	const char *from;
	enum req_event ev;
	const char *to;
} legal[] = {
	{ "pending_approval", REQ_APPROVE, "syncing" },
	{ "pending_approval", REQ_REJECT, "rejected" },
	{ "pending_approval", REQ_WITHDRAW, "withdrawn" },
	{ "rejected", REQ_RESUBMIT, "pending_approval" },
	{ "rejected", REQ_WITHDRAW, "withdrawn" },
	{ "syncing", REQ_ALL_SETTLED, "in_progress" },
	{ "syncing", REQ_REVISE, "syncing" },
	{ "in_progress", REQ_COMPLETE, "completed" },
	{ "completed", REQ_REPORT, "archived" },
};

static const char *expected(const char *from, enum req_event ev)
{
	for (size_t i = 0; i < ARRAY_LEN(legal); i++)
		if (legal[i].ev == ev && !strcmp(legal[i].from, from))
			return legal[i].to;
	return NULL;
}

static void test_every_legal_transition(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(legal); i++) {
		char why[256] = "";
		const char *to = req_transition(legal[i].from, legal[i].ev, why, sizeof why);
		if (!to || strcmp(to, legal[i].to))
			fail_msg("%s --%d--> %s expected, got %s (%s)", legal[i].from, (int)legal[i].ev, legal[i].to,
				 to ? to : "refusal", why);
	}
}

static void test_every_other_pair_is_refused_with_the_reason(void **state)
{
	(void)state;
	int refused = 0;
	for (size_t s = 0; s < ARRAY_LEN(states); s++) {
		for (size_t e = 0; e < ARRAY_LEN(events); e++) {
			char why[256] = "";
			const char *to = req_transition(states[s], events[e].ev, why, sizeof why);
			const char *want = expected(states[s], events[e].ev);
			if (want) {
				assert_non_null(to);
				continue;
			}
			if (to)
				fail_msg("%s --%s--> %s was allowed", states[s], events[e].name, to);
			/* "该需求已撤回，不能审批。" */
			char sentence[256];
			snprintf(sentence, sizeof sentence, "该需求%s，不能%s。", req_state_label(states[s]),
				 events[e].verb);
			assert_string_equal(why, sentence);
			refused++;
		}
	}
	assert_int_equal(refused, (int)(ARRAY_LEN(states) * ARRAY_LEN(events) - ARRAY_LEN(legal)));
}

static void test_terminal_states_allow_nothing(void **state)
{
	(void)state;
	const char *terminal[] = { "withdrawn", "archived" };
	for (size_t s = 0; s < ARRAY_LEN(terminal); s++)
		for (size_t e = 0; e < ARRAY_LEN(events); e++) {
			char why[64];
			assert_null(req_transition(terminal[s], events[e].ev, why, sizeof why));
		}
}

static void test_every_state_has_a_chinese_label(void **state)
{
	(void)state;
	for (size_t s = 0; s < ARRAY_LEN(states); s++) {
		const char *label = req_state_label(states[s]);
		assert_string_not_equal(label, states[s]);
		assert_true((unsigned char)label[0] >= 0x80);
	}
	/* An unknown state is shown as it is, and refused. */
	assert_string_equal(req_state_label("no_such_state"), "no_such_state");
	char why[128];
	assert_null(req_transition("no_such_state", REQ_APPROVE, why, sizeof why));
	assert_non_null(strstr(why, "no_such_state"));
}

static void test_a_short_buffer_is_cut_not_overrun(void **state)
{
	(void)state;
	struct {
		char why[8];
		char after[8];
	} b;
	memset(&b, 'x', sizeof b);
	assert_null(req_transition("archived", REQ_APPROVE, b.why, sizeof b.why));
	assert_true(strlen(b.why) < sizeof b.why);
	for (size_t i = 0; i < sizeof b.after; i++)
		assert_int_equal(b.after[i], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_legal_transition),
		cmocka_unit_test(test_every_other_pair_is_refused_with_the_reason),
		cmocka_unit_test(test_terminal_states_allow_nothing),
		cmocka_unit_test(test_every_state_has_a_chinese_label),
		cmocka_unit_test(test_a_short_buffer_is_cut_not_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
