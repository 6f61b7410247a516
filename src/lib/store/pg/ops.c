/*
 * lib/store/pg/ops.c — the PostgreSQL backend's operations table
 * (lib/store/backend.h), chosen by store_backend_for for a postgresql:// or
 * postgres:// location.  An op left NULL is one this backend does not do
 * yet: its dispatcher answers "... is not supported by the postgresql
 * backend yet" (store.c).  The planner's scans (scan) are still to come.
 */
#include "lib/store/pg/pg.h"

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
    .scan = NULL,
};
