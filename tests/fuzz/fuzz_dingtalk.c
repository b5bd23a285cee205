/*
 * fuzz_dingtalk.c - libFuzzer target for the DingTalk event parsers.
 *
 * dingtalk_event_parse() and dingtalk_card_event_parse() read the `data` of
 * every robot-message and card-callback frame the Stream gateway (or anyone
 * able to reach the connection) sends.  Each input goes through both, with
 * and without a frame id, as is (with its length; it need not be
 * NUL-terminated).  A parsed event must hold what the engine relies on
 * (checked below, abort() otherwise); every string is read and the event
 * freed, so leaks and use-after-free show up under ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/event.h"
#include "collabd/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef enum event_parse_rc (*parse_fn)(const char *data, size_t len, const char *frame_id, struct event *ev,
					char *why, size_t whysz);

/* Touches every byte of s so ASan sees a read of each one. */
static size_t touch(const char *s) { return s ? strlen(s) : 0; }

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void check_message(const struct event *ev)
{
	if (ev->kind != EVENT_MESSAGE || !ev->chat_id || !ev->user_id || !ev->message_id || !ev->message_type ||
	    !ev->event_id || !ev->chat_type || !ev->dedupe_key || strncmp(ev->dedupe_key, "msg:", 4))
		abort();
	if (strcmp(ev->chat_type, "group") && strcmp(ev->chat_type, "p2p"))
		abort();
	if (!strcmp(ev->message_type, "text")) {
		/* The commands see the text without the blanks around it, as
		 * valid UTF-8 of at most 64 KiB. */
		size_t n = touch(ev->text);
		if (!ev->text || n > 64 * 1024 || !utf8_valid(ev->text, n))
			abort();
		if (n && (blank(ev->text[0]) || blank(ev->text[n - 1])))
			abort();
	} else if (ev->text) {
		abort();
	}
}

static void check_card(const struct event *ev)
{
	if (!ev->user_id || !ev->card_message_id || !ev->event_id || !*ev->event_id || !ev->dedupe_key ||
	    strncmp(ev->dedupe_key, "evt:", 4))
		abort();
	if (ev->kind == EVENT_MESSAGE) {
		/* A form typed in the generic card's input: the clicker's
		 * command in that group, as a message would carry it. */
		size_t n = touch(ev->text);
		if (!ev->chat_id || !ev->message_id || !ev->chat_type || !ev->message_type ||
		    strcmp(ev->message_type, "text") || !ev->text || ev->text[0] != '/' || n > 64 * 1024 ||
		    !utf8_valid(ev->text, n) || ev->action_value || ev->form_value)
			abort();
		return;
	}
	if (ev->kind != EVENT_CARD_ACTION)
		abort();
	if (ev->action_value && !json_is_object(ev->action_value))
		abort();
	if (ev->form_value && !json_is_object(ev->form_value))
		abort();
}

static void run(parse_fn parse, void (*check)(const struct event *), const uint8_t *data, size_t size,
		const char *frame_id)
{
	struct event ev;
	char why[256];
	why[0] = '\0';
	enum event_parse_rc rc = parse((const char *)data, size, frame_id, &ev, why, sizeof why);
	if (rc != EVENT_PARSE_OK) {
		/* why is always a terminated, non-empty sentence, and nothing is held. */
		if (!memchr(why, '\0', sizeof why) || !why[0])
			abort();
		if (ev.event_id || ev.chat_id || ev.user_id || ev.text || ev.action_value)
			abort();
		return;
	}
	if (strcmp(ev.platform, "dingtalk"))
		abort();
	check(&ev);
	volatile size_t n = touch(ev.event_id) + touch(ev.event_type) + touch(ev.dedupe_key) + touch(ev.chat_id) +
			    touch(ev.chat_type) + touch(ev.user_id) + touch(ev.message_id) +
			    touch(ev.message_type) + touch(ev.text) + touch(ev.reply_url) +
			    touch(ev.card_message_id);
	(void)n;
	event_free(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(dingtalk_event_parse, check_message, data, size, "frame-0001");
	run(dingtalk_event_parse, check_message, data, size, NULL);
	run(dingtalk_card_event_parse, check_card, data, size, "frame-0002");
	run(dingtalk_card_event_parse, check_card, data, size, NULL);
	return 0;
}
