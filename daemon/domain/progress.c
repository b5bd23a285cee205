/*
 * progress.c - step 3's rules without I/O: 《跨部门协作进度同步表》 as a
 * table (its card form, its "key：value" parsing and checking) and the
 * working-day arithmetic of the daily cut-off.
 *
 * bot-commands/progress.c (submitting, owners) and bot-commands/progress_day.c
 * (the reminder, the cut-off, the digest) both build on this file and no
 * longer on each other.
 */
#include "collabd/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/util.h"

/* The form, row by row (form.h); the first alias is the card input's name. */
static const struct form_field fields[] = {
	{ "已完成任务", { "done", "已完成", "完成" }, FORM_TEXT, 1, PROGRESS_TEXT_MAX, NULL },
	{ "未完成原因", { "undone", "未完成", "原因" }, FORM_TEXT, 0, PROGRESS_TEXT_MAX, NULL },
	{ "下一步计划", { "next", "下一步", "计划" }, FORM_TEXT, 1, PROGRESS_TEXT_MAX, NULL },
};
const struct form progress_update_form = { "进度同步表", fields, ARRAY_LEN(fields) };

json_t *progress_form(const char *id)
{
	json_t *inputs = json_array();
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		json_array_append_new(inputs, json_pack("{s:s,s:s,s:b,s:b,s:i}", "name", fields[i].aliases[0], "label",
							fields[i].key, "required", fields[i].required, "multiline", 1,
							"max", PROGRESS_TEXT_MAX));
	char *command = xasprintf("/进度 %s\n已完成任务：\n未完成原因：\n下一步计划：", id);
	json_t *form = json_pack("{s:s,s:o,s:{s:s,s:{s:s,s:s}},s:s}", "name", "progress", "inputs", inputs, "submit",
				 "label", "提交今日进度", "value", "action", "progress.submit", "id", id, "command", command);
	free(command);
	return form;
}

void progress_check(json_t *values, struct progress_text *out, json_t *problems)
{
	const char **text[] = { &out->done, &out->undone, &out->next };
	_Static_assert(ARRAY_LEN(text) == ARRAY_LEN(fields), "one text per progress field");
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		/* fields[i].max_chars is PROGRESS_TEXT_MAX for each */
		const char *v = json_string_value(json_object_get(values, fields[i].key));
		*text[i] = v ? v : "";
		if (fields[i].required && !**text[i])
			json_array_append_new(problems, json_sprintf("缺少“%s”。", fields[i].key));
		else if (utf8_count(*text[i]) > PROGRESS_TEXT_MAX)
			json_array_append_new(problems, json_sprintf("“%s”超过 %d 字（现在 %ld 字）。", fields[i].key,
								     PROGRESS_TEXT_MAX, utf8_count(*text[i])));
	}
}

/* ---- working days ---- */

void progress_day_of(ms_t t, char out[11])
{
	int y, m, d;
	calendar_local_date(t, &y, &m, &d, NULL);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

ms_t progress_cutoff(int cutoff_min, const char *day)
{
	int y, m, d;
	if (calendar_parse_date(day, &y, &m, &d))
		return -1;
	return calendar_local_time(y, m, d, cutoff_min);
}

int progress_is_workday(const struct calendar *cal, ms_t t)
{
	int y, m, d;
	calendar_local_date(t, &y, &m, &d, NULL);
	return calendar_is_workday(cal, y, m, d);
}

ms_t progress_next_cutoff(const struct calendar *cal, int cutoff_min, ms_t from, ms_t notice, char day[11])
{
	/* 400 days: past any run of holidays a calendar can hold. */
	for (ms_t t = from, i = 0; i < 400; i++, t += 86400000LL) {
		progress_day_of(t, day);
		ms_t cut = progress_cutoff(cutoff_min, day);
		if (cut - notice >= from && progress_is_workday(cal, t))
			return cut;
	}
	return -1;
}
