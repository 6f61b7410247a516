/*
 * cli/run-ctl.h — the channel between `cairn run` and its command
 * (run-ctl.c): the environment the command starts with (CAIRN_RUN_ID,
 * CAIRN_DIR, the capture channel's descriptor, the Python hook on
 * PYTHONPATH), the messages that come back on that channel (the Python
 * binding attaching and naming the metric keys it logs, the hook's argparse
 * namespace), and the gate that keeps the metric parser from doubling a key
 * the binding logs.  One thread (cairn run's) uses it.
 */
#ifndef CAIRN_CLI_RUN_CTL_H
#define CAIRN_CLI_RUN_CTL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn.h"
#include "cli/run-params.h"

typedef struct run_ctl run_ctl;

/* The channel (a pipe); NULL with errno set when it cannot be made. */
run_ctl *run_ctl_new(cairn_run *run, run_params *rp);
void run_ctl_free(run_ctl *c);

/* The directory holding the hook's sitecustomize.py: $CAIRN_PYHOOK (a
 * directory; "0" or "" turns the hook off), else share/cairn/pyhook beside
 * the installed binary, else python/pyhook of the build tree.  malloc'd, or
 * NULL when there is none. */
char *run_ctl_pyhook_dir(void);
/* The directory of this cairn executable (what the shim and the Python
 * hook are found beside); false when /proc/self/exe cannot tell. */
bool run_ctl_self_dir(char out[PATH_MAX]);

/* The command's environment: ours, with CAIRN_RUN_ID, CAIRN_DIR,
 * PYTHONUNBUFFERED=1 when `unbuffered` and unset, the channel's descriptor
 * (c may be NULL) and `pyhook` first on PYTHONPATH (NULL: none).  0, or -1
 * when out of memory; run_env_free is safe on a zeroed run_env. */
typedef struct run_env {
	char **envp;
	char *own[4]; /* the entries made here */
} run_env;
int run_ctl_child_env(run_env *e, const run_ctl *c, const char *run_id, const char *store_dir,
                      bool unbuffered, const char *pyhook);
void run_env_free(run_env *e);
/* The write end to give the command: posix_spawn_file_actions_adddup2(src,
 * dst); false when there is no channel. */
bool run_ctl_child_fd(const run_ctl *c, int *src, int *dst);
/* The command started (or failed to): close our copies of the write end. */
void run_ctl_spawned(run_ctl *c);

/* The read end, for poll; -1 when there is none. */
int run_ctl_fd(const run_ctl *c);
/* Handle every message waiting (never blocks). */
void run_ctl_read(run_ctl *c);

/* The metric gate, a cairn_metric_cb (ctx: the run_ctl).  Before anything
 * attached through the API, a metric goes straight into the run.  After, a
 * key the API logs is left out; other keys are held HOLD seconds first, so
 * a line printed just before the API logs its key is left out too. */
int run_ctl_metric(void *ctx, const char *key, double value, int64_t step);
/* A new chunk of output: messages are read again before its first metric. */
void run_ctl_chunk(run_ctl *c);
/* When the oldest held point is due (monotonic seconds; INFINITY: none), and
 * logging the points due by `now` (all of them with now = INFINITY). */
double run_ctl_due(const run_ctl *c);
void run_ctl_tick(run_ctl *c, double now);
/* Points of API keys parsed from the output and left out, so far. */
uint64_t run_ctl_dropped(const run_ctl *c);

#endif
