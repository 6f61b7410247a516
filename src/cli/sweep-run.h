/*
 * cli/sweep-run.h — what the drivers of a sweep, `cairn sweep`
 * (cmd-sweep.c) and `cairn agent` (cmd-agent.c), share: the sweep's state,
 * one slot per running trial, the steps of a trial's life (sweep-trial.c),
 * the loop that drives the trials (sweep-drive.c) and the sweep's stored
 * state (sweep-state.c).  The order of events is described in cmd-sweep.c.
 * One thread (the driver's) owns all of it.
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

typedef struct sweep sweep;

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
	bool creator;      /* cairn sweep (or --resume), not an agent */
	const char *again; /* "resume with 'cairn sweep --resume": the hint when stopped */
	/* called once, after the first trial this driver claims (an agent
	 * reopens the sweep and keeps its heartbeat); non-zero: stop */
	int (*on_first_claim)(sweep *w);
} sweep;

/* How a driver's loop ended (sweep_drive). */
typedef struct sweep_outcome {
	bool exhausted; /* nothing left to claim */
	bool stopping;  /* a signal came (stop_sig) */
	bool broken;    /* the store failed, or a trial could not start */
	int stop_sig;
	long long nclaimed; /* trials this driver ran */
} sweep_outcome;

/* The sweep's trials as the store has them (every driver's). */
typedef struct sweep_counts {
	long long done, queued, running;
} sweep_counts;

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

/* sweep-drive.c */
/* Block INT, TERM, HUP and CHLD and read them from *sfd (before any
 * thread starts); 0, or EXIT_FAIL with the error printed. */
int sweep_signals_begin(int *sfd, sigset_t *old_mask);
void sweep_signals_end(int sfd, const sigset_t *old_mask);
/* Claim and run trials, jobs at once, until nothing is left to claim, a
 * signal comes or the store fails; 0, or EXIT_FAIL (out of memory). */
int sweep_drive(sweep *w, int jobs, int sfd, const sigset_t *old_mask, sweep_outcome *o);
/* After the loop: the tally and best trial from the store, the sweep run
 * finished when this driver is the last one (nothing queued or running),
 * sweep.best_* recorded, the summary printed.  Returns the exit status:
 * 128+signal when stopped, 1 when the store failed or no trial of the
 * sweep is done, else 0.  An agent that ran nothing changes nothing. */
int sweep_wrap_up(sweep *w, cairn_run *run, const sweep_outcome *o);

/* sweep-state.c */
/* The command's program exists (a template in its name is checked when it
 * runs); 0, or EXIT_FAIL with the error printed. */
int sweep_check_program(const char *name);
/* "0,1" as GPU numbers (malloc'ed strings); -1 when it is not such a list. */
int sweep_parse_gpus(const char *list, char ***out, size_t *n);
/* Write sweep.json, the sweep's spec, command template, --config-out and
 * project, as an artifact of the sweep run. */
int sweep_write_state(cairn_run *run, const cairn_sweep_spec *spec, char *const *tmpl, int n,
                      const char *config_out, const char *project);
/* Read sweep.json back into w (sweep_id, sweep_name, spec, tmpl,
 * config_out, project) and the sweep run's status; 0, or EXIT_FAIL with
 * the error printed (no such run, not a sweep, a Python sweep). */
int sweep_read_state(sweep *w, const char *id, cairn_status *status);
/* --resume: trials whose driver died go back to the queue (those whose run
 * finished are kept as done); then sweep_pruner_load. */
void sweep_harvest(sweep *w);
/* The done trials' curves into w->pruner (when there is one). */
void sweep_pruner_load(sweep *w);
/* The counts by state, and w's best, from the store; 0 or -1. */
int sweep_tally(sweep *w, sweep_counts *c);
/* The best trial as properties sweep.best_* of the sweep run. */
void sweep_record_best(sweep *w, cairn_run *run);

#endif
