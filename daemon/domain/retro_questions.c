/*
 * retro_questions.c - the retrospective's five questions, who takes part,
 * and how durations read in the report.
 *
 * The questions are the guide's own (协作流程是否顺畅? 信息同步是否及时?
 * 问题解决是否高效? 有哪些可复制的经验? 需改进的不足?), shortened to keys a
 * user can type as "key：answer" lines.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "collabd/retro.h"
#include "collabd/util.h"

const struct retro_question retro_questions[] = {
	{ "流程是否顺畅", { "流程", "process", NULL }, "process" },
	{ "信息同步是否及时", { "同步", "sync", NULL }, "sync" },
	{ "问题解决是否高效", { "解决", "issues", NULL }, "issues" },
	{ "可复制的经验", { "经验", "lessons", NULL }, "lessons" },
	{ "需改进的不足", { "不足", "improve", NULL }, "improve" },
};
const size_t retro_question_count = ARRAY_LEN(retro_questions);

const char *retro_question_key(const char *text)
{
	for (size_t i = 0; i < retro_question_count; i++) {
		const struct retro_question *q = &retro_questions[i];
		if (!strcmp(text, q->key) || !strcmp(text, q->input))
			return q->key;
		for (size_t k = 0; k < ARRAY_LEN(q->aliases) && q->aliases[k]; k++)
			if (!strcasecmp(text, q->aliases[k]))
				return q->key;
	}
	return NULL;
}

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
