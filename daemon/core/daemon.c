/*
 * daemon.c - wiring and the main loop.
 *
 * The loop is libwebsockets' own: it polls the gateway socket, the admin
 * listener and every curl socket, and runs every timer (pings, reconnects,
 * outbox retries, curl timeouts).  Signal handlers only set a flag.
 */
#include "collabd/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collabd/calendar.h"
#include "collabd/clock.h"
#include "collabd/dingtalk.h"
#include "collabd/feishu.h"
#include "collabd/sched.h"
#include "collabd/sla.h"
#include "collabd/http.h"
#include "collabd/log.h"
#include "collabd/outbox.h"
#include "collabd/ratelimit.h"
#include "collabd/render.h"
#include "collabd/store.h"
#include "collabd/store_dead.h"
#include "collabd/webboard.h"
#include "collabd/wsconn.h"

#define EXIT_CONFIG 78        /* sysexits EX_CONFIG: systemd should not restart */
/* Bytes lws reads from a socket per turn (its default is 4 KB, a handful of
 * frames): more frames per turn, fewer syncs per event under load. */
#define RX_CHUNK_BYTES (64 * 1024)

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_signal(int sig) { stop_signal = sig; }
static void on_reload_signal(int sig) { reload_signal = sig; }

static json_t *feishu_stats_json(struct daemon *d)
{
	if (!d->feishu_ws)
		return json_null();
	const struct feishu_ws_stats *w = feishu_ws_stats(d->feishu_ws);
	const struct feishu_api_stats *a = feishu_api_stats(d->feishu_api);
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "connected", feishu_ws_connected(d->feishu_ws),
			 "connects", (json_int_t)w->connects, "reconnects", (json_int_t)w->reconnects,
			 "frames_in", (json_int_t)w->frames_in, "frames_bad", (json_int_t)w->frames_bad,
			 "events", (json_int_t)w->events, "acks", (json_int_t)w->acks,
			 "pings", (json_int_t)w->pings, "pongs", (json_int_t)w->pongs,
			 "ack_latency_us_total", (json_int_t)w->ack_latency_us_total,
			 "ack_latency_us_max", (json_int_t)w->ack_latency_us_max,
			 "token_fetches", (json_int_t)a->token_fetches, "sends_ok", (json_int_t)a->sends_ok,
			 "sends_throttled", (json_int_t)a->sends_throttled, "sends_error", (json_int_t)a->sends_error);
}

static json_t *dingtalk_stats_json(struct daemon *d)
{
	if (!d->dingtalk_ws)
		return json_null();
	const struct dingtalk_ws_stats *w = dingtalk_ws_stats(d->dingtalk_ws);
	const struct dingtalk_api_stats *a = dingtalk_api_stats(d->dingtalk_api);
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "connected", dingtalk_ws_connected(d->dingtalk_ws),
			 "connects", (json_int_t)w->connects, "reconnects", (json_int_t)w->reconnects,
			 "frames_in", (json_int_t)w->frames_in, "frames_bad", (json_int_t)w->frames_bad,
			 "callbacks", (json_int_t)w->callbacks, "acks", (json_int_t)w->acks,
			 "pings", (json_int_t)w->pings, "disconnects", (json_int_t)w->disconnects,
			 "token_fetches", (json_int_t)a->token_fetches, "via_webhook", (json_int_t)a->via_webhook,
			 "via_api", (json_int_t)a->via_api, "via_card", (json_int_t)a->via_card,
			 "throttled", (json_int_t)a->throttled,
			 "errors", (json_int_t)a->errors, "mentions_unnotified", (json_int_t)a->mentions_unnotified);
}

json_t *daemon_stats_json(struct daemon *d)
{
	const struct outbox_stats *o = outbox_stats(d->outbox);
	const struct sched_stats *t = sched_stats(d->sched);
	struct store_wal_stats w;
	store_wal_stats(d->store, &w);
	return json_pack("{s:{s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:i},"
			 "s:{s:I,s:I},s:{s:I,s:I}}",
			 "timers", "fired", (json_int_t)t->fired, "late", (json_int_t)t->late,
			 "messages", (json_int_t)t->notices, "batches", (json_int_t)t->batches,
			 "pending", (json_int_t)store_timers_pending(d->store),
			 "inbox", "applied", (json_int_t)d->inbox.applied, "duplicates", (json_int_t)d->inbox.duplicates,
			 "rejected", (json_int_t)d->inbox.rejected, "failed", (json_int_t)d->inbox.failed,
			 "dead_letters", (json_int_t)d->inbox.dead_letters, "commits", (json_int_t)d->inbox.batches,
			 "batch_events_max", (json_int_t)d->inbox.batch_events_max,
			 "feishu_ws", feishu_stats_json(d),
			 "dingtalk", dingtalk_stats_json(d),
			 "outbox", "sent", (json_int_t)o->sent, "retried", (json_int_t)o->retried,
			 "failed", (json_int_t)o->failed, "throttled", (json_int_t)o->throttled,
			 "pending", (json_int_t)store_outbox_pending(d->store),
			 "inflight", outbox_inflight(d->outbox),
			 "wal", "checkpoints_on_thread", (json_int_t)w.checkpoints,
			 "checkpoints_on_loop", (json_int_t)w.inline_checkpoints,
			 "gateway_output", "pauses", (json_int_t)wsconn_stats()->pauses,
			 "unsent_max_bytes", (json_int_t)wsconn_stats()->unsent_max);
}

/* Counts the answer to one event for /metrics: acked (with the time since
 * it reached us) or left for the platform to redeliver.  Returns acked. */
static int counted(struct metrics_platform_counters *m, int acked, lws_usec_t started)
{
	if (acked) {
		m->acked++;
		metrics_observe_latency(&m->ack_latency, (long long)(lws_now_usecs() - started));
	} else {
		m->unacked++;
	}
	return acked;
}

static void feishu_reply_card(json_t *reply);

/* After the batch's commit: count the event's outcome and answer its adapter. */
static void answer_event(void *arg, const struct inbox_answer *a)
{
	struct daemon *d = arg;
	enum metrics_platform mp = metrics_platform_of(a->platform);
	int ack = a->rc != INBOX_FAILED;
	if (a->rc == INBOX_DUPLICATE)
		d->metrics.platform[mp].deduplicated++;
	counted(&d->metrics.platform[mp], ack, (lws_usec_t)a->received_us);
	if (mp == METRICS_FEISHU) {
		if (ack && a->card_response)
			feishu_reply_card(a->card_response);
		if (d->feishu_ws)
			feishu_ws_answer(d->feishu_ws, a->ticket, ack, a->card_response);
	} else if (d->dingtalk_ws) {
		json_t *reply = a->kind == EVENT_CARD_ACTION && ack ? render_dingtalk_card_reply(a->card_response) : NULL;
		dingtalk_ws_answer(d->dingtalk_ws, a->ticket, ack, reply);
		json_decref(reply);
	}
}

void daemon_flush_events(struct daemon *d)
{
	if (!d->batch || inbox_batch_size(d->batch) == 0)
		return;
	struct daemon_status status;
	daemon_status_get(d, &status);
	d->env.status = &status;
	long long changed = d->inbox.applied + d->inbox.dead_letters;
	inbox_batch_flush(d->batch, d->store, &d->env, &d->inbox, answer_event, d);
	d->env.status = NULL;
	if (d->inbox.applied + d->inbox.dead_letters > changed) /* new notices, deadlines */
		d->kick_when_durable = 1;
	/* One sync in flight at most (the store's sync thread): when a second
	 * commit waits, the disk is slower than the loop, which would read on
	 * and hold ever more unacked events; sync here and ack them all, as a
	 * commit with FULL did.  (Counting events instead -- a full batch
	 * waiting -- synced inline after every full batch: the one just
	 * committed is always still waiting.) */
	daemon_answer_durable(d, inbox_waiting_commits(d->batch) > 1);
}

/* Acks the events whose batch's commit the store's sync thread has put on
 * disk (wait: sync now and ack them all, at shutdown).  The outbox and the
 * timers look at what those batches queued only then: a reply never leaves
 * for an event that a power cut could still take back. */
void daemon_answer_durable(struct daemon *d, int wait)
{
	if (!d->batch)
		return;
	inbox_answer_durable(d->batch, d->store, wait, answer_event, d);
	if (d->kick_when_durable && inbox_waiting(d->batch) == 0) {
		d->kick_when_durable = 0;
		outbox_kick(d->outbox);
		sched_kick(d->sched);
	}
}

/* On a sync thread: the loop has acks to send.  An eventfd of our own in
 * the loop's poll set, rather than lws_cancel_service(): with that, a flood
 * now and then ended with a batch of acks queued on the DingTalk socket and
 * never written (the socket left lws's poll set, 30 MiB of acks held). */
static void wake_loop(void *arg)
{
	struct daemon *d = arg;
	uint64_t one = 1;
	if (write(d->wake_fd, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is full, the loop wakes anyway. */
	}
}

/* The loop's side of the eventfd: empty it; the loop then acks what is durable. */
static int wake_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE && reason != LWS_CALLBACK_RAW_CLOSE_FILE)
		return 0; /* the others may come without a wsi */
	struct daemon *d = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	if (reason == LWS_CALLBACK_RAW_RX_FILE && d) {
		uint64_t n;
		if (read(d->wake_fd, &n, sizeof n) < 0) {
			/* EAGAIN: already emptied. */
		}
	}
	if (reason == LWS_CALLBACK_RAW_CLOSE_FILE && d)
		d->wake_wsi = NULL;
	return 0;
}

static const struct lws_protocols wake_protocol = { .name = "collabd-wake", .callback = wake_callback };

/* Puts the sync thread's eventfd in the loop's poll set and hands the store
 * the function that writes it. */
static void watch_durable(struct daemon *d)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0) {
		log_error("msg=\"cannot make the wake descriptor; inbox commits sync on the loop\" error=\"%s\"",
			  strerror(errno));
		store_wal_sync_off(d->store);
		return;
	}
	lws_sock_file_fd_type desc;
	desc.filefd = fd;
	d->wake_wsi = lws_adopt_descriptor_vhost(d->client_vhost, LWS_ADOPT_RAW_FILE_DESC, desc,
						 wake_protocol.name, NULL);
	if (!d->wake_wsi) {
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		log_error("msg=\"cannot watch the wake descriptor; inbox commits sync on the loop\"");
		store_wal_sync_off(d->store);
		return;
	}
	d->wake_fd = fd;
	lws_set_opaque_user_data(d->wake_wsi, d);
	store_on_durable(d->store, wake_loop, d);
}

/* Queues one parsed event (either platform) for the current batch; flushes
 * at once when the batch is full or has waited long enough. */
static void queue_event(struct daemon *d, struct event *ev, const struct inbox_source *src)
{
	if (inbox_batch_add(d->batch, ev, src))
		daemon_flush_events(d);
}

/* A click's reply may carry the clicked card redrawn ({"kind","body"}, see
 * cmd_finish_card()): Feishu wants it as {"type":"raw","data":<card JSON>}
 * beside the toast.  A card that cannot be drawn is left out (logged): the
 * toast still answers the click. */
static void feishu_reply_card(json_t *reply)
{
	json_t *card = json_object_get(reply, "card");
	if (!card)
		return;
	const char *kind = json_string_value(json_object_get(card, "kind"));
	char *body = json_dumps(json_object_get(card, "body"), JSON_COMPACT);
	struct feishu_message msg;
	json_t *data = NULL;
	if (kind && body && !render_feishu(kind, body, &msg)) {
		data = json_loads(msg.content, 0, NULL);
		feishu_message_free(&msg);
	}
	free(body);
	if (data)
		json_object_set_new(reply, "card", json_pack("{s:s,s:o}", "type", "raw", "data", data));
	else {
		log_warn("msg=\"redrawn card could not be rendered; answering with the toast only\" kind=%s",
			 kind ? kind : "-");
		json_object_del(reply, "card");
	}
}

/* The Feishu adapter hands us each complete event here. */
static enum feishu_ack on_feishu_event(void *arg, const char *payload, size_t len, uint64_t ticket,
				       json_t **card_response)
{
	struct daemon *d = arg;
	struct metrics_platform_counters *m = &d->metrics.platform[METRICS_FEISHU];
	lws_usec_t started = lws_now_usecs();
	struct event ev;
	char why[256];
	(void)card_response;
	m->received++;
	if (feishu_event_parse(payload, len, feishu_api_bot_id(d->feishu_api), &ev, why, sizeof why)) {
		/* It will never parse, however often it comes: ack and move on. */
		d->inbox.rejected++;
		m->rejected++;
		log_warn("msg=\"unusable event dropped\" platform=feishu reason=\"%s\" bytes=%zu", why, len);
		counted(m, 1, started);
		return FEISHU_ACK_OK;
	}
	struct inbox_source src = { .raw = payload, .raw_len = len, .ticket = ticket, .received_us = started };
	queue_event(d, &ev, &src);
	return FEISHU_ACK_LATER;
}

/* The DingTalk adapter hands us each callback here. */
static enum dingtalk_ack on_dingtalk_event(void *arg, const char *topic, const char *data, size_t len,
					   const char *frame_id, uint64_t ticket, json_t **card_response)
{
	struct daemon *d = arg;
	struct metrics_platform_counters *m = &d->metrics.platform[METRICS_DINGTALK];
	lws_usec_t started = lws_now_usecs();
	int card = !strcmp(topic, "/v1.0/card/instances/callback");
	(void)card_response;
	m->received++;
	if (!card && strcmp(topic, "/v1.0/im/bot/messages/get")) {
		log_info("msg=\"dingtalk callback topic not handled\" topic=%s", topic);
		counted(m, 1, started);
		return DINGTALK_ACK_OK;
	}
	struct event ev;
	char why[256];
	enum event_parse_rc prc = dingtalk_parse_callback(topic, data, len, frame_id, &ev, why, sizeof why);
	if (prc) {
		d->inbox.rejected++;
		m->rejected++;
		log_warn("msg=\"unusable event dropped\" platform=dingtalk reason=\"%s\" bytes=%zu", why, len);
		counted(m, 1, started);
		return DINGTALK_ACK_OK;
	}
	struct inbox_source src = { .raw = data, .raw_len = len, .topic = topic, .frame_id = frame_id,
				    .ticket = ticket, .received_us = started };
	queue_event(d, &ev, &src);
	return DINGTALK_ACK_LATER;
}

static void on_send_error(void *arg, const char *error, int final)
{
	struct daemon *d = arg;
	metrics_count_send_error(&d->metrics, error, final);
}

static void on_platform_fatal(void *arg, const char *why)
{
	struct daemon *d = arg;
	(void)why;
	d->exit_code = EXIT_CONFIG;
	d->stopping = 1;
}

/* Retention, hourly (and a second after start): event keys past the dedupe
 * window, sent messages and the log of received events past theirs.  Each
 * DELETE is its own statement, so the loop is never held long. */
static void prune_old_rows(lws_sorted_usec_list_t *sul)
{
	struct daemon *d = lws_container_of(sul, struct daemon, prune_timer);
	const struct retention_config *r = &d->cfg.retention;
	ms_t now = clock_now_ms(), day = 24LL * 3600 * 1000;
	int inbox = store_inbox_prune(d->store, now - r->inbox_days * day);
	/* Failed-attempt counts live as long as the redelivery they count. */
	int attempts = store_attempts_prune(d->store, now - r->inbox_days * day);
	int outbox = store_outbox_prune_sent(d->store, now - r->outbox_days * day);
	int events = store_timeline_prune_events(d->store, now - r->event_log_days * day);
	if (inbox < 0 || attempts < 0 || outbox < 0 || events < 0)
		log_error("msg=\"retention: cannot prune old rows; will try again in an hour\" error=\"%s\"",
			  store_errmsg(d->store));
	if (inbox > 0 || attempts > 0 || outbox > 0 || events > 0)
		log_info("msg=\"pruned old rows\" inbox=%d attempts=%d outbox_sent=%d event_log=%d", inbox, attempts,
			 outbox, events);
	lws_sul_schedule(d->ctx, 0, sul, prune_old_rows, 3600 * LWS_USEC_PER_SEC);
}

/* Set when lws reports a failed accept (descriptors exhausted): lws then
 * finds the listening socket readable again at once, for ever.  It has no
 * hook for this, so its log line is the signal; the loop backs off. */
static int accept_failed;

/* libwebsockets' own log lines, reshaped into ours. */
static void lws_log_line(int level, const char *line)
{
	if (strstr(line, "accept: errno"))
		accept_failed = 1;
	char text[512];
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	n = utf8_cut(line, n, sizeof text - 1);
	for (size_t i = 0; i < n; i++)
		text[i] = line[i] == '"' ? '\'' : line[i];
	text[n] = '\0';
	log_msg(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "msg=\"libwebsockets\" detail=\"%s\"", text);
}

static void daemon_close(struct daemon *d);

/*
 * How many descriptors lws may hold (0: all of them, lws's default).
 *
 * What lives outside lws needs a reserve: curl's own sockets (one per
 * transfer beside the duplicate lws polls; each gateway connection is one
 * too, with its own multi's wake-up pair: GATEWAY_DESCRIPTORS), SQLite's
 * files, stdio.  When the
 * listeners' caps are small beside the process limit, they alone keep lws
 * within its share, and lws keeps its fast descriptor table.  Otherwise lws
 * is told its share: when its table is full it stops polling the listening
 * sockets until a slot frees, so idle HTTP clients can take lws's share but
 * never the reserve, and accept does not fail with EMFILE in a loop.  (A
 * table smaller than the limit makes lws look descriptors up linearly, which
 * is why it is not the default.)
 */
/* Three gateway connections at most (Feishu's, and DingTalk's two while
 * one drains), each curl's socket and its multi's wake-up socket pair. */
#define GATEWAY_DESCRIPTORS (3 * 3)

static unsigned int lws_descriptor_budget(const struct config *cfg)
{
	struct rlimit rl;
	if (cfg->test_no_descriptor_reserve) {
		log_warn("msg=\"TEST MODE: no descriptor reserve; idle clients can starve the gateways\"");
		return 0;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 20)
		return 0;
	unsigned int limit = (unsigned int)rl.rlim_cur;
	unsigned int reserve = (limit / 8 > 24 ? limit / 8 : 24) + (unsigned int)cfg->outbox.max_inflight + 8 +
			       GATEWAY_DESCRIPTORS;
	unsigned int share = limit > reserve + 16 ? limit - reserve : limit / 2;
	/* lws's own: both gateways (two DingTalk slots while one drains), the
	 * duplicates of curl's sockets, its event pipe, the listening sockets. */
	unsigned int needed = (unsigned int)(cfg->admin_port ? cfg->admin_max_connections : 0) +
			      (unsigned int)(cfg->board.port ? cfg->board.max_connections : 0) +
			      (unsigned int)cfg->outbox.max_inflight + 16;
	if (needed <= share)
		return 0;
	log_info("msg=\"descriptor limit is tight for the listeners' caps; lws keeps to its share\" "
		 "nofile=%u lws_share=%u reserve=%u", limit, share, limit - share);
	return share;
}

static int create_context(struct daemon *d)
{
	static const struct lws_protocols *client_protocols[] = {
		&wsconn_protocol, &http_client_protocol, &wake_protocol, NULL,
	};
	static const struct lws_protocols *admin_protocols[] = { &admin_protocol, NULL };

	/* lws logs through us: errors and warnings only, its info is too chatty. */
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);

	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	/* No TLS in lws: curl does the platforms' (http.c, wsconn.c) and the
	 * listeners speak plain HTTP behind the operator's proxy.  Without it lws
	 * builds no client SSL_CTX with the system's CAs loaded (~0.5 MiB). */
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.pt_serv_buf_size = RX_CHUNK_BYTES;
	info.user = d;
	info.fd_limit_per_thread = lws_descriptor_budget(&d->cfg);
	d->ctx = lws_create_context(&info);
	if (!d->ctx)
		return -1;

	memset(&info, 0, sizeof info);
	info.vhost_name = "client";
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.pprotocols = client_protocols;
	d->client_vhost = lws_create_vhost(d->ctx, &info);
	if (!d->client_vhost)
		return -1;

	if (d->cfg.admin_port) {
		memset(&info, 0, sizeof info);
		info.vhost_name = "admin";
		info.port = d->cfg.admin_port;
		const char *l = d->cfg.admin_listen;
		/* "0.0.0.0", "::" or "*" mean every interface, which lws spells NULL. */
		info.iface = !strcmp(l, "0.0.0.0") || !strcmp(l, "::") || !strcmp(l, "*") ? NULL : l;
		info.pprotocols = admin_protocols;
		d->admin_guard = (struct http_guard){ .name = "admin", .max_connections = d->cfg.admin_max_connections,
						      .idle_timeout_s = d->cfg.admin_idle_timeout_s };
		http_guard_vhost_info(&d->admin_guard, &info);
		if (!lws_create_vhost(d->ctx, &info)) {
			log_error("msg=\"cannot listen for the admin interface\" listen=%s port=%d",
				  d->cfg.admin_listen, d->cfg.admin_port);
			return -1;
		}
		log_info("msg=\"admin interface listening\" listen=%s port=%d token=%s", d->cfg.admin_listen,
			 d->cfg.admin_port, d->cfg.admin_token && *d->cfg.admin_token ? "required" : "none");
		if (!config_is_loopback(d->cfg.admin_listen))
			log_warn("msg=\"the admin interface listens beyond loopback: every request must carry "
				 "Authorization: Bearer admin.token\" listen=%s port=%d", d->cfg.admin_listen, d->cfg.admin_port);
	}
	return board_listen(d); /* the web board, when board.port is set */
}

/*
 * Opens everything the daemon owns, in order.  Returns 0, or the exit code
 * (EXIT_FAILURE, or EXIT_CONFIG when a restart cannot help) after logging why
 * and closing whatever was opened: the single way out is daemon_close().
 */
static int daemon_open(struct daemon *d)
{
	char err[512];
	int rc = EXIT_FAILURE;
	d->exit_code = 0;
	if (cmd_table_check())
		goto fail;
	clock_test_enable(d->cfg.test_clock_control);
	if (d->cfg.test_clock_control)
		log_warn("msg=\"TEST MODE: the clock can be moved through the admin interface\"");
	int sy, sm, sd, smin, ssec;
	if (d->cfg.test_clock_control && d->cfg.test_start_at && *d->cfg.test_start_at &&
	    !config_parse_start_at(d->cfg.test_start_at, &sy, &sm, &sd, &smin, &ssec)) {
		/* Before anything reads the clock: a restart inside a test goes on
		 * from the test's time, never from the real one. */
		clock_test_set(calendar_local_time(sy, sm, sd, smin) + ssec * 1000LL);
		log_warn("msg=\"TEST MODE: the clock starts at testing.start_at\" start_at=\"%s\"", d->cfg.test_start_at);
	}
	d->started_at = clock_now_ms();

	char shown[512];
	store_database_redacted(d->cfg.database, shown, sizeof shown);
	if (store_open(d->cfg.database, &d->store, err, sizeof err) != STORE_OK) {
		log_error("msg=\"cannot open the database\" path=%s error=\"%s\"", shown, err);
		goto fail;
	}
	/* On the shared store several instances write one log stream each;
	 * every line says which instance wrote it. */
	if (!strcmp(store_engine_name(d->store), "postgresql"))
		log_set_instance(store_instance_id(d->store));
	/* From here the store serves the loop: bounded waits, reconnects in
	 * the background (store_tick). */
	struct store_limits limits = { d->cfg.postgresql.connect_timeout_ms, d->cfg.postgresql.statement_timeout_ms,
				       d->cfg.postgresql.lock_timeout_ms };
	store_set_limits(d->store, &limits);
	log_info("msg=\"database ready\" path=%s engine=%s schema_version=%d", shown, store_engine_name(d->store),
		 store_schema_version());
	struct stat dbst;
	if (!store_is_pg_uri(d->cfg.database) && stat(d->cfg.database, &dbst) == 0 && (dbst.st_mode & 007))
		log_warn("msg=\"the database is readable by other users of this machine; chmod 600 it (and its -wal, "
			 "-shm files)\" path=%s mode=%03o", d->cfg.database, (unsigned)(dbst.st_mode & 0777));
	if (d->cfg.test_wal_sync_delay_ms) {
		log_warn("msg=\"TEST MODE: each WAL sync starts late\" delay_ms=%d", d->cfg.test_wal_sync_delay_ms);
		store_set_sync_delay(d->store, d->cfg.test_wal_sync_delay_ms);
	}
	if (d->cfg.test_sync_normal) {
		log_warn("msg=\"TEST MODE: synchronous=NORMAL; acked events may be lost in a power cut\"");
		store_set_synchronous(d->store, 0);
	}
	/* Group commit: the events one turn of the loop read go in one
	 * transaction, but never more than inbox.batch_max_events, nor held
	 * longer than inbox.batch_max_wait_ms, before their commit and acks. */
	d->batch = inbox_batch_new((size_t)d->cfg.inbox_batch_max_events, d->cfg.inbox_batch_max_wait_ms);

	struct calendar_hours hours;
	config_calendar_hours(&d->cfg, &hours);
	d->calendar = calendar_new(&hours);
	if (config_calendar_load(&d->cfg, d->calendar, err, sizeof err)) {
		log_error("msg=\"cannot load the calendar\" error=\"%s\"", err);
		rc = EXIT_CONFIG;
		goto fail;
	}
	/* The database's copy may replace what the files said (settings_sync.c). */
	if (daemon_settings_open(d))
		goto fail;
	int year, month, day, minute;
	calendar_local_date(clock_now_ms(), &year, &month, &day, &minute);
	for (int y = year; y <= year + 1; y++)
		if (!calendar_has_year(d->calendar, y) && (y == year || month >= 11))
			log_warn("msg=\"no holiday data for this year; counting Monday to Friday as working days "
				 "until a calendar file is added\" year=%d dir=%s", y, d->cfg.calendar.dir);
	d->policies = sla_policies_new(d->cfg.sla, NULL, NULL); /* validated with the config */

	if (create_context(d)) {
		log_error("msg=\"cannot start the event loop\"");
		goto fail;
	}
	watch_durable(d); /* before the first inbox commit */
	d->http = http_client_new(d->ctx, d->client_vhost);
	if (d->http)
		http_client_set_ca_file(d->http, d->cfg.tls_ca_file);
	d->outbox = outbox_new(d->store, d->ctx, &d->cfg.outbox);
	outbox_on_error(d->outbox, on_send_error, d);
	if (d->cfg.feishu.enabled) {
		d->feishu_api = feishu_api_new(&d->cfg.feishu, d->http, d->cfg.outbox.rate_per_app,
					       d->cfg.outbox.rate_per_chat);
		outbox_add_sender(d->outbox, feishu_api_sender(d->feishu_api));
		d->feishu_ws = feishu_ws_new(&d->cfg.feishu, d->ctx, d->client_vhost, d->http, on_feishu_event,
					     on_platform_fatal, d);
	}
	if (d->cfg.dingtalk.enabled) {
		d->dingtalk_api = dingtalk_api_new(&d->cfg.dingtalk, d->http, d->store);
		outbox_add_sender(d->outbox, dingtalk_api_sender(d->dingtalk_api));
		d->dingtalk_ws = dingtalk_ws_new(&d->cfg.dingtalk, d->ctx, d->client_vhost, d->http, on_dingtalk_event,
						 on_platform_fatal, d);
	}
	d->sched = sched_new(d->store, d->ctx, d->calendar, d->policies, d->outbox);
	d->env.sched = d->sched;
	d->env.store = d->store;
	sched_set_hook(d->sched, cmd_dispatch_deadline, &d->env);
	d->env.admins = d->cfg.admins;
	d->env.dedicated_chat = d->cfg.dedicated_chat;
	d->env.issue_urgent_app = d->cfg.issue_urgent_app;
	d->env.issue_dept_chats = d->cfg.issue_dept_chats;
	d->env.cfg = &d->cfg;
	calendar_parse_hhmm(d->cfg.progress.cutoff, &d->env.progress_cutoff_min);
	d->env.progress_escalate_after = d->cfg.progress.escalate_after_misses;
	d->env.user_rate = bucket_map_new(d->cfg.commands_per_minute / 60.0, d->cfg.commands_burst);
	d->env.user_warned = bucket_map_new(1 / 60.0, 1);
	return 0;
fail:
	daemon_close(d);
	return rc;
}

/* Drives the shared store's reconnect when its server was lost, a step at a
 * time and never waiting, so the loop keeps serving meanwhile (/healthz
 * says the database is unreachable; events stay unacked). */
static void store_tick(lws_sorted_usec_list_t *sul)
{
	struct daemon *d = lws_container_of(sul, struct daemon, store_timer);
	long ms = store_maintain(d->store);
	d->store_ticking = ms >= 0;
	if (ms >= 0)
		lws_sul_schedule(d->ctx, 0, sul, store_tick, (lws_usec_t)(ms > 0 ? ms : 1) * LWS_US_PER_MS);
}

/* After a turn: a store that lost its server starts ticking until it is
 * back (store_maintain() then says -1); while it is up nothing runs. */
static void watch_store(struct daemon *d)
{
	if (!d->store_ticking && !store_reachable(d->store))
		store_tick(&d->store_timer);
}

/* Starts the connections and timers, then serves until a stop signal or a
 * fatal platform error; sends already on the wire get a moment to finish. */
static void daemon_loop(struct daemon *d)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload_signal;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lws_sul_schedule(d->ctx, 0, &d->prune_timer, prune_old_rows, LWS_USEC_PER_SEC);
	daemon_settings_start(d);
	if (d->feishu_ws) {
		feishu_api_learn_bot_id(d->feishu_api);
		feishu_ws_start(d->feishu_ws);
	}
	if (d->dingtalk_ws)
		dingtalk_ws_start(d->dingtalk_ws);
	json_decref(daemon_replay_dead_letters(d)); /* retries asked for while we were down */
	outbox_kick(d->outbox); /* whatever a previous run left pending */
	sched_kick(d->sched);   /* timers that came due while we were down fire now, marked late */
	log_info("msg=\"collabd started\" version=%s pending_outbox=%lld", COLLABD_VERSION,
		 (long long)store_outbox_pending(d->store));

	long accept_backoff_ms = 0;
	while (!stop_signal && !d->stopping) {
		if (lws_service(d->ctx, 0) < 0)
			break;
		/* Under a flood a turn reads up to 256 KiB per connection (~280
		 * DingTalk frames, wsconn.c): read on, without waiting, while that brings more events
		 * and the batch has room, so that a commit and its sync serve more
		 * of them.  At low load the first look finds nothing: no delay. */
		size_t held;
		while (d->batch && inbox_batch_has_room(d->batch)) {
			held = inbox_batch_size(d->batch);
			if (lws_service(d->ctx, -1) < 0 || inbox_batch_size(d->batch) <= held)
				break;
		}
		/* What this turn read: one commit; the acks of every batch now on
		 * disk (a sync thread woke the loop when it finished). */
		daemon_flush_events(d);
		daemon_answer_durable(d, 0);
		watch_store(d);
		if (accept_failed) {
			/* Out of descriptors with a client knocking: give the rest of
			 * the loop (and the knocking client's timeout) a chance instead
			 * of spinning on accept.  10 ms doubling to half a second. */
			accept_failed = 0;
			accept_backoff_ms = accept_backoff_ms ? accept_backoff_ms * 2 : 10;
			if (accept_backoff_ms > 500)
				accept_backoff_ms = 500;
			struct timespec pause = { 0, accept_backoff_ms * 1000000L };
			nanosleep(&pause, NULL);
		} else {
			accept_backoff_ms = 0;
		}
		if (reload_signal) {
			/* Between callbacks: no transaction is open here. */
			reload_signal = 0;
			daemon_reload(d);
		}
	}

	log_info("msg=\"stopping\" signal=%d", (int)stop_signal);
	daemon_flush_events(d);
	daemon_answer_durable(d, 1);
	if (d->feishu_ws)
		feishu_ws_stop(d->feishu_ws);
	if (d->dingtalk_ws)
		dingtalk_ws_stop(d->dingtalk_ws);
	/* Give sends already on the wire a moment to be confirmed, so they are
	 * not resent after the restart (harmless, but noisy). */
	ms_t deadline = clock_mono_ms() + 2000;
	while (outbox_inflight(d->outbox) > 0 && clock_mono_ms() < deadline) {
		lws_service(d->ctx, 0);
		daemon_flush_events(d);
		daemon_answer_durable(d, 1);
	}
	lws_sul_cancel(&d->prune_timer);
	lws_sul_cancel(&d->store_timer);
	lws_sul_cancel(&d->settings_timer);
}

/* Frees whatever daemon_open() opened, in reverse order; every part may be
 * NULL (each *_free is NULL-safe), so this serves the failure paths too. */
static void daemon_close(struct daemon *d)
{
	/* The HTTP client goes first: its last callbacks still reach the
	 * adapter and the outbox, which record what did not finish. */
	http_client_free(d->http);
	feishu_ws_free(d->feishu_ws);
	feishu_api_free(d->feishu_api);
	dingtalk_ws_free(d->dingtalk_ws);
	dingtalk_api_free(d->dingtalk_api);
	sched_free(d->sched);
	bucket_map_free(d->env.user_rate);
	bucket_map_free(d->env.user_warned);
	outbox_free(d->outbox);
	/* A graceful stop hands this instance's outbox claims back at once,
	 * rather than leaving the others to wait for the lease. */
	if (d->store)
		store_outbox_release(d->store);
	if (d->store)
		store_on_durable(d->store, NULL, NULL); /* before the context it wakes goes */
	if (d->ctx)
		lws_context_destroy(d->ctx);
	inbox_batch_free(d->batch); /* anything left was never acked: redelivered */
	d->batch = NULL;
	store_close(d->store);
	sla_policies_free(d->policies);
	calendar_free(d->calendar);
	daemon_settings_stop(d);
	d->http = NULL;
	d->feishu_ws = NULL;
	d->feishu_api = NULL;
	d->dingtalk_ws = NULL;
	d->dingtalk_api = NULL;
	d->sched = NULL;
	d->env.user_rate = d->env.user_warned = NULL;
	d->outbox = NULL;
	d->ctx = NULL;
	d->store = NULL;
	d->policies = NULL;
	d->calendar = NULL;
}

int daemon_run(struct daemon *d)
{
	int rc = daemon_open(d);
	if (rc)
		return rc;
	daemon_loop(d);
	daemon_close(d);
	log_info("msg=\"stopped\" exit_code=%d", d->exit_code);
	return d->exit_code;
}
