/*
 * calendar_tool.c - `collabd calendar ...`: lets an operator check the holiday
 * data and the business-time arithmetic the deadlines use.
 *
 *   collabd calendar is-workday 2026-01-04
 *   collabd calendar add 2026-02-13T15:00 1wd
 *   collabd calendar between 2026-02-13T15:00 2026-02-24T10:00
 *   collabd calendar publish      (this host's calendar and admins -> the database)
 *   collabd calendar shared       (the database's copy against this host's files)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/calendar.h"
#include "collabd/config.h"
#include "collabd/shared_settings.h"
#include "collabd/store.h"
#include "collabd/store_settings.h"
#include "collabd/tool.h"

static void tool_usage(FILE *out)
{
	fprintf(out,
		"usage: collabd [--config FILE] calendar is-workday YYYY-MM-DD\n"
		"       collabd [--config FILE] calendar add YYYY-MM-DDTHH:MM DURATION   (e.g. 1wd, 2h, 30m)\n"
		"       collabd [--config FILE] calendar between YYYY-MM-DDTHH:MM YYYY-MM-DDTHH:MM\n"
		"       collabd --config FILE calendar publish   make this host's calendar and admins the cluster's\n"
		"       collabd --config FILE calendar shared    compare the database's copy with this host's files\n"
		"Times are local to the configured timezone (default Asia/Shanghai).\n");
}

/* "YYYY-MM-DDTHH:MM" (or with a space) in local time. */
static int parse_local(const char *s, ms_t *out)
{
	char date[11];
	int hh, mm, y, m, d;
	if (strlen(s) != 16 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':')
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (calendar_parse_date(date, &y, &m, &d) || sscanf(s + 11, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
		return -1;
	*out = calendar_local_time(y, m, d, hh * 60 + mm);
	return 0;
}

static void print_local(ms_t t)
{
	int y, m, d, minute;
	calendar_local_date(t, &y, &m, &d, &minute);
	long sec = (long)((t / 1000) % 60);
	printf("%04d-%02d-%02d %02d:%02d:%02ld\n", y, m, d, minute / 60, minute % 60, sec);
}

/* `publish` and `shared`: the database's copy of the calendar and admins
 * (shared_settings.h).  The files were checked by loading them already. */
static int shared_tool(const struct config *cfg, int publish)
{
	char err[512];
	json_t *files = shared_settings_from_config(cfg, err, sizeof err);
	if (!files) {
		fprintf(stderr, "collabd: calendar: %s\n", err);
		return 1;
	}
	/* Checked as a running instance will load it: the files are read once. */
	struct config scratch;
	memset(&scratch, 0, sizeof scratch);
	struct calendar *check = shared_settings_load(files, &scratch, err, sizeof err);
	int valid = check != NULL;
	calendar_free(check);
	config_free(&scratch);
	if (!valid) {
		fprintf(stderr, "collabd: calendar: %s\n", err);
		json_decref(files);
		return 1;
	}
	struct store *st = NULL;
	if (store_open(cfg->database, &st, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "collabd: calendar: cannot open the database: %s\n", err);
		json_decref(files);
		return 1;
	}
	int rc = 1;
	int64_t gen = 0;
	char *text = NULL, *by = NULL;
	ms_t at = 0;
	enum store_rc got = store_settings_get(st, &gen, &text, &by, &at);
	json_t *db = got == STORE_OK ? shared_settings_parse(text) : NULL;
	char *diff = shared_settings_diff_new(db, files);
	if (got == STORE_ERR) {
		fprintf(stderr, "collabd: calendar: cannot read the shared settings: %s\n", store_errmsg(st));
	} else if (publish) {
		char *mine = shared_settings_text_new(files);
		int changed = 0;
		if (store_settings_publish(st, mine, clock_now_ms(), &gen, &changed) != STORE_OK) {
			fprintf(stderr, "collabd: calendar: cannot publish: %s\n", store_errmsg(st));
		} else {
			if (changed)
				printf("published generation %lld (changed: %s); every instance applies it at its next check\n",
				       (long long)gen, diff ? diff : "everything");
			else
				printf("unchanged: the database already holds these settings (generation %lld)\n",
				       (long long)gen);
			rc = 0;
		}
		free(mine);
	} else if (got == STORE_NOTFOUND) {
		printf("the database holds no shared settings yet: the first instance to start publishes its files\n");
		rc = 1;
	} else {
		printf("generation %lld, published by %s at ", (long long)gen, by ? by : "?");
		print_local(at);
		if (diff)
			printf("this host's files differ: %s\n", diff);
		else
			printf("this host's files are the same\n");
		rc = diff ? 1 : 0;
	}
	free(diff);
	json_decref(db);
	free(by);
	free(text);
	store_close(st);
	json_decref(files);
	return rc;
}

int calendar_tool(const struct config *cfg, int argc, char **argv)
{
	if (argc < 2) {
		tool_usage(stderr);
		return 2;
	}
	struct calendar_hours hours;
	if (config_calendar_hours(cfg, &hours)) {
		fprintf(stderr, "collabd: calendar: bad working hours in the configuration\n");
		return 1;
	}
	setenv("TZ", cfg->timezone, 1);
	tzset();
	struct calendar *cal = calendar_new(&hours);
	char err[300];
	int rc = 0;
	if (config_calendar_load(cfg, cal, err, sizeof err)) {
		fprintf(stderr, "collabd: calendar: %s\n", err);
		calendar_free(cal);
		return 1;
	}
	const char *verb = argv[1];
	if ((!strcmp(verb, "publish") || !strcmp(verb, "shared")) && argc == 2) {
		rc = shared_tool(cfg, !strcmp(verb, "publish"));
	} else if (!strcmp(verb, "is-workday") && argc == 3) {
		int y, m, d;
		if (calendar_parse_date(argv[2], &y, &m, &d)) {
			fprintf(stderr, "collabd: calendar: not a date: %s (YYYY-MM-DD)\n", argv[2]);
			rc = 2;
		} else {
			int work = calendar_is_workday(cal, y, m, d);
			printf("%s %s%s\n", argv[2], work ? "workday" : "day-off",
			       calendar_has_year(cal, y) ? "" : " (no holiday data for this year: Monday to Friday)");
			rc = work ? 0 : 1;
		}
	} else if (!strcmp(verb, "add") && argc == 4) {
		ms_t from, span = 0;
		int wd = 0;
		if (parse_local(argv[2], &from) || calendar_parse_duration(argv[3], &span, &wd)) {
			fprintf(stderr, "collabd: calendar: expected YYYY-MM-DDTHH:MM and a duration such as 1wd, 2h, 30m\n");
			rc = 2;
		} else {
			print_local(wd ? calendar_add_working_days(cal, from, wd) : calendar_add_business(cal, from, span));
		}
	} else if (!strcmp(verb, "between") && argc == 4) {
		ms_t a, b;
		if (parse_local(argv[2], &a) || parse_local(argv[3], &b)) {
			fprintf(stderr, "collabd: calendar: expected two times YYYY-MM-DDTHH:MM\n");
			rc = 2;
		} else {
			ms_t ms = calendar_business_between(cal, a, b);
			printf("%lldh%02lldm business time (%.2f working days)\n", (long long)(ms / 3600000),
			       (long long)(ms / 60000 % 60), (double)ms / (double)calendar_day_length(cal));
		}
	} else {
		tool_usage(stderr);
		rc = 2;
	}
	calendar_free(cal);
	return rc;
}
