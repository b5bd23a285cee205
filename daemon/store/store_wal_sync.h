/*
 * store_wal_sync.h - the SQLite engine's WAL syncs on a thread of its own,
 * for the inbox's group commit (store_wal_sync.c).  Only store_sqlite.c uses it.
 */
#ifndef COLLABD_STORE_WAL_SYNC_H
#define COLLABD_STORE_WAL_SYNC_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct wal_sync;

/* Starts the sync thread for writer (a connection in WAL mode, which the
 * caller sets to synchronous=NORMAL).  The caller owns the result (free it
 * with wal_sync_stop, before closing writer); NULL with err filled. */
struct wal_sync *wal_sync_start(sqlite3 *writer, char *err, size_t errsz);
void wal_sync_stop(struct wal_sync *s);

/* fn(arg) runs on a sync thread each time the durable mark advances: it must
 * be safe to call from any thread (lws_cancel_service is). */
void wal_sync_on_durable(struct wal_sync *s, void (*fn)(void *arg), void *arg);

/* On the writer's thread, after commit number seq returned: a sync thread
 * syncs the log.  0, or -1 when the WAL file cannot be found. */
int wal_sync_request(struct wal_sync *s, uint64_t seq);
/* On the writer's thread: syncs the log now (commits up to seq durable
 * when it returns 0). */
int wal_sync_now(struct wal_sync *s, uint64_t seq);

/* Testing: the thread sleeps ms before each sync. */
void wal_sync_set_delay(struct wal_sync *s, int ms);

/* The newest commit known to be on disk. */
uint64_t wal_sync_durable(struct wal_sync *s);
/* Syncs done so far by the thread, and by wal_sync_now on the writer's thread. */
void wal_sync_counts(struct wal_sync *s, unsigned long long *on_thread, unsigned long long *on_loop);

#endif
