/*
 * render.c - what both platforms' renderers share: escaping user text, local
 * times, and the words for a deadline's stage.
 *
 * render_escape() turns every character that gives user text a meaning in
 * Feishu's text/lark_md/markdown or DingTalk's markdown into its full-width
 * twin, so no mention, markup, link or image can be smuggled in through user
 * text: a card the bot signs carries links only from the bot's own fields.
 * A ']' is turned only where it would close a link's label, so the usage
 * lines' "[编号]" read as written.
 * Full-width forms read the same to a person and mean nothing to a parser,
 * whatever its escaping rules (a backslash is neutralised too).  '_' stays:
 * user ids contain it, and at worst it makes italics, never a link.
 */
#include "collabd/render.h"

#include <string.h>
#include <time.h>

#include "collabd/util.h"

/* After a ']': does the text go on at once as a link target, a reference or
 * a definition?  (Markdown allows no blank there, so "[编号] [部门]" in a
 * usage line is no link and stays as written.) */
static int closes_label(const char *p)
{
	return *p == '(' || *p == '[' || *p == ':';
}

char *render_escape(const char *text)
{
	struct buf b;
	buf_init(&b);
	int line_start = 1;
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '<': buf_append_str(&b, "\xEF\xBC\x9C"); break; /* ＜ tags, autolinks */
		case '>': buf_append_str(&b, "\xEF\xBC\x9E"); break; /* ＞ quotes */
		case '*': buf_append_str(&b, "\xEF\xBC\x8A"); break; /* ＊ bold, italics */
		case ']': /* ］ where it would close a link's or image's label:
			   * "](", "][" (a reference) or "]:" (its definition).
			   * Elsewhere ("/帮助 [命令]") brackets stay as typed. */
			if (closes_label(p + 1))
				buf_append_str(&b, "\xEF\xBC\xBD");
			else
				buf_append(&b, p, 1);
			break;
		case '`': buf_append_str(&b, "\xEF\xBD\x80"); break; /* ｀ code */
		case '~': buf_append_str(&b, "\xEF\xBD\x9E"); break; /* ～ strike-through */
		case '\\': buf_append_str(&b, "\xEF\xBC\xBC"); break; /* ＼ escapes */
		case '&': buf_append_str(&b, "\xEF\xBC\x86"); break; /* ＆ entities (&lt;at…) */
		case '#': /* headings: only at the start of a line */
			if (line_start)
				buf_append_str(&b, "\xEF\xBC\x83"); /* ＃ */
			else
				buf_append(&b, p, 1);
			break;
		default: buf_append(&b, p, 1); break;
		}
		if (*p == '\n')
			line_start = 1;
		else if (*p != ' ' && *p != '\t')
			line_start = 0;
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
