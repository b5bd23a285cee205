/*
 * health.c - /healthz: is this daemon doing its job right now?
 *
 * Three checks, each named in the answer so an operator sees which failed:
 * every enabled platform connection is up, the database accepts a write
 * transaction, and no message has waited in the outbox longer than
 * health.outbox_stuck_after_s.  503 when any fails, so a load balancer,
 * systemd or a monitoring probe can act on the status code alone.
 *
 * Dead letters are reported (count and a hint) but do not fail the check:
 * the daemon works; an operator has a few events to look at.
 */
#include <jansson.h>

#include "collabd/clock.h"
#include "collabd/daemon.h"
#include "collabd/dingtalk.h"
#include "collabd/feishu.h"
#include "collabd/store.h"
#include "collabd/store_board.h"
#include "collabd/store_dead.h"

/* On SQLite, BEGIN IMMEDIATE takes the write lock without writing: a
 * read-only file, a lost directory or another writer holding the lock all
 * show here.  On PostgreSQL, BEGIN is a round trip: a server that is down or
 * unreachable shows here; while the store reconnects in the background the
 * answer comes at once, without touching the network. */
static int database_writable(struct daemon *d, json_t *body)
{
	if (!store_reachable(d->store)) {
		json_object_set_new(body, "database", json_string("unreachable"));
		json_object_set_new(body, "database_error", json_string(store_errmsg(d->store)));
		return 0;
	}
	if (store_begin(d->store) != STORE_OK) {
		json_object_set_new(body, "database", json_string("not writable"));
		json_object_set_new(body, "database_error", json_string(store_errmsg(d->store)));
		return 0;
	}
	store_rollback(d->store);
	json_object_set_new(body, "database", json_string("ok"));
	return 1;
}

static int outbox_moving(struct daemon *d, json_t *body)
{
	int64_t pending = store_outbox_pending(d->store);
	ms_t oldest = pending > 0 ? store_board_outbox_oldest(d->store) : -1;
	ms_t age_ms = oldest >= 0 ? clock_now_ms() - oldest : 0;
	int stuck = oldest >= 0 && age_ms > (ms_t)d->cfg.outbox_stuck_after_s * 1000;
	json_object_set_new(body, "outbox", json_string(stuck ? "stuck" : "ok"));
	json_object_set_new(body, "outbox_pending", json_integer(pending));
	json_object_set_new(body, "outbox_oldest_s", json_integer(age_ms > 0 ? age_ms / 1000 : 0));
	return !stuck;
}

static void dead_letters(struct daemon *d, json_t *body)
{
	long long n = store_dead_letter_count(d->store, "dead");
	json_object_set_new(body, "dead_letters", json_integer(n < 0 ? 0 : n));
	if (n > 0)
		json_object_set_new(body, "dead_letters_hint",
				    json_string("events that failed to apply; see `collabd dead-letters`"));
}

json_t *daemon_health(struct daemon *d, int *http_status)
{
	json_t *body = json_object(), *failing = json_array();
	if (d->feishu_ws) {
		int up = feishu_ws_connected(d->feishu_ws);
		json_object_set_new(body, "feishu", json_string(up ? "connected" : "disconnected"));
		if (!up)
			json_array_append_new(failing, json_string("feishu"));
	}
	if (d->dingtalk_ws) {
		int up = dingtalk_ws_connected(d->dingtalk_ws);
		json_object_set_new(body, "dingtalk", json_string(up ? "connected" : "disconnected"));
		if (!up)
			json_array_append_new(failing, json_string("dingtalk"));
	}
	if (!database_writable(d, body))
		json_array_append_new(failing, json_string("database"));
	if (!outbox_moving(d, body))
		json_array_append_new(failing, json_string("outbox"));
	dead_letters(d, body);
	int ok = json_array_size(failing) == 0;
	json_object_set_new(body, "status", json_string(ok ? "ok" : "unhealthy"));
	json_object_set_new(body, "failing", failing);
	*http_status = ok ? 200 : 503;
	return body;
}
