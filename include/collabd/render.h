/*
 * render.h - notices to platform messages.
 *
 * The workflow and the commands say *what* happened (a notice kind and a JSON
 * body); renderers decide how it looks on each platform.  The Chinese texts
 * users read in cards live here.
 */
#ifndef COLLABD_RENDER_H
#define COLLABD_RENDER_H

#include <jansson.h>
#include <stddef.h>

/* A message ready for Feishu's im/v1/messages API. */
struct feishu_message {
	const char *msg_type; /* static: "text" or "interactive" */
	char *content;        /* owned: the JSON *string* the API wants in "content" */
};

/* Renders a notice.  Returns 0, or -1 for an unknown kind or a body that does
 * not fit it (then *out holds nothing). */
int render_feishu(const char *kind, const char *body_json, struct feishu_message *out);
void feishu_message_free(struct feishu_message *m);

/*
 * Feishu's limits on a JSON 2.0 card (feishu_limits.c; sources in
 * deploy/feishu/SETUP.md).  Out-of-range properties are refused, not clamped.
 */
#define FEISHU_INPUT_MAX_LENGTH 1000      /* input.max_length: 1..1000 */
#define FEISHU_CARD_MAX_BYTES (30 * 1024) /* the card JSON */
#define FEISHU_CARD_MAX_COMPONENTS 200    /* components (we count select options too) */
/* wanted clamped into 1..FEISHU_INPUT_MAX_LENGTH (0 or less: the maximum). */
int feishu_input_max_length(int wanted);
/* The components of a card as we count them. */
size_t feishu_card_components(json_t *card);
/* 0 when card (content_len bytes as JSON) is within the limits, else -1 with
 * the reason in why. */
int feishu_card_check(json_t *card, size_t content_len, char *why, size_t whysz);

/* Makes user-supplied text safe inside a text or markdown element on either
 * platform: no mention or markup can be injected.  Returns a new string the
 * caller frees. */
char *render_escape(const char *text);
/* ms as local "YYYY-MM-DD HH:MM" (":SS" too when seconds) in the process TZ. */
void render_local_time(long long ms, int seconds, char *out, size_t outsz);
/* A card's outcome ({label, by, at, detail}, see "The generic card") as one
 * line of plain text, "已批准 · 张三 · 2026-12-06 10:00" (for a toast); caller
 * frees.  render_outcome_markdown() is the escaped markdown paragraph shown
 * on the card (with the detail under it), or NULL when outcome is no object. */
char *render_outcome_text(json_t *outcome);
char *render_outcome_markdown(json_t *outcome);
/* "即将到期" / "已逾期" / "已升级", with "（补发）" when late. */
const char *render_stage_label(const char *stage, int late);

/* A message ready for DingTalk: the sessionWebhook form (which can @ people:
 * "@userId" in the text plus at.atUserIds) and the OpenAPI form (which cannot:
 * the same text with names instead).  Everything is owned. */
struct dingtalk_message {
	const char *msgtype;   /* static: "text" or "markdown" */
	char *title;           /* markdown title (shown in the chat list) */
	char *text_at;         /* text with "@userId" for each mention */
	char *text_names;      /* text with "@name" for each mention */
	json_t *at_user_ids;   /* array of userIds (new reference) */
};

/* Renders a notice for DingTalk.  No interactive cards: buttons become the
 * exact command to type.  Returns 0, or -1 (then *out holds nothing). */
int render_dingtalk(const char *kind, const char *body_json, struct dingtalk_message *out);
void dingtalk_message_free(struct dingtalk_message *m);

/* The card form of a notice, for a DingTalk card template: *params gets the
 * cardParamMap (string -> string, new reference) and *at the mentions
 * (userId -> name, new reference).  -1 when the kind has no card form.  The
 * parameters of each kind are listed in deploy/dingtalk/CARDS.md. */
int render_dingtalk_card(const char *kind, const char *body_json, json_t **params, json_t **at);
/* Turns a card action's reply ({"toast":{...}}) into DingTalk's callback
 * response: the toast text as the clicker's private card data "toast".
 * Returns a new reference. */
json_t *render_dingtalk_card_reply(json_t *reply);

/*
 * The generic card (notice kind "card"), for steps 3-5.  Its body:
 *   title     the header (required)
 *   color     Feishu header template: blue, green, orange, red, grey ...
 *   mentions  [{id, name, text_only?}] -- the only source of @-mentions;
 *              text_only: written "@name" without notifying (Feishu refused
 *              the person, e.g. someone who left)
 *   lead      a paragraph under the mentions
 *   fields    [{label, value}] -- "label：value" lines
 *   sections  [{heading?, lines: [text]}] -- bullet lists
 *   note      a closing paragraph
 *   link      {label, url} -- the board page (http/https only)
 *   buttons   [{label, style: primary|danger|default, value: {action...}, command}]
 *   form      {name, inputs: [{name, label, kind: text|date|datetime|select|
 *              multi_select|person, required, multiline, max, options:[{value,label}]}],
 *              submit: {label, value}, command}
 *   outcome   {label, by, at (ms), detail?} -- the decision taken on this card,
 *              shown last ("处理结果"); set by cmd_outcome(), platform-neutral.
 *              The other card kinds (request_approval, request_card) take it
 *              too, and request_approval then drops its buttons.
 * "command" is what a DingTalk user types instead of clicking.  All text is
 * user text as far as the renderers are concerned: it is escaped.
 */
/* The markdown body of a generic card (mentions formatted with mention_fmt,
 * "%s" id then "%s" name, or left out when it is NULL); caller frees. */
char *render_card_markdown(json_t *body, const char *mention_fmt);
int render_feishu_card(json_t *body, struct feishu_message *out);
int render_dingtalk_generic(json_t *body, struct dingtalk_message *m);

#endif
