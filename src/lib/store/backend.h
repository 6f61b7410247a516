/*
 * lib/store/backend.h — the store interface: one table of operations that a
 * storage backend fills in (the shape of libgit2's git_odb_backend), and
 * what a backend may rely on.  The rules are in docs/internals/store.md,
 * "The store interface"; this header is what a new backend implements.
 *
 * Callers never use the table: they call the store_* functions of
 * store.h, browse.h, capture.h, data.h, query.h and sweep.h, which
 * lib/store/store.c dispatches through s->ops with the store's lock held.
 * So every op runs with that (recursive) lock held and never needs a lock
 * of its own; an op may call back into store_* functions (the suggest
 * callback of trial_claim does).
 *
 * Conventions, for every op:
 *  - returns 0 or a negative cairn_error_code, with the error raised
 *    (err_set) where it was detected; backend errors are mapped as the
 *    store.md section "Error mapping" says, in one place of the backend;
 *  - out-parameters are written only on success unless the op says
 *    otherwise; memory handed out (char **, row arrays) is malloc'ed and
 *    freed by the caller with free() or the *_free helper named;
 *  - a write op is one transaction of its own, all or nothing (how a
 *    backend composes its ops inside one transaction is its own business:
 *    SQLite's refs.c records an artifact's object reference with its row);
 *  - text in and out is UTF-8; ids are 32 lower-case hex digits, object
 *    ids 64.
 */
#ifndef CAIRN_LIB_STORE_BACKEND_H
#define CAIRN_LIB_STORE_BACKEND_H

#include "lib/store/auth.h"
#include "lib/store/browse.h"
#include "lib/store/capture.h"
#include "lib/store/data.h"
#include "lib/store/project.h"
#include "lib/store/query.h"
#include "lib/store/store.h"
#include "lib/store/sweep.h"

/* Bumped when an op is added, removed or changes meaning. */
#define STORE_OPS_VERSION 8

struct rec_batch;

typedef struct store_ops {
	unsigned int version; /* STORE_OPS_VERSION */
	const char *name;     /* "sqlite", "postgresql": for messages and tests */

	/* --- lifecycle ------------------------------------------------------
	 * open: connect to the store at s->dir, check that it is a cairn store
	 * of a schema this build knows, migrate it to the latest schema; sets
	 * s->be.  With create, a store that does not exist yet is created.  On
	 * failure s->be may be set: close is called either way.
	 * close: release s->be (NULL-safe; s->be is NULL afterwards).
	 * check: a full consistency check (CAIRN_ESTORE when damaged). */
	int (*open)(cairn_store *s, bool create);
	void (*close)(cairn_store *s);
	int (*check)(cairn_store *s);
	int (*schema_version)(cairn_store *s, int *out);
	int (*schema_latest)(void);
	/* Migrate up to target (tests build old stores with it). */
	int (*migrate)(cairn_store *s, int target);
	/* A read snapshot unless one is open (*own tells which, for
	 * read_end): everything read between the two sees one state.  The
	 * caller holds store_lock from begin to end. */
	int (*read_begin)(cairn_store *s, bool *own);
	void (*read_end)(cairn_store *s, bool own);
	/* The store's own settings (store.md, "Where the objects are"): one
	 * text value per key.  setting_get: *out malloc'ed, CAIRN_ENOTFOUND
	 * (and *out NULL) when the key is absent.  setting_put replaces. */
	int (*setting_get)(cairn_store *s, const char *key, char **out);
	int (*setting_put)(cairn_store *s, const char *key, const char *value);

	/* --- runs (store.h) ------------------------------------------------- */
	int (*run_insert)(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
	                  char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name);
	int (*run_lookup)(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
	                  char out_id[33]);
	int (*run_names)(cairn_store *s, int64_t rid, char **out_name, char **out_project,
	                 int64_t *out_seq);
	int (*run_set_text)(cairn_store *s, int64_t rid, const char *column, const char *value);
	int (*run_finish)(cairn_store *s, int64_t rid, cairn_status st, int exit_code, double end);
	int (*heartbeat)(cairn_store *s, int64_t rid, double now);
	int (*run_delete)(cairn_store *s, int64_t rid, bool purge, buf *orphans);

	/* --- keys, params, tags, properties (store.h, capture.h) ------------ */
	int (*key_intern)(cairn_store *s, const char *name, int64_t *out_kid);
	int (*param_put)(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
	                 bool overwrite);
	int (*params_put_many)(cairn_store *s, int64_t rid, const char *const *keys,
	                       const cairn_value *values, size_t n, bool overwrite);
	/* tag_put: value NULL is a bare tag; a value replaces the tag's earlier
	 * one; remove drops the tag whatever its value. */
	int (*tag_put)(cairn_store *s, int64_t rid, const char *tag, const char *value,
	               bool remove);
	int (*property_put)(cairn_store *s, int64_t rid, const char *key, const char *value);

	/* --- metrics (store.h, browse.h) ------------------------------------
	 * metrics_insert keeps the summaries (and any tiles) in the same
	 * transaction as the points, so reads never scan points.  With
	 * default_steps, a point whose step is CAIRN_STEP_AUTO takes the step
	 * after its series' last one inside that transaction, under a lock
	 * that orders it against every other writer (fold.h), and run handles
	 * leave default steps to it; without (the remote client), a handle
	 * counts them itself from metric_last_step and sends none. */
	bool default_steps;
	int (*metric_last_step)(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step);
	int (*metrics_insert)(cairn_store *s, const mpoint *pts, size_t n);
	/* Every point of metric key in the run, in (step, time) order
	 * (store_points; see store.h). */
	int (*metric_points)(cairn_store *s, int64_t rid, const char *key, store_points *out);
	/* The series thinned (browse.h), steps from..to only (fold.h,
	 * SAMPLE_ALL_FROM/TO: all). */
	int (*metric_sample_json)(cairn_store *s, int64_t rid, const char *key, size_t max_points,
	                          int64_t from, int64_t to, buf *out);

	/* --- artifacts and objects (store.h, browse.h) ----------------------
	 * Every op that records a reference to an object follows the protocol
	 * of store.md, "Objects, references and purge": call store_hook(s,
	 * "refs"), take the write lock, check each object (object_present),
	 * answer OBJECT_VANISHED with nothing recorded when one is gone.
	 * objects_sweep calls store_hook(s, "sweep") and unlinks
	 * (object_remove) only under that write lock. */
	int (*artifact_put)(cairn_store *s, int64_t rid, const char *path, const char *oid,
	                    int64_t size, const char *media_type, const char *kind, const char *key,
	                    int64_t step);
	int (*artifact_lookup)(cairn_store *s, int64_t rid, const char *path,
	                       char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size,
	                       char **out_media);
	/* artifact_delete: drop the run's artifact at path, or every artifact
	 * under the directory path names ("a/b" takes "a/b" and "a/b/...", never
	 * "a/bc"; "" takes them all); *out_removed counts the rows.
	 * CAIRN_ENOTFOUND, nothing changed, when none is there.  With keep (not
	 * NULL), in the same write transaction, the run's reference to each
	 * deleted row's object goes too unless another record of the run still
	 * names it (an artifact, a dataset manifest, its code or environment
	 * record, or keep->oids: what its code record names), and each object
	 * unreferenced so is appended to orphans ("oid\n") for objects_sweep;
	 * CAIRN_ECONFLICT, nothing changed, when the run's code record is no
	 * longer keep->code_oid (store.md, "Deleting an artifact"). */
	int (*artifact_delete)(cairn_store *s, int64_t rid, const char *path,
	                       const store_art_keep *keep, int64_t *out_removed, buf *orphans);
	int (*objects_sweep)(cairn_store *s, const buf *candidates, size_t *out_removed);

	/* --- code and environment capture (capture.h) ----------------------- */
	int (*code_map_get)(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
	                    int64_t *out_sizes);
	int (*code_map_put)(cairn_store *s, const char *const *keys, const char (*oids)[65],
	                    const int64_t *sizes, size_t n);
	int (*run_code_set)(cairn_store *s, int64_t rid, const char *commit, const char *branch,
	                    const char *remote, int dirty, const char *code_oid,
	                    const char (*refs)[65], size_t nrefs);
	int (*run_env_set)(cairn_store *s, int64_t rid, const char *env_oid);
	int (*run_code_oid)(cairn_store *s, int64_t rid, char out[65]);
	int (*hash_cache_get1)(cairn_store *s, int64_t dev, int64_t ino, const char *algo,
	                       int64_t size, int64_t mtime_ns, int64_t ctime_ns, char *out,
	                       size_t outsz);
	int (*hash_cache_put1)(cairn_store *s, int64_t dev, int64_t ino, const char *algo,
	                       int64_t size, int64_t mtime_ns, int64_t ctime_ns,
	                       const char *digest);

	/* --- data versions (data.h) ----------------------------------------- */
	int (*hash_cache_lookup)(cairn_store *s, data_algo algo, mentry **files, size_t n,
	                         int64_t *out_found);
	int (*hash_cache_put)(cairn_store *s, data_algo algo, mentry **files, size_t n);
	int (*dataset_put)(cairn_store *s, int64_t rid, const dataset_row *d);
	int (*dataset_list)(cairn_store *s, int64_t rid, const char *name, dataset_row **out,
	                    size_t *out_n);

	/* --- browsing (browse.h) -------------------------------------------- */
	int (*project_list_json)(cairn_store *s, buf *out);
	int (*run_columns_json)(cairn_store *s, const char *project, buf *out);

	/* --- the sweep trial queue (sweep.h) --------------------------------
	 * trial_claim is one write transaction; suggest runs inside it (with
	 * the lock held) and may read the queue through store_trial_list. */
	int (*trial_claim)(cairn_store *s, int64_t sweep_rid, int64_t budget, const char *owner,
	                   cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial,
	                   char **out_params);
	int (*trial_set)(cairn_store *s, int64_t sweep_rid, int64_t trial, cairn_trial_state state,
	                 int64_t run_rid, double value);
	int (*trials_requeue)(cairn_store *s, int64_t sweep_rid, int64_t *out_n);
	int (*trial_list)(cairn_store *s, int64_t sweep_rid, trial_row **out, size_t *out_n);
	int (*sweep_child_find)(cairn_store *s, int64_t sweep_rid, const char *name,
	                        char out_id[33]);
	/* run_reopen: status running, end_time and exit_code NULL.  pid <= 0
	 * (a sweep, MLflow's update-run): heartbeat now.  pid > 0 (a resume,
	 * store.md "Resumed runs"): the run's pid and host become the
	 * resumer's and its heartbeat NULL, until the resumer beats. */
	int (*run_reopen)(cairn_store *s, int64_t rid, int pid, const char *host);

	/* --- the query planner's scans (scan.h): the planner (lib/query/)
	 * combines them; a backend answers each scan and sort key. */
	const struct store_scan_ops *scan;

	/* --- copying a whole store (cairn migrate, store.h) ------------------
	 * refs_list: every object run rid references.  refs_put: references
	 * added by the objects protocol (each object checked), one
	 * transaction.  code_map_list: every code map entry.  trials_put: the
	 * trial rows of a sweep as given (run_id "" for none; an id that is
	 * not in the store is an error), replacing rows of the same number. */
	int (*refs_list)(cairn_store *s, int64_t rid, char (**out)[65], size_t *out_n);
	int (*refs_put)(cairn_store *s, int64_t rid, const char (*oids)[65], size_t n);
	int (*code_map_list)(cairn_store *s, code_map_row **out, size_t *out_n);
	int (*trials_put)(cairn_store *s, int64_t sweep_rid, const trial_row *rows, size_t n);

	/* --- run records (record.h) ----------------------------------------- */
	int (*records_load)(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
	                    struct rec_batch **out);
	/* The ids of cairn_run_list's runs, newest first (malloc'ed). */
	int (*run_list_ids)(cairn_store *s, const cairn_list_options *o, int64_t **out_rids,
	                    size_t *out_n);

	/* --- authentication (auth.h): tokens, sessions, the audit log -------
	 * Secrets never reach these ops, only their SHA-256 (hex); lookups by
	 * hash are indexed equalities. */
	int (*token_insert)(cairn_store *s, const token_row *t, int64_t *out_id);
	int (*token_list)(cairn_store *s, token_row **out, size_t *out_n);
	int (*token_find)(cairn_store *s, const char *hash, token_row *out);
	int (*token_revoke)(cairn_store *s, const char *name, int64_t id, double now,
	                    int64_t *out_id);
	int (*token_touch)(cairn_store *s, int64_t id, double now);
	int (*session_insert)(cairn_store *s, const char *hash, int64_t token_id, double created,
	                      double expires);
	int (*session_find)(cairn_store *s, const char *hash, double now, token_row *out);
	int (*session_delete)(cairn_store *s, const char *hash);
	int (*audit_insert)(cairn_store *s, const audit_row *a);
	int (*audit_list)(cairn_store *s, int64_t limit, audit_row **out, size_t *out_n);
	/* --- whole queries, for a backend whose data is elsewhere ------------
	 * NULL for a backend the planner queries through `scan` (SQLite,
	 * PostgreSQL).  The remote backend sets them: the server plans and runs
	 * the query from its text (sq->text, sort_text, group_text,
	 * metric_text), and the answer is the planner's (query.h). */
	int (*query_page)(cairn_store *s, const struct store_query *sq, int64_t **out_rids,
	                  size_t *out_n, int64_t *out_total);
	int (*query_group)(cairn_store *s, const struct store_query *sq, cairn_group_result **out);

	/* --- idempotency keys (a server remembers the answers to writes that
	 * carried an Idempotency-Key, so a retried write is applied once;
	 * docs/internals/remote.md).  idem_get: CAIRN_ENOTFOUND when the key is
	 * not known (or older than max_age seconds); *body malloc'ed.
	 * idem_put records it (a key already there is kept as it is) and drops
	 * keys older than max_age. */
	int (*idem_get)(cairn_store *s, const char *key, double max_age, int *status, char **body,
	                size_t *len);
	int (*idem_put)(cairn_store *s, const char *key, double max_age, int status,
	                const void *body, size_t len);
	/* The transaction of a keyed write (cairn_store_idem_begin): hold_begin
	 * opens it and sets s->hold, so the write ops' own transactions nest in
	 * it as savepoints; hold_end commits it (commit) or rolls it back, and
	 * clears s->hold.  NULL: the backend has none (keys go after the write). */
	int (*hold_begin)(cairn_store *s);
	int (*hold_end)(cairn_store *s, bool commit);

	/* --- projects as records (project.h; MLflow's experiments) and
	 * restoring a deleted run ------------------------------------------- */
	int (*project_list)(cairn_store *s, bool count_runs, project_row **out, size_t *out_n);
	int (*project_create)(cairn_store *s, const char *name, double now, int64_t *out_id);
	int (*project_update)(cairn_store *s, int64_t id, const char *name, int deleted,
	                      double now);
	int (*project_tag_put)(cairn_store *s, int64_t id, const char *key, const char *value,
	                       double now);
	int (*run_restore)(cairn_store *s, int64_t rid);

	/* --- the handle's own memory ------------------------------------------
	 * cache_size: the connection's page cache, in KiB (cairn_store_set_cache,
	 * store.md "Page cache").  NULL: the backend keeps no cache of its own. */
	int (*cache_size)(cairn_store *s, int64_t kib);
} store_ops;

/* The backends this build has. */
extern const store_ops store_sqlite_ops; /* a directory: dir/cairn.db (sqlite/ops.c) */
extern const store_ops store_pg_ops;     /* postgresql://, postgres:// (pg/ops.c) */
extern const store_ops store_remote_ops; /* http://, https://: a cairn server (remote/ops.c) */

/* A backend may leave an op NULL while it is not written yet: its
 * dispatcher then raises "<op> is not supported by the <name> backend
 * yet" (CAIRN_ESTORE) instead of calling it; the planner does the same
 * for a NULL scan table. */
int store_unsupported(cairn_store *s, const char *what);

/* The backend for a store location: a URI by its scheme (postgresql://,
 * postgres://; https:// later), anything else a directory (SQLite). */
const store_ops *store_backend_for(const char *location);

/* Is location a URI (scheme://...) rather than a directory?  A URI is
 * never path-joined, made absolute or looked for by walking up. */
bool store_is_uri(const char *location);
/* The URI with its password (user:PASSWORD@ and password=...) replaced by
 * "***" (malloc'ed, NULL when out of memory): what s->dir holds for a URI
 * store, so that cairn_store_path and every message show no secret. */
char *store_uri_redact(const char *uri);

/* Test hook points (store_test_hook): a backend calls this where the
 * store.md protocol says, with the lock held and no transaction open. */
void store_hook(cairn_store *s, const char *point);

#endif
