/*
 * outbox.h - drains the durable outbox: notices written by transactions are
 * sent after commit, in order per chat, retried with backoff, kept across
 * restarts.
 *
 * A platform adapter registers a sender; the outbox hands it one row at a
 * time and the sender reports back with outbox_delivered().  Rows stay
 * 'pending' in the database until a send is confirmed, so a crash mid-send
 * means a resend -- with the same idempotency key, which the platform uses to
 * drop the duplicate.
 */
#ifndef COLLABD_OUTBOX_H
#define COLLABD_OUTBOX_H

#include <stdint.h>

#include "collabd/config.h"
#include "collabd/store.h"

struct lws_context;
struct outbox;

enum outbox_outcome { OUTBOX_SENT, OUTBOX_RETRY, OUTBOX_FAILED };

struct outbox_result {
	enum outbox_outcome outcome;
	long retry_after_ms;   /* OUTBOX_RETRY: wait this long; -1 = exponential backoff */
	char error[256];       /* why it failed or must be retried (no secrets) */
	char message_id[128];  /* OUTBOX_SENT: the platform's id of the message */
};

struct outbox_sender {
	const char *platform;
	/* Starts sending row (borrowed for the call only).  Must eventually call
	 * outbox_delivered() for row->id exactly once, never from inside this call. */
	void (*deliver)(void *impl, const struct outbox_row *row, struct outbox *ob);
	void *impl;
	double rate_per_app;   /* sends per second for the whole app */
	double rate_per_chat;  /* sends per second to one chat */
};

struct outbox_stats {
	long long sent, retried, failed, throttled;
};

struct outbox *outbox_new(struct store *st, struct lws_context *ctx, const struct outbox_config *cfg);
void outbox_free(struct outbox *ob);
/* Registers a sender with its rate limits; sender is borrowed and must
 * outlive the outbox. */
void outbox_add_sender(struct outbox *ob, const struct outbox_sender *sender);
/* Asks for a drain soon (after the current callback returns). */
void outbox_kick(struct outbox *ob);
void outbox_delivered(struct outbox *ob, int64_t id, const struct outbox_result *res);
/* The same, assembling the result: message_id may be NULL; fmt describes the
 * error (or "ok"). */
void outbox_report(struct outbox *ob, int64_t id, enum outbox_outcome outcome, long retry_after_ms,
		   const char *message_id, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int outbox_inflight(const struct outbox *ob);
const struct outbox_stats *outbox_stats(const struct outbox *ob);

/* Told of every send attempt that did not succeed, for /metrics: error is
 * borrowed for the call; final is 1 when the row will not be retried. */
typedef void (*outbox_error_fn)(void *arg, const char *error, int final);
void outbox_on_error(struct outbox *ob, outbox_error_fn fn, void *arg);

#endif
