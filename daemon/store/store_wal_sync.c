/*
 * store_wal_sync.c - group commit whose sync is not on the event loop, and
 * whose syncs overlap (issue 14 §3: p99 ack latency at 1,000 events/s).
 *
 * What the profile showed: with synchronous=FULL the loop sat in the WAL's
 * fdatasync inside COMMIT, and an event that arrived during one waited for
 * that sync to end, then for its own batch's: two of the disk's slowest
 * syncs back to back.  On this (shared) disk a sync's p99 is 3-15 ms.
 *
 * Here the writer runs synchronous=NORMAL (a COMMIT writes the log and
 * returns) and the batch's acks wait for one of these threads to sync the
 * log: it takes the newest commit, calls the WAL file's xSync (through
 * SQLite's VFS, the same call FULL makes) and publishes "durable up to that
 * commit"; everything written before an fdatasync began is on disk when it
 * returns, whichever thread ran it.  One thread: the loop reads and applies
 * the next batch while the thread syncs the last one; when that next batch
 * commits before the sync is done, the loop syncs it itself (daemon.c), so
 * at most two batches' events wait -- each a third in flight cost a Feishu
 * flood ~0.6 MiB of held acks (two threads and three batches measured
 * 16.4-16.6 MiB peak, one and two 15.8-16.0) and two overlapping syncs of
 * the same log gained nothing.  The durability is FULL's: no ack leaves before a sync that
 * began after its commit has returned.  (NORMAL alone would sync only at
 * checkpoints.)  Commits other than the inbox's wait for their sync on the
 * caller's thread (wal_sync_now), exactly as FULL did.
 */
#include "store_wal_sync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collabd/log.h"
#include "collabd/util.h"

struct wal_sync {
	sqlite3 *writer; /* borrowed: the store's connection */
	pthread_t thread;
	int running;                /* the thread was started (join it) */
	pthread_mutex_t mu;
	pthread_cond_t wake;
	/* Under mu: */
	sqlite3_file *wal;          /* the writer's WAL file (valid while the connection is open) */
	uint64_t requested, started, durable;
	int stopping, delay_ms;
	unsigned long long syncs, inline_syncs, failures;
	void (*on_durable)(void *arg);
	void *on_durable_arg;
};

/* The WAL file of writer, or NULL (not in WAL mode, or not yet opened). */
static sqlite3_file *wal_file(sqlite3 *writer)
{
	sqlite3_file *f = NULL;
	if (sqlite3_file_control(writer, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK)
		return NULL;
	return f && f->pMethods ? f : NULL;
}

static void *run(void *arg)
{
	struct wal_sync *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		/* Nothing newer to sync: the thread's last sync or the loop's
		 * (wal_sync_now) already covers what was asked. */
		while (!s->stopping && (s->requested <= s->started || s->requested <= s->durable))
			pthread_cond_wait(&s->wake, &s->mu);
		if (s->stopping)
			break;
		uint64_t upto = s->requested;
		s->started = upto;
		sqlite3_file *wal = s->wal;
		int delay_ms = s->delay_ms;
		pthread_mutex_unlock(&s->mu);
		if (delay_ms) {
			struct timespec pause = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
			nanosleep(&pause, NULL);
		}
		int rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
		pthread_mutex_lock(&s->mu);
		if (rc == SQLITE_OK) {
			s->syncs++;
			if (upto > s->durable)
				s->durable = upto;
			void (*fn)(void *) = s->on_durable;
			void *fn_arg = s->on_durable_arg;
			pthread_mutex_unlock(&s->mu);
			if (fn)
				fn(fn_arg); /* wakes the loop: it sends the acks */
			pthread_mutex_lock(&s->mu);
		} else {
			/* Nothing past this commit is acked (the platform redelivers,
			 * the inbox dedupes); the next commit's sync covers it. */
			if (s->failures++ % 100 == 0)
				log_error("msg=\"cannot sync the wal; acks held back\" rc=%d failures=%llu", rc, s->failures);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct wal_sync *wal_sync_start(sqlite3 *writer, char *err, size_t errsz)
{
	struct wal_sync *s = xcalloc(1, sizeof *s);
	s->writer = writer;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024); /* it only calls fdatasync */
	int rc = pthread_create(&s->thread, &attr, run, s);
	pthread_attr_destroy(&attr);
	if (rc) {
		snprintf(err, errsz, "cannot start the wal sync thread: %s", strerror(rc));
		wal_sync_stop(s);
		return NULL;
	}
	s->running = 1;
	return s;
}

void wal_sync_stop(struct wal_sync *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->mu);
	if (s->running)
		pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void wal_sync_on_durable(struct wal_sync *s, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->on_durable = fn;
	s->on_durable_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

int wal_sync_request(struct wal_sync *s, uint64_t seq)
{
	sqlite3_file *wal = wal_file(s->writer); /* on the writer's thread, as SQLite wants */
	if (!wal)
		return -1;
	pthread_mutex_lock(&s->mu);
	s->wal = wal;
	if (seq > s->requested)
		s->requested = seq;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int wal_sync_now(struct wal_sync *s, uint64_t seq)
{
	sqlite3_file *wal = wal_file(s->writer);
	if (!wal)
		return -1;
	if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK)
		return -1;
	pthread_mutex_lock(&s->mu);
	s->inline_syncs++;
	if (seq > s->durable)
		s->durable = seq;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void wal_sync_set_delay(struct wal_sync *s, int ms)
{
	pthread_mutex_lock(&s->mu);
	s->delay_ms = ms;
	pthread_mutex_unlock(&s->mu);
}

uint64_t wal_sync_durable(struct wal_sync *s)
{
	pthread_mutex_lock(&s->mu);
	uint64_t d = s->durable;
	pthread_mutex_unlock(&s->mu);
	return d;
}

void wal_sync_counts(struct wal_sync *s, unsigned long long *on_thread, unsigned long long *on_loop)
{
	pthread_mutex_lock(&s->mu);
	*on_thread = s->syncs;
	*on_loop = s->inline_syncs;
	pthread_mutex_unlock(&s->mu);
}
