/*
 * bench_timers.c - the scheduler's store at scale.
 *
 * Fills a database with 1,000,000 pending timers (far in the future) plus
 * 10,000 deadlines whose timers are all due at the same moment (2026-12-07
 * 17:00 Asia/Shanghai, spread over 1,000 chats), and prints how long finding
 * the next timer takes as the table grows (it is an index lookup: O(log n)).
 * Prints figures; it is not a test.  `bench_timers DB` keeps the database
 * for tests/bench/bench_timers.py, which fires the 10,000 in the real daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collabd/store.h"

#define DUE_AT 1796634000000LL   /* 2026-12-07 17:00 +08:00 */
#define FAR_AT 1830000000000LL   /* 2027-12 */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double time_next(struct store *st)
{
	const int reps = 20000;
	double t0 = now_s();
	for (int i = 0; i < reps; i++)
		if (store_timer_next(st) < 0)
			return -1;
	return (now_s() - t0) / reps * 1e6;
}

int main(int argc, char **argv)
{
	char path[256];
	if (argc > 1)
		snprintf(path, sizeof path, "%s", argv[1]);
	else
		snprintf(path, sizeof path, "/tmp/collabd-bench-timers-%d.db", (int)getpid());
	unlink(path);
	char err[256];
	struct store *st;
	if (store_open(path, &st, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "bench_timers: %s\n", err);
		return 1;
	}

	/* 10,000 deadlines due together: their reminders fire at DUE_AT. */
	store_begin(st);
	for (int i = 0; i < 10000; i++) {
		char key[64], chat[32], subject[64], people[96];
		snprintf(key, sizeof key, "bench-due-%d", i);
		snprintf(chat, sizeof chat, "oc_bench_%d", i % 1000);
		snprintf(subject, sizeof subject, "需求 %d · 确认", i);
		snprintf(people, sizeof people, "{\"owner\":[{\"id\":\"ou_%d\",\"name\":\"接口人%d\"}]}", i, i);
		struct deadline_row d = { .key = key, .policy = "dept_confirm", .platform = "feishu", .chat_id = chat,
					  .subject = subject, .people = people, .started_at = DUE_AT - 86400000,
					  .due_at = DUE_AT + 7200000 };
		store_deadline_put(st, &d);
		store_timer_add(st, key, chat, 0, DUE_AT);
	}
	store_commit(st);

	const int total = 1000000, step = 100000;
	double fill = 0;
	printf("timers: next-timer lookup with     10000 pending: %.2f us\n", time_next(st));
	for (int n = 0; n < total; n += step) {
		double t0 = now_s();
		store_begin(st);
		for (int i = 0; i < step; i++) {
			char key[32], chat[32];
			snprintf(key, sizeof key, "bench-far-%d", (n + i) % 1000);
			snprintf(chat, sizeof chat, "oc_far_%d", (n + i) % 1000);
			store_timer_add(st, key, chat, 1, FAR_AT + (n + i) * 1000LL);
		}
		store_commit(st);
		fill += now_s() - t0;
		if (n + step == 100000 || n + step == total)
			printf("timers: next-timer lookup with %9d pending: %.2f us\n", n + step + 10000, time_next(st));
	}
	printf("timers: inserted %d timers in %.1f s (%.0f/s, 100,000 per transaction)\n", total, fill, total / fill);
	store_close(st);
	if (argc <= 1) {
		unlink(path);
		char side[300];
		snprintf(side, sizeof side, "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", path);
		unlink(side);
	}
	return 0;
}
