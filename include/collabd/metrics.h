/*
 * metrics.h - the counters behind /metrics that no other module keeps:
 * events by platform, the ack latency histogram, send errors by code.
 *
 * The modules keep their own counters (outbox_stats, sched_stats, the
 * connections' stats); this adds the per-platform and per-code breakdowns
 * Prometheus wants, and the text exposition that puts everything together.
 * All of it lives in struct daemon (no globals) and is touched only from
 * the event loop's thread.
 */
#ifndef COLLABD_METRICS_H
#define COLLABD_METRICS_H

#include "collabd/util.h"

enum metrics_platform { METRICS_FEISHU, METRICS_DINGTALK, METRICS_PLATFORMS };

/* Upper bounds of the ack latency buckets in microseconds (+Inf implied). */
#define METRICS_LATENCY_BUCKETS 12
extern const long long metrics_latency_bounds_us[METRICS_LATENCY_BUCKETS];

struct metrics_histogram {
	long long bucket[METRICS_LATENCY_BUCKETS]; /* not cumulative: exposition sums them */
	long long count;
	long long sum_us;
};

struct metrics_platform_counters {
	long long received;      /* events handed to the daemon by the connection */
	long long acked;         /* answered with an ack (applied, duplicate or unusable) */
	long long deduplicated;  /* redeliveries recognised by the inbox */
	long long rejected;      /* unusable: acked and dropped */
	long long unacked;       /* not committed: left for the platform to redeliver */
	struct metrics_histogram ack_latency;
};

/* Distinct error codes kept; a further code counts as "other". */
#define METRICS_MAX_CODES 32

struct metrics_code_count {
	char code[40];   /* e.g. "230002", "http_503", "network" */
	int final;       /* 1: the row failed for good; 0: it will be retried */
	long long n;
};

struct metrics {
	struct metrics_platform_counters platform[METRICS_PLATFORMS];
	struct metrics_code_count send_errors[METRICS_MAX_CODES];
	int nsend_errors;
};

/* "feishu" -> METRICS_FEISHU, anything else -> METRICS_DINGTALK. */
enum metrics_platform metrics_platform_of(const char *platform);
const char *metrics_platform_name(enum metrics_platform p);

void metrics_observe_latency(struct metrics_histogram *h, long long us);

/*
 * Counts one failed send attempt.  error is the outbox's error text (e.g.
 * "rejected: http=400 code=230002 msg=..."), borrowed; its code is taken
 * from "code=", else "http=", else the kind of failure ("network", "token",
 * "other").  final: the row will not be retried.
 */
void metrics_count_send_error(struct metrics *m, const char *error, int final);

/* Writes the code metrics_count_send_error() would file error under into
 * out (size outsz); for the unit tests and the log. */
void metrics_error_code(const char *error, char *out, size_t outsz);

/* ---- Prometheus text exposition helpers (append to out) ---- */

/* "# HELP name help\n# TYPE name type\n" */
void metrics_header(struct buf *out, const char *name, const char *type, const char *help);
/* "name{labels} value\n"; labels is "" or e.g. "platform=\"feishu\"" (already escaped). */
void metrics_sample(struct buf *out, const char *name, const char *labels, long long value);
/* A label value escaped for the exposition format (\\, \", \n) into out. */
void metrics_label_escape(const char *value, char *out, size_t outsz);
/* The histogram as name_bucket{labels,le=...}, name_sum and name_count in seconds. */
void metrics_histogram_write(struct buf *out, const char *name, const char *labels,
			     const struct metrics_histogram *h);

#endif
