/*
 * access.h - who may see a request (and its issues, progress and retrospective).
 *
 * The one rule, written once and used by every command that shows a request's
 * content on demand (/需求 查看|列表, /看板, /问题 查看|列表, /进度, /复盘 查看,
 * /归档) and by who may report an issue against it:
 *
 *   - the people of the request's departments (the initiating one and every
 *     involved one): head, contacts, superior, superior's superior, and
 *     whoever stands in for one of them that day (deputies);
 *   - the initiator (the approver is the initiating department's head);
 *   - the people of the management department (management.dept);
 *   - the configured admins;
 *   - anyone asking inside one of the request's own chats: its group (or its
 *     问题沟通群) and the involved departments' own chats, where its cards are
 *     posted anyway.
 */
#ifndef COLLABD_ACCESS_H
#define COLLABD_ACCESS_H

#include <jansson.h>

#include "collabd/store.h"

/* Who asks, from where, and the settings that widen the rule (all borrowed). */
struct access_asker {
	const char *user;            /* the asker's user id */
	const char *chat_id;         /* the chat the question came from, or NULL */
	const char *day;             /* today, "YYYY-MM-DD", for deputies */
	json_t *admins;              /* configured admins (array of ids), or NULL */
	const char *management_dept; /* management.dept's code, or NULL/"" */
};

/* 1 when the asker is one of the request's people (the rule above without
 * the chats); 0 otherwise. */
int access_person_sees(struct store *st, const struct request_row *r, const struct access_asker *a);

/* 1 when the asker may see request r: one of its people, or asking in one of
 * its chats. */
int access_may_see(struct store *st, const struct request_row *r, const struct access_asker *a);

/* 1 when the asker may report an issue against r: the initiator, one of the
 * people of its departments, or someone writing in one of its chats (the
 * management department and admins see, but do not raise alerts). */
int access_may_report(struct store *st, const struct request_row *r, const struct access_asker *a);

/* The refusal for someone who may not see request id: says who may, shows
 * nothing of the request (caller frees). */
char *access_refusal(const char *id, const char *what);

#endif
