/*
 * lib/store/store.c — the generic store: what every backend shares (the
 * handle's lock, its clock, the test hook), the choice of a backend for a
 * store location, and the dispatchers: each store_* call of store.h,
 * browse.h, capture.h, data.h, query.h and sweep.h takes the store's lock
 * and calls its backend's operation (lib/store/backend.h), one indirect
 * call.
 *
 * The lock is the handle's, not the backend's: every connection a backend
 * may hold (an SQLite connection opened NOMUTEX, a PostgreSQL PGconn, a
 * curl handle) is for one thread at a time, and a caller that composes
 * calls (a read snapshot around several reads, the sweep's suggest
 * callback reading the queue inside a claim) needs one recursive lock over
 * all of them whatever the backend.  So the dispatchers take it and no
 * backend locks on its own.
 * Thread-safety: every call holds the store's recursive lock.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/backend.h"
#include "lib/store/record.h"
#include "lib/store/scan.h"
#include "util/clock.h"

/* --- what every backend shares ----------------------------------------------- */

double store_now(const cairn_store *s)
{
	return s && s->pinned_now > 0 ? s->pinned_now : clock_now();
}

int64_t store_now_ms(const cairn_store *s)
{
	return s && s->pinned_now > 0 ? (int64_t)llround(s->pinned_now * 1000.0) : clock_now_ms();
}

void store_clock_pin(cairn_store *s, double now)
{
	s->pinned_now = now > 0 ? now : 0;
}

void store_test_hook(cairn_store *s, store_hook_fn fn, void *arg)
{
	store_lock(s);
	s->hook = fn;
	s->hook_arg = arg;
	store_unlock(s);
}

void store_hook(cairn_store *s, const char *point)
{
	if (s->hook)
		s->hook(s, point, s->hook_arg);
}

void store_lock(cairn_store *s)
{
	pthread_mutex_lock(&s->lock);
}

void store_unlock(cairn_store *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* Which backend opens a store location, first match wins: a URI by its
 * scheme (postgresql:// and postgres://: PostgreSQL through libpq; http://
 * and https://: a cairn server, remote/), anything else is a directory
 * (SQLite in dir/cairn.db). */
static const struct {
	const char *scheme; /* NULL: anything else, a directory */
	const store_ops *ops;
} backends[] = {
    {"postgresql://", &store_pg_ops}, {"postgres://", &store_pg_ops},
    {"http://", &store_remote_ops},   {"https://", &store_remote_ops},
    {NULL, &store_sqlite_ops},
};

const store_ops *store_backend_for(const char *location)
{
	size_t n = sizeof backends / sizeof backends[0];
	for (size_t i = 0; i + 1 < n; i++)
		if (location &&
		    strncmp(location, backends[i].scheme, strlen(backends[i].scheme)) == 0)
			return backends[i].ops;
	return backends[n - 1].ops;
}

/* An op the store's backend leaves NULL (not written yet): one clear error
 * instead of a call through NULL. */
int store_unsupported(cairn_store *s, const char *what)
{
	return err_set(CAIRN_ESTORE, "%s is not supported by the %s backend yet", what,
	               s->ops->name);
}

int store_schema_latest(void)
{
	return store_backend_for(NULL)->schema_latest();
}

void dataset_rows_free(dataset_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		free(v[i].role);
		free(v[i].algo);
		free(v[i].digest);
		free(v[i].manifest_oid);
	}
	free(v);
}

void trial_rows_free(trial_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].params);
	free(v);
}

/* --- the schema, settings and read snapshots -------------------------------- */

int store_setting_get(cairn_store *s, const char *key, char **out)
{
	store_lock(s);
	int rc = s->ops->setting_get(s, key, out);
	store_unlock(s);
	return rc;
}

int store_setting_put(cairn_store *s, const char *key, const char *value)
{
	store_lock(s);
	int rc = s->ops->setting_put(s, key, value);
	store_unlock(s);
	return rc;
}

int store_schema_version(cairn_store *s, int *out)
{
	if (!s->ops->schema_version)
		return store_unsupported(s, "schema version");
	store_lock(s);
	int rc = s->ops->schema_version(s, out);
	store_unlock(s);
	return rc;
}

int store_migrate(cairn_store *s, int target)
{
	if (!s->ops->migrate)
		return store_unsupported(s, "migrate");
	store_lock(s);
	int rc = s->ops->migrate(s, target);
	store_unlock(s);
	return rc;
}

int store_read_begin(cairn_store *s, bool *own)
{
	if (!s->ops->read_begin)
		return store_unsupported(s, "read begin");
	store_lock(s);
	int rc = s->ops->read_begin(s, own);
	store_unlock(s);
	return rc;
}

void store_read_end(cairn_store *s, bool own)
{
	if (!s->ops->read_end)
		return;
	store_lock(s);
	s->ops->read_end(s, own);
	store_unlock(s);
}

/* --- runs ------------------------------------------------------------------ */

int store_run_insert(cairn_store *s, const run_row *r, const char *const *tags, size_t ntags,
                     char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name)
{
	if (!s->ops->run_insert)
		return store_unsupported(s, "run insert");
	store_lock(s);
	int rc = s->ops->run_insert(s, r, tags, ntags, out_id, out_rid, out_seq, out_name);
	store_unlock(s);
	return rc;
}

int store_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                     char out_id[33])
{
	if (!s->ops->run_lookup)
		return store_unsupported(s, "run lookup");
	store_lock(s);
	int rc = s->ops->run_lookup(s, id, include_deleted, out_rid, out_id);
	store_unlock(s);
	return rc;
}

int store_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project,
                    int64_t *out_seq)
{
	if (!s->ops->run_names)
		return store_unsupported(s, "run names");
	store_lock(s);
	int rc = s->ops->run_names(s, rid, out_name, out_project, out_seq);
	store_unlock(s);
	return rc;
}

int store_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value)
{
	if (!s->ops->run_set_text)
		return store_unsupported(s, "run set text");
	store_lock(s);
	int rc = s->ops->run_set_text(s, rid, column, value);
	store_unlock(s);
	return rc;
}

int store_run_finish(cairn_store *s, int64_t rid, cairn_status st, int exit_code, double end)
{
	if (!s->ops->run_finish)
		return store_unsupported(s, "run finish");
	store_lock(s);
	int rc = s->ops->run_finish(s, rid, st, exit_code, end);
	store_unlock(s);
	return rc;
}

int store_heartbeat(cairn_store *s, int64_t rid, double now)
{
	if (!s->ops->heartbeat)
		return store_unsupported(s, "heartbeat");
	store_lock(s);
	int rc = s->ops->heartbeat(s, rid, now);
	store_unlock(s);
	return rc;
}

int store_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans)
{
	if (!s->ops->run_delete)
		return store_unsupported(s, "run delete");
	store_lock(s);
	int rc = s->ops->run_delete(s, rid, purge, orphans);
	store_unlock(s);
	return rc;
}

/* --- keys, params, tags, properties ---------------------------------------- */

int store_key_intern(cairn_store *s, const char *name, int64_t *out_kid)
{
	if (!s->ops->key_intern)
		return store_unsupported(s, "key intern");
	store_lock(s);
	int rc = s->ops->key_intern(s, name, out_kid);
	store_unlock(s);
	return rc;
}

int store_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v,
                    bool overwrite)
{
	if (!s->ops->param_put)
		return store_unsupported(s, "param put");
	store_lock(s);
	int rc = s->ops->param_put(s, rid, key, v, overwrite);
	store_unlock(s);
	return rc;
}

int store_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                          const cairn_value *values, size_t n, bool overwrite)
{
	if (!s->ops->params_put_many)
		return store_unsupported(s, "params put many");
	store_lock(s);
	int rc = s->ops->params_put_many(s, rid, keys, values, n, overwrite);
	store_unlock(s);
	return rc;
}

int store_tag_split(const char *text, char **key, const char **value)
{
	const char *eq = strchr(text, '=');
	*key = NULL;
	*value = NULL;
	if (!eq)
		return 0;
	if (!(*key = strndup(text, (size_t)(eq - text))))
		return err_set(CAIRN_ENOMEM, "out of memory");
	*value = eq + 1;
	return 0;
}

int store_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove)
{
	if (!s->ops->tag_put)
		return store_unsupported(s, "tag put");
	store_lock(s);
	int rc = s->ops->tag_put(s, rid, tag, value, remove);
	store_unlock(s);
	return rc;
}

int store_property_put(cairn_store *s, int64_t rid, const char *key, const char *value)
{
	if (!s->ops->property_put)
		return store_unsupported(s, "property put");
	store_lock(s);
	int rc = s->ops->property_put(s, rid, key, value);
	store_unlock(s);
	return rc;
}

/* --- metrics --------------------------------------------------------------- */

int store_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step)
{
	if (!s->ops->metric_last_step)
		return store_unsupported(s, "metric last step");
	store_lock(s);
	int rc = s->ops->metric_last_step(s, rid, kid, out_step);
	store_unlock(s);
	return rc;
}

int store_metrics_insert(cairn_store *s, const mpoint *pts, size_t n)
{
	if (!s->ops->metrics_insert)
		return store_unsupported(s, "metrics insert");
	store_lock(s);
	int rc = s->ops->metrics_insert(s, pts, n);
	store_unlock(s);
	return rc;
}

bool store_default_steps(const cairn_store *s)
{
	return s->ops->default_steps;
}

int store_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out)
{
	memset(out, 0, sizeof *out);
	if (!s->ops->metric_points)
		return store_unsupported(s, "metric points");
	store_lock(s);
	int rc = s->ops->metric_points(s, rid, key, out);
	store_unlock(s);
	if (rc)
		store_points_free(out);
	return rc;
}

void store_points_free(store_points *p)
{
	free(p->step);
	free(p->ts_ms);
	free(p->value);
	memset(p, 0, sizeof *p);
}

int store_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                             int64_t from, int64_t to, buf *out)
{
	if (!s->ops->metric_sample_json)
		return store_unsupported(s, "metric sample json");
	store_lock(s);
	int rc = s->ops->metric_sample_json(s, rid, key, max_points, from, to, out);
	store_unlock(s);
	return rc;
}

/* --- artifacts and objects ------------------------------------------------- */

int store_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid, int64_t size,
                       const char *media_type, const char *kind, const char *key, int64_t step)
{
	if (!s->ops->artifact_put)
		return store_unsupported(s, "artifact put");
	store_lock(s);
	int rc = s->ops->artifact_put(s, rid, path, oid, size, media_type, kind, key, step);
	store_unlock(s);
	return rc;
}

int store_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                          char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media)
{
	if (!s->ops->artifact_lookup)
		return store_unsupported(s, "artifact lookup");
	store_lock(s);
	int rc = s->ops->artifact_lookup(s, rid, path, out_oid, out_size, out_media);
	store_unlock(s);
	return rc;
}

bool store_is_remote(const cairn_store *s)
{
	return strcmp(s->ops->name, "remote") == 0;
}

bool store_oid_listed(const char *list, const char *oid)
{
	size_t n = strlen(oid);
	for (const char *p = list ? strstr(list, oid) : NULL; p; p = strstr(p + 1, oid))
		if ((p == list || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

int store_artifact_delete(cairn_store *s, int64_t rid, const char *path, const store_art_keep *keep,
                          int64_t *out_removed, buf *orphans)
{
	if (!s->ops->artifact_delete)
		return store_unsupported(s, "artifact delete");
	store_lock(s);
	int rc = s->ops->artifact_delete(s, rid, path, keep, out_removed, orphans);
	store_unlock(s);
	return rc;
}

int store_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed)
{
	if (!s->ops->objects_sweep)
		return store_unsupported(s, "objects sweep");
	store_lock(s);
	int rc = s->ops->objects_sweep(s, candidates, out_removed);
	store_unlock(s);
	return rc;
}

/* --- code and environment capture ------------------------------------------ */

int store_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                       int64_t *out_sizes)
{
	if (!s->ops->code_map_get)
		return store_unsupported(s, "code map get");
	store_lock(s);
	int rc = s->ops->code_map_get(s, keys, n, out_oids, out_sizes);
	store_unlock(s);
	return rc;
}

int store_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                       const int64_t *sizes, size_t n)
{
	if (!s->ops->code_map_put)
		return store_unsupported(s, "code map put");
	store_lock(s);
	int rc = s->ops->code_map_put(s, keys, oids, sizes, n);
	store_unlock(s);
	return rc;
}

int store_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                       const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                       size_t nrefs)
{
	if (!s->ops->run_code_set)
		return store_unsupported(s, "run code set");
	store_lock(s);
	int rc = s->ops->run_code_set(s, rid, commit, branch, remote, dirty, code_oid, refs, nrefs);
	store_unlock(s);
	return rc;
}

int store_run_env_set(cairn_store *s, int64_t rid, const char *env_oid)
{
	if (!s->ops->run_env_set)
		return store_unsupported(s, "run env set");
	store_lock(s);
	int rc = s->ops->run_env_set(s, rid, env_oid);
	store_unlock(s);
	return rc;
}

int store_run_code_oid(cairn_store *s, int64_t rid, char out[65])
{
	if (!s->ops->run_code_oid)
		return store_unsupported(s, "run code oid");
	store_lock(s);
	int rc = s->ops->run_code_oid(s, rid, out);
	store_unlock(s);
	return rc;
}

int store_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                          int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz)
{
	if (!s->ops->hash_cache_get1)
		return store_unsupported(s, "hash cache get1");
	store_lock(s);
	int rc = s->ops->hash_cache_get1(s, dev, ino, algo, size, mtime_ns, ctime_ns, out, outsz);
	store_unlock(s);
	return rc;
}

int store_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                          int64_t mtime_ns, int64_t ctime_ns, const char *digest)
{
	if (!s->ops->hash_cache_put1)
		return store_unsupported(s, "hash cache put1");
	store_lock(s);
	int rc = s->ops->hash_cache_put1(s, dev, ino, algo, size, mtime_ns, ctime_ns, digest);
	store_unlock(s);
	return rc;
}

/* --- data versions --------------------------------------------------------- */

int store_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                            int64_t *out_found)
{
	if (!s->ops->hash_cache_lookup)
		return store_unsupported(s, "hash cache lookup");
	store_lock(s);
	int rc = s->ops->hash_cache_lookup(s, algo, files, n, out_found);
	store_unlock(s);
	return rc;
}

int store_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n)
{
	if (!s->ops->hash_cache_put)
		return store_unsupported(s, "hash cache put");
	store_lock(s);
	int rc = s->ops->hash_cache_put(s, algo, files, n);
	store_unlock(s);
	return rc;
}

int store_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d)
{
	if (!s->ops->dataset_put)
		return store_unsupported(s, "dataset put");
	store_lock(s);
	int rc = s->ops->dataset_put(s, rid, d);
	store_unlock(s);
	return rc;
}

int store_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out,
                       size_t *out_n)
{
	if (!s->ops->dataset_list)
		return store_unsupported(s, "dataset list");
	store_lock(s);
	int rc = s->ops->dataset_list(s, rid, name, out, out_n);
	store_unlock(s);
	return rc;
}

/* --- browsing -------------------------------------------------------------- */

int store_project_list_json(cairn_store *s, buf *out)
{
	if (!s->ops->project_list_json)
		return store_unsupported(s, "project list json");
	store_lock(s);
	int rc = s->ops->project_list_json(s, out);
	store_unlock(s);
	return rc;
}

int store_run_columns_json(cairn_store *s, const char *project, buf *out)
{
	if (!s->ops->run_columns_json)
		return store_unsupported(s, "run columns json");
	store_lock(s);
	int rc = s->ops->run_columns_json(s, project, out);
	store_unlock(s);
	return rc;
}

/* --- the sweep trial queue ------------------------------------------------- */

int store_trial_claim(cairn_store *s, int64_t sweep_rid, int64_t budget, const char *owner,
                      cairn_sweep_suggest_fn suggest, void *ctx, int64_t *out_trial,
                      char **out_params)
{
	if (!s->ops->trial_claim)
		return store_unsupported(s, "trial claim");
	store_lock(s);
	int rc =
	    s->ops->trial_claim(s, sweep_rid, budget, owner, suggest, ctx, out_trial, out_params);
	store_unlock(s);
	return rc;
}

int store_trial_set(cairn_store *s, int64_t sweep_rid, int64_t trial, cairn_trial_state state,
                    int64_t run_rid, double value)
{
	if (!s->ops->trial_set)
		return store_unsupported(s, "trial set");
	store_lock(s);
	int rc = s->ops->trial_set(s, sweep_rid, trial, state, run_rid, value);
	store_unlock(s);
	return rc;
}

int store_trials_requeue(cairn_store *s, int64_t sweep_rid, int64_t *out_n)
{
	if (!s->ops->trials_requeue)
		return store_unsupported(s, "trials requeue");
	store_lock(s);
	int rc = s->ops->trials_requeue(s, sweep_rid, out_n);
	store_unlock(s);
	return rc;
}

int store_trial_list(cairn_store *s, int64_t sweep_rid, trial_row **out, size_t *out_n)
{
	if (!s->ops->trial_list)
		return store_unsupported(s, "trial list");
	store_lock(s);
	int rc = s->ops->trial_list(s, sweep_rid, out, out_n);
	store_unlock(s);
	return rc;
}

int store_sweep_child_find(cairn_store *s, int64_t sweep_rid, const char *name, char out_id[33])
{
	if (!s->ops->sweep_child_find)
		return store_unsupported(s, "sweep child find");
	store_lock(s);
	int rc = s->ops->sweep_child_find(s, sweep_rid, name, out_id);
	store_unlock(s);
	return rc;
}

int store_run_reopen(cairn_store *s, int64_t rid, int pid, const char *host)
{
	if (!s->ops->run_reopen)
		return store_unsupported(s, "run reopen");
	store_lock(s);
	int rc = s->ops->run_reopen(s, rid, pid, host);
	store_unlock(s);
	return rc;
}

/* --- run records ---------------------------------------------------------- */

int store_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                       rec_batch **out)
{
	*out = NULL;
	if (n > STORE_RECORD_BATCH)
		return err_set(CAIRN_EINVALID, "too many runs in one batch");
	if (!s->ops->records_load)
		return store_unsupported(s, "records load");
	store_lock(s);
	int rc = s->ops->records_load(s, rids, n, with_artifacts, out);
	store_unlock(s);
	return rc;
}

int store_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids,
                       size_t *out_n)
{
	if (!s->ops->run_list_ids)
		return store_unsupported(s, "run list ids");
	store_lock(s);
	int rc = s->ops->run_list_ids(s, o, out_rids, out_n);
	store_unlock(s);
	return rc;
}

const store_scan_ops *store_scans(cairn_store *s)
{
	return s->ops->scan;
}

/* --- copying a whole store (cairn migrate) ------------------------------------ */

int store_refs_list(cairn_store *s, int64_t rid, char (**out)[65], size_t *out_n)
{
	if (!s->ops->refs_list)
		return store_unsupported(s, "reference list");
	store_lock(s);
	int rc = s->ops->refs_list(s, rid, out, out_n);
	store_unlock(s);
	return rc;
}

int store_refs_put(cairn_store *s, int64_t rid, const char (*oids)[65], size_t n)
{
	if (!s->ops->refs_put)
		return store_unsupported(s, "references");
	store_lock(s);
	int rc = n ? s->ops->refs_put(s, rid, oids, n) : 0;
	store_unlock(s);
	return rc;
}

int store_code_map_list(cairn_store *s, code_map_row **out, size_t *out_n)
{
	if (!s->ops->code_map_list)
		return store_unsupported(s, "code map list");
	store_lock(s);
	int rc = s->ops->code_map_list(s, out, out_n);
	store_unlock(s);
	return rc;
}

void code_map_rows_free(code_map_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

int store_trials_put(cairn_store *s, int64_t sweep_rid, const trial_row *rows, size_t n)
{
	if (!s->ops->trials_put)
		return store_unsupported(s, "trials");
	store_lock(s);
	int rc = n ? s->ops->trials_put(s, sweep_rid, rows, n) : 0;
	store_unlock(s);
	return rc;
}

/* --- projects as records (project.h) ------------------------------------------ */

void project_rows_free(project_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].name);
		for (size_t t = 0; t < rows[i].ntags; t++) {
			free(rows[i].tag_keys[t]);
			free(rows[i].tag_values[t]);
		}
		free(rows[i].tag_keys);
		free(rows[i].tag_values);
	}
	free(rows);
}

int store_project_list(cairn_store *s, bool count_runs, project_row **out, size_t *out_n)
{
	if (!s->ops->project_list)
		return store_unsupported(s, "project list");
	store_lock(s);
	int rc = s->ops->project_list(s, count_runs, out, out_n);
	store_unlock(s);
	return rc;
}

int store_project_create(cairn_store *s, const char *name, double now, int64_t *out_id)
{
	if (!s->ops->project_create)
		return store_unsupported(s, "project create");
	store_lock(s);
	int rc = s->ops->project_create(s, name, now, out_id);
	store_unlock(s);
	return rc;
}

int store_project_update(cairn_store *s, int64_t id, const char *name, int deleted, double now)
{
	if (!s->ops->project_update)
		return store_unsupported(s, "project update");
	store_lock(s);
	int rc = s->ops->project_update(s, id, name, deleted, now);
	store_unlock(s);
	return rc;
}

int store_project_tag_put(cairn_store *s, int64_t id, const char *key, const char *value,
                          double now)
{
	if (!s->ops->project_tag_put)
		return store_unsupported(s, "project tag put");
	store_lock(s);
	int rc = s->ops->project_tag_put(s, id, key, value, now);
	store_unlock(s);
	return rc;
}

int store_run_restore(cairn_store *s, int64_t rid)
{
	if (!s->ops->run_restore)
		return store_unsupported(s, "run restore");
	store_lock(s);
	int rc = s->ops->run_restore(s, rid);
	store_unlock(s);
	return rc;
}
