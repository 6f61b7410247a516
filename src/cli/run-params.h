/*
 * cli/run-params.h — the params of a `cairn run` run (run-params.c): config
 * files < the command line < the argparse namespace the Python hook reports
 * < --param, a later source winning for the same key.  One thread (cairn
 * run's) uses a set.
 */
#ifndef CAIRN_CLI_RUN_PARAMS_H
#define CAIRN_CLI_RUN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn.h"

typedef struct run_params run_params;

/* NULL when out of memory. */
run_params *run_params_new(void);
void run_params_free(run_params *rp);
/* A config's flattened params (the set owns `flat`, even on error). */
int run_params_add_config(run_params *rp, cairn_params *flat);
/* The command line: its params, and the program's own arguments (what the
 * hook's namespace must have been parsed from).  Both are borrowed. */
void run_params_set_command(run_params *rp, const cairn_argv *a, int argc, char **argv);
/* --param K=V (checked by the caller to hold a '='; copied). */
int run_params_add_override(run_params *rp, const char *kv);

/* Write the params known before the command starts.  With `hold_command`
 * (a Python command that has the hook) the command line's are held back
 * until the namespace arrives or the wait, counted from run_params_started,
 * ends (run_params_due). */
int run_params_write(run_params *rp, cairn_run *run, bool hold_command);
void run_params_started(run_params *rp, double now);
/* One report of the hook ("argparse JSON" on the capture channel): its
 * namespace becomes params, and which values were defaults the property
 * argparse.defaults.  A report that does not match the command line, or is
 * not understood, is ignored.  Returns true when it was taken. */
bool run_params_namespace(run_params *rp, cairn_run *run, const char *json, size_t len, double now);
/* When the held command-line params are due (monotonic seconds; INFINITY
 * when nothing is held), and writing them (what no namespace covers). */
double run_params_due(const run_params *rp);
void run_params_release(run_params *rp, cairn_run *run);

#endif
