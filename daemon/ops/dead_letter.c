/*
 * dead_letter.c - dead letters: events that failed to apply too often (see
 * inbox.h), kept with their payload and error, and replayed on request.
 *
 * `collabd dead-letters` lists them; `collabd dead-letters --retry ID`
 * marks one for replay in the database and asks the running daemon (admin
 * interface, POST /dead-letters/retry) to replay what is marked.  The daemon
 * is the one that replays -- it owns the scheduler and the outbox the event's
 * effects need -- and it also replays marked rows at start-up, so a retry
 * asked while it is down happens when it comes back.  The endpoint takes no
 * input: it only acts on what the database says, which the admin interface
 * cannot change.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collabd/config.h"
#include "collabd/daemon.h"
#include "collabd/event.h"
#include "collabd/feishu.h"
#include "collabd/inbox.h"
#include "collabd/log.h"
#include "collabd/outbox.h"
#include "collabd/sched.h"
#include "collabd/store.h"
#include "collabd/store_dead.h"
#include "collabd/tool.h"
#include "collabd/util.h"

/* Parses the stored payload the way its platform's adapter did. */
static int parse_again(struct daemon *d, json_t *row, const struct buf *payload, struct event *ev, char *why,
		       size_t whysz)
{
	const char *platform = json_string_value(json_object_get(row, "platform"));
	const char *text = payload->len ? (const char *)payload->data : "";
	if (platform && !strcmp(platform, "feishu"))
		return feishu_event_parse(text, payload->len, d->feishu_api ? feishu_api_bot_id(d->feishu_api) : NULL,
					  ev, why, whysz);
	return dingtalk_parse_callback(json_string_value(json_object_get(row, "topic")), text, payload->len,
				       json_string_value(json_object_get(row, "frame_id")), ev, why, whysz);
}

/* Replays dead letter id (in state "retry"): applied -> "replayed", else
 * back to "dead" with the new error.  Returns 1 when applied. */
static int replay_one(struct daemon *d, int64_t id, char *err, size_t errsz)
{
	json_t *row = NULL;
	struct buf payload;
	buf_init(&payload);
	if (store_dead_letter_get(d->store, id, &row, &payload) != STORE_OK) {
		snprintf(err, errsz, "cannot read it: %s", store_errmsg(d->store));
		return 0;
	}
	buf_append(&payload, "", 1); /* parsers may want a terminator; len stays the payload's */
	payload.len--;
	struct event ev;
	int applied = 0;
	if (parse_again(d, row, &payload, &ev, err, errsz) == EVENT_PARSE_OK) {
		json_t *card_response = NULL;
		struct daemon_status status;
		daemon_status_get(d, &status);
		d->env.status = &status;
		if (store_begin(d->store) == STORE_OK &&
		    store_inbox_forget(d->store, ev.platform, ev.dedupe_key) == STORE_OK &&
		    inbox_apply_in_transaction(d->store, &d->env, &ev, &card_response, err, errsz) == INBOX_APPLIED &&
		    store_dead_letter_move(d->store, id, "retry", "replayed", NULL, clock_now_ms()) == STORE_OK &&
		    store_commit(d->store) == STORE_OK)
			applied = 1;
		else if (!err[0])
			snprintf(err, errsz, "%s", store_errmsg(d->store));
		d->env.status = NULL;
		json_decref(card_response);
		store_rollback(d->store);
		event_free(&ev);
	}
	if (!applied && store_dead_letter_move(d->store, id, "retry", "dead", err, clock_now_ms()) != STORE_OK)
		log_error("msg=\"cannot put a dead letter back\" id=%lld error=\"%s\"", (long long)id,
			  store_errmsg(d->store));
	json_decref(row);
	buf_free(&payload);
	return applied;
}

json_t *daemon_replay_dead_letters(struct daemon *d)
{
	json_t *ids = store_dead_letter_retry_ids(d->store), *results = json_array();
	size_t i;
	json_t *v;
	int replayed = 0;
	json_array_foreach(ids, i, v) {
		int64_t id = json_integer_value(v);
		char err[512] = "";
		int ok = replay_one(d, id, err, sizeof err);
		replayed += ok;
		if (ok)
			log_warn("msg=\"dead letter replayed\" id=%lld", (long long)id);
		else
			log_error("msg=\"dead letter replay failed; kept\" id=%lld error=\"%s\"", (long long)id, err);
		json_array_append_new(results, json_pack("{s:I,s:s,s:s?}", "id", (json_int_t)id, "state",
							 ok ? "replayed" : "dead", "error", ok ? NULL : err));
	}
	json_decref(ids);
	if (replayed) {
		outbox_kick(d->outbox);
		sched_kick(d->sched);
	}
	return json_pack("{s:i,s:o}", "replayed", replayed, "results", results);
}

/* ---- the operator tool ---- */

static void print_list(struct store *st)
{
	json_t *rows = store_dead_letter_list(st, 100);
	if (!rows) {
		fprintf(stderr, "collabd: dead-letters: cannot read: %s\n", store_errmsg(st));
		return;
	}
	if (json_array_size(rows) == 0)
		printf("no dead letters\n");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		const char *chat = json_string_value(json_object_get(r, "chat_id"));
		const char *user = json_string_value(json_object_get(r, "user_id"));
		printf("%lld\t%s\t%s\t%s\tchat=%s user=%s attempts=%lld\t%s\n",
		       (long long)json_integer_value(json_object_get(r, "id")),
		       json_string_value(json_object_get(r, "state")), json_string_value(json_object_get(r, "platform")),
		       json_string_value(json_object_get(r, "dedupe_key")), chat ? chat : "-", user ? user : "-",
		       (long long)json_integer_value(json_object_get(r, "attempts")),
		       json_string_value(json_object_get(r, "error")));
	}
	json_decref(rows);
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	buf_append(arg, data, size * n);
	return size * n;
}

/* Asks the running daemon to replay what is marked; 0 when it answered. */
static int poke_daemon(const struct config *cfg, struct buf *answer)
{
	if (!cfg->admin_port)
		return -1;
	char url[300];
	/* Every interface includes loopback: ask there. */
	const char *host = !strcmp(cfg->admin_listen, "0.0.0.0") || !strcmp(cfg->admin_listen, "*") ? "127.0.0.1"
			   : !strcmp(cfg->admin_listen, "::") ? "[::1]" : cfg->admin_listen;
	snprintf(url, sizeof url, "http://%s:%d/dead-letters/retry", host, cfg->admin_port);
	CURL *c = curl_easy_init();
	if (!c)
		return -1;
	/* The admin interface takes only JSON POSTs, and its token when one is set. */
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	char *auth = cfg->admin_token && *cfg->admin_token ? xasprintf("Authorization: Bearer %s", cfg->admin_token) : NULL;
	if (auth)
		headers = curl_slist_append(headers, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
	long status = 0;
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	free(auth);
	return rc == CURLE_OK && status == 200 ? 0 : -1;
}

int dead_letters_tool(const struct config *cfg, int argc, char **argv)
{
	int64_t retry = 0;
	if (argc == 3 && !strcmp(argv[1], "--retry")) {
		char *end;
		retry = strtoll(argv[2], &end, 10);
		if (*end || retry <= 0)
			retry = -1;
	}
	if ((argc != 1 && argc != 3) || retry < 0) {
		fprintf(stderr, "usage: collabd [--config FILE] dead-letters [--retry ID]\n");
		return 2;
	}
	char err[512];
	struct store *st;
	if (store_open(cfg->database, &st, err, sizeof err) != STORE_OK) {
		fprintf(stderr, "collabd: %s: %s\n", cfg->database, err);
		return 1;
	}
	if (!retry) {
		print_list(st);
		store_close(st);
		return 0;
	}
	enum store_rc rc = store_dead_letter_move(st, retry, "dead", "retry", NULL, clock_now_ms());
	if (rc == STORE_NOTFOUND)
		rc = store_dead_letter_move(st, retry, "retry", "retry", NULL, clock_now_ms());
	store_close(st);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "collabd: dead-letters: no dead letter %lld waiting (see `collabd dead-letters`)\n",
			(long long)retry);
		return 1;
	}
	if (rc != STORE_OK) {
		fprintf(stderr, "collabd: dead-letters: cannot mark %lld for replay\n", (long long)retry);
		return 1;
	}
	struct buf answer;
	buf_init(&answer);
	int exit_code = 0;
	if (poke_daemon(cfg, &answer)) {
		printf("dead letter %lld marked for replay; the daemon replays it when it (re)starts "
		       "(it did not answer on its admin interface)\n", (long long)retry);
	} else {
		json_t *doc = json_loadb((const char *)answer.data, answer.len, 0, NULL);
		size_t i;
		json_t *r;
		int found = 0;
		json_array_foreach(json_object_get(doc, "results"), i, r) {
			if (json_integer_value(json_object_get(r, "id")) != retry)
				continue;
			found = 1;
			const char *e = json_string_value(json_object_get(r, "error"));
			printf("dead letter %lld: %s%s%s\n", (long long)retry,
			       json_string_value(json_object_get(r, "state")), e ? ": " : "", e ? e : "");
			if (e)
				exit_code = 1;
		}
		if (!found)
			printf("dead letter %lld marked for replay\n", (long long)retry);
		json_decref(doc);
	}
	buf_free(&answer);
	return exit_code;
}
