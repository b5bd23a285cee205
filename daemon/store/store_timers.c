/*
 * store_timers.c - deadlines and their timers (reminder, due, escalation steps).
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
#include "collabd/util.h"

enum store_rc store_deadline_put(struct store *st, const struct deadline_row *d)
{
	struct stmt *s = store_stmt(st, S_DEADLINE_PUT);
	store_bind_text(s, 1, d->key);
	store_bind_text(s, 2, d->policy);
	store_bind_text(s, 3, d->platform);
	store_bind_text(s, 4, d->chat_id);
	store_bind_text(s, 5, d->subject);
	store_bind_text(s, 6, d->people);
	stmt_bind_int64(s, 7, d->started_at);
	stmt_bind_int64(s, 8, d->due_at);
	return store_step_done(st, s);
}

enum store_rc store_deadline_get(struct store *st, const char *key, struct deadline_row *out)
{
	struct stmt *s = store_stmt(st, S_DEADLINE_GET);
	store_bind_text(s, 1, key);
	memset(out, 0, sizeof *out);
	enum step_rc rc = store_step(st, s);
	if (rc == STEP_ROW) {
		out->key = store_col_text(s, 0);
		out->policy = store_col_text(s, 1);
		out->platform = store_col_text(s, 2);
		out->chat_id = store_col_text(s, 3);
		out->subject = store_col_text(s, 4);
		out->people = store_col_text(s, 5);
		out->started_at = stmt_col_int64(s, 6);
		out->due_at = stmt_col_int64(s, 7);
		out->state = store_col_text(s, 8);
	}
	stmt_reset(s);
	return rc == STEP_ROW ? STORE_OK : rc == STEP_DONE ? STORE_NOTFOUND : STORE_ERR;
}

void deadline_row_free(struct deadline_row *d)
{
	free(d->key);
	free(d->policy);
	free(d->platform);
	free(d->chat_id);
	free(d->subject);
	free(d->people);
	free(d->state);
	memset(d, 0, sizeof *d);
}

enum store_rc store_deadline_close(struct store *st, const char *key, const char *state, ms_t now)
{
	struct stmt *s = store_stmt(st, S_DEADLINE_CLOSE);
	store_bind_text(s, 1, key);
	store_bind_text(s, 2, state);
	stmt_bind_int64(s, 3, now);
	enum store_rc rc = store_step_done(st, s);
	if (rc == STORE_OK && store_changes(st) == 0)
		return STORE_NOTFOUND;
	return rc;
}

enum store_rc store_timer_add(struct store *st, const char *deadline_key, const char *chat_id, int step,
			     ms_t fire_at)
{
	struct stmt *s = store_stmt(st, S_TIMER_ADD);
	store_bind_text(s, 1, deadline_key);
	store_bind_text(s, 4, chat_id);
	stmt_bind_int64(s, 2, step);
	stmt_bind_int64(s, 3, fire_at);
	return store_step_done(st, s);
}

int store_timers_cancel(struct store *st, const char *deadline_key)
{
	struct stmt *s = store_stmt(st, S_TIMER_CANCEL);
	store_bind_text(s, 1, deadline_key);
	return store_step_done(st, s) == STORE_OK ? store_changes(st) : -1;
}

int store_timers_reschedule(struct store *st, const char *deadline_key, ms_t fire_at)
{
	struct stmt *s = store_stmt(st, S_TIMER_RESCHEDULE);
	store_bind_text(s, 1, deadline_key);
	stmt_bind_int64(s, 2, fire_at);
	return store_step_done(st, s) == STORE_OK ? store_changes(st) : -1;
}

enum store_rc store_timer_hold(struct store *st, int64_t id, ms_t fire_at)
{
	struct stmt *s = store_stmt(st, S_TIMER_HOLD);
	stmt_bind_int64(s, 1, id);
	stmt_bind_int64(s, 2, fire_at);
	return store_step_done(st, s);
}

ms_t store_timer_next(struct store *st) { return store_scalar(st, S_TIMER_NEXT, -1); }

int64_t store_timers_pending(struct store *st) { return store_scalar(st, S_TIMER_PENDING, 0); }

enum store_rc store_timers_due(struct store *st, ms_t now, struct timer_row *rows, size_t max, size_t *n)
{
	struct stmt *s = store_stmt(st, S_TIMER_DUE);
	stmt_bind_int64(s, 1, now);
	stmt_bind_int64(s, 2, (int64_t)max);
	enum step_rc rc = STEP_ROW;
	*n = 0;
	while (*n < max && (rc = store_step(st, s)) == STEP_ROW) {
		struct timer_row *r = &rows[(*n)++];
		r->id = stmt_col_int64(s, 0);
		r->deadline_key = store_col_text(s, 1);
		r->step = stmt_col_int(s, 2);
		r->fire_at = stmt_col_int64(s, 3);
		r->chat_id = store_col_text(s, 4);
		r->late = stmt_col_int(s, 5);
	}
	if (store_rows_end(st, s, rc) == STORE_OK)
		return STORE_OK;
	for (size_t i = 0; i < *n; i++)
		timer_row_free(&rows[i]);
	*n = 0;
	return STORE_ERR;
}

void timer_row_free(struct timer_row *r)
{
	free(r->deadline_key);
	free(r->chat_id);
	memset(r, 0, sizeof *r);
}

enum store_rc store_timer_fired(struct store *st, int64_t id, ms_t now, int late)
{
	struct stmt *s = store_stmt(st, S_TIMER_FIRED);
	stmt_bind_int64(s, 1, id);
	stmt_bind_int64(s, 2, now);
	stmt_bind_int64(s, 3, late);
	return store_step_done(st, s);
}
