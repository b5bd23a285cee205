/*
 * store_progress.c - the records of step 3: progress owners, updates and
 * each department's verdict per working day.
 */
#include "collabd/progress.h"
#include "store_internal.h"

enum store_rc progress_owner_set(struct store *st, const char *request_id, const char *dept, const char *user_id,
				 const char *set_by, ms_t now)
{
	return store_run(st, NULL,
			 "INSERT INTO progress_owners (request_id, dept, user_id, set_by, set_at) VALUES (?1, ?2, ?3, ?4, ?5) "
			 "ON CONFLICT (request_id, dept) DO UPDATE SET user_id = excluded.user_id, set_by = excluded.set_by, "
			 "set_at = excluded.set_at",
			 "[s,s,s,s?,I]", request_id, dept, user_id, set_by, (json_int_t)now);
}

json_t *progress_owners(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT o.dept, o.user_id FROM progress_owners o "
			  "JOIN request_depts r ON r.request_id = o.request_id AND r.dept = o.dept "
			  "WHERE o.request_id = ?1 ORDER BY r.rowid",
			  "[s]", request_id);
}

enum store_rc progress_update_add(struct store *st, const char *request_id, const char *dept, const char *day,
				  const char *author, const char *done, const char *undone, const char *next,
				  int late, ms_t now, int *revision)
{
	*revision = (int)store_int(st, 0,
				   "SELECT MAX(revision) FROM progress_updates WHERE request_id = ?1 AND day = ?2 AND dept = ?3",
				   "[s,s,s]", request_id, day, dept) + 1;
	return store_run(st, NULL,
			 "INSERT INTO progress_updates (request_id, dept, day, revision, author, done, undone, next, late, "
			 "submitted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
			 "[s,s,s,i,s,s,s,s,b,I]", request_id, dept, day, *revision, author, done, undone, next, late,
			 (json_int_t)now);
}

json_t *progress_updates_of_day(struct store *st, const char *request_id, const char *day)
{
	return store_rows(st,
			  "SELECT u.dept, u.author, u.done, u.undone, u.next, u.late, u.revision, u.submitted_at "
			  "FROM progress_updates u WHERE u.request_id = ?1 AND u.day = ?2 AND u.revision = "
			  "(SELECT MAX(revision) FROM progress_updates v WHERE v.request_id = u.request_id "
			  " AND v.day = u.day AND v.dept = u.dept) ORDER BY u.dept",
			  "[s,s]", request_id, day);
}

json_t *progress_updates_all(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT dept, day, revision, author, done, undone, next, late, submitted_at "
			  "FROM progress_updates WHERE request_id = ?1 ORDER BY id",
			  "[s]", request_id);
}

enum store_rc progress_day_decide(struct store *st, const char *request_id, const char *dept, const char *day,
				  const char *state, ms_t now)
{
	return store_run(st, NULL,
			 store_dialect_sql(st,
			 "INSERT OR IGNORE INTO progress_days (request_id, dept, day, state, decided_at) "
			 "VALUES (?1, ?2, ?3, ?4, ?5)",
			 "INSERT INTO progress_days (request_id, dept, day, state, decided_at) "
			 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"),
			 "[s,s,s,s,I]", request_id, dept, day, state, (json_int_t)now);
}

enum store_rc progress_day_late(struct store *st, const char *request_id, const char *dept, const char *day)
{
	return store_run(st, NULL,
			 "UPDATE progress_days SET state = 'late' WHERE request_id = ?1 AND dept = ?2 AND day = ?3 "
			 "AND state = 'missed'",
			 "[s,s,s]", request_id, dept, day);
}

int progress_misses_in_a_row(struct store *st, const char *request_id, const char *dept)
{
	/* Days after the last on-time one. */
	return (int)store_int(st, 0,
			      "SELECT COUNT(*) FROM progress_days WHERE request_id = ?1 AND dept = ?2 AND day > "
			      "COALESCE((SELECT MAX(day) FROM progress_days WHERE request_id = ?1 AND dept = ?2 "
			      "AND state = 'on_time'), '')",
			      "[s,s]", request_id, dept);
}

json_t *progress_days_all(struct store *st, const char *request_id)
{
	return store_rows(st, "SELECT dept, day, state FROM progress_days WHERE request_id = ?1 ORDER BY day, dept",
			  "[s]", request_id);
}

json_t *progress_open_issues(struct store *st, const char *request_id)
{
	return store_rows(st,
			  "SELECT id, severity, state FROM issues WHERE request_id = ?1 AND state <> 'resolved' ORDER BY id",
			  "[s]", request_id);
}
