/*
 * store_checkpointer.h - the SQLite engine's WAL checkpoints, on a thread of
 * their own (store_checkpointer.c).  Only store_sqlite.c starts and stops it.
 */
#ifndef COLLABD_STORE_CHECKPOINTER_H
#define COLLABD_STORE_CHECKPOINTER_H

#include <sqlite3.h>
#include <stddef.h>

struct checkpointer;

struct checkpointer_stats {
	unsigned long long checkpoints;        /* PASSIVE checkpoints the thread completed */
	unsigned long long inline_checkpoints; /* on the writer's thread: the log past its hard limit */
	unsigned long long failures;           /* checkpoints that failed (not merely busy) */
};

/* Opens a second connection on path (a file database in WAL mode), starts
 * the thread and takes over writer's checkpoints (wal_autocheckpoint=0 and
 * a WAL hook that wakes the thread).  The caller owns the result (free it
 * with checkpointer_stop); NULL with err filled on failure, writer then
 * keeps SQLite's own automatic checkpoint. */
struct checkpointer *checkpointer_start(sqlite3 *writer, const char *path, char *err, size_t errsz);

/* Stops and joins the thread, closes its connection and frees c (NULL is
 * fine).  Call it before closing writer. */
void checkpointer_stop(struct checkpointer *c);

/* Counters so far (all zero for NULL). */
void checkpointer_stats(struct checkpointer *c, struct checkpointer_stats *out);

#endif
