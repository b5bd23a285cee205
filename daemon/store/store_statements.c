/*
 * store_statements.c - the core records' SQL, prepared once when the store
 * opens (store_prepare_all) and reached by id.  The later steps' files keep
 * their SQL beside their functions instead (store_sql, cached by address).
 */
#include "store_internal.h"

const char *const store_stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT one_event",
	[S_RELEASE] = "RELEASE one_event",
	[S_ROLLBACK_TO] = "ROLLBACK TO one_event",
	[S_INBOX_ADD] = "INSERT OR IGNORE INTO inbox (platform, dedupe_key, event_type, received_at) "
			"VALUES (?1, ?2, ?3, ?4)",
	/* The rows older than the cutoff that came before every newer one, in
	 * arrival (rowid) order: the scan stops at the first row it keeps, so
	 * it visits only what it deletes, without an index on received_at
	 * (migration 17).  A row that came after a newer one -- the wall
	 * clock was set back -- waits until that one is old enough too. */
	[S_INBOX_PRUNE] = "DELETE FROM inbox WHERE rowid < IFNULL("
			  "(SELECT rowid FROM inbox WHERE received_at >= ?1 ORDER BY rowid LIMIT 1), "
			  "(SELECT IFNULL(MAX(rowid), 0) + 1 FROM inbox))",
	[S_OUTBOX_PRUNE] = "DELETE FROM outbox WHERE state = 'sent' AND subject IS NULL AND sent_at < ?1",
	[S_TIMELINE_PRUNE] = "DELETE FROM timeline WHERE kind IN ('message', 'card_action', 'other') AND at < ?1",
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
	[S_TIMER_DUE] = "SELECT id, deadline_key, step, fire_at, chat_id, late FROM timers "
			"WHERE state = 'pending' AND fire_at <= ?1 ORDER BY chat_id, fire_at, id LIMIT ?2",
	[S_TIMER_FIRED] = "UPDATE timers SET state = 'fired', fired_at = ?2, late = ?3 "
			  "WHERE id = ?1 AND state = 'pending'",
	[S_TIMER_RESCHEDULE] = "UPDATE timers SET fire_at = MAX(fire_at, ?2) WHERE deadline_key = ?1 AND state = 'pending'",
	[S_TIMER_PENDING] = "SELECT COUNT(*) FROM timers WHERE state = 'pending'",
	[S_TIMER_HOLD] = "UPDATE timers SET fire_at = ?2, late = 1 WHERE id = ?1 AND state = 'pending'",
	[S_WEBHOOK_PUT] = "INSERT INTO chat_webhooks (platform, chat_id, url, expires_at) VALUES (?1, ?2, ?3, ?4) "
			  "ON CONFLICT (platform, chat_id) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at "
			  "WHERE excluded.expires_at >= chat_webhooks.expires_at "
			  "AND (excluded.url <> chat_webhooks.url OR excluded.expires_at >= chat_webhooks.expires_at + ?5)",
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

/*
 * PostgreSQL's text where the dialects differ; every other statement runs as
 * written above.  A text starting with "+" is the SQLite text with the rest
 * appended (a locking clause), so the statement itself stays in one copy.  INSERT OR IGNORE / OR REPLACE become ON CONFLICT, SQLite's
 * two-argument MAX is GREATEST, randomblob() is md5(random()), and an index
 * hint has no place.
 */
const char *const store_stmt_sql_pg[S_COUNT] = {
	[S_BEGIN] = "BEGIN",
	[S_INBOX_ADD] = "INSERT INTO inbox (platform, dedupe_key, event_type, received_at) "
			"VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	/* PostgreSQL's inbox keeps its index on received_at (no rowid order). */
	[S_INBOX_PRUNE] = "DELETE FROM inbox WHERE received_at < ?1",
	[S_OUTBOX_ADD] = "INSERT INTO outbox (platform, chat_id, reply_to, update_of, kind, body, idem_key, "
			 "created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?7, ?4, ?5, "
			 "  'cd' || (SELECT value FROM meta WHERE key = 'instance_id') || '-' || "
			 "  substr(md5(random()::text || clock_timestamp()::text), 1, 16), ?6, ?6)",
	/* Several instances send from one outbox: each claims the chats' head
	 * rows it will send (?3 the instance, until ?4: a lease), skipping rows
	 * another is claiming this instant and rows under another's lease.  A
	 * chat's next row is nobody's head until the one before it is sent, so
	 * a chat's messages still go out in order, whoever sends them.  The
	 * heads come from one pass over the pending rows (DISTINCT ON); a claim
	 * is only written when it is new or past half its lease (?5), so rows
	 * waiting on a rate limit are not rewritten on every pass.  Leases run on
	 * real time (?6 now), whatever the workflow's clock says (?1). */
	[S_OUTBOX_DUE] = "WITH due AS (SELECT c.id, c.platform, c.chat_id, c.reply_to, c.kind, c.body, c.idem_key, "
			 "  c.attempts, c.next_attempt_at, c.update_of FROM outbox c "
			 "  WHERE c.id IN (SELECT DISTINCT ON (h.chat_id) h.id FROM outbox h "
			 "    WHERE h.state = 'pending' ORDER BY h.chat_id, h.id) "
			 "  AND c.state = 'pending' AND c.next_attempt_at <= ?1 "
			 "  AND (c.claim_until IS NULL OR c.claim_until < ?6 OR c.claimed_by = ?3) "
			 "  ORDER BY c.id LIMIT ?2 FOR UPDATE SKIP LOCKED), "
			 "claimed AS (UPDATE outbox o SET claimed_by = ?3, claim_until = ?4 FROM due WHERE o.id = due.id "
			 "  AND (o.claimed_by IS DISTINCT FROM ?3 OR o.claim_until < ?5) RETURNING o.id) "
			 "SELECT id, platform, chat_id, reply_to, kind, body, idem_key, attempts, next_attempt_at, update_of "
			 "FROM due ORDER BY id",
	/* A head row under another instance's lease is due for us when the
	 * lease ends (?1: this instance; the lease's real time ?2 turned into
	 * the workflow's clock ?3). */
	[S_OUTBOX_NEXT] = "SELECT MIN(CASE WHEN o.claimed_by <> ?1 AND o.claim_until > ?2 "
			  "THEN GREATEST(o.next_attempt_at, ?3 + (o.claim_until - ?2)) ELSE o.next_attempt_at END) "
			  "FROM (SELECT DISTINCT ON (chat_id) "
			  "claimed_by, claim_until, next_attempt_at FROM outbox WHERE state = 'pending' "
			  "ORDER BY chat_id, id) AS o",
	/* Each due timer is fired by one instance: the rows this transaction
	 * reads are locked until it commits them fired, and the others skip them. */
	[S_TIMER_DUE] = "+ FOR UPDATE SKIP LOCKED",
	[S_DEADLINE_PUT] = "INSERT INTO deadlines (key, policy, platform, chat_id, subject, people, "
			   "started_at, due_at, state, closed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', NULL) "
			   "ON CONFLICT (key) DO UPDATE SET policy = excluded.policy, platform = excluded.platform, "
			   "chat_id = excluded.chat_id, subject = excluded.subject, people = excluded.people, "
			   "started_at = excluded.started_at, due_at = excluded.due_at, state = 'open', closed_at = NULL",
	[S_TIMER_RESCHEDULE] = "UPDATE timers SET fire_at = GREATEST(fire_at, ?2) WHERE deadline_key = ?1 AND state = 'pending'",
	[S_CONTACT_ADD] = "INSERT INTO dept_contacts (code, user_id, pos) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[S_DEPUTY_PUT] = "INSERT INTO deputies (user_id, deputy_id, from_day, to_day) VALUES (?1, ?2, ?3, ?4) "
			 "ON CONFLICT (user_id, from_day) DO UPDATE SET deputy_id = excluded.deputy_id, to_day = excluded.to_day",
	/* PostgreSQL reads a bare "last" in DO UPDATE as ambiguous (the row or excluded). */
	[S_NEXT_SEQ] = "INSERT INTO id_sequences (prefix, last) VALUES (?1, 1) "
		       "ON CONFLICT (prefix) DO UPDATE SET last = id_sequences.last + 1 RETURNING last",
};
