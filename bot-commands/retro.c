/*
 * retro.c - /复盘 (/retro): each participating department's answers to the
 * retrospective's five questions, by command or by the card's form.
 *
 *   /复盘 编号 [部门] + five "问题：答复" lines    a head or contact (or deputy) of a participating department
 *   /复盘 编号                                   the lines to copy
 *   /复盘 查看 编号                               who has answered, the due time
 *   /复盘 结束 编号                               the initiator: the report now, unanswered departments listed
 *
 * Keys: 流程是否顺畅 (流程), 信息同步是否及时 (同步), 问题解决是否高效 (解决),
 * 可复制的经验 (经验), 需改进的不足 (不足).  All five are required; every
 * problem is listed at once and nothing is stored.  A department may answer
 * again until the report is written (the later answer counts).  When every
 * department has answered, the report is written (retro_finish.c).
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/directory.h"
#include "collabd/render.h"
#include "collabd/request.h"
#include "collabd/retro.h"
#include "collabd/sched.h"
#include "collabd/store.h"

/* Is user the head or a contact (or a deputy of one) of code today? */
static int speaks_for(struct cmd_ctx *ctx, const struct dept_row *d, const char *today)
{
	int yes = dir_stands_for(ctx->store, ctx->ev->user_id, d->head, today);
	char **ids;
	size_t k;
	if (store_dept_contacts(ctx->store, d->code, &ids, &k) != STORE_OK)
		ctx->failed = 1;
	for (size_t j = 0; j < k; j++) {
		yes |= dir_stands_for(ctx->store, ctx->ev->user_id, ids[j], today);
		free(ids[j]);
	}
	free(ids);
	return yes;
}

/*
 * The participating department the user answers for: the one named, or the
 * only one they speak for.  Returns the code (caller frees) or NULL with
 * *msg (caller frees) saying why, naming who may.
 */
static char *answering_dept(struct cmd_ctx *ctx, const char *id, const char *named, char **msg)
{
	char today[11];
	cmd_today(ctx, today);
	json_t *codes = retro_participants(ctx->store, id);
	char *found = NULL;
	int count = 0;
	struct buf all;
	buf_init(&all);
	size_t i;
	json_t *c;
	json_array_foreach(codes, i, c) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(c), &d) != STORE_OK)
			continue;
		buf_printf(&all, "%s%s", all.len ? "、" : "", d.name);
		if ((!named || !strcmp(named, d.code) || !strcmp(named, d.name)) && speaks_for(ctx, &d, today) && count++ == 0)
			found = xstrdup(d.code);
		dept_row_free(&d);
	}
	json_decref(codes);
	if (count > 1) {
		free(found);
		found = NULL;
		*msg = xasprintf("你负责多个参与部门，请写明部门，例如 /复盘 %s 部门代码。", id);
	} else if (!count) {
		*msg = named ? xasprintf("仅参与部门（%s）的负责人或接口人（或其代理人）可以提交复盘答复；你不是「%s」的负责人或接口人。",
					 (char *)all.data, named)
			     : xasprintf("仅参与部门（%s）的负责人或接口人（或其代理人）可以提交复盘答复。", (char *)all.data);
	}
	buf_free(&all);
	return found;
}

/* The five answers from "key：value" pairs; problems appended. */
static json_t *answers_from(json_t *pairs, json_t *problems)
{
	json_t *answers = form_collect(&retro_form, NULL, pairs, problems);
	const char *q;
	json_t *v;
	json_object_foreach(answers, q, v) {
		long chars = utf8_count(json_string_value(v));
		if (chars > RETRO_ANSWER_MAX)
			json_array_append_new(problems, json_sprintf("「%s」的答复有 %ld 个字，最多 %d 个。", q, chars, RETRO_ANSWER_MAX));
	}
	for (size_t i = 0; i < retro_question_count; i++) {
		const char *a = json_string_value(json_object_get(answers, retro_questions[i].key));
		if (!a || !*a)
			json_array_append_new(problems, json_sprintf("缺少「%s」的答复。", retro_questions[i].key));
	}
	return answers;
}

static char *template_text(const char *id, const char *dept)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "/复盘 %s%s%s", id, dept ? " " : "", dept ? dept : "");
	for (size_t i = 0; i < retro_question_count; i++)
		buf_printf(&b, "\n%s：", retro_questions[i].key);
	return buf_steal(&b);
}

/* Whether the request is open for answers; otherwise *msg says why. */
static int open_for_answers(const struct request_row *r, char **msg)
{
	if (!strcmp(r->state, "completed"))
		return 1;
	if (!strcmp(r->state, "archived")) {
		*msg = xasprintf("需求 %s 的复盘报告已生成，不能再提交或修改复盘答复（发送 /归档 %s 查看）。", r->id, r->id);
	} else {
		*msg = xasprintf("需求 %s %s，发起人完成需求（/需求 完成 %s）后才开始复盘。", r->id, req_state_label(r->state), r->id);
	}
	return 0;
}

/* Records one department's answers (pairs: "key：value" lines or a card's
 * form_value, keyed by a question's key or alias; borrowed, may be NULL).
 * Returns CMD_OK with *msg the sentence for the person who answered;
 * *all_in says every department has now answered (the caller, having
 * replied, writes the report). */
static enum cmd_rc answer(struct cmd_ctx *ctx, const char *id, const char *named, json_t *pairs, char **msg, int *stored,
			  int *all_in)
{
	*stored = 0;
	*all_in = 0;
	struct request_row r;
	if (!id || store_request_get(ctx->store, id, &r) != STORE_OK) {
		char *echo = cmd_echo(id ? id : "");
		*msg = xasprintf("没有需求 %s。", echo);
		free(echo);
		return CMD_ENOTFOUND;
	}
	enum cmd_rc rc = CMD_OK;
	char *code = NULL;
	json_t *problems = json_array(), *answers = NULL;
	if (!open_for_answers(&r, msg)) {
		/* refused: *msg says why */
	} else if (!(code = answering_dept(ctx, r.id, named, msg))) {
		rc = CMD_EPERM;
	} else if (answers = answers_from(pairs, problems), json_array_size(problems)) {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "复盘答复有 %zu 处需要修改（未保存任何内容）：", json_array_size(problems));
		cmd_list_problems(&b, problems);
		char *tpl = template_text(r.id, code);
		buf_printf(&b, "\n格式：\n%s", tpl);
		free(tpl);
		*msg = buf_steal(&b);
	} else {
		int revision = 0;
		char *key = xasprintf("req:%s:retro:%s", r.id, code);
		if (store_retro_answer_put(ctx->store, r.id, code, ctx->ev->user_id, answers, ctx->now, &revision) != STORE_OK ||
		    (ctx->sched && sched_deadline_done(ctx->sched, key, "met") == STORE_ERR))
			ctx->failed = 1;
		free(key);
		char *detail = xasprintf("{\"dept\":\"%s\",\"revision\":%d}", code, revision);
		if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, "retro.answered", r.id, detail) != STORE_OK)
			ctx->failed = 1;
		free(detail);
		json_t *all = retro_participants(ctx->store, r.id), *given = store_retro_answers(ctx->store, r.id);
		if (!all || !given)
			ctx->failed = 1;
		struct dept_row d;
		int have = store_dept_get(ctx->store, code, &d) == STORE_OK;
		*msg = xasprintf("已记录%s %s 的复盘答复（%zu/%zu 个参与部门已提交）。", revision > 1 ? "修改后" : "", have ? d.name : code,
				 json_array_size(given), json_array_size(all));
		if (have) {
			/* The department's card now says it has answered. */
			char *name = dir_name(ctx->store, ctx->ev->user_id);
			json_t *who = json_pack("{s:s}", "name", name);
			json_t *form = json_loads(r.form, 0, NULL), *completion = NULL;
			ms_t due = store_completion_get(ctx->store, r.id, &completion) == STORE_OK
					   ? (ms_t)json_integer_value(json_object_get(completion, "retro_due")) : ctx->now;
			json_t *card = retro_card(r.id, json_string_value(json_object_get(form, "需求名称")), &d, due, NULL, who);
			cmd_card_link(ctx, card, r.id);
			char *subject = retro_card_subject(r.id, d.code);
			cmd_notice_about(ctx, "card", card, d.chat_id && *d.chat_id ? d.chat_id : r.chat_id, subject, 1);
			free(subject);
			json_decref(card);
			json_decref(completion);
			json_decref(form);
			json_decref(who);
			free(name);
			dept_row_free(&d);
		}
		int complete = all && given && json_array_size(given) >= json_array_size(all);
		json_decref(all);
		json_decref(given);
		*stored = !ctx->failed;
		*all_in = complete && !ctx->failed;
	}
	json_decref(answers);
	json_decref(problems);
	free(code);
	request_row_free(&r);
	return rc;
}

/* Who has answered and who has not. */
static enum cmd_rc status(struct cmd_ctx *ctx, const char *id)
{
	struct request_row r;
	enum cmd_rc loaded = cmd_load_request(ctx, id, &r);
	if (loaded == CMD_OK && (loaded = cmd_may_see(ctx, &r, "查看")) != CMD_OK)
		request_row_free(&r);
	if (loaded != CMD_OK)
		return loaded;
	json_t *completion = NULL, *codes = retro_participants(ctx->store, r.id), *given = store_retro_answers(ctx->store, r.id);
	struct buf b;
	buf_init(&b);
	if (store_completion_get(ctx->store, r.id, &completion) != STORE_OK) {
		buf_printf(&b, "需求 %s %s，还没有开始复盘。", r.id, req_state_label(r.state));
	} else {
		char due[32];
		render_local_time(json_integer_value(json_object_get(completion, "retro_due")), 0, due, sizeof due);
		buf_printf(&b, "需求 %s 复盘 · %s · 截止 %s", r.id, req_state_label(r.state), due);
		size_t i, j;
		json_t *c, *g;
		json_array_foreach(codes, i, c) {
			struct dept_row d;
			int have = store_dept_get(ctx->store, json_string_value(c), &d) == STORE_OK;
			json_t *found = NULL;
			json_array_foreach(given, j, g)
				if (json_equal(json_object_get(g, "dept"), c))
					found = g;
			if (found) {
				char when[32], *who = dir_name(ctx->store, json_string_value(json_object_get(found, "author")));
				render_local_time(json_integer_value(json_object_get(found, "answered_at")), 0, when, sizeof when);
				buf_printf(&b, "\n%s：已提交（%s，%s）", have ? d.name : json_string_value(c), who, when);
				free(who);
			} else {
				buf_printf(&b, "\n%s：待提交", have ? d.name : json_string_value(c));
			}
			if (have)
				dept_row_free(&d);
		}
	}
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	json_decref(completion);
	json_decref(codes);
	json_decref(given);
	request_row_free(&r);
	return CMD_OK;
}

/* The initiator closes the retrospective before every department answered. */
static enum cmd_rc close_now(struct cmd_ctx *ctx, const char *id)
{
	struct request_row r;
	enum cmd_rc loaded = cmd_load_request(ctx, id, &r);
	if (loaded != CMD_OK)
		return loaded;
	enum cmd_rc rc = CMD_OK;
	char *msg = NULL;
	if (strcmp(ctx->ev->user_id, r.initiator)) {
		char *name = dir_name(ctx->store, r.initiator);
		msg = xasprintf("仅发起人 %s 可以结束需求 %s 的复盘并生成报告。", name, r.id);
		free(name);
		rc = CMD_EPERM;
	} else if (open_for_answers(&r, &msg)) {
		retro_finish(ctx, r.id, ctx->ev->user_id);
	}
	if (msg)
		cmd_reply_text(ctx, msg);
	free(msg);
	request_row_free(&r);
	return rc;
}

static enum cmd_rc run_status(struct cmd_ctx *ctx, const struct cmd_args *a) { return status(ctx, a->words[1]); }
static enum cmd_rc run_close(struct cmd_ctx *ctx, const struct cmd_args *a) { return close_now(ctx, a->words[1]); }

/* Without a subcommand: "/复盘 编号 [部门]" with the five answers, or
 * without them the lines to copy. */
static enum cmd_rc run_retro(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (!a->nwords || a->nwords > 2)
		return CMD_EUSAGE;
	const char *named = a->nwords == 2 ? a->words[1] : NULL;
	if (!a->nfields) {
		char *tpl = template_text(a->words[0], named), *msg = xasprintf("复制下面几行，填好五项答复后发送：\n%s", tpl);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(tpl);
		return CMD_OK;
	}
	json_t *pairs = json_object();
	for (size_t i = 0; i < a->nfields; i++)
		json_object_set_new(pairs, a->fields[i].key, json_string(a->fields[i].value));
	char *msg = NULL;
	int stored, all_in;
	enum cmd_rc rc = answer(ctx, a->words[0], named, pairs, &msg, &stored, &all_in);
	cmd_reply_text(ctx, msg);
	free(msg);
	if (all_in)
		retro_finish(ctx, a->words[0], NULL);
	json_decref(pairs);
	return rc;
}

static const struct bot_subcommand retro_subs[] = {
	{ "查看", "show", 1, 1, 0, "/复盘 查看 需求编号", run_status },
	{ "结束", "close", 1, 1, 0, "/复盘 结束 需求编号", run_close },
	{ 0 },
};

/* The card form's 提交复盘答复 button: its inputs are named by an alias of
 * each question (retro_card()), so the form's values go through
 * answers_from() -- form_collect() -- as typed answers do. */
static enum cmd_rc action_answer(struct cmd_ctx *ctx, json_t *value)
{
	json_t *pairs = ctx->ev->form_value;
	char *msg = NULL;
	int stored, all_in;
	const char *id = json_string_value(json_object_get(value, "id"));
	enum cmd_rc rc = answer(ctx, id, json_string_value(json_object_get(value, "dept")), pairs, &msg, &stored, &all_in);
	cmd_toast(ctx, stored ? "success" : "error", msg);
	if (stored) {
		cmd_reply_text(ctx, msg); /* the group sees it too */
		cmd_outcome(ctx, "已提交复盘答复", NULL, 1); /* answer() redraws the department's card */
	}
	free(msg);
	if (all_in)
		retro_finish(ctx, id, NULL);
	return rc;
}

const struct bot_command cmd_retro = {
	.name = "复盘",
	.alias = "retro",
	.usage = "/复盘 需求编号 [部门]，换行写五项“问题：答复” | 查看 需求编号 | 结束 需求编号",
	.summary = "参与部门提交复盘答复（五个问题）；发起人可结束复盘并生成报告",
	.run = run_retro,
	.subs = retro_subs,
};

const struct bot_action action_retro_answer = { .name = "retro.answer", .run = action_answer };
