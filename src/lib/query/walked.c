/*
 * lib/query/walked.c — what the top-k walk over a metric tests itself
 * (sort.c, walk_probe; docs/internals/query.md, step 4): a comparison of
 * the walked metric's last value with one number (qleaf.wtest, set by
 * plan.c's compile_cmp) decided on the value the walk has just read, and
 * the query's tree without that comparison, so a batch of candidates is
 * probed in the store for the rest only.  The test is exact or declines
 * (-1): the store decides what C cannot compare exactly.  Stateless; new
 * tree nodes live in the query's arena.  Not thread-safe per qplan.
 */
#include "lib/query/plan.h"

#include <math.h>
#include <string.h>

/* Whether the walked value v passes the leaf's test (qleaf.wtest): 1 or
 * 0, exactly as the store compares; -1 when C cannot tell exactly (no
 * number, NaN, an integer past 2^53 against a float): then the batch is
 * tested by the store. */
int plan_walked_test(const qleaf *l, const sval *v)
{
	if (v->cls != V_NUM)
		return -1;
	const qlit *lt = &l->wlit;
	int r;
	if (v->is_int && lt->is_int) {
		r = (v->i > lt->i) - (v->i < lt->i);
	} else {
		const double big = 9007199254740992.0; /* 2^53: every integer below is a double */
		if ((v->is_int && (v->i > (int64_t)big || v->i < -(int64_t)big)) ||
		    (lt->is_int && (lt->i > (int64_t)big || lt->i < -(int64_t)big)))
			return -1;
		double a = v->is_int ? (double)v->i : v->d,
		       b = lt->is_int ? (double)lt->i : lt->num;
		if (isnan(a) || isnan(b))
			return -1;
		r = (a > b) - (a < b);
	}
	switch (l->wop) {
	case QO_EQ: return r == 0;
	case QO_LT: return r < 0;
	case QO_LE: return r <= 0;
	case QO_GT: return r > 0;
	case QO_GE: return r >= 0;
	default: return -1;
	}
}

/* The tree c without one conjunct that the walk over metric `key` can
 * test itself (a leaf with wtest on that metric, at the top or inside
 * nested ANDs): *hit gets the leaf, and the rest is returned (NULL with
 * *hit set: nothing else to test).  Without such a leaf, c itself and
 * *hit NULL.  New nodes are the query's (q->mem). */
cnode *plan_without_walked(qplan *q, cnode *c, const char *key, const qleaf **hit)
{
	if (c->type == QN_CMP) {
		if (c->leaf.wtest && c->leaf.npos > 0 && strcmp(c->leaf.wkey, key) == 0) {
			*hit = &c->leaf;
			return NULL;
		}
		return c;
	}
	if (c->type != QN_AND)
		return c;
	for (int k = 0; k < c->nkids; k++) {
		cnode *r = plan_without_walked(q, c->kids[k], key, hit);
		if (!*hit)
			continue;
		cnode *n = arena_zalloc(&q->mem, sizeof *n);
		cnode **kids = arena_alloc(&q->mem, (size_t)c->nkids * sizeof *kids);
		if (!n || !kids) {
			*hit = NULL; /* no memory: test it the usual way */
			return c;
		}
		n->type = QN_AND;
		for (int j = 0; j < c->nkids; j++) {
			cnode *kid = j == k ? r : c->kids[j];
			if (kid)
				kids[n->nkids++] = kid;
		}
		n->kids = kids;
		return n->nkids == 0 ? NULL : n->nkids == 1 ? kids[0] : n;
	}
	return c;
}
