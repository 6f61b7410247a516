/*
 * util/arena.c — the bump allocator of arena.h.
 *
 * A chunk is one malloc: a header, then its data.  Allocation takes from the
 * newest chunk and starts a new one when the request does not fit (the rest
 * of the old chunk is left unused: requests are small beside a chunk).  A
 * request bigger than a chunk gets a chunk of its own, linked behind the
 * current one so that the current one stays in use.  Strings are packed
 * without alignment (manifests keep millions of paths); everything else is
 * aligned to 16 bytes.  No per-allocation header, no free of single
 * allocations.
 */
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	arena_chunk *next;
	size_t used, cap;
	_Alignas(16) char data[];
};

/* n bytes at an offset aligned to `align` (a power of two, at most 16). */
static void *take(arena *a, size_t n, size_t align)
{
	if (n > SIZE_MAX / 2) {
		a->oom = true;
		return NULL;
	}
	arena_chunk *c = a->head;
	size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
	if (!c || at > c->cap || c->cap - at < n) {
		size_t per = a->chunk ? a->chunk : ARENA_CHUNK_DEFAULT;
		size_t cap = n > per ? n : per;
		arena_chunk *nc = malloc(sizeof *nc + cap);
		if (!nc) {
			a->oom = true;
			return NULL;
		}
		nc->used = 0;
		nc->cap = cap;
		if (c && cap > per) {
			/* a big request gets a chunk of its own behind the current
			 * one, so the current chunk's free space is not wasted */
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		c = nc;
		at = 0;
	}
	c->used = at + n;
	return c->data + at;
}

void *arena_alloc(arena *a, size_t n)
{
	return take(a, n, 16);
}

void *arena_zalloc(arena *a, size_t n)
{
	void *p = take(a, n, 16);
	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
	char *d = take(a, n + 1, 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void arena_adopt(arena *to, arena *from)
{
	if (!from->head)
		return;
	arena_chunk *last = from->head;
	while (last->next)
		last = last->next;
	last->next = to->head;
	to->head = from->head;
	from->head = NULL;
	to->oom |= from->oom;
	from->oom = false;
}

void arena_free(arena *a)
{
	arena_chunk *c = a->head;
	while (c) {
		arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->oom = false;
}
