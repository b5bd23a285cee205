/*
 * http.c - libcurl multi on the libwebsockets loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to
 * call it back (CURLMOPT_TIMERFUNCTION).  We adopt a dup() of each socket into
 * lws as a raw file descriptor: lws then polls it with everything else and
 * calls http_client_protocol's callback when it is ready, and we hand that to
 * curl_multi_socket_action().  Because lws owns only the duplicate, its close
 * never races curl's.  Finished transfers are reaped after every action.
 *
 * Nothing that goes wrong here may leave a transfer hanging, because its
 * owner (the gateway bootstrap, an outbox slot) waits for the callback:
 *  - a socket that cannot be watched (no descriptor left for the dup, or
 *    lws refusing it) is retried with backoff until it can;
 *  - an error from curl_multi_socket_action is retried with backoff;
 *  - a watchdog ends every transfer that outlives its own timeout by
 *    HTTP_WATCHDOG_GRACE_MS, whatever curl believes.
 */
#include "collabd/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "collabd/clock.h"
#include "collabd/log.h"
#include "collabd/util.h"

#define HTTP_MAX_BODY (8u << 20) /* a platform answer larger than this is refused */
#define HTTP_WATCHDOG_GRACE_MS 5000
#define HTTP_RETRY_MIN_MS 50
#define HTTP_RETRY_MAX_MS 2000

struct http_client {
	CURLM *multi;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	lws_sorted_usec_list_t timer;
	lws_sorted_usec_list_t retry_timer;    /* unwatched sockets, failed actions */
	lws_sorted_usec_list_t watchdog_timer; /* transfers past their deadline */
	lws_sorted_usec_list_t rearm_timer;    /* POLLOUT wanted again */
	long retry_ms;               /* current backoff; 0 when nothing failed */
	int watchdog_armed;
	int action_failed;           /* the last curl_multi_socket_action failed */
	struct sock_watch *watches;  /* every socket curl asked us to watch */
	int inflight;
	char *ca_file;               /* tls.ca_file, or NULL: the system's store */
	int reaping;
	int closing;                /* no new requests once shutdown has begun */
	struct http_client *buried, *next_buried; /* closed connections' clients, freed from a timer */
	struct http_conn *conns;    /* open (or opening) connections from http_connect() */
	lws_sorted_usec_list_t bury_timer;
	struct transfer *transfers; /* every transfer in flight, for shutdown */
};

/* One per socket curl asked us to watch. */
struct sock_watch {
	struct http_client *hc;
	curl_socket_t fd;
	struct lws *wsi;   /* lws's handle on our dup of fd; NULL while not watched */
	int want_out;
	struct sock_watch *prev, *next;
};

struct transfer {
	struct http_client *hc;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct buf response;
	long ratelimit_reset;
	long retry_after;
	ms_t started;
	ms_t deadline;      /* monotonic: the watchdog ends it here */
	http_done_fn done;
	void *arg;
	int too_big;
	struct http_conn *conn;     /* a connect-only transfer (http_connect) */
	char errbuf[CURL_ERROR_SIZE];
	struct transfer *prev, *next;
};

struct http_conn {
	struct http_client *parent; /* the client it was opened from */
	struct http_client *own;    /* its own multi (see http.h) */
	CURL *easy;
	http_conn_fn done;          /* NULL once reported, or closed */
	void *arg;
	int connected;
	struct http_conn *prev, *next; /* in parent->conns; unlinked once orphaned */
	char error[CURL_ERROR_SIZE];
};

static void conn_report(struct transfer *t, const char *error);
static void conn_orphan(struct http_conn *c);

static void reap(struct http_client *hc);
static void schedule_retry(struct http_client *hc);

static void socket_action(struct http_client *hc, curl_socket_t fd, int ev_bitmask)
{
	int running;
	CURLMcode rc = curl_multi_socket_action(hc->multi, fd, ev_bitmask, &running);
	if (rc != CURLM_OK) {
		/* Typically a socket we could not watch: try again shortly. */
		log_warn("msg=\"curl could not act on a socket; retrying\" error=\"%s\"", curl_multi_strerror(rc));
		hc->action_failed = 1;
		schedule_retry(hc);
	}
	reap(hc);
}

/* Asks lws for POLLOUT on every watched socket curl wants to write to. */
static void rearm_writable(lws_sorted_usec_list_t *sul)
{
	struct http_client *hc = lws_container_of(sul, struct http_client, rearm_timer);
	for (struct sock_watch *w = hc->watches; w; w = w->next)
		if (w->wsi && w->want_out)
			lws_callback_on_writable(w->wsi);
}

static int protocol_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	struct sock_watch *w = lws_get_opaque_user_data(wsi);
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (w && w->wsi == wsi)
			socket_action(w->hc, w->fd, CURL_CSELECT_IN);
		break;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (w && w->wsi == wsi) {
			struct http_client *hc = w->hc;
			socket_action(hc, w->fd, CURL_CSELECT_OUT);
			/* POLLOUT in lws is one-shot, and lws clears it again after this
			 * callback returns: ask again from a timer while curl still wants
			 * it (w may have been released by the action). */
			lws_sul_schedule(hc->ctx, 0, &hc->rearm_timer, rearm_writable, 1);
		}
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (w && w->wsi == wsi) {
			/* lws gave up on the descriptor (e.g. hang-up): let curl find out. */
			w->wsi = NULL;
			socket_action(w->hc, w->fd, CURL_CSELECT_ERR);
		}
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols http_client_protocol = {
	.name = "collabd-curl",
	.callback = protocol_cb,
};

static void detach_wsi(struct sock_watch *w)
{
	if (w->wsi) {
		lws_set_opaque_user_data(w->wsi, NULL);
		/* Closing from inside curl's callback is not safe: kill it on the
		 * next service pass instead. */
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_AWAITING_PROXY_RESPONSE, LWS_TO_KILL_ASYNC);
		w->wsi = NULL;
	}
}

/* Hands lws a dup of w's socket to poll.  0, or -1 when there is no
 * descriptor for the dup or lws refuses it (the caller retries later). */
static int watch_socket(struct sock_watch *w)
{
	int dupfd = dup(w->fd);
	if (dupfd < 0) {
		log_warn("msg=\"dup of curl socket failed; will retry\" errno=%d", errno);
		return -1;
	}
	lws_sock_file_fd_type desc;
	desc.filefd = dupfd;
	w->wsi = lws_adopt_descriptor_vhost(w->hc->vhost, LWS_ADOPT_RAW_FILE_DESC, desc,
					    http_client_protocol.name, NULL);
	if (!w->wsi) {
		/* lws closes what it fails to adopt in some paths; never twice. */
		if (fcntl(dupfd, F_GETFD) >= 0)
			close(dupfd);
		log_warn("msg=\"lws could not adopt curl socket; will retry\"");
		return -1;
	}
	lws_set_opaque_user_data(w->wsi, w);
	return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)easy;
	struct http_client *hc = userp;
	struct sock_watch *w = socketp;

	if (what == CURL_POLL_REMOVE) {
		if (w) {
			detach_wsi(w);
			curl_multi_assign(hc->multi, fd, NULL);
			if (w->prev)
				w->prev->next = w->next;
			else
				hc->watches = w->next;
			if (w->next)
				w->next->prev = w->prev;
			free(w);
		}
		return 0;
	}
	if (!w) {
		w = xcalloc(1, sizeof *w);
		w->hc = hc;
		w->fd = fd;
		w->next = hc->watches;
		if (w->next)
			w->next->prev = w;
		hc->watches = w;
		curl_multi_assign(hc->multi, fd, w);
	}
	w->want_out = (what == CURL_POLL_OUT || what == CURL_POLL_INOUT);
	/* Not watched yet (or no longer): try now; when that fails, the retry
	 * timer tries again, and curl's own timeout still runs meanwhile. */
	if (!w->wsi && watch_socket(w)) {
		schedule_retry(hc);
		return 0;
	}
	/* Raw file descriptors are always polled for input; output is on demand,
	 * asked from a timer because this may run inside lws's writable callback,
	 * which clears POLLOUT once it returns. */
	if (w->want_out)
		lws_sul_schedule(hc->ctx, 0, &hc->rearm_timer, rearm_writable, 1);
	return 0;
}

/* Retries what failed: watching sockets, then curl's pending actions. */
static void retry_fired(lws_sorted_usec_list_t *sul)
{
	struct http_client *hc = lws_container_of(sul, struct http_client, retry_timer);
	int pending = 0;
	struct sock_watch *ready[64];
	size_t nready = 0;
	for (struct sock_watch *w = hc->watches; w; w = w->next) {
		if (w->wsi)
			continue;
		if (watch_socket(w))
			pending = 1;
		else if (nready < ARRAY_LEN(ready))
			ready[nready++] = w;
	}
	hc->action_failed = 0;
	if (pending)
		schedule_retry(hc);
	/* Let curl look at the sockets it could not hear from: 0 means "find
	 * out yourself".  Descriptors, not pointers: an action may free watches. */
	curl_socket_t fds[ARRAY_LEN(ready)];
	for (size_t i = 0; i < nready; i++)
		fds[i] = ready[i]->fd;
	for (size_t i = 0; i < nready; i++)
		socket_action(hc, fds[i], 0);
	socket_action(hc, CURL_SOCKET_TIMEOUT, 0);
	if (hc->watches)
		lws_sul_schedule(hc->ctx, 0, &hc->rearm_timer, rearm_writable, 1);
	if (!pending && !hc->action_failed && hc->retry_ms) {
		hc->retry_ms = 0;
		log_info("msg=\"curl sockets watched again\"");
	}
}

static void schedule_retry(struct http_client *hc)
{
	if (hc->closing)
		return;
	hc->retry_ms = hc->retry_ms ? hc->retry_ms * 2 : HTTP_RETRY_MIN_MS;
	if (hc->retry_ms > HTTP_RETRY_MAX_MS)
		hc->retry_ms = HTTP_RETRY_MAX_MS;
	lws_sul_schedule(hc->ctx, 0, &hc->retry_timer, retry_fired, (lws_usec_t)hc->retry_ms * LWS_US_PER_MS);
}

static void timer_fired(lws_sorted_usec_list_t *sul)
{
	struct http_client *hc = lws_container_of(sul, struct http_client, timer);
	socket_action(hc, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct http_client *hc = userp;
	if (timeout_ms < 0)
		lws_sul_cancel(&hc->timer);
	else
		lws_sul_schedule(hc->ctx, 0, &hc->timer, timer_fired, (lws_usec_t)timeout_ms * LWS_US_PER_MS);
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t n = size * nmemb;
	if (t->response.len + n > HTTP_MAX_BODY) {
		t->too_big = 1;
		return 0; /* makes curl fail the transfer */
	}
	buf_append(&t->response, data, n);
	return n;
}

static long header_number(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0)
		return -1;
	return strtol(line + k, NULL, 10);
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t n = size * nmemb;
	long v;
	if ((v = header_number(line, n, "x-ogw-ratelimit-reset:")) >= 0)
		t->ratelimit_reset = v;
	else if ((v = header_number(line, n, "retry-after:")) >= 0)
		t->retry_after = v;
	return n;
}

static void transfer_free(struct transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else if (t->hc->transfers == t)
		t->hc->transfers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	curl_slist_free_all(t->headers);
	free(t->body);
	buf_free(&t->response);
	free(t);
}

static void reap(struct http_client *hc)
{
	/* A done callback may start new transfers whose completion is found by
	 * the loop below; it must not recurse into another reap. */
	if (hc->reaping)
		return;
	hc->reaping = 1;
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(hc->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct transfer *t = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		if (t->conn) {
			/* Connected: the handle stays in its multi, which holds the
			 * connection (removing it would close it). */
			hc->inflight--;
			if (result != CURLE_OK)
				curl_multi_remove_handle(hc->multi, easy);
			conn_report(t, result == CURLE_OK ? NULL
					     : t->errbuf[0] ? t->errbuf : curl_easy_strerror(result));
			continue;
		}
		curl_multi_remove_handle(hc->multi, easy);
		hc->inflight--;

		struct http_response resp = { 0 };
		resp.ratelimit_reset = t->ratelimit_reset;
		resp.retry_after = t->retry_after;
		resp.elapsed_ms = (long)(clock_mono_ms() - t->started);
		if (result == CURLE_OK) {
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp.status);
		} else {
			resp.status = 0;
			resp.error = t->too_big ? "response too large" : (t->errbuf[0] ? t->errbuf : curl_easy_strerror(result));
		}
		if (!t->response.data)
			buf_append(&t->response, "", 0);
		resp.body = (const char *)t->response.data;
		resp.body_len = t->response.len;
		t->done(t->arg, &resp);
		curl_easy_cleanup(easy);
		transfer_free(t);
	}
	hc->reaping = 0;
}

struct http_client *http_client_new(struct lws_context *ctx, struct lws_vhost *vhost)
{
	static int global_init;
	if (!global_init) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return NULL;
		global_init = 1;
	}
	struct http_client *hc = xcalloc(1, sizeof *hc);
	hc->ctx = ctx;
	hc->vhost = vhost;
	hc->multi = curl_multi_init();
	if (!hc->multi) {
		free(hc);
		return NULL;
	}
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	return hc;
}

/* Ends t now: its callback runs with status 0 and error why. */
static void abort_transfer(struct transfer *t, const char *why)
{
	struct http_client *hc = t->hc;
	curl_multi_remove_handle(hc->multi, t->easy);
	hc->inflight--;
	if (t->conn) {
		conn_report(t, why);
		return;
	}
	struct http_response resp = { .status = 0, .error = why, .body = "",
				      .ratelimit_reset = -1, .retry_after = -1,
				      .elapsed_ms = (long)(clock_mono_ms() - t->started) };
	t->done(t->arg, &resp);
	curl_easy_cleanup(t->easy);
	transfer_free(t);
}

/* Curl ends its transfers by their timeout; this ends those it cannot (a
 * socket never watched, an action that kept failing), so no owner waits
 * for ever. */
static void watchdog_fired(lws_sorted_usec_list_t *sul);

/* Once a second while transfers exist (never pushed back by new ones). */
static void arm_watchdog(struct http_client *hc)
{
	if (hc->transfers && !hc->watchdog_armed) {
		hc->watchdog_armed = 1;
		lws_sul_schedule(hc->ctx, 0, &hc->watchdog_timer, watchdog_fired, LWS_US_PER_SEC);
	}
}

static void watchdog_fired(lws_sorted_usec_list_t *sul)
{
	struct http_client *hc = lws_container_of(sul, struct http_client, watchdog_timer);
	ms_t now = clock_mono_ms();
	if (!hc->reaping) {
		struct transfer *t = hc->transfers;
		while (t) {
			struct transfer *next = t->next;
			if (now >= t->deadline) {
				log_warn("msg=\"HTTP transfer overdue; ended by the watchdog\" elapsed_ms=%lld",
					 (long long)(now - t->started));
				abort_transfer(t, "timed out (no progress)");
				next = hc->transfers; /* the callback may have started or ended others */
			}
			t = next;
		}
	}
	hc->watchdog_armed = 0;
	arm_watchdog(hc);
}

void http_client_free(struct http_client *hc)
{
	if (!hc)
		return;
	lws_sul_cancel(&hc->timer);
	lws_sul_cancel(&hc->retry_timer);
	lws_sul_cancel(&hc->watchdog_timer);
	lws_sul_cancel(&hc->rearm_timer);
	/* Every callback runs exactly once, even now: owners free what they gave. */
	hc->closing = 1;
	while (hc->transfers)
		abort_transfer(hc->transfers, "shutting down");
	while (hc->conns)
		conn_orphan(hc->conns);
	curl_multi_cleanup(hc->multi);
	while (hc->watches) {
		struct sock_watch *w = hc->watches;
		hc->watches = w->next;
		detach_wsi(w); /* lws must not call back into a freed watch */
		free(w);
	}
	lws_sul_cancel(&hc->bury_timer);
	while (hc->buried) {
		struct http_client *b = hc->buried;
		hc->buried = b->next_buried;
		http_client_free(b);
	}
	free(hc->ca_file);
	free(hc);
}

void http_client_set_ca_file(struct http_client *hc, const char *path)
{
	free(hc->ca_file);
	hc->ca_file = path && *path ? xstrdup(path) : NULL;
}

/* A transfer of url on hc with the options every transfer has; NULL when
 * curl cannot make a handle.  Not started yet (transfer_start). */
static struct transfer *transfer_new(struct http_client *hc, const char *url, long timeout_ms)
{
	CURL *easy = curl_easy_init();
	if (!easy)
		return NULL;
	struct transfer *t = xcalloc(1, sizeof *t);
	t->hc = hc;
	t->easy = easy;
	t->ratelimit_reset = -1;
	t->retry_after = -1;
	t->started = clock_mono_ms();
	t->deadline = t->started + timeout_ms + HTTP_WATCHDOG_GRACE_MS;
	buf_init(&t->response);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	if (hc->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, hc->ca_file);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "collabd/" COLLABD_VERSION);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	return t;
}

/* Adds t to its multi; -1 (t freed, no callback) when curl refuses. */
static int transfer_start(struct transfer *t)
{
	struct http_client *hc = t->hc;
	if (curl_multi_add_handle(hc->multi, t->easy) != CURLM_OK) {
		curl_easy_cleanup(t->easy);
		transfer_free(t);
		return -1;
	}
	hc->inflight++;
	t->next = hc->transfers;
	if (t->next)
		t->next->prev = t;
	hc->transfers = t;
	arm_watchdog(hc);
	return 0;
}

int http_request(struct http_client *hc, const char *method, const char *url,
		 const char *const *headers, const char *body, long timeout_ms,
		 http_done_fn done, void *arg)
{
	if (hc->closing)
		return -1;
	struct transfer *t = transfer_new(hc, url, timeout_ms);
	if (!t)
		return -1;
	t->done = done;
	t->arg = arg;
	for (size_t i = 0; headers && headers[i]; i++)
		t->headers = curl_slist_append(t->headers, headers[i]);
	/* curl adds "Expect: 100-continue" to larger POSTs; it only costs a round trip. */
	t->headers = curl_slist_append(t->headers, "Expect:");
	CURL *easy = t->easy;
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		t->body = xstrdup(body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
	}
	return transfer_start(t);
}

/* ---- connections curl opens and the caller speaks on ---- */

/* The end of a connect-only transfer: t is freed (its handle stays with the
 * connection), then the owner hears of it unless it closed the connection. */
static void conn_report(struct transfer *t, const char *error)
{
	struct http_conn *c = t->conn;
	c->connected = !error;
	if (error)
		snprintf(c->error, sizeof c->error, "%s", error);
	transfer_free(t);
	http_conn_fn done = c->done;
	c->done = NULL;
	if (done)
		done(c->arg, c, c->connected ? NULL : c->error);
}

static void bury_fired(lws_sorted_usec_list_t *sul)
{
	struct http_client *hc = lws_container_of(sul, struct http_client, bury_timer);
	while (hc->buried) {
		struct http_client *b = hc->buried;
		hc->buried = b->next_buried;
		http_client_free(b);
	}
}

struct http_conn *http_connect(struct http_client *hc, const char *url, long timeout_ms, http_conn_fn done,
			       void *arg)
{
	if (hc->closing)
		return NULL;
	struct http_client *own = http_client_new(hc->ctx, hc->vhost);
	if (!own)
		return NULL;
	http_client_set_ca_file(own, hc->ca_file);
	struct transfer *t = transfer_new(own, url, timeout_ms);
	if (!t) {
		http_client_free(own);
		return NULL;
	}
	struct http_conn *c = xcalloc(1, sizeof *c);
	c->parent = hc;
	c->own = own;
	c->easy = t->easy;
	c->done = done;
	c->arg = arg;
	t->conn = c;
	curl_easy_setopt(t->easy, CURLOPT_CONNECT_ONLY, 1L);
	/* Through a proxy (https_proxy, http_proxy) a connection is a tunnel. */
	curl_easy_setopt(t->easy, CURLOPT_HTTPPROXYTUNNEL, 1L);
	if (transfer_start(t)) {
		http_client_free(own);
		free(c);
		return NULL;
	}
	c->next = hc->conns;
	if (c->next)
		c->next->prev = c;
	hc->conns = c;
	return c;
}

int http_conn_fd(const struct http_conn *c)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (!c || !c->connected || !c->easy || curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK)
		return -1;
	return fd == CURL_SOCKET_BAD ? -1 : (int)fd;
}

long http_conn_recv(struct http_conn *c, void *buf, size_t len, const char **error)
{
	size_t n = 0;
	if (!c->easy) {
		*error = "shutting down";
		return -1;
	}
	CURLcode rc = curl_easy_recv(c->easy, buf, len, &n);
	if (rc == CURLE_AGAIN)
		return 0;
	if (rc != CURLE_OK) {
		*error = curl_easy_strerror(rc);
		return -1;
	}
	if (n == 0) {
		*error = "closed by the peer";
		return -1;
	}
	return (long)n;
}

long http_conn_send(struct http_conn *c, const void *buf, size_t len, const char **error)
{
	size_t n = 0;
	if (!c->easy) {
		*error = "shutting down";
		return -1;
	}
	CURLcode rc = curl_easy_send(c->easy, buf, len, &n);
	if (rc == CURLE_AGAIN)
		return 0;
	if (rc != CURLE_OK) {
		*error = curl_easy_strerror(rc);
		return -1;
	}
	return (long)n;
}

/* Closes c's connection and lets go of its client; c stays, orphaned
 * (reads and writes fail) until its owner closes it. */
static void conn_release(struct http_conn *c)
{
	struct http_client *own = c->own, *parent = c->parent;
	if (!own)
		return;
	for (struct transfer *t = own->transfers; t; t = t->next)
		if (t->conn == c) { /* still connecting: stop the attempt */
			curl_multi_remove_handle(own->multi, c->easy);
			own->inflight--;
			transfer_free(t);
			break;
		}
	/* Out of the multi, a connect-only connection is closed by curl. */
	curl_multi_remove_handle(own->multi, c->easy);
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	c->own = NULL;
	c->connected = 0;
	if (c->prev)
		c->prev->next = c->next;
	else
		parent->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* The client may be inside its own callbacks now (this may run from
	 * done): freed from the parent's timer on the next turn, or with it. */
	own->closing = 1;
	own->next_buried = parent->buried;
	parent->buried = own;
	if (!parent->closing)
		lws_sul_schedule(parent->ctx, 0, &parent->bury_timer, bury_fired, 1);
}

/* The parent client is going away: a pending attempt is told "shutting
 * down" (its owner may close it then), an open connection is closed. */
static void conn_orphan(struct http_conn *c)
{
	struct http_client *own = c->own;
	for (struct transfer *t = own->transfers; t; t = t->next)
		if (t->conn == c) {
			abort_transfer(t, "shutting down"); /* may close c */
			return;
		}
	conn_release(c);
}

void http_conn_close(struct http_conn *c)
{
	if (!c)
		return;
	c->done = NULL;
	conn_release(c);
	free(c);
}

int http_inflight(const struct http_client *hc) { return hc->inflight; }
