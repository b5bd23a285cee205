/*
 * feishu_api.c - tenant token, send / reply / patch, and send-error handling.
 *
 * Sends wait in a queue while a token is being fetched; one fetch serves all
 * of them.  A token error (99991661/3/4/71) drops the token and retries that
 * send once with a fresh one.  Throttling (HTTP 429, codes 99991400 and
 * 230020) waits x-ogw-ratelimit-reset seconds; network errors and 5xx back
 * off; any other error is permanent for that message and is logged with the
 * platform's code.
 */
#include "collabd/feishu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/clock.h"
#include "collabd/http.h"
#include "collabd/log.h"
#include "collabd/render.h"
#include "collabd/token.h"
#include "collabd/util.h"

#define API_TIMEOUT_MS 15000

struct delivery {
	struct feishu_api *api;
	struct outbox *ob;
	int64_t id;
	char *url;
	char *method;
	char *body;
	int token_retried;
	char *token;   /* the token this send used, to drop exactly that one if rejected */
	/* A notice's message: what it was drawn from and the request around its
	 * content, to draw it again without mentions Feishu cannot resolve. */
	char *kind;
	json_t *notice;    /* the notice's body (new reference), or NULL */
	json_t *request;   /* the request body without "content" (new reference), or NULL */
	int mention_retries;
};


struct feishu_api {
	const struct feishu_config *cfg;
	struct http_client *http;
	struct outbox_sender sender;
	struct token_cache *tokens;
	char *bot_id;
	struct feishu_api_stats stats;
};

static void delivery_free(struct delivery *d)
{
	free(d->kind);
	json_decref(d->notice);
	json_decref(d->request);
	free(d->token);
	free(d->url);
	free(d->method);
	free(d->body);
	free(d);
}

/* Reports the outcome to the outbox and frees the delivery. */
#define finish(d, outcome, retry_after_ms, message_id, ...)                                            \
	do {                                                                                           \
		outbox_report((d)->ob, (d)->id, (outcome), (retry_after_ms), (message_id), __VA_ARGS__); \
		delivery_free(d);                                                                      \
	} while (0)

static void fetch_token(void *impl);

static int is_token_error(long code)
{
	return code == 99991661 || code == 99991663 || code == 99991664 || code == 99991671;
}

/*
 * Card errors come as 230099 with the card service's own code in the text:
 * "Failed to create card content, ext=ErrCode: 11310; ErrMsg: card action is
 * lock; ...".  11310 alone covers several card errors (a table limit, a bad
 * card id), so the lock is told apart by its words.
 */
#define CARD_ERROR 230099
#define CARD_LOCK_RETRY_MS 1500 /* the click's handler answers within 3 s */

static int is_card_locked(long code, const char *msg)
{
	return code == CARD_ERROR && strstr(msg, "11310") && strstr(msg, "card action is lock");
}

static int is_invalid_mention(long code, const char *msg)
{
	return code == CARD_ERROR && strstr(msg, "100290");
}

/* The "ErrorValue: ...;" of a card error (out gets "" when there is none). */
static void error_value(const char *msg, char *out, size_t outsz)
{
	const char *p = strstr(msg, "ErrorValue:");
	out[0] = '\0';
	if (!p)
		return;
	p += strlen("ErrorValue:");
	while (*p == ' ')
		p++;
	size_t n = strcspn(p, "; ");
	snprintf(out, outsz, "%.*s", (int)(n < outsz ? n : outsz - 1), p);
}

/* Turns the mentions Feishu named (or, when it named none we know -- its
 * value may be masked -- every mention still live) into plain "@name" text.
 * Returns how many were turned. */
static int drop_mentions(json_t *notice, const char *bad)
{
	int dropped = 0, named = 0;
	size_t i;
	json_t *m;
	json_t *mentions = json_object_get(notice, "mentions");
	json_array_foreach(mentions, i, m)
		named |= !json_is_true(json_object_get(m, "text_only")) && *bad &&
			 !strcmp(json_string_value(json_object_get(m, "id")) ? json_string_value(json_object_get(m, "id")) : "", bad);
	json_array_foreach(mentions, i, m) {
		if (json_is_true(json_object_get(m, "text_only")))
			continue;
		const char *id = json_string_value(json_object_get(m, "id"));
		if (!named || (id && !strcmp(id, bad))) {
			json_object_set_new(m, "text_only", json_true());
			dropped++;
		}
	}
	return dropped;
}

static void send_when_ready(void *arg, const char *token, const char *error);

/* Draws the notice again with the unresolvable mentions as text and sends
 * it at once; 0 when under way, -1 when there is nothing left to drop. */
static int resend_without_bad_mentions(struct delivery *d, const char *msg)
{
	char bad[128];
	error_value(msg, bad, sizeof bad);
	if (!d->notice || !d->request || d->mention_retries >= 8)
		return -1;
	int dropped = drop_mentions(d->notice, bad);
	if (!dropped)
		return -1;
	char *body = json_dumps(d->notice, JSON_COMPACT);
	struct feishu_message m;
	int rc = body ? render_feishu(d->kind, body, &m) : -1;
	free(body);
	if (rc)
		return -1;
	d->mention_retries++;
	d->api->stats.mentions_dropped += dropped;
	log_warn("msg=\"feishu refused a mention (invalid user resource, e.g. someone who left); "
		 "sending again with the name as text\" outbox_id=%lld kind=%s mentions_dropped=%d error_value=%s",
		 (long long)d->id, d->kind, dropped, *bad ? bad : "-");
	json_object_set_new(d->request, "content", json_string(m.content));
	feishu_message_free(&m);
	free(d->body);
	d->body = json_dumps(d->request, JSON_COMPACT);
	token_cache_with(d->api->tokens, send_when_ready, d);
	return 0;
}

static void send_done(void *arg, const struct http_response *resp)
{
	struct delivery *d = arg;
	struct feishu_api *api = d->api;
	if (resp->status == 0) {
		api->stats.sends_error++;
		finish(d, OUTBOX_RETRY, -1, NULL, "network: %s", resp->error);
		return;
	}
	json_t *root = json_loads(resp->body, 0, NULL);
	json_t *jcode = json_object_get(root, "code");
	long code = json_is_integer(jcode) ? (long)json_integer_value(jcode) : -1;
	const char *msg = json_string_value(json_object_get(root, "msg"));
	char msgbuf[256];
	utf8_snprintf(msgbuf, sizeof msgbuf, "%s", msg ? msg : "");

	if (resp->status == 200 && code == 0) {
		json_t *data = json_object_get(root, "data");
		/* a message's id, or a created chat's */
		const char *mid = json_string_value(json_object_get(data, "message_id"));
		if (!mid)
			mid = json_string_value(json_object_get(data, "chat_id"));
		api->stats.sends_ok++;
		finish(d, OUTBOX_SENT, 0, mid, "ok"); /* copies mid: call before the decref */
		json_decref(root);
		return;
	}
	json_decref(root);
	if (is_invalid_mention(code, msgbuf) && !resend_without_bad_mentions(d, msgbuf))
		return;
	if (is_card_locked(code, msgbuf)) {
		/* Someone's click on this card is being handled; it unlocks when
		 * that click is answered. */
		api->stats.sends_error++;
		finish(d, OUTBOX_RETRY, CARD_LOCK_RETRY_MS, NULL, "card locked: http=%ld code=%ld msg=%s", resp->status,
		       code, msgbuf);
		return;
	}
	if (is_token_error(code) && !d->token_retried) {
		/* Drop the token and retry this send once with a new one. */
		log_info("msg=\"feishu token rejected; refreshing\" code=%ld", code);
		token_cache_invalidate(api->tokens, d->token);
		d->token_retried = 1;
		token_cache_with(api->tokens, send_when_ready, d);
		return;
	}
	if (resp->status == 429 || code == 99991400 || code == 230020) {
		long wait_s = resp->ratelimit_reset >= 0 ? resp->ratelimit_reset : resp->retry_after;
		api->stats.sends_throttled++;
		finish(d, OUTBOX_RETRY, wait_s >= 0 ? wait_s * 1000 + 50 : -1, NULL,
		       "throttled: http=%ld code=%ld", resp->status, code);
		return;
	}
	api->stats.sends_error++;
	if (resp->status >= 500 || code == -1)
		finish(d, OUTBOX_RETRY, -1, NULL, "server error: http=%ld code=%ld", resp->status, code);
	else
		finish(d, OUTBOX_FAILED, 0, NULL, "rejected: http=%ld code=%ld msg=%s", resp->status, code, msgbuf);
}

static void send_when_ready(void *arg, const char *token, const char *error)
{
	struct delivery *d = arg;
	struct feishu_api *api = d->api;
	if (error) {
		finish(d, OUTBOX_RETRY, -1, NULL, "no token: %s", error);
		return;
	}
	free(d->token);
	d->token = xstrdup(token);
	char *auth = xasprintf("Authorization: Bearer %s", token);
	const char *headers[] = { auth, "Content-Type: application/json; charset=utf-8", NULL };
	int rc = http_request(api->http, d->method, d->url, headers, d->body, API_TIMEOUT_MS, send_done, d);
	free(auth);
	if (rc)
		finish(d, OUTBOX_RETRY, -1, NULL, "could not start the HTTP request");
}

static void token_done(void *arg, const struct http_response *resp)
{
	struct feishu_api *api = arg;
	json_t *root = resp->status ? json_loads(resp->body, 0, NULL) : NULL;
	json_t *jcode = json_object_get(root, "code");
	const char *token = json_string_value(json_object_get(root, "tenant_access_token"));
	json_t *expire = json_object_get(root, "expire");
	api->stats.token_fetches++;
	if (json_is_integer(jcode) && json_integer_value(jcode) == 0 && token && json_is_integer(expire)) {
		log_info("msg=\"feishu tenant token obtained\" expires_in_s=%lld", (long long)json_integer_value(expire));
		token_cache_set(api->tokens, token, json_integer_value(expire));
		json_decref(root);
		return;
	}
	char why[200];
	if (resp->status == 0)
		utf8_snprintf(why, sizeof why, "network: %s", resp->error);
	else
		utf8_snprintf(why, sizeof why, "http=%ld code=%lld msg=%s", resp->status,
			 json_is_integer(jcode) ? (long long)json_integer_value(jcode) : -1LL,
			 json_string_value(json_object_get(root, "msg")) ? json_string_value(json_object_get(root, "msg")) : "");
	json_decref(root);
	log_error("msg=\"feishu tenant token request failed; check app_id/app_secret\" %s", why);
	token_cache_failed(api->tokens, why);
}

static void fetch_token(void *impl)
{
	struct feishu_api *api = impl;
	char *url = xasprintf("%s/open-apis/auth/v3/tenant_access_token/internal", api->cfg->base_url);
	json_t *body = json_pack("{s:s,s:s}", "app_id", api->cfg->app_id, "app_secret", api->cfg->app_secret);
	char *text = json_dumps(body, JSON_COMPACT);
	const char *headers[] = { "Content-Type: application/json; charset=utf-8", NULL };
	if (http_request(api->http, "POST", url, headers, text, API_TIMEOUT_MS, token_done, api))
		token_cache_failed(api->tokens, "could not start the HTTP request");
	free(text);
	json_decref(body);
	free(url);
}

static void deliver(void *impl, const struct outbox_row *row, struct outbox *ob)
{
	struct feishu_api *api = impl;
	struct delivery *d = xcalloc(1, sizeof *d);
	d->api = api;
	d->ob = ob;
	d->id = row->id;

	if (!strcmp(row->kind, "create_chat")) {
		/* A group for a request: the members, named; uuid makes it idempotent. */
		json_t *in = json_loads(row->body, 0, NULL);
		json_t *body = json_pack("{s:O?,s:O?,s:s,s:s}", "name", json_object_get(in, "name"), "user_id_list",
					 json_object_get(in, "members"), "chat_mode", "group", "chat_type", "private");
		d->method = xstrdup("POST");
		d->url = xasprintf("%s/open-apis/im/v1/chats?user_id_type=open_id&uuid=%s", api->cfg->base_url,
				   row->idem_key);
		d->body = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		json_decref(in);
		token_cache_with(api->tokens, send_when_ready, d);
		return;
	}
	if (!strcmp(row->kind, "urgent")) {
		/* An in-app buzz (应用内加急) of a card already sent: update_of is
		 * that card's message id, resolved by the outbox from its subject. */
		if (!row->update_of) {
			finish(d, OUTBOX_FAILED, 0, NULL, "urgent: the message to buzz was never sent");
			return;
		}
		json_t *in = json_loads(row->body, 0, NULL);
		json_t *body = json_pack("{s:O?}", "user_id_list", json_object_get(in, "users"));
		d->method = xstrdup("PATCH");
		d->url = xasprintf("%s/open-apis/im/v1/messages/%s/urgent_app?user_id_type=open_id", api->cfg->base_url,
				   row->update_of);
		d->body = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		json_decref(in);
		token_cache_with(api->tokens, send_when_ready, d);
		return;
	}
	struct feishu_message m;
	if (render_feishu(row->kind, row->body, &m)) {
		finish(d, OUTBOX_FAILED, 0, NULL, "cannot render notice kind %s", row->kind);
		return;
	}
	json_t *body;
	if (row->update_of) {
		/* Update a card in place; only interactive messages can be patched. */
		d->method = xstrdup("PATCH");
		d->url = xasprintf("%s/open-apis/im/v1/messages/%s", api->cfg->base_url, row->update_of);
		body = json_pack("{s:s}", "content", m.content);
	} else if (row->reply_to) {
		d->method = xstrdup("POST");
		d->url = xasprintf("%s/open-apis/im/v1/messages/%s/reply", api->cfg->base_url, row->reply_to);
		body = json_pack("{s:s,s:s,s:s}", "msg_type", m.msg_type, "content", m.content, "uuid", row->idem_key);
	} else {
		d->method = xstrdup("POST");
		d->url = xasprintf("%s/open-apis/im/v1/messages?receive_id_type=chat_id", api->cfg->base_url);
		body = json_pack("{s:s,s:s,s:s,s:s}", "receive_id", row->chat_id, "msg_type", m.msg_type,
				 "content", m.content, "uuid", row->idem_key);
	}
	d->body = json_dumps(body, JSON_COMPACT);
	if (!strcmp(m.msg_type, "interactive")) {
		d->kind = xstrdup(row->kind);
		d->notice = json_loads(row->body, 0, NULL);
		d->request = body; /* keeps our reference */
	} else {
		json_decref(body);
	}
	feishu_message_free(&m);

	token_cache_with(api->tokens, send_when_ready, d);
}

struct feishu_api *feishu_api_new(const struct feishu_config *cfg, struct http_client *http, double rate_per_app,
				  double rate_per_chat)
{
	struct feishu_api *api = xcalloc(1, sizeof *api);
	api->cfg = cfg;
	api->http = http;
	api->sender.platform = "feishu";
	api->sender.deliver = deliver;
	api->sender.impl = api;
	api->sender.rate_per_app = rate_per_app;
	api->sender.rate_per_chat = rate_per_chat;
	api->tokens = token_cache_new(fetch_token, api);
	if (cfg->bot_open_id && *cfg->bot_open_id)
		api->bot_id = xstrdup(cfg->bot_open_id);
	return api;
}

void feishu_api_free(struct feishu_api *api)
{
	if (!api)
		return;
	token_cache_free(api->tokens); /* waiters are told "shutting down" and free their args */
	free(api->bot_id);
	free(api);
}

const struct outbox_sender *feishu_api_sender(struct feishu_api *api) { return &api->sender; }
const char *feishu_api_bot_id(const struct feishu_api *api) { return api->bot_id; }
const struct feishu_api_stats *feishu_api_stats(const struct feishu_api *api) { return &api->stats; }

/* Learning the bot's id: GET /bot/v3/info with a token, once more after a
 * token error. */
struct bot_info_req {
	struct feishu_api *api;
	int tries;
};

static void bot_info_ready(void *arg, const char *token, const char *error);

static void bot_info_done(void *arg, const struct http_response *resp)
{
	struct bot_info_req *r = arg;
	struct feishu_api *api = r->api;
	json_t *root = resp->status ? json_loads(resp->body, 0, NULL) : NULL;
	const char *id = json_string_value(json_object_get(json_object_get(root, "bot"), "open_id"));
	long code = (long)json_integer_value(json_object_get(root, "code"));
	if (id) {
		free(api->bot_id);
		api->bot_id = xstrdup(id);
		log_info("msg=\"feishu bot identity learned\" bot_open_id=%s", id);
		free(r);
	} else if (is_token_error(code) && r->tries++ < 1) {
		token_cache_invalidate(api->tokens, NULL);
		token_cache_with(api->tokens, bot_info_ready, r);
	} else {
		log_warn("msg=\"could not learn the bot's open_id; @-mentions of the bot without a "
			 "slash command will not be answered (set feishu.bot_open_id)\" http=%ld code=%ld",
			 resp->status, code);
		free(r);
	}
	json_decref(root);
}

static void bot_info_ready(void *arg, const char *token, const char *error)
{
	struct bot_info_req *r = arg;
	struct feishu_api *api = r->api;
	if (error) {
		log_warn("msg=\"could not learn the bot's open_id\" error=\"%s\"", error);
		free(r);
		return;
	}
	char *url = xasprintf("%s/open-apis/bot/v3/info", api->cfg->base_url);
	char *auth = xasprintf("Authorization: Bearer %s", token);
	const char *headers[] = { auth, NULL };
	if (http_request(api->http, "GET", url, headers, NULL, API_TIMEOUT_MS, bot_info_done, r))
		free(r);
	free(auth);
	free(url);
}

void feishu_api_learn_bot_id(struct feishu_api *api)
{
	if (api->bot_id)
		return;
	struct bot_info_req *r = xcalloc(1, sizeof *r);
	r->api = api;
	token_cache_with(api->tokens, bot_info_ready, r);
}
