/*
 * test_calendar.c - the working-day calendar against the real deploy/calendar
 * files (run from the repository root): every day of 2025 and 2026 against a
 * table transcribed separately from CALENDAR.md, the edge cases it lists
 * (worked Sunday, Spring Festival and National Day, Friday evening, an event
 * at 03:00 on a holiday, the 2025/2026 year boundary, a year without data),
 * company days off, a lunch break, the boundary rule, parsing, data-file
 * errors, and fixed-seed property tests: a brute-force minute-by-minute
 * reference, business_between(add_business(from, d)) == d, monotonicity, and
 * every deadline inside working hours or exactly at an end of them, and
 * calendar_sub_business() inverting calendar_add_business().
 *
 * TZ is Asia/Shanghai throughout (set in main before anything runs).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collabd/calendar.h"

#define CAL_DIR "deploy/calendar"
#define HOUR ((ms_t)3600000)
#define MINUTE ((ms_t)60000)
#define WD (9 * HOUR)

/* Local time y-m-d hh:mm in Asia/Shanghai. */
static ms_t T(int y, int m, int d, int hh, int mm) { return calendar_local_time(y, m, d, hh * 60 + mm); }

/* "YYYY-MM-DD HH:MM:SS.mmm" local, for readable failures. */
static const char *fmt(ms_t t)
{
	static char bufs[4][80];
	static int n;
	char *b = bufs[n++ % 4];
	time_t s = (time_t)(t / 1000);
	struct tm tm;
	localtime_r(&s, &tm);
	snprintf(b, 80, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000));
	return b;
}

#define assert_time(got, want) assert_string_equal(fmt(got), fmt(want))

static struct calendar *load_real(const struct calendar_hours *h)
{
	struct calendar *cal = calendar_new(h);
	assert_non_null(cal);
	char err[256] = "";
	if (calendar_load_dir(cal, CAL_DIR, err, sizeof err))
		fail_msg("calendar_load_dir: %s", err);
	assert_true(calendar_has_year(cal, 2025));
	assert_true(calendar_has_year(cal, 2026));
	return cal;
}

static int setup(void **state)
{
	*state = load_real(NULL);
	return 0;
}

static int setup_lunch(void **state)
{
	const struct calendar_hours h = { 9 * 60, 18 * 60, 12 * 60, 13 * 60 + 30 };
	*state = load_real(&h);
	return 0;
}

static int teardown(void **state)
{
	calendar_free(*state);
	return 0;
}

/* ---- the data ---------------------------------------------------------- */

/* CALENDAR.md, transcribed by hand for the test (independently of the JSON). */
static const struct { int y, m1, d1, m2, d2; } off_ranges[] = {
	{ 2025, 1, 1, 1, 1 }, { 2025, 1, 28, 2, 4 }, { 2025, 4, 4, 4, 6 }, { 2025, 5, 1, 5, 5 },
	{ 2025, 5, 31, 6, 2 }, { 2025, 10, 1, 10, 8 },
	{ 2026, 1, 1, 1, 3 }, { 2026, 2, 15, 2, 23 }, { 2026, 4, 4, 4, 6 }, { 2026, 5, 1, 5, 5 },
	{ 2026, 6, 19, 6, 21 }, { 2026, 9, 25, 9, 27 }, { 2026, 10, 1, 10, 7 },
};
static const struct { int y, m, d; } worked_days[] = {
	{ 2025, 1, 26 }, { 2025, 2, 8 }, { 2025, 4, 27 }, { 2025, 9, 28 }, { 2025, 10, 11 },
	{ 2026, 1, 4 }, { 2026, 2, 14 }, { 2026, 2, 28 }, { 2026, 5, 9 }, { 2026, 9, 20 }, { 2026, 10, 10 },
};

static int expected_workday(int y, int m, int d)
{
	for (size_t i = 0; i < sizeof worked_days / sizeof worked_days[0]; i++)
		if (worked_days[i].y == y && worked_days[i].m == m && worked_days[i].d == d)
			return 1;
	int md = m * 100 + d;
	for (size_t i = 0; i < sizeof off_ranges / sizeof off_ranges[0]; i++)
		if (off_ranges[i].y == y && md >= off_ranges[i].m1 * 100 + off_ranges[i].d1 &&
		    md <= off_ranges[i].m2 * 100 + off_ranges[i].d2)
			return 0;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12, .tm_isdst = -1 };
	mktime(&tm);
	return tm.tm_wday >= 1 && tm.tm_wday <= 5;
}

static void test_every_day_2025_2026(void **state)
{
	const struct calendar *cal = *state;
	assert_true(calendar_has_year(cal, 2025));
	assert_true(calendar_has_year(cal, 2026));
	assert_false(calendar_has_year(cal, 2024));
	assert_false(calendar_has_year(cal, 2027));
	for (int y = 2025; y <= 2026; y++) {
		int count = 0;
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= 31; d++) {
				int y2, m2, d2;
				char s[48];
				snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
				if (calendar_parse_date(s, &y2, &m2, &d2))
					continue;
				int want = expected_workday(y, m, d);
				if (calendar_is_workday(cal, y, m, d) != want)
					fail_msg("%s: is_workday %d, want %d", s, !want, want);
				count += want;
			}
		/* 261 weekdays - 18 (2025) / 19 (2026) holiday weekdays + 5 / 6 worked days */
		assert_int_equal(count, 248);
	}
	assert_false(calendar_is_workday(cal, 2026, 2, 30));
}

/* ---- the edge cases in CALENDAR.md -------------------------------------- */

static void test_worked_sunday(void **state)
{
	const struct calendar *cal = *state;
	assert_true(calendar_is_workday(cal, 2026, 1, 4));  /* Sunday, worked */
	assert_false(calendar_is_workday(cal, 2026, 1, 3)); /* Saturday, 元旦 */
	assert_false(calendar_is_workday(cal, 2026, 1, 11)); /* an ordinary Sunday */
	assert_true(calendar_in_working_hours(cal, T(2026, 1, 4, 10, 0)));
	assert_time(calendar_next_work_start(cal, T(2026, 1, 1, 8, 0)), T(2026, 1, 4, 9, 0));
	assert_true(calendar_is_workday(cal, 2025, 1, 26)); /* Sunday before 春节 2025 */
}

static void test_spring_festival(void **state)
{
	const struct calendar *cal = *state;
	/* the sync before the 2026 holiday: Friday 15:00 + 1 working day lands
	 * on the worked Saturday */
	assert_time(calendar_add_working_days(cal, T(2026, 2, 13, 15, 0), 1), T(2026, 2, 14, 15, 0));
	/* and from the worked Saturday across the whole festival (Feb 15-23) */
	assert_time(calendar_add_business(cal, T(2026, 2, 14, 17, 0), 2 * HOUR), T(2026, 2, 24, 10, 0));
	assert_int_equal(calendar_business_between(cal, T(2026, 2, 14, 18, 0), T(2026, 2, 24, 9, 0)), 0);
	assert_time(calendar_add_working_days(cal, T(2026, 2, 13, 15, 0), 2), T(2026, 2, 24, 15, 0));
	/* Feb 28 is a worked Saturday too */
	assert_time(calendar_add_business(cal, T(2026, 2, 27, 17, 0), 2 * HOUR), T(2026, 2, 28, 10, 0));
	/* 2025: Jan 28 - Feb 4 */
	assert_time(calendar_add_business(cal, T(2025, 1, 27, 17, 0), 2 * HOUR), T(2025, 2, 5, 10, 0));
}

static void test_friday_evening(void **state)
{
	const struct calendar *cal = *state;
	/* 2025-03-07 is an ordinary Friday, 2025-03-10 an ordinary Monday */
	assert_time(calendar_add_business(cal, T(2025, 3, 7, 17, 30), HOUR), T(2025, 3, 10, 9, 30));
	assert_int_equal(calendar_business_between(cal, T(2025, 3, 7, 17, 30), T(2025, 3, 10, 9, 30)), HOUR);
}

static void test_event_at_night_on_holiday(void **state)
{
	const struct calendar *cal = *state;
	ms_t ev = T(2026, 10, 3, 3, 0); /* 国庆节 */
	assert_false(calendar_in_working_hours(cal, ev));
	assert_time(calendar_next_work_start(cal, ev), T(2026, 10, 8, 9, 0));
	assert_time(calendar_add_business(cal, ev, 2 * HOUR), T(2026, 10, 8, 11, 0));
	/* one working day from 09:00 ends at 18:00 the same day (boundary rule) */
	assert_time(calendar_add_working_days(cal, ev, 1), T(2026, 10, 8, 18, 0));
	assert_time(calendar_add_working_days(cal, ev, 2), T(2026, 10, 9, 18, 0));
}

static void test_national_day(void **state)
{
	const struct calendar *cal = *state;
	assert_time(calendar_add_business(cal, T(2026, 9, 30, 17, 0), 2 * HOUR), T(2026, 10, 8, 10, 0));
	assert_time(calendar_add_business(cal, T(2026, 10, 9, 17, 0), 2 * HOUR), T(2026, 10, 10, 10, 0));
	assert_time(calendar_add_business(cal, T(2026, 9, 18, 17, 0), 2 * HOUR), T(2026, 9, 20, 10, 0));
	assert_time(calendar_add_business(cal, T(2026, 9, 24, 17, 0), 2 * HOUR), T(2026, 9, 28, 10, 0));
	/* 2025: 国庆节、中秋节 Oct 1-8 */
	assert_time(calendar_add_business(cal, T(2025, 9, 30, 17, 0), 2 * HOUR), T(2025, 10, 9, 10, 0));
	assert_time(calendar_add_working_days(cal, T(2026, 9, 29, 12, 0), 3), T(2026, 10, 9, 12, 0));
}

static void test_year_boundary(void **state)
{
	const struct calendar *cal = *state;
	ms_t from = T(2025, 12, 31, 10, 0);
	assert_time(calendar_add_working_days(cal, from, 1), T(2026, 1, 4, 10, 0)); /* worked Sunday */
	assert_time(calendar_add_working_days(cal, from, 2), T(2026, 1, 5, 10, 0));
	assert_int_equal(calendar_business_between(cal, from, T(2026, 1, 5, 10, 0)), 2 * WD);
	assert_time(calendar_add_business(cal, T(2025, 12, 31, 17, 0), 2 * HOUR), T(2026, 1, 4, 10, 0));
}

static void test_missing_year(void **state)
{
	const struct calendar *cal = *state;
	assert_false(calendar_has_year(cal, 2027));
	assert_true(calendar_is_workday(cal, 2027, 1, 1));  /* Friday; no data: Mon-Fri */
	assert_false(calendar_is_workday(cal, 2027, 1, 2)); /* Saturday */
	assert_time(calendar_add_business(cal, T(2026, 12, 31, 17, 0), 2 * HOUR), T(2027, 1, 1, 10, 0));
	assert_time(calendar_add_business(cal, T(2027, 1, 1, 17, 0), 2 * HOUR), T(2027, 1, 4, 10, 0));

	/* a calendar with no data at all is plain Mon-Fri */
	struct calendar *bare = calendar_new(NULL);
	assert_true(calendar_is_workday(bare, 2026, 1, 1));
	assert_false(calendar_is_workday(bare, 2026, 1, 4));
	assert_time(calendar_add_working_days(bare, T(2026, 2, 13, 15, 0), 1), T(2026, 2, 16, 15, 0));
	calendar_free(bare);
}

static void test_company_day_off(void **state)
{
	(void)state;
	struct calendar *cal = load_real(NULL);
	assert_int_equal(calendar_add_day_off(cal, 2026, 3, 6), 0); /* an anniversary, a Friday */
	assert_false(calendar_is_workday(cal, 2026, 3, 6));
	assert_time(calendar_add_business(cal, T(2026, 3, 5, 17, 0), 2 * HOUR), T(2026, 3, 9, 10, 0));
	/* it wins over a worked Saturday */
	assert_int_equal(calendar_add_day_off(cal, 2026, 2, 14), 0);
	assert_false(calendar_is_workday(cal, 2026, 2, 14));
	assert_time(calendar_add_working_days(cal, T(2026, 2, 13, 15, 0), 1), T(2026, 2, 24, 15, 0));
	/* and applies in a year without data, without making it a data year */
	assert_int_equal(calendar_add_day_off(cal, 2027, 1, 1), 0);
	assert_false(calendar_is_workday(cal, 2027, 1, 1));
	assert_false(calendar_has_year(cal, 2027));
	assert_true(calendar_is_workday(cal, 2027, 1, 4));
	assert_int_equal(calendar_add_day_off(cal, 2026, 2, 30), -1);
	/* the data loaded after a company day off still applies */
	struct calendar *c2 = calendar_new(NULL);
	assert_int_equal(calendar_add_day_off(c2, 2026, 3, 6), 0);
	char err[256];
	assert_int_equal(calendar_load_file(c2, CAL_DIR "/2026.json", err, sizeof err), 0);
	assert_false(calendar_is_workday(c2, 2026, 3, 6));
	assert_true(calendar_is_workday(c2, 2026, 1, 4));
	assert_false(calendar_is_workday(c2, 2026, 1, 2));
	calendar_free(c2);
	calendar_free(cal);
}

static void test_lunch_break(void **state)
{
	const struct calendar *cal = *state;
	assert_int_equal(calendar_day_length(cal), 7 * HOUR + 30 * MINUTE);
	/* 2025-03-05 is an ordinary Wednesday */
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 11, 0), 2 * HOUR), T(2025, 3, 5, 14, 30));
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 11, 0), HOUR), T(2025, 3, 5, 12, 0));
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 12, 15), 0), T(2025, 3, 5, 13, 30));
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 12, 15), MINUTE), T(2025, 3, 5, 13, 31));
	assert_time(calendar_next_work_start(cal, T(2025, 3, 5, 12, 30)), T(2025, 3, 5, 13, 30));
	assert_false(calendar_in_working_hours(cal, T(2025, 3, 5, 12, 0)));
	assert_true(calendar_in_working_hours(cal, T(2025, 3, 5, 12, 0) - 1));
	assert_true(calendar_in_working_hours(cal, T(2025, 3, 5, 13, 30)));
	assert_false(calendar_in_working_hours(cal, T(2025, 3, 5, 13, 30) - 1));
	assert_int_equal(calendar_business_between(cal, T(2025, 3, 5, 11, 0), T(2025, 3, 5, 14, 0)),
			 HOUR + 30 * MINUTE);
	assert_time(calendar_add_working_days(cal, T(2025, 3, 7, 9, 0), 1), T(2025, 3, 7, 18, 0));
	assert_time(calendar_add_working_days(cal, T(2025, 3, 7, 12, 40), 1), T(2025, 3, 10, 12, 0));
	assert_time(calendar_add_business(cal, T(2025, 3, 7, 17, 30), HOUR), T(2025, 3, 10, 9, 30));
	assert_time(calendar_add_business(cal, T(2025, 3, 7, 17, 30), 3 * HOUR), T(2025, 3, 10, 11, 30));
	assert_time(calendar_add_business(cal, T(2025, 3, 7, 17, 30), 4 * HOUR), T(2025, 3, 10, 14, 0));
}

static void test_next_work_start(void **state)
{
	const struct calendar *cal = *state;
	assert_time(calendar_next_work_start(cal, T(2025, 3, 5, 8, 59)), T(2025, 3, 5, 9, 0));
	assert_time(calendar_next_work_start(cal, T(2025, 3, 5, 9, 0)), T(2025, 3, 5, 9, 0));
	ms_t inside = T(2025, 3, 5, 15, 0) + 12345;
	assert_int_equal(calendar_next_work_start(cal, inside), inside);
	assert_time(calendar_next_work_start(cal, T(2025, 3, 5, 18, 0) - 1), T(2025, 3, 5, 18, 0) - 1);
	assert_time(calendar_next_work_start(cal, T(2025, 3, 5, 18, 0)), T(2025, 3, 6, 9, 0));
	assert_time(calendar_next_work_start(cal, T(2025, 3, 5, 23, 59)), T(2025, 3, 6, 9, 0));
	assert_time(calendar_next_work_start(cal, T(2025, 3, 7, 18, 0)), T(2025, 3, 10, 9, 0));  /* Friday */
	assert_time(calendar_next_work_start(cal, T(2025, 3, 8, 10, 0)), T(2025, 3, 10, 9, 0));  /* Saturday */
	assert_time(calendar_next_work_start(cal, T(2026, 2, 15, 10, 0)), T(2026, 2, 24, 9, 0)); /* 春节 */
	assert_false(calendar_in_working_hours(cal, T(2025, 3, 5, 8, 59)));
	assert_true(calendar_in_working_hours(cal, T(2025, 3, 5, 9, 0)));
	assert_false(calendar_in_working_hours(cal, T(2025, 3, 5, 18, 0)));
	assert_false(calendar_in_working_hours(cal, T(2025, 3, 8, 10, 0)));
}

static void test_add_zero_and_boundaries(void **state)
{
	const struct calendar *cal = *state;
	ms_t t = T(2025, 3, 5, 10, 0) + 777;
	assert_int_equal(calendar_add_business(cal, t, 0), t);
	assert_int_equal(calendar_add_business(cal, t, -5), t);
	assert_int_equal(calendar_add_working_days(cal, t, 0), t);
	assert_int_equal(calendar_add_working_days(cal, t, -1), t);
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 18, 0), 0), T(2025, 3, 6, 9, 0));
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 3, 0), 0), T(2025, 3, 5, 9, 0));
	/* the boundary rule: landing exactly on the end stays at the end */
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 17, 0), HOUR), T(2025, 3, 5, 18, 0));
	assert_time(calendar_add_business(cal, T(2025, 3, 7, 17, 0), HOUR), T(2025, 3, 7, 18, 0));
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 17, 0), HOUR + 1), T(2025, 3, 6, 9, 0) + 1);
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 17, 0), 1), T(2025, 3, 5, 17, 0) + 1);
	assert_time(calendar_add_working_days(cal, T(2025, 3, 5, 9, 0), 1), T(2025, 3, 5, 18, 0));
	assert_time(calendar_add_working_days(cal, T(2025, 3, 5, 9, 0), 5), T(2025, 3, 11, 18, 0));
	assert_time(calendar_add_working_days(cal, T(2025, 3, 5, 18, 0), 1), T(2025, 3, 6, 18, 0));
}

static void test_business_between(void **state)
{
	const struct calendar *cal = *state;
	assert_int_equal(calendar_business_between(cal, T(2025, 3, 7, 17, 0), T(2025, 3, 10, 10, 0)), 2 * HOUR);
	assert_int_equal(calendar_business_between(cal, T(2026, 9, 30, 17, 0), T(2026, 10, 8, 10, 0)), 2 * HOUR);
	/* Fri Apr 3 worked, Apr 4-6 清明节, Tue Apr 7 worked */
	assert_int_equal(calendar_business_between(cal, T(2026, 4, 3, 9, 0), T(2026, 4, 8, 9, 0)), 2 * WD);
	assert_int_equal(calendar_business_between(cal, T(2025, 3, 8, 0, 0), T(2025, 3, 10, 0, 0)), 0);
	ms_t a = T(2025, 3, 5, 10, 0);
	assert_int_equal(calendar_business_between(cal, a, a), 0);
	assert_int_equal(calendar_business_between(cal, a, a - HOUR), 0);
	assert_int_equal(calendar_business_between(cal, a, a + 500), 500);
	assert_int_equal(calendar_business_between(cal, T(2025, 3, 5, 7, 0), T(2025, 3, 5, 20, 0)), WD);
	/* whole years: 248 working days each */
	assert_int_equal(calendar_business_between(cal, T(2026, 1, 1, 0, 0), T(2027, 1, 1, 0, 0)), 248 * WD);
	assert_int_equal(calendar_business_between(cal, T(2025, 1, 1, 0, 0), T(2026, 1, 1, 0, 0)), 248 * WD);
}

static void test_sub_business(void **state)
{
	const struct calendar *cal = *state;
	ms_t due = T(2025, 3, 10, 10, 0); /* Monday */
	assert_int_equal(calendar_sub_business(cal, due, 0), due);
	assert_time(calendar_sub_business(cal, due, HOUR), T(2025, 3, 10, 9, 0));
	assert_time(calendar_sub_business(cal, due, 2 * HOUR), T(2025, 3, 7, 17, 0));
	assert_time(calendar_sub_business(cal, due, HOUR + 1), T(2025, 3, 7, 18, 0) - 1);
	/* back across the whole 2026 Spring Festival to the worked Saturday */
	assert_time(calendar_sub_business(cal, T(2026, 2, 24, 10, 0), 2 * HOUR), T(2026, 2, 14, 17, 0));
	/* a due time outside working hours counts back from the last end */
	assert_time(calendar_sub_business(cal, T(2025, 3, 8, 12, 0), HOUR), T(2025, 3, 7, 17, 0));
	assert_time(calendar_sub_business(cal, T(2026, 1, 5, 10, 0), 2 * WD), T(2025, 12, 31, 10, 0));
}

static void test_many_working_days(void **state)
{
	const struct calendar *cal = *state;
	ms_t from = T(2025, 1, 2, 10, 0);
	ms_t r = calendar_add_working_days(cal, from, 1000);
	assert_int_equal(calendar_business_between(cal, from, r), 1000 * WD);
	/* 2025 from Jan 2 10:00 and 2026 hold 247 + 248 working days (+1h on Jan 2),
	 * the rest falls back to Mon-Fri: 505 more weekdays from 2027-01-01 */
	int y, m, d, min;
	calendar_local_date(r, &y, &m, &d, &min);
	assert_true(y == 2028 || y == 2029);
	assert_int_equal(min, 10 * 60);
	assert_time(calendar_add_working_days(cal, r, 0), r);
	/* far out of range: clamped, never a hang or an overflow */
	assert_int_equal(calendar_add_working_days(cal, from, INT_MAX), CALENDAR_NEVER);
	assert_int_equal(calendar_add_business(cal, from, INT64_MAX), CALENDAR_NEVER);
	assert_int_equal(calendar_add_business(cal, CALENDAR_NEVER, HOUR), CALENDAR_NEVER);
	assert_int_equal(calendar_sub_business(cal, from, INT64_MAX), 0);
	assert_true(calendar_business_between(cal, from, CALENDAR_NEVER) > 1000 * WD);
	assert_false(calendar_in_working_hours(cal, CALENDAR_NEVER));
}

/* ---- parsing and local time ------------------------------------------------ */

static void test_parse_date(void **state)
{
	(void)state;
	int y, m, d;
	assert_int_equal(calendar_parse_date("2026-02-28", &y, &m, &d), 0);
	assert_int_equal(y, 2026);
	assert_int_equal(m, 2);
	assert_int_equal(d, 28);
	assert_int_equal(calendar_parse_date("2024-02-29", &y, &m, &d), 0);
	static const char *const bad[] = {
		"2026-02-30", "2026-1-1x", "2025-02-29", "2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32",
		"2026/01/01", "2026-01-01 ", " 2026-01-01", "2026-01-1", "26-01-01", "", "2026-01-01x", "0000-01-01",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (calendar_parse_date(bad[i], &y, &m, &d) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(calendar_parse_date(NULL, &y, &m, &d), -1);
}

static void test_parse_duration(void **state)
{
	(void)state;
	static const struct { const char *s; ms_t ms; int wd; } good[] = {
		{ "1wd", 0, 1 }, { "10wd", 0, 10 }, { "0wd", 0, 0 },
		{ "2h", 2 * HOUR, 0 }, { "30m", 30 * MINUTE, 0 }, { "90s", 90000, 0 },
		{ "1h30m", 90 * MINUTE, 0 }, { "1h30m15s", 90 * MINUTE + 15000, 0 }, { "250ms", 250, 0 },
		{ "1m30s", 90000, 0 }, { "2h500ms", 2 * HOUR + 500, 0 }, { "0m", 0, 0 }, { "48h", 48 * HOUR, 0 },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		ms_t ms = 12345;
		int wd = 12345;
		if (calendar_parse_duration(good[i].s, &ms, &wd))
			fail_msg("rejected \"%s\"", good[i].s);
		assert_int_equal(ms, good[i].ms);
		assert_int_equal(wd, good[i].wd);
	}
	static const char *const bad[] = {
		"1x", "", "-1h", "+1h", "h", "1", "1h30", "1.5h", "wd", "1wdx", "1wd2h", "2h1wd", "30m1h", "1h1h",
		" 1h", "1h ", "1d", "1H", "99999999999999h", "100001h", "1000001wd", "-1wd", "1 h",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ms_t ms = 7;
		int wd = 7;
		if (calendar_parse_duration(bad[i], &ms, &wd) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ms, 7); /* untouched */
		assert_int_equal(wd, 7);
	}
	ms_t ms;
	int wd;
	assert_int_equal(calendar_parse_duration(NULL, &ms, &wd), -1);
}

static void test_local_time_and_hours(void **state)
{
	(void)state;
	/* 2026-01-01 00:00 +08:00 = 2025-12-31T16:00:00Z */
	assert_int_equal(calendar_local_time(2026, 1, 1, 0), (ms_t)1767196800000);
	assert_int_equal(calendar_local_time(2025, 12, 31, 1440), (ms_t)1767196800000);
	int y, m, d, min;
	calendar_local_date((ms_t)1767196800000 + 9 * HOUR + 30 * MINUTE + 59999, &y, &m, &d, &min);
	assert_int_equal(y, 2026);
	assert_int_equal(m, 1);
	assert_int_equal(d, 1);
	assert_int_equal(min, 9 * 60 + 30);
	calendar_local_date((ms_t)1767196800000 - 1, &y, NULL, &d, &min);
	assert_int_equal(y, 2025);
	assert_int_equal(d, 31);
	assert_int_equal(min, 1439);

	int v;
	assert_int_equal(calendar_parse_hhmm("09:00", &v), 0);
	assert_int_equal(v, 540);
	assert_int_equal(calendar_parse_hhmm("24:00", &v), 0);
	assert_int_equal(v, 1440);
	assert_int_equal(calendar_parse_hhmm("24:01", &v), -1);
	assert_int_equal(calendar_parse_hhmm("9:00", &v), -1);
	assert_int_equal(calendar_parse_hhmm("09:60", &v), -1);

	static const struct calendar_hours bad[] = {
		{ 600, 540, -1, -1 }, { 540, 540, -1, -1 }, { -1, 540, -1, -1 }, { 540, 1441, -1, -1 },
		{ 540, 1080, 720, -1 }, { 540, 1080, 540, 600 }, { 540, 1080, 720, 1080 }, { 540, 1080, 800, 720 },
	};
	char err[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(calendar_hours_check(&bad[i], err, sizeof err), -1);
		assert_true(err[0] != '\0');
		assert_null(calendar_new(&bad[i]));
	}
	struct calendar *cal = calendar_new(NULL);
	const struct calendar_hours *h = calendar_hours(cal);
	assert_int_equal(h->start_min, 540);
	assert_int_equal(h->end_min, 1080);
	assert_int_equal(h->lunch_start_min, -1);
	assert_int_equal(calendar_day_length(cal), WD);
	calendar_free(cal);
	/* a day that ends at midnight */
	const struct calendar_hours late = { 14 * 60, 1440, -1, -1 };
	cal = calendar_new(&late);
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 23, 0), HOUR), T(2025, 3, 6, 0, 0));
	assert_time(calendar_add_business(cal, T(2025, 3, 5, 23, 0), HOUR + 1), T(2025, 3, 6, 14, 0) + 1);
	assert_false(calendar_in_working_hours(cal, T(2025, 3, 6, 0, 0)));
	calendar_free(cal);
}

/* ---- data-file errors ------------------------------------------------------ */

static char tmpdir[64];

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loading text as name must fail with an error naming the file and holding needle. */
static void expect_error(const char *name, const char *text, const char *needle)
{
	struct calendar *cal = calendar_new(NULL);
	const char *path = write_file(name, text);
	char err[256] = "";
	if (calendar_load_file(cal, path, err, sizeof err) == 0)
		fail_msg("%s loaded: %s", name, text);
	if (!strstr(err, path) || !strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\" or the file name", err, needle);
	assert_false(calendar_has_year(cal, 2026));
	assert_false(calendar_is_workday(cal, 2026, 1, 4)); /* nothing half-loaded */
	assert_true(calendar_is_workday(cal, 2026, 1, 2));
	calendar_free(cal);
	unlink(path);
}

#define HEAD "{\"year\": 2026, \"holidays\": ["
#define TAIL "]}"

static void test_load_errors(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/collabd-cal-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [\"2026-02-30\"]}" TAIL, "bad date");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [\"2026-1-1\"]}" TAIL, "bad date");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [\"2027-01-01\"]}" TAIL, "outside the file's year");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [\"2025-12-31..2026-01-02\"]}" TAIL, "outside");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [\"2026-01-01..2026-01-04\"], \"worked\": [\"2026-01-04\"]}" TAIL,
		     "2026-01-04 is listed both as off and as worked");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [\"2026-01-01\"]}, {\"name\": \"y\", \"off\": [], \"worked\": [\"2026-01-01\"]}" TAIL,
		     "Thursday");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [\"2026-01-05..2026-01-04\"]}" TAIL, "ends before");
	expect_error("a.json", "{\"year\": 2026, \"holidays\": [], \"colour\": 1}", "unknown key \"colour\"");
	expect_error("a.json", HEAD "{\"name\": \"春节\", \"off\": [], \"workd\": []}" TAIL,
		     "holidays[0] (春节): unknown key \"workd\"");
	expect_error("a.json", HEAD "{\"off\": []}" TAIL, "\"name\"");
	expect_error("a.json", HEAD "{\"name\": \"x\"}" TAIL, "\"off\"");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": \"2026-01-01\"}" TAIL, "list of dates");
	expect_error("a.json", HEAD "{\"name\": \"x\", \"off\": [20260101]}" TAIL, "expected a date string");
	expect_error("a.json", "{\"holidays\": []}", "\"year\"");
	expect_error("a.json", "{\"year\": 2026}", "\"holidays\"");
	expect_error("a.json", "{\"year\": 2026, \"holidays\": [],\n\"source\": }", "line 2");
	expect_error("a.json", "{\"year\": 2026, \"year\": 2026, \"holidays\": []}", "duplicate");
	expect_error("a.json", "[]", "object");

	char err[256];
	struct calendar *cal = calendar_new(NULL);
	assert_int_equal(calendar_load_file(cal, "/nonexistent/2026.json", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/2026.json"));
	assert_int_equal(calendar_load_dir(cal, "/nonexistent", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent"));

	/* the same year twice */
	assert_int_equal(calendar_load_file(cal, CAL_DIR "/2026.json", err, sizeof err), 0);
	assert_int_equal(calendar_load_file(cal, CAL_DIR "/2026.json", err, sizeof err), -1);
	assert_non_null(strstr(err, "already loaded"));
	calendar_free(cal);

	/* a directory: only NNNN.json is read, and its year must match the name */
	write_file("README.md", "not json");
	write_file("2026.json.bak", "not json");
	assert_int_equal(calendar_load_dir((cal = calendar_new(NULL)), tmpdir, err, sizeof err), 0);
	assert_false(calendar_has_year(cal, 2026));
	const char *p = write_file("2027.json", "{\"year\": 2027, \"_comment\": \"empty\", \"holidays\": []}");
	assert_int_equal(calendar_load_dir(cal, tmpdir, err, sizeof err), 0);
	assert_true(calendar_has_year(cal, 2027));
	calendar_free(cal);
	unlink(p);
	p = write_file("2028.json", "{\"year\": 2029, \"holidays\": []}");
	cal = calendar_new(NULL);
	assert_int_equal(calendar_load_dir(cal, tmpdir, err, sizeof err), -1);
	assert_non_null(strstr(err, "2028.json"));
	assert_non_null(strstr(err, "named for 2028"));
	calendar_free(cal);
	unlink(p);

	char path[128];
	snprintf(path, sizeof path, "%s/README.md", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/2026.json.bak", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* ---- properties ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static ms_t rnd_range(ms_t n) { return (ms_t)(rnd() % (uint64_t)n); }

/* Independent reference: is the minute starting at t (minute-aligned) inside
 * working hours, judged from localtime_r and calendar_is_workday alone. */
static int ref_minute_in_hours(const struct calendar *cal, ms_t t)
{
	time_t s = (time_t)(t / 1000);
	struct tm tm;
	localtime_r(&s, &tm);
	if (!calendar_is_workday(cal, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday))
		return 0;
	const struct calendar_hours *h = calendar_hours(cal);
	int min = tm.tm_hour * 60 + tm.tm_min;
	if (min < h->start_min || min >= h->end_min)
		return 0;
	return h->lunch_start_min < 0 || min < h->lunch_start_min || min >= h->lunch_end_min;
}

/* from + n business minutes, one minute at a time. */
static ms_t ref_add_minutes(const struct calendar *cal, ms_t from, int n)
{
	ms_t t = from;
	while (!ref_minute_in_hours(cal, t))
		t += MINUTE;
	for (; n > 0; t += MINUTE)
		if (ref_minute_in_hours(cal, t))
			n--;
	return t;
}

static void check_reference(const struct calendar *cal)
{
	ms_t lo = T(2025, 1, 1, 0, 0), span = T(2026, 12, 28, 0, 0) - lo;
	rng_state = 20260214;
	for (int i = 0; i < 300; i++) {
		ms_t from = lo + rnd_range(span) / MINUTE * MINUTE;
		int n = (int)rnd_range(4 * 9 * 60);
		ms_t want = ref_add_minutes(cal, from, n);
		ms_t got = calendar_add_business(cal, from, n * MINUTE);
		if (got != want)
			fail_msg("%s + %d min: got %s, reference %s", fmt(from), n, fmt(got), fmt(want));
		int in = ref_minute_in_hours(cal, from);
		assert_int_equal(calendar_in_working_hours(cal, from), in);
		assert_int_equal(calendar_in_working_hours(cal, from + 59999), in);
	}
}

static void check_properties(const struct calendar *cal)
{
	ms_t lo = T(2025, 1, 1, 0, 0), span = T(2026, 12, 31, 0, 0) - lo;
	ms_t L = calendar_day_length(cal);
	rng_state = 42;
	for (int i = 0; i < 5000; i++) {
		ms_t from = lo + rnd_range(span);
		if (i % 7 == 0)
			from -= from % MINUTE; /* whole minutes hit the boundaries more often */
		ms_t d;
		switch (i % 5) {
		case 0: d = rnd_range(2 * HOUR); break;
		case 1: d = rnd_range(3 * L); break;
		case 2: d = rnd_range(30 * L); break;
		case 3: d = rnd_range(12) * HOUR; break;
		default: d = rnd_range(10) * L; break;
		}
		if (i % 50 == 0)
			d = 0;
		ms_t r = calendar_add_business(cal, from, d);
		ms_t start = calendar_next_work_start(cal, from);
		assert_true(calendar_in_working_hours(cal, start));
		assert_true(start >= from);
		assert_true(r >= start);
		ms_t between = calendar_business_between(cal, start, r);
		if (between != d)
			fail_msg("from %s + %lld ms = %s, but business_between = %lld", fmt(from), (long long)d, fmt(r),
				 (long long)between);
		assert_int_equal(calendar_business_between(cal, from, r), d);
		/* inside working hours, or exactly at an end of them */
		if (d == 0)
			assert_int_equal(r, start);
		else if (!calendar_in_working_hours(cal, r))
			assert_true(calendar_in_working_hours(cal, r - 1));
		/* monotonic in d */
		ms_t delta = i % 3 ? rnd_range(4 * HOUR) : rnd_range(3);
		ms_t r2 = calendar_add_business(cal, from, d + delta);
		if (delta > 0)
			assert_true(r2 > r);
		else
			assert_int_equal(r2, r);
		/* sub_business inverts add_business */
		ms_t back = calendar_sub_business(cal, r, d);
		assert_int_equal(calendar_business_between(cal, back, r), d);
		if (d > 0) {
			assert_true(calendar_in_working_hours(cal, back));
			assert_true(back >= start);
			assert_true(calendar_business_between(cal, back + 1, r) < d);
		}
		/* working days are day-length multiples */
		int n = (int)(d % 6);
		assert_int_equal(calendar_add_working_days(cal, from, n), calendar_add_business(cal, from, n * L));
	}
}

static void test_properties(void **state)
{
	check_reference(*state);
	check_properties(*state);
}

static void test_properties_lunch(void **state) { test_properties(state); }

/* The holiday data as one JSON value (the cluster's shared settings): read
 * from the directory and loaded back, it is the same calendar, with the same
 * checks as the files. */
static void test_years_as_json(void **state)
{
	(void)state;
	char err[256];
	json_t *years = calendar_dir_json(CAL_DIR, err, sizeof err);
	assert_non_null(years);
	assert_non_null(json_object_get(years, "2025"));
	assert_non_null(json_object_get(years, "2026"));
	struct calendar *from_files = calendar_new(NULL), *from_json = calendar_new(NULL);
	assert_int_equal(calendar_load_dir(from_files, CAL_DIR, err, sizeof err), 0);
	assert_int_equal(calendar_load_years_json(from_json, years, err, sizeof err), 0);
	for (int y = 2025; y <= 2026; y++) {
		assert_true(calendar_has_year(from_json, y));
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= 31; d++)
				assert_int_equal(calendar_is_workday(from_json, y, m, d), calendar_is_workday(from_files, y, m, d));
	}
	calendar_free(from_files);
	calendar_free(from_json);

	/* A year whose data says another year, a key that is not a year, bad data. */
	json_object_set(years, "2027", json_object_get(years, "2026"));
	struct calendar *cal = calendar_new(NULL);
	assert_int_equal(calendar_load_years_json(cal, years, err, sizeof err), -1);
	assert_non_null(strstr(err, "2027.json"));
	calendar_free(cal);
	json_object_del(years, "2027");
	json_object_set_new(years, "soon", json_object());
	assert_int_equal(calendar_load_years_json((cal = calendar_new(NULL)), years, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a year"));
	calendar_free(cal);
	json_object_del(years, "soon");
	json_object_set_new(years, "2028", json_pack("{s:i, s:[s]}", "year", 2028, "holidays", "x"));
	assert_int_equal(calendar_load_years_json((cal = calendar_new(NULL)), years, err, sizeof err), -1);
	calendar_free(cal);
	json_decref(years);
	assert_null(calendar_dir_json("/nonexistent", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent"));
}

int main(void)
{
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_day_2025_2026, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worked_sunday, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spring_festival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_friday_evening, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_at_night_on_holiday, setup, teardown),
		cmocka_unit_test_setup_teardown(test_national_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_year_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_year, setup, teardown),
		cmocka_unit_test(test_company_day_off),
		cmocka_unit_test(test_years_as_json),
		cmocka_unit_test_setup_teardown(test_lunch_break, setup_lunch, teardown),
		cmocka_unit_test_setup_teardown(test_next_work_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_zero_and_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_business_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sub_business, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_working_days, setup, teardown),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_local_time_and_hours),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties_lunch, setup_lunch, teardown),
	};
	return cmocka_run_group_tests_name("calendar", tests, NULL, NULL);
}
