/*
 * test_render_card.c - the generic "card" notice on both platforms: layout,
 * mentions only from the list, escaping of every piece of user text, the
 * form's inputs and submit, buttons with their DingTalk commands, the link
 * rule, and refusal of a body without a title.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/render.h"
#include "collabd/util.h"

static const char *BODY =
	"{\"title\":\"问题 <at id=all>\",\"color\":\"red\","
	"\"mentions\":[{\"id\":\"ou_a\",\"name\":\"甲\"},{\"name\":\"no id\"}],"
	"\"lead\":\"说明 **粗** <at id=all></at>\","
	"\"fields\":[{\"label\":\"类型\",\"value\":\"技术\"},{\"label\":\"空\",\"value\":\"\"}],"
	"\"sections\":[{\"heading\":\"部门\",\"lines\":[\"技术部 <b>\",\"市场部\"]}],"
	"\"note\":\"备注\",\"link\":{\"label\":\"看板\",\"url\":\"https://board.example/r/1\"},"
	"\"buttons\":[{\"label\":\"响应\",\"style\":\"primary\",\"value\":{\"action\":\"x.respond\",\"id\":\"P01\"},"
	"\"command\":\"/问题 响应 P01\"}],"
	"\"form\":{\"name\":\"f\",\"inputs\":[{\"name\":\"owner\",\"label\":\"责任人\",\"kind\":\"person\",\"required\":true},"
	"{\"name\":\"when\",\"label\":\"时间\",\"kind\":\"datetime\"},"
	"{\"name\":\"mode\",\"label\":\"方式\",\"kind\":\"select\",\"options\":[{\"value\":\"online\",\"label\":\"线上\"}]},"
	"{\"name\":\"text\",\"label\":\"说明\",\"multiline\":true,\"max\":300}],"
	"\"submit\":{\"label\":\"提交\",\"value\":{\"action\":\"x.submit\"}},\"command\":\"/问题 方案 P01\\n原因：\"}}";

static json_t *element(json_t *elements, const char *tag, int nth)
{
	size_t i;
	json_t *e;
	json_array_foreach(elements, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "tag")), tag) && nth-- == 0)
			return e;
	return NULL;
}

static void test_feishu_card(void **state)
{
	(void)state;
	struct feishu_message m;
	assert_int_equal(render_feishu("card", BODY, &m), 0);
	assert_string_equal(m.msg_type, "interactive");
	json_t *c = json_loads(m.content, 0, NULL);
	assert_non_null(c);
	json_t *header = json_object_get(c, "header");
	assert_string_equal(json_string_value(json_object_get(header, "template")), "red");
	assert_null(strstr(json_string_value(json_object_get(json_object_get(header, "title"), "content")), "<at"));
	json_t *elements = json_object_get(json_object_get(c, "body"), "elements");
	const char *md = json_string_value(json_object_get(element(elements, "markdown", 0), "content"));
	assert_non_null(strstr(md, "<at id=ou_a></at> "));
	assert_null(strstr(md, "<at id=all"));     /* user text cannot mention */
	assert_null(strstr(md, "**粗**"));          /* nor format */
	assert_non_null(strstr(md, "**类型**：技术"));
	assert_non_null(strstr(md, "**空**：—"));
	assert_non_null(strstr(md, "\n- 技术部 ＜b＞"));
	assert_non_null(strstr(md, "[看板](https://board.example/r/1)"));
	json_t *btn = element(elements, "button", 0);
	assert_string_equal(json_string_value(json_object_get(btn, "type")), "primary");
	json_t *value = json_object_get(json_array_get(json_object_get(btn, "behaviors"), 0), "value");
	assert_string_equal(json_string_value(json_object_get(value, "id")), "P01");
	json_t *form = json_object_get(element(elements, "form", 0), "elements");
	assert_string_equal(json_string_value(json_object_get(element(form, "select_person", 0), "name")), "owner");
	assert_non_null(element(form, "picker_datetime", 0));
	assert_non_null(element(form, "select_static", 0));
	json_t *input = element(form, "input", 0);
	assert_string_equal(json_string_value(json_object_get(input, "input_type")), "multiline_text");
	assert_int_equal(json_integer_value(json_object_get(input, "max_length")), 300);
	json_t *submit = element(form, "button", 0);
	assert_string_equal(json_string_value(json_object_get(submit, "form_action_type")), "submit");
	json_decref(c);
	feishu_message_free(&m);
}

static void test_dingtalk_card(void **state)
{
	(void)state;
	struct dingtalk_message m;
	assert_int_equal(render_dingtalk("card", BODY, &m), 0);
	assert_string_equal(m.msgtype, "markdown");
	assert_int_equal(json_array_size(m.at_user_ids), 1);
	assert_string_equal(json_string_value(json_array_get(m.at_user_ids, 0)), "ou_a");
	assert_non_null(strstr(m.text_at, "@ou_a "));
	assert_non_null(strstr(m.text_names, "@甲 "));
	assert_null(strstr(m.text_at, "<at"));
	assert_non_null(strstr(m.text_at, "响应：发送 /问题 响应 P01"));
	/* the form's command keeps its lines (markdown hard breaks) */
	assert_non_null(strstr(m.text_at, "/问题 方案 P01  \n原因："));
	dingtalk_message_free(&m);
}

static void test_bad_bodies(void **state)
{
	(void)state;
	struct feishu_message m;
	struct dingtalk_message dm;
	assert_int_equal(render_feishu("card", "{\"lead\":\"no title\"}", &m), -1);
	assert_int_equal(render_dingtalk("card", "{\"lead\":\"no title\"}", &dm), -1);
	/* a link that is not http(s) or would break out of the markdown is dropped */
	assert_int_equal(render_feishu("card", "{\"title\":\"t\",\"link\":{\"url\":\"javascript:alert(1)\"}}", &m), 0);
	assert_null(strstr(m.content, "javascript"));
	feishu_message_free(&m);
	assert_int_equal(render_feishu("card", "{\"title\":\"t\",\"link\":{\"url\":\"https://x/a) [y](z\"}}", &m), 0);
	assert_null(strstr(m.content, "https://x"));
	feishu_message_free(&m);
}

/* User text that would make a link, an image, a heading, code or an entity
 * in either platform's markdown arrives as inert characters (issue 16). */
static const char *INJECT =
	"{\"title\":\"t\",\"lead\":\"[点此处理](https://phish.example/login)\","
	"\"fields\":[{\"label\":\"背景\",\"value\":\"![x](javascript:alert(1)) `code` ~~s~~ &lt;at id=all&gt;\"}],"
	"\"sections\":[{\"heading\":\"# 标题\",\"lines\":[\"# 一级\\n  ## 二级 a#b\",\"[r]: https://phish.example \\\\[x\\\\]\"]}],"
	"\"link\":{\"label\":\"在进度看板中查看\",\"url\":\"https://board.example/board/req/1\"}}";

static void no_user_markup(const char *md)
{
	assert_null(strstr(md, "[点此处理]"));
	assert_null(strstr(md, "](https://phish"));
	assert_null(strstr(md, "](javascript"));
	assert_null(strstr(md, "![x]"));
	assert_null(strstr(md, "[r]:"));
	assert_null(strstr(md, "`code`"));
	assert_null(strstr(md, "~~s~~"));
	assert_null(strstr(md, "&lt;"));
	assert_null(strstr(md, "\\["));
	assert_null(strstr(md, "\n# "));
	assert_null(strstr(md, "## 二级"));
	assert_non_null(strstr(md, "[点此处理］(https://phish.example/login)")); /* still readable */
	assert_non_null(strstr(md, "a#b"));                                     /* # inside a line is plain */
}

static void test_user_markdown_is_inert(void **state)
{
	(void)state;
	struct feishu_message m;
	assert_int_equal(render_feishu("card", INJECT, &m), 0);
	json_t *c = json_loads(m.content, 0, NULL);
	json_t *elements = json_object_get(json_object_get(c, "body"), "elements");
	const char *md = json_string_value(json_object_get(element(elements, "markdown", 0), "content"));
	no_user_markup(md);
	/* the bot's own link is the only link */
	assert_non_null(strstr(md, "[在进度看板中查看](https://board.example/board/req/1)"));
	assert_null(strstr(strstr(md, "](") + 2, "]("));
	json_decref(c);
	feishu_message_free(&m);

	struct dingtalk_message dm;
	assert_int_equal(render_dingtalk("card", INJECT, &dm), 0);
	no_user_markup(dm.text_at);
	dingtalk_message_free(&dm);

	char *e = render_escape("[a](b) ![i](j) [r][x] [x]: u \\* `c` ~~d~~ &amp; #h\n# h2 x#y [编号] [部门]");
	assert_string_equal(e, "[a］(b) ![i］(j) [r］[x] [x］: u ＼＊ ｀c｀ ～～d～～ ＆amp; #h\n＃ h2 x#y [编号] [部门]");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feishu_card),
		cmocka_unit_test(test_dingtalk_card),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_user_markdown_is_inert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
