/*
 * issue_flow.c - the issue's state machine, as a table.
 *
 *   from               event      to                 who (checked in bot-commands/issue_steps.c)
 *   reported           respond    responded          a head or contact of a receiving department (or deputy)
 *   reopened           respond    responded          the same (a new owner or meeting)
 *   responded          solution   solution_recorded  the same, or the reporter
 *   reopened           solution   solution_recorded  the same
 *   solution_recorded  solution   solution_recorded  the same: a revised record; the deadline moves
 *   solution_recorded  resolve    resolved           the solution's 责任人 (or deputy)
 *   resolved           reopen     reopened           the reporter, within 1 working day, with a reason
 *
 * Anything else is refused with the reason, e.g. "问题已解决，不能响应。" --
 * which is also what a repeated click gets.
 */
#include "collabd/issue.h"

#include <stdio.h>
#include <string.h>

#include "collabd/util.h"

static const struct {
	const char *from;
	enum issue_event ev;
	const char *to;
} transitions[] = {
	{ "reported", ISSUE_RESPOND, "responded" },
	{ "reopened", ISSUE_RESPOND, "responded" },
	{ "responded", ISSUE_SOLUTION, "solution_recorded" },
	{ "reopened", ISSUE_SOLUTION, "solution_recorded" },
	{ "solution_recorded", ISSUE_SOLUTION, "solution_recorded" },
	{ "solution_recorded", ISSUE_RESOLVE, "resolved" },
	{ "resolved", ISSUE_REOPEN, "reopened" },
};

static const struct {
	const char *state;
	const char *label;
	const char *next; /* what the issue waits for, for refusals */
} labels[] = {
	{ "reported", "待响应", "请先由接收部门响应（/问题 响应）" },
	{ "responded", "已响应，待记录解决方案", "请先记录解决方案（/问题 方案）" },
	{ "solution_recorded", "解决中", "" },
	{ "resolved", "已解决", "" },
	{ "reopened", "已重新打开，待响应", "请先由接收部门重新响应或记录新的解决方案" },
};

static const char *const verbs[] = { "响应", "记录解决方案", "填写解决结果并关闭", "重新打开" };

const char *issue_state_label(const char *state)
{
	for (size_t i = 0; i < ARRAY_LEN(labels); i++)
		if (!strcmp(labels[i].state, state))
			return labels[i].label;
	return state;
}

const char *issue_transition(const char *state, enum issue_event ev, char *why, size_t whysz)
{
	for (size_t i = 0; i < ARRAY_LEN(transitions); i++)
		if (transitions[i].ev == ev && !strcmp(transitions[i].from, state))
			return transitions[i].to;
	const char *next = "";
	for (size_t i = 0; i < ARRAY_LEN(labels); i++)
		if (!strcmp(labels[i].state, state))
			next = labels[i].next;
	snprintf(why, whysz, "该问题%s，不能%s。%s", issue_state_label(state), verbs[ev], next);
	return NULL;
}

int issue_is_open(const char *state) { return strcmp(state, "resolved") != 0; }
