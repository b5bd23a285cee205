/*
 * sync.c - step 2: the approved request goes to every involved department;
 * each confirms (确认无误, signed with the version's fingerprint) or objects
 * (提出异议, with 异议说明 and 建议方案) within one working day.
 *
 *   /确认 编号 [部门]                          a contact of that department (or deputy)
 *   /异议 编号 [部门] + 说明：… + 建议：…          the same
 *
 * One request card per request, updated in place as departments answer.
 * When every department has confirmed the request is 执行中.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/directory.h"
#include "collabd/progress.h"
#include "collabd/request.h"
#include "collabd/sched.h"
#include "collabd/store.h"

void req_sync_start(struct cmd_ctx *ctx, const char *id) { req_ask_departments(ctx, id, 0); }

void req_ask_departments(struct cmd_ctx *ctx, const char *id, int again)
{
	struct request_row r;
	if (store_request_get(ctx->store, id, &r) != STORE_OK)
		return;
	char today[11];
	cmd_today(ctx, today);
	json_t *form = json_loads(r.form, 0, NULL), *mentions = json_array();
	size_t i;
	json_t *code;
	struct request_dept_row *answers;
	size_t nanswers;
	if (store_request_depts(ctx->store, r.id, &answers, &nanswers) != STORE_OK)
		ctx->failed = 1;
	json_array_foreach(json_object_get(form, "涉及部门"), i, code) {
		/* After a revision, a department that confirmed (or was overruled)
		 * keeps its answer; the ones whose part changed -- those that
		 * objected, had not answered, or are new -- are asked again. */
		int settled = 0;
		for (size_t k = 0; again && k < nanswers; k++)
			if (!strcmp(answers[k].dept, json_string_value(code)))
				settled = !strcmp(answers[k].state, "confirmed") || !strcmp(answers[k].state, "overruled");
		struct dept_row d;
		if (settled || store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		if (store_request_dept_put(ctx->store, r.id, d.code, "pending") != STORE_OK)
			ctx->failed = 1;
		json_t *people = dir_people(ctx->store, &d, today);
		/* head and contacts are @-mentioned, once each */
		const char *roles[] = { "head", "owner" };
		for (size_t k = 0; k < 2; k++) {
			size_t j;
			json_t *p;
			json_array_foreach(json_object_get(people, roles[k]), j, p) {
				int seen = 0;
				size_t x;
				json_t *m;
				json_array_foreach(mentions, x, m)
					seen |= !strcmp(json_string_value(json_object_get(m, "id")),
							json_string_value(json_object_get(p, "id")));
				if (!seen)
					json_array_append(mentions, p);
			}
		}
		char *key = xasprintf("req:%s:confirm:%s", r.id, d.code);
		char *subject = xasprintf("需求 %s · %s确认", r.id, d.name);
		struct sched_deadline dl = { .key = key, .policy = "dept_confirm", .platform = r.platform,
					     .chat_id = r.chat_id, .subject = subject, .people = people, .start = ctx->now };
		if (ctx->sched && sched_deadline_set(ctx->sched, &dl, NULL) != STORE_OK)
			ctx->failed = 1;
		free(subject);
		free(key);
		json_decref(people);
		dept_row_free(&d);
	}
	request_dept_rows_free(answers, nanswers);
	char *subject = req_card_subject(r.id);
	if (again) {
		/* A revision: the same card, updated, and everyone asked anew. */
		char *text = xasprintf("需求 %s 已修订为第 %d 版，请提出异议或尚未确认的部门确认新版本（已确认部门的签名保留）。",
				       r.id, r.version);
		json_t *note = json_pack("{s:s,s:O}", "text", text, "mentions", mentions);
		cmd_notice_about(ctx, "text", note, r.chat_id, NULL, 0);
		json_decref(note);
		free(text);
		req_card_refresh(ctx, r.id);
	} else {
		json_t *body = req_card_body_new(ctx, &r, mentions);
		cmd_notice_about(ctx, "request_card", body, r.chat_id, subject, 0);
		json_decref(body);
	}
	free(subject);
	json_decref(mentions);
	json_decref(form);
	request_row_free(&r);
}

/*
 * The department user answers for in request id: the one named, or the only
 * pending one they are a contact (or deputy) of.  Returns the code (caller
 * frees) or NULL with *msg saying why.
 */
static char *answering_dept(struct cmd_ctx *ctx, const struct request_row *r, const char *named, char **msg)
{
	char today[11];
	cmd_today(ctx, today);
	struct request_dept_row *rows;
	size_t n;
	if (store_request_depts(ctx->store, r->id, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	char *found = NULL;
	int count = 0;
	struct buf who;
	buf_init(&who);
	for (size_t i = 0; i < n; i++) {
		struct dept_row d;
		if (store_dept_get(ctx->store, rows[i].dept, &d) != STORE_OK)
			continue;
		if (named && strcmp(named, d.code) && strcmp(named, d.name)) {
			dept_row_free(&d);
			continue;
		}
		char **ids;
		size_t k;
		if (store_dept_contacts(ctx->store, d.code, &ids, &k) != STORE_OK)
			ctx->failed = 1;
		int mine = 0;
		for (size_t j = 0; j < k; j++) {
			mine |= dir_stands_for(ctx->store, ctx->ev->user_id, ids[j], today);
			if (!strcmp(rows[i].state, "pending")) {
				char *name = dir_name(ctx->store, ids[j]);
				buf_printf(&who, "%s%s 接口人 %s", who.len ? "、" : "", d.name, name);
				free(name);
			}
			free(ids[j]);
		}
		free(ids);
		if (mine && !strcmp(rows[i].state, "pending") && count++ == 0)
			found = xstrdup(d.code);
		dept_row_free(&d);
	}
	request_dept_rows_free(rows, n);
	if (count == 1) {
		buf_free(&who);
		return found;
	}
	free(found);
	if (count > 1)
		*msg = xasprintf("你是多个部门的接口人，请写明部门，例如 /确认 %s 部门代码。", r->id);
	else if (who.len)
		*msg = xasprintf("仅 %s（或其代理人）可以确认或提出异议。", (char *)who.data);
	else
		*msg = xasprintf("需求 %s 没有待确认的部门。", r->id);
	buf_free(&who);
	return NULL;
}

/* Moves the request on when no department is pending or objecting. */
static void settle(struct cmd_ctx *ctx, const struct request_row *r);

void req_settle(struct cmd_ctx *ctx, const char *id)
{
	struct request_row r;
	if (store_request_get(ctx->store, id, &r) == STORE_OK) {
		settle(ctx, &r);
		request_row_free(&r);
	}
}

static void settle(struct cmd_ctx *ctx, const struct request_row *r)
{
	struct request_dept_row *rows;
	size_t n;
	if (store_request_depts(ctx->store, r->id, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	int open = 0;
	for (size_t i = 0; i < n; i++)
		open |= strcmp(rows[i].state, "confirmed") && strcmp(rows[i].state, "overruled");
	request_dept_rows_free(rows, n);
	char why[160];
	const char *to = req_transition(r->state, REQ_ALL_SETTLED, why, sizeof why);
	if (open || !to)
		return;
	struct req_change c = { .actor = "collabd" };
	if (req_enter(ctx->store, r, REQ_ALL_SETTLED, &c, ctx->now, why, sizeof why) != REQ_ENTERED) {
		ctx->failed = 1;
		return;
	}
	/* The group is told by the start card, which also carries the progress form. */
	progress_start(ctx, r->id);
}

/* Confirms (explanation NULL) or objects for the user's department.  *msg
 * (caller frees) is the answer for the user, *done 1 when the department's
 * answer was recorded.  On a store error: CMD_EINTERNAL, *msg NULL. */
static enum cmd_rc answer(struct cmd_ctx *ctx, const char *id, const char *named, const char *explanation,
			  const char *proposal, int objecting, char **msg, int *done)
{
	struct request_row r;
	*msg = NULL;
	*done = 0;
	enum store_rc src = id ? store_request_get(ctx->store, id, &r) : STORE_NOTFOUND;
	if (src == STORE_ERR) {
		ctx->failed = 1;
		return CMD_EINTERNAL;
	}
	if (src != STORE_OK) {
		char *echo = cmd_echo(id ? id : "");
		*msg = xasprintf("没有需求 %s。", echo);
		free(echo);
		return CMD_ENOTFOUND;
	}
	enum cmd_rc rc = CMD_OK;
	char *code = NULL;
	if (strcmp(r.state, "syncing")) {
		*msg = xasprintf("需求 %s %s，现在不需要确认。", r.id, req_state_label(r.state));
	} else if (objecting && (!explanation || !*explanation || !proposal || !*proposal)) {
		*msg = xasprintf("提出异议需要写明两项：\n/异议 %s\n说明：（哪里有问题：时间太紧、资源不足……）\n建议：（例如调整时间、增加资源）",
				 r.id);
	} else if (!(code = answering_dept(ctx, &r, named, msg))) {
		rc = CMD_EPERM;
	} else {
		*done = 1;
		char *hash = req_hash(r.form);
		enum store_rc s = store_request_dept_sign(ctx->store, r.id, code, objecting ? "objected" : "confirmed",
							  ctx->ev->user_id, ctx->now, r.version, hash);
		char *key = xasprintf("req:%s:confirm:%s", r.id, code);
		if (s != STORE_OK || (ctx->sched && sched_deadline_done(ctx->sched, key, "met") == STORE_ERR))
			ctx->failed = 1;
		free(key);
		struct dept_row d;
		if (store_dept_get(ctx->store, code, &d) != STORE_OK)
			d.name = xstrdup(code);
		json_t *detail = json_pack("{s:s,s:i,s:s}", "dept", code, "version", r.version, "hash", hash);
		if (objecting) {
			int64_t oid = 0;
			if (store_objection_add(ctx->store, r.id, code, ctx->ev->user_id, explanation, proposal, ctx->now,
						&oid) != STORE_OK)
				ctx->failed = 1;
			json_object_set_new(detail, "objection", json_integer(oid));
			/* The initiator must answer within two working days. */
			char *okey = xasprintf("req:%s:objection:%lld", r.id, (long long)oid);
			char *osubject = xasprintf("需求 %s · 答复%s的异议", r.id, d.name);
			char *iname = dir_name(ctx->store, r.initiator);
			json_t *people = json_pack("{s:[{s:s,s:s}]}", "owner", "id", r.initiator, "name", iname);
			/* Unanswered, it escalates to the initiating department's superior. */
			struct dept_row home;
			if (store_dept_get(ctx->store, r.dept, &home) == STORE_OK) {
				if (home.superior) {
					char *sup = dir_name(ctx->store, home.superior);
					json_object_set_new(people, "superior",
							    json_pack("[{s:s,s:s}]", "id", home.superior, "name", sup));
					free(sup);
				}
				dept_row_free(&home);
			}
			struct sched_deadline dl = { .key = okey, .policy = "objection_answer", .platform = r.platform,
						     .chat_id = r.chat_id, .subject = osubject, .people = people,
						     .start = ctx->now };
			if (ctx->sched && sched_deadline_set(ctx->sched, &dl, NULL) != STORE_OK)
				ctx->failed = 1;
			json_t *who = json_pack("[{s:s,s:s}]", "id", r.initiator, "name", iname);
			json_t *fields = json_pack("[{s:s,s:s},{s:s,s:s}]", "label", "异议说明", "value", explanation,
						   "label", "建议方案", "value", proposal);
			char *text = xasprintf("%s 对需求 %s 提出异议（异议编号 %lld）。请发起人在 2 个工作日内答复。", d.name,
					       r.id, (long long)oid);
			req_objection_card(ctx, r.chat_id, (long long)oid, 0, text, fields, who);
			json_decref(fields);
			json_decref(who);
			free(text);
			json_decref(people);
			free(iname);
			free(osubject);
			free(okey);
			*msg = xasprintf("已记录 %s 对需求 %s 的异议，并通知发起人。", d.name, r.id);
		} else {
			*msg = xasprintf("%s 已确认需求 %s（第 %d 版，签名 %s）。", d.name, r.id, r.version, hash);
		}
		char *detail_text = json_dumps(detail, JSON_COMPACT);
		if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id,
				       objecting ? "request.objected" : "request.confirmed", r.id, detail_text) != STORE_OK)
			ctx->failed = 1;
		free(detail_text);
		json_decref(detail);
		dept_row_free(&d);
		free(hash);
		settle(ctx, &r);
		req_card_refresh(ctx, r.id); /* after settle: the card shows the new state */
	}
	free(code);
	request_row_free(&r);
	return rc;
}

static enum cmd_rc run_confirm(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (a->nwords < 1 || a->nwords > 2)
		return CMD_EUSAGE;
	char *msg;
	int done;
	enum cmd_rc rc = answer(ctx, a->words[0], a->nwords == 2 ? a->words[1] : NULL, NULL, NULL, 0, &msg, &done);
	if (msg)
		cmd_reply_text(ctx, msg);
	free(msg);
	return rc;
}

enum cmd_rc req_object_raise(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (a->nwords < 1 || a->nwords > 2)
		return CMD_EUSAGE;
	char *msg;
	int done;
	enum cmd_rc rc = answer(ctx, a->words[0], a->nwords == 2 ? a->words[1] : NULL,
				cmd_field(a, "说明", "explanation") ? cmd_field(a, "说明", "explanation") : cmd_field(a, "异议说明", NULL),
				cmd_field(a, "建议", "proposal") ? cmd_field(a, "建议", "proposal") : cmd_field(a, "建议方案", NULL),
				1, &msg, &done);
	if (msg)
		cmd_reply_text(ctx, msg);
	free(msg);
	return rc;
}

static enum cmd_rc card_answer(struct cmd_ctx *ctx, json_t *value, int objecting)
{
	json_t *fv = ctx->ev->form_value;
	char *msg;
	int done;
	enum cmd_rc rc = answer(ctx, json_string_value(json_object_get(value, "id")), NULL,
				json_string_value(json_object_get(fv, "explanation")),
				json_string_value(json_object_get(fv, "proposal")), objecting, &msg, &done);
	if (msg)
		cmd_toast(ctx, done ? "success" : "error", msg);
	if (done) /* the card itself is redrawn by answer(): the request card's subject */
		cmd_outcome(ctx, objecting ? "提出异议" : "确认无误", msg, 1);
	free(msg);
	return rc;
}

static enum cmd_rc action_confirm(struct cmd_ctx *ctx, json_t *value) { return card_answer(ctx, value, 0); }
static enum cmd_rc action_object(struct cmd_ctx *ctx, json_t *value) { return card_answer(ctx, value, 1); }

const struct bot_command cmd_confirm = {
	.name = "确认",
	.alias = "confirm",
	.usage = "/确认 需求编号 [部门]",
	.summary = "涉及部门的接口人确认需求无误（签名）",
	.run = run_confirm,
};

const struct bot_action action_req_confirm = { .name = "req.confirm", .run = action_confirm };
const struct bot_action action_req_object = { .name = "req.object", .run = action_object };
