/*
 * lib/store/pg/capture.c — the PostgreSQL backend's capture and data SQL:
 * the code map, a run's code and environment, the stat cache one file at a
 * time and in bulk, datasets, and artifacts (recorded, looked up, deleted).
 *
 * Every write that records a reference to an object (artifact_put,
 * code_map_put, run_code_set, run_env_set, dataset_put) follows the
 * protocol of docs/internals/store.md, "Objects, references and purge":
 * pg_refs_begin (hook, BEGIN, the objects lock shared), pg_object_check of
 * each object, then the rows and references, commit.
 *
 * The bulk hash cache works in batches of HASH_BATCH files: a lookup is one
 * join of the batch's (dev, ino) arrays with the cache (unnest), matched
 * back to the entries in C; a put is one upsert of the batch (unnest),
 * with entries that share an inode (hard links) sent once.  dev and ino are
 * stored as signed 64-bit integers (the bits of the unsigned values).
 * Thread-safety: called with the store's lock held (pg.h).
 */
#include "lib/store/pg/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BATCH 8192

/* --- the code map, a run's code and environment ------------------------------------ */

int pg_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                    int64_t *out_sizes)
{
	for (size_t i = 0; i < n; i++) {
		out_oids[i][0] = '\0';
		if (out_sizes)
			out_sizes[i] = -1;
	}
	if (n == 0)
		return 0;
	buf arr = BUF_INIT;
	pg_array_text(&arr, keys, n);
	if (!buf_ok(&arr)) {
		buf_free(&arr);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, arr.ptr);
	PGresult *r = pg_exec(s, "read the code map",
	                      "SELECT k.i, c.oid, c.size FROM unnest($1::text[]) WITH ORDINALITY"
	                      " AS k(key, i) JOIN code_map c ON c.key = k.key",
	                      &p);
	buf_free(&arr);
	if (!r)
		return cairn_error_last_code();
	for (int row = 0; row < pq.ntuples(r); row++) {
		int64_t i = pg_get_int(r, row, 0) - 1;
		const char *o = pg_get_text(r, row, 1);
		if (i < 0 || (size_t)i >= n)
			continue;
		if (o && strlen(o) == 64)
			memcpy(out_oids[i], o, 65);
		if (out_sizes)
			out_sizes[i] = pg_get_int(r, row, 2);
	}
	pq.clear(r);
	return 0;
}

int pg_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                    const int64_t *sizes, size_t n)
{
	int rc;
	if (n == 0)
		return 0;
	/* A map entry keeps its object from purge (except "tree…" hints), so it
	 * is a reference like any other: checked under the objects lock. */
	if ((rc = pg_refs_begin(s)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = pg_object_check(s, oids[i])) != 0)
			goto fail;
		pg_params p = PG_PARAMS_INIT;
		pg_param_text(&p, keys[i]);
		pg_param_text(&p, oids[i]);
		pg_param_int(&p, sizes ? sizes[i] : 0);
		if ((rc = pg_run(s, "record the code map",
		                 "INSERT INTO code_map(key, oid, size) VALUES($1, $2, $3)"
		                 " ON CONFLICT(key) DO UPDATE SET oid = excluded.oid,"
		                 " size = excluded.size",
		                 &p, NULL)) != 0)
			goto fail;
	}
	return pg_commit(s);
fail:
	pg_rollback(s);
	return rc;
}

int pg_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                    const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                    size_t nrefs)
{
	int rc;
	if ((rc = pg_refs_begin(s)) != 0)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, commit);
	pg_param_text(&p, branch);
	pg_param_text(&p, remote);
	pg_param_int_or_null(&p, dirty >= 0, dirty != 0);
	pg_param_text(&p, code_oid);
	pg_param_int(&p, rid);
	if ((rc = pg_run(s, "record the code version",
	                 "UPDATE runs SET git_commit = $1, git_branch = $2, git_remote = $3,"
	                 " git_dirty = $4, code_oid = $5 WHERE rid = $6",
	                 &p, NULL)) != 0)
		goto fail;
	for (size_t i = 0; i < nrefs; i++)
		if (refs[i][0] && (rc = pg_object_ref(s, rid, refs[i])) != 0)
			goto fail;
	return pg_commit(s);
fail:
	pg_rollback(s);
	return rc;
}

int pg_run_env_set(cairn_store *s, int64_t rid, const char *env_oid)
{
	int rc;
	if ((rc = pg_refs_begin(s)) != 0)
		return rc;
	if ((rc = pg_run_set_text(s, rid, "env_oid", env_oid)) != 0 ||
	    (env_oid && (rc = pg_object_ref(s, rid, env_oid)) != 0)) {
		pg_rollback(s);
		return rc;
	}
	return pg_commit(s);
}

int pg_run_code_oid(cairn_store *s, int64_t rid, char out[65])
{
	out[0] = '\0';
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	PGresult *r = pg_exec(s, "read the run", "SELECT code_oid FROM runs WHERE rid = $1", &p);
	if (!r)
		return cairn_error_last_code();
	const char *o = pq.ntuples(r) ? pg_get_text(r, 0, 0) : NULL;
	if (o && strlen(o) == 64)
		memcpy(out, o, 65);
	pq.clear(r);
	return 0;
}

/* --- the stat cache, one file ---------------------------------------------------------- */

int pg_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz)
{
	out[0] = '\0';
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, dev);
	pg_param_int(&p, ino);
	pg_param_text(&p, algo);
	pg_param_int(&p, size);
	pg_param_int(&p, mtime_ns);
	pg_param_int(&p, ctime_ns);
	PGresult *r = pg_exec(s, "read the hash cache",
	                      "SELECT digest FROM hash_cache WHERE dev = $1 AND ino = $2 AND"
	                      " algo = $3 AND size = $4 AND mtime_ns = $5 AND ctime_ns = $6",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	if (pq.ntuples(r) && pg_get_text(r, 0, 0))
		snprintf(out, outsz, "%s", pg_get_text(r, 0, 0));
	pq.clear(r);
	return 0;
}

int pg_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                       int64_t mtime_ns, int64_t ctime_ns, const char *digest)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, dev);
	pg_param_int(&p, ino);
	pg_param_text(&p, algo);
	pg_param_int(&p, size);
	pg_param_int(&p, mtime_ns);
	pg_param_int(&p, ctime_ns);
	pg_param_text(&p, digest);
	return pg_run(
	    s, "record a digest",
	    "INSERT INTO hash_cache(dev, ino, algo, size, mtime_ns, ctime_ns, digest)"
	    " VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(dev, ino, algo) DO UPDATE SET"
	    " size = excluded.size, mtime_ns = excluded.mtime_ns,"
	    " ctime_ns = excluded.ctime_ns, digest = excluded.digest",
	    &p, NULL);
}

/* --- the hash cache in bulk ------------------------------------------------------------ */

static int cmp_devino(const void *a, const void *b)
{
	const mentry *x = *(mentry *const *)a, *y = *(mentry *const *)b;
	int64_t dx = (int64_t)x->dev, dy = (int64_t)y->dev;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	int64_t ix = (int64_t)x->ino, iy = (int64_t)y->ino;
	return (ix > iy) - (ix < iy);
}

/* The first of files[0..n) (sorted) with this (dev, ino), or n. */
static size_t find_devino(mentry **files, size_t n, int64_t dev, int64_t ino)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t d = (int64_t)files[mid]->dev, i = (int64_t)files[mid]->ino;
		if (d < dev || (d == dev && i < ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The (dev, ino) arrays of files[0..n), each inode once. */
static void devino_arrays(mentry **files, size_t n, buf *dev, buf *ino)
{
	bool fd = true, fi = true;
	buf_putc(dev, '{');
	buf_putc(ino, '{');
	for (size_t i = 0; i < n; i++) {
		if (i && files[i]->dev == files[i - 1]->dev && files[i]->ino == files[i - 1]->ino)
			continue;
		pg_array_int_add(dev, &fd, (int64_t)files[i]->dev);
		pg_array_int_add(ino, &fi, (int64_t)files[i]->ino);
	}
	buf_putc(dev, '}');
	buf_putc(ino, '}');
}

int pg_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                         int64_t *out_hits)
{
	size_t hexlen = algo_hexlen(algo);
	*out_hits = 0;
	if (n == 0)
		return 0;
	qsort(files, n, sizeof *files, cmp_devino);
	for (size_t lo = 0; lo < n; lo += HASH_BATCH) {
		size_t m = n - lo < HASH_BATCH ? n - lo : HASH_BATCH;
		mentry **f = files + lo;
		buf dev = BUF_INIT, ino = BUF_INIT;
		devino_arrays(f, m, &dev, &ino);
		if (!buf_ok(&dev) || !buf_ok(&ino)) {
			buf_free(&dev);
			buf_free(&ino);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		pg_params p = PG_PARAMS_INIT;
		pg_param_text(&p, dev.ptr);
		pg_param_text(&p, ino.ptr);
		pg_param_text(&p, algo_name(algo));
		PGresult *r =
		    pg_exec(s, "read the hash cache",
		            "SELECT h.dev, h.ino, h.size, h.mtime_ns, h.ctime_ns, h.digest"
		            " FROM unnest($1::bigint[], $2::bigint[]) AS f(dev, ino)"
		            " JOIN hash_cache h ON h.dev = f.dev AND h.ino = f.ino"
		            " AND h.algo = $3",
		            &p);
		buf_free(&dev);
		buf_free(&ino);
		if (!r)
			return cairn_error_last_code();
		for (int row = 0; row < pq.ntuples(r); row++) {
			int64_t d = pg_get_int(r, row, 0), i = pg_get_int(r, row, 1);
			const char *dg = pg_get_text(r, row, 5);
			if (!dg || strlen(dg) != hexlen)
				continue;
			/* hard links: every entry of the inode */
			for (size_t j = find_devino(f, m, d, i);
			     j < m && (int64_t)f[j]->dev == d && (int64_t)f[j]->ino == i; j++) {
				f[j]->size = pg_get_int(r, row, 2);
				f[j]->mtime_ns = pg_get_int(r, row, 3);
				f[j]->ctime_ns = pg_get_int(r, row, 4);
				memcpy(f[j]->digest, dg, hexlen + 1);
				f[j]->state = ENTRY_CANDIDATE;
				(*out_hits)++;
			}
		}
		pq.clear(r);
	}
	return 0;
}

int pg_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n)
{
	int rc;
	if (n == 0)
		return 0;
	qsort((void *)files, n, sizeof *files, cmp_devino);
	if ((rc = pg_begin(s)) != 0)
		return rc;
	for (size_t lo = 0; lo < n && rc == 0; lo += HASH_BATCH) {
		size_t m = n - lo < HASH_BATCH ? n - lo : HASH_BATCH;
		mentry **f = files + lo;
		buf a[6];
		bool first[6];
		for (int k = 0; k < 6; k++) {
			buf_init(&a[k]);
			if (k < 5)
				buf_putc(&a[k], '{');
			first[k] = true;
		}
		const char **digests = malloc(m * sizeof *digests);
		size_t nd = 0;
		for (size_t i = 0; digests && i < m; i++) {
			/* an inode once (the last entry of a hard-linked group wins) */
			if (i + 1 < m && f[i + 1]->dev == f[i]->dev && f[i + 1]->ino == f[i]->ino)
				continue;
			pg_array_int_add(&a[0], &first[0], (int64_t)f[i]->dev);
			pg_array_int_add(&a[1], &first[1], (int64_t)f[i]->ino);
			pg_array_int_add(&a[2], &first[2], f[i]->size);
			pg_array_int_add(&a[3], &first[3], f[i]->mtime_ns);
			pg_array_int_add(&a[4], &first[4], f[i]->ctime_ns);
			digests[nd++] = f[i]->digest;
		}
		if (digests)
			pg_array_text(&a[5], digests, nd);
		pg_params p = PG_PARAMS_INIT;
		bool ok = digests != NULL;
		for (int k = 0; k < 6; k++) {
			if (k < 5)
				buf_putc(&a[k], '}');
			ok &= buf_ok(&a[k]);
			pg_param_text(&p, a[k].ptr);
		}
		pg_param_text(&p, algo_name(algo));
		rc =
		    ok ? pg_run(
		             s, "update the hash cache",
		             "INSERT INTO hash_cache(dev, ino, size, mtime_ns, ctime_ns, digest, "
		             "algo)"
		             " SELECT d, i, sz, mt, ct, dg, $7 FROM unnest($1::bigint[], "
		             "$2::bigint[],"
		             " $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])"
		             " AS x(d, i, sz, mt, ct, dg) ON CONFLICT(dev, ino, algo) DO UPDATE SET"
		             " size = excluded.size, mtime_ns = excluded.mtime_ns,"
		             " ctime_ns = excluded.ctime_ns, digest = excluded.digest",
		             &p, NULL)
		       : err_set(CAIRN_ENOMEM, "out of memory");
		free(digests);
		for (int k = 0; k < 6; k++)
			buf_free(&a[k]);
	}
	if (rc) {
		pg_rollback(s);
		return rc;
	}
	return pg_commit(s);
}

/* --- datasets ---------------------------------------------------------------------------- */

int pg_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d)
{
	int rc;
	if ((rc = pg_refs_begin(s)) != 0)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, d->name);
	pg_param_text(&p, d->path);
	pg_param_text(&p, d->role);
	pg_param_text(&p, d->algo);
	pg_param_text(&p, d->digest);
	pg_param_int(&p, d->files);
	pg_param_int(&p, d->bytes);
	pg_param_text(&p, d->manifest_oid);
	pg_param_double(&p, store_now(s));
	if ((rc = pg_run(s, "record the dataset",
	                 "INSERT INTO datasets(rid, name, path, role, algo, digest, files, bytes,"
	                 " manifest_oid, created) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	                 " ON CONFLICT(rid, name) DO UPDATE SET path = excluded.path,"
	                 " role = excluded.role, algo = excluded.algo, digest = excluded.digest,"
	                 " files = excluded.files, bytes = excluded.bytes,"
	                 " manifest_oid = excluded.manifest_oid, created = excluded.created",
	                 &p, NULL)) != 0 ||
	    (d->manifest_oid && (rc = pg_object_ref(s, rid, d->manifest_oid)) != 0)) {
		pg_rollback(s);
		return rc;
	}
	return pg_commit(s);
}

static char *dup_or_null(const PGresult *r, int row, int col, bool *oom)
{
	const char *t = pg_get_text(r, row, col);
	if (!t)
		return NULL;
	char *d = strdup(t);
	if (!d)
		*oom = true;
	return d;
}

int pg_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out, size_t *out_n)
{
	*out = NULL;
	*out_n = 0;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, name);
	PGresult *r = pg_exec(s, "read the run's datasets",
	                      "SELECT name, path, role, algo, digest, files, bytes, manifest_oid"
	                      " FROM datasets WHERE rid = $1 AND ($2::text IS NULL OR name = $2)"
	                      " ORDER BY name",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	size_t n = (size_t)pq.ntuples(r);
	dataset_row *v = calloc(n ? n : 1, sizeof *v);
	bool oom = !v;
	for (size_t i = 0; v && i < n; i++) {
		int row = (int)i;
		v[i].name = dup_or_null(r, row, 0, &oom);
		v[i].path = dup_or_null(r, row, 1, &oom);
		v[i].role = dup_or_null(r, row, 2, &oom);
		v[i].algo = dup_or_null(r, row, 3, &oom);
		v[i].digest = dup_or_null(r, row, 4, &oom);
		v[i].files = pg_get_int(r, row, 5);
		v[i].bytes = pg_get_int(r, row, 6);
		v[i].manifest_oid = dup_or_null(r, row, 7, &oom);
	}
	pq.clear(r);
	if (oom) {
		dataset_rows_free(v, v ? n : 0);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = v;
	*out_n = n;
	return 0;
}

/* --- artifacts ------------------------------------------------------------------------------ */

int pg_artifact_put(cairn_store *s, int64_t rid, const char *path, const char *oid, int64_t size,
                    const char *media_type, const char *kind, const char *key, int64_t step)
{
	int rc;
	if ((rc = pg_refs_begin(s)) != 0)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, path);
	pg_param_text(&p, oid);
	pg_param_int(&p, size);
	pg_param_text(&p, media_type);
	pg_param_text(&p, kind);
	pg_param_text(&p, key);
	pg_param_int_or_null(&p, step != CAIRN_STEP_AUTO, step);
	pg_param_double(&p, store_now(s));
	/* the row and its object reference commit together */
	if ((rc = pg_object_check(s, oid)) != 0 ||
	    (rc = pg_run(s, "record the artifact",
	                 "INSERT INTO artifacts(rid, path, oid, size, media_type, kind, key, step,"
	                 " created) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
	                 " ON CONFLICT(rid, path) DO UPDATE SET oid = excluded.oid,"
	                 " size = excluded.size, media_type = excluded.media_type,"
	                 " kind = excluded.kind, key = excluded.key, step = excluded.step,"
	                 " created = excluded.created",
	                 &p, NULL)) != 0 ||
	    (rc = pg_object_ref(s, rid, oid)) != 0) {
		pg_rollback(s);
		return rc;
	}
	return pg_commit(s);
}

/* As SQLite's (sqlite/refs.c): the row of path or the rows under it, and
 * with keep the run's references no other record of the run names; left()
 * and length() count characters on both sides.  The shared objects lock
 * (pg_refs_begin) keeps a sweep out until the commit; the sweep also counts
 * an artifacts row as live, so a reference dropped while another server
 * logs the same bytes into the same run cannot lose them. */
#define PG_UNDER_PATH                                                                              \
	"rid = $1 AND ($2::text = '' OR path = $2::text OR left(path, length($2::text) + 1) = "    \
	"$2::text || '/')"

static int pg_unref_deleted(cairn_store *s, int64_t rid, const store_art_keep *keep, PGresult *r,
                            buf *orphans)
{
	pg_params c = PG_PARAMS_INIT;
	pg_param_int(&c, rid);
	PGresult *code =
	    pg_exec(s, "read the run's code record",
	            "SELECT coalesce(code_oid, '') FROM runs WHERE rid = $1 FOR UPDATE", &c);
	if (!code)
		return cairn_error_last_code();
	bool same = pq.ntuples(code) == 1 && strcmp(pg_get_text(code, 0, 0), keep->code_oid) == 0;
	pq.clear(code);
	if (!same)
		return err_set(CAIRN_ECONFLICT, "the run's code record changed during the delete");
	for (int i = 0; i < pq.ntuples(r); i++) {
		const char *oid = pg_get_text(r, i, 0);
		if (!oid || strlen(oid) != CAIRN_OID_HEXSZ || store_oid_listed(keep->oids, oid))
			continue;
		pg_params p = PG_PARAMS_INIT;
		pg_param_int(&p, rid);
		pg_param_text(&p, oid);
		int64_t n = 0;
		int rc = pg_run(
		    s, "drop the artifact's reference",
		    "DELETE FROM object_refs WHERE rid = $1 AND oid = $2"
		    " AND NOT EXISTS (SELECT 1 FROM artifacts WHERE rid = $1 AND oid = $2)"
		    " AND NOT EXISTS (SELECT 1 FROM datasets WHERE rid = $1 AND manifest_oid = $2)"
		    " AND NOT EXISTS (SELECT 1 FROM runs WHERE rid = $1 AND (code_oid = $2 OR "
		    "env_oid = $2))",
		    &p, &n);
		if (rc)
			return rc;
		if (n > 0 && orphans)
			buf_printf(orphans, "%s\n", oid);
	}
	return 0;
}

int pg_artifact_delete(cairn_store *s, int64_t rid, const char *path, const store_art_keep *keep,
                       int64_t *out_removed, buf *orphans)
{
	int rc = keep ? pg_refs_begin(s) : pg_begin(s);
	if (rc)
		return rc;
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, path);
	PGresult *r = pg_exec(s, "delete the artifact",
	                      "DELETE FROM artifacts WHERE " PG_UNDER_PATH " RETURNING oid", &p);
	if (!r) {
		rc = cairn_error_last_code();
		goto fail;
	}
	int64_t n = pq.ntuples(r);
	if (n == 0)
		rc = err_set(CAIRN_ENOTFOUND, "the run has no artifact '%s'", path);
	else if (keep)
		rc = pg_unref_deleted(s, rid, keep, r, orphans);
	pq.clear(r);
	if (rc)
		goto fail;
	if ((rc = pg_commit(s)) == 0 && out_removed)
		*out_removed = n;
	return rc;
fail:
	pg_rollback(s);
	return rc;
}

int pg_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                       char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, path);
	PGresult *r =
	    pg_exec(s, "look up the artifact",
	            "SELECT oid, size, media_type FROM artifacts WHERE rid = $1 AND path = $2", &p);
	if (!r)
		return cairn_error_last_code();
	int rc = 0;
	if (pq.ntuples(r) != 1) {
		rc = err_set(CAIRN_ENOTFOUND, "the run has no artifact '%s'", path);
	} else {
		const char *oid = pg_get_text(r, 0, 0), *media = pg_get_text(r, 0, 2);
		snprintf(out_oid, CAIRN_OID_HEXSZ + 1, "%s", oid ? oid : "");
		*out_size = pg_get_int(r, 0, 1);
		*out_media = strdup(media ? media : "application/octet-stream");
		if (!*out_media)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	pq.clear(r);
	return rc;
}
