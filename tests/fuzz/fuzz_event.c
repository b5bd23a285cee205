/*
 * fuzz_event.c - libFuzzer target for the Feishu event parser.
 *
 * feishu_event_parse() reads the JSON payload of every event frame the
 * platform (or anyone able to reach the long connection) sends.  The input is
 * passed as is (with its length; it need not be NUL-terminated) with the bot
 * id "ou_bot", so mentions of the bot are recognised.  A parsed event is
 * walked and freed, so leaks and use-after-free show up under ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/event.h"
#include "collabd/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every string so ASan sees a read of each one. */
static size_t touch(const char *s) { return s ? strlen(s) : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev;
	char why[256];
	enum event_parse_rc rc = feishu_event_parse((const char *)data, size, "ou_bot", &ev, why, sizeof why);
	if (rc != EVENT_PARSE_OK) {
		if (memchr(why, '\0', sizeof why) == NULL)
			abort(); /* why must always be a terminated string */
		return 0;
	}
	volatile size_t n = touch(ev.event_id) + touch(ev.event_type) + touch(ev.dedupe_key) +
			    touch(ev.chat_id) + touch(ev.chat_type) + touch(ev.user_id) +
			    touch(ev.message_id) + touch(ev.message_type);
	if (ev.text)
		n += (size_t)utf8_count(ev.text);
	for (size_t i = 0; i < ev.nmentions; i++)
		n += touch(ev.mentions[i].key) + touch(ev.mentions[i].id) + touch(ev.mentions[i].name);
	(void)n;
	event_free(&ev);
	return 0;
}
