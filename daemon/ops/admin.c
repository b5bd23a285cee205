/*
 * admin.c - the small local HTTP interface: /healthz, /metrics (Prometheus),
 * /debug/stats and, in test mode only, /debug/clock (read, set or advance the
 * daemon's clock).
 *
 * POST /dead-letters/retry replays the dead letters marked for it (by
 * `collabd dead-letters --retry ID`); it takes no input.
 *
 * It listens on admin.listen:admin.port (127.0.0.1 by default) and answers
 * JSON (/metrics: text).  Bodies are tiny; anything over 4 KiB is refused.
 *
 * The gate in front of every route: with admin.token set (required beyond
 * loopback) each request carries "Authorization: Bearer <token>" (401
 * otherwise); a POST says Content-Type: application/json (415 otherwise: a
 * web page can make a text/plain POST to localhost, never a JSON one
 * without the browser asking first) and a Content-Length (411 otherwise;
 * chunked bodies are not taken).
 */
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/clock.h"
#include "collabd/daemon.h"
#include "collabd/dingtalk.h"
#include "collabd/feishu.h"
#include "collabd/log.h"
#include "collabd/sched.h"
#include "collabd/store.h"
#include "collabd/util.h"

#define ADMIN_MAX_BODY 4096

struct admin_session {
	char path[128];
	int is_post;
	struct buf body;
	int status;
	const char *content_type; /* static; NULL means JSON */
	char *response; /* owned */
	int refused;    /* the gate answered: any body is ignored, the connection closed after */
};

static struct daemon *daemon_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

static void respond(struct admin_session *s, int status, json_t *body)
{
	s->status = status;
	free(s->response);
	s->response = json_dumps(body, JSON_COMPACT);
	json_decref(body);
}

/*
 * Test hook: set or close a deadline as the workflow would, in its own
 * transaction.  POST /debug/deadline {key, policy, chat_id, subject, people,
 * platform? (default feishu), start_ms?, due_ms?}; POST /debug/deadline/done {key, state}.
 */
static void respond_deadline(struct daemon *d, struct admin_session *s, json_t *req)
{
	const char *key = json_string_value(json_object_get(req, "key"));
	if (!key) {
		respond(s, 400, json_pack("{s:s}", "error", "key required"));
		return;
	}
	ms_t due = 0;
	enum store_rc rc = store_begin(d->store);
	if (rc == STORE_OK && !strcmp(s->path, "/debug/deadline/done")) {
		const char *state = json_string_value(json_object_get(req, "state"));
		rc = sched_deadline_done(d->sched, key, state ? state : "met");
	} else if (rc == STORE_OK) {
		json_t *start = json_object_get(req, "start_ms");
		struct sched_deadline dl = {
			.key = key,
			.policy = json_string_value(json_object_get(req, "policy")),
			.platform = json_string_value(json_object_get(req, "platform")) ? json_string_value(json_object_get(req, "platform")) : "feishu",
			.chat_id = json_string_value(json_object_get(req, "chat_id")),
			.subject = json_string_value(json_object_get(req, "subject")),
			.people = json_object_get(req, "people"),
			.start = json_is_integer(start) ? json_integer_value(start) : clock_now_ms(),
			.due = json_integer_value(json_object_get(req, "due_ms")),
		};
		rc = dl.policy && dl.chat_id && dl.subject && json_is_object(dl.people)
			     ? sched_deadline_set(d->sched, &dl, &due) : STORE_ERR;
	}
	if (rc == STORE_OK)
		rc = store_commit(d->store);
	if (rc != STORE_OK) {
		store_rollback(d->store);
		respond(s, 400, json_pack("{s:s,s:i}", "error", "not applied", "rc", rc));
		return;
	}
	sched_kick(d->sched);
	respond(s, 200, json_pack("{s:I}", "due_ms", (json_int_t)due));
}

static void route(struct daemon *d, struct admin_session *s)
{
	if (!strcmp(s->path, "/healthz") && !s->is_post) {
		int status;
		json_t *body = daemon_health(d, &status);
		respond(s, status, body);
		return;
	}
	if (!strcmp(s->path, "/metrics") && !s->is_post) {
		s->status = 200;
		s->content_type = "text/plain; version=0.0.4; charset=utf-8";
		free(s->response);
		s->response = daemon_metrics_text(d);
		return;
	}
	if (!strcmp(s->path, "/dead-letters/retry") && s->is_post) {
		respond(s, 200, daemon_replay_dead_letters(d));
		return;
	}
	if (!strcmp(s->path, "/debug/stats") && !s->is_post) {
		respond(s, 200, daemon_stats_json(d));
		return;
	}
	if (!strcmp(s->path, "/debug/clock")) {
		if (!clock_test_enabled()) {
			respond(s, 403, json_pack("{s:s}", "error", "the clock can be moved only with testing.clock_control"));
			return;
		}
		if (s->is_post) {
			json_t *req = json_loadb((const char *)s->body.data, s->body.len, 0, NULL);
			json_t *set = json_object_get(req, "set_ms"), *adv = json_object_get(req, "advance_ms");
			int rc = -1;
			if (json_is_integer(set))
				rc = clock_test_set(json_integer_value(set));
			else if (json_is_integer(adv))
				rc = clock_test_advance(json_integer_value(adv));
			json_decref(req);
			if (rc) {
				respond(s, 400, json_pack("{s:s}", "error", "send {\"set_ms\": N} or {\"advance_ms\": N >= 0}"));
				return;
			}
		}
		respond(s, 200, json_pack("{s:I}", "now_ms", (json_int_t)clock_now_ms()));
		return;
	}
	if (!strncmp(s->path, "/debug/deadline", 15) && s->is_post) {
		if (!clock_test_enabled()) {
			respond(s, 403, json_pack("{s:s}", "error", "deadlines can be set here only with testing.clock_control"));
			return;
		}
		json_t *req = json_loadb((const char *)s->body.data, s->body.len, 0, NULL);
		respond_deadline(d, s, req);
		json_decref(req);
		return;
	}
	respond(s, 404, json_pack("{s:s}", "error", "not found"));
}

/* The request header t into out; "" when absent. */
static void header_value(struct lws *wsi, enum lws_token_indexes t, char *out, int outsz)
{
	if (lws_hdr_copy(wsi, out, outsz, t) < 0)
		out[0] = '\0';
}

/* Refuses what the gate does not let through (see the top of this file):
 * 1 with the answer set, 0 to go on. */
static int gate(struct lws *wsi, struct daemon *d, struct admin_session *s)
{
	const char *want = d->cfg.admin_token;
	char h[512];
	if (want && *want) {
		header_value(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, h, sizeof h);
		if (strncmp(h, "Bearer ", 7) || !secret_equal(h + 7, want)) {
			respond(s, 401, json_pack("{s:s}", "error", "send Authorization: Bearer <admin.token>"));
			return 1;
		}
	}
	if (!s->is_post)
		return 0;
	header_value(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, h, sizeof h);
	size_t n = strcspn(h, "; ");
	if (n != 16 || strncasecmp(h, "application/json", 16)) {
		respond(s, 415, json_pack("{s:s}", "error", "POST bodies must be Content-Type: application/json"));
		return 1;
	}
	header_value(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, h, sizeof h);
	if (h[0]) {
		respond(s, 411, json_pack("{s:s}", "error", "chunked bodies are not accepted: send a Content-Length"));
		return 1;
	}
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
		respond(s, 411, json_pack("{s:s}", "error", "a POST needs a Content-Length"));
		return 1;
	}
	header_value(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, h, sizeof h);
	char *end;
	long long len = strtoll(h, &end, 10);
	if (end == h || *end || len < 0 || len > ADMIN_MAX_BODY) {
		respond(s, len > ADMIN_MAX_BODY ? 413 : 400, json_pack("{s:s,s:i}", "error", "Content-Length must be 0 to max",
									 "max", ADMIN_MAX_BODY));
		return 1;
	}
	if (len == 0) {
		respond(s, 400, json_pack("{s:s}", "error", "send a JSON object"));
		return 1;
	}
	return 0;
}

static int write_response(struct lws *wsi, struct admin_session *s)
{
	size_t blen = strlen(s->response);
	unsigned char *buf = xmalloc(LWS_PRE + 1024 + blen);
	unsigned char *start = buf + LWS_PRE, *p = start, *end = start + 1024;
	int rc = 0;
	const char *type = s->content_type ? s->content_type : "application/json";
	if (lws_add_http_common_headers(wsi, (unsigned int)s->status, type, (lws_filepos_t)blen, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:", (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end)) {
		rc = -1;
	} else {
		memcpy(buf + LWS_PRE, s->response, blen);
		if (lws_write(wsi, buf + LWS_PRE, blen, LWS_WRITE_HTTP_FINAL) != (int)blen)
			rc = -1;
	}
	free(buf);
	free(s->response);
	s->response = NULL;
	/* After a refused POST its body (if any) was never read: close rather
	 * than read it as the next request. */
	if (rc || (s->refused && s->is_post) || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static int admin_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct admin_session *s = user;
	int guard_rc;
	if (http_guard_callback(&daemon_of(wsi)->admin_guard, wsi, (int)reason, &guard_rc))
		return guard_rc; /* connection limits, idle timeout, no upgrades */
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		memset(s, 0, sizeof *s);
		utf8_snprintf(s->path, sizeof s->path, "%s", (const char *)in);
		s->is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
		s->refused = gate(wsi, daemon_of(wsi), s);
		if (s->refused)
			log_info("msg=\"admin request refused\" path=%s status=%d", s->path, s->status);
		if (!s->is_post || s->refused) {
			if (!s->refused)
				route(daemon_of(wsi), s);
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (s->refused)
			return 0;
		if (s->body.len + len > ADMIN_MAX_BODY)
			return -1;
		buf_append(&s->body, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (s->refused)
			return 0;
		route(daemon_of(wsi), s);
		buf_free(&s->body);
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!s->response)
			return 0;
		return write_response(wsi, s);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (s) {
			buf_free(&s->body);
			free(s->response);
			s->response = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

const struct lws_protocols admin_protocol = {
	.name = "collabd-admin",
	.callback = admin_cb,
	.per_session_data_size = sizeof(struct admin_session),
};
