/*
 * form.c - collecting any form (form.h): key and alias lookup, one
 * sentence per unknown key.  Checking stays with each form, which knows its
 * cross-field rules.
 */
#include "collabd/form.h"

#include <stdlib.h>
#include <strings.h>

#include "collabd/command.h"
#include "collabd/util.h"

const struct form_field *form_field_for(const struct form *f, const char *key)
{
	for (size_t i = 0; i < f->count; i++) {
		const struct form_field *x = &f->fields[i];
		if (!strcasecmp(x->key, key))
			return x;
		for (size_t a = 0; a < ARRAY_LEN(x->aliases) && x->aliases[a]; a++)
			if (!strcasecmp(x->aliases[a], key))
				return x;
	}
	return NULL;
}

static void collect_one(const struct form *f, const char *key, json_t *value, json_t *form, json_t *problems)
{
	const struct form_field *x = form_field_for(f, key);
	if (!x) {
		struct buf keys;
		buf_init(&keys);
		for (size_t i = 0; i < f->count; i++)
			buf_printf(&keys, "%s%s", i ? "、" : "", f->fields[i].key);
		char *echo = cmd_echo(key);
		json_array_append_new(problems, json_sprintf("未知字段「%s」（可用：%s）", echo, (char *)keys.data));
		free(echo);
		buf_free(&keys);
		return;
	}
	if (json_is_string(value) || (json_is_array(value) && x->kind == FORM_DEPTS))
		json_object_set(form, x->key, value);
}

json_t *form_collect(const struct form *f, const struct cmd_args *args, json_t *values, json_t *problems)
{
	json_t *form = json_object();
	for (size_t i = 0; args && i < args->nfields; i++) {
		json_t *v = json_string(args->fields[i].value);
		collect_one(f, args->fields[i].key, v, form, problems);
		json_decref(v);
	}
	const char *key;
	json_t *v;
	json_object_foreach(values, key, v)
		collect_one(f, key, v, form, problems);
	return form;
}
