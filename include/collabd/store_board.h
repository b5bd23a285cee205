/*
 * store_board.h - the read-only queries behind the web board and /metrics.
 *
 * Each returns rows as a new JSON array of objects keyed by column name (the
 * caller decrefs it), or NULL when SQLite failed (already logged).  Nothing
 * here writes: the board and the metrics only look.  People and departments
 * come with their display names joined in (NULL when unknown).
 */
#ifndef COLLABD_STORE_BOARD_H
#define COLLABD_STORE_BOARD_H

#include <jansson.h>

#include "collabd/clock.h"

struct store;

/* ---- /metrics ---- */

/* [{state, n}] for every request state present. */
json_t *store_board_requests_by_state(struct store *st);

/* [{policy, breached, overdue, open}] per SLA policy: breached counts every
 * deadline whose due time passed before it was closed (or by now when still
 * open); overdue those still open past due. */
json_t *store_board_sla_by_policy(struct store *st, ms_t now);

/* created_at of the oldest pending outbox row, or -1 when none is pending. */
ms_t store_board_outbox_oldest(struct store *st);

/* ---- the board ---- */

/* Requests still in play (not rejected, withdrawn or archived), oldest first:
 * [{id, dept, dept_name, initiator, initiator_name, state, version, form,
 * reason, created_at, updated_at}]. */
json_t *store_board_active_requests(struct store *st);
/* One request as above; NULL when there is none (or on error). */
json_t *store_board_request(struct store *st, const char *id);
/* Each involved department's answer: [{dept, dept_name, state, signed_by,
 * signer_name, signed_at, version, hash}] in the order they were added. */
json_t *store_board_request_depts(struct store *st, const char *id);
/* Open deadlines about the request (its own and its issues'), soonest first:
 * [{key, policy, subject, due_at, started_at}]. */
json_t *store_board_open_deadlines(struct store *st, const char *id);
/* Each executing department's state for day: [{dept, dept_name, owner_name,
 * verdict (on_time/missed/late or NULL), updated (1 when an update for day
 * exists), late}]. */
json_t *store_board_progress_today(struct store *st, const char *id, const char *day);
/* Every version: [{version, hash, created_at}]. */
json_t *store_board_versions(struct store *st, const char *id);
/* Objections: [{id, dept, dept_name, raiser_name, explanation, proposal,
 * state, answer, answered_at, created_at}]. */
json_t *store_board_objections(struct store *st, const char *id);
/* Every progress update, all revisions: [{day, dept, dept_name, revision,
 * author_name, done, undone, next, late, submitted_at, verdict}]. */
json_t *store_board_progress_all(struct store *st, const char *id);
/* The request's issues, newest first (all states): [{id, type, severity,
 * state, description, reporter_name, owner_name, created_at, responded_at,
 * cause, measures, solution_due, result, resolved_at}]. */
json_t *store_board_issues(struct store *st, const char *id);
/* Unresolved issues of every request, oldest first: [{id, request_id,
 * request_form, type, severity, state, description, created_at}]. */
json_t *store_board_open_issues(struct store *st);
/* The timeline about the request, its deadlines and its issues, oldest
 * first: [{at, actor, actor_name, kind, subject, detail}]. */
json_t *store_board_timeline(struct store *st, const char *id);
/* The completion row or NULL: {completed_by, completer_name, completed_at,
 * deliverables, open_issues, open_issues_reason, retro_due}. */
json_t *store_board_completion(struct store *st, const char *id);
/* Retrospective answers: [{dept, dept_name, author_name, answers,
 * answered_at, revision}]. */
json_t *store_board_retro(struct store *st, const char *id);
/* The archive (协作项目库), newest first: [{name, request_id, dir,
 * created_at, written_at, report_at, state, form}]. */
json_t *store_board_archives(struct store *st, int limit, long long offset);
/* How many archive entries there are; -1 when the store failed. */
long long store_board_archive_count(struct store *st);
/* Requests that are closed without an archive (rejected, withdrawn),
 * newest first: [{id, state, form, updated_at}]. */
json_t *store_board_closed_requests(struct store *st, int limit);

#endif
