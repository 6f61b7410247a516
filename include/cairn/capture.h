/*
 * cairn/capture.h — recording what a run cannot tell by itself: the code
 * version (git state plus a complete snapshot of the working tree), the
 * environment, params from a command line and config files, metric lines in
 * a program's output, system usage, and streamed logs.  Also the way back:
 * restoring a run's code into a directory, and diffing two runs' code.
 *
 * `cairn run` is built from these calls; the Python binding reuses them so a
 * script that calls cairn.init() records the same things.  The formats and
 * the decisions behind them are in docs/internals/capture.md.
 */
#ifndef CAIRN_CAPTURE_H
#define CAIRN_CAPTURE_H

#include "common.h"
#include "run.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- capturing code and environment --------------------------------------- */

typedef struct cairn_capture_options {
	unsigned int version;            /* CAIRN_CAPTURE_OPTIONS_VERSION */
	int code;                        /* capture git state + dirty snapshot (default 1) */
	int env;                         /* capture the environment (default 1) */
	int require_clean;               /* refuse a dirty tree: CAIRN_EDIRTY */
	const char *cwd;                 /* where to look for the repo / project (NULL: cwd) */
	int64_t snapshot_max_bytes;      /* cap on the snapshot (0: default) */
	const char *python;              /* interpreter to ask for its packages, or NULL */
	const char *packages_json;       /* {"name": "version", ...} given by the caller, or NULL */
	const char *const *source_globs; /* extra files to snapshot (Python upload_source_files) */
	size_t nsource_globs;
} cairn_capture_options;

#define CAIRN_CAPTURE_OPTIONS_VERSION 1
#define CAIRN_CAPTURE_OPTIONS_INIT                                                                 \
	{                                                                                          \
		CAIRN_CAPTURE_OPTIONS_VERSION, 1, 1, 0, NULL, 0, NULL, NULL, NULL, 0               \
	}

/* The default cap on the bytes of a code snapshot (64 MiB), applied
 * separately to the committed tree and to the working-tree changes; also
 * settable with $CAIRN_SNAPSHOT_MAX (bytes, or with a K/M/G suffix). */
#define CAIRN_SNAPSHOT_MAX_DEFAULT ((int64_t)64 << 20)

/* Capture the code version and/or the environment of a run.  With
 * require_clean, a tree with any change (staged, unstaged or untracked) is
 * refused with CAIRN_EDIRTY before anything is stored.  What does not fit the
 * size cap is listed in the snapshot with its digest; the run is never lost. */
CAIRN_EXTERN(int) cairn_run_capture(cairn_run *run, const cairn_capture_options *opts);

/* Same, and *out_report (if not NULL) receives a JSON object
 *   {"code": {"vcs", "commit", "branch", "remote", "dirty", "files", "bytes",
 *             "changed", "deleted", "omitted", "snapshot"} or null,
 *    "environment": "<oid>" or null, "warnings": ["...", ...]}
 * The warnings are what a user should hear about (files over the cap, secret
 * files left out, an interpreter that could not be asked). */
CAIRN_EXTERN(int)
cairn_run_capture_report(char **out_report, cairn_run *run, const cairn_capture_options *opts);

/* Same, and *out (if not NULL) receives what the capture has to say, typed:
 * the warnings (in the order they arose) and the environment's object id.
 * The JSON report above is this one written out.  Free it with
 * cairn_capture_report_free (NULL-safe). */
typedef struct cairn_capture_report cairn_capture_report;
CAIRN_EXTERN(int)
cairn_run_capture_ext(cairn_capture_report **out, cairn_run *run,
                      const cairn_capture_options *opts);
/* 0 for NULL. */
CAIRN_EXTERN(size_t) cairn_capture_report_warning_count(const cairn_capture_report *r);
/* The i-th warning, NULL past the end; borrowed from the report. */
CAIRN_EXTERN(const char *) cairn_capture_report_warning(const cairn_capture_report *r, size_t i);
/* The stored environment's object id, or NULL when none was captured. */
CAIRN_EXTERN(const char *) cairn_capture_report_environment(const cairn_capture_report *r);
CAIRN_EXTERN(void) cairn_capture_report_free(cairn_capture_report *r);

/* 0 when cwd (NULL: the working directory) is in a git work tree without
 * changes; CAIRN_EDIRTY naming the changes (or saying it is not in git)
 * otherwise.  Nothing is stored: `cairn run --require-clean` asks this before
 * it creates the run. */
CAIRN_EXTERN(int) cairn_code_require_clean(cairn_store *store, const char *cwd);

/* The environment document `cairn run` would record now (OS, CPU, GPUs,
 * the interpreter opts->python and its packages, environment files under
 * opts->cwd, allowed variables), as JSON text; nothing is stored.  `cairn
 * reproduce` compares it with a run's (cairn_env_diff_new). */
CAIRN_EXTERN(int)
cairn_env_capture_json(char **out, cairn_store *store, const cairn_capture_options *opts);

/* Which of `paths` (absolute, resolved) the git index of the work tree
 * holding `dir` (NULL: the working directory) tracks: tracked[i] is 1 or 0.
 * *out_root is that work tree's root (absolute, no trailing slash; free with
 * cairn_free), or NULL when dir is in no work tree (every tracked[i] 0).
 * What `cairn run` asks when it decides which files a command read are
 * data (docs/internals/auto-capture.md).  out_root may be NULL. */
CAIRN_EXTERN(int)
cairn_code_tracked(char **out_root, int *tracked, const char *const *paths, size_t n,
                   const char *dir);

/* Record on run the code version of run src (id, prefix or name): its
 * commit, branch, remote, dirty flag and snapshot, with references to the
 * snapshot's objects, as if run had captured the same tree.  For a run made
 * in a tree restored from src's snapshot (`cairn reproduce`), so that the
 * two runs' code is the same in every diff.  CAIRN_ENOTFOUND when src has no
 * code snapshot. */
CAIRN_EXTERN(int) cairn_run_code_copy(cairn_run *run, const char *src);

/* The interpreter a command runs under when it is Python: the command itself
 * when its name is python/python3/python3.X, or the interpreter named by its
 * `#!` line (`#!/usr/bin/env python3` is looked up in PATH).  *out is NULL
 * when the command is not Python.  `path` is the resolved command file. */
CAIRN_EXTERN(int) cairn_command_python(char **out, const char *path);

/* --- params: command lines and config files -------------------------------- */

/* Parse a wrapped command line (argv[0] is the program) into
 *   {"params": {"key": typed value, ...}, "configs": ["cfg.yaml", ...],
 *    "secrets": ["api_key", ...]}
 * `--key value`, `--key=value`, `-k value` (key "k"), `key=value`, bare flags
 * (true), repeated flags (a list, as JSON text); hyphens in option names
 * become underscores (argparse's dest).  For interpreters (python, python -m)
 * only the script's own arguments are parsed.  Arguments naming an existing
 * .yaml/.yml/.json file are listed in "configs".  Keys that look secret are
 * listed in "secrets" and left out of "params". */
CAIRN_EXTERN(int) cairn_argv_params_json(char **out, int argc, const char *const *argv);

/* The same, typed: a parsed command line with its params (a repeated
 * option's values as one string, the JSON list), the config files it names
 * and the secret keys left out, each in the order first seen.  Everything
 * is borrowed from the handle; cairn_argv_free is NULL-safe. */
typedef struct cairn_argv cairn_argv;
CAIRN_EXTERN(int) cairn_argv_parse(cairn_argv **out, int argc, const char *const *argv);
CAIRN_EXTERN(const cairn_params *) cairn_argv_params(const cairn_argv *a);
CAIRN_EXTERN(size_t) cairn_argv_config_count(const cairn_argv *a);
CAIRN_EXTERN(const char *) cairn_argv_config(const cairn_argv *a, size_t i);
CAIRN_EXTERN(size_t) cairn_argv_secret_count(const cairn_argv *a);
CAIRN_EXTERN(const char *) cairn_argv_secret(const cairn_argv *a, size_t i);
/* The index in argv of the program's own first argument: the script's
 * arguments for an interpreter, those after the .py file for a launcher,
 * else 1 (what the params are read from; argc when there are none). */
CAIRN_EXTERN(int) cairn_argv_args_start(const cairn_argv *a);
CAIRN_EXTERN(void) cairn_argv_free(cairn_argv *a);

/* The command line as one string for the record: arguments shell-quoted
 * where needed, values of secret-looking options and credentials inside URLs
 * masked as "***". */
CAIRN_EXTERN(int) cairn_command_line_masked(char **out, int argc, const char *const *argv);

/* The inverse of cairn_command_line_masked: the arguments of a recorded
 * command line (words, '...' quoting with '\'' for a quote), as a
 * NULL-terminated array freed with cairn_command_line_free.  CAIRN_EINVALID
 * for a line that is not of that form, and for one with a masked value
 * ("***"): a secret that was never stored cannot be run again. */
CAIRN_EXTERN(int) cairn_command_line_split(char ***out_argv, int *out_argc, const char *line);
CAIRN_EXTERN(void) cairn_command_line_free(char **argv);

/* Flatten a YAML or JSON config file (by extension; .yaml/.yml/.json) into a
 * JSON object of params with dotted keys.  Lists become JSON text strings;
 * null becomes the string "null"; secret-looking keys are left out and
 * credentials inside URLs masked (in keys, values and lists).  A
 * malformed file is CAIRN_EINVALID with the file and line in the message. */
CAIRN_EXTERN(int) cairn_config_flatten_json(char **out, const char *path);
/* The same as typed params, each member typed as cairn_run_log_params_json
 * types it (lists and null stay the strings the JSON form has). */
CAIRN_EXTERN(int) cairn_config_flatten(cairn_params **out, const char *path);

/* Flatten a YAML/JSON config into params (dotted keys) and snapshot the file
 * with cairn_run_log_config_snapshot (credentials masked in both).  Params
 * already set are replaced.  A malformed file is CAIRN_EINVALID (file and
 * line in the message) and is still snapshotted; a copy that is refused
 * still records the params, and its error is returned. */
CAIRN_EXTERN(int) cairn_run_log_config(cairn_run *run, const char *path);

/* Store a copy of a config file as an artifact of kind "config", named
 * config/<path> (config/<base name> for a path that is absolute or climbs
 * out), with every credential inside a URL masked as cairn_mask_credentials
 * does, also in comments and in strings written with escapes; the rest is
 * kept byte for byte.  A file that parses is checked after masking: when a
 * credential is still there it is not stored (CAIRN_EINVALID).  Files over
 * 16 MiB are not stored (CAIRN_ETOOBIG).  cairn_run_log_config calls it. */
CAIRN_EXTERN(int) cairn_run_log_config_snapshot(cairn_run *run, const char *path);

/* Log every member of a flat JSON object as a param, in one transaction.
 * Numbers are int or float as written, true/false are bools, strings stay
 * strings, anything else is recorded as its JSON text.  overwrite = 0 keeps
 * params write-once (CAIRN_ECONFLICT on another value). */
CAIRN_EXTERN(int) cairn_run_log_params_json(cairn_run *run, const char *json_object, int overwrite);

/* Secret handling, shared by everything that records text from outside. */
/* Non-zero when a name (env var, option, config key) looks like it holds a
 * secret: it contains TOKEN, SECRET, PASSWORD, PASSWD, KEY, CREDENTIAL, AUTH,
 * PRIVATE or COOKIE, in any case. */
CAIRN_EXTERN(int) cairn_name_is_secret(const char *name);
/* Copy text with credentials inside URLs masked: `https://user:pw@host` ->
 * `https://` + `***@host`, and secret-looking query parameters -> `name=***`. */
CAIRN_EXTERN(int) cairn_mask_credentials(char **out, const char *text);

/* --- restoring and comparing code ------------------------------------------ */

typedef struct cairn_checkout_options {
	unsigned int version; /* CAIRN_CHECKOUT_OPTIONS_VERSION (1 is still accepted) */
	const char *repo;     /* a git repository to take files not stored in the
	                         snapshot from (NULL: the run's own repository) */
	int no_git;           /* version 2: do not make a git run's checkout a git
	                         repository (the plain files only) */
} cairn_checkout_options;
#define CAIRN_CHECKOUT_OPTIONS_VERSION 2
#define CAIRN_CHECKOUT_OPTIONS_INIT                                                                \
	{                                                                                          \
		CAIRN_CHECKOUT_OPTIONS_VERSION, NULL, 0                                            \
	}

/* Restore the run's code snapshot (commit + changes + untracked) into dir,
 * which must not exist or be empty.  A run captured in git gets a git
 * repository there too (unless no_git): HEAD is a stand-in commit with the
 * run's committed tree, on its branch, with its remote, and the run's
 * changes are uncommitted changes; a run made in the checkout is captured
 * against the original commit (docs/internals/capture.md). */
CAIRN_EXTERN(int) cairn_code_checkout(cairn_store *store, const char *run, const char *dir);

/* Same with options; *out_report (if not NULL) receives
 *   {"files": n, "bytes": n, "vcs": "git"|"none", "commit": ..., "subdir": ...,
 *    "git": true|false, "missing": [paths], "secret": [paths]}
 * (also when the call fails with CAIRN_ENOTFOUND; free it either way).
 * Files whose content is neither stored nor in a reachable repository are
 * listed in "missing" and the call returns CAIRN_ENOTFOUND after restoring
 * everything else.  Secret-looking files the snapshot left out on purpose
 * are listed in "secret" and are not an error. */
CAIRN_EXTERN(int)
cairn_code_checkout_ext(char **out_report, cairn_store *store, const char *run, const char *dir,
                        const cairn_checkout_options *opts);

/* The same, with the report typed: *out_report (if not NULL) receives the
 * report on success and when the call fails with CAIRN_ENOTFOUND (missing
 * files), NULL otherwise; free it with cairn_checkout_report_free
 * (NULL-safe).  Strings are borrowed from the report. */
typedef struct cairn_checkout_report cairn_checkout_report;
CAIRN_EXTERN(int)
cairn_code_checkout_report(cairn_checkout_report **out_report, cairn_store *store, const char *run,
                           const char *dir, const cairn_checkout_options *opts);
CAIRN_EXTERN(int64_t) cairn_checkout_report_files(const cairn_checkout_report *r);
CAIRN_EXTERN(int64_t) cairn_checkout_report_bytes(const cairn_checkout_report *r);
CAIRN_EXTERN(const char *)
cairn_checkout_report_vcs(const cairn_checkout_report *r); /* git, none */
/* NULL when the run had no commit. */
CAIRN_EXTERN(const char *) cairn_checkout_report_commit(const cairn_checkout_report *r);
/* 1 when the checkout was made a git repository. */
CAIRN_EXTERN(int) cairn_checkout_report_git(const cairn_checkout_report *r);
/* Where in the tree the run started ("" at its root). */
CAIRN_EXTERN(const char *) cairn_checkout_report_subdir(const cairn_checkout_report *r);
CAIRN_EXTERN(size_t) cairn_checkout_report_missing_count(const cairn_checkout_report *r);
CAIRN_EXTERN(const char *) cairn_checkout_report_missing(const cairn_checkout_report *r, size_t i);
CAIRN_EXTERN(size_t) cairn_checkout_report_secret_count(const cairn_checkout_report *r);
CAIRN_EXTERN(const char *) cairn_checkout_report_secret(const cairn_checkout_report *r, size_t i);
CAIRN_EXTERN(void) cairn_checkout_report_free(cairn_checkout_report *r);

/* Unified diff of the source between two runs' snapshots; notebooks compared
 * by their extracted code. "" when identical.  CAIRN_ENOTFOUND when a run has
 * no code snapshot. */
CAIRN_EXTERN(int)
cairn_code_diff(char **out, cairn_store *store, const char *run_a, const char *run_b);

/* The code diff file by file: what `cairn diff` and the web UI show, with
 * data-like files (by extension, size or binary content; the rule is in
 * docs/internals/capture.md) summarised instead of diffed line by line. */
typedef enum cairn_code_change {
	CAIRN_CODE_MODIFIED = 1,
	CAIRN_CODE_ADDED = 2,   /* only in b */
	CAIRN_CODE_DELETED = 3, /* only in a */
	CAIRN_CODE_MODE = 4,    /* the same bytes, another mode */
} cairn_code_change;

typedef struct cairn_code_file {
	const char *path;
	cairn_code_change change;
	int data;                    /* data-like: its patch only with `full` */
	int binary;                  /* content git calls binary: no line diff */
	uint32_t old_mode, new_mode; /* 0100644, 0100755, 0120000; 0 on the side without */
	int64_t old_size, new_size;  /* bytes; -1 on the side without, or unknown */
	/* "sha256:<hex>" (stored), "xxh128:<hex>" or "git:<sha1>" (not stored);
	 * NULL on the side without the file */
	const char *old_digest, *new_digest;
	int64_t old_rows, new_rows; /* lines of a .csv/.tsv/.jsonl data file; -1 when not counted */
	int64_t additions, deletions; /* lines, counted in the patch (also when not kept) */
	const char *patch;            /* this file's unified diff, NULL when summarised */
	const char *note;             /* "content not stored", "too large to diff", or NULL */
} cairn_code_file;

typedef struct cairn_code_diff_options {
	unsigned int version; /* CAIRN_CODE_DIFF_OPTIONS_VERSION */
	int full;             /* patches for data-like files too */
	const char *path;     /* only this path (NULL: every file) */
} cairn_code_diff_options;
#define CAIRN_CODE_DIFF_OPTIONS_VERSION 1
#define CAIRN_CODE_DIFF_OPTIONS_INIT                                                               \
	{                                                                                          \
		CAIRN_CODE_DIFF_OPTIONS_VERSION, 0, NULL                                           \
	}

typedef struct cairn_code_changes cairn_code_changes;
/* The files that differ between the code of run_a and run_b, in path order.
 * run_b NULL: run_a's uncommitted changes, its snapshot against its commit
 * (no files for a clean run); CAIRN_EINVALID for a run captured outside
 * git, which has no commit.  CAIRN_ENOTFOUND when a run has no snapshot.
 * Everything is borrowed from the result; cairn_code_changes_free is
 * NULL-safe. */
CAIRN_EXTERN(int)
cairn_code_changes_new(cairn_code_changes **out, cairn_store *store, const char *run_a,
                       const char *run_b, const cairn_code_diff_options *opts);
CAIRN_EXTERN(size_t) cairn_code_changes_count(const cairn_code_changes *c);
CAIRN_EXTERN(const cairn_code_file *)
cairn_code_changes_file(const cairn_code_changes *c, size_t i);
/* {"files": [{path, change, data, binary, additions, deletions,
 *             a: {mode, size, digest, rows?} | null, b: … | null, note, patch}],
 *  "diff": the patches kept, one after another} */
CAIRN_EXTERN(int) cairn_code_changes_json(char **out, const cairn_code_changes *c);
CAIRN_EXTERN(void) cairn_code_changes_free(cairn_code_changes *c);

/* The code cells of a Jupyter notebook as one script ("# %%" before each
 * cell).  CAIRN_EINVALID when the text is not a notebook. */
CAIRN_EXTERN(int) cairn_notebook_code(char **out, const void *ipynb, size_t len);

/* --- metric lines ------------------------------------------------------------ */

/* Recognises metrics in lines of program output.  The default pattern finds
 * `key=value` and `key: value` pairs (also quoted keys, as in a printed
 * Python dict), several per line; a step/epoch/iter key with an integer
 * value (`step=3`, `epoch: 3`, `Epoch 3/10`) gives the line's step.  A custom
 * pattern is a POSIX extended regular expression whose first two groups are
 * the key and the value, applied repeatedly along each line.  One parser per
 * stream: feed() keeps the partial last line (at most 64 KiB of it). */
typedef struct cairn_metric_parser cairn_metric_parser;

/* pattern NULL or "": the default. */
CAIRN_EXTERN(int) cairn_metric_parser_new(cairn_metric_parser **out, const char *pattern);
CAIRN_EXTERN(void) cairn_metric_parser_free(cairn_metric_parser *p);

/* Called once per metric found; step is CAIRN_STEP_AUTO when the line has
 * none.  A non-zero return stops the parse and is returned. */
typedef int (*cairn_metric_cb)(void *ctx, const char *key, double value, int64_t step);

/* Parse one line (without its newline).  Returns the number of metrics found
 * or a negative error. */
CAIRN_EXTERN(int)
cairn_metric_parse_line(cairn_metric_parser *p, const char *line, size_t len, cairn_metric_cb cb,
                        void *ctx);
/* Feed a chunk of a stream; complete lines are parsed and their metrics
 * logged into run. */
CAIRN_EXTERN(int)
cairn_metric_parser_feed(cairn_metric_parser *p, cairn_run *run, const void *data, size_t len);
/* The stream ended: parse what is left of the last line. */
CAIRN_EXTERN(int) cairn_metric_parser_finish(cairn_metric_parser *p, cairn_run *run);
/* The same two, each metric found handed to cb instead of logged (what
 * `cairn run` uses to leave out keys the command logs through the API). */
CAIRN_EXTERN(int)
cairn_metric_parser_feed_cb(cairn_metric_parser *p, const void *data, size_t len,
                            cairn_metric_cb cb, void *ctx);
CAIRN_EXTERN(int)
cairn_metric_parser_finish_cb(cairn_metric_parser *p, cairn_metric_cb cb, void *ctx);

/* --- streamed artifacts (logs) ----------------------------------------------- */

/* An artifact written in pieces with bounded memory (8 MiB per stream): bytes
 * go through a ring of buffers to two threads, one writing a temp file in the
 * object store and one hashing, so the writer is not held up by either;
 * close() names the object and records the artifact.  One producer per
 * stream. */
typedef struct cairn_artifact_stream cairn_artifact_stream;

CAIRN_EXTERN(int)
cairn_artifact_stream_open(cairn_artifact_stream **out, cairn_run *run, const char *name,
                           const char *kind);
/* Copy bytes into the stream (waits while the ring is full). */
CAIRN_EXTERN(int)
cairn_artifact_stream_write(cairn_artifact_stream *s, const void *data, size_t len);
/* Zero-copy: get the next free buffer (*len bytes, waiting while the ring is
 * full), fill it, then commit the n bytes used (0 gives it back).  The buffer
 * belongs to the stream again after commit. */
CAIRN_EXTERN(int) cairn_artifact_stream_reserve(cairn_artifact_stream *s, void **out, size_t *len);
CAIRN_EXTERN(int) cairn_artifact_stream_commit(cairn_artifact_stream *s, size_t n);
/* Store the object, record the artifact, free the stream (also on error). */
CAIRN_EXTERN(int) cairn_artifact_stream_close(cairn_artifact_stream *s);
/* Drop what was written and free the stream (NULL-safe). */
CAIRN_EXTERN(void) cairn_artifact_stream_abort(cairn_artifact_stream *s);

/* --- heartbeat and system sampling -------------------------------------------- */

typedef struct cairn_monitor cairn_monitor;

typedef struct cairn_monitor_options {
	unsigned int version;      /* CAIRN_MONITOR_OPTIONS_VERSION */
	int64_t pid;               /* root of the process tree to sample (0: this process) */
	double heartbeat_interval; /* seconds; 0: $CAIRN_HEARTBEAT_INTERVAL or 10; < 0: none */
	double sample_interval;    /* seconds; 0: $CAIRN_SAMPLE_INTERVAL or 5; < 0: none */
} cairn_monitor_options;
#define CAIRN_MONITOR_OPTIONS_VERSION 1
#define CAIRN_MONITOR_OPTIONS_INIT                                                                 \
	{                                                                                          \
		CAIRN_MONITOR_OPTIONS_VERSION, 0, 0, 0                                             \
	}

/* Start a thread that records the run's heartbeat (so a run whose process
 * died shows as crashed) and samples sys/cpu_percent, sys/rss_bytes,
 * sys/memory_percent and, with NVML, sys/gpuN/{util_percent,memory_bytes,
 * temperature_c,power_w} of the process tree rooted at pid.  The first
 * heartbeat is written before this returns. */
CAIRN_EXTERN(int)
cairn_monitor_start(cairn_monitor **out, cairn_run *run, const cairn_monitor_options *opts);
/* Stop the thread and free the monitor (NULL-safe). */
CAIRN_EXTERN(void) cairn_monitor_stop(cairn_monitor *m);

#ifdef __cplusplus
}
#endif
#endif
