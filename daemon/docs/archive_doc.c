/*
 * archive_doc.c - the archive document (JSON) as a readable document model:
 * one section per material the guide lists (需求信息表 with every version,
 * 接收部门确认, 异议, 进度同步表, 问题反馈表, 问题解决方案记录, 成果交付物,
 * 复盘, 时间线).  doc_render.c prints it as Markdown and HTML.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/request.h"
#include "collabd/util.h"

static json_t *get(json_t *o, const char *key) { return json_object_get(o, key); }
static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

/* "2026-12-01T10:00:00+08:00" -> "2026-12-01 10:00"; "" for null. */
static char *when(json_t *iso)
{
	const char *s = json_string_value(iso);
	if (!s || strlen(s) < 16)
		return xstrdup("");
	char *t = xstrndup(s, 16);
	t[10] = ' ';
	return t;
}

static const char *name_of(json_t *who) { return str(who, "name") ? str(who, "name") : ""; }

/* Appends a row of n strings (copied) to table. */
static void row(json_t *table, size_t n, const char *const *cells)
{
	json_t *r = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(r, json_string(cells[i] ? cells[i] : ""));
	json_array_append_new(json_object_get(table, "rows"), r);
}

static json_t *table(size_t n, const char *const *columns)
{
	json_t *cols = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cols, json_string(columns[i]));
	return json_pack("{s:o,s:[]}", "columns", cols, "rows");
}

static json_t *section(json_t *doc, const char *heading)
{
	json_t *s = json_pack("{s:s}", "heading", heading);
	json_array_append_new(json_object_get(doc, "sections"), s);
	return s;
}

static void field(json_t *sec, const char *label, const char *value)
{
	json_t *f = json_object_get(sec, "fields");
	if (!f) {
		f = json_array();
		json_object_set_new(sec, "fields", f);
	}
	json_array_append_new(f, json_pack("{s:s,s:s}", "label", label, "value", value ? value : ""));
}

/* A form value as text: department lists joined, others as they are. */
static char *form_value(json_t *v)
{
	if (json_is_array(v)) {
		struct buf b;
		buf_init(&b);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			buf_printf(&b, "%s%s", i ? "、" : "", json_string_value(x) ? json_string_value(x) : "");
		return b.len ? buf_steal(&b) : (buf_free(&b), xstrdup(""));
	}
	return xstrdup(json_string_value(v) ? json_string_value(v) : "");
}

static void basics(json_t *doc, json_t *a)
{
	json_t *req = get(a, "request"), *ar = get(a, "archive"), *done = get(a, "completion"),
	       *retro = get(a, "retrospective");
	json_t *sec = section(doc, "基本信息");
	char *archived = when(get(ar, "archived_at")), *completed = when(get(done, "completed_at")),
	     *due = when(get(retro, "due_at")), *report = when(get(ar, "report_at"));
	field(sec, "归档编号", str(ar, "name"));
	field(sec, "需求编号", str(req, "id"));
	field(sec, "需求名称", str(req, "name"));
	field(sec, "发起部门", name_of(get(req, "dept")));
	field(sec, "发起人", name_of(get(req, "initiator")));
	field(sec, "状态", str(req, "state_label"));
	field(sec, "完成时间", completed);
	field(sec, "归档时间", archived);
	char *retro_text = *report ? xasprintf("已生成（%s）", report) : xasprintf("待复盘（截止 %s）", due);
	field(sec, "复盘报告", retro_text);
	free(retro_text);
	free(archived);
	free(completed);
	free(due);
	free(report);
}

static void versions(json_t *doc, json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach(get(a, "versions"), i, v) {
		char *t = when(get(v, "created_at"));
		char *heading = xasprintf("需求信息表 · 第 %lld 版", (long long)json_integer_value(get(v, "version")));
		json_t *sec = section(doc, heading);
		char *meta = xasprintf("%s 提交，指纹 %s", t, str(v, "hash") ? str(v, "hash") : "");
		field(sec, "版本", meta);
		for (size_t k = 0; k < request_field_count; k++) {
			char *text = form_value(get(get(v, "form"), request_fields[k].key));
			field(sec, request_fields[k].key, text);
			free(text);
		}
		free(meta);
		free(heading);
		free(t);
	}
}

static const char *label(const char *const (*pairs)[2], size_t n, const char *key)
{
	for (size_t i = 0; key && i < n; i++)
		if (!strcmp(pairs[i][0], key))
			return pairs[i][1];
	return key ? key : "";
}

static void signatures(json_t *doc, json_t *a)
{
	static const char *const states[][2] = {
		{ "pending", "待确认" }, { "confirmed", "确认无误" }, { "objected", "提出异议" }, { "overruled", "说明理由并推进" },
	};
	static const char *const cols[] = { "部门", "结果", "签名人", "签名时间", "签署版本", "版本指纹" };
	json_t *sec = section(doc, "接收部门确认（电子签名）"), *t = table(6, cols);
	size_t i;
	json_t *s;
	json_array_foreach(get(a, "signatures"), i, s) {
		char *at = when(get(s, "signed_at"));
		char *ver = json_is_integer(get(s, "version")) ? xasprintf("第 %lld 版", (long long)json_integer_value(get(s, "version")))
							       : xstrdup("");
		const char *cells[] = { name_of(get(s, "dept")), label(states, ARRAY_LEN(states), str(s, "state")),
					name_of(get(s, "signed_by")), at, ver, str(s, "hash") };
		row(t, 6, cells);
		free(at);
		free(ver);
	}
	json_object_set_new(sec, "table", t);
}

static const char *const objection_states[][2] = {
	{ "open", "待答复" }, { "accepted", "采纳并修订" }, { "overruled", "说明理由并推进" },
	{ "escalated", "已上报上级" }, { "revised", "已修订" },
};

static void objections(json_t *doc, json_t *a)
{
	static const char *const cols[] = { "编号", "部门", "提出人", "异议说明", "建议方案", "提出时间", "结果", "答复理由", "答复时间" };
	json_t *sec = section(doc, "异议与答复"), *t = table(9, cols);
	size_t i;
	json_t *o;
	json_array_foreach(get(a, "objections"), i, o) {
		char *id = xasprintf("%lld", (long long)json_integer_value(get(o, "id")));
		char *raised = when(get(o, "created_at")), *answered = when(get(o, "answered_at"));
		const char *cells[] = { id, name_of(get(o, "dept")), name_of(get(o, "raised_by")), str(o, "explanation"),
					str(o, "proposal"), raised, label(objection_states, ARRAY_LEN(objection_states), str(o, "state")),
					str(o, "answer"), answered };
		row(t, 9, cells);
		free(id);
		free(raised);
		free(answered);
	}
	json_object_set_new(sec, "table", t);
	json_object_set_new(sec, "empty", json_string("没有异议：各部门均确认无误。"));
}

static void progress(json_t *doc, json_t *a)
{
	json_t *p = get(a, "progress");
	static const char *const cols[] = { "日期", "部门", "填写人", "已完成任务", "未完成原因", "下一步计划", "提交时间", "是否迟交" };
	json_t *sec = section(doc, "进度同步表"), *t = table(8, cols);
	size_t i;
	json_t *u;
	json_array_foreach(get(p, "updates"), i, u) {
		char *at = when(get(u, "submitted_at"));
		const char *cells[] = { str(u, "day"), name_of(get(u, "dept")), name_of(get(u, "author")), str(u, "done"),
					str(u, "undone"), str(u, "next"), at, json_is_true(get(u, "late")) ? "迟交" : "按时" };
		row(t, 8, cells);
		free(at);
	}
	json_object_set_new(sec, "table", t);
	json_object_set_new(sec, "empty", json_string("没有进度更新记录。"));

	static const char *const dcols[] = { "日期", "部门", "17:00 判定" };
	static const char *const dstates[][2] = { { "on_time", "按时" }, { "late", "迟交" }, { "missed", "缺失" } };
	json_t *dsec = section(doc, "每日进度判定"), *dt = table(3, dcols);
	json_t *d;
	json_array_foreach(get(p, "days"), i, d) {
		const char *cells[] = { str(d, "day"), name_of(get(d, "dept")), label(dstates, ARRAY_LEN(dstates), str(d, "state")) };
		row(dt, 3, cells);
	}
	json_object_set_new(dsec, "table", dt);
	json_object_set_new(dsec, "empty", json_string("没有每日判定记录。"));
}

static char *dept_list(json_t *depts)
{
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *d;
	json_array_foreach(depts, i, d)
		buf_printf(&b, "%s%s", i ? "、" : "", name_of(d));
	return b.len ? buf_steal(&b) : (buf_free(&b), xstrdup(""));
}

static void issues(json_t *doc, json_t *a)
{
	static const char *const cols[] = { "编号", "类型", "严重程度", "影响范围", "问题描述", "发生时间", "上报时间", "接收部门", "状态" };
	static const char *const scols[] = { "编号", "问题原因", "解决措施", "责任人", "完成时间", "解决结果", "解决时间" };
	json_t *sec = section(doc, "问题反馈表"), *t = table(9, cols);
	json_t *ssec = section(doc, "问题解决方案记录"), *st = table(7, scols);
	size_t i;
	json_t *s;
	json_array_foreach(get(a, "issues"), i, s) {
		char *occurred = when(get(s, "occurred_at")), *reported = when(get(s, "created_at"));
		char *depts = dept_list(get(s, "depts"));
		const char *cells[] = { str(s, "id"), str(s, "type"), str(s, "severity"), str(s, "scope"), str(s, "description"),
					occurred, reported, depts, str(s, "state") };
		row(t, 9, cells);
		json_t *sol = get(s, "solution"), *res = get(s, "resolution");
		if (json_is_object(sol) || json_is_object(res)) {
			char *due = when(get(sol, "solution_due")), *resolved = when(get(res, "resolved_at"));
			const char *sc[] = { str(s, "id"), str(sol, "cause"), str(sol, "measures"), name_of(get(sol, "solution_owner")),
					     due, str(res, "result"), resolved };
			row(st, 7, sc);
			free(due);
			free(resolved);
		}
		free(occurred);
		free(reported);
		free(depts);
	}
	json_object_set_new(sec, "table", t);
	json_object_set_new(sec, "empty", json_string("执行期间没有提交问题。"));
	json_object_set_new(ssec, "table", st);
	json_object_set_new(ssec, "empty", json_string("没有问题解决方案记录。"));
}

static void deliverables(json_t *doc, json_t *a)
{
	json_t *done = get(a, "completion"), *list = json_array();
	json_t *sec = section(doc, "成果交付物");
	size_t i;
	json_t *d;
	json_array_foreach(get(done, "deliverables"), i, d) {
		char *line = xasprintf("%s：%s", !strcmp(str(d, "kind") ? str(d, "kind") : "", "link") ? "链接" : "文件",
				       str(d, "value") ? str(d, "value") : "");
		json_array_append_new(list, json_string(line));
		free(line);
	}
	json_object_set_new(sec, "list", list);
	char *at = when(get(done, "completed_at"));
	char *by = xasprintf("%s 于 %s 标记完成。", name_of(get(done, "completed_by")), at);
	json_t *paras = json_pack("[s]", by);
	if (json_array_size(get(done, "open_issues"))) {
		char *ids = form_value(get(done, "open_issues"));
		char *text = xasprintf("完成时仍未解决的问题：%s。原因：%s", ids, str(done, "open_issues_reason") ? str(done, "open_issues_reason") : "");
		json_array_append_new(paras, json_string(text));
		free(text);
		free(ids);
	}
	json_object_set_new(sec, "paragraphs", paras);
	free(by);
	free(at);
}

/* The timeline's event kinds in words. */
static const char *const event_words[][2] = {
	{ "request.submitted", "提交需求" }, { "request.rejected", "驳回" }, { "request.resubmitted", "修改后重新提交" },
	{ "request.approved", "批准" }, { "request.confirmed", "确认无误（签名）" }, { "request.objected", "提出异议" },
	{ "objection.answered", "答复异议" }, { "request.revised", "修订需求" }, { "request.in_progress", "进入执行" },
	{ "request.withdrawn", "撤回" }, { "request.completed", "标记完成" }, { "request.archived", "归档" },
	{ "progress.updated", "更新进度" }, { "progress.missed", "未按时更新进度" }, { "progress.escalated", "进度升级" },
	{ "progress.owner", "指定进度负责人" },
	{ "issue.reported", "提交问题" }, { "issue.responded", "响应问题" }, { "issue.solution", "记录解决方案" },
	{ "issue.resolved", "解决问题" }, { "issue.reopened", "重新打开问题" },
	{ "retro.answered", "提交复盘答复" }, { "retro.reported", "生成复盘报告" },
	{ "sla.reminder", "到期提醒" }, { "sla.overdue", "逾期提醒" }, { "sla.escalation", "升级上级" },
	{ "sla.snooze", "推迟提醒" },
};

static void timeline(json_t *doc, json_t *a)
{
	static const char *const cols[] = { "时间", "人员", "事件", "对象", "详情" };
	json_t *sec = section(doc, "完整时间线"), *t = table(5, cols);
	size_t i;
	json_t *e;
	json_array_foreach(get(a, "timeline"), i, e) {
		char *at = when(get(e, "at"));
		json_t *actor = get(e, "actor");
		const char *who = str(actor, "id") && !strcmp(str(actor, "id"), "collabd") ? "协作机器人" : name_of(actor);
		char *detail = json_is_null(get(e, "detail")) || !get(e, "detail")
				       ? xstrdup("")
				       : json_dumps(get(e, "detail"), JSON_COMPACT);
		const char *cells[] = { at, who, label(event_words, ARRAY_LEN(event_words), str(e, "kind")), str(e, "subject"),
					detail };
		row(t, 5, cells);
		free(detail);
		free(at);
	}
	json_object_set_new(sec, "table", t);
}

/* Appends the sections of src after those of dst. */
static void append_sections(json_t *dst, json_t *src)
{
	json_array_extend(json_object_get(dst, "sections"), json_object_get(src, "sections"));
}

json_t *archive_doc(json_t *a)
{
	json_t *req = get(a, "request");
	char *title = xasprintf("协作项目库 · %s", str(get(a, "archive"), "name"));
	char *sub = xasprintf("需求 %s「%s」的全部协作资料", str(req, "id"), str(req, "name") ? str(req, "name") : "");
	json_t *doc = json_pack("{s:s,s:s,s:[]}", "title", title, "subtitle", sub, "sections");
	free(title);
	free(sub);
	basics(doc, a);
	versions(doc, a);
	signatures(doc, a);
	objections(doc, a);
	progress(doc, a);
	issues(doc, a);
	deliverables(doc, a);
	json_t *report = retro_report_doc(a);
	if (report) {
		append_sections(doc, report);
		json_decref(report);
	} else {
		/* Before the report: the answers so far. */
		json_t *sec = section(doc, "复盘答复（进行中）"), *list = json_array();
		size_t i;
		json_t *ans;
		json_array_foreach(get(get(a, "retrospective"), "answers"), i, ans) {
			char *line = xasprintf("%s 已提交（%s）", name_of(get(ans, "dept")), name_of(get(ans, "author")));
			json_array_append_new(list, json_string(line));
			free(line);
		}
		json_object_set_new(sec, "list", list);
		json_object_set_new(sec, "empty", json_string("各部门尚未提交复盘答复。"));
	}
	timeline(doc, a);
	return doc;
}
