/*
 * lib/sweep/sweep.h — what the sweep modules share inside the library: the parsed
 * spec's layout, the PRNG, and how a parameter maps to the numeric "x" form
 * the samplers work in.
 *
 * The x form of a trial is one double per parameter, in declaration order:
 * the value itself for uniform / log_uniform / int_uniform parameters, the
 * index of the choice for a categorical one, NaN for a conditional
 * parameter that is inactive in the trial.
 */
#ifndef CAIRN_LIB_SWEEP_H
#define CAIRN_LIB_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/sweep.h"
#include "lib/internal.h"

/* One condition of a conditional parameter: parameter `param` (declared
 * earlier) has one of the x values in `x`. */
typedef struct sweep_cond {
	size_t param;
	double *x;
	size_t nx;
} sweep_cond;

typedef struct sweep_param {
	char *name;
	cairn_param_kind kind;
	double lo, hi;       /* ranges (int_uniform: integral) */
	int64_t grid_points; /* continuous range in a grid: this many points */
	/* categorical: the choices, typed, and each one's JSON text */
	cairn_value *values;
	char **values_json;
	size_t nvalues;
	sweep_cond *conds; /* all must hold for the parameter to be active */
	size_t nconds;
} sweep_param;

struct cairn_sweep_spec {
	cairn_sweep_method method;
	char *metric;
	cairn_sweep_goal goal;
	int64_t trials; /* 0: not given (grid: the whole grid) */
	int parallel;
	uint64_t seed;
	char *name, *project, *description;
	sweep_param *params;
	size_t nparams;
	int64_t grid_size; /* grid method: the number of points */
	/* early_terminate (type median) */
	bool early;
	int64_t warmup_steps, min_trials;
	/* tpe */
	int64_t startup_trials;
	int candidates;
	double prior_weight;
};

/* Is parameter i active given the x values of the earlier parameters? */
bool sweep_param_active(const cairn_sweep_spec *s, size_t i, const double *x);

/* Grid enumeration: calls fn for every point in stable order (declaration
 * order, the last parameter varying fastest; an inactive parameter takes one
 * NaN value).  Stops early when fn returns non-zero (returned).  `x` is
 * scratch of nparams doubles. */
typedef int (*sweep_grid_fn)(void *ctx, const double *x);
int sweep_grid_each(const cairn_sweep_spec *s, double *x, sweep_grid_fn fn, void *ctx);
/* The number of grid values of parameter i. */
int64_t sweep_grid_values(const sweep_param *p);
double sweep_grid_value(const sweep_param *p, int64_t k);

/* xoshiro256** seeded through splitmix64; owned per sampler, never global. */
typedef struct sweep_rng {
	uint64_t s[4];
} sweep_rng;
void sweep_rng_seed(sweep_rng *r, uint64_t seed, uint64_t stream);
uint64_t sweep_rng_next(sweep_rng *r);
double sweep_rng_uniform(sweep_rng *r); /* [0, 1) */
double sweep_rng_normal(sweep_rng *r);
/* A uniform draw of parameter p in its own scale (log for log_uniform). */
double sweep_sample_prior(const sweep_param *p, sweep_rng *r);

#endif
