/*
 * store_dead.c - failed attempts and dead letters (schema step 14).
 */
#include "collabd/store_dead.h"
#include "store_internal.h"

#include <string.h>

#include "collabd/log.h"
#include "collabd/util.h"

int store_attempt_failed(struct store *st, const char *platform, const char *dedupe_key, const char *error,
			 ms_t now)
{
	if (store_run(st, NULL,
		      store_dialect_sql(st,
		      "INSERT INTO inbox_attempts (platform, dedupe_key, attempts, last_error, last_at) "
		      "VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (platform, dedupe_key) DO UPDATE SET "
		      "attempts = attempts + 1, last_error = excluded.last_error, last_at = excluded.last_at",
		      /* PostgreSQL reads a bare column in DO UPDATE as ambiguous. */
		      "INSERT INTO inbox_attempts (platform, dedupe_key, attempts, last_error, last_at) "
		      "VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (platform, dedupe_key) DO UPDATE SET "
		      "attempts = inbox_attempts.attempts + 1, last_error = excluded.last_error, last_at = excluded.last_at"),
		      "[s,s,s?,I]", platform, dedupe_key, error, (json_int_t)now) != STORE_OK)
		return -1;
	return (int)store_int(st, -1, "SELECT attempts FROM inbox_attempts WHERE platform = ?1 AND dedupe_key = ?2",
			      "[s,s]", platform, dedupe_key);
}

int store_attempts_prune(struct store *st, ms_t cutoff)
{
	int changes = 0;
	if (store_run(st, &changes, "DELETE FROM inbox_attempts WHERE last_at < ?1", "[I]", (json_int_t)cutoff) !=
	    STORE_OK)
		return -1;
	return changes;
}

enum store_rc store_dead_letter_add(struct store *st, const struct dead_letter *d, ms_t now)
{
	struct stmt *s = store_sql(st,
		"INSERT INTO dead_letters (platform, dedupe_key, event_type, chat_id, user_id, topic, frame_id, "
		"payload, error, attempts, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		"ON CONFLICT (platform, dedupe_key) DO UPDATE SET state = 'dead', error = excluded.error, "
		"attempts = dead_letters.attempts + excluded.attempts, payload = excluded.payload");
	if (!s)
		return STORE_ERR;
	const char *text[] = { d->platform, d->dedupe_key, d->event_type, d->chat_id, d->user_id, d->topic,
			       d->frame_id };
	for (int i = 0; i < 7; i++)
		store_bind_text(s, i + 1, text[i]);
	s->ops->bind_blob(s->h, 8, d->payload_len ? d->payload : "", d->payload_len);
	store_bind_text(s, 9, d->error ? d->error : "");
	stmt_bind_int64(s, 10, d->attempts);
	stmt_bind_int64(s, 11, now);
	if (store_step_done(st, s) != STORE_OK) {
		log_error("msg=\"cannot keep a dead letter\" error=\"%s\"", store_errmsg(st));
		return STORE_ERR;
	}
	return store_run(st, NULL, "DELETE FROM inbox_attempts WHERE platform = ?1 AND dedupe_key = ?2", "[s,s]",
			 d->platform, d->dedupe_key);
}

long long store_dead_letter_count(struct store *st, const char *state)
{
	if (!state)
		return store_int(st, -1, "SELECT COUNT(*) FROM dead_letters", NULL);
	return store_int(st, -1, "SELECT COUNT(*) FROM dead_letters WHERE state = ?1", "[s]", state);
}

json_t *store_dead_letter_list(struct store *st, int limit)
{
	return store_rows(st,
			  "SELECT id, platform, dedupe_key, event_type, chat_id, user_id, error, attempts, state, "
			  "created_at, replayed_at FROM dead_letters ORDER BY id DESC LIMIT ?1",
			  "[i]", limit);
}

enum store_rc store_dead_letter_get(struct store *st, int64_t id, json_t **row, struct buf *payload)
{
	*row = NULL;
	enum store_rc rc = store_row(st, row,
				     "SELECT id, platform, dedupe_key, event_type, chat_id, user_id, topic, frame_id, "
				     "error, attempts, state FROM dead_letters WHERE id = ?1",
				     "[I]", (json_int_t)id);
	if (rc != STORE_OK)
		return rc;
	struct stmt *s = store_sql(st, "SELECT payload FROM dead_letters WHERE id = ?1");
	if (!s) {
		json_decref(*row);
		*row = NULL;
		return STORE_ERR;
	}
	stmt_bind_int64(s, 1, id);
	buf_init(payload);
	if (store_step(st, s) == STEP_ROW) {
		size_t len;
		const void *bytes = s->ops->col_blob(s->h, 0, &len);
		buf_append(payload, bytes ? bytes : "", len);
	}
	stmt_reset(s);
	return STORE_OK;
}

json_t *store_dead_letter_retry_ids(struct store *st)
{
	json_t *rows = store_rows(st, "SELECT id FROM dead_letters WHERE state = 'retry' ORDER BY id", NULL);
	json_t *ids = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
		json_array_append(ids, json_object_get(r, "id"));
	json_decref(rows);
	return ids;
}

enum store_rc store_dead_letter_move(struct store *st, int64_t id, const char *from_state, const char *to_state,
				     const char *error, ms_t now)
{
	int changes = 0;
	enum store_rc rc = store_run(st, &changes,
				     "UPDATE dead_letters SET state = ?3, error = IFNULL(?4, error), "
				     "replayed_at = CASE WHEN ?3 = 'replayed' THEN ?5 ELSE replayed_at END, "
				     "attempts = attempts + (CASE WHEN ?4 IS NULL THEN 0 ELSE 1 END) "
				     "WHERE id = ?1 AND state = ?2",
				     "[I,s,s,s?,I]", (json_int_t)id, from_state, to_state, error, (json_int_t)now);
	if (rc == STORE_OK && changes == 0)
		return STORE_NOTFOUND;
	return rc;
}

enum store_rc store_inbox_forget(struct store *st, const char *platform, const char *dedupe_key)
{
	return store_run(st, NULL, "DELETE FROM inbox WHERE platform = ?1 AND dedupe_key = ?2", "[s,s]", platform,
			 dedupe_key);
}
