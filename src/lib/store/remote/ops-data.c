/*
 * lib/store/remote/ops-data.c — the remote backend's writes that name
 * objects (artifacts recorded and deleted, the code map, a run's code and environment,
 * datasets) and the hash cache.
 *
 * Objects go first, by their own routes (objects.c: HEAD, then a streamed
 * PUT when the server lacks them); the op that references them follows,
 * and the server checks that each object is there inside the transaction
 * that records the reference (store.md, "Objects, references and purge").
 * OBJECT_VANISHED comes back through the protocol, so the caller writes the
 * objects again and retries, as against a local store.
 *
 * The hash cache (files' digests keyed by device and inode) belongs to the
 * machine that hashed the files, so a remote store keeps none: every
 * lookup misses and nothing is stored, and a dataset is hashed in full
 * each time it is recorded.  Thread-safety: the store's lock is held.
 */
#include <string.h>

#include "lib/store/remote/remote.h"

static int send_or_fail(cairn_store *s, const char *op, buf *req, int rc)
{
	if (rc) {
		buf_free(req);
		return rc;
	}
	return remote_write_only(s, op, req);
}

int rd_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid, int64_t size,
                    const char *media_type, const char *kind, const char *key, int64_t step)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, path);
	w_str(&req, oid);
	w_i64(&req, size);
	w_str(&req, media_type);
	w_str(&req, kind);
	w_str(&req, key);
	w_i64(&req, step);
	return send_or_fail(s, "artifact_put", &req, rc);
}

/* The server answers the number of rows removed; a delete spooled while
 * the server is down reports none (it is applied, in order, on the drain).
 * The server frees the objects itself (serve-data.c): keep and orphans are
 * the local store's business, unused here. */
int rd_artifact_delete(cairn_store *s, int64_t rid, const char *path, const store_art_keep *keep,
                       int64_t *out_removed, buf *orphans)
{
	(void)keep;
	(void)orphans;
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, path);
	wr r;
	if (rc == 0)
		rc = remote_write(s, "artifact_delete", &req, &r);
	buf_free(&req);
	if (rc == REMOTE_SPOOLED) {
		if (out_removed)
			*out_removed = 0;
		return spool_deferred(s);
	}
	if (rc)
		return rc;
	int64_t n = r_i64(&r);
	if ((rc = wr_check(&r, true, "reply to artifact_delete")) == 0 && out_removed)
		*out_removed = n;
	return rc;
}

int rd_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                    const int64_t *sizes, size_t n)
{
	buf req = BUF_INIT;
	w_u32(&req, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		w_str(&req, keys[i]);
		w_str(&req, oids[i]);
		w_i64(&req, sizes ? sizes[i] : 0);
	}
	return send_or_fail(s, "code_map_put", &req, 0);
}

int rd_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                    const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                    size_t nrefs)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, commit);
	w_str(&req, branch);
	w_str(&req, remote);
	w_i64(&req, dirty);
	w_str(&req, code_oid);
	w_u32(&req, (uint32_t)nrefs);
	for (size_t i = 0; i < nrefs; i++)
		w_str(&req, refs[i]);
	return send_or_fail(s, "run_code_set", &req, rc);
}

int rd_run_env_set(cairn_store *s, int64_t rid, const char *env_oid)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, env_oid);
	return send_or_fail(s, "run_env_set", &req, rc);
}

int rd_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, d->name);
	w_str(&req, d->path);
	w_str(&req, d->role);
	w_str(&req, d->algo);
	w_str(&req, d->digest);
	w_str(&req, d->manifest_oid);
	w_i64(&req, d->files);
	w_i64(&req, d->bytes);
	return send_or_fail(s, "dataset_put", &req, rc);
}

/* --- the hash cache: none for a remote store (see above) ------------------------- */

int rd_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz)
{
	if (outsz)
		out[0] = '\0';
	return 0;
}

int rd_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, const char *digest)
{
	return 0;
}

int rd_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                         int64_t *out_found)
{
	*out_found = 0;
	return 0;
}

int rd_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n)
{
	return 0;
}
