/*
 * archive.h - step 5: completion, the 协作项目库 (archive) and its files.
 *
 * When the initiator completes a request, everything that happened to it is
 * assembled into one JSON document (archive_build): the form with every
 * version and signature, objections and answers, the progress table, the
 * issues with their solution records, the deliverables and the full
 * timeline.  The document is what the readable copies are drawn from, so the
 * JSON, the Markdown and the HTML never disagree: archive_doc() turns it into
 * a neutral document model (title, sections with fields, paragraphs, lists
 * and tables), and doc_markdown() / doc_html() print that model.
 *
 * Files live under archive.dir in a tree by year and quarter of archiving:
 *   2026/Q4/2026-Q4-XMB-001.json   the document (schema: deploy/archive.schema.json)
 *   2026/Q4/2026-Q4-XMB-001.md     the readable copy
 *   2026/Q4/2026-Q4-XMB-001.html   the same, self-contained and printable
 *   2026/Q4/2026-Q4-XMB-001.report.md / .report.html   《跨部门协作复盘报告》, once written
 * Each is written to a temporary file and renamed into place.  The files are
 * a function of the database: `collabd export` writes them again.
 */
#ifndef COLLABD_ARCHIVE_H
#define COLLABD_ARCHIVE_H

#include <jansson.h>
#include <stddef.h>

#include "collabd/clock.h"
#include "collabd/store.h"

#define ARCHIVE_SCHEMA_VERSION 1
#define ARCHIVE_DELIVERABLES_MAX 30     /* items per completion */
#define ARCHIVE_DELIVERABLE_CHARS 300   /* characters per item */

struct config;
struct calendar;
struct sla_policies;

/* ---- store (store_archive.c, store_archive_read.c) ---- */

/* Records the completion; deliverables and open_issues are borrowed JSON
 * arrays, reason may be NULL.  STORE_DUP when the request was completed. */
enum store_rc store_completion_add(struct store *st, const char *request_id, const char *by, ms_t at,
				   json_t *deliverables, json_t *open_issues, const char *reason, ms_t retro_due);
/* The completion as an object {request_id, completed_by, completed_at,
 * deliverables (parsed), open_issues (parsed), open_issues_reason,
 * retro_due}; *row is new.  STORE_NOTFOUND when there is none. */
enum store_rc store_completion_get(struct store *st, const char *request_id, json_t **row);

/* The request's issues that are not resolved: a new array of {id, type,
 * severity, state, description}, or NULL on a store error. */
json_t *store_open_issues(struct store *st, const char *request_id);

/* A new archive entry. */
enum store_rc store_archive_add(struct store *st, const char *name, const char *request_id, const char *dir,
				ms_t created_at);
/* Finds an archive by its name or its request's id: *row gets a new object
 * {name, request_id, dir, created_at, written_at, report_at, report (parsed
 * or null)}. */
enum store_rc store_archive_find(struct store *st, const char *key, json_t **row);
/* The files were (re)written at `at`; with report (borrowed) the
 * retrospective report is stored too and report_at set to at. */
enum store_rc store_archive_written(struct store *st, const char *name, ms_t at, json_t *report);
/* The newest limit archives, newest first (new array of rows as above). */
json_t *store_archive_recent(struct store *st, int limit);

/* Stores a department's retrospective answers (answers borrowed, an object
 * by question); a second answer replaces the first.  *revision gets 1, 2 ... */
enum store_rc store_retro_answer_put(struct store *st, const char *request_id, const char *dept, const char *author,
				     json_t *answers, ms_t at, int *revision);
/* Every answer of a request: new array of {dept, author, answers (parsed),
 * answered_at, revision}, or NULL on a store error. */
json_t *store_retro_answers(struct store *st, const char *request_id);

/* Keys of the open deadlines whose key starts with prefix (new array), or
 * NULL on a store error. */
json_t *store_open_deadline_keys(struct store *st, const char *prefix);

/* What the archive is assembled from; each returns a new array (NULL on a
 * store error) of row objects keyed by column name, oldest first. */
json_t *store_request_versions_rows(struct store *st, const char *request_id);
json_t *store_request_depts_rows(struct store *st, const char *request_id);
json_t *store_objections_rows(struct store *st, const char *request_id);
json_t *store_progress_owner_rows(struct store *st, const char *request_id);
json_t *store_progress_update_rows(struct store *st, const char *request_id);
json_t *store_progress_day_rows(struct store *st, const char *request_id);
/* Issues with their receiving departments as "depts": [codes]. */
json_t *store_issue_rows(struct store *st, const char *request_id);
/* The request's whole timeline: entries about it and about its deadlines
 * ("req:ID:..."), {at, actor, kind, subject, detail (parsed or null)}. */
json_t *store_request_timeline(struct store *st, const char *request_id);

/* ---- names and files (archive_files.c) ---- */

/* The archive root: archive.dir, or "archive" next to the database when it
 * is empty.  Caller frees. */
char *archive_root(const struct config *cfg);
/* Allocates the next name for an archive made at `now` (local time):
 * "2026-Q4-XMB-001" for prefix XMB, the sequence per year and quarter never
 * reused.  *dir gets "2026/Q4".  Both caller-freed; NULL on a store error. */
char *archive_next_name(struct store *st, const char *prefix, ms_t now, char **dir);
/* Writes the archive's files (and the report's, when the document has one)
 * into root/dir, creating directories.  Each file goes to a temporary name
 * and is renamed into place.  Returns 0, or -1 with err filled. */
int archive_write_files(const char *root, const char *dir, const char *name, json_t *archive, char *err,
			size_t errsz);
/* "2026-12-01T10:00:00+08:00" for ms in the process's zone (out >= 32 bytes). */
void archive_iso_time(ms_t ms, char *out, size_t outsz);

/* ---- the document (archive_build.c) ---- */

/* Assembles the archive of request_id (new reference): the archive row
 * (name, and the stored report when there is one) and everything the
 * request went through, at `now`.  NULL on a store error or when the
 * request has no archive. */
json_t *archive_build(struct store *st, const char *request_id, ms_t now);

/* ---- readable copies (archive_doc.c, retro_doc.c, doc_render.c) ---- */

/*
 * The document model both printers take:
 *   {title, subtitle?, sections: [{heading, fields?: [{label, value}],
 *    paragraphs?: [text], list?: [text], table?: {columns: [text], rows: [[text]]},
 *    empty?: text}]}
 * Every string in it is plain user-visible text: the printers escape it.
 */
json_t *archive_doc(json_t *archive);
/* The report's document (《跨部门协作复盘报告》), from an archive that has one. */
json_t *retro_report_doc(json_t *archive);
/* Markdown (user text escaped) and self-contained HTML (inline CSS, no
 * scripts, print-friendly).  Caller frees. */
char *doc_markdown(json_t *doc);
char *doc_html(json_t *doc);

/* ---- in chat (bot-commands/archive.c) ---- */

struct cmd_ctx;
/* Opens the archive of a request just completed, inside the event's
 * transaction: the next name, its row, the timeline entry, the files.
 * Returns the name (caller frees), or NULL (ctx->failed set). */
char *archive_open(struct cmd_ctx *ctx, const char *request_id);
/* Writes the archive's files again; with report (borrowed) the
 * retrospective report is stored with it first.  Sets ctx->failed when the
 * store or the disk fails, so the event is retried. */
void archive_refresh(struct cmd_ctx *ctx, const char *request_id, json_t *report);

#endif
