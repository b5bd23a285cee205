/*
 * request.c - /需求 (/req): intake, approval, rejection, resubmission,
 * withdrawal, and views of 《跨部门协作需求信息表》.
 *
 *   /需求 + "字段：内容" lines     submit (every problem listed at once)
 *   /需求 批准 ID                  the initiating department's head (or deputy)
 *   /需求 驳回 ID 原因：…           the same; the reason is required
 *   /需求 修改 ID + changed lines  the initiator, after a rejection
 *   /需求 撤回 ID                  the initiator, before approval
 *   /需求 查看 ID | /需求 列表
 *
 * The 批准 / 驳回 buttons on the approval card run the same code.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/access.h"
#include "collabd/directory.h"
#include "collabd/render.h"
#include "collabd/request.h"
#include "collabd/sched.h"
#include "collabd/store.h"

static const char *approval_key_fmt = "req:%s:approval";
static const char *approval_subject_fmt = "approval:%s:v%d"; /* the approval card of one version */

/* The approval card shows the decision, however it was taken. */
static void approval_card_outcome(struct cmd_ctx *ctx, const struct request_row *r, const char *label,
				  const char *detail)
{
	char *subject = xasprintf(approval_subject_fmt, r->id, r->version);
	cmd_outcome_about(ctx, subject, r->chat_id, label, detail);
	free(subject);
}

static void reply_problems(struct cmd_ctx *ctx, json_t *problems)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "需求信息表有 %zu 处需要修改（未保存任何内容）：", json_array_size(problems));
	cmd_list_problems(&b, problems);
	buf_append_str(&b, "\n发送 /需求 查看填写格式。");
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
}

/* Appends a timeline row by the user who acted; takes the reference to
 * detail (may be NULL), as json_object_set_new() does. */
static void timeline_add_new(struct cmd_ctx *ctx, const char *kind, const char *id, json_t *detail)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, kind, id, text) != STORE_OK)
		ctx->failed = 1;
	free(text);
	json_decref(detail);
}

/* req_enter() for the user who acted: detail is stolen; version 0 and form
 * NULL keep the row's.  Sets ctx->failed when the store failed. */
static enum req_enter_rc enter(struct cmd_ctx *ctx, const struct request_row *r, enum req_event ev, json_t *detail,
			       int version, const char *form, const char *reason)
{
	char why[160];
	struct req_change c = { .actor = ctx->ev->user_id, .detail = detail, .version = version, .form = form,
				.reason = reason };
	enum req_enter_rc rc = req_enter(ctx->store, r, ev, &c, ctx->now, why, sizeof why);
	json_decref(detail);
	if (rc != REQ_ENTERED)
		ctx->failed = 1; /* refused too: the caller checked req_transition() first */
	return rc;
}

/* Asks the approver: the card (or markdown) and the approval deadline. */
static void ask_approval(struct cmd_ctx *ctx, const struct request_row *r, json_t *form, const struct dept_row *d)
{
	char today[11];
	cmd_today(ctx, today);
	char *approver = dir_acting(ctx->store, d->head, today);
	char *approver_name = dir_name(ctx->store, approver);
	char *initiator_name = dir_name(ctx->store, r->initiator);
	char *involved = dir_dept_names(ctx->store, json_object_get(form, "涉及部门"));
	json_t *body = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s}]}",
				 "id", r->id, "version", r->version,
				 "name", json_string_value(json_object_get(form, "需求名称")),
				 "dept", d->name, "initiator", initiator_name,
				 "background", json_string_value(json_object_get(form, "需求背景")),
				 "tasks", json_string_value(json_object_get(form, "具体任务")),
				 "departments", involved,
				 "due", json_string_value(json_object_get(form, "期望完成时间")),
				 "resources", json_string_value(json_object_get(form, "资源需求")) ?
						      json_string_value(json_object_get(form, "资源需求")) : "无",
				 "mentions", "id", approver, "name", approver_name);
	char *card_subject = xasprintf(approval_subject_fmt, r->id, r->version);
	cmd_reply_about(ctx, "request_approval", body, card_subject); /* redrawn once decided */
	free(card_subject);
	json_decref(body);

	char *key = xasprintf(approval_key_fmt, r->id);
	char *subject = xasprintf("需求 %s「%s」· 审批", r->id, json_string_value(json_object_get(form, "需求名称")));
	json_t *people = json_pack("{s:[{s:s,s:s}]}", "owner", "id", approver, "name", approver_name);
	if (d->superior) {
		char *sup = dir_name(ctx->store, d->superior);
		json_object_set_new(people, "superior", json_pack("[{s:s,s:s}]", "id", d->superior, "name", sup));
		free(sup);
	}
	struct sched_deadline dl = { .key = key, .policy = "approval", .platform = r->platform,
				     .chat_id = r->chat_id, .subject = subject, .people = people, .start = ctx->now };
	if (ctx->sched && sched_deadline_set(ctx->sched, &dl, NULL) != STORE_OK)
		ctx->failed = 1;
	json_decref(people);
	free(subject);
	free(key);
	free(involved);
	free(initiator_name);
	free(approver_name);
	free(approver);
}

/* No arguments: the form (a card with inputs on Feishu, the text to copy on
 * DingTalk), with the departments to choose from. */
static void show_form(struct cmd_ctx *ctx)
{
	struct dept_row *rows;
	size_t n;
	if (store_dept_list(ctx->store, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	json_t *depts = json_array(), *fields = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(depts, json_pack("{s:s,s:s}", "code", rows[i].code, "name", rows[i].name));
		dept_row_free(&rows[i]);
	}
	free(rows);
	for (size_t i = 0; i < request_field_count; i++)
		json_array_append_new(fields, json_pack("{s:s,s:s,s:b,s:i}", "key", request_fields[i].key, "name",
							request_fields[i].aliases[0], "required", request_fields[i].required,
							"max", request_fields[i].max_chars));
	json_t *body = json_pack("{s:o,s:o}", "departments", depts, "fields", fields);
	cmd_notice(ctx, "request_form", body, NULL);
	json_decref(body);
}

/* Validates and stores a submitted form (owned by the caller); returns 1
 * when the request was created. */
static int submit_form(struct cmd_ctx *ctx, json_t *form, json_t *problems)
{
	char today[11];
	cmd_today(ctx, today);
	request_form_check(ctx->store, form, ctx->ev->user_id, today, problems);
	if (json_array_size(problems)) {
		reply_problems(ctx, problems);
		return 0;
	}
	const char *code = json_string_value(json_object_get(form, "发起部门"));
	struct dept_row d;
	if (store_dept_get(ctx->store, code, &d) != STORE_OK) {
		ctx->failed = 1;
		return 0;
	}
	int year = atoi(today), month = atoi(today + 5);
	char *id = request_next_id(ctx->store, year, (month - 1) / 3 + 1, code);
	char *text = json_dumps(form, JSON_COMPACT | JSON_SORT_KEYS);
	char *hash = req_hash(text);
	struct request_row r = { .id = id, .dept = (char *)code, .initiator = ctx->ev->user_id,
				 .platform = (char *)ctx->ev->platform, .chat_id = ctx->ev->chat_id,
				 .state = "pending_approval", .version = 1, .form = text, .created_at = ctx->now };
	if (!id || store_request_add(ctx->store, &r) != STORE_OK ||
	    store_request_version_add(ctx->store, id, 1, text, hash, ctx->now) != STORE_OK) {
		ctx->failed = 1;
	} else {
		timeline_add_new(ctx, "request.submitted", id, json_pack("{s:i,s:s}", "version", 1, "hash", hash));
		char *approver = dir_name(ctx->store, d.head);
		char *msg = xasprintf("已提交需求 %s「%s」，等待 %s 负责人 %s 审批。", id,
				      json_string_value(json_object_get(form, "需求名称")), d.name, approver);
		cmd_reply_text(ctx, msg);
		free(msg);
		free(approver);
		ask_approval(ctx, &r, form, &d);
	}
	int ok = !ctx->failed;
	free(hash);
	free(text);
	free(id);
	dept_row_free(&d);
	return ok;
}

static enum cmd_rc submit(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	json_t *problems = json_array();
	json_t *form = request_form_from_args(a, problems);
	submit_form(ctx, form, problems);
	json_decref(form);
	json_decref(problems);
	return ctx->failed ? CMD_EINTERNAL : CMD_OK;
}

/* The form card's 提交 button. */
static enum cmd_rc action_submit(struct cmd_ctx *ctx, json_t *value)
{
	(void)value;
	json_t *problems = json_array();
	json_t *form = request_form_from_json(ctx->ev->form_value, problems);
	int ok = submit_form(ctx, form, problems);
	cmd_toast(ctx, ok ? "success" : "error", ok ? "已提交，等待审批" : "表单有需要修改的地方，详见群消息");
	json_decref(form);
	json_decref(problems);
	return CMD_OK;
}

/* Adds id to members unless it is there. */
static void add_member(json_t *members, const char *id)
{
	size_t i;
	json_t *m;
	json_array_foreach(members, i, m)
		if (!strcmp(json_string_value(m), id))
			return;
	json_array_append_new(members, json_string(id));
}

/*
 * requests.dedicated_chat: the approved request gets a 问题沟通群 with every
 * participant.  The group is created by the outbox (after commit, like any
 * send); until then the request's chat is an alias that the outbox resolves
 * to the new group -- or, if creating it fails, back to this group.
 */
static void move_to_dedicated_chat(struct cmd_ctx *ctx, const struct request_row *r, json_t *form,
				   const struct dept_row *home)
{
	char today[11];
	cmd_today(ctx, today);
	json_t *members = json_array();
	add_member(members, r->initiator);
	char *approver = dir_acting(ctx->store, home->head, today);
	add_member(members, approver);
	free(approver);
	size_t i;
	json_t *code;
	json_array_foreach(json_object_get(form, "涉及部门"), i, code) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		json_t *people = dir_people(ctx->store, &d, today);
		const char *roles[] = { "head", "owner" };
		for (int k = 0; k < 2; k++) {
			size_t j;
			json_t *p;
			json_array_foreach(json_object_get(people, roles[k]), j, p)
				add_member(members, json_string_value(json_object_get(p, "id")));
		}
		json_decref(people);
		dept_row_free(&d);
	}
	char *name = xasprintf("需求 %s · %s", r->id, json_string_value(json_object_get(form, "需求名称")));
	char *subject = xasprintf("chat:%s", r->id);
	char *alias = xasprintf("subject:%s", subject);
	json_t *body = json_pack("{s:s,s:o,s:s}", "name", name, "members", members, "fallback", r->chat_id);
	char *text = json_dumps(body, JSON_COMPACT);
	int64_t row = 0;
	if (store_outbox_add(ctx->store, r->platform, alias, NULL, NULL, "create_chat", text, ctx->now, &row) != STORE_OK ||
	    store_outbox_set_subject(ctx->store, row, subject) != STORE_OK ||
	    store_request_set_chat(ctx->store, r->id, alias) != STORE_OK)
		ctx->failed = 1;
	char *note = xasprintf("已为需求 %s 创建问题沟通群「%s」，各部门的确认和后续沟通在新群进行。", r->id, name);
	json_t *nb = json_pack("{s:s}", "text", note);
	cmd_notice_about(ctx, "text", nb, r->chat_id, NULL, 0);
	json_decref(nb);
	free(note);
	free(text);
	json_decref(body);
	free(alias);
	free(subject);
	free(name);
}

/* Loads request id and its initiating department for a decision.  CMD_OK;
 * CMD_ENOTFOUND after telling the user; CMD_EINTERNAL when the store failed
 * (nothing said: the event is not acknowledged and comes again). */
static enum cmd_rc load(struct cmd_ctx *ctx, const char *id, struct request_row *r, struct dept_row *d)
{
	enum cmd_rc rc = cmd_load_request(ctx, id, r);
	if (rc != CMD_OK)
		return rc;
	enum store_rc src = store_dept_get(ctx->store, r->dept, d);
	if (src == STORE_OK)
		return CMD_OK;
	if (src == STORE_NOTFOUND) {
		char *msg = xasprintf("需求 %s 的发起部门 %s 已不在部门目录中，请管理员处理。", id, r->dept);
		cmd_reply_text(ctx, msg);
		free(msg);
	}
	request_row_free(r);
	return src == STORE_NOTFOUND ? CMD_ENOTFOUND : CMD_EINTERNAL;
}

/*
 * Approves or rejects id.  Returns CMD_OK with *msg (caller frees) the
 * sentence for the person who acted and *done 1 when the request moved (0
 * when it was refused, e.g. already decided); CMD_EPERM when they may not.
 * Returns CMD_ENOTFOUND / CMD_EINTERNAL with *msg NULL when there is nothing
 * to decide (load() has said so) or the store failed.
 */
static enum cmd_rc decide(struct cmd_ctx *ctx, const char *id, enum req_event ev, const char *reason, char **msg,
			  int *done)
{
	struct request_row r;
	struct dept_row d;
	*msg = NULL;
	*done = 0;
	enum cmd_rc loaded = load(ctx, id, &r, &d);
	if (loaded != CMD_OK)
		return loaded;
	char today[11], why[160];
	cmd_today(ctx, today);
	enum cmd_rc rc = CMD_OK;
	const char *to = req_transition(r.state, ev, why, sizeof why);
	if (!dir_stands_for(ctx->store, ctx->ev->user_id, d.head, today)) {
		char *head = dir_name(ctx->store, d.head);
		*msg = xasprintf("仅 %s 负责人 %s（或其代理人）可以审批需求 %s。", d.name, head, r.id);
		free(head);
		rc = CMD_EPERM;
	} else if (!to) {
		*msg = xstrdup(why);
	} else if (ev == REQ_REJECT && (!reason || !*reason)) {
		*msg = xasprintf("驳回需要写明原因：/需求 驳回 %s 原因：……", r.id);
	} else if (enter(ctx, &r, ev, ev == REQ_REJECT ? json_pack("{s:i,s:s}", "version", r.version, "reason", reason)
						     : json_pack("{s:i}", "version", r.version),
			 0, NULL, reason) != REQ_ENTERED) {
		*msg = xstrdup("暂时无法保存，请稍后再试。");
	} else {
		*done = 1;
		char *key = xasprintf(approval_key_fmt, r.id);
		if (ctx->sched && sched_deadline_done(ctx->sched, key, "met") == STORE_ERR)
			ctx->failed = 1;
		free(key);
		char *who = dir_name(ctx->store, ctx->ev->user_id);
		json_t *form = json_loads(r.form, 0, NULL);
		const char *name = json_string_value(json_object_get(form, "需求名称"));
		approval_card_outcome(ctx, &r, ev == REQ_APPROVE ? "已批准" : "已驳回", ev == REQ_REJECT ? reason : NULL);
		if (ev == REQ_APPROVE) {
			char *involved = dir_dept_names(ctx->store, json_object_get(form, "涉及部门"));
			*msg = xasprintf("需求 %s「%s」已由 %s 批准，已同步给涉及部门：%s，请在 1 个工作日内确认。",
					 r.id, name, who, involved);
			free(involved);
			if (ctx->env && ctx->env->dedicated_chat)
				move_to_dedicated_chat(ctx, &r, form, &d);
			req_sync_start(ctx, r.id);
		} else {
			*msg = xasprintf("需求 %s「%s」已被 %s 驳回，原因：%s\n发起人可以发送 /需求 修改 %s 并附上要修改的字段，重新提交。",
					 r.id, name, who, reason, r.id);
		}
		json_decref(form);
		free(who);
	}
	request_row_free(&r);
	dept_row_free(&d);
	return rc;
}

static enum cmd_rc initiator_only(struct cmd_ctx *ctx, const struct request_row *r, const char *what)
{
	if (!strcmp(ctx->ev->user_id, r->initiator))
		return CMD_OK;
	char *name = dir_name(ctx->store, r->initiator);
	char *msg = xasprintf("仅发起人 %s 可以%s需求 %s。", name, what, r->id);
	cmd_reply_text(ctx, msg);
	free(msg);
	free(name);
	return CMD_EPERM;
}

static enum cmd_rc resubmit(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct request_row r;
	struct dept_row d;
	char why[160], today[11];
	enum cmd_rc loaded = load(ctx, a->words[1], &r, &d);
	if (loaded != CMD_OK)
		return loaded;
	enum cmd_rc rc = initiator_only(ctx, &r, "修改");
	/* After a rejection: resubmit for approval.  While departments answer:
	 * revise (采纳并修订), and they all confirm the new version. */
	int revising = !strcmp(r.state, "syncing");
	const char *to = rc == CMD_OK ? req_transition(r.state, revising ? REQ_REVISE : REQ_RESUBMIT, why, sizeof why)
				      : NULL;
	if (rc == CMD_OK && !to) {
		cmd_reply_text(ctx, why);
	} else if (rc == CMD_OK) {
		cmd_today(ctx, today);
		json_t *problems = json_array(), *form = json_loads(r.form, 0, NULL);
		json_t *changes = request_form_from_args(a, problems);
		json_object_update(form, changes);
		json_decref(changes);
		json_object_set_new(form, "发起部门", json_string(r.dept)); /* the id names it: it stays */
		request_form_check(ctx->store, form, ctx->ev->user_id, today, problems);
		if (json_array_size(problems)) {
			reply_problems(ctx, problems);
		} else {
			char *text = json_dumps(form, JSON_COMPACT | JSON_SORT_KEYS), *hash = req_hash(text);
			if (enter(ctx, &r, revising ? REQ_REVISE : REQ_RESUBMIT,
				  json_pack("{s:i,s:s}", "version", r.version + 1, "hash", hash), r.version + 1, text,
				  NULL) != REQ_ENTERED ||
			    store_request_version_add(ctx->store, r.id, r.version + 1, text, hash, ctx->now) != STORE_OK) {
				ctx->failed = 1;
			} else {
				r.version++;
				if (revising) {
					int64_t *oids;
					size_t n;
					if (store_objections_revised(ctx->store, r.id, ctx->now, &oids, &n) != STORE_OK)
						ctx->failed = 1;
					for (size_t i = 0; i < n; i++) {
						char *key = xasprintf("req:%s:objection:%lld", r.id, (long long)oids[i]);
						if (ctx->sched && sched_deadline_done(ctx->sched, key, "met") == STORE_ERR)
							ctx->failed = 1;
						free(key);
					}
					free(oids);
					req_ask_departments(ctx, r.id, 1);
				} else {
					char *m = xasprintf("需求 %s 已修改为第 %d 版，重新提交审批。", r.id, r.version);
					cmd_reply_text(ctx, m);
					free(m);
					ask_approval(ctx, &r, form, &d);
				}
			}
			free(text);
			free(hash);
		}
		json_decref(problems);
		json_decref(form);
	}
	request_row_free(&r);
	dept_row_free(&d);
	return rc;
}

static enum cmd_rc withdraw(struct cmd_ctx *ctx, const char *id)
{
	struct request_row r;
	struct dept_row d;
	char why[160];
	enum cmd_rc loaded = load(ctx, id, &r, &d);
	if (loaded != CMD_OK)
		return loaded;
	enum cmd_rc rc = initiator_only(ctx, &r, "撤回");
	const char *to = rc == CMD_OK ? req_transition(r.state, REQ_WITHDRAW, why, sizeof why) : NULL;
	if (rc == CMD_OK && !to) {
		cmd_reply_text(ctx, why);
	} else if (rc == CMD_OK) {
		char *key = xasprintf(approval_key_fmt, r.id);
		if (enter(ctx, &r, REQ_WITHDRAW, NULL, 0, NULL, NULL) != REQ_ENTERED ||
		    (ctx->sched && sched_deadline_done(ctx->sched, key, "cancelled") == STORE_ERR))
			ctx->failed = 1;
		free(key);
		approval_card_outcome(ctx, &r, "发起人已撤回", NULL);
		char *m = xasprintf("需求 %s 已撤回。", r.id);
		cmd_reply_text(ctx, m);
		free(m);
	}
	request_row_free(&r);
	dept_row_free(&d);
	return rc;
}

static const char *timeline_words(const char *kind)
{
	static const char *const words[][2] = {
		{ "request.submitted", "提交" }, { "request.rejected", "驳回" }, { "request.resubmitted", "修改后重新提交" },
		{ "request.approved", "批准" }, { "request.confirmed", "确认" }, { "request.objected", "提出异议" },
		{ "objection.answered", "答复异议" }, { "request.revised", "修订" }, { "request.in_progress", "进入执行" },
		{ "request.withdrawn", "撤回" },
	};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (!strcmp(words[i][0], kind))
			return words[i][1];
	return kind;
}

/* The full form, its versions, each department's signature, and the timeline. */
static enum cmd_rc view(struct cmd_ctx *ctx, const char *id)
{
	struct request_row r;
	struct dept_row d;
	enum cmd_rc loaded = load(ctx, id, &r, &d);
	if (loaded != CMD_OK)
		return loaded;
	enum cmd_rc may = cmd_may_see(ctx, &r, "查看");
	if (may != CMD_OK) {
		request_row_free(&r);
		dept_row_free(&d);
		return may;
	}
	json_t *form = json_loads(r.form, 0, NULL);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "需求 %s · %s · 第 %d 版（共 %d 版）", r.id, req_state_label(r.state), r.version,
		   store_request_version_count(ctx->store, r.id));
	for (size_t i = 0; i < request_field_count; i++) {
		json_t *v = json_object_get(form, request_fields[i].key);
		char *text = json_is_array(v) ? dir_dept_names(ctx->store, v)
					      : xstrdup(json_string_value(v) ? json_string_value(v) : "—");
		buf_printf(&b, "\n%s：%s", request_fields[i].key, text);
		free(text);
	}
	if (r.reason)
		buf_printf(&b, "\n驳回原因：%s", r.reason);
	struct request_dept_row *rows;
	size_t n;
	if (store_request_depts(ctx->store, r.id, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	for (size_t i = 0; i < n; i++) {
		struct dept_row dd;
		int ok = store_dept_get(ctx->store, rows[i].dept, &dd) == STORE_OK;
		buf_printf(&b, "\n%s：%s", ok ? dd.name : rows[i].dept, !strcmp(rows[i].state, "pending") ? "待确认"
					    : !strcmp(rows[i].state, "confirmed") ? "已确认"
					    : !strcmp(rows[i].state, "objected") ? "提出异议" : "已推进");
		if (rows[i].signed_by) {
			char *who = dir_name(ctx->store, rows[i].signed_by), when[32];
			render_local_time(rows[i].signed_at, 0, when, sizeof when);
			buf_printf(&b, "（%s，%s，第 %d 版，签名 %s）", who, when, rows[i].version,
				   rows[i].hash ? rows[i].hash : "-");
			free(who);
		}
		if (ok)
			dept_row_free(&dd);
	}
	request_dept_rows_free(rows, n);
	json_t *events = store_timeline_for(ctx->store, r.id, 10);
	size_t i;
	json_t *e;
	if (json_array_size(events))
		buf_append_str(&b, "\n记录：");
	json_array_foreach(events, i, e) {
		char when[32];
		render_local_time(json_integer_value(json_object_get(e, "at")), 0, when, sizeof when);
		char *who = dir_name(ctx->store, json_string_value(json_object_get(e, "actor")));
		buf_printf(&b, "\n· %s %s %s", when, who, timeline_words(json_string_value(json_object_get(e, "kind"))));
		free(who);
	}
	json_decref(events);
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	json_decref(form);
	request_row_free(&r);
	dept_row_free(&d);
	return CMD_OK;
}

/* Is user waiting to act on r: its approver, or a contact of a pending department? */
static int waits_for(struct cmd_ctx *ctx, const struct request_row *r, const char *today)
{
	if (!strcmp(r->state, "pending_approval")) {
		struct dept_row d;
		int yes = store_dept_get(ctx->store, r->dept, &d) == STORE_OK &&
			  dir_stands_for(ctx->store, ctx->ev->user_id, d.head, today);
		if (d.code)
			dept_row_free(&d);
		return yes;
	}
	if (strcmp(r->state, "syncing"))
		return 0;
	struct request_dept_row *rows;
	size_t n;
	if (store_request_depts(ctx->store, r->id, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	int yes = 0;
	for (size_t i = 0; i < n && !yes; i++) {
		if (strcmp(rows[i].state, "pending"))
			continue;
		char **ids;
		size_t k;
		if (store_dept_contacts(ctx->store, rows[i].dept, &ids, &k) != STORE_OK)
			ctx->failed = 1;
		for (size_t j = 0; j < k; j++) {
			yes |= dir_stands_for(ctx->store, ctx->ev->user_id, ids[j], today);
			free(ids[j]);
		}
		free(ids);
	}
	request_dept_rows_free(rows, n);
	return yes;
}

static void list_line(struct buf *b, const struct request_row *r)
{
	json_t *form = json_loads(r->form, 0, NULL);
	buf_printf(b, "\n%s「%s」· %s", r->id, json_string_value(json_object_get(form, "需求名称")),
		   req_state_label(r->state));
	json_decref(form);
}

/* Waiting for me, then mine, then the others I may see as one of their
 * people (access.h; newest 200 requests). */
static enum cmd_rc list(struct cmd_ctx *ctx)
{
	char today[11];
	struct access_asker asker;
	cmd_asker(ctx, &asker, today);
	struct request_row *rows;
	size_t n;
	if (store_request_recent(ctx->store, 200, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	struct buf waiting, mine, dept;
	buf_init(&waiting);
	buf_init(&mine);
	buf_init(&dept);
	for (size_t i = 0; i < n; i++) {
		if (waits_for(ctx, &rows[i], today))
			list_line(&waiting, &rows[i]);
		if (!strcmp(rows[i].initiator, ctx->ev->user_id))
			list_line(&mine, &rows[i]);
		else if (access_person_sees(ctx->store, &rows[i], &asker))
			list_line(&dept, &rows[i]);
		request_row_free(&rows[i]);
	}
	free(rows);
	struct buf b;
	buf_init(&b);
	if (waiting.len)
		buf_printf(&b, "等我处理：%s\n", (char *)waiting.data);
	if (mine.len)
		buf_printf(&b, "我发起的：%s\n", (char *)mine.data);
	if (dept.len)
		buf_printf(&b, "相关部门的：%s\n", (char *)dept.data);
	if (!b.len)
		buf_append_str(&b, "没有与你相关的需求。发送 /需求 填写需求信息表。");
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	buf_free(&waiting);
	buf_free(&mine);
	buf_free(&dept);
	return CMD_OK;
}

static enum cmd_rc run_decide(struct cmd_ctx *ctx, const struct cmd_args *a, enum req_event ev)
{
	char *msg;
	int done;
	enum cmd_rc rc = decide(ctx, a->words[1], ev, ev == REQ_REJECT ? cmd_field(a, "原因", "reason") : NULL, &msg,
				&done);
	if (msg)
		cmd_reply_text(ctx, msg);
	free(msg);
	return rc;
}

static enum cmd_rc run_approve(struct cmd_ctx *ctx, const struct cmd_args *a) { return run_decide(ctx, a, REQ_APPROVE); }
static enum cmd_rc run_reject(struct cmd_ctx *ctx, const struct cmd_args *a) { return run_decide(ctx, a, REQ_REJECT); }

static enum cmd_rc run_withdraw(struct cmd_ctx *ctx, const struct cmd_args *a) { return withdraw(ctx, a->words[1]); }
static enum cmd_rc run_view(struct cmd_ctx *ctx, const struct cmd_args *a) { return view(ctx, a->words[1]); }
static enum cmd_rc run_list(struct cmd_ctx *ctx, const struct cmd_args *a) { (void)a; return list(ctx); }

/* /需求 without a subcommand: the form, or a submission. */
static enum cmd_rc run_req(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (a->nwords)
		return CMD_EUSAGE;
	return a->nfields ? submit(ctx, a) : (show_form(ctx), CMD_OK);
}

static const struct bot_subcommand req_subs[] = {
	{ "批准", "approve", 1, 1, 0, "/需求 批准 编号", run_approve },
	{ "驳回", "reject", 1, 1, 0, "/需求 驳回 编号，换行写“原因：…”", run_reject },
	{ "修改", "edit", 1, 1, 1, "/需求 修改 编号，每行写一项要改的“字段：内容”", resubmit },
	{ "撤回", "withdraw", 1, 1, 0, "/需求 撤回 编号", run_withdraw },
	{ "查看", "show", 1, 1, 0, "/需求 查看 编号", run_view },
	{ "列表", "list", 0, 0, 0, "/需求 列表", run_list },
	{ "完成", "complete", 1, 1, 0, "/需求 完成 编号，换行写“交付物：…”", req_complete_cmd }, /* step 5: complete.c */
	{ 0 },
};

/* The approval card's buttons: the same decisions, answered with a toast and
 * announced in the group. */
static enum cmd_rc run_decision(struct cmd_ctx *ctx, json_t *value, enum req_event ev)
{
	const char *id = json_string_value(json_object_get(value, "id"));
	const char *reason = json_string_value(json_object_get(ctx->ev->form_value, "reason"));
	if (!id)
		return CMD_EUSAGE;
	char *msg;
	int done;
	enum cmd_rc rc = decide(ctx, id, ev, reason, &msg, &done);
	if (msg)
		cmd_toast(ctx, done ? "success" : "error", msg);
	else if (rc == CMD_ENOTFOUND)
		cmd_toast(ctx, "error", "这个需求已不存在或无法审批，详见群消息。");
	if (done) {
		cmd_reply_text(ctx, msg);
		cmd_outcome(ctx, ev == REQ_APPROVE ? "已批准" : "已驳回", ev == REQ_REJECT ? reason : NULL, 0);
	}
	free(msg);
	return rc;
}

static enum cmd_rc action_approve(struct cmd_ctx *ctx, json_t *value) { return run_decision(ctx, value, REQ_APPROVE); }
static enum cmd_rc action_reject(struct cmd_ctx *ctx, json_t *value) { return run_decision(ctx, value, REQ_REJECT); }

const struct bot_command cmd_req = {
	.name = "需求",
	.alias = "req",
	.usage = "/需求（每行一项“字段：内容”提交） | 批准 编号 | 驳回 编号 原因：… | 修改 编号 + 字段 | 撤回 编号 | 查看 编号 | 列表 | 完成 编号 交付物：…",
	.summary = "发起跨部门协作需求，审批、驳回、修改、撤回和查看",
	.run = run_req,
	.subs = req_subs,
};

const struct bot_action action_req_approve = { .name = "req.approve", .run = action_approve };
const struct bot_action action_req_submit = { .name = "req.submit", .run = action_submit };
const struct bot_action action_req_reject = { .name = "req.reject", .run = action_reject };
