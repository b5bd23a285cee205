/*
 * store_board.h - the read-only queries behind the web board and /metrics.
 *
 * Each returns rows as a new JSON array of objects keyed by column name (the
 * caller decrefs it), or NULL when SQLite failed (already logged).  Nothing
 * here writes: the board and the metrics only look.
 */
#ifndef COLLABD_STORE_BOARD_H
#define COLLABD_STORE_BOARD_H

#include <jansson.h>

#include "collabd/clock.h"

struct store;

/* [{state, n}] for every request state present. */
json_t *store_board_requests_by_state(struct store *st);

/* [{policy, breached, overdue, open}] per SLA policy: breached counts every
 * deadline whose due time passed before it was closed (or by now when still
 * open); overdue those still open past due. */
json_t *store_board_sla_by_policy(struct store *st, ms_t now);

/* created_at of the oldest pending outbox row, or -1 when none is pending. */
ms_t store_board_outbox_oldest(struct store *st);

#endif
