/*
 * dingtalk.h - the DingTalk adapter: Stream mode connection and OpenAPI client.
 *
 * dingtalk_api_*: the outbox's sender for platform "dingtalk".  Replies go
 * through the chat's sessionWebhook while it is valid (it can @-mention),
 * otherwise through /v1.0/robot/groupMessages/send (which cannot: names are
 * written out instead).  Access token cached and refreshed on
 * InvalidAuthentication; throttling (403 *Limit*, 429, 503, 504) retried.
 *
 * dingtalk_ws_*: the Stream connection.  A fresh ticket for every connect;
 * JSON text frames (the data parsed twice); SYSTEM ping echoed; SYSTEM
 * disconnect answered by opening a new connection before the old one closes;
 * CALLBACK and EVENT frames acked only after the handler committed.
 */
#ifndef COLLABD_DINGTALK_H
#define COLLABD_DINGTALK_H

#include <jansson.h>
#include <stdint.h>

#include "collabd/config.h"
#include "collabd/outbox.h"

struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct http_client;
struct store;

struct dingtalk_api;

struct dingtalk_api_stats {
	long long token_fetches, via_webhook, via_api, via_card, throttled, errors;
	long long mentions_unnotified; /* sends whose @-mentions could not notify (no webhook, no card template) */
};

struct dingtalk_api *dingtalk_api_new(const struct dingtalk_config *cfg, struct http_client *http,
				      struct store *st);
void dingtalk_api_free(struct dingtalk_api *api);
const struct outbox_sender *dingtalk_api_sender(struct dingtalk_api *api);
const struct dingtalk_api_stats *dingtalk_api_stats(const struct dingtalk_api *api);

struct dingtalk_ws;

/* Ack now, leave unacked (redelivered), or answer later with
 * dingtalk_ws_answer() once the event's batch has committed. */
enum dingtalk_ack { DINGTALK_ACK_OK, DINGTALK_ACK_NONE, DINGTALK_ACK_LATER };

/* A robot message or card callback: data is the callback's inner JSON,
 * frame_id its headers.messageId, ticket what answers it later.  Sets
 * *card_response for card callbacks acked at once. */
typedef enum dingtalk_ack (*dingtalk_event_fn)(void *arg, const char *topic, const char *data, size_t len,
					       const char *frame_id, uint64_t ticket, json_t **card_response);
typedef void (*dingtalk_fatal_fn)(void *arg, const char *why);

struct dingtalk_ws_stats {
	long long connects, reconnects, frames_in, frames_bad, callbacks, acks, pings, disconnects;
};

struct dingtalk_ws *dingtalk_ws_new(const struct dingtalk_config *cfg, struct lws_context *ctx,
				    struct lws_vhost *vhost, struct http_client *http,
				    dingtalk_event_fn on_event, dingtalk_fatal_fn on_fatal, void *arg);
void dingtalk_ws_start(struct dingtalk_ws *ws);
void dingtalk_ws_stop(struct dingtalk_ws *ws);
void dingtalk_ws_free(struct dingtalk_ws *ws);
int dingtalk_ws_connected(const struct dingtalk_ws *ws);
const struct dingtalk_ws_stats *dingtalk_ws_stats(const struct dingtalk_ws *ws);
/* Answers a callback held under ticket (DINGTALK_ACK_LATER): ack it, with
 * card_response (borrowed, may be NULL) as the card's reply, or let it go
 * unacked.  Nothing is sent when its connection has closed meanwhile. */
void dingtalk_ws_answer(struct dingtalk_ws *ws, uint64_t ticket, int ack, json_t *card_response);

#endif
