/*
 * test_outbox.c - the outbox's decisions, with a real store, a real lws loop
 * and a sender that only records what it was handed (no network): a chat's
 * rows go one at a time in order while other chats go on, a retry waits as
 * told or backs off exponentially with jitter, a row gives up after
 * max_attempts and is marked failed without blocking its chat, rows for a
 * platform without a sender fail at once, and no more than max_inflight sends
 * are out at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/clock.h"
#include "collabd/config.h"
#include "collabd/outbox.h"
#include "collabd/store.h"
#include "testloop.h"

#define T0 1796608800000LL /* 2026-12-07 10:00 +08:00 */
#define MAX_SENT 64

struct sent {
	int64_t id;
	char chat[32];
	char text[32];
	int attempts;
};

struct fixture {
	struct store *st;
	struct lws_context *ctx;
	struct outbox_config cfg;
	struct outbox *ob;
	struct outbox_sender sender;
	struct sent sent[MAX_SENT]; /* every row handed to the sender, in order */
	int nsent;
	int errors, final_errors;
};

static void record(void *impl, const struct outbox_row *row, struct outbox *ob)
{
	(void)ob;
	struct fixture *f = impl;
	assert_true(f->nsent < MAX_SENT);
	struct sent *s = &f->sent[f->nsent++];
	s->id = row->id;
	s->attempts = row->attempts;
	snprintf(s->chat, sizeof s->chat, "%s", row->chat_id);
	snprintf(s->text, sizeof s->text, "%s", row->body);
}

static void count_error(void *arg, const char *error, int final)
{
	struct fixture *f = arg;
	assert_non_null(error);
	f->errors++;
	f->final_errors += final;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	clock_test_enable(1);
	clock_test_set(T0);
	if (store_open(":memory:", &f->st, err, sizeof err) != STORE_OK || !(f->ctx = testloop_new()))
		return -1;
	f->cfg = (struct outbox_config){ .max_attempts = 3, .backoff_base_ms = 1000, .backoff_max_ms = 3000,
					 .max_inflight = 8, .rate_per_app = 50, .rate_per_chat = 5 };
	f->ob = outbox_new(f->st, f->ctx, &f->cfg);
	/* Rates high enough that pacing never holds a row in these tests. */
	f->sender = (struct outbox_sender){ .platform = "feishu", .deliver = record, .impl = f,
					    .rate_per_app = 1e6, .rate_per_chat = 1e6 };
	outbox_add_sender(f->ob, &f->sender);
	outbox_on_error(f->ob, count_error, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	outbox_free(f->ob);
	lws_context_destroy(f->ctx);
	store_close(f->st);
	free(f);
	clock_test_enable(0);
	return 0;
}

static int64_t add(struct fixture *f, const char *platform, const char *chat, const char *text)
{
	int64_t id;
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(store_outbox_add(f->st, platform, chat, NULL, NULL, "text", text, clock_now_ms(), &id),
			 STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	return id;
}

/* Kicks the outbox and lets the loop run. */
static void drain(struct fixture *f)
{
	outbox_kick(f->ob);
	pump(f->ctx, 30);
}

static void report(struct fixture *f, int64_t id, enum outbox_outcome outcome, long retry_after_ms)
{
	outbox_report(f->ob, id, outcome, retry_after_ms, outcome == OUTBOX_SENT ? "om_1" : NULL,
		      outcome == OUTBOX_SENT ? "ok" : "code=99991400 msg=\"test\"");
}

static void test_a_chat_gets_its_rows_in_order_one_at_a_time(void **state)
{
	struct fixture *f = *state;
	int64_t a1 = add(f, "feishu", "oc_a", "\"a1\""), a2 = add(f, "feishu", "oc_a", "\"a2\"");
	int64_t b1 = add(f, "feishu", "oc_b", "\"b1\"");
	drain(f);
	/* a2 waits for a1; b1 does not wait for anyone. */
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->sent[0].id, a1);
	assert_int_equal(f->sent[1].id, b1);
	assert_int_equal(outbox_inflight(f->ob), 2);
	drain(f); /* nothing new while a1 is out */
	assert_int_equal(f->nsent, 2);
	report(f, a1, OUTBOX_SENT, 0);
	pump(f->ctx, 30); /* a report kicks the drain itself */
	assert_int_equal(f->nsent, 3);
	assert_int_equal(f->sent[2].id, a2);
	report(f, a2, OUTBOX_SENT, 0);
	report(f, b1, OUTBOX_SENT, 0);
	pump(f->ctx, 30);
	assert_int_equal(outbox_stats(f->ob)->sent, 3);
	assert_int_equal(store_outbox_pending(f->st), 0);
	assert_int_equal(f->errors, 0);
}

static void test_a_retry_waits_as_told_and_holds_its_chat(void **state)
{
	struct fixture *f = *state;
	int64_t a1 = add(f, "feishu", "oc_a", "\"a1\"");
	add(f, "feishu", "oc_a", "\"a2\"");
	drain(f);
	assert_int_equal(f->nsent, 1);
	report(f, a1, OUTBOX_RETRY, 5000); /* e.g. 429 with a reset of 5 s */
	pump(f->ctx, 30);
	assert_int_equal(f->nsent, 1); /* neither a1 again nor a2 */
	assert_int_equal(store_outbox_next_due(f->st), T0 + 5000);
	assert_int_equal(outbox_stats(f->ob)->retried, 1);
	assert_int_equal(f->errors, 1);
	assert_int_equal(f->final_errors, 0);
	/* When the time comes (the test clock jumps: the outbox is told) a1 goes
	 * again, as its second attempt. */
	clock_test_set(T0 + 4999);
	pump(f->ctx, 30);
	assert_int_equal(f->nsent, 1);
	clock_test_set(T0 + 5000);
	pump(f->ctx, 30);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->sent[1].id, a1);
	assert_int_equal(f->sent[1].attempts, 1);
}

/* retry_after -1: base * 2^(attempt-1), +-20% jitter, capped at backoff_max. */
static void test_backoff_doubles_with_jitter_up_to_the_cap(void **state)
{
	struct fixture *f = *state;
	int64_t id = add(f, "feishu", "oc_a", "\"a1\"");
	const ms_t expect[] = { 1000, 2000 };
	drain(f);
	for (int attempt = 0; attempt < 2; attempt++) {
		ms_t now = clock_now_ms();
		report(f, id, OUTBOX_RETRY, -1);
		pump(f->ctx, 10);
		ms_t wait = store_outbox_next_due(f->st) - now;
		assert_in_range(wait, expect[attempt] * 4 / 5, expect[attempt] * 6 / 5);
		clock_test_set(now + wait);
		pump(f->ctx, 30);
		assert_int_equal(f->nsent, attempt + 2);
	}
	/* The cap: a config whose base is above the maximum waits the maximum. */
	f->cfg.max_attempts = 10;
	f->cfg.backoff_base_ms = 10000;
	ms_t now = clock_now_ms();
	report(f, id, OUTBOX_RETRY, -1);
	ms_t wait = store_outbox_next_due(f->st) - now;
	assert_in_range(wait, 3000 * 4 / 5, 3000 * 6 / 5);
}

static void test_gives_up_after_max_attempts_and_the_chat_goes_on(void **state)
{
	struct fixture *f = *state;
	int64_t a1 = add(f, "feishu", "oc_a", "\"a1\""), a2 = add(f, "feishu", "oc_a", "\"a2\"");
	drain(f);
	for (int attempt = 1; attempt <= 3; attempt++) {
		assert_int_equal(f->nsent, attempt);
		assert_int_equal(f->sent[attempt - 1].id, a1);
		report(f, a1, OUTBOX_RETRY, 1000);
		clock_test_set(clock_now_ms() + 1000);
		pump(f->ctx, 30);
	}
	/* Three attempts made (max_attempts): a1 is failed for good, a2 is next. */
	assert_int_equal(outbox_stats(f->ob)->retried, 2);
	assert_int_equal(outbox_stats(f->ob)->failed, 1);
	assert_int_equal(f->final_errors, 1);
	assert_int_equal(f->nsent, 4);
	assert_int_equal(f->sent[3].id, a2);
	assert_int_equal(store_outbox_pending(f->st), 1);
}

static void test_a_permanent_failure_does_not_block_the_chat(void **state)
{
	struct fixture *f = *state;
	int64_t a1 = add(f, "feishu", "oc_a", "\"a1\""), a2 = add(f, "feishu", "oc_a", "\"a2\"");
	drain(f);
	report(f, a1, OUTBOX_FAILED, 0); /* e.g. the bot was removed from the chat */
	pump(f->ctx, 30);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->sent[1].id, a2);
	assert_int_equal(outbox_stats(f->ob)->failed, 1);
	assert_int_equal(f->final_errors, 1);
	assert_int_equal(outbox_stats(f->ob)->retried, 0);
}

static void test_a_platform_without_a_sender_fails_at_once(void **state)
{
	struct fixture *f = *state;
	add(f, "dingtalk", "cid_x", "\"x\"");
	int64_t a1 = add(f, "feishu", "oc_a", "\"a1\"");
	drain(f);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].id, a1);
	assert_int_equal(outbox_stats(f->ob)->failed, 1);
	assert_int_equal(f->final_errors, 1);
	assert_int_equal(store_outbox_pending(f->st), 1); /* a1, in flight */
}

static void test_no_more_than_max_inflight_and_stray_reports_are_ignored(void **state)
{
	struct fixture *f = *state;
	f->cfg.max_inflight = 2;
	int64_t ids[3];
	ids[0] = add(f, "feishu", "oc_1", "\"1\"");
	ids[1] = add(f, "feishu", "oc_2", "\"2\"");
	ids[2] = add(f, "feishu", "oc_3", "\"3\"");
	drain(f);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(outbox_inflight(f->ob), 2);
	/* A report for a row that is not out changes nothing. */
	report(f, ids[2], OUTBOX_SENT, 0);
	report(f, 9999, OUTBOX_FAILED, 0);
	pump(f->ctx, 30);
	assert_int_equal(outbox_stats(f->ob)->sent, 0);
	assert_int_equal(outbox_stats(f->ob)->failed, 0);
	assert_int_equal(f->nsent, 2);
	report(f, ids[0], OUTBOX_SENT, 0);
	pump(f->ctx, 30);
	assert_int_equal(f->nsent, 3);
	assert_int_equal(f->sent[2].id, ids[2]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_chat_gets_its_rows_in_order_one_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_retry_waits_as_told_and_holds_its_chat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_doubles_with_jitter_up_to_the_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gives_up_after_max_attempts_and_the_chat_goes_on, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_permanent_failure_does_not_block_the_chat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_platform_without_a_sender_fails_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_more_than_max_inflight_and_stray_reports_are_ignored, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
