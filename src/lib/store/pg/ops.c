/*
 * lib/store/pg/ops.c — the PostgreSQL backend's operations table
 * (lib/store/backend.h), chosen by store_backend_for for a postgresql:// or
 * postgres:// location.  An op left NULL is one this backend does not do
 * yet: its dispatcher answers "... is not supported by the postgresql
 * backend yet" (store.c).  The planner's scans are scan.c's (scan-sql.h).
 */
#include "lib/store/pg/pg.h"
#include "lib/store/pg/scan-sql.h"

const store_ops store_pg_ops = {
    .version = STORE_OPS_VERSION,
    .name = "postgresql",
    .open = pg_store_open,
    .close = pg_store_close,
    .check = pg_store_check,
    .schema_version = pg_schema_version,
    .schema_latest = pg_schema_latest,
    .migrate = pg_migrate,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .run_insert = pg_run_insert,
    .run_lookup = pg_run_lookup,
    .run_names = pg_run_names,
    .run_set_text = pg_run_set_text,
    .run_finish = pg_run_finish,
    .heartbeat = pg_heartbeat,
    .run_delete = pg_run_delete,
    .key_intern = pg_key_intern,
    .param_put = pg_param_put,
    .params_put_many = pg_params_put_many,
    .tag_put = pg_tag_put,
    .property_put = pg_property_put,
    .metric_last_step = pg_metric_last_step,
    .metrics_insert = pg_metrics_insert,
    .metric_points = pg_metric_points,
    .metric_sample_json = pg_metric_sample_json,
    .artifact_put = pg_artifact_put,
    .artifact_lookup = pg_artifact_lookup,
    .objects_sweep = pg_objects_sweep,
    .code_map_get = pg_code_map_get,
    .code_map_put = pg_code_map_put,
    .run_code_set = pg_run_code_set,
    .run_env_set = pg_run_env_set,
    .run_code_oid = pg_run_code_oid,
    .hash_cache_get1 = pg_hash_cache_get1,
    .hash_cache_put1 = pg_hash_cache_put1,
    .hash_cache_lookup = pg_hash_cache_lookup,
    .hash_cache_put = pg_hash_cache_put,
    .dataset_put = pg_dataset_put,
    .dataset_list = pg_dataset_list,
    .project_list_json = pg_project_list_json,
    .run_columns_json = pg_run_columns_json,
    .trial_claim = pg_trial_claim,
    .trial_set = pg_trial_set,
    .trials_requeue = pg_trials_requeue,
    .trial_list = pg_trial_list,
    .sweep_child_find = pg_sweep_child_find,
    .run_reopen = pg_run_reopen,
    .scan = &store_pg_scan_ops,
    .records_load = pg_records_load,
    .run_list_ids = pg_run_list_ids,
};
