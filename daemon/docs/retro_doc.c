/*
 * retro_doc.c - 《跨部门协作复盘报告》 as a document model: the answers to
 * the five questions, the figures as tables, and the suggestions.  Drawn
 * from the archive document (whose retrospective.report holds the figures
 * as they were when the report was made), so the report file, the archive's
 * copy of it and a later export agree.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/archive.h"
#include "collabd/render.h"
#include "collabd/retro.h"
#include "collabd/util.h"

static json_t *get(json_t *o, const char *key) { return json_object_get(o, key); }
static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }
static int num(json_t *o, const char *key) { return (int)json_integer_value(json_object_get(o, key)); }

static json_t *section(json_t *doc, const char *heading)
{
	json_t *s = json_pack("{s:s,s:[],s:[]}", "heading", heading, "fields", "list");
	json_array_append_new(json_object_get(doc, "sections"), s);
	return s;
}

static void field(json_t *sec, const char *label, const char *value)
{
	json_array_append_new(get(sec, "fields"), json_pack("{s:s,s:s}", "label", label, "value", value ? value : ""));
}

static json_t *table(json_t *sec, size_t n, const char *const *columns)
{
	json_t *cols = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cols, json_string(columns[i]));
	json_t *t = json_pack("{s:o,s:[]}", "columns", cols, "rows");
	json_object_set_new(sec, "table", t);
	return t;
}

/* Appends a row; cells are owned strings (freed here). */
static void row(json_t *t, size_t n, char **cells)
{
	json_t *r = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(r, json_string(cells[i] ? cells[i] : ""));
		free(cells[i]);
	}
	json_array_append_new(get(t, "rows"), r);
}

static char *dur(json_t *ms)
{
	char text[32];
	retro_duration_text(json_is_integer(ms) ? json_integer_value(ms) : -1, text, sizeof text);
	return xstrdup(text);
}

static char *at(json_t *ms)
{
	char text[32] = "—";
	if (json_is_integer(ms))
		render_local_time(json_integer_value(ms), 0, text, sizeof text);
	return xstrdup(text);
}

static char *yes(json_t *v) { return xstrdup(json_is_true(v) ? "达标" : json_is_false(v) ? "未达标" : "—"); }

/* code -> name, from the archive's participants. */
static const char *dept_name(json_t *a, const char *code)
{
	size_t i;
	json_t *d;
	json_array_foreach(get(get(a, "retrospective"), "participants"), i, d)
		if (code && !strcmp(str(d, "code"), code))
			return str(d, "name");
	return code ? code : "";
}

static char *names(json_t *a, json_t *codes)
{
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *c;
	json_array_foreach(codes, i, c)
		buf_printf(&b, "%s%s", i ? "、" : "", dept_name(a, json_string_value(c)));
	return b.len ? buf_steal(&b) : (buf_free(&b), xstrdup("无"));
}

/* One section per department that answered, in the participants' order. */
static void answers(json_t *doc, json_t *a)
{
	json_t *retro = get(a, "retrospective");
	size_t i, j;
	json_t *d, *ans;
	json_array_foreach(get(retro, "participants"), i, d) {
		json_array_foreach(get(retro, "answers"), j, ans) {
			if (!json_equal(get(get(ans, "dept"), "code"), get(d, "code")))
				continue;
			char *heading = xasprintf("复盘答复 · %s", str(d, "name"));
			json_t *sec = section(doc, heading);
			for (size_t k = 0; k < retro_question_count; k++)
				field(sec, retro_questions[k].key, str(get(ans, "answers"), retro_questions[k].key));
			const char *when = str(ans, "answered_at");
			char *by = xasprintf("%s，%.10s %.5s%s", str(get(ans, "author"), "name"), when ? when : "",
					     when ? when + 11 : "", json_is_true(get(ans, "on_time")) ? "（按时）" : "（晚于截止时间）");
			field(sec, "答复人", by);
			free(by);
			free(heading);
		}
	}
}

static void approval_and_confirmations(json_t *doc, json_t *m)
{
	json_t *ap = get(m, "approval");
	json_t *sec = section(doc, "协作数据 · 需求审批");
	if (json_is_object(ap)) {
		char *s = at(get(ap, "submitted_at")), *p = at(get(ap, "approved_at")), *d = dur(get(ap, "elapsed_ms")),
		     *l = dur(get(ap, "limit_ms")), *v = yes(get(ap, "within"));
		char *took = xasprintf("%s（时限 %s，%s）", d, l, v);
		char *rej = xasprintf("%d 次", num(ap, "rejections"));
		field(sec, "提交时间", s);
		field(sec, "批准时间", p);
		field(sec, "审批用时（工作时间）", took);
		field(sec, "驳回次数", rej);
		free(s), free(p), free(d), free(l), free(v), free(took), free(rej);
	}
	json_t *csec = section(doc, "协作数据 · 部门确认");
	static const char *const cols[] = { "部门", "答复", "同步时间", "答复时间", "用时（工作时间）", "时限", "是否达标" };
	json_t *t = table(csec, 7, cols);
	size_t i;
	json_t *c;
	json_array_foreach(get(m, "confirmations"), i, c) {
		const char *answer = str(c, "answer");
		char *cells[] = { xstrdup(str(c, "dept_name")),
				  xstrdup(!answer ? "未答复" : !strcmp(answer, "confirmed") ? "确认无误" : "提出异议"),
				  at(get(c, "asked_at")), at(get(c, "answered_at")), dur(get(c, "elapsed_ms")),
				  dur(get(c, "limit_ms")), yes(get(c, "within")) };
		row(t, 7, cells);
	}
	json_t *tot = get(m, "totals");
	char *line = xasprintf("%d 个部门中 %d 个在时限内答复。", num(tot, "confirm_total"), num(tot, "confirm_within"));
	json_object_set_new(csec, "paragraphs", json_pack("[s]", line));
	free(line);
}

static void objections(json_t *doc, json_t *m)
{
	static const char *const outcomes[][2] = {
		{ "open", "待答复" }, { "accepted", "采纳并修订" }, { "overruled", "说明理由并推进" },
		{ "escalated", "上报上级" }, { "revised", "已修订" },
	};
	json_t *sec = section(doc, "协作数据 · 异议处理");
	static const char *const cols[] = { "异议编号", "部门", "提出时间", "首次答复", "答复用时（工作时间）", "是否达标", "最终结果" };
	json_t *t = table(sec, 7, cols);
	size_t i;
	json_t *o;
	json_array_foreach(get(m, "objections"), i, o) {
		const char *first = str(o, "first_answer"), *outcome = str(o, "outcome");
		const char *fl = "未答复", *ol = outcome ? outcome : "";
		for (size_t k = 0; k < ARRAY_LEN(outcomes); k++) {
			if (first && !strcmp(first, outcomes[k][0]))
				fl = outcomes[k][1];
			if (outcome && !strcmp(outcome, outcomes[k][0]))
				ol = outcomes[k][1];
		}
		char *cells[] = { xasprintf("%d", num(o, "id")), xstrdup(str(o, "dept_name")), at(get(o, "raised_at")),
				  xstrdup(fl), dur(get(o, "elapsed_ms")), yes(get(o, "within")), xstrdup(ol) };
		row(t, 7, cells);
	}
	json_object_set_new(sec, "empty", json_string("没有异议。"));
}

static void progress(json_t *doc, json_t *m)
{
	json_t *sec = section(doc, "协作数据 · 每日进度更新");
	static const char *const cols[] = { "部门", "按时", "迟交", "缺失" };
	json_t *t = table(sec, 4, cols);
	size_t i;
	json_t *p;
	json_array_foreach(get(m, "progress"), i, p) {
		char *cells[] = { xstrdup(str(p, "dept_name")), xasprintf("%d", num(p, "on_time")), xasprintf("%d", num(p, "late")),
				  xasprintf("%d", num(p, "missed")) };
		row(t, 4, cells);
	}
}

static void counts_line(struct buf *b, json_t *obj)
{
	const char *k;
	json_t *v;
	int first = 1;
	json_object_foreach(obj, k, v) {
		buf_printf(b, "%s%s %lld 个", first ? "" : "，", k, (long long)json_integer_value(v));
		first = 0;
	}
	if (first)
		buf_append_str(b, "无");
}

static void issues(json_t *doc, json_t *m)
{
	json_t *is = get(m, "issues");
	json_t *sec = section(doc, "协作数据 · 问题反馈与解决");
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "按类型：");
	counts_line(&b, get(is, "by_type"));
	buf_append_str(&b, "。按严重程度：");
	counts_line(&b, get(is, "by_severity"));
	buf_append_str(&b, "。");
	json_object_set_new(sec, "paragraphs", json_pack("[s]", (char *)b.data));
	buf_free(&b);
	static const char *const cols[] = { "问题编号", "类型", "严重程度", "上报延迟", "上报是否达标", "响应用时",
					    "响应时限", "响应是否达标", "按方案完成时间解决" };
	json_t *t = table(sec, 9, cols);
	size_t i;
	json_t *s;
	json_array_foreach(get(is, "items"), i, s) {
		char *cells[] = { xstrdup(str(s, "id")), xstrdup(str(s, "type")), xstrdup(str(s, "severity")),
				  dur(get(s, "report_delay_ms")), yes(get(s, "report_within")), dur(get(s, "response_ms")),
				  dur(get(s, "response_limit_ms")), yes(get(s, "response_within")), yes(get(s, "resolution_within")) };
		row(t, 9, cells);
	}
}

static void deadlines(json_t *doc, json_t *m)
{
	json_t *sec = section(doc, "协作数据 · 提醒、升级与推迟");
	static const char *const cols[] = { "事项", "到期提醒", "逾期提醒", "升级上级", "推迟" };
	json_t *t = table(sec, 5, cols);
	size_t i;
	json_t *d;
	json_array_foreach(get(m, "deadlines"), i, d) {
		char *cells[] = { xstrdup(str(d, "label")), xasprintf("%d", num(d, "reminders")), xasprintf("%d", num(d, "overdue")),
				  xasprintf("%d", num(d, "escalations")), xasprintf("%d", num(d, "snoozes")) };
		row(t, 5, cells);
	}
	json_object_set_new(sec, "empty", json_string("没有发生提醒、升级或推迟。"));
}

static void suggestions(json_t *doc, json_t *a, json_t *report)
{
	json_t *sec = section(doc, "改进建议");
	size_t i;
	json_t *s;
	json_array_foreach(get(report, "suggestions"), i, s) {
		char *line = !strcmp(str(s, "source"), "dept")
				     ? xasprintf("【%s】%s", dept_name(a, str(s, "dept")), str(s, "text"))
				     : xasprintf("【数据】%s", str(s, "text"));
		json_array_append_new(get(sec, "list"), json_string(line));
		free(line);
	}
}

json_t *retro_report_doc(json_t *a)
{
	json_t *retro = get(a, "retrospective"), *report = get(retro, "report");
	if (!json_is_object(report))
		return NULL;
	json_t *req = get(a, "request"), *m = get(report, "metrics");
	char *sub = xasprintf("需求 %s「%s」· 归档编号 %s", str(req, "id"), str(req, "name") ? str(req, "name") : "",
			      str(get(a, "archive"), "name"));
	json_t *doc = json_pack("{s:s,s:s,s:[]}", "title", "跨部门协作复盘报告", "subtitle", sub, "sections");
	free(sub);
	json_t *sec = section(doc, "复盘概况");
	char *parts = names(a, get(report, "participants")), *answered = names(a, get(report, "answered")),
	     *missing = names(a, get(report, "missing")), *written = at(get(report, "written_at"));
	const char *due = str(retro, "due_at"), *done = str(get(a, "completion"), "completed_at");
	char *due_text = xasprintf("%.10s %.5s", due ? due : "", due ? due + 11 : "");
	char *done_text = xasprintf("%.10s %.5s", done ? done : "", done ? done + 11 : "");
	field(sec, "发起部门", str(get(req, "dept"), "name"));
	field(sec, "参与部门", parts);
	field(sec, "完成时间", done_text);
	field(sec, "复盘截止", due_text);
	field(sec, "已提交复盘的部门", answered);
	field(sec, "未提交复盘的部门", missing);
	field(sec, "报告生成时间", written);
	free(parts), free(answered), free(missing), free(written), free(due_text), free(done_text);
	answers(doc, a);
	approval_and_confirmations(doc, m);
	objections(doc, m);
	progress(doc, m);
	issues(doc, m);
	deadlines(doc, m);
	suggestions(doc, a, report);
	return doc;
}
