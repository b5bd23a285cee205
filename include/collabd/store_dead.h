/*
 * store_dead.h - poison events: failed attempts counted durably, and the
 * dead-letter table where an event goes once it has failed too often.
 */
#ifndef COLLABD_STORE_DEAD_H
#define COLLABD_STORE_DEAD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "collabd/clock.h"
#include "collabd/store.h"

/* Counts one more failed attempt at an event (inside the caller's
 * transaction, after its own changes were rolled back).  Returns the count
 * so far, or -1 on a store error. */
int store_attempt_failed(struct store *st, const char *platform, const char *dedupe_key, const char *error,
			 ms_t now);

/* Forgets failed-attempt counts not touched since cutoff (events that later
 * applied, or that the platform stopped sending); returns how many, -1 on error. */
int store_attempts_prune(struct store *st, ms_t cutoff);

/* A dead letter as it is kept; every pointer borrowed from the caller. */
struct dead_letter {
	const char *platform, *dedupe_key, *event_type, *chat_id, *user_id;
	const char *topic;     /* DingTalk's callback topic, NULL for Feishu */
	const char *frame_id;  /* DingTalk's frame messageId, NULL for Feishu */
	const void *payload;   /* the event as received */
	size_t payload_len;
	const char *error;
	int attempts;
};

/* Keeps d (inside the caller's transaction) and forgets its attempt count. */
enum store_rc store_dead_letter_add(struct store *st, const struct dead_letter *d, ms_t now);

/* How many dead letters are in state ("dead", "retry", "replayed"), or in
 * any state when state is NULL; -1 on error. */
long long store_dead_letter_count(struct store *st, const char *state);

/* Up to limit dead letters, newest first, as objects {id, platform,
 * dedupe_key, event_type, chat_id, user_id, error, attempts, state,
 * created_at, replayed_at} (no payload); a new array, NULL on error. */
json_t *store_dead_letter_list(struct store *st, int limit);

/* One dead letter, payload included, for a replay.  On STORE_OK *row is a
 * new object with the listed fields plus topic, frame_id and payload (a
 * buf the caller frees with buf_free). */
struct buf;
enum store_rc store_dead_letter_get(struct store *st, int64_t id, json_t **row, struct buf *payload);

/* The ids in state "retry", oldest first (a new array of integers). */
json_t *store_dead_letter_retry_ids(struct store *st);

/* Moves dead letter id from from_state to to_state (error replaced when not
 * NULL; replayed_at set when to_state is "replayed").  STORE_NOTFOUND when
 * it is not in from_state. */
enum store_rc store_dead_letter_move(struct store *st, int64_t id, const char *from_state, const char *to_state,
				     const char *error, ms_t now);

/* Forgets that an event was applied, so a replay can apply it again. */
enum store_rc store_inbox_forget(struct store *st, const char *platform, const char *dedupe_key);

#endif
