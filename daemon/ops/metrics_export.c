/*
 * metrics_export.c - /metrics: the daemon's counters in Prometheus' text
 * format (version 0.0.4).
 *
 * Counters come from the modules that keep them; gauges that describe the
 * workflow (requests by state, overdue deadlines) are read from the
 * database at scrape time, so they are right after a restart too.
 */
#include <jansson.h>
#include <stdio.h>

#include "collabd/clock.h"
#include "collabd/daemon.h"
#include "collabd/dingtalk.h"
#include "collabd/feishu.h"
#include "collabd/metrics.h"
#include "collabd/outbox.h"
#include "collabd/sched.h"
#include "collabd/store.h"
#include "collabd/store_board.h"
#include "collabd/store_dead.h"
#include "collabd/wsconn.h"

/* One per-platform counter family; get picks the field. */
static void platform_family(struct buf *out, struct daemon *d, const char *name, const char *help,
			    long long (*get)(const struct metrics_platform_counters *))
{
	metrics_header(out, name, "counter", help);
	for (int p = 0; p < METRICS_PLATFORMS; p++) {
		char labels[64];
		snprintf(labels, sizeof labels, "platform=\"%s\"", metrics_platform_name(p));
		metrics_sample(out, name, labels, get(&d->metrics.platform[p]));
	}
}

static long long get_received(const struct metrics_platform_counters *c) { return c->received; }
static long long get_acked(const struct metrics_platform_counters *c) { return c->acked; }
static long long get_dedup(const struct metrics_platform_counters *c) { return c->deduplicated; }
static long long get_rejected(const struct metrics_platform_counters *c) { return c->rejected; }
static long long get_unacked(const struct metrics_platform_counters *c) { return c->unacked; }

static void events(struct buf *out, struct daemon *d)
{
	platform_family(out, d, "collabd_events_received_total", "Events the platform delivered to the daemon.",
			get_received);
	platform_family(out, d, "collabd_events_acked_total", "Events acknowledged to the platform.", get_acked);
	platform_family(out, d, "collabd_events_deduplicated_total",
			"Redelivered events recognised by the inbox and not applied again.", get_dedup);
	platform_family(out, d, "collabd_events_rejected_total", "Unusable events, acknowledged and dropped.",
			get_rejected);
	platform_family(out, d, "collabd_events_unacked_total",
			"Events not committed (e.g. database locked), left for the platform to redeliver.",
			get_unacked);
	metrics_header(out, "collabd_ack_latency_seconds", "histogram",
		       "From the event reaching the daemon to its ack being queued (decode, apply, commit).");
	for (int p = 0; p < METRICS_PLATFORMS; p++) {
		char labels[64];
		snprintf(labels, sizeof labels, "platform=\"%s\"", metrics_platform_name(p));
		metrics_histogram_write(out, "collabd_ack_latency_seconds", labels, &d->metrics.platform[p].ack_latency);
	}
}

/* Poison events and the group commit. */
static void inbox(struct buf *out, struct daemon *d)
{
	metrics_header(out, "collabd_dead_letters", "gauge",
		       "Events kept as dead letters (failed to apply too often; acked), not yet replayed.");
	metrics_sample(out, "collabd_dead_letters", "state=\"dead\"", store_dead_letter_count(d->store, "dead"));
	metrics_sample(out, "collabd_dead_letters", "state=\"retry\"", store_dead_letter_count(d->store, "retry"));
	metrics_header(out, "collabd_dead_letters_total", "counter", "Events this run moved to the dead letters.");
	metrics_sample(out, "collabd_dead_letters_total", "", d->inbox.dead_letters);
	metrics_header(out, "collabd_inbox_commits_total", "counter",
		       "Group commits: one synced transaction for the events one turn of the loop read.");
	metrics_sample(out, "collabd_inbox_commits_total", "", d->inbox.batches);
	metrics_header(out, "collabd_inbox_batch_events_max", "gauge", "The most events one commit has carried.");
	metrics_sample(out, "collabd_inbox_batch_events_max", "", d->inbox.batch_events_max);
}

static void connections(struct buf *out, struct daemon *d)
{
	long long fc = 0, fr = 0, dc = 0, dr = 0;
	if (d->feishu_ws) {
		fc = feishu_ws_stats(d->feishu_ws)->connects;
		fr = feishu_ws_stats(d->feishu_ws)->reconnects;
	}
	if (d->dingtalk_ws) {
		dc = dingtalk_ws_stats(d->dingtalk_ws)->connects;
		dr = dingtalk_ws_stats(d->dingtalk_ws)->reconnects;
	}
	metrics_header(out, "collabd_gateway_read_pauses_total", "counter",
		       "Times a long connection stopped reading because the platform was not reading our acks.");
	metrics_sample(out, "collabd_gateway_read_pauses_total", "", wsconn_stats()->pauses);
	metrics_header(out, "collabd_gateway_unsent_bytes_max", "gauge",
		       "The most output (acks, pings) one long connection has held unsent.");
	metrics_sample(out, "collabd_gateway_unsent_bytes_max", "", (long long)wsconn_stats()->unsent_max);
	metrics_header(out, "collabd_connection_up", "gauge", "1 while the platform's long connection is up.");
	if (d->feishu_ws)
		metrics_sample(out, "collabd_connection_up", "platform=\"feishu\"", feishu_ws_connected(d->feishu_ws));
	if (d->dingtalk_ws)
		metrics_sample(out, "collabd_connection_up", "platform=\"dingtalk\"",
			       dingtalk_ws_connected(d->dingtalk_ws));
	metrics_header(out, "collabd_connects_total", "counter", "Long connections established.");
	metrics_sample(out, "collabd_connects_total", "platform=\"feishu\"", fc);
	metrics_sample(out, "collabd_connects_total", "platform=\"dingtalk\"", dc);
	metrics_header(out, "collabd_reconnects_total", "counter", "Reconnection attempts after a lost connection.");
	metrics_sample(out, "collabd_reconnects_total", "platform=\"feishu\"", fr);
	metrics_sample(out, "collabd_reconnects_total", "platform=\"dingtalk\"", dr);
	if (d->dingtalk_api) {
		metrics_header(out, "collabd_dingtalk_mentions_unnotified_total", "counter",
			       "DingTalk sends whose @-mentions could not notify (webhook expired, no card template).");
		metrics_sample(out, "collabd_dingtalk_mentions_unnotified_total", "",
			       dingtalk_api_stats(d->dingtalk_api)->mentions_unnotified);
	}
	if (d->feishu_ws) {
		const struct feishu_ws_stats *w = feishu_ws_stats(d->feishu_ws);
		metrics_header(out, "collabd_fragments_dropped_total", "counter",
			       "Fragmented events given up before they were whole (expired, evicted, too large).");
		metrics_sample(out, "collabd_fragments_dropped_total", "platform=\"feishu\"", w->fragments_dropped);
		metrics_header(out, "collabd_fragment_bytes", "gauge",
			       "Bytes held by incomplete fragmented events (at most feishu.fragment_memory_bytes).");
		metrics_sample(out, "collabd_fragment_bytes", "platform=\"feishu\"", w->fragment_bytes);
	}
}

static void outbox(struct buf *out, struct daemon *d)
{
	const struct outbox_stats *o = outbox_stats(d->outbox);
	metrics_header(out, "collabd_outbox_depth", "gauge", "Outbox rows waiting to be sent.");
	metrics_sample(out, "collabd_outbox_depth", "", store_outbox_pending(d->store));
	metrics_header(out, "collabd_outbox_inflight", "gauge", "Sends on the wire.");
	metrics_sample(out, "collabd_outbox_inflight", "", outbox_inflight(d->outbox));
	metrics_header(out, "collabd_outbox_sent_total", "counter", "Messages the platform accepted.");
	metrics_sample(out, "collabd_outbox_sent_total", "", o->sent);
	metrics_header(out, "collabd_outbox_retries_total", "counter", "Send attempts that will be retried.");
	metrics_sample(out, "collabd_outbox_retries_total", "", o->retried);
	metrics_header(out, "collabd_outbox_failed_total", "counter", "Messages given up on.");
	metrics_sample(out, "collabd_outbox_failed_total", "", o->failed);
	metrics_header(out, "collabd_outbox_throttled_total", "counter",
		       "Times a send waited for the rate limits (queued, not dropped).");
	metrics_sample(out, "collabd_outbox_throttled_total", "", o->throttled);
	metrics_header(out, "collabd_send_errors_total", "counter",
		       "Failed send attempts by platform error code; final=\"true\" when not retried.");
	for (int i = 0; i < d->metrics.nsend_errors; i++) {
		const struct metrics_code_count *c = &d->metrics.send_errors[i];
		char code[96], labels[160];
		metrics_label_escape(c->code, code, sizeof code);
		snprintf(labels, sizeof labels, "code=\"%s\",final=\"%s\"", code, c->final ? "true" : "false");
		metrics_sample(out, "collabd_send_errors_total", labels, c->n);
	}
	metrics_header(out, "collabd_mentions_dropped_total", "counter",
		       "@-mentions the platform could not resolve (e.g. someone who left), sent again as plain names.");
	metrics_sample(out, "collabd_mentions_dropped_total", "platform=\"feishu\"",
		       d->feishu_api ? feishu_api_stats(d->feishu_api)->mentions_dropped : 0);
}

/* Where the WAL checkpoints ran: on the store's thread, or (a flood
 * outgrowing it) inline on the event loop, which delays that batch's acks. */
static void wal(struct buf *out, struct daemon *d)
{
	struct store_wal_stats w;
	store_wal_stats(d->store, &w);
	metrics_header(out, "collabd_wal_checkpoints_total", "counter",
		       "SQLite WAL checkpoints by where they ran: thread (off the event loop) or loop (the log outgrew "
		       "its limit).");
	metrics_sample(out, "collabd_wal_checkpoints_total", "on=\"thread\"", (long long)w.checkpoints);
	metrics_sample(out, "collabd_wal_checkpoints_total", "on=\"loop\"", (long long)w.inline_checkpoints);
	metrics_header(out, "collabd_wal_syncs_total", "counter",
		       "Explicit WAL syncs for the inbox's group commits by where they ran: thread (the acks wait "
		       "for it, the loop reads on) or loop (a full batch already waiting, another commit, shutdown).");
	metrics_sample(out, "collabd_wal_syncs_total", "on=\"thread\"", (long long)w.syncs);
	metrics_sample(out, "collabd_wal_syncs_total", "on=\"loop\"", (long long)w.inline_syncs);
	metrics_header(out, "collabd_wal_checkpoint_failures_total", "counter", "WAL checkpoints that failed.");
	metrics_sample(out, "collabd_wal_checkpoint_failures_total", "", (long long)w.failures);
}

static void timers(struct buf *out, struct daemon *d)
{
	const struct sched_stats *t = sched_stats(d->sched);
	metrics_header(out, "collabd_timers_pending", "gauge", "Deadline reminders and escalations waiting to fire.");
	metrics_sample(out, "collabd_timers_pending", "", store_timers_pending(d->store));
	metrics_header(out, "collabd_timers_fired_total", "counter", "Timers fired.");
	metrics_sample(out, "collabd_timers_fired_total", "", t->fired);
	metrics_header(out, "collabd_timers_late_total", "counter",
		       "Timers that came due while the daemon was down, fired at start-up (补发).");
	metrics_sample(out, "collabd_timers_late_total", "", t->late);
}

/* Writes one labelled sample per row: label from column key, value from vcol. */
static void rows_family(struct buf *out, json_t *rows, const char *name, const char *label, const char *key,
			const char *vcol)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		char value[128], labels[192];
		metrics_label_escape(json_string_value(json_object_get(row, key)), value, sizeof value);
		snprintf(labels, sizeof labels, "%s=\"%s\"", label, value);
		metrics_sample(out, name, labels, json_integer_value(json_object_get(row, vcol)));
	}
}

static void workflow(struct buf *out, struct daemon *d)
{
	json_t *sla = store_board_sla_by_policy(d->store, clock_now_ms());
	metrics_header(out, "collabd_sla_breaches_total", "counter",
		       "Deadlines whose due time passed before they were met, by SLA policy.");
	rows_family(out, sla, "collabd_sla_breaches_total", "policy", "policy", "breached");
	metrics_header(out, "collabd_sla_overdue", "gauge", "Open deadlines past their due time, by SLA policy.");
	rows_family(out, sla, "collabd_sla_overdue", "policy", "policy", "overdue");
	metrics_header(out, "collabd_deadlines_open", "gauge", "Open deadlines, by SLA policy.");
	rows_family(out, sla, "collabd_deadlines_open", "policy", "policy", "open");
	json_decref(sla);
	json_t *req = store_board_requests_by_state(d->store);
	metrics_header(out, "collabd_requests", "gauge", "Requests by workflow state.");
	rows_family(out, req, "collabd_requests", "state", "state", "n");
	json_decref(req);
}

static long long guard_open(const struct http_guard *g) { return g->open; }
static long long guard_max(const struct http_guard *g) { return g->max_connections; }
static long long guard_refused(const struct http_guard *g) { return g->refused; }
static long long guard_upgrades(const struct http_guard *g) { return g->upgrades_refused; }

/* The board's and the admin port's connections: open, the cap, refusals. */
static void listeners(struct buf *out, struct daemon *d)
{
	static const struct {
		const char *name, *type, *help;
		long long (*get)(const struct http_guard *);
	} families[] = {
		{ "collabd_listener_connections", "gauge", "HTTP connections open, by listener.", guard_open },
		{ "collabd_listener_max_connections", "gauge",
		  "The cap on open HTTP connections (admin.max_connections, board.max_connections).", guard_max },
		{ "collabd_listener_refused_total", "counter",
		  "Connections closed on accept because the listener was at its cap.", guard_refused },
		{ "collabd_listener_upgrades_refused_total", "counter",
		  "WebSocket (or other protocol) upgrades refused: the listeners speak plain HTTP only.", guard_upgrades },
	};
	const struct http_guard *guards[] = { &d->admin_guard, &d->board_guard };
	for (size_t f = 0; f < ARRAY_LEN(families); f++) {
		metrics_header(out, families[f].name, families[f].type, families[f].help);
		for (size_t i = 0; i < ARRAY_LEN(guards); i++) {
			if (!guards[i]->name)
				continue; /* that listener is off */
			char labels[64];
			snprintf(labels, sizeof labels, "listener=\"%s\"", guards[i]->name);
			metrics_sample(out, families[f].name, labels, families[f].get(guards[i]));
		}
	}
}

/* Which instance answers, as an info series rather than a label on every
 * sample: Prometheus attaches its own target labels (`instance` is the
 * scraped host:port) to every series, and a label of ours named `instance`
 * would be renamed `exported_instance`.  So the id (the one in the log
 * lines) has a name of its own, collabd_instance, on one series that
 * queries join on the target: `... * on(instance) group_left(collabd_instance)
 * collabd_instance_info`. */
static void instance_info(struct buf *out, struct daemon *d)
{
	char id[192], labels[320];
	metrics_label_escape(store_instance_id(d->store), id, sizeof id);
	snprintf(labels, sizeof labels, "collabd_instance=\"%s\",store=\"%s\"", id, store_engine_name(d->store));
	metrics_header(out, "collabd_instance_info", "gauge",
		       "This instance's id (COLLABD_INSTANCE_ID, else host-pid; as in the log lines) and its store.");
	metrics_sample(out, "collabd_instance_info", labels, 1);
}

char *daemon_metrics_text(struct daemon *d)
{
	struct buf out;
	buf_init(&out);
	metrics_header(&out, "collabd_build_info", "gauge", "The running version.");
	metrics_sample(&out, "collabd_build_info", "version=\"" COLLABD_VERSION "\"", 1);
	instance_info(&out, d);
	metrics_header(&out, "collabd_start_time_seconds", "gauge", "When the daemon started (Unix time).");
	metrics_sample(&out, "collabd_start_time_seconds", "", d->started_at / 1000);
	metrics_header(&out, "collabd_reloads_total", "counter", "Reloads on SIGHUP (calendar, config-driven data).");
	metrics_sample(&out, "collabd_reloads_total", "", d->reloads);
	metrics_header(&out, "collabd_settings_generation", "gauge",
		       "The generation of the shared settings (calendar, admins) this instance runs with.");
	metrics_sample(&out, "collabd_settings_generation", "", d->settings_generation);
	metrics_header(&out, "collabd_settings_applied_total", "counter",
		       "Shared settings published by another instance (or the calendar tool) and applied here.");
	metrics_sample(&out, "collabd_settings_applied_total", "", d->settings_applied);
	events(&out, d);
	inbox(&out, d);
	connections(&out, d);
	listeners(&out, d);
	outbox(&out, d);
	timers(&out, d);
	wal(&out, d);
	workflow(&out, d);
	return buf_steal(&out);
}
