/*
 * retro_questions.c - the retrospective's five questions, who takes part,
 * and how durations read in the report.
 *
 * The questions are the guide's own (协作流程是否顺畅? 信息同步是否及时?
 * 问题解决是否高效? 有哪些可复制的经验? 需改进的不足?), shortened to keys a
 * user can type as "key：answer" lines.
 */
#include <stdio.h>

#include "collabd/retro.h"
#include "collabd/util.h"

/* The card input's name is the first alias. */
const struct form_field retro_questions[] = {
	{ "流程是否顺畅", { "process", "流程", NULL }, FORM_TEXT, 1, RETRO_ANSWER_MAX, NULL },
	{ "信息同步是否及时", { "sync", "同步", NULL }, FORM_TEXT, 1, RETRO_ANSWER_MAX, NULL },
	{ "问题解决是否高效", { "issues", "解决", NULL }, FORM_TEXT, 1, RETRO_ANSWER_MAX, NULL },
	{ "可复制的经验", { "lessons", "经验", NULL }, FORM_TEXT, 1, RETRO_ANSWER_MAX, NULL },
	{ "需改进的不足", { "improve", "不足", NULL }, FORM_TEXT, 1, RETRO_ANSWER_MAX, NULL },
};
const size_t retro_question_count = ARRAY_LEN(retro_questions);
const struct form retro_form = { "复盘答复", retro_questions, ARRAY_LEN(retro_questions) };

void retro_duration_text(ms_t ms, char *out, size_t outsz)
{
	if (ms < 0) {
		snprintf(out, outsz, "—");
		return;
	}
	long long minutes = (long long)(ms / 60000), hours = minutes / 60;
	if (hours)
		snprintf(out, outsz, "%lld小时%02lld分", hours, minutes % 60);
	else
		snprintf(out, outsz, "%lld分钟", minutes);
}
