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

#include "collabd/json_scan.h"
#include "collabd/util.h"

#define MAX_TEXT_BYTES (64 * 1024)

static char *dup_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) && *json_string_value(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* prefix + s, a new string (the dedupe key, once per message: formatting
 * it with xasprintf cost more than the rest of the key's work). */
static char *prefixed_new(const char *prefix, const char *s)
{
	size_t a = strlen(prefix), b = strlen(s);
	char *out = xmalloc(a + b + 1);
	memcpy(out, prefix, a);
	memcpy(out + a, s, b + 1);
	return out;
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

/* A robot message's fields as read from its JSON, whichever reader read it:
 * strings owned (NULL when absent, not a string, or empty). */
struct robot_message {
	char *conversation_id, *msg_id, *msgtype, *staff_id, *sender_id, *webhook, *content;
	int p2p, in_at_list, has_created, has_expires;
	ms_t created, expires;
};

static void robot_message_clear(struct robot_message *m)
{
	free(m->conversation_id);
	free(m->msg_id);
	free(m->msgtype);
	free(m->staff_id);
	free(m->sender_id);
	free(m->webhook);
	free(m->content);
}

static void from_jansson(json_t *root, struct robot_message *m)
{
	m->conversation_id = dup_str(root, "conversationId");
	m->msg_id = dup_str(root, "msgId");
	m->msgtype = dup_str(root, "msgtype");
	m->staff_id = dup_str(root, "senderStaffId");
	m->sender_id = dup_str(root, "senderId");
	const char *ctype = json_string_value(json_object_get(root, "conversationType"));
	m->p2p = ctype && !strcmp(ctype, "1");
	m->in_at_list = json_is_true(json_object_get(root, "isInAtList"));
	json_t *created = json_object_get(root, "createAt");
	m->has_created = json_is_integer(created);
	m->created = m->has_created ? (ms_t)json_integer_value(created) : 0;
	m->webhook = dup_str(root, "sessionWebhook");
	json_t *expires = json_object_get(root, "sessionWebhookExpiredTime");
	m->has_expires = json_is_integer(expires);
	m->expires = m->has_expires ? (ms_t)json_integer_value(expires) : 0;
	const char *content = json_string_value(json_object_get(json_object_get(root, "text"), "content"));
	m->content = content ? xstrdup(content) : NULL;
}

/* dup_str() of a jscan field: a copy of a non-empty string, else NULL. */
static char *scan_str(const struct jscan_field *f)
{
	return f->type == JV_STRING && f->len ? jscan_string_new(f, NULL) : NULL;
}

/* The robot message's fields by jscan(): JSCAN_OK with *is_object set,
 * or what jscan() said. */
static enum jscan_rc from_scan(const char *data, size_t len, struct robot_message *m, int *is_object)
{
	enum { CID, MID, TYPE, STAFF, SENDER, CTYPE, AT, CREATED, HOOK, EXPIRES, CONTENT, N };
	struct jscan_field f[N] = {
		[CID] = { .path = { "conversationId" } },
		[MID] = { .path = { "msgId" } },
		[TYPE] = { .path = { "msgtype" } },
		[STAFF] = { .path = { "senderStaffId" } },
		[SENDER] = { .path = { "senderId" } },
		[CTYPE] = { .path = { "conversationType" } },
		[AT] = { .path = { "isInAtList" } },
		[CREATED] = { .path = { "createAt" } },
		[HOOK] = { .path = { "sessionWebhook" } },
		[EXPIRES] = { .path = { "sessionWebhookExpiredTime" } },
		[CONTENT] = { .path = { "text", "content" } },
	};
	enum jscan_type root;
	enum jscan_rc rc = jscan(data, len, &root, f, N);
	if (rc != JSCAN_OK)
		return rc;
	*is_object = root == JV_OBJECT;
	m->conversation_id = scan_str(&f[CID]);
	m->msg_id = scan_str(&f[MID]);
	m->msgtype = scan_str(&f[TYPE]);
	m->staff_id = scan_str(&f[STAFF]);
	m->sender_id = scan_str(&f[SENDER]);
	m->p2p = jscan_string_is(&f[CTYPE], "1");
	m->in_at_list = f[AT].type == JV_TRUE;
	m->has_created = f[CREATED].type == JV_INTEGER;
	m->created = m->has_created ? (ms_t)f[CREATED].integer : 0;
	m->webhook = scan_str(&f[HOOK]);
	m->has_expires = f[EXPIRES].type == JV_INTEGER;
	m->expires = m->has_expires ? (ms_t)f[EXPIRES].integer : 0;
	m->content = jscan_string_new(&f[CONTENT], NULL);
	return JSCAN_OK;
}

/* The event from the message's fields (taking the strings it keeps). */
static enum event_parse_rc robot_message_event(struct robot_message *m, const char *frame_id, struct event *ev,
					       char *why, size_t whysz)
{
	ev->kind = EVENT_MESSAGE;
	ev->event_type = xstrdup("im.bot.message");
	ev->event_id = xstrdup(frame_id ? frame_id : "");
	ev->chat_id = m->conversation_id;
	ev->message_id = m->msg_id;
	ev->message_type = m->msgtype;
	/* senderStaffId is the enterprise userId @-mentions need; external users
	 * have none, and then the encrypted senderId still identifies them. */
	ev->user_id = m->staff_id ? m->staff_id : m->sender_id;
	if (m->staff_id)
		free(m->sender_id);
	ev->chat_type = xstrdup(m->p2p ? "p2p" : "group");
	ev->mentions_bot = m->in_at_list;
	ev->create_time = m->created;
	ev->reply_url = m->webhook;
	ev->reply_url_expires = m->expires;
	char *content = m->content;
	memset(m, 0, sizeof *m);
	enum event_parse_rc rc = EVENT_PARSE_BADSHAPE;
	if (!ev->chat_id || !ev->user_id || !ev->message_type) {
		snprintf(why, whysz, "robot message without conversationId, sender or msgtype");
		goto out;
	}
	if (!ev->message_id && !*ev->event_id) {
		snprintf(why, whysz, "robot message without msgId");
		goto out;
	}
	ev->dedupe_key = prefixed_new("msg:", ev->message_id ? ev->message_id : ev->event_id);
	if (!ev->message_id)
		ev->message_id = xstrdup(ev->event_id);
	if (!strcmp(ev->message_type, "text")) {
		if (!content) {
			snprintf(why, whysz, "text message without text.content");
			goto out;
		}
		ev->text = trimmed_text(content);
	}
	rc = EVENT_PARSE_OK;
out:
	free(content);
	if (rc != EVENT_PARSE_OK)
		event_free(ev);
	return rc;
}

/* jscan() reads the message (the common case, without a tree); jansson what
 * jscan() leaves undecided, and an invalid message for its error text. */
enum event_parse_rc dingtalk_event_parse(const char *data, size_t len, const char *frame_id,
					 struct event *ev, char *why, size_t whysz)
{
	memset(ev, 0, sizeof *ev);
	ev->platform = "dingtalk";
	struct robot_message m = { 0 };
	int is_object = 0;
	if (from_scan(data, len, &m, &is_object) != JSCAN_OK) {
		json_error_t jerr;
		json_t *root = json_loadb(data, len, 0, &jerr);
		if (!root) {
			snprintf(why, whysz, "callback data is not JSON: %s", jerr.text);
			return EVENT_PARSE_BADJSON;
		}
		is_object = json_is_object(root);
		if (is_object)
			from_jansson(root, &m);
		json_decref(root);
	}
	if (!is_object) {
		robot_message_clear(&m);
		event_free(ev);
		snprintf(why, whysz, "callback data is not an object");
		return EVENT_PARSE_BADSHAPE;
	}
	return robot_message_event(&m, frame_id, ev, why, whysz);
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
