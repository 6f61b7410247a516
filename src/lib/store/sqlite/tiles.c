/*
 * lib/store/sqlite/tiles.c — metric tiles (migration 3): per run, key and
 * 256-step tile, the number of points and the lowest, highest and first NaN
 * point.  A batch of points is folded into its tiles inside the
 * transaction that stores it (store_tiles_fold, from metrics.c), and a
 * thinned history (store_metric_sample_json) reads ~1/256 of a long series
 * from them when its buckets are at least a tile wide.
 *
 * Invariants relied on: metric_summary holds one row per (run, key) with
 * the series' count and highest step, so a sampled read knows its bucket
 * width before it scans; metric_points is clustered by (rid, kid, step,
 * ts), so one range scan yields a series in step order.
 * Thread-safety: called with the store's lock held (sqlite.h).
 */
#include "lib/store/sqlite/sqlite.h"
#include "lib/store/browse.h"
#include "lib/store/fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* --- sampled metric history (the bucketing is fold.c's) -------------------- */

/* A count of rows of (rid, kid) between a and b: sql binds ?1 rid, ?2 kid,
 * ?3 a, ?4 b. */
static int count_between(cairn_store *s, const char *sql, int64_t rid, int64_t kid, int64_t a,
                         int64_t b, int64_t *out)
{
	sqlite3_stmt *st = store_prep(s, sql);
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, kid);
	sqlite3_bind_int64(st, 3, a);
	sqlite3_bind_int64(st, 4, b);
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : store_sqlerr(s, "count the metric's points");
}

int sqlite_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                              int64_t from, int64_t to, buf *b)
{
	int r;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT m.kid, m.count, m.last_step, (SELECT min(step) FROM"
	                  " metric_points p WHERE p.rid = m.rid AND p.kid = m.kid)"
	                  " FROM metric_summary m JOIN keys k ON k.id = m.kid"
	                  " WHERE m.rid = ? AND k.name = ?");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, key);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE
		           ? err_set(CAIRN_ENOTFOUND, "the run has no metric '%s'", key)
		           : store_sqlerr(s, "read the metric summary");
	}
	int64_t kid = sqlite3_column_int64(st, 0), count = sqlite3_column_int64(st, 1);
	int64_t hi_step = sqlite3_column_int64(st, 2), lo_step = sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	sample w;
	int rc = 0;
	size_t mark = b->len;
	bool window = from != SAMPLE_ALL_FROM || to != SAMPLE_ALL_TO;
	if (window && !sample_window(&lo_step, &hi_step, from, to))
		count = 0; /* nothing in the window */
	else if (window)
		/* the whole tiles over the window first (a row per 256 steps); when
		 * the buckets turn out narrower than a tile, the window's points */
		rc = count_between(s,
		                   "SELECT coalesce(sum(n), 0) FROM metric_tiles WHERE rid = ?1 AND"
		                   " kid = ?2 AND tile BETWEEN ?3 AND ?4",
		                   rid, kid, lo_step >> TILE_SHIFT, hi_step >> TILE_SHIFT, &count);
	if (rc)
		return rc;
	sample_begin(&w, b, key, count, lo_step, hi_step, max_points);
	if (window && count > 0 && !w.tiles) {
		if ((rc = count_between(s,
		                        "SELECT count(*) FROM metric_points WHERE rid = ?1 AND"
		                        " kid = ?2 AND step BETWEEN ?3 AND ?4",
		                        rid, kid, lo_step, hi_step, &count)) != 0)
			return rc;
		b->len = mark;
		sample_begin(&w, b, key, count, lo_step, hi_step, max_points);
	}
	if (w.tiles)
		st = store_prep(
		    s, "SELECT tile, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts, nan_step,"
		       " nan_ts FROM metric_tiles WHERE rid = ?1 AND kid = ?2 AND tile BETWEEN ?3"
		       " AND ?4 ORDER BY tile");
	else
		st = store_prep(
		    s, "SELECT step, ts, value FROM metric_points WHERE rid = ?1 AND kid = ?2"
		       " AND step BETWEEN ?3 AND ?4 ORDER BY step, ts");
	if (!st)
		return cairn_error_last_code();
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, kid);
	sqlite3_bind_int64(st, 3, w.tiles ? lo_step >> TILE_SHIFT : lo_step);
	sqlite3_bind_int64(st, 4, w.tiles ? hi_step >> TILE_SHIFT : hi_step);
	while (count > 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if (w.tiles) {
			fold_tile t = {.tile = sqlite3_column_int64(st, 0)};
			t.has_val = sqlite3_column_type(st, 2) != SQLITE_NULL;
			t.lo = (fold_pt){sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
			                 sqlite3_column_double(st, 2)};
			t.hi = (fold_pt){sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
			                 sqlite3_column_double(st, 5)};
			t.has_nan = sqlite3_column_type(st, 8) != SQLITE_NULL;
			t.nan = (fold_pt){sqlite3_column_int64(st, 8), sqlite3_column_int64(st, 9),
			                  NAN};
			sample_tile(&w, &t);
		} else {
			fold_pt p = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			             store_column_double_nan(st, 2)};
			sample_point(&w, &p);
		}
	}
	sqlite3_reset(st);
	if (count > 0 && r != SQLITE_DONE)
		return store_sqlerr(s, "read the metric history");
	return sample_end(&w);
}

/* --- tiles ------------------------------------------------------------------ */

static void bind_pt(sqlite3_stmt *st, int i, const fold_pt *p, bool has)
{
	if (has) {
		sqlite3_bind_double(st, i, p->value);
		sqlite3_bind_int64(st, i + 1, p->step);
		sqlite3_bind_int64(st, i + 2, p->ts);
	} else {
		sqlite3_bind_null(st, i);
		sqlite3_bind_null(st, i + 1);
		sqlite3_bind_null(st, i + 2);
	}
}

int store_tiles_fold(cairn_store *s, const mpoint *pts, size_t n)
{
	/* One upsert per tile per batch, not per point (fold.h): a batch of 64k
	 * points of one series touches 256 tiles. */
	fold_tile *tab = NULL;
	size_t nt = 0;
	int rc = fold_tiles(pts, n, &tab, &nt);
	if (rc)
		return rc;
	sqlite3_stmt *st = store_prep(
	    s, "INSERT INTO metric_tiles(rid, kid, tile, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts,"
	       " nan_step, nan_ts) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
	       " ON CONFLICT(rid, kid, tile) DO UPDATE SET n = n + excluded.n,"
	       " lo = CASE WHEN excluded.lo < lo OR lo IS NULL THEN coalesce(excluded.lo, lo) ELSE "
	       "lo END,"
	       " lo_step = CASE WHEN excluded.lo < lo OR (lo IS NULL AND excluded.lo IS NOT NULL)"
	       "   THEN excluded.lo_step ELSE lo_step END,"
	       " lo_ts = CASE WHEN excluded.lo < lo OR (lo IS NULL AND excluded.lo IS NOT NULL)"
	       "   THEN excluded.lo_ts ELSE lo_ts END,"
	       " hi = CASE WHEN excluded.hi > hi OR hi IS NULL THEN coalesce(excluded.hi, hi) ELSE "
	       "hi END,"
	       " hi_step = CASE WHEN excluded.hi > hi OR (hi IS NULL AND excluded.hi IS NOT NULL)"
	       "   THEN excluded.hi_step ELSE hi_step END,"
	       " hi_ts = CASE WHEN excluded.hi > hi OR (hi IS NULL AND excluded.hi IS NOT NULL)"
	       "   THEN excluded.hi_ts ELSE hi_ts END,"
	       " nan_step = coalesce(nan_step, excluded.nan_step),"
	       " nan_ts = CASE WHEN nan_step IS NULL THEN excluded.nan_ts ELSE nan_ts END");
	if (!st) {
		free(tab);
		return cairn_error_last_code();
	}
	for (size_t i = 0; i < nt && rc == 0; i++) {
		const fold_tile *t = &tab[i];
		sqlite3_bind_int64(st, 1, t->rid);
		sqlite3_bind_int64(st, 2, t->kid);
		sqlite3_bind_int64(st, 3, t->tile);
		sqlite3_bind_int64(st, 4, t->n);
		bind_pt(st, 5, &t->lo, t->has_val);
		bind_pt(st, 8, &t->hi, t->has_val);
		if (t->has_nan) {
			sqlite3_bind_int64(st, 11, t->nan.step);
			sqlite3_bind_int64(st, 12, t->nan.ts);
		} else {
			sqlite3_bind_null(st, 11);
			sqlite3_bind_null(st, 12);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = store_sqlerr(s, "update metric tiles");
		sqlite3_reset(st);
	}
	free(tab);
	return rc;
}
