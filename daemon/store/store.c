/*
 * store.c - the connection: open (the engine by the database named: a
 * SQLite file or a postgresql:// URI; numbered migrations, the prepared
 * statements), close, transactions.  The records live in the files
 * beside it, one per part of the workflow (store_inbox.c, store_outbox.c,
 * store_timers.c, store_directory.c, store_request.c, store_progress.c, ...);
 * store_query.c runs their statements.  Calls go downward only: store.c ->
 * store_query.c, never back.
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "collabd/log.h"
#include "collabd/util.h"

/*
 * Migrations, oldest first.  Never edit a shipped step: add a new one.  Each
 * runs in its own transaction together with its schema_migrations row.
 */
static const char *const migrations[] = {
	/* 1: inbox (dedupe of applied events) and the durable outbox. */
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
	"CREATE INDEX outbox_due ON outbox (state, next_attempt_at);",

	/* 2: the timeline, the platform's message id of what we sent, in-place
	 *    card updates, and a per-chat index so head-of-line ordering stays cheap. */
	"CREATE TABLE timeline ("
	"  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT, kind TEXT NOT NULL,"
	"  subject TEXT, detail TEXT);"
	"CREATE INDEX timeline_subject ON timeline (subject, at);"
	"ALTER TABLE outbox ADD COLUMN platform_message_id TEXT;"
	"ALTER TABLE outbox ADD COLUMN update_of TEXT;"
	"CREATE INDEX outbox_chat ON outbox (chat_id, state, id);",

	/* 3: deadlines and their timers.  Only pending timers are indexed by
	 *    fire time, so finding the next one stays O(log n) however many
	 *    have fired. */
	"CREATE TABLE deadlines ("
	"  key TEXT PRIMARY KEY, policy TEXT NOT NULL, platform TEXT NOT NULL, chat_id TEXT NOT NULL,"
	"  subject TEXT NOT NULL, people TEXT NOT NULL, started_at INTEGER NOT NULL,"
	"  due_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'open', closed_at INTEGER) WITHOUT ROWID;"
	"CREATE TABLE timers ("
	"  id INTEGER PRIMARY KEY, deadline_key TEXT NOT NULL, chat_id TEXT NOT NULL, step INTEGER NOT NULL,"
	"  fire_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', fired_at INTEGER,"
	"  late INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX timers_pending ON timers (fire_at) WHERE state = 'pending';"
	"CREATE INDEX timers_deadline ON timers (deadline_key, state);",

	/* 4: per-chat reply URLs (DingTalk's sessionWebhook), newest wins. */
	"CREATE TABLE chat_webhooks ("
	"  platform TEXT NOT NULL, chat_id TEXT NOT NULL, url TEXT NOT NULL, expires_at INTEGER NOT NULL,"
	"  PRIMARY KEY (platform, chat_id)) WITHOUT ROWID;",

	/* 5: the department directory: people, departments, contacts, deputies. */
	"CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE departments ("
	"  code TEXT PRIMARY KEY, name TEXT NOT NULL, head TEXT NOT NULL, superior TEXT,"
	"  superior2 TEXT, chat_id TEXT) WITHOUT ROWID;"
	"CREATE TABLE dept_contacts ("
	"  code TEXT NOT NULL REFERENCES departments (code) ON DELETE CASCADE, user_id TEXT NOT NULL,"
	"  pos INTEGER NOT NULL, PRIMARY KEY (code, user_id)) WITHOUT ROWID;"
	"CREATE TABLE deputies ("
	"  user_id TEXT NOT NULL, deputy_id TEXT NOT NULL, from_day TEXT NOT NULL, to_day TEXT NOT NULL,"
	"  PRIMARY KEY (user_id, from_day)) WITHOUT ROWID;",

	/* 6: numbering that is never reused (request ids per year+quarter+department). */
	"CREATE TABLE id_sequences (prefix TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;",

	/* 7: requests and every version of their form. */
	"CREATE TABLE requests ("
	"  id TEXT PRIMARY KEY, dept TEXT NOT NULL, initiator TEXT NOT NULL, platform TEXT NOT NULL,"
	"  chat_id TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL, form TEXT NOT NULL,"
	"  reason TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX requests_initiator ON requests (initiator, created_at);"
	"CREATE TABLE request_versions ("
	"  request_id TEXT NOT NULL, version INTEGER NOT NULL, form TEXT NOT NULL, hash TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL, PRIMARY KEY (request_id, version)) WITHOUT ROWID;",

	/* 8: what a message is about (so a card can be found and updated in
	 *    place), each department's answer to a request, and objections. */
	"ALTER TABLE outbox ADD COLUMN subject TEXT;"
	"CREATE INDEX outbox_subject ON outbox (subject) WHERE subject IS NOT NULL;"
	"CREATE TABLE request_depts ("
	"  request_id TEXT NOT NULL, dept TEXT NOT NULL, state TEXT NOT NULL, signed_by TEXT,"
	"  signed_at INTEGER, version INTEGER, hash TEXT, PRIMARY KEY (request_id, dept));"
	"CREATE TABLE objections ("
	"  id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, dept TEXT NOT NULL, raised_by TEXT NOT NULL,"
	"  explanation TEXT NOT NULL, proposal TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open',"
	"  answer TEXT, answered_at INTEGER, created_at INTEGER NOT NULL);"
	"CREATE INDEX objections_request ON objections (request_id, state);",

	/* 9: step 3 -- each executing department's progress owner, every progress
	 *    update (a second one the same day is a new revision: history kept),
	 *    and each department's verdict per working day at the cut-off. */
	"CREATE TABLE progress_owners ("
	"  request_id TEXT NOT NULL, dept TEXT NOT NULL, user_id TEXT NOT NULL, set_by TEXT,"
	"  set_at INTEGER NOT NULL, PRIMARY KEY (request_id, dept)) WITHOUT ROWID;"
	"CREATE TABLE progress_updates ("
	"  id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, dept TEXT NOT NULL, day TEXT NOT NULL,"
	"  revision INTEGER NOT NULL, author TEXT NOT NULL, done TEXT NOT NULL, undone TEXT NOT NULL,"
	"  next TEXT NOT NULL, late INTEGER NOT NULL DEFAULT 0, submitted_at INTEGER NOT NULL,"
	"  UNIQUE (request_id, day, dept, revision));"
	"CREATE TABLE progress_days ("
	"  request_id TEXT NOT NULL, dept TEXT NOT NULL, day TEXT NOT NULL, state TEXT NOT NULL,"
	"  decided_at INTEGER NOT NULL, PRIMARY KEY (request_id, dept, day)) WITHOUT ROWID;",

	/* 10: step 4 -- issue reports (问题反馈表), the departments that receive
	 *     them, the response, the solution record and the resolution.
	 *     responded_at is the first response (a reopened issue keeps it;
	 *     the timeline has every step); response_due when it was due;
	 *     alerted_at when the alert went out (held to working hours for
	 *     a non-urgent issue reported outside them). */
	"CREATE TABLE issues ("
	"  id TEXT PRIMARY KEY, request_id TEXT NOT NULL, reporter TEXT NOT NULL, platform TEXT NOT NULL,"
	"  chat_id TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL, scope TEXT NOT NULL,"
	"  description TEXT NOT NULL, occurred_at INTEGER NOT NULL, expected_at INTEGER, named_user TEXT,"
	"  state TEXT NOT NULL, report_late INTEGER NOT NULL DEFAULT 0, alerted_at INTEGER, response_due INTEGER,"
	"  owner TEXT, meeting_at INTEGER, meeting_mode TEXT, meeting_where TEXT,"
	"  responded_by TEXT, responded_at INTEGER,"
	"  cause TEXT, measures TEXT, solution_owner TEXT, solution_due INTEGER, solution_at INTEGER,"
	"  result TEXT, resolved_by TEXT, resolved_at INTEGER, reopen_count INTEGER NOT NULL DEFAULT 0,"
	"  reopen_reason TEXT, reopened_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE INDEX issues_request ON issues (request_id, state);"
	"CREATE TABLE issue_depts ("
	"  issue_id TEXT NOT NULL, dept TEXT NOT NULL, PRIMARY KEY (issue_id, dept));",

	/* 11: step 5 -- completion with its deliverables (a JSON array of
	 *     {kind: link|file, value}), the issues still open and the reason
	 *     given, and the retrospective's due time; the archive entry
	 *     (协作项目库): its name, its directory relative to archive.dir
	 *     ("2026/Q4"), the retrospective report once written (JSON, kept so
	 *     an export prints the same figures); each department's
	 *     retrospective answers (a JSON object by question; a second answer
	 *     replaces the first and counts a revision). */
	"CREATE TABLE completions ("
	"  request_id TEXT PRIMARY KEY, completed_by TEXT NOT NULL, completed_at INTEGER NOT NULL,"
	"  deliverables TEXT NOT NULL, open_issues TEXT NOT NULL DEFAULT '[]', open_issues_reason TEXT,"
	"  retro_due INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE archives ("
	"  name TEXT PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, dir TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL, written_at INTEGER NOT NULL, report_at INTEGER, report TEXT) WITHOUT ROWID;"
	"CREATE TABLE retro_answers ("
	"  request_id TEXT NOT NULL, dept TEXT NOT NULL, author TEXT NOT NULL, answers TEXT NOT NULL,"
	"  answered_at INTEGER NOT NULL, revision INTEGER NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (request_id, dept)) WITHOUT ROWID;",

	/* 12: the pending outbox rows in id order, so that picking the next
	 *     sendable rows walks the backlog oldest first and stops at the batch
	 *     size instead of sorting the whole backlog on every pass. */
	"CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';",

	/* 13: the board at scale (100,000 archived requests): the archive list
	 *     newest first, paged; requests by state (the overview, /metrics). */
	"CREATE INDEX archives_created ON archives (created_at);"
	"CREATE INDEX requests_state ON requests (state, updated_at);",

	/* 14: poison events.  inbox_attempts counts, durably, how often an event
	 *     failed to apply (the count must survive the restarts a poison
	 *     event may cause); after a few it goes to dead_letters with the
	 *     payload as received (a blob: it may not even be valid UTF-8), so
	 *     it is acked, visible, and can be replayed once the cause is fixed. */
	"CREATE TABLE inbox_attempts ("
	"  platform TEXT NOT NULL, dedupe_key TEXT NOT NULL, attempts INTEGER NOT NULL, last_error TEXT,"
	"  last_at INTEGER NOT NULL, PRIMARY KEY (platform, dedupe_key)) WITHOUT ROWID;"
	"CREATE TABLE dead_letters ("
	"  id INTEGER PRIMARY KEY, platform TEXT NOT NULL, dedupe_key TEXT NOT NULL, event_type TEXT NOT NULL,"
	"  chat_id TEXT, user_id TEXT, topic TEXT, frame_id TEXT, payload BLOB NOT NULL, error TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'dead', created_at INTEGER NOT NULL,"
	"  replayed_at INTEGER, UNIQUE (platform, dedupe_key));"
	"CREATE INDEX dead_letters_state ON dead_letters (state, id);",

	/* 15: several instances on one PostgreSQL store: which instance is
	 *     sending an outbox row and until when (a lease: when it dies with
	 *     its instance, another takes the row over).  Unused on SQLite,
	 *     where one process is the only sender. */
	"ALTER TABLE outbox ADD COLUMN claimed_by TEXT;"
	"ALTER TABLE outbox ADD COLUMN claim_until INTEGER;"
	/* ... and the platforms' rate limits as token buckets every instance
	 * draws from (tokens at last_ms, wall-clock milliseconds). */
	"CREATE TABLE rate_buckets (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL,"
	"  last_ms INTEGER NOT NULL) WITHOUT ROWID;",

	/* 16: the settings that define the company's behaviour (the calendar
	 *     and admins) as the cluster's shared copy: one JSON document and a
	 *     generation that every change bumps, so that each instance notices
	 *     a change by reading one number.  A single SQLite instance keeps
	 *     its copy here too (seeded from its files at start). */
	"CREATE TABLE shared_settings (name TEXT PRIMARY KEY, generation INTEGER NOT NULL,"
	"  settings TEXT NOT NULL, published_by TEXT NOT NULL, published_at INTEGER NOT NULL) WITHOUT ROWID;",

	/* 17: the inbox in arrival order (SQLite).  Its index on received_at
	 *     cost a third of an event's insert under a flood (issue 14); as a
	 *     rowid table a new row goes at the end of the table's B-tree (the
	 *     key is the second B-tree) and retention deletes the oldest rows
	 *     in rowid order, visiting only those (S_INBOX_PRUNE).  The rows
	 *     already there are copied oldest first, so their rowids keep that
	 *     order too.  The key leads with dedupe_key, the column that
	 *     differs: with platform first every comparison in the key's
	 *     B-tree tied on it and took SQLite's slow general path (the key's
	 *     search was a sixth of the insert).  PostgreSQL keeps its index
	 *     (migrations_pg). */
	"CREATE TABLE inbox_by_arrival ("
	"  platform TEXT NOT NULL, dedupe_key TEXT NOT NULL, event_type TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL, PRIMARY KEY (dedupe_key, platform));"
	"INSERT INTO inbox_by_arrival (platform, dedupe_key, event_type, received_at)"
	"  SELECT platform, dedupe_key, event_type, received_at FROM inbox ORDER BY received_at;"
	"DROP TABLE inbox;"
	"ALTER TABLE inbox_by_arrival RENAME TO inbox;",
};

/*
 * PostgreSQL's text of the steps where more differs than pg_ddl_new()
 * rewrites (types, WITHOUT ROWID): by version, NULL where the SQLite text
 * serves.  SQLite's implicit rowid orders a department's answers in the
 * order they were asked; on PostgreSQL those tables get a rowid column of
 * their own, so the same ORDER BY rowid reads the same on both.
 */
static const char *const migrations_pg[] = {
	[1] = "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	      "INSERT INTO meta (key, value) VALUES ('instance_id', substr(md5(random()::text || clock_timestamp()::text), 1, 12));"
	      "CREATE TABLE inbox ("
	      "  platform TEXT NOT NULL, dedupe_key TEXT NOT NULL, event_type TEXT NOT NULL,"
	      "  received_at INTEGER NOT NULL, PRIMARY KEY (platform, dedupe_key));"
	      "CREATE INDEX inbox_received ON inbox (received_at);"
	      "CREATE TABLE outbox ("
	      "  id INTEGER PRIMARY KEY, platform TEXT NOT NULL, chat_id TEXT NOT NULL,"
	      "  reply_to TEXT, kind TEXT NOT NULL, body TEXT NOT NULL,"
	      "  idem_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL DEFAULT 'pending',"
	      "  attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
	      "  next_attempt_at INTEGER NOT NULL, sent_at INTEGER, last_error TEXT);"
	      "CREATE INDEX outbox_due ON outbox (state, next_attempt_at);"
	      /* SQLite's IFNULL and instr, which the statements use, under their names. */
	      "CREATE FUNCTION ifnull(anyelement, anyelement) RETURNS anyelement"
	      "  LANGUAGE sql IMMUTABLE AS 'SELECT coalesce($1, $2)';"
	      "CREATE FUNCTION instr(text, text) RETURNS integer"
	      "  LANGUAGE sql IMMUTABLE AS 'SELECT strpos($1, $2)';",
	[8] = "ALTER TABLE outbox ADD COLUMN subject TEXT;"
	      "CREATE INDEX outbox_subject ON outbox (subject) WHERE subject IS NOT NULL;"
	      "CREATE TABLE request_depts ("
	      "  rowid INTEGER GENERATED ALWAYS AS IDENTITY,"
	      "  request_id TEXT NOT NULL, dept TEXT NOT NULL, state TEXT NOT NULL, signed_by TEXT,"
	      "  signed_at INTEGER, version INTEGER, hash TEXT, PRIMARY KEY (request_id, dept));"
	      "CREATE TABLE objections ("
	      "  id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, dept TEXT NOT NULL, raised_by TEXT NOT NULL,"
	      "  explanation TEXT NOT NULL, proposal TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open',"
	      "  answer TEXT, answered_at INTEGER, created_at INTEGER NOT NULL);"
	      "CREATE INDEX objections_request ON objections (request_id, state);",
	/* A heap table has no rowid order to prune by: the inbox keeps its
	 * index on received_at, and step 17 changes nothing here. */
	[17] = "SELECT 1",
};

/* Extra PostgreSQL statements after a step (same transaction), by version. */
static const char *const migrations_pg_after[] = {
	[10] = "ALTER TABLE issue_depts ADD COLUMN rowid INTEGER GENERATED ALWAYS AS IDENTITY;",
};

int store_schema_version(void) { return (int)ARRAY_LEN(migrations); }

const char *store_errmsg(struct store *st) { return st->ops->errmsg(st); }

int store_version_found(struct store *st) { return st->version_found; }

const char *store_engine_name(const struct store *st) { return st->ops->name; }

const char *store_instance_id(const struct store *st) { return st->instance; }

int store_is_shared(const struct store *st) { return st->ops->dialect == DIALECT_PG; }

void store_set_limits(struct store *st, const struct store_limits *lim)
{
	if (st->ops->set_limits)
		st->ops->set_limits(st, lim);
}

long store_maintain(struct store *st) { return st->ops->maintain ? st->ops->maintain(st) : -1; }

int store_reachable(struct store *st) { return st->ops->reachable ? st->ops->reachable(st) : 1; }

/* COLLABD_INSTANCE_ID, else host and process: a restarted instance is a new
 * one, so the leases of the one that died simply expire. */
static void name_instance(struct store *st)
{
	const char *env = getenv("COLLABD_INSTANCE_ID");
	if (env && *env) {
		snprintf(st->instance, sizeof st->instance, "%s", env);
		return;
	}
	char host[64] = "host";
	gethostname(host, sizeof host - 1);
	snprintf(st->instance, sizeof st->instance, "%s-%ld", host, (long)getpid());
}

static int exec_sql(struct store *st, const char *sql, char *err, size_t errsz)
{
	return st->ops->exec(st, sql, err, errsz);
}

static int current_version(struct store *st, int *version, char *err, size_t errsz)
{
	if (exec_sql(st, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)", err, errsz))
		return -1;
	struct stmt *s = store_sql(st, "SELECT MAX(version) FROM schema_migrations");
	if (!s || store_step(st, s) != STEP_ROW) {
		snprintf(err, errsz, "%s", st->ops->errmsg(st));
		return -1;
	}
	*version = stmt_col_type(s, 0) == COL_NULL ? 0 : stmt_col_int(s, 0);
	stmt_reset(s);
	return 0;
}

/* Step v's text for this engine: a new string (caller frees). */
static char *migration_sql_new(struct store *st, int v)
{
	if (store_dialect(st) == DIALECT_SQLITE)
		return xstrdup(migrations[v - 1]);
	const char *pg = migrations[v - 1];
	if ((size_t)v < ARRAY_LEN(migrations_pg) && migrations_pg[v])
		pg = migrations_pg[v];
	const char *after = (size_t)v < ARRAY_LEN(migrations_pg_after) ? migrations_pg_after[v] : NULL;
	char *joined = xasprintf("%s%s", pg, after ? after : "");
	char *out = pg_ddl_new(joined);
	free(joined);
	return out;
}

static enum store_rc migrate(struct store *st, int from, char *err, size_t errsz)
{
	int newest = store_schema_version();
	if (from > newest) {
		snprintf(err, errsz,
			 "database schema version %d is newer than this collabd understands (%d); "
			 "run a newer collabd or restore a backup made by this version", from, newest);
		return STORE_TOONEW;
	}
	for (int v = from + 1; v <= newest; v++) {
		char ins[128];
		snprintf(ins, sizeof ins,
			 "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, %lld)",
			 v, (long long)clock_now_ms());
		if (exec_sql(st, store_dialect_sql(st, "BEGIN IMMEDIATE", "BEGIN"), err, errsz))
			return STORE_ERR;
		char *sql = migration_sql_new(st, v);
		int failed = exec_sql(st, sql, err, errsz) || exec_sql(st, ins, err, errsz);
		free(sql);
		if (failed) {
			char tmp[256];
			snprintf(tmp, sizeof tmp, "%s", err);
			snprintf(err, errsz, "migration to schema version %d failed: %s", v, tmp);
			char ignored[16];
			exec_sql(st, "ROLLBACK", ignored, sizeof ignored);
			return STORE_ERR;
		}
		if (exec_sql(st, "COMMIT", err, errsz))
			return STORE_ERR;
		if (from > 0)
			log_info("msg=\"database schema upgraded\" version=%d", v);
	}
	return STORE_OK;
}

/* Reads the version and migrates.  On PostgreSQL several instances may start
 * at once: an advisory lock lets one migrate while the others wait, then
 * they read the version it left. */
static enum store_rc open_schema(struct store *st, char *err, size_t errsz)
{
	int pg = store_dialect(st) == DIALECT_PG;
	if (pg && exec_sql(st, "SELECT pg_advisory_lock(7301150)", err, errsz))
		return STORE_ERR;
	enum store_rc rc = STORE_ERR;
	if (!current_version(st, &st->version_found, err, errsz))
		rc = migrate(st, st->version_found, err, errsz);
	if (pg) {
		char ignored[16];
		exec_sql(st, "SELECT pg_advisory_unlock(7301150)", ignored, sizeof ignored);
	}
	return rc;
}

enum store_rc store_open(const char *database, struct store **out, char *err, size_t errsz)
{
	struct store *st = xcalloc(1, sizeof *st);
	enum store_rc rc = STORE_ERR;
	*out = NULL;
	name_instance(st);
	int opened = store_is_pg_uri(database) ? db_pg_open(st, database, err, errsz)
					       : db_sqlite_open(st, database, err, errsz);
	if (opened)
		goto fail;
	if ((rc = open_schema(st, err, errsz)) != STORE_OK)
		goto fail;
	if ((rc = store_prepare_all(st, err, errsz)) != STORE_OK)
		goto fail;
	webhook_memo_start(st);
	*out = st;
	return STORE_OK;
fail:
	if (rc == STORE_OK)
		rc = STORE_ERR;
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	store_finalize_all(st);
	webhook_memo_free(st);
	if (st->ops)
		st->ops->close(st);
	free(st);
}

enum store_rc store_begin(struct store *st)
{
	enum store_rc rc = store_step_done(st, store_stmt(st, S_BEGIN));
	if (rc == STORE_OK)
		webhook_memo_on_begin(st);
	return rc;
}

/* After a store_begin_nowait() transaction ended: synchronous=FULL again,
 * so that every other commit syncs before it returns, as it always did. */
static void end_nowait(struct store *st)
{
	if (!st->nowait_open)
		return;
	st->nowait_open = 0;
	/* Prepared once (store_sql caches it): this runs twice per batch. */
	store_step_done(st, store_sql(st, "PRAGMA synchronous=FULL"));
}

enum store_rc store_begin_nowait(struct store *st)
{
	/* SQLite refuses to change it inside a transaction: set it before. */
	if (st->wal_sync && !st->sync_normal) {
		if (store_step_done(st, store_sql(st, "PRAGMA synchronous=NORMAL")) != STORE_OK)
			return STORE_ERR;
		st->nowait_open = 1;
	}
	enum store_rc rc = store_begin(st);
	if (rc != STORE_OK)
		end_nowait(st);
	return rc;
}

enum store_rc store_commit_nowait(struct store *st, uint64_t *seq)
{
	int nowait = st->nowait_open;
	enum store_rc rc = store_step_done(st, store_stmt(st, S_COMMIT));
	/* The memo counts the batch's puts as committed now, before their sync:
	 * the rows are committed (every later transaction reads them), only
	 * their durability is pending, and a power cut before the sync takes
	 * the rows, the memo (it lives in this process) and the acks (none
	 * left) together: the platform redelivers and the puts run again. */
	webhook_memo_on_end(st, rc == STORE_OK);
	if (rc != STORE_OK)
		return rc; /* still open: the caller rolls back (end_nowait then) */
	end_nowait(st);
	*seq = ++st->commit_seq;
	if (!nowait) {
		st->durable_seq = *seq; /* synced by COMMIT (PostgreSQL; SQLite without its threads; or, testing, never) */
		return STORE_OK;
	}
	if (db_sqlite_sync_request(st, *seq) == 0)
		return STORE_OK;
	/* No WAL file to hand to the threads: sync here. */
	return store_sync(st);
}

int store_is_durable(struct store *st, uint64_t seq)
{
	if (seq <= st->durable_seq)
		return 1;
	return st->wal_sync && db_sqlite_durable(st) >= seq;
}

enum store_rc store_sync(struct store *st)
{
	if (!st->wal_sync || st->sync_normal || st->durable_seq >= st->commit_seq)
		return STORE_OK;
	if (db_sqlite_sync_now(st, st->commit_seq)) {
		st->nerrors++;
		log_error("msg=\"cannot sync the wal\"");
		return STORE_ERR;
	}
	st->durable_seq = st->commit_seq;
	return STORE_OK;
}

enum store_rc store_commit(struct store *st)
{
	if (st->nowait_open) {
		uint64_t seq;
		enum store_rc rc = store_commit_nowait(st, &seq);
		return rc == STORE_OK ? store_sync(st) : rc;
	}
	enum store_rc rc = store_step_done(st, store_stmt(st, S_COMMIT));
	webhook_memo_on_end(st, rc == STORE_OK);
	if (rc != STORE_OK)
		return rc;
	/* FULL synced the log if this transaction wrote to it; an inbox commit
	 * still waiting for its sync is made durable here too (a transaction
	 * that wrote nothing syncs nothing, so do not count on this one's). */
	if (st->wal_sync && !st->sync_normal && st->durable_seq < st->commit_seq) {
		st->commit_seq++;
		return store_sync(st);
	}
	st->durable_seq = ++st->commit_seq;
	return STORE_OK;
}

void store_rollback(struct store *st)
{
	webhook_memo_on_end(st, 0);
	if (st->ops->in_transaction(st))
		store_step_done(st, store_stmt(st, S_ROLLBACK));
	end_nowait(st);
}

int store_in_transaction(struct store *st) { return st->ops->in_transaction(st); }

enum store_rc store_savepoint(struct store *st)
{
	enum store_rc rc = store_step_done(st, store_stmt(st, S_SAVEPOINT));
	if (rc == STORE_OK)
		webhook_memo_on_savepoint(st);
	return rc;
}

enum store_rc store_release(struct store *st)
{
	enum store_rc rc = store_step_done(st, store_stmt(st, S_RELEASE));
	if (rc == STORE_OK)
		webhook_memo_on_release(st);
	return rc;
}

enum store_rc store_rollback_to(struct store *st)
{
	/* ROLLBACK TO keeps the savepoint open: release it too, so the next
	 * event starts from the same depth. */
	if (store_step_done(st, store_stmt(st, S_ROLLBACK_TO)) != STORE_OK)
		return STORE_ERR;
	webhook_memo_on_rollback_to(st);
	return store_release(st);
}

enum store_rc store_set_synchronous(struct store *st, int full)
{
	char err[256];
	/* SQLite's setting; PostgreSQL's commits are as durable as its server
	 * is configured (synchronous_commit). */
	if (store_dialect(st) != DIALECT_SQLITE)
		return STORE_OK;
	if (exec_sql(st, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", err, sizeof err)) {
		log_error("msg=\"cannot set synchronous\" error=\"%s\"", err);
		return STORE_ERR;
	}
	st->sync_normal = !full; /* and the inbox's commits are then never synced either */
	return STORE_OK;
}
