/*
 * negotiate.c - the initiator answers each objection, step 2's negotiation.
 *
 *   /异议 答复 异议编号 采纳 [理由：…]    accept: then /需求 修改 编号 revises the request
 *   /异议 答复 异议编号 推进 理由：…      overrule with a reason: that department is settled
 *   /异议 答复 异议编号 上报 理由：…      escalate: the superiors are @-mentioned and decide
 *   /异议 裁决 异议编号 推进|修订 [理由：…]   a superior (or deputy) decides an escalated one
 *
 * Objection states, as a table:
 *   open       accept    accepted    the initiator
 *   open       overrule  overruled   the initiator (reason required)
 *   open       escalate  escalated   the initiator (reason required)
 *   escalated  proceed   overruled   a superior of either department
 *   escalated  revise    accepted    the same
 *   accepted   (the request is revised)  revised
 *
 * The /异议 command is defined here: its subcommands 答复 and 裁决 are rows
 * of this file, raising an objection (/异议 编号) is sync.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/directory.h"
#include "collabd/request.h"
#include "collabd/sched.h"
#include "collabd/store.h"

struct obj_step {
	const char *word;     /* what the user types */
	const char *from, *to;
	int by_superior;      /* 0: the initiator decides; 1: a superior */
	int needs_reason;
};

static const struct obj_step steps[] = {
	{ "采纳", "open", "accepted", 0, 0 },
	{ "推进", "open", "overruled", 0, 1 },
	{ "上报", "open", "escalated", 0, 1 },
	{ "推进", "escalated", "overruled", 1, 0 },
	{ "修订", "escalated", "accepted", 1, 0 },
};

static const char *obj_label(const char *state)
{
	static const char *const labels[][2] = {
		{ "open", "待答复" }, { "accepted", "已采纳" }, { "overruled", "已推进" },
		{ "escalated", "已上报" }, { "revised", "已修订" },
	};
	for (size_t i = 0; i < ARRAY_LEN(labels); i++)
		if (!strcmp(labels[i][0], state))
			return labels[i][1];
	return state;
}

/* Is user a superior (or deputy of one) of department code? */
static int is_superior(struct cmd_ctx *ctx, const char *code, const char *day)
{
	struct dept_row d;
	if (store_dept_get(ctx->store, code, &d) != STORE_OK)
		return 0;
	int yes = (d.superior && dir_stands_for(ctx->store, ctx->ev->user_id, d.superior, day)) ||
		  (d.superior2 && dir_stands_for(ctx->store, ctx->ev->user_id, d.superior2, day));
	dept_row_free(&d);
	return yes;
}

enum cmd_rc req_objection_step(struct cmd_ctx *ctx, const struct cmd_args *a, int superior)
{
	int64_t id;
	char *rid, *dept, *state;
	enum cmd_rc rc = cmd_load_objection(ctx, a->words[1], &id, &rid, &dept, &state);
	if (rc != CMD_OK)
		return rc;
	long long oid = id;
	const struct obj_step *step = NULL;
	for (size_t i = 0; i < ARRAY_LEN(steps); i++)
		if (!strcmp(steps[i].word, a->words[2]) && !strcmp(steps[i].from, state) && steps[i].by_superior == superior)
			step = &steps[i];
	struct request_row r;
	char today[11];
	cmd_today(ctx, today);
	const char *reason = cmd_field(a, "理由", "reason");
	rc = cmd_load_request(ctx, rid, &r);
	if (rc != CMD_OK)
		goto out;
	if (!step) {
		char *msg = xasprintf("异议 %lld %s，现在不能%s。", oid, obj_label(state), a->words[2]);
		cmd_reply_text(ctx, msg);
		free(msg);
		goto done;
	}
	if (!superior && strcmp(ctx->ev->user_id, r.initiator)) {
		char *name = dir_name(ctx->store, r.initiator);
		char *msg = xasprintf("仅发起人 %s 可以答复异议 %lld。", name, oid);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(name);
		rc = CMD_EPERM;
		goto done;
	}
	if (superior && !is_superior(ctx, r.dept, today) && !is_superior(ctx, dept, today)) {
		char *msg = xasprintf("仅两个部门的上级主管（或其代理人）可以裁决异议 %lld。", oid);
		cmd_reply_text(ctx, msg);
		free(msg);
		rc = CMD_EPERM;
		goto done;
	}
	if (step->needs_reason && (!reason || !*reason)) {
		char *msg = xasprintf("请写明理由：/异议 答复 %lld %s 并换行写“理由：……”", oid, step->word);
		cmd_reply_text(ctx, msg);
		free(msg);
		goto done;
	}
	if (store_objection_answer(ctx->store, oid, state, step->to, reason, ctx->now) != STORE_OK) {
		ctx->failed = 1;
		goto done;
	}
	char *key = xasprintf("req:%s:objection:%lld", r.id, oid);
	if (ctx->sched && sched_deadline_done(ctx->sched, key, "met") == STORE_ERR)
		ctx->failed = 1;
	free(key);
	/* The objection's card shows the decision, clicked or typed. */
	char *card = req_objection_subject(oid, superior);
	const char *said = superior ? (!strcmp(step->to, "accepted") ? "裁决：修订" : "裁决：推进")
				    : (!strcmp(step->to, "accepted") ? "已采纳" : !strcmp(step->to, "overruled") ? "已推进" : "已上报上级");
	cmd_outcome_about(ctx, card, r.chat_id, said, reason);
	cmd_outcome(ctx, said, reason, 0);
	free(card);
	char *detail = xasprintf("{\"objection\":%lld,\"to\":\"%s\"}", oid, step->to);
	if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, "objection.answered", r.id, detail) != STORE_OK)
		ctx->failed = 1;
	free(detail);

	struct dept_row od;
	int have = store_dept_get(ctx->store, dept, &od) == STORE_OK;
	char *msg;
	if (!strcmp(step->to, "overruled")) {
		if (store_request_dept_set(ctx->store, r.id, dept, "overruled") != STORE_OK)
			ctx->failed = 1;
		msg = xasprintf("异议 %lld 已%s：%s 的异议不采纳，需求继续推进。%s%s", oid, superior ? "由上级裁决" : "答复",
				have ? od.name : dept, reason ? "理由：" : "", reason ? reason : "");
		req_settle(ctx, r.id);
		req_card_refresh(ctx, r.id);
	} else if (!strcmp(step->to, "escalated")) {
		json_t *mentions = json_array();
		const char *codes[] = { r.dept, dept };
		for (int i = 0; i < 2; i++) {
			struct dept_row d;
			if (store_dept_get(ctx->store, codes[i], &d) != STORE_OK)
				continue;
			if (d.superior) {
				char *acting = dir_acting(ctx->store, d.superior, today), *name = dir_name(ctx->store, acting);
				json_array_append_new(mentions, json_pack("{s:s,s:s}", "id", acting, "name", name));
				free(acting);
				free(name);
			}
			dept_row_free(&d);
		}
		msg = xasprintf("异议 %lld 已上报上级主管裁决，请上级在卡片上裁决（推进或修订）。", oid);
		json_t *fields = json_pack("[{s:s,s:s}]", "label", "上报理由", "value", reason);
		req_objection_card(ctx, r.chat_id, oid, 1, msg, fields, mentions);
		json_decref(fields);
		json_decref(mentions);
		free(msg);
		msg = NULL; /* the card is the answer */
	} else {
		msg = xasprintf("异议 %lld 已采纳。请发起人发送 /需求 修改 %s 并附上修改的字段，修订后各部门重新确认。", oid, r.id);
	}
	if (msg)
		cmd_reply_text(ctx, msg);
	free(msg);
	if (have)
		dept_row_free(&od);
done:
	request_row_free(&r);
out:
	free(rid);
	free(dept);
	free(state);
	return rc;
}

static enum cmd_rc run_answer(struct cmd_ctx *ctx, const struct cmd_args *a) { return req_objection_step(ctx, a, 0); }
static enum cmd_rc run_decide(struct cmd_ctx *ctx, const struct cmd_args *a) { return req_objection_step(ctx, a, 1); }

static const struct bot_subcommand object_subs[] = {
	{ "答复", "answer", 2, 2, 0, "/异议 答复 异议编号 采纳|推进|上报，换行写“理由：…”（推进、上报必填）", run_answer },
	{ "裁决", "decide", 2, 2, 0, "/异议 裁决 异议编号 推进|修订 [理由：…]", run_decide },
	{ 0 },
};

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

const struct bot_command cmd_object = {
	.name = "异议",
	.alias = "object",
	.usage = "/异议 需求编号 [部门]，换行写“说明：…”和“建议：…” | 答复 异议编号 采纳|推进|上报 理由：… | "
		 "裁决 异议编号 推进|修订",
	.summary = "接口人提出异议；发起人答复（采纳、推进、上报）；上级裁决",
	.run = req_object_raise,
	.subs = object_subs,
};
