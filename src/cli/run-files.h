/*
 * cli/run-files.h — automatic inputs and outputs under `cairn run`
 * (docs/internals/auto-capture.md): the file-event channel that the
 * LD_PRELOAD shim and the Python hook report on (run-files.c), the rules
 * that decide which files the command read are datasets and which it wrote
 * are artifacts, and their recording at the end of the run
 * (run-files-record.c).  One thread (cairn run's) uses it.
 */
#ifndef CAIRN_CLI_RUN_FILES_H
#define CAIRN_CLI_RUN_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn.h"
#include "cli/run-ctl.h"

/* Bounds on what the command can make us hold. */
#define RUN_FILES_MAX      ((size_t)1 << 20) /* distinct paths */
#define RUN_FILES_GROUP    16                /* more inputs than this in one folder: one dataset */
#define RUN_FILES_WALK_MAX 200000            /* entries looked at for --artifacts */

typedef struct run_files run_files;

/* The channel (an abstract AF_UNIX datagram socket); NULL with errno set
 * when it cannot be made. */
run_files *run_files_new(void);
void run_files_free(run_files *f);

/* The shim's path: $CAIRN_SHIM (a file; "0" or "" turns it off), else
 * lib/libcairn-shim.so beside the installed binary's bin/, else
 * libcairn-shim.so beside the binary (the build tree).  malloc'd or NULL. */
char *run_files_shim_path(void);

/* Add LD_PRELOAD (the shim first, before what was there; shim NULL: left
 * as it is), CAIRN_SHIM_SOCK and CAIRN_SHIM_SKIP (skip NULL: none) to the
 * command's environment; 0 or -1 (out of memory). */
int run_files_child_env(run_files *f, run_env *e, const char *shim, const char *skip);

/* The trees the shim need not report at all (CAIRN_SHIM_SKIP: the default
 * tree rules, less a tree the working directory or a data root is in), as
 * "A:B:..."; NULL when there are none or when a !GLOB could keep anything.
 * malloc'd.  What the parent would drop anyway, left out where it costs
 * least. */
char *run_files_shim_skip(const char *cwd, const char *const *roots, size_t nroots,
                          const char *const *ignores, size_t nignores);

/* Why `path` (the resolved command) cannot be traced through LD_PRELOAD
 * ("static binary", "setuid program", ...; for a #! script, its
 * interpreter's reason), or NULL when it can. */
const char *run_files_untraceable(const char *path);

/* The socket, for poll (-1: closed); read every datagram waiting. */
int run_files_fd(const run_files *f);
void run_files_read(run_files *f);
/* Stop listening: later senders are refused and stop reporting. */
void run_files_close(run_files *f);

/* What to record, and how. */
typedef struct run_files_opts {
	const char *cwd;       /* the working directory (absolute, resolved) */
	const char *store_dir; /* the store (absolute), never recorded */
	const char *const *data_roots;
	size_t ndata_roots;
	const char *const *ignores; /* --capture-ignore GLOBs; "!GLOB" keeps */
	size_t nignores;
	const char *const *globs; /* --artifacts GLOBs */
	size_t nglobs;
	const char *const *skip; /* files never inputs: the command, its script */
	size_t nskip;
	const char *const *data_paths; /* --data paths (absolute): already recorded */
	size_t ndata_paths;
	const char *python_prefix; /* a Python command's prefix (resolved), or NULL */
	int64_t artifact_max;      /* bytes; larger outputs are recorded by digest only */
	bool traced;               /* events were collected (false: only --artifacts) */
} run_files_opts;

/* Record the run's inputs as datasets (role input) and its outputs as
 * artifacts (or, over artifact_max, datasets of role output); problems are
 * warnings.  Reads what is left on the channel first, then closes it. */
void run_files_record(run_files *f, cairn_run *run, const run_files_opts *o);

/* --- cairn run's two steps ------------------------------------------------------------------- */

/* The globs of $CAIRN_CAPTURE_IGNORE (env: a modifiable copy, split in
 * place at ':') in a new array with room for `extra` more; *n set to how
 * many.  NULL when out of memory. */
const char **run_files_env_ignores(char *env, size_t extra, size_t *n);

/* Before the command starts: find whether `path` (the resolved command,
 * named `name` on its command line) can be traced; when it (or, with
 * `pyhook`, its Python hook) can, open the channel into *out and add the
 * shim to env.  An untraced command is said so, on stderr and in the run's
 * property capture.files.  *out may be NULL (nothing to collect); 0, or -1
 * when out of memory. */
int run_files_start(run_files **out, run_env *env, cairn_run *run, const char *path,
                    const char *name, bool pyhook, const run_files_opts *o);

/* After the command: fill in what o leaves to it (the working directory, the
 * store, the command and its script, a Python command's prefix) and record
 * (run_files_record).  f may be NULL (only --artifacts). */
void run_files_finish(run_files *f, cairn_run *run, const char *path, bool python, int ncmd,
                      char **cmd, const char *store_abs, run_files_opts *o);

/* --- for run-files-record.c ------------------------------------------------------------------ */

#define RF_READ  1u
#define RF_WRITE 2u

/* Every path reported (as sent: absolute, not resolved) with its RF_* bits,
 * through cb; stops when cb returns nonzero. */
void run_files_each(const run_files *f, int (*cb)(void *, const char *, unsigned), void *ctx);
/* Paths left out because RUN_FILES_MAX was reached; messages rejected. */
uint64_t run_files_dropped(const run_files *f);
uint64_t run_files_bad(const run_files *f);

#endif
