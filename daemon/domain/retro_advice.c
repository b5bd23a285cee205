/*
 * retro_advice.c - rules of thumb drawn from the retrospective's figures.
 *
 * One row per rule: it looks at the figures and, when they call for it,
 * writes one suggestion that quotes them ("4 个部门中有 3 个未在规定时限内
 * 答复确认：……").  The suggestions name the departments concerned, so the
 * report says who, not only what.  When no rule fires the report says the
 * collaboration met every rule, which is worth copying too.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/retro.h"
#include "collabd/util.h"

static int num(json_t *o, const char *key) { return (int)json_integer_value(json_object_get(o, key)); }
static json_t *totals(json_t *m) { return json_object_get(m, "totals"); }

/* "技术部、财务部": names of rows whose key is false (want 0) or > 0 (want 1). */
static void names_where(struct buf *b, json_t *rows, const char *key, int positive)
{
	size_t i, n = 0;
	json_t *r;
	json_array_foreach(rows, i, r) {
		json_t *v = json_object_get(r, key);
		int hit = positive ? json_integer_value(v) > 0 : json_is_false(v);
		if (hit)
			buf_printf(b, "%s%s", n++ ? "、" : "", json_string_value(json_object_get(r, "dept_name")));
	}
}

static int approval(json_t *m, struct buf *b)
{
	json_t *a = json_object_get(m, "approval");
	if (!json_is_object(a))
		return 0;
	char took[32], limit[32];
	retro_duration_text(json_integer_value(json_object_get(a, "elapsed_ms")), took, sizeof took);
	retro_duration_text(json_integer_value(json_object_get(a, "limit_ms")), limit, sizeof limit);
	if (json_is_false(json_object_get(a, "within")))
		buf_printf(b, "需求审批用时 %s（工作时间），超过规定的 %s：建议简化审批环节，负责人外出时指定代理审批人。", took, limit);
	else if (num(a, "rejections"))
		buf_printf(b, "需求被驳回 %d 次后才获批准：建议发起前先与审批人对齐需求背景和资源。", num(a, "rejections"));
	return b->len > 0;
}

static int confirmations(json_t *m, struct buf *b)
{
	int total = num(totals(m), "confirm_total"), late = total - num(totals(m), "confirm_within");
	if (late <= 0)
		return 0;
	buf_printf(b, "%d 个部门中有 %d 个未在规定时限内答复确认（", total, late);
	names_where(b, json_object_get(m, "confirmations"), "within", 0);
	buf_append_str(b, "）：建议同步需求时当面或电话提醒接口人，并把确认时限告知部门负责人。");
	return 1;
}

static int objections(json_t *m, struct buf *b)
{
	int total = num(totals(m), "objections"), late = total - num(totals(m), "objections_within");
	if (late > 0)
		buf_printf(b, "%d 条异议中有 %d 条未在规定时限内答复：建议发起人收到异议后当天回应，无法决定时及时上报上级。", total, late);
	else if (total >= 2)
		buf_printf(b, "本次共有 %d 条异议：建议发起需求前先与涉及部门预沟通时间和资源。", total);
	return b->len > 0;
}

static int progress(json_t *m, struct buf *b)
{
	json_t *t = totals(m);
	int late = num(t, "progress_late"), missed = num(t, "progress_missed");
	if (!late && !missed)
		return 0;
	buf_printf(b, "进度更新准时 %d 次、迟交 %d 次、缺失 %d 次", num(t, "progress_on_time"), late, missed);
	if (missed) {
		buf_append_str(b, "（有缺失的部门：");
		names_where(b, json_object_get(m, "progress"), "missed", 1);
		buf_append_str(b, "）");
	} else {
		buf_append_str(b, "（有迟交的部门：");
		names_where(b, json_object_get(m, "progress"), "late", 1);
		buf_append_str(b, "）");
	}
	buf_append_str(b, "：建议进度更新负责人设置每日提醒，必要时增加沟通频次（如每日站会）。");
	return 1;
}

static int issue_reports(json_t *m, struct buf *b)
{
	int n = num(totals(m), "issues"), late = num(totals(m), "report_late");
	if (late)
		buf_printf(b, "%d 个问题中有 %d 个未在发生后 1 小时内上报：建议遇到问题先发 /问题 占位，再补充细节。", n, late);
	return late > 0;
}

static int issue_responses(json_t *m, struct buf *b)
{
	int n = num(totals(m), "issues"), late = num(totals(m), "response_late");
	if (late)
		buf_printf(b, "%d 个问题中有 %d 个未在规定时限内响应（一般/重要 2 小时，紧急 30 分钟）：建议各部门明确问题值班人。", n, late);
	return late > 0;
}

static int issue_resolutions(json_t *m, struct buf *b)
{
	int late = num(totals(m), "resolution_late");
	if (late)
		buf_printf(b, "%d 个问题晚于解决方案约定的完成时间解决：建议协调会上留足余量，并在到期前同步风险。", late);
	return late > 0;
}

static int escalations(json_t *m, struct buf *b)
{
	int n = num(totals(m), "escalations");
	if (!n)
		return 0;
	buf_printf(b, "共升级上级 %d 次（", n);
	size_t i, k = 0;
	json_t *d;
	json_array_foreach(json_object_get(m, "deadlines"), i, d)
		if (num(d, "escalations"))
			buf_printf(b, "%s%s %d 次", k++ ? "、" : "", json_string_value(json_object_get(d, "label")), num(d, "escalations"));
	buf_append_str(b, "）：建议在到期提醒时就处理，避免占用上级的协调时间。");
	return 1;
}

static int snoozes(json_t *m, struct buf *b)
{
	int n = num(totals(m), "snoozes");
	if (n >= 3)
		buf_printf(b, "提醒被推迟 %d 次：建议重新评估时间节点是否合理，必要时修订需求的期望完成时间。", n);
	return n >= 3;
}

static int retro_answers(json_t *m, struct buf *b)
{
	json_t *rows = json_object_get(m, "retro");
	struct buf names;
	buf_init(&names);
	names_where(&names, rows, "within", 0);
	if (names.len)
		buf_printf(b, "复盘答复晚于 3 个工作日的部门：%s：建议完成后尽快召开复盘会，趁记忆清晰时总结。", (char *)names.data);
	buf_free(&names);
	return b->len > 0;
}

static const struct {
	const char *name;
	int (*fires)(json_t *metrics, struct buf *text);
} rules[] = {
	{ "approval", approval },
	{ "confirmations", confirmations },
	{ "objections", objections },
	{ "progress", progress },
	{ "issue_reports", issue_reports },
	{ "issue_responses", issue_responses },
	{ "issue_resolutions", issue_resolutions },
	{ "escalations", escalations },
	{ "snoozes", snoozes },
	{ "retro_answers", retro_answers },
};

json_t *retro_advice(json_t *metrics)
{
	json_t *out = json_array();
	for (size_t i = 0; i < ARRAY_LEN(rules); i++) {
		struct buf b;
		buf_init(&b);
		if (rules[i].fires(metrics, &b) && b.len)
			json_array_append_new(out, json_pack("{s:s,s:s}", "rule", rules[i].name, "text", (char *)b.data));
		buf_free(&b);
	}
	if (!json_array_size(out))
		json_array_append_new(out, json_pack("{s:s,s:s}", "rule", "all_met", "text",
						     "各项时限均已达标：建议把本次的协作方式整理为范例，供其他项目参考。"));
	return out;
}
