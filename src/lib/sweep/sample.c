/*
 * lib/sweep/sample.c — the search methods: grid (stable order), seeded
 * random, and a Tree-structured Parzen Estimator (Bergstra et al. 2011, in
 * the form Optuna's TPESampler uses).  Also the JSON <-> x conversions.
 *
 * Determinism: every draw comes from a xoshiro256** generator seeded with
 * splitmix64(seed, trial number), so trial n's params depend only on the
 * seed, n and (for TPE) the history told before it — never on the clock,
 * on rand(), or on which thread asks.
 *
 * TPE, per parameter (univariate, as Optuna's default):
 *   1. the told trials (done and pruned) are ranked by loss (the objective,
 *      negated when maximizing; pruned trials rank after every done one);
 *      the best n_below = min(ceil(0.1 n), 25) form l, the rest g;
 *   2. each group gets a Parzen estimator in the parameter's own scale
 *      (log for log_uniform, [min-0.5, max+0.5] for ints): one truncated
 *      normal per observation, centred on it, whose sigma is the larger gap
 *      to its sorted neighbours (the range ends included), clipped to
 *      [range/min(100, n+1), range]; plus a prior component (the centre of
 *      the range, sigma = the range) of weight prior_weight.  Observation
 *      weights are 1 for the newest 25 and ramp down linearly for older
 *      ones.  A categorical parameter gets smoothed counts instead;
 *   3. `candidates` (24) draws from l; the one with the largest
 *      log l(x) - log g(x) is the suggestion.
 *   A conditional parameter's estimators use only the trials where it was
 *   active.  The first startup_trials (10) suggestions are random.
 *
 * Cost: O(candidates x n) density terms per parameter; 1,000 trials in 10
 * dimensions is ~240k terms, about 2 ms (bench/bench-sweep.c).
 *
 * Thread-safety: a sampler belongs to one thread at a time.
 */
#include "lib/sweep/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/sweep.h"
#include "util/json.h"

/* --- the generator ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sweep_rng_seed(sweep_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sweep_rng_next(sweep_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double sweep_rng_uniform(sweep_rng *r)
{
	return (double)(sweep_rng_next(r) >> 11) * 0x1.0p-53;
}

double sweep_rng_normal(sweep_rng *r)
{
	double u = sweep_rng_uniform(r), v = sweep_rng_uniform(r);
	return sqrt(-2.0 * log1p(-u)) * cos(2.0 * M_PI * v);
}

/* --- parameter scales ----------------------------------------------------------------- */

/* The interval a parameter is searched in, in its own scale. */
static void scale_bounds(const sweep_param *p, double *lo, double *hi)
{
	switch (p->kind) {
	case CAIRN_PARAM_LOG_UNIFORM:
		*lo = log(p->lo);
		*hi = log(p->hi);
		break;
	case CAIRN_PARAM_INT_UNIFORM:
		*lo = p->lo - 0.5;
		*hi = p->hi + 0.5;
		break;
	default: *lo = p->lo; *hi = p->hi;
	}
}

static double to_scale(const sweep_param *p, double x)
{
	return p->kind == CAIRN_PARAM_LOG_UNIFORM ? log(x) : x;
}

/* From the search scale back to a value, inside [min, max]. */
static double from_scale(const sweep_param *p, double u)
{
	double v = u;
	if (p->kind == CAIRN_PARAM_LOG_UNIFORM)
		v = exp(u);
	else if (p->kind == CAIRN_PARAM_INT_UNIFORM)
		v = round(u);
	return fmin(fmax(v, p->lo), p->hi);
}

double sweep_sample_prior(const sweep_param *p, sweep_rng *r)
{
	if (p->kind == CAIRN_PARAM_CATEGORICAL)
		return (double)(sweep_rng_next(r) % p->nvalues);
	double lo, hi;
	scale_bounds(p, &lo, &hi);
	return from_scale(p, lo + (hi - lo) * sweep_rng_uniform(r));
}

bool sweep_param_active(const cairn_sweep_spec *s, size_t i, const double *x)
{
	const sweep_param *p = &s->params[i];
	for (size_t c = 0; c < p->nconds; c++) {
		const sweep_cond *cd = &p->conds[c];
		double v = x[cd->param];
		bool hit = false;
		for (size_t k = 0; k < cd->nx && !hit; k++)
			hit = v == cd->x[k];
		if (!hit)
			return false; /* NaN (an inactive parent) matches nothing */
	}
	return true;
}

/* --- grid --------------------------------------------------------------------------------- */

int64_t sweep_grid_values(const sweep_param *p)
{
	switch (p->kind) {
	case CAIRN_PARAM_CATEGORICAL: return (int64_t)p->nvalues;
	case CAIRN_PARAM_INT_UNIFORM: return (int64_t)(p->hi - p->lo) + 1;
	default: return p->grid_points;
	}
}

double sweep_grid_value(const sweep_param *p, int64_t k)
{
	switch (p->kind) {
	case CAIRN_PARAM_CATEGORICAL: return (double)k;
	case CAIRN_PARAM_INT_UNIFORM: return p->lo + (double)k;
	default: {
		double lo = to_scale(p, p->lo), hi = to_scale(p, p->hi);
		double u = lo + (hi - lo) * (double)k / (double)(p->grid_points - 1);
		return k == 0 ? p->lo : k == p->grid_points - 1 ? p->hi : from_scale(p, u);
	}
	}
}

static int grid_rec(const cairn_sweep_spec *s, size_t i, double *x, sweep_grid_fn fn, void *ctx)
{
	if (i == s->nparams)
		return fn(ctx, x);
	if (!sweep_param_active(s, i, x)) {
		x[i] = NAN;
		return grid_rec(s, i + 1, x, fn, ctx);
	}
	int64_t n = sweep_grid_values(&s->params[i]);
	for (int64_t k = 0; k < n; k++) {
		x[i] = sweep_grid_value(&s->params[i], k);
		int rc = grid_rec(s, i + 1, x, fn, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

int sweep_grid_each(const cairn_sweep_spec *s, double *x, sweep_grid_fn fn, void *ctx)
{
	return grid_rec(s, 0, x, fn, ctx);
}

typedef struct grid_pick {
	int64_t want, at;
	double *out;
	size_t n;
} grid_pick;

static int pick_point(void *ctx, const double *x)
{
	grid_pick *g = ctx;
	if (g->at++ == g->want) {
		memcpy(g->out, x, g->n * sizeof *x);
		return 1;
	}
	return 0;
}

/* --- the sampler's history ------------------------------------------------------------ */

typedef struct told {
	double *x;   /* nparams values */
	double loss; /* the objective as a loss (lower is better); +Inf for pruned */
	int64_t order;
} told;

struct cairn_sampler {
	const cairn_sweep_spec *spec;
	told *h;
	size_t n, cap;
	double *grid; /* grid: every point, computed on first use */
	int64_t ngrid;
	/* scratch for TPE */
	double *obs_b, *obs_a, *w_b, *w_a;
	size_t scratch;
};

const char *cairn_trial_state_name(cairn_trial_state s)
{
	static const char *const names[] = {"queued", "running", "done", "pruned", "failed"};
	return (unsigned)s < 5 ? names[s] : "unknown";
}

int cairn_sampler_new(cairn_sampler **out, const cairn_sweep_spec *spec)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return err_set(CAIRN_ENOMEM, "out of memory");
	(*out)->spec = spec;
	return 0;
}

void cairn_sampler_free(cairn_sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->h[i].x);
	free(s->h);
	free(s->grid);
	free(s->obs_b);
	free(s->obs_a);
	free(s->w_b);
	free(s->w_a);
	free(s);
}

int cairn_sampler_tell_x(cairn_sampler *s, const double *x, cairn_trial_state state, double value)
{
	if (state != CAIRN_TRIAL_DONE && state != CAIRN_TRIAL_PRUNED)
		return 0; /* failed / unfinished trials teach nothing */
	if (state == CAIRN_TRIAL_DONE && !isfinite(value))
		return 0;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		told *h = realloc(s->h, nc * sizeof *h);
		if (!h)
			return err_set(CAIRN_ENOMEM, "out of memory");
		s->h = h;
		s->cap = nc;
	}
	size_t np = s->spec->nparams;
	double *cx = malloc(np * sizeof *cx);
	if (!cx)
		return err_set(CAIRN_ENOMEM, "out of memory");
	memcpy(cx, x, np * sizeof *cx);
	told *t = &s->h[s->n];
	t->x = cx;
	t->order = (int64_t)s->n;
	if (state == CAIRN_TRIAL_PRUNED)
		t->loss = INFINITY;
	else
		t->loss = s->spec->goal == CAIRN_SWEEP_MAXIMIZE ? -value : value;
	s->n++;
	return 0;
}

int cairn_sampler_tell(cairn_sampler *s, const char *params_json, cairn_trial_state state,
                       double value)
{
	size_t np = s->spec->nparams;
	double *x = malloc((np ? np : 1) * sizeof *x);
	if (!x)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = cairn_sweep_params_parse(x, s->spec, params_json);
	if (!rc)
		rc = cairn_sampler_tell_x(s, x, state, value);
	free(x);
	return rc;
}

int cairn_sampler_tell_trials(cairn_sampler *s, cairn_store *store, const char *sweep)
{
	int64_t rid;
	trial_row *v = NULL;
	size_t n = 0;
	if (!s || !store || !sweep)
		return err_set(CAIRN_EINVALID, "no sampler, store or sweep");
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	int rc = store_run_lookup(store, sweep, false, &rid, id);
	if (rc == 0)
		rc = store_trial_list(store, rid, &v, &n);
	/* the queue's params are the JSON this sampler's spec wrote: back to
	 * x; a trial it cannot read (not of this spec) teaches nothing */
	for (size_t i = 0; i < n && !rc; i++) {
		if (v[i].state != CAIRN_TRIAL_DONE && v[i].state != CAIRN_TRIAL_PRUNED)
			continue;
		int e = cairn_sampler_tell(s, v[i].params, v[i].state, v[i].value);
		if (e == CAIRN_ENOMEM)
			rc = e;
		else if (e)
			cairn_error_clear();
	}
	trial_rows_free(v, n);
	return rc;
}

/* --- Parzen estimators ------------------------------------------------------------------- */

typedef struct parzen {
	size_t n;                      /* components, the prior last */
	double *mu, *inv_sigma, *logc; /* logc: log(weight / (sigma sqrt(2 pi) Z)) */
	double *w;                     /* normalised weights (for sampling) */
	double lo, hi;
} parzen;

static void parzen_free(parzen *p)
{
	free(p->mu);
	free(p->inv_sigma);
	free(p->logc);
	free(p->w);
}

static double ncdf(double z)
{
	return 0.5 * erfc(-z * M_SQRT1_2);
}

typedef struct idx_val {
	double v;
	size_t i;
} idx_val;

static int cmp_idx_val(const void *a, const void *b)
{
	const idx_val *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int parzen_build(parzen *pz, const double *obs, const double *wobs, size_t n, double lo,
                        double hi, double prior_weight)
{
	memset(pz, 0, sizeof *pz);
	size_t m = n + 1;
	pz->n = m;
	pz->lo = lo;
	pz->hi = hi;
	pz->mu = malloc(m * sizeof *pz->mu);
	pz->inv_sigma = malloc(m * sizeof *pz->inv_sigma);
	pz->logc = malloc(m * sizeof *pz->logc);
	pz->w = malloc(m * sizeof *pz->w);
	idx_val *iv = malloc((n ? n : 1) * sizeof *iv);
	double *sig = malloc(m * sizeof *sig);
	if (!pz->mu || !pz->inv_sigma || !pz->logc || !pz->w || !iv || !sig) {
		free(iv);
		free(sig);
		parzen_free(pz);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		iv[i] = (idx_val){obs[i], i};
	qsort(iv, n, sizeof *iv, cmp_idx_val);
	double range = hi - lo;
	for (size_t k = 0; k < n; k++) {
		double left = (k == 0 ? lo : iv[k - 1].v), right = (k + 1 == n ? hi : iv[k + 1].v);
		double s = fmax(iv[k].v - left, right - iv[k].v);
		/* the end components look only inwards (consider_endpoints off) */
		if (n >= 2 && k == 0)
			s = iv[1].v - iv[0].v;
		if (n >= 2 && k + 1 == n)
			s = iv[n - 1].v - iv[n - 2].v;
		sig[iv[k].i] = s;
	}
	double minsig = range / fmin(100.0, 1.0 + (double)m), wsum = prior_weight;
	for (size_t i = 0; i < n; i++)
		wsum += wobs[i];
	for (size_t i = 0; i < m; i++) {
		double mu = i < n ? obs[i] : 0.5 * (lo + hi);
		double s = i < n ? fmin(fmax(sig[i], minsig), range) : range;
		double w = (i < n ? wobs[i] : prior_weight) / wsum;
		double z = ncdf((hi - mu) / s) - ncdf((lo - mu) / s);
		pz->mu[i] = mu;
		pz->inv_sigma[i] = 1.0 / s;
		pz->w[i] = w;
		pz->logc[i] = log(w) - log(s) - 0.5 * log(2 * M_PI) - log(fmax(z, 1e-300));
	}
	free(iv);
	free(sig);
	return 0;
}

static double parzen_logpdf(const parzen *pz, double x)
{
	/* The prior component (sigma = the range, |x - mu| <= range / 2) keeps
	 * the sum away from underflow, so a plain sum of exp is safe; terms
	 * beyond 40 sigma are below 1e-17 of it and skipped. */
	double sum = 0;
	for (size_t i = 0; i < pz->n; i++) {
		double z = (x - pz->mu[i]) * pz->inv_sigma[i];
		double e = 0.5 * z * z;
		if (e < 40)
			sum += exp(pz->logc[i] - e);
	}
	return log(sum > 0 ? sum : 1e-300);
}

static double parzen_sample(const parzen *pz, sweep_rng *r)
{
	double u = sweep_rng_uniform(r), acc = 0;
	size_t k = pz->n - 1;
	for (size_t i = 0; i < pz->n; i++) {
		acc += pz->w[i];
		if (u < acc) {
			k = i;
			break;
		}
	}
	double s = 1.0 / pz->inv_sigma[k];
	for (int tries = 0; tries < 100; tries++) {
		double x = pz->mu[k] + s * sweep_rng_normal(r);
		if (x >= pz->lo && x <= pz->hi)
			return x;
	}
	return pz->lo + (pz->hi - pz->lo) * sweep_rng_uniform(r);
}

/* --- TPE ------------------------------------------------------------------------------------ */

static int cmp_loss(const void *a, const void *b)
{
	const told *x = *(const told *const *)a, *y = *(const told *const *)b;
	if (x->loss != y->loss)
		return x->loss < y->loss ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Optuna's default_weights: 1 for the newest 25, a ramp from 1/n for older ones. */
static void ramp_weights(double *w, size_t n)
{
	if (n < 25) {
		for (size_t i = 0; i < n; i++)
			w[i] = 1;
		return;
	}
	size_t nr = n - 25;
	for (size_t i = 0; i < nr; i++)
		w[i] = nr == 1 ? 1.0 / (double)n
		               : 1.0 / (double)n +
		                     (1.0 - 1.0 / (double)n) * (double)i / (double)(nr - 1);
	for (size_t i = nr; i < n; i++)
		w[i] = 1;
}

/* Sample one categorical parameter from smoothed counts. */
static double tpe_categorical(const sweep_param *p, const told *const *hb, size_t nb,
                              const told *const *ha, size_t na, size_t d, double prior,
                              sweep_rng *r, int ncand)
{
	size_t k = p->nvalues;
	double *pl = calloc(2 * k, sizeof *pl);
	if (!pl)
		return 0;
	double *pg = pl + k;
	const told *const *groups[2] = {hb, ha};
	size_t ns[2] = {nb, na};
	for (int g = 0; g < 2; g++) {
		double *pr = g ? pg : pl;
		size_t n = 0;
		for (size_t i = 0; i < ns[g]; i++)
			n += !isnan(groups[g][i]->x[d]);
		/* kernels: each observation puts 1 on its choice plus prior/(n+1)
		 * everywhere; the prior kernel is uniform; mixture weights 1 each
		 * and prior_weight for the prior */
		double row = 1.0 + (double)k * prior / (double)(n + 1);
		double total = (double)n + prior;
		for (size_t c = 0; c < k; c++)
			pr[c] = prior * (1.0 / (double)k) / total +
			        (double)n * (prior / (double)(n + 1)) / row / total;
		for (size_t i = 0; i < ns[g]; i++) {
			double v = groups[g][i]->x[d];
			if (!isnan(v))
				pr[(size_t)v] += 1.0 / row / total;
		}
	}
	double best = -INFINITY, pick = 0;
	for (int c = 0; c < ncand; c++) {
		double u = sweep_rng_uniform(r), acc = 0;
		size_t ch = k - 1;
		for (size_t j = 0; j < k; j++) {
			acc += pl[j];
			if (u < acc) {
				ch = j;
				break;
			}
		}
		double score = log(pl[ch]) - log(pg[ch]);
		if (score > best) {
			best = score;
			pick = (double)ch;
		}
	}
	free(pl);
	return pick;
}

static int tpe_suggest(cairn_sampler *s, double *x, sweep_rng *r)
{
	const cairn_sweep_spec *sp = s->spec;
	size_t n = s->n;
	const told **rank = malloc(n * sizeof *rank);
	const told **grp = malloc(n * sizeof *grp);
	unsigned char *is_below = calloc(n, 1);
	int rc = 0;
	if (!rank || !grp || !is_below) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		rank[i] = &s->h[i];
	qsort(rank, n, sizeof *rank, cmp_loss);
	size_t nb = (size_t)ceil(0.1 * (double)n);
	nb = nb > 25 ? 25 : nb < 1 ? 1 : nb;
	for (size_t i = 0; i < nb; i++)
		is_below[rank[i]->order] = 1;
	/* groups in the order told (h is), for the age weights */
	size_t nbl = 0;
	for (size_t i = 0; i < n; i++)
		if (is_below[i])
			grp[nbl++] = &s->h[i];
	for (size_t i = 0, k = nbl; i < n; i++)
		if (!is_below[i])
			grp[k++] = &s->h[i];
	const told **below = grp, **above = grp + nb;
	size_t na = n - nb;
	if (s->scratch < n) {
		free(s->obs_b);
		free(s->obs_a);
		free(s->w_b);
		free(s->w_a);
		s->obs_b = malloc(n * sizeof(double));
		s->obs_a = malloc(n * sizeof(double));
		s->w_b = malloc(n * sizeof(double));
		s->w_a = malloc(n * sizeof(double));
		s->scratch = n;
		if (!s->obs_b || !s->obs_a || !s->w_b || !s->w_a) {
			s->scratch = 0;
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
	}
	for (size_t d = 0; d < sp->nparams && !rc; d++) {
		const sweep_param *p = &sp->params[d];
		if (!sweep_param_active(sp, d, x)) {
			x[d] = NAN;
			continue;
		}
		if (p->kind == CAIRN_PARAM_CATEGORICAL) {
			x[d] = tpe_categorical(p, below, nb, above, na, d, sp->prior_weight, r,
			                       sp->candidates);
			continue;
		}
		double lo, hi;
		scale_bounds(p, &lo, &hi);
		const told **groups[2] = {below, above};
		size_t ns[2] = {nb, na};
		double *obs[2] = {s->obs_b, s->obs_a}, *w[2] = {s->w_b, s->w_a};
		size_t m[2];
		parzen pz[2];
		for (int g = 0; g < 2; g++) {
			/* the observations of this group where d is active, oldest first */
			size_t k = 0;
			for (size_t i = 0; i < ns[g]; i++)
				if (!isnan(groups[g][i]->x[d]))
					obs[g][k++] = to_scale(p, groups[g][i]->x[d]);
			ramp_weights(w[g], k);
			m[g] = k;
		}
		if ((rc = parzen_build(&pz[0], obs[0], w[0], m[0], lo, hi, sp->prior_weight)) != 0)
			break;
		if ((rc = parzen_build(&pz[1], obs[1], w[1], m[1], lo, hi, sp->prior_weight)) !=
		    0) {
			parzen_free(&pz[0]);
			break;
		}
		double best = -INFINITY, pick = 0.5 * (lo + hi);
		for (int c = 0; c < sp->candidates; c++) {
			double u = parzen_sample(&pz[0], r);
			if (p->kind == CAIRN_PARAM_INT_UNIFORM)
				u = fmin(fmax(round(u), p->lo), p->hi);
			double score = parzen_logpdf(&pz[0], u) - parzen_logpdf(&pz[1], u);
			if (score > best) {
				best = score;
				pick = u;
			}
		}
		x[d] = from_scale(p, pick);
		parzen_free(&pz[0]);
		parzen_free(&pz[1]);
	}
done:
	free(is_below);
	free(grp);
	free(rank);
	return rc;
}

/* --- suggest ---------------------------------------------------------------------------- */

static int grid_point(cairn_sampler *s, double *x, int64_t trial)
{
	const cairn_sweep_spec *sp = s->spec;
	if (trial < 0 || trial >= sp->grid_size)
		return err_set(CAIRN_ENOTFOUND,
		               "the grid has %lld points; trial %lld is past its end",
		               (long long)sp->grid_size, (long long)trial);
	grid_pick g = {trial, 0, x, sp->nparams};
	double *scratch = malloc((sp->nparams ? sp->nparams : 1) * sizeof *scratch);
	if (!scratch)
		return err_set(CAIRN_ENOMEM, "out of memory");
	sweep_grid_each(sp, scratch, pick_point, &g);
	free(scratch);
	return 0;
}

int cairn_sampler_suggest_x(double *x, cairn_sampler *s, int64_t trial)
{
	const cairn_sweep_spec *sp = s->spec;
	if (trial < 0)
		return err_set(CAIRN_EINVALID, "trial numbers start at 0");
	if (sp->method == CAIRN_SWEEP_GRID)
		return grid_point(s, x, trial);
	sweep_rng r;
	sweep_rng_seed(&r, sp->seed, (uint64_t)trial + 1);
	if (sp->method == CAIRN_SWEEP_TPE && (int64_t)s->n >= sp->startup_trials && s->n > 0)
		return tpe_suggest(s, x, &r);
	for (size_t d = 0; d < sp->nparams; d++)
		x[d] = sweep_param_active(sp, d, x) ? sweep_sample_prior(&sp->params[d], &r) : NAN;
	return 0;
}

int cairn_sampler_suggest(char **out_json, cairn_sampler *s, int64_t trial)
{
	*out_json = NULL;
	size_t np = s->spec->nparams;
	double *x = malloc((np ? np : 1) * sizeof *x);
	if (!x)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = cairn_sampler_suggest_x(x, s, trial);
	if (!rc)
		rc = cairn_sweep_params_json(out_json, s->spec, x);
	free(x);
	return rc;
}

/* --- JSON <-> x --------------------------------------------------------------------------- */

int cairn_sweep_params_json(char **out, const cairn_sweep_spec *sp, const double *x)
{
	buf b = BUF_INIT;
	bool first = true;
	buf_putc(&b, '{');
	for (size_t d = 0; d < sp->nparams; d++) {
		const sweep_param *p = &sp->params[d];
		if (isnan(x[d]))
			continue;
		json_key(&b, &first, p->name);
		if (p->kind == CAIRN_PARAM_CATEGORICAL) {
			size_t k = (size_t)x[d];
			buf_puts(&b, p->values_json[k < p->nvalues ? k : 0]);
		} else if (p->kind == CAIRN_PARAM_INT_UNIFORM) {
			json_int(&b, (int64_t)x[d]);
		} else {
			char t[40];
			snprintf(t, sizeof t, "%.17g", x[d]);
			buf_puts(&b, t);
			if (!strpbrk(t, ".eE"))
				buf_puts(&b, ".0");
		}
	}
	buf_putc(&b, '}');
	if (!buf_ok(&b)) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&b);
	return 0;
}

int cairn_sweep_params_parse(double *x, const cairn_sweep_spec *sp, const char *params_json)
{
	char perr[128];
	json_doc *doc = json_parse(params_json, strlen(params_json), NULL, perr, sizeof perr);
	if (!doc)
		return err_set(CAIRN_EINVALID, "trial params are not JSON: %s", perr);
	const json *root = json_root(doc);
	int rc = 0;
	if (root->type != JSON_OBJ)
		rc = err_set(CAIRN_EINVALID, "trial params are not a JSON object");
	for (size_t d = 0; d < sp->nparams && !rc; d++) {
		const sweep_param *p = &sp->params[d];
		const json *v = json_get(root, p->name);
		x[d] = NAN;
		if (!v)
			continue;
		if (p->kind == CAIRN_PARAM_CATEGORICAL) {
			buf b = BUF_INIT;
			if (v->type == JSON_STR)
				json_strn(&b, v->str, v->len);
			else if (v->type == JSON_BOOL)
				json_bool(&b, v->b);
			else if (v->type == JSON_NUM && v->is_int)
				json_int(&b, v->i);
			else if (v->type == JSON_NUM) {
				char t[40];
				snprintf(t, sizeof t, "%.17g", v->num);
				buf_puts(&b, t);
				if (!strpbrk(t, ".eE"))
					buf_puts(&b, ".0");
			}
			for (size_t k = 0; k < p->nvalues; k++)
				if (strcmp(p->values_json[k], b.ptr) == 0)
					x[d] = (double)k;
			if (isnan(x[d]))
				rc = err_set(CAIRN_EINVALID, "'%s' = %s is not one of its choices",
				             p->name, b.ptr);
			buf_free(&b);
		} else {
			double num;
			if (!json_num_value(v, &num) || !isfinite(num))
				rc = err_set(CAIRN_EINVALID, "'%s' is not a number", p->name);
			else
				x[d] = num;
		}
	}
	json_doc_free(doc);
	return rc;
}
