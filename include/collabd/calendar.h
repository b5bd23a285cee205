/*
 * calendar.h - the working-day calendar and business-time arithmetic.
 *
 * A working day is Monday to Friday, minus the statutory holidays, plus the
 * adjusted working days (调休, e.g. a Sunday that is worked), minus the
 * company's own days off.  The statutory days are data: one JSON file per
 * year under deploy/calendar/ (see deploy/calendar/README.md for the format).
 * A year without a file falls back to Monday to Friday (minus company days
 * off); calendar_has_year() lets the caller say so in its log.
 *
 * Working hours are [start, end) on a working day, minus the optional lunch
 * break [lunch_start, lunch_end).  Business time is time inside working hours
 * on working days, exact to the millisecond.
 *
 * Time zone: local civil time is the process's TZ, read through localtime_r()
 * and mktime().  The caller sets TZ (setenv("TZ", zone, 1); tzset()) before
 * the first call -- the daemon does so from config at start-up, the tests set
 * TZ=Asia/Shanghai.  Business time is measured on the local wall clock; a
 * daylight-saving change *inside* working hours (none in China, rare anywhere)
 * would be counted in local minutes, not elapsed ones.
 *
 * Boundary rule: adding business time yields the earliest instant at which
 * that much business time has elapsed, so a deadline that lands exactly on
 * the end of working hours (or the start of lunch) stays there: Friday
 * 17:00 + 1h = Friday 18:00, not Monday 09:00.  Adding zero yields the point
 * counting starts from, i.e. calendar_next_work_start(from).
 *
 * Range: instants are taken as clamped to the years 1970 to 9999 (UTC); a
 * deadline beyond 9999 is CALENDAR_NEVER, a start before 1970 is 0.
 *
 * This module is pure: no I/O apart from reading the data files, no logging,
 * no global state.  A loaded calendar is read-only, so one calendar may be
 * shared by any number of readers.  Day lookups are O(log years) (a sorted
 * array of per-year bitmaps); adding N working days steps by whole days.
 */
#ifndef COLLABD_CALENDAR_H
#define COLLABD_CALENDAR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "collabd/clock.h"

/* What calendar_add_business() returns when the deadline falls after 9999. */
#define CALENDAR_NEVER INT64_MAX

/* Minutes after local midnight.  0 <= start < end <= 1440.  Lunch is either
 * both -1 (none) or start < lunch_start < lunch_end < end. */
struct calendar_hours {
	int start_min;
	int end_min;
	int lunch_start_min;
	int lunch_end_min;
};

/* The defaults: 09:00-18:00, no lunch break. */
#define CALENDAR_HOURS_DEFAULT { 9 * 60, 18 * 60, -1, -1 }

/* Returns 0 when h is valid; otherwise -1 with the reason in err (size errsz,
 * may be NULL/0). */
int calendar_hours_check(const struct calendar_hours *h, char *err, size_t errsz);

/* Parses "HH:MM" (00:00 to 24:00) into minutes after midnight.  Returns 0, or
 * -1 when s is not such a time. */
int calendar_parse_hhmm(const char *s, int *minute_of_day);

struct calendar;

/* A new calendar with no data loaded (every year falls back to Mon-Fri).
 * h may be NULL for the defaults; h is copied.  Returns NULL when h is not
 * valid (check it first with calendar_hours_check()).  The caller frees the
 * calendar with calendar_free(). */
struct calendar *calendar_new(const struct calendar_hours *h);
void calendar_free(struct calendar *cal);
/* Exchanges the contents of a and b (hours and holiday data), so that a
 * reload can replace a calendar others hold a pointer to. */
void calendar_swap(struct calendar *a, struct calendar *b);

/* The working hours the calendar was made with (borrowed, lives as long as
 * cal). */
const struct calendar_hours *calendar_hours(const struct calendar *cal);

/*
 * Loads one year's data file.  Returns 0, or -1 with a message in err (size
 * errsz) that names the file and the problem: unreadable file, JSON syntax
 * (with line and column), unknown key, bad date, a date outside the file's
 * year, a day both off and worked, a worked day that is not a weekend day, a
 * year already loaded.  On error the calendar is left unchanged.
 */
int calendar_load_file(struct calendar *cal, const char *path, char *err, size_t errsz);

/* Loads every file named NNNN.json in dir (other names are ignored), in year
 * order; each file's "year" must match its name.  Returns 0 (also when there
 * is no such file: use calendar_has_year() to see which years have data), or
 * -1 with a message in err when dir cannot be read or at the first file that
 * fails (the files before it stay loaded). */
int calendar_load_dir(struct calendar *cal, const char *dir, char *err, size_t errsz);

/* The data files of dir as they would be loaded, unchecked: a new object
 * {"NNNN": <the file's JSON>, ...}, or NULL with the reason in err (dir
 * unreadable, a file that is not JSON).  With calendar_load_years_json()
 * this lets the holiday data travel as one value (the cluster's shared
 * settings) instead of as files. */
json_t *calendar_dir_json(const char *dir, char *err, size_t errsz);

/* Loads years as calendar_dir_json() returns them (borrowed), with the
 * checks calendar_load_dir() makes.  Returns 0, or -1 with err set at the
 * first year that fails. */
int calendar_load_years_json(struct calendar *cal, json_t *years, char *err, size_t errsz);

/* Adds a company day off (e.g. the company's anniversary); it wins over a
 * worked weekend day and applies whether or not the year has a data file.
 * Returns 0, or -1 when the date does not exist. */
int calendar_add_day_off(struct calendar *cal, int y, int m, int d);

/* 1 when a data file for year was loaded, else 0. */
int calendar_has_year(const struct calendar *cal, int year);

/* 1 when y-m-d is a working day, 0 when not (or when the date does not
 * exist). */
int calendar_is_workday(const struct calendar *cal, int y, int m, int d);

/* The business length of one working day in ms (end - start - lunch). */
ms_t calendar_day_length(const struct calendar *cal);

/* 1 when t is inside working hours on a working day, else 0. */
int calendar_in_working_hours(const struct calendar *cal, ms_t t);

/* t itself when it is inside working hours; otherwise the next start of
 * working hours (the end of the lunch break counts as a start). */
ms_t calendar_next_work_start(const struct calendar *cal, ms_t t);

/* from + duration of business time, counted from from when it is inside
 * working hours, else from calendar_next_work_start(from).  See the boundary
 * rule above.  A negative duration counts as 0. */
ms_t calendar_add_business(const struct calendar *cal, ms_t from, ms_t duration);

/* The inverse of calendar_add_business(): the latest instant t with
 * calendar_business_between(cal, t, due) == duration (due itself when
 * duration <= 0).  For duration > 0, t is inside working hours; e.g. "remind
 * 2h of business time before the deadline". */
ms_t calendar_sub_business(const struct calendar *cal, ms_t due, ms_t duration);

/* calendar_add_business(cal, from, n * calendar_day_length(cal)): "within n
 * working days" as WORKFLOW.md defines it.  A negative n counts as 0. */
ms_t calendar_add_working_days(const struct calendar *cal, ms_t from, int n);

/* Business time in [a, b); 0 when b <= a.  "Business time remaining" until a
 * deadline b is calendar_business_between(cal, now, b). */
ms_t calendar_business_between(const struct calendar *cal, ms_t a, ms_t b);

/* The instant of local civil time y-m-d at minute_of_day minutes after
 * midnight (values out of range are normalised: minute 1440 is the next
 * day's midnight).  In a daylight-saving gap or overlap mktime() decides. */
ms_t calendar_local_time(int y, int m, int d, int minute_of_day);

/* The local civil date of t and the whole minutes since local midnight.  Any
 * output pointer may be NULL. */
void calendar_local_date(ms_t t, int *y, int *m, int *d, int *minute_of_day);

/* Parses "YYYY-MM-DD" exactly (four-digit year, two-digit month and day, no
 * trailing text) and checks the day exists.  Returns 0, or -1. */
int calendar_parse_date(const char *s, int *y, int *m, int *d);

/*
 * Parses a duration: "1wd" (working days), or one or more of <n>h <n>m <n>s
 * <n>ms in that order, each at most once ("2h", "30m", "90s", "1h30m",
 * "1h30m15s").  No sign, no spaces, no mixing "wd" with the others.
 * Returns 0 and sets *working_days (with *ms = 0) for "wd", else *ms (with
 * *working_days = 0), so the span is always *working_days working days plus
 * *ms of business time.  Returns -1 (outputs untouched) when s is not such a
 * duration or is too large (over 1,000,000 working days or 100,000 hours).
 *
 * To add a parsed span, call calendar_add_working_days() when *working_days
 * is set and calendar_add_business() otherwise -- not one after the other:
 * adding 0 moves an instant at the end of working hours to the next start.
 */
int calendar_parse_duration(const char *s, ms_t *ms, int *working_days);

#endif
