/*
 * cairn/run.h — creating runs and logging into them; reading them back.
 *
 * A cairn_run is a handle on one run of one store, used from any thread.
 * Metrics are buffered: cairn_run_log_metric appends to memory and returns;
 * the store's flusher thread commits batches.  Everything else (params, tags,
 * properties, artifacts) is written at once, in its own transaction.
 */
#ifndef CAIRN_RUN_H
#define CAIRN_RUN_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_run cairn_run;

typedef enum cairn_status {
	CAIRN_STATUS_RUNNING = 0,
	CAIRN_STATUS_FINISHED = 1,
	CAIRN_STATUS_FAILED = 2,
	CAIRN_STATUS_KILLED = 3,
	CAIRN_STATUS_CRASHED = 4,
	CAIRN_STATUS_PRUNED = 5, /* a sweep trial stopped early (cairn sweep) */
} cairn_status;

CAIRN_EXTERN(const char *) cairn_status_name(cairn_status status);
CAIRN_EXTERN(int) cairn_status_parse(cairn_status *out, const char *name);

#define CAIRN_RUN_ID_HEXSZ 32

typedef struct cairn_run_options {
	unsigned int version;
	const char *project;     /* NULL: $CAIRN_PROJECT or "default" */
	const char *name;        /* NULL: a generated name */
	const char *const *tags; /* ntags tags */
	size_t ntags;
	const char *command; /* the command line, for the record */
	const char *cwd;     /* NULL: the working directory */
	const char *parent;  /* parent run id (sweeps), or NULL */
	/* Version 2: who the run is recorded as started by; NULL: the user of
	 * this process.  A server sets its caller's token name here. */
	const char *user;
	/* Version 3: when the run started (seconds since the epoch); 0: now.
	 * A client that creates runs through a server (MLflow's) gives its own
	 * clock's time. */
	double start_time;
} cairn_run_options;

/* Versions 1 (without user) and 2 (without start_time) are still accepted. */
#define CAIRN_RUN_OPTIONS_VERSION 3
#define CAIRN_RUN_OPTIONS_INIT                                                                     \
	{                                                                                          \
		CAIRN_RUN_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0          \
	}

/* Create a run (status running) and return a handle on it. */
CAIRN_EXTERN(int)
cairn_run_create(cairn_run **out, cairn_store *store, const cairn_run_options *opts);
/* A handle on an existing run named by its id or a unique prefix (4+ hex). */
CAIRN_EXTERN(int) cairn_run_open(cairn_run **out, cairn_store *store, const char *id);
/* Resume an existing run (an id, unique prefix or name): it returns to
 * running (end time and exit code cleared), owned by this process (its pid
 * and host recorded) with no heartbeat until cairn_run_heartbeat or a
 * monitor beats, and the handle's metrics continue after each key's last
 * step, as every handle's do.  CAIRN_ENOTFOUND for an unknown run and,
 * saying so, for a deleted one. */
CAIRN_EXTERN(int) cairn_run_resume(cairn_run **out, cairn_store *store, const char *id);
/* Resolve an id or unique prefix to the full 32-hex id. */
CAIRN_EXTERN(int)
cairn_run_resolve(char out_id[CAIRN_RUN_ID_HEXSZ + 1], cairn_store *store, const char *id);
/* Flush pending metrics and release the handle (NULL-safe).  The run's
 * status is not changed: call cairn_run_finish for that. */
CAIRN_EXTERN(void) cairn_run_free(cairn_run *run);

CAIRN_EXTERN(const char *) cairn_run_id(const cairn_run *run);
CAIRN_EXTERN(const char *) cairn_run_name(const cairn_run *run);
CAIRN_EXTERN(const char *) cairn_run_project(const cairn_run *run);
CAIRN_EXTERN(int64_t) cairn_run_seq(const cairn_run *run);
CAIRN_EXTERN(cairn_store *) cairn_run_store(const cairn_run *run);

/* Metrics.  step CAIRN_STEP_AUTO: one past the key's last step in the run
 * (0 for a new key), counted when the point is committed, after every
 * point any handle, process or server stored before it (a remote store's
 * handle counts from the last step stored when it first logged the key);
 * otherwise 0..INT64_MAX, and there is no step
 * after INT64_MAX (CAIRN_EINVALID).  timestamp 0: now; otherwise seconds
 * since the epoch, above 0 and at most CAIRN_TIMESTAMP_MAX (the end of year
 * 9999), else CAIRN_EINVALID.  value may be NaN or +-Inf.  Returns once the
 * point is buffered; when the buffer is full the call waits for the flusher
 * (back-pressure). */
#define CAIRN_STEP_AUTO     INT64_MIN
#define CAIRN_TIMESTAMP_MAX 253402300799.0
/* A metric value from text, the one reading shared by the CLI, output
 * capture and the HTTP API: decimal or scientific notation (subnormals such
 * as 4.9e-324 included), or nan / inf / infinity with an optional sign, in
 * any case.  Not: hex floats, a value past the double range (1e999), empty
 * text or trailing characters.  0, or CAIRN_EINVALID with the error set. */
CAIRN_EXTERN(int) cairn_metric_value_parse(const char *text, double *out);
CAIRN_EXTERN(int)
cairn_run_log_metric(cairn_run *run, const char *key, double value, int64_t step, double timestamp);
/* Log n metrics at once (one point per key, e.g. every metric of an epoch):
 * keys[i] gets values[i] at `step` (CAIRN_STEP_AUTO: each key's own next
 * step) and `timestamp` (0: now).  Every key is validated before any point
 * is buffered, so a bad key logs nothing.  Bindings use it to cross the
 * language boundary once per call instead of once per key. */
CAIRN_EXTERN(int)
cairn_run_log_metrics(cairn_run *run, const char *const *keys, const double *values, size_t n,
                      int64_t step, double timestamp);
/* Commit every buffered point of this store now. */
CAIRN_EXTERN(int) cairn_run_flush(cairn_run *run);

/* Params are write-once: re-logging the same value is fine, another value is
 * CAIRN_ECONFLICT. */
CAIRN_EXTERN(int) cairn_run_log_param(cairn_run *run, const char *key, const cairn_value *value);
/* Same, the value typed from text by cairn_value_parse. */
CAIRN_EXTERN(int) cairn_run_log_param_text(cairn_run *run, const char *key, const char *text);
/* n params at once, write-once as cairn_run_log_param, in one transaction and
 * all or nothing: a bad key or value, or another value for a key already set
 * (a key given twice with two values included), writes none of them.  Time
 * is linear in n. */
CAIRN_EXTERN(int)
cairn_run_log_params(cairn_run *run, const char *const *keys, const cairn_value *values, size_t n);
/* Same, but a later value replaces an earlier one (explicit overrides such as
 * `cairn run --param` over the parsed command line). */
CAIRN_EXTERN(int) cairn_run_set_param(cairn_run *run, const char *key, const cairn_value *value);
/* n params at once, all or nothing as cairn_run_log_params, but a later
 * value replaces an earlier one, also within the call (the last of a key
 * given twice wins): `cairn run` records its configs, then the command
 * line, then --param this way. */
CAIRN_EXTERN(int)
cairn_run_set_params(cairn_run *run, const char *const *keys, const cairn_value *values, size_t n);

/* A list of named typed values in order, handed out where the library has
 * params that are not a run's: a command line's (cairn_argv_parse), a
 * config file's (cairn_config_flatten), a sweep trial's.  Keys may repeat
 * (the later one wins when recorded).  Immutable; the strings are borrowed
 * from the list and live until cairn_params_free (NULL-safe). */
typedef struct cairn_params cairn_params;
/* 0 for NULL. */
CAIRN_EXTERN(size_t) cairn_params_count(const cairn_params *p);
/* The i-th key, its value in *value (may be NULL); NULL past the end. */
CAIRN_EXTERN(const char *) cairn_params_get(cairn_value *value, const cairn_params *p, size_t i);
/* The value of key (the last one when it repeats): 0, or CAIRN_ENOTFOUND. */
CAIRN_EXTERN(int) cairn_params_lookup(cairn_value *value, const cairn_params *p, const char *key);
CAIRN_EXTERN(void) cairn_params_free(cairn_params *p);

/* Tags are bare ("baseline": present or not) or carry a value
 * ("team=vision", MLflow's key/value tags): set_tag takes "key" or
 * "key=value" (split at the first '='), set_tag_value the two apart (value
 * NULL: bare).  Setting a tag again replaces its value; remove_tag takes the
 * key and removes the tag whatever its value. */
CAIRN_EXTERN(int) cairn_run_set_tag(cairn_run *run, const char *tag);
CAIRN_EXTERN(int) cairn_run_set_tag_value(cairn_run *run, const char *key, const char *value);
CAIRN_EXTERN(int) cairn_run_remove_tag(cairn_run *run, const char *tag);
CAIRN_EXTERN(int) cairn_run_set_property(cairn_run *run, const char *key, const char *value);
CAIRN_EXTERN(int) cairn_run_set_note(cairn_run *run, const char *text);
CAIRN_EXTERN(int) cairn_run_set_name(cairn_run *run, const char *name);

/* Artifact kinds, recorded with each file. */
#define CAIRN_ARTIFACT_FILE   "file"
#define CAIRN_ARTIFACT_IMAGE  "image"
#define CAIRN_ARTIFACT_LOG    "log"
#define CAIRN_ARTIFACT_CONFIG "config"
#define CAIRN_ARTIFACT_ENV    "env"
/* 1 for the kinds cairn captures itself (log, config, env): not among the
 * files a run wrote (the query's `wrote`), 0 for the others. */
CAIRN_EXTERN(int) cairn_artifact_is_capture(const char *kind);

/* Store a file or directory (recursively) under run-relative `name` (NULL:
 * the base name of path).  Names are relative paths without `..`. */
CAIRN_EXTERN(int) cairn_run_log_artifact(cairn_run *run, const char *path, const char *name);
/* Same with an explicit kind (CAIRN_ARTIFACT_*). */
CAIRN_EXTERN(int)
cairn_run_log_artifact_kind(cairn_run *run, const char *path, const char *name, const char *kind);
/* Store a file as the newest version of artifact `name` (NULL: the base
 * name) and keep only the last keep_last (>= 1) versions: version K is the
 * artifact `name@vK` and `name` itself is always the newest (the same
 * object); older versions are deleted and their bytes freed when nothing
 * else uses them.  For checkpoints logged again and again under one name.
 * CAIRN_EINVALID for a directory or keep_last < 1. */
CAIRN_EXTERN(int)
cairn_run_log_artifact_keep(cairn_run *run, const char *path, const char *name, int keep_last);
/* Store bytes already in memory as an artifact. */
CAIRN_EXTERN(int)
cairn_run_log_artifact_buf(cairn_run *run, const void *data, size_t len, const char *name,
                           const char *kind);
/* An image (PNG, JPEG, SVG; checked by content) under a key and optional
 * step (CAIRN_STEP_AUTO for none). */
CAIRN_EXTERN(int)
cairn_run_log_image(cairn_run *run, const char *key, const char *path, int64_t step);
CAIRN_EXTERN(int)
cairn_run_log_image_buf(cairn_run *run, const char *key, const void *data, size_t len,
                        int64_t step);

/* Delete the artifact recorded under run-relative `path`, or every
 * artifact under it when it names a directory ("model" takes "model" and
 * "model/...", never "models"; "" takes all of the run's).  *out_removed
 * (may be NULL) counts the artifacts deleted.  CAIRN_EINVALID for a path
 * that is not a clean relative path, CAIRN_ENOTFOUND (nothing changed)
 * when no artifact is there.  An object that no other record of the run
 * names (another artifact, its code snapshot, its environment, a dataset
 * manifest) and no other run references is removed from the store. */
CAIRN_EXTERN(int)
cairn_run_delete_artifact(cairn_run *run, const char *path, int64_t *out_removed);
/* The same for run `id` (an id, unique prefix or name) of a store, with
 * *out_freed (may be NULL) the number of objects removed. */
CAIRN_EXTERN(int)
cairn_artifact_delete(cairn_store *store, const char *id, const char *path, int64_t *out_removed,
                      size_t *out_freed);

/* Record lifecycle facts. */
CAIRN_EXTERN(int) cairn_run_heartbeat(cairn_run *run);
/* Flush and set the final status, end time and exit code. */
CAIRN_EXTERN(int) cairn_run_finish(cairn_run *run, cairn_status status, int exit_code);

/* End a run with an explicit end time (seconds since the epoch; 0: now)
 * and no exit code, as a client that reports its own end does (MLflow's
 * update-run); status CAIRN_STATUS_RUNNING reopens an ended run instead. */
CAIRN_EXTERN(int) cairn_run_end(cairn_run *run, cairn_status status, double end_time);
/* Set one of the run's recorded facts by name: "user", "commit", "branch",
 * "remote" or "command" (value NULL clears it), the attributes MLflow's
 * system tags (mlflow.user, mlflow.source.git.commit, …) map to. */
CAIRN_EXTERN(int) cairn_run_set_attribute(cairn_run *run, const char *attr, const char *value);
/* Restore a run hidden by cairn_run_delete (not a purged one). */
CAIRN_EXTERN(int) cairn_run_restore(cairn_store *store, const char *id);

/* --- reading ------------------------------------------------------------ */

/* One run as a JSON object (see docs/internals/json.md): id, name, project,
 * seq, status, start_time, end_time, exit_code, command, cwd, host, user,
 * params, metrics {key: {last,min,max,count,step}}, tags, note, properties,
 * artifacts, and the code/env/data records when present. */
CAIRN_EXTERN(int) cairn_run_get_json(char **out, cairn_store *store, const char *id);

typedef struct cairn_list_options {
	unsigned int version;
	const char *project; /* NULL: every project */
	int64_t limit;       /* <= 0: no limit */
	int include_deleted;
} cairn_list_options;
#define CAIRN_LIST_OPTIONS_VERSION 1
#define CAIRN_LIST_OPTIONS_INIT                                                                    \
	{                                                                                          \
		CAIRN_LIST_OPTIONS_VERSION, NULL, 0, 0                                             \
	}

/* Runs newest first, as a JSON array of the objects cairn_run_get_json
 * returns (without artifacts). */
CAIRN_EXTERN(int)
cairn_run_list_json(char **out, cairn_store *store, const cairn_list_options *opts);

/* The metric's full history as a JSON array of [step, timestamp, value]. */
CAIRN_EXTERN(int)
cairn_run_metric_history_json(char **out, cairn_store *store, const char *id, const char *key);

/* Hide a run (purge = 0) or delete it and objects only it referenced. */
CAIRN_EXTERN(int) cairn_run_delete(cairn_store *store, const char *id, int purge);

#ifdef __cplusplus
}
#endif
#endif
