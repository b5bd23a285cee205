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
 *
 * Every change of state goes through issue_enter(): it checks the table,
 * writes the step's columns, appends the step's timeline row and logs it.
 */
#include "collabd/issue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
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

/* By enum issue_event: the timeline row each step writes, its name in logs. */
static const char *const kinds[] = { "issue.responded", "issue.solution", "issue.resolved", "issue.reopened" };
static const char *const event_names[] = { "respond", "solution", "resolve", "reopen" };
_Static_assert(ARRAY_LEN(kinds) == ISSUE_REOPEN + 1, "one timeline kind per enum issue_event");
_Static_assert(ARRAY_LEN(event_names) == ISSUE_REOPEN + 1, "one name per enum issue_event");

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
_Static_assert(ARRAY_LEN(verbs) == ISSUE_REOPEN + 1, "one verb per enum issue_event");

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

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* The step's own columns. */
static enum store_rc write_step(struct store *st, json_t *issue, enum issue_event ev, const char *to,
				const struct issue_change *c, ms_t now)
{
	const char *id = str(issue, "id"), *from = str(issue, "state");
	switch (ev) {
	case ISSUE_RESPOND:
		return store_issue_respond(st, id, from, to, c->owner, c->meeting_at, c->mode, c->where, c->actor, now);
	case ISSUE_SOLUTION:
		return store_issue_solution(st, id, from, to, c->cause, c->measures, c->owner, c->due, now);
	case ISSUE_RESOLVE:
		return store_issue_resolve(st, id, from, to, c->result, c->actor, now);
	case ISSUE_REOPEN:
		return store_issue_reopen(st, id, from, to, c->reason, now);
	}
	return STORE_ERR;
}

enum issue_enter_rc issue_enter(struct store *st, json_t *issue, enum issue_event ev, const struct issue_change *c,
				ms_t now, char *why, size_t whysz)
{
	const char *from = str(issue, "state");
	const char *to = issue_transition(from, ev, why, whysz);
	if (!to)
		return ISSUE_REFUSED;
	enum store_rc rc = write_step(st, issue, ev, to, c, now);
	if (rc == STORE_NOTFOUND) {
		/* No longer in the state read: a concurrent click got there first. */
		snprintf(why, whysz, "问题 %s 刚刚已被处理，请刷新后查看。", str(issue, "id"));
		return ISSUE_MOVED;
	}
	json_t *detail = c->detail ? json_copy(c->detail) : json_object();
	json_object_set_new(detail, "issue", json_string(str(issue, "id")));
	char *text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	if (rc == STORE_OK)
		rc = store_timeline_add(st, now, c->actor, kinds[ev], str(issue, "request_id"), text);
	free(text);
	if (rc != STORE_OK) {
		log_error("msg=\"issue state change failed\" issue=%s from=%s to=%s event=%s", str(issue, "id"), from, to,
			  event_names[ev]);
		return ISSUE_ENTER_FAILED;
	}
	log_info("msg=\"issue state\" issue=%s from=%s to=%s event=%s by=%s", str(issue, "id"), from, to,
		 event_names[ev], c->actor);
	return ISSUE_ENTERED;
}
