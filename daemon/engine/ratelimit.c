/*
 * ratelimit.c - token buckets, and a small map of them keyed by chat.
 */
#include "collabd/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "collabd/util.h"

static void refill(struct token_bucket *b, ms_t now)
{
	if (now > b->last) {
		b->tokens += (double)(now - b->last) * b->rate_per_ms;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
}

void bucket_init(struct token_bucket *b, double per_second, double burst, ms_t now)
{
	b->rate_per_ms = per_second / 1000.0;
	b->burst = burst;
	b->tokens = burst;
	b->last = now;
}

int bucket_take(struct token_bucket *b, ms_t now)
{
	refill(b, now);
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

ms_t bucket_wait(struct token_bucket *b, ms_t now)
{
	refill(b, now);
	if (b->tokens >= 1.0)
		return 0;
	return (ms_t)((1.0 - b->tokens) / b->rate_per_ms) + 1;
}

struct bucket_entry {
	char *key;
	struct token_bucket b;
};

struct bucket_map {
	double per_second, burst;
	struct bucket_entry *items;
	size_t n, cap;
};

struct bucket_map *bucket_map_new(double per_second, double burst)
{
	struct bucket_map *m = xcalloc(1, sizeof *m);
	m->per_second = per_second;
	m->burst = burst;
	return m;
}

void bucket_map_free(struct bucket_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].key);
	free(m->items);
	free(m);
}

size_t bucket_map_size(const struct bucket_map *m) { return m->n; }

struct token_bucket *bucket_map_get(struct bucket_map *m, const char *key, ms_t now)
{
	/* A linear scan: the map holds only chats that sent within the last
	 * moments (full buckets are swept out as we go), a few hundred at most. */
	for (size_t i = 0; i < m->n;) {
		struct bucket_entry *e = &m->items[i];
		if (!strcmp(e->key, key))
			return &e->b;
		refill(&e->b, now);
		if (e->b.tokens >= e->b.burst) {
			free(e->key);
			m->items[i] = m->items[--m->n];
			continue;
		}
		i++;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->items = xrealloc(m->items, m->cap * sizeof *m->items);
	}
	struct bucket_entry *e = &m->items[m->n++];
	e->key = xstrdup(key);
	bucket_init(&e->b, m->per_second, m->burst, now);
	return &e->b;
}
