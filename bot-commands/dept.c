/*
 * dept.c - /部门 (/dept): the department directory in chat.
 *
 *   /部门 列表                          everyone
 *   /部门 查看 JSB                      everyone
 *   /部门 添加 JSB 技术部 @负责人         admins
 *   /部门 设置 JSB 负责人|接口人|上级|上级的上级 @某人 [@某人 ...]   admins
 *   /部门 设置 JSB 名称 新名称 | /部门 设置 JSB 本群      admins
 *   /部门 代理 @代理人 2026-12-01 2026-12-10   anyone, for themselves
 *
 * People are named by @-mentioning them; their display names are remembered.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/command.h"
#include "collabd/directory.h"
#include "collabd/store.h"

static const char *const admin_hint = "只有管理员可以修改部门目录（配置项 admins）。";

/* One line per department: "JSB 技术部 · 负责人 张三 · 接口人 李四、王五 · 上级 赵总" */
static void describe(struct cmd_ctx *ctx, const struct dept_row *d, struct buf *out)
{
	char *head = dir_name(ctx->store, d->head);
	buf_printf(out, "%s %s · 负责人 %s · 接口人 ", d->code, d->name, head);
	free(head);
	char **ids;
	size_t n;
	if (store_dept_contacts(ctx->store, d->code, &ids, &n) != STORE_OK)
		ctx->failed = 1;
	for (size_t i = 0; i < n; i++) {
		char *name = dir_name(ctx->store, ids[i]);
		buf_printf(out, "%s%s", i ? "、" : "", name);
		free(name);
		free(ids[i]);
	}
	free(ids);
	if (d->superior) {
		char *sup = dir_name(ctx->store, d->superior);
		buf_printf(out, " · 上级 %s", sup);
		free(sup);
	}
	if (d->chat_id)
		buf_append_str(out, " · 已绑定部门群");
}

static enum cmd_rc list(struct cmd_ctx *ctx)
{
	struct dept_row *rows;
	size_t n;
	if (store_dept_list(ctx->store, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, n ? "部门目录（%zu 个）：" : "部门目录还是空的。管理员可用 /部门 添加 或 collabd import-directory 导入。", n);
	for (size_t i = 0; i < n; i++) {
		buf_append_str(&b, "\n");
		describe(ctx, &rows[i], &b);
		dept_row_free(&rows[i]);
	}
	free(rows);
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	return CMD_OK;
}

static enum cmd_rc show(struct cmd_ctx *ctx, const char *code)
{
	struct dept_row d;
	if (store_dept_get(ctx->store, code, &d) != STORE_OK) {
		char *echo = cmd_echo(code);
		char *msg = xasprintf("没有部门 %s。发送 /部门 列表 查看全部部门。", echo);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(echo);
		return CMD_ENOTFOUND;
	}
	struct buf b;
	buf_init(&b);
	describe(ctx, &d, &b);
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	dept_row_free(&d);
	return CMD_OK;
}

/* Resolves words[from..to) as mentions (to = 0: to the end), remembering
 * names; a clear reply when one is not a mention.  Returns the ids (array of
 * borrowed strings; the caller frees the array) or NULL. */
static const char **mentioned(struct cmd_ctx *ctx, const struct cmd_args *a, size_t from, size_t to, size_t *n)
{
	size_t end = to ? to : a->nwords;
	*n = end > from && a->nwords >= end ? end - from : 0;
	if (!*n) {
		cmd_reply_text(ctx, "请 @ 要设置的人。");
		return NULL;
	}
	const char **ids = xcalloc(*n, sizeof *ids);
	for (size_t i = 0; i < *n; i++) {
		const char *name;
		if (cmd_mention(ctx, a->words[from + i], &ids[i], &name)) {
			char *echo = cmd_echo(a->words[from + i]);
			char *msg = xasprintf("「%s」不是本条消息里 @ 的人，请用 @ 选择成员。", echo);
			cmd_reply_text(ctx, msg);
			free(msg);
			free(echo);
			free(ids);
			return NULL;
		}
		if (store_user_put(ctx->store, ids[i], name) != STORE_OK)
			ctx->failed = 1;
	}
	return ids;
}

static enum cmd_rc add(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (a->nwords != 4)
		return CMD_EUSAGE;
	const char *code = a->words[1], *name = a->words[2];
	if (!dir_code_valid(code)) {
		cmd_reply_text(ctx, "部门代码须为 2 到 6 个大写字母，例如 JSB。");
		return CMD_OK;
	}
	struct dept_row existing;
	if (store_dept_get(ctx->store, code, &existing) == STORE_OK) {
		dept_row_free(&existing);
		char *msg = xasprintf("部门 %s 已存在。修改请用 /部门 设置 %s …", code, code);
		cmd_reply_text(ctx, msg);
		free(msg);
		return CMD_OK;
	}
	size_t n;
	const char **head = mentioned(ctx, a, 3, 0, &n);
	if (!head)
		return CMD_OK;
	struct dept_row d = { .code = (char *)code, .name = (char *)name, .head = (char *)head[0] };
	char *contacts[] = { (char *)head[0] }; /* until set: the head answers for the department */
	if (store_dept_put(ctx->store, &d) != STORE_OK || store_dept_contacts_set(ctx->store, code, contacts, 1) != STORE_OK)
		ctx->failed = 1;
	free(head);
	return show(ctx, code);
}

static enum cmd_rc set(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (a->nwords < 3)
		return CMD_EUSAGE;
	const char *code = a->words[1], *field = a->words[2];
	struct dept_row d;
	if (store_dept_get(ctx->store, code, &d) != STORE_OK)
		return show(ctx, code);
	enum cmd_rc rc = CMD_OK;
	size_t n = 0;
	const char **ids = NULL;
	if (!strcmp(field, "名称") && a->nwords == 4) {
		free(d.name);
		d.name = xstrdup(a->words[3]);
	} else if (!strcmp(field, "本群") && a->nwords == 3) {
		free(d.chat_id);
		d.chat_id = xstrdup(ctx->ev->chat_id);
	} else if (!strcmp(field, "负责人") || !strcmp(field, "上级") || !strcmp(field, "上级的上级") ||
		   !strcmp(field, "接口人")) {
		if (!(ids = mentioned(ctx, a, 3, 0, &n))) {
			dept_row_free(&d);
			return CMD_OK;
		}
		char **slot = !strcmp(field, "负责人") ? &d.head : !strcmp(field, "上级") ? &d.superior
			      : !strcmp(field, "上级的上级") ? &d.superior2 : NULL;
		if (slot) {
			free(*slot);
			*slot = xstrdup(ids[0]);
		} else if (store_dept_contacts_set(ctx->store, code, (char *const *)ids, n) != STORE_OK) {
			ctx->failed = 1;
		}
	} else {
		rc = CMD_EUSAGE;
	}
	if (rc == CMD_OK && store_dept_put(ctx->store, &d) != STORE_OK)
		ctx->failed = 1;
	free(ids);
	dept_row_free(&d);
	return rc == CMD_OK ? show(ctx, code) : rc;
}

/* "/部门 代理 @代理人 开始日期 结束日期" (three words: its row). */
static enum cmd_rc deputy(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	int y, m, d;
	if (calendar_parse_date(a->words[2], &y, &m, &d) ||
	    calendar_parse_date(a->words[3], &y, &m, &d) || strcmp(a->words[2], a->words[3]) > 0)
		return CMD_EUSAGE;
	size_t n;
	const char **ids = mentioned(ctx, a, 1, 2, &n);
	if (!ids)
		return CMD_OK;
	if (!strcmp(ids[0], ctx->ev->user_id)) {
		cmd_reply_text(ctx, "代理人不能是自己。");
	} else if (store_deputy_put(ctx->store, ctx->ev->user_id, ids[0], a->words[2], a->words[3]) != STORE_OK) {
		ctx->failed = 1;
	} else {
		char *name = dir_name(ctx->store, ids[0]);
		char *msg = xasprintf("好的：%s 至 %s 期间，提醒和审批、确认的权限转给代理人 %s。", a->words[2],
				      a->words[3], name);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(name);
	}
	free(ids);
	return CMD_OK;
}

/* The directory's edits are for admins: told so before their arguments are
 * looked at (the rows of 添加 and 设置 leave arity to the handler for that). */
static int admin_or_told(struct cmd_ctx *ctx)
{
	if (cmd_is_admin(ctx))
		return 1;
	cmd_reply_text(ctx, admin_hint);
	return 0;
}

static enum cmd_rc run_list(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	(void)a;
	return list(ctx);
}

static enum cmd_rc run_show(struct cmd_ctx *ctx, const struct cmd_args *a) { return show(ctx, a->words[1]); }

static enum cmd_rc run_add(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return admin_or_told(ctx) ? add(ctx, a) : CMD_EPERM;
}

static enum cmd_rc run_set(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return admin_or_told(ctx) ? set(ctx, a) : CMD_EPERM;
}

/* Without a subcommand: the list; an unknown first word is a usage error. */
static enum cmd_rc run_dept(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	return a->nwords ? CMD_EUSAGE : list(ctx);
}

static const struct bot_subcommand dept_subs[] = {
	{ "列表", "list", 0, 0, 0, "/部门 列表", run_list },
	{ "查看", "show", 1, 1, 0, "/部门 查看 代码", run_show },
	{ "添加", "add", 0, INT_MAX, 0, "/部门 添加 代码 名称 @负责人", run_add },
	{ "设置", "set", 0, INT_MAX, 0,
	  "/部门 设置 代码 负责人|接口人|上级|上级的上级 @某人 | 设置 代码 名称 新名称 | 设置 代码 本群", run_set },
	{ "代理", "deputy", 3, 3, 0, "/部门 代理 @代理人 开始日期 结束日期", deputy },
	{ 0 },
};

const struct bot_command cmd_dept = {
	.name = "部门",
	.alias = "dept",
	.usage = "/部门 列表 | 查看 代码 | 添加 代码 名称 @负责人 | 设置 代码 负责人|接口人|上级|上级的上级 @某人 | "
		 "设置 代码 名称 新名称 | 设置 代码 本群 | 代理 @代理人 开始日期 结束日期",
	.summary = "部门目录：查看部门，管理员维护负责人、接口人和上级；请假时指定代理人",
	.run = run_dept,
	.subs = dept_subs,
};
