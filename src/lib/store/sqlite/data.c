/*
 * lib/store/sqlite/data.c — the SQL of data versions: the hash cache and the
 * datasets table (schema in store.c, migration 1).
 *
 * The hash cache maps (dev, ino, algo) to the file's size, mtime, ctime and
 * digest at the time it was read.  A lookup returns candidates; the hash
 * engine counts one as a hit only when a fresh stat agrees on all three.  Large lookups are merge
 * joins: the entries are sorted by (dev, ino) and compared with range scans of the primary key, one
 * scan per cluster of nearby inodes, so looking up 100,000 files reads 100,000 rows in order
 * instead of running 100,000 queries (docs/internals/data.md). dev and ino are stored as SQLite's
 * signed 64-bit integers (the bits of the unsigned values); entries are sorted the same way so the
 * join agrees with the index order.
 *
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"

/* Below this many files a lookup is one indexed query per file. */
#define POINT_LOOKUP_MAX 512
/* Inodes further apart than this start a new range scan. */
#define RANGE_GAP 4096

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int cmp_devino(const void *a, const void *b)
{
	const mentry *x = *(mentry *const *)a, *y = *(mentry *const *)b;
	int64_t dx = (int64_t)x->dev, dy = (int64_t)y->dev;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	int64_t ix = (int64_t)x->ino, iy = (int64_t)y->ino;
	return (ix > iy) - (ix < iy);
}

/* Copy one cache row into an entry as a candidate (stat confirms later). */
static bool apply_row(mentry *e, sqlite3_stmt *st, int c0, size_t hexlen)
{
	const char *d = col(st, c0 + 3);
	if (!d || (size_t)sqlite3_column_bytes(st, c0 + 3) != hexlen)
		return false;
	e->size = sqlite3_column_int64(st, c0);
	e->mtime_ns = sqlite3_column_int64(st, c0 + 1);
	e->ctime_ns = sqlite3_column_int64(st, c0 + 2);
	memcpy(e->digest, d, hexlen + 1);
	e->state = ENTRY_CANDIDATE;
	return true;
}

static int lookup_points(cairn_store *s, const char *algo, mentry **files, size_t n, size_t hexlen,
                         int64_t *hits)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st =
		    store_prep(s, "SELECT size, mtime_ns, ctime_ns, digest FROM hash_cache"
		                  " WHERE dev = ? AND ino = ? AND algo = ?");
		if (!st)
			return cairn_error_last_code();
		sqlite3_bind_int64(st, 1, (int64_t)files[i]->dev);
		sqlite3_bind_int64(st, 2, (int64_t)files[i]->ino);
		store_bind_text(st, 3, algo);
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW && apply_row(files[i], st, 0, hexlen))
			(*hits)++;
		sqlite3_reset(st);
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			return store_sqlerr(s, "read the hash cache");
	}
	return 0;
}

/* files[lo, hi) share one device and lie within RANGE_GAP of each other. */
static int lookup_range(cairn_store *s, const char *algo, mentry **files, size_t lo, size_t hi,
                        size_t hexlen, int64_t *hits)
{
	sqlite3_stmt *st =
	    store_prep(s, "SELECT ino, size, mtime_ns, ctime_ns, digest FROM hash_cache"
	                  " WHERE dev = ? AND ino BETWEEN ? AND ? AND algo = ?");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, (int64_t)files[lo]->dev);
	sqlite3_bind_int64(st, 2, (int64_t)files[lo]->ino);
	sqlite3_bind_int64(st, 3, (int64_t)files[hi - 1]->ino);
	store_bind_text(st, 4, algo);
	size_t i = lo;
	int r = SQLITE_DONE;
	while (i < hi && (r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ino = sqlite3_column_int64(st, 0);
		while (i < hi && (int64_t)files[i]->ino < ino)
			i++;
		/* Hard links: several entries may share the inode. */
		for (size_t j = i; j < hi && (int64_t)files[j]->ino == ino; j++)
			if (apply_row(files[j], st, 1, hexlen))
				(*hits)++;
	}
	if (i < hi && r != SQLITE_DONE && r != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_sqlerr(s, "read the hash cache");
	}
	sqlite3_reset(st);
	return 0;
}

int sqlite_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                             int64_t *out_hits)
{
	int rc = 0;
	size_t hexlen = algo_hexlen(algo);
	const char *name = algo_name(algo);
	*out_hits = 0;
	if (n == 0)
		return 0;
	if (n <= POINT_LOOKUP_MAX) {
		rc = lookup_points(s, name, files, n, hexlen, out_hits);
		goto done;
	}
	/* A device the cache knows nothing of (a first hash) needs no join. */
	bool any = false;
	for (size_t i = 0; i < n && !any; i++) {
		if (i > 0 && files[i]->dev == files[i - 1]->dev)
			continue;
		sqlite3_stmt *st = store_prep(s, "SELECT 1 FROM hash_cache WHERE dev = ? LIMIT 1");
		if (!st) {
			rc = cairn_error_last_code();
			goto done;
		}
		sqlite3_bind_int64(st, 1, (int64_t)files[i]->dev);
		any = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
	}
	if (!any)
		goto done;
	qsort(files, n, sizeof *files, cmp_devino);
	/* One read transaction around all range scans: a consistent view, and
	 * no per-statement lock round trips. */
	bool own = !store_in_txn(s);
	if (own && sqlite3_exec(store_sqlite_db(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = store_sqlerr(s, "read the hash cache");
		goto done;
	}
	size_t lo = 0;
	while (lo < n && rc == 0) {
		size_t hi = lo + 1;
		while (hi < n && files[hi]->dev == files[lo]->dev &&
		       files[hi]->ino - files[hi - 1]->ino <= RANGE_GAP)
			hi++;
		if (hi - lo < 8)
			rc = lookup_points(s, name, files + lo, hi - lo, hexlen, out_hits);
		else
			rc = lookup_range(s, name, files, lo, hi, hexlen, out_hits);
		lo = hi;
	}
	if (own)
		sqlite3_exec(store_sqlite_db(s), "COMMIT", NULL, NULL, NULL);
done:
	return rc;
}

static void bind_row(sqlite3_stmt *st, int base, const char *algo, const mentry *e)
{
	sqlite3_bind_int64(st, base + 1, (int64_t)e->dev);
	sqlite3_bind_int64(st, base + 2, (int64_t)e->ino);
	sqlite3_bind_text(st, base + 3, algo, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, base + 4, e->size);
	sqlite3_bind_int64(st, base + 5, e->mtime_ns);
	sqlite3_bind_int64(st, base + 6, e->ctime_ns);
	sqlite3_bind_text(st, base + 7, e->digest, -1, SQLITE_STATIC);
}

#define ROW       "(?, ?, ?, ?, ?, ?, ?)"
#define ROWS4     ROW "," ROW "," ROW "," ROW
#define ROWS16    ROWS4 "," ROWS4 "," ROWS4 "," ROWS4
#define PUT_MULTI 32 /* rows per statement: a third less time than one by one */

int sqlite_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n)
{
	int rc = 0;
	const char *name = algo_name(algo);
	if (n == 0)
		return 0;
	/* In index order the inserts append to the b-tree instead of splitting
	 * pages all over it (a third faster for 100,000 rows). */
	qsort((void *)files, n, sizeof *files, cmp_devino);
	if ((rc = store_begin(s)) != 0)
		goto done;
	size_t i = 0;
	while (i < n) {
		bool multi = n - i >= PUT_MULTI;
		sqlite3_stmt *st =
		    multi ? store_prep(s, "INSERT OR REPLACE INTO hash_cache(dev, ino, algo, size,"
		                          " mtime_ns, ctime_ns, digest) VALUES " ROWS16 "," ROWS16)
		          : store_prep(s, "INSERT OR REPLACE INTO hash_cache(dev, ino, algo, size,"
		                          " mtime_ns, ctime_ns, digest) VALUES " ROW);
		if (!st) {
			rc = cairn_error_last_code();
			goto fail;
		}
		size_t k = multi ? PUT_MULTI : 1;
		for (size_t r = 0; r < k; r++)
			bind_row(st, (int)r * 7, name, files[i + r]);
		int r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r != SQLITE_DONE) {
			rc = store_sqlerr(s, "update the hash cache");
			goto fail;
		}
		i += k;
	}
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}

int sqlite_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d)
{
	int rc;
	if ((rc = store_refs_begin(s)) != 0)
		goto done;
	sqlite3_stmt *st =
	    store_prep(s, "INSERT OR REPLACE INTO datasets(rid, name, path, role, algo,"
	                  " digest, files, bytes, manifest_oid, created)"
	                  " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, d->name);
	store_bind_text(st, 3, d->path);
	store_bind_text(st, 4, d->role);
	store_bind_text(st, 5, d->algo);
	store_bind_text(st, 6, d->digest);
	sqlite3_bind_int64(st, 7, d->files);
	sqlite3_bind_int64(st, 8, d->bytes);
	store_bind_text(st, 9, d->manifest_oid);
	sqlite3_bind_double(st, 10, store_now(s));
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "record the dataset");
		goto fail;
	}
	if (d->manifest_oid && (rc = sqlite_object_ref(s, rid, d->manifest_oid)) != 0)
		goto fail;
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	return rc;
}

static char *dup_col(sqlite3_stmt *st, int i, bool *oom)
{
	const char *t = col(st, i);
	if (!t)
		return NULL;
	char *d = strdup(t);
	if (!d)
		*oom = true;
	return d;
}

int sqlite_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out,
                        size_t *out_n)
{
	int rc = 0;
	dataset_row *v = NULL;
	size_t n = 0, cap = 0;
	bool oom = false;
	*out = NULL;
	*out_n = 0;
	sqlite3_stmt *st = store_prep(s, "SELECT name, path, role, algo, digest, files, bytes,"
	                                 " manifest_oid FROM datasets WHERE rid = ?1"
	                                 " AND (?2 IS NULL OR name = ?2) ORDER BY name");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, name);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			dataset_row *nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				oom = true;
				break;
			}
			v = nv;
			cap = ncap;
		}
		dataset_row *d = &v[n++];
		d->name = dup_col(st, 0, &oom);
		d->path = dup_col(st, 1, &oom);
		d->role = dup_col(st, 2, &oom);
		d->algo = dup_col(st, 3, &oom);
		d->digest = dup_col(st, 4, &oom);
		d->files = sqlite3_column_int64(st, 5);
		d->bytes = sqlite3_column_int64(st, 6);
		d->manifest_oid = dup_col(st, 7, &oom);
	}
	sqlite3_reset(st);
	if (oom)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	else if (r != SQLITE_DONE && r != SQLITE_ROW)
		rc = store_sqlerr(s, "read the run's datasets");
done:
	if (rc) {
		dataset_rows_free(v, n);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}
