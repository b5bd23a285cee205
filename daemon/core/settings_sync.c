/*
 * settings_sync.c - the running daemon and the cluster's shared settings
 * (the calendar and admins, shared_settings.h): reconciles them with this
 * host's files at start, publishes on SIGHUP (reload.c), and applies what
 * another instance published.
 *
 * Every instance reads the generation every cluster.settings_poll_ms (one
 * indexed row; polling works on both engines and needs nothing from the
 * loop but a timer) and, when it moved, loads the document and applies it
 * exactly as a local reload applies the file.
 *
 * At start, when this host's files differ from the database's copy:
 *   - on a shared store (PostgreSQL) the database's copy wins and a warning
 *     names what differs: starting an instance (a new host, a restart with
 *     old files) must not silently change the whole cluster's calendar;
 *     SIGHUP or `collabd calendar publish` publishes a host's files on
 *     purpose;
 *   - on SQLite the files win and are published: the database belongs to
 *     this one process, and the operator edits the files, as before.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/clock.h"
#include "collabd/daemon.h"
#include "collabd/log.h"
#include "collabd/sched.h"
#include "collabd/shared_settings.h"
#include "collabd/store_settings.h"

void daemon_settings_applied(struct daemon *d, struct calendar *cal, json_t *doc, int64_t generation)
{
	calendar_swap(d->calendar, cal);
	d->env.admins = d->cfg.admins;
	json_decref(d->settings_doc);
	d->settings_doc = json_incref(doc);
	d->settings_generation = generation;
	int cutoff;
	const struct calendar_hours *h = calendar_hours(d->calendar);
	if (!calendar_parse_hhmm(d->cfg.progress.cutoff, &cutoff) && (cutoff <= h->start_min || cutoff > h->end_min))
		log_warn("msg=\"progress.cutoff lies outside the shared working hours; daily updates are still due at it\" "
			 "cutoff=%s", d->cfg.progress.cutoff);
	/* Deadlines already set keep their due times; pings not yet sent are
	 * held to working hours by the new calendar when they fire. */
	if (d->sched)
		sched_kick(d->sched);
}

/* Loads doc into the running daemon; 0, or -1 (logged) with nothing changed. */
static int apply_doc(struct daemon *d, json_t *doc, int64_t generation)
{
	char err[512];
	struct calendar *cal = shared_settings_load(doc, &d->cfg, err, sizeof err);
	if (!cal) {
		log_error("msg=\"the shared settings cannot be applied; this instance keeps its calendar and admins\" "
			  "generation=%lld error=\"%s\"", (long long)generation, err);
		return -1;
	}
	daemon_settings_applied(d, cal, doc, generation);
	calendar_free(cal);
	return 0;
}

int daemon_settings_open(struct daemon *d)
{
	char err[512];
	json_t *files = shared_settings_from_config(&d->cfg, err, sizeof err);
	if (!files) {
		log_error("msg=\"cannot read the calendar files\" error=\"%s\"", err);
		return -1;
	}
	/* The files read once, as the document that may be published: the
	 * calendar in force is the one built from it. */
	struct calendar *own = shared_settings_load(files, &d->cfg, err, sizeof err);
	if (!own) {
		log_error("msg=\"cannot load the calendar\" error=\"%s\"", err);
		json_decref(files);
		return -1;
	}
	calendar_swap(d->calendar, own);
	calendar_free(own);
	d->env.admins = d->cfg.admins;
	char *files_text = shared_settings_text_new(files);
	int64_t gen = 0;
	char *db_text = NULL, *by = NULL;
	enum store_rc rc = store_settings_get(d->store, &gen, &db_text, &by, NULL);
	int seeded = 0, ok = 0;
	if (rc == STORE_NOTFOUND && store_settings_seed(d->store, files_text, clock_now_ms(), &seeded) == STORE_OK) {
		if (seeded)
			log_info("msg=\"shared settings (calendar, admins) seeded from this host's files\" generation=1");
		rc = store_settings_get(d->store, &gen, &db_text, &by, NULL);
	}
	if (rc != STORE_OK) {
		log_error("msg=\"cannot read or seed the shared settings\" error=\"%s\"", store_errmsg(d->store));
	} else if (!strcmp(db_text, files_text)) {
		d->settings_doc = json_incref(files);
		d->settings_generation = gen;
		ok = 1;
	} else if (!store_is_shared(d->store)) {
		/* SQLite: the database is this process's alone; its files, which
		 * the operator edits, are the source. */
		int changed = 0;
		if (store_settings_publish(d->store, files_text, clock_now_ms(), &gen, &changed) != STORE_OK) {
			log_error("msg=\"cannot store the shared settings\" error=\"%s\"", store_errmsg(d->store));
		} else {
			json_t *old = shared_settings_parse(db_text);
			char *diff = shared_settings_diff_new(old, files);
			log_info("msg=\"shared settings published from this host's files\" generation=%lld differs=\"%s\"",
				 (long long)gen, diff ? diff : "");
			free(diff);
			json_decref(old);
			d->settings_doc = json_incref(files);
			d->settings_generation = gen;
			ok = 1;
		}
	} else {
		json_t *db = shared_settings_parse(db_text);
		char *diff = shared_settings_diff_new(db, files);
		if (db && !apply_doc(d, db, gen)) {
			log_warn("msg=\"this host's calendar files or admins differ from the cluster's shared copy; the "
				 "shared copy is used (publish this host's files with SIGHUP or `collabd calendar publish`)\" "
				 "generation=%lld published_by=%s differs=\"%s\"",
				 (long long)gen, by ? by : "", diff ? diff : "");
		} else {
			/* A copy this build cannot read: keep the files, remember
			 * the generation so the poll does not try again. */
			d->settings_doc = json_incref(files);
			d->settings_generation = gen;
		}
		free(diff);
		json_decref(db);
		ok = 1;
	}
	free(by);
	free(db_text);
	free(files_text);
	json_decref(files);
	return ok ? 0 : -1;
}

static void poll_settings(lws_sorted_usec_list_t *sul)
{
	struct daemon *d = lws_container_of(sul, struct daemon, settings_timer);
	int64_t gen = 0;
	/* Never inside another's transaction (timers run between them, but a
	 * check costs nothing); a failure is logged by the store and retried. */
	if (!store_in_transaction(d->store) && store_settings_generation(d->store, &gen) == STORE_OK &&
	    gen != d->settings_generation) {
		char *text = NULL, *by = NULL;
		if (store_settings_get(d->store, &gen, &text, &by, NULL) == STORE_OK) {
			json_t *doc = shared_settings_parse(text);
			char *diff = shared_settings_diff_new(d->settings_doc, doc);
			int64_t was = d->settings_generation;
			if (!doc)
				log_error("msg=\"the shared settings in the database are not JSON; this instance keeps its "
					  "calendar and admins\" generation=%lld", (long long)gen);
			if (!doc || apply_doc(d, doc, gen)) {
				d->settings_generation = gen; /* logged once, not every tick */
			} else {
				d->settings_applied++;
				int year, month, day, minute;
				calendar_local_date(clock_now_ms(), &year, &month, &day, &minute);
				log_warn("msg=\"shared settings applied\" generation=%lld previous=%lld published_by=%s "
					 "differs=\"%s\" has_this_year=%d has_next_year=%d",
					 (long long)gen, (long long)was, by ? by : "", diff ? diff : "",
					 calendar_has_year(d->calendar, year), calendar_has_year(d->calendar, year + 1));
			}
			free(diff);
			json_decref(doc);
		}
		free(by);
		free(text);
	}
	lws_sul_schedule(d->ctx, 0, sul, poll_settings, (lws_usec_t)d->cfg.settings_poll_ms * (LWS_USEC_PER_SEC / 1000));
}

void daemon_settings_start(struct daemon *d)
{
	lws_sul_schedule(d->ctx, 0, &d->settings_timer, poll_settings,
			 (lws_usec_t)d->cfg.settings_poll_ms * (LWS_USEC_PER_SEC / 1000));
}

void daemon_settings_stop(struct daemon *d)
{
	/* The timer went with the loop (daemon_loop cancels it). */
	json_decref(d->settings_doc);
	d->settings_doc = NULL;
}
