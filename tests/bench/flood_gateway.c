/*
 * flood_gateway - a load generator that plays both platforms' gateways, for
 * bench_flood.py.  Not a test: it prints figures.
 *
 *   flood_gateway --platform feishu|dingtalk --events N [--rate R] [--warmup-ms M]
 *                 [--timeout-s T] [--chats C] [--clients K] [--stall-acks-ms S]
 *
 * It listens on one 127.0.0.1 port (printed as {"port": P} on stdout) and
 * answers what a client needs to connect: Feishu's POST /callback/ws/endpoint,
 * tenant token and bot info, DingTalk's POST /v1.0/gateway/connections/open and
 * access token, and a generic success for any send.  Once K clients (default
 * 1: several collabd instances on one store) have opened the WebSocket they
 * get N chat messages between them -- each to whichever connection's socket
 * takes it first, as the platforms give each event to one connection --
 * pbbp2 data frames on Feishu, JSON CALLBACK frames on DingTalk, each a
 * distinct event -- pushed as fast as its socket takes them (R = 0) or at R
 * per second, and every ack is matched to its frame.  When all N are acked
 * (or after T seconds) it prints one JSON line: frames pushed per second,
 * acks per second, ack latency p50/p99/max, and its own CPU time per frame
 * over the flood (gateway_cpu_us_per_event: on a small machine the client
 * shares the cores with it, so that is what it takes from the client).
 * With FLOOD_DUMP=<file> set it also writes one line per event: its number,
 * when it was pushed (CLOCK_MONOTONIC ns) and its ack latency (ns, 0 when
 * never acked), to line the slow acks up against a trace of the client.
 *
 * Cheap per frame so that the injector is never the bottleneck (~1-3.5 us of
 * CPU per frame, acks included, against 4-11 us when it formatted and sent
 * each frame at push time):
 *  - all N frames are built before the port is printed, each already framed
 *    as the server's WebSocket message (FIN, text or binary, unmasked), back
 *    to back in one buffer; their timestamps are therefore the build's, a
 *    second or two before the push, which is all the clients need of them;
 *  - a push hands lws up to 64 KiB of consecutive whole frames at once as raw
 *    bytes (one send() for ~70 frames); a frame's sent time is when its bytes
 *    go to lws;
 *  - the paced run wakes on a timerfd when the next frame is due;
 *  - during the flood the kernel gathers a few KiB of acks before it wakes
 *    the gateway (SO_RCVLOWAT), instead of once per ack.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <time.h>

#include "collabd/pbbp2.h"
#include "collabd/util.h"

enum platform { FEISHU, DINGTALK };

static struct {
	enum platform platform;
	int events, rate, warmup_ms, timeout_s, chats, port, nclients, want_clients;
	int stall_acks_ms;           /* read no acks for this long from the start (a slow peer) */
	struct lws_context *ctx;
	struct lws *client[16];      /* the flooded connections */
	int64_t *sent_ns, *acked_ns; /* per event; 0 = not yet */
	int next, acked, bad_acks;
	int64_t start_ns, last_ack_ns, last_push_ns;
	lws_sorted_usec_list_t start_timer, stop_timer, unstall_timer;
	int pace_fd; /* paced: a timerfd set to when the next frame is due */
	int started, done;
	double start_cpu_s; /* the gateway's own CPU time when the flood started */
	/* All N frames, built before the flood and framed as the server's
	 * WebSocket messages, back to back: frame i is wire.data[off[i]..off[i+1]). */
	struct buf wire;
	size_t *off;
} g;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User + system CPU this process has used so far, in seconds. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long long wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- HTTP: just enough for a client to connect ---- */

struct http_session {
	char uri[256];
	int post;
	struct buf rx; /* a WebSocket client's message being gathered */
	int flooded;   /* one of g.client */
};

static void all_writable(void)
{
	for (int i = 0; i < g.nclients; i++)
		if (g.client[i])
			lws_callback_on_writable(g.client[i]);
}

static const char *http_answer(const char *uri)
{
	static char endpoint[512];
	if (!strcmp(uri, "/callback/ws/endpoint")) {
		snprintf(endpoint, sizeof endpoint,
			 "{\"code\":0,\"msg\":\"ok\",\"data\":{\"URL\":\"ws://127.0.0.1:%d/ws/v2?fpid=1&aid=1&"
			 "device_id=flood&access_key=k&service_id=7&ticket=t\",\"ClientConfig\":{\"PingInterval\":120,"
			 "\"ReconnectCount\":-1,\"ReconnectInterval\":5,\"ReconnectNonce\":1}}}", g.port);
		return endpoint;
	}
	if (!strcmp(uri, "/v1.0/gateway/connections/open")) {
		snprintf(endpoint, sizeof endpoint, "{\"endpoint\":\"ws://127.0.0.1:%d/dt\",\"ticket\":\"t\"}", g.port);
		return endpoint;
	}
	if (strstr(uri, "tenant_access_token"))
		return "{\"code\":0,\"msg\":\"ok\",\"tenant_access_token\":\"t-flood\",\"expire\":7200}";
	if (strstr(uri, "/oauth2/accessToken") || strstr(uri, "gettoken"))
		return "{\"accessToken\":\"flood\",\"access_token\":\"flood\",\"expireIn\":7200,\"expires_in\":7200}";
	if (strstr(uri, "/bot/v3/info"))
		return "{\"code\":0,\"msg\":\"ok\",\"bot\":{\"open_id\":\"ou_flood_bot\",\"app_name\":\"flood\"}}";
	return "{\"code\":0,\"msg\":\"ok\",\"errcode\":0,\"data\":{\"message_id\":\"om_flood\"},"
	       "\"processQueryKey\":\"flood\"}";
}

static int http_reply(struct lws *wsi, const char *uri)
{
	const char *body = http_answer(uri);
	size_t len = strlen(body);
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "application/json", len, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	unsigned char out[LWS_PRE + 1024];
	memcpy(out + LWS_PRE, body, len);
	if (lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- the frames ---- */

static void feishu_frame(int i, struct buf *out)
{
	long long ms = wall_ms();
	char *payload = xasprintf(
		"{\"schema\":\"2.0\",\"header\":{\"event_id\":\"ev_flood_%d\",\"event_type\":\"im.message.receive_v1\","
		"\"create_time\":\"%lld\",\"token\":\"\",\"app_id\":\"cli_0123456789abcdef\",\"tenant_key\":\"tk\"},"
		"\"event\":{\"sender\":{\"sender_id\":{\"union_id\":\"on_flood\",\"user_id\":\"uflood\","
		"\"open_id\":\"ou_flood\"},\"sender_type\":\"user\",\"tenant_key\":\"tk\"},\"message\":{"
		"\"message_id\":\"om_flood_%d\",\"root_id\":\"\",\"parent_id\":\"\",\"create_time\":\"%lld\","
		"\"update_time\":\"%lld\",\"chat_id\":\"oc_flood_%d\",\"thread_id\":\"\",\"chat_type\":\"group\","
		"\"message_type\":\"text\",\"content\":\"{\\\"text\\\":\\\"今天的进展正常，第 %d 条\\\"}\"}}}",
		i, ms, i, ms, ms, i % g.chats, i);
	char mid[32], trace[32], stamp[32];
	snprintf(mid, sizeof mid, "fm_%d", i);
	snprintf(trace, sizeof trace, "tr%d", i);
	snprintf(stamp, sizeof stamp, "%lld", ms);
	struct pbbp2_frame f = { .seq_id = (uint64_t)i + 1, .log_id = (uint64_t)i + 1, .service = 7,
				 .method = PBBP2_METHOD_DATA, .payload = (unsigned char *)payload,
				 .payload_len = strlen(payload) };
	pbbp2_add_header(&f, "type", "event");
	pbbp2_add_header(&f, "message_id", mid);
	pbbp2_add_header(&f, "sum", "1");
	pbbp2_add_header(&f, "seq", "0");
	pbbp2_add_header(&f, "trace_id", trace);
	pbbp2_add_header(&f, "timestamp", stamp);
	pbbp2_encode(&f, out);
	f.payload = NULL;
	pbbp2_frame_free(&f);
	free(payload);
}

static void dingtalk_frame(int i, struct buf *out)
{
	long long ms = wall_ms();
	buf_printf(out,
		   "{\"specVersion\":\"1.0\",\"type\":\"CALLBACK\",\"headers\":{\"appId\":\"flood\",\"connectionId\":\"c1\","
		   "\"contentType\":\"application/json\",\"messageId\":\"dm_%d\",\"time\":\"%lld\","
		   "\"topic\":\"/v1.0/im/bot/messages/get\"},\"data\":\"{\\\"conversationId\\\":\\\"cid_flood_%d\\\","
		   "\\\"conversationType\\\":\\\"2\\\",\\\"msgId\\\":\\\"msg_flood_%d\\\",\\\"msgtype\\\":\\\"text\\\","
		   "\\\"text\\\":{\\\"content\\\":\\\" 今天的进展正常，第 %d 条\\\"},\\\"senderNick\\\":\\\"flood\\\","
		   "\\\"senderStaffId\\\":\\\"u_flood\\\",\\\"senderId\\\":\\\"$:LWCP_v1:$u_flood\\\","
		   "\\\"senderCorpId\\\":\\\"corp\\\",\\\"isAdmin\\\":false,\\\"chatbotUserId\\\":\\\"bot\\\","
		   "\\\"chatbotCorpId\\\":\\\"corp\\\",\\\"robotCode\\\":\\\"dingflood\\\",\\\"isInAtList\\\":false,"
		   "\\\"atUsers\\\":[],\\\"sessionWebhook\\\":\\\"http://127.0.0.1:%d/robot/sendBySession?session=s%d\\\","
		   "\\\"sessionWebhookExpiredTime\\\":%lld,\\\"createAt\\\":%lld,\\\"conversationTitle\\\":\\\"flood\\\"}\"}",
		   i, ms, i % g.chats, i, i, g.port, i % g.chats, ms + 5400000, ms);
}

/* Appends a server's WebSocket frame header (FIN, the opcode, unmasked, the
 * shortest length form RFC 6455 allows) for a payload of len bytes. */
static void ws_header(struct buf *out, unsigned opcode, size_t len)
{
	unsigned char h[10];
	size_t n = 0;
	h[n++] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		h[n++] = (unsigned char)len;
	} else if (len <= 0xffff) {
		h[n++] = 126;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			h[n++] = (unsigned char)((uint64_t)len >> shift);
	}
	buf_append(out, h, n);
}

enum { WS_TEXT = 0x1, WS_BINARY = 0x2 };

/* Builds every frame of the flood into g.wire before it starts, so that
 * pushing costs no formatting: Feishu's pbbp2 frames as binary messages,
 * DingTalk's JSON as text.  The timestamps in them are taken now, up to the
 * warm-up and the client's connection earlier than the push: plausible, as
 * the client only needs them to be. */
static void build_wire(void)
{
	struct buf payload;
	buf_init(&payload);
	buf_init(&g.wire);
	g.off = xcalloc((size_t)g.events + 1, sizeof *g.off);
	for (int i = 0; i < g.events; i++) {
		buf_reset(&payload);
		if (g.platform == FEISHU)
			feishu_frame(i, &payload);
		else
			dingtalk_frame(i, &payload);
		g.off[i] = g.wire.len;
		ws_header(&g.wire, g.platform == FEISHU ? WS_BINARY : WS_TEXT, payload.len);
		buf_append(&g.wire, payload.data, payload.len);
	}
	g.off[g.events] = g.wire.len;
	buf_free(&payload);
}

/* ---- acks ---- */

static void acked(int i)
{
	if (i < 0 || i >= g.next || g.acked_ns[i])
		return; /* unknown, or a duplicate ack */
	int64_t now = now_ns();
	g.acked_ns[i] = now - g.sent_ns[i];
	if (!g.acked_ns[i])
		g.acked_ns[i] = 1;
	g.acked++;
	g.last_ack_ns = now;
	if (g.acked == g.events)
		g.done = 1;
}

/* The event number at p (decimal digits, at most 9, before end); -1 when none. */
static int event_number(const char *p, const char *end)
{
	int n = 0, digits = 0;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		n = n * 10 + (*p - '0');
	return digits ? n : -1;
}

static void feishu_in(struct lws *wsi, const unsigned char *in, size_t len)
{
	struct pbbp2_frame f;
	if (pbbp2_decode(in, len, &f) != PBBP2_OK) {
		g.bad_acks++;
		return;
	}
	const char *type = pbbp2_header(&f, "type");
	if (f.method == PBBP2_METHOD_CONTROL && type && !strcmp(type, "ping")) {
		/* Answer pings with a pong carrying the client config, as the gateway does. */
		static const char cfg[] = "{\"PingInterval\":120,\"ReconnectCount\":-1,\"ReconnectInterval\":5,"
					  "\"ReconnectNonce\":1}";
		struct pbbp2_frame pong = { .service = f.service, .method = PBBP2_METHOD_CONTROL,
					    .payload = (unsigned char *)cfg, .payload_len = sizeof cfg - 1 };
		pbbp2_add_header(&pong, "type", "pong");
		struct buf body, b;
		buf_init(&body);
		buf_init(&b);
		pbbp2_encode(&pong, &body);
		/* Framed here and written raw like the flood's frames, so that lws
		 * never has a frame of its own half-written between them. */
		ws_header(&b, WS_BINARY, body.len);
		buf_append(&b, body.data, body.len);
		lws_write(wsi, b.data, b.len, LWS_WRITE_HTTP);
		buf_free(&body);
		buf_free(&b);
		pong.payload = NULL;
		pbbp2_frame_free(&pong);
	} else if (f.method == PBBP2_METHOD_DATA) {
		const char *mid = pbbp2_header(&f, "message_id");
		int ok = f.payload && memmem(f.payload, f.payload_len, "\"code\":200", 10);
		if (mid && !strncmp(mid, "fm_", 3) && ok)
			acked(event_number(mid + 3, mid + strlen(mid)));
		else
			g.bad_acks++;
	}
	pbbp2_frame_free(&f);
}

static void dingtalk_in(const char *in, size_t len)
{
	static const char key[] = "\"messageId\":\"dm_";
	const char *p = memmem(in, len, key, sizeof key - 1);
	if (p && memmem(in, len, "\"code\":200", 10))
		acked(event_number(p + sizeof key - 1, in + len));
	else
		g.bad_acks++;
}

/* ---- pushing ---- */

static int due_now(void)
{
	if (g.rate <= 0)
		return g.events;
	int64_t elapsed = now_ns() - g.start_ns;
	int64_t due = elapsed * g.rate / 1000000000 + 1;
	return due > g.events ? g.events : (int)due;
}

/* Paced: wake up when frame g.next is due (due_now() counts it from then on).
 * A timerfd in lws's poll set rather than an lws timer: lws 4.1's poll loop
 * waits whole milliseconds, rounded down, so an lws timer less than a
 * millisecond away makes it poll without waiting -- it spun a core for the
 * whole paced run (~900 us of CPU per event at 1,000/s). */
static void pace_arm(void)
{
	int64_t at = g.start_ns + ((int64_t)g.next * 1000000000 + g.rate - 1) / g.rate;
	struct itimerspec its = { .it_value = { .tv_sec = at / 1000000000, .tv_nsec = at % 1000000000 } };
	if (timerfd_settime(g.pace_fd, TFD_TIMER_ABSTIME, &its, NULL))
		perror("flood_gateway: timerfd_settime");
}

static int pace_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)wsi;
	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE) {
		uint64_t expirations;
		if (read(g.pace_fd, &expirations, sizeof expirations) < 0)
			return 0; /* not yet (it was re-armed meanwhile) */
		all_writable();
	}
	return 0;
}

/* 0, or -1 when the timer cannot be made or lws will not poll it. */
static int pace_open(struct lws_vhost *vh)
{
	g.pace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (g.pace_fd < 0)
		return -1;
	lws_sock_file_fd_type desc = { .filefd = g.pace_fd };
	return lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, desc, "flood-pace", NULL) ? 0 : -1;
}

/* Acks the kernel gathers before it wakes the gateway to read them, during
 * the flood: a client that acks each frame on its own (both SDKs do) would
 * otherwise wake it once per ack -- a poll, a recv and two context switches,
 * several times what pushing a frame costs.  ~20 acks' worth; the socket
 * still reads whatever is there whenever lws reads it, and the flood's
 * writes wake the loop all along.  Back to 1 once every frame is out, so the
 * last acks are read as they come; never in the paced run, which measures
 * latency. */
enum { FLOOD_RCVLOWAT = 4096 };

static void set_rcvlowat(int bytes)
{
	for (int i = 0; i < g.nclients; i++)
		if (g.client[i] && setsockopt(lws_get_socket_fd(g.client[i]), SOL_SOCKET, SO_RCVLOWAT, &bytes,
					      sizeof bytes))
			perror("flood_gateway: SO_RCVLOWAT");
}

/* --stall-acks-ms: a gateway that reads nothing for a while makes the
 * client's socket fill up (its writes come back EAGAIN); once it reads again
 * every ack must still arrive, with no further frame to prompt the client. */
static void set_reading(int on)
{
	for (int i = 0; i < g.nclients; i++)
		if (g.client[i])
			lws_rx_flow_control(g.client[i], on);
}

static void unstall_fired(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	set_reading(1);
}

static void start_fired(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (g.stall_acks_ms > 0) {
		set_reading(0);
		lws_sul_schedule(g.ctx, 0, &g.unstall_timer, unstall_fired,
				 (lws_usec_t)g.stall_acks_ms * LWS_US_PER_MS);
	}
	g.started = 1;
	g.start_ns = now_ns();
	g.start_cpu_s = cpu_s();
	if (g.rate <= 0)
		set_rcvlowat(FLOOD_RCVLOWAT);
	all_writable();
}

/* Bytes handed to lws per write: lws sends at most the protocol's
 * rx_buffer_size (65,536, below) in one send() and keeps the rest in its own
 * buffer, so more would only be copied. */
enum { WRITE_MAX = 65536, WRITES_PER_CALLBACK = 4 };

/* Writes the frames due, many per syscall: a run of whole frames, up to
 * WRITE_MAX bytes (at least one frame), as raw bytes on the WebSocket
 * connection (lws_write with LWS_WRITE_HTTP goes straight to the socket,
 * unframed).  When the socket takes only part, lws keeps the rest and reports
 * the connection choked until it has sent it, then calls back: the byte
 * stream stays whole frames in order.  A few writes per callback, so that the
 * acks are read in between. */
static void push_some(struct lws *wsi)
{
	int limit = due_now();
	for (int n = 0; n < WRITES_PER_CALLBACK && g.next < limit; n++) {
		int first = g.next, last = first + 1;
		while (last < limit && g.off[last + 1] - g.off[first] <= WRITE_MAX)
			last++;
		size_t len = g.off[last] - g.off[first];
		int64_t t = now_ns();
		for (int i = first; i < last; i++)
			g.sent_ns[i] = t;
		if (lws_write(wsi, g.wire.data + g.off[first], len, LWS_WRITE_HTTP) < 0) {
			fprintf(stderr, "flood_gateway: write failed at event %d\n", first);
			break;
		}
		g.next = last;
		if (lws_send_pipe_choked(wsi))
			break;
	}
	if (g.next == g.events) {
		g.last_push_ns = now_ns();
		if (g.rate <= 0)
			set_rcvlowat(1);
	}
	else if (g.next < due_now())
		lws_callback_on_writable(wsi);
	else /* paced: the next one is due later */
		pace_arm();
}

/* An ack, or a piece of one, from a flooded client (lws has unmasked it). */
static void flood_receive(struct lws *wsi, struct http_session *hs, const unsigned char *in, size_t len)
{
	int whole = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
	const unsigned char *msg = in;
	size_t msg_len = len;
	/* A message may come in pieces (it spans reads): gather it.  A whole one
	 * in one piece, as an ack nearly always is, is read in place. */
	if (!whole || hs->rx.len) {
		buf_append(&hs->rx, in, len);
		if (!whole)
			return;
		msg = hs->rx.data;
		msg_len = hs->rx.len;
	}
	if (g.platform == FEISHU)
		feishu_in(wsi, msg, msg_len);
	else
		dingtalk_in((const char *)msg, msg_len);
	buf_reset(&hs->rx);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct http_session *hs = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		snprintf(hs->uri, sizeof hs->uri, "%s", (const char *)in);
		hs->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
		if (!hs->post)
			return http_reply(wsi, hs->uri);
		return 0; /* answered once the body is in */
	case LWS_CALLBACK_HTTP_BODY:
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return http_reply(wsi, hs->uri);
	case LWS_CALLBACK_ESTABLISHED:
		if (g.nclients == g.want_clients)
			return -1; /* the flooded clients are all here */
		g.client[g.nclients++] = wsi;
		hs->flooded = 1;
		buf_init(&hs->rx);
		if (g.nclients == g.want_clients)
			lws_sul_schedule(g.ctx, 0, &g.start_timer, start_fired,
					 (lws_usec_t)g.warmup_ms * LWS_US_PER_MS);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (hs->flooded && g.started && g.next < g.events)
			push_some(wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!hs->flooded)
			return 0;
		flood_receive(wsi, hs, in, len);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (hs->flooded) {
			for (int i = 0; i < g.nclients; i++)
				if (g.client[i] == wsi)
					g.client[i] = NULL;
			buf_free(&hs->rx);
			hs->flooded = 0;
			if (!g.done)
				fprintf(stderr, "flood_gateway: a client closed the connection after %d acks\n", g.acked);
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void stop_fired(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	g.done = 1;
}

int main(int argc, char **argv)
{
	g.events = 20000;
	g.warmup_ms = 500;
	g.timeout_s = 120;
	g.chats = 50;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--platform"))
			g.platform = !strcmp(argv[i + 1], "dingtalk") ? DINGTALK : FEISHU;
		else if (!strcmp(argv[i], "--events"))
			g.events = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rate"))
			g.rate = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--warmup-ms"))
			g.warmup_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--stall-acks-ms"))
			g.stall_acks_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--timeout-s"))
			g.timeout_s = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--chats"))
			g.chats = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--clients"))
			g.want_clients = atoi(argv[i + 1]);
		else {
			fprintf(stderr, "usage: flood_gateway --platform feishu|dingtalk --events N [--rate R] "
					"[--warmup-ms M] [--timeout-s T] [--chats C] [--clients K] [--stall-acks-ms S]\n");
			return 2;
		}
	}
	if (!g.want_clients)
		g.want_clients = 1;
	if (g.events <= 0 || g.chats <= 0 || g.want_clients < 1 || g.want_clients > (int)ARRAY_LEN(g.client))
		return 2;
	g.sent_ns = xcalloc((size_t)g.events, sizeof *g.sent_ns);
	g.acked_ns = xcalloc((size_t)g.events, sizeof *g.acked_ns);

	static const struct lws_protocols protocols[] = {
		{ "flood", callback, sizeof(struct http_session), 65536, 0, NULL, 0 },
		{ "flood-pace", pace_callback, 0, 0, 0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 }
	};
	lws_set_log_level(LLL_ERR, NULL);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	g.ctx = lws_create_context(&info);
	if (!g.ctx)
		return 1;
	memset(&info, 0, sizeof info);
	info.port = 0;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.pt_serv_buf_size = 256 * 1024;
	struct lws_vhost *vh = lws_create_vhost(g.ctx, &info);
	if (!vh)
		return 1;
	g.port = lws_get_vhost_listen_port(vh);
	if (g.rate > 0 && pace_open(vh)) {
		fprintf(stderr, "flood_gateway: no pacing timer\n");
		return 1;
	}
	build_wire(); /* the DingTalk frames name the port; the client connects only once it is printed */
	printf("{\"port\": %d}\n", g.port);
	fflush(stdout);

	lws_sul_schedule(g.ctx, 0, &g.stop_timer, stop_fired, (lws_usec_t)g.timeout_s * LWS_USEC_PER_SEC);
	while (!g.done && lws_service(g.ctx, 0) >= 0)
		;

	/* What the injector took from the shared CPU per frame, from the start of
	 * the flood to the last ack (pushing and reading the acks). */
	double gateway_cpu_s = g.started ? cpu_s() - g.start_cpu_s : 0;
	const char *dump = getenv("FLOOD_DUMP");
	FILE *df = dump ? fopen(dump, "w") : NULL;
	for (int i = 0; df && i < g.next; i++)
		fprintf(df, "%d %lld %lld\n", i, (long long)g.sent_ns[i], (long long)g.acked_ns[i]);
	if (df)
		fclose(df);
	int64_t *lat = xcalloc((size_t)g.events, sizeof *lat);
	int n = 0;
	for (int i = 0; i < g.next; i++)
		if (g.acked_ns[i])
			lat[n++] = g.acked_ns[i];
	qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
	double push_s = g.last_push_ns ? (g.last_push_ns - g.start_ns) / 1e9 : 0;
	double all_s = g.acked ? (g.last_ack_ns - g.start_ns) / 1e9 : 0;
	printf("{\"platform\": \"%s\", \"events\": %d, \"rate\": %d, \"pushed\": %d, \"acked\": %d, "
	       "\"bad_acks\": %d, \"pushed_per_s\": %.0f, \"acked_per_s\": %.0f, \"seconds\": %.3f, "
	       "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"gateway_cpu_us_per_event\": %.2f}\n",
	       g.platform == FEISHU ? "feishu" : "dingtalk", g.events, g.rate, g.next, g.acked, g.bad_acks,
	       push_s > 0 ? g.next / push_s : 0, all_s > 0 ? g.acked / all_s : 0, all_s,
	       n ? lat[n / 2] / 1e6 : 0, n ? lat[(size_t)n * 99 / 100] / 1e6 : 0, n ? lat[n - 1] / 1e6 : 0,
	       g.next ? gateway_cpu_s * 1e6 / g.next : 0);
	free(lat);
	free(g.sent_ns);
	free(g.acked_ns);
	free(g.off);
	buf_free(&g.wire);
	lws_context_destroy(g.ctx);
	return g.acked == g.events ? 0 : 1;
}
