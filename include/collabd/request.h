/*
 * request.h - 《跨部门协作需求信息表》: the request form, its fields and rules.
 *
 * Validation is apart from execution: request_form_from_*() and
 * request_form_check() touch nothing but the directory (to know the
 * departments), so every rule is unit-tested without side effects, and an
 * invalid form is answered with every problem at once.
 */
#ifndef COLLABD_REQUEST_H
#define COLLABD_REQUEST_H

#include <jansson.h>

#include "collabd/clock.h"
#include "collabd/command.h"
#include "collabd/form.h"

struct store;
struct request_row;

#define REQUEST_NAME_MAX 40        /* characters */
#define REQUEST_BACKGROUND_MAX 200 /* characters, not bytes: 200 汉字 pass, 201 do not */
#define REQUEST_TEXT_MAX 1000      /* tasks, resources, contact */

/* The form's fields (form.h's one form type) and the form itself. */
extern const struct form_field request_fields[];
extern const size_t request_field_count;
extern const struct form request_form;

/* The form as submitted: a JSON object keyed by request_fields[].key. */
/* Collects "key：value" lines (any alias) into a new object; unknown keys are
 * reported through problems (a JSON array of strings, appended to). */
json_t *request_form_from_args(const struct cmd_args *args, json_t *problems);

/* The same from a card form's values (keys may be the English aliases; the
 * date picker's "YYYY-MM-DD +0800" is cut to the date). */
json_t *request_form_from_json(json_t *values, json_t *problems);

/*
 * Checks the form against the rules and the directory: required fields,
 * lengths in characters, known departments (by code or name; the initiating
 * department defaults to the one user_id heads or answers for), a due date
 * "YYYY-MM-DD" not before today.  Normalises in place (department codes,
 * trimmed text).  Appends one sentence per problem to problems; returns how
 * many it found.
 */
int request_form_check(struct store *st, json_t *form, const char *user_id, const char *today, json_t *problems);

/* "2026-Q4-JSB-003": allocates the next number for year, quarter and
 * department inside the caller's transaction (never reused).  Caller frees;
 * NULL on a store error. */
char *request_next_id(struct store *st, int year, int quarter, const char *dept);

/* Step 2 (bot-commands/sync.c): after approval, ask every involved
 * department; and re-render the request card in place. */
void req_sync_start(struct cmd_ctx *ctx, const char *id);
/* Asks every involved department (again, after a revision: same card). */
void req_ask_departments(struct cmd_ctx *ctx, const char *id, int again);
/* Moves the request to 执行中 when every department is settled. */
void req_settle(struct cmd_ctx *ctx, const char *id);
/* /异议 编号 [部门] + 说明 + 建议: a department objects (the command's own
 * run; its 答复 and 裁决 rows are bot-commands/negotiate.c's). */
enum cmd_rc req_object_raise(struct cmd_ctx *ctx, const struct cmd_args *a);

/* The request card (bot-commands/request_card.c): its subject
 * "request:<ID>" (caller frees); its body -- the form, each department's
 * answer and, the first time, mentions (borrowed, may be NULL) -- as a new
 * reference; and re-rendering it in place. */
char *req_card_subject(const char *id);
json_t *req_card_body_new(struct cmd_ctx *ctx, const struct request_row *r, json_t *mentions);
void req_card_refresh(struct cmd_ctx *ctx, const char *id);
/* /异议 答复 (superior 0) and /异议 裁决 (superior 1) (bot-commands/negotiate.c):
 * args as the subcommand rows get them (words: 答复|裁决, the objection's id, the decision). */
enum cmd_rc req_objection_step(struct cmd_ctx *ctx, const struct cmd_args *a, int superior);
/* An objection as a card in chat_id (bot-commands/objection_card.c): the
 * initiator's answer (superior 0) or the superiors' decision (1), with lead
 * text, fields [{label, value}] and mentions (both borrowed, may be NULL).
 * Its submit button runs req_objection_step(); once decided, either way, the
 * card shows the outcome (its subject: req_objection_subject(), caller frees). */
void req_objection_card(struct cmd_ctx *ctx, const char *chat_id, long long oid, int superior, const char *lead,
			json_t *fields, json_t *mentions);
char *req_objection_subject(long long oid, int superior);

/* Step 5 (bot-commands/complete.c): /需求 完成.  items are the deliverables
 * as typed (strings, borrowed), reason may be NULL, problems (borrowed) holds
 * what the parser already found.  With form_if_empty and nothing given, the
 * initiator gets the completion card.  *completed is 1 when it was done. */
enum cmd_rc req_complete(struct cmd_ctx *ctx, const char *id, json_t *items, const char *reason, json_t *problems,
			 int form_if_empty, int *completed);
/* "/需求 完成 ID" + "交付物：…" / "原因：…" lines. */
enum cmd_rc req_complete_cmd(struct cmd_ctx *ctx, const struct cmd_args *a);

/* The request's state machine (request_flow.c). */
enum req_event { REQ_APPROVE, REQ_REJECT, REQ_RESUBMIT, REQ_WITHDRAW, REQ_ALL_SETTLED, REQ_REVISE, REQ_COMPLETE,
		 REQ_REPORT };

/* "待审批" for "pending_approval" (borrowed). */
const char *req_state_label(const char *state);
/* The state after ev, or NULL with the refusal in why (e.g. "该需求已撤回，不能审批。"). */
const char *req_transition(const char *state, enum req_event ev, char *why, size_t whysz);
/* What a state change writes besides the state (all borrowed). */
struct req_change {
	const char *actor;    /* who, for the timeline: a user id or "collabd" */
	json_t *detail;       /* the timeline row's detail, or NULL */
	int version;          /* the row's version after the change; 0 keeps it */
	const char *form;     /* the form text after the change; NULL keeps it */
	const char *reason;   /* REQ_REJECT: the reason */
};

enum req_enter_rc {
	REQ_ENTERED,          /* moved, timeline row appended, logged */
	REQ_REFUSED,          /* not allowed from r->state: why says so; nothing written */
	REQ_ENTER_FAILED,     /* the store failed (logged): the caller's transaction must not commit */
};

/* The one way a request changes state, inside the caller's transaction:
 * checks ev against the table from r->state (as read), moves the row,
 * appends the transition's timeline row and logs "request=ID from=… to=…".
 * r is not updated. */
enum req_enter_rc req_enter(struct store *st, const struct request_row *r, enum req_event ev,
			    const struct req_change *c, ms_t now, char *why, size_t whysz);
/* A hex fingerprint of a form version (caller frees). */
char *req_hash(const char *text);

#endif
