/*
 * command.c - the command-line parser, the dispatcher, and the reply helpers.
 *
 * Dispatch order (shared checks live here, never in handlers): only text;
 * parse; look up by name or alias; run; turn the handler's code into a reply.
 * Every path that the user can see ends in an answer -- unknown commands and
 * bad arguments included -- never silence.
 */
#include "collabd/command.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "collabd/access.h"
#include "collabd/config.h"
#include "collabd/log.h"
#include "collabd/ratelimit.h"
#include "collabd/sched.h"
#include "collabd/webboard.h"
#include "collabd/store.h"

/* Length of a blank (ASCII blank or the ideographic space U+3000) at p, or 0. */
static size_t blank_len(const char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\r')
		return 1;
	if (!strncmp(p, "\xE3\x80\x80", 3))
		return 3;
	return 0;
}

static const char *skip_blanks(const char *p)
{
	size_t n;
	while ((n = blank_len(p)))
		p += n;
	return p;
}

/* Copies [p, end) without leading and trailing blanks. */
static char *trimmed_copy(const char *p, const char *end)
{
	p = skip_blanks(p);
	while (end > p) {
		if (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')
			end--;
		else if (end - p >= 3 && !strncmp(end - 3, "\xE3\x80\x80", 3))
			end -= 3;
		else
			break;
	}
	return xstrndup(p, (size_t)(end - p));
}

/* Finds the first ':' or '：' in [p, end); sets *seplen. */
static const char *find_colon(const char *p, const char *end, size_t *seplen)
{
	for (; p < end; p++) {
		if (*p == ':') {
			*seplen = 1;
			return p;
		}
		if (end - p >= 3 && !strncmp(p, "\xEF\xBC\x9A", 3)) {
			*seplen = 3;
			return p;
		}
	}
	return NULL;
}

static void push_word(struct cmd_args *a, char *w)
{
	a->words = xrealloc(a->words, (a->nwords + 1) * sizeof *a->words);
	a->words[a->nwords++] = w;
}

static void parse_line(struct cmd_args *a, const char *p, const char *end)
{
	size_t seplen;
	const char *colon = find_colon(p, end, &seplen);
	if (colon) {
		char *key = trimmed_copy(p, colon);
		/* A key is a short label; anything else (e.g. a URL, whose ':' is
		 * followed by "//") is a plain line. */
		int url = seplen == 1 && !strncmp(colon + 1, "//", 2);
		if (*key && !url && strlen(key) <= 40 && !strpbrk(key, " \t/")) {
			a->fields = xrealloc(a->fields, (a->nfields + 1) * sizeof *a->fields);
			a->fields[a->nfields].key = key;
			a->fields[a->nfields].value = trimmed_copy(colon + seplen, end);
			a->nfields++;
			return;
		}
		free(key);
	}
	char *line = trimmed_copy(p, end);
	if (!*line) {
		free(line);
		return;
	}
	a->lines = xrealloc(a->lines, (a->nlines + 1) * sizeof *a->lines);
	a->lines[a->nlines++] = line;
}

/* Where the command's name starts in text (after its slash), or NULL when
 * text is no command. */
static const char *command_start(const char *text)
{
	const char *p = text;
	/* Leading mentions ("@collabd /帮助") are not part of the command. */
	for (;;) {
		p = skip_blanks(p);
		while (*p == '\n')
			p = skip_blanks(p + 1);
		if (*p != '@')
			break;
		while (*p && *p != '\n' && !blank_len(p))
			p++;
	}
	if (*p == '/')
		return p + 1;
	if (!strncmp(p, "\xEF\xBC\x8F", 3)) /* full-width solidus */
		return p + 3;
	return NULL;
}

int cmd_parse(const char *text, struct cmd_args *out)
{
	const char *p = command_start(text);
	if (!p)
		return 0;

	memset(out, 0, sizeof *out);
	const char *name = p;
	while (*p && *p != '\n' && !blank_len(p))
		p++;
	out->name = xstrndup(name, (size_t)(p - name));

	/* The rest of the first line: blank-separated words. */
	for (;;) {
		p = skip_blanks(p);
		if (!*p || *p == '\n')
			break;
		const char *w = p;
		while (*p && *p != '\n' && !blank_len(p))
			p++;
		push_word(out, xstrndup(w, (size_t)(p - w)));
	}
	/* Further lines: "key：value" fields or free lines. */
	while (*p == '\n') {
		const char *line = ++p;
		while (*p && *p != '\n')
			p++;
		parse_line(out, line, p);
	}
	return 1;
}

void cmd_args_free(struct cmd_args *a)
{
	free(a->name);
	for (size_t i = 0; i < a->nwords; i++)
		free(a->words[i]);
	free(a->words);
	for (size_t i = 0; i < a->nfields; i++) {
		free(a->fields[i].key);
		free(a->fields[i].value);
	}
	free(a->fields);
	for (size_t i = 0; i < a->nlines; i++)
		free(a->lines[i]);
	free(a->lines);
	memset(a, 0, sizeof *a);
}

const char *cmd_field(const struct cmd_args *a, const char *key, const char *alias)
{
	for (size_t i = 0; i < a->nfields; i++)
		if (!strcmp(a->fields[i].key, key) || (alias && !strcasecmp(a->fields[i].key, alias)))
			return a->fields[i].value;
	return NULL;
}

const struct bot_command *cmd_find(const char *name)
{
	for (size_t i = 0; i < bot_command_count; i++) {
		const struct bot_command *c = bot_commands[i];
		if (!strcmp(c->name, name) || !strcasecmp(c->alias, name))
			return c;
	}
	return NULL;
}

const struct bot_subcommand *cmd_find_sub(const struct bot_command *c, const char *word)
{
	for (const struct bot_subcommand *s = c->subs; s && s->word; s++)
		if (!strcmp(s->word, word) || (s->alias && !strcasecmp(s->alias, word)))
			return s;
	return NULL;
}

static int subs_check(const struct bot_command *c)
{
	int ok = 0;
	for (const struct bot_subcommand *a = c->subs; a && a->word; a++) {
		if (a->min_words < 0 || a->max_words < a->min_words || !a->usage || !a->run) {
			log_error("msg=\"subcommand row malformed\" command=%s sub=%s", c->name, a->word);
			ok = -1;
		}
		for (const struct bot_subcommand *b = a + 1; b->word; b++)
			if (!strcmp(a->word, b->word) || (a->alias && b->alias && !strcasecmp(a->alias, b->alias))) {
				log_error("msg=\"subcommand table clash\" command=%s a=%s b=%s", c->name, a->word, b->word);
				ok = -1;
			}
	}
	return ok;
}

int cmd_table_check(void)
{
	int ok = 0;
	for (size_t i = 0; i < bot_command_count; i++)
		if (subs_check(bot_commands[i]))
			ok = -1;
	for (size_t i = 0; i < bot_command_count; i++)
		for (size_t j = i + 1; j < bot_command_count; j++) {
			const struct bot_command *a = bot_commands[i], *b = bot_commands[j];
			if (!strcmp(a->name, b->name) || !strcasecmp(a->alias, b->alias) ||
			    !strcmp(a->name, b->alias) || !strcasecmp(a->alias, b->name)) {
				log_error("msg=\"command table clash\" a=%s b=%s", a->name, b->name);
				ok = -1;
			}
		}
	return ok;
}

char *cmd_help_text(void)
{
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "collabd 跨部门协作助手 · 可用命令\n");
	for (size_t i = 0; i < bot_command_count; i++) {
		const struct bot_command *c = bot_commands[i];
		buf_printf(&b, "/%s（/%s）  %s\n    用法：%s\n", c->name, c->alias, c->summary, c->usage);
	}
	buf_append_str(&b, "命令与参数之间用空格分隔；多项内容可每行写一项「字段：内容」。");
	return buf_steal(&b);
}

int cmd_dispatch_deadline(void *arg, struct deadline_row *d, int step, int late, ms_t now)
{
	const struct cmd_env *env = arg;
	for (size_t i = 0; i < bot_hook_count; i++) {
		if (strcmp(bot_hooks[i]->policy, d->policy))
			continue;
		struct event ev = { .platform = !strcmp(d->platform, "dingtalk") ? "dingtalk" : "feishu",
				    .kind = EVENT_OTHER, .chat_id = d->chat_id, .user_id = "collabd" };
		struct cmd_ctx ctx = { .store = env->store, .sched = env->sched, .env = env, .ev = &ev,
				       .status = env->status, .now = now };
		unsigned long errors_before = store_error_count(env->store);
		int rc = bot_hooks[i]->run(&ctx, d, step, late);
		json_decref(ctx.card_response);
		return ctx.failed || store_error_count(env->store) != errors_before ? SCHED_HOOK_ERROR : rc;
	}
	return SCHED_HOOK_PING;
}

enum cmd_rc cmd_load_request(struct cmd_ctx *ctx, const char *id, struct request_row *r)
{
	enum store_rc rc = store_request_get(ctx->store, id, r);
	if (rc == STORE_OK)
		return CMD_OK;
	if (rc != STORE_NOTFOUND)
		return CMD_EINTERNAL;
	char *safe = cmd_echo(id);
	char *msg = xasprintf("没有编号为 %s 的需求。用 /需求 列表 查看你的需求。", safe);
	cmd_reply_text(ctx, msg);
	free(msg);
	free(safe);
	return CMD_ENOTFOUND;
}

enum cmd_rc cmd_load_objection(struct cmd_ctx *ctx, const char *word, int64_t *id, char **request_id, char **dept,
			       char **state)
{
	char *end;
	*request_id = *dept = *state = NULL;
	*id = strtoll(word, &end, 10);
	enum store_rc rc = *end || end == word ? STORE_NOTFOUND
					       : store_objection_get(ctx->store, *id, request_id, dept, state);
	if (rc == STORE_OK)
		return CMD_OK;
	if (rc != STORE_NOTFOUND)
		return CMD_EINTERNAL;
	char *safe = cmd_echo(word);
	char *msg = xasprintf("没有异议 %s。", safe);
	cmd_reply_text(ctx, msg);
	free(msg);
	free(safe);
	return CMD_ENOTFOUND;
}

void cmd_asker(const struct cmd_ctx *ctx, struct access_asker *a, char today[11])
{
	cmd_today(ctx, today);
	const struct config *cfg = ctx->env ? ctx->env->cfg : NULL;
	*a = (struct access_asker){ .user = ctx->ev->user_id, .chat_id = ctx->ev->chat_id, .day = today,
				    .admins = ctx->env ? ctx->env->admins : NULL,
				    .management_dept = cfg ? cfg->archive.management_dept : NULL };
}

enum cmd_rc cmd_may_see(struct cmd_ctx *ctx, const struct request_row *r, const char *what)
{
	char today[11];
	struct access_asker a;
	cmd_asker(ctx, &a, today);
	if (access_may_see(ctx->store, r, &a))
		return CMD_OK;
	char *msg = access_refusal(r->id, what);
	if (ctx->ev->kind == EVENT_CARD_ACTION)
		cmd_toast(ctx, "error", msg);
	else
		cmd_reply_text(ctx, msg);
	free(msg);
	log_info("msg=\"request content refused\" request=%s user=%s chat=%s", r->id, ctx->ev->user_id,
		 ctx->ev->chat_id ? ctx->ev->chat_id : "-");
	return CMD_EPERM;
}

static const char *const hint_text =
	"你好，我是跨部门协作助手 collabd。发送 /帮助 查看可用命令。";

static ms_t wall_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (ms_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One token of the user's bucket named kind ("cmd", or "warned" for the
 * slow-down reply): 1 taken, 0 none left, -1 the store failed (logged and
 * counted, so the event is not acked).  On a shared store the bucket is a
 * row of rate_buckets that every instance draws from, in the event's own
 * transaction, so a user who reaches three instances still gets one
 * allowance; refilled by wall-clock time like the platform limits.  Alone,
 * the bucket lives in this process (local is the default map). */
static int take_user_token(const struct cmd_ctx *ctx, struct bucket_map *local, const char *kind,
			   double per_second, double burst)
{
	if (ctx->store && store_is_shared(ctx->store)) {
		char key[256];
		snprintf(key, sizeof key, "user:%s:%s", kind, ctx->ev->user_id);
		return store_rate_try(ctx->store, key, per_second, burst, wall_clock_ms());
	}
	ms_t mono = clock_mono_ms();
	return bucket_take(bucket_map_get(local, ctx->ev->user_id, mono), mono);
}

/* The flood guard: each user has one bucket for commands and card clicks
 * alike (a click runs the same code and posts the same messages).  Past it,
 * one polite reply a minute, then silence -- a flood must not make the bot
 * flood too.  A refused click only gets its toast, which posts nothing. */
static int within_rate(struct cmd_ctx *ctx)
{
	const struct cmd_env *env = ctx->env;
	if (!env || !env->user_rate || !ctx->ev->user_id)
		return 1;
	double per_minute = env->cfg ? env->cfg->commands_per_minute : 20, burst = env->cfg ? env->cfg->commands_burst : 10;
	int taken = take_user_token(ctx, env->user_rate, "cmd", per_minute / 60.0, burst);
	if (taken < 0) {
		ctx->failed = 1; /* the store failed: not acked, redelivered */
		return 0;
	}
	if (taken)
		return 1;
	int click = ctx->ev->kind == EVENT_CARD_ACTION;
	log_info("msg=\"command rate limit\" user=%s chat=%s kind=%s", ctx->ev->user_id,
		 ctx->ev->chat_id ? ctx->ev->chat_id : "-", click ? "click" : "message");
	if (click) {
		cmd_toast(ctx, "error", "操作太频繁了，请稍等一分钟再点击。");
		return 0;
	}
	int warn = take_user_token(ctx, env->user_warned, "warned", 1 / 60.0, 1);
	if (warn < 0)
		ctx->failed = 1;
	else if (warn)
		cmd_reply_text(ctx, "操作太频繁了，请稍等一分钟再发送命令。");
	return 0;
}

int cmd_is_for_bot(const struct event *ev)
{
	if (ev->mentions_bot || (ev->chat_type && !strcmp(ev->chat_type, "p2p")))
		return 1;
	return ev->text && command_start(ev->text) != NULL;
}

enum cmd_rc cmd_dispatch_message(struct cmd_ctx *ctx)
{
	const struct event *ev = ctx->ev;
	int addressed = ev->mentions_bot || (ev->chat_type && !strcmp(ev->chat_type, "p2p"));
	if (!ev->text) {
		if (addressed)
			cmd_reply_text(ctx, "目前只能处理文字消息。发送 /帮助 查看可用命令。");
		return ctx->failed ? CMD_EINTERNAL : CMD_OK;
	}
	struct cmd_args args;
	int is_command = cmd_parse(ev->text, &args);
	if (!is_command && !addressed)
		return CMD_OK; /* ordinary chat: not for us */
	if (!within_rate(ctx)) {
		if (is_command)
			cmd_args_free(&args);
		return ctx->failed ? CMD_EINTERNAL : CMD_OK;
	}
	if (!is_command) {
		cmd_reply_text(ctx, hint_text);
		return ctx->failed ? CMD_EINTERNAL : CMD_OK;
	}
	const struct bot_command *c = cmd_find(args.name);
	enum cmd_rc rc = CMD_OK;
	if (!c) {
		char *name = cmd_echo(args.name);
		char *msg = xasprintf("未知命令：/%s\n发送 /帮助 查看可用命令。", name);
		free(name);
		cmd_reply_text(ctx, msg);
		free(msg);
	} else {
		log_debug("msg=\"command\" name=%s user=%s chat=%s", c->alias, ev->user_id, ev->chat_id);
		const struct bot_subcommand *sub = args.nwords ? cmd_find_sub(c, args.words[0]) : NULL;
		if (!sub)
			rc = c->run(ctx, &args);
		else if ((int)args.nwords - 1 < sub->min_words || (int)args.nwords - 1 > sub->max_words ||
			 (sub->needs_fields && !args.nfields))
			rc = CMD_EUSAGE;
		else
			rc = sub->run(ctx, &args);
		if (rc == CMD_EUSAGE) {
			char *msg = xasprintf("参数不正确。用法：%s\n发送 /帮助 查看全部命令。", sub ? sub->usage : c->usage);
			cmd_reply_text(ctx, msg);
			free(msg);
		}
	}
	cmd_args_free(&args);
	return ctx->failed ? CMD_EINTERNAL : rc;
}

enum cmd_rc cmd_dispatch_action(struct cmd_ctx *ctx)
{
	json_t *value = ctx->ev->action_value;
	const char *name = json_string_value(json_object_get(value, "action"));
	if (!within_rate(ctx))
		return ctx->failed ? CMD_EINTERNAL : CMD_OK;
	for (size_t i = 0; name && i < bot_action_count; i++) {
		if (!strcmp(bot_actions[i]->name, name)) {
			enum cmd_rc rc = bot_actions[i]->run(ctx, value);
			cmd_finish_card(ctx);
			return ctx->failed ? CMD_EINTERNAL : rc;
		}
	}
	cmd_toast(ctx, "error", "这个按钮已失效或无法识别，请发送 /帮助 查看可用命令。");
	return CMD_OK;
}

int cmd_mention(const struct cmd_ctx *ctx, const char *word, const char **id, const char **name)
{
	if (word[0] != '@')
		return -1;
	const struct event *ev = ctx->ev;
	for (size_t i = 0; i < ev->nmentions; i++) {
		const struct mention *m = &ev->mentions[i];
		const char *shown = m->name && *m->name ? m->name : m->id;
		if (!strcmp(shown, word + 1)) {
			*id = m->id;
			*name = shown;
			return 0;
		}
	}
	return -1;
}

int cmd_is_admin(const struct cmd_ctx *ctx)
{
	size_t i;
	json_t *a;
	json_array_foreach(ctx->env ? ctx->env->admins : NULL, i, a)
		if (json_is_string(a) && !strcmp(json_string_value(a), ctx->ev->user_id))
			return 1;
	return 0;
}

void cmd_today(const struct cmd_ctx *ctx, char out[11])
{
	time_t t = (time_t)(ctx->now / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}
