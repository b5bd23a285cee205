/*
 * test_store.c - the SQLite store: schema migrations (fresh, from version 1,
 * refusing a newer schema), WAL mode, inbox dedupe and pruning (in arrival
 * order since migration 17), and the
 * outbox's ordering rules (oldest first, one head row per chat, retries and
 * failures), counters and idempotency keys, and when a chat's reply webhook
 * is rewritten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "collabd/store.h"

/* Exactly migration 1 of daemon/store.c (shipped steps never change). */
static const char migration1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT INTO meta (key, value) VALUES ('instance_id', lower(hex(randomblob(6))));"
	"CREATE TABLE inbox ("
	"  platform TEXT NOT NULL, dedupe_key TEXT NOT NULL, event_type TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL, PRIMARY KEY (platform, dedupe_key)) WITHOUT ROWID;"
	"CREATE INDEX inbox_received ON inbox (received_at);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY, platform TEXT NOT NULL, chat_id TEXT NOT NULL,"
	"  reply_to TEXT, kind TEXT NOT NULL, body TEXT NOT NULL,"
	"  idem_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL DEFAULT 'pending',"
	"  attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
	"  next_attempt_at INTEGER NOT NULL, sent_at INTEGER, last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox (state, next_attempt_at);";

struct fixture {
	char dir[64];
	char path[96];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/collabd-test-store-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/collabd.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->st);
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		char p[128];
		snprintf(p, sizeof p, "%s%s", fx->path, suffix[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void open_ok(struct fixture *fx)
{
	char err[512] = "";
	enum store_rc rc = store_open(fx->path, &fx->st, err, sizeof err);
	if (rc != STORE_OK)
		fail_msg("store_open: %s", err);
	assert_non_null(fx->st);
}

/* Runs sql on a separate connection (as the sqlite3 shell would). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql failed: %s", msg);
	sqlite3_close(db);
}

/* The first column of the first row of sql, as text (caller frees), or NULL. */
static char *raw_query(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *out = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		out = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

static void assert_query(const char *path, const char *sql, const char *want)
{
	char *got = raw_query(path, sql);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_fresh_database(void **state)
{
	struct fixture *fx = *state;
	assert_true(store_schema_version() >= 2);
	open_ok(fx);
	assert_int_equal(store_version_found(fx->st), 0);
	char want[16];
	snprintf(want, sizeof want, "%d", store_schema_version());
	assert_query(fx->path, "SELECT MAX(version) FROM schema_migrations", want);
	assert_query(fx->path, "SELECT COUNT(*) FROM schema_migrations", want);
	assert_query(fx->path, "PRAGMA journal_mode", "wal");
	assert_query(fx->path, "SELECT length(value) FROM meta WHERE key = 'instance_id'", "12");
	store_close(fx->st);
	fx->st = NULL;
	open_ok(fx); /* reopening finds the current version and migrates nothing */
	assert_int_equal(store_version_found(fx->st), store_schema_version());
	assert_query(fx->path, "SELECT COUNT(*) FROM schema_migrations", want);
}

static void test_upgrade_from_v1(void **state)
{
	struct fixture *fx = *state;
	raw_exec(fx->path, migration1);
	raw_exec(fx->path,
		 "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
		 "INSERT INTO schema_migrations VALUES (1, 1700000000000);"
		 "INSERT INTO inbox VALUES ('feishu', 'msg:om_old', 'im.message.receive_v1', 100);"
		 "INSERT INTO outbox (platform, chat_id, reply_to, kind, body, idem_key, created_at, next_attempt_at)"
		 " VALUES ('feishu', 'oc_a', 'om_old', 'text', '{\"text\":\"hi\"}', 'cdold-1', 100, 100);");
	open_ok(fx);
	assert_int_equal(store_version_found(fx->st), 1);
	char want[16];
	snprintf(want, sizeof want, "%d", store_schema_version());
	assert_query(fx->path, "SELECT MAX(version) FROM schema_migrations", want);
	assert_query(fx->path, "SELECT applied_at FROM schema_migrations WHERE version = 1", "1700000000000");

	struct outbox_row rows[4];
	{
		size_t got_n;
		assert_int_equal(store_outbox_due(fx->st, 1000, rows, 4, &got_n), STORE_OK);
		assert_int_equal(got_n, 1);
	}
	assert_string_equal(rows[0].platform, "feishu");
	assert_string_equal(rows[0].chat_id, "oc_a");
	assert_string_equal(rows[0].reply_to, "om_old");
	assert_null(rows[0].update_of); /* the column added by migration 2 */
	assert_string_equal(rows[0].kind, "text");
	assert_string_equal(rows[0].body, "{\"text\":\"hi\"}");
	assert_string_equal(rows[0].idem_key, "cdold-1");
	assert_int_equal(rows[0].attempts, 0);
	assert_int_equal(rows[0].next_attempt_at, 100);
	outbox_row_free(&rows[0]);
	/* the old inbox row still dedupes; the new tables and columns work */
	assert_int_equal(store_inbox_record(fx->st, "feishu", "msg:om_old", "x", 2000), STORE_DUP);
	assert_int_equal(store_timeline_add(fx->st, 2000, "ou_a", "message", "oc_a", "{}"), STORE_OK);
	assert_int_equal(store_outbox_sent(fx->st, 1, "om_sent", 2000), STORE_OK);
	assert_query(fx->path, "SELECT platform_message_id FROM outbox WHERE id = 1", "om_sent");
}

/* Migration 17: the inbox becomes a rowid table in arrival order without
 * its index on received_at; retention deletes from the oldest arrival on. */
static void test_inbox_upgrade_to_arrival_order(void **state)
{
	struct fixture *fx = *state;
	raw_exec(fx->path, migration1);
	raw_exec(fx->path,
		 "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
		 "INSERT INTO schema_migrations VALUES (1, 1700000000000);"
		 /* the key order is not the time order */
		 "INSERT INTO inbox VALUES ('dingtalk', 'msg:a', 'im.bot.message', 400);"
		 "INSERT INTO inbox VALUES ('dingtalk', 'msg:b', 'im.bot.message', 100);"
		 "INSERT INTO inbox VALUES ('dingtalk', 'msg:c', 'im.bot.message', 300);"
		 "INSERT INTO inbox VALUES ('feishu', 'msg:d', 'im.message.receive_v1', 200);");
	open_ok(fx);
	assert_query(fx->path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'inbox_received'", "0");
	assert_query(fx->path, "SELECT group_concat(dedupe_key || '@' || received_at, ' ') FROM "
			       "(SELECT dedupe_key, received_at FROM inbox ORDER BY rowid)",
		     "msg:b@100 msg:d@200 msg:c@300 msg:a@400");
	assert_int_equal(store_inbox_record(fx->st, "dingtalk", "msg:a", "x", 500), STORE_DUP);
	assert_int_equal(store_inbox_record(fx->st, "dingtalk", "msg:e", "x", 500), STORE_OK);
	assert_int_equal(store_inbox_prune(fx->st, 250), 2);
	assert_query(fx->path, "SELECT group_concat(dedupe_key, ' ') FROM (SELECT dedupe_key FROM inbox ORDER BY rowid)",
		     "msg:c msg:a msg:e");
	assert_int_equal(store_inbox_record(fx->st, "dingtalk", "msg:b", "x", 600), STORE_OK); /* pruned: new again */
	assert_int_equal(store_inbox_prune(fx->st, 1000), 4);
	assert_query(fx->path, "SELECT COUNT(*) FROM inbox", "0");
	assert_int_equal(store_inbox_prune(fx->st, 1000), 0);
}

/* Pruning goes in arrival order: a row that came after a newer one (the
 * wall clock was set back) stays until that one is old enough too --
 * a dedupe key is kept longer, never shorter, than its window. */
static void test_inbox_prune_in_arrival_order(void **state)
{
	struct fixture *fx = *state;
	open_ok(fx);
	struct store *st = fx->st;
	assert_int_equal(store_inbox_record(st, "feishu", "evt:1", "x", 1000), STORE_OK);
	assert_int_equal(store_inbox_record(st, "feishu", "evt:2", "x", 5000), STORE_OK);
	assert_int_equal(store_inbox_record(st, "feishu", "evt:3", "x", 2000), STORE_OK); /* clock set back */
	assert_int_equal(store_inbox_record(st, "feishu", "evt:4", "x", 6000), STORE_OK);
	assert_int_equal(store_inbox_prune(st, 3000), 1); /* evt:1; evt:3 waits behind evt:2 */
	assert_int_equal(store_inbox_record(st, "feishu", "evt:3", "x", 7000), STORE_DUP);
	assert_int_equal(store_inbox_prune(st, 5500), 2); /* evt:2, then evt:3 */
	assert_int_equal(store_inbox_record(st, "feishu", "evt:3", "x", 7000), STORE_OK);
	assert_int_equal(store_inbox_record(st, "feishu", "evt:4", "x", 7000), STORE_DUP);
}

static void test_refuses_newer_schema(void **state)
{
	struct fixture *fx = *state;
	raw_exec(fx->path, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
			   "INSERT INTO schema_migrations VALUES (999, 0);");
	char err[512] = "";
	struct store *st = (struct store *)&err; /* must be reset to NULL */
	assert_int_equal(store_open(fx->path, &st, err, sizeof err), STORE_TOONEW);
	assert_null(st);
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "999"));
	/* nothing was migrated */
	assert_query(fx->path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox'", "0");
}

static void test_open_errors(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "";
	struct store *st;
	assert_int_equal(store_open("/nonexistent-dir/x/collabd.db", &st, err, sizeof err), STORE_ERR);
	assert_null(st);
	assert_true(err[0] != '\0');
	FILE *f = fopen(fx->path, "w");
	assert_non_null(f);
	fputs("this is not an SQLite database, not even close; it is plain text padding.....", f);
	fclose(f);
	err[0] = '\0';
	assert_int_equal(store_open(fx->path, &st, err, sizeof err), STORE_ERR);
	assert_null(st);
	assert_true(err[0] != '\0');
}

static void test_inbox(void **state)
{
	struct fixture *fx = *state;
	open_ok(fx);
	struct store *st = fx->st;
	assert_int_equal(store_inbox_record(st, "feishu", "msg:om_1", "im.message.receive_v1", 1000), STORE_OK);
	assert_int_equal(store_inbox_record(st, "feishu", "msg:om_1", "im.message.receive_v1", 1001), STORE_DUP);
	assert_int_equal(store_inbox_record(st, "dingtalk", "msg:om_1", "x", 1002), STORE_OK);
	assert_int_equal(store_inbox_record(st, "feishu", "evt:e2", "x", 5000), STORE_OK);
	assert_int_equal(store_inbox_prune(st, 1002), 1); /* strictly older than the cutoff */
	assert_int_equal(store_inbox_prune(st, 1002), 0);
	assert_int_equal(store_inbox_record(st, "feishu", "msg:om_1", "x", 6000), STORE_OK);
	assert_int_equal(store_inbox_record(st, "dingtalk", "msg:om_1", "x", 6000), STORE_DUP);
	assert_int_equal(store_inbox_prune(st, 5001), 2);
	assert_int_equal(store_inbox_record(st, "dingtalk", "msg:om_1", "x", 6000), STORE_OK);
	assert_int_equal(store_inbox_record(st, "feishu", "evt:e2", "x", 6000), STORE_OK); /* pruned too */
	assert_int_equal(store_inbox_record(st, "feishu", "msg:om_1", "x", 6000), STORE_DUP);

	/* rolled back records are gone */
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(store_inbox_record(st, "feishu", "evt:tx", "x", 7000), STORE_OK);
	store_rollback(st);
	assert_int_equal(store_inbox_record(st, "feishu", "evt:tx", "x", 7000), STORE_OK);
}

/* The chat's reply webhook: a new URL is stored at once, the same URL only
 * when its expiry moved by STORE_WEBHOOK_REFRESH_MS or more, an older one
 * never; the row is what store_webhook_get answers. */
static void expect_webhook(struct store *st, const char *chat, ms_t valid_at, const char *want)
{
	char *url = store_webhook_get(st, "dingtalk", chat, valid_at);
	if (want)
		assert_string_equal(url ? url : "(none)", want);
	else
		assert_null(url);
	free(url);
}

static void test_webhook_rewrites(void **state)
{
	struct fixture *fx = *state;
	open_ok(fx);
	struct store *st = fx->st;
	const ms_t t = 5400000, step = STORE_WEBHOOK_REFRESH_MS;
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://a", t), STORE_OK);
	expect_webhook(st, "cid", t - 1, "http://a");
	/* the same URL, its expiry a little later: the row is left alone */
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://a", t + step - 1), STORE_OK);
	expect_webhook(st, "cid", t, NULL);
	/* ...until it moved by the refresh interval */
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://a", t + step), STORE_OK);
	expect_webhook(st, "cid", t + step - 1, "http://a");
	/* a new URL replaces it at once, even with the same expiry */
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://b", t + step), STORE_OK);
	expect_webhook(st, "cid", t, "http://b");
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://c", t + step + 1), STORE_OK);
	expect_webhook(st, "cid", t, "http://c");
	/* an older message's URL never does */
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://a", t + step), STORE_OK);
	expect_webhook(st, "cid", t, "http://c");
	/* one chat's row is not another's */
	expect_webhook(st, "other", 0, NULL);
	/* a rolled-back put leaves the row as it was */
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://d", t + 10 * step), STORE_OK);
	store_rollback(st);
	expect_webhook(st, "cid", t, "http://c");
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://c", t + step + 2), STORE_OK);
	expect_webhook(st, "cid", t + step + 1, NULL); /* lags by less than the interval */
}

/* On SQLite the store remembers the rows it committed and skips a put the
 * SQL would not apply: what a rolled-back transaction or savepoint wrote,
 * and a forgotten URL, must not be taken for the row. */
static void test_webhook_memo_follows_transactions(void **state)
{
	struct fixture *fx = *state;
	open_ok(fx);
	struct store *st = fx->st;
	const ms_t t = 5400000;
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://a", t), STORE_OK);

	/* a batch that rolls back: the same put afterwards is stored */
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://b", t + 1), STORE_OK);
	expect_webhook(st, "cid", t, "http://b");
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://b", t + 2), STORE_OK);
	store_rollback(st);
	expect_webhook(st, "cid", t - 1, "http://a");
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://b", t + 1), STORE_OK);
	expect_webhook(st, "cid", t, "http://b");

	/* an event's savepoint rolled back inside a batch that commits */
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(store_savepoint(st), STORE_OK);
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://c", t + 2), STORE_OK);
	assert_int_equal(store_rollback_to(st), STORE_OK);
	expect_webhook(st, "cid", t, "http://b");
	assert_int_equal(store_savepoint(st), STORE_OK);
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://c", t + 2), STORE_OK);
	assert_int_equal(store_release(st), STORE_OK);
	assert_int_equal(store_commit(st), STORE_OK);
	expect_webhook(st, "cid", t + 1, "http://c");

	/* the URL changes back and forth within one batch: the last is stored */
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://d", t + 3), STORE_OK);
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://c", t + 4), STORE_OK);
	assert_int_equal(store_commit(st), STORE_OK);
	expect_webhook(st, "cid", t + 3, "http://c");

	/* a URL the platform refused and forgot: the same put stores it again */
	assert_int_equal(store_webhook_forget(st, "dingtalk", "cid", "http://c"), STORE_OK);
	expect_webhook(st, "cid", 0, NULL);
	assert_int_equal(store_webhook_put(st, "dingtalk", "cid", "http://c", t + 4), STORE_OK);
	expect_webhook(st, "cid", t + 3, "http://c");

	/* more chats than the memo holds: each still ends with its newest URL */
	char chat[32], url[64];
	for (int round = 0; round < 3; round++) {
		assert_int_equal(store_begin(st), STORE_OK);
		for (int i = 0; i < 400; i++) {
			snprintf(chat, sizeof chat, "cid_%d", i);
			snprintf(url, sizeof url, "http://r%d/%d", round, i);
			assert_int_equal(store_webhook_put(st, "dingtalk", chat, url, t + round), STORE_OK);
		}
		assert_int_equal(store_commit(st), STORE_OK);
	}
	for (int i = 0; i < 400; i++) {
		snprintf(chat, sizeof chat, "cid_%d", i);
		snprintf(url, sizeof url, "http://r2/%d", i);
		expect_webhook(st, chat, t + 1, url);
	}
}

static int64_t add(struct store *st, const char *chat, const char *text, ms_t now)
{
	int64_t id = -1;
	char body[64];
	snprintf(body, sizeof body, "{\"text\":\"%s\"}", text);
	assert_int_equal(store_outbox_add(st, "feishu", chat, "om_x", NULL, "text", body, now, &id), STORE_OK);
	assert_true(id > 0);
	return id;
}

/* Loads the due rows at now and checks their ids, in order. */
static void expect_due(struct store *st, ms_t now, const int64_t *ids, size_t n)
{
	struct outbox_row rows[8];
	size_t got;
	assert_int_equal(store_outbox_due(st, now, rows, 8, &got), STORE_OK);
	assert_int_equal(got, n);
	for (size_t i = 0; i < got; i++) {
		assert_int_equal(rows[i].id, ids[i]);
		outbox_row_free(&rows[i]);
	}
}

static void test_outbox_order(void **state)
{
	struct fixture *fx = *state;
	open_ok(fx);
	struct store *st = fx->st;
	assert_int_equal(store_outbox_next_due(st), -1);
	assert_int_equal(store_outbox_pending(st), 0);
	int64_t a1 = add(st, "oc_A", "A1", 100);
	int64_t a2 = add(st, "oc_A", "A2", 110);
	int64_t b1 = add(st, "oc_B", "B1", 120);
	assert_int_equal(store_outbox_pending(st), 3);
	assert_int_equal(store_outbox_next_due(st), 100);
	expect_due(st, 1000, (int64_t[]){ a1, b1 }, 2);
	expect_due(st, 100, (int64_t[]){ a1 }, 1);   /* B1 is not due yet */
	expect_due(st, 99, NULL, 0);

	struct outbox_row one[1];
	{
		size_t got_n;
		assert_int_equal(store_outbox_due(st, 1000, one, 1, &got_n), STORE_OK);
		assert_int_equal(got_n, 1);
	} /* max is honoured */
	assert_string_equal(one[0].body, "{\"text\":\"A1\"}");
	outbox_row_free(&one[0]);

	assert_int_equal(store_outbox_sent(st, a1, "om_sent_a1", 1000), STORE_OK);
	expect_due(st, 1000, (int64_t[]){ a2, b1 }, 2);
	assert_int_equal(store_outbox_pending(st), 2);
	/* a sent row cannot be put back into retry */
	assert_int_equal(store_outbox_retry(st, a1, 0, "late"), STORE_OK);
	expect_due(st, 1000, (int64_t[]){ a2, b1 }, 2);

	/* retry in the future hides A2 -- and keeps A3 behind it */
	int64_t a3 = add(st, "oc_A", "A3", 130);
	assert_int_equal(store_outbox_retry(st, a2, 5000, "http 500"), STORE_OK);
	expect_due(st, 1000, (int64_t[]){ b1 }, 1);
	assert_int_equal(store_outbox_next_due(st), 120);
	struct outbox_row rows[4];
	{
		size_t got_n;
		assert_int_equal(store_outbox_due(st, 5000, rows, 4, &got_n), STORE_OK);
		assert_int_equal(got_n, 2);
	}
	assert_int_equal(rows[0].id, a2);
	assert_int_equal(rows[0].attempts, 1);
	assert_int_equal(rows[0].next_attempt_at, 5000);
	assert_int_equal(rows[1].id, b1);
	outbox_row_free(&rows[0]);
	outbox_row_free(&rows[1]);

	/* a failed row is not due and no longer blocks its chat */
	assert_int_equal(store_outbox_failed(st, a2, "gave up"), STORE_OK);
	expect_due(st, 1000, (int64_t[]){ b1, a3 }, 2); /* oldest (lowest id) first */
	assert_int_equal(store_outbox_pending(st), 2);
	assert_int_equal(store_outbox_sent(st, b1, NULL, 1000), STORE_OK);
	assert_int_equal(store_outbox_sent(st, a3, "om_a3", 1000), STORE_OK);
	expect_due(st, 1000000, NULL, 0);
	assert_int_equal(store_outbox_pending(st), 0);
	assert_int_equal(store_outbox_next_due(st), -1);
}

static void test_outbox_fields_and_idem_keys(void **state)
{
	struct fixture *fx = *state;
	open_ok(fx);
	struct store *st = fx->st;
	enum { N = 8 };
	for (int i = 0; i < N; i++) {
		char chat[16];
		snprintf(chat, sizeof chat, "oc_%d", i);
		assert_int_equal(store_outbox_add(st, "feishu", chat, NULL, i ? NULL : "om_card", "status",
						  "{}", 100 + i, NULL), STORE_OK);
	}
	struct outbox_row rows[N];
	{
		size_t got_n;
		assert_int_equal(store_outbox_due(st, 1000, rows, N, &got_n), STORE_OK);
		assert_int_equal(got_n, N);
	}
	assert_null(rows[0].reply_to);
	assert_string_equal(rows[0].update_of, "om_card");
	assert_null(rows[1].update_of);
	for (int i = 0; i < N; i++) {
		assert_non_null(rows[i].idem_key);
		size_t len = strlen(rows[i].idem_key);
		assert_true(len > 0 && len <= 50);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(rows[i].idem_key, rows[j].idem_key);
	}
	for (int i = 0; i < N; i++)
		outbox_row_free(&rows[i]);

	/* a rolled-back add leaves nothing behind */
	assert_int_equal(store_begin(st), STORE_OK);
	add(st, "oc_tx", "gone", 100);
	store_rollback(st);
	assert_int_equal(store_outbox_pending(st), N);
	store_rollback(st); /* no transaction open: harmless */
	assert_non_null(store_errmsg(st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_upgrade_to_arrival_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_prune_in_arrival_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_memo_follows_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_fields_and_idem_keys, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
