/*
 * daemon_status.c - what the daemon says about itself (/状态, /healthz, the
 * replay of a dead letter): a leaf that daemon.c and the operator tools both
 * read, so neither has to call the other.
 */
#include "collabd/daemon.h"

#include "collabd/dingtalk.h"
#include "collabd/feishu.h"
#include "collabd/store.h"

void daemon_status_get(struct daemon *d, struct daemon_status *s)
{
	s->version = COLLABD_VERSION;
	s->started_at = d->started_at;
	s->feishu_connected = d->feishu_ws && feishu_ws_connected(d->feishu_ws);
	s->dingtalk_connected = d->dingtalk_ws && dingtalk_ws_connected(d->dingtalk_ws);
	s->outbox_pending = store_outbox_pending(d->store);
	s->events_applied = d->inbox.applied;
}

int daemon_connected(struct daemon *d)
{
	return (!d->feishu_ws || feishu_ws_connected(d->feishu_ws)) &&
	       (!d->dingtalk_ws || dingtalk_ws_connected(d->dingtalk_ws));
}
