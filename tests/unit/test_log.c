/*
 * test_log.c - repeated log lines are rate-limited: the same line (but for
 * its numbers) at most LOG_BURST times a window, then one line that says how
 * many were held back; different lines are never held back for each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collabd/log.h"

static char path[] = "/tmp/collabd-test-log-XXXXXX";

/* The lines written to stderr since the last call. */
static char *captured(void)
{
	fflush(stderr);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_non_null(freopen(path, "w", stderr));
	return text;
}

static int count(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void a_flood_is_cut_to_a_burst_then_counted(void **state)
{
	(void)state;
	log_set_level(LOG_DEBUG);
	for (int i = 0; i < 5000; i++)
		log_error("msg=\"libwebsockets\" detail=\"accept: errno %d\" fd=%d", 24, i);
	log_info("msg=\"something else\"");
	char *text = captured();
	assert_int_equal(count(text, "accept: errno"), 20);
	assert_int_equal(count(text, "something else"), 1);
	assert_int_equal(count(text, "suppressed="), 0);
	free(text);
}

static void the_next_window_reports_what_was_held_back(void **state)
{
	(void)state;
	for (int i = 0; i < 30; i++)
		log_warn("msg=\"knock\" n=%d", i);
	free(captured());
	/* A window is ten seconds: wait it out once. */
	struct timespec pause = { 10, 100 * 1000000L };
	nanosleep(&pause, NULL);
	log_warn("msg=\"knock\" n=%d", 31);
	char *text = captured();
	assert_int_equal(count(text, "msg=\"knock\""), 1);
	assert_non_null(strstr(text, "n=31 suppressed=10\n"));
	free(text);
}

static void long_lines_are_written_whole(void **state)
{
	(void)state;
	char big[5000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_info("msg=\"long\" body=%s", big);
	char *text = captured();
	assert_non_null(strstr(text, big));
	free(text);
}

int main(void)
{
	int fd = mkstemp(path);
	if (fd < 0 || !freopen(path, "w", stderr))
		return 1;
	close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_flood_is_cut_to_a_burst_then_counted),
		cmocka_unit_test(the_next_window_reports_what_was_held_back),
		cmocka_unit_test(long_lines_are_written_whole),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
