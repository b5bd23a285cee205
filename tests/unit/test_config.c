/*
 * test_config.c - configuration loading: defaults, collecting every problem in
 * one pass, JSON syntax errors with line/column, environment overrides,
 * canonical URLs, "_comment" keys, and that config_dump() never shows a secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "collabd/calendar.h"
#include "collabd/config.h"
#include "collabd/log.h"
#include "collabd/shared_settings.h"

#define MINIMAL "{\"feishu\": {\"app_id\": \"cli_a1b2c3\", \"app_secret\": \"s3cret-value\"}}"

static const char *const env_vars[] = {
	"COLLABD_DATABASE", "COLLABD_LOG_LEVEL", "COLLABD_ADMIN_PORT", "COLLABD_FEISHU_BASE_URL",
	"COLLABD_FEISHU_APP_ID", "COLLABD_FEISHU_APP_SECRET",
};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	/* The tests run from the repository root: use its holiday data. */
	setenv("COLLABD_CALENDAR_DIR", "deploy/calendar", 1);
}

/* Every test starts and ends with none of the daemon's variables set. */
static int env_clean(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

/* Index of the first problem that starts with prefix and contains needle, or -1. */
static int find_problem(const struct config_problems *pr, const char *prefix, const char *needle)
{
	for (size_t i = 0; i < pr->count; i++)
		if (!strncmp(pr->items[i], prefix, strlen(prefix)) && (!needle || strstr(pr->items[i], needle)))
			return (int)i;
	return -1;
}

static void test_minimal_and_defaults(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	assert_int_equal(config_load_text(&cfg, MINIMAL, &pr), 0);
	assert_int_equal(pr.count, 0);
	assert_int_equal(pr.secret_in_file, 1);
	assert_string_equal(cfg.feishu.app_id, "cli_a1b2c3");
	assert_string_equal(cfg.feishu.app_secret, "s3cret-value");
	assert_string_equal(cfg.timezone, "Asia/Shanghai");
	assert_string_equal(cfg.feishu.base_url, "https://open.feishu.cn");
	assert_string_equal(cfg.database, "/var/lib/collabd/collabd.db");
	assert_string_equal(cfg.admin_listen, "127.0.0.1");
	assert_int_equal(cfg.outbox.max_attempts, 12);
	assert_int_equal(cfg.outbox.backoff_base_ms, 1000);
	assert_int_equal(cfg.outbox.backoff_max_ms, 300000);
	assert_int_equal(cfg.outbox.max_inflight, 8);
	assert_int_equal(cfg.admin_port, 0);
	assert_int_equal(cfg.feishu.enabled, 1);
	assert_int_equal(cfg.test_clock_control, 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_null(cfg.feishu.bot_open_id);
	config_problems_free(&pr);
	config_free(&cfg);
}

static void test_values_from_file(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	const char *text = "{\"_comment\": \"top-level comments are fine\", \"database\": \"/tmp/x.db\","
			   " \"log_level\": \"debug\", \"timezone\": \"UTC\","
			   " \"admin\": {\"port\": 8081, \"_why\": \"nested comment\"},"
			   " \"testing\": {\"clock_control\": true},"
			   " \"outbox\": {\"max_attempts\": 1000, \"backoff_base_ms\": 10},"
			   " \"feishu\": {\"_note\": 1, \"app_id\": \"cli_x\", \"app_secret\": \"s\","
			   "   \"base_url\": \"http://127.0.0.1:9000///\", \"bot_open_id\": \"ou_bot\"}}";
	assert_int_equal(config_load_text(&cfg, text, &pr), 0);
	assert_string_equal(cfg.database, "/tmp/x.db");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_string_equal(cfg.timezone, "UTC");
	assert_int_equal(cfg.admin_port, 8081);
	assert_int_equal(cfg.test_clock_control, 1);
	assert_int_equal(cfg.outbox.max_attempts, 1000);
	assert_int_equal(cfg.outbox.backoff_base_ms, 10);
	assert_string_equal(cfg.feishu.base_url, "http://127.0.0.1:9000"); /* trailing slashes stripped */
	assert_string_equal(cfg.feishu.bot_open_id, "ou_bot");
	config_problems_free(&pr);
	config_free(&cfg);
}

static void test_all_problems_at_once(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	const char *text = "{\"bogus\": 1, \"timezone\": 5, \"outbox\": {\"max_attempts\": 0},"
			   " \"feishu\": {\"base_url\": \"ftp://open.feishu.cn\"}}";
	int n = config_load_text(&cfg, text, &pr);
	assert_int_equal(n, 6);
	assert_int_equal(pr.count, 6);
	assert_true(find_problem(&pr, "bogus", "unknown") >= 0);
	assert_true(find_problem(&pr, "timezone", "string") >= 0);
	assert_true(find_problem(&pr, "outbox.max_attempts", "outside 1..1000") >= 0);
	assert_true(find_problem(&pr, "feishu.base_url", "URL") >= 0);
	assert_true(find_problem(&pr, "feishu.app_id", "required") >= 0);
	assert_true(find_problem(&pr, "feishu.app_secret", "required") >= 0);
	assert_int_equal(pr.secret_in_file, 0);
	config_problems_free(&pr);
	assert_int_equal(pr.count, 0);
	config_free(&cfg);
}

static void test_more_problems(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	const char *text = "{\"feishu\": 3, \"log_level\": \"verbose\", \"admin\": {\"listen\": \"\", \"port\": 70000},"
			   " \"testing\": {\"clock_control\": \"yes\"},"
			   " \"outbox\": {\"backoff_base_ms\": 2.5, \"max_inflight\": \"4\", \"nope\": 1}}";
	int n = config_load_text(&cfg, text, &pr);
	assert_true(find_problem(&pr, "feishu", "expected an object") >= 0);
	assert_true(find_problem(&pr, "log_level", "verbose") >= 0);
	assert_true(find_problem(&pr, "admin.port", "70000") >= 0);
	assert_true(find_problem(&pr, "testing.clock_control", "true or false") >= 0);
	assert_true(find_problem(&pr, "outbox.backoff_base_ms", "whole number") >= 0);
	assert_true(find_problem(&pr, "outbox.max_inflight", "whole number") >= 0);
	assert_true(find_problem(&pr, "outbox.nope", "unknown") >= 0);
	assert_true(find_problem(&pr, "feishu.app_id", NULL) >= 0); /* defaults still validated */
	assert_int_equal(n, 9);
	config_problems_free(&pr);
	config_free(&cfg);

	/* cross-field checks */
	n = config_load_text(&cfg, "{\"feishu\": {\"enabled\": false},"
			     " \"outbox\": {\"backoff_base_ms\": 5000, \"backoff_max_ms\": 100},"
			     " \"testing\": {\"clock_control\": true}}", &pr);
	assert_int_equal(n, 3);
	assert_true(find_problem(&pr, "no platform is enabled", NULL) >= 0);
	assert_true(find_problem(&pr, "outbox.backoff_base_ms", "backoff_max_ms") >= 0);
	assert_true(find_problem(&pr, "testing.clock_control", "admin.port") >= 0);
	config_problems_free(&pr);
	config_free(&cfg);

	/* app_id shape; a non-object root */
	assert_int_equal(config_load_text(&cfg, "{\"feishu\": {\"app_id\": \"abc\", \"app_secret\": \"s\"}}", &pr), 1);
	assert_true(find_problem(&pr, "feishu.app_id", "\"abc\"") >= 0);
	config_problems_free(&pr);
	config_free(&cfg);
	assert_true(config_load_text(&cfg, "[1, 2]", &pr) >= 1);
	assert_true(find_problem(&pr, "the configuration must be a JSON object", NULL) >= 0);
	config_problems_free(&pr);
	config_free(&cfg);
}

static void test_invalid_json(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	assert_int_equal(config_load_text(&cfg, "{\n  \"timezone\": \"UTC\",\n  oops\n}\n", &pr), 1);
	assert_true(find_problem(&pr, "line 3 column ", NULL) == 0);
	config_problems_free(&pr);
	config_free(&cfg);

	/* duplicate keys are refused, not silently last-wins */
	assert_int_equal(config_load_text(&cfg, "{\"timezone\": \"UTC\",\n\"timezone\": \"X\"}", &pr), 1);
	assert_true(find_problem(&pr, "line 2 column ", NULL) == 0);
	config_problems_free(&pr);
	config_free(&cfg);
}

static void test_env_overrides(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	setenv("COLLABD_FEISHU_APP_SECRET", "from-env", 1);
	setenv("COLLABD_FEISHU_BASE_URL", "http://127.0.0.1:8080/", 1);
	setenv("COLLABD_LOG_LEVEL", "warn", 1);
	setenv("COLLABD_ADMIN_PORT", "", 1); /* empty: ignored */
	const char *text = "{\"feishu\": {\"app_id\": \"cli_a\", \"app_secret\": \"from-file\","
			   " \"base_url\": \"https://file.example\"}}";
	assert_int_equal(config_load_text(&cfg, text, &pr), 0);
	assert_string_equal(cfg.feishu.app_secret, "from-env");
	assert_string_equal(cfg.feishu.base_url, "http://127.0.0.1:8080");
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_int_equal(cfg.admin_port, 0);
	config_problems_free(&pr);
	config_free(&cfg);

	/* the secret only in the environment: valid, and no secret in the file */
	assert_int_equal(config_load_text(&cfg, "{\"feishu\": {\"app_id\": \"cli_a\"}}", &pr), 0);
	assert_int_equal(pr.secret_in_file, 0);
	assert_string_equal(cfg.feishu.app_secret, "from-env");
	config_problems_free(&pr);
	config_free(&cfg);

	/* bad environment values are problems that name the key and the variable */
	setenv("COLLABD_ADMIN_PORT", "80x", 1);
	setenv("COLLABD_FEISHU_BASE_URL", "open.feishu.cn", 1);
	assert_int_equal(config_load_text(&cfg, "{\"feishu\": {\"app_id\": \"cli_a\"}}", &pr), 2);
	assert_true(find_problem(&pr, "admin.port", "COLLABD_ADMIN_PORT") >= 0);
	assert_true(find_problem(&pr, "feishu.base_url", NULL) >= 0);
	config_problems_free(&pr);
	config_free(&cfg);
	clear_env();
}

/* A URL with no host must be refused, not "canonicalised" to "https:". */
static void test_base_url_without_host(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	int n = config_load_text(&cfg, "{\"feishu\": {\"app_id\": \"cli_a\", \"app_secret\": \"s\","
				 " \"base_url\": \"https://\"}}", &pr);
	int found = find_problem(&pr, "feishu.base_url", NULL) >= 0;
	config_problems_free(&pr);
	config_free(&cfg);
	assert_int_equal(n, 1);
	assert_true(found);
}

static char *dump(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	config_dump(f, cfg);
	fclose(f);
	return text;
}

static void test_start_at(void **state)
{
	(void)state;
	int y, m, d, minute, second;
	assert_int_equal(config_parse_start_at("2026-12-08 10:10", &y, &m, &d, &minute, &second), 0);
	assert_true(y == 2026 && m == 12 && d == 8 && minute == 610 && second == 0);
	assert_int_equal(config_parse_start_at("2026-12-13 07:50:30", &y, &m, &d, &minute, &second), 0);
	assert_true(d == 13 && minute == 470 && second == 30);
	const char *bad[] = { "2026-12-08T10:10", "2026-12-08 24:00", "2026-02-30 10:00", "2026-12-08 9:30",
			      "2026-12-08 10:10:60", "2026-12-08 10:10 ", "2026-12-08", "", "2026-12-08  1:30", "2026-12-08 +1:30" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(config_parse_start_at(bad[i], &y, &m, &d, &minute, &second), -1);
}

static void test_dump_hides_secret(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	assert_int_equal(config_load_text(&cfg, MINIMAL, &pr), 0);
	char *text = dump(&cfg);
	assert_null(strstr(text, "s3cret-value"));
	assert_non_null(strstr(text, "feishu.app_secret = (set, hidden)\n"));
	assert_non_null(strstr(text, "feishu.app_id = cli_a1b2c3\n"));
	assert_non_null(strstr(text, "outbox.max_attempts = 12\n"));
	assert_non_null(strstr(text, "log_level = info\n"));
	assert_non_null(strstr(text, "feishu.enabled = true\n"));
	assert_non_null(strstr(text, "feishu.bot_open_id = (unset)\n"));
	free(text);
	config_problems_free(&pr);
	config_free(&cfg);

	config_defaults(&cfg);
	text = dump(&cfg);
	assert_non_null(strstr(text, "feishu.app_secret = (unset)\n"));
	free(text);
	config_free(&cfg);
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/collabd-test-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, MINIMAL, strlen(MINIMAL)), (ssize_t)strlen(MINIMAL));
	assert_int_equal(fchmod(fd, 0644), 0); /* readable by others: warned, still loads */
	close(fd);
	struct config cfg;
	struct config_problems pr;
	assert_int_equal(config_load(&cfg, path, &pr), 0);
	assert_int_equal(pr.secret_in_file, 1);
	assert_string_equal(cfg.feishu.app_secret, "s3cret-value");
	config_problems_free(&pr);
	config_free(&cfg);
	unlink(path);

	/* a missing file is one problem */
	assert_int_equal(config_load(&cfg, path, &pr), 1);
	assert_true(find_problem(&pr, "cannot read", NULL) == 0);
	config_problems_free(&pr);
	config_free(&cfg);
}

/* The calendar and admins as the cluster's shared document: built from one
 * config, compared, and loaded into another -- whole or not at all. */
static void test_shared_settings(void **state)
{
	(void)state;
	char err[256];
	struct config a, b;
	config_defaults(&a);
	config_defaults(&b);
	free(a.calendar.dir);
	a.calendar.dir = strdup("deploy/calendar");
	free(a.calendar.work_end);
	a.calendar.work_end = strdup("17:00");
	a.admins = json_pack("[s]", "ou_admin");
	a.calendar.extra_days_off = json_pack("[s]", "2026-12-01");
	json_t *doc = shared_settings_from_config(&a, err, sizeof err);
	assert_non_null(doc);
	char *text = shared_settings_text_new(doc);
	json_t *again = shared_settings_parse(text);
	char *same = shared_settings_diff_new(doc, again);
	assert_null(same);
	free(text);

	struct calendar *cal = shared_settings_load(doc, &b, err, sizeof err);
	assert_non_null(cal);
	assert_string_equal(b.calendar.work_end, "17:00");
	assert_string_equal(json_string_value(json_array_get(b.admins, 0)), "ou_admin");
	assert_false(calendar_is_workday(cal, 2026, 12, 1)); /* the extra day off */
	assert_false(calendar_is_workday(cal, 2026, 10, 1)); /* the 2026 data */
	assert_int_equal(calendar_hours(cal)->end_min, 17 * 60);
	calendar_free(cal);

	/* What differs is named; a broken document changes nothing. */
	json_object_set_new(json_object_get(again, "calendar"), "work_start", json_string("10:00"));
	json_object_del(json_object_get(json_object_get(again, "calendar"), "years"), "2025");
	char *diff = shared_settings_diff_new(doc, again);
	assert_string_equal(diff, "calendar.work_start calendar.years.2025");
	free(diff);
	json_object_set_new(json_object_get(again, "calendar"), "work_start", json_string("19:00"));
	json_array_append_new(json_object_get(again, "admins"), json_integer(7));
	assert_null(shared_settings_load(again, &b, err, sizeof err));
	json_array_remove(json_object_get(again, "admins"), 1);
	assert_null(shared_settings_load(again, &b, err, sizeof err));
	assert_non_null(strstr(err, "working hours"));
	assert_string_equal(b.calendar.work_start, "09:00");
	json_decref(again);
	json_decref(doc);
	config_free(&a);
	config_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_settings, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_minimal_and_defaults, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_values_from_file, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_all_problems_at_once, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_more_problems, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_invalid_json, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_env_overrides, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_base_url_without_host, env_clean, env_clean),
		cmocka_unit_test_setup_teardown(test_dump_hides_secret, env_clean, env_clean),
		cmocka_unit_test(test_start_at),
		cmocka_unit_test_setup_teardown(test_load_file, env_clean, env_clean),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
