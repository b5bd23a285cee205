/*
 * token.h - an access-token cache that both platforms' API clients share.
 *
 * One fetch at a time serves every waiter; a token is used until shortly
 * before it expires (5 minutes early, or at half-life for short-lived ones);
 * a rejected token is dropped so the next use fetches a new one.
 */
#ifndef COLLABD_TOKEN_H
#define COLLABD_TOKEN_H

struct token_cache;

/* Starts fetching a token; the owner later calls token_cache_set() or
 * token_cache_failed() exactly once (possibly from inside this call). */
typedef void (*token_fetch_fn)(void *impl);
/* Called once a token is there (error NULL, token borrowed for the call) or
 * the fetch failed (token NULL). */
typedef void (*token_ready_fn)(void *arg, const char *token, const char *error);

struct token_cache *token_cache_new(token_fetch_fn fetch, void *impl);
/* Every waiter is called with the error "shutting down" so it can free its arg. */
void token_cache_free(struct token_cache *tc);
/* Calls ready now if a fresh token is cached, else after the next fetch. */
void token_cache_with(struct token_cache *tc, token_ready_fn ready, void *arg);
void token_cache_set(struct token_cache *tc, const char *token, long long expires_in_s);
void token_cache_failed(struct token_cache *tc, const char *why);
/* Drops token if it is still the cached one (the platform rejected it). */
void token_cache_invalidate(struct token_cache *tc, const char *token);
long long token_cache_fetches(const struct token_cache *tc);

#endif
