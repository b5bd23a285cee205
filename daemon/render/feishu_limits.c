/*
 * feishu_limits.c - the limits Feishu puts on a JSON 2.0 card, in one place.
 *
 * Feishu refuses a JSON 2.0 card with an unsupported or out-of-range
 * property ("传入不支持的属性将报错"), a card over 30 KB, or one with too many
 * components; a refused card reaches nobody.  The renderers keep inside these
 * limits (clamping an input's max_length, turning a long select into a text
 * input) and render_feishu() checks every card before it leaves.  Sources:
 * deploy/feishu/SETUP.md, "卡片的限制".
 */
#include "collabd/render.h"

#include <stdio.h>
#include <string.h>

int feishu_input_max_length(int wanted)
{
	if (wanted <= 0 || wanted > FEISHU_INPUT_MAX_LENGTH)
		return FEISHU_INPUT_MAX_LENGTH;
	return wanted;
}

/* Components under node: every object with a "tag" that is not a text
 * object, and every option of a select (counted too, to be safe). */
static size_t components(json_t *node)
{
	size_t n = 0, i;
	json_t *v;
	const char *key;
	if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			n += components(v);
		return n;
	}
	if (!json_is_object(node))
		return 0;
	const char *tag = json_string_value(json_object_get(node, "tag"));
	if (tag && strcmp(tag, "plain_text") && strcmp(tag, "lark_md"))
		n++;
	n += json_array_size(json_object_get(node, "options"));
	json_object_foreach(node, key, v)
		if (strcmp(key, "options"))
			n += components(v);
	return n;
}

size_t feishu_card_components(json_t *card) { return components(json_object_get(card, "body")); }

int feishu_card_check(json_t *card, size_t content_len, char *why, size_t whysz)
{
	size_t n = feishu_card_components(card);
	if (n > FEISHU_CARD_MAX_COMPONENTS) {
		snprintf(why, whysz, "card has %zu components (at most %d)", n, FEISHU_CARD_MAX_COMPONENTS);
		return -1;
	}
	if (content_len > FEISHU_CARD_MAX_BYTES) {
		snprintf(why, whysz, "card is %zu bytes (at most %d)", content_len, FEISHU_CARD_MAX_BYTES);
		return -1;
	}
	return 0;
}
