/*
 * clock.h - the one clock every module asks.
 *
 * clock_now_ms() is wall-clock time in milliseconds since the epoch.  In test
 * mode (enabled from config) the control channel may set or advance it; once
 * set, the clock stands still until it is advanced again, so a test can place
 * the daemon at "16:59:59 on a Friday" and know nothing moves underneath it.
 *
 * Listeners (e.g. the scheduler) are told when the test clock jumps, so they
 * can re-arm their timers against the new "now".
 */
#ifndef COLLABD_CLOCK_H
#define COLLABD_CLOCK_H

#include <stdint.h>

typedef int64_t ms_t;

ms_t clock_now_ms(void);
/* Monotonic milliseconds, for timeouts and backoff that must not follow the
 * test clock or the operator changing the system time. */
ms_t clock_mono_ms(void);

/* Test mode: 0 returns to real time. */
void clock_test_enable(int on);
int clock_test_enabled(void);
/* Freeze the clock at ms.  Returns -1 when test mode is off. */
int clock_test_set(ms_t ms);
/* Move the (frozen) clock forward by delta ms; delta must be >= 0. */
int clock_test_advance(ms_t delta);

typedef void (*clock_jump_fn)(void *arg);
/* At most a handful of listeners; returns -1 when the table is full. */
int clock_on_jump(clock_jump_fn fn, void *arg);
/* Forgets the listener (fn, arg): call it before freeing arg. */
void clock_off_jump(clock_jump_fn fn, void *arg);

#endif
