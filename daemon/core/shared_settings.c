/*
 * shared_settings.c - the calendar and admins as one document: built from a
 * host's files, compared, and loaded back into a calendar and a config.
 */
#include "collabd/shared_settings.h"

#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/config.h"
#include "collabd/util.h"

/* The calendar's scalar keys: in the document as in the file's calendar
 * section, each with its place in struct calendar_config. */
static const struct {
	const char *key;
	size_t offset;
} HOURS[] = {
	{ "work_start", offsetof(struct calendar_config, work_start) },
	{ "work_end", offsetof(struct calendar_config, work_end) },
	{ "lunch_start", offsetof(struct calendar_config, lunch_start) },
	{ "lunch_end", offsetof(struct calendar_config, lunch_end) },
};

static char **hours_field(struct calendar_config *c, size_t i) { return (char **)((char *)c + HOURS[i].offset); }

json_t *shared_settings_from_config(const struct config *cfg, char *err, size_t errsz)
{
	json_t *years = calendar_dir_json(cfg->calendar.dir, err, errsz);
	if (!years)
		return NULL;
	json_t *cal = json_object();
	struct calendar_config c = cfg->calendar;
	for (size_t i = 0; i < ARRAY_LEN(HOURS); i++) {
		const char *v = *hours_field(&c, i);
		json_object_set_new(cal, HOURS[i].key, json_string(v ? v : ""));
	}
	json_object_set_new(cal, "extra_days_off",
			    cfg->calendar.extra_days_off ? json_deep_copy(cfg->calendar.extra_days_off) : json_array());
	json_object_set_new(cal, "years", years);
	return json_pack("{s:o, s:o}", "calendar", cal, "admins",
			 cfg->admins ? json_deep_copy(cfg->admins) : json_array());
}

char *shared_settings_text_new(const json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	char *owned = xstrdup(text ? text : "{}"); /* xstrdup: out of memory aborts, as everywhere */
	free(text);
	return owned;
}

json_t *shared_settings_parse(const char *text)
{
	return text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
}

struct calendar *shared_settings_load(const json_t *doc, struct config *cfg, char *err, size_t errsz)
{
	json_t *cal_doc = json_object_get(doc, "calendar");
	json_t *admins = json_object_get(doc, "admins");
	json_t *extra = json_object_get(cal_doc, "extra_days_off");
	if (!json_is_object(cal_doc) || !json_is_array(admins) || !json_is_array(extra)) {
		snprintf(err, errsz, "the shared settings lack calendar, calendar.extra_days_off or admins");
		return NULL;
	}
	size_t i;
	json_t *v;
	json_array_foreach(admins, i, v)
		if (!json_is_string(v)) {
			snprintf(err, errsz, "admins[%zu]: expected a user id string", i);
			return NULL;
		}
	/* The hours are read the way the file's are: through a config that
	 * holds only them. */
	struct config probe;
	memset(&probe, 0, sizeof probe);
	for (size_t k = 0; k < ARRAY_LEN(HOURS); k++) {
		const char *text = json_string_value(json_object_get(cal_doc, HOURS[k].key));
		if (!text) {
			snprintf(err, errsz, "the shared settings lack calendar.%s", HOURS[k].key);
			return NULL;
		}
		*hours_field(&probe.calendar, k) = (char *)text; /* borrowed: probe is never freed */
	}
	struct calendar_hours hours;
	if (config_calendar_hours(&probe, &hours)) {
		snprintf(err, errsz, "the shared working hours are not valid");
		return NULL;
	}
	struct calendar *cal = calendar_new(&hours);
	if (calendar_load_years_json(cal, json_object_get(cal_doc, "years"), err, errsz)) {
		calendar_free(cal);
		return NULL;
	}
	json_array_foreach(extra, i, v) {
		int y, m, d;
		if (!json_is_string(v) || calendar_parse_date(json_string_value(v), &y, &m, &d)) {
			snprintf(err, errsz, "calendar.extra_days_off[%zu]: expected a date YYYY-MM-DD", i);
			calendar_free(cal);
			return NULL;
		}
		calendar_add_day_off(cal, y, m, d);
	}
	/* Checked whole: now the config takes the values. */
	for (size_t k = 0; k < ARRAY_LEN(HOURS); k++) {
		char **field = hours_field(&cfg->calendar, k);
		free(*field);
		*field = xstrdup(*hours_field(&probe.calendar, k));
	}
	json_decref(cfg->calendar.extra_days_off);
	cfg->calendar.extra_days_off = json_deep_copy(extra);
	json_decref(cfg->admins);
	cfg->admins = json_deep_copy(admins);
	return cal;
}

/* Appends name to the space-separated list *out (grown with xasprintf). */
static void add_name(char **out, const char *prefix, const char *name)
{
	char *grown = xasprintf("%s%s%s%s", *out ? *out : "", *out ? " " : "", prefix, name);
	free(*out);
	*out = grown;
}

char *shared_settings_diff_new(const json_t *a, const json_t *b)
{
	char *out = NULL;
	const json_t *ca = json_object_get(a, "calendar"), *cb = json_object_get(b, "calendar");
	static const char *const scalars[] = { "work_start", "work_end", "lunch_start", "lunch_end", "extra_days_off" };
	for (size_t i = 0; i < ARRAY_LEN(scalars); i++)
		if (!json_equal(json_object_get(ca, scalars[i]), json_object_get(cb, scalars[i])))
			add_name(&out, "calendar.", scalars[i]);
	/* Each year's data by itself: "calendar.years.2027" says which file. */
	json_t *ya = json_object_get(ca, "years"), *yb = json_object_get(cb, "years");
	const char *year;
	json_t *v;
	json_object_foreach(ya, year, v)
		if (!json_equal(v, json_object_get(yb, year)))
			add_name(&out, "calendar.years.", year);
	json_object_foreach(yb, year, v)
		if (!json_object_get(ya, year))
			add_name(&out, "calendar.years.", year);
	if (!json_equal(json_object_get(a, "admins"), json_object_get(b, "admins")))
		add_name(&out, "", "admins");
	return out;
}
