/*
 * retro_finish.c - writing 《跨部门协作复盘报告》 when every participating
 * department has answered (or the initiator closes the retrospective):
 * the figures and suggestions are stored with the archive, the report's
 * Markdown and HTML are written into it, the request is 已归档, a summary
 * card goes to the request's group, and the report goes to the management
 * department (企业管理部: its chat, its head @-mentioned).
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/config.h"
#include "collabd/directory.h"
#include "collabd/log.h"
#include "collabd/request.h"
#include "collabd/retro.h"
#include "collabd/sched.h"
#include "collabd/sla.h"
#include "collabd/store.h"

static int num(json_t *o, const char *key) { return (int)json_integer_value(json_object_get(o, key)); }

/* The figures in a few lines for the card; the tables are in the files. */
static json_t *summary_lines(json_t *m)
{
	json_t *lines = json_array(), *t = json_object_get(m, "totals"), *ap = json_object_get(m, "approval");
	if (json_is_object(ap)) {
		char took[32];
		retro_duration_text(json_integer_value(json_object_get(ap, "elapsed_ms")), took, sizeof took);
		json_array_append_new(lines, json_sprintf("需求审批用时 %s（工作时间，%s）", took,
							  json_is_true(json_object_get(ap, "within")) ? "达标" : "超时"));
	}
	json_array_append_new(lines, json_sprintf("部门确认：%d 个部门中 %d 个在 1 个工作日内答复", num(t, "confirm_total"),
						  num(t, "confirm_within")));
	json_array_append_new(lines, json_sprintf("异议：%d 条，%d 条按时答复", num(t, "objections"), num(t, "objections_within")));
	json_array_append_new(lines, json_sprintf("每日进度：按时 %d 次、迟交 %d 次、缺失 %d 次", num(t, "progress_on_time"),
						  num(t, "progress_late"), num(t, "progress_missed")));
	json_array_append_new(lines, json_sprintf("问题：%d 个；上报超时 %d、响应超时 %d、解决超期 %d", num(t, "issues"),
						  num(t, "report_late"), num(t, "response_late"), num(t, "resolution_late")));
	json_array_append_new(lines, json_sprintf("升级上级 %d 次，推迟提醒 %d 次", num(t, "escalations"), num(t, "snoozes")));
	return lines;
}

/* The names, or "无" for none (caller frees). */
static char *dept_names(struct store *st, json_t *codes)
{
	char *names = dir_dept_names(st, codes);
	if (*names)
		return names;
	free(names);
	return xstrdup("无");
}

static json_t *report_card(struct cmd_ctx *ctx, const struct request_row *r, const char *archive, json_t *report)
{
	json_t *form = json_loads(r->form, 0, NULL), *suggestions = json_array(), *s;
	size_t i;
	json_array_foreach(json_object_get(report, "suggestions"), i, s) {
		json_t *dept = json_object_get(s, "dept");
		json_t *one = dept ? json_pack("[O]", dept) : NULL;
		char *who = one ? dept_names(ctx->store, one) : xstrdup("数据");
		json_decref(one);
		json_array_append_new(suggestions, json_sprintf("【%s】%s", who, json_string_value(json_object_get(s, "text"))));
		free(who);
	}
	char *title = xasprintf("📊 跨部门协作复盘报告 · %s", r->id);
	char *answered = dept_names(ctx->store, json_object_get(report, "answered"));
	char *missing = dept_names(ctx->store, json_object_get(report, "missing"));
	char *note = xasprintf("完整报告（答复、数据表、建议）已存入协作项目库：/归档 %s", archive);
	json_t *body = json_pack("{s:s,s:s,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}],s:[{s:s,s:o},{s:s,s:o}],s:s}",
				 "title", title, "color", "green", "fields", "label", "需求", "value",
				 json_string_value(json_object_get(form, "需求名称")) ? json_string_value(json_object_get(form, "需求名称")) : r->id,
				 "label", "归档编号", "value", archive, "label", "已提交复盘", "value", answered, "label",
				 "未提交复盘", "value", missing, "sections", "heading", "协作数据", "lines",
				 summary_lines(json_object_get(report, "metrics")), "heading", "改进建议", "lines", suggestions,
				 "note", note);
	cmd_card_link(ctx, body, r->id);
	free(note);
	free(missing);
	free(answered);
	free(title);
	json_decref(form);
	return body;
}

/* The management department from config; its chat and acting head. */
static void to_management(struct cmd_ctx *ctx, const struct request_row *r, json_t *card)
{
	const struct config *cfg = ctx->env ? ctx->env->cfg : NULL;
	const char *code = cfg ? cfg->archive.management_dept : NULL;
	if (!code || !*code)
		return;
	struct dept_row d;
	if (store_dept_get(ctx->store, code, &d) != STORE_OK) {
		log_warn("msg=\"management.dept is not in the directory; the report stays in the request's group\" dept=%s", code);
		return;
	}
	char today[11];
	cmd_today(ctx, today);
	char *head = dir_acting(ctx->store, d.head, today), *name = dir_name(ctx->store, head);
	json_t *copy = json_deep_copy(card);
	json_object_set_new(copy, "mentions", json_pack("[{s:s,s:s}]", "id", head, "name", name));
	char *lead = xasprintf("提交%s：需求 %s 的复盘报告，作为后续流程改进的依据。", d.name, r->id);
	json_object_set_new(copy, "lead", json_string(lead));
	/* Without a chat of its own the head is @-mentioned in the request's group. */
	cmd_notice_about(ctx, "card", copy, d.chat_id && *d.chat_id ? d.chat_id : r->chat_id, NULL, 0);
	free(lead);
	json_decref(copy);
	free(name);
	free(head);
	dept_row_free(&d);
}

void retro_finish(struct cmd_ctx *ctx, const char *id, const char *closed_by)
{
	struct request_row r;
	if (store_request_get(ctx->store, id, &r) != STORE_OK) {
		ctx->failed = 1;
		return;
	}
	char why[160];
	const char *to = req_transition(r.state, REQ_REPORT, why, sizeof why);
	const struct config *cfg = ctx->env ? ctx->env->cfg : NULL;
	struct sla_policies *pol = sla_policies_new(cfg ? cfg->sla : NULL, NULL, NULL);
	const struct calendar *cal = ctx->sched ? sched_calendar(ctx->sched) : NULL;
	json_t *report = to && cal ? retro_report_build(ctx->store, cal, pol, r.id, ctx->now) : NULL;
	json_t *archive = NULL;
	if (!to || !report || store_archive_find(ctx->store, r.id, &archive) != STORE_OK) {
		ctx->failed = 1;
		goto out;
	}
	const char *name = json_string_value(json_object_get(archive, "name"));
	json_t *detail = json_pack("{s:s,s:O,s:s?}", "archive", name, "missing", json_object_get(report, "missing"),
				   "closed_by", closed_by);
	struct req_change c = { .actor = closed_by ? closed_by : "collabd", .detail = detail };
	enum req_enter_rc entered = req_enter(ctx->store, &r, REQ_REPORT, &c, ctx->now, why, sizeof why);
	json_decref(detail);
	if (entered != REQ_ENTERED) {
		ctx->failed = 1;
		goto out;
	}
	/* Departments that never answered are no longer reminded. */
	char *prefix = xasprintf("req:%s:retro:", r.id);
	json_t *keys = store_open_deadline_keys(ctx->store, prefix), *k;
	size_t i;
	if (!keys)
		ctx->failed = 1;
	json_array_foreach(keys, i, k)
		if (ctx->sched && sched_deadline_done(ctx->sched, json_string_value(k), "cancelled") == STORE_ERR)
			ctx->failed = 1;
	json_decref(keys);
	free(prefix);
	archive_refresh(ctx, r.id, report);
	json_t *card = report_card(ctx, &r, name, report);
	cmd_notice_about(ctx, "card", card, r.chat_id, NULL, 0);
	to_management(ctx, &r, card);
	json_decref(card);
	req_card_refresh(ctx, r.id);
out:
	json_decref(archive);
	json_decref(report);
	sla_policies_free(pol);
	request_row_free(&r);
}
