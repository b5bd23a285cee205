/*
 * metrics.c - per-platform event counters, the ack latency histogram, send
 * errors by code, and the Prometheus text format helpers.
 *
 * Everything is plain counters in memory: they restart at zero with the
 * process, which Prometheus' rate() expects of a counter.
 */
#include "collabd/metrics.h"

#include <stdio.h>
#include <string.h>

/* From half a millisecond (an idle daemon's commit) to 2.5 s (a disk in
 * trouble): the ack must reach the platform well within its 3 s. */
const long long metrics_latency_bounds_us[METRICS_LATENCY_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
};

enum metrics_platform metrics_platform_of(const char *platform)
{
	return platform && !strcmp(platform, "feishu") ? METRICS_FEISHU : METRICS_DINGTALK;
}

const char *metrics_platform_name(enum metrics_platform p)
{
	return p == METRICS_FEISHU ? "feishu" : "dingtalk";
}

void metrics_observe_latency(struct metrics_histogram *h, long long us)
{
	if (us < 0)
		us = 0;
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		if (us <= metrics_latency_bounds_us[i]) {
			h->bucket[i]++;
			break;
		}
	}
	h->count++;
	h->sum_us += us;
}

/* Copies the token after key (up to a blank) into out, keeping only
 * characters safe in a label; 0 when key is absent or the token empty. */
static int token_after(const char *text, const char *key, const char *prefix, char *out, size_t outsz)
{
	const char *p = strstr(text, key);
	if (!p)
		return 0;
	p += strlen(key);
	size_t o = (size_t)snprintf(out, outsz, "%s", prefix);
	while (*p && *p != ' ' && *p != ',' && o + 1 < outsz) {
		char c = *p++;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
		    c == '-')
			out[o++] = c;
	}
	out[o] = '\0';
	return o > strlen(prefix);
}

void metrics_error_code(const char *error, char *out, size_t outsz)
{
	if (!error)
		error = "";
	/* A platform code says most; an HTTP status next; else the kind. */
	if (token_after(error, "code=", "", out, outsz) && strcmp(out, "0"))
		return;
	if (token_after(error, "errcode=", "", out, outsz) && strcmp(out, "0"))
		return;
	if (token_after(error, "http=", "http_", out, outsz))
		return;
	const char *kind = !strncmp(error, "network", 7) ? "network"
			   : !strncmp(error, "no token", 8) ? "token"
			   : strstr(error, "not enabled") ? "platform_disabled"
			   : strstr(error, "cannot render") ? "render"
			   : "other";
	snprintf(out, outsz, "%s", kind);
}

void metrics_count_send_error(struct metrics *m, const char *error, int final)
{
	char code[sizeof m->send_errors[0].code];
	metrics_error_code(error, code, sizeof code);
	final = !!final;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < m->nsend_errors; i++) {
			struct metrics_code_count *c = &m->send_errors[i];
			if (c->final == final && !strcmp(c->code, code)) {
				c->n++;
				return;
			}
		}
		/* The last two slots are kept for "other" (retried and final), so
		 * a flood of distinct codes neither grows memory nor goes uncounted. */
		if (m->nsend_errors < METRICS_MAX_CODES - 2 || !strcmp(code, "other")) {
			struct metrics_code_count *c = &m->send_errors[m->nsend_errors++];
			utf8_snprintf(c->code, sizeof c->code, "%s", code);
			c->final = final;
			c->n = 1;
			return;
		}
		snprintf(code, sizeof code, "other");
	}
}

void metrics_header(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(struct buf *out, const char *name, const char *labels, long long value)
{
	if (labels && *labels)
		buf_printf(out, "%s{%s} %lld\n", name, labels, value);
	else
		buf_printf(out, "%s %lld\n", name, value);
}

void metrics_label_escape(const char *value, char *out, size_t outsz)
{
	size_t o = 0;
	for (const char *p = value ? value : ""; *p && o + 2 < outsz; p++) {
		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

void metrics_histogram_write(struct buf *out, const char *name, const char *labels,
			     const struct metrics_histogram *h)
{
	const char *sep = labels && *labels ? "," : "";
	long long cumulative = 0;
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		cumulative += h->bucket[i];
		long long b = metrics_latency_bounds_us[i];
		buf_printf(out, "%s_bucket{%s%sle=\"%lld.%06lld\"} %lld\n", name, labels ? labels : "", sep,
			   b / 1000000, b % 1000000, cumulative);
	}
	buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %lld\n", name, labels ? labels : "", sep, h->count);
	if (labels && *labels) {
		buf_printf(out, "%s_sum{%s} %lld.%06lld\n", name, labels, h->sum_us / 1000000, h->sum_us % 1000000);
		buf_printf(out, "%s_count{%s} %lld\n", name, labels, h->count);
	} else {
		buf_printf(out, "%s_sum %lld.%06lld\n", name, h->sum_us / 1000000, h->sum_us % 1000000);
		buf_printf(out, "%s_count %lld\n", name, h->count);
	}
}
