/*
 * dingtalk_card.h - the one generic DingTalk card template (互动卡片高级版).
 *
 * With dingtalk.card_template_id configured, every workflow notice goes to
 * DingTalk as an instance of the same template: a title, a markdown body in
 * up to four parts (a card parameter holds at most 1 KB), the people to @
 * (imGroupOpenDeliverModel.atUserIds: they are notified however long ago the
 * group last wrote to the robot), a list of buttons looped over an array
 * parameter, and one optional text input (DingTalk's input component asks for
 * the text and sends it with a request of its own).
 *
 * A click comes back over Stream with the params
 *   {"value": "<the button's or input's value, a JSON string>", "input": "<text>"}
 * The value is a Feishu button's action value ({"action": ..., ...}); the
 * input's value adds
 *   "_input": NAME   -- the text is the form field NAME, or is
 *   {"typed": "/cmd"} -- run "/cmd" + newline + the text as if typed (forms
 *                       with several fields: the lines to fill in).
 * deploy/dingtalk/CARDS.md lists the parameters; `collabd dingtalk
 * card-template` writes the file to import into the card platform.
 */
#ifndef COLLABD_DINGTALK_CARD_H
#define COLLABD_DINGTALK_CARD_H

#include <jansson.h>

/* Largest value of one card parameter we send (DingTalk documents 1 KB). */
#define DINGTALK_CARD_VALUE_MAX 1000

/* The generic template's parameters for a notice: *params gets the
 * cardParamMap (string -> string, new reference), *at the people to @
 * (userId -> name, new reference).  -1 when the kind has no card form or the
 * body does not fit it (then both are NULL). */
int render_dingtalk_template(const char *kind, const char *body_json, json_t **params, json_t **at);

/* The file to import into the DingTalk card platform (a new reference). */
json_t *dingtalk_card_template_new(void);

#endif
