/*
 * objection_card.c - an objection as a card the initiator answers by
 * clicking (采纳 / 推进 / 上报 with a reason), and an escalated one as a card
 * the superiors decide on (推进 / 修订).  Their buttons' action (obj.answer)
 * lives with the steps it runs, in negotiate.c, so this file only draws.
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
