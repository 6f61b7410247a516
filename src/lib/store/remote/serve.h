/*
 * lib/store/remote/serve.h — what the server's end of the protocol
 * (serve.c, serve-data.c, serve-sweep.c) shares: the checks every handler
 * makes on its input, and the handlers of serve-data.c and serve-sweep.c.
 * Each handler reads its request from r (wire.h), checks it whole, calls
 * the store, and appends its results to out; it returns 0 or the error
 * raised.
 */
#ifndef CAIRN_LIB_STORE_REMOTE_SERVE_H
#define CAIRN_LIB_STORE_REMOTE_SERVE_H

#include "lib/store/backend.h"
#include "lib/store/remote/wire.h"

/* A run named by its whole id (CAIRN_ENOTFOUND when the store has none). */
int sv_run(cairn_store *s, wr *r, int64_t *rid);
/* CAIRN_ETOOBIG when v is longer than max bytes (NULL is fine). */
int sv_text(const char *v, size_t max, const char *what);
/* CAIRN_EINVALID unless oid is an object id (or NULL when allowed). */
int sv_oid(const char *oid, bool may_be_null);

#define SV(name) int name(cairn_store *s, wr *r, buf *out)
SV(sv_artifact_put);
SV(sv_artifact_delete);
SV(sv_code_map_put);
SV(sv_run_code_set);
SV(sv_run_env_set);
SV(sv_dataset_put);
SV(sv_records_load);
SV(sv_run_list_ids);
SV(sv_query_page);
SV(sv_query_group);
SV(sv_metric_points);
SV(sv_metric_sample_json);
SV(sv_project_list_json);
SV(sv_run_columns_json);
SV(sv_artifact_lookup);
SV(sv_run_code_oid);
SV(sv_code_map_get);
SV(sv_dataset_list);
SV(sv_schema_version);
/* serve-sweep.c */
SV(sv_trial_claim);
SV(sv_trial_set);
SV(sv_trials_requeue);
SV(sv_trial_list);
SV(sv_sweep_child_find);
SV(sv_run_reopen);
#undef SV
#define SV_DEF(name) int name(cairn_store *s, wr *r, buf *out)

#endif
