/*
 * board_words.c - the Chinese words the board shows for stored states.
 *
 * The database keeps English state names; people read these.  A state this
 * table does not know yet is shown as stored, never hidden.
 */
#include <string.h>

#include "collabd/issue.h"
#include "collabd/request.h"
#include "collabd/util.h"
#include "collabd/webboard.h"

static const char *const words[][3] = {
	{ "dept", "pending", "待确认" },
	{ "dept", "confirmed", "已确认" },
	{ "dept", "objected", "提出异议" },
	{ "dept", "overruled", "已推进" },
	{ "progress", "on_time", "按时更新" },
	{ "progress", "missed", "未更新" },
	{ "progress", "late", "补交" },
	{ "objection", "open", "待答复" },
	{ "objection", "accepted", "已采纳" },
	{ "objection", "overruled", "已推进" },
	{ "objection", "escalated", "已上报" },
	{ "objection", "revised", "已修订" },
	{ "timeline", "request.submitted", "提交需求" },
	{ "timeline", "request.rejected", "驳回" },
	{ "timeline", "request.resubmitted", "修改后重新提交" },
	{ "timeline", "request.approved", "批准" },
	{ "timeline", "request.confirmed", "确认" },
	{ "timeline", "request.objected", "提出异议" },
	{ "timeline", "objection.answered", "答复异议" },
	{ "timeline", "request.revised", "修订" },
	{ "timeline", "request.in_progress", "进入执行" },
	{ "timeline", "request.withdrawn", "撤回" },
	{ "timeline", "progress.started", "开始进度跟踪" },
	{ "timeline", "progress.updated", "更新进度" },
	{ "timeline", "progress.owner_set", "指定进度负责人" },
	{ "timeline", "progress.missed", "未按时更新进度" },
	{ "timeline", "progress.escalated", "进度升级" },
	{ "timeline", "sla.reminder", "到期提醒" },
	{ "timeline", "sla.overdue", "逾期提醒" },
	{ "timeline", "sla.escalation", "升级通知" },
	{ "timeline", "sla.snooze", "推迟提醒" },
	{ "timeline", "issue.reported", "反馈问题" },
	{ "timeline", "issue.responded", "响应问题" },
	{ "timeline", "issue.solution", "记录解决方案" },
	{ "timeline", "issue.resolved", "问题已解决" },
	{ "timeline", "issue.reopened", "重新打开问题" },
	{ "detail", "version", "版本" },
	{ "detail", "hash", "指纹" },
	{ "detail", "dept", "部门" },
	{ "detail", "reason", "原因" },
	{ "detail", "day", "日期" },
	{ "detail", "state", "状态" },
	{ "detail", "until", "推迟到" },
	{ "detail", "stage", "阶段" },
};

const char *board_label(const char *group, const char *value)
{
	if (!value)
		return "—";
	if (!strcmp(group, "request"))
		return req_state_label(value);
	if (!strcmp(group, "issue"))
		return issue_state_label(value);
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (!strcmp(words[i][0], group) && !strcmp(words[i][1], value))
			return words[i][2];
	return value;
}
