/*
 * feishu_ws.c - the Feishu long connection (长连接) over libwebsockets.
 *
 * States:  IDLE -> BOOTSTRAP (POST /callback/ws/endpoint) -> CONNECTING (ws
 * upgrade) -> UP -> (closed) -> WAIT -> BOOTSTRAP ...; FATAL on client errors
 * (bad credentials, handshake 403, 514/1000040350 too many connections), where
 * retrying cannot help.  Every (re)connect fetches a fresh URL: its ticket is
 * single-use.
 *
 * Data frames are merged from their fragments, handed to the event handler,
 * and acked with the handler's answer.  The handler usually answers later
 * (group commit: the event waits for its batch's synced COMMIT): the frame's
 * ack fields are held under a ticket until feishu_ws_answer().  An ack
 * always follows a commit; when the handler cannot commit, no ack is sent
 * and the platform redelivers.
 */
#include "collabd/feishu.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/clock.h"
#include "collabd/http.h"
#include "collabd/log.h"
#include "collabd/pbbp2.h"
#include "collabd/util.h"
#include "collabd/wsconn.h"
#include "collabd/wsframe.h"

#define MAX_MESSAGE_BYTES (2u << 20)   /* one WebSocket message (a frame) */
#define MAX_FRAGMENTS 64               /* a sane upper bound for `sum` */
#define MAX_MERGED_BYTES (4u << 20)    /* a merged event payload */
#define MAX_PARTIALS 64                /* events being merged at once */
#define DEFAULT_FRAGMENT_MEMORY (16u << 20)
/* ... holding at most feishu.fragment_memory_bytes together (not 64 x 4 MB):
 * when a fragment would pass it, the incomplete events closest to expiry go. */
#define FRAGMENT_TTL_MS 5000           /* refreshed by each new fragment */
#define ENDPOINT_TIMEOUT_MS 15000

enum ws_state { WS_IDLE, WS_BOOTSTRAP, WS_CONNECTING, WS_UP, WS_WAIT, WS_STOPPED, WS_FATAL };

static const char *const state_names[] = { "idle", "bootstrap", "connecting", "up", "wait", "stopped", "fatal" };
_Static_assert(ARRAY_LEN(state_names) == WS_FATAL + 1, "one name per enum ws_state");

struct partial {
	char *message_id;
	int sum;
	int filled;
	struct buf *parts;
	size_t total;
	ms_t expires_at;  /* monotonic */
	struct partial *next;
};

/* An event waiting for its batch's commit: what its ack needs. */
struct held_ack {
	uint64_t ticket;
	struct pbbp2_frame frame;   /* the inbound frame's fields, without its payload */
	uint64_t conn_gen;          /* the connection it came on */
	ms_t started_us;
	struct held_ack *next;
};

struct feishu_ws {
	const struct feishu_config *cfg;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	struct http_client *http;
	feishu_event_fn on_event;
	feishu_fatal_fn on_fatal;
	void *arg;

	enum ws_state state;
	struct wsconn *wc;          /* NULL while there is no connection */
	uint64_t conn_gen;          /* counts connections, to tie acks to theirs */
	int32_t service_id;
	char device_id[64];
	int failures;               /* consecutive failed attempts */

	/* ClientConfig, in seconds; the server may change it in any pong. */
	int ping_interval, reconnect_count, reconnect_interval, reconnect_nonce;

	lws_sorted_usec_list_t ping_timer, retry_timer, watchdog_timer;
	ms_t last_rx;               /* monotonic */
	struct partial *partials;
	int npartials;
	struct held_ack *held, *held_tail;  /* in arrival order */
	uint64_t next_ticket;
	struct feishu_ws_stats stats;
};

static void schedule_attempt(struct feishu_ws *ws, ms_t delay_ms);
static const struct wsconn_events conn_events;

static void enter_state(struct feishu_ws *ws, enum ws_state s)
{
	if (ws->state != s)
		log_debug("msg=\"feishu connection state\" from=%s to=%s", state_names[ws->state], state_names[s]);
	ws->state = s;
}

/* ---- ClientConfig ---- */

static void send_ping(lws_sorted_usec_list_t *sul);

static void apply_client_config(struct feishu_ws *ws, json_t *cc)
{
	json_t *v;
	if (json_is_integer(v = json_object_get(cc, "PingInterval")) && json_integer_value(v) > 0 &&
	    json_integer_value(v) != ws->ping_interval) {
		ws->ping_interval = (int)json_integer_value(v);
		/* Applied at once: the next ping is one new interval from now. */
		if (ws->state == WS_UP)
			lws_sul_schedule(ws->ctx, 0, &ws->ping_timer, send_ping,
					 (lws_usec_t)ws->ping_interval * LWS_USEC_PER_SEC);
	}
	if (json_is_integer(v = json_object_get(cc, "ReconnectCount")))
		ws->reconnect_count = (int)json_integer_value(v);
	if (json_is_integer(v = json_object_get(cc, "ReconnectInterval")) && json_integer_value(v) >= 0)
		ws->reconnect_interval = (int)json_integer_value(v);
	if (json_is_integer(v = json_object_get(cc, "ReconnectNonce")) && json_integer_value(v) >= 0)
		ws->reconnect_nonce = (int)json_integer_value(v);
}

/* ---- sending ---- */

static void queue_frame(struct feishu_ws *ws, const struct pbbp2_frame *f)
{
	if (!ws->wc || ws->state != WS_UP)
		return; /* an unsent ack is simply redelivered by the platform */
	struct buf b;
	buf_init(&b);
	pbbp2_encode(f, &b);
	wsconn_send(ws->wc, b.data, b.len);
	buf_free(&b);
}

static void send_ping(lws_sorted_usec_list_t *sul)
{
	struct feishu_ws *ws = lws_container_of(sul, struct feishu_ws, ping_timer);
	if (ws->state != WS_UP)
		return;
	struct pbbp2_frame f = { .service = ws->service_id, .method = PBBP2_METHOD_CONTROL };
	pbbp2_add_header(&f, "type", "ping");
	queue_frame(ws, &f);
	pbbp2_frame_free(&f);
	ws->stats.pings++;
	lws_sul_schedule(ws->ctx, 0, &ws->ping_timer, send_ping, (lws_usec_t)ws->ping_interval * LWS_USEC_PER_SEC);
}

/* Closes a live connection from our side; CLIENT_CLOSED follows. */
static void close_connection(struct feishu_ws *ws, const char *why)
{
	if (ws->wc) {
		log_warn("msg=\"closing feishu connection\" reason=\"%s\" device_id=%s", why, ws->device_id);
		wsconn_close(ws->wc, why);
	}
}

static void watchdog(lws_sorted_usec_list_t *sul)
{
	struct feishu_ws *ws = lws_container_of(sul, struct feishu_ws, watchdog_timer);
	if (ws->state != WS_UP)
		return;
	/* The server answers every ping; silence for two intervals means the
	 * path is dead even if TCP has not noticed. */
	ms_t limit = (ms_t)ws->ping_interval * 2000 + 5000;
	ms_t idle = clock_mono_ms() - ws->last_rx;
	if (idle > limit) {
		close_connection(ws, "nothing received for two ping intervals");
		return;
	}
	lws_sul_schedule(ws->ctx, 0, &ws->watchdog_timer, watchdog, (lws_usec_t)(limit - idle + 10) * LWS_US_PER_MS);
}

/* ---- receiving ---- */

static void partial_free(struct partial *p)
{
	for (int i = 0; i < p->sum; i++)
		buf_free(&p->parts[i]);
	free(p->parts);
	free(p->message_id);
	free(p);
}

static void partial_unlink(struct feishu_ws *ws, struct partial *p)
{
	for (struct partial **pp = &ws->partials; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			ws->npartials--;
			ws->stats.fragment_bytes -= (long long)p->total;
			return;
		}
}

/* Gives up on an incomplete event (the platform redelivers it unacked). */
static void drop_partial(struct feishu_ws *ws, struct partial *p)
{
	partial_unlink(ws, p);
	partial_free(p);
	ws->stats.fragments_dropped++;
}

/* The incomplete event closest to expiry, or NULL. */
static struct partial *oldest_partial(struct feishu_ws *ws, const struct partial *except)
{
	struct partial *old = NULL;
	for (struct partial *q = ws->partials; q; q = q->next)
		if (q != except && (!old || q->expires_at < old->expires_at))
			old = q;
	return old;
}

static void drop_partials(struct feishu_ws *ws)
{
	while (ws->partials) {
		struct partial *p = ws->partials;
		ws->partials = p->next;
		partial_free(p);
	}
	ws->npartials = 0;
	ws->stats.fragment_bytes = 0;
}

static void expire_partials(struct feishu_ws *ws, ms_t now)
{
	struct partial *p = ws->partials;
	while (p) {
		struct partial *next = p->next;
		if (p->expires_at <= now) {
			log_warn("msg=\"dropping an event whose fragments never completed\" frame_message_id=%s got=%d sum=%d",
				 p->message_id, p->filled, p->sum);
			drop_partial(ws, p);
		}
		p = next;
	}
}

/* Parses a decimal header value in [lo, hi]; -1 when absent or out of range. */
static int header_int(const struct pbbp2_frame *f, const char *key, int lo, int hi)
{
	const char *s = pbbp2_header(f, key);
	if (!s || !*s || strlen(s) > 9)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	int v = atoi(s);
	return v < lo || v > hi ? -1 : v;
}

static void send_ack(struct feishu_ws *ws, const struct pbbp2_frame *in, json_t *card_response, ms_t started_us)
{
	struct pbbp2_frame ack = {
		.seq_id = in->seq_id, .log_id = in->log_id, .service = in->service, .method = in->method,
		.payload_encoding = in->payload_encoding, .payload_type = in->payload_type,
		.log_id_new = in->log_id_new,
	};
	/* Borrow the inbound headers and strings; only what we add is ours. */
	struct pbbp2_header *headers = xcalloc(in->nheaders + 1, sizeof *headers);
	memcpy(headers, in->headers, in->nheaders * sizeof *headers);
	ack.headers = headers;
	ack.nheaders = in->nheaders;

	/* {"code":200} and, for a card click, "data": the reply base64-encoded;
	 * built as text (no characters to escape in either). */
	struct buf payload;
	buf_init(&payload);
	buf_append_str(&payload, "{\"code\":200");
	if (card_response) {
		char *resp = json_dumps(card_response, JSON_COMPACT);
		size_t n = strlen(resp);
		size_t b64sz = 4 * ((n + 2) / 3) + 4;
		char *b64 = xmalloc(b64sz);
		int m = lws_b64_encode_string(resp, (int)n, b64, (int)b64sz);
		b64[m > 0 ? m : 0] = '\0'; /* the length is what counts, not a terminator */
		buf_printf(&payload, ",\"data\":\"%s\"", b64);
		free(b64);
		free(resp);
	}
	buf_append_str(&payload, "}");
	ack.payload = (unsigned char *)payload.data;
	ack.payload_len = payload.len;

	ms_t elapsed_us = (ms_t)lws_now_usecs() - started_us;
	char rt[32];
	snprintf(rt, sizeof rt, "%lld", (long long)(elapsed_us / 1000));
	headers[ack.nheaders].key = (char *)"biz_rt";
	headers[ack.nheaders].value = rt;
	ack.nheaders++;

	queue_frame(ws, &ack);
	free(headers);
	buf_free(&payload);
	ws->stats.acks++;
	ws->stats.ack_latency_us_total += elapsed_us;
	if (elapsed_us > ws->stats.ack_latency_us_max)
		ws->stats.ack_latency_us_max = elapsed_us;
}

/* Keeps what the ack of f needs (not the payload) until the handler answers. */
static void hold_ack(struct feishu_ws *ws, const struct pbbp2_frame *f, uint64_t ticket, ms_t started_us)
{
	struct held_ack *h = xcalloc(1, sizeof *h);
	h->ticket = ticket;
	h->conn_gen = ws->conn_gen;
	h->started_us = started_us;
	h->frame.seq_id = f->seq_id;
	h->frame.log_id = f->log_id;
	h->frame.service = f->service;
	h->frame.method = f->method;
	h->frame.payload_encoding = f->payload_encoding ? xstrdup(f->payload_encoding) : NULL;
	h->frame.payload_type = f->payload_type ? xstrdup(f->payload_type) : NULL;
	h->frame.log_id_new = f->log_id_new ? xstrdup(f->log_id_new) : NULL;
	for (size_t i = 0; i < f->nheaders; i++)
		pbbp2_add_header(&h->frame, f->headers[i].key, f->headers[i].value);
	if (ws->held_tail)
		ws->held_tail->next = h;
	else
		ws->held = h;
	ws->held_tail = h;
}

static void held_free(struct held_ack *h)
{
	pbbp2_frame_free(&h->frame);
	free(h);
}

/* The acks of a closed connection would go nowhere: the platform redelivers. */
static void drop_held(struct feishu_ws *ws)
{
	while (ws->held) {
		struct held_ack *h = ws->held;
		ws->held = h->next;
		held_free(h);
	}
	ws->held_tail = NULL;
}

void feishu_ws_answer(struct feishu_ws *ws, uint64_t ticket, int ack, json_t *card_response)
{
	/* Answers come in arrival order, so the one wanted is nearly always first. */
	struct held_ack **pp = &ws->held, *prev = NULL;
	while (*pp && (*pp)->ticket != ticket) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	struct held_ack *h = *pp;
	if (!h)
		return; /* its connection closed meanwhile */
	*pp = h->next;
	if (ws->held_tail == h)
		ws->held_tail = prev;
	if (ack && ws->wc && h->conn_gen == ws->conn_gen)
		send_ack(ws, &h->frame, card_response, h->started_us);
	else if (!ack)
		log_warn("msg=\"event not acknowledged; the platform will redeliver it\" frame_message_id=%s",
			 pbbp2_header(&h->frame, "message_id") ? pbbp2_header(&h->frame, "message_id") : "-");
	held_free(h);
}

/* A complete event: let the handler apply it, then ack (now or later). */
static void deliver_event(struct feishu_ws *ws, const struct pbbp2_frame *f, const char *payload, size_t len)
{
	ms_t started = (ms_t)lws_now_usecs();
	json_t *card_response = NULL;
	uint64_t ticket = ++ws->next_ticket;
	ws->stats.events++;
	/* Held before the handler runs: it may commit its batch, and answer
	 * this very ticket, before it returns. */
	hold_ack(ws, f, ticket, started);
	enum feishu_ack a = ws->on_event(ws->arg, payload, len, ticket, &card_response);
	if (a != FEISHU_ACK_LATER)
		feishu_ws_answer(ws, ticket, a == FEISHU_ACK_OK, card_response);
	json_decref(card_response);
}

static void handle_data(struct feishu_ws *ws, struct pbbp2_frame *f)
{
	const char *type = pbbp2_header(f, "type");
	const char *mid = pbbp2_header(f, "message_id");
	if (!type || (strcmp(type, "event") && strcmp(type, "card"))) {
		log_warn("msg=\"data frame of unknown type ignored\" type=%s", type ? type : "-");
		return;
	}
	int sum = header_int(f, "sum", 1, MAX_FRAGMENTS);
	int seq = header_int(f, "seq", 0, MAX_FRAGMENTS - 1);
	if (!mid || sum < 0 || seq < 0 || seq >= sum) {
		ws->stats.frames_bad++;
		log_warn("msg=\"data frame with bad message_id/sum/seq dropped\" sum=%s seq=%s",
			 pbbp2_header(f, "sum") ? pbbp2_header(f, "sum") : "-",
			 pbbp2_header(f, "seq") ? pbbp2_header(f, "seq") : "-");
		return;
	}
	const char *payload = f->payload ? (const char *)f->payload : "";
	if (sum == 1) {
		deliver_event(ws, f, payload, f->payload_len);
		return;
	}

	ms_t now = clock_mono_ms();
	struct partial *p;
	for (p = ws->partials; p; p = p->next)
		if (!strcmp(p->message_id, mid))
			break;
	if (p && p->sum != sum) {
		ws->stats.frames_bad++;
		log_warn("msg=\"fragment disagrees with the first one's sum; event dropped\" frame_message_id=%s", mid);
		drop_partial(ws, p);
		return;
	}
	if (!p) {
		if (ws->npartials >= MAX_PARTIALS) {
			/* Evict the one closest to expiry rather than grow without bound. */
			struct partial *old = oldest_partial(ws, NULL);
			log_warn("msg=\"too many incomplete events; dropping one\" frame_message_id=%s", old->message_id);
			drop_partial(ws, old);
		}
		p = xcalloc(1, sizeof *p);
		p->message_id = xstrdup(mid);
		p->sum = sum;
		p->parts = xcalloc((size_t)sum, sizeof *p->parts);
		p->next = ws->partials;
		ws->partials = p;
		ws->npartials++;
	}
	p->expires_at = now + FRAGMENT_TTL_MS;
	if (p->parts[seq].data)
		return; /* a repeated fragment: keep the first */
	if (p->total + f->payload_len > MAX_MERGED_BYTES) {
		ws->stats.frames_bad++;
		log_warn("msg=\"fragmented event too large; dropped\" frame_message_id=%s", mid);
		drop_partial(ws, p);
		return;
	}
	size_t budget = ws->cfg->fragment_memory_bytes >= (int)MAX_MERGED_BYTES ? (size_t)ws->cfg->fragment_memory_bytes
										: DEFAULT_FRAGMENT_MEMORY;
	while ((size_t)ws->stats.fragment_bytes + f->payload_len > budget) {
		struct partial *old = oldest_partial(ws, p);
		if (!old)
			break; /* p alone: within MAX_MERGED_BYTES, which the budget exceeds */
		log_warn("msg=\"fragment memory full; dropping an incomplete event\" frame_message_id=%s "
			 "held_bytes=%lld fragment_memory_bytes=%zu", old->message_id, ws->stats.fragment_bytes, budget);
		drop_partial(ws, old);
	}
	buf_append(&p->parts[seq], payload, f->payload_len);
	p->total += f->payload_len;
	ws->stats.fragment_bytes += (long long)f->payload_len;
	if (++p->filled < p->sum)
		return;

	struct buf merged;
	buf_init(&merged);
	for (int i = 0; i < p->sum; i++)
		buf_append(&merged, p->parts[i].data, p->parts[i].len);
	partial_unlink(ws, p); /* complete: not counted as dropped */
	partial_free(p);
	/* Acked once, with the frame that completed the set, as the SDKs do. */
	deliver_event(ws, f, (const char *)merged.data, merged.len);
	buf_free(&merged);
}

static void handle_message(struct feishu_ws *ws, const unsigned char *data, size_t len)
{
	struct pbbp2_frame f;
	enum pbbp2_err err = pbbp2_decode(data, len, &f);
	ws->stats.frames_in++;
	expire_partials(ws, clock_mono_ms());
	if (err) {
		ws->stats.frames_bad++;
		log_warn("msg=\"malformed frame dropped\" error=\"%s\" bytes=%zu", pbbp2_strerror(err), len);
		return;
	}
	if (f.method == PBBP2_METHOD_CONTROL) {
		const char *type = pbbp2_header(&f, "type");
		if (type && !strcmp(type, "pong")) {
			ws->stats.pongs++;
			json_t *cc = f.payload ? json_loadb((const char *)f.payload, f.payload_len, 0, NULL) : NULL;
			if (json_is_object(cc))
				apply_client_config(ws, cc);
			json_decref(cc);
		}
	} else if (f.method == PBBP2_METHOD_DATA) {
		handle_data(ws, &f);
	} else {
		log_warn("msg=\"frame with unknown method ignored\" method=%d", f.method);
	}
	pbbp2_frame_free(&f);
}

/* ---- connecting ---- */

static int query_param(const char *url, const char *name, char *out, size_t outsz)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(name);
	while (q) {
		q++;
		if (!strncmp(q, name, n) && q[n] == '=') {
			const char *v = q + n + 1;
			size_t len = strcspn(v, "&#");
			if (len >= outsz)
				len = outsz - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
		q = strchr(q, '&');
	}
	return -1;
}

static void fatal(struct feishu_ws *ws, const char *why)
{
	enter_state(ws, WS_FATAL);
	log_error("msg=\"feishu long connection cannot work; not retrying\" reason=\"%s\"", why);
	if (ws->on_fatal)
		ws->on_fatal(ws->arg, why);
}

/* A failed attempt: wait, then try again (unless the count is used up). */
static void attempt_failed(struct feishu_ws *ws, const char *why)
{
	ws->failures++;
	if (ws->reconnect_count >= 0 && ws->failures > ws->reconnect_count) {
		fatal(ws, "reconnect attempts used up (ReconnectCount)");
		return;
	}
	/* Quick first retries (1 s, 2 s, 4 s ...) capped at ReconnectInterval. */
	ms_t wait = 1000;
	for (int i = 1; i < ws->failures && wait < (ms_t)ws->reconnect_interval * 1000; i++)
		wait *= 2;
	if (wait > (ms_t)ws->reconnect_interval * 1000)
		wait = (ms_t)ws->reconnect_interval * 1000;
	log_warn("msg=\"feishu connect attempt failed\" reason=\"%s\" failures=%d retry_in_ms=%lld",
		 why, ws->failures, (long long)wait);
	schedule_attempt(ws, wait);
}

static void connect_ws(struct feishu_ws *ws, const char *url)
{
	char redacted[1024];
	log_redact_url(url, redacted, sizeof redacted);
	char sid[16] = "";
	if (query_param(url, "service_id", sid, sizeof sid) == 0)
		ws->service_id = (int32_t)strtol(sid, NULL, 10);
	if (query_param(url, "device_id", ws->device_id, sizeof ws->device_id))
		snprintf(ws->device_id, sizeof ws->device_id, "-");

	enter_state(ws, WS_CONNECTING);
	log_info("msg=\"connecting feishu long connection\" url=%s", redacted);
	ws->conn_gen++;
	ws->wc = wsconn_dial(ws->ctx, ws->vhost, ws->http, url, MAX_MESSAGE_BYTES, 1, &conn_events, ws);
	if (!ws->wc)
		attempt_failed(ws, "could not start the WebSocket connection");
}

static void endpoint_done(void *arg, const struct http_response *resp)
{
	struct feishu_ws *ws = arg;
	if (ws->state != WS_BOOTSTRAP)
		return; /* stopped meanwhile */
	if (resp->status == 0) {
		char why[300];
		utf8_snprintf(why, sizeof why, "endpoint unreachable: %s", resp->error);
		attempt_failed(ws, why);
		return;
	}
	json_t *root = json_loads(resp->body, 0, NULL);
	json_t *jcode = json_object_get(root, "code");
	long code = json_is_integer(jcode) ? (long)json_integer_value(jcode) : -1;
	const char *msg = json_string_value(json_object_get(root, "msg"));
	json_t *data = json_object_get(root, "data");
	const char *url = json_string_value(json_object_get(data, "URL"));
	char why[300];
	if (resp->status != 200 || !root) {
		utf8_snprintf(why, sizeof why, "endpoint answered http=%ld", resp->status);
		attempt_failed(ws, why);
	} else if (code == 0 && url) {
		apply_client_config(ws, json_object_get(data, "ClientConfig"));
		connect_ws(ws, url);
	} else if (code == 1 || code == 1000040343 || code == 1000040345) {
		utf8_snprintf(why, sizeof why, "endpoint busy: code=%ld msg=%s", code, msg ? msg : "");
		attempt_failed(ws, why);
	} else {
		utf8_snprintf(why, sizeof why,
			 "endpoint refused the app: code=%ld msg=%s (check feishu.app_id / app_secret, and that "
			 "the app uses the long connection for events)", code, msg ? msg : "");
		fatal(ws, why);
	}
	json_decref(root);
}

static void attempt(lws_sorted_usec_list_t *sul)
{
	struct feishu_ws *ws = lws_container_of(sul, struct feishu_ws, retry_timer);
	if (ws->state == WS_STOPPED || ws->state == WS_FATAL)
		return;
	enter_state(ws, WS_BOOTSTRAP);
	char *url = xasprintf("%s/callback/ws/endpoint", ws->cfg->base_url);
	json_t *body = json_pack("{s:s,s:s}", "AppID", ws->cfg->app_id, "AppSecret", ws->cfg->app_secret);
	char *text = json_dumps(body, JSON_COMPACT);
	const char *headers[] = { "Content-Type: application/json", "locale: zh", NULL };
	if (http_request(ws->http, "POST", url, headers, text, ENDPOINT_TIMEOUT_MS, endpoint_done, ws))
		attempt_failed(ws, "could not start the endpoint request");
	free(text);
	json_decref(body);
	free(url);
}

static void schedule_attempt(struct feishu_ws *ws, ms_t delay_ms)
{
	enter_state(ws, WS_WAIT);
	lws_sul_schedule(ws->ctx, 0, &ws->retry_timer, attempt, (lws_usec_t)(delay_ms > 0 ? delay_ms : 0) * LWS_US_PER_MS + 1);
}

/* Reads the gateway's verdict from a refused upgrade: its handshake-*
 * headers when it sent them, else the HTTP status (0: no answer at all). */
static void handshake_failed(struct feishu_ws *ws, const struct wsconn_end *end)
{
	char status[16] = "", autherr[24] = "", msg[128] = "";
	int st = end->status;
	if (end->head && ws_header(end->head, end->head_len, "handshake-status", status, sizeof status) > 0)
		st = atoi(status);
	if (end->head) {
		ws_header(end->head, end->head_len, "handshake-autherrcode", autherr, sizeof autherr);
		ws_header(end->head, end->head_len, "handshake-msg", msg, sizeof msg);
	}
	char why[400];
	utf8_snprintf(why, sizeof why, "handshake refused: status=%d autherrcode=%s msg=%s (%s)", st,
		 autherr[0] ? autherr : "-", msg[0] ? msg : "-", end->why ? end->why : "-");
	if (st == 403 || (st == 514 && !strcmp(autherr, "1000040350")))
		fatal(ws, why);
	else
		attempt_failed(ws, why);
}

static void connection_lost(struct feishu_ws *ws)
{
	lws_sul_cancel(&ws->ping_timer);
	lws_sul_cancel(&ws->watchdog_timer);
	drop_partials(ws);
	drop_held(ws);
	ws->wc = NULL;
	if (ws->state == WS_STOPPED || ws->state == WS_FATAL)
		return;
	ws->stats.reconnects++;
	ms_t nonce = ws->reconnect_nonce > 0 ? (ms_t)(random() % ((long)ws->reconnect_nonce * 1000)) : 0;
	log_warn("msg=\"feishu connection closed; reconnecting\" device_id=%s wait_ms=%lld", ws->device_id,
		 (long long)nonce);
	schedule_attempt(ws, nonce);
}

/* ---- the connection's events (wsconn.h) ---- */

static void on_opened(void *arg)
{
	struct feishu_ws *ws = arg;
	enter_state(ws, WS_UP);
	ws->failures = 0;
	ws->stats.connects++;
	ws->last_rx = clock_mono_ms();
	log_info("msg=\"feishu long connection up\" device_id=%s service_id=%d ping_interval_s=%d",
		 ws->device_id, ws->service_id, ws->ping_interval);
	lws_sul_schedule(ws->ctx, 0, &ws->ping_timer, send_ping, 1);
	lws_sul_schedule(ws->ctx, 0, &ws->watchdog_timer, watchdog,
			 (lws_usec_t)(ws->ping_interval * 2 + 5) * LWS_USEC_PER_SEC);
}

static void on_message(void *arg, const unsigned char *data, size_t len)
{
	struct feishu_ws *ws = arg;
	ws->last_rx = clock_mono_ms();
	handle_message(ws, data, len);
}

static void on_too_big(void *arg)
{
	struct feishu_ws *ws = arg;
	ws->last_rx = clock_mono_ms();
	ws->stats.frames_bad++;
	log_warn("msg=\"oversized frame dropped\" limit=%u", MAX_MESSAGE_BYTES);
}

static void on_pong(void *arg)
{
	struct feishu_ws *ws = arg;
	ws->last_rx = clock_mono_ms();
}

static void on_closed(void *arg, const struct wsconn_end *end)
{
	struct feishu_ws *ws = arg;
	ws->wc = NULL;
	if (!end->was_open) {
		if (ws->state == WS_CONNECTING)
			handshake_failed(ws, end);
		return;
	}
	connection_lost(ws);
}

static const struct wsconn_events conn_events = {
	.opened = on_opened, .message = on_message, .too_big = on_too_big, .pong = on_pong, .closed = on_closed,
};

struct feishu_ws *feishu_ws_new(const struct feishu_config *cfg, struct lws_context *ctx,
				struct lws_vhost *vhost, struct http_client *http,
				feishu_event_fn on_event, feishu_fatal_fn on_fatal, void *arg)
{
	struct feishu_ws *ws = xcalloc(1, sizeof *ws);
	ws->cfg = cfg;
	ws->ctx = ctx;
	ws->vhost = vhost;
	ws->http = http;
	ws->on_event = on_event;
	ws->on_fatal = on_fatal;
	ws->arg = arg;
	/* The SDKs' defaults, used until the server says otherwise. */
	ws->ping_interval = 120;
	ws->reconnect_count = -1;
	ws->reconnect_interval = 120;
	ws->reconnect_nonce = 30;
	return ws;
}

void feishu_ws_start(struct feishu_ws *ws)
{
	schedule_attempt(ws, 0);
}

void feishu_ws_stop(struct feishu_ws *ws)
{
	enter_state(ws, WS_STOPPED);
	lws_sul_cancel(&ws->retry_timer);
	lws_sul_cancel(&ws->ping_timer);
	lws_sul_cancel(&ws->watchdog_timer);
	wsconn_abandon(ws->wc);
	ws->wc = NULL;
	drop_partials(ws);
	drop_held(ws);
}

void feishu_ws_free(struct feishu_ws *ws)
{
	if (!ws)
		return;
	feishu_ws_stop(ws);
	free(ws);
}

int feishu_ws_connected(const struct feishu_ws *ws) { return ws->state == WS_UP; }
const struct feishu_ws_stats *feishu_ws_stats(const struct feishu_ws *ws) { return &ws->stats; }
