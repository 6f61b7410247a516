/*
 * server/mlflow-routes.c — the route table of MLflow's API and its
 * dispatch (docs/mlflow.md, "Endpoints").  Every RPC is served at both
 * /api/2.0/mlflow/… and /ajax-api/2.0/mlflow/… (MLflow's web UI uses the
 * latter): the ajax form is read as the api form.  /health and /version
 * answer as MLflow's server does.  Whatever the generic parts answer on
 * these paths (no such route, authentication, body caps) is rewritten into
 * MLflow's error shape.
 *
 * Scopes: GET routes read; the searches are POSTs that only read (MLflow's
 * API), so they ask the read scope too (ROUTE_POST_READ); every other route
 * writes.  /health needs no token (MLflow's authenticated server answers it
 * to anyone too).
 */
#include <string.h>

#include "server/mlflow.h"

int mlf_health(request *rq, response *rs)
{
	rs->status = 200;
	rs->content_type = "text/plain; charset=utf-8";
	buf_puts(&rs->body, "OK");
	return 0;
}

int mlf_version(request *rq, response *rs)
{
	rs->status = 200;
	rs->content_type = "text/plain; charset=utf-8";
	/* MLflow's clients compare this with their own; cairn speaks 2.x */
	buf_printf(&rs->body, "2.17.2");
	return 0;
}

#define R CAIRN_SCOPE_READ
#define W CAIRN_SCOPE_WRITE
#define M "/api/2.0/mlflow/"

const route mlflow_routes[] = {
    /* open, as MLflow's server with authentication keeps it: probes and load
     * balancers ask it without a token, and it tells nothing */
    {"GET", "/health", CAIRN_SCOPE_NONE, mlf_health, 0},
    {"GET", "/version", R, mlf_version, 0},
    {"POST", M "experiments/create", W, mlf_exp_create, 0},
    {"GET", M "experiments/get", R, mlf_exp_get, 0},
    {"GET", M "experiments/get-by-name", R, mlf_exp_get_by_name, 0},
    {"GET", M "experiments/search", R, mlf_exp_search, 0},
    {"POST", M "experiments/search", R, mlf_exp_search, ROUTE_POST_READ},
    {"POST", M "experiments/update", W, mlf_exp_update, 0},
    {"POST", M "experiments/delete", W, mlf_exp_delete, 0},
    {"POST", M "experiments/restore", W, mlf_exp_restore, 0},
    {"POST", M "experiments/set-experiment-tag", W, mlf_exp_set_tag, 0},
    {"POST", M "experiments/delete-experiment-tag", W, mlf_exp_delete_tag, 0},
    {"POST", M "runs/create", W, mlf_run_create, 0},
    {"GET", M "runs/get", R, mlf_run_get, 0},
    {"POST", M "runs/update", W, mlf_run_update, 0},
    {"POST", M "runs/delete", W, mlf_run_delete, 0},
    {"POST", M "runs/restore", W, mlf_run_restore, 0},
    {"POST", M "runs/search", R, mlf_run_search, ROUTE_POST_READ},
    {"POST", M "runs/log-metric", W, mlf_log_metric, 0},
    {"POST", M "runs/log-parameter", W, mlf_log_param, 0},
    {"POST", M "runs/set-tag", W, mlf_set_tag, 0},
    {"POST", M "runs/delete-tag", W, mlf_delete_tag, 0},
    {"POST", M "runs/log-batch", W, mlf_log_batch, 0},
    {"POST", M "runs/log-inputs", W, mlf_log_inputs, 0},
    {"GET", M "metrics/get-history", R, mlf_metric_history, 0},
    {"GET", M "metrics/get-history-bulk-interval", R, mlf_metric_bulk, 0},
    {"GET", M "artifacts/list", R, mlf_artifacts_list, 0},
    {"GET", "/api/2.0/mlflow-artifacts/artifacts", R, mlf_art_list, 0},
    {"GET", "/api/2.0/mlflow-artifacts/artifacts/{*}", R, mlf_art_get, 0},
    {"PUT", "/api/2.0/mlflow-artifacts/artifacts/{*}", W, mlf_art_put, 0},
    {"DELETE", "/api/2.0/mlflow-artifacts/artifacts/{*}", W, mlf_art_delete, ROUTE_KEY_AFTER},
    {NULL, NULL, CAIRN_SCOPE_NONE, NULL, 0},
};

bool mlf_path(const char *path)
{
	return strncmp(path, "/api/2.0/mlflow", 15) == 0 ||
	       strncmp(path, "/ajax-api/2.0/mlflow", 20) == 0 || strcmp(path, "/health") == 0 ||
	       strcmp(path, "/version") == 0;
}

int mlf_dispatch(request *rq, response *rs)
{
	/* rq->path is the request's own copy: /ajax-api/2.0/x reads as /api/2.0/x */
	if (strncmp(rq->path, "/ajax-api/", 10) == 0)
		memmove((char *)rq->path + 1, rq->path + 6, strlen(rq->path + 6) + 1);
	int rc = server_dispatch_table(rq, rs, mlflow_routes, "MLflow API");
	mlf_rewrite_error(rs);
	return rc;
}
