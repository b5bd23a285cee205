/*
 * test_command.c - the command-line parser (cmd_parse and friends), the
 * command table and help text, and cmd_dispatch_message() writing its replies
 * into a real in-memory store's outbox.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/command.h"
#include "collabd/store.h"

#define U3000 "\xE3\x80\x80" /* ideographic space */

static void test_parse_basic(void **state)
{
	(void)state;
	struct cmd_args a;
	assert_int_equal(cmd_parse("/需求 查看 2026-Q4-JSB-003\n名称：跨部门周报\n背景: 每周五 17:00 前", &a), 1);
	assert_string_equal(a.name, "需求");
	assert_int_equal(a.nwords, 2);
	assert_string_equal(a.words[0], "查看");
	assert_string_equal(a.words[1], "2026-Q4-JSB-003");
	assert_int_equal(a.nfields, 2);
	assert_string_equal(a.fields[0].key, "名称");
	assert_string_equal(a.fields[0].value, "跨部门周报");
	assert_string_equal(a.fields[1].key, "背景");
	assert_string_equal(a.fields[1].value, "每周五 17:00 前"); /* split at the first colon only */
	assert_int_equal(a.nlines, 0);
	cmd_args_free(&a);

	assert_int_equal(cmd_parse("／帮助", &a), 1); /* full-width solidus */
	assert_string_equal(a.name, "帮助");
	assert_int_equal(a.nwords, 0);
	assert_int_equal(a.nfields, 0);
	cmd_args_free(&a);

	assert_int_equal(cmd_parse("  \t/status", &a), 1);
	assert_string_equal(a.name, "status");
	cmd_args_free(&a);
}

static void test_parse_mentions_and_blanks(void **state)
{
	(void)state;
	struct cmd_args a;
	assert_int_equal(cmd_parse("@collabd @张三" U3000 "/帮助 状态", &a), 1);
	assert_string_equal(a.name, "帮助");
	assert_int_equal(a.nwords, 1);
	assert_string_equal(a.words[0], "状态");
	cmd_args_free(&a);

	assert_int_equal(cmd_parse("@collabd\n／需求" U3000 "查看" U3000 U3000 "X\t y \r", &a), 1);
	assert_string_equal(a.name, "需求");
	assert_int_equal(a.nwords, 3);
	assert_string_equal(a.words[0], "查看");
	assert_string_equal(a.words[1], "X");
	assert_string_equal(a.words[2], "y");
	cmd_args_free(&a);

	/* the command word ends at an ideographic space too */
	assert_int_equal(cmd_parse("/帮助" U3000 "状态", &a), 1);
	assert_string_equal(a.name, "帮助");
	assert_int_equal(a.nwords, 1);
	cmd_args_free(&a);
}

static void test_parse_fields_and_lines(void **state)
{
	(void)state;
	struct cmd_args a;
	const char *text = "/需求 新建\n"
			   "  名称 ：  周报 " U3000 "\n"
			   "\n"
			   U3000 "  \n"
			   "Owner: 李四\n"
			   "详情见 https://example.com/a?b=1\n"
			   "链接：https://example.com/x\n"
			   "just a line  \n";
	assert_int_equal(cmd_parse(text, &a), 1);
	assert_int_equal(a.nwords, 1);
	assert_int_equal(a.nfields, 3);
	assert_string_equal(a.fields[0].key, "名称");
	assert_string_equal(a.fields[0].value, "周报");
	assert_string_equal(a.fields[1].key, "Owner");
	assert_string_equal(a.fields[1].value, "李四");
	assert_string_equal(a.fields[2].key, "链接");
	assert_string_equal(a.fields[2].value, "https://example.com/x");
	assert_int_equal(a.nlines, 2); /* empty and blank-only lines are dropped */
	assert_string_equal(a.lines[0], "详情见 https://example.com/a?b=1");
	assert_string_equal(a.lines[1], "just a line");

	assert_string_equal(cmd_field(&a, "名称", NULL), "周报");
	assert_string_equal(cmd_field(&a, "负责人", "owner"), "李四"); /* alias, any case */
	assert_null(cmd_field(&a, "负责人", NULL));
	assert_null(cmd_field(&a, "missing", "nope"));
	cmd_args_free(&a);

	/* a key that is too long or holds a blank or slash makes a plain line */
	assert_int_equal(cmd_parse("/x\n"
				   "a b: c\n"
				   "0123456789012345678901234567890123456789X: v\n"
				   "a/b：c", &a), 1);
	assert_int_equal(a.nfields, 0);
	assert_int_equal(a.nlines, 3);
	cmd_args_free(&a);
}

/* A line holding only a URL must stay a plain line, not the field
 * "https" = "//example.com/x". */
static void test_parse_bare_url_line(void **state)
{
	(void)state;
	struct cmd_args a;
	assert_int_equal(cmd_parse("/需求 新建\nhttps://example.com/x", &a), 1);
	int nfields = (int)a.nfields;
	int nlines = (int)a.nlines;
	char *line = nlines ? xstrdup(a.lines[0]) : NULL;
	cmd_args_free(&a);
	assert_int_equal(nfields, 0);
	assert_int_equal(nlines, 1);
	assert_string_equal(line, "https://example.com/x");
	free(line);
}

static void test_parse_not_commands(void **state)
{
	(void)state;
	struct cmd_args a;
	memset(&a, 0x5a, sizeof a);
	assert_int_equal(cmd_parse("", &a), 0);
	assert_int_equal(cmd_parse("你好", &a), 0);
	assert_int_equal(cmd_parse("@collabd", &a), 0);
	assert_int_equal(cmd_parse("@collabd 你好 /帮助", &a), 0);
	assert_int_equal(cmd_parse("请看 /帮助", &a), 0);
	assert_int_equal(cmd_parse("\\帮助", &a), 0);
	assert_int_equal(a.nwords, (size_t)0x5a5a5a5a5a5a5a5aULL); /* out untouched */
}

static void test_find_and_table(void **state)
{
	(void)state;
	assert_int_equal(cmd_table_check(), 0);
	assert_true(bot_command_count >= 2);
	const struct bot_command *h = cmd_find("帮助");
	assert_non_null(h);
	assert_string_equal(h->alias, "help");
	assert_ptr_equal(cmd_find("help"), h);
	assert_ptr_equal(cmd_find("HeLp"), h);
	assert_non_null(cmd_find("状态"));
	assert_ptr_equal(cmd_find("STATUS"), cmd_find("状态"));
	assert_null(cmd_find("不存在"));
	assert_null(cmd_find(""));
	assert_null(cmd_find("hel"));
	for (size_t i = 0; i < bot_command_count; i++) {
		assert_ptr_equal(cmd_find(bot_commands[i]->name), bot_commands[i]);
		assert_ptr_equal(cmd_find(bot_commands[i]->alias), bot_commands[i]);
	}
}

static void test_help_text(void **state)
{
	(void)state;
	char *text = cmd_help_text();
	for (size_t i = 0; i < bot_command_count; i++) {
		const struct bot_command *c = bot_commands[i];
		char *entry = xasprintf("/%s（/%s）", c->name, c->alias);
		assert_non_null(strstr(text, entry));
		assert_non_null(strstr(text, c->usage));
		assert_non_null(strstr(text, c->summary));
		free(entry);
	}
	free(text);
}

/* ---- dispatch through a real store ---- */

static int store_setup(void **state)
{
	char err[256];
	struct store *st;
	if (store_open(":memory:", &st, err, sizeof err) != STORE_OK)
		return -1;
	*state = st;
	return 0;
}

static int store_teardown(void **state)
{
	store_close(*state);
	return 0;
}

/* Dispatches text as a message in chat_id and returns how many outbox rows
 * it added; the first one (if any) goes to *row. */
static size_t dispatch(struct store *st, const char *chat_type, int mentions_bot, const char *text,
		       struct outbox_row *row)
{
	static const struct daemon_status status = { .version = "test", .started_at = 1000 };
	struct event ev;
	memset(&ev, 0, sizeof ev);
	ev.platform = "feishu";
	ev.kind = EVENT_MESSAGE;
	ev.message_type = "text";
	ev.chat_id = "oc_chat1";
	ev.chat_type = (char *)chat_type;
	ev.message_id = "om_msg1";
	ev.user_id = "ou_user1";
	ev.text = (char *)text;
	ev.mentions_bot = mentions_bot;
	struct cmd_ctx ctx = { .store = st, .ev = &ev, .status = &status, .now = 5000 };
	assert_int_equal(store_begin(st), STORE_OK);
	int64_t before = store_outbox_pending(st);
	enum cmd_rc rc = cmd_dispatch_message(&ctx);
	assert_int_not_equal(rc, CMD_EINTERNAL);
	assert_int_equal(ctx.failed, 0);
	assert_int_equal(store_commit(st), STORE_OK);
	json_decref(ctx.card_response);
	size_t added = (size_t)(store_outbox_pending(st) - before);
	struct outbox_row rows[4];
	size_t n;
	assert_int_equal(store_outbox_due(st, 5000, rows, 4, &n), STORE_OK);
	assert_true(n <= 1);
	if (n == 1 && row)
		*row = rows[0];
	else if (n == 1)
		outbox_row_free(&rows[0]);
	return added;
}

/* Returns the "text" of a text row's body (caller frees). */
static char *row_text(const struct outbox_row *row)
{
	assert_string_equal(row->kind, "text");
	assert_string_equal(row->platform, "feishu");
	assert_string_equal(row->chat_id, "oc_chat1");
	json_t *body = json_loads(row->body, 0, NULL);
	assert_non_null(body);
	const char *t = json_string_value(json_object_get(body, "text"));
	assert_non_null(t);
	char *copy = xstrdup(t);
	json_decref(body);
	return copy;
}

static void test_dispatch_help(void **state)
{
	struct outbox_row row;
	assert_int_equal(dispatch(*state, "group", 0, "/帮助", &row), 1);
	assert_non_null(row.reply_to);
	assert_string_equal(row.reply_to, "om_msg1");
	assert_null(row.update_of);
	char *t = row_text(&row);
	assert_non_null(strstr(t, "/帮助"));
	assert_non_null(strstr(t, "/状态"));
	free(t);
	outbox_row_free(&row);
}

static void test_dispatch_help_one_command(void **state)
{
	struct outbox_row row;
	assert_int_equal(dispatch(*state, "group", 1, "@collabd ／HELP status", &row), 1);
	char *t = row_text(&row);
	assert_non_null(strstr(t, cmd_find("状态")->usage));
	assert_null(strstr(t, "/帮助（")); /* only that command, not the whole list */
	free(t);
	outbox_row_free(&row);
}

static void test_dispatch_usage_error(void **state)
{
	struct outbox_row row;
	assert_int_equal(dispatch(*state, "group", 0, "/帮助 a b", &row), 1);
	char *t = row_text(&row);
	assert_non_null(strstr(t, "参数不正确"));
	assert_non_null(strstr(t, cmd_find("帮助")->usage));
	free(t);
	outbox_row_free(&row);
}

/* A subcommand row's arity is checked by the dispatcher, which answers with
 * that row's usage (not the whole command's), whatever the alias's case. */
static void test_dispatch_subcommand_usage(void **state)
{
	const struct bot_command *req = cmd_find("需求");
	const struct bot_subcommand *approve = cmd_find_sub(req, "APPROVE");
	assert_non_null(approve);
	assert_ptr_equal(approve, cmd_find_sub(req, "批准"));
	assert_null(cmd_find_sub(req, "不存在"));
	struct outbox_row row;
	assert_int_equal(dispatch(*state, "group", 0, "/req approve", &row), 1);
	char *t = row_text(&row);
	assert_non_null(strstr(t, "参数不正确"));
	assert_non_null(strstr(t, approve->usage));
	assert_null(strstr(t, req->usage));
	free(t);
	outbox_row_free(&row);
}

/* The one text reply to text, dispatched in a fresh store (caller frees). */
static char *answer_to(const char *text)
{
	void *st = NULL;
	assert_int_equal(store_setup(&st), 0);
	struct outbox_row row;
	assert_int_equal(dispatch(st, "group", 0, text, &row), 1);
	char *t = row_text(&row);
	outbox_row_free(&row);
	store_teardown(&st);
	return t;
}

/* Asserts that the answer to text contains want (and not unwanted, if set). */
static void assert_answer(const char *text, const char *want, const char *unwanted)
{
	char *t = answer_to(text);
	if (!strstr(t, want) || (unwanted && strstr(t, unwanted)))
		fail_msg("%s\n  answered: %s\n  wanted: %s%s%s", text, t, want, unwanted ? "\n  not: " : "",
			 unwanted ? unwanted : "");
	free(t);
}

/* /复盘's 查看 and 结束 are rows: their own usage on wrong arity -- "/复盘 查看"
 * is not the retrospective of a request called 查看 -- and the English
 * aliases in any case. */
static void test_retro_rows(void **state)
{
	(void)state;
	const struct bot_command *retro = cmd_find("复盘");
	const struct bot_subcommand *show = cmd_find_sub(retro, "SHOW"), *close = cmd_find_sub(retro, "close");
	assert_non_null(show);
	assert_non_null(close);
	assert_ptr_equal(show, cmd_find_sub(retro, "查看"));
	assert_ptr_equal(close, cmd_find_sub(retro, "结束"));
	assert_answer("/复盘 查看", show->usage, "复制下面几行");
	assert_answer("/复盘 结束\n流程：顺畅", close->usage, "没有需求");
	assert_answer("/复盘 查看 a b", show->usage, NULL);
	assert_answer("/retro SHOW 2026-Q4-JSB-404", "没有编号为 2026-Q4-JSB-404 的需求", NULL);
	assert_answer("/retro Close 2026-Q4-JSB-404", "没有编号为 2026-Q4-JSB-404 的需求", NULL);
	/* Without a subcommand, as before: the lines to copy, or the whole usage. */
	assert_answer("/复盘 2026-Q4-JSB-404 JSB", "复制下面几行，填好五项答复后发送：\n/复盘 2026-Q4-JSB-404 JSB\n流程是否顺畅：",
		      NULL);
	assert_answer("/复盘", retro->usage, NULL);
	assert_answer("/复盘 a b c", retro->usage, NULL);
}

/* /部门's five subcommands are rows; editing is for admins, who are told so
 * before their arguments are looked at (no admins in this ctx). */
static void test_dept_rows(void **state)
{
	(void)state;
	const struct bot_command *dept = cmd_find("部门");
	assert_ptr_equal(cmd_find_sub(dept, "LIST"), cmd_find_sub(dept, "列表"));
	assert_ptr_equal(cmd_find_sub(dept, "Deputy"), cmd_find_sub(dept, "代理"));
	assert_answer("/部门", "部门目录还是空的", NULL);
	assert_answer("/dept list", "部门目录还是空的", NULL);
	assert_answer("/部门 列表 多余", cmd_find_sub(dept, "列表")->usage, dept->usage);
	assert_answer("/dept SHOW", cmd_find_sub(dept, "查看")->usage, dept->usage);
	assert_answer("/部门 查看 XYZ", "没有部门 XYZ。", NULL);
	assert_answer("/部门 代理 @某人", cmd_find_sub(dept, "代理")->usage, dept->usage);
	assert_answer("/部门 代理 @某人 2026-12-10 2026-12-01", cmd_find_sub(dept, "代理")->usage, NULL);
	assert_answer("/部门 代理 @某人 2026-12-01 2026-12-10", "不是本条消息里 @ 的人", NULL);
	assert_answer("/部门 添加", "只有管理员可以修改部门目录", NULL);
	assert_answer("/dept ADD JSB 技术部 @张三", "只有管理员可以修改部门目录", NULL);
	assert_answer("/部门 设置", "只有管理员可以修改部门目录", NULL);
	assert_answer("/部门 乱写", dept->usage, NULL);
}

static void test_dispatch_unknown(void **state)
{
	struct outbox_row row;
	assert_int_equal(dispatch(*state, "group", 0, "/不存在的命令 x", &row), 1);
	char *t = row_text(&row);
	assert_non_null(strstr(t, "未知命令"));
	assert_non_null(strstr(t, "/不存在的命令"));
	free(t);
	outbox_row_free(&row);
}

static void test_dispatch_plain_group_text(void **state)
{
	assert_int_equal(dispatch(*state, "group", 0, "大家好，周五开会", NULL), 0);
	assert_int_equal(store_outbox_pending(*state), 0);
}

static void test_dispatch_bare_mention(void **state)
{
	struct outbox_row row;
	assert_int_equal(dispatch(*state, "group", 1, "@collabd", &row), 1);
	char *t = row_text(&row);
	assert_non_null(strstr(t, "/帮助"));
	assert_null(strstr(t, "未知命令"));
	free(t);
	outbox_row_free(&row);
}

static void test_dispatch_p2p_plain_text(void **state)
{
	struct outbox_row row;
	assert_int_equal(dispatch(*state, "p2p", 0, "你好", &row), 1); /* a direct chat is addressed */
	char *t = row_text(&row);
	assert_non_null(strstr(t, "/帮助"));
	free(t);
	outbox_row_free(&row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_mentions_and_blanks),
		cmocka_unit_test(test_parse_fields_and_lines),
		cmocka_unit_test(test_parse_bare_url_line),
		cmocka_unit_test(test_parse_not_commands),
		cmocka_unit_test(test_find_and_table),
		cmocka_unit_test(test_help_text),
		cmocka_unit_test_setup_teardown(test_dispatch_help, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_help_one_command, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_usage_error, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_subcommand_usage, store_setup, store_teardown),
		cmocka_unit_test(test_retro_rows),
		cmocka_unit_test(test_dept_rows),
		cmocka_unit_test_setup_teardown(test_dispatch_unknown, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_plain_group_text, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_bare_mention, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_p2p_plain_text, store_setup, store_teardown),
	};
	return cmocka_run_group_tests_name("command", tests, NULL, NULL);
}
