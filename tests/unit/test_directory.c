/*
 * test_directory.c - the directory: code rule, import validation (every
 * problem, nothing stored), deputies standing in, people for reminders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

#include "collabd/directory.h"

static void count(void *arg, const char *text)
{
	(void)text;
	(*(int *)arg)++;
}

static struct store *open_store(void)
{
	struct store *st;
	char err[200];
	assert_int_equal(store_open(":memory:", &st, err, sizeof err), STORE_OK);
	return st;
}

static const char *const good =
	"{\"users\":[{\"id\":\"u1\",\"name\":\"张三\"},{\"id\":\"u2\",\"name\":\"李四\"},{\"id\":\"u3\",\"name\":\"赵总\"}],"
	"\"departments\":[{\"code\":\"JSB\",\"name\":\"技术部\",\"head\":\"u1\",\"contacts\":[\"u2\",\"u1\"],\"superior\":\"u3\"}],"
	"\"deputies\":[{\"user\":\"u1\",\"deputy\":\"u2\",\"from\":\"2026-12-01\",\"to\":\"2026-12-10\"}]}";

static void test_codes(void **state)
{
	(void)state;
	assert_true(dir_code_valid("JSB"));
	assert_true(dir_code_valid("AB"));
	assert_true(dir_code_valid("ABCDEF"));
	assert_false(dir_code_valid("A"));
	assert_false(dir_code_valid("ABCDEFG"));
	assert_false(dir_code_valid("jsb"));
	assert_false(dir_code_valid("J1B"));
	assert_false(dir_code_valid(NULL));
}

static void test_import_and_people_with_deputy(void **state)
{
	(void)state;
	struct store *st = open_store();
	json_t *doc = json_loads(good, 0, NULL);
	int problems = 0;
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(dir_import(st, doc, count, &problems), 0);
	assert_int_equal(store_commit(st), STORE_OK);
	struct dept_row d;
	assert_int_equal(store_dept_get(st, "JSB", &d), STORE_OK);
	/* On leave: the deputy gets the head's pings, and the contact slot stays. */
	json_t *people = dir_people(st, &d, "2026-12-05");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(people, "head"), 0), "id")), "u2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(people, "head"), 0), "name")), "李四");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(people, "superior"), 0), "name")), "赵总");
	json_decref(people);
	people = dir_people(st, &d, "2026-12-11");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(people, "head"), 0), "id")), "u1");
	json_decref(people);
	assert_true(dir_stands_for(st, "u2", "u1", "2026-12-10"));
	assert_false(dir_stands_for(st, "u2", "u1", "2026-12-11"));
	assert_true(dir_stands_for(st, "u1", "u1", "2026-12-05"));
	assert_false(dir_stands_for(st, "u3", "u1", "2026-12-05"));
	dept_row_free(&d);
	json_decref(doc);
	store_close(st);
}

static void test_bad_import_reports_everything(void **state)
{
	(void)state;
	struct store *st = open_store();
	json_t *doc = json_loads("{\"users\":[{\"id\":\"u1\",\"name\":\"\"}],"
				 "\"departments\":[{\"code\":\"x\",\"head\":\"nobody\",\"contacts\":[\"u9\"]},"
				 "{\"code\":\"AB\",\"name\":\"n\",\"head\":\"u1\",\"contacts\":[]},"
				 "{\"code\":\"AB\",\"name\":\"n\",\"head\":\"u1\",\"contacts\":[\"u1\"]}],"
				 "\"deputies\":[{\"user\":\"u1\",\"deputy\":\"u1\",\"from\":\"2026-02-30\",\"to\":\"x\"}]}",
				 0, NULL);
	int problems = 0;
	assert_int_equal(store_begin(st), STORE_OK);
	/* users[0] name; [0] code, name, head, contacts[0]; [1] contacts; [2] duplicate; deputies[0] dates */
	assert_int_equal(dir_import(st, doc, count, &problems), 8);
	assert_int_equal(problems, 8);
	store_rollback(st);
	struct dept_row *rows;
	size_t n;
	assert_int_equal(store_dept_list(st, &rows, &n), STORE_OK);
	assert_int_equal(n, 0);
	free(rows);
	json_decref(doc);
	store_close(st);
}

/* Runs sql on path through a connection of its own (as an outside tool would). */
static void outside(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* "No rows" and "SQLite failed" are different answers: a list reader whose
 * table is gone says STORE_ERR (and the store counts it), never an empty or
 * short list. */
static void test_list_readers_tell_failure_from_absence(void **state)
{
	(void)state;
	char path[] = "/tmp/collabd-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct store *st;
	char err[200];
	assert_int_equal(store_open(path, &st, err, sizeof err), STORE_OK);
	json_t *doc = json_loads(good, 0, NULL);
	int problems = 0;
	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(dir_import(st, doc, count, &problems), 0);
	assert_int_equal(store_commit(st), STORE_OK);
	json_decref(doc);

	char **ids;
	size_t n = 99;
	assert_int_equal(store_dept_contacts(st, "NONE", &ids, &n), STORE_OK); /* absence */
	assert_int_equal(n, 0);
	free(ids);
	unsigned long errors = store_error_count(st);

	outside(path, "ALTER TABLE dept_contacts RENAME TO dept_contacts_gone;"
		      "ALTER TABLE departments RENAME TO departments_gone;");
	n = 99;
	assert_int_equal(store_dept_contacts(st, "JSB", &ids, &n), STORE_ERR); /* failure */
	assert_int_equal(n, 0);
	assert_null(ids);
	struct dept_row *rows;
	assert_int_equal(store_dept_list(st, &rows, &n), STORE_ERR);
	assert_int_equal(n, 0);
	assert_null(rows);
	assert_true(store_error_count(st) >= errors + 2);
	/* A lookup with no error channel of its own still counts the failure. */
	errors = store_error_count(st);
	struct dept_row d;
	assert_int_not_equal(store_dept_get(st, "JSB", &d), STORE_OK);
	assert_true(store_error_count(st) > errors);

	outside(path, "ALTER TABLE dept_contacts_gone RENAME TO dept_contacts;"
		      "ALTER TABLE departments_gone RENAME TO departments;");
	assert_int_equal(store_dept_contacts(st, "JSB", &ids, &n), STORE_OK);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	store_close(st);
	unlink(path);
	char side[sizeof path + 8];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_import_and_people_with_deputy),
		cmocka_unit_test(test_bad_import_reports_everything),
		cmocka_unit_test(test_list_readers_tell_failure_from_absence),
	};
	return cmocka_run_group_tests_name("directory", tests, NULL, NULL);
}
