/*
 * sla.h - SLA policies: how long each kind of deadline is, on which clock,
 * when to remind, and whom to escalate to, step by step.
 *
 * The built-in defaults follow WORKFLOW.md; the config's "sla" object may
 * override any field of any policy by name.  A policy is data, not code: the
 * scheduler walks its steps.
 */
#ifndef COLLABD_SLA_H
#define COLLABD_SLA_H

#include <jansson.h>

#include "collabd/clock.h"

struct calendar;

enum sla_clock { SLA_BUSINESS, SLA_WALL };

/* Who a step notifies: a bit set over the deadline's people. */
enum sla_role {
	SLA_OWNER = 1 << 0,      /* whoever must act */
	SLA_HEAD = 1 << 1,       /* the department head */
	SLA_SUPERIOR = 1 << 2,   /* the head's superior */
	SLA_SUPERIOR2 = 1 << 3,  /* the superior's superior */
};

/* A span of time: whole working days, or milliseconds.  On the wall clock a
 * "working day" counts as 24 hours. */
struct sla_span {
	ms_t ms;
	int working_days;
};

#define SLA_MAX_STEPS 6

struct sla_step {
	struct sla_span after;   /* after the due time (first step) or the previous step */
	unsigned notify;         /* enum sla_role bits */
};

struct sla_policy {
	const char *name;        /* static */
	const char *title;       /* static, Chinese: what this deadline is */
	int has_duration;        /* 0: the caller gives the due time (e.g. 17:00 today) */
	struct sla_span duration;
	enum sla_clock clock;
	struct sla_span remind_before; /* zero: no reminder before the due time */
	struct sla_step steps[SLA_MAX_STEPS];
	int nsteps;
	struct sla_span repeat_every;  /* zero: no repeats after the last step */
	int max_repeats;
};

struct sla_policies;

/*
 * Builds the policy set from the defaults and the config's "sla" object
 * (overrides may be NULL).  Returns NULL when an override is invalid; each
 * problem is passed to problem(arg, text).
 */
struct sla_policies *sla_policies_new(json_t *overrides, void (*problem)(void *arg, const char *text),
				      void *arg);
void sla_policies_free(struct sla_policies *p);
/* The policy named name (borrowed), or NULL. */
const struct sla_policy *sla_policy_find(const struct sla_policies *p, const char *name);

/* from + span on the policy's clock.  Business time lands inside working hours. */
ms_t sla_add(const struct calendar *cal, enum sla_clock clock, ms_t from, struct sla_span span);
/* The latest time t <= due with span of (business or wall) time between t and due. */
ms_t sla_sub(const struct calendar *cal, enum sla_clock clock, ms_t due, struct sla_span span);
int sla_span_is_zero(struct sla_span s);
/* Parses "1wd", "2h", "30m", "0" ...; 0 on success. */
int sla_span_parse(const char *text, struct sla_span *out);

#endif
