/*
 * reload.c - SIGHUP: re-read the configuration file and apply what can
 * change under a running daemon.
 *
 * Applied at once: the calendar (holiday files, working hours, lunch break,
 * the company's extra days off), log_level, admins, board.token,
 * board.public_url and admin.token.  The calendar and admins are the
 * cluster's shared settings: they are published to the database (a new
 * generation when they changed) and every other instance sharing it applies
 * them within cluster.settings_poll_ms (settings_sync.c); the rest is this
 * host's own.  Everything else (database, platforms,
 * ports, rate limits, SLA policies) needs a restart, because connections,
 * listeners and timers were built from it.
 *
 * The new file is checked against the listeners that are actually open, not
 * only against itself: a file that moves a listener (listen or port) is
 * refused, since the socket would stay where it is while the checks assumed
 * the new address -- e.g. a board open on 0.0.0.0 losing its token because
 * the file now says 127.0.0.1.  The department directory is not cached at all:
 * every command reads it from the database, so an import or a chat edit is
 * live without a reload.  A file with any problem changes nothing.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/clock.h"
#include "collabd/config.h"
#include "collabd/daemon.h"
#include "collabd/log.h"
#include "collabd/shared_settings.h"
#include "collabd/store_settings.h"

/* Exchanges two owned pointers: the running config takes the fresh value and
 * the fresh config (freed afterwards) takes the old one. */
#define TAKE(field)                                      \
	do {                                             \
		__typeof__(d->cfg.field) tmp_ = d->cfg.field; \
		d->cfg.field = fresh.field;              \
		fresh.field = tmp_;                      \
	} while (0)

static int same_text(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* 0 when fresh keeps the running listeners where they are and guarded as
 * they must be; otherwise logs why and returns -1. */
static int check_listeners(const struct config *running, const struct config *fresh)
{
	static const char restart[] = "listeners move only with a restart; the running configuration is kept";
	int bad = 0;
	if (!same_text(running->board.listen, fresh->board.listen) || running->board.port != fresh->board.port) {
		log_error("msg=\"reload refused: board.listen/board.port changed; %s\" running=%s:%d file=%s:%d", restart,
			  running->board.listen, running->board.port, fresh->board.listen, fresh->board.port);
		bad = 1;
	}
	if (!same_text(running->admin_listen, fresh->admin_listen) || running->admin_port != fresh->admin_port) {
		log_error("msg=\"reload refused: admin.listen/admin.port changed; %s\" running=%s:%d file=%s:%d", restart,
			  running->admin_listen, running->admin_port, fresh->admin_listen, fresh->admin_port);
		bad = 1;
	}
	/* Belt and braces: the file's own validation already demands these for
	 * its addresses, which equal the running ones once the checks above pass. */
	if (running->board.port && !config_is_loopback(running->board.listen) &&
	    !(fresh->board.token && *fresh->board.token)) {
		log_error("msg=\"reload refused: the board listens beyond loopback and the file removes board.token\" "
			  "listen=%s", running->board.listen);
		bad = 1;
	}
	if (running->admin_port && !config_is_loopback(running->admin_listen) &&
	    !(fresh->admin_token && *fresh->admin_token)) {
		log_error("msg=\"reload refused: the admin interface listens beyond loopback and the file removes "
			  "admin.token\" listen=%s", running->admin_listen);
		bad = 1;
	}
	return bad ? -1 : 0;
}

int daemon_reload(struct daemon *d)
{
	struct config fresh;
	struct config_problems problems;
	char err[512];
	if (config_load(&fresh, d->config_path, &problems)) {
		for (size_t i = 0; i < problems.count; i++)
			log_error("msg=\"reload refused; the running configuration is kept\" file=%s problem=\"%s\"",
				  d->config_path, problems.items[i]);
		config_problems_free(&problems);
		config_free(&fresh);
		return -1;
	}
	config_problems_free(&problems);
	if (check_listeners(&d->cfg, &fresh)) {
		config_free(&fresh);
		return -1;
	}

	/* The calendar and admins are the cluster's: read from the files once,
	 * as one document, and checked whole by building the new calendar from
	 * it (so what is published is exactly what was checked); then published
	 * to the database (one transaction, the generation bumped when they
	 * changed) for every instance to apply, and applied here at once. */
	json_t *doc = shared_settings_from_config(&fresh, err, sizeof err);
	struct calendar *cal = doc ? shared_settings_load(doc, &fresh, err, sizeof err) : NULL;
	if (!cal) {
		log_error("msg=\"reload refused; cannot load the calendar\" error=\"%s\"", err);
		json_decref(doc);
		config_free(&fresh);
		return -1;
	}
	char *text = shared_settings_text_new(doc);
	int64_t generation = 0;
	int published = 0;
	if (store_settings_publish(d->store, text, clock_now_ms(), &generation, &published) != STORE_OK) {
		log_error("msg=\"reload refused: cannot publish the calendar and admins to the database; the running "
			  "configuration is kept\" error=\"%s\"", store_errmsg(d->store));
		free(text);
		json_decref(doc);
		calendar_free(cal);
		config_free(&fresh);
		return -1;
	}
	free(text);
	char *diff = shared_settings_diff_new(d->settings_doc, doc);
	TAKE(calendar);
	TAKE(admins);
	daemon_settings_applied(d, cal, doc, generation);
	calendar_free(cal);
	json_decref(doc);

	log_set_level((enum log_level)fresh.log_level);
	d->cfg.log_level = fresh.log_level;
	TAKE(board.token);
	TAKE(board.public_url);
	TAKE(admin_token);
	config_free(&fresh);

	d->reloads++;
	int year, month, day, minute;
	calendar_local_date(clock_now_ms(), &year, &month, &day, &minute);
	/* At warn, so that it shows whatever log level the file just chose:
	 * a change of configuration is worth seeing in any log. */
	log_warn("msg=\"configuration reloaded\" applied=\"calendar log_level admins board.token board.public_url admin.token\" "
		 "calendar_dir=%s has_this_year=%d has_next_year=%d reloads=%lld generation=%lld published=%d "
		 "differs=\"%s\"",
		 d->cfg.calendar.dir, calendar_has_year(d->calendar, year), calendar_has_year(d->calendar, year + 1),
		 d->reloads, (long long)generation, published, diff ? diff : "");
	free(diff);
	return 0;
}
