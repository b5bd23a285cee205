/*
 * fuzz_config.c - libFuzzer target for configuration loading.
 *
 * config_load_text() parses an operator-written JSON file, walks it against
 * the option table, applies environment overrides and validates everything,
 * including the SLA policy overrides and the holiday calendar.  Validation
 * loads the calendar directory, so LLVMFuzzerInitialize points
 * COLLABD_CALENDAR_DIR at the repository's deploy/calendar: taken from
 * $FUZZ_REPO when set, otherwise from this file's path (__FILE__, which the
 * Makefile makes absolute).  Logging is kept at LOG_ERROR so the fuzzer's
 * output stays readable.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/config.h"
#include "collabd/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);

	/* Variables that would override the fuzzed text: keep the input in charge. */
	static const char *const env_vars[] = {
		"COLLABD_DATABASE", "COLLABD_LOG_LEVEL", "COLLABD_ADMIN_PORT", "COLLABD_FEISHU_BASE_URL",
		"COLLABD_FEISHU_APP_ID", "COLLABD_FEISHU_APP_SECRET",
	};
	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);

	char dir[PATH_MAX];
	const char *repo = getenv("FUZZ_REPO");
	if (repo && *repo) {
		snprintf(dir, sizeof dir, "%s/deploy/calendar", repo);
	} else {
		/* __FILE__ is <repo>/tests/fuzz/fuzz_config.c */
		const char *file = __FILE__;
		const char *cut = strstr(file, "tests/fuzz/fuzz_config.c");
		if (!cut || file[0] != '/') {
			fprintf(stderr, "fuzz_config: set FUZZ_REPO to the repository root (__FILE__ is %s)\n", file);
			exit(1);
		}
		snprintf(dir, sizeof dir, "%.*sdeploy/calendar", (int)(cut - file), file);
	}
	setenv("COLLABD_CALENDAR_DIR", dir, 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct config cfg;
	struct config_problems pr;
	int n = config_load_text(&cfg, text, &pr);
	if (n < 0 || (size_t)n != pr.count)
		abort(); /* the return value is the number of problems */
	for (size_t i = 0; i < pr.count; i++)
		if (!pr.items[i])
			abort();
	config_problems_free(&pr);
	config_free(&cfg);
	free(text);
	return 0;
}
