/*
 * request_flow.c - the request's state machine, as a table.
 *
 *   from               event      to                 who
 *   pending_approval   approve    syncing            the initiating department's head (or deputy)
 *   syncing            settled    in_progress        (every department confirmed or was overruled)
 *   syncing            revise     syncing            the initiator (采纳并修订): a new version; changed parts re-confirm
 *   pending_approval   reject     rejected           the same; a reason is required
 *   rejected           resubmit   pending_approval   the initiator, with the edited form
 *   pending_approval   withdraw   withdrawn          the initiator
 *   rejected           withdraw   withdrawn          the initiator
 *   in_progress        complete   completed          the initiator, with deliverables (archived; retrospective opens)
 *   completed          report     archived           every department answered the retrospective, or the initiator closed it
 *
 * Anything else is refused with the reason, e.g. "该需求已撤回".
 */
#include "collabd/request.h"

#include <stdio.h>
#include <string.h>

#include "collabd/util.h"

static const struct {
	const char *from;
	enum req_event ev;
	const char *to;
} transitions[] = {
	{ "pending_approval", REQ_APPROVE, "syncing" },
	{ "syncing", REQ_ALL_SETTLED, "in_progress" },
	{ "syncing", REQ_REVISE, "syncing" },
	{ "pending_approval", REQ_REJECT, "rejected" },
	{ "rejected", REQ_RESUBMIT, "pending_approval" },
	{ "pending_approval", REQ_WITHDRAW, "withdrawn" },
	{ "rejected", REQ_WITHDRAW, "withdrawn" },
	{ "in_progress", REQ_COMPLETE, "completed" },
	{ "completed", REQ_REPORT, "archived" },
};

static const struct {
	const char *state;
	const char *label;
} labels[] = {
	{ "pending_approval", "待审批" },
	{ "syncing", "待各部门确认" },
	{ "in_progress", "执行中" },
	{ "rejected", "已驳回" },
	{ "withdrawn", "已撤回" },
	{ "completed", "已完成，待复盘" },
	{ "archived", "已归档" },
};

const char *req_state_label(const char *state)
{
	for (size_t i = 0; i < ARRAY_LEN(labels); i++)
		if (!strcmp(labels[i].state, state))
			return labels[i].label;
	return state;
}

const char *req_transition(const char *state, enum req_event ev, char *why, size_t whysz)
{
	for (size_t i = 0; i < ARRAY_LEN(transitions); i++)
		if (transitions[i].ev == ev && !strcmp(transitions[i].from, state))
			return transitions[i].to;
	static const char *const verbs[] = { "审批", "驳回", "重新提交", "撤回", "进入执行", "修订", "标记完成", "生成复盘报告" };
	snprintf(why, whysz, "该需求%s，不能%s。", req_state_label(state), verbs[ev]);
	return NULL;
}

char *req_hash(const char *text)
{
	/* FNV-1a, 64 bits: a fingerprint of the exact version signed, not a
	 * security measure (the signature's who and when are in the database). */
	unsigned long long h = 14695981039346656037ULL;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return xasprintf("%016llx", h);
}
