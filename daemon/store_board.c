/*
 * store_board.c - read-only SELECTs for the web board and /metrics.
 *
 * The SQL lives here, next to the store's other domain files, so that the
 * board's pages stay free of SQL and the schema has one home.
 */
#include "collabd/store_board.h"

#include "store_internal.h"

json_t *store_board_requests_by_state(struct store *st)
{
	return store_rows(st, "SELECT state, COUNT(*) AS n FROM requests GROUP BY state ORDER BY state", NULL);
}

json_t *store_board_sla_by_policy(struct store *st, ms_t now)
{
	/* A deadline closed late still counts as breached: closing it does
	 * not undo the wait people had. */
	return store_rows(st,
			  "SELECT policy,"
			  " SUM(due_at < COALESCE(closed_at, ?1)) AS breached,"
			  " SUM(state = 'open' AND due_at < ?1) AS overdue,"
			  " SUM(state = 'open') AS open "
			  "FROM deadlines GROUP BY policy ORDER BY policy",
			  "[I]", (json_int_t)now);
}

ms_t store_board_outbox_oldest(struct store *st)
{
	return store_int(st, -1, "SELECT MIN(created_at) FROM outbox WHERE state = 'pending'", NULL);
}
