/*
 * server/api.h — the native JSON API's parts (api.c, api-read.c,
 * api-write.c): the route tables server.c dispatches to, the handlers they
 * name, and the helpers the handlers share.  server.c includes this header;
 * the API files include http.h for the request and response types, and
 * nothing here is needed by http.h, so the server's headers form no cycle.
 */
#ifndef CAIRN_SERVER_API_H
#define CAIRN_SERVER_API_H

#include "server/body.h"
#include "server/http.h"
#include "util/json.h"

#define RUNS_DEFAULT_LIMIT 100
#define RUNS_MAX_LIMIT     10000
#define COLUMNS_MAX        256
#define SAMPLE_DEFAULT     1000
#define PARAM_VALUE_MAX    (64 * 1024) /* bytes in a string param: the library's TEXT_VALUE_MAX */

/* The route tables (api.c). */
extern const route api_v1_routes[];
extern const route mlflow_routes[];

/* --- helpers (api.c) ------------------------------------------------------------ */
const char *run_param(request *rq);
/* Parse the JSON body into *doc, or answer 400. */
bool parse_body(request *rq, response *rs, json_doc **doc);
/* A body decoder's failure (body.h): 413 over a per-request cap, else 400. */
int body_fail(response *rs, int rc, const char *err);
/* An integer query argument in [lo, hi] (absent: *out unchanged), or 400. */
bool parse_int_arg(request *rq, response *rs, const char *name, int64_t lo, int64_t hi,
                   int64_t *out);
/* A flag argument: present as "", "1" or "true". */
bool flag_arg(request *rq, const char *name);
/* The run named by id as a record (flags: CAIRN_RECORD_*); answers the
 * error when it fails. */
bool get_run_rec(request *rq, response *rs, const char *id, unsigned flags, cairn_run_record **out);
/* Forget a cached run handle (the run was deleted). */
void run_cache_forget(server *srv, const char *full);

/* --- idempotency keys (idem.c) ----------------------------------------------------- */
/* A write whose Idempotency-Key was seen: the kept answer into rs (true). */
bool idem_replay(request *rq, response *rs);
/* Keep a write's final answer under its Idempotency-Key, if it has one. */
void idem_remember(request *rq, const response *rs);
/* Run fn (a write route's handler) and record its Idempotency-Key in the
 * same transaction (idem.c); without a key, just fn. */
int idem_write(request *rq, response *rs, int (*fn)(request *rq, response *rs));

/* --- streamed object uploads (api-store.c) -------------------------------------------- */
bool upload_wanted(const char *method, const char *url);
int upload_begin(request *rq);
void upload_write(request *rq, const void *data, size_t len);
void upload_abort(request *rq);

/* --- handlers -------------------------------------------------------------------- */
/* api.c */
int h_columns(request *rq, response *rs);
int h_info(request *rq, response *rs);
int h_projects(request *rq, response *rs);
/* api-read.c */
int h_artifact_get(request *rq, response *rs);
int h_artifacts(request *rq, response *rs);
int h_code(request *rq, response *rs);
int h_diff(request *rq, response *rs);
int h_diff_code(request *rq, response *rs);
int h_diff_data(request *rq, response *rs);
int h_manifest(request *rq, response *rs);
int h_metric(request *rq, response *rs);
int h_query_check(request *rq, response *rs);
int h_run_delete(request *rq, response *rs);
int h_run_get(request *rq, response *rs);
int h_runs_list(request *rq, response *rs);
/* auth.c */
int h_audit(request *rq, response *rs);
int h_session_get(request *rq, response *rs);
int h_session_login(request *rq, response *rs);
int h_session_logout(request *rq, response *rs);
int h_token_revoke(request *rq, response *rs);
int h_tokens_list(request *rq, response *rs);

/* --- authentication (auth.c) ------------------------------------------------------ */
/* Authenticate and authorise a request for route r (scope, CSRF, the
 * token's project): true to go on, false with the answer in rs. */
bool auth_request(request *rq, response *rs, const route *r);
/* Record a write that passed auth_request in the audit log. */
void auth_audit(request *rq, const response *rs, const route *r);
/* The project the caller is limited to, NULL for every project. */
const char *auth_project(const request *rq);
/* Whether run id is one the caller may see; false with a 404 in rs
 * (the answer for a run that does not exist) when not. */
bool auth_run_visible(request *rq, response *rs, const char *id);
/* -1 with err when a route that changes the store asks only READ. */
int auth_tables_check(char *err, size_t errsz);
void auth_ctx_free(auth_ctx *a);
void auth_server_free(server *srv);
/* api-store.c */
int h_object_get(request *rq, response *rs);
int h_object_put(request *rq, response *rs);
int h_store_read(request *rq, response *rs);
int h_store_write(request *rq, response *rs);
/* api-write.c */
int h_finish(request *rq, response *rs);
int h_heartbeat(request *rq, response *rs);
int h_metrics_log(request *rq, response *rs);
int h_note_clear(request *rq, response *rs);
int h_note_set(request *rq, response *rs);
int h_params_log(request *rq, response *rs);
int h_properties(request *rq, response *rs);
int h_run_create(request *rq, response *rs);
int h_tag_remove(request *rq, response *rs);
int h_tags_add(request *rq, response *rs);

#endif
