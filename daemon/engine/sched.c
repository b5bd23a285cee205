/*
 * sched.c - deadlines, their timer rows, and firing them into the outbox.
 *
 * Steps of a deadline: step 0 is the reminder before the due time (skipped
 * when the policy has none); step k >= 1 is escalation step k-1, each `after`
 * the previous one (the first after the due time); past the last step the last
 * step repeats every `repeat_every`, at most `max_repeats` times.  Only the
 * next step of a deadline is ever a pending row: firing a step inserts the
 * following one, so the table holds one pending row per open deadline.
 */
#include "collabd/sched.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/log.h"
#include "collabd/outbox.h"
#include "collabd/sla.h"
#include "collabd/util.h"

#define FIRE_BATCH 512
#define LATE_AFTER_MS 60000  /* a ping more than a minute behind its time is "late" */
#define MAX_ARM_MS 60000     /* look again at least every minute (clock jumps) */

struct sched {
	struct store *st;
	struct lws_context *ctx;
	const struct calendar *cal;
	const struct sla_policies *policies;
	struct outbox *ob;
	lws_sorted_usec_list_t timer;
	struct sched_stats stats;
	sched_hook_fn hook;
	void *hook_arg;
};

static void fire_cb(lws_sorted_usec_list_t *sul);

static void clock_jumped(void *arg) { sched_kick(arg); }

struct sched *sched_new(struct store *st, struct lws_context *ctx, const struct calendar *cal,
			const struct sla_policies *policies, struct outbox *ob)
{
	struct sched *s = xcalloc(1, sizeof *s);
	s->st = st;
	s->ctx = ctx;
	s->cal = cal;
	s->policies = policies;
	s->ob = ob;
	clock_on_jump(clock_jumped, s);
	return s;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	clock_off_jump(clock_jumped, s);
	lws_sul_cancel(&s->timer);
	free(s);
}

void sched_set_hook(struct sched *s, sched_hook_fn fn, void *arg)
{
	s->hook = fn;
	s->hook_arg = arg;
}

const struct sched_stats *sched_stats(const struct sched *s) { return &s->stats; }
const struct calendar *sched_calendar(const struct sched *s) { return s->cal; }

void sched_kick(struct sched *s)
{
	ms_t next = store_timer_next(s->st);
	if (next < 0) {
		lws_sul_cancel(&s->timer);
		return;
	}
	ms_t wait = next - clock_now_ms();
	if (wait < 0)
		wait = 0;
	if (wait > MAX_ARM_MS)
		wait = MAX_ARM_MS;
	lws_sul_schedule(s->ctx, 0, &s->timer, fire_cb, (lws_usec_t)wait * LWS_US_PER_MS + 1);
}

static void fire_cb(lws_sorted_usec_list_t *sul)
{
	sched_fire_due(lws_container_of(sul, struct sched, timer));
}

/* When step fires for a deadline due at due; -1 when there is no such step. */
static ms_t step_time(const struct sched *s, const struct sla_policy *p, ms_t due, int step)
{
	if (step == 0)
		return sla_span_is_zero(p->remind_before) ? -1 : sla_sub(s->cal, p->clock, due, p->remind_before);
	int last = p->nsteps + (sla_span_is_zero(p->repeat_every) ? 0 : p->max_repeats);
	if (step > last)
		return -1;
	ms_t t = due;
	for (int k = 1; k <= step; k++)
		t = sla_add(s->cal, p->clock, t, k <= p->nsteps ? p->steps[k - 1].after : p->repeat_every);
	return t;
}

/* The roles a step notifies. */
static unsigned step_roles(const struct sla_policy *p, int step)
{
	if (step == 0)
		return SLA_OWNER;
	int i = step <= p->nsteps ? step - 1 : p->nsteps - 1;
	return p->steps[i].notify;
}

/* Business pings wait for working hours; pings in one minute share it, so
 * they can go out together.  Urgent (wall-clock) pings keep their time. */
static ms_t fire_time(const struct sched *s, const struct sla_policy *p, ms_t t)
{
	if (p->clock == SLA_WALL)
		return t;
	t = calendar_next_work_start(s->cal, t);
	return (t + 59999) / 60000 * 60000;
}

/* Schedules `step` of a deadline.  A reminder whose time has passed is
 * skipped (the due-time ping follows); steps that are already past after a
 * long downtime are folded into the latest of them, so a restart sends one
 * catch-up ping per deadline, not the whole chain. */
static enum store_rc schedule_step(struct sched *s, const struct sla_policy *p, const char *key, const char *chat,
				   ms_t due, int step, ms_t now)
{
	if (step == 0) {
		ms_t t = step_time(s, p, due, 0);
		if (t >= now)
			return store_timer_add(s->st, key, chat, 0, fire_time(s, p, t));
		step = 1;
	}
	ms_t t = step_time(s, p, due, step);
	if (t < 0)
		return STORE_OK;
	for (ms_t next; (next = step_time(s, p, due, step + 1)) >= 0 && next <= now; step++)
		t = next;
	return store_timer_add(s->st, key, chat, step, fire_time(s, p, t));
}

enum store_rc sched_deadline_set(struct sched *s, const struct sched_deadline *d, ms_t *due_out)
{
	const struct sla_policy *p = sla_policy_find(s->policies, d->policy);
	if (!p) {
		log_error("msg=\"unknown SLA policy\" policy=%s key=%s", d->policy, d->key);
		return STORE_ERR;
	}
	ms_t due = p->has_duration ? sla_add(s->cal, p->clock, d->start, p->duration) : d->due;
	char *people = json_dumps(d->people, JSON_COMPACT);
	struct deadline_row row = {
		.key = (char *)d->key, .policy = (char *)d->policy, .platform = (char *)d->platform,
		.chat_id = (char *)d->chat_id, .subject = (char *)d->subject, .people = people,
		.started_at = d->start, .due_at = due,
	};
	enum store_rc rc = store_timers_cancel(s->st, d->key) < 0 ? STORE_ERR : STORE_OK;
	if (rc == STORE_OK)
		rc = store_deadline_put(s->st, &row);
	if (rc == STORE_OK)
		rc = schedule_step(s, p, d->key, d->chat_id, due, 0, clock_now_ms());
	free(people);
	if (due_out)
		*due_out = due;
	return rc;
}

enum store_rc sched_deadline_done(struct sched *s, const char *key, const char *state)
{
	if (store_timers_cancel(s->st, key) < 0)
		return STORE_ERR;
	return store_deadline_close(s->st, key, state, clock_now_ms());
}

enum store_rc sched_snooze(struct sched *s, const char *key, ms_t until)
{
	int n = store_timers_reschedule(s->st, key, until);
	return n < 0 ? STORE_ERR : n == 0 ? STORE_NOTFOUND : STORE_OK;
}

/* ---- firing ---- */

static const char *stage_name(int step)
{
	return step == 0 ? "reminder" : step == 1 ? "overdue" : "escalation";
}

/* One outgoing message being assembled for a chat. */
struct ping_group {
	char *platform;
	char *chat_id;
	json_t *items;
	json_t *mentions;
};

static void add_mentions(json_t *mentions, json_t *people, unsigned roles)
{
	static const struct { unsigned bit; const char *key; } map[] = {
		{ SLA_OWNER, "owner" }, { SLA_HEAD, "head" }, { SLA_SUPERIOR, "superior" }, { SLA_SUPERIOR2, "superior2" },
	};
	for (size_t r = 0; r < ARRAY_LEN(map); r++) {
		if (!(roles & map[r].bit))
			continue;
		size_t i;
		json_t *person;
		json_array_foreach(json_object_get(people, map[r].key), i, person) {
			const char *id = json_string_value(json_object_get(person, "id"));
			if (!id)
				continue;
			int seen = 0;
			size_t j;
			json_t *m;
			json_array_foreach(mentions, j, m)
				if (!strcmp(json_string_value(json_object_get(m, "id")), id))
					seen = 1;
			if (!seen)
				json_array_append(mentions, person);
		}
	}
}

static json_t *role_list(unsigned roles)
{
	json_t *a = json_array();
	if (roles & SLA_OWNER) json_array_append_new(a, json_string("owner"));
	if (roles & SLA_HEAD) json_array_append_new(a, json_string("head"));
	if (roles & SLA_SUPERIOR) json_array_append_new(a, json_string("superior"));
	if (roles & SLA_SUPERIOR2) json_array_append_new(a, json_string("superior2"));
	return a;
}

static struct ping_group *group_for(struct ping_group **groups, size_t *n, const char *platform, const char *chat)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*groups)[i].chat_id, chat) && !strcmp((*groups)[i].platform, platform))
			return &(*groups)[i];
	*groups = xrealloc(*groups, (*n + 1) * sizeof **groups);
	struct ping_group *g = &(*groups)[(*n)++];
	g->platform = xstrdup(platform);
	g->chat_id = xstrdup(chat);
	g->items = json_array();
	g->mentions = json_array();
	return g;
}

/* Handles one due timer inside the firing transaction. */
static enum store_rc fire_one(struct sched *s, const struct timer_row *t, ms_t now,
			      struct ping_group **groups, size_t *ngroups)
{
	int late = t->late || now - t->fire_at > LATE_AFTER_MS;
	struct deadline_row d;
	enum store_rc rc = store_deadline_get(s->st, t->deadline_key, &d);
	if (rc == STORE_ERR)
		return rc;
	const struct sla_policy *p = rc == STORE_OK ? sla_policy_find(s->policies, d.policy) : NULL;
	/* A business-clock catch-up (the daemon was down, or the clock jumped)
	 * that comes due outside working hours waits for their start, marked
	 * late; urgent (wall-clock) ones go at once. */
	if (p && !strcmp(d.state, "open") && p->clock == SLA_BUSINESS && !calendar_in_working_hours(s->cal, now)) {
		rc = store_timer_hold(s->st, t->id, fire_time(s, p, now));
		deadline_row_free(&d);
		return rc;
	}
	if (rc == STORE_NOTFOUND)
		return store_timer_fired(s->st, t->id, now, late); /* the deadline is gone: nothing to say */
	if (!p || strcmp(d.state, "open")) {
		deadline_row_free(&d);
		return store_timer_fired(s->st, t->id, now, late);
	}
	/* After a long pause (downtime, a clock jump) later steps may be due
	 * too: announce only the latest, once -- and, being late, to everyone
	 * the skipped steps would have told as well: always the people who must
	 * act, not only the last escalation target. */
	int first = t->step, step = t->step;
	for (ms_t next; (next = step_time(s, p, d.due_at, step + 1)) >= 0 && next <= now;)
		step++;
	if ((rc = store_timer_fired(s->st, t->id, now, late)) != STORE_OK) {
		deadline_row_free(&d);
		return rc;
	}
	unsigned roles = step_roles(p, step);
	if (late)
		for (int k = first > 0 ? first : 1; k <= step; k++)
			roles |= step_roles(p, k) | SLA_OWNER;
	int said = s->hook ? s->hook(s->hook_arg, &d, step, late, now) : SCHED_HOOK_PING;
	if (said == SCHED_HOOK_ERROR) {
		deadline_row_free(&d);
		return STORE_ERR;
	}
	if (said == SCHED_HOOK_PING) {
		json_t *people = json_loads(d.people, 0, NULL);
		struct ping_group *g = group_for(groups, ngroups, d.platform, d.chat_id);
		add_mentions(g->mentions, people, roles);
		json_array_append_new(g->items,
				      json_pack("{s:s,s:s,s:s,s:s,s:I,s:b,s:o}", "key", d.key, "policy", d.policy,
						"subject", d.subject, "stage", stage_name(step), "due_at",
						(json_int_t)d.due_at, "late", late, "roles", role_list(roles)));
		json_decref(people);
	}

	json_t *detail = json_pack("{s:i,s:s,s:b}", "step", step, "stage", stage_name(step), "late", late);
	/* Whom the ping reached, so the report counts every escalation that
	 * reached a superior (an urgent issue's overdue ping does at once). */
	if (said == SCHED_HOOK_PING)
		json_object_set_new(detail, "roles", role_list(roles));
	char *text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	char kind[48];
	snprintf(kind, sizeof kind, "sla.%s", stage_name(step));
	rc = store_timeline_add(s->st, now, "collabd", kind, d.key, text);
	free(text);
	if (rc == STORE_OK && said != SCHED_HOOK_DONE)
		rc = schedule_step(s, p, d.key, d.chat_id, d.due_at, step + 1, now);
	s->stats.fired++;
	s->stats.late += late;
	deadline_row_free(&d);
	return rc;
}

void sched_fire_due(struct sched *s)
{
	struct timer_row rows[FIRE_BATCH];
	ms_t now = clock_now_ms();
	if (store_begin(s->st) != STORE_OK) {
		log_error("msg=\"scheduler cannot begin a transaction; retrying shortly\" error=\"%s\"",
			  store_errmsg(s->st));
		lws_sul_schedule(s->ctx, 0, &s->timer, fire_cb, LWS_USEC_PER_SEC);
		return;
	}
	size_t n;
	if (store_timers_due(s->st, now, rows, ARRAY_LEN(rows), &n) != STORE_OK) {
		store_rollback(s->st);
		log_error("msg=\"scheduler cannot read due timers; retrying shortly\" error=\"%s\"", store_errmsg(s->st));
		lws_sul_schedule(s->ctx, 0, &s->timer, fire_cb, LWS_USEC_PER_SEC);
		return;
	}
	int more = n == ARRAY_LEN(rows);
	/* A full batch may have cut the last chat's pings in two: leave that
	 * chat whole for the next batch (unless it fills the batch alone). */
	size_t use = n;
	if (more)
		while (use > 0 && !strcmp(rows[use - 1].chat_id, rows[n - 1].chat_id))
			use--;
	if (use == 0)
		use = n;
	struct ping_group *groups = NULL;
	size_t ngroups = 0;
	enum store_rc rc = STORE_OK;
	for (size_t i = 0; i < use && rc == STORE_OK; i++)
		rc = fire_one(s, &rows[i], now, &groups, &ngroups);
	for (size_t i = 0; i < ngroups; i++) {
		if (rc == STORE_OK && json_array_size(groups[i].items)) {
			json_t *body = json_pack("{s:O,s:O}", "items", groups[i].items, "mentions", groups[i].mentions);
			char *text = json_dumps(body, JSON_COMPACT);
			rc = store_outbox_add(s->st, groups[i].platform, groups[i].chat_id, NULL, NULL, "sla_pings", text,
					      now, NULL);
			free(text);
			json_decref(body);
			s->stats.notices++;
		}
		free(groups[i].platform);
		free(groups[i].chat_id);
		json_decref(groups[i].items);
		json_decref(groups[i].mentions);
	}
	free(groups);
	for (size_t i = 0; i < n; i++)
		timer_row_free(&rows[i]);
	if (rc != STORE_OK || store_commit(s->st) != STORE_OK) {
		log_error("msg=\"firing timers failed; will retry\" error=\"%s\"", store_errmsg(s->st));
		store_rollback(s->st);
		lws_sul_schedule(s->ctx, 0, &s->timer, fire_cb, LWS_USEC_PER_SEC);
		return;
	}
	if (n) {
		s->stats.batches++;
		log_info("msg=\"timers fired\" count=%zu messages=%zu", use, ngroups);
		outbox_kick(s->ob);
	}
	if (more)
		lws_sul_schedule(s->ctx, 0, &s->timer, fire_cb, 1); /* more are due: next batch */
	else
		sched_kick(s);
}
