/*
 * directory.c - validation and import of the directory, deputies, people.
 */
#include "collabd/directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/util.h"

int dir_code_valid(const char *code)
{
	size_t n = code ? strlen(code) : 0;
	if (n < 2 || n > 6)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return 0;
	return 1;
}

static void report(void (*problem)(void *, const char *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(void (*problem)(void *, const char *), void *arg, const char *fmt, ...)
{
	char text[300];
	va_list ap;
	va_start(ap, fmt);
	utf8_vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	problem(arg, text);
}

/* A user id that the document's users list names. */
static int known(json_t *users, const char *id)
{
	size_t i;
	json_t *u;
	json_array_foreach(users, i, u)
		if (id && !strcmp(json_string_value(json_object_get(u, "id")) ? json_string_value(json_object_get(u, "id")) : "", id))
			return 1;
	return 0;
}

static int check_person(json_t *users, json_t *dept, const char *key, int required, const char *where,
			void (*problem)(void *, const char *), void *arg)
{
	json_t *v = json_object_get(dept, key);
	if (!v && !required)
		return 0;
	if (!json_is_string(v) || !known(users, json_string_value(v))) {
		report(problem, arg, "%s.%s: %s", where, key,
		       v ? "must be the id of someone in users" : "required (the id of someone in users)");
		return 1;
	}
	return 0;
}

static int validate(json_t *doc, void (*problem)(void *, const char *), void *arg)
{
	int bad = 0;
	json_t *users = json_object_get(doc, "users"), *depts = json_object_get(doc, "departments");
	json_t *deps = json_object_get(doc, "deputies");
	if (!json_is_object(doc)) {
		report(problem, arg, "the directory must be a JSON object with users, departments and deputies");
		return 1;
	}
	if (!json_is_array(users)) {
		report(problem, arg, "users: required, a list of {\"id\", \"name\"}");
		bad++;
	}
	size_t i;
	json_t *u;
	json_array_foreach(users, i, u) {
		const char *id = json_string_value(json_object_get(u, "id"));
		const char *name = json_string_value(json_object_get(u, "name"));
		if (!id || !*id || !name || !*name) {
			report(problem, arg, "users[%zu]: needs a non-empty id and name", i);
			bad++;
		}
	}
	if (!json_is_array(depts) || !json_array_size(depts)) {
		report(problem, arg, "departments: required, a non-empty list");
		bad++;
	}
	json_t *d;
	json_array_foreach(depts, i, d) {
		char where[48];
		const char *code = json_string_value(json_object_get(d, "code"));
		snprintf(where, sizeof where, "departments[%zu]", i);
		if (!dir_code_valid(code)) {
			report(problem, arg, "%s.code: 2 to 6 capital letters, e.g. JSB", where);
			bad++;
		}
		for (size_t j = 0; j < i && code; j++) {
			const char *other = json_string_value(json_object_get(json_array_get(depts, j), "code"));
			if (other && !strcmp(other, code)) {
				report(problem, arg, "%s.code: %s appears twice", where, code);
				bad++;
			}
		}
		const char *name = json_string_value(json_object_get(d, "name"));
		if (!name || !*name) {
			report(problem, arg, "%s.name: required", where);
			bad++;
		}
		bad += check_person(users, d, "head", 1, where, problem, arg);
		bad += check_person(users, d, "superior", 0, where, problem, arg);
		bad += check_person(users, d, "superior2", 0, where, problem, arg);
		json_t *contacts = json_object_get(d, "contacts");
		if (!json_is_array(contacts) || !json_array_size(contacts)) {
			report(problem, arg, "%s.contacts: at least one contact (接口人) is required", where);
			bad++;
		}
		size_t k;
		json_t *c;
		json_array_foreach(contacts, k, c) {
			if (!json_is_string(c) || !known(users, json_string_value(c))) {
				report(problem, arg, "%s.contacts[%zu]: must be the id of someone in users", where, k);
				bad++;
			}
		}
		json_t *chat = json_object_get(d, "chat_id");
		if (chat && !json_is_string(chat)) {
			report(problem, arg, "%s.chat_id: expected a chat id string", where);
			bad++;
		}
	}
	json_array_foreach(deps, i, d) {
		int y, m, day;
		const char *from = json_string_value(json_object_get(d, "from"));
		const char *to = json_string_value(json_object_get(d, "to"));
		if (!known(users, json_string_value(json_object_get(d, "user"))) ||
		    !known(users, json_string_value(json_object_get(d, "deputy")))) {
			report(problem, arg, "deputies[%zu]: user and deputy must be ids of people in users", i);
			bad++;
		}
		if (!from || !to || calendar_parse_date(from, &y, &m, &day) || calendar_parse_date(to, &y, &m, &day) ||
		    strcmp(from, to) > 0) {
			report(problem, arg, "deputies[%zu]: from and to must be dates YYYY-MM-DD, from <= to", i);
			bad++;
		}
	}
	if (deps && !json_is_array(deps)) {
		report(problem, arg, "deputies: expected a list");
		bad++;
	}
	return bad;
}

int dir_import(struct store *st, json_t *doc, void (*problem)(void *arg, const char *text), void *arg)
{
	int bad = validate(doc, problem, arg);
	if (bad)
		return bad;
	size_t i;
	json_t *u, *d;
	enum store_rc rc = store_dept_delete_all(st);
	json_array_foreach(json_object_get(doc, "users"), i, u)
		if (rc == STORE_OK)
			rc = store_user_put(st, json_string_value(json_object_get(u, "id")),
					    json_string_value(json_object_get(u, "name")));
	json_array_foreach(json_object_get(doc, "departments"), i, d) {
		struct dept_row row = {
			.code = (char *)json_string_value(json_object_get(d, "code")),
			.name = (char *)json_string_value(json_object_get(d, "name")),
			.head = (char *)json_string_value(json_object_get(d, "head")),
			.superior = (char *)json_string_value(json_object_get(d, "superior")),
			.superior2 = (char *)json_string_value(json_object_get(d, "superior2")),
			.chat_id = (char *)json_string_value(json_object_get(d, "chat_id")),
		};
		json_t *contacts = json_object_get(d, "contacts");
		size_t n = json_array_size(contacts);
		char **ids = xcalloc(n, sizeof *ids);
		for (size_t k = 0; k < n; k++)
			ids[k] = (char *)json_string_value(json_array_get(contacts, k));
		if (rc == STORE_OK)
			rc = store_dept_put(st, &row);
		if (rc == STORE_OK)
			rc = store_dept_contacts_set(st, row.code, ids, n);
		free(ids);
	}
	json_array_foreach(json_object_get(doc, "deputies"), i, d)
		if (rc == STORE_OK)
			rc = store_deputy_put(st, json_string_value(json_object_get(d, "user")),
					      json_string_value(json_object_get(d, "deputy")),
					      json_string_value(json_object_get(d, "from")),
					      json_string_value(json_object_get(d, "to")));
	if (rc != STORE_OK) {
		report(problem, arg, "the database refused the import: %s", store_errmsg(st));
		return 1;
	}
	return 0;
}

char *dir_acting(struct store *st, const char *user_id, const char *day)
{
	char *deputy = store_deputy_for(st, user_id, day);
	return deputy ? deputy : xstrdup(user_id);
}

int dir_stands_for(struct store *st, const char *user, const char *holder, const char *day)
{
	if (!user || !holder)
		return 0;
	if (!strcmp(user, holder))
		return 1;
	char *deputy = store_deputy_for(st, holder, day);
	int yes = deputy && !strcmp(deputy, user);
	free(deputy);
	return yes;
}

char *dir_name(struct store *st, const char *user_id)
{
	char *name = store_user_name(st, user_id);
	return name ? name : xstrdup(user_id);
}

static json_t *person(struct store *st, const char *id, const char *day)
{
	char *acting = dir_acting(st, id, day);
	char *name = dir_name(st, acting);
	json_t *p = json_pack("{s:s,s:s}", "id", acting, "name", name);
	free(acting);
	free(name);
	return p;
}

json_t *dir_people(struct store *st, const struct dept_row *d, const char *day)
{
	json_t *owners = json_array();
	char **ids;
	size_t n;
	if (store_dept_contacts(st, d->code, &ids, &n) != STORE_OK)
		n = 0; /* counted by the store: the event is not acked */
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(owners, person(st, ids[i], day));
		free(ids[i]);
	}
	free(ids);
	json_t *people = json_pack("{s:o,s:[o]}", "owner", owners, "head", person(st, d->head, day));
	if (d->superior)
		json_object_set_new(people, "superior", json_pack("[o]", person(st, d->superior, day)));
	if (d->superior2)
		json_object_set_new(people, "superior2", json_pack("[o]", person(st, d->superior2, day)));
	return people;
}

char *dir_dept_names(struct store *st, json_t *codes)
{
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *c;
	json_array_foreach(codes, i, c) {
		struct dept_row d;
		const char *code = json_string_value(c);
		int found = code && store_dept_get(st, code, &d) == STORE_OK;
		buf_printf(&b, "%s%s", i ? "、" : "", found ? d.name : code ? code : "?");
		if (found)
			dept_row_free(&d);
	}
	return buf_steal(&b);
}

char *dir_dept_code(struct store *st, const char *code_or_name)
{
	struct dept_row d;
	if (store_dept_get(st, code_or_name, &d) == STORE_OK) {
		char *code = xstrdup(d.code);
		dept_row_free(&d);
		return code;
	}
	struct dept_row *rows;
	size_t n;
	if (store_dept_list(st, &rows, &n) != STORE_OK)
		n = 0; /* counted by the store: the event is not acked */
	char *code = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!code && !strcmp(rows[i].name, code_or_name))
			code = xstrdup(rows[i].code);
		dept_row_free(&rows[i]);
	}
	free(rows);
	return code;
}

json_t *dir_split_list(const char *text)
{
	json_t *out = json_array();
	char *copy = xstrdup(text);
	static const char *const seps[] = { "、", "，", ",", "；", ";", " ", "\xE3\x80\x80" /* ideographic space */ };
	for (size_t i = 0; i < ARRAY_LEN(seps); i++)
		for (char *p; (p = strstr(copy, seps[i]));)
			memset(p, '\n', strlen(seps[i]));
	for (char *tok = strtok(copy, "\n"); tok; tok = strtok(NULL, "\n"))
		json_array_append_new(out, json_string(tok));
	free(copy);
	return out;
}

char *dir_person(struct store *st, const char *text)
{
	char *known = store_user_name(st, text);
	if (known) {
		free(known);
		return xstrdup(text);
	}
	return store_user_by_name(st, text[0] == '@' ? text + 1 : text);
}
