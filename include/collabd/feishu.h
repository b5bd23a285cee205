/*
 * feishu.h - the Feishu (Lark) adapter: OpenAPI client and long connection.
 *
 * feishu_api_*: tenant_access_token (cached, refreshed early and once more on
 * a token error), sending, replying to and patching messages -- the outbox's
 * sender for platform "feishu".
 *
 * feishu_ws_*: the long connection.  Fetches a fresh URL from
 * /callback/ws/endpoint before every connect, speaks pbbp2 frames, pings,
 * merges fragments, hands complete events to a handler and sends the ack the
 * handler returns -- only after the handler has committed the event's effects.
 */
#ifndef COLLABD_FEISHU_H
#define COLLABD_FEISHU_H

#include <jansson.h>
#include <stdint.h>

#include "collabd/config.h"
#include "collabd/outbox.h"

struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct http_client;
struct event;

/* ---- OpenAPI ---- */

struct feishu_api;

struct feishu_api_stats {
	long long token_fetches;
	long long sends_ok, sends_throttled, sends_error;
	long long mentions_dropped; /* mentions sent again as text: Feishu could not resolve them (100290) */
};

/* rate_per_app / rate_per_chat: sends per second (Feishu: 50 and 5). */
struct feishu_api *feishu_api_new(const struct feishu_config *cfg, struct http_client *http, double rate_per_app,
				  double rate_per_chat);
void feishu_api_free(struct feishu_api *api);
/* The outbox sender for "feishu" (borrowed from api). */
const struct outbox_sender *feishu_api_sender(struct feishu_api *api);
/* The bot's open_id (from config, or learned at start); NULL until known. */
const char *feishu_api_bot_id(const struct feishu_api *api);
/* Asks /bot/v3/info for the bot's open_id when config did not give it. */
void feishu_api_learn_bot_id(struct feishu_api *api);
const struct feishu_api_stats *feishu_api_stats(const struct feishu_api *api);

/* ---- long connection ---- */

struct feishu_ws;

/* What the event handler decided: ack with code 200 now (and, for card
 * actions, the response in data), leave the frame unacked so it is
 * redelivered, or answer later with feishu_ws_answer() (the event waits for
 * its batch's commit; the adapter keeps what the ack needs under ticket). */
enum feishu_ack { FEISHU_ACK_OK, FEISHU_ACK_NONE, FEISHU_ACK_LATER };

/* Called with each complete event payload (len bytes, NUL-terminated) and
 * the ticket that answers it later.  Sets *card_response (a new reference)
 * for card callbacks acked at once that have a reply. */
typedef enum feishu_ack (*feishu_event_fn)(void *arg, const char *payload, size_t len, uint64_t ticket,
					  json_t **card_response);
/* Called when the connection fails for good (bad credentials, 403, too many
 * connections): the daemon cannot work and should stop. */
typedef void (*feishu_fatal_fn)(void *arg, const char *why);

struct feishu_ws_stats {
	long long connects, reconnects, frames_in, frames_bad, events, acks, pings, pongs;
	long long ack_latency_us_total, ack_latency_us_max;
	long long fragments_dropped;   /* incomplete events given up: expired, evicted, too large */
	long long fragment_bytes;      /* held by pending merges now */
};

struct feishu_ws *feishu_ws_new(const struct feishu_config *cfg, struct lws_context *ctx,
				struct lws_vhost *vhost, struct http_client *http,
				feishu_event_fn on_event, feishu_fatal_fn on_fatal, void *arg);
void feishu_ws_start(struct feishu_ws *ws);
/* Closes the connection and stops reconnecting. */
void feishu_ws_stop(struct feishu_ws *ws);
void feishu_ws_free(struct feishu_ws *ws);
int feishu_ws_connected(const struct feishu_ws *ws);
const struct feishu_ws_stats *feishu_ws_stats(const struct feishu_ws *ws);
/* Answers an event held under ticket (FEISHU_ACK_LATER): ack it (with
 * card_response, borrowed, may be NULL) or let it go unacked.  Nothing is
 * sent when its connection has closed meanwhile: the platform redelivers. */
void feishu_ws_answer(struct feishu_ws *ws, uint64_t ticket, int ack, json_t *card_response);

#endif
