/*
 * archive_tool.c - `collabd export ID [DIR]`: writes a request's archive
 * (the JSON, the Markdown and HTML copies, and the retrospective report once
 * there is one) again from the database, into the 协作项目库 or into DIR.
 *
 * The document is rebuilt from the rows, and the report's figures come from
 * the copy stored when the report was made, so an export matches what the
 * daemon wrote.  Reading only: the database is not changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "collabd/archive.h"
#include "collabd/clock.h"
#include "collabd/config.h"
#include "collabd/store.h"
#include "collabd/tool.h"
#include "collabd/util.h"

int export_tool(const struct config *cfg, int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: collabd [--config FILE] export REQUEST-ID|ARCHIVE-NAME [DIRECTORY]\n");
		return 2;
	}
	/* Times in the document are local to the configured zone. */
	setenv("TZ", cfg->timezone, 1);
	tzset();
	char err[512];
	struct store *st;
	if (store_open(cfg->database, &st, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "collabd: %s: %s\n", cfg->database, err);
		return 1;
	}
	int rc = 1;
	json_t *row = NULL, *doc = NULL;
	if (store_archive_find(st, argv[1], &row) != STORE_OK) {
		fprintf(stderr, "collabd: export: no archive for \"%s\" (a request id or an archive name; "
				"a request is archived when it is completed)\n", argv[1]);
	} else if (!(doc = archive_build(st, argv[1], clock_now_ms()))) {
		fprintf(stderr, "collabd: export: cannot read the archive of %s: %s\n", argv[1], store_errmsg(st));
	} else {
		char *root = argc == 3 ? xstrdup(argv[2]) : archive_root(cfg);
		/* Into DIR the files go flat; into the 协作项目库, by year and quarter. */
		const char *dir = argc == 3 ? "." : json_string_value(json_object_get(row, "dir"));
		const char *name = json_string_value(json_object_get(row, "name"));
		if (archive_write_files(root, dir, name, doc, err, sizeof err)) {
			fprintf(stderr, "collabd: export: %s\n", err);
		} else {
			printf("collabd: exported %s (request %s) to %s/%s/%s.{json,md,html}%s\n", name,
			       json_string_value(json_object_get(row, "request_id")), root, dir, name,
			       json_is_object(json_object_get(row, "report")) ? " with the retrospective report" : "");
			rc = 0;
		}
		free(root);
	}
	json_decref(doc);
	json_decref(row);
	store_close(st);
	return rc;
}
