/*
 * lib/store/sqlite/sqlite.h — what the SQLite backend's files share and no
 * other part of the library may include: the backend's state behind
 * cairn_store.be, cached statements, transactions, the column helpers, and
 * the functions that implement store_ops (collected in ops.c as
 * store_sqlite_ops).  Only files under src/lib/store/sqlite/ include
 * sqlite3.h (scripts/check-floor checks it).
 *
 * The files of the backend, by concern:
 *   db.c      the connection: statement cache, error mapping, transactions,
 *             close and the integrity check
 *   schema.c  opening a database file, its header, migrations
 *   runs.c    runs: insert, lookup, names, text columns, finish, heartbeat
 *   params.c  keys, params (one and in bulk), tags, properties
 *   metrics.c metric points and summaries, the full history
 *   tiles.c   metric tiles: folding a batch in, the thinned history
 *   refs.c    artifacts, object references, purge and the object sweep
 *   capture.c the code map, a run's code and environment, the stat cache
 *   data.c    the hash cache in bulk and datasets
 *   browse.c  projects, the columns of runs, artifact lookup
 *   sweep.c   the sweep trial queue
 *   copy.c    what copying a whole store needs (cairn migrate)
 *   settings.c the store's settings (key/value)
 *   scan*.c   the query planner's scans (lib/store/scan.h)
 *   records.c run records in batches, the run list, raw metric histories
 *
 * Every sqlite_* function here is called with the store's lock held (the
 * dispatchers in lib/store/store.c take it), so none of them locks; the
 * connection is opened SQLITE_OPEN_NOMUTEX and is used by one thread at a
 * time through that lock.
 */
#ifndef CAIRN_LIB_STORE_SQLITE_H
#define CAIRN_LIB_STORE_SQLITE_H

#include <sqlite3.h>

#include "lib/store/backend.h"

#define STMT_CACHE_SIZE 160

typedef struct stmt_cache_entry {
	const char *sql; /* the statement's text, compared by address */
	sqlite3_stmt *st;
} stmt_cache_entry;

/* cairn_store.be of a store in an SQLite file: owned by the backend,
 * created by sqlite_store_open, freed by sqlite_store_close. */
typedef struct sqlite_be {
	char *db_path; /* dir/cairn.db */
	sqlite3 *db;
	stmt_cache_entry stmts[STMT_CACHE_SIZE];
	int nstmts;
	bool rows_fn;         /* cairn_rows is registered (records.c) */
	struct sect_ld *rows; /* the loader cairn_rows feeds, while it steps */
} sqlite_be;

/* Tests: every aggregate over a batch's rows (records.c) finds its second
 * row out of order, so each batch is read again row by row. */
extern bool sqlite_rows_disorder;

/* The store's database connection. */
static inline sqlite3 *store_sqlite_db(cairn_store *s)
{
	return ((sqlite_be *)s->be)->db;
}
/* A cached prepared statement (sql must be a string literal: cached by address). */
sqlite3_stmt *store_prep(cairn_store *s, const char *sql);
/* The one place an SQLite result code becomes a cairn_error_code: raises
 * the error for the connection's last failure ("cannot <what>: …") and
 * returns its code (docs/internals/store.md, "Error mapping"). */
int store_sqlerr(cairn_store *s, const char *what);
/* Run SQL without results (schema, pragmas); store_sqlerr on failure. */
int store_exec(cairn_store *s, const char *sql, const char *what);
/* Step a statement that returns no rows we read, then reset it. */
int store_step_done(cairn_store *s, sqlite3_stmt *st, const char *what);
int store_begin(cairn_store *s); /* BEGIN IMMEDIATE */
int store_commit(cairn_store *s);
void store_rollback(cairn_store *s);
/* Is a transaction open on the connection? */
static inline bool store_in_txn(cairn_store *s)
{
	return !sqlite3_get_autocommit(store_sqlite_db(s));
}
/* A single-statement write (st may be NULL: the prepare failed) that joins
 * the caller's transaction or runs in its own. */
int store_write1(cairn_store *s, sqlite3_stmt *st, const char *what);
/* Bind text, or NULL for a NULL pointer (copied: SQLITE_TRANSIENT). */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Bind a double; NaN is stored as NULL (SQLite cannot store NaN). */
void store_bind_double_nan(sqlite3_stmt *st, int i, double v);
/* A nullable double column, NULL read as NaN. */
double store_column_double_nan(sqlite3_stmt *st, int i);

/* Inside the backend's own transactions (never an op: a caller cannot hold
 * one).  Objects and references (docs/internals/store.md, "Objects,
 * references and purge"): every transaction that records a reference to an
 * object begins with store_refs_begin (the test hook's "refs" point, then
 * BEGIN IMMEDIATE) and checks each object with store_object_check before
 * committing. */
int store_refs_begin(cairn_store *s);
/* Inside a write transaction: 0 when the object's file is there (and so
 * stays until the commit), else OBJECT_VANISHED. */
int store_object_check(cairn_store *s, const char *oid);
/* Check (unless overwrite) and write one param inside the caller's open
 * transaction: the same value again is fine, another is CAIRN_ECONFLICT. */
int store_param_write(cairn_store *s, int64_t rid, int64_t kid, const char *key,
                      const cairn_value *v, bool overwrite);
/* Fold a batch of points into metric_tiles, inside the transaction of
 * sqlite_metrics_insert. */
int store_tiles_fold(cairn_store *s, const mpoint *pts, size_t n);

/* --- the operations (store_ops in lib/store/backend.h says what each does) */

int sqlite_store_open(cairn_store *s, bool create);
void sqlite_store_close(cairn_store *s);
int sqlite_store_check(cairn_store *s);
int sqlite_schema_version(cairn_store *s, int *out);
int sqlite_schema_latest(void);
int sqlite_migrate(cairn_store *s, int target);
int sqlite_read_begin(cairn_store *s, bool *own);
void sqlite_read_end(cairn_store *s, bool own);
int sqlite_setting_get(cairn_store *s, const char *key, char **out);
int sqlite_setting_put(cairn_store *s, const char *key, const char *value);
int sqlite_cache_size(cairn_store *s, int64_t kib);
/* idem.c */
int sqlite_idem_get(cairn_store *s, const char *key, double max_age, int *status, char **body,
                    size_t *len);
int sqlite_hold_begin(cairn_store *s);
int sqlite_hold_end(cairn_store *s, bool commit);
int sqlite_idem_put(cairn_store *s, const char *key, double max_age, int status, const void *body,
                    size_t len);

int sqlite_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                      char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name);
int sqlite_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                      char out_id[33]);
int sqlite_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project,
                     int64_t *out_seq);
int sqlite_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value);
int sqlite_run_finish(cairn_store *s, int64_t rid, cairn_status st, int exit_code, double end);
int sqlite_heartbeat(cairn_store *s, int64_t rid, double now);
int sqlite_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans);

int sqlite_key_intern(cairn_store *s, const char *name, int64_t *out_kid);
int sqlite_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
                     bool overwrite);
int sqlite_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                           const cairn_value *values, size_t n, bool overwrite);
int sqlite_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove);
int sqlite_property_put(cairn_store *s, int64_t rid, const char *key, const char *value);

int sqlite_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step);
int sqlite_metrics_insert(cairn_store *s, const mpoint *pts, size_t n);
int sqlite_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out);
int sqlite_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                              int64_t from, int64_t to, buf *out);

int sqlite_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid,
                        int64_t size, const char *media_type, const char *kind, const char *key,
                        int64_t step);
int sqlite_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                           char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media);
int sqlite_artifact_delete(cairn_store *s, int64_t rid, const char *path,
                           const store_art_keep *keep, int64_t *out_removed, buf *orphans);
int sqlite_object_ref(cairn_store *s, int64_t rid, const char *oid);
/* copy.c: copying a whole store (cairn migrate) */
int sqlite_refs_list(cairn_store *s, int64_t rid, char (**out)[65], size_t *out_n);
int sqlite_refs_put(cairn_store *s, int64_t rid, const char (*oids)[65], size_t n);
int sqlite_code_map_list(cairn_store *s, code_map_row **out, size_t *out_n);
int sqlite_trials_put(cairn_store *s, int64_t sweep_rid, const trial_row *rows, size_t n);
int sqlite_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed);

int sqlite_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                        int64_t *out_sizes);
int sqlite_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                        const int64_t *sizes, size_t n);
int sqlite_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                        const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                        size_t nrefs);
int sqlite_run_env_set(cairn_store *s, int64_t rid, const char *env_oid);
int sqlite_run_code_oid(cairn_store *s, int64_t rid, char out[65]);
int sqlite_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                           int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz);
int sqlite_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                           int64_t mtime_ns, int64_t ctime_ns, const char *digest);

int sqlite_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                             int64_t *out_found);
int sqlite_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n);
int sqlite_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d);
int sqlite_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out,
                        size_t *out_n);

int sqlite_project_list_json(cairn_store *s, buf *out);
int sqlite_run_columns_json(cairn_store *s, const char *project, buf *out);

int sqlite_trial_claim(cairn_store *s, int64_t sweep_rid, int64_t budget, const char *owner,
                       cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial,
                       char **out_params);
int sqlite_trial_set(cairn_store *s, int64_t sweep_rid, int64_t trial, cairn_trial_state state,
                     int64_t run_rid, double value);
int sqlite_trials_requeue(cairn_store *s, int64_t sweep_rid, int64_t *out_n);
int sqlite_trial_list(cairn_store *s, int64_t sweep_rid, trial_row **out, size_t *out_n);
int sqlite_sweep_child_find(cairn_store *s, int64_t sweep_rid, const char *name, char out_id[33]);
int sqlite_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host);

struct rec_batch;
int sqlite_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                        struct rec_batch **out);
int sqlite_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids,
                        size_t *out_n);
/* auth.c */
int sqlite_token_insert(cairn_store *s, const token_row *t, int64_t *out_id);
int sqlite_token_list(cairn_store *s, token_row **out, size_t *out_n);
int sqlite_token_find(cairn_store *s, const char *hash, token_row *out);
int sqlite_token_revoke(cairn_store *s, const char *name, int64_t id, double now, int64_t *out_id);
int sqlite_token_touch(cairn_store *s, int64_t id, double now);
int sqlite_session_insert(cairn_store *s, const char *hash, int64_t token_id, double created,
                          double expires);
int sqlite_session_find(cairn_store *s, const char *hash, double now, token_row *out);
int sqlite_session_delete(cairn_store *s, const char *hash);
int sqlite_audit_insert(cairn_store *s, const audit_row *a);
int sqlite_audit_list(cairn_store *s, int64_t limit, audit_row **out, size_t *out_n);
/* The planner's scans (scan.c). */
extern const struct store_scan_ops store_sqlite_scan_ops;

/* projects.c */
int sqlite_project_list(cairn_store *s, bool count_runs, project_row **out, size_t *out_n);
int sqlite_project_create(cairn_store *s, const char *name, double now, int64_t *out_id);
int sqlite_project_update(cairn_store *s, int64_t id, const char *name, int deleted, double now);
int sqlite_project_tag_put(cairn_store *s, int64_t id, const char *key, const char *value,
                           double now);
int sqlite_run_restore(cairn_store *s, int64_t rid);

#endif
