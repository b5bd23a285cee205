/*
 * testloop.h - an lws event loop for unit tests of modules that arm lws timers
 * (the outbox, the scheduler), without sockets.
 *
 * The modules' timers run on real monotonic time while their idea of "now" is
 * the test clock (clock_test_set), so a test moves the test clock and then
 * pumps the loop: pump() services whatever is ripe within `ms` of real time
 * and never blocks longer (a wake-up timer bounds each wait).
 */
#ifndef COLLABD_TESTLOOP_H
#define COLLABD_TESTLOOP_H

#include <libwebsockets.h>
#include <string.h>

static inline struct lws_context *testloop_new(void)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	lws_set_log_level(0, NULL);
	return lws_create_context(&info);
}

static void testloop_wake(lws_sorted_usec_list_t *sul) { (void)sul; }

/* Runs the loop for about ms milliseconds of real time. */
static inline void pump(struct lws_context *ctx, int ms)
{
	static lws_sorted_usec_list_t wake;
	lws_usec_t until = lws_now_usecs() + (lws_usec_t)ms * LWS_US_PER_MS;
	do {
		lws_sul_schedule(ctx, 0, &wake, testloop_wake, LWS_US_PER_MS);
		lws_service(ctx, 0);
	} while (lws_now_usecs() < until);
	lws_sul_cancel(&wake);
}

#endif
