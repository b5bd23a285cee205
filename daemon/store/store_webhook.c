/*
 * store_webhook.c - the per-chat reply webhooks (DingTalk sessionWebhook),
 * and on SQLite a memo of the rows as committed, so that the message flood
 * does not run an upsert per message that changes nothing (issue 14).
 *
 * The memo mirrors the upsert's own rule (store_statements.c): a put is
 * skipped only when the SQL would leave the row as it is.  It is trusted
 * only for what this connection committed: a put's row goes into the
 * pending list of the open transaction, a savepoint rolled back drops what
 * was put since, and only a successful COMMIT moves the list into the memo
 * (a rolled-back batch leaves no entry claiming a row that is not there).
 * On PostgreSQL other instances write the same rows, so there is no memo
 * and every put runs the SQL.
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "collabd/util.h"

/* Chats remembered at once: MEMO_SETS sets of MEMO_WAYS rows by hash; past
 * that a set's oldest row makes room (a chat forgotten only costs its
 * upserts until one writes the row again). */
#define MEMO_SETS 64
#define MEMO_WAYS 4

struct memo_row {
	char *platform, *chat_id, *url; /* NULL platform: empty */
	ms_t expires_at;
};

struct webhook_memo {
	struct memo_row committed[MEMO_SETS][MEMO_WAYS];
	unsigned char next_victim[MEMO_SETS];
	struct memo_row *pending; /* written by the open transaction, oldest first */
	size_t npending, cap;
	size_t *marks; /* npending when each open savepoint began */
	size_t nmarks, marks_cap;
	int in_tx; /* a transaction begun by store_begin is open */
};

static void row_clear(struct memo_row *r)
{
	free(r->platform);
	free(r->chat_id);
	free(r->url);
	memset(r, 0, sizeof *r);
}

static int row_is(const struct memo_row *r, const char *platform, const char *chat_id)
{
	return r->platform && !strcmp(r->platform, platform) && !strcmp(r->chat_id, chat_id);
}

static size_t set_of(const char *platform, const char *chat_id)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = platform; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = chat_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % MEMO_SETS;
}

/* The committed row of a chat, or NULL. */
static struct memo_row *committed_row(struct webhook_memo *m, const char *platform, const char *chat_id)
{
	struct memo_row *set = m->committed[set_of(platform, chat_id)];
	for (size_t w = 0; w < MEMO_WAYS; w++)
		if (row_is(&set[w], platform, chat_id))
			return &set[w];
	return NULL;
}

/* Where a chat's committed row goes: its own, an empty one, or the set's
 * oldest. */
static struct memo_row *committed_slot(struct webhook_memo *m, const char *platform, const char *chat_id)
{
	struct memo_row *r = committed_row(m, platform, chat_id);
	if (r)
		return r;
	size_t k = set_of(platform, chat_id);
	for (size_t w = 0; w < MEMO_WAYS; w++)
		if (!m->committed[k][w].platform)
			return &m->committed[k][w];
	r = &m->committed[k][m->next_victim[k]];
	m->next_victim[k] = (unsigned char)((m->next_victim[k] + 1) % MEMO_WAYS);
	return r;
}

static void pending_drop_to(struct webhook_memo *m, size_t n)
{
	while (m->npending > n)
		row_clear(&m->pending[--m->npending]);
}

static void tx_reset(struct webhook_memo *m)
{
	pending_drop_to(m, 0);
	m->nmarks = 0;
	m->in_tx = 0;
}

void webhook_memo_free(struct store *st)
{
	struct webhook_memo *m = st->webhooks;
	if (!m)
		return;
	tx_reset(m);
	for (size_t k = 0; k < MEMO_SETS; k++)
		for (size_t w = 0; w < MEMO_WAYS; w++)
			row_clear(&m->committed[k][w]);
	free(m->pending);
	free(m->marks);
	free(m);
	st->webhooks = NULL;
}

void webhook_memo_on_begin(struct store *st)
{
	if (!st->webhooks)
		return;
	tx_reset(st->webhooks);
	st->webhooks->in_tx = 1;
}

void webhook_memo_on_savepoint(struct store *st)
{
	struct webhook_memo *m = st->webhooks;
	if (!m || !m->in_tx)
		return;
	if (m->nmarks == m->marks_cap) {
		m->marks_cap = m->marks_cap ? m->marks_cap * 2 : 4;
		m->marks = xrealloc(m->marks, m->marks_cap * sizeof *m->marks);
	}
	m->marks[m->nmarks++] = m->npending;
}

void webhook_memo_on_release(struct store *st)
{
	struct webhook_memo *m = st->webhooks;
	if (m && m->in_tx && m->nmarks)
		m->nmarks--;
}

void webhook_memo_on_rollback_to(struct store *st)
{
	struct webhook_memo *m = st->webhooks;
	if (m && m->in_tx && m->nmarks)
		pending_drop_to(m, m->marks[m->nmarks - 1]);
}

void webhook_memo_on_end(struct store *st, int committed)
{
	struct webhook_memo *m = st->webhooks;
	if (!m)
		return;
	for (size_t i = 0; i < m->npending; i++) {
		struct memo_row *r = &m->pending[i];
		if (!r->platform)
			continue; /* forgotten since */
		if (committed && m->in_tx) {
			struct memo_row *slot = committed_slot(m, r->platform, r->chat_id);
			row_clear(slot);
			*slot = *r; /* moved */
			memset(r, 0, sizeof *r);
		} else {
			/* Rolled back, or a COMMIT that failed and might yet be
			 * retried: what the row holds is no longer certain. */
			struct memo_row *slot = committed_row(m, r->platform, r->chat_id);
			if (slot)
				row_clear(slot);
		}
	}
	tx_reset(m);
}

/* What this connection knows the row to hold: the newest pending put of the
 * open transaction, else the committed memo; NULL when unknown. */
static const struct memo_row *known_row(struct webhook_memo *m, const char *platform, const char *chat_id)
{
	for (size_t i = m->npending; i-- > 0;)
		if (row_is(&m->pending[i], platform, chat_id))
			return &m->pending[i];
	return committed_row(m, platform, chat_id);
}

/* Forgets what the memo says of a chat (its row was deleted, or written
 * where the memo cannot follow). */
static void memo_forget(struct webhook_memo *m, const char *platform, const char *chat_id)
{
	struct memo_row *r = committed_row(m, platform, chat_id);
	if (r)
		row_clear(r);
	for (size_t i = 0; i < m->npending; i++)
		if (row_is(&m->pending[i], platform, chat_id)) {
			/* keep the list's order: an emptied row matches nothing */
			free(m->pending[i].platform);
			m->pending[i].platform = NULL;
		}
}

static void memo_note(struct store *st, const char *platform, const char *chat_id, const char *url, ms_t expires_at)
{
	struct webhook_memo *m = st->webhooks;
	struct memo_row r = { .platform = xstrdup(platform), .chat_id = xstrdup(chat_id), .url = xstrdup(url),
			      .expires_at = expires_at };
	if (!m->in_tx) { /* autocommit: the write is committed already */
		struct memo_row *slot = committed_slot(m, platform, chat_id);
		row_clear(slot);
		*slot = r;
		return;
	}
	if (m->npending == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->pending = xrealloc(m->pending, m->cap * sizeof *m->pending);
	}
	m->pending[m->npending++] = r;
}

/* The upsert's rule, negated: the SQL leaves a row holding (url, expires)
 * as it is when the new expiry is older, or when the URL is the same and
 * its expiry moved by less than STORE_WEBHOOK_REFRESH_MS. */
static int put_changes_nothing(const struct memo_row *r, const char *url, ms_t expires_at)
{
	return expires_at < r->expires_at || (!strcmp(r->url, url) && expires_at < r->expires_at + STORE_WEBHOOK_REFRESH_MS);
}

enum store_rc store_webhook_put(struct store *st, const char *platform, const char *chat_id, const char *url,
				ms_t expires_at)
{
	struct webhook_memo *m = st->webhooks;
	if (m && platform && chat_id && url) {
		if (!m->in_tx && st->ops->in_transaction(st)) {
			memo_forget(m, platform, chat_id); /* a transaction the memo does not follow */
			m = NULL;
		} else {
			const struct memo_row *r = known_row(m, platform, chat_id);
			if (r && put_changes_nothing(r, url, expires_at))
				return STORE_OK;
		}
	}
	struct stmt *s = store_stmt(st, S_WEBHOOK_PUT);
	store_bind_text(s, 1, platform);
	store_bind_text(s, 2, chat_id);
	store_bind_text(s, 3, url);
	stmt_bind_int64(s, 4, expires_at);
	stmt_bind_int64(s, 5, STORE_WEBHOOK_REFRESH_MS);
	enum store_rc rc = store_step_done(st, s);
	if (m && platform && chat_id && url) {
		if (rc != STORE_OK)
			memo_forget(m, platform, chat_id);
		else if (store_changes(st) > 0)
			memo_note(st, platform, chat_id, url, expires_at);
	}
	return rc;
}

char *store_webhook_get(struct store *st, const char *platform, const char *chat_id, ms_t valid_at)
{
	struct stmt *s = store_stmt(st, S_WEBHOOK_GET);
	store_bind_text(s, 1, platform);
	store_bind_text(s, 2, chat_id);
	stmt_bind_int64(s, 3, valid_at);
	char *url = store_step(st, s) == STEP_ROW ? store_col_text(s, 0) : NULL;
	stmt_reset(s);
	return url;
}

enum store_rc store_webhook_forget(struct store *st, const char *platform, const char *chat_id, const char *url)
{
	if (st->webhooks && platform && chat_id)
		memo_forget(st->webhooks, platform, chat_id);
	struct stmt *s = store_stmt(st, S_WEBHOOK_FORGET);
	store_bind_text(s, 1, platform);
	store_bind_text(s, 2, chat_id);
	store_bind_text(s, 3, url);
	return store_step_done(st, s);
}

void webhook_memo_start(struct store *st)
{
	if (store_dialect(st) == DIALECT_SQLITE && !st->webhooks)
		st->webhooks = xcalloc(1, sizeof *st->webhooks);
}
