/*
 * inbox.c - dedupe, route and commit one event.
 */
#include "collabd/inbox.h"

#include <stdlib.h>

#include "collabd/log.h"
#include "collabd/store.h"

static const char *kind_name(enum event_kind k)
{
	switch (k) {
	case EVENT_MESSAGE: return "message";
	case EVENT_CARD_ACTION: return "card_action";
	case EVENT_OTHER: return "other";
	}
	return "other";
}

enum inbox_rc inbox_apply(struct store *st, const struct cmd_env *env, const struct event *ev,
			  json_t **card_response)
{
	ms_t now = clock_now_ms();
	*card_response = NULL;
	if (store_begin(st) != STORE_OK) {
		log_error("msg=\"cannot begin a transaction; event left unacknowledged\" error=\"%s\"", store_errmsg(st));
		return INBOX_FAILED;
	}
	enum store_rc rc = store_inbox_record(st, ev->platform, ev->dedupe_key, ev->event_type, now);
	if (rc == STORE_DUP) {
		store_rollback(st);
		log_info("msg=\"duplicate event ignored\" platform=%s key=%s", ev->platform, ev->dedupe_key);
		if (ev->kind == EVENT_CARD_ACTION)
			*card_response = json_object();
		return INBOX_DUPLICATE;
	}
	if (rc != STORE_OK)
		goto fail;

	if (ev->reply_url && ev->chat_id &&
	    store_webhook_put(st, ev->platform, ev->chat_id, ev->reply_url, ev->reply_url_expires) != STORE_OK)
		goto fail;

	json_t *detail = json_pack("{s:s,s:s,s:s?}", "event_id", ev->event_id, "type", ev->event_type,
				   "message_id", ev->message_id);
	char *detail_text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	rc = store_timeline_add(st, now, ev->user_id, kind_name(ev->kind), ev->chat_id, detail_text);
	free(detail_text);
	if (rc != STORE_OK)
		goto fail;

	struct cmd_ctx ctx = { .store = st, .sched = env->sched, .env = env, .ev = ev, .status = env->status,
			       .now = now };
	enum cmd_rc crc = CMD_OK;
	unsigned long errors_before = store_error_count(st);
	if (ev->kind == EVENT_MESSAGE)
		crc = cmd_dispatch_message(&ctx);
	else if (ev->kind == EVENT_CARD_ACTION)
		crc = cmd_dispatch_action(&ctx);
	json_decref(ctx.outcome); /* consumed by cmd_finish_card() unless a handler failed early */
	json_decref(ctx.card_redraw);
	/* A store failure a handler read as "none" still fails the event. */
	if (crc == CMD_EINTERNAL || store_error_count(st) != errors_before) {
		json_decref(ctx.card_response);
		goto fail;
	}
	if (store_commit(st) != STORE_OK) {
		json_decref(ctx.card_response);
		goto fail;
	}
	if (ev->kind == EVENT_CARD_ACTION)
		*card_response = ctx.card_response ? ctx.card_response : json_object();
	else
		json_decref(ctx.card_response);
	return INBOX_APPLIED;
fail:
	log_error("msg=\"event not applied; left unacknowledged for redelivery\" key=%s error=\"%s\"",
		  ev->dedupe_key, store_errmsg(st));
	store_rollback(st);
	return INBOX_FAILED;
}
