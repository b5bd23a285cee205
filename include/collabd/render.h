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

/* A message ready for Feishu's im/v1/messages API. */
struct feishu_message {
	const char *msg_type; /* static: "text" or "interactive" */
	char *content;        /* owned: the JSON *string* the API wants in "content" */
};

/* Renders a notice.  Returns 0, or -1 for an unknown kind or a body that does
 * not fit it (then *out holds nothing). */
int render_feishu(const char *kind, const char *body_json, struct feishu_message *out);
void feishu_message_free(struct feishu_message *m);

/* Makes user-supplied text safe inside a Feishu text or markdown element: no
 * mention or markup can be injected.  Returns a new string the caller frees. */
char *render_feishu_escape(const char *text);

#endif
