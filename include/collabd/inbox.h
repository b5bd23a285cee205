/*
 * inbox.h - applies platform events exactly once, in batches, durably.
 *
 * Group commit: the events one turn of the loop has read (both platforms)
 * are applied in one transaction, each inside its own savepoint so that one
 * failing event rolls back alone.  Per event: record its dedupe key (a
 * redelivery stops there), append it to the timeline, run the command or
 * card action, write the resulting notices to the outbox.  Then one COMMIT,
 * synced to disk (synchronous=FULL), and only after it the answers: the
 * caller acks what was applied.  One sync pays for the whole batch.
 *
 * Poison events: an event that fails to apply is counted (durably, with the
 * batch); after INBOX_MAX_ATTEMPTS failures it is kept as a dead letter, its
 * sender told "已记录，管理员会处理", and acked.
 */
#ifndef COLLABD_INBOX_H
#define COLLABD_INBOX_H

#include <jansson.h>
#include <stdint.h>

#include "collabd/command.h"
#include "collabd/event.h"

struct store;
struct sched;

#define INBOX_MAX_ATTEMPTS 3

enum inbox_rc {
	INBOX_APPLIED,     /* committed: ack */
	INBOX_DUPLICATE,   /* seen before, nothing changed: ack */
	INBOX_DEAD_LETTER, /* failed too often: kept as a dead letter (committed): ack */
	INBOX_FAILED,      /* not committed: do not ack, the platform redelivers */
};

struct inbox_stats {
	long long applied, duplicates, rejected, failed, dead_letters;
	long long batches, batch_events_max;  /* commits of the group commit, its largest batch */
};

/* Where an event came from, kept with a dead letter so it can be replayed;
 * pointers borrowed for the call. */
struct inbox_source {
	const void *raw;        /* the payload as received */
	size_t raw_len;
	const char *topic;      /* DingTalk's callback topic, or NULL */
	const char *frame_id;   /* DingTalk's frame messageId, or NULL */
	uint64_t ticket;        /* the adapter's handle to answer the event */
	int64_t received_us;    /* when it reached the daemon (for latency) */
};

/* One event's outcome, handed to the answer callback after the commit. */
struct inbox_answer {
	const char *platform;          /* "feishu" or "dingtalk" (static) */
	enum event_kind kind;
	enum inbox_rc rc;
	uint64_t ticket;
	int64_t received_us;
	json_t *card_response;         /* borrowed: card actions' reply to the clicker (never NULL for them) */
};
typedef void (*inbox_answer_fn)(void *arg, const struct inbox_answer *a);

struct inbox_batch;

/* A batch that is due when it holds max_events events or its first event
 * has waited max_wait_ms (both bound the ack latency under load). */
struct inbox_batch *inbox_batch_new(size_t max_events, ms_t max_wait_ms);
/* Frees the batch; events still in it are dropped unanswered (the platform
 * redelivers them). */
void inbox_batch_free(struct inbox_batch *b);

/* Adds *ev, whose contents move into the batch (*ev is left empty), with
 * where it came from (copied).  Returns 1 when the batch is now due. */
int inbox_batch_add(struct inbox_batch *b, struct event *ev, const struct inbox_source *src);
size_t inbox_batch_size(const struct inbox_batch *b);
/* Whether the batch holds events and may take more before it is due
 * (fewer than max_events, the first younger than max_wait_ms). */
int inbox_batch_has_room(const struct inbox_batch *b);

/* Applies every event of the batch in one transaction, commits once, and
 * empties the batch.  Events whose commit is already on disk (PostgreSQL)
 * and events that failed are answered at once, in the order they were
 * added; the others wait, kept by the batch, until the store's sync thread
 * has synced the commit: inbox_answer_durable() answers them then.  Must
 * not be called inside a transaction. */
void inbox_batch_flush(struct inbox_batch *b, struct store *st, const struct cmd_env *env,
		       struct inbox_stats *stats, inbox_answer_fn answer, void *arg);
/* Answers, in order, the waiting events whose commit is now durable; with
 * wait set, first syncs the store (at shutdown: answer everything).
 * Returns how many were answered. */
size_t inbox_answer_durable(struct inbox_batch *b, struct store *st, int wait, inbox_answer_fn answer, void *arg);
/* Events committed and waiting for their sync, and how many commits they
 * belong to. */
size_t inbox_waiting(const struct inbox_batch *b);
size_t inbox_waiting_commits(const struct inbox_batch *b);

/* Applies one event inside the caller's transaction (the dead-letter
 * replay uses it; the caller commits or rolls back).  INBOX_FAILED leaves
 * the reason in err and the transaction to be rolled back.  For card actions
 * *card_response gets the reply (new reference), else NULL. */
enum inbox_rc inbox_apply_in_transaction(struct store *st, const struct cmd_env *env, const struct event *ev,
					 json_t **card_response, char *err, size_t errsz);

#endif
