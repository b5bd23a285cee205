/*
 * store.c - SQLite: schema migrations, prepared statements, the records.
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_INBOX_ADD, S_INBOX_PRUNE,
	S_TIMELINE_ADD,
	S_OUTBOX_ADD, S_OUTBOX_DUE, S_OUTBOX_SENT, S_OUTBOX_RETRY, S_OUTBOX_FAILED,
	S_OUTBOX_NEXT, S_OUTBOX_PENDING,
	S_DEADLINE_PUT, S_DEADLINE_GET, S_DEADLINE_CLOSE,
	S_TIMER_ADD, S_TIMER_CANCEL, S_TIMER_NEXT, S_TIMER_DUE, S_TIMER_FIRED, S_TIMER_RESCHEDULE,
	S_TIMER_PENDING,
	S_WEBHOOK_PUT, S_WEBHOOK_GET, S_WEBHOOK_FORGET,
	S_USER_PUT, S_USER_NAME, S_DEPT_PUT, S_DEPT_GET, S_DEPT_LIST, S_DEPT_DELETE_ALL,
	S_CONTACTS_CLEAR, S_CONTACT_ADD, S_CONTACTS_GET, S_DEPUTY_PUT, S_DEPUTY_FOR,
	S_NEXT_SEQ,
	S_REQ_ADD, S_REQ_GET, S_REQ_UPDATE, S_REQ_VERSION_ADD, S_REQ_LIST,
	S_OUTBOX_SUBJECT_SET, S_OUTBOX_SUBJECT_MSG,
	S_RDEPT_PUT, S_RDEPT_LIST, S_RDEPT_SIGN, S_OBJ_ADD, S_OBJ_GET, S_OBJ_ANSWER, S_RDEPT_SET, S_OBJ_REVISED, S_OBJ_OPEN_IDS, S_REQ_RECENT, S_TIMELINE_FOR, S_REQ_VERSIONS,
	S_REQ_SET_CHAT, S_OUTBOX_SUBJECT_BODY,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_INBOX_ADD] = "INSERT OR IGNORE INTO inbox (platform, dedupe_key, event_type, received_at) "
			"VALUES (?1, ?2, ?3, ?4)",
	[S_INBOX_PRUNE] = "DELETE FROM inbox WHERE received_at < ?1",
	[S_TIMELINE_ADD] = "INSERT INTO timeline (at, actor, kind, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_OUTBOX_ADD] = "INSERT INTO outbox (platform, chat_id, reply_to, update_of, kind, body, idem_key, "
			 "created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?7, ?4, ?5, "
			 "  'cd' || (SELECT value FROM meta WHERE key = 'instance_id') || '-' || "
			 "  lower(hex(randomblob(8))), ?6, ?6)",
	[S_OUTBOX_DUE] = "SELECT o.id, o.platform, o.chat_id, o.reply_to, o.kind, o.body, o.idem_key, o.attempts, "
			 "o.next_attempt_at, o.update_of FROM outbox o INDEXED BY outbox_pending "
			 "WHERE o.state = 'pending' AND o.next_attempt_at <= ?1 "
			 "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.chat_id = o.chat_id "
			 "  AND p.state = 'pending' AND p.id < o.id) "
			 "ORDER BY o.id LIMIT ?2",
	[S_OUTBOX_SENT] = "UPDATE outbox SET state = 'sent', sent_at = ?2, platform_message_id = ?3, "
			  "attempts = attempts + 1, last_error = NULL WHERE id = ?1 AND state = 'pending'",
	[S_OUTBOX_RETRY] = "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 "
			   "WHERE id = ?1 AND state = 'pending'",
	[S_OUTBOX_FAILED] = "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2 "
			    "WHERE id = ?1 AND state = 'pending'",
	/* The next time a chat's head row becomes sendable (rows behind a head
	 * that waits for its retry do not count). */
	[S_OUTBOX_NEXT] = "SELECT MIN(o.next_attempt_at) FROM outbox o WHERE o.state = 'pending' "
			  "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.chat_id = o.chat_id "
			  "  AND p.state = 'pending' AND p.id < o.id)",
	[S_OUTBOX_PENDING] = "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
	[S_DEADLINE_PUT] = "INSERT OR REPLACE INTO deadlines (key, policy, platform, chat_id, subject, people, "
			   "started_at, due_at, state, closed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', NULL)",
	[S_DEADLINE_GET] = "SELECT key, policy, platform, chat_id, subject, people, started_at, due_at, state "
			   "FROM deadlines WHERE key = ?1",
	[S_DEADLINE_CLOSE] = "UPDATE deadlines SET state = ?2, closed_at = ?3 WHERE key = ?1 AND state = 'open'",
	[S_TIMER_ADD] = "INSERT INTO timers (deadline_key, chat_id, step, fire_at) VALUES (?1, ?4, ?2, ?3)",
	[S_TIMER_CANCEL] = "UPDATE timers SET state = 'cancelled' WHERE deadline_key = ?1 AND state = 'pending'",
	[S_TIMER_NEXT] = "SELECT MIN(fire_at) FROM timers WHERE state = 'pending'",
	/* By chat, so that one batch holds a chat's pings together. */
	[S_TIMER_DUE] = "SELECT id, deadline_key, step, fire_at, chat_id FROM timers "
			"WHERE state = 'pending' AND fire_at <= ?1 ORDER BY chat_id, fire_at, id LIMIT ?2",
	[S_TIMER_FIRED] = "UPDATE timers SET state = 'fired', fired_at = ?2, late = ?3 "
			  "WHERE id = ?1 AND state = 'pending'",
	[S_TIMER_RESCHEDULE] = "UPDATE timers SET fire_at = MAX(fire_at, ?2) WHERE deadline_key = ?1 AND state = 'pending'",
	[S_TIMER_PENDING] = "SELECT COUNT(*) FROM timers WHERE state = 'pending'",
	[S_WEBHOOK_PUT] = "INSERT INTO chat_webhooks (platform, chat_id, url, expires_at) VALUES (?1, ?2, ?3, ?4) "
			  "ON CONFLICT (platform, chat_id) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at "
			  "WHERE excluded.expires_at >= chat_webhooks.expires_at",
	[S_WEBHOOK_GET] = "SELECT url FROM chat_webhooks WHERE platform = ?1 AND chat_id = ?2 AND expires_at > ?3",
	[S_WEBHOOK_FORGET] = "DELETE FROM chat_webhooks WHERE platform = ?1 AND chat_id = ?2 AND url = ?3",
	[S_USER_PUT] = "INSERT INTO users (user_id, name) VALUES (?1, ?2) "
		       "ON CONFLICT (user_id) DO UPDATE SET name = excluded.name",
	[S_USER_NAME] = "SELECT name FROM users WHERE user_id = ?1",
	[S_DEPT_PUT] = "INSERT INTO departments (code, name, head, superior, superior2, chat_id) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
		       "head = excluded.head, superior = excluded.superior, superior2 = excluded.superior2, "
		       "chat_id = excluded.chat_id",
	[S_DEPT_GET] = "SELECT code, name, head, superior, superior2, chat_id FROM departments WHERE code = ?1",
	[S_DEPT_LIST] = "SELECT code, name, head, superior, superior2, chat_id FROM departments ORDER BY code",
	[S_DEPT_DELETE_ALL] = "DELETE FROM departments",
	[S_CONTACTS_CLEAR] = "DELETE FROM dept_contacts WHERE code = ?1",
	[S_CONTACT_ADD] = "INSERT OR IGNORE INTO dept_contacts (code, user_id, pos) VALUES (?1, ?2, ?3)",
	[S_CONTACTS_GET] = "SELECT user_id FROM dept_contacts WHERE code = ?1 ORDER BY pos",
	[S_DEPUTY_PUT] = "INSERT OR REPLACE INTO deputies (user_id, deputy_id, from_day, to_day) VALUES (?1, ?2, ?3, ?4)",
	[S_DEPUTY_FOR] = "SELECT deputy_id FROM deputies WHERE user_id = ?1 AND from_day <= ?2 AND to_day >= ?2 "
			 "ORDER BY from_day DESC LIMIT 1",
	[S_NEXT_SEQ] = "INSERT INTO id_sequences (prefix, last) VALUES (?1, 1) "
		       "ON CONFLICT (prefix) DO UPDATE SET last = last + 1 RETURNING last",
	[S_REQ_ADD] = "INSERT INTO requests (id, dept, initiator, platform, chat_id, state, version, form, reason, "
		      "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?9)",
	[S_REQ_GET] = "SELECT id, dept, initiator, platform, chat_id, state, version, form, reason, created_at, "
		      "updated_at FROM requests WHERE id = ?1",
	[S_REQ_UPDATE] = "UPDATE requests SET state = ?3, version = ?4, form = ?5, reason = ?6, updated_at = ?7 "
			 "WHERE id = ?1 AND state = ?2",
	[S_REQ_VERSION_ADD] = "INSERT INTO request_versions (request_id, version, form, hash, created_at) "
			      "VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_REQ_LIST] = "SELECT id, dept, initiator, platform, chat_id, state, version, form, reason, created_at, "
		       "updated_at FROM requests WHERE initiator = ?1 OR dept = ?2 ORDER BY created_at DESC LIMIT 20",
	[S_OUTBOX_SUBJECT_SET] = "UPDATE outbox SET subject = ?2 WHERE id = ?1",
	[S_OUTBOX_SUBJECT_MSG] = "SELECT platform_message_id FROM outbox WHERE subject = ?1 AND state = 'sent' "
				 "AND platform_message_id IS NOT NULL ORDER BY id LIMIT 1",
	[S_RDEPT_PUT] = "INSERT INTO request_depts (request_id, dept, state) VALUES (?1, ?2, ?3) "
			"ON CONFLICT (request_id, dept) DO UPDATE SET state = excluded.state",
	[S_RDEPT_LIST] = "SELECT dept, state, signed_by, signed_at, version, hash FROM request_depts "
			 "WHERE request_id = ?1 ORDER BY rowid",
	[S_RDEPT_SIGN] = "UPDATE request_depts SET state = ?3, signed_by = ?4, signed_at = ?5, version = ?6, hash = ?7 "
			 "WHERE request_id = ?1 AND dept = ?2 AND state = 'pending'",
	[S_OBJ_ADD] = "INSERT INTO objections (request_id, dept, raised_by, explanation, proposal, created_at) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_OBJ_GET] = "SELECT request_id, dept, state FROM objections WHERE id = ?1",
	[S_OBJ_ANSWER] = "UPDATE objections SET state = ?3, answer = ?4, answered_at = ?5 WHERE id = ?1 AND state = ?2",
	[S_RDEPT_SET] = "UPDATE request_depts SET state = ?3 WHERE request_id = ?1 AND dept = ?2",
	[S_OBJ_REVISED] = "UPDATE objections SET state = 'revised', answered_at = ?2 "
			  "WHERE request_id = ?1 AND state IN ('accepted', 'open')",
	[S_OBJ_OPEN_IDS] = "SELECT id FROM objections WHERE request_id = ?1 AND state IN ('accepted', 'open')",
	[S_REQ_RECENT] = "SELECT id, dept, initiator, platform, chat_id, state, version, form, reason, created_at, "
			 "updated_at FROM requests ORDER BY created_at DESC LIMIT ?1",
	[S_TIMELINE_FOR] = "SELECT at, actor, kind, detail FROM timeline WHERE subject = ?1 ORDER BY id DESC LIMIT ?2",
	[S_REQ_VERSIONS] = "SELECT COUNT(*) FROM request_versions WHERE request_id = ?1",
	[S_REQ_SET_CHAT] = "UPDATE requests SET chat_id = ?2 WHERE id = ?1",
	[S_OUTBOX_SUBJECT_BODY] = "SELECT body FROM outbox WHERE subject = ?1 ORDER BY id LIMIT 1",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	int version_found;
	struct store_cached *cache; /* the domain files' statements (store_query.c) */
	size_t ncache;
};

struct store_cached {
	const char *sql; /* the caller's static text: its address is the key */
	sqlite3_stmt *stmt;
};

int store_schema_version(void) { return (int)ARRAY_LEN(migrations); }
const char *store_errmsg(struct store *st) { return sqlite3_errmsg(st->db); }
int store_version_found(struct store *st) { return st->version_found; }

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errsz)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int current_version(sqlite3 *db, int *version, char *err, size_t errsz)
{
	if (exec_sql(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)", err, errsz))
		return -1;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT IFNULL(MAX(version), 0) FROM schema_migrations", -1, &s, NULL)) {
		snprintf(err, errsz, "%s", sqlite3_errmsg(db));
		return -1;
	}
	*version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return 0;
}

static enum store_rc migrate(sqlite3 *db, int from, char *err, size_t errsz)
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
		if (exec_sql(db, "BEGIN IMMEDIATE", err, errsz))
			return STORE_ERR;
		if (exec_sql(db, migrations[v - 1], err, errsz) || exec_sql(db, ins, err, errsz)) {
			char tmp[256];
			snprintf(tmp, sizeof tmp, "%s", err);
			snprintf(err, errsz, "migration to schema version %d failed: %s", v, tmp);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return STORE_ERR;
		}
		if (exec_sql(db, "COMMIT", err, errsz))
			return STORE_ERR;
		if (from > 0)
			log_info("msg=\"database schema upgraded\" version=%d", v);
	}
	return STORE_OK;
}

enum store_rc store_open(const char *path, struct store **out, char *err, size_t errsz)
{
	struct store *st = xcalloc(1, sizeof *st);
	enum store_rc rc = STORE_ERR;
	*out = NULL;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	/* A busy timeout only matters for outside readers (sqlite3 shell, backups):
	 * the daemon itself is the only writer. */
	sqlite3_busy_timeout(st->db, 250);
	if (exec_sql(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
		     err, errsz))
		goto fail;
	if (current_version(st->db, &st->version_found, err, errsz))
		goto fail;
	if ((rc = migrate(st->db, st->version_found, err, errsz)) != STORE_OK)
		goto fail;
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL)) {
			snprintf(err, errsz, "preparing statement %d: %s", i, sqlite3_errmsg(st->db));
			rc = STORE_ERR;
			goto fail;
		}
	}
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
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	free(st->cache);
	sqlite3_close(st->db);
	free(st);
}

/* Resets and returns the prepared statement id, ready for binding. */
static sqlite3_stmt *stmt(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Steps a statement that returns no rows. */
static enum store_rc step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	log_error("msg=\"sqlite step failed\" error=\"%s\"", sqlite3_errmsg(st->db));
	return STORE_ERR;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

enum store_rc store_begin(struct store *st) { return step_done(st, stmt(st, S_BEGIN)); }
enum store_rc store_commit(struct store *st) { return step_done(st, stmt(st, S_COMMIT)); }

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		step_done(st, stmt(st, S_ROLLBACK));
}

enum store_rc store_inbox_record(struct store *st, const char *platform, const char *dedupe_key,
				 const char *event_type, ms_t now)
{
	sqlite3_stmt *s = stmt(st, S_INBOX_ADD);
	bind_text(s, 1, platform);
	bind_text(s, 2, dedupe_key);
	bind_text(s, 3, event_type);
	sqlite3_bind_int64(s, 4, now);
	enum store_rc rc = step_done(st, s);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		return STORE_DUP;
	return rc;
}

int store_inbox_prune(struct store *st, ms_t cutoff)
{
	sqlite3_stmt *s = stmt(st, S_INBOX_PRUNE);
	sqlite3_bind_int64(s, 1, cutoff);
	return step_done(st, s) == STORE_OK ? sqlite3_changes(st->db) : -1;
}

enum store_rc store_timeline_add(struct store *st, ms_t at, const char *actor, const char *kind,
				 const char *subject, const char *detail_json)
{
	sqlite3_stmt *s = stmt(st, S_TIMELINE_ADD);
	sqlite3_bind_int64(s, 1, at);
	bind_text(s, 2, actor);
	bind_text(s, 3, kind);
	bind_text(s, 4, subject);
	bind_text(s, 5, detail_json);
	return step_done(st, s);
}

enum store_rc store_outbox_add(struct store *st, const char *platform, const char *chat_id,
			       const char *reply_to, const char *update_of, const char *kind,
			       const char *body_json, ms_t now, int64_t *id_out)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_ADD);
	bind_text(s, 7, update_of);
	bind_text(s, 1, platform);
	bind_text(s, 2, chat_id);
	bind_text(s, 3, reply_to);
	bind_text(s, 4, kind);
	bind_text(s, 5, body_json);
	sqlite3_bind_int64(s, 6, now);
	enum store_rc rc = step_done(st, s);
	if (rc == STORE_OK && id_out)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return rc;
}

sqlite3_stmt *store_sql(struct store *st, const char *sql)
{
	for (size_t i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	sqlite3_stmt *s;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		log_error("msg=\"cannot prepare statement\" error=\"%s\" sql=\"%.60s\"", sqlite3_errmsg(st->db), sql);
		return NULL;
	}
	st->cache = xrealloc(st->cache, (st->ncache + 1) * sizeof *st->cache);
	st->cache[st->ncache++] = (struct store_cached){ .sql = sql, .stmt = s };
	return s;
}

static char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

size_t store_outbox_due(struct store *st, ms_t now, struct outbox_row *rows, size_t max)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_DUE);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	size_t n = 0;
	int rc;
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct outbox_row *r = &rows[n++];
		r->id = sqlite3_column_int64(s, 0);
		r->platform = col_text(s, 1);
		r->chat_id = col_text(s, 2);
		r->reply_to = col_text(s, 3);
		r->kind = col_text(s, 4);
		r->body = col_text(s, 5);
		r->idem_key = col_text(s, 6);
		r->attempts = sqlite3_column_int(s, 7);
		r->next_attempt_at = sqlite3_column_int64(s, 8);
		r->update_of = col_text(s, 9);
	}
	sqlite3_reset(s);
	return n;
}

void outbox_row_free(struct outbox_row *r)
{
	free(r->platform);
	free(r->chat_id);
	free(r->reply_to);
	free(r->update_of);
	free(r->kind);
	free(r->body);
	free(r->idem_key);
	memset(r, 0, sizeof *r);
}

enum store_rc store_outbox_sent(struct store *st, int64_t id, const char *platform_message_id, ms_t now)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_SENT);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	bind_text(s, 3, platform_message_id);
	return step_done(st, s);
}

enum store_rc store_outbox_retry(struct store *st, int64_t id, ms_t next_attempt_at, const char *error)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_RETRY);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, next_attempt_at);
	bind_text(s, 3, error);
	return step_done(st, s);
}

enum store_rc store_outbox_failed(struct store *st, int64_t id, const char *error)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_FAILED);
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, error);
	return step_done(st, s);
}

static int64_t scalar(struct store *st, enum stmt_id id, int64_t if_null)
{
	sqlite3_stmt *s = stmt(st, id);
	int64_t v = if_null;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

ms_t store_outbox_next_due(struct store *st) { return scalar(st, S_OUTBOX_NEXT, -1); }
int64_t store_outbox_pending(struct store *st) { return scalar(st, S_OUTBOX_PENDING, 0); }

/* ---- deadlines and timers ---- */

enum store_rc store_deadline_put(struct store *st, const struct deadline_row *d)
{
	sqlite3_stmt *s = stmt(st, S_DEADLINE_PUT);
	bind_text(s, 1, d->key);
	bind_text(s, 2, d->policy);
	bind_text(s, 3, d->platform);
	bind_text(s, 4, d->chat_id);
	bind_text(s, 5, d->subject);
	bind_text(s, 6, d->people);
	sqlite3_bind_int64(s, 7, d->started_at);
	sqlite3_bind_int64(s, 8, d->due_at);
	return step_done(st, s);
}

enum store_rc store_deadline_get(struct store *st, const char *key, struct deadline_row *out)
{
	sqlite3_stmt *s = stmt(st, S_DEADLINE_GET);
	bind_text(s, 1, key);
	memset(out, 0, sizeof *out);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->key = col_text(s, 0);
		out->policy = col_text(s, 1);
		out->platform = col_text(s, 2);
		out->chat_id = col_text(s, 3);
		out->subject = col_text(s, 4);
		out->people = col_text(s, 5);
		out->started_at = sqlite3_column_int64(s, 6);
		out->due_at = sqlite3_column_int64(s, 7);
		out->state = col_text(s, 8);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

void deadline_row_free(struct deadline_row *d)
{
	free(d->key);
	free(d->policy);
	free(d->platform);
	free(d->chat_id);
	free(d->subject);
	free(d->people);
	free(d->state);
	memset(d, 0, sizeof *d);
}

enum store_rc store_deadline_close(struct store *st, const char *key, const char *state, ms_t now)
{
	sqlite3_stmt *s = stmt(st, S_DEADLINE_CLOSE);
	bind_text(s, 1, key);
	bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, now);
	enum store_rc rc = step_done(st, s);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		return STORE_NOTFOUND;
	return rc;
}

enum store_rc store_timer_add(struct store *st, const char *deadline_key, const char *chat_id, int step,
			     ms_t fire_at)
{
	sqlite3_stmt *s = stmt(st, S_TIMER_ADD);
	bind_text(s, 1, deadline_key);
	bind_text(s, 4, chat_id);
	sqlite3_bind_int(s, 2, step);
	sqlite3_bind_int64(s, 3, fire_at);
	return step_done(st, s);
}

int store_timers_cancel(struct store *st, const char *deadline_key)
{
	sqlite3_stmt *s = stmt(st, S_TIMER_CANCEL);
	bind_text(s, 1, deadline_key);
	return step_done(st, s) == STORE_OK ? sqlite3_changes(st->db) : -1;
}

int store_timers_reschedule(struct store *st, const char *deadline_key, ms_t fire_at)
{
	sqlite3_stmt *s = stmt(st, S_TIMER_RESCHEDULE);
	bind_text(s, 1, deadline_key);
	sqlite3_bind_int64(s, 2, fire_at);
	return step_done(st, s) == STORE_OK ? sqlite3_changes(st->db) : -1;
}

ms_t store_timer_next(struct store *st) { return scalar(st, S_TIMER_NEXT, -1); }
int64_t store_timers_pending(struct store *st) { return scalar(st, S_TIMER_PENDING, 0); }

size_t store_timers_due(struct store *st, ms_t now, struct timer_row *rows, size_t max)
{
	sqlite3_stmt *s = stmt(st, S_TIMER_DUE);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	size_t n = 0;
	while (n < max && sqlite3_step(s) == SQLITE_ROW) {
		struct timer_row *r = &rows[n++];
		r->id = sqlite3_column_int64(s, 0);
		r->deadline_key = col_text(s, 1);
		r->step = sqlite3_column_int(s, 2);
		r->fire_at = sqlite3_column_int64(s, 3);
		r->chat_id = col_text(s, 4);
	}
	sqlite3_reset(s);
	return n;
}

void timer_row_free(struct timer_row *r)
{
	free(r->deadline_key);
	free(r->chat_id);
	memset(r, 0, sizeof *r);
}

enum store_rc store_timer_fired(struct store *st, int64_t id, ms_t now, int late)
{
	sqlite3_stmt *s = stmt(st, S_TIMER_FIRED);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, late);
	return step_done(st, s);
}

/* ---- reply webhooks ---- */

enum store_rc store_webhook_put(struct store *st, const char *platform, const char *chat_id, const char *url,
				ms_t expires_at)
{
	sqlite3_stmt *s = stmt(st, S_WEBHOOK_PUT);
	bind_text(s, 1, platform);
	bind_text(s, 2, chat_id);
	bind_text(s, 3, url);
	sqlite3_bind_int64(s, 4, expires_at);
	return step_done(st, s);
}

char *store_webhook_get(struct store *st, const char *platform, const char *chat_id, ms_t valid_at)
{
	sqlite3_stmt *s = stmt(st, S_WEBHOOK_GET);
	bind_text(s, 1, platform);
	bind_text(s, 2, chat_id);
	sqlite3_bind_int64(s, 3, valid_at);
	char *url = sqlite3_step(s) == SQLITE_ROW ? col_text(s, 0) : NULL;
	sqlite3_reset(s);
	return url;
}

enum store_rc store_webhook_forget(struct store *st, const char *platform, const char *chat_id, const char *url)
{
	sqlite3_stmt *s = stmt(st, S_WEBHOOK_FORGET);
	bind_text(s, 1, platform);
	bind_text(s, 2, chat_id);
	bind_text(s, 3, url);
	return step_done(st, s);
}

/* ---- the department directory ---- */

enum store_rc store_user_put(struct store *st, const char *user_id, const char *name)
{
	sqlite3_stmt *s = stmt(st, S_USER_PUT);
	bind_text(s, 1, user_id);
	bind_text(s, 2, name);
	return step_done(st, s);
}

char *store_user_name(struct store *st, const char *user_id)
{
	sqlite3_stmt *s = stmt(st, S_USER_NAME);
	bind_text(s, 1, user_id);
	char *name = sqlite3_step(s) == SQLITE_ROW ? col_text(s, 0) : NULL;
	sqlite3_reset(s);
	return name;
}

enum store_rc store_dept_put(struct store *st, const struct dept_row *d)
{
	sqlite3_stmt *s = stmt(st, S_DEPT_PUT);
	bind_text(s, 1, d->code);
	bind_text(s, 2, d->name);
	bind_text(s, 3, d->head);
	bind_text(s, 4, d->superior);
	bind_text(s, 5, d->superior2);
	bind_text(s, 6, d->chat_id);
	return step_done(st, s);
}

static void read_dept(sqlite3_stmt *s, struct dept_row *d)
{
	d->code = col_text(s, 0);
	d->name = col_text(s, 1);
	d->head = col_text(s, 2);
	d->superior = col_text(s, 3);
	d->superior2 = col_text(s, 4);
	d->chat_id = col_text(s, 5);
}

enum store_rc store_dept_get(struct store *st, const char *code, struct dept_row *out)
{
	sqlite3_stmt *s = stmt(st, S_DEPT_GET);
	bind_text(s, 1, code);
	memset(out, 0, sizeof *out);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_dept(s, out);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

size_t store_dept_list(struct store *st, struct dept_row **out)
{
	sqlite3_stmt *s = stmt(st, S_DEPT_LIST);
	size_t n = 0, cap = 0;
	*out = NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		read_dept(s, &(*out)[n++]);
	}
	sqlite3_reset(s);
	return n;
}

void dept_row_free(struct dept_row *d)
{
	free(d->code);
	free(d->name);
	free(d->head);
	free(d->superior);
	free(d->superior2);
	free(d->chat_id);
	memset(d, 0, sizeof *d);
}

enum store_rc store_dept_delete_all(struct store *st) { return step_done(st, stmt(st, S_DEPT_DELETE_ALL)); }

enum store_rc store_dept_contacts_set(struct store *st, const char *code, char *const *ids, size_t n)
{
	sqlite3_stmt *s = stmt(st, S_CONTACTS_CLEAR);
	bind_text(s, 1, code);
	enum store_rc rc = step_done(st, s);
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		s = stmt(st, S_CONTACT_ADD);
		bind_text(s, 1, code);
		bind_text(s, 2, ids[i]);
		sqlite3_bind_int(s, 3, (int)i);
		rc = step_done(st, s);
	}
	return rc;
}

size_t store_dept_contacts(struct store *st, const char *code, char ***ids)
{
	sqlite3_stmt *s = stmt(st, S_CONTACTS_GET);
	bind_text(s, 1, code);
	size_t n = 0;
	*ids = NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (n + 1) * sizeof **ids);
		(*ids)[n++] = col_text(s, 0);
	}
	sqlite3_reset(s);
	return n;
}

enum store_rc store_deputy_put(struct store *st, const char *user_id, const char *deputy_id, const char *from_day,
			       const char *to_day)
{
	sqlite3_stmt *s = stmt(st, S_DEPUTY_PUT);
	bind_text(s, 1, user_id);
	bind_text(s, 2, deputy_id);
	bind_text(s, 3, from_day);
	bind_text(s, 4, to_day);
	return step_done(st, s);
}

char *store_deputy_for(struct store *st, const char *user_id, const char *day)
{
	sqlite3_stmt *s = stmt(st, S_DEPUTY_FOR);
	bind_text(s, 1, user_id);
	bind_text(s, 2, day);
	char *id = sqlite3_step(s) == SQLITE_ROW ? col_text(s, 0) : NULL;
	sqlite3_reset(s);
	return id;
}

int64_t store_next_seq(struct store *st, const char *prefix)
{
	sqlite3_stmt *s = stmt(st, S_NEXT_SEQ);
	bind_text(s, 1, prefix);
	int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	/* Step to the end so the statement's write is complete before reset. */
	while (v >= 0 && sqlite3_step(s) == SQLITE_ROW)
		;
	sqlite3_reset(s);
	return v;
}

/* ---- requests ---- */

enum store_rc store_request_add(struct store *st, const struct request_row *r)
{
	sqlite3_stmt *s = stmt(st, S_REQ_ADD);
	bind_text(s, 1, r->id);
	bind_text(s, 2, r->dept);
	bind_text(s, 3, r->initiator);
	bind_text(s, 4, r->platform);
	bind_text(s, 5, r->chat_id);
	bind_text(s, 6, r->state);
	sqlite3_bind_int(s, 7, r->version);
	bind_text(s, 8, r->form);
	sqlite3_bind_int64(s, 9, r->created_at);
	return step_done(st, s);
}

static void read_request(sqlite3_stmt *s, struct request_row *r)
{
	r->id = col_text(s, 0);
	r->dept = col_text(s, 1);
	r->initiator = col_text(s, 2);
	r->platform = col_text(s, 3);
	r->chat_id = col_text(s, 4);
	r->state = col_text(s, 5);
	r->version = sqlite3_column_int(s, 6);
	r->form = col_text(s, 7);
	r->reason = col_text(s, 8);
	r->created_at = sqlite3_column_int64(s, 9);
	r->updated_at = sqlite3_column_int64(s, 10);
}

enum store_rc store_request_get(struct store *st, const char *id, struct request_row *out)
{
	sqlite3_stmt *s = stmt(st, S_REQ_GET);
	bind_text(s, 1, id);
	memset(out, 0, sizeof *out);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_request(s, out);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

size_t store_request_list(struct store *st, const char *user_id, const char *dept, struct request_row **out)
{
	sqlite3_stmt *s = stmt(st, S_REQ_LIST);
	bind_text(s, 1, user_id);
	bind_text(s, 2, dept ? dept : "");
	size_t n = 0;
	*out = NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*out = xrealloc(*out, (n + 1) * sizeof **out);
		read_request(s, &(*out)[n++]);
	}
	sqlite3_reset(s);
	return n;
}

void request_row_free(struct request_row *r)
{
	free(r->id);
	free(r->dept);
	free(r->initiator);
	free(r->platform);
	free(r->chat_id);
	free(r->state);
	free(r->form);
	free(r->reason);
	memset(r, 0, sizeof *r);
}

enum store_rc store_request_update(struct store *st, const char *id, const char *from_state, const char *to_state,
				   int version, const char *form, const char *reason, ms_t now)
{
	sqlite3_stmt *s = stmt(st, S_REQ_UPDATE);
	bind_text(s, 1, id);
	bind_text(s, 2, from_state);
	bind_text(s, 3, to_state);
	sqlite3_bind_int(s, 4, version);
	bind_text(s, 5, form);
	bind_text(s, 6, reason);
	sqlite3_bind_int64(s, 7, now);
	enum store_rc rc = step_done(st, s);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		return STORE_NOTFOUND; /* someone changed the state first */
	return rc;
}

enum store_rc store_request_version_add(struct store *st, const char *id, int version, const char *form,
					const char *hash, ms_t now)
{
	sqlite3_stmt *s = stmt(st, S_REQ_VERSION_ADD);
	bind_text(s, 1, id);
	sqlite3_bind_int(s, 2, version);
	bind_text(s, 3, form);
	bind_text(s, 4, hash);
	sqlite3_bind_int64(s, 5, now);
	return step_done(st, s);
}

/* ---- message subjects, request departments, objections ---- */

enum store_rc store_outbox_set_subject(struct store *st, int64_t id, const char *subject)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_SUBJECT_SET);
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, subject);
	return step_done(st, s);
}

char *store_outbox_subject_message(struct store *st, const char *subject)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_SUBJECT_MSG);
	bind_text(s, 1, subject);
	char *id = sqlite3_step(s) == SQLITE_ROW ? col_text(s, 0) : NULL;
	sqlite3_reset(s);
	return id;
}

enum store_rc store_request_dept_put(struct store *st, const char *request_id, const char *dept, const char *state)
{
	sqlite3_stmt *s = stmt(st, S_RDEPT_PUT);
	bind_text(s, 1, request_id);
	bind_text(s, 2, dept);
	bind_text(s, 3, state);
	return step_done(st, s);
}

size_t store_request_depts(struct store *st, const char *request_id, struct request_dept_row **out)
{
	sqlite3_stmt *s = stmt(st, S_RDEPT_LIST);
	bind_text(s, 1, request_id);
	size_t n = 0;
	*out = NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*out = xrealloc(*out, (n + 1) * sizeof **out);
		struct request_dept_row *r = &(*out)[n++];
		r->dept = col_text(s, 0);
		r->state = col_text(s, 1);
		r->signed_by = col_text(s, 2);
		r->signed_at = sqlite3_column_int64(s, 3);
		r->version = sqlite3_column_int(s, 4);
		r->hash = col_text(s, 5);
	}
	sqlite3_reset(s);
	return n;
}

void request_dept_rows_free(struct request_dept_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].dept);
		free(rows[i].state);
		free(rows[i].signed_by);
		free(rows[i].hash);
	}
	free(rows);
}

enum store_rc store_request_dept_sign(struct store *st, const char *request_id, const char *dept, const char *state,
				      const char *user, ms_t at, int version, const char *hash)
{
	sqlite3_stmt *s = stmt(st, S_RDEPT_SIGN);
	bind_text(s, 1, request_id);
	bind_text(s, 2, dept);
	bind_text(s, 3, state);
	bind_text(s, 4, user);
	sqlite3_bind_int64(s, 5, at);
	sqlite3_bind_int(s, 6, version);
	bind_text(s, 7, hash);
	enum store_rc rc = step_done(st, s);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		return STORE_NOTFOUND; /* not pending any more */
	return rc;
}

enum store_rc store_objection_add(struct store *st, const char *request_id, const char *dept, const char *user,
				  const char *explanation, const char *proposal, ms_t now, int64_t *id_out)
{
	sqlite3_stmt *s = stmt(st, S_OBJ_ADD);
	bind_text(s, 1, request_id);
	bind_text(s, 2, dept);
	bind_text(s, 3, user);
	bind_text(s, 4, explanation);
	bind_text(s, 5, proposal);
	sqlite3_bind_int64(s, 6, now);
	enum store_rc rc = step_done(st, s);
	if (rc == STORE_OK && id_out)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return rc;
}

enum store_rc store_objection_get(struct store *st, int64_t id, char **request_id, char **dept, char **state)
{
	sqlite3_stmt *s = stmt(st, S_OBJ_GET);
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*request_id = col_text(s, 0);
		*dept = col_text(s, 1);
		*state = col_text(s, 2);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

enum store_rc store_objection_answer(struct store *st, int64_t id, const char *from_state, const char *to_state,
				     const char *answer, ms_t now)
{
	sqlite3_stmt *s = stmt(st, S_OBJ_ANSWER);
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, from_state);
	bind_text(s, 3, to_state);
	bind_text(s, 4, answer);
	sqlite3_bind_int64(s, 5, now);
	enum store_rc rc = step_done(st, s);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		return STORE_NOTFOUND;
	return rc;
}

enum store_rc store_request_dept_set(struct store *st, const char *request_id, const char *dept, const char *state)
{
	sqlite3_stmt *s = stmt(st, S_RDEPT_SET);
	bind_text(s, 1, request_id);
	bind_text(s, 2, dept);
	bind_text(s, 3, state);
	return step_done(st, s);
}

size_t store_objections_revised(struct store *st, const char *request_id, ms_t now, int64_t **ids)
{
	sqlite3_stmt *s = stmt(st, S_OBJ_OPEN_IDS);
	bind_text(s, 1, request_id);
	size_t n = 0;
	*ids = NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (n + 1) * sizeof **ids);
		(*ids)[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	s = stmt(st, S_OBJ_REVISED);
	bind_text(s, 1, request_id);
	sqlite3_bind_int64(s, 2, now);
	if (step_done(st, s) != STORE_OK) {
		free(*ids);
		*ids = NULL;
		return (size_t)-1;
	}
	return n;
}

size_t store_request_recent(struct store *st, int limit, struct request_row **out)
{
	sqlite3_stmt *s = stmt(st, S_REQ_RECENT);
	sqlite3_bind_int(s, 1, limit);
	size_t n = 0;
	*out = NULL;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*out = xrealloc(*out, (n + 1) * sizeof **out);
		read_request(s, &(*out)[n++]);
	}
	sqlite3_reset(s);
	return n;
}

json_t *store_timeline_for(struct store *st, const char *subject, int limit)
{
	sqlite3_stmt *s = stmt(st, S_TIMELINE_FOR);
	bind_text(s, 1, subject);
	sqlite3_bind_int(s, 2, limit);
	json_t *out = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *actor = sqlite3_column_text(s, 1), *kind = sqlite3_column_text(s, 2);
		json_array_insert_new(out, 0, json_pack("{s:I,s:s,s:s}", "at", (json_int_t)sqlite3_column_int64(s, 0),
							"actor", actor ? (const char *)actor : "", "kind",
							kind ? (const char *)kind : ""));
	}
	sqlite3_reset(s);
	return out;
}

int store_request_version_count(struct store *st, const char *request_id)
{
	sqlite3_stmt *s = stmt(st, S_REQ_VERSIONS);
	bind_text(s, 1, request_id);
	int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_reset(s);
	return n;
}

enum store_rc store_request_set_chat(struct store *st, const char *id, const char *chat_id)
{
	sqlite3_stmt *s = stmt(st, S_REQ_SET_CHAT);
	bind_text(s, 1, id);
	bind_text(s, 2, chat_id);
	return step_done(st, s);
}

char *store_outbox_subject_body(struct store *st, const char *subject)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_SUBJECT_BODY);
	bind_text(s, 1, subject);
	char *body = sqlite3_step(s) == SQLITE_ROW ? col_text(s, 0) : NULL;
	sqlite3_reset(s);
	return body;
}

/* ---- online backup ---- */

int store_backup(const char *src_path, const char *dst_path, int *pages, char *err, size_t errsz)
{
	sqlite3 *src = NULL, *dst = NULL;
	int rc = -1;
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "cannot open %s: %s", src_path, src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	if (sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "cannot create %s: %s", dst_path, dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	/* Copies while the daemon keeps writing: pages changed meanwhile are
	 * copied again, so the result is one consistent snapshot. */
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, errsz, "backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	int step;
	while ((step = sqlite3_backup_step(b, 256)) == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED)
		sqlite3_sleep(step == SQLITE_OK ? 0 : 50);
	*pages = sqlite3_backup_pagecount(b);
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE)
		snprintf(err, errsz, "backup: %s", sqlite3_errmsg(dst));
	else
		rc = 0;
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}

char *store_user_by_name(struct store *st, const char *name)
{
	json_t *row;
	if (store_row(st, &row, "SELECT user_id FROM users WHERE name = ?1 ORDER BY user_id LIMIT 1", "[s]", name) !=
	    STORE_OK)
		return NULL;
	char *id = xstrdup(json_string_value(json_object_get(row, "user_id")));
	json_decref(row);
	return id;
}
