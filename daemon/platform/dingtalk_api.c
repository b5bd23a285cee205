/*
 * dingtalk_api.c - DingTalk sends: sessionWebhook first, OpenAPI otherwise.
 *
 * DingTalk offers no idempotency key for robot messages: a send that was on
 * the wire when the daemon died is sent again after the restart (at least
 * once).  Sends confirmed before the crash are never repeated.
 */
#include "collabd/dingtalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/clock.h"
#include "collabd/dingtalk_card.h"
#include "collabd/http.h"
#include "collabd/log.h"
#include "collabd/render.h"
#include "collabd/store.h"
#include "collabd/token.h"
#include "collabd/util.h"

#define API_TIMEOUT_MS 15000
#define WEBHOOK_MARGIN_MS 60000 /* do not start a send on a webhook about to expire */

struct dingtalk_api {
	const struct dingtalk_config *cfg;
	struct http_client *http;
	struct store *st;
	struct outbox_sender sender;
	struct token_cache *tokens;
	struct dingtalk_api_stats stats;
};

struct delivery {
	struct dingtalk_api *api;
	struct outbox *ob;
	int64_t id;
	char *chat_id;
	char *kind, *body, *idem_key; /* the row's, to draw it again another way */
	char *webhook;            /* the URL tried, to forget it if refused */
	struct dingtalk_message m;
	char *token;
	int token_retried;
	/* Card path (a template is configured for the notice kind, or the
	 * generic template: then params/at are also set for a text notice with
	 * mentions, in case its webhook is refused). */
	const char *template_id;   /* borrowed from the config */
	char *out_track_id;        /* the card's id: new card = the row's idempotency key */
	int update;                /* PUT an existing card instead of creating one */
	json_t *params, *at;
};

static void delivery_free(struct delivery *d)
{
	free(d->chat_id);
	free(d->kind);
	free(d->body);
	free(d->idem_key);
	free(d->webhook);
	free(d->token);
	free(d->out_track_id);
	json_decref(d->params);
	json_decref(d->at);
	dingtalk_message_free(&d->m);
	free(d);
}

/* Reports the outcome to the outbox and frees the delivery. */
#define finish(d, outcome, retry_after_ms, message_id, ...)                                            \
	do {                                                                                           \
		outbox_report((d)->ob, (d)->id, (outcome), (retry_after_ms), (message_id), __VA_ARGS__); \
		delivery_free(d);                                                                      \
	} while (0)

/* ---- OpenAPI path ---- */

static void api_when_ready(void *arg, const char *token, const char *error);

static int is_throttle(long status, const char *code)
{
	return status == 429 || status == 503 || status == 504 ||
	       (status == 403 && code && strstr(code, "Limit"));
}

/*
 * What every OpenAPI send does with an error answer: a rejected token is
 * dropped and the send tried once more through again(); throttling and server
 * errors are retried; anything else fails for good with the platform's code.
 */
static void openapi_failed(struct delivery *d, const struct http_response *resp, const char *code,
			   token_ready_fn again)
{
	struct dingtalk_api *api = d->api;
	char codebuf[96];
	utf8_snprintf(codebuf, sizeof codebuf, "%s", code ? code : "-");
	if ((resp->status == 401 || (code && !strcmp(code, "InvalidAuthentication"))) && !d->token_retried) {
		log_info("msg=\"dingtalk token rejected; refreshing\" http=%ld", resp->status);
		token_cache_invalidate(api->tokens, d->token);
		d->token_retried = 1;
		token_cache_with(api->tokens, again, d);
	} else if (is_throttle(resp->status, code)) {
		api->stats.throttled++;
		finish(d, OUTBOX_RETRY, resp->retry_after >= 0 ? resp->retry_after * 1000 : -1, NULL,
		       "throttled: http=%ld code=%s", resp->status, codebuf);
	} else if (resp->status >= 500) {
		api->stats.errors++;
		finish(d, OUTBOX_RETRY, -1, NULL, "server error: http=%ld code=%s", resp->status, codebuf);
	} else {
		api->stats.errors++;
		finish(d, OUTBOX_FAILED, 0, NULL, "rejected: http=%ld code=%s", resp->status, codebuf);
	}
}

static void api_done(void *arg, const struct http_response *resp)
{
	struct delivery *d = arg;
	struct dingtalk_api *api = d->api;
	if (resp->status == 0) {
		api->stats.errors++;
		finish(d, OUTBOX_RETRY, -1, NULL, "network: %s", resp->error);
		return;
	}
	json_t *root = json_loads(resp->body, 0, NULL);
	const char *code = json_string_value(json_object_get(root, "code"));
	const char *key = json_string_value(json_object_get(root, "processQueryKey"));
	if (resp->status == 200 && key) {
		api->stats.via_api++;
		finish(d, OUTBOX_SENT, 0, key, "ok");
	} else {
		openapi_failed(d, resp, code, api_when_ready);
	}
	json_decref(root);
}

static void api_when_ready(void *arg, const char *token, const char *error)
{
	struct delivery *d = arg;
	struct dingtalk_api *api = d->api;
	if (error) {
		finish(d, OUTBOX_RETRY, -1, NULL, "no token: %s", error);
		return;
	}
	free(d->token);
	d->token = xstrdup(token);
	/* The OpenAPI cannot @-mention: the names are written out instead. */
	int md = !strcmp(d->m.msgtype, "markdown");
	json_t *param = md ? json_pack("{s:s,s:s}", "title", d->m.title, "text", d->m.text_names)
			   : json_pack("{s:s}", "content", d->m.text_names);
	char *param_text = json_dumps(param, JSON_COMPACT);
	json_t *body = json_pack("{s:s,s:s,s:s,s:s}", "robotCode", api->cfg->client_id, "openConversationId",
				 d->chat_id, "msgKey", md ? "sampleMarkdown" : "sampleText", "msgParam", param_text);
	char *text = json_dumps(body, JSON_COMPACT);
	char *url = xasprintf("%s/v1.0/robot/groupMessages/send", api->cfg->base_url);
	char *auth = xasprintf("x-acs-dingtalk-access-token: %s", token);
	const char *headers[] = { auth, "Content-Type: application/json", "Accept: application/json", NULL };
	int rc = http_request(api->http, "POST", url, headers, text, API_TIMEOUT_MS, api_done, d);
	free(auth);
	free(url);
	free(text);
	json_decref(body);
	free(param_text);
	json_decref(param);
	if (rc)
		finish(d, OUTBOX_RETRY, -1, NULL, "could not start the HTTP request");
}

/* ---- card path ---- */

static void card_when_ready(void *arg, const char *token, const char *error);
static void send_markdown(struct delivery *d, int keep_card);

/* How many spaces createAndDeliver reached; *why gets the first errorMsg. */
static size_t delivered_spaces(json_t *root, char *why, size_t whysz)
{
	size_t i, ok = 0;
	json_t *r;
	snprintf(why, whysz, "no deliverResults");
	json_array_foreach(json_object_get(json_object_get(root, "result"), "deliverResults"), i, r) {
		if (json_is_true(json_object_get(r, "success")))
			ok++;
		else
			snprintf(why, whysz, "%s", json_string_value(json_object_get(r, "errorMsg")) ?
					 json_string_value(json_object_get(r, "errorMsg")) : "success=false");
	}
	return ok;
}

static void card_done(void *arg, const struct http_response *resp)
{
	struct delivery *d = arg;
	struct dingtalk_api *api = d->api;
	if (resp->status == 0) {
		api->stats.errors++;
		finish(d, OUTBOX_RETRY, -1, NULL, "network: %s", resp->error);
		return;
	}
	json_t *root = json_loads(resp->body, 0, NULL);
	const char *code = json_string_value(json_object_get(root, "code"));
	/* A card created before a crash comes back as "already exists" when the
	 * row is resent under the same outTrackId: that is success, not a copy. */
	int exists = code && !strcmp(code, "param.cardAlreadyExist");
	int ok = resp->status == 200 && json_is_true(json_object_get(root, "success"));
	char why[200];
	if (ok && !d->update && !delivered_spaces(root, why, sizeof why)) {
		/* Created, but it reached no one: not sent.  The same notice goes
		 * as a message instead (without buttons: the commands to type). */
		api->stats.errors++;
		log_warn("msg=\"dingtalk card reached no one; sending it as a message\" chat=%s out_track_id=%s "
			 "error=\"%s\"", d->chat_id, d->out_track_id, why);
		json_decref(root);
		send_markdown(d, 0);
		return;
	}
	if (ok || exists) {
		api->stats.via_card++;
		finish(d, OUTBOX_SENT, 0, d->out_track_id, "ok");
	} else if (d->update && code && !strcmp(code, "param.cardNotExist") && d->idem_key) {
		/* The first one went out as a message: this one is a new card. */
		log_info("msg=\"dingtalk card to update does not exist; sending a new one\" out_track_id=%s",
			 d->out_track_id);
		d->update = 0;
		free(d->out_track_id);
		d->out_track_id = xstrdup(d->idem_key);
		free(d->idem_key);
		d->idem_key = NULL;
		token_cache_with(api->tokens, card_when_ready, d);
	} else {
		openapi_failed(d, resp, code, card_when_ready);
	}
	json_decref(root);
}

static void card_when_ready(void *arg, const char *token, const char *error)
{
	struct delivery *d = arg;
	struct dingtalk_api *api = d->api;
	if (error) {
		finish(d, OUTBOX_RETRY, -1, NULL, "no token: %s", error);
		return;
	}
	free(d->token);
	d->token = xstrdup(token);
	json_t *body;
	char *url;
	const char *method;
	if (d->update) {
		method = "PUT";
		url = xasprintf("%s/v1.0/card/instances", api->cfg->base_url);
		body = json_pack("{s:s,s:{s:O},s:{s:b},s:i}", "outTrackId", d->out_track_id, "cardData", "cardParamMap",
				 d->params, "cardUpdateOptions", "updateCardDataByKey", 1, "userIdType", 1);
	} else {
		method = "POST";
		url = xasprintf("%s/v1.0/card/instances/createAndDeliver", api->cfg->base_url);
		char *space = xasprintf("dtv1.card//IM_GROUP.%s", d->chat_id);
		body = json_pack("{s:s,s:s,s:s,s:{s:O},s:s,s:{s:b},s:{s:s,s:O},s:i}", "cardTemplateId", d->template_id,
				 "outTrackId", d->out_track_id, "callbackType", "STREAM", "cardData", "cardParamMap",
				 d->params, "openSpaceId", space, "imGroupOpenSpaceModel", "supportForward", 1,
				 "imGroupOpenDeliverModel", "robotCode", api->cfg->client_id, "atUserIds", d->at,
				 "userIdType", 1);
		free(space);
	}
	char *text = json_dumps(body, JSON_COMPACT);
	char *auth = xasprintf("x-acs-dingtalk-access-token: %s", token);
	const char *headers[] = { auth, "Content-Type: application/json", "Accept: application/json", NULL };
	int rc = http_request(api->http, method, url, headers, text, API_TIMEOUT_MS, card_done, d);
	free(auth);
	free(text);
	free(url);
	json_decref(body);
	if (rc)
		finish(d, OUTBOX_RETRY, -1, NULL, "could not start the HTTP request");
}

/* ---- sessionWebhook path ---- */

/*
 * No usable sessionWebhook: the robot send API cannot @ anyone, so a notice
 * that mentions people goes as the generic card when one is configured (its
 * atUserIds notify); otherwise the names are only written out.
 */
static void without_webhook(struct delivery *d)
{
	struct dingtalk_api *api = d->api;
	if (d->params) {
		token_cache_with(api->tokens, card_when_ready, d);
		return;
	}
	if (json_array_size(d->m.at_user_ids)) {
		api->stats.mentions_unnotified++;
		log_warn("msg=\"dingtalk mentions will not notify: the group's sessionWebhook expired and no card "
			 "template is configured (dingtalk.card_template_id)\" chat=%s people=%zu",
			 d->chat_id, json_array_size(d->m.at_user_ids));
	}
	token_cache_with(api->tokens, api_when_ready, d);
}

static void webhook_done(void *arg, const struct http_response *resp)
{
	struct delivery *d = arg;
	struct dingtalk_api *api = d->api;
	if (resp->status == 0 || resp->status >= 500) {
		api->stats.errors++;
		finish(d, OUTBOX_RETRY, -1, NULL, "webhook: http=%ld %s", resp->status, resp->error ? resp->error : "");
		return;
	}
	json_t *root = json_loads(resp->body, 0, NULL);
	json_t *errcode = json_object_get(root, "errcode");
	long code = json_is_integer(errcode) ? (long)json_integer_value(errcode) : -1;
	json_decref(root);
	if (resp->status == 200 && code == 0) {
		api->stats.via_webhook++;
		finish(d, OUTBOX_SENT, 0, NULL, "ok");
		return;
	}
	if (resp->status == 429 || code == 410100) {
		api->stats.throttled++;
		finish(d, OUTBOX_RETRY, -1, NULL, "webhook throttled: http=%ld errcode=%ld", resp->status, code);
		return;
	}
	/* Expired early or refused: forget it and go through the OpenAPI now. */
	log_info("msg=\"dingtalk sessionWebhook refused; using the OpenAPI\" http=%ld errcode=%ld chat=%s",
		 resp->status, code, d->chat_id);
	store_webhook_forget(api->st, "dingtalk", d->chat_id, d->webhook);
	without_webhook(d);
}

static void send_webhook(struct delivery *d)
{
	int md = !strcmp(d->m.msgtype, "markdown");
	json_t *body = md ? json_pack("{s:s,s:{s:s,s:s}}", "msgtype", "markdown", "markdown", "title", d->m.title,
				      "text", d->m.text_at)
			  : json_pack("{s:s,s:{s:s}}", "msgtype", "text", "text", "content", d->m.text_at);
	json_object_set_new(body, "at", json_pack("{s:O,s:b}", "atUserIds", d->m.at_user_ids, "isAtAll", 0));
	char *text = json_dumps(body, JSON_COMPACT);
	const char *headers[] = { "Content-Type: application/json", NULL };
	int rc = http_request(d->api->http, "POST", d->webhook, headers, text, API_TIMEOUT_MS, webhook_done, d);
	free(text);
	json_decref(body);
	if (rc)
		finish(d, OUTBOX_RETRY, -1, NULL, "could not start the HTTP request");
}

/* The notice as a message: the webhook while it lasts, else the OpenAPI
 * (or the card, when keep_card and one is ready). */
static void send_markdown(struct delivery *d, int keep_card)
{
	if (!keep_card) {
		json_decref(d->params);
		json_decref(d->at);
		d->params = d->at = NULL;
	}
	dingtalk_message_free(&d->m);
	if (render_dingtalk(d->kind, d->body, &d->m)) {
		finish(d, OUTBOX_FAILED, 0, NULL, "cannot render notice kind %s", d->kind);
		return;
	}
	free(d->webhook);
	d->webhook = store_webhook_get(d->api->st, "dingtalk", d->chat_id, clock_now_ms() + WEBHOOK_MARGIN_MS);
	if (d->webhook && (!strncmp(d->webhook, "https://", 8) || !strncmp(d->webhook, "http://", 7)))
		send_webhook(d);
	else
		without_webhook(d);
}

static void deliver(void *impl, const struct outbox_row *row, struct outbox *ob)
{
	struct dingtalk_api *api = impl;
	struct delivery *d = xcalloc(1, sizeof *d);
	d->api = api;
	d->ob = ob;
	d->id = row->id;
	d->chat_id = xstrdup(row->chat_id);
	d->kind = xstrdup(row->kind);
	d->body = xstrdup(row->body);
	if (!strcmp(row->kind, "create_chat")) {
		/* Scene groups need templates of their own: the request stays in
		 * the group where it was raised (the rows after this fall back). */
		finish(d, OUTBOX_FAILED, 0, NULL, "creating a group is not supported on DingTalk; using the original group");
		return;
	}
	const char *generic = api->cfg->card_template_id && *api->cfg->card_template_id ? api->cfg->card_template_id
											    : NULL;
	json_t *tid = json_object_get(api->cfg->card_templates, row->kind);
	int card = 0;
	if (json_is_string(tid) && !render_dingtalk_card(row->kind, row->body, &d->params, &d->at)) {
		d->template_id = json_string_value(tid);
		card = 1;
	} else if (generic && !render_dingtalk_template(row->kind, row->body, &d->params, &d->at)) {
		d->template_id = generic;
		/* A text notice stays a message while the webhook can @ people;
		 * the card is kept ready for when it cannot. */
		card = strcmp(row->kind, "text") != 0;
	}
	d->update = card && row->update_of != NULL;
	d->out_track_id = xstrdup(d->update ? row->update_of : row->idem_key);
	d->idem_key = xstrdup(row->idem_key);
	if (card) {
		token_cache_with(api->tokens, card_when_ready, d);
		return;
	}
	/* Markdown cannot be edited in place: an update is a new message. */
	send_markdown(d, 1);
}

/* ---- token ---- */

static void token_done(void *arg, const struct http_response *resp)
{
	struct dingtalk_api *api = arg;
	json_t *root = resp->status ? json_loads(resp->body, 0, NULL) : NULL;
	const char *token = json_string_value(json_object_get(root, "accessToken"));
	json_t *expire = json_object_get(root, "expireIn");
	api->stats.token_fetches++;
	if (resp->status == 200 && token && json_is_integer(expire)) {
		log_info("msg=\"dingtalk access token obtained\" expires_in_s=%lld", (long long)json_integer_value(expire));
		token_cache_set(api->tokens, token, json_integer_value(expire));
	} else {
		char why[200];
		const char *code = json_string_value(json_object_get(root, "code"));
		utf8_snprintf(why, sizeof why, "http=%ld code=%s %s", resp->status, code ? code : "-",
			 resp->error ? resp->error : "");
		log_error("msg=\"dingtalk access token request failed; check client_id/client_secret\" %s", why);
		token_cache_failed(api->tokens, why);
	}
	json_decref(root);
}

static void fetch_token(void *impl)
{
	struct dingtalk_api *api = impl;
	char *url = xasprintf("%s/v1.0/oauth2/accessToken", api->cfg->base_url);
	json_t *body = json_pack("{s:s,s:s}", "appKey", api->cfg->client_id, "appSecret", api->cfg->client_secret);
	char *text = json_dumps(body, JSON_COMPACT);
	const char *headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };
	if (http_request(api->http, "POST", url, headers, text, API_TIMEOUT_MS, token_done, api))
		token_cache_failed(api->tokens, "could not start the HTTP request");
	free(text);
	json_decref(body);
	free(url);
}

struct dingtalk_api *dingtalk_api_new(const struct dingtalk_config *cfg, struct http_client *http, struct store *st)
{
	struct dingtalk_api *api = xcalloc(1, sizeof *api);
	api->cfg = cfg;
	api->http = http;
	api->st = st;
	api->sender.platform = "dingtalk";
	api->sender.deliver = deliver;
	api->sender.impl = api;
	api->sender.rate_per_app = cfg->rate_per_app;
	api->sender.rate_per_chat = cfg->rate_per_chat_per_minute / 60.0;
	api->tokens = token_cache_new(fetch_token, api);
	if (cfg->card_template_id && *cfg->card_template_id)
		log_info("msg=\"dingtalk workflow cards use the card template; clicks come back over Stream\" "
			 "template=%s", cfg->card_template_id);
	else
		log_info("msg=\"dingtalk workflow cards are markdown with the commands to type; for buttons, and for "
			 "mentions that notify after a group's sessionWebhook expired, import the template from "
			 "'collabd dingtalk card-template' and set dingtalk.card_template_id (deploy/dingtalk/SETUP.md)\"");
	return api;
}

void dingtalk_api_free(struct dingtalk_api *api)
{
	if (!api)
		return;
	token_cache_free(api->tokens);
	free(api);
}

const struct outbox_sender *dingtalk_api_sender(struct dingtalk_api *api) { return &api->sender; }
const struct dingtalk_api_stats *dingtalk_api_stats(const struct dingtalk_api *api) { return &api->stats; }
