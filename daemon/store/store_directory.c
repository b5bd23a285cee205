/*
 * store_directory.c - the department directory: people, departments, contacts,
 * deputies.
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
#include "collabd/util.h"

enum store_rc store_user_put(struct store *st, const char *user_id, const char *name)
{
	struct stmt *s = store_stmt(st, S_USER_PUT);
	store_bind_text(s, 1, user_id);
	store_bind_text(s, 2, name);
	return store_step_done(st, s);
}

char *store_user_name(struct store *st, const char *user_id)
{
	struct stmt *s = store_stmt(st, S_USER_NAME);
	store_bind_text(s, 1, user_id);
	char *name = store_step(st, s) == STEP_ROW ? store_col_text(s, 0) : NULL;
	stmt_reset(s);
	return name;
}

enum store_rc store_dept_put(struct store *st, const struct dept_row *d)
{
	struct stmt *s = store_stmt(st, S_DEPT_PUT);
	store_bind_text(s, 1, d->code);
	store_bind_text(s, 2, d->name);
	store_bind_text(s, 3, d->head);
	store_bind_text(s, 4, d->superior);
	store_bind_text(s, 5, d->superior2);
	store_bind_text(s, 6, d->chat_id);
	return store_step_done(st, s);
}

static void read_dept(struct stmt *s, struct dept_row *d)
{
	d->code = store_col_text(s, 0);
	d->name = store_col_text(s, 1);
	d->head = store_col_text(s, 2);
	d->superior = store_col_text(s, 3);
	d->superior2 = store_col_text(s, 4);
	d->chat_id = store_col_text(s, 5);
}

enum store_rc store_dept_get(struct store *st, const char *code, struct dept_row *out)
{
	struct stmt *s = store_stmt(st, S_DEPT_GET);
	store_bind_text(s, 1, code);
	memset(out, 0, sizeof *out);
	enum step_rc rc = store_step(st, s);
	if (rc == STEP_ROW)
		read_dept(s, out);
	stmt_reset(s);
	return rc == STEP_ROW ? STORE_OK : rc == STEP_DONE ? STORE_NOTFOUND : STORE_ERR;
}

enum store_rc store_dept_list(struct store *st, struct dept_row **out, size_t *n)
{
	struct stmt *s = store_stmt(st, S_DEPT_LIST);
	size_t cap = 0;
	enum step_rc rc;
	*out = NULL;
	*n = 0;
	while ((rc = store_step(st, s)) == STEP_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		read_dept(s, &(*out)[(*n)++]);
	}
	if (store_rows_end(st, s, rc) == STORE_OK)
		return STORE_OK;
	for (size_t i = 0; i < *n; i++)
		dept_row_free(&(*out)[i]);
	free(*out);
	*out = NULL;
	*n = 0;
	return STORE_ERR;
}

void dept_row_free(struct dept_row *d)
{
	free(d->code);
	free(d->name);
	free(d->head);
	free(d->superior);
	free(d->superior2);
	free(d->chat_id);
	memset(d, 0, sizeof *d);
}

enum store_rc store_dept_delete_all(struct store *st) { return store_step_done(st, store_stmt(st, S_DEPT_DELETE_ALL)); }

enum store_rc store_dept_contacts_set(struct store *st, const char *code, char *const *ids, size_t n)
{
	struct stmt *s = store_stmt(st, S_CONTACTS_CLEAR);
	store_bind_text(s, 1, code);
	enum store_rc rc = store_step_done(st, s);
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		s = store_stmt(st, S_CONTACT_ADD);
		store_bind_text(s, 1, code);
		store_bind_text(s, 2, ids[i]);
		stmt_bind_int64(s, 3, (int)i);
		rc = store_step_done(st, s);
	}
	return rc;
}

enum store_rc store_dept_contacts(struct store *st, const char *code, char ***ids, size_t *n)
{
	struct stmt *s = store_stmt(st, S_CONTACTS_GET);
	store_bind_text(s, 1, code);
	enum step_rc rc;
	*ids = NULL;
	*n = 0;
	while ((rc = store_step(st, s)) == STEP_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
		(*ids)[(*n)++] = store_col_text(s, 0);
	}
	if (store_rows_end(st, s, rc) == STORE_OK)
		return STORE_OK;
	for (size_t i = 0; i < *n; i++)
		free((*ids)[i]);
	free(*ids);
	*ids = NULL;
	*n = 0;
	return STORE_ERR;
}

enum store_rc store_deputy_put(struct store *st, const char *user_id, const char *deputy_id, const char *from_day,
			       const char *to_day)
{
	struct stmt *s = store_stmt(st, S_DEPUTY_PUT);
	store_bind_text(s, 1, user_id);
	store_bind_text(s, 2, deputy_id);
	store_bind_text(s, 3, from_day);
	store_bind_text(s, 4, to_day);
	return store_step_done(st, s);
}

char *store_deputy_for(struct store *st, const char *user_id, const char *day)
{
	struct stmt *s = store_stmt(st, S_DEPUTY_FOR);
	store_bind_text(s, 1, user_id);
	store_bind_text(s, 2, day);
	char *id = store_step(st, s) == STEP_ROW ? store_col_text(s, 0) : NULL;
	stmt_reset(s);
	return id;
}

char *store_user_by_name(struct store *st, const char *name)
{
	json_t *row;
	if (store_row(st, &row, "SELECT user_id FROM users WHERE name = ?1 ORDER BY user_id LIMIT 1", "[s]", name) !=
	    STORE_OK)
		return NULL;
	char *id = xstrdup(json_string_value(json_object_get(row, "user_id")));
	json_decref(row);
	return id;
}
