/*
 * test_sched.c - the deadline scheduler on a real store and the test clock:
 * timers fire in time order whatever order they were set in, each fires once,
 * a long pause folds a chain of steps into one late catch-up ping, pings for
 * one chat in one minute become one message, business pings wait for working
 * hours, closed deadlines say nothing, and a clock jump re-arms the timer.
 *
 * What fired is read back from the outbox (the "sla_pings" rows the scheduler
 * writes), through the store's public readers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "collabd/calendar.h"
#include "collabd/clock.h"
#include "collabd/config.h"
#include "collabd/outbox.h"
#include "collabd/sched.h"
#include "collabd/sla.h"
#include "collabd/store.h"
#include "testloop.h"

#define MIN (60 * 1000LL)
#define MON(h, m) calendar_local_time(2026, 12, 7, (h) * 60 + (m)) /* Monday 7 December 2026 */

struct fixture {
	struct store *st;
	struct lws_context *ctx;
	struct calendar *cal;
	struct sla_policies *policies;
	struct outbox_config ocfg;
	struct outbox *ob;
	struct sched *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	clock_test_enable(1);
	clock_test_set(MON(10, 0));
	if (store_open(":memory:", &f->st, err, sizeof err) != STORE_OK)
		return -1;
	f->ctx = testloop_new();
	f->cal = calendar_new(NULL);
	if (!f->ctx || !f->cal || calendar_load_dir(f->cal, "deploy/calendar", err, sizeof err))
		return -1;
	f->policies = sla_policies_new(NULL, NULL, NULL);
	f->ocfg = (struct outbox_config){ .max_attempts = 3, .backoff_base_ms = 1000, .backoff_max_ms = 60000,
					  .max_inflight = 4, .rate_per_app = 50, .rate_per_chat = 5 };
	f->ob = outbox_new(f->st, f->ctx, &f->ocfg);
	f->s = sched_new(f->st, f->ctx, f->cal, f->policies, f->ob);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sched_free(f->s);
	outbox_free(f->ob);
	sla_policies_free(f->policies);
	calendar_free(f->cal);
	lws_context_destroy(f->ctx);
	store_close(f->st);
	free(f);
	clock_test_enable(0);
	return 0;
}

/* Sets a deadline in its own transaction, as the workflow does. */
static void watch(struct fixture *f, const char *key, const char *policy, const char *chat, const char *owner,
		  const char *head, ms_t due)
{
	json_t *people = json_pack("{s:[{s:s,s:s}],s:[{s:s,s:s}]}", "owner", "id", owner, "name", owner, "head",
				   "id", head, "name", head);
	struct sched_deadline d = { .key = key, .policy = policy, .platform = "feishu", .chat_id = chat,
				    .subject = key, .people = people, .start = clock_now_ms(), .due = due };
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(sched_deadline_set(f->s, &d, NULL), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	json_decref(people);
}

/* The ping messages written since the last call, in order (each marked sent
 * so the next one of its chat comes up).  Returns how many; *out (max n) holds
 * their parsed bodies with "chat" added; the caller decrefs them. */
static size_t take_pings(struct fixture *f, json_t **out, size_t max)
{
	size_t got = 0;
	for (;;) {
		struct outbox_row rows[16];
		size_t n;
		assert_int_equal(store_outbox_due(f->st, MON(10, 0) + 3650LL * 86400000, rows, 16, &n), STORE_OK);
		if (!n)
			return got;
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(rows[i].kind, "sla_pings");
			json_t *body = json_loads(rows[i].body, 0, NULL);
			assert_non_null(body);
			json_object_set_new(body, "chat", json_string(rows[i].chat_id));
			if (got < max)
				out[got] = body;
			else
				json_decref(body);
			got++;
			assert_int_equal(store_outbox_sent(f->st, rows[i].id, NULL, clock_now_ms()), STORE_OK);
			outbox_row_free(&rows[i]);
		}
	}
}

static const char *item(json_t *ping, size_t i, const char *field)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(ping, "items"), i), field));
}

static int item_late(json_t *ping, size_t i)
{
	return json_is_true(json_object_get(json_array_get(json_object_get(ping, "items"), i), "late"));
}

static void decref_all(json_t **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(a[i]);
}

static void test_timers_fire_in_time_order_and_once(void **state)
{
	struct fixture *f = *state;
	json_t *p[4];
	/* Set the later one first: the order of setting must not matter. */
	watch(f, "progress", "daily_progress", "oc_b", "ou_b", "ou_bh", MON(17, 0)); /* reminder 16:00 */
	watch(f, "urgent", "issue_response_urgent", "oc_a", "ou_a", "ou_ah", 0);      /* reminder 10:20 */
	assert_int_equal(store_timer_next(f->st), MON(10, 20));

	clock_test_set(MON(10, 20) - 1);
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 4), 0);

	clock_test_set(MON(10, 20));
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 4), 1);
	assert_string_equal(json_string_value(json_object_get(p[0], "chat")), "oc_a");
	assert_string_equal(item(p[0], 0, "key"), "urgent");
	assert_string_equal(item(p[0], 0, "stage"), "reminder");
	assert_false(item_late(p[0], 0));
	decref_all(p, 1);

	/* Firing again at the same moment sends nothing more. */
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 4), 0);
	/* The next timer is the urgent one's due time, before the progress reminder. */
	assert_int_equal(store_timer_next(f->st), MON(10, 30));
	assert_int_equal(sched_stats(f->s)->fired, 1);
}

static void test_a_long_pause_sends_one_late_catch_up_per_deadline(void **state)
{
	struct fixture *f = *state;
	json_t *p[4];
	watch(f, "urgent", "issue_response_urgent", "oc_a", "ou_a", "ou_ah", 0);
	watch(f, "progress", "daily_progress", "oc_b", "ou_b", "ou_bh", MON(17, 0));
	/* Nothing ran between 10:00 and 16:00: the urgent chain (reminder 10:20,
	 * due 10:30, then every 30 minutes up to 10 repeats) is all past. */
	clock_test_set(MON(16, 0));
	sched_fire_due(f->s);
	size_t n = take_pings(f, p, 4);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(json_array_size(json_object_get(p[i], "items")), 1);
		if (!strcmp(item(p[i], 0, "key"), "urgent")) {
			assert_string_equal(item(p[i], 0, "stage"), "escalation");
			assert_true(item_late(p[i], 0));
		} else {
			assert_string_equal(item(p[i], 0, "key"), "progress");
			assert_string_equal(item(p[i], 0, "stage"), "reminder");
			assert_false(item_late(p[i], 0));
		}
	}
	decref_all(p, n);
	/* The urgent chain is over; only the progress deadline's due ping is left. */
	assert_int_equal(store_timers_pending(f->st), 1);
	assert_int_equal(store_timer_next(f->st), MON(17, 0));
}

static int item_has_role(json_t *ping, size_t i, const char *role)
{
	size_t k;
	json_t *r;
	json_array_foreach(json_object_get(json_array_get(json_object_get(ping, "items"), i), "roles"), k, r)
		if (!strcmp(json_string_value(r), role))
			return 1;
	return 0;
}

/* Down from Monday 10:00 to Saturday: the urgent chain's catch-up goes at
 * once; the business one waits for Monday's start, still marked late, and
 * tells the owner and head as well as the superiors its skipped steps had. */
static void test_a_business_catch_up_at_the_weekend_waits_for_monday(void **state)
{
	struct fixture *f = *state;
	json_t *p[4];
	watch(f, "urgent", "issue_response_urgent", "oc_a", "ou_a", "ou_ah", 0);
	watch(f, "important", "issue_response", "oc_b", "ou_b", "ou_bh", 0); /* due 12:00, then +1h, +2h, every 2h */
	clock_test_set(calendar_local_time(2026, 12, 12, 10 * 60));
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 4), 1);
	assert_string_equal(item(p[0], 0, "key"), "urgent");
	assert_true(item_late(p[0], 0));
	decref_all(p, 1);
	ms_t monday = calendar_local_time(2026, 12, 14, 9 * 60);
	assert_int_equal(store_timer_next(f->st), monday);
	assert_int_equal(store_timers_pending(f->st), 1);
	/* Nothing more at the weekend, however often the loop looks. */
	clock_test_set(calendar_local_time(2026, 12, 13, 20 * 60));
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 4), 0);
	clock_test_set(monday);
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 4), 1);
	assert_string_equal(item(p[0], 0, "key"), "important");
	assert_string_equal(item(p[0], 0, "stage"), "escalation");
	assert_true(item_late(p[0], 0));
	assert_true(item_has_role(p[0], 0, "owner") && item_has_role(p[0], 0, "head"));
	assert_true(item_has_role(p[0], 0, "superior") && item_has_role(p[0], 0, "superior2"));
	decref_all(p, 1);
}

static void test_pings_for_one_chat_in_one_minute_are_one_message(void **state)
{
	struct fixture *f = *state;
	json_t *p[4];
	/* Reminders at 15:59:30 and 15:59:50 both wait for 16:00 (business pings
	 * go out on the minute); a third deadline is in another chat. */
	watch(f, "one", "daily_progress", "oc_same", "ou_x", "ou_h1", MON(16, 59) + 30000);
	watch(f, "two", "daily_progress", "oc_same", "ou_x", "ou_h2", MON(16, 59) + 50000);
	watch(f, "other", "daily_progress", "oc_other", "ou_y", "ou_h3", MON(16, 59) + 50000);
	clock_test_set(MON(16, 0));
	sched_fire_due(f->s);
	size_t n = take_pings(f, p, 4);
	assert_int_equal(n, 2);
	json_t *same = !strcmp(json_string_value(json_object_get(p[0], "chat")), "oc_same") ? p[0] : p[1];
	json_t *items = json_object_get(same, "items");
	assert_int_equal(json_array_size(items), 2);
	/* The reminder goes to the owner, who is the same person for both: one mention. */
	json_t *mentions = json_object_get(same, "mentions");
	assert_int_equal(json_array_size(mentions), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(mentions, 0), "id")), "ou_x");
	decref_all(p, n);
	assert_int_equal(sched_stats(f->s)->notices, 2);

	/* At the due time owner and head are pinged: three people, each once. */
	clock_test_set(MON(17, 0));
	sched_fire_due(f->s);
	n = take_pings(f, p, 4);
	assert_int_equal(n, 2);
	same = !strcmp(json_string_value(json_object_get(p[0], "chat")), "oc_same") ? p[0] : p[1];
	assert_int_equal(json_array_size(json_object_get(same, "mentions")), 3);
	assert_string_equal(item(same, 0, "stage"), "overdue");
	decref_all(p, n);
}

static void test_business_pings_wait_for_working_hours(void **state)
{
	struct fixture *f = *state;
	/* Friday 17:30, a deadline due Saturday 17:00 (its reminder, an hour of
	 * working time before, has passed): the due ping waits for Monday 09:00. */
	clock_test_set(calendar_local_time(2026, 12, 11, 17 * 60 + 30));
	watch(f, "weekend", "daily_progress", "oc_w", "ou_w", "ou_wh", calendar_local_time(2026, 12, 12, 17 * 60));
	assert_int_equal(store_timer_next(f->st), calendar_local_time(2026, 12, 14, 9 * 60));
	/* An urgent (wall-clock) one keeps its time on a Saturday night. */
	clock_test_set(calendar_local_time(2026, 12, 12, 23 * 60));
	watch(f, "night", "issue_response_urgent", "oc_n", "ou_n", "ou_nh", 0);
	assert_int_equal(store_timer_next(f->st), calendar_local_time(2026, 12, 12, 23 * 60) + 20 * MIN);
}

static void test_a_closed_deadline_says_nothing_more(void **state)
{
	struct fixture *f = *state;
	json_t *p[2];
	watch(f, "met", "issue_response_urgent", "oc_m", "ou_m", "ou_mh", 0);
	assert_int_equal(store_begin(f->st), STORE_OK);
	assert_int_equal(sched_deadline_done(f->s, "met", "met"), STORE_OK);
	assert_int_equal(store_commit(f->st), STORE_OK);
	assert_int_equal(sched_snooze(f->s, "met", MON(12, 0)), STORE_NOTFOUND);
	clock_test_set(MON(18, 0));
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 2), 0);
	assert_int_equal(store_timers_pending(f->st), 0);
}

static void test_snooze_holds_the_next_ping(void **state)
{
	struct fixture *f = *state;
	json_t *p[2];
	watch(f, "later", "issue_response_urgent", "oc_s", "ou_s", "ou_sh", 0);
	assert_int_equal(sched_snooze(f->s, "later", MON(10, 45)), STORE_OK);
	clock_test_set(MON(10, 44));
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 2), 0);
	clock_test_set(MON(10, 45));
	sched_fire_due(f->s);
	assert_int_equal(take_pings(f, p, 2), 1);
	decref_all(p, 1);
}

/* The loop, not the test, fires the timer: sched_kick arms it for at most a
 * minute of real time, and a jump of the test clock must re-arm it at once.
 * (The outbox drains in the same loop, so the count of fired timers is read,
 * not the outbox.) */
static void test_a_clock_jump_rearms_the_timer(void **state)
{
	struct fixture *f = *state;
	watch(f, "jump", "issue_response_urgent", "oc_j", "ou_j", "ou_jh", 0);
	sched_kick(f->s);
	pump(f->ctx, 20);
	assert_int_equal(sched_stats(f->s)->fired, 0);
	clock_test_set(MON(10, 20));
	pump(f->ctx, 50);
	assert_int_equal(sched_stats(f->s)->fired, 1);
	assert_int_equal(store_timer_next(f->st), MON(10, 30));
}

/* Schedulers come and go (each test above made one): a freed one must not be
 * told of clock jumps, and a new one must be. */
static void test_schedulers_made_and_freed_leave_no_listener(void **state)
{
	(void)state;
	for (int i = 0; i < 12; i++) {
		void *fs;
		assert_int_equal(setup(&fs), 0);
		clock_test_set(MON(9, 0) + i);
		assert_int_equal(teardown(&fs), 0);
	}
	void *fs;
	assert_int_equal(setup(&fs), 0);
	test_a_clock_jump_rearms_the_timer(&fs);
	assert_int_equal(teardown(&fs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timers_fire_in_time_order_and_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_long_pause_sends_one_late_catch_up_per_deadline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pings_for_one_chat_in_one_minute_are_one_message, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_business_pings_wait_for_working_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_business_catch_up_at_the_weekend_waits_for_monday, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_closed_deadline_says_nothing_more, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snooze_holds_the_next_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_clock_jump_rearms_the_timer, setup, teardown),
		cmocka_unit_test(test_schedulers_made_and_freed_leave_no_listener),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
