/*
 * snooze.c - the 稍后提醒 buttons on deadline pings: push the next ping of one
 * deadline back by an hour, or to the next working day's start.  Only the
 * people the deadline concerns may snooze it; the snooze goes in the timeline.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collabd/calendar.h"
#include "collabd/sched.h"
#include "collabd/store.h"
#include "collabd/command.h"

/* Is user among the deadline's people (any role)?  Also collects their names. */
static int concerns(const char *people_json, const char *user, struct buf *names)
{
	json_t *people = json_loads(people_json, 0, NULL);
	int found = 0;
	const char *role;
	json_t *list;
	json_object_foreach(people, role, list) {
		size_t i;
		json_t *p;
		json_array_foreach(list, i, p) {
			const char *id = json_string_value(json_object_get(p, "id"));
			const char *name = json_string_value(json_object_get(p, "name"));
			if (id && !strcmp(id, user))
				found = 1;
			if (names->len < 200 && name && *name) {
				buf_append_str(names, names->len ? "、" : "");
				buf_append_str(names, name);
			}
		}
	}
	json_decref(people);
	return found;
}

/*
 * Snoozes deadline key for user: "1h" or "next_workday".  Returns CMD_OK with
 * *ok set and *msg (caller frees) the sentence to show; CMD_EPERM when the
 * user is not among the people pinged.
 */
static enum cmd_rc snooze(struct cmd_ctx *ctx, const char *key, const char *span, int *ok, char **msg)
{
	const struct calendar *cal = sched_calendar(ctx->sched);
	struct deadline_row d;
	*ok = 0;
	if (!key || !span || store_deadline_get(ctx->store, key, &d) != STORE_OK) {
		*msg = xstrdup("找不到这条提醒，可能已经处理完毕。");
		return CMD_OK;
	}
	struct buf names;
	buf_init(&names);
	if (!concerns(d.people, ctx->ev->user_id, &names)) {
		*msg = xasprintf("只有被提醒的人（%s）可以推迟这条提醒。", names.len ? (char *)names.data : "相关负责人");
		buf_free(&names);
		deadline_row_free(&d);
		return CMD_EPERM;
	}
	buf_free(&names);
	int tomorrow = !strcmp(span, "next_workday");
	ms_t until;
	if (tomorrow) {
		int y, m, day, minute;
		calendar_local_date(ctx->now, &y, &m, &day, &minute);
		/* The first working-hours start after today's midnight. */
		until = calendar_next_work_start(cal, calendar_local_time(y, m, day, 24 * 60));
	} else {
		until = calendar_next_work_start(cal, ctx->now + 3600000);
	}
	enum store_rc rc = strcmp(d.state, "open") ? STORE_NOTFOUND : sched_snooze(ctx->sched, key, until);
	if (rc == STORE_NOTFOUND) {
		*msg = xstrdup("这条提醒已经没有待发送的内容了。");
	} else if (rc == STORE_OK) {
		int y, m, day, minute;
		calendar_local_date(until, &y, &m, &day, &minute);
		char *detail = xasprintf("{\"until\":%lld,\"for\":\"%s\"}", (long long)until,
					 tomorrow ? "next_workday" : "1h");
		if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, "sla.snooze", key, detail) != STORE_OK)
			ctx->failed = 1;
		free(detail);
		*msg = xasprintf("好的，将在 %d-%02d-%02d %02d:%02d 之后再提醒。", y, m, day, minute / 60, minute % 60);
		*ok = 1;
	} else {
		ctx->failed = 1;
		*msg = xstrdup("暂时无法推迟，请稍后再试。");
	}
	deadline_row_free(&d);
	return CMD_OK;
}

static enum cmd_rc run_snooze(struct cmd_ctx *ctx, json_t *value)
{
	int ok;
	char *msg;
	enum cmd_rc rc = snooze(ctx, json_string_value(json_object_get(value, "key")),
				json_string_value(json_object_get(value, "for")), &ok, &msg);
	cmd_toast(ctx, ok ? "success" : rc == CMD_EPERM ? "error" : "info", msg);
	free(msg);
	return rc;
}

/* /提醒 推迟 KEY [1小时|明天] -- the same, by command (DingTalk has no buttons
 * without card templates, and anyone may prefer typing). */
static enum cmd_rc run_remind(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	if (args->nwords < 2 || args->nwords > 3 ||
	    (strcmp(args->words[0], "推迟") && strcasecmp(args->words[0], "snooze")))
		return CMD_EUSAGE;
	const char *span = "1h";
	if (args->nwords == 3) {
		const char *w = args->words[2];
		if (!strcmp(w, "明天") || !strcasecmp(w, "tomorrow"))
			span = "next_workday";
		else if (strcmp(w, "1小时") && strcasecmp(w, "1h"))
			return CMD_EUSAGE;
	}
	int ok;
	char *msg;
	enum cmd_rc rc = snooze(ctx, args->words[1], span, &ok, &msg);
	cmd_reply_text(ctx, msg);
	free(msg);
	return rc;
}

const struct bot_command cmd_remind = {
	.name = "提醒",
	.alias = "remind",
	.usage = "/提醒 推迟 提醒编号 [1小时|明天]",
	.summary = "推迟一条截止提醒（仅被提醒的人可以）",
	.run = run_remind,
};

const struct bot_action action_sched_snooze = {
	.name = "sched.snooze",
	.run = run_snooze,
};
