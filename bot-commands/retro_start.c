/*
 * retro_start.c - opening the retrospective when a request is completed:
 * for every participating department a deadline (policy "retrospective":
 * 3 working days, a reminder, then the contacts and head, then the superior)
 * and a card with the five questions, posted to the department's own chat
 * when it has one, else to the request's group.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/render.h"
#include "collabd/retro.h"
#include "collabd/sched.h"
#include "collabd/store.h"

/* The card's subject, so an answer can update it in place. */
char *retro_card_subject(const char *id, const char *dept) { return xasprintf("retro:%s:%s", id, dept); }

/* Head and contacts, each once. */
static json_t *mentions_of(json_t *people)
{
	json_t *out = json_array();
	const char *roles[] = { "head", "owner" };
	for (size_t k = 0; k < 2; k++) {
		size_t i, j;
		json_t *p, *m;
		json_array_foreach(json_object_get(people, roles[k]), i, p) {
			int seen = 0;
			json_array_foreach(out, j, m)
				seen |= json_equal(json_object_get(m, "id"), json_object_get(p, "id"));
			if (!seen)
				json_array_append(out, p);
		}
	}
	return out;
}

json_t *retro_card(const char *id, const char *req_name, const struct dept_row *d, ms_t due, json_t *mentions,
		   json_t *answered)
{
	char when[32];
	render_local_time(due, 0, when, sizeof when);
	char *title = xasprintf("📝 复盘 · 需求 %s · %s", id, d->name);
	json_t *questions = json_array();
	for (size_t i = 0; i < retro_question_count; i++)
		json_array_append_new(questions, json_string(retro_questions[i].key));
	json_t *body = json_pack("{s:s,s:s,s:O,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}],s:[{s:s,s:o}]}", "title", title, "color",
				 answered ? "green" : "blue", "mentions", mentions ? mentions : json_null(), "fields",
				 "label", "需求", "value", req_name ? req_name : id, "label", "部门", "value", d->name,
				 "label", "复盘截止", "value", when, "sections", "heading", "复盘会讨论的五个问题", "lines",
				 questions);
	if (!mentions)
		json_object_del(body, "mentions");
	if (answered) {
		const char *who = json_string_value(json_object_get(answered, "name"));
		char *note = xasprintf("%s 已提交复盘答复（%s）。如需修改，发送 /复盘 %s %s 并附上五项答复。", d->name,
				       who ? who : "", id, d->code);
		json_object_set_new(body, "note", json_string(note));
		free(note);
	} else {
		char *lead = xasprintf("需求已完成。请 %s 在 %s 前组织复盘会，并提交对以下五个问题的答复。", d->name, when);
		json_object_set_new(body, "lead", json_string(lead));
		free(lead);
		json_t *inputs = json_array();
		struct buf cmd;
		buf_init(&cmd);
		buf_printf(&cmd, "/复盘 %s %s", id, d->code);
		for (size_t i = 0; i < retro_question_count; i++) {
			json_array_append_new(inputs, json_pack("{s:s,s:s,s:s,s:b,s:b,s:i}", "name", retro_questions[i].aliases[0],
								"label", retro_questions[i].key, "kind", "text", "required", 1,
								"multiline", 1, "max", RETRO_ANSWER_MAX));
			buf_printf(&cmd, "\n%s：", retro_questions[i].key);
		}
		json_object_set_new(body, "form",
				    json_pack("{s:s,s:o,s:{s:s,s:{s:s,s:s,s:s}},s:s}", "name", "retro", "inputs", inputs,
					      "submit", "label", "提交复盘答复", "value", "action", "retro.answer", "id", id,
					      "dept", d->code, "command", (char *)cmd.data));
		buf_free(&cmd);
	}
	free(title);
	return body;
}

void retro_start(struct cmd_ctx *ctx, const struct request_row *r, ms_t *due)
{
	char today[11];
	cmd_today(ctx, today);
	const struct calendar *cal = ctx->sched ? sched_calendar(ctx->sched) : NULL;
	/* Without a scheduler (unit tests) the rule itself: 3 working days. */
	*due = cal ? calendar_add_working_days(cal, ctx->now, 3) : ctx->now + 3 * 86400000LL;
	json_t *codes = retro_participants(ctx->store, r->id), *form = json_loads(r->form, 0, NULL);
	if (!codes) {
		ctx->failed = 1;
		json_decref(form);
		return;
	}
	const char *req_name = json_string_value(json_object_get(form, "需求名称"));
	size_t i;
	json_t *code;
	json_array_foreach(codes, i, code) {
		struct dept_row d;
		if (store_dept_get(ctx->store, json_string_value(code), &d) != STORE_OK)
			continue;
		json_t *people = dir_people(ctx->store, &d, today);
		char *key = xasprintf("req:%s:retro:%s", r->id, d.code);
		char *subject = xasprintf("需求 %s · %s复盘答复", r->id, d.name);
		struct sched_deadline dl = { .key = key, .policy = "retrospective", .platform = r->platform,
					     .chat_id = r->chat_id, .subject = subject, .people = people, .start = ctx->now };
		if (ctx->sched && sched_deadline_set(ctx->sched, &dl, due) != STORE_OK)
			ctx->failed = 1;
		json_t *mentions = mentions_of(people);
		json_t *body = retro_card(r->id, req_name, &d, *due, mentions, NULL);
		cmd_card_link(ctx, body, r->id);
		char *card_subject = retro_card_subject(r->id, d.code);
		cmd_notice_about(ctx, "card", body, d.chat_id && *d.chat_id ? d.chat_id : r->chat_id, card_subject, 0);
		free(card_subject);
		json_decref(body);
		json_decref(mentions);
		free(subject);
		free(key);
		json_decref(people);
		dept_row_free(&d);
	}
	json_decref(codes);
	json_decref(form);
}
