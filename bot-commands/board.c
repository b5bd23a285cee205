/*
 * board.c - the 进度看板 in chat: the daily digest after the cut-off and
 * /看板 on demand.
 *
 *   /看板 编号     one request: each department's update today, who is late,
 *                 open issues, working days left to the due date; after
 *                 execution, the board of its last day and where the archive is
 *   /看板          every in-progress request I am one of the people of (access.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/access.h"
#include "collabd/archive.h"
#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/progress.h"
#include "collabd/request.h"
#include "collabd/sched.h"

static const char *issue_state_label(const char *state)
{
	static const char *const labels[][2] = {
		{ "reported", "待响应" }, { "responded", "已响应" }, { "solution_recorded", "方案已定" }, { "reopened", "已重新打开" },
	};
	for (size_t i = 0; i < ARRAY_LEN(labels); i++)
		if (!strcmp(labels[i][0], state))
			return labels[i][1];
	return state;
}

/* Working days after today up to and including the due date (negative when
 * it has passed: the working days since). */
static int working_days_left(const struct calendar *cal, ms_t now, const char *due)
{
	int y, m, d;
	if (!due || calendar_parse_date(due, &y, &m, &d))
		return 0;
	ms_t end = calendar_local_time(y, m, d, 12 * 60);
	int sign = end >= now ? 1 : -1, n = 0;
	for (ms_t t = now; sign > 0 ? t + 86400000LL <= end + 43200000LL : t - 86400000LL >= end - 43200000LL;) {
		t += sign * 86400000LL;
		int yy, mm, dd;
		calendar_local_date(t, &yy, &mm, &dd, NULL);
		n += calendar_is_workday(cal, yy, mm, dd);
		if (n > 5000)
			break;
	}
	return sign * n;
}

/* "技术部（张三）", for department code; caller frees. */
static char *dept_and_person(struct cmd_ctx *ctx, const char *code, const char *user)
{
	struct dept_row d;
	int ok = store_dept_get(ctx->store, code, &d) == STORE_OK;
	char *name = dir_name(ctx->store, user);
	char *s = xasprintf("%s（%s）", ok ? d.name : code, name);
	free(name);
	if (ok)
		dept_row_free(&d);
	return s;
}

json_t *progress_digest_card(struct cmd_ctx *ctx, const char *request_id, const char *day, int closing)
{
	struct request_row r;
	if (store_request_get(ctx->store, request_id, &r) != STORE_OK)
		return NULL;
	json_t *owners = progress_owners(ctx->store, r.id), *updates = progress_updates_of_day(ctx->store, r.id, day);
	json_t *issues = progress_open_issues(ctx->store, r.id);
	if (!owners || !updates || !issues) {
		json_decref(owners);
		json_decref(updates);
		json_decref(issues);
		request_row_free(&r);
		return NULL;
	}
	json_t *form = json_loads(r.form, 0, NULL);
	json_t *sections = json_array(), *late = json_array();
	size_t i, k;
	json_t *o, *u;
	int posted = 0;
	json_array_foreach(owners, i, o) {
		const char *dept = json_string_value(json_object_get(o, "dept"));
		char *who = dept_and_person(ctx, dept, json_string_value(json_object_get(o, "user_id")));
		json_t *found = NULL;
		json_array_foreach(updates, k, u)
			if (!strcmp(json_string_value(json_object_get(u, "dept")), dept))
				found = u;
		json_t *lines = json_array();
		char *heading;
		if (found) {
			posted++;
			int was_late = json_is_true(json_object_get(found, "late")) ||
				       json_integer_value(json_object_get(found, "late"));
			heading = xasprintf("%s · %s", who, was_late ? "⚠ 逾期提交" : "✅ 已提交");
			const char *undone = json_string_value(json_object_get(found, "undone"));
			json_array_append_new(lines, json_sprintf("已完成：%s", json_string_value(json_object_get(found, "done"))));
			json_array_append_new(lines, json_sprintf("未完成原因：%s", undone && *undone ? undone : "无"));
			json_array_append_new(lines, json_sprintf("下一步：%s", json_string_value(json_object_get(found, "next"))));
		} else {
			heading = xasprintf("%s · %s", who, closing ? "❗ 未提交" : "⏳ 尚未提交");
			json_array_append_new(lines, json_string(closing ? "今日未提交进度" : "截止前请提交"));
			if (closing)
				json_array_append_new(late, json_string(who));
		}
		json_array_append_new(sections, json_pack("{s:s,s:o}", "heading", heading, "lines", lines));
		free(heading);
		free(who);
	}
	json_t *issue_lines = json_array();
	json_t *is;
	json_array_foreach(issues, i, is)
		json_array_append_new(issue_lines, json_sprintf("%s（%s · %s）", json_string_value(json_object_get(is, "id")),
								 json_string_value(json_object_get(is, "severity")),
								 issue_state_label(json_string_value(json_object_get(is, "state")))));
	if (!json_array_size(issue_lines))
		json_array_append_new(issue_lines, json_string("无"));
	json_array_append_new(sections, json_pack("{s:s,s:o}", "heading", "进行中的问题", "lines", issue_lines));
	const char *due = json_string_value(json_object_get(form, "期望完成时间"));
	int left = working_days_left(sched_calendar(ctx->sched), ctx->now, due);
	char *left_text = left >= 0 ? xasprintf("%s（还剩 %d 个工作日）", due ? due : "—", left)
				    : xasprintf("%s（已超期 %d 个工作日）", due ? due : "—", -left);
	char *summary = xasprintf("%d/%zu 个部门已提交", posted, json_array_size(owners));
	struct buf late_text;
	buf_init(&late_text);
	json_t *l;
	json_array_foreach(late, i, l)
		buf_printf(&late_text, "%s%s", i ? "、" : "", json_string_value(l));
	char *title = xasprintf("📊 进度看板 · 需求 %s · %s", r.id, day);
	const char *name = json_string_value(json_object_get(form, "需求名称"));
	json_t *card = json_pack("{s:s,s:s,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}],s:o}", "title", title,
				 "color", json_array_size(late) ? "orange" : "green", "fields",
				 "label", "需求名称", "value", name ? name : "",
				 "label", "状态", "value", req_state_label(r.state),
				 "label", "今日进度", "value", summary,
				 "label", "逾期未提交", "value", late_text.len ? (char *)late_text.data : "无",
				 "label", "期望完成时间", "value", left_text, "sections", sections);
	cmd_card_link(ctx, card, r.id);
	free(title);
	free(summary);
	free(left_text);
	buf_free(&late_text);
	json_decref(late);
	json_decref(form);
	json_decref(owners);
	json_decref(updates);
	json_decref(issues);
	request_row_free(&r);
	return card;
}

/* Departments user heads or answers for (codes); new reference. */
static json_t *my_departments(struct cmd_ctx *ctx)
{
	char today[11];
	cmd_today(ctx, today);
	json_t *mine = json_array();
	struct dept_row *depts;
	size_t n;
	if (store_dept_list(ctx->store, &depts, &n) != STORE_OK)
		ctx->failed = 1;
	for (size_t i = 0; i < n; i++) {
		int in = dir_stands_for(ctx->store, ctx->ev->user_id, depts[i].head, today);
		char **ids;
		size_t k;
		if (store_dept_contacts(ctx->store, depts[i].code, &ids, &k) != STORE_OK)
			ctx->failed = 1;
		for (size_t j = 0; j < k; j++) {
			in |= dir_stands_for(ctx->store, ctx->ev->user_id, ids[j], today);
			free(ids[j]);
		}
		free(ids);
		if (in)
			json_array_append_new(mine, json_string(depts[i].code));
		dept_row_free(&depts[i]);
	}
	free(depts);
	return mine;
}

/* The latest day a request has progress for (an update or a verdict), into
 * day; 0 when it has none, -1 on a store error. */
static int last_progress_day(struct cmd_ctx *ctx, const char *id, char day[11])
{
	json_t *days = progress_days_all(ctx->store, id), *updates = progress_updates_all(ctx->store, id);
	int rc = days && updates ? 0 : -1;
	day[0] = '\0';
	json_t *lists[] = { days, updates }, *row;
	size_t i;
	for (size_t k = 0; k < ARRAY_LEN(lists); k++)
		json_array_foreach(lists[k], i, row) {
			const char *d = json_string_value(json_object_get(row, "day"));
			if (d && strlen(d) == 10 && strcmp(d, day) > 0) {
				memcpy(day, d, 11);
				rc = 1;
			}
		}
	json_decref(days);
	json_decref(updates);
	return rc;
}

/* After execution (completed, archived): the board as it stood on the last
 * day, and where the archive is.  NULL with *rc set when there is none. */
static json_t *final_board(struct cmd_ctx *ctx, const struct request_row *r, enum cmd_rc *rc)
{
	char day[11];
	int has = last_progress_day(ctx, r->id, day);
	*rc = has < 0 ? CMD_EINTERNAL : CMD_OK;
	if (has <= 0)
		return NULL;
	json_t *card = progress_digest_card(ctx, r->id, day, 1);
	if (!card) {
		*rc = CMD_EINTERNAL;
		return NULL;
	}
	char *title = xasprintf("📊 最终进度看板 · 需求 %s · %s", r->id, day);
	json_object_set_new(card, "title", json_string(title));
	free(title);
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(card, "fields"), i, f)
		if (!strcmp(json_string_value(json_object_get(f, "label")), "今日进度"))
			json_object_set_new(f, "label", json_string("最后一日进度"));
	json_t *archive;
	enum store_rc src = store_archive_find(ctx->store, r->id, &archive);
	char *note;
	if (src == STORE_OK) {
		note = xasprintf("需求%s，执行阶段已结束：这是 %s 的最终看板。全部进度记录见协作项目库归档 %s（发送 /归档 %s 查看）。",
				 req_state_label(r->state), day, json_string_value(json_object_get(archive, "name")), r->id);
		json_decref(archive);
	} else {
		if (src == STORE_ERR)
			*rc = CMD_EINTERNAL;
		note = xasprintf("需求%s，执行阶段已结束：这是 %s 的最终看板。", req_state_label(r->state), day);
	}
	json_object_set_new(card, "note", json_string(note));
	free(note);
	return card;
}

static enum cmd_rc run_board(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	char today[11];
	cmd_today(ctx, today);
	if (args->nwords) {
		struct request_row r;
		enum cmd_rc rc = cmd_load_request(ctx, args->words[0], &r);
		if (rc != CMD_OK)
			return rc;
		if ((rc = cmd_may_see(ctx, &r, "查看")) != CMD_OK) {
			request_row_free(&r);
			return rc;
		}
		int running = !strcmp(r.state, "in_progress");
		if (!strcmp(r.state, "completed") || !strcmp(r.state, "archived")) {
			enum cmd_rc frc;
			json_t *card = final_board(ctx, &r, &frc);
			if (card) {
				cmd_notice(ctx, "card", card, NULL);
				json_decref(card);
			}
			if (card || frc != CMD_OK) {
				request_row_free(&r);
				return frc;
			}
		}
		if (!running) {
			char *msg = xasprintf("需求 %s %s，还没有进度看板（执行阶段才有）。用 /需求 查看 %s 看详情。", r.id,
					      req_state_label(r.state), r.id);
			cmd_reply_text(ctx, msg);
			free(msg);
		}
		request_row_free(&r);
		if (!running)
			return CMD_OK;
		json_t *card = progress_digest_card(ctx, args->words[0], today, 0);
		if (!card)
			return CMD_EINTERNAL;
		cmd_notice(ctx, "card", card, NULL);
		json_decref(card);
		return CMD_OK;
	}
	json_t *mine = my_departments(ctx), *lines = json_array();
	struct access_asker asker;
	char day[11];
	cmd_asker(ctx, &asker, day);
	struct request_row *rows;
	size_t n;
	if (store_request_recent(ctx->store, 500, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(rows[i].state, "in_progress") && access_person_sees(ctx->store, &rows[i], &asker)) {
			json_t *owners = progress_owners(ctx->store, rows[i].id);
			json_t *updates = progress_updates_of_day(ctx->store, rows[i].id, today);
			json_t *issues = progress_open_issues(ctx->store, rows[i].id);
			json_t *form = json_loads(rows[i].form, 0, NULL);
			const char *name = json_string_value(json_object_get(form, "需求名称"));
			int left = working_days_left(sched_calendar(ctx->sched), ctx->now,
						     json_string_value(json_object_get(form, "期望完成时间")));
			json_array_append_new(lines, json_sprintf("%s %s · 今日 %zu/%zu 已提交 · 进行中问题 %zu · %s %d 个工作日",
								  rows[i].id, name ? name : "", json_array_size(updates),
								  json_array_size(owners), json_array_size(issues),
								  left >= 0 ? "剩余" : "已超期", left >= 0 ? left : -left));
			json_decref(form);
			json_decref(owners);
			json_decref(updates);
			json_decref(issues);
		}
		request_row_free(&rows[i]);
	}
	free(rows);
	if (!json_array_size(lines) && !json_array_size(mine)) {
		cmd_reply_text(ctx, "你不是任何部门的负责人或接口人。用 /看板 编号 查看某个需求的进度看板。");
	} else if (!json_array_size(lines)) {
		cmd_reply_text(ctx, "你所在部门目前没有执行中的需求。");
	} else {
		char *title = xasprintf("📊 进度看板 · %s", today);
		json_t *card = json_pack("{s:s,s:s,s:[{s:O}],s:s}", "title", title, "color", "blue", "sections", "lines", lines,
					 "note", "发送 /看板 编号 查看某个需求各部门的当日进度。");
		cmd_card_link(ctx, card, NULL);
		cmd_notice(ctx, "card", card, NULL);
		json_decref(card);
		free(title);
	}
	json_decref(lines);
	json_decref(mine);
	return CMD_OK;
}

const struct bot_command cmd_board = {
	.name = "看板",
	.alias = "board",
	.usage = "/看板 [编号]",
	.summary = "进度看板：某个需求各部门今日进度、逾期、问题与剩余工作日；不写编号列出本部门所有执行中需求",
	.run = run_board,
};
