/*
 * test_render.c - Feishu rendering and parsing: render_feishu() for text
 * notices (mentions, escaping of user text) and the status card (JSON 2.0,
 * callback button); feishu_event_parse() for messages, card actions and other
 * events, including hostile shapes; utf8_count() and log_redact_url().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/event.h"
#include "collabd/log.h"
#include "collabd/render.h"
#include "collabd/util.h"

static int count_substr(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- render_feishu ---- */

static void test_render_text(void **state)
{
	(void)state;
	struct feishu_message m;
	const char *body = "{\"text\":\"hi <at user_id=\\\"all\\\">x</at> **bold** a>b\","
			   "\"mentions\":[{\"id\":\"ou_x\",\"name\":\"Name\"},{\"name\":\"no id\"},"
			   "{\"id\":\"ou_y\",\"name\":\"<b>Evil*\"}]}";
	assert_int_equal(render_feishu("text", body, &m), 0);
	assert_string_equal(m.msg_type, "text");
	json_t *content = json_loads(m.content, 0, NULL); /* content is itself JSON */
	assert_non_null(content);
	const char *text = json_string_value(json_object_get(content, "text"));
	assert_non_null(text);
	assert_string_equal(text,
			    "<at user_id=\"ou_x\">Name</at> "
			    "<at user_id=\"ou_y\">＜b＞Evil＊</at> "
			    "hi ＜at user_id=\"all\"＞x＜/at＞ ＊＊bold＊＊ a＞b");
	assert_int_equal(count_substr(text, "<at"), 2); /* only the two real mentions */
	assert_int_equal(count_substr(text, "*"), 0);
	json_decref(content);
	feishu_message_free(&m);
	assert_null(m.content);

	/* no mentions: just the escaped text */
	assert_int_equal(render_feishu("text", "{\"text\":\"<at id=all></at>\"}", &m), 0);
	content = json_loads(m.content, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(content, "text")), "＜at id=all＞＜/at＞");
	json_decref(content);
	feishu_message_free(&m);

	char *e = render_escape("a<b>c*d 你好");
	assert_string_equal(e, "a＜b＞c＊d 你好");
	free(e);
}

static json_t *find_button(json_t *card)
{
	size_t i;
	json_t *el;
	json_array_foreach(json_object_get(json_object_get(card, "body"), "elements"), i, el)
		if (!strcmp(json_string_value(json_object_get(el, "tag")) ?: "", "button"))
			return el;
	return NULL;
}

static void test_render_status(void **state)
{
	(void)state;
	struct feishu_message m;
	const char *body = "{\"version\":\"9.8.7\",\"started_at\":1700000000000,\"feishu_connected\":true,"
			   "\"outbox_pending\":3,\"events_applied\":42,\"at\":1700000060000}";
	assert_int_equal(render_feishu("status", body, &m), 0);
	assert_string_equal(m.msg_type, "interactive");
	json_t *card = json_loads(m.content, 0, NULL);
	assert_non_null(card);
	assert_string_equal(json_string_value(json_object_get(card, "schema")), "2.0");
	assert_true(json_is_true(json_object_get(json_object_get(card, "config"), "update_multi")));
	json_t *header = json_object_get(card, "header");
	assert_string_equal(json_string_value(json_object_get(header, "template")), "green");
	assert_non_null(json_string_value(json_object_get(json_object_get(header, "title"), "content")));
	json_t *md = json_array_get(json_object_get(json_object_get(card, "body"), "elements"), 0);
	assert_string_equal(json_string_value(json_object_get(md, "tag")), "markdown");
	const char *mdtext = json_string_value(json_object_get(md, "content"));
	assert_non_null(strstr(mdtext, "9.8.7"));
	assert_non_null(strstr(mdtext, "已连接"));
	assert_non_null(strstr(mdtext, "3 条"));
	assert_non_null(strstr(mdtext, "42 个"));
	json_t *button = find_button(card);
	assert_non_null(button);
	json_t *behavior = json_array_get(json_object_get(button, "behaviors"), 0);
	assert_string_equal(json_string_value(json_object_get(behavior, "type")), "callback");
	assert_string_equal(json_string_value(json_object_get(json_object_get(behavior, "value"), "action")),
			    "status.refresh");
	json_decref(card);
	feishu_message_free(&m);

	/* disconnected: a different colour and wording */
	assert_int_equal(render_feishu("status", "{\"version\":\"1\",\"started_at\":0,\"at\":0}", &m), 0);
	card = json_loads(m.content, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(card, "header"), "template")), "orange");
	json_decref(card);
	feishu_message_free(&m);
}

static void test_render_errors(void **state)
{
	(void)state;
	struct feishu_message m;
	assert_int_equal(render_feishu("nope", "{\"text\":\"x\"}", &m), -1);
	assert_null(m.content);
	assert_int_equal(render_feishu("text", "{not json", &m), -1);
	assert_null(m.content);
	assert_int_equal(render_feishu("text", "{\"text\":5}", &m), -1);
	assert_int_equal(render_feishu("text", "[]", &m), -1);
	assert_int_equal(render_feishu("status", "{\"version\":\"1\",\"started_at\":\"0\",\"at\":0}", &m), -1);
	assert_int_equal(render_feishu("status", "{\"started_at\":0,\"at\":0}", &m), -1);
	assert_null(m.content);
}

/* ---- feishu_event_parse ---- */

/* An im.message.receive_v1 document shaped like tests/sim/sim_events.py's. */
static char *message_doc(const char *chat_type, const char *message_type, json_t *content,
			 json_t *mentions, const char *create_time)
{
	char *content_text = json_dumps(content, JSON_COMPACT);
	json_t *msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
				"message_id", "om_abc123", "root_id", "", "parent_id", "",
				"create_time", create_time, "update_time", create_time,
				"chat_id", "oc_chat9", "thread_id", "", "chat_type", chat_type,
				"message_type", message_type, "content", content_text);
	if (mentions)
		json_object_set(msg, "mentions", mentions);
	json_t *doc = json_pack(
		"{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s},s:{s:{s:{s:s,s:s,s:s},s:s,s:s},s:o}}",
		"schema", "2.0",
		"header", "event_id", "ev_0001", "event_type", "im.message.receive_v1",
		"create_time", create_time, "token", "v_tok", "app_id", "cli_a", "tenant_key", "tk",
		"event", "sender", "sender_id", "union_id", "on_1", "user_id", "u1", "open_id", "ou_sender",
		"sender_type", "user", "tenant_key", "tk", "message", msg);
	char *out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	free(content_text);
	return out;
}

static json_t *mention(const char *key, const char *open_id, const char *name)
{
	return json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s}", "key", key, "id", "union_id", "on_x",
			 "user_id", "ux", "open_id", open_id, "name", name, "tenant_key", "tk");
}

static enum event_parse_rc parse(const char *doc, const char *bot_id, struct event *ev)
{
	char why[256] = "";
	enum event_parse_rc rc = feishu_event_parse(doc, strlen(doc), bot_id, ev, why, sizeof why);
	if (rc != EVENT_PARSE_OK)
		assert_true(why[0] != '\0'); /* every refusal says why */
	return rc;
}

static void test_parse_message(void **state)
{
	(void)state;
	/* @_user_12 listed before @_user_1: the longest key must win, not the last */
	json_t *mentions = json_pack("[o,o,o]", mention("@_user_12", "ou_12", "小红"),
				     mention("@_user_1", "ou_bot", "collabd"), mention("@_user_2", "ou_2", "小明"));
	json_t *content = json_pack("{s:s}", "text", "@_user_1 /帮助 @_user_12 和 @_user_2");
	char *doc = message_doc("group", "text", content, mentions, "1700000000123");
	struct event ev;
	assert_int_equal(parse(doc, "ou_bot", &ev), EVENT_PARSE_OK);
	assert_int_equal(ev.kind, EVENT_MESSAGE);
	assert_string_equal(ev.platform, "feishu");
	assert_string_equal(ev.event_id, "ev_0001");
	assert_string_equal(ev.event_type, "im.message.receive_v1");
	assert_string_equal(ev.dedupe_key, "msg:om_abc123");
	assert_string_equal(ev.message_id, "om_abc123");
	assert_string_equal(ev.chat_id, "oc_chat9");
	assert_string_equal(ev.chat_type, "group");
	assert_string_equal(ev.user_id, "ou_sender");
	assert_string_equal(ev.message_type, "text");
	assert_string_equal(ev.text, "@collabd /帮助 @小红 和 @小明"); /* not "@collabd2" */
	assert_int_equal(ev.mentions_bot, 1);
	assert_int_equal(ev.nmentions, 3);
	assert_string_equal(ev.mentions[0].key, "@_user_12");
	assert_string_equal(ev.mentions[0].id, "ou_12");
	assert_string_equal(ev.mentions[0].name, "小红");
	assert_int_equal(ev.create_time, 1700000000123);
	event_free(&ev);
	assert_null(ev.text);

	/* the same document without our bot id: no mention of the bot */
	assert_int_equal(parse(doc, "ou_other", &ev), EVENT_PARSE_OK);
	assert_int_equal(ev.mentions_bot, 0);
	event_free(&ev);
	assert_int_equal(parse(doc, NULL, &ev), EVENT_PARSE_OK);
	assert_int_equal(ev.mentions_bot, 0);
	event_free(&ev);
	free(doc);
	json_decref(content);
	json_decref(mentions);

	/* not a text message: no text, still a message */
	content = json_pack("{s:s}", "image_key", "img_1");
	doc = message_doc("p2p", "image", content, NULL, "1700000000123");
	assert_int_equal(parse(doc, "ou_bot", &ev), EVENT_PARSE_OK);
	assert_int_equal(ev.kind, EVENT_MESSAGE);
	assert_null(ev.text);
	assert_string_equal(ev.message_type, "image");
	assert_string_equal(ev.chat_type, "p2p");
	event_free(&ev);
	free(doc);
	json_decref(content);
}

static void test_parse_long_text_cut(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 30000; i++)
		buf_append_str(&b, "字");
	json_t *content = json_pack("{s:s}", "text", (const char *)b.data);
	buf_free(&b);
	char *doc = message_doc("group", "text", content, NULL, "1700000000123");
	struct event ev;
	assert_int_equal(parse(doc, NULL, &ev), EVENT_PARSE_OK);
	assert_true(strlen(ev.text) <= 64 * 1024);
	assert_int_equal(utf8_count(ev.text), 65536 / 3); /* cut on a character boundary */
	event_free(&ev);
	free(doc);
	json_decref(content);
}

static void test_parse_card_action(void **state)
{
	(void)state;
	const char *doc =
		"{\"schema\":\"2.0\",\"header\":{\"event_id\":\"ev_card1\",\"event_type\":\"card.action.trigger\","
		"\"create_time\":\"1700000000123456\",\"token\":\"t\",\"app_id\":\"cli_a\",\"tenant_key\":\"tk\"},"
		"\"event\":{\"operator\":{\"union_id\":\"on_1\",\"user_id\":\"u1\",\"open_id\":\"ou_clicker\",\"tenant_key\":\"tk\"},"
		"\"token\":\"c-1\",\"action\":{\"value\":{\"action\":\"status.refresh\"},\"tag\":\"button\","
		"\"form_value\":{\"name\":\"x\"}},\"host\":\"im_message\","
		"\"context\":{\"open_message_id\":\"om_card7\",\"open_chat_id\":\"oc_chat9\"}}}";
	struct event ev;
	assert_int_equal(parse(doc, "ou_bot", &ev), EVENT_PARSE_OK);
	assert_int_equal(ev.kind, EVENT_CARD_ACTION);
	assert_string_equal(ev.dedupe_key, "evt:ev_card1");
	assert_string_equal(ev.user_id, "ou_clicker");
	assert_string_equal(ev.chat_id, "oc_chat9");
	assert_string_equal(ev.card_message_id, "om_card7");
	assert_string_equal(json_string_value(json_object_get(ev.action_value, "action")), "status.refresh");
	assert_string_equal(json_string_value(json_object_get(ev.form_value, "name")), "x");
	assert_int_equal(ev.create_time, 1700000000123); /* microseconds normalised to ms */
	assert_null(ev.text);
	event_free(&ev);
}

static void test_parse_other_and_bad(void **state)
{
	(void)state;
	struct event ev;
	assert_int_equal(parse("{\"schema\":\"2.0\",\"header\":{\"event_id\":\"e77\",\"event_type\":"
			       "\"im.chat.member.bot.added_v1\",\"create_time\":\"1700000000000\"},\"event\":{}}",
			       NULL, &ev), EVENT_PARSE_OK);
	assert_int_equal(ev.kind, EVENT_OTHER);
	assert_string_equal(ev.dedupe_key, "evt:e77");
	assert_string_equal(ev.event_type, "im.chat.member.bot.added_v1");
	assert_int_equal(ev.create_time, 1700000000000);
	event_free(&ev);

	assert_int_equal(parse("not json at all", NULL, &ev), EVENT_PARSE_BADJSON);
	assert_int_equal(parse("{\"header\":", NULL, &ev), EVENT_PARSE_BADJSON);
	assert_int_equal(parse("\"a bare string\"", NULL, &ev), EVENT_PARSE_BADJSON);
	assert_int_equal(feishu_event_parse("{}", 1, NULL, &ev, (char[64]){ 0 }, 64), EVENT_PARSE_BADJSON);

	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"header\":{\"event_id\":\"e\",\"event_type\":\"x\"}}",
		"{\"header\":[],\"event\":{}}",
		"{\"header\":{\"event_type\":\"x\"},\"event\":{}}",
		"{\"header\":{\"event_id\":5,\"event_type\":\"x\"},\"event\":{}}",
		"{\"header\":{\"event_id\":\"e\",\"event_type\":\"im.message.receive_v1\"},\"event\":{}}",
		"{\"header\":{\"event_id\":\"e\",\"event_type\":\"im.message.receive_v1\"},\"event\":"
		"{\"sender\":{\"sender_id\":{\"open_id\":\"ou\"}},\"message\":{\"message_id\":\"om\",\"chat_id\":\"oc\"}}}",
		"{\"header\":{\"event_id\":\"e\",\"event_type\":\"im.message.receive_v1\"},\"event\":"
		"{\"sender\":{\"sender_id\":{\"open_id\":\"ou\"}},\"message\":{\"message_id\":\"om\",\"chat_id\":\"oc\","
		"\"message_type\":\"text\",\"content\":{\"text\":\"x\"}}}}",
		"{\"header\":{\"event_id\":\"e\",\"event_type\":\"im.message.receive_v1\"},\"event\":"
		"{\"sender\":{\"sender_id\":{\"open_id\":\"ou\"}},\"message\":{\"message_id\":\"om\",\"chat_id\":\"oc\","
		"\"message_type\":\"text\",\"content\":\"not json\",\"mentions\":[{\"key\":\"@_user_1\",\"id\":{\"open_id\":\"ou\"}}]}}}",
		"{\"header\":{\"event_id\":\"e\",\"event_type\":\"card.action.trigger\"},\"event\":{\"action\":{}}}",
		"{\"header\":{\"event_id\":\"e\",\"event_type\":\"card.action.trigger\"},\"event\":{\"operator\":{\"open_id\":\"ou\"}}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&ev, 0x5a, sizeof ev);
		assert_int_equal(parse(bad[i], "ou_bot", &ev), EVENT_PARSE_BADSHAPE);
		assert_null(ev.event_id); /* nothing is left to free */
		assert_null(ev.mentions);
		assert_null(ev.action_value);
	}
}

/* ---- utf8_count, log_redact_url ---- */

static void test_utf8_count(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 200; i++)
		buf_append_str(&b, "中");
	assert_int_equal(b.len, 600);
	assert_int_equal(utf8_count((const char *)b.data), 200);
	buf_free(&b);
	assert_int_equal(utf8_count(""), 0);
	assert_int_equal(utf8_count("abc"), 3);
	assert_int_equal(utf8_count("a😀é"), 3);
	assert_int_equal(utf8_count("\xff"), -1);
	assert_int_equal(utf8_count("ok\xe4\xbd"), -1);         /* cut in the middle */
	assert_int_equal(utf8_count("\xc0\xaf"), -1);           /* overlong '/' */
	assert_int_equal(utf8_count("\xed\xa0\x80"), -1);       /* surrogate */
	assert_int_equal(utf8_count("\xf4\x90\x80\x80"), -1);   /* beyond U+10FFFF */
	assert_int_equal(utf8_count("\x80"), -1);               /* lone continuation */
	assert_true(utf8_valid("\xe4\xbd\xa0", 3));
	assert_false(utf8_valid("\xe4\xbd\xa0", 2));
}

static void test_redact_url(void **state)
{
	(void)state;
	char out[256];
	assert_string_equal(
		log_redact_url("wss://msg-frontier.feishu.cn/ws/v2?fpid=493&aid=552564&device_id=7&"
			       "access_key=abc123&service_id=33554678&ticket=t-9f8e7d", out, sizeof out),
		"wss://msg-frontier.feishu.cn/ws/v2?fpid=493&aid=552564&device_id=7&"
		"access_key=***&service_id=33554678&ticket=***");
	log_redact_url("https://h/p?Token=a&secret=b&app_secret=c&my_access_key=d&x=e", out, sizeof out);
	assert_string_equal(out, "https://h/p?Token=***&secret=***&app_secret=***&my_access_key=d&x=e");
	log_redact_url("https://h/p?ticket=&ticket&a=1", out, sizeof out);
	assert_string_equal(out, "https://h/p?ticket=***&ticket&a=1");
	log_redact_url("https://h/no-query", out, sizeof out);
	assert_string_equal(out, "https://h/no-query");

	/* a small buffer truncates but stays terminated and never leaks a secret */
	char small[24];
	log_redact_url("wss://h/ws?access_key=SECRETSECRETSECRET", small, sizeof small);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_null(strstr(small, "SECRET"));
	char *exact = malloc(5); /* ASan: no write past the end */
	assert_non_null(exact);
	log_redact_url("https://h?ticket=x", exact, 5);
	assert_string_equal(exact, "http");
	free(exact);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_render_status),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_parse_message),
		cmocka_unit_test(test_parse_long_text_cut),
		cmocka_unit_test(test_parse_card_action),
		cmocka_unit_test(test_parse_other_and_bad),
		cmocka_unit_test(test_utf8_count),
		cmocka_unit_test(test_redact_url),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
