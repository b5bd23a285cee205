/*
 * request.c - the request form's field table, parsing and checking, and
 * request ids.
 */
#include "collabd/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/store.h"
#include "collabd/util.h"

/* The form, row by row: 《跨部门协作需求信息表》. */
const struct form_field request_fields[] = {
	{ "发起部门", { "dept", "department", "部门" }, FORM_DEPTS, 0, 0, NULL },
	{ "联系方式", { "contact", "电话", NULL }, FORM_TEXT, 1, 100, NULL },
	{ "需求名称", { "name", "名称", NULL }, FORM_TEXT, 1, REQUEST_NAME_MAX, NULL },
	{ "需求背景", { "background", "背景", NULL }, FORM_TEXT, 1, REQUEST_BACKGROUND_MAX, NULL },
	{ "具体任务", { "tasks", "任务", NULL }, FORM_TEXT, 1, REQUEST_TEXT_MAX, NULL },
	{ "涉及部门", { "departments", "depts", NULL }, FORM_DEPTS, 1, 0, NULL },
	{ "期望完成时间", { "due", "完成时间", "截止时间" }, FORM_TEXT, 1, 0, NULL },
	{ "资源需求", { "resources", "资源", NULL }, FORM_TEXT, 0, REQUEST_TEXT_MAX, NULL },
};
const size_t request_field_count = ARRAY_LEN(request_fields);
const struct form request_form = { "需求信息表", request_fields, ARRAY_LEN(request_fields) };

static void add_problem(json_t *problems, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_problem(json_t *problems, const char *fmt, ...)
{
	char text[300];
	va_list ap;
	va_start(ap, fmt);
	utf8_vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(problems, json_string(text));
}

json_t *request_form_from_args(const struct cmd_args *args, json_t *problems)
{
	return form_collect(&request_form, args, NULL, problems);
}

/* The department user_id heads or answers for, when exactly one. */
static char *home_dept(struct store *st, const char *user_id)
{
	struct dept_row *rows;
	size_t n;
	if (store_dept_list(st, &rows, &n) != STORE_OK)
		n = 0; /* counted by the store: the event is not acked */
	char *found = NULL;
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		int mine = !strcmp(rows[i].head, user_id);
		char **ids;
		size_t k;
		if (store_dept_contacts(st, rows[i].code, &ids, &k) != STORE_OK)
			k = 0; /* counted by the store: the event is not acked */
		for (size_t j = 0; j < k; j++) {
			mine |= !strcmp(ids[j], user_id);
			free(ids[j]);
		}
		free(ids);
		if (mine && count++ == 0)
			found = xstrdup(rows[i].code);
		dept_row_free(&rows[i]);
	}
	free(rows);
	if (count != 1) {
		free(found);
		return NULL;
	}
	return found;
}

int request_form_check(struct store *st, json_t *form, const char *user_id, const char *today, json_t *problems)
{
	size_t before = json_array_size(problems);
	for (size_t i = 0; i < request_field_count; i++) {
		const struct form_field *f = &request_fields[i];
		json_t *v = json_object_get(form, f->key);
		if (json_is_array(v) && json_array_size(v))
			continue; /* a list (multi-select from a card form) */
		const char *text = json_string_value(v);
		if (!text || !*text) {
			if (f->required)
				add_problem(problems, "缺少「%s」", f->key);
			continue;
		}
		long chars = utf8_count(text);
		int max = f->max_chars ? f->max_chars : REQUEST_TEXT_MAX;
		if (chars < 0)
			add_problem(problems, "「%s」含有无效字符", f->key);
		else if (chars > max)
			add_problem(problems, "「%s」最多 %d 个字，现在 %ld 个字", f->key, max, chars);
	}

	/* 发起部门: given, or the one the initiator belongs to. */
	const char *given = json_string_value(json_object_get(form, "发起部门"));
	char *home = given && *given ? dir_dept_code(st, given) : home_dept(st, user_id);
	if (home)
		json_object_set_new(form, "发起部门", json_string(home));
	else if (given && *given) {
		char *echo = cmd_echo(given);
		add_problem(problems, "发起部门「%s」不在部门目录中", echo);
		free(echo);
	}
	else
		add_problem(problems, "请填写「发起部门」（你不属于部门目录中的唯一一个部门）");
	free(home);

	/* 涉及部门: each known, normalised to codes, no repeats. */
	json_t *involved_v = json_object_get(form, "涉及部门");
	const char *involved = json_string_value(involved_v);
	if ((involved && *involved) || json_is_array(involved_v)) {
		json_t *codes = json_array();
		json_t *parts = involved ? dir_split_list(involved) : json_incref(involved_v);
		size_t i;
		json_t *p;
		json_array_foreach(parts, i, p) {
			char *code = json_is_string(p) ? dir_dept_code(st, json_string_value(p)) : NULL;
			if (!code) {
				char *echo = cmd_echo(json_is_string(p) ? json_string_value(p) : "?");
				add_problem(problems, "涉及部门「%s」不在部门目录中", echo);
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
			add_problem(problems, "缺少「涉及部门」");
		json_object_set_new(form, "涉及部门", codes);
		json_decref(parts);
	}

	/* 期望完成时间: a real date, today or later. */
	const char *due = json_string_value(json_object_get(form, "期望完成时间"));
	int y, m, d;
	if (due && *due) {
		if (calendar_parse_date(due, &y, &m, &d))
			add_problem(problems, "「期望完成时间」应为日期，例如 2026-12-31");
		else if (strcmp(due, today) < 0)
			add_problem(problems, "「期望完成时间」%s 已经过去", due);
	}
	return (int)(json_array_size(problems) - before);
}

char *request_next_id(struct store *st, int year, int quarter, const char *dept)
{
	char prefix[48];
	snprintf(prefix, sizeof prefix, "%04d-Q%d-%s", year, quarter, dept);
	int64_t n = store_next_seq(st, prefix);
	return n < 0 ? NULL : xasprintf("%s-%03lld", prefix, (long long)n);
}

json_t *request_form_from_json(json_t *values, json_t *problems)
{
	json_t *form = form_collect(&request_form, NULL, values, problems);
	const char *due = json_string_value(json_object_get(form, "期望完成时间"));
	if (due && strlen(due) > 10) {
		/* the date picker sends "2026-12-31 +0800" */
		char date[11];
		size_t n = utf8_cut(due, strlen(due), 10);
		memcpy(date, due, n);
		date[n] = '\0';
		json_object_set_new(form, "期望完成时间", json_string(date));
	}
	return form;
}
