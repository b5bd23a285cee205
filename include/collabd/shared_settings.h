/*
 * shared_settings.h - the settings that define the company's behaviour, as
 * one JSON document the instances sharing a database keep in it
 * (store_settings.h):
 *
 *   {"admins": [user ids],
 *    "calendar": {"work_start": "09:00", "work_end": "18:00",
 *                 "lunch_start": "", "lunch_end": "",
 *                 "extra_days_off": ["YYYY-MM-DD", ...],
 *                 "years": {"2026": <deploy/calendar/2026.json>, ...}}}
 *
 * Shared because every instance must compute the same deadlines and let the
 * same people edit the directory, whichever one a platform hands an event
 * to.  Everything else in the configuration file stays per host (listeners,
 * tokens, log level, database, platform credentials, timezone, SLA
 * policies): it describes the host or needs a restart anyway.
 */
#ifndef COLLABD_SHARED_SETTINGS_H
#define COLLABD_SHARED_SETTINGS_H

#include <jansson.h>
#include <stddef.h>

struct config;
struct calendar;

/* The document for cfg's calendar files, hours, extra days off and admins: a
 * new reference, or NULL with err set when calendar.dir cannot be read. */
json_t *shared_settings_from_config(const struct config *cfg, char *err, size_t errsz);

/* The document's canonical text (keys sorted, compact), as stored and
 * compared: a new string the caller frees. */
char *shared_settings_text_new(const json_t *doc);

/* Parses text into a document (new reference), NULL when it is not JSON. */
json_t *shared_settings_parse(const char *text);

/* Builds the calendar doc describes (checked as the files are) and, only
 * when that succeeds, writes doc's hours, extra days off and admins into cfg
 * (calendar.dir and everything else untouched).  Returns the new calendar
 * (caller frees), or NULL with err set and cfg unchanged. */
struct calendar *shared_settings_load(const json_t *doc, struct config *cfg, char *err, size_t errsz);

/* What differs between a and b, as space-separated names
 * ("calendar.work_end calendar.years.2027 admins"): a new string, or NULL
 * when they are equal.  Either may be NULL (then everything differs). */
char *shared_settings_diff_new(const json_t *a, const json_t *b);

#endif
