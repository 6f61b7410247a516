/*
 * lib/query/rset.c — run-id bitmaps (rset.h): allocation, counting,
 * iteration and rank tables.
 */
#include "lib/query/rset.h"

#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

int rset_init(rset *r, size_t nw)
{
	r->nw = nw;
	r->w = calloc(nw ? nw : 1, sizeof *r->w);
	return r->w ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

void rset_free(rset *r)
{
	free(r->w);
	r->w = NULL;
}

int rset_copy(rset *dst, const rset *src)
{
	if (rset_init(dst, src->nw) != 0)
		return CAIRN_ENOMEM;
	memcpy(dst->w, src->w, src->nw * sizeof *src->w);
	return 0;
}

void rset_assign(rset *a, const rset *b)
{
	memcpy(a->w, b->w, a->nw * sizeof *a->w);
}

int64_t rset_count(const rset *r)
{
	int64_t n = 0;
	for (size_t i = 0; i < r->nw; i++)
		n += rset_pop64(r->w[i]);
	return n;
}

int rrank_init(rrank *k, const rset *s)
{
	k->s = s;
	k->pre = malloc((s->nw + 1) * sizeof *k->pre);
	if (!k->pre)
		return err_set(CAIRN_ENOMEM, "out of memory");
	uint32_t acc = 0;
	for (size_t i = 0; i < s->nw; i++) {
		k->pre[i] = acc;
		acc += rset_pop64(s->w[i]);
	}
	k->pre[s->nw] = acc;
	return 0;
}

void rrank_free(rrank *k)
{
	free(k->pre);
	k->pre = NULL;
}
