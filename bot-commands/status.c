/*
 * status.c - /状态 (/status): a card with the daemon's health, and its 刷新
 * button, which updates that same card in place.
 */
#include <stdlib.h>

#include "collabd/command.h"

/* The notice body the renderer draws as the status card. */
static json_t *status_body(const struct cmd_ctx *ctx)
{
	const struct daemon_status *s = ctx->status;
	return json_pack("{s:s,s:I,s:b,s:b,s:I,s:I,s:I}",
			 "version", s->version,
			 "started_at", (json_int_t)s->started_at,
			 "feishu_connected", s->feishu_connected,
			 "dingtalk_connected", s->dingtalk_connected,
			 "outbox_pending", (json_int_t)s->outbox_pending,
			 "events_applied", (json_int_t)s->events_applied,
			 "at", (json_int_t)ctx->now);
}

static enum cmd_rc run_status(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	if (args->nwords)
		return CMD_EUSAGE;
	json_t *body = status_body(ctx);
	cmd_notice(ctx, "status", body, NULL);
	json_decref(body);
	return CMD_OK;
}

static enum cmd_rc refresh_status(struct cmd_ctx *ctx, json_t *value)
{
	(void)value;
	if (!ctx->ev->card_message_id) {
		cmd_toast(ctx, "error", "找不到要刷新的卡片。");
		return CMD_OK;
	}
	json_t *body = status_body(ctx);
	cmd_redraw_card(ctx, "status", body); /* in the click's reply where the platform allows */
	json_decref(body);
	cmd_toast(ctx, "success", "已刷新");
	return CMD_OK;
}

const struct bot_command cmd_status = {
	.name = "状态",
	.alias = "status",
	.usage = "/状态",
	.summary = "查看机器人运行状态（连接、待发消息）",
	.run = run_status,
};

const struct bot_action action_status_refresh = {
	.name = "status.refresh",
	.run = refresh_status,
};
