/*
 * lib/store/sweep.h — the store's side of the sweep trial queue
 * (cairn/sweep.h): the trials of a sweep run, handed out one transaction at
 * a time.  lib/sweep/queue.c builds the public calls on these; the SQLite
 * backend keeps them in table sweep_trials (sqlite/sweep.c).
 *
 * A trial of sweep run sweep_rid is numbered from 0.  States: queued ->
 * running -> done | pruned | failed, and running -> queued again when a
 * driver stops before the trial ends (cairn sweep --resume).
 */
#ifndef CAIRN_LIB_STORE_SWEEP_H
#define CAIRN_LIB_STORE_SWEEP_H

#include "cairn/sweep.h"
#include "lib/store/store.h"

typedef struct trial_row {
	int64_t trial;
	cairn_trial_state state;
	char *params;    /* the trial's params, a JSON object */
	char run_id[33]; /* its run, "" when none (or purged) */
	double value;    /* its objective, NaN when none */
} trial_row;

/* Hand out the next trial in one write transaction: the lowest queued
 * trial, else (while fewer than budget exist) a new one numbered after the
 * last, with params from suggest (called inside the transaction).  Marked
 * running with owner.  CAIRN_ENOTFOUND when nothing is left. */
int store_trial_claim(cairn_store *s, int64_t sweep_rid, int64_t budget, const char *owner,
                      cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial,
                      char **out_params);
/* Record a trial's state, run (run_rid 0: keep) and value (NaN: none);
 * CAIRN_ENOTFOUND when the sweep has no such trial. */
int store_trial_set(cairn_store *s, int64_t sweep_rid, int64_t trial, cairn_trial_state state,
                    int64_t run_rid, double value);
/* Every running trial back to queued; *out_n (may be NULL) counts them. */
int store_trials_requeue(cairn_store *s, int64_t sweep_rid, int64_t *out_n);
/* The trials by number (malloc'ed; trial_rows_free). */
int store_trial_list(cairn_store *s, int64_t sweep_rid, trial_row **out, size_t *out_n);
void trial_rows_free(trial_row *v, size_t n);
/* The rows as given (cairn migrate): backend.h, trials_put. */
int store_trials_put(cairn_store *s, int64_t sweep_rid, const trial_row *rows, size_t n);
/* The newest live child run of the sweep with this name. */
int store_sweep_child_find(cairn_store *s, int64_t sweep_rid, const char *name, char out_id[33]);
/* The run back to running: heartbeat now (a resumed sweep) for pid <= 0,
 * else owned by process pid on host, no heartbeat yet (backend.h). */
int store_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host);
/* The points of metric key in the run, in step order: steps and values
 * (NaN kept), malloc'ed (free both), *out_n of them (0: none, or no such
 * metric). */
int store_sweep_run_curve(cairn_store *s, int64_t rid, const char *key, int64_t **out_steps,
                          double **out_values, size_t *out_n);

#endif
