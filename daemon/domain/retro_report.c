/*
 * retro_report.c - assembles 《跨部门协作复盘报告》's content: who answered,
 * who did not, the figures, and the suggestions (rules of thumb first, then
 * each department's own 需改进的不足).
 *
 * The result is stored with the archive entry, so the report printed later
 * (an export, a re-render) shows the figures as they were when it was made.
 */
#include <string.h>

#include "collabd/archive.h"
#include "collabd/retro.h"
#include "collabd/util.h"

json_t *retro_report_build(struct store *st, const struct calendar *cal, const struct sla_policies *pol,
			   const char *request_id, ms_t now)
{
	json_t *completion = NULL;
	if (store_completion_get(st, request_id, &completion) != STORE_OK)
		return NULL;
	ms_t due = (ms_t)json_integer_value(json_object_get(completion, "retro_due"));
	json_decref(completion);
	json_t *metrics = retro_metrics(st, cal, pol, request_id, due);
	json_t *parts = retro_participants(st, request_id), *answers = store_retro_answers(st, request_id);
	json_t *report = NULL;
	if (!metrics || !parts || !answers)
		goto out;
	json_t *answered = json_array(), *missing = json_array(), *suggestions = json_array();
	size_t i, j;
	json_t *code, *a, *advice = retro_advice(metrics);
	json_array_foreach(advice, i, a)
		json_array_append_new(suggestions, json_pack("{s:s,s:O}", "source", "rule", "text", json_object_get(a, "text")));
	json_decref(advice);
	json_array_foreach(parts, i, code) {
		json_t *found = NULL;
		json_array_foreach(answers, j, a)
			if (!strcmp(json_string_value(json_object_get(a, "dept")), json_string_value(code)))
				found = a;
		json_array_append(found ? answered : missing, code);
		const char *own = found ? json_string_value(json_object_get(json_object_get(found, "answers"), "需改进的不足")) : NULL;
		if (own && *own)
			json_array_append_new(suggestions, json_pack("{s:s,s:O,s:s}", "source", "dept", "dept", code, "text", own));
	}
	report = json_pack("{s:I,s:O,s:o,s:o,s:O,s:o}", "written_at", (json_int_t)now, "participants", parts, "answered",
			   answered, "missing", missing, "metrics", metrics, "suggestions", suggestions);
out:
	json_decref(metrics);
	json_decref(parts);
	json_decref(answers);
	return report;
}
