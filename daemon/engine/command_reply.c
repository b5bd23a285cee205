/*
 * command_reply.c - what a command sends back: replies and notices (rows of
 * the outbox, in the event's transaction), the clicker's toast, and cards
 * that show their outcome -- after a click decides something, the clicked
 * card is redrawn with what was decided, by whom and when, and without the
 * buttons that no longer apply; the toast says the same.
 *
 * command.c (parsing, the registry, dispatch) calls down into this file,
 * never the other way round.
 *
 * Handlers say *what* (cmd_outcome, cmd_redraw_card); this file decides *how*
 * for each platform.  Feishu locks a JSON 2.0 card while its click is being
 * handled -- a PATCH meanwhile fails with 230099 / 11310 -- and documents the
 * callback's own response ("card" beside "toast") as the way to update the
 * clicked card, so there the new card rides on the reply.  Elsewhere the card
 * is updated in place from the outbox.
 */
#include "collabd/command.h"

#include <stdlib.h>
#include <string.h>

#include "collabd/config.h"
#include "collabd/log.h"
#include "collabd/render.h"
#include "collabd/store.h"
#include "collabd/webboard.h"

/* Platforms whose card callback response can carry the redrawn card. */
static const char *const answer_in_callback[] = { "feishu" };

/* Platforms where every card we send can be updated in place by message:
 * Feishu; DingTalk once its generic card template is configured (without it
 * its workflow cards are markdown, whose "update" would be a new message
 * repeating the question, so a typed decision leaves those alone). */
static const char *const update_any_card[] = { "feishu" };

static int cards_editable(const struct cmd_ctx *ctx)
{
	const char *platform = ctx->ev->platform;
	for (size_t i = 0; i < ARRAY_LEN(update_any_card); i++)
		if (!strcmp(update_any_card[i], platform))
			return 1;
	const struct config *cfg = ctx->env ? ctx->env->cfg : NULL;
	return !strcmp(platform, "dingtalk") && cfg && cfg->dingtalk.card_template_id && *cfg->dingtalk.card_template_id;
}

static int listed(const char *const *list, size_t n, const char *platform)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], platform))
			return 1;
	return 0;
}

static int redraws_in_callback(const char *platform)
{
	return listed(answer_in_callback, ARRAY_LEN(answer_in_callback), platform);
}

/* {label, by, at, detail}: a new reference. */
static json_t *outcome_new(struct cmd_ctx *ctx, const char *label, const char *detail)
{
	char *by = store_user_name(ctx->store, ctx->ev->user_id);
	json_t *o = json_pack("{s:s,s:s,s:I,s:s?}", "label", label, "by", by ? by : ctx->ev->user_id, "at",
			      (json_int_t)ctx->now, "detail", detail && *detail ? detail : NULL);
	free(by);
	return o;
}

/* A notice's body as a decided card: nothing to click, nobody to notify. */
static void close_body(json_t *body, int still_open)
{
	if (!still_open) {
		json_object_del(body, "buttons");
		json_object_del(body, "form");
	}
	json_object_del(body, "mentions");
}

void cmd_outcome(struct cmd_ctx *ctx, const char *label, const char *detail, int still_open)
{
	if (ctx->ev->kind != EVENT_CARD_ACTION)
		return;
	json_decref(ctx->outcome);
	ctx->card_still_open = still_open;
	ctx->outcome = outcome_new(ctx, label, detail);
}

void cmd_outcome_about(struct cmd_ctx *ctx, const char *subject, const char *chat_id, const char *label,
		       const char *detail)
{
	if (!cards_editable(ctx))
		return;
	json_t *row = NULL;
	enum store_rc rc = store_outbox_subject_notice(ctx->store, subject, &row);
	if (rc != STORE_OK) {
		if (rc != STORE_NOTFOUND)
			ctx->failed = 1;
		return;
	}
	const char *text = json_string_value(json_object_get(row, "body"));
	json_t *body = json_loads(text ? text : "", 0, NULL);
	if (json_is_object(body)) {
		close_body(body, 0);
		json_object_set_new(body, "outcome", outcome_new(ctx, label, detail));
		cmd_notice_about(ctx, json_string_value(json_object_get(row, "kind")), body, chat_id, subject, 1);
	}
	json_decref(body);
	json_decref(row);
}

void cmd_redraw_card(struct cmd_ctx *ctx, const char *kind, json_t *body)
{
	if (ctx->ev->kind != EVENT_CARD_ACTION || !ctx->ev->card_message_id)
		return;
	json_decref(ctx->card_redraw);
	ctx->card_redraw = json_pack("{s:s,s:o}", "kind", kind, "body", json_deep_copy(body));
}

/* The clicked card as first sent, nobody @-mentioned again and -- unless
 * others go on using it -- nothing left to click: the decision is taken.
 * NULL when it was never sent by us (or is gone); sets ctx->failed when the
 * store failed. */
static json_t *as_sent(struct cmd_ctx *ctx)
{
	json_t *row = NULL;
	enum store_rc rc = store_outbox_sent_notice(ctx->store, ctx->ev->platform, ctx->ev->card_message_id, &row);
	if (rc != STORE_OK) {
		if (rc != STORE_NOTFOUND)
			ctx->failed = 1;
		return NULL;
	}
	json_t *body = json_loads(json_string_value(json_object_get(row, "body")) ?
					  json_string_value(json_object_get(row, "body")) : "",
				  0, NULL);
	json_t *redraw = NULL;
	if (json_is_object(body)) {
		close_body(body, ctx->card_still_open);
		redraw = json_pack("{s:O,s:O}", "kind", json_object_get(row, "kind"), "body", body);
	}
	json_decref(body);
	json_decref(row);
	return redraw;
}

void cmd_finish_card(struct cmd_ctx *ctx)
{
	json_t *outcome = ctx->outcome, *redraw = ctx->card_redraw;
	ctx->outcome = ctx->card_redraw = NULL;
	const struct event *ev = ctx->ev;
	if (outcome && !redraw && ev->card_message_id)
		redraw = as_sent(ctx);
	if (outcome) {
		char *text = render_outcome_text(outcome);
		cmd_toast(ctx, "success", text);
		free(text);
	}
	if (redraw) {
		json_t *body = json_object_get(redraw, "body");
		if (outcome)
			json_object_set(body, "outcome", outcome);
		if (redraws_in_callback(ev->platform)) {
			if (!ctx->card_response)
				ctx->card_response = json_object();
			json_object_set(ctx->card_response, "card", redraw);
		} else {
			cmd_notice(ctx, json_string_value(json_object_get(redraw, "kind")), body, ev->card_message_id);
		}
		log_debug("msg=\"clicked card redrawn\" platform=%s message_id=%s kind=%s", ev->platform,
			  ev->card_message_id, json_string_value(json_object_get(redraw, "kind")));
	}
	json_decref(redraw);
	json_decref(outcome);
}

/* ---- replies and notices ---- */

/* A reply (or with update_of, an update), remembered as the message about
 * subject when that is set. */
static void notice(struct cmd_ctx *ctx, const char *kind, json_t *body, const char *update_of, const char *subject)
{
	const struct event *ev = ctx->ev;
	char *json = json_dumps(body, JSON_COMPACT);
	const char *reply_to = update_of ? NULL : ev->message_id;
	int64_t id = 0;
	if (!json || store_outbox_add(ctx->store, ev->platform, ev->chat_id, reply_to, update_of,
				      kind, json, ctx->now, &id) != STORE_OK ||
	    (subject && store_outbox_set_subject(ctx->store, id, subject) != STORE_OK))
		ctx->failed = 1;
	free(json);
}

void cmd_notice(struct cmd_ctx *ctx, const char *kind, json_t *body, const char *update_of)
{
	notice(ctx, kind, body, update_of, NULL);
}

void cmd_reply_about(struct cmd_ctx *ctx, const char *kind, json_t *body, const char *subject)
{
	notice(ctx, kind, body, NULL, subject);
}

void cmd_notice_about(struct cmd_ctx *ctx, const char *kind, json_t *body, const char *chat_id,
		      const char *subject, int update)
{
	const struct event *ev = ctx->ev;
	if (update && subject && ev->kind == EVENT_CARD_ACTION && ev->card_message_id) {
		/* The clicked card itself: redrawn through the click's reply (a
		 * PATCH now would meet the platform's lock on that card). */
		char *mid = store_outbox_subject_message(ctx->store, subject);
		int clicked = mid && !strcmp(mid, ev->card_message_id);
		free(mid);
		if (clicked) {
			cmd_redraw_card(ctx, kind, body);
			return;
		}
	}
	char *json = json_dumps(body, JSON_COMPACT);
	char *update_of = update ? xasprintf("subject:%s", subject) : NULL;
	int64_t id = 0;
	if (!json || store_outbox_add(ctx->store, ctx->ev->platform, chat_id, NULL, update_of, kind, json, ctx->now,
				      &id) != STORE_OK ||
	    (!update && subject && store_outbox_set_subject(ctx->store, id, subject) != STORE_OK))
		ctx->failed = 1;
	free(update_of);
	free(json);
}

void cmd_reply_text(struct cmd_ctx *ctx, const char *text)
{
	json_t *body = json_pack("{s:s}", "text", text);
	cmd_notice(ctx, "text", body, NULL);
	json_decref(body);
}

void cmd_card_link(const struct cmd_ctx *ctx, json_t *card, const char *request_id)
{
	if (!ctx->env || !ctx->env->cfg)
		return;
	char *url = request_id ? board_request_link(ctx->env->cfg, request_id) : board_home_link(ctx->env->cfg);
	if (url)
		json_object_set_new(card, "link", json_pack("{s:s,s:s}", "label", request_id ? "在进度看板中查看" : "打开进度看板",
							    "url", url));
	free(url);
}

void cmd_toast(struct cmd_ctx *ctx, const char *type, const char *text)
{
	json_decref(ctx->card_response);
	ctx->card_response = json_pack("{s:{s:s,s:s}}", "toast", "type", type, "content", text);
}

void cmd_list_problems(struct buf *b, json_t *problems)
{
	size_t i, n = json_array_size(problems);
	json_t *p;
	json_array_foreach(problems, i, p) {
		if (i == CMD_PROBLEMS_SHOWN) {
			buf_printf(b, "\n…及其他 %zu 项", n - i);
			break;
		}
		buf_printf(b, "\n%zu. %s", i + 1, json_string_value(p) ? json_string_value(p) : "?");
	}
}

char *cmd_echo(const char *text)
{
	/* At most 24 characters of what the user typed, cut on a character boundary. */
	const char *p = text;
	int chars = 0;
	while (*p && chars < 24) {
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
		chars++;
	}
	char *out = *p ? xasprintf("%.*s…", (int)(p - text), text) : xstrdup(text);
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' '; /* no control characters in a reply */
	return out;
}
