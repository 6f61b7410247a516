/*
 * lib/store/pg/pg.h — what the PostgreSQL backend's files share and no other
 * part of the library may include: libpq's functions (loaded on first use),
 * the backend's state behind cairn_store.be, the query helpers (statements
 * with text parameters, rows, transactions), the one error mapping, and the
 * functions that implement store_ops (collected in ops.c as store_pg_ops).
 *
 * The files of the backend, by concern (the same split as sqlite/):
 *   pq.c      libpq's table: dlopen'ed by soname on the first PostgreSQL
 *             store a process opens, so an SQLite user never maps libpq
 *   conn.c    the connection: the URI (checked, the password kept out of
 *             every message), statements and their cache, parameters,
 *             COPY, transactions, the error mapping, the objects lock,
 *             close and check
 *   schema.c  the schema, its migrations, the cairn_meta marker, where
 *             the objects are
 *   catalog.c the column catalog (migration 8): tables, triggers, fill
 *   runs.c    runs: insert, lookup, names, text columns, finish, heartbeat,
 *             delete and purge, the object sweep
 *   params.c  keys, params, tags, properties
 *   metrics.c metric points (bulk: COPY), summaries, the full history
 *   tiles.c   metric tiles: folding a batch in, the thinned history
 *   capture.c the code map, a run's code and environment, the stat cache,
 *             the hash cache in bulk, datasets, artifacts
 *   browse.c  projects, the columns of runs, the sweep trial queue
 *   records.c run records in batches and the run list
 *   copy.c    what copying a whole store needs (cairn migrate)
 *   scan.c, scan-attr.c, scan-key.c
 *             the planner's scans (store_pg_scan_ops, scan-sql.h)
 *   ops.c     the table (store_pg_ops)
 *
 * The connection: one PGconn per store handle, used by one thread at a time
 * through the handle's lock (the dispatchers in lib/store/store.c take it),
 * so nothing here locks.  Outside a transaction every statement is its own
 * (autocommit); a write op that needs several statements runs them between
 * pg_begin and pg_commit (READ COMMITTED: each statement sees what committed
 * before it; the per-project sequence number and the trial queue take row
 * locks, the objects protocol an advisory lock); a read snapshot is
 * REPEATABLE READ READ ONLY (pg_read_begin).
 *
 * Values: parameters go to the server as text (libpq's text format), and
 * come back as text; pg_param_* write them, pg_get_* read them.  NaN is
 * stored as NULL, as SQLite does (so min, max, sorting and the planner's
 * scans treat it alike on both backends); ±Inf are stored as they are.
 */
#ifndef CAIRN_LIB_STORE_PG_H
#define CAIRN_LIB_STORE_PG_H

#include <libpq-fe.h>

#include "lib/store/backend.h"
#include "util/dl.h"

/* --- libpq, loaded on first use (pq.c, util/dl.h) ----------------------------- */

#define PQ_FUNCS(X)                                                                                \
	X(connectdb)                                                                               \
	X(finish)                                                                                  \
	X(status)                                                                                  \
	X(errorMessage)                                                                            \
	X(reset)                                                                                   \
	X(transactionStatus)                                                                       \
	X(setNoticeProcessor)                                                                      \
	X(conninfoParse)                                                                           \
	X(conninfoFree)                                                                            \
	X(freemem)                                                                                 \
	X(exec)                                                                                    \
	X(execParams)                                                                              \
	X(prepare)                                                                                 \
	X(execPrepared)                                                                            \
	X(resultStatus)                                                                            \
	X(resultErrorMessage)                                                                      \
	X(resultErrorField)                                                                        \
	X(clear)                                                                                   \
	X(ntuples)                                                                                 \
	X(getvalue)                                                                                \
	X(getlength)                                                                               \
	X(getisnull)                                                                               \
	X(cmdTuples)                                                                               \
	X(putCopyData)                                                                             \
	X(putCopyEnd)                                                                              \
	X(getResult)                                                                               \
	X(serverVersion)

#define PQ_SLOT(f) DL_SLOT(PQ, f)
struct pq_api {
	PQ_FUNCS(PQ_SLOT)
};
#undef PQ_SLOT

extern struct pq_api pq;

/* 0 when libpq is loaded; else the error is raised ("cannot load libpq
 * (libpq.so.5): ..."). */
int pq_load(void);

/* --- the backend's state ------------------------------------------------------ */

#define PG_STMT_CACHE 128
#define PG_MAXPARAMS  16

typedef struct pg_stmt {
	const char *sql; /* the statement's text, compared by address (a literal) */
	int nparams;
} pg_stmt;

/* cairn_store.be of a PostgreSQL store: created by pg_store_open, freed by
 * pg_store_close. */
typedef struct pg_be {
	char *conninfo; /* the URI for libpq: password included, cairn's own
	                 * parameters (objects=) removed; never printed */
	char *password; /* the URI's password, "" without one: scrubbed from
	                 * every message libpq writes */
	PGconn *conn;
	pg_stmt stmts[PG_STMT_CACHE]; /* prepared as "c<index>" on this connection */
	int nstmts;
	bool in_txn;   /* pg_begin or pg_read_begin ... pg_commit / pg_rollback */
	bool in_read;  /* the open transaction is a read snapshot */
	char *objects; /* objects=DIR of the URI, or NULL (schema.c decides) */
} pg_be;

static inline pg_be *pg_of(cairn_store *s)
{
	return (pg_be *)s->be;
}

/* --- statements ------------------------------------------------------------------
 * Parameters are text; a NULL value is SQL NULL.  Numbers are formatted into
 * the struct, text is borrowed (it must outlive the call). */
typedef struct pg_params {
	int n;
	const char *v[PG_MAXPARAMS];
	char num[PG_MAXPARAMS][32];
} pg_params;

#define PG_PARAMS_INIT                                                                             \
	{                                                                                          \
		0                                                                                  \
	}
void pg_param_text(pg_params *p, const char *v);
void pg_param_int(pg_params *p, int64_t v);
/* A double; NaN becomes NULL, ±Inf "Infinity"/"-Infinity", else 17 digits. */
void pg_param_double(pg_params *p, double v);
void pg_param_bool(pg_params *p, bool v);
/* An optional integer: NULL unless has. */
void pg_param_int_or_null(pg_params *p, bool has, int64_t v);

/* Text for the server must be UTF-8 (the database's encoding): 0, or
 * CAIRN_EINVALID raised ("cannot <what>: text is not valid UTF-8 (byte 0xXX
 * at offset N), ...").  pg_exec checks every parameter; an op that writes
 * before the statement carrying the text (a key interned before its param)
 * checks first, so a refused input changes nothing. */
int pg_text_check(const char *text, const char *what);

/* Run one statement.  sql must be a string literal (statements are prepared
 * once per connection and cached by address) unless pg_exec_once is used.
 * Returns the result (rows or a command's), or NULL with the error raised
 * ("cannot <what>: ...", mapped by pg_error); free it with pq.clear. */
PGresult *pg_exec(cairn_store *s, const char *what, const char *sql, const pg_params *p);
/* The same for a statement built at run time (not cached). */
PGresult *pg_exec_once(cairn_store *s, const char *what, const char *sql, const pg_params *p);
/* A statement whose rows are not read: 0 or the error; *changed (may be
 * NULL) gets the number of rows it changed. */
int pg_run(cairn_store *s, const char *what, const char *sql, const pg_params *p, int64_t *changed);
/* SQL without parameters, several statements allowed (the schema,
 * BEGIN/COMMIT): 0 or the error. */
int pg_script(cairn_store *s, const char *sql, const char *what);
/* COPY ... FROM STDIN of data (in the format sql names, text or binary): 0
 * or the error, with the SQLSTATE in state ("" when the failure is not the
 * server's). */
int pg_copy_in(cairn_store *s, const char *what, const char *sql, const buf *data, char state[6]);
/* One-row, one-column helpers: *found false (and 0 returned) when no row. */
int pg_query_int(cairn_store *s, const char *what, const char *sql, const pg_params *p,
                 int64_t *out, bool *found);

/* Reading results: row, column.  pg_get_text is NULL for SQL NULL. */
static inline bool pg_isnull(const PGresult *r, int row, int col)
{
	return pq.getisnull(r, row, col) != 0;
}
static inline const char *pg_get_text(const PGresult *r, int row, int col)
{
	return pq.getisnull(r, row, col) ? NULL : pq.getvalue(r, row, col);
}
int64_t pg_get_int(const PGresult *r, int row, int col);   /* NULL reads 0 */
double pg_get_double(const PGresult *r, int row, int col); /* NULL reads NaN */
/* A text array literal ({"a","b"}, NULL elements as NULL) of n strings,
 * appended to b: the one parameter of `= ANY($1::text[])` and unnest. */
void pg_array_text(buf *b, const char *const *v, size_t n);
/* Integer and double array literals, element by element: begin with "{",
 * add with a comma, end with "}". */
void pg_array_int_add(buf *b, bool *first, int64_t v);
void pg_array_double_add(buf *b, bool *first, double v); /* NaN is NULL */

/* --- transactions ----------------------------------------------------------------
 * pg_begin opens a write transaction (READ COMMITTED), pg_commit commits it
 * (and rolls back on failure), pg_rollback is safe to call when none is open.
 * A write op that composes others checks pg_in_txn and joins. */
int pg_begin(cairn_store *s);
int pg_commit(cairn_store *s);
void pg_rollback(cairn_store *s);
static inline bool pg_in_txn(cairn_store *s)
{
	return pg_of(s)->in_txn;
}
/* A single-statement write joining the open transaction or in its own
 * (autocommit): the same as pg_run. */

/* The objects protocol (docs/internals/store.md, "Objects, references and
 * purge"): a transaction that records references begins with
 * pg_refs_begin (the "refs" hook, BEGIN, the store-wide advisory lock
 * shared), and checks each object with pg_object_check; the sweep takes the
 * same lock exclusive. */
#define PG_LOCK_OBJECTS 0x636169726e6f626aLL /* "cairnobj" */
#define PG_LOCK_MIGRATE 0x636169726e6d6967LL /* "cairnmig" */
#define PG_LOCK_KEYS    0x636169726e6b6579LL /* "cairnkey" */
int pg_refs_begin(cairn_store *s);
int pg_object_check(cairn_store *s, const char *oid);
/* Record that run rid references oid, inside an open pg_refs_begin
 * transaction (checks the object first). */
int pg_object_ref(cairn_store *s, int64_t rid, const char *oid);

/* copy.c: copying a whole store (cairn migrate) */
int pg_refs_list(cairn_store *s, int64_t rid, char (**out)[65], size_t *out_n);
int pg_refs_put(cairn_store *s, int64_t rid, const char (*oids)[65], size_t n);
int pg_code_map_list(cairn_store *s, code_map_row **out, size_t *out_n);
int pg_trials_put(cairn_store *s, int64_t sweep_rid, const trial_row *rows, size_t n);

/* --- errors (conn.c) -----------------------------------------------------------
 * The one place a PostgreSQL failure becomes a cairn_error_code
 * (docs/internals/store.md, "Error mapping"): raises "cannot <what>: <the
 * server's message>" and returns the code.  r may be NULL (the failure is
 * the connection's). */
int pg_error(cairn_store *s, const PGresult *r, const char *what);

/* --- inside the backend's own transactions ---------------------------------------- */

/* Check (unless overwrite) and write one param inside an open transaction. */
int pg_param_write(cairn_store *s, int64_t rid, int64_t kid, const char *key, const cairn_value *v,
                   bool overwrite);

/* Fold a batch of points into metric_tiles, inside the transaction of
 * pg_metrics_insert (tiles.c). */
int pg_tiles_fold(cairn_store *s, const mpoint *pts, size_t n);

/* --- the operations (store_ops in lib/store/backend.h says what each does) */

int pg_store_open(cairn_store *s, bool create);
void pg_store_close(cairn_store *s);
int pg_store_check(cairn_store *s);
int pg_schema_version(cairn_store *s, int *out);
int pg_schema_latest(void);
int pg_migrate(cairn_store *s, int target);
int pg_read_begin(cairn_store *s, bool *own);
void pg_read_end(cairn_store *s, bool own);
/* The store's settings (schema.c): main's setting_get/setting_put ops. */
int pg_setting_get(cairn_store *s, const char *key, char **out);

/* catalog.c: migration 8, the column catalog's tables, triggers and fill */
extern const char pg_catalog_migration[];
int pg_setting_put(cairn_store *s, const char *key, const char *value);
/* idem.c */
int pg_idem_get(cairn_store *s, const char *key, double max_age, int *status, char **body,
                size_t *len);
int pg_hold_begin(cairn_store *s);
int pg_hold_end(cairn_store *s, bool commit);
int pg_idem_put(cairn_store *s, const char *key, double max_age, int status, const void *body,
                size_t len);
/* schema.c: check what the database holds and migrate it (from open). */
int pg_schema_open(cairn_store *s, bool create);

int pg_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                  char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name);
int pg_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                  char out_id[33]);
int pg_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project,
                 int64_t *out_seq);
int pg_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value);
int pg_run_finish(cairn_store *s, int64_t rid, cairn_status st, int exit_code, double end);
int pg_heartbeat(cairn_store *s, int64_t rid, double now);
int pg_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans);
int pg_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed);

int pg_key_intern(cairn_store *s, const char *name, int64_t *out_kid);
int pg_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
                 bool overwrite);
int pg_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                       const cairn_value *values, size_t n, bool overwrite);
int pg_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove);
int pg_property_put(cairn_store *s, int64_t rid, const char *key, const char *value);

int pg_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step);
int pg_metrics_insert(cairn_store *s, const mpoint *pts, size_t n);
int pg_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out);
int pg_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                          int64_t from, int64_t to, buf *out);

int pg_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid, int64_t size,
                    const char *media_type, const char *kind, const char *key, int64_t step);
int pg_artifact_delete(cairn_store *s, int64_t rid, const char *path, const store_art_keep *keep,
                       int64_t *out_removed, buf *orphans);
int pg_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                       char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media);

int pg_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                    int64_t *out_sizes);
int pg_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                    const int64_t *sizes, size_t n);
int pg_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                    const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                    size_t nrefs);
int pg_run_env_set(cairn_store *s, int64_t rid, const char *env_oid);
int pg_run_code_oid(cairn_store *s, int64_t rid, char out[65]);
int pg_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz);
int pg_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, const char *digest);
int pg_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                         int64_t *out_found);
int pg_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n);
int pg_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d);
int pg_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out,
                    size_t *out_n);

int pg_project_list_json(cairn_store *s, buf *out);
int pg_run_columns_json(cairn_store *s, const char *project, buf *out);

int pg_trial_claim(cairn_store *s, int64_t sweep_rid, int64_t budget, const char *owner,
                   cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial,
                   char **out_params);
int pg_trial_set(cairn_store *s, int64_t sweep_rid, int64_t trial, cairn_trial_state state,
                 int64_t run_rid, double value);
int pg_trials_requeue(cairn_store *s, int64_t sweep_rid, int64_t *out_n);
int pg_trial_list(cairn_store *s, int64_t sweep_rid, trial_row **out, size_t *out_n);
int pg_sweep_child_find(cairn_store *s, int64_t sweep_rid, const char *name, char out_id[33]);
int pg_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host);

struct rec_batch;
int pg_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                    struct rec_batch **out);
int pg_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids, size_t *out_n);
/* auth.c */
int pg_token_insert(cairn_store *s, const token_row *t, int64_t *out_id);
int pg_token_list(cairn_store *s, token_row **out, size_t *out_n);
int pg_token_find(cairn_store *s, const char *hash, token_row *out);
int pg_token_revoke(cairn_store *s, const char *name, int64_t id, double now, int64_t *out_id);
int pg_token_touch(cairn_store *s, int64_t id, double now);
int pg_session_insert(cairn_store *s, const char *hash, int64_t token_id, double created,
                      double expires);
int pg_session_find(cairn_store *s, const char *hash, double now, token_row *out);
int pg_session_delete(cairn_store *s, const char *hash);
int pg_audit_insert(cairn_store *s, const audit_row *a);
int pg_audit_list(cairn_store *s, int64_t limit, audit_row **out, size_t *out_n);

/* projects.c */
int pg_project_list(cairn_store *s, bool count_runs, project_row **out, size_t *out_n);
int pg_project_create(cairn_store *s, const char *name, double now, int64_t *out_id);
int pg_project_update(cairn_store *s, int64_t id, const char *name, int deleted, double now);
int pg_project_tag_put(cairn_store *s, int64_t id, const char *key, const char *value, double now);
int pg_run_restore(cairn_store *s, int64_t rid);

#endif
