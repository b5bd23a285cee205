/*
 * test_retro_metrics.c - the retrospective's figures from a scripted
 * request: every number checked exactly against the timeline written here,
 * in business time on the 2026 calendar (Asia/Shanghai, 09:00-18:00), and
 * the rules of thumb those figures call for.
 *
 * The script (Monday 2026-12-07 onwards):
 *   submitted Mon 10:00, rejected 11:00, resubmitted 14:00, approved Tue 15:00
 *     -> 10 h of business time against 9 h (1 working day): late; 1 rejection
 *   SCB confirms Wed 10:00 (4 h), CWB objects Wed 16:00 (10 h), ZXB confirms Fri 09:30 (21 h 30 m)
 *   the objection is overruled Mon 12-14 10:00: 21 h against 18 h (2 working days)
 *   progress: SCB on time 12-10, missed 12-11, late 12-14, an undecided on-time update 12-15;
 *             CWB on time 12-10 and 12-11; ZXB nothing
 *   P01 技术/紧急: happened Thu 09:00, reported 10:30 (90 min wall clock: late),
 *             answered 10:50 (20 min of 30), resolved Fri 17:00 before its 18:00 due
 *   P02 资源/一般: happened Fri 17:30, reported Mon 09:20 (50 business minutes: in time),
 *             answered 12:00 (2 h 40 m of 2 h: late), resolved Tue 10:00 after Mon 18:00
 *   pings: ZXB's confirmation reminded, overdue, escalated; P02's response overdue and
 *          escalated; one snooze of a progress ping; SCB missed 12-11 (the daily deadline's
 *          own reminder and overdue steps are its hook's business, not pings)
 *   retrospective due Fri 12-18 10:00: JSB answers Wed 12-16, SCB Fri 12-18 11:00 (late)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "collabd/archive.h"
#include "collabd/calendar.h"
#include "collabd/directory.h"
#include "collabd/request.h"
#include "collabd/retro.h"

#define ID "2026-Q4-JSB-001"
#define H (3600LL * 1000)
#define MIN (60LL * 1000)

struct fixture {
	struct store *st;
	struct calendar *cal;
	char path[64];
};

static ms_t at(int d, int h, int m) { return calendar_local_time(2026, 12, d, h * 60 + m); }

static void ignore(void *arg, const char *text)
{
	(void)arg;
	(void)text;
}

static void tl(struct store *st, ms_t when, const char *kind, const char *subject, const char *detail)
{
	assert_int_equal(store_timeline_add(st, when, "u1", kind, subject, detail), STORE_OK);
}

/* Rows of the step tables the store has no writer for here, by plain SQL. */
static void sql(const char *path, const char *text)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *err = NULL;
	if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("sql: %s", err);
	sqlite3_close(db);
}

static void script(struct fixture *f)
{
	struct store *st = f->st;
	struct request_row r = { .id = ID, .dept = "JSB", .initiator = "u1", .platform = "feishu", .chat_id = "oc",
				 .state = "completed", .version = 1, .form = "{\"需求名称\":\"发布会\",\"涉及部门\":[\"SCB\",\"CWB\",\"ZXB\"]}",
				 .created_at = at(7, 10, 0) };
	assert_int_equal(store_request_add(st, &r), STORE_OK);
	assert_int_equal(store_request_dept_put(st, ID, "SCB", "confirmed"), STORE_OK);
	assert_int_equal(store_request_dept_put(st, ID, "CWB", "overruled"), STORE_OK);
	assert_int_equal(store_request_dept_put(st, ID, "ZXB", "confirmed"), STORE_OK);
	tl(st, at(7, 10, 0), "request.submitted", ID, "{\"version\":1}");
	tl(st, at(7, 11, 0), "request.rejected", ID, NULL);
	tl(st, at(7, 14, 0), "request.resubmitted", ID, "{\"version\":2}");
	tl(st, at(8, 15, 0), "request.approved", ID, NULL);
	tl(st, at(9, 10, 0), "request.confirmed", ID, "{\"dept\":\"SCB\"}");
	tl(st, at(9, 16, 0), "request.objected", ID, "{\"dept\":\"CWB\",\"objection\":1}");
	int64_t oid = 0;
	assert_int_equal(store_objection_add(st, ID, "CWB", "u3", "时间太紧", "延期", at(9, 16, 0), &oid), STORE_OK);
	assert_int_equal(oid, 1);
	tl(st, at(10, 11, 0), "sla.reminder", "req:" ID ":confirm:ZXB", NULL);
	tl(st, at(10, 15, 0), "sla.overdue", "req:" ID ":confirm:ZXB", NULL);
	tl(st, at(11, 9, 0), "sla.escalation", "req:" ID ":confirm:ZXB", NULL);
	tl(st, at(11, 9, 30), "request.confirmed", ID, "{\"dept\":\"ZXB\"}");
	tl(st, at(11, 16, 0), "sla.reminder", "req:" ID ":progress:2026-12-11", NULL); /* the hook's, not a ping */
	tl(st, at(11, 16, 30), "sla.snooze", "req:" ID ":progress:2026-12-11", NULL);
	tl(st, at(11, 17, 0), "sla.overdue", "req:" ID ":progress:2026-12-11", NULL);
	tl(st, at(11, 17, 0), "progress.missed", ID, "{\"dept\":\"SCB\",\"day\":\"2026-12-11\"}");
	assert_int_equal(store_objection_answer(st, 1, "open", "overruled", "已特批", at(14, 10, 0)), STORE_OK);
	tl(st, at(14, 10, 0), "objection.answered", ID, "{\"objection\":1,\"to\":\"overruled\"}");
	tl(st, at(14, 9, 20), "sla.overdue", "req:" ID ":issue:" ID "-P02:alert", NULL); /* a held alert going out */
	tl(st, at(14, 11, 20), "sla.overdue", "req:" ID ":issue:" ID "-P02:response", NULL);
	tl(st, at(14, 11, 50), "sla.escalation", "req:" ID ":issue:" ID "-P02:response", NULL);
	/* The urgent P01's overdue ping reached the superior at once: an escalation too. */
	tl(st, at(14, 9, 0), "sla.overdue", "req:" ID ":issue:" ID "-P01:response",
	   "{\"step\":1,\"stage\":\"overdue\",\"late\":false,\"roles\":[\"owner\",\"head\",\"superior\"]}");
	/* A reminder to the owner only is no escalation. */
	tl(st, at(14, 8, 50), "sla.reminder", "req:" ID ":issue:" ID "-P01:response",
	   "{\"step\":0,\"stage\":\"reminder\",\"late\":false,\"roles\":[\"owner\"]}");
	/* A deadline of another request with a longer id must not be counted. */
	tl(st, at(14, 12, 0), "sla.escalation", "req:" ID "9:confirm:SCB", NULL);
	tl(st, at(14, 12, 0), "sla.escalation", "req:2026-Q4-JSB-002:confirm:SCB", NULL);

	char *rows = NULL;
	if (asprintf(&rows,
		     "INSERT INTO progress_days VALUES ('%1$s','SCB','2026-12-10','on_time',%2$lld),"
		     " ('%1$s','SCB','2026-12-11','missed',%3$lld), ('%1$s','SCB','2026-12-14','late',%4$lld),"
		     " ('%1$s','CWB','2026-12-10','on_time',%2$lld), ('%1$s','CWB','2026-12-11','on_time',%3$lld);"
		     "INSERT INTO progress_updates (request_id, dept, day, revision, author, done, undone, next, late, submitted_at)"
		     " VALUES ('%1$s','SCB','2026-12-14',1,'u2','a','','b',1,%5$lld), ('%1$s','SCB','2026-12-15',1,'u2','a','','b',0,%6$lld),"
		     " ('%1$s','SCB','2026-12-15',2,'u2','a2','','b',0,%7$lld);"
		     "INSERT INTO issues (id, request_id, reporter, platform, chat_id, type, severity, scope, description,"
		     " occurred_at, state, report_late, responded_at, solution_due, resolved_at, created_at, updated_at) VALUES"
		     " ('%1$s-P01','%1$s','u2','feishu','oc','技术','紧急','s','d',%8$lld,'resolved',1,%9$lld,%10$lld,%11$lld,%12$lld,%12$lld),"
		     " ('%1$s-P02','%1$s','u2','feishu','oc','资源','一般','s','d',%13$lld,'resolved',0,%14$lld,%15$lld,%16$lld,%17$lld,%17$lld);",
		     ID, (long long)at(10, 17, 0), (long long)at(11, 17, 0), (long long)at(14, 17, 0), (long long)at(14, 17, 30),
		     (long long)at(15, 10, 0), (long long)at(15, 11, 0), (long long)at(10, 9, 0), (long long)at(10, 10, 50),
		     (long long)at(11, 18, 0), (long long)at(11, 17, 0), (long long)at(10, 10, 30), (long long)at(11, 17, 30),
		     (long long)at(14, 12, 0), (long long)at(14, 18, 0), (long long)at(15, 10, 0), (long long)at(14, 9, 20)) < 0)
		fail();
	sql(f->path, rows);
	free(rows);

	json_t *del = json_pack("[{s:s,s:s}]", "kind", "file", "value", "方案.pdf"), *none = json_array();
	assert_int_equal(store_completion_add(st, ID, "u1", at(16, 9, 0), del, none, NULL, at(18, 10, 0)), STORE_OK);
	json_decref(del);
	json_decref(none);
	json_t *ans = json_pack("{s:s}", "需改进的不足", "审批太慢");
	assert_int_equal(store_retro_answer_put(st, ID, "JSB", "u1", ans, at(16, 10, 0), NULL), STORE_OK);
	int rev = 0;
	assert_int_equal(store_retro_answer_put(st, ID, "SCB", "u2", ans, at(18, 9, 0), &rev), STORE_OK);
	assert_int_equal(rev, 1);
	assert_int_equal(store_retro_answer_put(st, ID, "SCB", "u2", ans, at(18, 11, 0), &rev), STORE_OK);
	assert_int_equal(rev, 2); /* a second answer replaces the first */
	json_decref(ans);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/test_retro_%d.db", (int)getpid());
	unlink(f->path);
	char err[300];
	assert_int_equal(store_open(f->path, &f->st, err, sizeof err), STORE_OK);
	json_t *doc = json_loads(
		"{\"users\":[{\"id\":\"u1\",\"name\":\"甲\"},{\"id\":\"u2\",\"name\":\"乙\"},{\"id\":\"u3\",\"name\":\"丙\"}],"
		"\"departments\":[{\"code\":\"JSB\",\"name\":\"技术部\",\"head\":\"u1\",\"contacts\":[\"u1\"]},"
		"{\"code\":\"SCB\",\"name\":\"市场部\",\"head\":\"u2\",\"contacts\":[\"u2\"]},"
		"{\"code\":\"CWB\",\"name\":\"财务部\",\"head\":\"u3\",\"contacts\":[\"u3\"]},"
		"{\"code\":\"ZXB\",\"name\":\"咨询部\",\"head\":\"u3\",\"contacts\":[\"u3\"]}]}", 0, NULL);
	assert_int_equal(dir_import(f->st, doc, ignore, NULL), 0);
	json_decref(doc);
	f->cal = calendar_new(NULL);
	if (calendar_load_dir(f->cal, "deploy/calendar", err, sizeof err))
		fail_msg("calendar: %s", err);
	script(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	calendar_free(f->cal);
	unlink(f->path);
	char wal[80];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", f->path);
	unlink(wal);
	free(f);
	return 0;
}

static long long n(json_t *o, const char *key) { return json_integer_value(json_object_get(o, key)); }
static const char *s(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }
static json_t *item(json_t *m, const char *list, size_t i) { return json_array_get(json_object_get(m, list), i); }

static void approval_and_confirmations(void **state)
{
	struct fixture *f = *state;
	json_t *m = retro_metrics(f->st, f->cal, NULL, ID, at(18, 10, 0));
	assert_non_null(m);
	json_t *a = json_object_get(m, "approval");
	assert_int_equal(n(a, "submitted_at"), at(7, 14, 0)); /* the submission that was approved */
	assert_int_equal(n(a, "elapsed_ms"), 10 * H);
	assert_int_equal(n(a, "limit_ms"), 9 * H);
	assert_true(json_is_false(json_object_get(a, "within")));
	assert_int_equal(n(a, "rejections"), 1);

	assert_int_equal(json_array_size(json_object_get(m, "confirmations")), 3);
	json_t *c = item(m, "confirmations", 0);
	assert_string_equal(s(c, "dept"), "SCB");
	assert_string_equal(s(c, "answer"), "confirmed");
	assert_int_equal(n(c, "elapsed_ms"), 4 * H);
	assert_true(json_is_true(json_object_get(c, "within")));
	c = item(m, "confirmations", 1);
	assert_string_equal(s(c, "answer"), "objected");
	assert_int_equal(n(c, "elapsed_ms"), 10 * H);
	assert_true(json_is_false(json_object_get(c, "within")));
	c = item(m, "confirmations", 2);
	assert_string_equal(s(c, "dept_name"), "咨询部");
	assert_int_equal(n(c, "elapsed_ms"), 21 * H + 30 * MIN);

	json_t *o = item(m, "objections", 0);
	assert_int_equal(n(o, "elapsed_ms"), 21 * H);
	assert_int_equal(n(o, "limit_ms"), 18 * H);
	assert_string_equal(s(o, "first_answer"), "overruled");
	assert_string_equal(s(o, "outcome"), "overruled");
	assert_true(json_is_false(json_object_get(o, "within")));
	json_decref(m);
}

static void progress_issues_and_pings(void **state)
{
	struct fixture *f = *state;
	json_t *m = retro_metrics(f->st, f->cal, NULL, ID, at(18, 10, 0));
	json_t *p = item(m, "progress", 0);
	assert_string_equal(s(p, "dept"), "SCB");
	assert_int_equal(n(p, "on_time"), 2); /* 12-10, and the undecided 12-15 */
	assert_int_equal(n(p, "late"), 1);
	assert_int_equal(n(p, "missed"), 1);
	p = item(m, "progress", 1);
	assert_int_equal(n(p, "on_time"), 2);
	p = item(m, "progress", 2);
	assert_string_equal(s(p, "dept"), "ZXB");
	assert_int_equal(n(p, "on_time") + n(p, "late") + n(p, "missed"), 0);

	json_t *is = json_object_get(m, "issues");
	assert_int_equal(n(json_object_get(is, "by_type"), "技术"), 1);
	assert_int_equal(n(json_object_get(is, "by_type"), "资源"), 1);
	assert_int_equal(n(json_object_get(is, "by_severity"), "紧急"), 1);
	json_t *p1 = json_array_get(json_object_get(is, "items"), 0), *p2 = json_array_get(json_object_get(is, "items"), 1);
	assert_int_equal(n(p1, "report_delay_ms"), 90 * MIN); /* wall clock for 紧急 */
	assert_true(json_is_false(json_object_get(p1, "report_within")));
	assert_int_equal(n(p1, "response_ms"), 20 * MIN);
	assert_int_equal(n(p1, "response_limit_ms"), 30 * MIN);
	assert_true(json_is_true(json_object_get(p1, "response_within")));
	assert_true(json_is_true(json_object_get(p1, "resolution_within")));
	assert_int_equal(n(p2, "report_delay_ms"), 50 * MIN); /* business time across the weekend */
	assert_true(json_is_true(json_object_get(p2, "report_within")));
	assert_int_equal(n(p2, "response_ms"), 2 * H + 40 * MIN);
	assert_true(json_is_false(json_object_get(p2, "response_within")));
	assert_true(json_is_false(json_object_get(p2, "resolution_within")));

	json_t *dl = json_object_get(m, "deadlines");
	assert_int_equal(json_array_size(dl), 3);
	assert_string_equal(s(json_array_get(dl, 0), "kind"), "confirm");
	assert_int_equal(n(json_array_get(dl, 0), "reminders"), 1);
	assert_int_equal(n(json_array_get(dl, 0), "overdue"), 1);
	assert_int_equal(n(json_array_get(dl, 0), "escalations"), 1);
	assert_string_equal(s(json_array_get(dl, 1), "kind"), "progress");
	assert_int_equal(n(json_array_get(dl, 1), "snoozes"), 1);
	assert_int_equal(n(json_array_get(dl, 1), "reminders"), 0);
	assert_int_equal(n(json_array_get(dl, 1), "overdue"), 1); /* progress.missed, not the daily step */
	assert_string_equal(s(json_array_get(dl, 2), "kind"), "issue");
	assert_int_equal(n(json_array_get(dl, 2), "escalations"), 2); /* P02's step 2, and P01's urgent ping */
	assert_int_equal(n(json_array_get(dl, 2), "overdue"), 2);
	assert_int_equal(n(json_array_get(dl, 2), "reminders"), 1);

	json_t *r = json_object_get(m, "retro");
	assert_true(json_is_true(json_object_get(json_array_get(r, 0), "within")));
	assert_true(json_is_false(json_object_get(json_array_get(r, 1), "within")));

	json_t *t = json_object_get(m, "totals");
	long long expect[][2] = { { n(t, "confirm_total"), 3 }, { n(t, "confirm_within"), 1 }, { n(t, "objections"), 1 },
				  { n(t, "objections_within"), 0 }, { n(t, "progress_on_time"), 4 }, { n(t, "progress_late"), 1 },
				  { n(t, "progress_missed"), 1 }, { n(t, "issues"), 2 }, { n(t, "report_late"), 1 },
				  { n(t, "response_late"), 1 }, { n(t, "resolution_late"), 1 }, { n(t, "escalations"), 3 },
				  { n(t, "snoozes"), 1 } };
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		assert_int_equal(expect[i][0], expect[i][1]);
	json_decref(m);
}

static void rules_of_thumb(void **state)
{
	struct fixture *f = *state;
	json_t *m = retro_metrics(f->st, f->cal, NULL, ID, at(18, 10, 0));
	json_t *advice = retro_advice(m);
	struct buf all;
	buf_init(&all);
	size_t i;
	json_t *a;
	json_array_foreach(advice, i, a)
		buf_printf(&all, "%s=%s\n", s(a, "rule"), s(a, "text"));
	const char *text = (const char *)all.data;
	assert_non_null(strstr(text, "approval=需求审批用时 10小时00分（工作时间），超过规定的 9小时00分"));
	assert_non_null(strstr(text, "confirmations=3 个部门中有 2 个未在规定时限内答复确认（财务部、咨询部）"));
	assert_non_null(strstr(text, "objections=1 条异议中有 1 条未在规定时限内答复"));
	assert_non_null(strstr(text, "progress=进度更新准时 4 次、迟交 1 次、缺失 1 次（有缺失的部门：市场部）"));
	assert_non_null(strstr(text, "issue_reports=2 个问题中有 1 个未在发生后 1 小时内上报"));
	assert_non_null(strstr(text, "issue_responses=2 个问题中有 1 个未在规定时限内响应"));
	assert_non_null(strstr(text, "issue_resolutions=1 个问题晚于解决方案约定的完成时间解决"));
	assert_non_null(strstr(text, "escalations=共升级上级 3 次（部门确认 1 次、问题响应与解决 2 次）"));
	assert_null(strstr(text, "snoozes="));  /* one snooze is no pattern */
	assert_non_null(strstr(text, "retro_answers=复盘答复晚于 3 个工作日的部门：市场部"));
	assert_null(strstr(text, "all_met"));
	buf_free(&all);
	json_decref(advice);

	/* Nothing late: the one suggestion is to copy what worked. */
	json_t *clean = json_pack("{s:n,s:[],s:[],s:[],s:{s:[]},s:[],s:[],s:{}}", "approval", "confirmations", "objections",
				  "progress", "issues", "items", "deadlines", "retro", "totals");
	advice = retro_advice(clean);
	assert_int_equal(json_array_size(advice), 1);
	assert_string_equal(s(json_array_get(advice, 0), "rule"), "all_met");
	json_decref(advice);
	json_decref(clean);
	json_decref(m);
}

static void report_lists_who_answered_and_their_suggestions(void **state)
{
	struct fixture *f = *state;
	json_t *parts = retro_participants(f->st, ID);
	char *text = json_dumps(parts, JSON_COMPACT);
	assert_string_equal(text, "[\"JSB\",\"SCB\",\"CWB\",\"ZXB\"]");
	free(text);
	json_decref(parts);
	json_t *rep = retro_report_build(f->st, f->cal, NULL, ID, at(18, 12, 0));
	text = json_dumps(json_object_get(rep, "answered"), JSON_COMPACT);
	assert_string_equal(text, "[\"JSB\",\"SCB\"]");
	free(text);
	text = json_dumps(json_object_get(rep, "missing"), JSON_COMPACT);
	assert_string_equal(text, "[\"CWB\",\"ZXB\"]");
	free(text);
	json_t *sug = json_object_get(rep, "suggestions");
	json_t *last = json_array_get(sug, json_array_size(sug) - 1);
	assert_string_equal(s(last, "source"), "dept");
	assert_string_equal(s(last, "dept"), "SCB");
	assert_string_equal(s(last, "text"), "审批太慢");
	json_decref(rep);
}

static void archive_names_follow_the_quarter(void **state)
{
	struct fixture *f = *state;
	char *dir = NULL, *name = archive_next_name(f->st, "XMB", calendar_local_time(2026, 12, 31, 23 * 60 + 59), &dir);
	assert_string_equal(name, "2026-Q4-XMB-001");
	assert_string_equal(dir, "2026/Q4");
	free(name);
	free(dir);
	name = archive_next_name(f->st, "XMB", calendar_local_time(2027, 1, 1, 0), &dir);
	assert_string_equal(name, "2027-Q1-XMB-001"); /* a new quarter starts at 001 */
	assert_string_equal(dir, "2027/Q1");
	free(name);
	free(dir);
	name = archive_next_name(f->st, "XMB", calendar_local_time(2026, 10, 1, 9 * 60), &dir);
	assert_string_equal(name, "2026-Q4-XMB-002");
	free(name);
	free(dir);
	/* A department called XMB has request ids of the same shape: its own numbers. */
	char *rid = request_next_id(f->st, 2026, 4, "XMB");
	assert_string_equal(rid, "2026-Q4-XMB-001");
	free(rid);
}

static void printers_escape_user_text(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:s,s:[{s:s,s:[{s:s,s:s}],s:[s],s:{s:[s],s:[[s]]}}]}", "title", "报告 <b>", "sections",
				"heading", "# 标题", "fields", "label", "名称", "value", "<script>alert(1)</script>", "paragraphs",
				"- 不是列表\n1. 也不是\n[链接](http://x)", "table", "columns", "列", "rows", "a | b\nc");
	char *md = doc_markdown(doc), *html = doc_html(doc);
	assert_null(strstr(md, "<script>"));
	assert_non_null(strstr(md, "&lt;script&gt;"));
	assert_non_null(strstr(md, "## \\# 标题"));
	assert_non_null(strstr(md, "\\- 不是列表"));
	assert_non_null(strstr(md, "1\\. 也不是"));
	assert_non_null(strstr(md, "\\[链接\\](http://x)"));
	assert_non_null(strstr(md, "| a \\| b<br>c |"));
	assert_null(strstr(html, "<script>"));
	assert_null(strstr(html, "<b>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "<td>a | b<br>c</td>"));
	assert_non_null(strstr(html, "@media print"));
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "<link"));
	free(md);
	free(html);
	json_decref(doc);
}

int main(void)
{
	setenv("TZ", "Asia/Shanghai", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(approval_and_confirmations, setup, teardown),
		cmocka_unit_test_setup_teardown(progress_issues_and_pings, setup, teardown),
		cmocka_unit_test_setup_teardown(rules_of_thumb, setup, teardown),
		cmocka_unit_test_setup_teardown(report_lists_who_answered_and_their_suggestions, setup, teardown),
		cmocka_unit_test_setup_teardown(archive_names_follow_the_quarter, setup, teardown),
		cmocka_unit_test(printers_escape_user_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
