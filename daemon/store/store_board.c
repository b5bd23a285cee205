/*
 * store_board.c - read-only SELECTs for the web board and /metrics.
 *
 * The SQL lives here, next to the store's other domain files, so that the
 * board's pages stay free of SQL and the schema has one home.  Every query
 * joins the display names in, so a page needs no second round trip per row.
 */
#include "collabd/store_board.h"

#include "store_internal.h"

/* ---- /metrics ---- */

json_t *store_board_requests_by_state(struct store *st)
{
	return store_rows(st, "SELECT state, COUNT(*) AS n FROM requests GROUP BY state ORDER BY state", NULL);
}

json_t *store_board_sla_by_policy(struct store *st, ms_t now)
{
	/* A deadline closed late still counts as breached: closing it does
	 * not undo the wait people had. */
	return store_rows(st,
			  store_dialect_sql(st,
			  "SELECT policy,"
			  " SUM(due_at < COALESCE(closed_at, ?1)) AS breached,"
			  " SUM(state = 'open' AND due_at < ?1) AS overdue,"
			  " SUM(state = 'open') AS open "
			  "FROM deadlines GROUP BY policy ORDER BY policy",
			  /* PostgreSQL does not add up booleans. */
			  "SELECT policy,"
			  " COUNT(*) FILTER (WHERE due_at < COALESCE(closed_at, ?1)) AS breached,"
			  " COUNT(*) FILTER (WHERE state = 'open' AND due_at < ?1) AS overdue,"
			  " COUNT(*) FILTER (WHERE state = 'open') AS open "
			  "FROM deadlines GROUP BY policy ORDER BY policy"),
			  "[I]", (json_int_t)now);
}

ms_t store_board_outbox_oldest(struct store *st)
{
	return store_int(st, -1, "SELECT MIN(created_at) FROM outbox WHERE state = 'pending'", NULL);
}

/* ---- the board ---- */

#define REQUEST_COLUMNS                                                                                   \
	"SELECT r.id, r.dept, d.name AS dept_name, r.initiator, u.name AS initiator_name, r.state, r.version," \
	" r.form, r.reason, r.created_at, r.updated_at FROM requests r"                                        \
	" LEFT JOIN departments d ON d.code = r.dept LEFT JOIN users u ON u.user_id = r.initiator "

json_t *store_board_active_requests(struct store *st)
{
	return store_rows(st, REQUEST_COLUMNS "WHERE r.state NOT IN ('rejected', 'withdrawn', 'archived')"
			      " AND NOT EXISTS (SELECT 1 FROM archives a WHERE a.request_id = r.id)"
			      " ORDER BY r.created_at, r.id", NULL);
}

json_t *store_board_request(struct store *st, const char *id)
{
	json_t *row = NULL;
	store_row(st, &row, REQUEST_COLUMNS "WHERE r.id = ?1", "[s]", id);
	return row;
}

json_t *store_board_request_depts(struct store *st, const char *id)
{
	return store_rows(st,
			  "SELECT rd.dept, d.name AS dept_name, rd.state, rd.signed_by, u.name AS signer_name,"
			  " rd.signed_at, rd.version, rd.hash FROM request_depts rd"
			  " LEFT JOIN departments d ON d.code = rd.dept LEFT JOIN users u ON u.user_id = rd.signed_by"
			  " WHERE rd.request_id = ?1 ORDER BY rd.rowid",
			  "[s]", id);
}

/* A request's deadlines are keyed "req:<ID>:..."; its issues' deadlines
 * carry the issue's id, and issue ids start with nothing we can rely on, so
 * they are found through the issues table. */
json_t *store_board_open_deadlines(struct store *st, const char *id)
{
	return store_rows(st,
			  /* Every deadline of a request, its issues' included, is keyed
			   * "req:ID:...": a range of the primary key. */
			  "SELECT key, policy, subject, due_at, started_at FROM deadlines WHERE state = 'open'"
			  " AND key >= 'req:' || ?1 || ':' AND key < 'req:' || ?1 || ';' ORDER BY due_at",
			  "[s]", id);
}

json_t *store_board_progress_today(struct store *st, const char *id, const char *day)
{
	return store_rows(st,
			  "SELECT po.dept, d.name AS dept_name, u.name AS owner_name, pd.state AS verdict,"
			  " EXISTS (SELECT 1 FROM progress_updates pu WHERE pu.request_id = ?1 AND pu.dept = po.dept"
			  "  AND pu.day = ?2) AS updated,"
			  " (SELECT MAX(pu.late) FROM progress_updates pu WHERE pu.request_id = ?1 AND pu.dept = po.dept"
			  "  AND pu.day = ?2) AS late"
			  " FROM progress_owners po LEFT JOIN departments d ON d.code = po.dept"
			  " LEFT JOIN users u ON u.user_id = po.user_id"
			  " LEFT JOIN progress_days pd ON pd.request_id = po.request_id AND pd.dept = po.dept AND pd.day = ?2"
			  " WHERE po.request_id = ?1 ORDER BY po.dept",
			  "[s,s]", id, day);
}

json_t *store_board_versions(struct store *st, const char *id)
{
	return store_rows(st, "SELECT version, hash, created_at FROM request_versions WHERE request_id = ?1 ORDER BY version",
			  "[s]", id);
}

json_t *store_board_objections(struct store *st, const char *id)
{
	return store_rows(st,
			  "SELECT o.id, o.dept, d.name AS dept_name, u.name AS raiser_name, o.explanation, o.proposal,"
			  " o.state, o.answer, o.answered_at, o.created_at FROM objections o"
			  " LEFT JOIN departments d ON d.code = o.dept LEFT JOIN users u ON u.user_id = o.raised_by"
			  " WHERE o.request_id = ?1 ORDER BY o.id",
			  "[s]", id);
}

json_t *store_board_progress_all(struct store *st, const char *id)
{
	return store_rows(st,
			  "SELECT pu.day, pu.dept, d.name AS dept_name, pu.revision, u.name AS author_name, pu.done,"
			  " pu.undone, pu.next, pu.late, pu.submitted_at, pd.state AS verdict FROM progress_updates pu"
			  " LEFT JOIN departments d ON d.code = pu.dept LEFT JOIN users u ON u.user_id = pu.author"
			  " LEFT JOIN progress_days pd ON pd.request_id = pu.request_id AND pd.dept = pu.dept AND pd.day = pu.day"
			  " WHERE pu.request_id = ?1 ORDER BY pu.day DESC, pu.dept, pu.revision",
			  "[s]", id);
}

json_t *store_board_issues(struct store *st, const char *id)
{
	return store_rows(st,
			  "SELECT i.id, i.type, i.severity, i.state, i.description, r.name AS reporter_name,"
			  " o.name AS owner_name, i.created_at, i.responded_at, i.cause, i.measures, i.solution_due,"
			  " i.result, i.resolved_at FROM issues i LEFT JOIN users r ON r.user_id = i.reporter"
			  " LEFT JOIN users o ON o.user_id = i.owner WHERE i.request_id = ?1 ORDER BY i.created_at DESC",
			  "[s]", id);
}

json_t *store_board_open_issues(struct store *st)
{
	return store_rows(st,
			  "SELECT i.id, i.request_id, q.form AS request_form, i.type, i.severity, i.state,"
			  " i.description, i.created_at FROM issues i LEFT JOIN requests q ON q.id = i.request_id"
			  " WHERE i.state != 'resolved' ORDER BY i.created_at",
			  NULL);
}

json_t *store_board_timeline(struct store *st, const char *id)
{
	return store_rows(st,
			  "SELECT t.at, t.actor, u.name AS actor_name, t.kind, t.subject, t.detail FROM timeline t"
			  " LEFT JOIN users u ON u.user_id = t.actor"
			  /* Three index ranges, not one OR (which would scan the whole
			   * timeline): the request's own rows, its deadlines' pings
			   * ("req:ID:..." -- ';' is the character after ':'), its issues'. */
			  " WHERE t.id IN (SELECT id FROM timeline WHERE subject = ?1"
			  "  UNION ALL SELECT id FROM timeline WHERE subject >= 'req:' || ?1 || ':'"
			  "   AND subject < 'req:' || ?1 || ';'"
			  "  UNION ALL SELECT x.id FROM issues i JOIN timeline x ON x.subject = 'issue:' || i.id"
			  "   WHERE i.request_id = ?1)"
			  " ORDER BY t.at, t.id",
			  "[s]", id);
}

json_t *store_board_completion(struct store *st, const char *id)
{
	json_t *row = NULL;
	store_row(st, &row,
		  "SELECT c.completed_by, u.name AS completer_name, c.completed_at, c.deliverables, c.open_issues,"
		  " c.open_issues_reason, c.retro_due FROM completions c LEFT JOIN users u ON u.user_id = c.completed_by"
		  " WHERE c.request_id = ?1",
		  "[s]", id);
	return row;
}

json_t *store_board_retro(struct store *st, const char *id)
{
	return store_rows(st,
			  "SELECT ra.dept, d.name AS dept_name, u.name AS author_name, ra.answers, ra.answered_at,"
			  " ra.revision FROM retro_answers ra LEFT JOIN departments d ON d.code = ra.dept"
			  " LEFT JOIN users u ON u.user_id = ra.author WHERE ra.request_id = ?1 ORDER BY ra.dept",
			  "[s]", id);
}

json_t *store_board_archives(struct store *st, int limit, long long offset)
{
	/* archives_created (migration 13) serves the order and the offset. */
	return store_rows(st,
			  "SELECT a.name, a.request_id, a.dir, a.created_at, a.written_at, a.report_at, r.state, r.form"
			  " FROM archives a LEFT JOIN requests r ON r.id = a.request_id"
			  " ORDER BY a.created_at DESC, a.name DESC LIMIT ?1 OFFSET ?2",
			  "[i,I]", limit, (json_int_t)offset);
}

long long store_board_archive_count(struct store *st)
{
	return store_int(st, -1, "SELECT COUNT(*) FROM archives", NULL);
}

json_t *store_board_closed_requests(struct store *st, int limit)
{
	return store_rows(st,
			  "SELECT id, state, form, updated_at FROM requests WHERE state IN ('rejected', 'withdrawn')"
			  " ORDER BY updated_at DESC LIMIT ?1",
			  "[i]", limit);
}
