/*
 * inbox.c - dedupe, route and commit events: one transaction per batch, a
 * savepoint per event (per run of plain chatter), acks only after the
 * (synced) commit.
 */
#include "collabd/inbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/config.h"
#include "collabd/log.h"
#include "collabd/store.h"
#include "collabd/store_dead.h"
#include "collabd/util.h"

/* What the sender of a poison event is told. */
#define DEAD_LETTER_REPLY "已记录，管理员会处理"

/* An offset into the batch's arena, or none. */
#define NO_TEXT SIZE_MAX

struct inbox_item {
	struct event ev;
	size_t raw_off, raw_len, topic_off, frame_id_off; /* in the batch's arena */
	const char *raw, *topic, *frame_id; /* the same, resolved when the batch is flushed */
	uint64_t ticket;
	int64_t received_us;
	enum inbox_rc rc;
	json_t *card_response;
};

/* An event committed and waiting for its sync: only what its answer needs
 * (under a flood there are hundreds). */
struct inbox_waiter {
	const char *platform; /* static */
	enum event_kind kind;
	enum inbox_rc rc;
	uint64_t ticket;
	int64_t received_us;
	json_t *card_response; /* owned */
	uint64_t seq;          /* its batch's commit (store_commit_nowait) */
};

/* Past this the arena is given back after a flush rather than kept. */
#define ARENA_KEEP_BYTES (256 * 1024)

struct inbox_batch {
	struct inbox_item *items;
	struct buf arena; /* the items' raw frames, topics and frame ids, one after another */
	size_t n, cap, max_events;
	struct inbox_waiter *waiting; /* committed, answered once durable: [wait_from, nwait) */
	size_t wait_from, nwait, capwait;
	size_t wait_commits; /* distinct commits among the waiting events */
	ms_t max_wait_ms, first_at; /* monotonic */
};

static const char *kind_name(enum event_kind k)
{
	switch (k) {
	case EVENT_MESSAGE: return "message";
	case EVENT_CARD_ACTION: return "card_action";
	case EVENT_OTHER: return "other";
	}
	return "other";
}

/* {"event_id":…,"type":…[,"message_id":…]} for the timeline, built as text
 * (once per event: a jansson tree and its serialisation cost more); NULL,
 * as json_pack() would give, when a field is missing or not UTF-8.  The
 * caller frees the result. */
static char *timeline_detail_new(const struct event *ev)
{
	if (!ev->event_id || !ev->event_type || !utf8_valid(ev->event_id, strlen(ev->event_id)) ||
	    !utf8_valid(ev->event_type, strlen(ev->event_type)) ||
	    (ev->message_id && !utf8_valid(ev->message_id, strlen(ev->message_id))))
		return NULL;
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "{\"event_id\":");
	buf_append_json_string(&b, ev->event_id);
	buf_append_str(&b, ",\"type\":");
	buf_append_json_string(&b, ev->event_type);
	if (ev->message_id) {
		buf_append_str(&b, ",\"message_id\":");
		buf_append_json_string(&b, ev->message_id);
	}
	buf_append_str(&b, "}");
	return buf_steal(&b);
}

/* testing.fail_events_containing: a deterministic poison event for the
 * dead-letter tests (a message whose text contains the marker fails inside
 * its transaction, after it has written to the inbox and the timeline). */
static int test_fault(const struct cmd_env *env, const struct event *ev)
{
	const char *marker = env && env->cfg ? env->cfg->test_fail_marker : NULL;
	return marker && *marker && ev->text && strstr(ev->text, marker);
}

enum inbox_rc inbox_apply_in_transaction(struct store *st, const struct cmd_env *env, const struct event *ev,
					 json_t **card_response, char *err, size_t errsz)
{
	ms_t now = clock_now_ms();
	*card_response = NULL;
	enum store_rc rc = store_inbox_record(st, ev->platform, ev->dedupe_key, ev->event_type, now);
	if (rc == STORE_DUP) {
		if (ev->kind == EVENT_CARD_ACTION)
			*card_response = json_object();
		return INBOX_DUPLICATE;
	}
	if (rc != STORE_OK)
		goto fail;
	if (ev->reply_url && ev->chat_id &&
	    store_webhook_put(st, ev->platform, ev->chat_id, ev->reply_url, ev->reply_url_expires) != STORE_OK)
		goto fail;

	/* The log of received events keeps what the bot acted on -- commands,
	 * mentions, clicks -- not the group's ordinary chatter, which would
	 * add a row per message for ever (retention.event_log_days prunes the
	 * rest).  The inbox key above is what dedupes, for every event. */
	if (ev->kind == EVENT_CARD_ACTION || (ev->kind == EVENT_MESSAGE && cmd_is_for_bot(ev))) {
		char *detail_text = timeline_detail_new(ev);
		rc = store_timeline_add(st, now, ev->user_id, kind_name(ev->kind), ev->chat_id, detail_text);
		free(detail_text);
		if (rc != STORE_OK)
			goto fail;
	}

	struct cmd_ctx ctx = { .store = st, .sched = env->sched, .env = env, .ev = ev, .status = env->status,
			       .now = now };
	enum cmd_rc crc = CMD_OK;
	unsigned long errors_before = store_error_count(st);
	if (ev->kind == EVENT_MESSAGE)
		crc = cmd_dispatch_message(&ctx);
	else if (ev->kind == EVENT_CARD_ACTION)
		crc = cmd_dispatch_action(&ctx);
	json_decref(ctx.outcome); /* consumed by cmd_finish_card() unless a handler failed early */
	json_decref(ctx.card_redraw);
	/* A store failure a handler read as "none" still fails the event. */
	if (crc == CMD_EINTERNAL || ctx.failed || store_error_count(st) != errors_before) {
		json_decref(ctx.card_response);
		goto fail;
	}
	if (test_fault(env, ev)) {
		json_decref(ctx.card_response);
		snprintf(err, errsz, "testing fault: the text contains testing.fail_events_containing");
		return INBOX_FAILED;
	}
	if (ev->kind == EVENT_CARD_ACTION)
		*card_response = ctx.card_response ? ctx.card_response : json_object();
	else
		json_decref(ctx.card_response);
	return INBOX_APPLIED;
fail:
	snprintf(err, errsz, "%s", store_errmsg(st));
	return INBOX_FAILED;
}

/* ---- the batch ---- */

struct inbox_batch *inbox_batch_new(size_t max_events, ms_t max_wait_ms)
{
	struct inbox_batch *b = xcalloc(1, sizeof *b);
	b->max_events = max_events ? max_events : 1;
	b->max_wait_ms = max_wait_ms;
	return b;
}

static void item_clear(struct inbox_item *it)
{
	event_free(&it->ev);
	json_decref(it->card_response);
	memset(it, 0, sizeof *it);
}

void inbox_batch_free(struct inbox_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		item_clear(&b->items[i]);
	for (size_t i = b->wait_from; i < b->nwait; i++)
		json_decref(b->waiting[i].card_response); /* committed, never acked: redelivered, a duplicate */
	free(b->items);
	buf_free(&b->arena);
	free(b->waiting);
	free(b);
}

size_t inbox_batch_size(const struct inbox_batch *b) { return b->n; }
size_t inbox_waiting(const struct inbox_batch *b) { return b->nwait - b->wait_from; }
size_t inbox_waiting_commits(const struct inbox_batch *b) { return b->wait_commits; }

int inbox_batch_has_room(const struct inbox_batch *b)
{
	return b->n > 0 && b->n < b->max_events && clock_mono_ms() - b->first_at < b->max_wait_ms;
}

/* Appends n bytes to the arena; returns where they start. */
static size_t arena_add(struct buf *arena, const void *p, size_t n)
{
	size_t off = arena->len;
	buf_append(arena, p, n);
	return off;
}

/* The items' pointers into the arena, which holds still while a flush runs. */
static void resolve_copies(struct inbox_batch *b)
{
	const char *base = b->arena.data ? (const char *)b->arena.data : "";
	for (size_t i = 0; i < b->n; i++) {
		struct inbox_item *it = &b->items[i];
		it->raw = base + it->raw_off;
		it->topic = it->topic_off == NO_TEXT ? NULL : base + it->topic_off;
		it->frame_id = it->frame_id_off == NO_TEXT ? NULL : base + it->frame_id_off;
	}
}

int inbox_batch_add(struct inbox_batch *b, struct event *ev, const struct inbox_source *src)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = xrealloc(b->items, b->cap * sizeof *b->items);
	}
	struct inbox_item *it = &b->items[b->n++];
	memset(it, 0, sizeof *it);
	it->ev = *ev;
	memset(ev, 0, sizeof *ev);
	/* One arena per batch instead of three allocations per event: the
	 * copies are only read if the event becomes a dead letter. */
	it->raw_off = arena_add(&b->arena, src->raw, src->raw_len);
	it->raw_len = src->raw_len;
	it->topic_off = src->topic ? arena_add(&b->arena, src->topic, strlen(src->topic) + 1) : NO_TEXT;
	it->frame_id_off = src->frame_id ? arena_add(&b->arena, src->frame_id, strlen(src->frame_id) + 1) : NO_TEXT;
	it->ticket = src->ticket;
	it->received_us = src->received_us;
	ms_t now = clock_mono_ms();
	if (b->n == 1)
		b->first_at = now;
	return b->n >= b->max_events || now - b->first_at >= b->max_wait_ms;
}

/* After its savepoint was rolled back: one more failed attempt, and past
 * the limit a dead letter, a short answer to the sender, and an inbox
 * record so that a redelivery is a duplicate.  Returns the event's outcome. */
static enum inbox_rc attempt_failed(struct store *st, const struct cmd_env *env, struct inbox_item *it,
				    const char *error)
{
	const struct event *ev = &it->ev;
	ms_t now = clock_now_ms();
	if (store_savepoint(st) != STORE_OK)
		return INBOX_FAILED;
	int attempts = store_attempt_failed(st, ev->platform, ev->dedupe_key, error, now);
	if (attempts < 0)
		goto fail;
	if (attempts < INBOX_MAX_ATTEMPTS) {
		log_error("msg=\"event not applied; left unacknowledged for redelivery\" platform=%s key=%s "
			  "attempt=%d error=\"%s\"", ev->platform, ev->dedupe_key, attempts, error);
		store_release(st);
		return INBOX_FAILED;
	}
	struct dead_letter d = {
		.platform = ev->platform, .dedupe_key = ev->dedupe_key, .event_type = ev->event_type,
		.chat_id = ev->chat_id, .user_id = ev->user_id, .topic = it->topic, .frame_id = it->frame_id,
		.payload = it->raw, .payload_len = it->raw_len, .error = error, .attempts = attempts,
	};
	if (store_dead_letter_add(st, &d, now) != STORE_OK ||
	    store_inbox_record(st, ev->platform, ev->dedupe_key, ev->event_type, now) == STORE_ERR)
		goto fail;
	struct cmd_ctx ctx = { .store = st, .sched = env->sched, .env = env, .ev = ev, .status = env->status,
			       .now = now };
	if (ev->kind == EVENT_CARD_ACTION)
		cmd_toast(&ctx, "info", DEAD_LETTER_REPLY);
	else if (ev->kind == EVENT_MESSAGE && ev->chat_id)
		cmd_reply_text(&ctx, DEAD_LETTER_REPLY);
	if (ctx.failed) {
		json_decref(ctx.card_response);
		goto fail;
	}
	it->card_response = ctx.card_response;
	if (store_release(st) != STORE_OK)
		goto fail;
	log_error("msg=\"event kept as a dead letter and acknowledged\" platform=%s key=%s attempts=%d error=\"%s\"",
		  ev->platform, ev->dedupe_key, attempts, error);
	return INBOX_DEAD_LETTER;
fail:
	log_error("msg=\"cannot count a failed attempt\" key=%s error=\"%s\"", ev->dedupe_key, store_errmsg(st));
	if (store_in_transaction(st))
		store_rollback_to(st);
	json_decref(it->card_response);
	it->card_response = NULL;
	return INBOX_FAILED;
}

/* Applies one event inside the batch transaction; returns 0, or -1 when the
 * transaction itself is gone (SQLite rolled it back) and nothing of the
 * batch will be committed. */
static int apply_item(struct store *st, const struct cmd_env *env, struct inbox_item *it)
{
	char err[512] = "";
	if (store_savepoint(st) != STORE_OK) {
		it->rc = INBOX_FAILED;
		return store_in_transaction(st) ? 0 : -1;
	}
	it->rc = inbox_apply_in_transaction(st, env, &it->ev, &it->card_response, err, sizeof err);
	if (it->rc == INBOX_DUPLICATE)
		log_info("msg=\"duplicate event ignored\" platform=%s key=%s", it->ev.platform, it->ev.dedupe_key);
	if (it->rc != INBOX_FAILED)
		return store_release(st) == STORE_OK ? 0 : -1;
	if (!store_in_transaction(st))
		return -1;
	if (store_rollback_to(st) != STORE_OK)
		return -1;
	it->rc = attempt_failed(st, env, it, err);
	return store_in_transaction(st) ? 0 : -1;
}

/* Ordinary group chatter: a message neither addressed to the bot nor a
 * command.  Applying it writes the inbox record and the chat's webhook and
 * nothing else -- no handler runs, nothing outside the database changes --
 * so running it again after a rollback is harmless. */
static int is_chatter(const struct inbox_item *it)
{
	return it->ev.kind == EVENT_MESSAGE && !cmd_is_for_bot(&it->ev);
}

/* Applies a run of n chatter events under one savepoint instead of one
 * each (a savepoint and its release were a sixth of an event's work in the
 * store in a flood, issue 14).  Returns 0 when all were applied or
 * duplicates; 1 when one failed: the run is rolled back, and the caller
 * applies its events again one by one, so that only the failing one is
 * counted as an attempt; -1 when the transaction itself is gone. */
static int apply_chatter_run(struct store *st, const struct cmd_env *env, struct inbox_item *items, size_t n)
{
	if (store_savepoint(st) != STORE_OK)
		return store_in_transaction(st) ? 1 : -1;
	for (size_t i = 0; i < n; i++) {
		struct inbox_item *it = &items[i];
		char err[512] = "";
		it->rc = inbox_apply_in_transaction(st, env, &it->ev, &it->card_response, err, sizeof err);
		if (it->rc == INBOX_FAILED) {
			if (!store_in_transaction(st) || store_rollback_to(st) != STORE_OK)
				return -1;
			return 1;
		}
	}
	if (store_release(st) != STORE_OK)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (items[i].rc == INBOX_DUPLICATE)
			log_info("msg=\"duplicate event ignored\" platform=%s key=%s", items[i].ev.platform,
				 items[i].ev.dedupe_key);
	return 0;
}

/* Applies the batch's events in order inside its transaction; returns 0, or
 * -1 when the transaction was lost. */
static int apply_all(struct store *st, const struct cmd_env *env, struct inbox_batch *b)
{
	size_t i = 0;
	while (i < b->n) {
		size_t run = 0;
		while (i + run < b->n && is_chatter(&b->items[i + run]))
			run++;
		if (run >= 2) {
			int rc = apply_chatter_run(st, env, &b->items[i], run);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				i += run;
				continue;
			}
		} else {
			run = 1;
		}
		/* A command, a click, a lone chatter message, or a run one of
		 * whose events failed: a savepoint each. */
		for (size_t end = i + run; i < end; i++)
			if (apply_item(st, env, &b->items[i]))
				return -1;
	}
	return 0;
}

static void answer_one(const struct inbox_waiter *w, inbox_answer_fn answer, void *arg)
{
	struct inbox_answer a = { .platform = w->platform, .kind = w->kind, .rc = w->rc, .ticket = w->ticket,
				  .received_us = w->received_us,
				  .card_response = w->rc == INBOX_FAILED ? NULL : w->card_response };
	answer(arg, &a);
}

/* Answers *it now, or (its commit not yet on disk) keeps what its answer
 * needs until inbox_answer_durable(); clears it either way. */
static void answer_or_wait(struct inbox_batch *b, struct store *st, uint64_t seq, struct inbox_item *it,
			   inbox_answer_fn answer, void *arg)
{
	struct inbox_waiter w = { .platform = it->ev.platform, .kind = it->ev.kind, .rc = it->rc,
				  .ticket = it->ticket, .received_us = it->received_us,
				  .card_response = it->card_response, .seq = seq };
	if (it->rc == INBOX_FAILED || store_is_durable(st, seq)) {
		answer_one(&w, answer, arg);
		item_clear(it);
		return;
	}
	it->card_response = NULL; /* moves to the waiter */
	item_clear(it);
	if (b->nwait == b->wait_from || b->waiting[b->nwait - 1].seq != seq)
		b->wait_commits++;
	if (b->nwait == b->capwait) {
		b->capwait = b->capwait ? b->capwait * 2 : 64;
		b->waiting = xrealloc(b->waiting, b->capwait * sizeof *b->waiting);
	}
	b->waiting[b->nwait++] = w;
}

void inbox_batch_flush(struct inbox_batch *b, struct store *st, const struct cmd_env *env,
		       struct inbox_stats *stats, inbox_answer_fn answer, void *arg)
{
	if (b->n == 0)
		return;
	resolve_copies(b);
	int committed = 0;
	uint64_t seq = 0;
	if (store_begin_nowait(st) != STORE_OK) {
		log_error("msg=\"cannot begin a transaction; events left unacknowledged\" events=%zu error=\"%s\"", b->n,
			  store_errmsg(st));
	} else {
		if (apply_all(st, env, b))
			log_error("msg=\"the batch's transaction was lost; events left unacknowledged\" events=%zu "
				  "error=\"%s\"", b->n, store_errmsg(st));
		else if (store_commit_nowait(st, &seq) == STORE_OK)
			committed = 1;
		else
			log_error("msg=\"cannot commit; events left unacknowledged\" events=%zu error=\"%s\"", b->n,
				  store_errmsg(st));
		if (!committed)
			store_rollback(st);
	}
	stats->batches++;
	if ((long long)b->n > stats->batch_events_max)
		stats->batch_events_max = (long long)b->n;
	for (size_t i = 0; i < b->n; i++) {
		struct inbox_item *it = &b->items[i];
		if (!committed)
			it->rc = INBOX_FAILED;
		if (it->ev.kind == EVENT_CARD_ACTION && it->rc != INBOX_FAILED && !it->card_response)
			it->card_response = json_object();
		switch (it->rc) {
		case INBOX_APPLIED: stats->applied++; break;
		case INBOX_DUPLICATE: stats->duplicates++; break;
		case INBOX_DEAD_LETTER: stats->dead_letters++; break;
		case INBOX_FAILED: stats->failed++; break;
		}
		answer_or_wait(b, st, seq, it, answer, arg);
	}
	b->n = 0;
	b->arena.len = 0;
	if (b->arena.cap > ARENA_KEEP_BYTES) /* a rare big batch: do not keep its memory */
		buf_free(&b->arena);
}

size_t inbox_answer_durable(struct inbox_batch *b, struct store *st, int wait, inbox_answer_fn answer, void *arg)
{
	if (wait && b->wait_from < b->nwait)
		store_sync(st);
	size_t answered = 0;
	while (b->wait_from < b->nwait && store_is_durable(st, b->waiting[b->wait_from].seq)) {
		struct inbox_waiter *w = &b->waiting[b->wait_from++];
		answer_one(w, answer, arg);
		json_decref(w->card_response);
		if (b->wait_from == b->nwait || b->waiting[b->wait_from].seq != w->seq)
			b->wait_commits--; /* that commit's last event */
		answered++;
	}
	if (b->wait_from == b->nwait) {
		b->wait_from = b->nwait = 0;
	} else if (b->wait_from > b->nwait / 2) {
		/* Under steady load the list may never empty: keep it compact. */
		memmove(b->waiting, b->waiting + b->wait_from, (b->nwait - b->wait_from) * sizeof *b->waiting);
		b->nwait -= b->wait_from;
		b->wait_from = 0;
	}
	return answered;
}
