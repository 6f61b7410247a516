/*
 * lib/sweep/prune.c — early stopping by the median rule (Golovin et al.,
 * Google Vizier 2017; Optuna's MedianPruner).
 *
 * A running trial is stopped at step s when
 *   - at least min_trials trials have completed, and s >= warmup_steps, and
 *   - its best value over steps <= s is worse than the median, over the
 *     completed trials that reached step s, of each one's value at s (its
 *     value at its last step <= s; a trial whose first step is after s
 *     does not vote).
 * "Best" and "worse" follow the goal.  Ties are not stopped.  Only trials
 * that completed normally are kept as references (pruned ones are not: they
 * would drag the median towards the bad).
 *
 * Owns copies of the curves it is given.  One thread at a time.
 */
#include "lib/sweep/sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct curve {
	int64_t *steps;
	double *values;
	size_t n;
} curve;

struct cairn_pruner {
	bool maximize;
	int64_t warmup, min_trials;
	curve *c;
	size_t n, cap;
};

int cairn_pruner_new(cairn_pruner **out, const cairn_sweep_spec *spec)
{
	cairn_pruner *p = calloc(1, sizeof *p);
	if (!p)
		return err_set(CAIRN_ENOMEM, "out of memory");
	p->maximize = spec->goal == CAIRN_SWEEP_MAXIMIZE;
	p->warmup = spec->warmup_steps;
	p->min_trials = spec->min_trials > 0 ? spec->min_trials : 1;
	*out = p;
	return 0;
}

void cairn_pruner_free(cairn_pruner *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->c[i].steps);
		free(p->c[i].values);
	}
	free(p->c);
	free(p);
}

int cairn_pruner_add(cairn_pruner *p, const int64_t *steps, const double *values, size_t n)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		curve *c = realloc(p->c, nc * sizeof *c);
		if (!c)
			return err_set(CAIRN_ENOMEM, "out of memory");
		p->c = c;
		p->cap = nc;
	}
	curve *c = &p->c[p->n];
	c->steps = malloc((n ? n : 1) * sizeof *c->steps);
	c->values = malloc((n ? n : 1) * sizeof *c->values);
	if (!c->steps || !c->values) {
		free(c->steps);
		free(c->values);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	c->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(values[i]))
			continue;
		if (c->n && steps[i] < c->steps[c->n - 1]) {
			free(c->steps);
			free(c->values);
			return err_set(CAIRN_EINVALID, "a curve's steps must ascend");
		}
		if (c->n && steps[i] == c->steps[c->n - 1]) {
			c->values[c->n - 1] = values[i]; /* the same step again: the later value */
			continue;
		}
		c->steps[c->n] = steps[i];
		c->values[c->n] = values[i];
		c->n++;
	}
	p->n++;
	return 0;
}

/* The value of curve c at step s (its last point at or before s); false
 * when it has none that early. */
static bool value_at(const curve *c, int64_t s, double *out)
{
	size_t lo = 0, hi = c->n; /* first index with step > s */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->steps[mid] <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	*out = c->values[lo - 1];
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int cairn_pruner_check(int *out_stop, const cairn_pruner *p, const int64_t *steps,
                       const double *values, size_t n)
{
	*out_stop = 0;
	if ((int64_t)p->n < p->min_trials || n == 0)
		return 0;
	int64_t s = INT64_MIN;
	double best = NAN;
	for (size_t i = 0; i < n; i++) {
		if (isnan(values[i]))
			continue;
		if (steps[i] > s)
			s = steps[i];
		if (isnan(best) || (p->maximize ? values[i] > best : values[i] < best))
			best = values[i];
	}
	if (isnan(best) || s < p->warmup)
		return 0;
	double *v = malloc(p->n * sizeof *v);
	if (!v)
		return err_set(CAIRN_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++)
		if (value_at(&p->c[i], s, &v[k]))
			k++;
	if (k > 0) {
		qsort(v, k, sizeof *v, cmp_double);
		double med = k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
		*out_stop = p->maximize ? best < med : best > med;
	}
	free(v);
	return 0;
}
