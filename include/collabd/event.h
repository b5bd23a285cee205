/*
 * event.h - a platform event in platform-neutral form.
 *
 * Adapters decode their wire format into a struct event; everything after
 * (inbox, router, commands, workflow) sees only this.  The event owns all of
 * its strings and JSON references; event_free() releases them.
 */
#ifndef COLLABD_EVENT_H
#define COLLABD_EVENT_H

#include <jansson.h>
#include <stddef.h>

#include "collabd/clock.h"

enum event_kind {
	EVENT_MESSAGE,     /* a chat message (text) */
	EVENT_CARD_ACTION, /* a button click or form submit on a card we sent */
	EVENT_OTHER,       /* acknowledged and recorded, nothing else */
};

struct mention {
	char *key;  /* the placeholder in the text, e.g. "@_user_1" */
	char *id;   /* the platform user id (Feishu open_id) */
	char *name;
};

struct event {
	const char *platform;   /* static string: "feishu" or "dingtalk" */
	enum event_kind kind;
	char *event_id;
	char *event_type;
	char *dedupe_key;       /* what the inbox dedupes on */
	ms_t create_time;       /* milliseconds, 0 when unknown */

	/* The conversation and the person. */
	char *chat_id;
	char *chat_type;        /* "group" or "p2p" */
	char *user_id;          /* sender (message) or operator (card action) */

	/* EVENT_MESSAGE */
	char *message_id;
	char *message_type;     /* "text", "post", "image", ... */
	char *text;             /* text with mention placeholders resolved to "@name" */
	int mentions_bot;       /* the bot was @-mentioned */
	struct mention *mentions;
	size_t nmentions;

	/* Where replies may go without a token (DingTalk's sessionWebhook), and
	 * until when; NULL when the platform has no such thing. */
	char *reply_url;
	ms_t reply_url_expires;

	/* EVENT_CARD_ACTION */
	char *card_message_id;  /* the card's message id */
	json_t *action_value;   /* new reference, or NULL */
	json_t *form_value;     /* new reference, or NULL */
};

void event_free(struct event *ev);

/* Parse results: EVENT_PARSE_OK, or a reason the payload is unusable. */
enum event_parse_rc { EVENT_PARSE_OK = 0, EVENT_PARSE_BADJSON, EVENT_PARSE_BADSHAPE };

/*
 * Parses a Feishu event payload (schema 2.0) into *ev (zeroed first).  bot_id
 * is the bot's own open_id (may be NULL) to recognise mentions of the bot.  On
 * failure *ev holds nothing and why (size whysz) says what was wrong.
 */
enum event_parse_rc feishu_event_parse(const char *payload, size_t len, const char *bot_id,
				       struct event *ev, char *why, size_t whysz);

/*
 * Parses the data of a DingTalk robot-message callback (the inner JSON of a
 * Stream frame) into *ev.  frame_id is the frame's headers.messageId (used as
 * the event id and as the dedupe key when msgId is absent).
 */
enum event_parse_rc dingtalk_event_parse(const char *data, size_t len, const char *frame_id,
					 struct event *ev, char *why, size_t whysz);

/* Parses the data of a DingTalk card callback (topic
 * /v1.0/card/instances/callback): the card's outTrackId, the clicker, the
 * button's parameters (content.cardPrivateData.params).  A form typed out
 * in the generic card's input (dingtalk_card.h) parses as the message the
 * clicker would have typed in that group. */
enum event_parse_rc dingtalk_card_event_parse(const char *data, size_t len, const char *frame_id,
					      struct event *ev, char *why, size_t whysz);

/* Either of the two above by the callback's topic (a card callback or a
 * robot message); EVENT_PARSE_BADSHAPE for any other topic. */
enum event_parse_rc dingtalk_parse_callback(const char *topic, const char *data, size_t len, const char *frame_id,
					    struct event *ev, char *why, size_t whysz);

#endif
