/*
 * form.h - the one form type: a form is a table of fields, each with the
 * Chinese key users see, its aliases, its kind and its rules.  The request
 * form, the issue forms, the retrospective's questions and the daily
 * progress update are all such tables (daemon/domain/form.c collects them;
 * each form's own checks stay with the form).
 *
 * Keys and aliases compare case-insensitively everywhere: "Name：", "name："
 * and "需求名称：" are the same field.
 */
#ifndef COLLABD_FORM_H
#define COLLABD_FORM_H

#include <jansson.h>
#include <stddef.h>

struct cmd_args;

enum form_kind {
	FORM_TEXT,     /* free text, max_chars characters at most */
	FORM_CHOICE,   /* one of choices[] */
	FORM_TIME,     /* "YYYY-MM-DD HH:MM" in the configured zone; stored as ms */
	FORM_DEPTS,    /* one or more departments (codes or names); a card may send a list */
	FORM_PERSON,   /* a user: id, directory name or "@name"; stored as the id */
	FORM_REQUEST,  /* a request id that may take issues; stored as the id */
};

/* One field: the key (also the key of the collected object), English and
 * short aliases (the first is the card input's name), and its rule. */
struct form_field {
	const char *key;
	const char *aliases[3];
	enum form_kind kind;
	int required;
	int max_chars;                /* FORM_TEXT; 0: the form's own default */
	const char *const *choices;   /* FORM_CHOICE: NULL-terminated */
};

struct form {
	const char *title;            /* e.g. "问题反馈表" for "问题反馈表有 2 处需要修改" */
	const struct form_field *fields;
	size_t count;
};

/* The field that key names (its key or an alias, any case), or NULL. */
const struct form_field *form_field_for(const struct form *f, const char *key);

/* Collects a form's fields from "key：value" lines (args, may be NULL) and a
 * card's form_value object (values, may be NULL) into a new object keyed by
 * the fields' keys (a card's list only for FORM_DEPTS).  Each unknown key is
 * a sentence appended to problems (a JSON array), naming the keys there are.
 * The caller owns the result. */
json_t *form_collect(const struct form *f, const struct cmd_args *args, json_t *values, json_t *problems);

#endif
