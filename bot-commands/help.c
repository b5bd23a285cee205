/*
 * help.c - /帮助 (/help): the command list, or one command's usage.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/command.h"
#include "collabd/config.h"

static enum cmd_rc run_help(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	if (args->nwords > 1)
		return CMD_EUSAGE;
	if (args->nwords == 1) {
		const char *name = args->words[0];
		if (name[0] == '/')
			name++;
		const struct bot_command *c = cmd_find(name);
		char *echo = cmd_echo(name);
		char *msg = c ? xasprintf("/%s（/%s）  %s\n用法：%s", c->name, c->alias, c->summary, c->usage)
			      : xasprintf("没有命令 /%s。发送 /帮助 查看全部命令。", echo);
		free(echo);
		cmd_reply_text(ctx, msg);
		free(msg);
		return CMD_OK;
	}
	char *list = cmd_help_text();
	/* Naming people differs by platform: DingTalk's @-mentions carry no id
	 * the bot can match, so people are named as the directory names them. */
	const char *naming = !strcmp(ctx->ev->platform, "dingtalk")
		? "\n点名某人（负责人、解决责任人、通知人等）：钉钉的 @ 无法识别是谁，请写此人在部门目录中的名字，"
		  "例如“解决责任人：王芳”或“/进度 负责人 编号 市场部 王芳”（写成 @王芳 也可以）；名字可用 /部门 查看 部门代码 查到，"
		  "重名时写其用户 ID。"
		: "\n点名某人（负责人、解决责任人、通知人等）：直接 @ 此人；也可以写其在部门目录中的名字或用户 ID。";
	char *text = xasprintf("%s%s", list, naming);
	/* On DingTalk without the card template, say how buttons get there. */
	const struct config *cfg = ctx->env ? ctx->env->cfg : NULL;
	if (!strcmp(ctx->ev->platform, "dingtalk") &&
	    (!cfg || !cfg->dingtalk.card_template_id || !*cfg->dingtalk.card_template_id)) {
		char *more = xasprintf("%s\n\n钉钉上的卡片目前是文字，按钮写成要发送的命令。管理员导入 collabd 的卡片模板"
				       "（collabd dingtalk card-template）并配置 dingtalk.card_template_id 后，卡片带按钮，"
				       "截止提醒在群回复地址过期后也能真正 @ 到人（见 deploy/dingtalk/SETUP.md）。",
				       text);
		free(text);
		text = more;
	}
	cmd_reply_text(ctx, text);
	free(text);
	free(list);
	return CMD_OK;
}

const struct bot_command cmd_help = {
	.name = "帮助",
	.alias = "help",
	.usage = "/帮助 [命令]",
	.summary = "显示可用命令；跟上命令名则显示它的用法",
	.run = run_help,
};
