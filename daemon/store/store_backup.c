/*
 * store_backup.c - an online backup of the database file (collabd backup).
 */
#include "collabd/store.h"
#include "store_internal.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/log.h"
#include "collabd/util.h"

int store_backup(const char *src_path, const char *dst_path, int *pages, char *err, size_t errsz)
{
	sqlite3 *src = NULL, *dst = NULL;
	int rc = -1;
	if (store_is_pg_uri(src_path)) {
		snprintf(err, errsz, "the database is PostgreSQL: back it up with its own tools (pg_dump, "
				     "or base backups with WAL archiving)");
		return -1;
	}
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "cannot open %s: %s", src_path, src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	if (sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "cannot create %s: %s", dst_path, dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	/* Copies while the daemon keeps writing: pages changed meanwhile are
	 * copied again, so the result is one consistent snapshot. */
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(err, errsz, "backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	int step;
	while ((step = sqlite3_backup_step(b, 256)) == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED)
		sqlite3_sleep(step == SQLITE_OK ? 0 : 50);
	*pages = sqlite3_backup_pagecount(b);
	if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE)
		snprintf(err, errsz, "backup: %s", sqlite3_errmsg(dst));
	else
		rc = 0;
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}
