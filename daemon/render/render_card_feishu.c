/*
 * render_card_feishu.c - the generic "card" notice as a Feishu JSON 2.0 card.
 *
 * Steps 3-5 describe their cards as data (see render.h, "The generic card"):
 * a title, fields, sections, buttons and at most one form.  This file turns
 * that into Feishu's card JSON; render_card_dingtalk.c turns the same into
 * markdown with the commands to type.  All user text is escaped here.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/render.h"
#include "collabd/util.h"

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Appends text escaped. */
static void put_safe(struct buf *b, const char *text)
{
	char *safe = render_escape(text ? text : "");
	buf_append_str(b, safe);
	free(safe);
}

/* The markdown body: mentions, lead, fields, sections, note, link. */
char *render_card_markdown(json_t *body, const char *mention_fmt)
{
	struct buf md;
	buf_init(&md);
	size_t i;
	json_t *m;
	json_array_foreach(mention_fmt ? json_object_get(body, "mentions") : NULL, i, m) {
		const char *id = str(m, "id");
		if (!id)
			continue;
		char *safe_id = render_escape(id), *safe_name = render_escape(str(m, "name") ? str(m, "name") : id);
		if (json_is_true(json_object_get(m, "text_only")))
			buf_printf(&md, "@%s ", safe_name); /* the platform could not resolve this person */
		else
			buf_printf(&md, mention_fmt, safe_id, safe_name);
		free(safe_id);
		free(safe_name);
	}
	if (str(body, "lead")) {
		if (md.len)
			buf_append_str(&md, "\n");
		put_safe(&md, str(body, "lead"));
	}
	json_t *f;
	json_array_foreach(json_object_get(body, "fields"), i, f) {
		buf_append_str(&md, md.len ? "\n**" : "**");
		put_safe(&md, str(f, "label"));
		buf_append_str(&md, "**：");
		put_safe(&md, str(f, "value") && *str(f, "value") ? str(f, "value") : "—");
	}
	json_t *sec;
	json_array_foreach(json_object_get(body, "sections"), i, sec) {
		if (str(sec, "heading")) {
			buf_append_str(&md, md.len ? "\n\n**" : "**");
			put_safe(&md, str(sec, "heading"));
			buf_append_str(&md, "**");
		}
		size_t j;
		json_t *line;
		json_array_foreach(json_object_get(sec, "lines"), j, line) {
			buf_append_str(&md, md.len ? "\n- " : "- ");
			put_safe(&md, json_string_value(line));
		}
	}
	if (str(body, "note")) {
		buf_append_str(&md, md.len ? "\n\n" : "");
		put_safe(&md, str(body, "note"));
	}
	char *outcome = render_outcome_markdown(json_object_get(body, "outcome"));
	if (outcome) {
		buf_append_str(&md, md.len ? "\n\n" : "");
		buf_append_str(&md, outcome);
		free(outcome);
	}
	json_t *link = json_object_get(body, "link");
	const char *url = str(link, "url");
	/* Only the operator's configured board URL gets here; refuse anything
	 * that would break out of the markdown link. */
	if (url && (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7)) && !strpbrk(url, " ()<>\n\"")) {
		buf_append_str(&md, md.len ? "\n\n[" : "[");
		put_safe(&md, str(link, "label") ? str(link, "label") : "在看板中查看");
		buf_printf(&md, "](%s)", url);
	}
	return buf_steal(&md);
}

static json_t *plain(const char *text) { return json_pack("{s:s,s:s}", "tag", "plain_text", "content", text); }

static json_t *button(json_t *b, int in_form)
{
	const char *style = str(b, "style");
	json_t *value = json_object_get(b, "value");
	json_t *el = json_pack("{s:s,s:o,s:s,s:[{s:s,s:o}]}", "tag", "button", "text",
			       plain(str(b, "label") ? str(b, "label") : "确定"), "type", style ? style : "default",
			       "behaviors", "type", "callback", "value", value ? json_incref(value) : json_object());
	if (in_form) {
		json_object_set_new(el, "name", json_string("submit"));
		json_object_set_new(el, "form_action_type", json_string("submit"));
	}
	return el;
}

/* One input of a form, by its kind. */
static json_t *form_input(json_t *in)
{
	const char *name = str(in, "name"), *label = str(in, "label"), *kind = str(in, "kind");
	int required = json_is_true(json_object_get(in, "required"));
	char *hint = xasprintf("%s%s", label ? label : name, required ? "（必填）" : "");
	json_t *el;
	if (kind && (!strcmp(kind, "select") || !strcmp(kind, "multi_select"))) {
		json_t *options = json_array();
		size_t i;
		json_t *o;
		json_array_foreach(json_object_get(in, "options"), i, o)
			json_array_append_new(options, json_pack("{s:o,s:s}", "text", plain(str(o, "label")), "value",
								 str(o, "value")));
		el = json_pack("{s:s,s:s,s:o,s:o,s:b}", "tag", !strcmp(kind, "select") ? "select_static" : "multi_select_static",
			       "name", name, "placeholder", plain(hint), "options", options, "required", required);
	} else if (kind && !strcmp(kind, "date")) {
		el = json_pack("{s:s,s:s,s:o,s:b}", "tag", "date_picker", "name", name, "placeholder", plain(hint),
			       "required", required);
	} else if (kind && !strcmp(kind, "datetime")) {
		el = json_pack("{s:s,s:s,s:o,s:b}", "tag", "picker_datetime", "name", name, "placeholder", plain(hint),
			       "required", required);
	} else if (kind && !strcmp(kind, "person")) {
		el = json_pack("{s:s,s:s,s:o,s:b}", "tag", "select_person", "name", name, "placeholder", plain(hint),
			       "required", required);
	} else {
		int max = (int)json_integer_value(json_object_get(in, "max"));
		el = json_pack("{s:s,s:s,s:o,s:s,s:i,s:b}", "tag", "input", "name", name, "placeholder", plain(hint),
			       "input_type", json_is_true(json_object_get(in, "multiline")) ? "multiline_text" : "text",
			       "max_length", feishu_input_max_length(max), "required", required);
	}
	free(hint);
	return el;
}

int render_feishu_card(json_t *body, struct feishu_message *out)
{
	const char *title = str(body, "title");
	if (!title)
		return -1;
	char *md = render_card_markdown(body, "<at id=%s></at> ");
	json_t *elements = json_array();
	if (*md)
		json_array_append_new(elements, json_pack("{s:s,s:s}", "tag", "markdown", "content", md));
	free(md);
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(body, "buttons"), i, b)
		json_array_append_new(elements, button(b, 0));
	json_t *form = json_object_get(body, "form");
	if (json_is_object(form)) {
		json_t *inputs = json_array(), *in;
		json_array_foreach(json_object_get(form, "inputs"), i, in)
			if (str(in, "name"))
				json_array_append_new(inputs, form_input(in));
		json_t *submit = json_object_get(form, "submit");
		if (json_is_object(submit))
			json_array_append_new(inputs, button(submit, 1));
		json_array_append_new(elements, json_pack("{s:s,s:s,s:o}", "tag", "form", "name",
							  str(form, "name") ? str(form, "name") : "form", "elements", inputs));
	}
	char *safe_title = render_escape(title);
	json_t *c = json_pack("{s:s,s:{s:b},s:{s:{s:s,s:s},s:s},s:{s:o}}", "schema", "2.0", "config", "update_multi", 1,
			      "header", "title", "tag", "plain_text", "content", safe_title, "template",
			      str(body, "color") ? str(body, "color") : "blue", "body", "elements", elements);
	free(safe_title);
	out->msg_type = "interactive";
	out->content = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return out->content ? 0 : -1;
}
