/*
 * outbox.c - the drain loop of the durable outbox.
 */
#include "collabd/outbox.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/clock.h"
#include "collabd/log.h"
#include "collabd/ratelimit.h"
#include "collabd/util.h"

#define OUTBOX_MAX_SENDERS 4
#define OUTBOX_BATCH 64

struct inflight {
	int64_t id;
	int attempts; /* attempts made before this one */
};

struct outbox {
	struct store *st;
	struct lws_context *ctx;
	const struct outbox_config *cfg;
	lws_sorted_usec_list_t kick_timer;  /* "drain soon" */
	lws_sorted_usec_list_t due_timer;   /* the next pending row's retry time */
	/* Each platform's sender with its own limits: one bucket for the app,
	 * one per chat. */
	struct sender_slot {
		const struct outbox_sender *sender;
		struct token_bucket app_bucket;
		struct bucket_map *chat_buckets;
	} senders[OUTBOX_MAX_SENDERS];
	int nsenders;
	struct inflight *inflight;
	int ninflight;
	struct outbox_stats stats;
	outbox_error_fn on_error; /* may be NULL */
	void *on_error_arg;
};

static void count_error(struct outbox *ob, const char *error, int final)
{
	if (ob->on_error)
		ob->on_error(ob->on_error_arg, error, final);
}

void outbox_on_error(struct outbox *ob, outbox_error_fn fn, void *arg)
{
	ob->on_error = fn;
	ob->on_error_arg = arg;
}

static void drain(struct outbox *ob);

static void kick_fired(lws_sorted_usec_list_t *sul)
{
	drain(lws_container_of(sul, struct outbox, kick_timer));
}

static void due_fired(lws_sorted_usec_list_t *sul)
{
	drain(lws_container_of(sul, struct outbox, due_timer));
}

static void clock_jumped(void *arg) { outbox_kick(arg); }

struct outbox *outbox_new(struct store *st, struct lws_context *ctx, const struct outbox_config *cfg)
{
	struct outbox *ob = xcalloc(1, sizeof *ob);
	ob->st = st;
	ob->ctx = ctx;
	ob->cfg = cfg;
	ob->inflight = xcalloc((size_t)cfg->max_inflight, sizeof *ob->inflight);

	clock_on_jump(clock_jumped, ob);
	return ob;
}

void outbox_free(struct outbox *ob)
{
	if (!ob)
		return;
	clock_off_jump(clock_jumped, ob);
	lws_sul_cancel(&ob->kick_timer);
	lws_sul_cancel(&ob->due_timer);
	free(ob->inflight);
	for (int i = 0; i < ob->nsenders; i++)
		bucket_map_free(ob->senders[i].chat_buckets);
	free(ob);
}

void outbox_add_sender(struct outbox *ob, const struct outbox_sender *sender)
{
	if (ob->nsenders >= OUTBOX_MAX_SENDERS)
		return;
	struct sender_slot *slot = &ob->senders[ob->nsenders++];
	slot->sender = sender;
	/* Sends are paced evenly (a burst of one): the platforms count per
	 * second (or minute), and a paced stream never exceeds a window. */
	bucket_init(&slot->app_bucket, sender->rate_per_app, 1, clock_mono_ms());
	slot->chat_buckets = bucket_map_new(sender->rate_per_chat, 1);
}

void outbox_kick(struct outbox *ob)
{
	lws_sul_schedule(ob->ctx, 0, &ob->kick_timer, kick_fired, 1);
}

int outbox_inflight(const struct outbox *ob) { return ob->ninflight; }
const struct outbox_stats *outbox_stats(const struct outbox *ob) { return &ob->stats; }

static struct sender_slot *sender_for(struct outbox *ob, const char *platform)
{
	for (int i = 0; i < ob->nsenders; i++)
		if (!strcmp(ob->senders[i].sender->platform, platform))
			return &ob->senders[i];
	return NULL;
}

static int is_inflight(struct outbox *ob, int64_t id)
{
	for (int i = 0; i < ob->ninflight; i++)
		if (ob->inflight[i].id == id)
			return 1;
	return 0;
}

/*
 * Arms the timer.  Rows throttled by the rate limiter need it in throttle_ms;
 * otherwise only retries in the future need it -- rows due now but not sent
 * are waiting for a send in flight, whose completion kicks the drain.
 */
static void arm_due_timer(struct outbox *ob, ms_t throttle_ms)
{
	ms_t next = store_outbox_next_due(ob->st);
	if (next < 0) {
		lws_sul_cancel(&ob->due_timer);
		return;
	}
	ms_t wait = next - clock_now_ms();
	if (throttle_ms > 0)
		wait = throttle_ms;
	else if (wait <= 0)
		/* Due but not sent by this drain: in flight (its delivery kicks the
		 * outbox again), or -- on a shared store -- locked this instant by
		 * another instance's claim, which nothing here will announce: look
		 * again in a second rather than a minute. */
		wait = ob->ninflight ? 60000 : 1000;
	/* Bound the wait so a frozen test clock or a jumped system clock is
	 * looked at again before long. */
	if (wait > 60000)
		wait = 60000;
	lws_sul_schedule(ob->ctx, 0, &ob->due_timer, due_fired, (lws_usec_t)wait * LWS_US_PER_MS);
}

/*
 * An update addressed by subject ("subject:request:ID") goes to the message
 * first sent about that subject.  Rows of a chat go out in order, so that
 * message has been sent by now -- unless it failed for good, and then this
 * row becomes the message about the subject.
 */
static void resolve_update(struct outbox *ob, struct outbox_row *r);

/*
 * A chat addressed by subject ("subject:chat:ID") is the group created for
 * that subject by an earlier create_chat row in the same (alias) chat -- sent
 * by now, since a chat's rows go in order.  If creating it failed, the
 * create_chat row's "fallback" chat is used instead.
 */
static void resolve_chat(struct outbox *ob, struct outbox_row *r)
{
	if (strncmp(r->chat_id, "subject:", 8) || !strcmp(r->kind, "create_chat"))
		return;
	const char *subject = r->chat_id + 8;
	char *chat = store_outbox_subject_message(ob->st, subject);
	if (!chat) {
		char *body = store_outbox_subject_body(ob->st, subject);
		json_t *b = body ? json_loads(body, 0, NULL) : NULL;
		const char *fallback = json_string_value(json_object_get(b, "fallback"));
		chat = fallback ? xstrdup(fallback) : NULL;
		json_decref(b);
		free(body);
	}
	if (chat) {
		free(r->chat_id);
		r->chat_id = chat;
	}
}

static void resolve_update(struct outbox *ob, struct outbox_row *r)
{
	if (!r->update_of || strncmp(r->update_of, "subject:", 8))
		return;
	char *mid = store_outbox_subject_message(ob->st, r->update_of + 8);
	if (!mid)
		store_outbox_set_subject(ob->st, r->id, r->update_of + 8);
	free(r->update_of);
	r->update_of = mid;
}

static int local_tokens(struct sender_slot *s, struct outbox_row *r, ms_t mono, ms_t *app_wait, ms_t *chat_wait);
static int shared_tokens(struct outbox *ob, struct sender_slot *s, struct outbox_row *r, ms_t *app_wait,
			 ms_t *chat_wait);

/* Sends one row if the rate limits allow; otherwise notes how long to wait.
 * Queue, never drop: a throttled row simply goes on a later drain. */
static void dispatch(struct outbox *ob, struct outbox_row *r, ms_t mono, ms_t *app_wait, ms_t *chat_wait)
{
	struct sender_slot *s = sender_for(ob, r->platform);
	if (!s) {
		log_error("msg=\"outbox row for a platform that is not enabled\" id=%lld platform=%s",
			  (long long)r->id, r->platform);
		store_outbox_failed(ob->st, r->id, "platform not enabled");
		ob->stats.failed++;
		count_error(ob, "platform not enabled", 1);
		return;
	}
	if (store_is_shared(ob->st)) {
		if (!shared_tokens(ob, s, r, app_wait, chat_wait))
			return;
	} else if (!local_tokens(s, r, mono, app_wait, chat_wait)) {
		ob->stats.throttled++;
		return;
	}
	resolve_chat(ob, r);
	resolve_update(ob, r);
	ob->inflight[ob->ninflight].id = r->id;
	ob->inflight[ob->ninflight].attempts = r->attempts;
	ob->ninflight++;
	s->sender->deliver(s->sender->impl, r, ob);
}

/* This process's buckets: 1 when the row may go (tokens taken), else 0 with
 * the wait noted. */
static int local_tokens(struct sender_slot *s, struct outbox_row *r, ms_t mono, ms_t *app_wait, ms_t *chat_wait)
{
	ms_t w = bucket_wait(&s->app_bucket, mono);
	if (w) {
		*app_wait = w; /* the app's limit: nothing else goes now */
		return 0;
	}
	struct token_bucket *chat = bucket_map_get(s->chat_buckets, r->chat_id, mono);
	if ((w = bucket_wait(chat, mono))) {
		if (!*chat_wait || w < *chat_wait)
			*chat_wait = w; /* only this chat waits; others may go */
		return 0;
	}
	bucket_take(&s->app_bucket, mono);
	bucket_take(chat, mono);
	return 1;
}

/* Real time, shared by the hosts (NTP): the platforms' limits run on it,
 * never on the test clock. */
static ms_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (ms_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* On a shared store the platform's limits hold for the app as a whole, not
 * once per instance: the buckets are rows every instance draws from.  The
 * chat's token first, so that a throttled chat costs the app nothing. */
static int shared_tokens(struct outbox *ob, struct sender_slot *s, struct outbox_row *r, ms_t *app_wait,
			 ms_t *chat_wait)
{
	char key[256];
	ms_t now = wall_ms();
	snprintf(key, sizeof key, "chat:%s:%s", r->platform, r->chat_id);
	ms_t w = store_rate_take(ob->st, key, s->sender->rate_per_chat, 1, now);
	if (w) {
		if (w < 0)
			w = 1000; /* the store failed (logged): look again shortly */
		if (!*chat_wait || w < *chat_wait)
			*chat_wait = w;
		ob->stats.throttled++;
		return 0;
	}
	char app_key[64];
	snprintf(app_key, sizeof app_key, "app:%s", r->platform);
	if ((w = store_rate_take(ob->st, app_key, s->sender->rate_per_app, 1, now))) {
		/* The chat's token goes back: kept, it would hold this chat a whole
		 * interval for a send that never happened (on DingTalk, 3 s a chat). */
		store_rate_give_back(ob->st, key, 1);
		*app_wait = w < 0 ? 1000 : w;
		ob->stats.throttled++;
		return 0;
	}
	return 1;
}

static void drain(struct outbox *ob)
{
	struct outbox_row rows[OUTBOX_BATCH];
	ms_t mono = clock_mono_ms(), app_wait = 0, chat_wait = 0;
	size_t n;
	if (store_outbox_due(ob->st, clock_now_ms(), rows, ARRAY_LEN(rows), &n) != STORE_OK) {
		/* Logged by the store; look again in a second rather than stall. */
		lws_sul_schedule(ob->ctx, 0, &ob->due_timer, due_fired, LWS_US_PER_SEC);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!app_wait && ob->ninflight < ob->cfg->max_inflight && !is_inflight(ob, rows[i].id))
			dispatch(ob, &rows[i], mono, &app_wait, &chat_wait);
		outbox_row_free(&rows[i]);
	}
	arm_due_timer(ob, app_wait ? app_wait : chat_wait);
}

static ms_t backoff_ms(const struct outbox_config *cfg, int attempts)
{
	ms_t wait = cfg->backoff_base_ms;
	for (int i = 0; i < attempts && wait < cfg->backoff_max_ms; i++)
		wait *= 2;
	if (wait > cfg->backoff_max_ms)
		wait = cfg->backoff_max_ms;
	/* +-20% jitter, so that many rows failing together do not retry together. */
	ms_t jitter = wait / 5;
	if (jitter > 0)
		wait += (ms_t)(random() % (2 * jitter + 1)) - jitter;
	return wait;
}

void outbox_delivered(struct outbox *ob, int64_t id, const struct outbox_result *res)
{
	int attempts = 0, found = 0;
	for (int i = 0; i < ob->ninflight; i++) {
		if (ob->inflight[i].id == id) {
			attempts = ob->inflight[i].attempts + 1;
			ob->inflight[i] = ob->inflight[--ob->ninflight];
			found = 1;
			break;
		}
	}
	if (!found) {
		log_error("msg=\"delivery report for a row not in flight\" id=%lld", (long long)id);
		return;
	}
	ms_t now = clock_now_ms();
	switch (res->outcome) {
	case OUTBOX_SENT:
		store_outbox_sent(ob->st, id, res->message_id[0] ? res->message_id : NULL, now);
		ob->stats.sent++;
		log_debug("msg=\"outbox sent\" id=%lld attempts=%d message_id=%s", (long long)id, attempts,
			  res->message_id);
		break;
	case OUTBOX_RETRY:
		if (attempts >= ob->cfg->max_attempts) {
			store_outbox_failed(ob->st, id, res->error);
			ob->stats.failed++;
			count_error(ob, res->error, 1);
			log_error("msg=\"outbox gave up\" id=%lld attempts=%d error=\"%s\"", (long long)id, attempts,
				  res->error);
			break;
		}
		ms_t wait = res->retry_after_ms >= 0 ? res->retry_after_ms : backoff_ms(ob->cfg, attempts - 1);
		store_outbox_retry(ob->st, id, now + wait, res->error);
		ob->stats.retried++;
		count_error(ob, res->error, 0);
		log_warn("msg=\"outbox send will be retried\" id=%lld attempts=%d wait_ms=%lld error=\"%s\"",
			 (long long)id, attempts, (long long)wait, res->error);
		break;
	case OUTBOX_FAILED:
		store_outbox_failed(ob->st, id, res->error);
		ob->stats.failed++;
		count_error(ob, res->error, 1);
		log_error("msg=\"outbox send failed for good\" id=%lld error=\"%s\"", (long long)id, res->error);
		break;
	}
	outbox_kick(ob);
}

void outbox_report(struct outbox *ob, int64_t id, enum outbox_outcome outcome, long retry_after_ms,
		   const char *message_id, const char *fmt, ...)
{
	struct outbox_result res = { .outcome = outcome, .retry_after_ms = retry_after_ms };
	va_list ap;
	va_start(ap, fmt);
	utf8_vsnprintf(res.error, sizeof res.error, fmt, ap);
	va_end(ap);
	if (message_id)
		utf8_snprintf(res.message_id, sizeof res.message_id, "%s", message_id);
	outbox_delivered(ob, id, &res);
}
