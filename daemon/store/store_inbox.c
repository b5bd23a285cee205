/*
 * store_inbox.c - the inbox (which platform events were applied: dedupe) and the
 * timeline (what happened to a workflow subject, in order).
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
#include "collabd/util.h"

enum store_rc store_inbox_record(struct store *st, const char *platform, const char *dedupe_key,
				 const char *event_type, ms_t now)
{
	/* Once per event: the texts are the caller's until the step is done. */
	struct stmt *s = store_stmt(st, S_INBOX_ADD);
	store_bind_text_borrowed(s, 1, platform);
	store_bind_text_borrowed(s, 2, dedupe_key);
	store_bind_text_borrowed(s, 3, event_type);
	stmt_bind_int64(s, 4, now);
	enum store_rc rc = store_step_done(st, s);
	if (rc == STORE_OK && store_changes(st) == 0)
		return STORE_DUP;
	return rc;
}

int store_inbox_prune(struct store *st, ms_t cutoff)
{
	struct stmt *s = store_stmt(st, S_INBOX_PRUNE);
	stmt_bind_int64(s, 1, cutoff);
	return store_step_done(st, s) == STORE_OK ? store_changes(st) : -1;
}

int store_outbox_prune_sent(struct store *st, ms_t cutoff)
{
	struct stmt *s = store_stmt(st, S_OUTBOX_PRUNE);
	stmt_bind_int64(s, 1, cutoff);
	return store_step_done(st, s) == STORE_OK ? store_changes(st) : -1;
}

int store_timeline_prune_events(struct store *st, ms_t cutoff)
{
	struct stmt *s = store_stmt(st, S_TIMELINE_PRUNE);
	stmt_bind_int64(s, 1, cutoff);
	return store_step_done(st, s) == STORE_OK ? store_changes(st) : -1;
}

enum store_rc store_timeline_add(struct store *st, ms_t at, const char *actor, const char *kind,
				 const char *subject, const char *detail_json)
{
	struct stmt *s = store_stmt(st, S_TIMELINE_ADD);
	stmt_bind_int64(s, 1, at);
	store_bind_text(s, 2, actor);
	store_bind_text(s, 3, kind);
	store_bind_text(s, 4, subject);
	store_bind_text(s, 5, detail_json);
	return store_step_done(st, s);
}

json_t *store_timeline_for(struct store *st, const char *subject, int limit)
{
	struct stmt *s = store_stmt(st, S_TIMELINE_FOR);
	store_bind_text(s, 1, subject);
	stmt_bind_int64(s, 2, limit);
	json_t *out = json_array();
	while (store_step(st, s) == STEP_ROW) {
		const char *actor = s->ops->col_text(s->h, 1), *kind = s->ops->col_text(s->h, 2);
		json_array_insert_new(out, 0, json_pack("{s:I,s:s,s:s}", "at", (json_int_t)stmt_col_int64(s, 0),
							"actor", actor ? actor : "", "kind",
							kind ? kind : ""));
	}
	stmt_reset(s);
	return out;
}
