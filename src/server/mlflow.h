/*
 * server/mlflow.h — MLflow's tracking REST API on cairn's store
 * (docs/mlflow.md): what the MLflow files share.  mlflow.c holds the
 * dispatch (both /api/2.0 and /ajax-api/2.0, /health, /version), MLflow's
 * error bodies, request decoding with MLflow's messages and the
 * experiments; mlflow-runs.c the runs, metrics and search; mlflow-log.c
 * the logging; mlflow-metrics.c the metric histories; mlflow-art.c the
 * artifacts.  Every handler uses the public library API only.
 *
 * Mapping (the whole of it is in docs/mlflow.md): an experiment is a
 * project (experiment id = the project's id, "0" = the project "default",
 * shown as "Default"); a run is a run; MLflow tags are key/value tags,
 * except the mlflow.* system tags that are cairn fields (mlflow.runName is
 * the name, mlflow.user the user, …), which are read from and written to
 * those fields.
 */
#ifndef CAIRN_SERVER_MLFLOW_H
#define CAIRN_SERVER_MLFLOW_H

#include "server/api.h"

#define MLF_MAX_METRICS    1000 /* per log-batch */
#define MLF_MAX_PARAMS     100
#define MLF_MAX_TAGS       100
#define MLF_MAX_ENTITIES   1000
#define MLF_MAX_BATCH_SIZE 1000000 /* bytes of a log-batch body */
#define MLF_KEY_MAX        250
#define MLF_PARAM_VAL_MAX  6000
#define MLF_TAG_VAL_MAX    8000
#define MLF_EXP_NAME_MAX   500
#define MLF_EXP_TAG_MAX    5000
#define MLF_SEARCH_MAX     50000
#define MLF_SEARCH_DEFAULT 1000
#define MLF_HISTORY_MAX    25000

/* --- errors (mlflow.c) -------------------------------------------------------------------- */
/* {"error_code": code, "message": ...} with the status MLflow maps code
 * to; returns 0 (handled). */
int mlf_error(response *rs, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The library's last error (rc) as MLflow's: not found 404
 * RESOURCE_DOES_NOT_EXIST, conflict/exists 400 RESOURCE_ALREADY_EXISTS or
 * INVALID_PARAMETER_VALUE, bad input 400, busy 503, else 500. */
int mlf_lib_error(response *rs, int rc);
/* A run that does not exist, in MLflow's words. */
int mlf_no_run(response *rs, const char *id);

/* --- the request (mlflow.c) ----------------------------------------------------------- */
/* A request's arguments as one JSON object: the body of a POST, the query
 * string of a GET (every value a string, repeated keys an array). */
typedef struct mlf_in {
	json_doc *doc;
	const json *root;
} mlf_in;

/* Decode the request into in, or answer 400 and return false. */
bool mlf_in_read(request *rq, response *rs, mlf_in *in);
void mlf_in_free(mlf_in *in);
/* 400 "Missing value for required parameter 'name'…"; returns 0. */
int mlf_missing(response *rs, const char *name);

/* A string argument: *out NULL when absent (or "" when !required and
 * given empty).  Required and absent or "": 400 "Missing value for required
 * parameter 'name'"; not a string: 400 "Invalid value … for parameter".
 * false when answered. */
bool mlf_str(response *rs, const mlf_in *in, const char *name, bool required, const char **out);
/* The run id: run_id, else run_uuid (the Python client sends both). */
bool mlf_run_id(response *rs, const mlf_in *in, const char **out);
/* An integer (a JSON integer or a string of one); *has false when absent. */
bool mlf_int(response *rs, const json *v, const char *name, bool required, int64_t *out, bool *has);
/* A double: a number, or "NaN", "Infinity", "-Infinity" or a numeric string. */
bool mlf_double(response *rs, const json *v, const char *name, double *out);
/* An array member (absent: *out NULL); not an array: 400. */
bool mlf_array(response *rs, const mlf_in *in, const char *name, const json **out);
/* An MLflow key (metric, param, tag): 1..250 bytes of [/\w.\- :], and a
 * clean relative name; false with the 400 answered. */
bool mlf_key_ok(response *rs, const char *what, const char *key);

/* --- experiments (mlflow.c) --------------------------------------------------------------- */
/* The projects, for mapping experiment ids and names. */
typedef struct mlf_projects {
	cairn_project *p;
	size_t n;
} mlf_projects;
bool mlf_projects_load(request *rq, response *rs, mlf_projects *ps);
void mlf_projects_free(mlf_projects *ps);
/* The project an experiment id names, or NULL (the default project may be
 * absent: then *is_default is set and NULL returned). */
const cairn_project *mlf_project_by_exp(const mlf_projects *ps, const char *exp_id,
                                        bool *is_default);
/* One Experiment object (p NULL: Default before its project exists). */
void mlf_put_experiment(buf *b, const cairn_project *p);
/* The experiment id of a project name into out ("0" for "default"). */
void mlf_exp_id(const mlf_projects *ps, const char *project, char *out, size_t n);

/* --- runs (mlflow-runs.c) --------------------------------------------------------------------- */
/* A Run object {"info", "data", "inputs"} of rec. */
void mlf_put_run(buf *b, const cairn_run_record *rec, const mlf_projects *ps);
/* A RunInfo object of rec. */
void mlf_put_run_info(buf *b, const cairn_run_record *rec, const mlf_projects *ps);
/* The record of the run named by a full MLflow run id (deleted ones too),
 * or a 404 answered. */
bool mlf_get_run(request *rq, response *rs, const char *id, unsigned flags, cairn_run_record **out);
/* An active run for a write: 404 when missing, 400 when deleted. */
bool mlf_run_for_write(request *rq, response *rs, const char *id, cairn_run **out);

/* The MLflow text of a param's value ("0.01", "true", "adam"). */
void mlf_param_text(const cairn_value *v, char *out, size_t n);

/* --- handlers ------------------------------------------------------------------------------ */
int mlf_health(request *rq, response *rs);
int mlf_version(request *rq, response *rs);
int mlf_exp_create(request *rq, response *rs);
int mlf_exp_get(request *rq, response *rs);
int mlf_exp_get_by_name(request *rq, response *rs);
int mlf_exp_search(request *rq, response *rs);
int mlf_exp_update(request *rq, response *rs);
int mlf_exp_delete(request *rq, response *rs);
int mlf_exp_restore(request *rq, response *rs);
int mlf_exp_set_tag(request *rq, response *rs);
int mlf_exp_delete_tag(request *rq, response *rs);
int mlf_run_create(request *rq, response *rs);
int mlf_run_get(request *rq, response *rs);
int mlf_run_update(request *rq, response *rs);
int mlf_run_delete(request *rq, response *rs);
int mlf_run_restore(request *rq, response *rs);
int mlf_run_search(request *rq, response *rs);
int mlf_log_metric(request *rq, response *rs);
int mlf_log_param(request *rq, response *rs);
int mlf_set_tag(request *rq, response *rs);
int mlf_delete_tag(request *rq, response *rs);
int mlf_log_batch(request *rq, response *rs);
int mlf_log_inputs(request *rq, response *rs);
int mlf_metric_history(request *rq, response *rs);
int mlf_metric_bulk(request *rq, response *rs);
int mlf_artifacts_list(request *rq, response *rs);
int mlf_art_get(request *rq, response *rs);
int mlf_art_put(request *rq, response *rs);
int mlf_art_delete(request *rq, response *rs);
int mlf_art_list(request *rq, response *rs);

/* The dispatch of every MLflow path (server.c calls it for /api/2.0/,
 * /ajax-api/2.0/, /health and /version): errors in MLflow's shape. */
bool mlf_path(const char *path);
/* A cairn error body as MLflow's (mlflow.c). */
void mlf_rewrite_error(response *rs);
int mlf_dispatch(request *rq, response *rs);

#endif
