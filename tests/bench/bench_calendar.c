/*
 * bench_calendar.c - how fast business-time arithmetic runs on the real
 * 2025/2026 calendar (deploy/calendar, so run from the repository root).
 *
 * Prints figures; it is not a test.  Run: make bench (or build/bench/bench_calendar).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "collabd/calendar.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	struct calendar *cal = calendar_new(NULL);
	char err[256];
	if (calendar_load_dir(cal, "deploy/calendar", err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* starts spread over 2025-2026 (a prime stride of ~1 min), so holidays,
	 * weekends and nights are all visited */
	ms_t lo = calendar_local_time(2025, 1, 1, 0);
	ms_t span = calendar_local_time(2026, 12, 20, 0) - lo;
	const int n = 1000000;
	ms_t sink = 0;
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		sink += calendar_add_working_days(cal, lo + (ms_t)i * 60013 % span, 3);
	double t1 = now_s();

	const int m = 2000;
	double t2 = now_s();
	for (int i = 0; i < m; i++)
		sink += calendar_add_working_days(cal, lo + (ms_t)i * 3600007 % span, 1000);
	double t3 = now_s();

	double t4 = now_s();
	for (int i = 0; i < n; i++) {
		ms_t a = lo + (ms_t)i * 60013 % span;
		sink += calendar_business_between(cal, a, a + 7 * 86400000LL);
	}
	double t5 = now_s();

	printf("calendar: add_working_days(from, 3) x %d: %.3f s (%.2f us each)\n", n, t1 - t0, (t1 - t0) / n * 1e6);
	printf("calendar: add_working_days(from, 1000): %.2f us each (mean of %d)\n", (t3 - t2) / m * 1e6, m);
	printf("calendar: business_between over 7 days x %d: %.3f s (%.2f us each)\n", n, t5 - t4, (t5 - t4) / n * 1e6);
	calendar_free(cal);
	return sink == 42; /* keep the work from being optimised away */
}
