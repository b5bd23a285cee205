/*
 * table.c - the registry: every slash command and card action the bot knows.
 *
 * Adding a command is adding its file and one line here.  The help text and
 * the dispatcher read only this table.  Order is the order of /帮助.  A
 * command's subcommands are rows of its own (struct bot_subcommand, defined
 * beside the command), which the dispatcher matches, checks and explains.
 */
#include "collabd/command.h"

extern const struct bot_command cmd_help;
extern const struct bot_command cmd_status;
extern const struct bot_command cmd_remind;
extern const struct bot_command cmd_dept;
extern const struct bot_command cmd_req;
extern const struct bot_action action_req_approve;
extern const struct bot_action action_req_reject;
extern const struct bot_action action_req_submit;
extern const struct bot_command cmd_confirm;
extern const struct bot_command cmd_object;
extern const struct bot_action action_req_confirm;
extern const struct bot_action action_req_object;
extern const struct bot_action action_obj_answer;
extern const struct bot_action action_status_refresh;
extern const struct bot_action action_sched_snooze;
extern const struct bot_command cmd_issue;
extern const struct bot_action action_issue_submit;
extern const struct bot_action action_issue_respond;
extern const struct bot_action action_issue_solution;
extern const struct bot_action action_issue_resolve;
extern const struct bot_action action_issue_reopen;
extern const struct bot_hook hook_issue_alert;
extern const struct bot_command cmd_progress;
extern const struct bot_command cmd_board;
extern const struct bot_action action_progress_submit;
extern const struct bot_hook hook_daily_progress;
extern const struct bot_command cmd_retro;
extern const struct bot_command cmd_archive;
extern const struct bot_action action_req_complete;
extern const struct bot_action action_retro_answer;

const struct bot_command *const bot_commands[] = {
	&cmd_help,
	&cmd_req,
	&cmd_confirm,
	&cmd_object,
	&cmd_progress,
	&cmd_board,
	&cmd_issue,
	&cmd_retro,
	&cmd_archive,
	&cmd_dept,
	&cmd_status,
	&cmd_remind,
};
const size_t bot_command_count = sizeof bot_commands / sizeof bot_commands[0];

const struct bot_action *const bot_actions[] = {
	&action_status_refresh,
	&action_sched_snooze,
	&action_req_approve,
	&action_req_reject,
	&action_req_submit,
	&action_req_confirm,
	&action_req_object,
	&action_obj_answer,
	&action_issue_submit,
	&action_issue_respond,
	&action_issue_solution,
	&action_issue_resolve,
	&action_issue_reopen,
	&action_progress_submit,
	&action_req_complete,
	&action_retro_answer,
};
const size_t bot_action_count = sizeof bot_actions / sizeof bot_actions[0];

/* Deadline hooks, by SLA policy: what the workflow does when a step fires. */
const struct bot_hook *const bot_hooks[] = {
	&hook_daily_progress,
	&hook_issue_alert,
};
const size_t bot_hook_count = sizeof bot_hooks / sizeof bot_hooks[0];
