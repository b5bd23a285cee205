/*
 * command.h - slash commands and card actions: parsing, the registry, dispatch.
 *
 * Each command is one `const struct bot_command` in its own file under
 * bot-commands/; bot_commands[] lists them all, and the help text is made from
 * that table.  The dispatcher does the shared work (parse, look up, run, turn
 * the handler's code into a reply) so handlers only do their command's job.
 * Card buttons are routed the same way through bot_actions[].
 */
#ifndef COLLABD_COMMAND_H
#define COLLABD_COMMAND_H

#include <jansson.h>
#include <stddef.h>

#include "collabd/clock.h"
#include "collabd/event.h"
#include "collabd/util.h"

struct store;
struct sched;
struct config;

/* A parsed command line:  "/需求 查看 2026-Q4-JSB-003\n名称：xxx\n背景: yyy" */
struct cmd_field {
	char *key;   /* owned */
	char *value; /* owned */
};

struct cmd_args {
	char *name;              /* the command word without its slash; owned */
	char **words;            /* the rest of the first line, split on blanks; owned */
	size_t nwords;
	struct cmd_field *fields; /* "key：value" / "key: value" lines; owned */
	size_t nfields;
	char **lines;            /* further lines that are not key/value; owned */
	size_t nlines;
};

/* Parses text.  Returns 1 and fills *out when text is a command (its first
 * non-blank character is '/' or the full-width '／'), 0 when it is not (out
 * untouched).  Free with cmd_args_free(). */
int cmd_parse(const char *text, struct cmd_args *out);
void cmd_args_free(struct cmd_args *args);
/* The value of the first field named key (or its alias), borrowed, or NULL. */
const char *cmd_field(const struct cmd_args *args, const char *key, const char *alias);

/* What the daemon tells commands about itself (for /状态). */
struct daemon_status {
	const char *version;
	ms_t started_at;
	int feishu_connected;
	int dingtalk_connected;
	long long outbox_pending;
	long long events_applied;
};

struct bucket_map;

/* What the daemon lends every command: set up once, shared by all events. */
struct cmd_env {
	struct store *store;                 /* for deadline hooks (events bring their own) */
	struct sched *sched;                 /* deadlines and reminders */
	const struct daemon_status *status;  /* for /状态 */
	struct bucket_map *user_rate;        /* commands per user (flood guard) */
	struct bucket_map *user_warned;      /* at most one "slow down" reply per user per minute */
	json_t *admins;                      /* borrowed: user ids who may edit the directory */
	int dedicated_chat;                  /* approved requests move to a group of their own */
	int issue_urgent_app;                /* buzz (Feishu urgent_app) those alerted of a 紧急 issue */
	int issue_dept_chats;                /* issue alerts also go to department chats */
	int progress_cutoff_min;             /* the daily update cut-off, minutes after midnight */
	int progress_escalate_after;         /* missed days in a row that reach the superior */
	const struct config *cfg;            /* borrowed: the running configuration (archive, management) */
};

/* Everything a handler may touch.  Handlers add notices through cmd_reply_*()
 * and cmd_notice(); those rows join the caller's transaction. */
struct cmd_ctx {
	struct store *store;
	struct sched *sched;    /* deadlines and reminders, in the same transaction */
	const struct cmd_env *env;
	const struct event *ev;
	const struct daemon_status *status;
	ms_t now;
	int failed;             /* a notice could not be stored: the event must not be acked */
	json_t *card_response;  /* card actions: the reply shown to the clicker (new ref) */
	json_t *outcome;        /* card actions: the decision this click took, {label, by, at, detail} (new ref) */
	json_t *card_redraw;    /* card actions: the clicked card as it must look now, {kind, body} (new ref) */
	int card_still_open;    /* card actions: a redraw keeps the card's buttons (cmd_outcome) */
};

enum cmd_rc {
	CMD_OK = 0,
	CMD_EUSAGE,     /* wrong arguments: the dispatcher answers with the usage line */
	CMD_EPERM,      /* not allowed: the handler has already said who may */
	CMD_ENOTFOUND,  /* the handler has already said what was not found */
	CMD_EINTERNAL,  /* a store error: the event is not acknowledged */
};

/*
 * One subcommand as a row: "/需求 批准 编号" is { "批准", "approve", 1, 1, 0,
 * "/需求 批准 编号", run }.  The dispatcher finds the row whose word (exactly)
 * or alias (any case) is the first word, checks the words after it and the
 * fields, and answers with the row's usage when they do not fit (or when run
 * returns CMD_EUSAGE).  run sees the whole command: args->words[0] is the
 * subcommand's word.
 */
struct bot_subcommand {
	const char *word;      /* Chinese word; NULL ends the table */
	const char *alias;     /* English alias */
	int min_words;         /* words after the subcommand's own */
	int max_words;
	int needs_fields;      /* at least one "key：value" line */
	const char *usage;     /* one line, e.g. "/需求 批准 编号" */
	enum cmd_rc (*run)(struct cmd_ctx *ctx, const struct cmd_args *args);
};

struct bot_command {
	const char *name;      /* Chinese name, without the slash */
	const char *alias;     /* English alias */
	const char *usage;     /* one line, e.g. "/帮助 [命令]" */
	const char *summary;   /* one line for the help list */
	/* The command without a subcommand (no word, or a first word that is
	 * none of subs'). */
	enum cmd_rc (*run)(struct cmd_ctx *ctx, const struct cmd_args *args);
	const struct bot_subcommand *subs; /* may be NULL */
};

struct bot_action {
	const char *name;      /* the "action" value carried by the button */
	enum cmd_rc (*run)(struct cmd_ctx *ctx, json_t *value);
};

/* What the workflow does when a step of one of its deadlines fires (the
 * policy names the deadline's kind).  run() returns a SCHED_HOOK_* code; the
 * ctx has no real event: ctx->ev is a stand-in for the deadline's chat, with
 * user "collabd". */
struct deadline_row;
struct bot_hook {
	const char *policy;
	int (*run)(struct cmd_ctx *ctx, struct deadline_row *d, int step, int late);
};

extern const struct bot_command *const bot_commands[];
extern const size_t bot_command_count;
extern const struct bot_action *const bot_actions[];
extern const size_t bot_action_count;
extern const struct bot_hook *const bot_hooks[];
extern const size_t bot_hook_count;

/* A sched_hook_fn (arg: the struct cmd_env) that runs the bot_hooks. */
int cmd_dispatch_deadline(void *arg, struct deadline_row *d, int step, int late, ms_t now);

/* Finds a command by name or alias (case-insensitive for the alias). */
const struct bot_command *cmd_find(const char *name);
/* The row of c's subcommand called word (or its alias), or NULL. */
const struct bot_subcommand *cmd_find_sub(const struct bot_command *c, const char *word);
/* Returns 0 when no two commands share a name or alias, no two subcommands of
 * one command share a word or alias, and every row's arity is sane; else -1
 * (logged). */
int cmd_table_check(void);

/* 1 when a message event is for the bot: a command (first non-blank
 * character '/' or '／'), a mention of the bot, or a direct chat. */
int cmd_is_for_bot(const struct event *ev);
/* Runs a message event's command, if it is one, or answers a mention of the
 * bot with a hint.  Returns CMD_EINTERNAL when the store failed. */
enum cmd_rc cmd_dispatch_message(struct cmd_ctx *ctx);
/* Runs a card action.  Sets ctx->card_response. */
enum cmd_rc cmd_dispatch_action(struct cmd_ctx *ctx);

/* Enqueues a text reply to the event's message (mentions may be NULL). */
void cmd_reply_text(struct cmd_ctx *ctx, const char *text);
/* Enqueues a notice of kind with body (body is borrowed).  update_of, when
 * set, names a card message to update in place instead of sending anew. */
void cmd_notice(struct cmd_ctx *ctx, const char *kind, json_t *body, const char *update_of);
/* Enqueues a reply to the event's message (as cmd_notice()) that is the
 * message about subject, for later updates (cmd_notice_about(), cmd_outcome_about()). */
void cmd_reply_about(struct cmd_ctx *ctx, const char *kind, json_t *body, const char *subject);
/* Enqueues a notice to chat_id about subject (e.g. "request:2026-Q4-JSB-001",
 * or NULL): a new message, or, with update set, an in-place update of the
 * message first sent about that subject. */
void cmd_notice_about(struct cmd_ctx *ctx, const char *kind, json_t *body, const char *chat_id,
		      const char *subject, int update);
struct request_row;
/* Loads request id into *r (free with request_row_free()) for a command.
 * CMD_OK; CMD_ENOTFOUND after telling the user there is no such request;
 * CMD_EINTERNAL when the store failed. */
enum cmd_rc cmd_load_request(struct cmd_ctx *ctx, const char *id, struct request_row *r);
/* Its twin for objections: word is the number as typed.  CMD_OK with *id and
 * the objection's request, department and state (each owned by the caller);
 * CMD_ENOTFOUND after telling the user there is no such objection (word not a
 * number, or no row); CMD_EINTERNAL when the store failed (nothing said: the
 * event is not acknowledged and comes again). */
enum cmd_rc cmd_load_objection(struct cmd_ctx *ctx, const char *word, int64_t *id, char **request_id, char **dept,
			       char **state);
struct access_asker;
/* The event's sender as access.h sees them (today is filled in and must
 * outlive *a). */
void cmd_asker(const struct cmd_ctx *ctx, struct access_asker *a, char today[11]);
/* CMD_OK when the sender may see request r (the one rule, access.h).
 * Otherwise tells them who may -- a reply, or a toast for a card click --
 * showing nothing of the request, and returns CMD_EPERM.  what: the verb for
 * the refusal, e.g. "查看". */
enum cmd_rc cmd_may_see(struct cmd_ctx *ctx, const struct request_row *r, const char *what);
/* Adds a "link" to the board page of request_id (NULL: the board's front
 * page) to a generic card body, when board.public_url is configured. */
void cmd_card_link(const struct cmd_ctx *ctx, json_t *card, const char *request_id);
/* Sets the toast shown to whoever clicked (card actions). */
void cmd_toast(struct cmd_ctx *ctx, const char *type, const char *text);

/*
 * A card shows its outcome.  A handler whose click took a decision calls
 * cmd_outcome() once it is stored: the toast then says the outcome, who and
 * when, and the clicked card is redrawn with the same words -- as first sent,
 * minus its buttons and forms (kept when still_open: a card others go on
 * using, like the daily progress form), unless the handler redraws it itself
 * (with the buttons that still apply) through cmd_redraw_card() or an update
 * of the card's subject with cmd_notice_about().  label is what was decided
 * ("已批准"), detail an optional line under it (a reason); both are copied.
 *
 * How the clicked card is redrawn is the platform's business: Feishu locks a
 * card while its click is handled, so the new card travels in the callback's
 * own response; elsewhere it is an in-place update from the outbox.
 */
void cmd_outcome(struct cmd_ctx *ctx, const char *label, const char *detail, int still_open);
/* The card first sent about subject (see cmd_reply_about()) now shows an
 * outcome -- label and detail copied, by the event's user, at ctx->now --
 * without buttons, forms or mentions: updated in place in chat_id, or in the
 * click's reply when it is the clicked card.  So a decision typed as a
 * command does not leave a card with live buttons behind.  Nothing when no
 * card was sent about subject, or where the cards cannot all be edited in
 * place (DingTalk without its card template: markdown). */
void cmd_outcome_about(struct cmd_ctx *ctx, const char *subject, const char *chat_id, const char *label,
		       const char *detail);
/* The clicked card becomes a notice of kind with body (borrowed), plus the
 * outcome if there is one.  Outside a card action it does nothing. */
void cmd_redraw_card(struct cmd_ctx *ctx, const char *kind, json_t *body);
/* After a card action's handler: turns ctx->outcome and ctx->card_redraw into
 * the reply ({"toast":…, "card":{"kind","body"}}) or an outbox update.  Called
 * by cmd_dispatch_action(). */
void cmd_finish_card(struct cmd_ctx *ctx);

/* A short, safe copy of user text for echoing in a reply (at most 24
 * characters, control characters blanked); caller frees. */
char *cmd_echo(const char *text);

/* How many problems a reply lists before "…及其他 N 项": a form of thousands
 * of unknown lines must not become a reply of hundreds of KB. */
#define CMD_PROBLEMS_SHOWN 10
/* Appends the problems (a JSON array of strings) to b, numbered one a line,
 * the first CMD_PROBLEMS_SHOWN of them and then how many more there are. */
void cmd_list_problems(struct buf *b, json_t *problems);

/* Resolves an "@name" word of the command to the mentioned user's id and
 * name (both borrowed from the event).  Returns 0, or -1 when the word is no
 * mention of this message. */
int cmd_mention(const struct cmd_ctx *ctx, const char *word, const char **id, const char **name);
/* 1 when the sender is a configured admin. */
int cmd_is_admin(const struct cmd_ctx *ctx);
/* Today's date in the configured zone, "YYYY-MM-DD" (out has room for 11). */
void cmd_today(const struct cmd_ctx *ctx, char out[11]);

/* The help text, made from the table; caller frees. */
char *cmd_help_text(void);

#endif
