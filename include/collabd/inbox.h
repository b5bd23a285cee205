/*
 * inbox.h - applies one platform event exactly once.
 *
 * In a single transaction: record the event's dedupe key (a redelivery stops
 * here), append it to the timeline, run the command or card action, and write
 * the resulting notices to the outbox.  Only after COMMIT does the caller ack.
 */
#ifndef COLLABD_INBOX_H
#define COLLABD_INBOX_H

#include <jansson.h>

#include "collabd/command.h"
#include "collabd/event.h"

struct store;
struct sched;

enum inbox_rc {
	INBOX_APPLIED,    /* committed: ack */
	INBOX_DUPLICATE,  /* seen before, nothing changed: ack */
	INBOX_FAILED,     /* not committed (store error): do not ack */
};

struct inbox_stats {
	long long applied, duplicates, rejected, failed;
};

/* Applies ev.  For card actions *card_response receives the reply to show the
 * clicker (a new reference; an empty object when there is none). */
enum inbox_rc inbox_apply(struct store *st, const struct cmd_env *env, const struct event *ev,
			  json_t **card_response);

#endif
