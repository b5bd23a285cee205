/*
 * archive.c - the 协作项目库 in chat: opening a completed request's archive,
 * writing its files again, and /归档 (/archive) to find one.
 *
 *   /归档 编号        by request id or archive name: where the files are, and the report's state
 *   /归档 列表        the newest archives
 *
 * The files are written inside the event's transaction, after every row it
 * changes: if the disk fails the event is not acknowledged (ctx->failed) and
 * is applied again later, writing the same name and the same files.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/access.h"
#include "collabd/archive.h"
#include "collabd/config.h"
#include "collabd/log.h"
#include "collabd/render.h"
#include "collabd/request.h"
#include "collabd/store.h"
#include "collabd/webboard.h"

static const char *prefix_of(struct cmd_ctx *ctx)
{
	const struct config *cfg = ctx->env ? ctx->env->cfg : NULL;
	return cfg && cfg->archive.prefix && *cfg->archive.prefix ? cfg->archive.prefix : "XMB";
}

/* The files of the archive row, written from the database as it is now. */
static void write_files(struct cmd_ctx *ctx, const char *request_id)
{
	const struct config *cfg = ctx->env ? ctx->env->cfg : NULL;
	if (!cfg) /* no configuration (unit tests): the rows are the archive */
		return;
	json_t *row = NULL, *doc = archive_build(ctx->store, request_id, ctx->now);
	if (!doc || store_archive_find(ctx->store, request_id, &row) != STORE_OK) {
		ctx->failed = 1;
		json_decref(doc);
		return;
	}
	char *root = archive_root(cfg), err[512];
	const char *name = json_string_value(json_object_get(row, "name"));
	if (archive_write_files(root, json_string_value(json_object_get(row, "dir")), name, doc, err, sizeof err)) {
		log_error("msg=\"cannot write the archive; the event will be retried\" archive=%s error=\"%s\"", name, err);
		ctx->failed = 1;
	}
	free(root);
	json_decref(row);
	json_decref(doc);
}

char *archive_open(struct cmd_ctx *ctx, const char *request_id)
{
	char *dir = NULL, *name = archive_next_name(ctx->store, prefix_of(ctx), ctx->now, &dir);
	if (!name || store_archive_add(ctx->store, name, request_id, dir, ctx->now) != STORE_OK) {
		ctx->failed = 1;
		free(name);
		free(dir);
		return NULL;
	}
	json_t *detail = json_pack("{s:s,s:s}", "archive", name, "dir", dir);
	char *text = json_dumps(detail, JSON_COMPACT);
	if (store_timeline_add(ctx->store, ctx->now, "collabd", "request.archived", request_id, text) != STORE_OK)
		ctx->failed = 1;
	free(text);
	json_decref(detail);
	free(dir);
	if (!ctx->failed)
		write_files(ctx, request_id);
	return name;
}

void archive_refresh(struct cmd_ctx *ctx, const char *request_id, json_t *report)
{
	json_t *row = NULL;
	if (store_archive_find(ctx->store, request_id, &row) != STORE_OK ||
	    store_archive_written(ctx->store, json_string_value(json_object_get(row, "name")), ctx->now, report) != STORE_OK)
		ctx->failed = 1;
	json_decref(row);
	if (!ctx->failed)
		write_files(ctx, request_id);
}

static enum cmd_rc show(struct cmd_ctx *ctx, const char *key)
{
	json_t *row = NULL;
	enum store_rc rc = store_archive_find(ctx->store, key, &row);
	if (rc == STORE_ERR)
		return CMD_EINTERNAL;
	if (rc != STORE_OK) {
		char *echo = cmd_echo(key);
		struct request_row r;
		char *msg;
		if (store_request_get(ctx->store, key, &r) == STORE_OK) {
			msg = xasprintf("需求 %s %s，还没有归档：发起人完成需求（/需求 完成 %s）后自动归档。", r.id,
					req_state_label(r.state), r.id);
			request_row_free(&r);
		} else {
			msg = xasprintf("没有归档或需求 %s。发送 /归档 列表 查看最近的归档。", echo);
		}
		cmd_reply_text(ctx, msg);
		free(msg);
		free(echo);
		return CMD_ENOTFOUND;
	}
	const char *name = json_string_value(json_object_get(row, "name"));
	const char *id = json_string_value(json_object_get(row, "request_id"));
	struct request_row r;
	enum cmd_rc may = cmd_load_request(ctx, id, &r);
	if (may == CMD_OK && (may = cmd_may_see(ctx, &r, "查看")) != CMD_OK)
		request_row_free(&r);
	if (may != CMD_OK) {
		json_decref(row);
		return may;
	}
	json_t *form = json_loads(r.form, 0, NULL);
	char *req_name = xstrdup(json_string_value(json_object_get(form, "需求名称")) ?
				 json_string_value(json_object_get(form, "需求名称")) : "");
	json_decref(form);
	char created[32], report[32];
	render_local_time(json_integer_value(json_object_get(row, "created_at")), 0, created, sizeof created);
	json_t *rat = json_object_get(row, "report_at");
	if (json_is_integer(rat))
		render_local_time(json_integer_value(rat), 0, report, sizeof report);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "归档 %s · 需求 %s「%s」\n归档时间：%s\n复盘报告：", name, id, req_name, created);
	if (json_is_integer(rat))
		buf_printf(&b, "已生成（%s）", report);
	else
		buf_append_str(&b, "待复盘");
	/* Names inside the 协作项目库, never the server's paths: where the
	 * library lives on disk is the operators' business. */
	buf_printf(&b, "\n协作项目库中的文件：%s.json、%s.md、%s.html", name, name, name);
	if (json_is_integer(rat))
		buf_printf(&b, "、%s.report.md、%s.report.html", name, name);
	char *link = ctx->env && ctx->env->cfg ? board_request_link(ctx->env->cfg, id) : NULL;
	if (link)
		buf_printf(&b, "\n在进度看板中查看：%s", link);
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	free(link);
	free(req_name);
	request_row_free(&r);
	json_decref(row);
	return CMD_OK;
}

static enum cmd_rc list(struct cmd_ctx *ctx)
{
	json_t *rows = store_archive_recent(ctx->store, 20);
	if (!rows)
		return CMD_EINTERNAL;
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, json_array_size(rows) ? "最近的归档：" : "协作项目库还没有归档。需求完成（/需求 完成 编号）后自动归档。");
	size_t i;
	json_t *row;
	char today[11];
	struct access_asker asker;
	cmd_asker(ctx, &asker, today);
	size_t shown = 0;
	json_array_foreach(rows, i, row) {
		struct request_row r;
		if (store_request_get(ctx->store, json_string_value(json_object_get(row, "request_id")), &r) != STORE_OK)
			continue;
		int may = access_may_see(ctx->store, &r, &asker);
		request_row_free(&r);
		if (!may)
			continue;
		shown++;
		buf_printf(&b, "\n%s · 需求 %s · %s", json_string_value(json_object_get(row, "name")),
			   json_string_value(json_object_get(row, "request_id")),
			   json_is_integer(json_object_get(row, "report_at")) ? "已出复盘报告" : "待复盘");
	}
	if (json_array_size(rows) && !shown)
		buf_append_str(&b, "\n（没有你可以查看的归档：仅需求相关部门的人员、发起人、企业管理部、管理员或在需求的群里可以查看。）");
	cmd_reply_text(ctx, (char *)b.data);
	buf_free(&b);
	json_decref(rows);
	return CMD_OK;
}

static enum cmd_rc run_archive(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	if (a->nwords == 1 && (!strcmp(a->words[0], "列表") || !strcasecmp(a->words[0], "list")))
		return list(ctx);
	if (a->nwords == 1)
		return show(ctx, a->words[0]);
	return CMD_EUSAGE;
}

const struct bot_command cmd_archive = {
	.name = "归档",
	.alias = "archive",
	.usage = "/归档 需求编号或归档编号 | /归档 列表",
	.summary = "在协作项目库中查找归档（需求完成后自动归档）",
	.run = run_archive,
};
