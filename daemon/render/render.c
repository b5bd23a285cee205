/*
 * render.c - what both platforms' renderers share: escaping user text, local
 * times, and the words for a deadline's stage.
 *
 * render_escape() turns '<' '>' '*' into their full-width forms, so no
 * "<at id=all>" or markdown can be smuggled in through user text.
 */
#include "collabd/render.h"

#include <string.h>
#include <time.h>

#include "collabd/util.h"

char *render_escape(const char *text)
{
	struct buf b;
	buf_init(&b);
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '<': buf_append_str(&b, "\xEF\xBC\x9C"); break; /* ＜ */
		case '>': buf_append_str(&b, "\xEF\xBC\x9E"); break; /* ＞ */
		case '*': buf_append_str(&b, "\xEF\xBC\x8A"); break; /* ＊ */
		default: buf_append(&b, p, 1); break;
		}
	}
	return buf_steal(&b);
}

void render_local_time(long long ms, int seconds, char *out, size_t outsz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, outsz, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
}

const char *render_stage_label(const char *stage, int late)
{
	if (!strcmp(stage, "reminder"))
		return late ? "即将到期（补发）" : "即将到期";
	if (!strcmp(stage, "overdue"))
		return late ? "已逾期（补发）" : "已逾期";
	return late ? "已升级（补发）" : "已升级";
}

char *render_outcome_text(json_t *outcome)
{
	const char *label = json_string_value(json_object_get(outcome, "label"));
	const char *by = json_string_value(json_object_get(outcome, "by"));
	json_t *at = json_object_get(outcome, "at");
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, label ? label : "已处理");
	if (by && *by)
		buf_printf(&b, " · %s", by);
	if (json_is_integer(at)) {
		char when[32];
		render_local_time(json_integer_value(at), 0, when, sizeof when);
		buf_printf(&b, " · %s", when);
	}
	return buf_steal(&b);
}

char *render_outcome_markdown(json_t *outcome)
{
	if (!json_is_object(outcome))
		return NULL;
	char *text = render_outcome_text(outcome), *safe = render_escape(text);
	const char *detail = json_string_value(json_object_get(outcome, "detail"));
	char *safe_detail = detail ? render_escape(detail) : NULL;
	char *md = safe_detail ? xasprintf("**处理结果**：%s\n%s", safe, safe_detail) : xasprintf("**处理结果**：%s", safe);
	free(safe_detail);
	free(safe);
	free(text);
	return md;
}
