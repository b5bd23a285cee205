/*
 * progress.h - step 3: progress owners, daily updates (《跨部门协作进度同步表》),
 * the 17:00 cut-off and the 进度看板.
 *
 * Every working day each executing department of an in-progress request owes
 * one update before the cut-off.  One deadline per request and working day
 * ("req:<ID>:progress:<YYYY-MM-DD>", policy daily_progress) drives it: its
 * reminder (16:00 by default) pings the owners who have not posted, and at the
 * cut-off each department's day is decided (on_time / missed), the late ones
 * are pinged with their head (and superior after repeated misses), the digest
 * is posted and the next working day's deadline is set.
 */
#ifndef COLLABD_PROGRESS_H
#define COLLABD_PROGRESS_H

#include <jansson.h>

#include "collabd/command.h"
#include "collabd/form.h"
#include "collabd/store.h"

#define PROGRESS_TEXT_MAX 500 /* characters per field */

/* ---- records (daemon/store/store_progress.c) ---- */

enum store_rc progress_owner_set(struct store *st, const char *request_id, const char *dept, const char *user_id,
				 const char *set_by, ms_t now);
/* [{dept, user_id}] in department order; new reference, NULL on error. */
json_t *progress_owners(struct store *st, const char *request_id);
/* Adds an update; *revision gets its number for the day (1 for the first). */
enum store_rc progress_update_add(struct store *st, const char *request_id, const char *dept, const char *day,
				  const char *author, const char *done, const char *undone, const char *next,
				  int late, ms_t now, int *revision);
/* The latest revision of each department's update for day:
 * [{dept, author, done, undone, next, late, revision, submitted_at}]; new reference. */
json_t *progress_updates_of_day(struct store *st, const char *request_id, const char *day);
/* Every update of a request, all revisions, oldest first (for archives and pages). */
json_t *progress_updates_all(struct store *st, const char *request_id);
/* Records a department's verdict for day at the cut-off (kept if already set). */
enum store_rc progress_day_decide(struct store *st, const char *request_id, const char *dept, const char *day,
				  const char *state, ms_t now);
/* A late update turns the day's "missed" into "late". */
enum store_rc progress_day_late(struct store *st, const char *request_id, const char *dept, const char *day);
/* How many of the department's most recent decided days in a row are not on time. */
int progress_misses_in_a_row(struct store *st, const char *request_id, const char *dept);
/* Every decided day: [{dept, day, state}] by day; new reference. */
json_t *progress_days_all(struct store *st, const char *request_id);
/* Open issues of a request (any state but resolved): [{id, severity, state}]. */
json_t *progress_open_issues(struct store *st, const char *request_id);

/* ---- the form and the working days (daemon/domain/progress.c) ---- */

struct calendar;

/* The card's "form" object for request id (inputs named by the first
 * aliases: done, undone, next); new reference. */
json_t *progress_form(const char *id);
/* 《跨部门协作进度同步表》 as a form (form.h): collect it with form_collect(). */
extern const struct form progress_update_form;
/* The three texts of a collected form (borrowed from it, "" when absent); a
 * missing required one or one over PROGRESS_TEXT_MAX is a sentence appended
 * to problems. */
struct progress_text {
	const char *done, *undone, *next;
};
void progress_check(json_t *values, struct progress_text *out, json_t *problems);
/* The day "YYYY-MM-DD" of t in the configured zone. */
void progress_day_of(ms_t t, char out[11]);
/* That day's cut-off (cutoff_min minutes after local midnight), -1 for a bad day. */
ms_t progress_cutoff(int cutoff_min, const char *day);
/* 1 when t falls on a working day of cal. */
int progress_is_workday(const struct calendar *cal, ms_t t);
/* The first working day's cut-off at least notice after from (its day in day), or -1. */
ms_t progress_next_cutoff(const struct calendar *cal, int cutoff_min, ms_t from, ms_t notice, char day[11]);

/* ---- the workflow (bot-commands/progress.c, progress_day.c) ---- */

/* The request has just gone into execution: owners default to each
 * department's first contact, the first day's deadline is set, and the group
 * gets the progress form.  Inside the caller's transaction. */
void progress_start(struct cmd_ctx *ctx, const char *request_id);
/* The digest card body for request_id on day (bot-commands/board.c); new reference. */
json_t *progress_digest_card(struct cmd_ctx *ctx, const char *request_id, const char *day, int closing);

#endif
