/*
 * lib/store/sqlite/capture.c — the SQL of code and environment capture
 * (lib/store/capture.h; params in bulk are in params.c).  The code map
 * (migration 4) remembers which stored object holds a git blob's bytes, and
 * which object is the manifest of a committed tree, so capturing a run on a
 * known commit stores nothing new.
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int prep_fail(void)
{
	int rc = cairn_error_last_code();
	return rc ? rc : CAIRN_ESTORE;
}

int sqlite_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                        int64_t *out_sizes)
{
	int rc = 0;
	/* One read transaction around the lookups: thousands of point queries
	 * cost one snapshot instead of one each. */
	bool own = !store_in_txn(s);
	if (own && sqlite3_exec(store_sqlite_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = store_sqlerr(s, "read the code map");
		goto done;
	}
	sqlite3_stmt *st = store_prep(s, "SELECT oid, size FROM code_map WHERE key = ?");
	if (!st) {
		rc = prep_fail();
		goto end;
	}
	for (size_t i = 0; i < n; i++) {
		out_oids[i][0] = '\0';
		if (out_sizes)
			out_sizes[i] = -1;
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			const unsigned char *o = sqlite3_column_text(st, 0);
			if (o && strlen((const char *)o) == 64)
				memcpy(out_oids[i], o, 65);
			if (out_sizes)
				out_sizes[i] = sqlite3_column_int64(st, 1);
		} else if (r != SQLITE_DONE) {
			rc = store_sqlerr(s, "read the code map");
			sqlite3_reset(st);
			goto end;
		}
		sqlite3_reset(st);
	}
end:
	if (own)
		sqlite3_exec(store_sqlite_db(s), "COMMIT", NULL, NULL, NULL);
done:
	return rc;
}

int sqlite_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                        const int64_t *sizes, size_t n)
{
	int rc;
	if (n == 0)
		return 0;
	/* A map entry keeps its object from purge (except "tree…" hints), so it
	 * is a reference like any other: checked under the write lock. */
	if ((rc = store_refs_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st =
	    store_prep(s, "INSERT OR REPLACE INTO code_map(key, oid, size) VALUES(?, ?, ?)");
	if (!st) {
		rc = prep_fail();
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = store_object_check(s, oids[i])) != 0)
			goto fail;
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, oids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, sizes ? sizes[i] : 0);
		int r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r != SQLITE_DONE) {
			rc = store_sqlerr(s, "record the code map");
			goto fail;
		}
	}
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}

static int add_refs(cairn_store *s, int64_t rid, const char (*refs)[65], size_t nrefs)
{
	int rc = 0;
	for (size_t i = 0; i < nrefs && rc == 0; i++)
		if (refs[i][0])
			rc = sqlite_object_ref(s, rid, refs[i]);
	return rc;
}

int sqlite_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                        const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                        size_t nrefs)
{
	int rc;
	if ((rc = store_refs_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st =
	    store_prep(s, "UPDATE runs SET git_commit = ?, git_branch = ?,"
	                  " git_remote = ?, git_dirty = ?, code_oid = ? WHERE rid = ?");
	if (!st) {
		rc = prep_fail();
		goto fail;
	}
	store_bind_text(st, 1, commit);
	store_bind_text(st, 2, branch);
	store_bind_text(st, 3, remote);
	if (dirty < 0)
		sqlite3_bind_null(st, 4);
	else
		sqlite3_bind_int(st, 4, dirty != 0);
	store_bind_text(st, 5, code_oid);
	sqlite3_bind_int64(st, 6, rid);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "record the code version");
		goto fail;
	}
	if ((rc = add_refs(s, rid, refs, nrefs)) != 0)
		goto fail;
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}

int sqlite_run_env_set(cairn_store *s, int64_t rid, const char *env_oid)
{
	int rc;
	if ((rc = store_refs_begin(s)) != 0)
		goto done;
	/* both join this transaction: the column and its object reference */
	if ((rc = sqlite_run_set_text(s, rid, "env_oid", env_oid)) != 0 ||
	    (env_oid && (rc = sqlite_object_ref(s, rid, env_oid)) != 0))
		store_rollback(s);
	else
		rc = store_commit(s);
done:
	return rc;
}

int sqlite_run_code_oid(cairn_store *s, int64_t rid, char out[65])
{
	int rc = 0;
	out[0] = '\0';
	sqlite3_stmt *st = store_prep(s, "SELECT code_oid FROM runs WHERE rid = ?");
	if (!st) {
		rc = prep_fail();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const unsigned char *o = sqlite3_column_text(st, 0);
		if (o && strlen((const char *)o) == 64)
			memcpy(out, o, 65);
	} else if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "read the run");
	}
	sqlite3_reset(st);
done:
	return rc;
}

int sqlite_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                           int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz)
{
	int rc = 0;
	out[0] = '\0';
	sqlite3_stmt *st =
	    store_prep(s, "SELECT digest FROM hash_cache WHERE dev = ? AND ino = ? AND"
	                  " algo = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ?");
	if (!st) {
		rc = prep_fail();
		goto done;
	}
	sqlite3_bind_int64(st, 1, dev);
	sqlite3_bind_int64(st, 2, ino);
	sqlite3_bind_text(st, 3, algo, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_int64(st, 5, mtime_ns);
	sqlite3_bind_int64(st, 6, ctime_ns);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *d = sqlite3_column_text(st, 0);
		if (d)
			snprintf(out, outsz, "%s", (const char *)d);
	}
	sqlite3_reset(st);
done:
	return rc;
}

int sqlite_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                           int64_t mtime_ns, int64_t ctime_ns, const char *digest)
{
	int rc;
	if ((rc = store_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st =
	    store_prep(s, "INSERT OR REPLACE INTO hash_cache(dev, ino, algo, size,"
	                  " mtime_ns, ctime_ns, digest) VALUES(?, ?, ?, ?, ?, ?, ?)");
	if (!st) {
		rc = prep_fail();
		store_rollback(s);
		goto done;
	}
	sqlite3_bind_int64(st, 1, dev);
	sqlite3_bind_int64(st, 2, ino);
	sqlite3_bind_text(st, 3, algo, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_int64(st, 5, mtime_ns);
	sqlite3_bind_int64(st, 6, ctime_ns);
	sqlite3_bind_text(st, 7, digest, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "record a digest");
		store_rollback(s);
		goto done;
	}
	rc = store_commit(s);
done:
	return rc;
}
