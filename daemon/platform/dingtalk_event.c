/*
 * dingtalk_event.c - DingTalk robot-message callbacks to struct event.
 *
 * The callback's data (already unwrapped from the Stream frame) carries the
 * message, the sender's enterprise userId (senderStaffId), and a
 * sessionWebhook through which replies may be posted until it expires.
 * Redeliveries keep msgId, so that is the dedupe key.
 */
#include "collabd/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/util.h"

#define MAX_TEXT_BYTES (64 * 1024)

static char *dup_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) && *json_string_value(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* The text without the blanks DingTalk leaves where it cut the bot's mention. */
static char *trimmed_text(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	if (n > MAX_TEXT_BYTES) {
		n = MAX_TEXT_BYTES;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

enum event_parse_rc dingtalk_event_parse(const char *data, size_t len, const char *frame_id,
					 struct event *ev, char *why, size_t whysz)
{
	memset(ev, 0, sizeof *ev);
	ev->platform = "dingtalk";
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!root) {
		snprintf(why, whysz, "callback data is not JSON: %s", jerr.text);
		return EVENT_PARSE_BADJSON;
	}
	enum event_parse_rc rc = EVENT_PARSE_BADSHAPE;
	if (!json_is_object(root)) {
		snprintf(why, whysz, "callback data is not an object");
		goto out;
	}
	ev->kind = EVENT_MESSAGE;
	ev->event_type = xstrdup("im.bot.message");
	ev->event_id = xstrdup(frame_id ? frame_id : "");
	ev->chat_id = dup_str(root, "conversationId");
	ev->message_id = dup_str(root, "msgId");
	ev->message_type = dup_str(root, "msgtype");
	/* senderStaffId is the enterprise userId @-mentions need; external users
	 * have none, and then the encrypted senderId still identifies them. */
	ev->user_id = dup_str(root, "senderStaffId");
	if (!ev->user_id)
		ev->user_id = dup_str(root, "senderId");
	const char *ctype = json_string_value(json_object_get(root, "conversationType"));
	ev->chat_type = xstrdup(ctype && !strcmp(ctype, "1") ? "p2p" : "group");
	ev->mentions_bot = json_is_true(json_object_get(root, "isInAtList"));
	json_t *created = json_object_get(root, "createAt");
	ev->create_time = json_is_integer(created) ? (ms_t)json_integer_value(created) : 0;
	ev->reply_url = dup_str(root, "sessionWebhook");
	json_t *expires = json_object_get(root, "sessionWebhookExpiredTime");
	ev->reply_url_expires = json_is_integer(expires) ? (ms_t)json_integer_value(expires) : 0;
	if (!ev->chat_id || !ev->user_id || !ev->message_type) {
		snprintf(why, whysz, "robot message without conversationId, sender or msgtype");
		goto out;
	}
	if (!ev->message_id && !*ev->event_id) {
		snprintf(why, whysz, "robot message without msgId");
		goto out;
	}
	ev->dedupe_key = xasprintf("msg:%s", ev->message_id ? ev->message_id : ev->event_id);
	if (!ev->message_id)
		ev->message_id = xstrdup(ev->event_id);
	if (!strcmp(ev->message_type, "text")) {
		const char *content = json_string_value(json_object_get(json_object_get(root, "text"), "content"));
		if (!content) {
			snprintf(why, whysz, "text message without text.content");
			goto out;
		}
		ev->text = trimmed_text(content);
	}
	rc = EVENT_PARSE_OK;
out:
	json_decref(root);
	if (rc != EVENT_PARSE_OK)
		event_free(ev);
	return rc;
}

/*
 * A click on the generic card (dingtalk_card.h): params.value is the
 * button's action value as a JSON string, params.input the text of the
 * card's input.  A value {"typed": "/cmd"} is the form typed out: it becomes
 * the message "/cmd" + newline + the text, from the clicker in that group.
 * A value with "_input": NAME carries the text as the form field NAME.
 * Params without a value (per-kind templates) are the action value itself.
 */
static void card_params(struct event *ev, json_t *params)
{
	const char *vtext = json_string_value(json_object_get(params, "value"));
	json_t *value = vtext ? json_loads(vtext, 0, NULL) : NULL;
	const char *input = json_string_value(json_object_get(params, "input"));
	const char *typed = json_string_value(json_object_get(value, "typed"));
	if (typed && *typed == '/') {
		ev->kind = EVENT_MESSAGE;
		ev->message_type = xstrdup("text");
		ev->message_id = xstrdup(ev->event_id);
		ev->chat_type = xstrdup("group");
		ev->mentions_bot = 1;
		char *text = input && *input ? xasprintf("%s\n%s", typed, input) : xstrdup(typed);
		ev->text = trimmed_text(text);
		free(text);
	} else if (json_is_object(value)) {
		const char *field = json_string_value(json_object_get(value, "_input"));
		if (field)
			ev->form_value = json_pack("{s:s}", field, input ? input : "");
		json_object_del(value, "_input");
		ev->action_value = json_incref(value);
	} else if (json_is_object(params)) {
		ev->action_value = json_incref(params);
	}
	json_decref(value);
}

enum event_parse_rc dingtalk_card_event_parse(const char *data, size_t len, const char *frame_id,
					      struct event *ev, char *why, size_t whysz)
{
	memset(ev, 0, sizeof *ev);
	ev->platform = "dingtalk";
	json_t *root = json_loadb(data, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(why, whysz, "card callback data is not a JSON object");
		return EVENT_PARSE_BADJSON;
	}
	enum event_parse_rc rc = EVENT_PARSE_BADSHAPE;
	/* content is one more JSON document inside a string. */
	const char *content = json_string_value(json_object_get(root, "content"));
	json_t *inner = content ? json_loads(content, 0, NULL) : NULL;
	json_t *params = json_object_get(json_object_get(inner, "cardPrivateData"), "params");
	ev->kind = EVENT_CARD_ACTION;
	ev->event_type = xstrdup("card.callback");
	ev->event_id = xstrdup(frame_id ? frame_id : "");
	ev->dedupe_key = xasprintf("evt:%s", ev->event_id);
	ev->user_id = dup_str(root, "userId");
	ev->chat_id = dup_str(root, "spaceId");
	ev->card_message_id = dup_str(root, "outTrackId");
	if (!ev->user_id || !ev->card_message_id || !*ev->event_id) {
		snprintf(why, whysz, "card callback without userId, outTrackId or message id");
	} else {
		card_params(ev, params);
		if (ev->kind == EVENT_MESSAGE && !ev->chat_id)
			snprintf(why, whysz, "card callback with a typed command but no spaceId");
		else
			rc = EVENT_PARSE_OK;
	}
	json_decref(inner);
	json_decref(root);
	if (rc != EVENT_PARSE_OK)
		event_free(ev);
	return rc;
}

enum event_parse_rc dingtalk_parse_callback(const char *topic, const char *data, size_t len, const char *frame_id,
					    struct event *ev, char *why, size_t whysz)
{
	if (topic && !strcmp(topic, "/v1.0/card/instances/callback"))
		return dingtalk_card_event_parse(data, len, frame_id, ev, why, whysz);
	if (topic && !strcmp(topic, "/v1.0/im/bot/messages/get"))
		return dingtalk_event_parse(data, len, frame_id, ev, why, whysz);
	memset(ev, 0, sizeof *ev);
	snprintf(why, whysz, "callback topic %s is not an event", topic ? topic : "(none)");
	return EVENT_PARSE_BADSHAPE;
}
