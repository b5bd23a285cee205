/*
 * sched.h - deadlines and the durable reminder scheduler.
 *
 * The workflow's one small API:  "watch deadline KEY for these people with
 * policy P" (sched_deadline_set) and "it is met / cancelled" (sched_deadline_done).
 * Both run inside the caller's transaction.  The scheduler keeps one lws timer
 * armed for the earliest pending timer row; when it fires, the due rows are
 * turned into notices in one transaction -- marked fired in the same commit,
 * so a crash can neither lose nor repeat a ping.  Rows that came due while the
 * daemon was down fire once at start-up, marked late, folded into the latest
 * step due and addressed to everyone the skipped steps would have told (the
 * owner always); a business-clock one found due outside working hours is
 * held to their next start first (store_timer_hold), still marked late.
 *
 * Pings for the same chat that fire in the same minute become one message
 * mentioning everyone concerned; business-clock pings never fire outside
 * working hours (they wait for the next start), wall-clock (urgent) ones do.
 */
#ifndef COLLABD_SCHED_H
#define COLLABD_SCHED_H

#include <jansson.h>

#include "collabd/clock.h"
#include "collabd/store.h"

struct lws_context;
struct calendar;
struct sla_policies;
struct outbox;
struct sched;

struct sched_deadline {
	const char *key;       /* unique; setting it again replaces the old one */
	const char *policy;    /* an SLA policy name, e.g. "dept_confirm" */
	const char *platform;
	const char *chat_id;   /* where the pings go */
	const char *subject;   /* for people: "需求 2026-Q4-JSB-003 · 技术部确认" */
	json_t *people;        /* borrowed: {"owner":[{"id","name"}], "head":[..], "superior":[..], "superior2":[..]} */
	ms_t start;            /* when the clock starts (usually now) */
	ms_t due;              /* for policies without a duration (e.g. 17:00 today); else 0 */
};

struct sched_stats {
	long long fired, late, notices, batches;
};

struct sched *sched_new(struct store *st, struct lws_context *ctx, const struct calendar *cal,
			const struct sla_policies *policies, struct outbox *ob);
void sched_free(struct sched *s);
/* Re-arms the timer: call after a commit that may have added timers. */
void sched_kick(struct sched *s);
const struct sched_stats *sched_stats(const struct sched *s);
const struct calendar *sched_calendar(const struct sched *s);

/* Inside the caller's transaction.  *due_out (may be NULL) gets the deadline. */
enum store_rc sched_deadline_set(struct sched *s, const struct sched_deadline *d, ms_t *due_out);
/* Closes the deadline ("met" or "cancelled") and cancels its pending pings. */
enum store_rc sched_deadline_done(struct sched *s, const char *key, const char *state);
/* Holds the deadline's next ping until at least `until` (snooze).
 * STORE_NOTFOUND when no ping is pending. */
enum store_rc sched_snooze(struct sched *s, const char *key, ms_t until);

/*
 * The workflow's say when a step of a deadline fires (e.g. the daily progress
 * cut-off posts the digest).  Called inside the firing transaction with the
 * step that fires (0 reminder, 1 due, 2.. escalations).  The hook may replace
 * d->people or d->subject (owned strings) to shape the standard ping.  Returns
 *   SCHED_HOOK_ERROR  the store failed (the batch is rolled back and retried)
 *   SCHED_HOOK_PING   nothing special: the standard ping goes out
 *   SCHED_HOOK_SAID   the hook said everything itself; later steps stay scheduled
 *   SCHED_HOOK_DONE   the hook said everything and closed the deadline
 */
enum { SCHED_HOOK_ERROR = -1, SCHED_HOOK_PING = 0, SCHED_HOOK_SAID = 1, SCHED_HOOK_DONE = 2 };
typedef int (*sched_hook_fn)(void *arg, struct deadline_row *d, int step, int late, ms_t now);
void sched_set_hook(struct sched *s, sched_hook_fn fn, void *arg);

/* Fires every due timer now (normally the loop does this). */
void sched_fire_due(struct sched *s);

#endif
