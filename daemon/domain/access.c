/*
 * access.c - the one rule of who may see a request (see access.h).
 */
#include "collabd/access.h"

#include <stdlib.h>
#include <string.h>

#include "collabd/directory.h"
#include "collabd/util.h"

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Does the asker hold (or stand in for) a role of department code? */
static int of_department(struct store *st, const char *code, const struct access_asker *a)
{
	struct dept_row d;
	if (!code || !*code || store_dept_get(st, code, &d) != STORE_OK)
		return 0;
	int yes = dir_stands_for(st, a->user, d.head, a->day) ||
		  (d.superior && dir_stands_for(st, a->user, d.superior, a->day)) ||
		  (d.superior2 && dir_stands_for(st, a->user, d.superior2, a->day));
	char **ids = NULL;
	size_t k = 0;
	/* A failure reads as "no": the store counts it and the event is not
	 * acknowledged, so nothing is shown and the question comes back. */
	if (store_dept_contacts(st, d.code, &ids, &k) != STORE_OK)
		k = 0;
	for (size_t j = 0; j < k; j++) {
		yes |= dir_stands_for(st, a->user, ids[j], a->day);
		free(ids[j]);
	}
	free(ids);
	dept_row_free(&d);
	return yes;
}

/* The request's departments: the initiating one, those that signed or are
 * asked to, and those its form names (before approval there are no rows yet).
 * A new array of codes, each once. */
static json_t *departments_of(struct store *st, const struct request_row *r)
{
	json_t *codes = json_array();
	json_array_append_new(codes, json_string(r->dept));
	struct request_dept_row *rows = NULL;
	size_t n = 0;
	if (store_request_depts(st, r->id, &rows, &n) != STORE_OK)
		n = 0; /* counted by the store: the event is not acknowledged */
	for (size_t i = 0; i < n; i++)
		json_array_append_new(codes, json_string(rows[i].dept));
	request_dept_rows_free(rows, n);
	json_t *form = json_loads(r->form ? r->form : "{}", 0, NULL);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(form, "涉及部门"), i, c)
		if (json_is_string(c))
			json_array_append(codes, c);
	json_decref(form);
	json_t *once = json_array();
	json_array_foreach(codes, i, c) {
		int seen = 0;
		size_t k;
		json_t *o;
		json_array_foreach(once, k, o)
			seen |= json_equal(o, c);
		if (!seen)
			json_array_append(once, c);
	}
	json_decref(codes);
	return once;
}

static int is_admin(json_t *admins, const char *user)
{
	size_t i;
	json_t *a;
	json_array_foreach(admins, i, a)
		if (same(json_string_value(a), user))
			return 1;
	return 0;
}

/* The initiator, or one of the people of the request's departments. */
static int of_request(struct store *st, const struct request_row *r, const struct access_asker *a)
{
	if (!a->user || !*a->user)
		return 0;
	if (same(r->initiator, a->user))
		return 1;
	json_t *codes = departments_of(st, r);
	int yes = 0;
	size_t i;
	json_t *c;
	json_array_foreach(codes, i, c) {
		if (yes)
			break;
		yes = of_department(st, json_string_value(c), a);
	}
	json_decref(codes);
	return yes;
}

int access_person_sees(struct store *st, const struct request_row *r, const struct access_asker *a)
{
	if (!a->user || !*a->user)
		return 0;
	if (is_admin(a->admins, a->user))
		return 1;
	if (a->management_dept && *a->management_dept && of_department(st, a->management_dept, a))
		return 1;
	return of_request(st, r, a);
}

/* Is chat one of the request's chats: its group, or an involved
 * department's own chat? */
static int in_its_chat(struct store *st, const struct request_row *r, const char *chat)
{
	if (!chat || !*chat)
		return 0;
	if (same(r->chat_id, chat))
		return 1;
	json_t *codes = departments_of(st, r);
	int yes = 0;
	size_t i;
	json_t *c;
	json_array_foreach(codes, i, c) {
		struct dept_row d;
		if (yes || store_dept_get(st, json_string_value(c), &d) != STORE_OK)
			continue;
		yes = same(d.chat_id, chat);
		dept_row_free(&d);
	}
	json_decref(codes);
	return yes;
}

int access_may_see(struct store *st, const struct request_row *r, const struct access_asker *a)
{
	return in_its_chat(st, r, a->chat_id) || access_person_sees(st, r, a);
}

int access_may_report(struct store *st, const struct request_row *r, const struct access_asker *a)
{
	return in_its_chat(st, r, a->chat_id) || of_request(st, r, a);
}

char *access_refusal(const char *id, const char *what)
{
	return xasprintf("你无权%s需求 %s 的内容。仅该需求相关部门的负责人、接口人、上级（及其代理人）、发起人、"
			 "企业管理部、管理员，或在该需求的群里可以查看。",
			 what, id);
}
