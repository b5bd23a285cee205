/*
 * request_card.c - the request card of step 2: one per request (subject
 * "request:<ID>"), posted when the departments are asked and re-rendered in
 * place as they confirm or object and as objections are settled.  Both
 * sync.c and negotiate.c draw it from here.
 */
#include <stdlib.h>
#include <string.h>

#include "collabd/directory.h"
#include "collabd/request.h"
#include "collabd/store.h"

static const char *const dept_labels[][2] = {
	{ "pending", "⏳ 待确认" }, { "confirmed", "✅ 已确认" }, { "objected", "❗ 提出异议" }, { "overruled", "➡ 已推进" },
};

static const char *dept_label(const char *state)
{
	for (size_t i = 0; i < ARRAY_LEN(dept_labels); i++)
		if (!strcmp(dept_labels[i][0], state))
			return dept_labels[i][1];
	return state;
}

char *req_card_subject(const char *id) { return xasprintf("request:%s", id); }

json_t *req_card_body_new(struct cmd_ctx *ctx, const struct request_row *r, json_t *mentions)
{
	json_t *form = json_loads(r->form, 0, NULL);
	struct dept_row d;
	char *dept_name = store_dept_get(ctx->store, r->dept, &d) == STORE_OK ? xstrdup(d.name) : xstrdup(r->dept);
	if (d.code)
		dept_row_free(&d);
	char *initiator = dir_name(ctx->store, r->initiator);
	json_t *depts = json_array();
	struct request_dept_row *rows;
	size_t n;
	if (store_request_depts(ctx->store, r->id, &rows, &n) != STORE_OK)
		ctx->failed = 1;
	struct buf involved;
	buf_init(&involved);
	for (size_t i = 0; i < n; i++) {
		struct dept_row dd;
		int ok = store_dept_get(ctx->store, rows[i].dept, &dd) == STORE_OK;
		char *by = rows[i].signed_by ? dir_name(ctx->store, rows[i].signed_by) : NULL;
		json_array_append_new(depts, json_pack("{s:s,s:s,s:s?}", "name", ok ? dd.name : rows[i].dept,
						       "label", dept_label(rows[i].state), "by", by));
		buf_printf(&involved, "%s%s", i ? "、" : "", ok ? dd.name : rows[i].dept);
		free(by);
		if (ok)
			dept_row_free(&dd);
	}
	request_dept_rows_free(rows, n);
	const char *resources = json_string_value(json_object_get(form, "资源需求"));
	json_t *body = json_pack("{s:s,s:s,s:i,s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}",
				 "id", r->id, "state", req_state_label(r->state), "version", r->version,
				 "open", !strcmp(r->state, "syncing"),
				 "name", json_string_value(json_object_get(form, "需求名称")), "dept", dept_name,
				 "initiator", initiator,
				 "background", json_string_value(json_object_get(form, "需求背景")),
				 "tasks", json_string_value(json_object_get(form, "具体任务")),
				 "departments", (char *)involved.data,
				 "due", json_string_value(json_object_get(form, "期望完成时间")),
				 "resources", resources ? resources : "无",
				 "depts", depts, "mentions", mentions ? json_incref(mentions) : json_array());
	buf_free(&involved);
	free(initiator);
	free(dept_name);
	json_decref(form);
	return body;
}

void req_card_refresh(struct cmd_ctx *ctx, const char *id)
{
	struct request_row r;
	if (store_request_get(ctx->store, id, &r) != STORE_OK)
		return;
	char *subject = req_card_subject(id);
	json_t *body = req_card_body_new(ctx, &r, NULL);
	cmd_notice_about(ctx, "request_card", body, r.chat_id, subject, 1);
	json_decref(body);
	free(subject);
	request_row_free(&r);
}
