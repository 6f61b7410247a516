/*
 * cli/mlflow-read.h — reading an MLflow file store (`mlruns/`) into memory,
 * for `cairn import mlflow` (cmd-import.c).  Nothing here touches a cairn
 * store: it turns the files of one run into an mlr_run, checked and bounded,
 * or into one message that names the file (and line) that is wrong.
 *
 * The layout (MLflow's FileStore):
 *
 *   ROOT/EXP/meta.yaml              experiment_id, name, lifecycle_stage, …
 *   ROOT/EXP/tags/KEY               experiment tags (file content = value)
 *   ROOT/EXP/RUN/meta.yaml          run_id (run_uuid), run_name, user_id,
 *                                   status (1..5 or its name), start_time,
 *                                   end_time (ms), lifecycle_stage, artifact_uri
 *   ROOT/EXP/RUN/metrics/KEY        lines "timestamp value step" (older
 *                                   files: "timestamp value", step 0)
 *   ROOT/EXP/RUN/params/KEY         the value
 *   ROOT/EXP/RUN/tags/KEY           the value
 *   ROOT/EXP/RUN/artifacts/…        files (or where artifact_uri points)
 *   ROOT/.trash/EXP/…               deleted experiments (not read)
 *
 * A KEY holding '/' is a nested file (metrics/train/loss).  meta.yaml is
 * read with the library's YAML flattener (cairn_config_flatten), so YAML
 * itself is parsed by libyaml; the metric lines are parsed here
 * (mlr_metric_line, the fuzz target tests/fuzz/fuzz-mlflow.c).
 *
 * Bounds (every input is capped where it is read): MLR_* below.  A file or
 * line past its cap is an error, not a truncation.
 *
 * Errors: the functions return 0 or -1 with a message in err (at most
 * MLR_ERR bytes, "PATH:LINE: what" or "PATH: what").  Not thread-safe per
 * object; no global state.
 */
#ifndef CAIRN_CLI_MLFLOW_READ_H
#define CAIRN_CLI_MLFLOW_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MLR_ERR          1400
#define MLR_META_MAX     (64 * 1024) /* bytes of a meta.yaml */
#define MLR_VALUE_MAX    8000        /* bytes of a param or tag (MLflow's tag limit) */
#define MLR_KEY_MAX      250         /* bytes of a key (MLflow's limit) */
#define MLR_LINE_MAX     256         /* bytes of a metric line */
#define MLR_POINTS_MAX   10000000    /* points of one run, all metrics */
#define MLR_KEYS_MAX     100000      /* metric, param or tag files of one run, each */
#define MLR_FILES_MAX    100000      /* artifact files of one run */
#define MLR_DEPTH_MAX    32          /* directory nesting under metrics/, artifacts/, … */
#define MLR_RUNS_MAX     1000000     /* runs of one experiment */
#define MLR_EXPS_MAX     100000      /* experiments of a store */
#define MLR_EXP_NAME_MAX 500         /* MLflow's limit */

/* A metric point as MLflow writes it: milliseconds, the value, the step. */
typedef struct mlr_point {
	int64_t ts;
	double value;
	int64_t step;
} mlr_point;

typedef struct mlr_kv {
	char *key, *value;
} mlr_kv;

typedef struct mlr_metric {
	char *key;
	size_t n;       /* points in the file */
	mlr_point *pts; /* n of them when read with points, else NULL */
} mlr_metric;

typedef struct mlr_art {
	char *path; /* relative to the artifact root, '/'-separated */
	char *file; /* where it is on disk */
	int64_t size;
} mlr_art;

/* MLflow's RunStatus, as cmd-import maps it to cairn's. */
enum { MLR_RUNNING = 1, MLR_SCHEDULED = 2, MLR_FINISHED = 3, MLR_FAILED = 4, MLR_KILLED = 5 };

typedef struct mlr_run {
	char *dir;       /* ROOT/EXP/RUN */
	char *run_id;    /* meta.yaml's run_id (else run_uuid) */
	char *exp_id;    /* the experiment's id */
	char *name;      /* run_name, else the tag mlflow.runName; NULL: none */
	char *user;      /* user_id, else the tag mlflow.user; NULL: none */
	int status;      /* MLR_* */
	int64_t start;   /* ms; 0: none */
	int64_t end;     /* ms; 0: none */
	bool deleted;    /* lifecycle_stage: deleted */
	char *art_dir;   /* the local artifact root, NULL when there is none */
	bool art_remote; /* artifact_uri named a place that is not a local path */
	mlr_kv *params;
	size_t nparams;
	mlr_kv *tags;
	size_t ntags;
	mlr_metric *metrics;
	size_t nmetrics;
	size_t npoints;
	mlr_art *arts;
	size_t narts;
} mlr_run;

typedef struct mlr_exp {
	char *dir, *id, *name;
	bool deleted;
	mlr_kv *tags;
	size_t ntags;
	char **runs; /* run directories, in name order */
	size_t nruns;
} mlr_exp;

typedef struct mlr_store {
	char *root;
	mlr_exp *exps; /* in id order (numbers by value) */
	size_t nexps;
	size_t trashed; /* experiments under .trash/, not read */
} mlr_store;

/* Flags for mlr_run_read. */
#define MLR_POINTS 1u /* keep every metric point (else only count them) */

/* Parse one metric line (len bytes, no newline; a trailing '\r' is
 * allowed): "timestamp value step" or "timestamp value".  The timestamp is
 * an integer of milliseconds, the value what cairn_metric_value_parse
 * reads (nan, inf included), the step an integer.  0, or -1 with err set
 * (what is wrong, without the location). */
int mlr_metric_line(const char *line, size_t len, mlr_point *out, char *err, size_t errcap);

/* MLflow's status as meta.yaml writes it, a number 1..5 or its name
 * (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED).  0 or -1. */
int mlr_status_parse(const char *text, int *out);

/* Read the experiments of the store at path (each one's meta.yaml and
 * tags, and the list of its run directories).  0, or -1 with err set: not
 * a directory, no experiment in it, a malformed experiment. */
int mlr_store_open(mlr_store *out, const char *path, char *err, size_t errcap);
void mlr_store_free(mlr_store *s);

/* Read one run (its directory under e).  0, or -1 with err set. */
int mlr_run_read(mlr_run *out, const mlr_exp *e, const char *dir, unsigned flags, char *err,
                 size_t errcap);
void mlr_run_free(mlr_run *r);

/* The value of a tag of r, or NULL. */
const char *mlr_run_tag(const mlr_run *r, const char *key);

/* --- inside the reader (mlflow-files.c, for mlflow-read.c) ---------------- */

/* Write "fmt" into err (cap bytes); returns CAIRN_EINVALID. */
int mlr_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct mlr_flist {
	char **v;
	int64_t *size;
	size_t n, cap, max;
} mlr_flist;
void mlr_flist_free(mlr_flist *l);
int mlr_cmp_str(const void *a, const void *b);
int mlr_walk(mlr_flist *l, const char *root, const char *rel, int depth, const char *what,
             char *err, size_t errcap);
int mlr_key_ok(const char *dir, const char *key, const char *what, char *err, size_t errcap);
int mlr_read_kvs(mlr_kv **out, size_t *n, const char *dir, const char *what, char *err,
                 size_t errcap);
int mlr_read_metric(mlr_metric *m, const char *file, unsigned flags, size_t *budget, char *err,
                    size_t errcap);

#endif
