/*
 * test_dingtalk_card.c - the generic DingTalk card: its parameters, the 1 KB
 * split, and clicks parsed back into actions or typed commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/dingtalk_card.h"
#include "collabd/event.h"
#include "collabd/util.h"

static const char *param(json_t *params, const char *key)
{
	return json_string_value(json_object_get(params, key));
}

static int utf8_whole(const char *s)
{
	size_t n = strlen(s);
	return n == 0 || ((unsigned char)s[0] & 0xC0) != 0x80;
}

static void test_card_names_buttons_and_one_field_form(void **state)
{
	(void)state;
	const char *body = "{\"title\":\"问题 P01\",\"mentions\":[{\"id\":\"staff_fin\",\"name\":\"财务\"},{\"id\":\"staff_x\"}],"
			   "\"lead\":\"请处理\",\"buttons\":[{\"label\":\"响应\",\"style\":\"primary\",\"value\":{\"action\":\"issue.ack\","
			   "\"id\":\"P01\"}},{\"label\":\"看板\",\"command\":\"/看板 P01\"}],\"form\":{\"name\":\"r\",\"inputs\":[{\"name\":"
			   "\"result\",\"label\":\"解决结果\",\"kind\":\"text\",\"required\":true}],\"submit\":{\"label\":\"关闭\",\"value\":"
			   "{\"action\":\"issue.resolve\",\"id\":\"P01\"}},\"command\":\"/问题 解决 P01\\n解决结果：…\"}}";
	json_t *params, *at;
	assert_int_equal(render_dingtalk_template("card", body, &params, &at), 0);
	assert_string_equal(param(params, "title"), "问题 P01");
	const char *content = param(params, "content");
	assert_non_null(strstr(content, "@财务"));
	assert_null(strstr(content, "staff_")); /* never the raw ids, not even without a name */
	assert_null(strstr(content, "问题 P01")); /* the title is the header, not repeated */
	assert_string_equal(json_string_value(json_object_get(at, "staff_fin")), "财务");
	assert_non_null(json_object_get(at, "staff_x"));
	json_t *buttons = json_loads(param(params, "buttons"), 0, NULL);
	assert_int_equal(json_array_size(buttons), 2);
	json_t *v0 = json_loads(json_string_value(json_object_get(json_array_get(buttons, 0), "value")), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(v0, "action")), "issue.ack");
	json_t *v1 = json_loads(json_string_value(json_object_get(json_array_get(buttons, 1), "value")), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(v1, "typed")), "/看板 P01");
	assert_string_equal(param(params, "has_input"), "true");
	json_t *iv = json_loads(param(params, "input_value"), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(iv, "action")), "issue.resolve");
	assert_string_equal(json_string_value(json_object_get(iv, "_input")), "result");
	json_decref(iv);
	json_decref(v0);
	json_decref(v1);
	json_decref(buttons);
	json_decref(params);
	json_decref(at);
}

static void test_longer_form_is_typed_in_the_input(void **state)
{
	(void)state;
	const char *body = "{\"title\":\"进度\",\"form\":{\"inputs\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"submit\":{\"label\":\"提交\","
			   "\"value\":{\"action\":\"progress.submit\"}},\"command\":\"/进度 R1\\n已完成任务：\\n下一步计划：\"}}";
	json_t *params, *at;
	assert_int_equal(render_dingtalk_template("card", body, &params, &at), 0);
	assert_string_equal(param(params, "input_default"), "已完成任务：\n下一步计划：");
	assert_string_equal(param(params, "input_value"), "{\"typed\":\"/进度 R1\"}");
	assert_string_equal(param(params, "has_buttons"), "false");
	json_decref(params);
	json_decref(at);
}

/* A body longer than one parameter holds is split at lines, whole characters
 * only; past four parts it is cut with a note. */
static void test_long_body_is_split_in_one_kb_parts(void **state)
{
	(void)state;
	struct buf lead;
	buf_init(&lead);
	for (int i = 0; i < 600; i++)
		buf_append_str(&lead, i % 40 == 39 ? "段\n" : "段");
	json_t *b = json_pack("{s:s,s:s}", "title", "长", "lead", (const char *)lead.data);
	char *body = json_dumps(b, 0);
	json_t *params, *at;
	assert_int_equal(render_dingtalk_template("card", body, &params, &at), 0);
	static const char *const keys[] = { "content", "content_2", "content_3", "content_4" };
	size_t total = 0;
	for (size_t i = 0; i < 4; i++) {
		const char *part = param(params, keys[i]);
		assert_true(strlen(part) <= DINGTALK_CARD_VALUE_MAX);
		assert_true(utf8_whole(part));
		total += strlen(part);
	}
	assert_true(strlen(param(params, "content_2")) > 0);
	assert_true(total >= 1800 - 80); /* nothing lost but the newlines at the cuts */
	json_decref(params);
	json_decref(at);
	free(body);
	json_decref(b);
	for (int i = 0; i < 4000; i++)
		buf_append_str(&lead, "长");
	b = json_pack("{s:s,s:s}", "title", "长", "lead", (const char *)lead.data);
	body = json_dumps(b, 0);
	assert_int_equal(render_dingtalk_template("card", body, &params, &at), 0);
	assert_true(strlen(param(params, "content_4")) <= DINGTALK_CARD_VALUE_MAX);
	assert_non_null(strstr(param(params, "content_4"), "看板"));
	json_decref(params);
	json_decref(at);
	free(body);
	json_decref(b);
	buf_free(&lead);
}

static void test_text_without_mentions_is_no_card(void **state)
{
	(void)state;
	json_t *params, *at;
	assert_int_equal(render_dingtalk_template("text", "{\"text\":\"hi\"}", &params, &at), -1);
	assert_null(params);
	assert_int_equal(render_dingtalk_template("text", "{\"text\":\"hi\",\"mentions\":[{\"id\":\"u\",\"name\":\"名\"}]}",
						  &params, &at), 0);
	assert_non_null(strstr(param(params, "content"), "@名"));
	json_decref(params);
	json_decref(at);
}

/* After a decision the card shows it -- what, who, when -- without buttons or input. */
static void test_outcome_closes_the_card(void **state)
{
	(void)state;
	json_t *params, *at;
	assert_int_equal(render_dingtalk_template("request_approval",
						  "{\"id\":\"R1\",\"version\":1,\"name\":\"发布会\",\"outcome\":{\"label\":"
						  "\"已驳回\",\"by\":\"主管\",\"at\":1796520000000,\"detail\":\"预算不足\"}}",
						  &params, &at),
			 0);
	const char *content = param(params, "content");
	assert_non_null(strstr(content, "**处理结果**：已驳回 · 主管 · "));
	assert_non_null(strstr(content, "预算不足"));
	assert_string_equal(param(params, "has_buttons"), "false");
	assert_string_equal(param(params, "has_input"), "false");
	json_decref(params);
	json_decref(at);
	assert_int_equal(render_dingtalk_template("request_card",
						  "{\"id\":\"R1\",\"state\":\"执行中\",\"open\":true,\"outcome\":{\"label\":"
						  "\"已确认\",\"by\":\"市场\"}}",
						  &params, &at),
			 0);
	assert_non_null(strstr(param(params, "content"), "已确认 · 市场"));
	assert_string_equal(param(params, "has_buttons"), "false");
	json_decref(params);
	json_decref(at);
}

static enum event_parse_rc parse_click(const char *params_json, struct event *ev)
{
	json_t *content = json_pack("{s:{s:[s],s:o}}", "cardPrivateData", "actionIds", "x", "params",
				    json_loads(params_json, 0, NULL));
	char *ctext = json_dumps(content, JSON_COMPACT);
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "actionCallback", "outTrackId", "otid", "userId",
				"staff_a", "spaceId", "cid_1", "content", ctext);
	char *data = json_dumps(doc, JSON_COMPACT);
	char why[200];
	enum event_parse_rc rc = dingtalk_card_event_parse(data, strlen(data), "frame-1", ev, why, sizeof why);
	free(data);
	json_decref(doc);
	free(ctext);
	json_decref(content);
	return rc;
}

static void test_clicks_parse_into_actions_and_typed_commands(void **state)
{
	(void)state;
	struct event ev;
	assert_int_equal(parse_click("{\"value\":\"{\\\"action\\\":\\\"req.reject\\\",\\\"id\\\":\\\"R1\\\","
				     "\\\"_input\\\":\\\"reason\\\"}\",\"input\":\"预算不足\"}", &ev), EVENT_PARSE_OK);
	assert_int_equal(ev.kind, EVENT_CARD_ACTION);
	assert_string_equal(json_string_value(json_object_get(ev.action_value, "action")), "req.reject");
	assert_null(json_object_get(ev.action_value, "_input"));
	assert_string_equal(json_string_value(json_object_get(ev.form_value, "reason")), "预算不足");
	event_free(&ev);

	assert_int_equal(parse_click("{\"value\":\"{\\\"typed\\\":\\\"/进度 R1\\\"}\",\"input\":\"已完成任务：场地\\n\"}", &ev),
			 EVENT_PARSE_OK);
	assert_int_equal(ev.kind, EVENT_MESSAGE);
	assert_string_equal(ev.text, "/进度 R1\n已完成任务：场地");
	assert_string_equal(ev.chat_id, "cid_1");
	assert_string_equal(ev.user_id, "staff_a");
	assert_string_equal(ev.dedupe_key, "evt:frame-1");
	event_free(&ev);

	/* A per-kind template's params are the action value itself. */
	assert_int_equal(parse_click("{\"action\":\"status.refresh\"}", &ev), EVENT_PARSE_OK);
	assert_string_equal(json_string_value(json_object_get(ev.action_value, "action")), "status.refresh");
	assert_null(ev.form_value);
	event_free(&ev);
}

static void test_template_file_declares_every_parameter(void **state)
{
	(void)state;
	json_t *file = dingtalk_card_template_new();
	json_t *editor = json_loads(json_string_value(json_object_get(file, "editorData")), 0, NULL);
	assert_non_null(editor);
	json_t *params, *at;
	assert_int_equal(render_dingtalk_template("status", "{\"version\":\"1\",\"at\":0}", &params, &at), 0);
	size_t i;
	json_t *v;
	size_t declared = 0;
	json_array_foreach(json_object_get(editor, "variableList"), i, v) {
		assert_non_null(json_object_get(params, json_string_value(json_object_get(v, "name"))));
		declared++;
	}
	assert_int_equal(declared, json_object_size(params));
	json_decref(params);
	json_decref(at);
	json_decref(editor);
	json_decref(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_card_names_buttons_and_one_field_form),
		cmocka_unit_test(test_longer_form_is_typed_in_the_input),
		cmocka_unit_test(test_long_body_is_split_in_one_kb_parts),
		cmocka_unit_test(test_text_without_mentions_is_no_card),
		cmocka_unit_test(test_outcome_closes_the_card),
		cmocka_unit_test(test_clicks_parse_into_actions_and_typed_commands),
		cmocka_unit_test(test_template_file_declares_every_parameter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
