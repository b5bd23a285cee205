/*
 * clock.c - real or test-controlled wall clock, plus a monotonic clock.
 */
#include "collabd/clock.h"

#include <time.h>

#define MAX_JUMP_LISTENERS 8

static int test_mode;
static int test_frozen;
static ms_t test_now;
static struct { clock_jump_fn fn; void *arg; } listeners[MAX_JUMP_LISTENERS];
static int nlisteners;

static ms_t timespec_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (ms_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ms_t clock_now_ms(void)
{
	if (test_mode && test_frozen)
		return test_now;
	return timespec_ms(CLOCK_REALTIME);
}

ms_t clock_mono_ms(void) { return timespec_ms(CLOCK_MONOTONIC); }

void clock_test_enable(int on)
{
	test_mode = on;
	test_frozen = 0;
}

int clock_test_enabled(void) { return test_mode; }

static void notify_jump(void)
{
	for (int i = 0; i < nlisteners; i++)
		listeners[i].fn(listeners[i].arg);
}

int clock_test_set(ms_t ms)
{
	if (!test_mode)
		return -1;
	test_frozen = 1;
	test_now = ms;
	notify_jump();
	return 0;
}

int clock_test_advance(ms_t delta)
{
	if (!test_mode || delta < 0)
		return -1;
	if (!test_frozen) {
		test_now = timespec_ms(CLOCK_REALTIME);
		test_frozen = 1;
	}
	test_now += delta;
	notify_jump();
	return 0;
}

int clock_on_jump(clock_jump_fn fn, void *arg)
{
	if (nlisteners >= MAX_JUMP_LISTENERS)
		return -1;
	listeners[nlisteners].fn = fn;
	listeners[nlisteners].arg = arg;
	nlisteners++;
	return 0;
}

void clock_off_jump(clock_jump_fn fn, void *arg)
{
	for (int i = 0; i < nlisteners; i++) {
		if (listeners[i].fn == fn && listeners[i].arg == arg) {
			listeners[i] = listeners[--nlisteners];
			return;
		}
	}
}
