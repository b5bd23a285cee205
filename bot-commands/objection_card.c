/*
 * objection_card.c - an objection as a card the initiator answers by
 * clicking (采纳 / 推进 / 上报 with a reason), and an escalated one as a card
 * the superiors decide on (推进 / 修订).  Both run the same steps as the
 * typed /异议 答复 and /异议 裁决 (negotiate.c), and show the outcome once
 * decided, however it was decided.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/request.h"
#include "collabd/store.h"

/* "objection:N" / "objection:N:escalated": the card to close once decided. */
char *req_objection_subject(long long oid, int superior)
{
	return superior ? xasprintf("objection:%lld:escalated", oid) : xasprintf("objection:%lld", oid);
}

void req_objection_card(struct cmd_ctx *ctx, const char *chat_id, long long oid, int superior, const char *lead,
			json_t *fields, json_t *mentions)
{
	char *title = superior ? xasprintf("⚖️ 异议 %lld · 待上级裁决", oid) : xasprintf("⚠️ 异议 %lld · 待发起人答复", oid);
	char *id = xasprintf("%lld", oid);
	char *command = superior ? xasprintf("/异议 裁决 %lld 推进|修订\n理由：……", oid)
				 : xasprintf("/异议 答复 %lld 采纳|推进|上报\n理由：……（推进、上报时必填）", oid);
	json_t *options = superior ? json_pack("[{s:s,s:s},{s:s,s:s}]", "value", "推进", "label", "推进（不采纳异议）",
					       "value", "修订", "label", "修订（采纳异议，修改需求）")
				   : json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "value", "采纳", "label", "采纳（修改需求）",
					       "value", "推进", "label", "推进（不采纳，需写理由）", "value", "上报",
					       "label", "上报上级裁决（需写理由）");
	json_t *body = json_pack("{s:s,s:s,s:s,s:O,s:O,s:{s:s,s:[{s:s,s:s,s:s,s:b,s:o},{s:s,s:s,s:s,s:b,s:b,s:i}],"
				 "s:{s:s,s:{s:s,s:s,s:b}},s:s}}",
				 "title", title, "color", "orange", "lead", lead, "fields", fields ? fields : json_array(),
				 "mentions", mentions ? mentions : json_array(), "form", "name", "objection_answer",
				 "inputs", "name", "decision", "label", superior ? "裁决" : "答复", "kind", "select",
				 "required", 1, "options", options, "name", "reason", "label",
				 superior ? "理由" : "理由（推进、上报时必填）", "kind", "text", "required", 0, "multiline", 1,
				 "max", 1000, "submit", "label", superior ? "提交裁决" : "提交答复", "value", "action",
				 "obj.answer", "id", id, "superior", superior, "command", command);
	char *subject = req_objection_subject(oid, superior);
	cmd_notice_about(ctx, "card", body, chat_id, subject, 0);
	free(subject);
	json_decref(body);
	free(command);
	free(id);
	free(title);
}

/* The card's 提交答复 / 提交裁决: the typed step with the form's values. */
static enum cmd_rc action_answer(struct cmd_ctx *ctx, json_t *value)
{
	const char *id = json_string_value(json_object_get(value, "id"));
	const char *decision = json_string_value(json_object_get(ctx->ev->form_value, "decision"));
	const char *reason = json_string_value(json_object_get(ctx->ev->form_value, "reason"));
	int superior = json_is_true(json_object_get(value, "superior"));
	if (!id || !decision) {
		cmd_toast(ctx, "error", superior ? "请选择裁决。" : "请选择答复：采纳、推进或上报。");
		return CMD_OK;
	}
	char *words[] = { superior ? "裁决" : "答复", (char *)id, (char *)decision };
	struct cmd_field field = { .key = "理由", .value = (char *)(reason ? reason : "") };
	struct cmd_args a = { .name = "异议", .words = words, .nwords = 3, .fields = reason && *reason ? &field : NULL,
			      .nfields = reason && *reason ? 1 : 0 };
	enum cmd_rc rc = req_objection_step(ctx, &a, superior);
	if (!ctx->outcome) /* refused: the reason is in the group */
		cmd_toast(ctx, "error", "未能提交，详见群消息。");
	return rc;
}

const struct bot_action action_obj_answer = { .name = "obj.answer", .run = action_answer };
