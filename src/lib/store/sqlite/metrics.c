/*
 * lib/store/sqlite/metrics.c — the SQLite backend's metric points: a
 * batch from the writer goes in as one transaction that also updates each
 * series' summary (one upsert per series per batch) and its tiles
 * (tiles.c); and the full history of a series.
 *
 * Invariants: metric_points is clustered by (rid, kid, step, ts);
 * metric_summary changes in the same transaction as the points, so reads
 * never scan points; its `last` is the value with the greatest (step, ts);
 * NaN is NULL and min/max ignore it.
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"
#include "lib/store/fold.h"

#include <math.h>
#include <stdlib.h>

#include "util/json.h"

int sqlite_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step)
{
	int rc = 0;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT last_step FROM metric_summary WHERE rid = ? AND kid = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, kid);
	*out_step = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out_step = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
done:
	return rc;
}

/* Points go in ROWS to a statement: one statement's fixed cost (a VDBE run,
 * cursor open and close, its allocations) was about half of a one-row
 * insert's (docs/internals/ingest.md). */
#define ROWS  32
#define ROW1  "(?, ?, ?, ?, ?)"
#define ROW4  ROW1 ", " ROW1 ", " ROW1 ", " ROW1
#define ROW16 ROW4 ", " ROW4 ", " ROW4 ", " ROW4
static const char insert_one[] = "INSERT OR REPLACE INTO metric_points(rid, kid, step, ts, value)"
                                 " VALUES" ROW1;
static const char insert_many[] = "INSERT OR REPLACE INTO metric_points(rid, kid, step, ts, value)"
                                  " VALUES" ROW16 ", " ROW16;

static void bind_point(sqlite3_stmt *st, int at, const mpoint *p)
{
	sqlite3_bind_int64(st, at + 1, p->rid);
	sqlite3_bind_int64(st, at + 2, p->kid);
	sqlite3_bind_int64(st, at + 3, p->step);
	sqlite3_bind_int64(st, at + 4, p->ts_ms);
	store_bind_double_nan(st, at + 5, p->value);
}

/* The batch's points, in the order fold_series_order gives (each series
 * together; within one, the order they came in, so a later duplicate of
 * (step, ts) still wins: the rows of one statement go in one by one). */
static int insert_points(cairn_store *s, const mpoint *pts, const size_t *ord, size_t n)
{
	size_t i = 0;
	sqlite3_stmt *st;
	if (n >= ROWS) {
		if (!(st = store_prep(s, insert_many)))
			return cairn_error_last_code();
		for (; i + ROWS <= n; i += ROWS) {
			for (int r = 0; r < ROWS; r++)
				bind_point(st, 5 * r, &pts[ord[i + (size_t)r]]);
			if (sqlite3_step(st) != SQLITE_DONE) {
				int rc = store_sqlerr(s, "store metric points");
				sqlite3_reset(st);
				return rc;
			}
			sqlite3_reset(st);
		}
	}
	if (i < n && !(st = store_prep(s, insert_one)))
		return cairn_error_last_code();
	for (; i < n; i++) {
		bind_point(st, 0, &pts[ord[i]]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			int rc = store_sqlerr(s, "store metric points");
			sqlite3_reset(st);
			return rc;
		}
		sqlite3_reset(st);
	}
	return 0;
}

int sqlite_metrics_insert(cairn_store *s, const mpoint *pts, size_t n)
{
	if (n == 0)
		return 0;
	/* One upsert per series per batch instead of one per point (fold.h). */
	fold_summary *tab = NULL;
	size_t ns = 0, *ord = NULL;
	mpoint *own = NULL;
	int rc = store_begin(s);
	if (rc)
		return rc;
	/* Default steps (fold.h): BEGIN IMMEDIATE holds the write lock, so the
	 * last steps read here are the last any process wrote. */
	if (fold_has_auto(pts, n)) {
		fold_series *ser = NULL;
		size_t nser = 0;
		rc = fold_series_sorted(pts, n, &ser, &nser);
		for (size_t i = 0; rc == 0 && i < nser; i++)
			rc = sqlite_metric_last_step(s, ser[i].rid, ser[i].kid, &ser[i].last);
		if (rc == 0)
			rc = fold_assign_steps(pts, n, ser, nser, &own);
		free(ser);
		if (rc)
			goto fail;
		pts = own;
	}
	if ((rc = fold_summaries(pts, n, &tab, &ns)) != 0 ||
	    (rc = fold_series_order(pts, n, &ord)) != 0)
		goto fail;
	if ((rc = insert_points(s, pts, ord, n)) != 0)
		goto fail;
	sqlite3_stmt *st = store_prep(
	    s,
	    "INSERT INTO metric_summary(rid, kid, last, last_step, last_ts, min, max, count)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(rid, kid) DO UPDATE SET"
	    " last = CASE WHEN excluded.last_step > last_step OR (excluded.last_step = last_step"
	    "   AND excluded.last_ts >= last_ts) THEN excluded.last ELSE last END,"
	    " last_ts = CASE WHEN excluded.last_step > last_step OR (excluded.last_step ="
	    "   last_step AND excluded.last_ts >= last_ts) THEN excluded.last_ts ELSE last_ts END,"
	    " last_step = max(last_step, excluded.last_step),"
	    " min = CASE WHEN min IS NULL OR excluded.min < min THEN coalesce(excluded.min, min)"
	    "   ELSE min END,"
	    " max = CASE WHEN max IS NULL OR excluded.max > max THEN coalesce(excluded.max, max)"
	    "   ELSE max END,"
	    " count = count + excluded.count");
	if (!st) {
		rc = cairn_error_last_code();
		goto fail;
	}
	for (size_t i = 0; i < ns; i++) {
		const fold_summary *e = &tab[i];
		sqlite3_bind_int64(st, 1, e->rid);
		sqlite3_bind_int64(st, 2, e->kid);
		store_bind_double_nan(st, 3, e->last);
		sqlite3_bind_int64(st, 4, e->last_step);
		sqlite3_bind_int64(st, 5, e->last_ts);
		if (e->has_minmax) {
			sqlite3_bind_double(st, 6, e->min);
			sqlite3_bind_double(st, 7, e->max);
		} else {
			sqlite3_bind_null(st, 6);
			sqlite3_bind_null(st, 7);
		}
		sqlite3_bind_int64(st, 8, e->count);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = store_sqlerr(s, "update metric summaries");
			sqlite3_reset(st);
			goto fail;
		}
		sqlite3_reset(st);
	}
	if ((rc = store_tiles_fold(s, pts, n)) != 0)
		goto fail;
	rc = store_commit(s);
	goto done;
fail:
	store_rollback(s);
done:
	free(own);
	free(ord);
	free(tab);
	return rc;
}

int sqlite_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out)
{
	int rc = 0, r;
	size_t cap = 0;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT m.step, m.ts, m.value FROM metric_points m"
	                  " WHERE m.rid = ? AND m.kid = (SELECT id FROM keys WHERE name = ?)"
	                  " ORDER BY m.step, m.ts");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, key);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			int64_t *ns = realloc(out->step, ncap * sizeof *ns);
			if (ns)
				out->step = ns;
			int64_t *nt = ns ? realloc(out->ts_ms, ncap * sizeof *nt) : NULL;
			if (nt)
				out->ts_ms = nt;
			double *nv = nt ? realloc(out->value, ncap * sizeof *nv) : NULL;
			if (nv)
				out->value = nv;
			if (!nv) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			cap = ncap;
		}
		out->step[out->n] = sqlite3_column_int64(st, 0);
		out->ts_ms[out->n] = sqlite3_column_int64(st, 1);
		out->value[out->n++] = store_column_double_nan(st, 2);
	}
	sqlite3_reset(st);
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_sqlerr(s, "read the metric history");
	if (rc || out->n) {
		out->known = out->n > 0;
		return rc;
	}
	/* an empty series, or no such metric? */
	st = store_prep(s, "SELECT 1 FROM metric_summary m JOIN keys k ON k.id = m.kid"
	                   " WHERE m.rid = ? AND k.name = ?");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, key);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_sqlerr(s, "read the metric history");
	out->known = r == SQLITE_ROW;
	return 0;
}
