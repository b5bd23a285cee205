/*
 * help.c - /帮助 (/help): the command list, or one command's usage.
 */
#include <stdlib.h>

#include "collabd/command.h"

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
	char *text = cmd_help_text();
	cmd_reply_text(ctx, text);
	free(text);
	return CMD_OK;
}

const struct bot_command cmd_help = {
	.name = "帮助",
	.alias = "help",
	.usage = "/帮助 [命令]",
	.summary = "显示可用命令；跟上命令名则显示它的用法",
	.run = run_help,
};
