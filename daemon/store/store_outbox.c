/*
 * store_outbox.c - the durable outbox (replies written with the event that caused
 * them, sent after commit in order per chat); the reply webhooks are in
 * store_webhook.c.
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/log.h"
#include "collabd/util.h"

/* How long an instance's claim on the outbox rows it sends lasts on the
 * shared store; renewed at each pass, so only a dead instance's lapses and
 * another instance takes its rows over. */
#define OUTBOX_LEASE_MS 15000

/* Leases run on real time, shared by the hosts (NTP), never on the test
 * clock: they are about whether a process is alive. */
static ms_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (ms_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum store_rc store_outbox_add(struct store *st, const char *platform, const char *chat_id,
			       const char *reply_to, const char *update_of, const char *kind,
			       const char *body_json, ms_t now, int64_t *id_out)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_ADD);
	store_bind_text(s, 7, update_of);
	store_bind_text(s, 1, platform);
	store_bind_text(s, 2, chat_id);
	store_bind_text(s, 3, reply_to);
	store_bind_text(s, 4, kind);
	store_bind_text(s, 5, body_json);
	stmt_bind_int64(s, 6, now);
	enum store_rc rc = store_step_done(st, s);
	if (rc == STORE_OK && id_out)
		*id_out = store_last_insert_id(st);
	return rc;
}

enum store_rc store_outbox_due(struct store *st, ms_t now, struct outbox_row *rows, size_t max, size_t *n)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_DUE);
	stmt_bind_int64(s, 1, now);
	stmt_bind_int64(s, 2, (int64_t)max);
	/* The claim (PostgreSQL's text; SQLite's has no ?3..?5 and ignores them). */
	ms_t wall = wall_ms();
	store_bind_text(s, 3, st->instance);
	stmt_bind_int64(s, 4, wall + OUTBOX_LEASE_MS);
	stmt_bind_int64(s, 5, wall + OUTBOX_LEASE_MS / 2);
	stmt_bind_int64(s, 6, wall);
	enum step_rc rc = STEP_ROW;
	*n = 0;
	while (*n < max && (rc = store_step(st, s)) == STEP_ROW) {
		struct outbox_row *r = &rows[(*n)++];
		r->id = stmt_col_int64(s, 0);
		r->platform = store_col_text(s, 1);
		r->chat_id = store_col_text(s, 2);
		r->reply_to = store_col_text(s, 3);
		r->kind = store_col_text(s, 4);
		r->body = store_col_text(s, 5);
		r->idem_key = store_col_text(s, 6);
		r->attempts = stmt_col_int(s, 7);
		r->next_attempt_at = stmt_col_int64(s, 8);
		r->update_of = store_col_text(s, 9);
	}
	if (store_rows_end(st, s, rc) == STORE_OK)
		return STORE_OK;
	for (size_t i = 0; i < *n; i++)
		outbox_row_free(&rows[i]);
	*n = 0;
	return STORE_ERR;
}

void outbox_row_free(struct outbox_row *r)
{
	free(r->platform);
	free(r->chat_id);
	free(r->reply_to);
	free(r->update_of);
	free(r->kind);
	free(r->body);
	free(r->idem_key);
	memset(r, 0, sizeof *r);
}

enum store_rc store_outbox_sent(struct store *st, int64_t id, const char *platform_message_id, ms_t now)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_SENT);
	stmt_bind_int64(s, 1, id);
	stmt_bind_int64(s, 2, now);
	store_bind_text(s, 3, platform_message_id);
	return store_step_done(st, s);
}

enum store_rc store_outbox_retry(struct store *st, int64_t id, ms_t next_attempt_at, const char *error)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_RETRY);
	stmt_bind_int64(s, 1, id);
	stmt_bind_int64(s, 2, next_attempt_at);
	store_bind_text(s, 3, error);
	return store_step_done(st, s);
}

enum store_rc store_outbox_failed(struct store *st, int64_t id, const char *error)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_FAILED);
	stmt_bind_int64(s, 1, id);
	store_bind_text(s, 2, error);
	return store_step_done(st, s);
}

ms_t store_outbox_next_due(struct store *st)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_NEXT);
	store_bind_text(s, 1, st->instance); /* PostgreSQL's text only */
	stmt_bind_int64(s, 2, wall_ms());
	stmt_bind_int64(s, 3, clock_now_ms());
	int64_t v = -1;
	if (store_step(st, s) == STEP_ROW && stmt_col_type(s, 0) != COL_NULL)
		v = stmt_col_int64(s, 0);
	stmt_reset(s);
	return v;
}

int64_t store_outbox_pending(struct store *st) { return store_scalar(st, S_OUTBOX_PENDING, 0); }

enum store_rc store_outbox_set_subject(struct store *st, int64_t id, const char *subject)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_SUBJECT_SET);
	stmt_bind_int64(s, 1, id);
	store_bind_text(s, 2, subject);
	return store_step_done(st, s);
}

char *store_outbox_subject_message(struct store *st, const char *subject)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_SUBJECT_MSG);
	store_bind_text(s, 1, subject);
	char *id = store_step(st, s) == STEP_ROW ? store_col_text(s, 0) : NULL;
	stmt_reset(s);
	return id;
}

char *store_outbox_subject_body(struct store *st, const char *subject)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_SUBJECT_BODY);
	store_bind_text(s, 1, subject);
	char *body = store_step(st, s) == STEP_ROW ? store_col_text(s, 0) : NULL;
	stmt_reset(s);
	return body;
}

int store_rate_try(struct store *st, const char *key, double per_second, double burst, ms_t now_ms)
{
	/* One statement, so two instances drawing at once serialize on the
	 * bucket's row: refill by the time since last_ms, take one if there is. */
	json_t *row;
	enum store_rc rc = store_row(
		st, &row,
		"INSERT INTO rate_buckets AS b (key, tokens, last_ms) VALUES (?1, ?3 - 1, ?4) "
		"ON CONFLICT (key) DO UPDATE SET tokens = LEAST(?3, b.tokens + (?4 - b.last_ms) * ?2) - 1, "
		"last_ms = GREATEST(b.last_ms, ?4) WHERE LEAST(?3, b.tokens + (?4 - b.last_ms) * ?2) >= 1 "
		"RETURNING tokens",
		"[s,f,f,I]", key, per_second / 1000.0, burst, (json_int_t)now_ms);
	json_decref(row);
	return rc == STORE_OK ? 1 : rc == STORE_NOTFOUND ? 0 : -1;
}

ms_t store_rate_take(struct store *st, const char *key, double per_second, double burst, ms_t now_ms)
{
	int got = store_rate_try(st, key, per_second, burst, now_ms);
	if (got)
		return got > 0 ? 0 : -1;
	/* None there: how long until one is. */
	json_t *row;
	double per_ms = per_second / 1000.0;
	if (store_row(st, &row, "SELECT tokens, last_ms FROM rate_buckets WHERE key = ?1", "[s]", key) != STORE_OK)
		return -1;
	double tokens = json_number_value(json_object_get(row, "tokens"));
	ms_t last = (ms_t)json_integer_value(json_object_get(row, "last_ms"));
	json_decref(row);
	double have = tokens + (double)(now_ms - last) * per_ms;
	ms_t wait = per_ms > 0 ? (ms_t)((1.0 - have) / per_ms) + 1 : 1000;
	return wait > 0 ? wait : 1;
}

enum store_rc store_rate_give_back(struct store *st, const char *key, double burst)
{
	return store_run(st, NULL, "UPDATE rate_buckets SET tokens = LEAST(?2, tokens + 1) WHERE key = ?1", "[s,f]",
			 key, burst);
}

enum store_rc store_outbox_release(struct store *st)
{
	return store_run(st, NULL,
			 "UPDATE outbox SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = ?1 AND state = 'pending'",
			 "[s]", st->instance);
}
