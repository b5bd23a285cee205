/*
 * issue.c - the forms of step 4 as tables, their parsing and checking, the
 * lateness rule and issue ids.
 *
 * One checker serves every form: each field's kind says how it is parsed and
 * normalised, and each form adds its own cross-field rules at the end.  Every
 * problem is collected, so a user fixes a form in one go.
 */
#include "collabd/issue.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/request.h"
#include "collabd/util.h"

const char *const issue_types[] = { "技术", "资源", "流程", "其他", NULL };
const char *const issue_severities[] = { "紧急", "重要", "一般", NULL };
static const char *const meeting_modes[] = { "线上", "线下", NULL };

/* 《跨部门协作问题反馈表》 */
static const struct form_field report_fields[] = {
	{ "关联需求", { "request", "需求编号", "需求" }, FORM_REQUEST, 1, 0, NULL },
	{ "问题类型", { "type", "类型", NULL }, FORM_CHOICE, 1, 0, issue_types },
	{ "严重程度", { "severity", "级别", "程度" }, FORM_CHOICE, 1, 0, issue_severities },
	{ "影响范围", { "scope", "范围", NULL }, FORM_TEXT, 1, ISSUE_SCOPE_MAX, NULL },
	{ "问题描述", { "description", "描述", "问题" }, FORM_TEXT, 1, 0, NULL },
	{ "发生时间", { "occurred", "发生", NULL }, FORM_TIME, 1, 0, NULL },
	{ "预计解决时间", { "expected", "预计解决", NULL }, FORM_TIME, 0, 0, NULL },
	{ "接收部门", { "departments", "depts", "接收" }, FORM_DEPTS, 1, 0, NULL },
	{ "通知人", { "notify", "提醒", "指定人" }, FORM_PERSON, 0, 0, NULL },
};
const struct form issue_report_form = { "问题反馈表", report_fields, ARRAY_LEN(report_fields) };

/* The receiving department's response: who solves it, and the meeting. */
static const struct form_field response_fields[] = {
	{ "解决责任人", { "owner", "责任人", NULL }, FORM_PERSON, 1, 0, NULL },
	{ "会议时间", { "meeting", "协调会时间", "时间" }, FORM_TIME, 1, 0, NULL },
	{ "会议形式", { "mode", "形式", NULL }, FORM_CHOICE, 1, 0, meeting_modes },
	{ "会议地点", { "where", "地点", "链接" }, FORM_TEXT, 1, 200, NULL },
};
const struct form issue_response_form = { "响应", response_fields, ARRAY_LEN(response_fields) };

/* 《问题解决方案记录》 */
static const struct form_field solution_fields[] = {
	{ "问题原因", { "cause", "原因", NULL }, FORM_TEXT, 1, 0, NULL },
	{ "解决措施", { "measures", "措施", NULL }, FORM_TEXT, 1, 0, NULL },
	{ "责任人", { "owner", "解决责任人", NULL }, FORM_PERSON, 1, 0, NULL },
	{ "完成时间", { "due", "截止时间", NULL }, FORM_TIME, 1, 0, NULL },
};
const struct form issue_solution_form = { "问题解决方案记录", solution_fields, ARRAY_LEN(solution_fields) };

static const struct form_field result_fields[] = {
	{ "解决结果", { "result", "结果", NULL }, FORM_TEXT, 1, 0, NULL },
};
const struct form issue_result_form = { "解决结果", result_fields, ARRAY_LEN(result_fields) };

static const struct form_field reopen_fields[] = {
	{ "原因", { "reason", "理由", NULL }, FORM_TEXT, 1, 0, NULL },
};
const struct form issue_reopen_form = { "重新打开", reopen_fields, ARRAY_LEN(reopen_fields) };

static void add_problem(json_t *problems, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_problem(json_t *problems, const char *fmt, ...)
{
	char text[400];
	va_list ap;
	va_start(ap, fmt);
	utf8_vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(problems, json_string(text));
}

/* ---- times ---- */

static int digits(const char *p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int issue_parse_time(const char *text, ms_t *out)
{
	int y, mo, d, h, mi, s = 0;
	char date[11];
	if (!text || strlen(text) < 16)
		return -1;
	memcpy(date, text, 10);
	date[10] = '\0';
	if (calendar_parse_date(date, &y, &mo, &d) || (text[10] != ' ' && text[10] != 'T') ||
	    digits(text + 11, 2, &h) || text[13] != ':' || digits(text + 14, 2, &mi) || h > 23 || mi > 59)
		return -1;
	const char *p = text + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &s) || s > 59)
			return -1;
		p += 3;
	}
	while (*p == ' ')
		p++;
	if (!*p) {
		*out = calendar_local_time(y, mo, d, h * 60 + mi) + (ms_t)s * 1000;
		return 0;
	}
	/* An explicit offset, as the Feishu picker sends: "+0800" or "+08:00". */
	int oh, om, sign = *p == '-' ? -1 : 1;
	if ((*p != '+' && *p != '-') || digits(p + 1, 2, &oh))
		return -1;
	p += 3;
	if (*p == ':')
		p++;
	if (digits(p, 2, &om) || p[2] || oh > 14 || om > 59)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	time_t utc = timegm(&tm);
	*out = ((ms_t)utc - (ms_t)sign * (oh * 3600 + om * 60)) * 1000;
	return 0;
}

#define FIVE_MINUTES_MS (5 * 60 * 1000LL)

ms_t issue_example_meeting(const struct calendar *cal, const char *severity, ms_t created_at, ms_t now)
{
	ms_t t = (now + 3 * FIVE_MINUTES_MS + FIVE_MINUTES_MS - 1) / FIVE_MINUTES_MS * FIVE_MINUTES_MS;
	if (severity && !strcmp(severity, "紧急")) {
		/* The same limit check_rules() holds the response to. */
		ms_t limit = created_at + ISSUE_URGENT_MEETING_MS;
		if (limit < now)
			limit = now + ISSUE_URGENT_MEETING_MS;
		limit = limit / 60000 * 60000;
		return t < limit ? t : limit;
	}
	return cal ? calendar_next_work_start(cal, t) : t;
}

ms_t issue_example_due(const struct calendar *cal, ms_t expected_at, ms_t now)
{
	if (expected_at > now + 60000)
		return expected_at / 60000 * 60000;
	ms_t t = cal ? calendar_add_working_days(cal, now, 1) : now + 86400000LL;
	return (t + 3599999) / 3600000 * 3600000;
}

int issue_report_late(const struct calendar *cal, const char *severity, ms_t occurred_at, ms_t created_at)
{
	if (created_at <= occurred_at)
		return 0;
	if (!cal || !strcmp(severity, "紧急"))
		return created_at - occurred_at > ISSUE_REPORT_LATE_MS;
	return calendar_business_between(cal, occurred_at, created_at) > ISSUE_REPORT_LATE_MS;
}

char *issue_next_id(struct store *st, const char *request_id)
{
	char *prefix = xasprintf("%s-P", request_id);
	int64_t n = store_next_seq(st, prefix);
	char *id = n < 0 ? NULL : xasprintf("%s%02lld", prefix, (long long)n);
	free(prefix);
	return id;
}

/* ---- checking ---- */

static void check_depts(struct store *st, const struct form_field *x, json_t *form, json_t *v, json_t *problems)
{
	json_t *parts = json_is_string(v) ? dir_split_list(json_string_value(v)) : json_incref(v);
	json_t *codes = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(parts, i, p) {
		char *code = json_is_string(p) ? dir_dept_code(st, json_string_value(p)) : NULL;
		if (!code) {
			char *echo = cmd_echo(json_is_string(p) ? json_string_value(p) : "?");
			add_problem(problems, "%s「%s」不在部门目录中", x->key, echo);
			free(echo);
			continue;
		}
		int seen = 0;
		size_t j;
		json_t *c;
		json_array_foreach(codes, j, c)
			seen |= !strcmp(json_string_value(c), code);
		if (!seen)
			json_array_append_new(codes, json_string(code));
		free(code);
	}
	if (json_array_size(parts) == 0)
		add_problem(problems, "缺少「%s」", x->key);
	json_object_set_new(form, x->key, codes);
	json_decref(parts);
}

/* A person: a known user id, a directory name, or "@name". */
static void check_person(struct store *st, const struct form_field *x, json_t *form, const char *text,
			 json_t *problems)
{
	char *id = dir_person(st, text);
	if (id) {
		json_object_set_new(form, x->key, json_string(id));
		free(id);
		return;
	}
	char *echo = cmd_echo(text);
	add_problem(problems, "「%s」%s 不在部门目录的人员中（请 @ 此人或写目录中的姓名）", x->key, echo);
	free(echo);
}

static void check_request(struct store *st, const struct form_field *x, const char *text, json_t *problems)
{
	struct request_row r;
	if (store_request_get(st, text, &r) != STORE_OK) {
		char *echo = cmd_echo(text);
		add_problem(problems, "「%s」没有需求 %s", x->key, echo);
		free(echo);
		return;
	}
	/* Issues arise while departments confirm or execute the request. */
	if (strcmp(r.state, "syncing") && strcmp(r.state, "in_progress"))
		add_problem(problems, "需求 %s %s，不能反馈问题（仅待确认或执行中的需求可以）", r.id,
			    req_state_label(r.state));
	request_row_free(&r);
}

static void check_choice(const struct form_field *x, const char *text, json_t *problems)
{
	struct buf allowed;
	buf_init(&allowed);
	for (size_t i = 0; x->choices[i]; i++) {
		if (!strcmp(x->choices[i], text)) {
			buf_free(&allowed);
			return;
		}
		buf_printf(&allowed, "%s%s", i ? "、" : "", x->choices[i]);
	}
	char *echo = cmd_echo(text);
	add_problem(problems, "「%s」应为 %s 之一，不能是「%s」", x->key, (char *)allowed.data, echo);
	free(echo);
	buf_free(&allowed);
}

static void check_field(struct store *st, const struct form_field *x, json_t *form, json_t *problems)
{
	json_t *v = json_object_get(form, x->key);
	if (x->kind == FORM_DEPTS && json_is_array(v)) {
		check_depts(st, x, form, v, problems);
		return;
	}
	const char *text = json_string_value(v);
	if (!text || !*text) {
		if (x->required)
			add_problem(problems, "缺少「%s」", x->key);
		json_object_del(form, x->key);
		return;
	}
	long chars = utf8_count(text);
	int max = x->max_chars ? x->max_chars : ISSUE_TEXT_MAX;
	if (chars < 0) {
		add_problem(problems, "「%s」含有无效字符", x->key);
		return;
	}
	if (chars > max) {
		add_problem(problems, "「%s」最多 %d 个字，现在 %ld 个字", x->key, max, chars);
		return;
	}
	ms_t t;
	switch (x->kind) {
	case FORM_TEXT:
		break;
	case FORM_CHOICE:
		check_choice(x, text, problems);
		break;
	case FORM_TIME:
		if (issue_parse_time(text, &t))
			add_problem(problems, "「%s」应为日期和时间，例如 2026-12-07 14:30", x->key);
		else
			json_object_set_new(form, x->key, json_integer(t));
		break;
	case FORM_DEPTS:
		check_depts(st, x, form, v, problems);
		break;
	case FORM_PERSON:
		check_person(st, x, form, text, problems);
		break;
	case FORM_REQUEST:
		check_request(st, x, text, problems);
		break;
	}
}

static ms_t time_of(json_t *form, const char *key)
{
	json_t *v = json_object_get(form, key);
	return json_is_integer(v) ? (ms_t)json_integer_value(v) : -1;
}

static void when_text(ms_t t, char *out, size_t n)
{
	time_t s = (time_t)(t / 1000);
	struct tm tm;
	localtime_r(&s, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

/* The forms' own rules, across fields. */
static void check_rules(const struct form *f, json_t *form, const struct issue_check *c, json_t *problems)
{
	char when[32];
	if (f == &issue_report_form) {
		ms_t occurred = time_of(form, "发生时间"), expected = time_of(form, "预计解决时间");
		/* Minute precision: the current minute is not the future. */
		if (occurred >= 0 && occurred >= c->now + 60000) {
			when_text(occurred, when, sizeof when);
			add_problem(problems, "「发生时间」%s 还没有到，请填写问题实际发生的时间", when);
		}
		if (occurred >= 0 && expected >= 0 && expected < occurred)
			add_problem(problems, "「预计解决时间」早于「发生时间」");
	} else if (f == &issue_response_form) {
		ms_t meeting = time_of(form, "会议时间");
		if (meeting >= 0 && c->occurred_at > 0 && meeting < c->occurred_at - 59999)
			add_problem(problems, "「会议时间」早于问题的发生时间");
		/* 紧急: the meeting starts within 30 minutes of the report, or, when
		 * the response itself comes later, within 30 minutes of it. */
		ms_t limit = c->created_at + ISSUE_URGENT_MEETING_MS;
		if (limit < c->now)
			limit = c->now + ISSUE_URGENT_MEETING_MS;
		if (meeting >= 0 && c->severity && !strcmp(c->severity, "紧急") && meeting > limit) {
			when_text(limit, when, sizeof when);
			add_problem(problems, "紧急问题的协调会须在 30 分钟内召开（不晚于 %s）", when);
		}
	} else if (f == &issue_solution_form) {
		ms_t due = time_of(form, "完成时间");
		if (due >= 0 && due <= c->now) {
			when_text(due, when, sizeof when);
			add_problem(problems, "「完成时间」%s 已经过去", when);
		}
	}
}

int issue_form_check(struct store *st, const struct form *f, json_t *form, const struct issue_check *c,
		     json_t *problems)
{
	size_t before = json_array_size(problems);
	for (size_t i = 0; i < f->count; i++)
		check_field(st, &f->fields[i], form, problems);
	check_rules(f, form, c, problems);
	return (int)(json_array_size(problems) - before);
}
