/*
 * test_board.c - the board's and the metrics' pure parts: HTML escaping of
 * hostile strings, URL segments, spans and countdowns, public links, the
 * board's config checks, and how send errors are filed under codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collabd/config.h"
#include "collabd/html.h"
#include "collabd/metrics.h"
#include "collabd/webboard.h"

#define MINIMAL_HEAD "{\"feishu\": {\"app_id\": \"cli_a1b2c3\", \"app_secret\": \"s3cret-value\"}, "

static char *esc(const char *s)
{
	struct buf b;
	buf_init(&b);
	html_esc(&b, s);
	return buf_steal(&b);
}

static void test_escape_every_special_character(void **state)
{
	(void)state;
	char *out = esc("<script>alert('x')</script> & \"q\"");
	assert_string_equal(out, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
	free(out);
	out = esc("市场部：正常文本");
	assert_string_equal(out, "市场部：正常文本");
	free(out);
	out = esc("\"><img src=x onerror=alert(1)>");
	assert_null(strchr(out, '<'));
	assert_null(strchr(out, '"'));
	free(out);
	struct buf b;
	buf_init(&b);
	html_esc(&b, NULL);
	html_el(&b, "<td>", "", "—", "</td>");
	assert_string_equal((char *)b.data, "<td>—</td>");
	buf_free(&b);
}

static void test_url_segment(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	html_url_segment(&b, "2026-Q4-JSB-001");
	html_url_segment(&b, "/\"<x>?#");
	assert_string_equal((char *)b.data, "2026-Q4-JSB-001%2F%22%3Cx%3E%3F%23");
	buf_free(&b);
}

static void test_spans_and_countdown(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	html_span(&b, (26 * 60 + 5) * 60000LL);
	assert_string_equal((char *)b.data, "1天2小时");
	buf_reset(&b);
	html_span(&b, 83 * 60000LL);
	assert_string_equal((char *)b.data, "1小时23分");
	buf_reset(&b);
	html_span(&b, 30000);
	assert_string_equal((char *)b.data, "不到1分");
	buf_reset(&b);
	html_countdown(&b, 1000 + 5 * 60000, 1000);
	assert_string_equal((char *)b.data, "<span class=\"due\">剩余 5分</span>");
	buf_reset(&b);
	html_countdown(&b, 1000, 1000 + 2 * 3600000);
	assert_string_equal((char *)b.data, "<span class=\"overdue-tag\">已超时 2小时</span>");
	buf_free(&b);
}

static void test_links_need_a_public_url(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	assert_int_equal(config_load_text(&cfg, MINIMAL_HEAD "\"board\": {\"public_url\": \"https://board.example.com/\"}}",
					  &pr), 0);
	char *link = board_request_link(&cfg, "2026-Q4-JSB-001");
	assert_string_equal(link, "https://board.example.com/board/req/2026-Q4-JSB-001");
	free(link);
	link = board_home_link(&cfg);
	assert_string_equal(link, "https://board.example.com/board");
	free(link);
	config_problems_free(&pr);
	config_free(&cfg);
	assert_int_equal(config_load_text(&cfg, MINIMAL_HEAD "\"board\": {}}", &pr), 0);
	assert_null(board_request_link(&cfg, "2026-Q4-JSB-001"));
	config_problems_free(&pr);
	config_free(&cfg);
}

static int has_problem(const struct config_problems *pr, const char *text)
{
	for (size_t i = 0; i < pr->count; i++)
		if (strstr(pr->items[i], text))
			return 1;
	return 0;
}

static void test_board_config_checks(void **state)
{
	(void)state;
	struct config cfg;
	struct config_problems pr;
	config_load_text(&cfg, MINIMAL_HEAD "\"board\": {\"listen\": \"0.0.0.0\", \"port\": 8932}}", &pr);
	assert_true(has_problem(&pr, "board.token: required when board.listen (0.0.0.0) is not a loopback address"));
	config_problems_free(&pr);
	config_free(&cfg);
	config_load_text(&cfg, MINIMAL_HEAD "\"board\": {\"port\": 8932, \"token\": \"short\", \"public_url\": \"ftp://x\"}}",
			 &pr);
	assert_true(has_problem(&pr, "board.token: use at least 16 characters"));
	assert_true(has_problem(&pr, "board.public_url: must be an http:// or https:// URL"));
	config_problems_free(&pr);
	config_free(&cfg);
	assert_int_equal(config_load_text(&cfg, MINIMAL_HEAD "\"board\": {\"listen\": \"0.0.0.0\", \"port\": 8932, "
							   "\"token\": \"abcdefghijklmnop-0123\"}}", &pr), 0);
	config_problems_free(&pr);
	config_free(&cfg);
	assert_true(config_is_loopback("127.0.0.1") && config_is_loopback("::1") && !config_is_loopback("10.0.0.5"));
}

static void test_send_error_codes(void **state)
{
	(void)state;
	char code[40];
	metrics_error_code("rejected: http=400 code=230002 msg=Bot is not in the chat", code, sizeof code);
	assert_string_equal(code, "230002");
	metrics_error_code("server error: http=503 code=0", code, sizeof code);
	assert_string_equal(code, "http_503");
	metrics_error_code("webhook throttled: http=200 errcode=130101", code, sizeof code);
	assert_string_equal(code, "130101");
	metrics_error_code("rejected: http=403 code=Forbidden.AccessDenied", code, sizeof code);
	assert_string_equal(code, "Forbidden.AccessDenied");
	metrics_error_code("network: Connection refused", code, sizeof code);
	assert_string_equal(code, "network");
	metrics_error_code("code=\"}{<evil>", code, sizeof code);
	assert_string_equal(code, "evil");

	struct metrics m;
	memset(&m, 0, sizeof m);
	metrics_count_send_error(&m, "rejected: http=400 code=230002", 1);
	metrics_count_send_error(&m, "rejected: http=400 code=230002", 1);
	metrics_count_send_error(&m, "rejected: http=400 code=230002", 0);
	assert_int_equal(m.nsend_errors, 2);
	assert_int_equal(m.send_errors[0].n, 2);
	/* A flood of distinct codes is bounded: the rest count as "other". */
	for (int i = 0; i < 100; i++) {
		char e[64];
		snprintf(e, sizeof e, "rejected: code=%d", 1000 + i);
		metrics_count_send_error(&m, e, 1);
	}
	assert_true(m.nsend_errors <= METRICS_MAX_CODES);
	long long total = 0, other = 0;
	for (int i = 0; i < m.nsend_errors; i++) {
		total += m.send_errors[i].n;
		if (!strcmp(m.send_errors[i].code, "other"))
			other += m.send_errors[i].n;
	}
	assert_int_equal(total, 103);
	assert_int_equal(other, 100 - (METRICS_MAX_CODES - 2 - 2));
}

static void test_latency_histogram(void **state)
{
	(void)state;
	struct metrics_histogram h;
	memset(&h, 0, sizeof h);
	metrics_observe_latency(&h, 300);
	metrics_observe_latency(&h, 1000);
	metrics_observe_latency(&h, 9000000);
	assert_int_equal(h.count, 3);
	assert_int_equal(h.bucket[0], 1);
	assert_int_equal(h.bucket[1], 1);
	struct buf b;
	buf_init(&b);
	metrics_histogram_write(&b, "x_seconds", "platform=\"feishu\"", &h);
	assert_non_null(strstr((char *)b.data, "x_seconds_bucket{platform=\"feishu\",le=\"0.000500\"} 1\n"));
	assert_non_null(strstr((char *)b.data, "x_seconds_bucket{platform=\"feishu\",le=\"2.500000\"} 2\n"));
	assert_non_null(strstr((char *)b.data, "x_seconds_bucket{platform=\"feishu\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr((char *)b.data, "x_seconds_sum{platform=\"feishu\"} 9.001300\n"));
	buf_free(&b);
	char label[32];
	metrics_label_escape("a\"b\\c\nd", label, sizeof label);
	assert_string_equal(label, "a\\\"b\\\\c\\nd");
}

/* The calendar files are checked with every configuration: the repository's. */
static int calendar_here(void **state)
{
	(void)state;
	setenv("COLLABD_CALENDAR_DIR", "deploy/calendar", 1);
	unsetenv("COLLABD_BOARD_TOKEN");
	unsetenv("COLLABD_BOARD_PORT");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_every_special_character),
		cmocka_unit_test(test_url_segment),
		cmocka_unit_test(test_spans_and_countdown),
		cmocka_unit_test(test_links_need_a_public_url),
		cmocka_unit_test(test_board_config_checks),
		cmocka_unit_test(test_send_error_codes),
		cmocka_unit_test(test_latency_histogram),
	};
	return cmocka_run_group_tests_name("board", tests, calendar_here, NULL);
}
