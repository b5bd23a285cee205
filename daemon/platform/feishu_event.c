/*
 * feishu_event.c - Feishu event JSON (schema 2.0) to struct event.
 *
 * Dedupe keys follow the platform's advice: im.message.receive_v1 by the
 * message's message_id (its event_id is not stable across redeliveries),
 * everything else by header.event_id.
 */
#include "collabd/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/util.h"

#define MAX_MENTIONS 50
#define MAX_TEXT_BYTES (64 * 1024) /* longer messages are cut; a command is never this long */

void event_free(struct event *ev)
{
	free(ev->event_id);
	free(ev->event_type);
	free(ev->dedupe_key);
	free(ev->chat_id);
	free(ev->chat_type);
	free(ev->user_id);
	free(ev->message_id);
	free(ev->message_type);
	free(ev->text);
	for (size_t i = 0; i < ev->nmentions; i++) {
		free(ev->mentions[i].key);
		free(ev->mentions[i].id);
		free(ev->mentions[i].name);
	}
	free(ev->mentions);
	free(ev->reply_url);
	free(ev->card_message_id);
	json_decref(ev->action_value);
	json_decref(ev->form_value);
	memset(ev, 0, sizeof *ev);
}

/* Returns a copy of obj[key] when it is a string, else NULL. */
static char *dup_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static ms_t parse_time(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return 0;
	long long t = strtoll(json_string_value(v), NULL, 10);
	/* Messages carry milliseconds, card callbacks microseconds. */
	if (t > 100000000000000LL)
		t /= 1000;
	return (ms_t)t;
}

/* Replaces each mention placeholder with "@name", in order of appearance. */
static char *resolve_mentions(const char *text, const struct event *ev)
{
	struct buf out;
	buf_init(&out);
	const char *p = text;
	while (*p) {
		const struct mention *hit = NULL;
		size_t hitlen = 0;
		if (*p == '@') {
			for (size_t i = 0; i < ev->nmentions; i++) {
				size_t k = strlen(ev->mentions[i].key);
				/* the longest key wins: @_user_1 must not match inside @_user_12 */
				if (k > hitlen && !strncmp(p, ev->mentions[i].key, k)) {
					hit = &ev->mentions[i];
					hitlen = k;
				}
			}
		}
		if (hit) {
			buf_append_str(&out, "@");
			buf_append_str(&out, hit->name && *hit->name ? hit->name : hit->id);
			p += hitlen;
		} else {
			buf_append(&out, p, 1);
			p++;
		}
	}
	return buf_steal(&out);
}

static int parse_message(json_t *event, const char *bot_id, struct event *ev, char *why, size_t whysz)
{
	json_t *msg = json_object_get(event, "message");
	json_t *sender = json_object_get(event, "sender");
	if (!json_is_object(msg) || !json_is_object(sender)) {
		snprintf(why, whysz, "im.message.receive_v1 without message or sender");
		return -1;
	}
	ev->kind = EVENT_MESSAGE;
	ev->message_id = dup_str(msg, "message_id");
	ev->chat_id = dup_str(msg, "chat_id");
	ev->chat_type = dup_str(msg, "chat_type");
	ev->message_type = dup_str(msg, "message_type");
	ev->user_id = dup_str(json_object_get(sender, "sender_id"), "open_id");
	if (!ev->message_id || !ev->chat_id || !ev->user_id || !ev->message_type) {
		snprintf(why, whysz, "message without message_id, chat_id, sender open_id or message_type");
		return -1;
	}
	ms_t t = parse_time(msg, "create_time");
	if (t)
		ev->create_time = t;

	json_t *mentions = json_object_get(msg, "mentions");
	if (json_is_array(mentions)) {
		size_t n = json_array_size(mentions);
		if (n > MAX_MENTIONS)
			n = MAX_MENTIONS;
		ev->mentions = xcalloc(n ? n : 1, sizeof *ev->mentions);
		for (size_t i = 0; i < n; i++) {
			json_t *m = json_array_get(mentions, i);
			char *key = dup_str(m, "key");
			char *id = dup_str(json_object_get(m, "id"), "open_id");
			if (!key || !id) {
				free(key);
				free(id);
				continue;
			}
			struct mention *dst = &ev->mentions[ev->nmentions++];
			dst->key = key;
			dst->id = id;
			dst->name = dup_str(m, "name");
			if (bot_id && !strcmp(id, bot_id))
				ev->mentions_bot = 1;
		}
	}

	if (!strcmp(ev->message_type, "text")) {
		json_t *content = json_object_get(msg, "content");
		if (!json_is_string(content)) {
			snprintf(why, whysz, "text message whose content is not a string");
			return -1;
		}
		json_t *c = json_loads(json_string_value(content), 0, NULL);
		json_t *text = json_object_get(c, "text");
		if (!json_is_string(text)) {
			json_decref(c);
			snprintf(why, whysz, "text message content without text");
			return -1;
		}
		const char *raw = json_string_value(text);
		char *cut = NULL;
		if (strlen(raw) > MAX_TEXT_BYTES) {
			/* Cut on a character boundary. */
			size_t n = MAX_TEXT_BYTES;
			while (n > 0 && ((unsigned char)raw[n] & 0xC0) == 0x80)
				n--;
			cut = xstrndup(raw, n);
			raw = cut;
		}
		ev->text = resolve_mentions(raw, ev);
		free(cut);
		json_decref(c);
	}
	free(ev->dedupe_key);
	ev->dedupe_key = xasprintf("msg:%s", ev->message_id);
	return 0;
}

static int parse_card_action(json_t *event, struct event *ev, char *why, size_t whysz)
{
	json_t *action = json_object_get(event, "action");
	json_t *context = json_object_get(event, "context");
	if (!json_is_object(action)) {
		snprintf(why, whysz, "card.action.trigger without action");
		return -1;
	}
	ev->kind = EVENT_CARD_ACTION;
	ev->user_id = dup_str(json_object_get(event, "operator"), "open_id");
	ev->chat_id = dup_str(context, "open_chat_id");
	ev->card_message_id = dup_str(context, "open_message_id");
	json_t *value = json_object_get(action, "value");
	/* The SDKs only support object values; a string value is kept as is. */
	if (value)
		ev->action_value = json_incref(value);
	json_t *form = json_object_get(action, "form_value");
	if (json_is_object(form))
		ev->form_value = json_incref(form);
	if (!ev->user_id) {
		snprintf(why, whysz, "card action without operator open_id");
		return -1;
	}
	return 0;
}

enum event_parse_rc feishu_event_parse(const char *payload, size_t len, const char *bot_id,
				       struct event *ev, char *why, size_t whysz)
{
	memset(ev, 0, sizeof *ev);
	ev->platform = "feishu";
	json_error_t jerr;
	json_t *root = json_loadb(payload, len, 0, &jerr);
	if (!root) {
		snprintf(why, whysz, "payload is not JSON: %s", jerr.text);
		return EVENT_PARSE_BADJSON;
	}
	json_t *header = json_object_get(root, "header");
	json_t *event = json_object_get(root, "event");
	int rc = -1;
	if (!json_is_object(root) || !json_is_object(header) || !json_is_object(event)) {
		snprintf(why, whysz, "not a schema 2.0 event (header and event objects expected)");
		goto out;
	}
	ev->event_id = dup_str(header, "event_id");
	ev->event_type = dup_str(header, "event_type");
	if (!ev->event_id || !ev->event_type) {
		snprintf(why, whysz, "event header without event_id or event_type");
		goto out;
	}
	ev->create_time = parse_time(header, "create_time");
	ev->dedupe_key = xasprintf("evt:%s", ev->event_id);
	if (!strcmp(ev->event_type, "im.message.receive_v1"))
		rc = parse_message(event, bot_id, ev, why, whysz);
	else if (!strcmp(ev->event_type, "card.action.trigger"))
		rc = parse_card_action(event, ev, why, whysz);
	else {
		ev->kind = EVENT_OTHER;
		rc = 0;
	}
out:
	json_decref(root);
	if (rc) {
		event_free(ev);
		return EVENT_PARSE_BADSHAPE;
	}
	return EVENT_PARSE_OK;
}
