/*
 * snooze.c - the 稍后提醒 buttons on deadline pings: push the next ping of one
 * deadline back by an hour, or to the next working day's start.  Only the
 * people the deadline concerns may snooze it; the snooze goes in the timeline.
 */
#include <stdlib.h>
#include <string.h>

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

static enum cmd_rc run_snooze(struct cmd_ctx *ctx, json_t *value)
{
	const char *key = json_string_value(json_object_get(value, "key"));
	const char *span = json_string_value(json_object_get(value, "for"));
	const struct calendar *cal = sched_calendar(ctx->sched);
	struct deadline_row d;
	if (!key || !span || store_deadline_get(ctx->store, key, &d) != STORE_OK) {
		cmd_toast(ctx, "error", "找不到这条提醒，可能已经处理完毕。");
		return CMD_OK;
	}
	struct buf names;
	buf_init(&names);
	if (!concerns(d.people, ctx->ev->user_id, &names)) {
		char *msg = xasprintf("只有被提醒的人（%s）可以推迟这条提醒。", names.len ? (char *)names.data : "相关负责人");
		cmd_toast(ctx, "error", msg);
		free(msg);
		buf_free(&names);
		deadline_row_free(&d);
		return CMD_EPERM;
	}
	buf_free(&names);
	ms_t until;
	if (!strcmp(span, "next_workday")) {
		int y, m, day, minute;
		calendar_local_date(ctx->now, &y, &m, &day, &minute);
		/* The first working-hours start after today's midnight. */
		until = calendar_next_work_start(cal, calendar_local_time(y, m, day, 24 * 60));
	} else {
		until = calendar_next_work_start(cal, ctx->now + 3600000);
	}
	enum store_rc rc = strcmp(d.state, "open") ? STORE_NOTFOUND : sched_snooze(ctx->sched, key, until);
	if (rc == STORE_NOTFOUND) {
		cmd_toast(ctx, "info", "这条提醒已经没有待发送的内容了。");
	} else if (rc == STORE_OK) {
		int y, m, day, minute;
		calendar_local_date(until, &y, &m, &day, &minute);
		char *detail = xasprintf("{\"until\":%lld,\"for\":\"%s\"}", (long long)until,
					 !strcmp(span, "next_workday") ? "next_workday" : "1h");
		if (store_timeline_add(ctx->store, ctx->now, ctx->ev->user_id, "sla.snooze", key, detail) != STORE_OK)
			ctx->failed = 1;
		free(detail);
		char *msg = xasprintf("好的，将在 %d-%02d-%02d %02d:%02d 再提醒。", y, m, day, minute / 60, minute % 60);
		cmd_toast(ctx, "success", msg);
		free(msg);
	} else {
		ctx->failed = 1;
	}
	deadline_row_free(&d);
	return CMD_OK;
}

const struct bot_action action_sched_snooze = {
	.name = "sched.snooze",
	.run = run_snooze,
};
