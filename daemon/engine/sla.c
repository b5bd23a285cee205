/*
 * sla.c - the SLA policy table (defaults from WORKFLOW.md) and its overrides.
 */
#include "collabd/sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/calendar.h"
#include "collabd/util.h"

#define H(n) { .ms = (ms_t)(n) * 3600000 }
#define M(n) { .ms = (ms_t)(n) * 60000 }
#define WD(n) { .working_days = (n) }
#define ZERO { 0 }

/* The defaults.  Each row is one kind of deadline in the workflow. */
static const struct sla_policy defaults[] = {
	{ .name = "approval", .title = "需求审批", .has_duration = 1, .duration = WD(1),
	  .clock = SLA_BUSINESS, .remind_before = H(2),
	  .steps = { { ZERO, SLA_OWNER }, { H(4), SLA_SUPERIOR } }, .nsteps = 2,
	  .repeat_every = WD(1), .max_repeats = 5 },
	{ .name = "dept_confirm", .title = "部门确认", .has_duration = 1, .duration = WD(1),
	  .clock = SLA_BUSINESS, .remind_before = H(2),
	  .steps = { { ZERO, SLA_OWNER | SLA_HEAD }, { H(4), SLA_SUPERIOR } }, .nsteps = 2,
	  .repeat_every = WD(1), .max_repeats = 5 },
	{ .name = "objection_answer", .title = "异议答复", .has_duration = 1, .duration = WD(2),
	  .clock = SLA_BUSINESS, .remind_before = H(2),
	  .steps = { { ZERO, SLA_OWNER }, { H(4), SLA_SUPERIOR } }, .nsteps = 2,
	  .repeat_every = WD(1), .max_repeats = 5 },
	{ .name = "daily_progress", .title = "每日进度", .has_duration = 0,
	  .clock = SLA_BUSINESS, .remind_before = H(1),
	  .steps = { { ZERO, SLA_OWNER | SLA_HEAD } }, .nsteps = 1 },
	{ .name = "issue_response", .title = "问题响应", .has_duration = 1, .duration = H(2),
	  .clock = SLA_BUSINESS, .remind_before = M(30),
	  .steps = { { ZERO, SLA_OWNER | SLA_HEAD }, { H(1), SLA_SUPERIOR }, { H(2), SLA_SUPERIOR2 } },
	  .nsteps = 3, .repeat_every = H(2), .max_repeats = 5 },
	{ .name = "issue_response_urgent", .title = "紧急问题响应", .has_duration = 1, .duration = M(30),
	  .clock = SLA_WALL, .remind_before = M(10),
	  .steps = { { ZERO, SLA_OWNER | SLA_HEAD | SLA_SUPERIOR }, { M(30), SLA_SUPERIOR2 } }, .nsteps = 2,
	  .repeat_every = M(30), .max_repeats = 10 },
	/* Not a deadline people must meet: the alert of a non-urgent issue
	 * reported outside working hours waits for their start (quiet hours),
	 * and the workflow's hook posts it then. */
	{ .name = "issue_alert", .title = "问题预警", .has_duration = 0,
	  .clock = SLA_BUSINESS, .steps = { { ZERO, SLA_OWNER | SLA_HEAD | SLA_SUPERIOR } }, .nsteps = 1 },
	{ .name = "solution_due", .title = "解决方案完成", .has_duration = 0,
	  .clock = SLA_BUSINESS, .remind_before = H(4),
	  .steps = { { ZERO, SLA_OWNER }, { WD(1), SLA_SUPERIOR } }, .nsteps = 2,
	  .repeat_every = WD(1), .max_repeats = 5 },
	{ .name = "retrospective", .title = "复盘总结", .has_duration = 1, .duration = WD(3),
	  .clock = SLA_BUSINESS, .remind_before = H(4),
	  .steps = { { ZERO, SLA_OWNER | SLA_HEAD }, { WD(1), SLA_SUPERIOR } }, .nsteps = 2,
	  .repeat_every = WD(1), .max_repeats = 3 },
};

struct sla_policies {
	struct sla_policy items[ARRAY_LEN(defaults)];
};

static const struct {
	const char *name;
	unsigned bit;
} role_names[] = {
	{ "owner", SLA_OWNER }, { "head", SLA_HEAD }, { "superior", SLA_SUPERIOR }, { "superior2", SLA_SUPERIOR2 },
};

int sla_span_is_zero(struct sla_span s) { return s.ms == 0 && s.working_days == 0; }

int sla_span_parse(const char *text, struct sla_span *out)
{
	memset(out, 0, sizeof *out);
	if (!strcmp(text, "0"))
		return 0;
	return calendar_parse_duration(text, &out->ms, &out->working_days);
}

ms_t sla_add(const struct calendar *cal, enum sla_clock clock, ms_t from, struct sla_span span)
{
	if (clock == SLA_WALL)
		return from + span.ms + (ms_t)span.working_days * 86400000;
	/* One call, not both: adding zero business time to 18:00 would roll it
	 * over to the next morning. */
	if (span.working_days)
		return calendar_add_working_days(cal, from, span.working_days);
	return calendar_add_business(cal, from, span.ms);
}

ms_t sla_sub(const struct calendar *cal, enum sla_clock clock, ms_t due, struct sla_span span)
{
	if (clock == SLA_WALL)
		return due - span.ms - (ms_t)span.working_days * 86400000;
	return calendar_sub_business(cal, due, span.ms + (ms_t)span.working_days * calendar_day_length(cal));
}

static void report(void (*problem)(void *, const char *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(void (*problem)(void *, const char *), void *arg, const char *fmt, ...)
{
	char text[300];
	va_list ap;
	if (!problem)
		return;
	va_start(ap, fmt);
	utf8_vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	problem(arg, text);
}

static int span_field(json_t *obj, const char *key, struct sla_span *out, const char *policy,
		      void (*problem)(void *, const char *), void *arg)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_string(v) || sla_span_parse(json_string_value(v), out)) {
		report(problem, arg, "sla.%s.%s: expected a duration such as \"1wd\", \"2h\" or \"30m\"", policy, key);
		return -1;
	}
	return 0;
}

static int parse_steps(json_t *arr, struct sla_policy *p, void (*problem)(void *, const char *), void *arg)
{
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > SLA_MAX_STEPS) {
		report(problem, arg, "sla.%s.escalation: expected 1 to %d steps", p->name, SLA_MAX_STEPS);
		return -1;
	}
	int bad = 0;
	size_t i;
	json_t *step;
	json_array_foreach(arr, i, step) {
		struct sla_step s = { 0 };
		json_t *notify = json_object_get(step, "notify");
		const char *after = json_string_value(json_object_get(step, "after"));
		if (!after || sla_span_parse(after, &s.after)) {
			report(problem, arg, "sla.%s.escalation[%zu].after: expected a duration", p->name, i);
			bad = 1;
		}
		size_t j;
		json_t *role;
		json_array_foreach(notify, j, role) {
			unsigned bit = 0;
			for (size_t k = 0; k < ARRAY_LEN(role_names); k++)
				if (json_is_string(role) && !strcmp(json_string_value(role), role_names[k].name))
					bit = role_names[k].bit;
			if (!bit) {
				report(problem, arg, "sla.%s.escalation[%zu].notify: roles are owner, head, superior, superior2",
				       p->name, i);
				bad = 1;
			}
			s.notify |= bit;
		}
		if (!json_is_array(notify) || json_array_size(notify) == 0) {
			report(problem, arg, "sla.%s.escalation[%zu].notify: name at least one role", p->name, i);
			bad = 1;
		}
		p->steps[i] = s;
	}
	if (!bad)
		p->nsteps = (int)json_array_size(arr);
	return bad ? -1 : 0;
}

static int apply_override(struct sla_policy *p, json_t *o, void (*problem)(void *, const char *), void *arg)
{
	int bad = 0;
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		if (key[0] == '_')
			continue;
		if (!strcmp(key, "duration")) {
			bad |= span_field(o, key, &p->duration, p->name, problem, arg);
			p->has_duration = !sla_span_is_zero(p->duration);
		} else if (!strcmp(key, "remind_before")) {
			bad |= span_field(o, key, &p->remind_before, p->name, problem, arg);
		} else if (!strcmp(key, "repeat_every")) {
			bad |= span_field(o, key, &p->repeat_every, p->name, problem, arg);
		} else if (!strcmp(key, "clock")) {
			const char *c = json_string_value(v);
			if (c && !strcmp(c, "business"))
				p->clock = SLA_BUSINESS;
			else if (c && !strcmp(c, "wall"))
				p->clock = SLA_WALL;
			else {
				report(problem, arg, "sla.%s.clock: expected \"business\" or \"wall\"", p->name);
				bad = 1;
			}
		} else if (!strcmp(key, "max_repeats")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100) {
				report(problem, arg, "sla.%s.max_repeats: expected 0..100", p->name);
				bad = 1;
			} else {
				p->max_repeats = (int)json_integer_value(v);
			}
		} else if (!strcmp(key, "escalation")) {
			bad |= parse_steps(v, p, problem, arg);
		} else {
			report(problem, arg, "sla.%s.%s: unknown option", p->name, key);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

struct sla_policies *sla_policies_new(json_t *overrides, void (*problem)(void *arg, const char *text), void *arg)
{
	struct sla_policies *ps = xcalloc(1, sizeof *ps);
	memcpy(ps->items, defaults, sizeof defaults);
	int bad = 0;
	if (overrides && !json_is_object(overrides)) {
		report(problem, arg, "sla: expected an object of policies");
		bad = 1;
	}
	const char *name;
	json_t *o;
	json_object_foreach(overrides, name, o) {
		if (name[0] == '_')
			continue;
		struct sla_policy *p = NULL;
		for (size_t i = 0; i < ARRAY_LEN(defaults); i++)
			if (!strcmp(ps->items[i].name, name))
				p = &ps->items[i];
		if (!p) {
			report(problem, arg, "sla.%s: unknown policy (known: approval, dept_confirm, objection_answer, "
			       "daily_progress, issue_response, issue_response_urgent, issue_alert, solution_due, "
			       "retrospective)", name);
			bad = 1;
		} else if (!json_is_object(o)) {
			report(problem, arg, "sla.%s: expected an object", name);
			bad = 1;
		} else {
			bad |= apply_override(p, o, problem, arg);
		}
	}
	if (bad) {
		free(ps);
		return NULL;
	}
	return ps;
}

void sla_policies_free(struct sla_policies *p) { free(p); }

const struct sla_policy *sla_policy_find(const struct sla_policies *ps, const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(defaults); i++)
		if (!strcmp(ps->items[i].name, name))
			return &ps->items[i];
	return NULL;
}
