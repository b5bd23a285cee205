/*
 * calendar.c - working days, working hours and business-time arithmetic.
 *
 * Dates are handled as day numbers (days since 1970-01-01 in the proleptic
 * Gregorian calendar, Howard Hinnant's civil-date algorithms), so weekdays
 * and date steps are integer arithmetic.  Each year with data or company days
 * off has an entry in a sorted array holding three bitmaps of its days: off
 * (statutory holidays), worked (调休 weekend days) and company days off.
 *
 * The arithmetic runs in "wall" milliseconds: local day number * 86400000 +
 * milliseconds since local midnight.  An instant is converted to wall time
 * once on the way in (localtime_r) and back once on the way out (checked
 * against the input's UTC offset, mktime() when that offset does not fit),
 * and everything in between steps by segments and whole days.
 */
#include "collabd/calendar.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/util.h"

#define DAY_MS ((ms_t)86400000)
#define MIN_MS ((ms_t)60000)
#define YEAR_BYTES 46 /* 366 bits */

/* Data files may describe years in this range. */
#define YEAR_MIN 1970
#define YEAR_MAX 9999

struct cal_year {
	int year;
	int has_data;      /* a data file for this year was loaded */
	int64_t first_day; /* day number of January 1 */
	uint8_t off[YEAR_BYTES];
	uint8_t worked[YEAR_BYTES];
	uint8_t company[YEAR_BYTES];
};

struct calendar {
	struct calendar_hours hours;
	int nseg;          /* 1, or 2 with a lunch break */
	ms_t seg_start[2]; /* ms after local midnight */
	ms_t seg_end[2];
	ms_t day_len;
	struct cal_year *years; /* owned, sorted by year */
	size_t nyears;
};

/* ---- civil dates ------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = mm;
	*y = (int)(yoe + era * 400 + (mm <= 2));
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static int date_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* 0 = Sunday ... 6 = Saturday; 1970-01-01 was a Thursday. */
static int weekday(int64_t dn) { return (int)(dn + 4 - floor_div(dn + 4, 7) * 7); }

static const char *const weekday_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

static int bit_get(const uint8_t *bm, int64_t i) { return (bm[i >> 3] >> (i & 7)) & 1; }
static void bit_set(uint8_t *bm, int64_t i) { bm[i >> 3] |= (uint8_t)(1u << (i & 7)); }

/* ---- year table ------------------------------------------------------- */

static const struct cal_year *find_year(const struct calendar *cal, int year)
{
	size_t lo = 0, hi = cal->nyears;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cal->years[mid].year == year)
			return &cal->years[mid];
		if (cal->years[mid].year < year)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The entry for year, made (empty) when there is none. */
static struct cal_year *get_year(struct calendar *cal, int year)
{
	size_t i = 0;
	while (i < cal->nyears && cal->years[i].year < year)
		i++;
	if (i < cal->nyears && cal->years[i].year == year)
		return &cal->years[i];
	cal->years = xrealloc(cal->years, (cal->nyears + 1) * sizeof *cal->years);
	memmove(&cal->years[i + 1], &cal->years[i], (cal->nyears - i) * sizeof *cal->years);
	cal->nyears++;
	struct cal_year *e = &cal->years[i];
	memset(e, 0, sizeof *e);
	e->year = year;
	e->first_day = days_from_civil(year, 1, 1);
	return e;
}

static int workday_dn(const struct calendar *cal, int64_t dn)
{
	int wd = weekday(dn);
	int work = wd >= 1 && wd <= 5;
	if (cal->nyears == 0)
		return work;
	int y, m, d;
	civil_from_days(dn, &y, &m, &d);
	const struct cal_year *e = find_year(cal, y);
	if (!e)
		return work;
	int64_t doy = dn - e->first_day;
	if (bit_get(e->company, doy))
		return 0;
	if (e->has_data) {
		if (bit_get(e->off, doy))
			return 0;
		if (bit_get(e->worked, doy))
			return 1;
	}
	return work;
}

/* ---- wall time -------------------------------------------------------- */

/* Instants are clamped to 1970-01-01T00:00Z .. 9999-12-31T23:59:59.999Z, so a
 * "never" sentinel cannot overflow the arithmetic or loop for ages. */
#define T_MAX ((ms_t)253402300799999)
#define DN_MAX ((int64_t)2932897) /* 10000-01-01 */

static ms_t to_wall(ms_t t)
{
	if (t < 0)
		t = 0;
	if (t > T_MAX)
		t = T_MAX;
	time_t s = (time_t)floor_div(t, 1000);
	ms_t rem = t - (ms_t)s * 1000;
	struct tm tm;
	if (!localtime_r(&s, &tm))
		return t; /* out of range for the C library: treat as UTC */
	int sec = tm.tm_sec > 59 ? 59 : tm.tm_sec; /* leap-second zones */
	return days_from_civil(tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday) * DAY_MS +
	       ((ms_t)tm.tm_hour * 3600 + tm.tm_min * 60 + sec) * 1000 + rem;
}

static ms_t from_wall_mktime(ms_t w)
{
	int64_t dn = floor_div(w, DAY_MS);
	ms_t mod = w - dn * DAY_MS;
	int y, m, d;
	civil_from_days(dn, &y, &m, &d);
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = (int)(mod / 3600000);
	tm.tm_min = (int)(mod / 60000 % 60);
	tm.tm_sec = (int)(mod / 1000 % 60);
	tm.tm_isdst = -1;
	time_t s = mktime(&tm);
	return (ms_t)s * 1000 + mod % 1000;
}

/* The instant of wall time w.  (t0, w0) is a known instant and its wall time:
 * w is tried at the same UTC offset first, which is one localtime_r() instead
 * of a mktime(), and keeps the offset through a daylight-saving overlap. */
static ms_t from_wall(ms_t w, ms_t t0, ms_t w0)
{
	ms_t guess = w - (w0 - t0);
	if (to_wall(guess) == w)
		return guess;
	return from_wall_mktime(w);
}

/* ---- working hours ---------------------------------------------------- */

static int in_hours_wall(const struct calendar *cal, ms_t w)
{
	int64_t dn = floor_div(w, DAY_MS);
	ms_t mod = w - dn * DAY_MS;
	int i = 0;
	while (i < cal->nseg && !(mod >= cal->seg_start[i] && mod < cal->seg_end[i]))
		i++;
	return i < cal->nseg && workday_dn(cal, dn);
}

/* The first wall instant >= w inside working hours. */
static ms_t next_start_wall(const struct calendar *cal, ms_t w)
{
	int64_t dn = floor_div(w, DAY_MS);
	ms_t mod = w - dn * DAY_MS;
	for (;; dn++, mod = 0) {
		if (mod >= cal->seg_end[cal->nseg - 1] || !workday_dn(cal, dn))
			continue;
		for (int i = 0; i < cal->nseg; i++)
			if (mod < cal->seg_end[i])
				return dn * DAY_MS + (mod > cal->seg_start[i] ? mod : cal->seg_start[i]);
	}
}

/* Business time of day dn inside [lo, hi) (ms after midnight). */
static ms_t day_overlap(const struct calendar *cal, int64_t dn, ms_t lo, ms_t hi)
{
	if (hi <= lo || !workday_dn(cal, dn))
		return 0;
	ms_t sum = 0;
	for (int i = 0; i < cal->nseg; i++) {
		ms_t s = lo > cal->seg_start[i] ? lo : cal->seg_start[i];
		ms_t e = hi < cal->seg_end[i] ? hi : cal->seg_end[i];
		if (e > s)
			sum += e - s;
	}
	return sum;
}

static void set_err(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || !errsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	utf8_vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int calendar_hours_check(const struct calendar_hours *h, char *err, size_t errsz)
{
	if (h->start_min < 0 || h->start_min >= 1440) {
		set_err(err, errsz, "start of working hours must be 00:00 to 23:59");
		return -1;
	}
	if (h->end_min <= h->start_min || h->end_min > 1440) {
		set_err(err, errsz, "end of working hours must be after the start and at most 24:00");
		return -1;
	}
	if (h->lunch_start_min == -1 && h->lunch_end_min == -1)
		return 0;
	if (h->lunch_start_min <= h->start_min || h->lunch_end_min <= h->lunch_start_min ||
	    h->lunch_end_min >= h->end_min) {
		set_err(err, errsz, "lunch break must lie strictly inside working hours and end after it starts");
		return -1;
	}
	return 0;
}

int calendar_parse_hhmm(const char *s, int *minute_of_day)
{
	if (!s || strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*minute_of_day = h * 60 + m;
	return 0;
}

struct calendar *calendar_new(const struct calendar_hours *h)
{
	static const struct calendar_hours defaults = CALENDAR_HOURS_DEFAULT;
	if (!h)
		h = &defaults;
	if (calendar_hours_check(h, NULL, 0))
		return NULL;
	struct calendar *cal = xcalloc(1, sizeof *cal);
	cal->hours = *h;
	if (h->lunch_start_min < 0) {
		cal->nseg = 1;
		cal->seg_start[0] = h->start_min * MIN_MS;
		cal->seg_end[0] = h->end_min * MIN_MS;
	} else {
		cal->nseg = 2;
		cal->seg_start[0] = h->start_min * MIN_MS;
		cal->seg_end[0] = h->lunch_start_min * MIN_MS;
		cal->seg_start[1] = h->lunch_end_min * MIN_MS;
		cal->seg_end[1] = h->end_min * MIN_MS;
	}
	for (int i = 0; i < cal->nseg; i++)
		cal->day_len += cal->seg_end[i] - cal->seg_start[i];
	return cal;
}

void calendar_free(struct calendar *cal)
{
	if (!cal)
		return;
	free(cal->years);
	free(cal);
}

void calendar_swap(struct calendar *a, struct calendar *b)
{
	struct calendar tmp = *a;
	*a = *b;
	*b = tmp;
}

const struct calendar_hours *calendar_hours(const struct calendar *cal) { return &cal->hours; }

ms_t calendar_day_length(const struct calendar *cal) { return cal->day_len; }

/* ---- data files ------------------------------------------------------- */

int calendar_parse_date(const char *s, int *y, int *m, int *d)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int yy = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int mm = (s[5] - '0') * 10 + (s[6] - '0');
	int dd = (s[8] - '0') * 10 + (s[9] - '0');
	if (!date_valid(yy, mm, dd))
		return -1;
	*y = yy;
	*m = mm;
	*d = dd;
	return 0;
}

/* What one file describes, before it is merged into the calendar. */
struct year_data {
	int year;
	int64_t first_day;
	int ndays;
	uint8_t off[YEAR_BYTES];
	uint8_t worked[YEAR_BYTES];
};

/* Parses one element of an "off" or "worked" list: "YYYY-MM-DD" or an
 * inclusive range "YYYY-MM-DD..YYYY-MM-DD"; sets the days' bits in bm. */
static int add_days(struct year_data *yd, uint8_t *bm, int worked, json_t *v, const char *where,
		    char *err, size_t errsz)
{
	const char *s = json_string_value(v);
	if (!s) {
		set_err(err, errsz, "%s: expected a date string \"YYYY-MM-DD\" or range \"YYYY-MM-DD..YYYY-MM-DD\"",
			where);
		return -1;
	}
	char a[16], b[16];
	const char *dots = strstr(s, "..");
	if (dots) {
		size_t n = (size_t)(dots - s);
		if (n >= sizeof a || strlen(dots + 2) >= sizeof b) {
			set_err(err, errsz, "%s: bad date range \"%s\"", where, s);
			return -1;
		}
		memcpy(a, s, n);
		a[n] = '\0';
		snprintf(b, sizeof b, "%s", dots + 2);
	} else {
		if (strlen(s) >= sizeof a) {
			set_err(err, errsz, "%s: bad date \"%s\"", where, s);
			return -1;
		}
		snprintf(a, sizeof a, "%s", s);
		snprintf(b, sizeof b, "%s", s);
	}
	int y1, m1, d1, y2, m2, d2;
	if (calendar_parse_date(a, &y1, &m1, &d1) || calendar_parse_date(b, &y2, &m2, &d2)) {
		set_err(err, errsz, "%s: bad date \"%s\" (expected YYYY-MM-DD, a day that exists)", where, s);
		return -1;
	}
	if (y1 != yd->year || y2 != yd->year) {
		set_err(err, errsz, "%s: \"%s\" is outside the file's year %d (put it in that year's file)",
			where, s, yd->year);
		return -1;
	}
	int64_t from = days_from_civil(y1, m1, d1), to = days_from_civil(y2, m2, d2);
	if (to < from) {
		set_err(err, errsz, "%s: range \"%s\" ends before it starts", where, s);
		return -1;
	}
	for (int64_t dn = from; dn <= to; dn++) {
		int wd = weekday(dn);
		if (worked && wd >= 1 && wd <= 5) {
			int y, m, d;
			civil_from_days(dn, &y, &m, &d);
			set_err(err, errsz, "%s: %04d-%02d-%02d is a %s; worked days (调休) are weekend days",
				where, y, m, d, weekday_names[wd]);
			return -1;
		}
		bit_set(bm, dn - yd->first_day);
	}
	return 0;
}

static int parse_day_list(struct year_data *yd, uint8_t *bm, int worked, json_t *list, const char *where,
			  char *err, size_t errsz)
{
	if (!json_is_array(list)) {
		set_err(err, errsz, "%s: expected a list of dates", where);
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char w[160];
		utf8_snprintf(w, sizeof w, "%s[%zu]", where, i);
		if (add_days(yd, bm, worked, v, w, err, errsz))
			return -1;
	}
	return 0;
}

static int parse_holiday(struct year_data *yd, json_t *h, size_t idx, char *err, size_t errsz)
{
	char where[128];
	if (!json_is_object(h)) {
		set_err(err, errsz, "holidays[%zu]: expected an object", idx);
		return -1;
	}
	const char *name = json_string_value(json_object_get(h, "name"));
	if (!name || !*name) {
		set_err(err, errsz, "holidays[%zu]: \"name\" (a non-empty string) is required", idx);
		return -1;
	}
	utf8_snprintf(where, sizeof where, "holidays[%zu] (%s)", idx, name);
	if (!json_object_get(h, "off")) {
		set_err(err, errsz, "%s: \"off\" (a list of dates) is required", where);
		return -1;
	}
	const char *key;
	json_t *v;
	json_object_foreach(h, key, v) {
		char w[160];
		if (!strcmp(key, "name") || key[0] == '_')
			continue;
		utf8_snprintf(w, sizeof w, "%s.%s", where, key);
		if (!strcmp(key, "off")) {
			if (parse_day_list(yd, yd->off, 0, v, w, err, errsz))
				return -1;
		} else if (!strcmp(key, "worked")) {
			if (parse_day_list(yd, yd->worked, 1, v, w, err, errsz))
				return -1;
		} else {
			set_err(err, errsz, "%s: unknown key \"%s\" (known: name, off, worked, _comment)", where, key);
			return -1;
		}
	}
	return 0;
}

static int parse_year(struct year_data *yd, json_t *root, int expect_year, char *err, size_t errsz)
{
	if (!json_is_object(root)) {
		set_err(err, errsz, "expected a JSON object");
		return -1;
	}
	json_t *jy = json_object_get(root, "year");
	if (!json_is_integer(jy) || json_integer_value(jy) < YEAR_MIN || json_integer_value(jy) > YEAR_MAX) {
		set_err(err, errsz, "\"year\" (an integer, %d to %d) is required", YEAR_MIN, YEAR_MAX);
		return -1;
	}
	memset(yd, 0, sizeof *yd);
	yd->year = (int)json_integer_value(jy);
	yd->first_day = days_from_civil(yd->year, 1, 1);
	yd->ndays = is_leap(yd->year) ? 366 : 365;
	if (expect_year && yd->year != expect_year) {
		set_err(err, errsz, "\"year\" is %d but the file is named for %d", yd->year, expect_year);
		return -1;
	}
	json_t *hol = json_object_get(root, "holidays");
	if (!json_is_array(hol)) {
		set_err(err, errsz, "\"holidays\" (a list) is required");
		return -1;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "year") || !strcmp(key, "holidays") || key[0] == '_')
			continue;
		if (!strcmp(key, "source")) {
			if (!json_is_string(v)) {
				set_err(err, errsz, "\"source\" must be a string");
				return -1;
			}
			continue;
		}
		set_err(err, errsz, "unknown key \"%s\" (known: year, source, holidays, _comment)", key);
		return -1;
	}
	size_t i;
	json_array_foreach(hol, i, v) {
		if (parse_holiday(yd, v, i, err, errsz))
			return -1;
	}
	for (int doy = 0; doy < yd->ndays; doy++) {
		if (bit_get(yd->off, doy) && bit_get(yd->worked, doy)) {
			int y, m, d;
			civil_from_days(yd->first_day + doy, &y, &m, &d);
			set_err(err, errsz, "%04d-%02d-%02d is listed both as off and as worked", y, m, d);
			return -1;
		}
	}
	return 0;
}

/* Loads one year's parsed data (root, borrowed); name says where it came
 * from in messages. */
static int load_root(struct calendar *cal, json_t *root, const char *name, int expect_year, char *err, size_t errsz)
{
	struct year_data *yd = xmalloc(sizeof *yd);
	char msg[256];
	int rc = parse_year(yd, root, expect_year, msg, sizeof msg);
	if (rc == 0) {
		const struct cal_year *have = find_year(cal, yd->year);
		if (have && have->has_data) {
			snprintf(msg, sizeof msg, "year %d is already loaded", yd->year);
			rc = -1;
		}
	}
	if (rc) {
		set_err(err, errsz, "%s: %s", name, msg);
		free(yd);
		return -1;
	}
	struct cal_year *e = get_year(cal, yd->year);
	memcpy(e->off, yd->off, sizeof e->off);
	memcpy(e->worked, yd->worked, sizeof e->worked);
	e->has_data = 1;
	free(yd);
	return 0;
}

/* The parsed file at path (a new reference), or NULL with err set. */
static json_t *read_file_json(const char *path, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0 || jerr.position == 0)
			set_err(err, errsz, "%s: cannot read: %s", path, jerr.text);
		else
			set_err(err, errsz, "%s: line %d column %d: %s", path, jerr.line, jerr.column, jerr.text);
	}
	return root;
}

static int load_file(struct calendar *cal, const char *path, int expect_year, char *err, size_t errsz)
{
	json_t *root = read_file_json(path, err, errsz);
	if (!root)
		return -1;
	int rc = load_root(cal, root, path, expect_year, err, errsz);
	json_decref(root);
	return rc;
}

int calendar_load_file(struct calendar *cal, const char *path, char *err, size_t errsz)
{
	return load_file(cal, path, 0, err, errsz);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "NNNN.json" -> NNNN, else 0. */
static int year_file_name(const char *name)
{
	if (strlen(name) != 9 || strcmp(name + 4, ".json"))
		return 0;
	int y = 0;
	for (int i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		y = y * 10 + (name[i] - '0');
	}
	return y;
}

/* The NNNN.json names in dir, sorted (a new array of new strings, *n of
 * them), or -1 with err set when dir cannot be read. */
static int list_year_files(const char *dir, char ***out, size_t *n, char *err, size_t errsz)
{
	DIR *dp = opendir(dir);
	if (!dp) {
		set_err(err, errsz, "%s: cannot open directory: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	struct dirent *de;
	*n = 0;
	while ((de = readdir(dp))) {
		if (!year_file_name(de->d_name))
			continue;
		names = xrealloc(names, (*n + 1) * sizeof *names);
		names[(*n)++] = xstrdup(de->d_name);
	}
	closedir(dp);
	if (*n)
		qsort(names, *n, sizeof *names, name_cmp);
	*out = names;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int calendar_load_dir(struct calendar *cal, const char *dir, char *err, size_t errsz)
{
	char **names;
	size_t n;
	if (list_year_files(dir, &names, &n, err, errsz))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		rc = load_file(cal, path, year_file_name(names[i]), err, errsz);
		free(path);
	}
	free_names(names, n);
	return rc;
}

json_t *calendar_dir_json(const char *dir, char *err, size_t errsz)
{
	char **names;
	size_t n;
	if (list_year_files(dir, &names, &n, err, errsz))
		return NULL;
	json_t *years = json_object();
	for (size_t i = 0; i < n && years; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		json_t *root = read_file_json(path, err, errsz);
		free(path);
		if (!root) {
			json_decref(years);
			years = NULL;
			break;
		}
		names[i][4] = '\0'; /* "2026.json" -> "2026" */
		json_object_set_new(years, names[i], root);
	}
	free_names(names, n);
	return years;
}

int calendar_load_years_json(struct calendar *cal, json_t *years, char *err, size_t errsz)
{
	if (!json_is_object(years)) {
		set_err(err, errsz, "the holiday data is not an object of years");
		return -1;
	}
	const char *key;
	json_t *root;
	json_object_foreach(years, key, root) {
		char file[16];
		snprintf(file, sizeof file, "%.4s.json", key);
		int year = strlen(key) == 4 ? year_file_name(file) : 0;
		if (!year) {
			set_err(err, errsz, "holiday data for \"%s\": not a year", key);
			return -1;
		}
		if (load_root(cal, root, file, year, err, errsz))
			return -1;
	}
	return 0;
}

int calendar_add_day_off(struct calendar *cal, int y, int m, int d)
{
	if (!date_valid(y, m, d))
		return -1;
	struct cal_year *e = get_year(cal, y);
	bit_set(e->company, days_from_civil(y, m, d) - e->first_day);
	return 0;
}

int calendar_has_year(const struct calendar *cal, int year)
{
	const struct cal_year *e = find_year(cal, year);
	return e && e->has_data;
}

int calendar_is_workday(const struct calendar *cal, int y, int m, int d)
{
	if (!date_valid(y, m, d))
		return 0;
	return workday_dn(cal, days_from_civil(y, m, d));
}

/* ---- business time ---------------------------------------------------- */

int calendar_in_working_hours(const struct calendar *cal, ms_t t)
{
	return in_hours_wall(cal, to_wall(t));
}

ms_t calendar_next_work_start(const struct calendar *cal, ms_t t)
{
	ms_t w = to_wall(t);
	if (in_hours_wall(cal, w))
		return t;
	return from_wall(next_start_wall(cal, w), t, w);
}

ms_t calendar_add_business(const struct calendar *cal, ms_t from, ms_t duration)
{
	ms_t rem = duration > 0 ? duration : 0;
	ms_t w = to_wall(from);
	int64_t dn = floor_div(w, DAY_MS);
	ms_t mod = w - dn * DAY_MS;
	ms_t result = 0;
	for (;; dn++, mod = 0) {
		if (dn >= DN_MAX)
			return CALENDAR_NEVER;
		if (!workday_dn(cal, dn))
			continue;
		if (mod == 0 && rem > cal->day_len) {
			rem -= cal->day_len; /* a whole working day */
			continue;
		}
		for (int i = 0; i < cal->nseg; i++) {
			if (mod >= cal->seg_end[i])
				continue;
			ms_t s = mod > cal->seg_start[i] ? mod : cal->seg_start[i];
			ms_t avail = cal->seg_end[i] - s;
			if (rem <= avail) {
				result = dn * DAY_MS + s + rem;
				goto done;
			}
			rem -= avail;
		}
	}
done:
	if (result == w)
		return from;
	return from_wall(result, from, w);
}

ms_t calendar_sub_business(const struct calendar *cal, ms_t due, ms_t duration)
{
	if (duration <= 0)
		return due;
	ms_t rem = duration;
	ms_t w = to_wall(due);
	int64_t dn = floor_div(w, DAY_MS);
	ms_t mod = w - dn * DAY_MS;
	ms_t result = 0;
	for (;; dn--, mod = DAY_MS) {
		if (dn < 0)
			return 0;
		if (!workday_dn(cal, dn))
			continue;
		if (mod >= cal->seg_end[cal->nseg - 1] && rem > cal->day_len) {
			rem -= cal->day_len; /* a whole working day */
			continue;
		}
		for (int i = cal->nseg - 1; i >= 0; i--) {
			ms_t e = mod < cal->seg_end[i] ? mod : cal->seg_end[i];
			if (e <= cal->seg_start[i])
				continue;
			ms_t avail = e - cal->seg_start[i];
			if (rem <= avail) {
				result = dn * DAY_MS + e - rem;
				goto done;
			}
			rem -= avail;
		}
	}
done:
	return from_wall(result, due, w);
}

ms_t calendar_add_working_days(const struct calendar *cal, ms_t from, int n)
{
	return calendar_add_business(cal, from, n > 0 ? (ms_t)n * cal->day_len : 0);
}

ms_t calendar_business_between(const struct calendar *cal, ms_t a, ms_t b)
{
	if (b <= a)
		return 0;
	ms_t wa = to_wall(a), wb = to_wall(b);
	int64_t da = floor_div(wa, DAY_MS), db = floor_div(wb, DAY_MS);
	ms_t ma = wa - da * DAY_MS, mb = wb - db * DAY_MS;
	if (da == db)
		return day_overlap(cal, da, ma, mb);
	ms_t sum = day_overlap(cal, da, ma, DAY_MS) + day_overlap(cal, db, 0, mb);
	for (int64_t dn = da + 1; dn < db; dn++)
		if (workday_dn(cal, dn))
			sum += cal->day_len;
	return sum;
}

/* ---- local time helpers ----------------------------------------------- */

ms_t calendar_local_time(int y, int m, int d, int minute_of_day)
{
	return from_wall_mktime(days_from_civil(y, m, d) * DAY_MS + (ms_t)minute_of_day * MIN_MS);
}

void calendar_local_date(ms_t t, int *y, int *m, int *d, int *minute_of_day)
{
	ms_t w = to_wall(t);
	int64_t dn = floor_div(w, DAY_MS);
	int yy, mm, dd;
	civil_from_days(dn, &yy, &mm, &dd);
	if (y)
		*y = yy;
	if (m)
		*m = mm;
	if (d)
		*d = dd;
	if (minute_of_day)
		*minute_of_day = (int)((w - dn * DAY_MS) / MIN_MS);
}

/* ---- durations -------------------------------------------------------- */

#define MAX_WORKING_DAYS 1000000
#define MAX_DURATION_MS ((ms_t)100000 * 3600 * 1000)

int calendar_parse_duration(const char *s, ms_t *ms, int *working_days)
{
	static const struct { const char *unit; ms_t scale; } units[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	if (!s || !*s)
		return -1;
	size_t len = strlen(s);
	if (len > 2 && !strcmp(s + len - 2, "wd")) {
		long n = 0;
		for (size_t i = 0; i < len - 2; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			n = n * 10 + (s[i] - '0');
			if (n > MAX_WORKING_DAYS)
				return -1;
		}
		*working_days = (int)n;
		*ms = 0;
		return 0;
	}
	ms_t total = 0;
	int next_unit = 0; /* units must come in the order h, m, s, ms */
	const char *p = s;
	while (*p) {
		ms_t n = 0;
		const char *num = p;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p - '0');
			if (n > MAX_DURATION_MS)
				return -1;
			p++;
		}
		if (p == num)
			return -1;
		const char *unit = p;
		while (*p >= 'a' && *p <= 'z')
			p++;
		size_t ulen = (size_t)(p - unit);
		int u = -1;
		for (int i = next_unit; i < (int)ARRAY_LEN(units); i++)
			if (strlen(units[i].unit) == ulen && !strncmp(unit, units[i].unit, ulen))
				u = i;
		if (u < 0)
			return -1;
		total += n * units[u].scale;
		if (total > MAX_DURATION_MS)
			return -1;
		next_unit = u + 1;
	}
	*ms = total;
	*working_days = 0;
	return 0;
}
