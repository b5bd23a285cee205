/*
 * reload.c - SIGHUP: re-read the configuration file and apply what can
 * change under a running daemon.
 *
 * Applied at once: the calendar (holiday files, working hours, lunch break,
 * the company's extra days off), log_level, admins, board.token and
 * board.public_url.  Everything else (database, platforms, ports, rate
 * limits, SLA policies) needs a restart, because connections, listeners and
 * timers were built from it.  The department directory is not cached at all:
 * every command reads it from the database, so an import or a chat edit is
 * live without a reload.  A file with any problem changes nothing.
 */
#include <jansson.h>
#include <stdlib.h>

#include "collabd/calendar.h"
#include "collabd/clock.h"
#include "collabd/config.h"
#include "collabd/daemon.h"
#include "collabd/log.h"
#include "collabd/sched.h"

/* Exchanges two owned pointers: the running config takes the fresh value and
 * the fresh config (freed afterwards) takes the old one. */
#define TAKE(field)                                      \
	do {                                             \
		__typeof__(d->cfg.field) tmp_ = d->cfg.field; \
		d->cfg.field = fresh.field;              \
		fresh.field = tmp_;                      \
	} while (0)

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

	/* The new calendar is built whole before it replaces the old one. */
	struct calendar_hours hours;
	struct calendar *cal = config_calendar_hours(&fresh, &hours) ? NULL : calendar_new(&hours);
	if (!cal || config_calendar_load(&fresh, cal, err, sizeof err)) {
		log_error("msg=\"reload refused; cannot load the calendar\" error=\"%s\"", cal ? err : "bad working hours");
		calendar_free(cal);
		config_free(&fresh);
		return -1;
	}
	calendar_swap(d->calendar, cal);
	calendar_free(cal);
	TAKE(calendar);

	log_set_level((enum log_level)fresh.log_level);
	d->cfg.log_level = fresh.log_level;
	TAKE(admins);
	d->env.admins = d->cfg.admins;
	TAKE(board.token);
	TAKE(board.public_url);
	config_free(&fresh);

	d->reloads++;
	/* Deadlines already set keep their due times; pings not yet sent are
	 * held to working hours by the new calendar when they fire. */
	sched_kick(d->sched);
	int year, month, day, minute;
	calendar_local_date(clock_now_ms(), &year, &month, &day, &minute);
	/* At warn, so that it shows whatever log level the file just chose:
	 * a change of configuration is worth seeing in any log. */
	log_warn("msg=\"configuration reloaded\" applied=\"calendar log_level admins board.token board.public_url\" "
		 "calendar_dir=%s has_this_year=%d has_next_year=%d reloads=%lld",
		 d->cfg.calendar.dir, calendar_has_year(d->calendar, year), calendar_has_year(d->calendar, year + 1),
		 d->reloads);
	return 0;
}
