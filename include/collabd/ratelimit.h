/*
 * ratelimit.h - token buckets for outbound sends: one per platform app, one
 * per chat.  Time is monotonic milliseconds (never the test clock: the
 * platform's limits run on real time).
 */
#ifndef COLLABD_RATELIMIT_H
#define COLLABD_RATELIMIT_H

#include <stddef.h>

#include "collabd/clock.h"

struct token_bucket {
	double tokens;
	double rate_per_ms;  /* refill */
	double burst;        /* capacity */
	ms_t last;
};

void bucket_init(struct token_bucket *b, double per_second, double burst, ms_t now);
/* Takes a token if there is one: 1, else 0. */
int bucket_take(struct token_bucket *b, ms_t now);
/* Milliseconds until a token will be there (0 if one is). */
ms_t bucket_wait(struct token_bucket *b, ms_t now);

/* Buckets per key (a chat id), created on first use; idle full buckets are
 * dropped, so memory follows the number of recently active chats. */
struct bucket_map;

struct bucket_map *bucket_map_new(double per_second, double burst);
void bucket_map_free(struct bucket_map *m);
/* The bucket for key (borrowed; valid until the next call). */
struct token_bucket *bucket_map_get(struct bucket_map *m, const char *key, ms_t now);
size_t bucket_map_size(const struct bucket_map *m);

#endif
