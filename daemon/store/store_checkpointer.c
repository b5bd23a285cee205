/*
 * store_checkpointer.c - WAL checkpoints on a thread of their own, so that
 * the event loop never copies the log into the database (issue 14 §3).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000
 * pages of WAL: on the loop, between a batch's commit and its acks, about
 * twice a second at 1,000 events/s -- a read of the new frames, a write of
 * every changed page into the database, and one more fsync.  Here the
 * writer's connection has wal_autocheckpoint=0; its WAL hook (called after
 * each commit with the log's size) only wakes this thread, which runs
 * PASSIVE checkpoints on its own connection.  A PASSIVE checkpoint takes no
 * writer lock and waits for nobody, so the writer is never held up by it;
 * the writer restarts the log from its beginning at its next transaction
 * once a checkpoint has copied all of it.
 *
 * Under a flood the writer may append faster than the thread copies, and a
 * PASSIVE checkpoint cannot reset a log that keeps growing.  Past
 * HARD_LIMIT_PAGES the hook checkpoints inline, as SQLite would have done:
 * that path costs the loop what it always did and is counted
 * (inline_checkpoints), so the paced case can be checked never to take it.
 */
#include "store_checkpointer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/log.h"
#include "collabd/util.h"

/* Wake the thread past this many pages of log (SQLite's own default). */
#define WAKE_PAGES 1000
/* ...and again each time the log grew this much more (a flood outran it). */
#define WAKE_STEP 250
/* Checkpoint on the writer's thread past this many (16 MiB of log). */
#define HARD_LIMIT_PAGES 4000

struct checkpointer {
	sqlite3 *writer; /* borrowed: the store's connection */
	sqlite3 *db;     /* owned: this thread's connection */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	int woken_at; /* the log's size when the hook last woke the thread (the hook's own) */
	int wanted, stopping;                           /* under mu */
	unsigned long long checkpoints, inline_checkpoints, failures; /* under mu */
};

/* The writer's WAL hook: runs on the loop after every commit, with the
 * log's size in pages.  Cheap unless the log is past the hard limit. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *schema, int pages)
{
	struct checkpointer *c = arg;
	if (pages >= HARD_LIMIT_PAGES) {
		/* The thread is behind a flood: do what SQLite would have. */
		int rc = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		if (rc == SQLITE_OK)
			c->inline_checkpoints++;
		pthread_mutex_unlock(&c->mu);
		return SQLITE_OK; /* a busy checkpoint is no failure of the commit */
	}
	/* The log keeps its size until the writer's next transaction restarts
	 * it after a checkpoint: wake once per WAKE_STEP pages, not per commit. */
	if (pages < c->woken_at || pages < WAKE_PAGES)
		c->woken_at = 0;
	if (pages >= WAKE_PAGES && pages >= c->woken_at + WAKE_STEP) {
		c->woken_at = pages;
		pthread_mutex_lock(&c->mu);
		if (!c->wanted) {
			c->wanted = 1;
			pthread_cond_signal(&c->wake);
		}
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void *run(void *arg)
{
	struct checkpointer *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->stopping)
			pthread_cond_wait(&c->wake, &c->mu);
		if (c->stopping)
			break;
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
		int log_pages = 0, copied = 0;
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied);
		pthread_mutex_lock(&c->mu);
		if (rc == SQLITE_OK) {
			c->checkpoints++;
		} else if (rc != SQLITE_BUSY) {
			/* Logged once in a while: the next commit wakes us again. */
			if (c->failures++ % 1000 == 0)
				log_warn("msg=\"wal checkpoint failed\" error=\"%s\" failures=%llu", sqlite3_errmsg(c->db),
					 c->failures);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct checkpointer *checkpointer_start(sqlite3 *writer, const char *path, char *err, size_t errsz)
{
	struct checkpointer *c = xcalloc(1, sizeof *c);
	c->writer = writer;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "checkpointer: cannot open %s: %s", path,
			 c->db ? sqlite3_errmsg(c->db) : "out of memory");
		goto fail;
	}
	/* It only copies pages: no lookaside slots, a small cache (RSS). */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
	/* FULL: the checkpoint syncs the log before copying it and the
	 * database after. */
	char *msg = NULL;
	if (sqlite3_exec(c->db, "PRAGMA synchronous=FULL; PRAGMA cache_size=-64; PRAGMA wal_autocheckpoint=0;", NULL,
			 NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "checkpointer: %s", msg ? msg : "cannot set pragmas");
		sqlite3_free(msg);
		goto fail;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->wake, NULL);
	/* The thread's stack: a checkpoint needs little (SQLite keeps its
	 * buffers on the heap), and every thread's stack is mapped memory. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int prc = pthread_create(&c->thread, &attr, run, c);
	pthread_attr_destroy(&attr);
	if (prc) {
		snprintf(err, errsz, "checkpointer: cannot start its thread: %s", strerror(prc));
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->mu);
		goto fail;
	}
	/* Last, once the thread runs: the hook replaces the autocheckpoint
	 * (sqlite3_wal_autocheckpoint is itself a WAL hook). */
	sqlite3_wal_autocheckpoint(writer, 0);
	sqlite3_wal_hook(writer, on_wal_commit, c);
	return c;
fail:
	sqlite3_close(c->db);
	free(c);
	return NULL;
}

void checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	sqlite3_wal_hook(c->writer, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
}

void checkpointer_stats(struct checkpointer *c, struct checkpointer_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	out->checkpoints = c->checkpoints;
	out->inline_checkpoints = c->inline_checkpoints;
	out->failures = c->failures;
	pthread_mutex_unlock(&c->mu);
}
