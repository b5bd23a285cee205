/*
 * directory_tool.c - the operator subcommands that touch the database:
 * `collabd import-directory FILE` (replace the department directory, all or
 * nothing) and `collabd backup FILE` (an online copy of the database).
 */
#include <stdio.h>

#include "collabd/config.h"
#include "collabd/directory.h"
#include "collabd/store.h"
#include "collabd/tool.h"

static void print_problem(void *arg, const char *text)
{
	fprintf(stderr, "collabd: %s: %s\n", (const char *)arg, text);
}

int directory_tool(const struct config *cfg, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: collabd [--config FILE] import-directory DIRECTORY.json\n");
		return 2;
	}
	const char *path = argv[1];
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		fprintf(stderr, "collabd: %s: line %d column %d: %s\n", path, jerr.line, jerr.column, jerr.text);
		return 1;
	}
	char err[512];
	struct store *st;
	if (store_open(cfg->database, &st, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "collabd: %s: %s\n", cfg->database, err);
		json_decref(doc);
		return 1;
	}
	int rc = 1;
	if (store_begin(st) == STORE_OK) {
		int problems = dir_import(st, doc, print_problem, (void *)path);
		if (problems == 0 && store_commit(st) == STORE_OK) {
			printf("collabd: %s: imported %zu departments, %zu people\n", path,
			       json_array_size(json_object_get(doc, "departments")),
			       json_array_size(json_object_get(doc, "users")));
			rc = 0;
		} else {
			store_rollback(st);
			if (problems)
				fprintf(stderr, "collabd: %s: %d problem%s; nothing was changed\n", path, problems,
					problems == 1 ? "" : "s");
		}
	}
	store_close(st);
	json_decref(doc);
	return rc;
}

int backup_tool(const struct config *cfg, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: collabd [--config FILE] backup DESTINATION.db\n");
		return 2;
	}
	char err[512];
	int pages = 0;
	if (store_backup(cfg->database, argv[1], &pages, err, sizeof err)) {
		fprintf(stderr, "collabd: backup: %s\n", err);
		return 1;
	}
	printf("collabd: backed up %s to %s (%d pages)\n", cfg->database, argv[1], pages);
	return 0;
}
