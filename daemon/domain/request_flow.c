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
 *
 * Every change of state goes through req_enter(): it checks the table,
 * moves the row, appends the transition's timeline row and logs it.
 */
#include "collabd/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
#include "collabd/store.h"
#include "collabd/util.h"

static const struct {
	const char *from;
	enum req_event ev;
	const char *to;
	const char *kind;   /* the timeline row it writes */
} transitions[] = {
	{ "pending_approval", REQ_APPROVE, "syncing", "request.approved" },
	{ "syncing", REQ_ALL_SETTLED, "in_progress", "request.in_progress" },
	{ "syncing", REQ_REVISE, "syncing", "request.revised" },
	{ "pending_approval", REQ_REJECT, "rejected", "request.rejected" },
	{ "rejected", REQ_RESUBMIT, "pending_approval", "request.resubmitted" },
	{ "pending_approval", REQ_WITHDRAW, "withdrawn", "request.withdrawn" },
	{ "rejected", REQ_WITHDRAW, "withdrawn", "request.withdrawn" },
	{ "in_progress", REQ_COMPLETE, "completed", "request.completed" },
	{ "completed", REQ_REPORT, "archived", "retro.reported" },
};

/* By enum req_event: what the refusal says cannot be done, and the event's
 * name in logs. */
static const char *const verbs[] = { "审批", "驳回", "重新提交", "撤回", "进入执行", "修订", "标记完成", "生成复盘报告" };
static const char *const event_names[] = { "approve", "reject", "resubmit", "withdraw", "settled", "revise",
					   "complete", "report" };
_Static_assert(ARRAY_LEN(verbs) == REQ_REPORT + 1, "one verb per enum req_event");
_Static_assert(ARRAY_LEN(event_names) == REQ_REPORT + 1, "one name per enum req_event");

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
	snprintf(why, whysz, "该需求%s，不能%s。", req_state_label(state), verbs[ev]);
	return NULL;
}

enum req_enter_rc req_enter(struct store *st, const struct request_row *r, enum req_event ev,
			    const struct req_change *c, ms_t now, char *why, size_t whysz)
{
	size_t t = 0;
	while (t < ARRAY_LEN(transitions) && (transitions[t].ev != ev || strcmp(transitions[t].from, r->state)))
		t++;
	if (t == ARRAY_LEN(transitions)) {
		req_transition(r->state, ev, why, whysz);
		return REQ_REFUSED;
	}
	const char *to = transitions[t].to;
	/* The reason column is the last rejection's: a rejection writes it, a
	 * resubmission clears it, every other step keeps it. */
	const char *reason = ev == REQ_REJECT ? c->reason : ev == REQ_RESUBMIT ? NULL : r->reason;
	char *detail = c->detail ? json_dumps(c->detail, JSON_COMPACT) : NULL;
	enum store_rc rc = store_request_update(st, r->id, r->state, to, c->version ? c->version : r->version,
						c->form ? c->form : r->form, reason, now);
	if (rc == STORE_OK)
		rc = store_timeline_add(st, now, c->actor, transitions[t].kind, r->id, detail);
	free(detail);
	if (rc != STORE_OK) {
		/* STORE_NOTFOUND too: the row moved under a transaction that read it. */
		log_error("msg=\"request state change failed\" request=%s from=%s to=%s event=%s", r->id, r->state, to,
			  event_names[ev]);
		return REQ_ENTER_FAILED;
	}
	log_info("msg=\"request state\" request=%s from=%s to=%s event=%s by=%s", r->id, r->state, to, event_names[ev],
		 c->actor);
	return REQ_ENTERED;
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
