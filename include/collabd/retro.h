/*
 * retro.h - step 5's retrospective (复盘) and 《跨部门协作复盘报告》.
 *
 * Every participating department (the initiating one and every involved
 * one) answers five questions within the retrospective deadline.  The
 * report puts the answers next to figures measured from what the request
 * went through -- no one types a figure in -- and suggestions: the
 * departments' own, and rules of thumb drawn from the figures.
 *
 * retro_metrics() and retro_advice() are pure functions of the database and
 * the calendar, so they are unit-tested with scripted rows.
 */
#ifndef COLLABD_RETRO_H
#define COLLABD_RETRO_H

#include <jansson.h>
#include <stddef.h>

#include "collabd/clock.h"
#include "collabd/command.h"
#include "collabd/form.h"
#include "collabd/store.h"

struct calendar;
struct sla_policies;

#define RETRO_ANSWER_MAX 500 /* characters per answer */

/* The five questions as a form (form.h): each key is also the JSON key of an
 * answer; the first alias is the card input's name. */
extern const struct form_field retro_questions[];
extern const size_t retro_question_count;
extern const struct form retro_form;

/* The participating departments' codes: the initiating department, then
 * every involved one, each once (new array); NULL on a store error. */
json_t *retro_participants(struct store *st, const char *request_id);

/*
 * The figures of request_id, measured from the timeline and the step tables
 * against the SLA policies (pol: the running ones; NULL for the built-in
 * defaults).  A new object; NULL on a store error.  Durations are in ms of
 * business time where the rule is in business time, else wall-clock ms:
 *   approval       {submitted_at, approved_at, elapsed_ms, limit_ms, within, rejections} or null
 *   confirmations  [{dept, dept_name, asked_at, answered_at, answer, elapsed_ms, limit_ms, within}]
 *   objections     [{id, dept, dept_name, raised_at, first_answer, answered_at, outcome, elapsed_ms, limit_ms, within}]
 *   progress       [{dept, dept_name, on_time, late, missed}]
 *   issues         {by_type: {技术: n ...}, by_severity: {紧急: n ...}, items: [{id, type, severity,
 *                   report_delay_ms, report_within, response_ms, response_limit_ms, response_within,
 *                   solution_due, resolved_at, resolution_within}]}
 *   deadlines      [{kind, label, reminders, overdue, escalations, snoozes}]
 *   retro          [{dept, dept_name, answered_at, within}]
 *   totals         {confirm_total, confirm_within, objections, objections_within, progress_on_time,
 *                   progress_late, progress_missed, issues, report_late, response_late,
 *                   resolution_late, escalations, snoozes}
 */
json_t *retro_metrics(struct store *st, const struct calendar *cal, const struct sla_policies *pol,
		      const char *request_id, ms_t retro_due);

/* Rules of thumb drawn from the figures: a new array of {rule, text}. */
json_t *retro_advice(json_t *metrics);

/* The report (new object): {written_at, participants, answered, missing,
 * metrics, suggestions: [{source: rule|dept, dept?, text}]}.  NULL on a store
 * error. */
json_t *retro_report_build(struct store *st, const struct calendar *cal, const struct sla_policies *pol,
			   const char *request_id, ms_t now);

/* "3小时20分" for a duration; "—" for a negative one.  out >= 32 bytes. */
void retro_duration_text(ms_t ms, char *out, size_t outsz);

/* ---- in chat (bot-commands/retro*.c) ---- */

/* Opens the retrospective of a request that was just completed: a
 * deadline and a card for every participating department.  *due gets the
 * retrospective's due time. */
void retro_start(struct cmd_ctx *ctx, const struct request_row *r, ms_t *due);
/* A department's retrospective card: the five questions as a form, or --
 * with answered ({name}: who answered) -- the note that it has answered.
 * mentions may be NULL.  New reference. */
struct dept_row;
json_t *retro_card(const char *id, const char *req_name, const struct dept_row *d, ms_t due, json_t *mentions,
		   json_t *answered);
/* "retro:ID:DEPT": what the card is about, to update it in place (caller frees). */
char *retro_card_subject(const char *id, const char *dept);
/* Writes the report (retro_finish.c): every department answered, or the
 * initiator closed_by closed the retrospective (NULL: all answered). */
void retro_finish(struct cmd_ctx *ctx, const char *id, const char *closed_by);

#endif
