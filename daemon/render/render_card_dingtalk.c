/*
 * render_card_dingtalk.c - the generic "card" notice as DingTalk markdown.
 *
 * DingTalk robot messages have no buttons or forms: each button becomes the
 * command that does the same, and a form becomes the lines to copy (its
 * "command" template).  Mentions are "@userId" plus at.atUserIds, or "@name"
 * for the OpenAPI path that cannot mention.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/render.h"
#include "collabd/util.h"

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* text escaped, each newline a markdown hard break (so lines stay lines). */
static char *hard_breaks(const char *text)
{
	char *safe = render_escape(text);
	struct buf b;
	buf_init(&b);
	for (const char *s = safe; *s; s++)
		buf_append_str(&b, *s == '\n' ? "  \n" : (char[]){ *s, 0 });
	free(safe);
	return buf_steal(&b);
}

/* The commands of the buttons and the form, as markdown lines. */
static char *commands(json_t *body)
{
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *btn;
	json_array_foreach(json_object_get(body, "buttons"), i, btn) {
		if (!str(btn, "command"))
			continue;
		char *label = render_escape(str(btn, "label") ? str(btn, "label") : "操作");
		char *cmd = render_escape(str(btn, "command"));
		buf_printf(&b, "\n\n%s：发送 %s", label, cmd);
		free(label);
		free(cmd);
	}
	json_t *form = json_object_get(body, "form");
	if (str(form, "command")) {
		char *cmd = hard_breaks(str(form, "command"));
		char *label = render_escape(str(json_object_get(form, "submit"), "label") ?
					    str(json_object_get(form, "submit"), "label") : "填写");
		buf_printf(&b, "\n\n%s：复制下面几行，填好后发送\n\n%s", label, cmd);
		free(label);
		free(cmd);
	}
	return buf_steal(&b);
}

int render_dingtalk_generic(json_t *body, struct dingtalk_message *m)
{
	const char *title = str(body, "title");
	if (!title)
		return -1;
	char *md = render_card_markdown(body, NULL); /* mentions are put first, below */
	char *cmds = commands(body);
	char *safe_title = render_escape(title);
	struct buf at, names;
	buf_init(&at);
	buf_init(&names);
	buf_printf(&at, "#### %s\n\n", safe_title);
	buf_printf(&names, "#### %s\n\n", safe_title);
	m->at_user_ids = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(body, "mentions"), i, p) {
		const char *id = str(p, "id"), *name = str(p, "name");
		if (!id)
			continue;
		char *safe_id = render_escape(id), *safe_name = render_escape(name && *name ? name : id);
		buf_printf(&at, "@%s ", safe_id);
		buf_printf(&names, "@%s ", safe_name);
		json_array_append_new(m->at_user_ids, json_string(id));
		free(safe_id);
		free(safe_name);
	}
	if (json_array_size(m->at_user_ids)) {
		buf_append_str(&at, "\n\n");
		buf_append_str(&names, "\n\n");
	}
	/* DingTalk markdown needs a blank line between lines to break them. */
	for (const char *s = md; *s; s++) {
		if (*s == '\n') {
			buf_append_str(&at, "\n\n");
			buf_append_str(&names, "\n\n");
		} else {
			buf_append(&at, s, 1);
			buf_append(&names, s, 1);
		}
	}
	buf_append_str(&at, cmds);
	buf_append_str(&names, cmds);
	m->msgtype = "markdown";
	m->title = safe_title;
	m->text_at = buf_steal(&at);
	m->text_names = buf_steal(&names);
	free(md);
	free(cmds);
	return 0;
}
