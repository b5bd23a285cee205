/*
 * dingtalk_ws.c - DingTalk Stream mode over libwebsockets.
 *
 * An attempt is: POST /v1.0/gateway/connections/open (a fresh single-use
 * ticket, valid 90 s) then dial endpoint?ticket=.  At most two connections
 * live at once: the current one and, after a SYSTEM disconnect, the draining
 * one, which stays until the new one is up (make before break: the server
 * stops pushing on a connection once it says disconnect).  Only one attempt
 * runs at a time, so a burst of closes cannot start a reconnect storm.
 */
#include "collabd/dingtalk.h"

#include <curl/curl.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/clock.h"
#include "collabd/http.h"
#include "collabd/json_scan.h"
#include "collabd/log.h"
#include "collabd/util.h"
#include "collabd/wsconn.h"

#define MAX_FRAME_BYTES (1u << 20)
#define OPEN_TIMEOUT_MS 10000
#define IDLE_PING_MS 60000      /* WS ping after this long without a frame ... */
#define IDLE_DEAD_MS 75000      /* ... and give up on the connection after this */
#define BACKOFF_MAX_MS 60000
#define ACK_BUF_KEEP_BYTES (64 * 1024) /* an ack's text buffer past this is given back */

/* AT_IDLE: a connection is up and no attempt is under way. */
enum attempt_state { AT_IDLE, AT_OPENING, AT_CONNECTING, AT_WAIT, AT_STOPPED, AT_FATAL };

static const char *const state_names[] = { "up", "opening", "connecting", "wait", "stopped", "fatal" };
_Static_assert(ARRAY_LEN(state_names) == AT_FATAL + 1, "one name per enum attempt_state");

struct dt_conn {
	struct dingtalk_ws *ws;
	struct wsconn *wc;          /* NULL once closed */
	uint64_t gen;               /* which connection this slot holds (0: none) */
	int in_use, up, draining;
	ms_t last_rx;
};

/* A callback waiting for its batch's commit: what its ack needs. */
struct held_ack {
	uint64_t ticket;
	struct dt_conn *conn;
	uint64_t conn_gen;          /* the ack goes only to the connection it came on */
	struct held_ack *next;
	char message_id[];          /* in the same allocation */
};

struct dingtalk_ws {
	const struct dingtalk_config *cfg;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	struct http_client *http;
	dingtalk_event_fn on_event;
	dingtalk_fatal_fn on_fatal;
	void *arg;
	enum attempt_state state;
	struct dt_conn conns[2];
	int failures;
	lws_sorted_usec_list_t retry_timer, watchdog_timer;
	struct held_ack *held, *held_tail;  /* in arrival order */
	struct buf ack;             /* where an ack's text is built, kept from ack to ack */
	uint64_t next_ticket, next_gen;
	struct dingtalk_ws_stats stats;
};

static void schedule_attempt(struct dingtalk_ws *ws, ms_t delay_ms);
static const struct wsconn_events conn_events;

/* Every change of the attempt state goes through here (and is logged). */
static void enter_state(struct dingtalk_ws *ws, enum attempt_state s)
{
	if (ws->state != s)
		log_debug("msg=\"dingtalk connection state\" from=%s to=%s", state_names[ws->state], state_names[s]);
	ws->state = s;
}

/* The ticket goes into a query string: percent-encode it (new string). */
static char *curl_escape_dup(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r = xstrdup(e ? e : s);
	curl_free(e);
	return r;
}

/* ---- connections ---- */

static void conn_reset(struct dt_conn *c)
{
	struct dingtalk_ws *ws = c->ws;
	memset(c, 0, sizeof *c);
	c->ws = ws;
}

static void conn_close(struct dt_conn *c, const char *why)
{
	if (c->wc) {
		log_info("msg=\"closing dingtalk connection\" reason=\"%s\"", why);
		wsconn_close(c->wc, why);
	}
}

/* {"code":200,"headers":{"contentType":"application/json","messageId":ID},"message":"OK","data":DATA}
 * Built as text: one per event under a flood, where an object tree and its
 * serialisation cost more than the rest of the ack path together.
 * data_literal: DATA already as a JSON string literal (a constant), else
 * data is escaped here. */
static void send_ack_text(struct dt_conn *c, const char *message_id, const char *data, const char *data_literal)
{
	struct buf *b = &c->ws->ack;
	buf_reset(b);
	buf_append_str(b, "{\"code\":200,\"headers\":{\"contentType\":\"application/json\",\"messageId\":");
	buf_append_json_string(b, message_id);
	buf_append_str(b, "},\"message\":\"OK\",\"data\":");
	if (data_literal)
		buf_append_str(b, data_literal);
	else
		buf_append_json_string(b, data);
	buf_append_str(b, "}");
	if (c->wc && c->up) /* an unsent ack means a redelivery, which the inbox dedupes */
		wsconn_send(c->wc, b->data, b->len);
	if (b->cap > ACK_BUF_KEEP_BYTES) /* a rare big echo: do not keep its memory */
		buf_free(b);
	c->ws->stats.acks++;
}

static void send_ack(struct dt_conn *c, const char *message_id, const char *data)
{
	send_ack_text(c, message_id, data, NULL);
}

/* ---- frames ---- */

/* A callback's ack: {"response": the card's reply or null}. */
static void send_callback_ack(struct dt_conn *c, const char *mid, json_t *card_response)
{
	if (!card_response) { /* a chat message: the common case, its data a constant */
		send_ack_text(c, mid, NULL, "\"{\\\"response\\\":null}\"");
		return;
	}
	json_t *wrapped = json_pack("{s:O}", "response", card_response ? card_response : json_null());
	char *text = json_dumps(wrapped, JSON_COMPACT | JSON_ENCODE_ANY);
	send_ack(c, mid, text);
	free(text);
	json_decref(wrapped);
}

static void held_free(struct held_ack *h) { free(h); }

void dingtalk_ws_answer(struct dingtalk_ws *ws, uint64_t ticket, int ack, json_t *card_response)
{
	/* Answers come in arrival order, so the one wanted is nearly always first. */
	struct held_ack **pp = &ws->held, *prev = NULL;
	while (*pp && (*pp)->ticket != ticket) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	struct held_ack *h = *pp;
	if (!h)
		return;
	*pp = h->next;
	if (ws->held_tail == h)
		ws->held_tail = prev;
	/* A connection that closed meanwhile gets nothing: the platform redelivers. */
	if (!ack)
		log_warn("msg=\"callback not acknowledged; the platform will redeliver it\" message_id=%s",
			 h->message_id);
	else if (h->conn->in_use && h->conn->gen == h->conn_gen)
		send_callback_ack(h->conn, h->message_id, card_response);
	held_free(h);
}

static void drop_held(struct dingtalk_ws *ws)
{
	while (ws->held) {
		struct held_ack *h = ws->held;
		ws->held = h->next;
		held_free(h);
	}
	ws->held_tail = NULL;
}

static void handle_callback(struct dt_conn *c, const char *topic, const char *mid, const char *data,
			    size_t data_len)
{
	struct dingtalk_ws *ws = c->ws;
	json_t *card_response = NULL;
	uint64_t ticket = ++ws->next_ticket;
	ws->stats.callbacks++;
	/* Held before the handler runs: it may commit its batch, and answer
	 * this very ticket, before it returns. */
	size_t mid_len = strlen(mid);
	struct held_ack *h = xmalloc(sizeof *h + mid_len + 1);
	h->ticket = ticket;
	h->conn = c;
	h->conn_gen = c->gen;
	h->next = NULL;
	memcpy(h->message_id, mid, mid_len + 1);
	if (ws->held_tail)
		ws->held_tail->next = h;
	else
		ws->held = h;
	ws->held_tail = h;
	enum dingtalk_ack a = ws->on_event(ws->arg, topic, data, data_len, mid, ticket, &card_response);
	if (a != DINGTALK_ACK_LATER)
		dingtalk_ws_answer(ws, ticket, a == DINGTALK_ACK_OK, card_response);
	json_decref(card_response);
}

/* What handle_frame() needs of a frame: NULL where absent or not a string. */
struct frame_head {
	const char *type, *topic, *mid, *data;
	size_t data_len;
};

static void handle_head(struct dt_conn *c, const struct frame_head *h, size_t len);

/* Frames are read by jscan(), which checks them as jansson would without
 * building a tree (two thirds of the cost of a frame); jansson only reads
 * what jscan() leaves undecided.  The callback's data -- an escaped JSON
 * document, most of the frame -- is unescaped while the frame is read (one
 * pass, not a second one after it); the short heads after it, into one
 * buffer on the stack when they fit (no allocation each). */
static void handle_frame(struct dt_conn *c, const char *text, size_t len)
{
	struct dingtalk_ws *ws = c->ws;
	ws->stats.frames_in++;
	enum { F_TYPE, F_TOPIC, F_MID, F_DATA, F_N };
	char *data = xmalloc(len + 1);
	struct jscan_field f[F_N] = {
		[F_TYPE] = { .path = { "type" } },
		[F_TOPIC] = { .path = { "headers", "topic" } },
		[F_MID] = { .path = { "headers", "messageId" } },
		[F_DATA] = { .path = { "data" }, .copy = data },
	};
	enum jscan_rc rc = jscan(text, len, NULL, f, F_N);
	if (rc != JSCAN_UNSURE) {
		char small[512];
		size_t need = f[F_TYPE].len + f[F_TOPIC].len + f[F_MID].len + 3;
		char *heads = need <= sizeof small ? small : xmalloc(need), *at = heads;
		const char *v[F_DATA];
		for (int i = 0; i < F_DATA; i++) {
			v[i] = NULL;
			if (f[i].type == JV_STRING) {
				v[i] = at;
				at += jscan_string_copy(&f[i], at) + 1;
			}
		}
		int has_data = f[F_DATA].type == JV_STRING;
		struct frame_head h = { v[F_TYPE], v[F_TOPIC], v[F_MID], has_data ? data : NULL,
					has_data ? f[F_DATA].copy_len : 0 };
		handle_head(c, &h, len);
		if (heads != small)
			free(heads);
		free(data);
		return;
	}
	free(data);
	json_t *frame = json_loadb(text, len, 0, NULL);
	json_t *headers = json_object_get(frame, "headers");
	struct frame_head h = {
		json_string_value(json_object_get(frame, "type")),
		json_string_value(json_object_get(headers, "topic")),
		json_string_value(json_object_get(headers, "messageId")),
		json_string_value(json_object_get(frame, "data")),
		json_string_length(json_object_get(frame, "data")),
	};
	handle_head(c, &h, len);
	json_decref(frame);
}

static void handle_head(struct dt_conn *c, const struct frame_head *h, size_t len)
{
	struct dingtalk_ws *ws = c->ws;
	const char *type = h->type, *topic = h->topic, *mid = h->mid, *data = h->data;
	if (!type || !topic || !mid) {
		ws->stats.frames_bad++;
		log_warn("msg=\"malformed stream frame dropped\" bytes=%zu", len);
		return;
	}
	if (!strcmp(type, "SYSTEM")) {
		if (!strcmp(topic, "ping")) {
			ws->stats.pings++;
			send_ack(c, mid, data ? data : "{}"); /* echo the opaque data */
		} else if (!strcmp(topic, "disconnect")) {
			ws->stats.disconnects++;
			send_ack(c, mid, data ? data : "{}");
			if (!c->draining) {
				c->draining = 1;
				log_info("msg=\"dingtalk asked to reconnect; opening a new connection first\"");
				if (ws->state == AT_IDLE)
					schedule_attempt(ws, 0);
			}
		} /* CONNECTED, REGISTERED, KEEPALIVE: liveness only */
	} else if (!strcmp(type, "CALLBACK")) {
		if (data) {
			handle_callback(c, topic, mid, data, h->data_len);
		} else {
			ws->stats.frames_bad++;
			log_warn("msg=\"callback without data dropped\" message_id=%s", mid);
		}
	} else if (!strcmp(type, "EVENT")) {
		/* No event topic drives the workflow yet: consume them. */
		send_ack(c, mid, "{\"status\":\"SUCCESS\",\"message\":\"OK\"}");
	} else {
		log_warn("msg=\"stream frame of unknown type ignored\" type=%s", type);
	}
}

/* ---- attempts ---- */

static void fatal(struct dingtalk_ws *ws, const char *why)
{
	enter_state(ws, AT_FATAL);
	log_error("msg=\"dingtalk stream cannot work; not retrying\" reason=\"%s\"", why);
	if (ws->on_fatal)
		ws->on_fatal(ws->arg, why);
}

static void attempt_failed(struct dingtalk_ws *ws, const char *why)
{
	ws->failures++;
	ms_t wait = 1000;
	for (int i = 1; i < ws->failures && wait < BACKOFF_MAX_MS; i++)
		wait *= 2;
	if (wait > BACKOFF_MAX_MS)
		wait = BACKOFF_MAX_MS;
	wait += random() % 1000; /* jitter: many daemons must not retry in step */
	log_warn("msg=\"dingtalk connect attempt failed\" reason=\"%s\" failures=%d retry_in_ms=%lld", why,
		 ws->failures, (long long)wait);
	schedule_attempt(ws, wait);
}

static struct dt_conn *free_slot(struct dingtalk_ws *ws)
{
	for (int i = 0; i < 2; i++)
		if (!ws->conns[i].in_use)
			return &ws->conns[i];
	return NULL;
}

static void connect_ws(struct dingtalk_ws *ws, const char *endpoint, const char *ticket)
{
	struct dt_conn *c = free_slot(ws);
	if (!c) {
		attempt_failed(ws, "both connection slots busy");
		return;
	}
	char *escaped = curl_escape_dup(ticket);
	char *url = xasprintf("%s?ticket=%s", endpoint, escaped);
	free(escaped);
	c->in_use = 1;
	c->gen = ++ws->next_gen;
	enter_state(ws, AT_CONNECTING);
	log_info("msg=\"connecting dingtalk stream\" endpoint=%s ticket=***", endpoint);
	c->wc = wsconn_dial(ws->ctx, ws->vhost, ws->http, url, MAX_FRAME_BYTES, 0, &conn_events, c);
	if (!c->wc) {
		conn_reset(c);
		attempt_failed(ws, "could not start the WebSocket connection");
	}
	free(url);
}

static void open_done(void *arg, const struct http_response *resp)
{
	struct dingtalk_ws *ws = arg;
	if (ws->state != AT_OPENING)
		return;
	json_t *root = resp->status ? json_loads(resp->body, 0, NULL) : NULL;
	const char *endpoint = json_string_value(json_object_get(root, "endpoint"));
	const char *ticket = json_string_value(json_object_get(root, "ticket"));
	const char *code = json_string_value(json_object_get(root, "code"));
	char why[300];
	if (resp->status == 200 && endpoint && ticket) {
		connect_ws(ws, endpoint, ticket);
	} else if (resp->status == 0) {
		utf8_snprintf(why, sizeof why, "connections/open unreachable: %s", resp->error);
		attempt_failed(ws, why);
	} else if ((resp->status == 400 || resp->status == 401 || resp->status == 403) && code &&
		   strstr(code, "invalidClientIdOrSecret")) {
		utf8_snprintf(why, sizeof why, "connections/open refused the app: http=%ld code=%s (check dingtalk.client_id "
			 "/ client_secret)", resp->status, code);
		fatal(ws, why);
	} else {
		utf8_snprintf(why, sizeof why, "connections/open answered http=%ld code=%s", resp->status, code ? code : "-");
		attempt_failed(ws, why);
	}
	json_decref(root);
}

static void attempt(lws_sorted_usec_list_t *sul)
{
	struct dingtalk_ws *ws = lws_container_of(sul, struct dingtalk_ws, retry_timer);
	if (ws->state == AT_STOPPED || ws->state == AT_FATAL)
		return;
	enter_state(ws, AT_OPENING);
	char *url = xasprintf("%s/v1.0/gateway/connections/open", ws->cfg->base_url);
	json_t *body = json_pack("{s:s,s:s,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}],s:s}",
				 "clientId", ws->cfg->client_id, "clientSecret", ws->cfg->client_secret,
				 "subscriptions", "type", "EVENT", "topic", "*",
				 "type", "CALLBACK", "topic", "/v1.0/im/bot/messages/get",
				 "type", "CALLBACK", "topic", "/v1.0/card/instances/callback",
				 "ua", "collabd/" COLLABD_VERSION);
	char *text = json_dumps(body, JSON_COMPACT);
	/* Without Accept: application/json the gateway answers XML. */
	const char *headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };
	if (http_request(ws->http, "POST", url, headers, text, OPEN_TIMEOUT_MS, open_done, ws))
		attempt_failed(ws, "could not start the connections/open request");
	free(text);
	json_decref(body);
	free(url);
}

static void schedule_attempt(struct dingtalk_ws *ws, ms_t delay_ms)
{
	enter_state(ws, AT_WAIT);
	lws_sul_schedule(ws->ctx, 0, &ws->retry_timer, attempt, (lws_usec_t)delay_ms * LWS_US_PER_MS + 1);
}

static void watchdog(lws_sorted_usec_list_t *sul)
{
	struct dingtalk_ws *ws = lws_container_of(sul, struct dingtalk_ws, watchdog_timer);
	ms_t now = clock_mono_ms();
	for (int i = 0; i < 2; i++) {
		struct dt_conn *c = &ws->conns[i];
		if (!c->in_use || !c->up)
			continue;
		if (now - c->last_rx > IDLE_DEAD_MS) {
			conn_close(c, "no frame or pong for 75 s");
		} else if (now - c->last_rx > IDLE_PING_MS) {
			wsconn_ping(c->wc);
		}
	}
	lws_sul_schedule(ws->ctx, 0, &ws->watchdog_timer, watchdog, 5 * LWS_USEC_PER_SEC);
}

static void conn_closed(struct dt_conn *c)
{
	struct dingtalk_ws *ws = c->ws;
	int was_current = c->up && !c->draining;
	int connecting = !c->up;
	conn_reset(c);
	if (ws->state == AT_STOPPED || ws->state == AT_FATAL)
		return;
	if (connecting && ws->state == AT_CONNECTING) {
		attempt_failed(ws, "WebSocket upgrade failed or closed before it was up");
		return;
	}
	if (was_current && ws->state == AT_IDLE) {
		ws->stats.reconnects++;
		log_warn("msg=\"dingtalk connection closed; reconnecting\"");
		schedule_attempt(ws, random() % 1000);
	}
}

/* ---- the connection's events (wsconn.h) ---- */

static void on_opened(void *arg)
{
	struct dt_conn *c = arg;
	struct dingtalk_ws *ws = c->ws;
	c->up = 1;
	c->last_rx = clock_mono_ms();
	enter_state(ws, AT_IDLE);
	ws->failures = 0;
	ws->stats.connects++;
	log_info("msg=\"dingtalk stream up\"");
	/* Make before break: the new connection is up, retire the old one. */
	for (int i = 0; i < 2; i++)
		if (&ws->conns[i] != c && ws->conns[i].in_use && ws->conns[i].draining)
			conn_close(&ws->conns[i], "replaced after a disconnect notice");
}

static void on_message(void *arg, const unsigned char *data, size_t len)
{
	struct dt_conn *c = arg;
	c->last_rx = clock_mono_ms();
	handle_frame(c, (const char *)data, len);
}

static void on_too_big(void *arg)
{
	struct dt_conn *c = arg;
	c->last_rx = clock_mono_ms();
	c->ws->stats.frames_bad++;
	log_warn("msg=\"oversized stream frame dropped\" limit=%u", MAX_FRAME_BYTES);
}

static void on_pong(void *arg)
{
	struct dt_conn *c = arg;
	c->last_rx = clock_mono_ms();
}

static void on_closed(void *arg, const struct wsconn_end *end)
{
	struct dt_conn *c = arg;
	c->wc = NULL;
	if (!end->was_open)
		log_warn("msg=\"dingtalk WebSocket connection failed\" detail=\"%s\" status=%d", end->why, end->status);
	conn_closed(c);
}

static const struct wsconn_events conn_events = {
	.opened = on_opened, .message = on_message, .too_big = on_too_big, .pong = on_pong, .closed = on_closed,
};

struct dingtalk_ws *dingtalk_ws_new(const struct dingtalk_config *cfg, struct lws_context *ctx,
				    struct lws_vhost *vhost, struct http_client *http,
				    dingtalk_event_fn on_event, dingtalk_fatal_fn on_fatal, void *arg)
{
	struct dingtalk_ws *ws = xcalloc(1, sizeof *ws);
	ws->cfg = cfg;
	ws->ctx = ctx;
	ws->vhost = vhost;
	ws->http = http;
	ws->on_event = on_event;
	ws->on_fatal = on_fatal;
	ws->arg = arg;
	for (int i = 0; i < 2; i++)
		ws->conns[i].ws = ws;
	return ws;
}

void dingtalk_ws_start(struct dingtalk_ws *ws)
{
	schedule_attempt(ws, 0);
	lws_sul_schedule(ws->ctx, 0, &ws->watchdog_timer, watchdog, 5 * LWS_USEC_PER_SEC);
}

void dingtalk_ws_stop(struct dingtalk_ws *ws)
{
	enter_state(ws, AT_STOPPED);
	lws_sul_cancel(&ws->retry_timer);
	lws_sul_cancel(&ws->watchdog_timer);
	for (int i = 0; i < 2; i++) {
		struct dt_conn *c = &ws->conns[i];
		wsconn_abandon(c->wc);
		conn_reset(c);
	}
	drop_held(ws);
}

void dingtalk_ws_free(struct dingtalk_ws *ws)
{
	if (!ws)
		return;
	dingtalk_ws_stop(ws);
	buf_free(&ws->ack);
	free(ws);
}

int dingtalk_ws_connected(const struct dingtalk_ws *ws)
{
	for (int i = 0; i < 2; i++)
		if (ws->conns[i].in_use && ws->conns[i].up)
			return 1;
	return 0;
}

const struct dingtalk_ws_stats *dingtalk_ws_stats(const struct dingtalk_ws *ws) { return &ws->stats; }
