/*
 * powerloss_vfs.c - TEST ONLY: makes SIGKILL of a process behave like a
 * power cut for its SQLite files.  Never linked into collabd; loaded with
 * LD_PRELOAD by tests/chaos/test_powerloss.py.
 *
 * Its constructor registers, as the default VFS, a wrapper of the built-in
 * one that keeps every write to the database, its WAL and its journal in
 * memory until xSync, and only then writes them (in order) to the real file.
 * Reads see the pending writes, so the process works as usual; but when it
 * is killed, whatever it had not synced never reaches the file: exactly what
 * a disk's write cache loses when the power goes.  (The shared-memory
 * wal-index is left to the real VFS: after a kill the next open rebuilds it
 * from the WAL file, as it would after a reboot.)
 *
 * Pending writes belong to the file, not to one open handle: every
 * connection of the process (the daemon's writer, its checkpoint thread)
 * reads them, and a sync through any handle writes them all -- as the
 * kernel's page cache and fdatasync() behave.  The daemon checkpoints and
 * syncs its WAL from threads of its own, so all of this is under a mutex.
 *
 * This is the model SQLite's own crash tests use: data written but not
 * synced may be lost; data synced may not.  With synchronous=FULL every
 * COMMIT syncs the WAL, so whatever the daemon acked after its commit is on
 * the file; with synchronous=NORMAL it is not, and the test sees the loss.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One write (data != NULL) or truncate (data == NULL, at = new size) not yet synced. */
struct pending {
	sqlite3_int64 at;
	int len;
	unsigned char *data;
	struct pending *next;
};

/* One file (by name) and the writes to it not yet synced, shared by all
 * its open handles. */
struct pl_inode {
	char *name;
	int refs;
	struct pending *head, *tail;
	struct pl_inode *next;
};

struct pl_file {
	sqlite3_file base;          /* must come first */
	struct pl_inode *inode;     /* NULL: temp files and the like go straight through */
	sqlite3_file *real;         /* the wrapped VFS's file, allocated right after this struct */
};

/* Guards every inode and its pending writes. */
static pthread_mutex_t pl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pl_inode *inodes;

/* The inode of name (a new reference); under pl_mu. */
static struct pl_inode *inode_ref(const char *name)
{
	for (struct pl_inode *n = inodes; n; n = n->next)
		if (!strcmp(n->name, name)) {
			n->refs++;
			return n;
		}
	struct pl_inode *n = calloc(1, sizeof *n);
	if (!n || !(n->name = strdup(name)))
		abort();
	n->refs = 1;
	n->next = inodes;
	inodes = n;
	return n;
}

static sqlite3_vfs *real_vfs;
static sqlite3_vfs pl_vfs;

static void drop_pending(struct pl_inode *f)
{
	while (f->head) {
		struct pending *p = f->head;
		f->head = p->next;
		free(p->data);
		free(p);
	}
	f->tail = NULL;
}

static void add_pending(struct pl_inode *f, sqlite3_int64 at, const void *data, int len)
{
	struct pending *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->at = at;
	p->len = len;
	if (data) {
		p->data = malloc((size_t)len);
		if (!p->data)
			abort();
		memcpy(p->data, data, (size_t)len);
	}
	if (f->tail)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
}

/* The size the file has for this process: the real one, then each pending step. */
static int logical_size(struct pl_file *f, sqlite3_int64 *size)
{
	int rc = f->real->pMethods->xFileSize(f->real, size);
	if (rc != SQLITE_OK)
		return rc;
	for (struct pending *p = f->inode->head; p; p = p->next) {
		if (!p->data)
			*size = p->at;
		else if (p->at + p->len > *size)
			*size = p->at + p->len;
	}
	return SQLITE_OK;
}

static int pl_close(sqlite3_file *file)
{
	struct pl_file *f = (struct pl_file *)file;
	if (f->inode) {
		pthread_mutex_lock(&pl_mu);
		if (--f->inode->refs == 0) {
			/* The last handle: what was never synced is lost, as on a power cut. */
			drop_pending(f->inode);
			for (struct pl_inode **pp = &inodes; *pp; pp = &(*pp)->next)
				if (*pp == f->inode) {
					*pp = f->inode->next;
					break;
				}
			free(f->inode->name);
			free(f->inode);
		}
		f->inode = NULL;
		pthread_mutex_unlock(&pl_mu);
	}
	int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
	return rc;
}

static int read_locked(struct pl_file *f, void *buf, int amt, sqlite3_int64 off);

static int pl_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	struct pl_file *f = (struct pl_file *)file;
	if (!f->inode)
		return f->real->pMethods->xRead(f->real, buf, amt, off);
	pthread_mutex_lock(&pl_mu);
	int rc = read_locked(f, buf, amt, off);
	pthread_mutex_unlock(&pl_mu);
	return rc;
}

static int read_locked(struct pl_file *f, void *buf, int amt, sqlite3_int64 off)
{
	int rc = f->real->pMethods->xRead(f->real, buf, amt, off);
	if (!f->inode->head)
		return rc;
	if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
		return rc;
	unsigned char *out = buf;
	for (struct pending *p = f->inode->head; p; p = p->next) {
		if (!p->data) {
			/* Truncated: what lay beyond is gone (reads as zeros). */
			if (p->at < off + amt) {
				sqlite3_int64 from = p->at > off ? p->at : off;
				memset(out + (from - off), 0, (size_t)(off + amt - from));
			}
			continue;
		}
		sqlite3_int64 lo = p->at > off ? p->at : off;
		sqlite3_int64 hi = p->at + p->len < off + amt ? p->at + p->len : off + amt;
		if (lo < hi)
			memcpy(out + (lo - off), p->data + (lo - p->at), (size_t)(hi - lo));
	}
	sqlite3_int64 size;
	if ((rc = logical_size(f, &size)) != SQLITE_OK)
		return rc;
	return off + amt <= size ? SQLITE_OK : SQLITE_IOERR_SHORT_READ;
}

static int pl_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	struct pl_file *f = (struct pl_file *)file;
	if (!f->inode)
		return f->real->pMethods->xWrite(f->real, buf, amt, off);
	pthread_mutex_lock(&pl_mu);
	add_pending(f->inode, off, buf, amt);
	pthread_mutex_unlock(&pl_mu);
	return SQLITE_OK;
}

static int pl_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct pl_file *f = (struct pl_file *)file;
	if (!f->inode)
		return f->real->pMethods->xTruncate(f->real, size);
	pthread_mutex_lock(&pl_mu);
	add_pending(f->inode, size, NULL, 0);
	pthread_mutex_unlock(&pl_mu);
	return SQLITE_OK;
}

/* The sync: only now do the writes reach the file, in the order they were made. */
static int pl_sync(sqlite3_file *file, int flags)
{
	struct pl_file *f = (struct pl_file *)file;
	if (!f->inode)
		return f->real->pMethods->xSync(f->real, flags);
	/* Held across the real sync too: a write that lands after the pending
	 * list was written out must not count as synced by this call. */
	pthread_mutex_lock(&pl_mu);
	int rc = SQLITE_OK;
	for (struct pending *p = f->inode->head; p && rc == SQLITE_OK; p = p->next)
		rc = p->data ? f->real->pMethods->xWrite(f->real, p->data, p->len, p->at)
			     : f->real->pMethods->xTruncate(f->real, p->at);
	if (rc == SQLITE_OK) {
		drop_pending(f->inode);
		rc = f->real->pMethods->xSync(f->real, flags);
	}
	pthread_mutex_unlock(&pl_mu);
	return rc;
}

static int pl_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct pl_file *f = (struct pl_file *)file;
	if (!f->inode)
		return f->real->pMethods->xFileSize(f->real, size);
	pthread_mutex_lock(&pl_mu);
	int rc = logical_size(f, size);
	pthread_mutex_unlock(&pl_mu);
	return rc;
}

/* Everything else is the real file's business. */
static int pl_lock(sqlite3_file *file, int l) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xLock(r, l); }
static int pl_unlock(sqlite3_file *file, int l) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xUnlock(r, l); }
static int pl_check_reserved(sqlite3_file *file, int *out) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xCheckReservedLock(r, out); }
static int pl_sector_size(sqlite3_file *file) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xSectorSize(r); }
static int pl_device(sqlite3_file *file) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xDeviceCharacteristics(r); }
static int pl_shm_map(sqlite3_file *file, int pg, int sz, int extend, void volatile **out) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xShmMap(r, pg, sz, extend, out); }
static int pl_shm_lock(sqlite3_file *file, int off, int n, int flags) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xShmLock(r, off, n, flags); }
static void pl_shm_barrier(sqlite3_file *file) { sqlite3_file *r = ((struct pl_file *)file)->real; r->pMethods->xShmBarrier(r); }
static int pl_shm_unmap(sqlite3_file *file, int del) { sqlite3_file *r = ((struct pl_file *)file)->real; return r->pMethods->xShmUnmap(r, del); }

static int pl_file_control(sqlite3_file *file, int op, void *arg)
{
	sqlite3_file *r = ((struct pl_file *)file)->real;
	return r->pMethods->xFileControl(r, op, arg);
}

/* Version 2: no xFetch, so every read of the database goes through pl_read. */
static const sqlite3_io_methods pl_methods = {
	.iVersion = 2,
	.xClose = pl_close, .xRead = pl_read, .xWrite = pl_write, .xTruncate = pl_truncate, .xSync = pl_sync,
	.xFileSize = pl_file_size, .xLock = pl_lock, .xUnlock = pl_unlock, .xCheckReservedLock = pl_check_reserved,
	.xFileControl = pl_file_control, .xSectorSize = pl_sector_size, .xDeviceCharacteristics = pl_device,
	.xShmMap = pl_shm_map, .xShmLock = pl_shm_lock, .xShmBarrier = pl_shm_barrier, .xShmUnmap = pl_shm_unmap,
};

static int pl_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	(void)vfs;
	struct pl_file *f = (struct pl_file *)file;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	int buffered = name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL)) != 0;
	int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	/* SQLite calls xClose even when xOpen fails, if pMethods is set. */
	f->base.pMethods = f->real->pMethods ? &pl_methods : NULL;
	if (buffered && f->base.pMethods) {
		pthread_mutex_lock(&pl_mu);
		f->inode = inode_ref(name);
		pthread_mutex_unlock(&pl_mu);
	}
	return rc;
}

/* The rest of the VFS is the real one's. */
static int pl_delete(sqlite3_vfs *v, const char *n, int s) { (void)v; return real_vfs->xDelete(real_vfs, n, s); }
static int pl_access(sqlite3_vfs *v, const char *n, int fl, int *o) { (void)v; return real_vfs->xAccess(real_vfs, n, fl, o); }
static int pl_full_path(sqlite3_vfs *v, const char *n, int sz, char *o) { (void)v; return real_vfs->xFullPathname(real_vfs, n, sz, o); }
static void *pl_dlopen(sqlite3_vfs *v, const char *n) { (void)v; return real_vfs->xDlOpen(real_vfs, n); }
static void pl_dlerror(sqlite3_vfs *v, int n, char *m) { (void)v; real_vfs->xDlError(real_vfs, n, m); }
static void (*pl_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return real_vfs->xDlSym(real_vfs, h, s); }
static void pl_dlclose(sqlite3_vfs *v, void *h) { (void)v; real_vfs->xDlClose(real_vfs, h); }
static int pl_random(sqlite3_vfs *v, int n, char *o) { (void)v; return real_vfs->xRandomness(real_vfs, n, o); }
static int pl_sleep(sqlite3_vfs *v, int us) { (void)v; return real_vfs->xSleep(real_vfs, us); }
static int pl_time(sqlite3_vfs *v, double *o) { (void)v; return real_vfs->xCurrentTime(real_vfs, o); }
static int pl_last_error(sqlite3_vfs *v, int n, char *o) { (void)v; return real_vfs->xGetLastError(real_vfs, n, o); }
static int pl_time64(sqlite3_vfs *v, sqlite3_int64 *o) { (void)v; return real_vfs->xCurrentTimeInt64(real_vfs, o); }

__attribute__((constructor)) static void powerloss_register(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs || real_vfs->iVersion < 2) {
		fprintf(stderr, "powerloss_vfs: no usable default VFS\n");
		abort();
	}
	pl_vfs = (sqlite3_vfs){
		.iVersion = 2, .szOsFile = (int)sizeof(struct pl_file) + real_vfs->szOsFile,
		.mxPathname = real_vfs->mxPathname, .zName = "powerloss",
		.xOpen = pl_open, .xDelete = pl_delete, .xAccess = pl_access, .xFullPathname = pl_full_path,
		.xDlOpen = pl_dlopen, .xDlError = pl_dlerror, .xDlSym = pl_dlsym, .xDlClose = pl_dlclose,
		.xRandomness = pl_random, .xSleep = pl_sleep, .xCurrentTime = pl_time,
		.xGetLastError = pl_last_error, .xCurrentTimeInt64 = pl_time64,
	};
	if (sqlite3_vfs_register(&pl_vfs, 1) != SQLITE_OK) {
		fprintf(stderr, "powerloss_vfs: cannot register\n");
		abort();
	}
	fprintf(stderr, "powerloss_vfs: writes reach the files only at xSync (test mode)\n");
}
