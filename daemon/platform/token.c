/*
 * token.c - the shared access-token cache.
 */
#include "collabd/token.h"

#include <stdlib.h>
#include <string.h>

#include "collabd/clock.h"
#include "collabd/util.h"

struct waiter {
	token_ready_fn ready;
	void *arg;
	struct waiter *next;
};

struct token_cache {
	token_fetch_fn fetch;
	void *impl;
	char *token;
	ms_t refresh_at;   /* monotonic */
	int fetching;
	struct waiter *waiting;
	long long fetches;
};

struct token_cache *token_cache_new(token_fetch_fn fetch, void *impl)
{
	struct token_cache *tc = xcalloc(1, sizeof *tc);
	tc->fetch = fetch;
	tc->impl = impl;
	return tc;
}

/* Hands the outcome to every waiter.  The list is taken first: a waiter may
 * queue itself again (e.g. a retry after a rejected token). */
static void wake(struct token_cache *tc, const char *error)
{
	struct waiter *list = tc->waiting;
	tc->waiting = NULL;
	while (list) {
		struct waiter *w = list;
		list = list->next;
		w->ready(w->arg, error ? NULL : tc->token, error);
		free(w);
	}
}

void token_cache_free(struct token_cache *tc)
{
	if (!tc)
		return;
	wake(tc, "shutting down");
	free(tc->token);
	free(tc);
}

void token_cache_with(struct token_cache *tc, token_ready_fn ready, void *arg)
{
	if (tc->token && clock_mono_ms() < tc->refresh_at) {
		ready(arg, tc->token, NULL);
		return;
	}
	struct waiter *w = xcalloc(1, sizeof *w);
	w->ready = ready;
	w->arg = arg;
	w->next = tc->waiting;
	tc->waiting = w;
	if (!tc->fetching) {
		tc->fetching = 1;
		tc->fetches++;
		tc->fetch(tc->impl);
	}
}

void token_cache_set(struct token_cache *tc, const char *token, long long expires_in_s)
{
	long long margin = expires_in_s > 600 ? 300 : expires_in_s / 2;
	free(tc->token);
	tc->token = xstrdup(token);
	tc->refresh_at = clock_mono_ms() + (expires_in_s - margin) * 1000;
	tc->fetching = 0;
	wake(tc, NULL);
}

void token_cache_failed(struct token_cache *tc, const char *why)
{
	tc->fetching = 0;
	wake(tc, why);
}

void token_cache_invalidate(struct token_cache *tc, const char *token)
{
	if (tc->token && (!token || !strcmp(tc->token, token))) {
		free(tc->token);
		tc->token = NULL;
	}
}

long long token_cache_fetches(const struct token_cache *tc) { return tc->fetches; }
