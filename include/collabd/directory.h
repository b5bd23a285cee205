/*
 * directory.h - the department directory: who heads, answers for and
 * supervises each department, and who stands in for whom.
 *
 * The workflow asks it two things: "who may act as X for department D today"
 * (a role holder, or their deputy during the deputy's date range) and "whom
 * do the reminders for D @-mention" (the same, with names).
 */
#ifndef COLLABD_DIRECTORY_H
#define COLLABD_DIRECTORY_H

#include <jansson.h>

#include "collabd/store.h"

/* 2 to 6 capital ASCII letters. */
int dir_code_valid(const char *code);

/*
 * Validates a directory document and, when it has no problem, replaces the
 * whole directory with it inside the caller's transaction.  Every problem is
 * passed to problem(); returns how many there were (0: imported).
 *   {"users": [{"id", "name"}],
 *    "departments": [{"code", "name", "head", "contacts": [ids], "superior"?, "superior2"?, "chat_id"?}],
 *    "deputies": [{"user", "deputy", "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}]}
 */
int dir_import(struct store *st, json_t *doc, void (*problem)(void *arg, const char *text), void *arg);

/* Who acts for user_id on day ("YYYY-MM-DD"): the deputy if one is set,
 * else user_id (caller frees). */
char *dir_acting(struct store *st, const char *user_id, const char *day);

/* 1 when user may act in holder's place on day: it is the holder, or the
 * holder's deputy that day. */
int dir_stands_for(struct store *st, const char *user, const char *holder, const char *day);

/* The people of a department for SLA pings, deputies substituted for day:
 * {"owner": contacts, "head": [head], "superior": [..], "superior2": [..]},
 * each person {"id","name"}.  New reference. */
json_t *dir_people(struct store *st, const struct dept_row *d, const char *day);

/* A department by code or name: its code (caller frees), or NULL. */
char *dir_dept_code(struct store *st, const char *code_or_name);
/* Splits a list such as "JSB、市场部, CWB" on Chinese and ASCII separators
 * (、，,；; and spaces): a new array of strings. */
json_t *dir_split_list(const char *text);

/* Department codes (a JSON array) as names, "市场部、技术部"; an unknown code
 * stands as itself, an empty list is "" (caller frees). */
char *dir_dept_names(struct store *st, json_t *codes);

/* A person written in a command: a known user id, a directory name, or
 * "@name" (DingTalk's mentions carry no ids we can match).  The user id
 * (caller frees), or NULL. */
char *dir_person(struct store *st, const char *text);

/* "张三" for a known user, else the id (caller frees). */
char *dir_name(struct store *st, const char *user_id);

#endif
