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

/* Makes user-supplied text safe inside a text or markdown element on either
 * platform: no mention or markup can be injected.  Returns a new string the
 * caller frees. */
char *render_escape(const char *text);
/* ms as local "YYYY-MM-DD HH:MM" (":SS" too when seconds) in the process TZ. */
void render_local_time(long long ms, int seconds, char *out, size_t outsz);
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

#endif
