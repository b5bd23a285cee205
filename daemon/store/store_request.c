/*
 * store_request.c - requests, their form versions, each department's answer and
 * objections; the never-reused id sequences.
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
#include "collabd/util.h"

int64_t store_next_seq(struct store *st, const char *prefix)
{
	struct stmt *s = store_stmt(st, S_NEXT_SEQ);
	store_bind_text(s, 1, prefix);
	int64_t v = store_step(st, s) == STEP_ROW ? stmt_col_int64(s, 0) : -1;
	/* Step to the end so the statement's write is complete before reset. */
	while (v >= 0 && store_step(st, s) == STEP_ROW)
		;
	stmt_reset(s);
	return v;
}

enum store_rc store_request_add(struct store *st, const struct request_row *r)
{
	struct stmt *s = store_stmt(st, S_REQ_ADD);
	store_bind_text(s, 1, r->id);
	store_bind_text(s, 2, r->dept);
	store_bind_text(s, 3, r->initiator);
	store_bind_text(s, 4, r->platform);
	store_bind_text(s, 5, r->chat_id);
	store_bind_text(s, 6, r->state);
	stmt_bind_int64(s, 7, r->version);
	store_bind_text(s, 8, r->form);
	stmt_bind_int64(s, 9, r->created_at);
	return store_step_done(st, s);
}

static void read_request(struct stmt *s, struct request_row *r)
{
	r->id = store_col_text(s, 0);
	r->dept = store_col_text(s, 1);
	r->initiator = store_col_text(s, 2);
	r->platform = store_col_text(s, 3);
	r->chat_id = store_col_text(s, 4);
	r->state = store_col_text(s, 5);
	r->version = stmt_col_int(s, 6);
	r->form = store_col_text(s, 7);
	r->reason = store_col_text(s, 8);
	r->created_at = stmt_col_int64(s, 9);
	r->updated_at = stmt_col_int64(s, 10);
}

enum store_rc store_request_get(struct store *st, const char *id, struct request_row *out)
{
	struct stmt *s = store_stmt(st, S_REQ_GET);
	store_bind_text(s, 1, id);
	memset(out, 0, sizeof *out);
	enum step_rc rc = store_step(st, s);
	if (rc == STEP_ROW)
		read_request(s, out);
	stmt_reset(s);
	return rc == STEP_ROW ? STORE_OK : rc == STEP_DONE ? STORE_NOTFOUND : STORE_ERR;
}

void request_row_free(struct request_row *r)
{
	free(r->id);
	free(r->dept);
	free(r->initiator);
	free(r->platform);
	free(r->chat_id);
	free(r->state);
	free(r->form);
	free(r->reason);
	memset(r, 0, sizeof *r);
}

enum store_rc store_request_update(struct store *st, const char *id, const char *from_state, const char *to_state,
				   int version, const char *form, const char *reason, ms_t now)
{
	struct stmt *s = store_stmt(st, S_REQ_UPDATE);
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, from_state);
	store_bind_text(s, 3, to_state);
	stmt_bind_int64(s, 4, version);
	store_bind_text(s, 5, form);
	store_bind_text(s, 6, reason);
	stmt_bind_int64(s, 7, now);
	enum store_rc rc = store_step_done(st, s);
	if (rc == STORE_OK && store_changes(st) == 0)
		return STORE_NOTFOUND; /* someone changed the state first */
	return rc;
}

enum store_rc store_request_version_add(struct store *st, const char *id, int version, const char *form,
					const char *hash, ms_t now)
{
	struct stmt *s = store_stmt(st, S_REQ_VERSION_ADD);
	store_bind_text(s, 1, id);
	stmt_bind_int64(s, 2, version);
	store_bind_text(s, 3, form);
	store_bind_text(s, 4, hash);
	stmt_bind_int64(s, 5, now);
	return store_step_done(st, s);
}

enum store_rc store_request_dept_put(struct store *st, const char *request_id, const char *dept, const char *state)
{
	struct stmt *s = store_stmt(st, S_RDEPT_PUT);
	store_bind_text(s, 1, request_id);
	store_bind_text(s, 2, dept);
	store_bind_text(s, 3, state);
	return store_step_done(st, s);
}

enum store_rc store_request_depts(struct store *st, const char *request_id, struct request_dept_row **out,
				  size_t *n)
{
	struct stmt *s = store_stmt(st, S_RDEPT_LIST);
	store_bind_text(s, 1, request_id);
	enum step_rc rc;
	*out = NULL;
	*n = 0;
	while ((rc = store_step(st, s)) == STEP_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		struct request_dept_row *r = &(*out)[(*n)++];
		r->dept = store_col_text(s, 0);
		r->state = store_col_text(s, 1);
		r->signed_by = store_col_text(s, 2);
		r->signed_at = stmt_col_int64(s, 3);
		r->version = stmt_col_int(s, 4);
		r->hash = store_col_text(s, 5);
	}
	if (store_rows_end(st, s, rc) == STORE_OK)
		return STORE_OK;
	request_dept_rows_free(*out, *n);
	*out = NULL;
	*n = 0;
	return STORE_ERR;
}

void request_dept_rows_free(struct request_dept_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].dept);
		free(rows[i].state);
		free(rows[i].signed_by);
		free(rows[i].hash);
	}
	free(rows);
}

enum store_rc store_request_dept_sign(struct store *st, const char *request_id, const char *dept, const char *state,
				      const char *user, ms_t at, int version, const char *hash)
{
	struct stmt *s = store_stmt(st, S_RDEPT_SIGN);
	store_bind_text(s, 1, request_id);
	store_bind_text(s, 2, dept);
	store_bind_text(s, 3, state);
	store_bind_text(s, 4, user);
	stmt_bind_int64(s, 5, at);
	stmt_bind_int64(s, 6, version);
	store_bind_text(s, 7, hash);
	enum store_rc rc = store_step_done(st, s);
	if (rc == STORE_OK && store_changes(st) == 0)
		return STORE_NOTFOUND; /* not pending any more */
	return rc;
}

enum store_rc store_objection_add(struct store *st, const char *request_id, const char *dept, const char *user,
				  const char *explanation, const char *proposal, ms_t now, int64_t *id_out)
{
	struct stmt *s = store_stmt(st, S_OBJ_ADD);
	store_bind_text(s, 1, request_id);
	store_bind_text(s, 2, dept);
	store_bind_text(s, 3, user);
	store_bind_text(s, 4, explanation);
	store_bind_text(s, 5, proposal);
	stmt_bind_int64(s, 6, now);
	enum store_rc rc = store_step_done(st, s);
	if (rc == STORE_OK && id_out)
		*id_out = store_last_insert_id(st);
	return rc;
}

enum store_rc store_objection_get(struct store *st, int64_t id, char **request_id, char **dept, char **state)
{
	struct stmt *s = store_stmt(st, S_OBJ_GET);
	stmt_bind_int64(s, 1, id);
	enum step_rc rc = store_step(st, s);
	if (rc == STEP_ROW) {
		*request_id = store_col_text(s, 0);
		*dept = store_col_text(s, 1);
		*state = store_col_text(s, 2);
	}
	stmt_reset(s);
	return rc == STEP_ROW ? STORE_OK : rc == STEP_DONE ? STORE_NOTFOUND : STORE_ERR;
}

enum store_rc store_objection_answer(struct store *st, int64_t id, const char *from_state, const char *to_state,
				     const char *answer, ms_t now)
{
	struct stmt *s = store_stmt(st, S_OBJ_ANSWER);
	stmt_bind_int64(s, 1, id);
	store_bind_text(s, 2, from_state);
	store_bind_text(s, 3, to_state);
	store_bind_text(s, 4, answer);
	stmt_bind_int64(s, 5, now);
	enum store_rc rc = store_step_done(st, s);
	if (rc == STORE_OK && store_changes(st) == 0)
		return STORE_NOTFOUND;
	return rc;
}

enum store_rc store_request_dept_set(struct store *st, const char *request_id, const char *dept, const char *state)
{
	struct stmt *s = store_stmt(st, S_RDEPT_SET);
	store_bind_text(s, 1, request_id);
	store_bind_text(s, 2, dept);
	store_bind_text(s, 3, state);
	return store_step_done(st, s);
}

enum store_rc store_objections_revised(struct store *st, const char *request_id, ms_t now, int64_t **ids, size_t *n)
{
	struct stmt *s = store_stmt(st, S_OBJ_OPEN_IDS);
	store_bind_text(s, 1, request_id);
	enum step_rc rc;
	*ids = NULL;
	*n = 0;
	while ((rc = store_step(st, s)) == STEP_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
		(*ids)[(*n)++] = stmt_col_int64(s, 0);
	}
	if (store_rows_end(st, s, rc) == STORE_OK) {
		s = store_stmt(st, S_OBJ_REVISED);
		store_bind_text(s, 1, request_id);
		stmt_bind_int64(s, 2, now);
		if (store_step_done(st, s) == STORE_OK)
			return STORE_OK;
	}
	free(*ids);
	*ids = NULL;
	*n = 0;
	return STORE_ERR;
}

enum store_rc store_request_recent(struct store *st, int limit, struct request_row **out, size_t *n)
{
	struct stmt *s = store_stmt(st, S_REQ_RECENT);
	stmt_bind_int64(s, 1, limit);
	enum step_rc rc;
	*out = NULL;
	*n = 0;
	while ((rc = store_step(st, s)) == STEP_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		read_request(s, &(*out)[(*n)++]);
	}
	if (store_rows_end(st, s, rc) == STORE_OK)
		return STORE_OK;
	for (size_t i = 0; i < *n; i++)
		request_row_free(&(*out)[i]);
	free(*out);
	*out = NULL;
	*n = 0;
	return STORE_ERR;
}

int store_request_version_count(struct store *st, const char *request_id)
{
	struct stmt *s = store_stmt(st, S_REQ_VERSIONS);
	store_bind_text(s, 1, request_id);
	int n = store_step(st, s) == STEP_ROW ? stmt_col_int(s, 0) : 0;
	stmt_reset(s);
	return n;
}

enum store_rc store_request_set_chat(struct store *st, const char *id, const char *chat_id)
{
	struct stmt *s = store_stmt(st, S_REQ_SET_CHAT);
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, chat_id);
	return store_step_done(st, s);
}
