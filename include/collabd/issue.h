/*
 * issue.h - step 4: 《跨部门协作问题反馈表》 and what follows it -- the alert
 * (问题预警), the receiving department's response (响应), 《问题解决方案记录》,
 * the resolution (解决结果) and reopening.
 *
 * Layers, as for requests: daemon/domain/issue.c holds the forms as tables and
 * checks them (touching only the directory and the request list, so every
 * rule is unit-tested without side effects); daemon/domain/issue_flow.c is the state
 * machine; daemon/store/store_issue.c the SQL; bot-commands/issue*.c the commands,
 * cards and deadlines.
 */
#ifndef COLLABD_ISSUE_H
#define COLLABD_ISSUE_H

#include <jansson.h>

#include "collabd/clock.h"
#include "collabd/command.h"
#include "collabd/form.h"
#include "collabd/store.h"

struct calendar;

#define ISSUE_TEXT_MAX 1000   /* characters: description, cause, measures, result, reasons */
#define ISSUE_SCOPE_MAX 200   /* characters: 影响范围 */
#define ISSUE_REPORT_LATE_MS (60 * 60 * 1000) /* "report within 1 hour of 发生时间" */
#define ISSUE_URGENT_MEETING_MS (30 * 60 * 1000) /* 紧急: the meeting starts within 30 minutes */

/* ---- the forms (issue.c), tables of form.h's one form type ---- */

/* 《跨部门协作问题反馈表》, the response, 《问题解决方案记录》, the result, the reopening. */
extern const struct form issue_report_form;
extern const struct form issue_response_form;
extern const struct form issue_solution_form;
extern const struct form issue_result_form;
extern const struct form issue_reopen_form;

extern const char *const issue_types[];      /* 技术 资源 流程 其他 */
extern const char *const issue_severities[]; /* 紧急 重要 一般 */

/* What a check needs to know besides the form. */
struct issue_check {
	ms_t now;
	const char *severity;   /* response: the issue's severity (紧急 limits the meeting time) */
	ms_t occurred_at;       /* response: a meeting cannot be before the problem */
	ms_t created_at;        /* response: when the issue was reported */
};

/*
 * Checks a collected form against its fields' rules and the form's own rules
 * (发生时间 not in the future, 预计解决时间 not before 发生时间, a 紧急 issue's
 * meeting within 30 minutes, a 完成时间 still to come ...).  Normalises in
 * place: times become ms, departments codes, people user ids, text trimmed.
 * Appends one sentence per problem to problems; returns how many it found.
 * Only reads the store.
 */
int issue_form_check(struct store *st, const struct form *f, json_t *form, const struct issue_check *c,
		     json_t *problems);

/* Parses "YYYY-MM-DD HH:MM" (also ":SS", a 'T' instead of the blank, and the
 * Feishu picker's trailing " +0800") as local time, or at the given offset.
 * Returns 0 with *out set, or -1. */
int issue_parse_time(const char *text, ms_t *out);

/* 1 when a report made at created_at is more than an hour after occurred_at:
 * wall-clock time for 紧急, business time otherwise (WORKFLOW.md, time rules). */
int issue_report_late(const struct calendar *cal, const char *severity, ms_t occurred_at, ms_t created_at);

/* Example times for the forms' templates (the lines a DingTalk user copies),
 * so the example passes the forms' own rules whatever the day:
 *   issue_example_meeting   a quarter of an hour from now on the five minutes,
 *                           in working hours; for 紧急 no later than the
 *                           meeting's 30-minute limit (created_at: the report);
 *   issue_example_due       the issue's expected time when still ahead, else
 *                           one working day from now, on the hour.
 * cal may be NULL (no working-hours adjustment). */
ms_t issue_example_meeting(const struct calendar *cal, const char *severity, ms_t created_at, ms_t now);
ms_t issue_example_due(const struct calendar *cal, ms_t expected_at, ms_t now);

/* "2026-Q4-JSB-003-P01": the request's next issue number, inside the caller's
 * transaction (never reused).  Caller frees; NULL on a store error. */
char *issue_next_id(struct store *st, const char *request_id);

/* ---- the state machine (issue_flow.c) ---- */

enum issue_event { ISSUE_RESPOND, ISSUE_SOLUTION, ISSUE_RESOLVE, ISSUE_REOPEN };

/* "待响应" for "reported" (borrowed). */
const char *issue_state_label(const char *state);
/* The state after ev, or NULL with the refusal in why. */
const char *issue_transition(const char *state, enum issue_event ev, char *why, size_t whysz);
/* 1 when the issue still needs work (not resolved). */
int issue_is_open(const char *state);

/* What a step writes besides the state (all borrowed). */
struct issue_change {
	const char *actor;      /* who acts: a user id */
	json_t *detail;         /* the timeline row's detail (copied, "issue" added), or NULL */
	const char *owner;      /* respond: 解决责任人; solution: 责任人 */
	ms_t meeting_at;        /* respond */
	const char *mode, *where; /* respond: 会议形式, 会议地点 */
	const char *cause, *measures; /* solution */
	ms_t due;               /* solution: 完成时间 */
	const char *result;     /* resolve */
	const char *reason;     /* reopen */
};

enum issue_enter_rc {
	ISSUE_ENTERED,          /* written, timeline row appended, logged */
	ISSUE_REFUSED,          /* not allowed from the issue's state: why says so; nothing written */
	ISSUE_MOVED,            /* no longer in the state read (a concurrent click): why says so */
	ISSUE_ENTER_FAILED,     /* the store failed (logged): the caller's transaction must not commit */
};

/* The one way an issue changes state, inside the caller's transaction:
 * checks ev against the table from issue's "state" (as read), writes the
 * step's columns, appends its timeline row (about the issue's request) and
 * logs "issue=ID from=… to=…".  issue (borrowed) is not updated. */
enum issue_enter_rc issue_enter(struct store *st, json_t *issue, enum issue_event ev, const struct issue_change *c,
				ms_t now, char *why, size_t whysz);

/* ---- the store (store_issue.c) ---- */

/* Adds an issue: row holds the columns of table issues (id, request_id,
 * reporter, platform, chat_id, type, severity, scope, description,
 * occurred_at, expected_at, named_user, state, report_late, created_at);
 * borrowed. */
enum store_rc store_issue_add(struct store *st, json_t *row);
enum store_rc store_issue_dept_add(struct store *st, const char *issue_id, const char *dept);
/* The issue as an object of its columns plus "depts" (codes in order):
 * STORE_OK with *out a new reference, STORE_NOTFOUND or STORE_ERR. */
enum store_rc store_issue_get(struct store *st, const char *id, json_t **out);
/* Issues, newest first: of one request (request_id) or all (NULL), at most
 * limit; a new array of objects as store_issue_get's, or NULL on error. */
json_t *store_issue_list(struct store *st, const char *request_id, int limit);
/* The steps below move the issue from from_state (STORE_NOTFOUND when it is
 * no longer there: a repeated click) and set updated_at; strings borrowed. */
enum store_rc store_issue_respond(struct store *st, const char *id, const char *from_state, const char *to_state,
				  const char *owner, ms_t meeting_at, const char *mode, const char *where,
				  const char *by, ms_t now);
enum store_rc store_issue_solution(struct store *st, const char *id, const char *from_state, const char *to_state,
				   const char *cause, const char *measures, const char *owner, ms_t due, ms_t now);
enum store_rc store_issue_resolve(struct store *st, const char *id, const char *from_state, const char *to_state,
				  const char *result, const char *by, ms_t now);
enum store_rc store_issue_reopen(struct store *st, const char *id, const char *from_state, const char *to_state,
				 const char *reason, ms_t now);
/* When the first response was due (set when the response deadline first
 * starts; a reopening's new deadline leaves it). */
enum store_rc store_issue_set_response_due(struct store *st, const char *id, ms_t due);
/* When the alert went out (at once, or at the next working hours' start). */
enum store_rc store_issue_set_alerted(struct store *st, const char *id, ms_t at);
/* The issue's story: its issue.* timeline rows and the SLA pings of its
 * deadlines, oldest first; a new array of {at, actor, kind, detail}. */
json_t *store_issue_timeline(struct store *st, const char *request_id, const char *issue_id);
/* Requests that may take issues (syncing, in progress), newest first: a new
 * array of {id, name}. */
json_t *store_issue_open_requests(struct store *st, int limit);

/* ---- the bot side (bot-commands/issue*.c) ---- */

/* The SLA policy of the response deadline for a severity. */
const char *issue_response_policy(const char *severity);
/* Everyone the alert concerns, per role as dir_people() gives them for each
 * receiving department, merged without repeats; new reference. */
json_t *issue_people(struct cmd_ctx *ctx, json_t *depts);
/* Posts the alert (问题预警) for a stored issue now: the card in the
 * request's group (and department chats when configured), the urgent buzz,
 * and records when.  Sets ctx->failed on a store error. */
void issue_alert(struct cmd_ctx *ctx, json_t *issue);
/* Re-renders the issue's card in place after a step. */
void issue_card_refresh(struct cmd_ctx *ctx, const char *id);
/* Posts 《问题解决方案记录》 to every participating department. */
void issue_solution_notice(struct cmd_ctx *ctx, json_t *issue);
/* Starts (or restarts, after a reopening) the response deadline. */
void issue_response_deadline(struct cmd_ctx *ctx, json_t *issue);
/* /问题 响应|方案|解决|重开 ID + fields (bot-commands/issue_steps.c). */
enum cmd_rc issue_step_command(struct cmd_ctx *ctx, const struct cmd_args *a, enum issue_event ev);
/* Resolves "@name" values of the form's person fields to the mentioned
 * users' ids (remembering their names in the directory's user list). */
void issue_resolve_mentions(struct cmd_ctx *ctx, const struct form *f, json_t *form);
/* Replies with every problem of a form at once ("…有 N 处需要修改"). */
void issue_reply_problems(struct cmd_ctx *ctx, const struct form *f, json_t *problems);
/* Appends a timeline row about the issue's request; takes the reference to
 * detail, as json_object_set_new() does. */
void issue_timeline_add_new(struct cmd_ctx *ctx, const char *kind, json_t *issue, json_t *detail);
/* The deadline keys: "req:<REQUEST>:issue:<ISSUE>:response" / ":solution",
 * and "alert:<ISSUE>" for an alert held until working hours (caller frees). */
char *issue_deadline_key(json_t *issue, const char *what);

#endif
