/*
 * bench_retention.c - how the database grows with ordinary group chatter.
 *
 * Feeds 100,000 plain chat messages (no command, no mention: what a busy
 * group says all day) through the inbox -- the daemon's own path for an
 * event: its group commit where the tree has one, else inbox_apply() -- into
 * a fresh database, then prints its size.
 * Then lets the retention periods pass (the defaults: inbox 7 days, sent
 * messages 30, event log 90) the way the daemon's hourly pass does, and
 * prints the live size again.  Prints figures; it is not a test.  It builds
 * on trees without retention too (STORE_HAS_RETENTION), so the figures of
 * before and after can be compared (README.md, "Retention").
 *
 *   bench_retention [MESSAGES] [DB]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collabd/command.h"
#include "collabd/event.h"
#include "collabd/inbox.h"
#include "collabd/store.h"
#include "collabd/util.h"

#define DAY (24LL * 3600 * 1000)
#define BATCH 64 /* events per group commit (trees that have it) */

#ifdef INBOX_MAX_ATTEMPTS
static void count_applied(void *arg, const struct inbox_answer *a)
{
	*(long long *)arg += a->rc == INBOX_APPLIED;
}
#endif

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? 0 : (long long)st.st_size;
}

/* Pages in use (the file less its free list) times the page size. */
static long long live_bytes(const char *path, long long *rows_timeline, long long *rows_inbox)
{
	sqlite3 *db;
	long long pages = 0, freelist = 0, size = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	const char *q[] = { "PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA page_size",
			    "SELECT COUNT(*) FROM timeline", "SELECT COUNT(*) FROM inbox" };
	long long *out[] = { &pages, &freelist, &size, rows_timeline, rows_inbox };
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(db, q[i], -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
			*out[i] = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return (pages - freelist) * size;
}

static void checkpoint(const char *path)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) == SQLITE_OK)
		sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(db);
}

static void report(const char *when, const char *path)
{
	long long tl = 0, ib = 0;
	checkpoint(path);
	long long live = live_bytes(path, &tl, &ib);
	printf("%-34s file %8.1f MiB  live %8.1f MiB  timeline rows %7lld  inbox rows %7lld\n", when,
	       file_size(path) / 1048576.0, live / 1048576.0, tl, ib);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	char tmpl[] = "/tmp/bench_retention_XXXXXX", path[64];
	const char *db = argc > 2 ? argv[2] : NULL;
	if (!db) {
		if (!mkdtemp(tmpl))
			return 1;
		snprintf(path, sizeof path, "%s/collabd.db", tmpl);
		db = path;
	}
	struct store *st;
	char err[256];
	if (store_open(db, &st, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "bench_retention: %s\n", err);
		return 1;
	}
	struct cmd_env env = { .store = st };
	static const char *const said[] = { "今天午饭吃什么？", "收到，我看一下", "会议室改到 302 了",
					    "这个版本周五能发吗", "好的 👍", "文件我放群文件里了，大家看看" };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
#ifdef INBOX_MAX_ATTEMPTS
	/* The daemon's group commit: a batch of events, one transaction. */
	struct inbox_batch *batch = inbox_batch_new(BATCH, 1000);
	struct inbox_stats stats = { 0 };
	long long applied = 0;
#endif
	for (int i = 0; i < n; i++) {
		struct event ev = { .platform = "feishu", .kind = EVENT_MESSAGE,
				    .event_id = xasprintf("ev_%d", i), .event_type = xstrdup("im.message.receive_v1"),
				    .dedupe_key = xasprintf("feishu:ev_%d", i), .chat_id = xasprintf("oc_%d", i % 20),
				    .chat_type = xstrdup("group"), .user_id = xasprintf("ou_%d", i % 300),
				    .message_id = xasprintf("om_%d", i), .message_type = xstrdup("text"),
				    .text = xstrdup(said[i % 6]) };
#ifdef INBOX_MAX_ATTEMPTS
		struct inbox_source src = { .raw = "{}", .raw_len = 2 };
		if (inbox_batch_add(batch, &ev, &src) || i == n - 1)
		{
			inbox_batch_flush(batch, st, &env, &stats, count_applied, &applied);
			inbox_answer_durable(batch, st, 1, count_applied, &applied);
		}
		event_free(&ev);
#else
		json_t *resp = NULL;
		int rc = inbox_apply(st, &env, &ev, &resp);
		json_decref(resp);
		event_free(&ev);
		if (rc != INBOX_APPLIED) {
			fprintf(stderr, "bench_retention: message %d not applied\n", i);
			return 1;
		}
#endif
	}
#ifdef INBOX_MAX_ATTEMPTS
	inbox_batch_free(batch);
	if (applied != n) {
		fprintf(stderr, "bench_retention: %lld of %d messages applied\n", applied, n);
		return 1;
	}
#endif
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	char when[64];
	snprintf(when, sizeof when, "after %d chat messages:", n);
	report(when, db);
	printf("%-34s %.0f messages/s\n", "applied at", n / secs);

	/* The periods pass: the daemon's hourly retention pass with the defaults. */
	ms_t later = clock_now_ms() + 91 * DAY;
	store_inbox_prune(st, later - 7 * DAY);
#ifdef STORE_HAS_RETENTION
	store_outbox_prune_sent(st, later - 30 * DAY);
	store_timeline_prune_events(st, later - 90 * DAY);
	report("after the retention periods:", db);
#else
	report("after 7 days (inbox pruned only):", db);
#endif
	store_close(st);
	if (!argc || argc <= 2) {
		unlink(db);
		rmdir(tmpl);
	}
	return 0;
}
