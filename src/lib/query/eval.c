/*
 * lib/query/eval.c — the boolean tree over run-id sets.
 *
 * AND evaluates its children cheapest first (ranges are estimated by
 * counting at most EST_CAP rows), narrowing the candidate set, and stops
 * when it is empty; OR unions, testing only candidates not yet matched; NOT
 * complements within the candidates (the universe when there are none).
 *
 * A leaf's parts either fill the set (one pass over each range) or, when
 * few candidates are left, are probed run by run.  Which is cheaper is
 * found out, not guessed: the ranges are filled with a budget of rows equal
 * to the cost of probing and abandoned for probes when they turn out bigger,
 * so a range is never read twice and probing never costs more than twice
 * the cheaper plan.
 */
#include "lib/query/plan.h"

#include <stdlib.h>
#include <string.h>

/* Rows of a part, counted up to cap (an estimate of its cost). */
static int part_estimate(qplan *q, store_part *p, int64_t cap)
{
	if (p->cost == STORE_COST_KEY) {
		p->est = q->nruns;
		return 0;
	}
	if (p->cost == STORE_COST_FULL) {
		p->est = q->nruns * COST_FULL;
		return 0;
	}
	if (p->est >= 0 && (p->est < p->est_cap || p->est_cap >= cap))
		return 0;
	int rc = q->ops->estimate(q->c, p, cap, &p->est);
	p->est_cap = cap;
	return rc;
}

/* out = members of C (NULL: of every run) matching any of the parts. */
static int eval_parts(qplan *q, store_part *parts, int n, const rset *C, int64_t ncand, rset *out)
{
	int rc;
	const store_scan_ops *ops = q->ops;
	if (n == 0)
		return 0;
	if (C && ncand * COST_PROBE < q->nruns * COST_FULL) {
		/* several parts probe through one OR'd condition: dearer per run */
		int64_t budget = ncand * COST_PROBE * (n > 1 ? 2 : 1);
		int64_t used = 0, known = 0;
		bool ranges = false;
		for (int k = 0; k < n; k++) {
			if (parts[k].cost == STORE_COST_RANGE) {
				ranges = true;
				/* rows this range is known to have at least (counted
				 * to a cap that it reached, or a fill abandoned below) */
				if (parts[k].est >= 0 && parts[k].est >= parts[k].est_cap)
					known += parts[k].est;
			} else {
				used += parts[k].cost == STORE_COST_KEY ? q->nruns
				                                        : q->nruns * COST_FULL;
			}
		}
		/* a range already known to be dearer than probing is not read
		 * again (the top-k walk evaluates the query once a batch) */
		if (used + known > budget)
			return ops->probe(q->c, parts, n, C, out);
		if (ranges) {
			rset tmp;
			if ((rc = rset_init(&tmp, q->nw)) != 0)
				return rc;
			for (int k = 0; k < n && rc == 0; k++) {
				if (parts[k].cost != STORE_COST_RANGE)
					continue;
				int64_t got;
				if ((rc = ops->fill_limited(q->c, &parts[k], budget - used + 1,
				                            &tmp, &got)) != 0)
					break;
				used += got;
				if (used > budget) {
					/* it has at least got rows: remember it, as an
					 * estimate that reached its cap */
					if (got > parts[k].est) {
						parts[k].est = got;
						parts[k].est_cap = got;
					}
					rset_free(&tmp);
					return ops->probe(q->c, parts, n, C, out);
				}
			}
			for (int k = 0; k < n && rc == 0; k++)
				if (parts[k].cost != STORE_COST_RANGE)
					rc = ops->fill(q->c, &parts[k], C, &tmp);
			if (rc == 0)
				for (size_t i = 0; i < out->nw; i++)
					out->w[i] |= tmp.w[i] & C->w[i];
			rset_free(&tmp);
			return rc;
		}
	}
	for (int k = 0; k < n; k++)
		if ((rc = ops->fill(q->c, &parts[k], C, out)) != 0)
			return rc;
	return 0;
}

static int eval_leaf(qplan *q, qleaf *l, const rset *C, int64_t ncand, rset *out)
{
	int rc;
	const rset *base = C;
	if (l->all || (l->neg && l->present_all)) {
		if (!base && (rc = plan_universe(q, &base)) != 0)
			return rc;
	}
	if (l->all) {
		rset_assign(out, base);
		return 0;
	}
	if (!l->neg)
		return eval_parts(q, l->pos, l->npos, C, ncand, out);
	if (l->present_all) {
		rset_assign(out, base);
	} else if (l->npresent) {
		if ((rc = eval_parts(q, l->present, l->npresent, C, ncand, out)) != 0)
			return rc;
	} else {
		return 0;
	}
	if (l->npos == 0)
		return 0;
	rset pos;
	if ((rc = rset_init(&pos, q->nw)) != 0)
		return rc;
	int64_t npres = rset_count(out);
	if ((rc = eval_parts(q, l->pos, l->npos, out, npres, &pos)) == 0)
		rset_andnot(out, &pos);
	rset_free(&pos);
	return rc;
}

/* Order of AND children: cheap, selective ranges first. */
static int64_t node_rank(qplan *q, cnode *c, int *rc)
{
	if (c->type != QN_CMP)
		return INT64_MAX / 2;
	qleaf *l = &c->leaf;
	if (l->npos == 0 && !l->all && !(l->neg && l->present_all))
		return l->neg && l->npresent ? q->nruns : -1; /* matches nothing: first */
	if (l->all)
		return q->nruns * 4;
	if (l->neg)
		return q->nruns * 3;
	int64_t est = 0;
	for (int k = 0; k < l->npos; k++) {
		if ((*rc = part_estimate(q, &l->pos[k], EST_CAP)) != 0)
			return 0;
		est += l->pos[k].est;
	}
	return est;
}

typedef struct ranked {
	cnode *c;
	int64_t rank;
	int idx;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->idx - y->idx;
}

static int eval_not(qplan *q, cnode *c, const rset *C, int64_t ncand, rset *out)
{
	int rc;
	const rset *base = C;
	if (!base && (rc = plan_universe(q, &base)) != 0)
		return rc;
	rset r;
	if ((rc = rset_init(&r, q->nw)) != 0)
		return rc;
	int64_t nb = C ? ncand : rset_count(base);
	if ((rc = plan_eval(q, c->kids[0], base, nb, &r)) == 0) {
		rset_assign(out, base);
		rset_andnot(out, &r);
	}
	rset_free(&r);
	return rc;
}

static int eval_or(qplan *q, cnode *c, const rset *C, int64_t ncand, rset *out)
{
	int rc;
	rset rem = {0}, r;
	if (C && (rc = rset_copy(&rem, C)) != 0)
		return rc;
	if ((rc = rset_init(&r, q->nw)) != 0) {
		rset_free(&rem);
		return rc;
	}
	int64_t left = ncand;
	for (int k = 0; k < c->nkids && rc == 0; k++) {
		memset(r.w, 0, r.nw * sizeof *r.w);
		if ((rc = plan_eval(q, c->kids[k], C ? &rem : NULL, left, &r)) != 0)
			break;
		rset_or(out, &r);
		if (C) {
			rset_andnot(&rem, &r);
			left = rset_count(&rem);
			if (left == 0)
				break;
		}
	}
	rset_free(&r);
	rset_free(&rem);
	return rc;
}

static int eval_and(qplan *q, cnode *c, const rset *C, int64_t ncand, rset *out)
{
	int rc = 0;
	ranked *order = malloc((size_t)c->nkids * sizeof *order);
	if (!order)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (int k = 0; k < c->nkids && rc == 0; k++) {
		order[k].c = c->kids[k];
		order[k].idx = k;
		order[k].rank = node_rank(q, c->kids[k], &rc);
	}
	if (rc) {
		free(order);
		return rc;
	}
	qsort(order, (size_t)c->nkids, sizeof *order, cmp_ranked);
	rset cur = {0}, r = {0};
	bool have = false;
	int64_t n = ncand;
	for (int k = 0; k < c->nkids; k++) {
		if ((rc = rset_init(&r, q->nw)) != 0)
			break;
		if ((rc = plan_eval(q, order[k].c, have ? &cur : C, have ? n : ncand, &r)) != 0)
			break;
		rset_free(&cur);
		cur = r;
		r.w = NULL;
		have = true;
		n = rset_count(&cur);
		if (n == 0)
			break;
	}
	if (rc == 0)
		rset_assign(out, &cur);
	rset_free(&r);
	rset_free(&cur);
	free(order);
	return rc;
}

int plan_eval(qplan *q, cnode *c, const rset *C, int64_t ncand, rset *out)
{
	switch (c->type) {
	case QN_CMP: return eval_leaf(q, &c->leaf, C, ncand, out);
	case QN_NOT: return eval_not(q, c, C, ncand, out);
	case QN_OR: return eval_or(q, c, C, ncand, out);
	case QN_AND: return eval_and(q, c, C, ncand, out);
	}
	return 0;
}
