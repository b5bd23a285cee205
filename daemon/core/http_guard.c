/*
 * http_guard.c - connection limits, idle timeouts and no upgrades for the
 * daemon's HTTP listeners (see http_guard.h).
 *
 * The board and the admin port serve small pages read in one go; nothing
 * there needs a long-lived connection.  An upgrade answered with 101 (what
 * lws does by default) would hold a descriptor for ever without any token,
 * so enough of them starve the process of descriptors, and with it the
 * platform gateways.  Counting starts at accept: an idle connection counts
 * as much as a busy one.
 */
#include "collabd/http_guard.h"

#include <libwebsockets.h>
#include <string.h>

#include "collabd/log.h"

void http_guard_vhost_info(const struct http_guard *g, struct lws_context_creation_info *info)
{
	/* Before the first request (headers not complete) and between requests. */
	info->timeout_secs_ah_idle = (unsigned int)g->idle_timeout_s;
	info->keepalive_timeout = g->idle_timeout_s;
}

/* Answers 400 and closes: the listener speaks plain HTTP only. */
static int refuse_upgrade(struct http_guard *g, struct lws *wsi)
{
	g->upgrades_refused++;
	log_warn("msg=\"protocol upgrade refused\" listener=%s", g->name);
	lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, "plain HTTP only");
	return -1;
}

int http_guard_callback(struct http_guard *g, struct lws *wsi, int reason, int *rc)
{
	*rc = 0;
	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* wsi is the listening socket's here; the new one is not adopted yet. */
		if (g->open >= g->max_connections) {
			g->refused++;
			log_warn("msg=\"connection refused: too many open\" listener=%s open=%d max_connections=%d",
				 g->name, g->open, g->max_connections);
			*rc = -1;
		}
		return 1;
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		/* Marked, so that only what was counted is uncounted. */
		lws_set_opaque_user_data(wsi, g);
		g->open++;
		return 1;
	case LWS_CALLBACK_WSI_DESTROY:
		if (lws_get_opaque_user_data(wsi) == g) {
			lws_set_opaque_user_data(wsi, NULL);
			g->open--;
		}
		return 1;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		*rc = refuse_upgrade(g, wsi);
		return 1;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
	case LWS_CALLBACK_RAW_ADOPT:
	case LWS_CALLBACK_RAW_RX:
		/* Never reached once upgrades are refused; closed should lws get here. */
		g->upgrades_refused++;
		*rc = -1;
		return 1;
	default:
		return 0;
	}
}
