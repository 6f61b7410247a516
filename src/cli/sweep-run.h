/*
 * cli/sweep-run.h — what `cairn sweep` (cmd-sweep.c) shares with the trial
 * lifecycle (sweep-trial.c): the sweep's state, one slot per running
 * trial, and the steps of a trial's life.  The order of events is described
 * in cmd-sweep.c.  One thread (cairn sweep's) owns all of it.
 */
#ifndef CAIRN_CLI_SWEEP_RUN_H
#define CAIRN_CLI_SWEEP_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn.h"
#include "util/buf.h"

typedef struct slot {
	pid_t pid; /* the trial's `cairn run`; 0: free */
	long long trial;
	cairn_params *params; /* the trial's, typed */
	char name[300];
	char run_id[CAIRN_RUN_ID_HEXSZ + 1];
	double t0;
	bool prune_sent;
	double best_seen; /* best intermediate value so far */
	int64_t last_step;
	const char *gpu;
} slot;

typedef struct sweep {
	cairn_store *s;
	cairn_sweep_spec *spec;
	char sweep_id[CAIRN_RUN_ID_HEXSZ + 1];
	char *sweep_name;
	char *project;
	char **tmpl;
	int ntmpl;
	char *config_out;
	char *self_exe, *store_abs;
	bool show_output, quiet, maximize;
	int64_t budget;
	char owner[300];
	cairn_pruner *pruner;
	/* the best so far */
	bool have_best;
	double best;
	long long best_trial;
	char *best_params; /* JSON object (the sweep.best_params property) */
	char *best_line;   /* "lr=0.01 depth=3" */
	char best_run[CAIRN_RUN_ID_HEXSZ + 1];
	int ndone, nfailed, npruned;
	const char *const *gpus;
	size_t ngpus;
} sweep;

/* "warning: ..." on stderr. */
void sweep_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "lr=0.01 depth=3" from a trial's params, for the live lines. */
void params_line(buf *b, const cairn_params *params);
/* A done trial is the best so far: remember it (copies what it keeps). */
void set_best(sweep *w, long long trial, double value, const cairn_params *params, const char *run);
/* a is better than b for the sweep's goal */
bool better(const sweep *w, double a, double b);

/* sweep-trial.c */
/* The trial's objective (last value of the metric, NaN when not logged)
 * and its run's status; false when the run cannot be read. */
bool run_objective(sweep *w, const char *run_id, double *value, cairn_status *status);
/* The trial's objective history so far (steps and values, malloc'd). */
int run_curve(sweep *w, const char *run_id, int64_t **steps, double **values, size_t *n);
/* The suggestion callback of the claim (inside its transaction). */
int suggest_cb(void *ctx, int64_t trial, char **out);
/* Start `cairn run` for a claimed trial in slot sl (the slot takes params). */
int start_trial(sweep *w, slot *sl, long long trial, cairn_params *params,
                const sigset_t *old_mask);
/* The trial's process ended with wstatus: record its outcome, free sl. */
void trial_ended(sweep *w, slot *sl, int wstatus, bool stopping);
/* Early stopping: SIGTERM a running trial the pruner condemns. */
void check_prune(sweep *w, slot *sl);

#endif
