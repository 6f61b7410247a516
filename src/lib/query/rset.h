/*
 * lib/query/rset.h — sets of run ids as bitmaps, the currency between the
 * query planner and a store's scans (lib/store/scan.h).
 *
 * A set holds run ids 0 .. 64*nw-1, one bit each; every set of one query
 * has the same nw (the store's largest rid, rounded up), so the binary
 * operations work word by word without checks.  Adding an id outside the
 * range is ignored; testing one answers false.  rrank gives each member its
 * position among the members in rid order (a dense index for arrays).
 * Memory: rset_init callocs the words, rset_free releases them.  Not
 * thread-safe; a set has one owner.
 */
#ifndef CAIRN_LIB_QUERY_RSET_H
#define CAIRN_LIB_QUERY_RSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rset {
	uint64_t *w;
	size_t nw;
} rset;

/* An empty set of nw words: 0, or CAIRN_ENOMEM with the error set. */
int rset_init(rset *r, size_t nw);
void rset_free(rset *r);
/* dst = a new copy of src: 0 or CAIRN_ENOMEM. */
int rset_copy(rset *dst, const rset *src);
int64_t rset_count(const rset *r);

static inline void rset_add(rset *r, int64_t rid)
{
	if (rid >= 0 && (size_t)(rid >> 6) < r->nw)
		r->w[rid >> 6] |= 1ull << (rid & 63);
}

static inline void rset_del(rset *r, int64_t rid)
{
	if (rid >= 0 && (size_t)(rid >> 6) < r->nw)
		r->w[rid >> 6] &= ~(1ull << (rid & 63));
}

static inline bool rset_has(const rset *r, int64_t rid)
{
	return rid >= 0 && (size_t)(rid >> 6) < r->nw && (r->w[rid >> 6] >> (rid & 63) & 1);
}

/* Bits set in a word (portable: the default x86-64 target has no popcnt
 * instruction and the builtin becomes a libgcc call). */
static inline unsigned rset_pop64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The first member >= from, or -1.  Iterate:
 *   for (int64_t r = rset_next(s, 0); r >= 0; r = rset_next(s, r + 1)) */
static inline int64_t rset_next(const rset *r, int64_t from)
{
	if (from < 0)
		from = 0;
	size_t i = (size_t)(from >> 6);
	if (i >= r->nw)
		return -1;
	uint64_t w = r->w[i] & (~0ull << (from & 63));
	for (;;) {
		if (w)
			return (int64_t)(i * 64 + (size_t)__builtin_ctzll(w));
		if (++i >= r->nw)
			return -1;
		w = r->w[i];
	}
}

/* a |= b, a &= ~b, a = b (same nw). */
static inline void rset_or(rset *a, const rset *b)
{
	for (size_t i = 0; i < a->nw; i++)
		a->w[i] |= b->w[i];
}

static inline void rset_andnot(rset *a, const rset *b)
{
	for (size_t i = 0; i < a->nw; i++)
		a->w[i] &= ~b->w[i];
}

void rset_assign(rset *a, const rset *b);

/* Rank table: position of a member among the members, in rid order. */
typedef struct rrank {
	const rset *s;
	uint32_t *pre;
} rrank;

int rrank_init(rrank *k, const rset *s);
void rrank_free(rrank *k);

static inline uint32_t rrank_of(const rrank *k, int64_t rid)
{
	size_t i = (size_t)(rid >> 6);
	uint64_t below = (1ull << (rid & 63)) - 1;
	return k->pre[i] + rset_pop64(k->s->w[i] & below);
}

#endif
