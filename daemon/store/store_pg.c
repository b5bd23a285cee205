/*
 * store_pg.c - the PostgreSQL engine (libpq): the shared store that several
 * collabd instances use at once.
 *
 * A statement is prepared on the server the first time it runs, with the
 * types of the values bound then (text, bigint, double; NULL left for the
 * server to infer), under a name of its own.  When the connection is lost
 * the next statement outside a transaction reconnects and prepares again;
 * inside a transaction every statement fails until the caller rolls back,
 * so half a transaction is never replayed in autocommit.
 *
 * In the daemon (store_set_limits) the event loop must never hang on the
 * server: every statement is sent and its answer awaited with a deadline
 * (the server's statement_timeout plus a margin; past it the connection is
 * dropped), and a lost connection is not made again inside a statement --
 * those fail at once, so nothing is acked -- but by store_maintain(), called
 * from a timer, which drives a non-blocking connect (PQconnectStartParams,
 * PQconnectPoll on a socket polled without waiting) with a deadline, and
 * backs off between attempts.  Tools without a loop (migrate-db, export)
 * keep the plain blocking calls.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/log.h"
#include "collabd/util.h"
#include "store_internal.h"

/* Type oids of pg_type (fixed in every PostgreSQL). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25, OID_OID = 26,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

/* Where the connection is (only with limits set: without, always UP). */
enum pg_state { PG_UP, PG_DOWN, PG_CONNECTING };

/* The backoff between failed reconnect attempts: doubling, capped. */
enum { RECONNECT_FIRST_MS = 100, RECONNECT_MAX_MS = 2000, ANSWER_MARGIN_MS = 500 };

struct pg_conn {
	PGconn *c;         /* NULL while down (limits set only) */
	char *uri;
	int bounded;       /* store_set_limits() ran: waits bounded, reconnects in the background */
	struct store_limits limits;
	enum pg_state state;
	PGconn *pending;   /* the connection being made in the background */
	PostgresPollingStatusType want; /* what pending waits for: reading or writing */
	int64_t attempt_deadline, next_attempt, down_since; /* monotonic ms */
	int backoff_ms;
	unsigned attempts; /* failed attempts since the connection was lost */
	unsigned gen;      /* bumped at each reconnect: statements prepare again */
	unsigned next_id;  /* names of prepared statements */
	int tx_open;       /* BEGIN ran and no COMMIT/ROLLBACK since */
	unsigned tx_gen;   /* the connection (gen) the open transaction began on */
	int64_t changes;   /* rows changed by the last statement */
	char err[512];
	char cause[512];   /* why the connection is down (the last attempt's error) */
};

struct pg_stmt {
	struct pg_conn *pc;
	char *sql;           /* with $N placeholders */
	char name[24];
	unsigned prepared_gen; /* 0: not prepared on this connection */
	int nparams;
	char **vals;         /* owned copies; NULL binds SQL NULL */
	Oid *types;
	PGresult *res;       /* the last run's result, read row by row */
	unsigned char *blob; /* the last BYTEA column read, decoded */
	int row;
	int ran;
};

static struct pg_conn *pc_of(struct store *st) { return st->conn; }
static void quiet_notice(void *arg, const char *message);

/* libpq's messages end in a newline; log lines should not. */
static void set_err(struct pg_conn *pc, const char *msg)
{
	snprintf(pc->err, sizeof pc->err, "%s", msg && *msg ? msg : "unknown error");
	size_t n = strlen(pc->err);
	while (n && (pc->err[n - 1] == '\n' || pc->err[n - 1] == ' '))
		pc->err[--n] = '\0';
	for (char *p = pc->err; *p; p++)
		if (*p == '\n' || *p == '"')
			*p = ' ';
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The connection is gone (or no longer trusted): closed, and a reconnect
 * due at once from store_maintain().  The server rolls back whatever
 * transaction it had open; tx_open stays set so that the caller's
 * statements fail until it rolls back too. */
static void lose_connection(struct pg_conn *pc, const char *why)
{
	log_warn("msg=\"lost the connection to PostgreSQL; statements fail until it is back, reconnecting in the "
		 "background\" error=\"%s\"", why);
	snprintf(pc->cause, sizeof pc->cause, "%s", why);
	PQfinish(pc->c);
	pc->c = NULL;
	pc->state = PG_DOWN;
	pc->next_attempt = pc->down_since = mono_ms();
	pc->backoff_ms = 0;
	pc->attempts = 0;
}

/* Connects again when the connection was lost; 0 when it is usable.  With
 * limits set this never waits: the reconnect is store_maintain()'s. */
static int ensure_connected(struct pg_conn *pc)
{
	if (pc->c && PQstatus(pc->c) == CONNECTION_OK)
		return 0;
	if (pc->bounded) {
		if (pc->c) {
			set_err(pc, PQerrorMessage(pc->c));
			lose_connection(pc, pc->err);
		}
		snprintf(pc->err, sizeof pc->err, "PostgreSQL unreachable, reconnecting in the background (%.400s)",
			 pc->cause);
		return -1;
	}
	PQreset(pc->c);
	if (PQstatus(pc->c) != CONNECTION_OK) {
		set_err(pc, PQerrorMessage(pc->c));
		return -1;
	}
	pc->gen++;
	log_info("msg=\"reconnected to PostgreSQL\"");
	return 0;
}

/* The answer to what was just sent: its last result, or its first error;
 * NULL (pc->err set) when the connection failed or, with limits set, no
 * answer came in time -- then the connection is dropped, since the server
 * may still be working on it. */
static PGresult *await_answer(struct pg_conn *pc)
{
	int64_t deadline = pc->bounded ? mono_ms() + pc->limits.statement_timeout_ms + ANSWER_MARGIN_MS : -1;
	PGresult *keep = NULL;
	for (;;) {
		while (!PQisBusy(pc->c)) {
			PGresult *r = PQgetResult(pc->c);
			if (!r)
				return keep;
			if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
				PQclear(r);
			} else {
				PQclear(keep);
				keep = r;
			}
		}
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - mono_ms();
			if (left <= 0) {
				PQclear(keep);
				snprintf(pc->err, sizeof pc->err, "no answer from PostgreSQL within %d ms",
					 pc->limits.statement_timeout_ms + ANSWER_MARGIN_MS);
				lose_connection(pc, pc->err);
				return NULL;
			}
			wait = (int)left;
		}
		struct pollfd p = { .fd = PQsocket(pc->c), .events = POLLIN };
		if (poll(&p, 1, wait) < 0 && errno != EINTR) {
			PQclear(keep);
			set_err(pc, strerror(errno));
			return NULL;
		}
		if (!PQconsumeInput(pc->c)) {
			PQclear(keep);
			set_err(pc, PQerrorMessage(pc->c));
			return NULL;
		}
	}
}

/* sql (one or more statements, no parameters) sent and answered. */
static PGresult *exec_bounded(struct pg_conn *pc, const char *sql)
{
	if (!PQsendQuery(pc->c, sql)) {
		set_err(pc, PQerrorMessage(pc->c));
		return NULL;
	}
	return await_answer(pc);
}

static int pg_exec(struct store *st, const char *sql, char *err, size_t errsz)
{
	struct pg_conn *pc = pc_of(st);
	if (ensure_connected(pc)) {
		snprintf(err, errsz, "%s", pc->err);
		return -1;
	}
	PGresult *r = exec_bounded(pc, sql);
	if (!r) {
		snprintf(err, errsz, "%s", pc->err);
		return -1;
	}
	ExecStatusType s = PQresultStatus(r);
	int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
	if (!ok) {
		set_err(pc, PQresultErrorMessage(r));
		snprintf(err, errsz, "%s", pc->err);
	} else {
		const char *tag = PQcmdStatus(r);
		if (!strcmp(tag, "BEGIN")) {
			pc->tx_open = 1;
			pc->tx_gen = pc->gen;
		}
		else if (!strcmp(tag, "COMMIT") || !strcmp(tag, "ROLLBACK"))
			pc->tx_open = 0;
	}
	PQclear(r);
	return ok ? 0 : -1;
}

char *pg_placeholders_new(const char *sql, int *max_param)
{
	size_t n = strlen(sql);
	char *out = xmalloc(n + 1), *o = out;
	char quote = 0;
	int max = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if ((*p == '?' || *p == '$') && p[1] >= '0' && p[1] <= '9') {
			int v = atoi(p + 1);
			if (v > max)
				max = v;
			*o++ = '$';
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	if (max_param)
		*max_param = max;
	return out;
}

static void *pg_prepare(struct store *st, const char *sql)
{
	struct pg_conn *pc = pc_of(st);
	struct pg_stmt *s = xcalloc(1, sizeof *s);
	s->pc = pc;
	s->sql = pg_placeholders_new(sql, &s->nparams);
	snprintf(s->name, sizeof s->name, "cd%u", ++pc->next_id);
	s->row = -1;
	s->vals = xcalloc((size_t)s->nparams + 1, sizeof *s->vals);
	s->types = xcalloc((size_t)s->nparams + 1, sizeof *s->types);
	return s;
}

static void clear_result(struct pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	s->ran = 0;
}

static void pg_reset(void *h)
{
	struct pg_stmt *s = h;
	clear_result(s);
	for (int i = 0; i < s->nparams; i++) {
		free(s->vals[i]);
		s->vals[i] = NULL;
	}
}

static void pg_finalize(void *h)
{
	struct pg_stmt *s = h;
	if (!s)
		return;
	pg_reset(s);
	PQfreemem(s->blob);
	free(s->vals);
	free(s->types);
	free(s->sql);
	free(s);
}

static void put(struct pg_stmt *s, int i, char *v, Oid type)
{
	if (i < 1 || i > s->nparams) {
		free(v);
		return;
	}
	free(s->vals[i - 1]);
	s->vals[i - 1] = v;
	/* The type the server learns at prepare; a later NULL keeps it. */
	if (v && s->prepared_gen != s->pc->gen + 1)
		s->types[i - 1] = type;
}

static void pg_bind_text(void *h, int i, const char *v, size_t len)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, v, len);
	copy[len] = '\0';
	put(h, i, copy, OID_TEXT);
}

static void pg_bind_int64(void *h, int i, int64_t v) { put(h, i, xasprintf("%lld", (long long)v), OID_INT8); }
static void pg_bind_double(void *h, int i, double v) { put(h, i, xasprintf("%.17g", v), OID_FLOAT8); }
static void pg_bind_null(void *h, int i) { put(h, i, NULL, 0); }

/* BYTEA's text form: \x and two hex digits a byte. */
static void pg_bind_blob(void *h, int i, const void *v, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *t = xmalloc(2 * len + 3), *o = t;
	*o++ = '\\';
	*o++ = 'x';
	for (size_t k = 0; k < len; k++) {
		unsigned char c = ((const unsigned char *)v)[k];
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	*o = '\0';
	put(h, i, t, OID_BYTEA);
}

static int is_constraint(const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	return state && !strncmp(state, "23", 2); /* class 23: integrity constraint violation */
}

/* A statement got no answer (pc->err says why).  A ROLLBACK on a connection
 * that is gone has done its job: the server rolled back when it went. */
static enum step_rc lost_answer(struct pg_conn *pc, int is_rollback)
{
	if (is_rollback && (!pc->c || PQstatus(pc->c) != CONNECTION_OK)) {
		pc->tx_open = 0;
		return STEP_DONE;
	}
	return STEP_ERR;
}

/* Runs s once; the step result of a statement without rows, or STEP_ROW
 * with s->res holding the rows. */
static enum step_rc run(struct pg_stmt *s)
{
	struct pg_conn *pc = s->pc;
	int is_rollback = !strcmp(s->sql, "ROLLBACK");
	/* The transaction's connection is gone (even if a new one is up since). */
	if (PQstatus(pc->c) != CONNECTION_OK || (pc->tx_open && pc->tx_gen != pc->gen)) {
		if (pc->tx_open) {
			/* The server rolled the transaction back when the connection went. */
			if (is_rollback) {
				pc->tx_open = 0;
				return STEP_DONE;
			}
			set_err(pc, "connection to PostgreSQL lost inside a transaction");
			return STEP_ERR;
		}
		if (ensure_connected(pc))
			return STEP_ERR;
	}
	if (s->prepared_gen != pc->gen + 1) {
		PGresult *p = NULL;
		if (!PQsendPrepare(pc->c, s->name, s->sql, s->nparams, s->types))
			set_err(pc, PQerrorMessage(pc->c));
		else
			p = await_answer(pc); /* NULL: pc->err says why */
		int ok = p && PQresultStatus(p) == PGRES_COMMAND_OK;
		if (p && !ok)
			set_err(pc, PQresultErrorMessage(p));
		PQclear(p);
		if (!ok)
			return lost_answer(pc, is_rollback);
		s->prepared_gen = pc->gen + 1;
	}
	if (!PQsendQueryPrepared(pc->c, s->name, s->nparams, (const char *const *)s->vals, NULL, NULL, 0)) {
		set_err(pc, PQerrorMessage(pc->c));
		return lost_answer(pc, is_rollback);
	}
	s->res = await_answer(pc);
	if (!s->res)
		return lost_answer(pc, is_rollback);
	s->ran = 1;
	ExecStatusType status = PQresultStatus(s->res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		set_err(pc, PQresultErrorMessage(s->res));
		enum step_rc rc = is_constraint(s->res) ? STEP_CONSTRAINT : STEP_ERR;
		if (is_rollback)
			pc->tx_open = 0;
		return rc;
	}
	const char *tag = PQcmdStatus(s->res);
	pc->changes = atoll(PQcmdTuples(s->res));
	if (!strcmp(tag, "BEGIN")) {
		pc->tx_open = 1;
		pc->tx_gen = pc->gen;
	} else if (!strcmp(tag, "COMMIT") || (!strcmp(tag, "ROLLBACK") && strncmp(s->sql, "ROLLBACK TO", 11))) {
		/* (ROLLBACK TO a savepoint answers ROLLBACK too, and keeps the
		 * transaction open.) */
		pc->tx_open = 0;
		/* COMMIT of a transaction that had failed answers ROLLBACK: that is
		 * a failure to commit, never a success. */
		if (!strcmp(s->sql, "COMMIT") && !strcmp(tag, "ROLLBACK")) {
			set_err(pc, "the transaction had failed and was rolled back");
			return STEP_ERR;
		}
	}
	return STEP_ROW;
}

static enum step_rc pg_step(struct store *st, void *h)
{
	(void)st;
	struct pg_stmt *s = h;
	if (!s->ran) {
		enum step_rc rc = run(s);
		if (rc != STEP_ROW)
			return rc;
	}
	if (!s->res)
		return STEP_DONE;
	s->row++;
	return s->row < PQntuples(s->res) ? STEP_ROW : STEP_DONE;
}

static int pg_col_count(void *h)
{
	struct pg_stmt *s = h;
	return s->res ? PQnfields(s->res) : 0;
}

static const char *pg_col_name(void *h, int i) { return PQfname(((struct pg_stmt *)h)->res, i); }

static int cell_ok(struct pg_stmt *s, int i)
{
	return s->res && s->row >= 0 && s->row < PQntuples(s->res) && i < PQnfields(s->res) &&
	       !PQgetisnull(s->res, s->row, i);
}

static enum col_type pg_col_type(void *h, int i)
{
	struct pg_stmt *s = h;
	if (!cell_ok(s, i))
		return COL_NULL;
	switch (PQftype(s->res, i)) {
	case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
		return COL_INT;
	case OID_FLOAT4: case OID_FLOAT8:
		return COL_REAL;
	case OID_BYTEA:
		return COL_BLOB;
	case OID_NUMERIC:
		/* SUM() of integers is numeric: whole values read as integers, as in SQLite. */
		return strchr(PQgetvalue(s->res, s->row, i), '.') ? COL_REAL : COL_INT;
	default:
		return COL_TEXT;
	}
}

static int64_t pg_col_int64(void *h, int i)
{
	struct pg_stmt *s = h;
	if (!cell_ok(s, i))
		return 0;
	const char *v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == OID_BOOL)
		return *v == 't';
	return strtoll(v, NULL, 10);
}

static double pg_col_double(void *h, int i)
{
	struct pg_stmt *s = h;
	return cell_ok(s, i) ? strtod(PQgetvalue(s->res, s->row, i), NULL) : 0;
}

static const char *pg_col_text(void *h, int i)
{
	struct pg_stmt *s = h;
	if (!cell_ok(s, i))
		return NULL;
	if (PQftype(s->res, i) == OID_BOOL) /* as SQLite would print it */
		return *PQgetvalue(s->res, s->row, i) == 't' ? "1" : "0";
	return PQgetvalue(s->res, s->row, i);
}

static size_t pg_col_bytes(void *h, int i)
{
	const char *t = pg_col_text(h, i);
	return t ? strlen(t) : 0;
}

static const void *pg_col_blob(void *h, int i, size_t *len)
{
	struct pg_stmt *s = h;
	*len = 0;
	if (!cell_ok(s, i))
		return NULL;
	free(s->blob);
	s->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, i), len);
	return s->blob;
}

static int64_t pg_changes(struct store *st) { return pc_of(st)->changes; }

static int64_t pg_last_insert_id(struct store *st)
{
	/* lastval(): the value the session's last nextval() gave, i.e. the
	 * identity of the row just inserted. */
	struct pg_conn *pc = pc_of(st);
	PGresult *r = pc->c ? exec_bounded(pc, "SELECT lastval()") : NULL;
	int64_t id = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	return id;
}

static const char *pg_errmsg(struct store *st) { return pc_of(st)->err[0] ? pc_of(st)->err : "no error"; }
static int pg_in_transaction(struct store *st) { return pc_of(st)->tx_open; }

static void pg_close(struct store *st)
{
	struct pg_conn *pc = pc_of(st);
	if (!pc)
		return;
	PQfinish(pc->c);
	PQfinish(pc->pending);
	free(pc->uri);
	free(pc);
	st->conn = NULL;
}

/* The session's settings as connection options, so a reconnect sets them
 * with the startup packet, without a round trip of its own. */
static void session_options(const struct pg_conn *pc, char *out, size_t outsz)
{
	snprintf(out, outsz, "-c TimeZone=UTC -c lock_timeout=%d -c statement_timeout=%d", pc->limits.lock_timeout_ms,
		 pc->limits.statement_timeout_ms);
}

static void pg_set_limits(struct store *st, const struct store_limits *lim)
{
	struct pg_conn *pc = pc_of(st);
	pc->limits = *lim;
	char sql[160], err[256];
	snprintf(sql, sizeof sql, "SET lock_timeout = %d; SET statement_timeout = %d", lim->lock_timeout_ms,
		 lim->statement_timeout_ms);
	if (pg_exec(st, sql, err, sizeof err))
		log_warn("msg=\"cannot set the PostgreSQL session's timeouts\" error=\"%s\"", err);
	pc->bounded = 1;
}

/* A reconnect attempt failed: wait, doubling, with some jitter so that
 * instances cut off together do not knock together. */
static void attempt_failed(struct pg_conn *pc, const char *why)
{
	set_err(pc, why); /* first: why may be pending's own message */
	snprintf(pc->cause, sizeof pc->cause, "%s", pc->err);
	PQfinish(pc->pending);
	pc->pending = NULL;
	pc->state = PG_DOWN;
	pc->attempts++;
	pc->backoff_ms = pc->backoff_ms ? pc->backoff_ms * 2 : RECONNECT_FIRST_MS;
	if (pc->backoff_ms > RECONNECT_MAX_MS)
		pc->backoff_ms = RECONNECT_MAX_MS;
	pc->next_attempt = mono_ms() + pc->backoff_ms + rand() % (pc->backoff_ms / 4 + 1);
	if (pc->attempts == 1 || pc->attempts % 30 == 0)
		log_warn("msg=\"cannot reconnect to PostgreSQL yet\" attempts=%u down_ms=%lld error=\"%s\"", pc->attempts,
			 (long long)(mono_ms() - pc->down_since), pc->err);
}

static void start_attempt(struct pg_conn *pc)
{
	char options[160];
	session_options(pc, options, sizeof options);
	/* Ours first: what the URI says wins (libpq: later values override). */
	const char *keys[] = { "application_name", "client_encoding", "options", "dbname", NULL };
	const char *vals[] = { "collabd", "UTF8", options, pc->uri, NULL };
	pc->pending = PQconnectStartParams(keys, vals, 1);
	if (!pc->pending || PQstatus(pc->pending) == CONNECTION_BAD) {
		attempt_failed(pc, pc->pending ? PQerrorMessage(pc->pending) : "out of memory");
		return;
	}
	pc->state = PG_CONNECTING;
	pc->want = PGRES_POLLING_WRITING;
	pc->attempt_deadline = mono_ms() + pc->limits.connect_timeout_ms;
}

static void attempt_succeeded(struct pg_conn *pc)
{
	pc->c = pc->pending;
	pc->pending = NULL;
	PQsetNoticeProcessor(pc->c, quiet_notice, NULL);
	pc->state = PG_UP;
	pc->gen++;
	pc->err[0] = '\0';
	log_info("msg=\"reconnected to PostgreSQL\" attempts=%u down_ms=%lld", pc->attempts + 1,
		 (long long)(mono_ms() - pc->down_since));
}

/* Steps the pending connect as far as its socket allows right now. */
static void advance_attempt(struct pg_conn *pc)
{
	for (int round = 0; round < 16 && pc->state == PG_CONNECTING; round++) {
		if (mono_ms() >= pc->attempt_deadline) {
			char why[64];
			snprintf(why, sizeof why, "no connection within %d ms", pc->limits.connect_timeout_ms);
			attempt_failed(pc, why);
			return;
		}
		/* PQconnectPoll must only be called once the socket is ready. */
		struct pollfd p = { .fd = PQsocket(pc->pending),
				    .events = pc->want == PGRES_POLLING_READING ? POLLIN : POLLOUT };
		if (poll(&p, 1, 0) <= 0)
			return;
		pc->want = PQconnectPoll(pc->pending);
		if (pc->want == PGRES_POLLING_FAILED)
			attempt_failed(pc, PQerrorMessage(pc->pending));
		else if (pc->want == PGRES_POLLING_OK)
			attempt_succeeded(pc);
	}
}

static long pg_maintain(struct store *st)
{
	struct pg_conn *pc = pc_of(st);
	if (!pc->bounded)
		return -1;
	if (pc->state == PG_UP) {
		/* A statement that saw the server go leaves the connection bad:
		 * reconnect without waiting for the next one to notice. */
		if (PQstatus(pc->c) != CONNECTION_OK)
			lose_connection(pc, PQerrorMessage(pc->c));
		else
			return -1; /* up: nothing to drive until the next loss */
	}
	if (pc->state == PG_DOWN) {
		int64_t now = mono_ms();
		if (now < pc->next_attempt)
			return (long)(pc->next_attempt - now);
		start_attempt(pc);
	}
	advance_attempt(pc);
	if (pc->state == PG_DOWN)
		return (long)(pc->next_attempt > mono_ms() ? pc->next_attempt - mono_ms() : 0);
	return pc->state == PG_CONNECTING ? 5 : -1;
}

static int pg_reachable(struct store *st)
{
	struct pg_conn *pc = pc_of(st);
	return pc->c && PQstatus(pc->c) == CONNECTION_OK;
}

const struct db_ops db_pg_ops = {
	.name = "postgresql",
	.dialect = DIALECT_PG,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.reset = pg_reset,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_null = pg_bind_null,
	.bind_blob = pg_bind_blob,
	.step = pg_step,
	.col_count = pg_col_count,
	.col_name = pg_col_name,
	.col_type = pg_col_type,
	.col_int64 = pg_col_int64,
	.col_double = pg_col_double,
	.col_text = pg_col_text,
	.col_bytes = pg_col_bytes,
	.col_blob = pg_col_blob,
	.changes = pg_changes,
	.last_insert_id = pg_last_insert_id,
	.errmsg = pg_errmsg,
	.in_transaction = pg_in_transaction,
	.close = pg_close,
	.set_limits = pg_set_limits,
	.maintain = pg_maintain,
	.reachable = pg_reachable,
};

int store_is_pg_uri(const char *database)
{
	return database && (!strncmp(database, "postgresql://", 13) || !strncmp(database, "postgres://", 11));
}

/* libpq prints NOTICEs on stderr by default (e.g. "relation already
 * exists, skipping"); they belong in the log at debug level if anywhere. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int db_pg_open(struct store *st, const char *uri, char *err, size_t errsz)
{
	struct pg_conn *pc = xcalloc(1, sizeof *pc);
	st->ops = &db_pg_ops;
	st->conn = pc;
	pc->uri = xstrdup(uri);
	/* A lost server must not hold the daemon's loop for long: connect
	 * attempts give up after a few seconds (the URI may say otherwise). */
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "3", "collabd", uri, NULL };
	pc->c = PQconnectdbParams(keys, vals, 1);
	if (!pc->c || PQstatus(pc->c) != CONNECTION_OK) {
		set_err(pc, pc->c ? PQerrorMessage(pc->c) : "out of memory");
		snprintf(err, errsz, "cannot connect to PostgreSQL: %s", pc->err);
		return -1;
	}
	PQsetNoticeProcessor(pc->c, quiet_notice, NULL);
	/* A row another instance holds is waited for briefly, then the statement
	 * fails and the event stays unacknowledged (redelivered), as SQLite's
	 * busy timeout does: the daemon's loop never hangs on a lock. */
	return pg_exec(st, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET lock_timeout = '1s'", err, errsz);
}

/* Is the word at p (of length n) whole, not part of a longer name? */
static int whole_word(const char *start, const char *p, size_t n)
{
	int before = p == start || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'));
	char c = p[n];
	int after = !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
	return before && after;
}

char *pg_ddl_new(const char *ddl)
{
	/* The rewrites, longest first so INTEGER PRIMARY KEY wins over INTEGER.
	 * TEXT compares byte by byte (COLLATE "C"), as in SQLite, so ranges and
	 * orderings of ids and days are the same on both. */
	static const struct { const char *from, *to; } rules[] = {
		{ "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" },
		{ " WITHOUT ROWID", "" },
		{ "INTEGER", "BIGINT" },
		{ "TEXT", "TEXT COLLATE \"C\"" },
		{ "BLOB", "BYTEA" },
	};
	size_t cap = strlen(ddl) * 2 + 64, n = 0;
	char *out = xmalloc(cap);
	char quote = 0;
	for (const char *p = ddl; *p;) {
		if (!quote) {
			int hit = 0;
			for (size_t r = 0; r < ARRAY_LEN(rules) && !hit; r++) {
				size_t len = strlen(rules[r].from);
				if (!strncmp(p, rules[r].from, len) && whole_word(ddl, p + (*p == ' '), len - (*p == ' '))) {
					size_t tl = strlen(rules[r].to);
					if (n + tl + 1 >= cap)
						out = xrealloc(out, cap = (cap + tl) * 2);
					memcpy(out + n, rules[r].to, tl);
					n += tl;
					p += len;
					hit = 1;
				}
			}
			if (hit)
				continue;
		}
		if (quote && *p == quote)
			quote = 0;
		else if (!quote && (*p == '\'' || *p == '"'))
			quote = *p;
		if (n + 2 >= cap)
			out = xrealloc(out, cap *= 2);
		out[n++] = *p++;
	}
	out[n] = '\0';
	return out;
}

char *store_database_redacted(const char *database, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s", database ? database : "");
	if (!store_is_pg_uri(out))
		return out;
	/* scheme://user:password@host... */
	char *userinfo = strstr(out, "://") + 3, *at = strchr(userinfo, '@'), *colon = strchr(userinfo, ':');
	if (at && colon && colon < at) {
		size_t tail = strlen(at);
		if ((size_t)(colon + 1 - out) + 3 + tail < outsz) {
			memmove(colon + 4, at, tail + 1);
			memcpy(colon + 1, "***", 3);
		}
	}
	return out;
}
