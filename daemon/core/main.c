/*
 * main.c - command line: run the daemon, or check a configuration.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collabd/config.h"
#include "collabd/daemon.h"
#include "collabd/log.h"
#include "collabd/store.h"
#include "collabd/tool.h"

#define DEFAULT_CONFIG "/etc/collabd/collabd.json"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: collabd [--config FILE]        run the daemon (default " DEFAULT_CONFIG ")\n"
		"       collabd --check-config FILE    check a configuration, print every problem\n"
		"       collabd [--config FILE] calendar ...  check holiday data and business time; publish it\n"
		"       collabd [--config FILE] import-directory FILE   replace the department directory\n"
		"       collabd [--config FILE] backup FILE   an online copy of the database\n"
		"       collabd [--config FILE] export ID [DIR]   write a request's archive again\n"
		"       collabd [--config FILE] dead-letters [--retry ID]   events that failed to apply; replay one\n"
		"       collabd migrate-db SQLITE_FILE postgresql://...   move the records to PostgreSQL\n"
		"       collabd dingtalk card-template > collabd-card.json   the DingTalk card template to import\n"
		"       collabd gen-token              print a strong random token (board.token, admin.token)\n"
		"       collabd --version | --help\n"
		"\n"
		"Secrets may come from the environment instead of the file:\n"
		"  COLLABD_FEISHU_APP_SECRET, COLLABD_FEISHU_APP_ID, COLLABD_DATABASE, ...\n"
		"(see deploy/collabd.example.json for every option).\n");
}

/* 32 characters from the 64 that travel in URLs unescaped: 192 random bits
 * from the kernel.  Drawn again in the (vanishing) case config_token_weak()
 * would refuse it, so what is printed always starts. */
static int gen_token(void)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char token[33], why[160];
	do {
		unsigned char raw[32];
		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
			perror("collabd: gen-token: getrandom");
			return 1;
		}
		for (size_t i = 0; i < sizeof raw; i++)
			token[i] = alphabet[raw[i] & 63];
		token[32] = '\0';
	} while (config_token_weak(token, why, sizeof why));
	printf("%s\n", token);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Whatever the daemon and its tools create -- the database, its WAL,
	 * backups, the archive's files -- is no business of other users. */
	umask(027);
	const char *config_path = DEFAULT_CONFIG;
	int check_only = 0, config_given = 0, c;
	/* '+': stop at the first non-option, so subcommands keep their arguments. */
	while ((c = getopt_long(argc, argv, "+c:n:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; config_given = 1; break;
		case 'n': config_path = optarg; check_only = 1; break;
		case 'V': printf("collabd %s\n", COLLABD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "migrate-db")) {
		/* Names both databases itself: no configuration needed. */
		if (argc - optind != 3) {
			fprintf(stderr, "usage: collabd migrate-db SQLITE_FILE postgresql://USER@HOST/DB\n");
			return 2;
		}
		char err[512];
		if (store_migrate_db(argv[optind + 1], argv[optind + 2], stdout, err, sizeof err)) {
			fprintf(stderr, "collabd: migrate-db: %s (nothing was written)\n", err);
			return 1;
		}
		printf("collabd: moved %s to PostgreSQL; point `database` (or COLLABD_DATABASE) at it\n", argv[optind + 1]);
		return 0;
	}
	if (optind < argc && !strcmp(argv[optind], "dingtalk"))
		return dingtalk_tool(argc - optind, argv + optind);
	if (optind < argc && !strcmp(argv[optind], "gen-token"))
		return optind + 1 == argc ? gen_token() : (usage(stderr), 2);
	if (optind < argc && !strcmp(argv[optind], "calendar")) {
		/* The operator tool needs only the calendar settings: with no
		 * --config it uses the defaults (COLLABD_CALENDAR_DIR may point
		 * elsewhere); with one, that file must be valid. */
		struct config cfg;
		struct config_problems problems = { 0 };
		int bad = 0;
		if (config_given) {
			bad = config_load(&cfg, config_path, &problems);
			config_print_problems(stderr, config_path, &problems);
			config_problems_free(&problems);
		} else {
			config_defaults(&cfg);
			const char *dir = getenv("COLLABD_CALENDAR_DIR");
			if (dir && *dir) {
				free(cfg.calendar.dir);
				cfg.calendar.dir = strdup(dir);
			}
		}
		/* publish and shared write or read the database: never a default
		 * one that the daemon does not use. */
		int needs_db = optind + 1 < argc &&
			       (!strcmp(argv[optind + 1], "publish") || !strcmp(argv[optind + 1], "shared"));
		int rc;
		if (needs_db && !config_given) {
			fprintf(stderr, "collabd: calendar %s: give the daemon's configuration with --config FILE\n",
				argv[optind + 1]);
			rc = 2;
		} else {
			rc = bad ? 1 : calendar_tool(&cfg, argc - optind, argv + optind);
		}
		config_free(&cfg);
		return rc;
	}
	if (optind < argc && !strcmp(argv[optind], "export")) {
		/* Reads the daemon's database: needs the same valid configuration. */
		struct config cfg;
		struct config_problems problems;
		int bad = config_load(&cfg, config_path, &problems);
		config_print_problems(stderr, config_path, &problems);
		config_problems_free(&problems);
		int rc = bad ? 1 : export_tool(&cfg, argc - optind, argv + optind);
		config_free(&cfg);
		return rc;
	}
	if (optind < argc && !strcmp(argv[optind], "dead-letters")) {
		/* The daemon's database (and its admin port, to ask for a replay). */
		struct config cfg;
		struct config_problems problems;
		int bad = config_load(&cfg, config_path, &problems);
		config_print_problems(stderr, config_path, &problems);
		config_problems_free(&problems);
		int rc = bad ? 1 : dead_letters_tool(&cfg, argc - optind, argv + optind);
		config_free(&cfg);
		return rc;
	}
	if (optind < argc && (!strcmp(argv[optind], "import-directory") || !strcmp(argv[optind], "backup"))) {
		/* Writes the daemon's database: needs the same valid configuration. */
		struct config cfg;
		struct config_problems problems;
		int bad = config_load(&cfg, config_path, &problems);
		config_print_problems(stderr, config_path, &problems);
		config_problems_free(&problems);
		int rc = bad ? 1 : !strcmp(argv[optind], "backup") ? backup_tool(&cfg, argc - optind, argv + optind)
							      : directory_tool(&cfg, argc - optind, argv + optind);
		config_free(&cfg);
		return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "collabd: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	struct daemon d;
	memset(&d, 0, sizeof d);
	struct config_problems problems;
	int n = config_load(&d.cfg, config_path, &problems);
	if (n) {
		config_print_problems(stderr, config_path, &problems);
		config_problems_free(&problems);
		config_free(&d.cfg);
		return check_only ? 1 : 78;
	}
	config_problems_free(&problems);
	if (check_only) {
		printf("collabd: %s: configuration ok\n", config_path);
		config_dump(stdout, &d.cfg);
		config_free(&d.cfg);
		return 0;
	}

	log_set_level((enum log_level)d.cfg.log_level);
	/* Every local time the daemon shows is in the configured zone. */
	setenv("TZ", d.cfg.timezone, 1);
	tzset();
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	d.config_path = config_path; /* SIGHUP re-reads it */
	int rc = daemon_run(&d);
	config_free(&d.cfg);
	return rc;
}
