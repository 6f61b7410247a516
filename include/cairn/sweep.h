/*
 * cairn/sweep.h — hyperparameter sweeps: the sweep file, the search methods
 * (grid, seeded random, TPE), the median stopping rule, and the trial queue
 * kept in the store.
 *
 * A sweep is a run; each trial is a child run of it (parent = the sweep).
 * The queue of trials lives in the store beside the runs: handing out the
 * next trial (a queued one, else a new suggestion) is one store transaction,
 * so any number of drivers sharing a store never run the same trial.
 *
 * The sweep file (YAML or JSON) is documented key by key in docs/cli/sweep.md
 * and the algorithms in docs/internals/sweep.md.  Params cross this API as
 * JSON objects ({"lr": 0.01, "depth": 3, "opt": "adam"}); a conditional
 * parameter that is inactive in a trial is absent from its object.
 *
 * Thread-safety: a spec is read-only after parsing and may be shared; a
 * sampler or pruner belongs to one thread at a time.  Everything is
 * deterministic: the same spec, seed and history give the same suggestions
 * on every machine (cairn's own PRNG, never rand()).
 */
#ifndef CAIRN_SWEEP_H
#define CAIRN_SWEEP_H

#include "common.h"
#include "run.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- the sweep file ----------------------------------------------------------- */

typedef enum cairn_sweep_method {
	CAIRN_SWEEP_GRID = 0,
	CAIRN_SWEEP_RANDOM = 1,
	CAIRN_SWEEP_TPE = 2,
} cairn_sweep_method;

typedef enum cairn_sweep_goal {
	CAIRN_SWEEP_MINIMIZE = 0,
	CAIRN_SWEEP_MAXIMIZE = 1,
} cairn_sweep_goal;

typedef enum cairn_param_kind {
	CAIRN_PARAM_UNIFORM = 0,     /* float in [min, max] */
	CAIRN_PARAM_LOG_UNIFORM = 1, /* float in [min, max], uniform in log space */
	CAIRN_PARAM_INT_UNIFORM = 2, /* integer in [min, max] */
	CAIRN_PARAM_CATEGORICAL = 3, /* one of `values` (a single `value` included) */
} cairn_param_kind;

typedef struct cairn_sweep_spec cairn_sweep_spec;

/* Limits on a sweep file, checked where it is read. */
#define CAIRN_SWEEP_FILE_MAX   (1 << 20) /* bytes */
#define CAIRN_SWEEP_PARAMS_MAX 64
#define CAIRN_SWEEP_VALUES_MAX 10000  /* values of one categorical parameter */
#define CAIRN_SWEEP_TRIALS_MAX 100000 /* trial budget; also the largest grid */

/* Parse a sweep file's text (YAML, or JSON, which the same reader takes).
 * `origin` names it in messages (a file name; NULL: "sweep file").  An error
 * is CAIRN_EINVALID with one message naming the line and the key:
 * "sweep.yaml:7: parameters.lr.min: expected a number, got 'abc'". */
CAIRN_EXTERN(int)
cairn_sweep_spec_parse(cairn_sweep_spec **out, const char *text, size_t len, const char *origin);
/* Read and parse a file (at most CAIRN_SWEEP_FILE_MAX bytes). */
CAIRN_EXTERN(int) cairn_sweep_spec_load(cairn_sweep_spec **out, const char *path);
CAIRN_EXTERN(void) cairn_sweep_spec_free(cairn_sweep_spec *spec);

/* The spec as canonical JSON (every default filled in), which parses back
 * into the same spec: what a sweep stores so that --resume and other
 * drivers use exactly the same search. */
CAIRN_EXTERN(int) cairn_sweep_spec_json(char **out, const cairn_sweep_spec *spec);

CAIRN_EXTERN(cairn_sweep_method) cairn_sweep_spec_method(const cairn_sweep_spec *spec);
CAIRN_EXTERN(const char *) cairn_sweep_method_name(cairn_sweep_method m);
CAIRN_EXTERN(const char *) cairn_sweep_spec_metric(const cairn_sweep_spec *spec);
CAIRN_EXTERN(cairn_sweep_goal) cairn_sweep_spec_goal(const cairn_sweep_spec *spec);
/* The trial budget: `trials` from the file, for a grid at most the number
 * of points (the whole grid when the file gives none). */
CAIRN_EXTERN(int64_t) cairn_sweep_spec_trials(const cairn_sweep_spec *spec);
CAIRN_EXTERN(int) cairn_sweep_spec_parallel(const cairn_sweep_spec *spec);
CAIRN_EXTERN(uint64_t) cairn_sweep_spec_seed(const cairn_sweep_spec *spec);
/* Name and project given by the file, or NULL. */
CAIRN_EXTERN(const char *) cairn_sweep_spec_name(const cairn_sweep_spec *spec);
CAIRN_EXTERN(const char *) cairn_sweep_spec_project(const cairn_sweep_spec *spec);
CAIRN_EXTERN(size_t) cairn_sweep_spec_nparams(const cairn_sweep_spec *spec);
CAIRN_EXTERN(const char *) cairn_sweep_spec_param_name(const cairn_sweep_spec *spec, size_t i);
CAIRN_EXTERN(cairn_param_kind) cairn_sweep_spec_param_kind(const cairn_sweep_spec *spec, size_t i);
/* Index of a parameter by name, or -1. */
CAIRN_EXTERN(int) cairn_sweep_spec_param_index(const cairn_sweep_spec *spec, const char *name);
/* Non-zero when the file asks for early stopping. */
CAIRN_EXTERN(int) cairn_sweep_spec_early_stop(const cairn_sweep_spec *spec);
/* Change the budget, the seed (command-line overrides); CAIRN_EINVALID out of range. */
CAIRN_EXTERN(int) cairn_sweep_spec_set_trials(cairn_sweep_spec *spec, int64_t trials);
CAIRN_EXTERN(void) cairn_sweep_spec_set_seed(cairn_sweep_spec *spec, uint64_t seed);

/* --- suggesting trials ------------------------------------------------------------ */

typedef enum cairn_trial_state {
	CAIRN_TRIAL_QUEUED = 0,  /* waiting for a driver (new, or re-queued) */
	CAIRN_TRIAL_RUNNING = 1, /* handed out */
	CAIRN_TRIAL_DONE = 2,    /* finished with an objective value */
	CAIRN_TRIAL_PRUNED = 3,  /* stopped early by the median rule */
	CAIRN_TRIAL_FAILED = 4,  /* the command failed or logged no objective */
} cairn_trial_state;

CAIRN_EXTERN(const char *) cairn_trial_state_name(cairn_trial_state s);

typedef struct cairn_sampler cairn_sampler;

CAIRN_EXTERN(int) cairn_sampler_new(cairn_sampler **out, const cairn_sweep_spec *spec);
CAIRN_EXTERN(void) cairn_sampler_free(cairn_sampler *s);

/* Tell the sampler how a trial ended.  `params_json` is the trial's object;
 * `value` its objective (the best intermediate value for a pruned trial;
 * ignored for a failed one).  TPE learns from done trials and counts pruned
 * ones among the bad; grid and random ignore the history. */
CAIRN_EXTERN(int)
cairn_sampler_tell(cairn_sampler *s, const char *params_json, cairn_trial_state state,
                   double value);
/* The same from an array of values in parameter order (NaN: inactive;
 * a categorical parameter's value is the index of its choice), the hot path
 * for bindings and benchmarks. */
CAIRN_EXTERN(int)
cairn_sampler_tell_x(cairn_sampler *s, const double *x, cairn_trial_state state, double value);

/* The params of trial number `trial` (0-based) as a JSON object.  grid:
 * the trial-th point of the grid (CAIRN_ENOTFOUND past its end); random:
 * drawn from a generator seeded by (seed, trial), so a trial's params do not
 * depend on the order trials run in; tpe: random for the first
 * startup_trials told trials, then TPE over the history told so far, seeded
 * by (seed, trial). */
CAIRN_EXTERN(int) cairn_sampler_suggest(char **out_json, cairn_sampler *s, int64_t trial);
/* Same into an array of cairn_sweep_spec_nparams values (as for tell_x). */
CAIRN_EXTERN(int) cairn_sampler_suggest_x(double *x, cairn_sampler *s, int64_t trial);
/* Convert between the two forms (`x` has nparams entries). */
CAIRN_EXTERN(int)
cairn_sweep_params_json(char **out, const cairn_sweep_spec *spec, const double *x);
CAIRN_EXTERN(int)
cairn_sweep_params_parse(double *x, const cairn_sweep_spec *spec, const char *params_json);

/* Tell the sampler every done and pruned trial of `sweep` in the store
 * (the history TPE learns from; grid and random ignore it), as
 * cairn_sampler_tell would one by one, in trial order. */
CAIRN_EXTERN(int)
cairn_sampler_tell_trials(cairn_sampler *s, cairn_store *store, const char *sweep);

/* --- early stopping: the median rule ----------------------------------------------- */

/* Stop a trial at step s when its best value at steps <= s is worse than
 * the median of the completed trials' values at s (each completed trial's
 * value at its last step <= s), once `min_trials` trials have completed and
 * s >= `warmup_steps` (both from the sweep file's early_terminate). */
typedef struct cairn_pruner cairn_pruner;

CAIRN_EXTERN(int) cairn_pruner_new(cairn_pruner **out, const cairn_sweep_spec *spec);
CAIRN_EXTERN(void) cairn_pruner_free(cairn_pruner *p);
/* Add a completed trial's curve (steps ascending; NaN values are skipped). */
CAIRN_EXTERN(int)
cairn_pruner_add(cairn_pruner *p, const int64_t *steps, const double *values, size_t n);
/* *out_stop = 1 when the running trial with this curve should stop. */
CAIRN_EXTERN(int)
cairn_pruner_check(int *out_stop, const cairn_pruner *p, const int64_t *steps, const double *values,
                   size_t n);

/* --- the trial queue in the store -------------------------------------------------- */

/* Called inside the claiming transaction to make a new trial's params
 * (*out_params, malloc'd JSON object, freed by the caller with free()).  It
 * may read the store (cairn_sweep_trials_json): the store lock is
 * recursive.  A non-zero return (CAIRN_ENOTFOUND: nothing left to suggest)
 * ends the claim with nothing written. */
typedef int (*cairn_sweep_suggest_fn)(void *ctx, int64_t trial, char **out_params);

/* Hand out the next trial of `sweep`, in one transaction: the lowest
 * queued trial, else (while fewer than `budget` trials exist) a new one
 * numbered after the last, with params from `suggest`.  It is marked
 * running with `owner` (host:pid, for the record).  CAIRN_ENOTFOUND when
 * nothing is queued and the budget is spent. */
CAIRN_EXTERN(int)
cairn_sweep_trial_claim(int64_t *out_trial, char **out_params, cairn_store *store,
                        const char *sweep, int64_t budget, const char *owner,
                        cairn_sweep_suggest_fn suggest, void *ctx);
/* Record a trial's state, its run (NULL: keep) and value (NaN: none). */
CAIRN_EXTERN(int)
cairn_sweep_trial_set(cairn_store *store, const char *sweep, int64_t trial, cairn_trial_state state,
                      const char *run, double value);
/* Every trial running now goes back to the queue; *out_n (may be NULL)
 * counts them. */
CAIRN_EXTERN(int) cairn_sweep_trials_requeue(int64_t *out_n, cairn_store *store, const char *sweep);
/* The trials, by number: [{"trial": n, "state": "done", "params": {...},
 * "run": id or null, "value": x or null}, ...]. */
CAIRN_EXTERN(int) cairn_sweep_trials_json(char **out, cairn_store *store, const char *sweep);
/* The same claim, with the trial's params typed (in the order the sampler
 * wrote them, an inactive parameter absent): ints, floats, bools and
 * strings as the sweep file gave the choices.  *out_params is freed with
 * cairn_params_free. */
CAIRN_EXTERN(int)
cairn_sweep_trial_claim_params(int64_t *out_trial, cairn_params **out_params, cairn_store *store,
                               const char *sweep, int64_t budget, const char *owner,
                               cairn_sweep_suggest_fn suggest, void *ctx);

/* The trials, typed: what cairn_sweep_trials_json writes.  The list and
 * everything in it is borrowed until cairn_trial_list_free (NULL-safe). */
typedef struct cairn_trial {
	int64_t trial;
	cairn_trial_state state;
	const char *run;            /* the trial's run id, or NULL */
	double value;               /* its objective, NaN when none */
	const cairn_params *params; /* never NULL */
} cairn_trial;
typedef struct cairn_trial_list cairn_trial_list;
CAIRN_EXTERN(int) cairn_sweep_trials(cairn_trial_list **out, cairn_store *store, const char *sweep);
/* 0 for NULL. */
CAIRN_EXTERN(size_t) cairn_trial_list_count(const cairn_trial_list *l);
/* The i-th trial (by number), NULL past the end. */
CAIRN_EXTERN(const cairn_trial *) cairn_trial_list_get(const cairn_trial_list *l, size_t i);
CAIRN_EXTERN(void) cairn_trial_list_free(cairn_trial_list *l);

/* What a sweep reads of a trial's run (by id or unique prefix): its status
 * (crashed when it is running with a stale heartbeat) and the last value
 * of the objective `metric` (NaN when the run has not logged it; metric
 * NULL: the status only).  Either out-parameter may be NULL.
 * CAIRN_ENOTFOUND when there is no such run. */
CAIRN_EXTERN(int)
cairn_sweep_run_objective(double *out_value, cairn_status *out_status, cairn_store *store,
                          const char *run, const char *metric);
/* The objective's points in that run, in step order (NaN values kept):
 * *out_steps and *out_values (both freed with cairn_free) hold *out_n
 * points; none (n 0) when the run has not logged the metric. */
CAIRN_EXTERN(int)
cairn_sweep_run_curve(int64_t **out_steps, double **out_values, size_t *out_n, cairn_store *store,
                      const char *run, const char *metric);

/* The newest child run of `sweep` named `name` (a trial's run). */
CAIRN_EXTERN(int)
cairn_sweep_child_find(char out_id[32 + 1], cairn_store *store, const char *sweep,
                       const char *name);
/* Put a finished sweep run back to running (a resumed sweep). */
CAIRN_EXTERN(int) cairn_sweep_reopen(cairn_store *store, const char *sweep);

#ifdef __cplusplus
}
#endif
#endif
