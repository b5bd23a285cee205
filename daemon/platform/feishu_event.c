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

#include "collabd/json_scan.h"
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

static ms_t parse_time_text(const char *s)
{
	long long t = strtoll(s, NULL, 10);
	/* Messages carry milliseconds, card callbacks microseconds. */
	if (t > 100000000000000LL)
		t /= 1000;
	return (ms_t)t;
}

static ms_t parse_time(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? parse_time_text(json_string_value(v)) : 0;
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

/* ---- the common case without a tree ---- */

/* A copy of a string field, else NULL (dup_str() of a jscan field). */
static char *scan_str(const struct jscan_field *f) { return jscan_string_new(f, NULL); }

/* The message's text out of its content (itself a JSON document in a string):
 * a new string, or NULL when the content has no string "text". */
static char *content_text(const char *content, size_t len)
{
	struct jscan_field f[1] = { { .path = { "text" } } };
	enum jscan_rc rc = jscan(content, len, NULL, f, 1);
	if (rc == JSCAN_OK)
		return scan_str(&f[0]);
	if (rc == JSCAN_INVALID)
		return NULL;
	json_t *c = json_loadb(content, len, 0, NULL);
	const char *text = json_string_value(json_object_get(c, "text"));
	char *out = text ? xstrdup(text) : NULL;
	json_decref(c);
	return out;
}

/*
 * An im.message.receive_v1 read by jscan() as parse_message() reads the
 * jansson tree: the same checks, in the same order, the same texts.
 * Returns -1 when jscan() cannot decide (the caller asks jansson), else
 * the parse's outcome with *rc set.
 */
static int message_by_scan(const char *payload, size_t len, const char *bot_id, struct event *ev, char *why,
			   size_t whysz, enum event_parse_rc *rc)
{
	enum { HEADER, EVENT, EVENT_ID, EVENT_TYPE, HTIME, MSG, SENDER, MSG_ID, CHAT, CHAT_TYPE, MSG_TYPE, OPEN_ID,
	       MTIME, MENTIONS, CONTENT, N };
	struct jscan_field f[N] = {
		[HEADER] = { .path = { "header" } },
		[EVENT] = { .path = { "event" } },
		[EVENT_ID] = { .path = { "header", "event_id" } },
		[EVENT_TYPE] = { .path = { "header", "event_type" } },
		[HTIME] = { .path = { "header", "create_time" } },
		[MSG] = { .path = { "event", "message" } },
		[SENDER] = { .path = { "event", "sender" } },
		[MSG_ID] = { .path = { "event", "message", "message_id" } },
		[CHAT] = { .path = { "event", "message", "chat_id" } },
		[CHAT_TYPE] = { .path = { "event", "message", "chat_type" } },
		[MSG_TYPE] = { .path = { "event", "message", "message_type" } },
		[OPEN_ID] = { .path = { "event", "sender", "sender_id", "open_id" } },
		[MTIME] = { .path = { "event", "message", "create_time" } },
		[MENTIONS] = { .path = { "event", "message", "mentions" } },
		[CONTENT] = { .path = { "event", "message", "content" } },
	};
	enum jscan_type root;
	enum jscan_rc src = jscan(payload, len, &root, f, N);
	if (src != JSCAN_OK)
		return -1; /* jansson decides, and words the error */
	/* Only chat messages are read here: other events keep jansson values. */
	if (root != JV_OBJECT || f[HEADER].type != JV_OBJECT || f[EVENT].type != JV_OBJECT ||
	    !jscan_string_is(&f[EVENT_TYPE], "im.message.receive_v1") || f[EVENT_ID].type != JV_STRING)
		return -1;
	*rc = EVENT_PARSE_BADSHAPE;
	ev->event_id = scan_str(&f[EVENT_ID]);
	ev->event_type = xstrdup("im.message.receive_v1");
	char *t = scan_str(&f[HTIME]);
	ev->create_time = t ? parse_time_text(t) : 0;
	free(t);
	ev->dedupe_key = xasprintf("evt:%s", ev->event_id);
	if (f[MSG].type != JV_OBJECT || f[SENDER].type != JV_OBJECT) {
		snprintf(why, whysz, "im.message.receive_v1 without message or sender");
		return 0;
	}
	ev->kind = EVENT_MESSAGE;
	ev->message_id = scan_str(&f[MSG_ID]);
	ev->chat_id = scan_str(&f[CHAT]);
	ev->chat_type = scan_str(&f[CHAT_TYPE]);
	ev->message_type = scan_str(&f[MSG_TYPE]);
	ev->user_id = scan_str(&f[OPEN_ID]);
	if (!ev->message_id || !ev->chat_id || !ev->user_id || !ev->message_type) {
		snprintf(why, whysz, "message without message_id, chat_id, sender open_id or message_type");
		return 0;
	}
	t = scan_str(&f[MTIME]);
	ms_t mt = t ? parse_time_text(t) : 0;
	free(t);
	if (mt)
		ev->create_time = mt;
	if (f[MENTIONS].type == JV_ARRAY) {
		enum { KEY, ID, NAME, MN };
		struct jscan_iter it;
		jscan_iter_init(&it, &f[MENTIONS]);
		ev->mentions = xcalloc(MAX_MENTIONS, sizeof *ev->mentions);
		struct jscan_field m[MN];
		enum jscan_type type;
		for (size_t i = 0; i < MAX_MENTIONS; i++) {
			memset(m, 0, sizeof m);
			m[KEY].path[0] = "key";
			m[ID].path[0] = "id";
			m[ID].path[1] = "open_id";
			m[NAME].path[0] = "name";
			if (!jscan_iter_next(&it, &type, m, MN))
				break;
			if (m[KEY].type != JV_STRING || m[ID].type != JV_STRING)
				continue;
			struct mention *dst = &ev->mentions[ev->nmentions++];
			dst->key = scan_str(&m[KEY]);
			dst->id = scan_str(&m[ID]);
			dst->name = scan_str(&m[NAME]);
			if (bot_id && !strcmp(dst->id, bot_id))
				ev->mentions_bot = 1;
		}
	}
	if (!strcmp(ev->message_type, "text")) {
		if (f[CONTENT].type != JV_STRING) {
			snprintf(why, whysz, "text message whose content is not a string");
			return 0;
		}
		size_t clen;
		char *content = jscan_string_new(&f[CONTENT], &clen);
		char *raw = content_text(content, clen);
		free(content);
		if (!raw) {
			snprintf(why, whysz, "text message content without text");
			return 0;
		}
		if (strlen(raw) > MAX_TEXT_BYTES) {
			/* Cut on a character boundary. */
			size_t n = MAX_TEXT_BYTES;
			while (n > 0 && ((unsigned char)raw[n] & 0xC0) == 0x80)
				n--;
			raw[n] = '\0';
		}
		ev->text = resolve_mentions(raw, ev);
		free(raw);
	}
	free(ev->dedupe_key);
	ev->dedupe_key = xasprintf("msg:%s", ev->message_id);
	*rc = EVENT_PARSE_OK;
	return 0;
}

enum event_parse_rc feishu_event_parse(const char *payload, size_t len, const char *bot_id,
				       struct event *ev, char *why, size_t whysz)
{
	memset(ev, 0, sizeof *ev);
	ev->platform = "feishu";
	enum event_parse_rc src;
	if (!message_by_scan(payload, len, bot_id, ev, why, whysz, &src)) {
		if (src != EVENT_PARSE_OK)
			event_free(ev);
		return src;
	}
	event_free(ev); /* nothing kept: jansson reads it from the start */
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
