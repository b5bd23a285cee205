/*
 * archive_files.c - the 协作项目库 on disk: names, directories, atomic writes.
 *
 * A name is "YYYY-Qn-PREFIX-NNN": the year and quarter of archiving (local
 * time), the configured prefix, and a sequence per year and quarter that is
 * never reused (store_next_seq, inside the completing transaction).  Files
 * are written to a temporary file in the same directory, flushed, and
 * renamed over the old name, so a reader sees the old file or the new one,
 * never half of one.  If the transaction that wrote them is rolled back, the
 * redelivered event allocates the same name and writes the same files again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collabd/archive.h"
#include "collabd/calendar.h"
#include "collabd/config.h"
#include "collabd/util.h"

char *archive_root(const struct config *cfg)
{
	if (cfg->archive.dir && *cfg->archive.dir)
		return xstrdup(cfg->archive.dir);
	const char *db = cfg->database ? cfg->database : "";
	const char *slash = strrchr(db, '/');
	if (!slash)
		return xstrdup("archive");
	return xasprintf("%.*s/archive", (int)(slash - db), db);
}

char *archive_next_name(struct store *st, const char *prefix, ms_t now, char **dir)
{
	int y, m;
	calendar_local_date(now, &y, &m, NULL, NULL);
	int q = (m - 1) / 3 + 1;
	/* Its own sequence key: a department whose code equals the prefix has
	 * request ids of the same shape, and the two must not share numbers. */
	char key[64];
	snprintf(key, sizeof key, "archive:%04d-Q%d-%s", y, q, prefix);
	int64_t n = store_next_seq(st, key);
	if (n < 0)
		return NULL;
	*dir = xasprintf("%04d/Q%d", y, q);
	return xasprintf("%04d-Q%d-%s-%03lld", y, q, prefix, (long long)n);
}

void archive_iso_time(ms_t ms, char *out, size_t outsz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	char zone[8];
	strftime(zone, sizeof zone, "%z", &tm); /* "+0800" -> "+08:00" */
	char date[24];
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%s%.3s:%.2s", date, zone, zone + 3);
}

/* mkdir -p for path (which the caller may modify temporarily). */
static int make_dirs(char *path, char *err, size_t errsz)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char saved = *p;
		*p = '\0';
		int rc = mkdir(path, 0750);
		int bad = rc && errno != EEXIST;
		if (bad)
			snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
		*p = saved;
		if (bad)
			return -1;
		if (!saved)
			return 0;
	}
}

/* Writes text to dir/file through a temporary file and rename(). */
static int write_atomic(const char *dir, const char *file, const char *text, char *err, size_t errsz)
{
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir, file), *path = xasprintf("%s/%s", dir, file);
	int fd = mkstemp(tmp), rc = -1;
	if (fd < 0) {
		snprintf(err, errsz, "cannot create a file in %s: %s", dir, strerror(errno));
		goto out;
	}
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	/* The data must be on disk before the name points at it. */
	int ok = done == len && fchmod(fd, 0640) == 0 && fsync(fd) == 0;
	int saved = errno;
	close(fd);
	if (!ok || rename(tmp, path)) {
		snprintf(err, errsz, "cannot write %s: %s", path, strerror(ok ? errno : saved));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

int archive_write_files(const char *root, const char *dir, const char *name, json_t *archive, char *err,
			size_t errsz)
{
	char *full = xasprintf("%s/%s", root, dir);
	int rc = make_dirs(full, err, errsz);
	struct {
		const char *suffix;
		char *text;
	} files[5] = { { ".json", NULL }, { ".md", NULL }, { ".html", NULL }, { ".report.md", NULL }, { ".report.html", NULL } };
	if (!rc) {
		files[0].text = json_dumps(archive, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_t *doc = archive_doc(archive);
		files[1].text = doc_markdown(doc);
		files[2].text = doc_html(doc);
		json_decref(doc);
		json_t *report = retro_report_doc(archive);
		if (report) {
			files[3].text = doc_markdown(report);
			files[4].text = doc_html(report);
			json_decref(report);
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(files) && !rc; i++) {
		if (!files[i].text)
			continue;
		char *file = xasprintf("%s%s", name, files[i].suffix);
		rc = write_atomic(full, file, files[i].text, err, errsz);
		free(file);
	}
	for (size_t i = 0; i < ARRAY_LEN(files); i++)
		free(files[i].text);
	if (!rc) {
		/* The renames themselves must survive a crash too. */
		int dfd = open(full, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(full);
	return rc;
}
