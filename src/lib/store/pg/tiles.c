/*
 * lib/store/pg/tiles.c — metric tiles on PostgreSQL (as sqlite/tiles.c):
 * per run, key and 256-step tile, the number of points and the lowest,
 * highest and first NaN point.  A batch of points is folded into its tiles
 * in C, inside the transaction that stores it (pg_tiles_fold, from
 * metrics.c), and the tiles go in as one multi-row upsert (unnest of array
 * parameters); a thinned history (metric_sample_json) reads ~1/256 of a
 * long series from them when its buckets are at least a tile wide.  The
 * sampling is the SQLite backend's, point for point, so both answer alike.
 * Thread-safety: called with the store's lock held (pg.h).
 */
#include "lib/store/pg/pg.h"
#include "lib/store/browse.h"
#include "lib/store/fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* --- sampled metric history (the bucketing is fold.c's) -------------------- */

/* One number from sql over (rid, kid) and a..b ($1..$4). */
static int pg_count_between(cairn_store *s, const char *sql, int64_t rid, int64_t kid, int64_t a,
                            int64_t b, int64_t *out)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_int(&p, kid);
	pg_param_int(&p, a);
	pg_param_int(&p, b);
	PGresult *r = pg_exec(s, "count the metric's points", sql, &p);
	if (!r)
		return cairn_error_last_code();
	*out = pq.ntuples(r) == 1 ? pg_get_int(r, 0, 0) : 0;
	pq.clear(r);
	return 0;
}

int pg_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                          int64_t from, int64_t to, buf *b)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_int(&p, rid);
	pg_param_text(&p, key);
	PGresult *r = pg_exec(s, "read the metric summary",
	                      "SELECT m.kid, m.count, m.last_step, (SELECT min(step) FROM"
	                      " metric_points q WHERE q.rid = m.rid AND q.kid = m.kid)"
	                      " FROM metric_summary m JOIN keys k ON k.id = m.kid"
	                      " WHERE m.rid = $1 AND k.name = $2",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	if (pq.ntuples(r) != 1) {
		pq.clear(r);
		return err_set(CAIRN_ENOTFOUND, "the run has no metric '%s'", key);
	}
	int64_t kid = pg_get_int(r, 0, 0), count = pg_get_int(r, 0, 1);
	int64_t hi_step = pg_get_int(r, 0, 2), lo_step = pg_get_int(r, 0, 3);
	pq.clear(r);
	sample w;
	int rc = 0;
	size_t mark = b->len;
	/* a window: as the SQLite store does (sqlite/tiles.c) */
	bool window = from != SAMPLE_ALL_FROM || to != SAMPLE_ALL_TO;
	if (window && !sample_window(&lo_step, &hi_step, from, to))
		count = 0;
	else if (window)
		rc = pg_count_between(s,
		                      "SELECT coalesce(sum(n), 0)::int8 FROM metric_tiles WHERE"
		                      " rid = $1 AND kid = $2 AND tile BETWEEN $3 AND $4",
		                      rid, kid, lo_step >> TILE_SHIFT, hi_step >> TILE_SHIFT,
		                      &count);
	if (rc)
		return rc;
	sample_begin(&w, b, key, count, lo_step, hi_step, max_points);
	if (window && count > 0 && !w.tiles) {
		if ((rc = pg_count_between(s,
		                           "SELECT count(*) FROM metric_points WHERE rid = $1 AND"
		                           " kid = $2 AND step BETWEEN $3 AND $4",
		                           rid, kid, lo_step, hi_step, &count)) != 0)
			return rc;
		b->len = mark;
		sample_begin(&w, b, key, count, lo_step, hi_step, max_points);
	}
	if (count == 0)
		return sample_end(&w);
	pg_params q = PG_PARAMS_INIT;
	pg_param_int(&q, rid);
	pg_param_int(&q, kid);
	pg_param_int(&q, w.tiles ? lo_step >> TILE_SHIFT : lo_step);
	pg_param_int(&q, w.tiles ? hi_step >> TILE_SHIFT : hi_step);
	if (w.tiles)
		r = pg_exec(s, "read the metric history",
		            "SELECT tile, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts, nan_step,"
		            " nan_ts FROM metric_tiles WHERE rid = $1 AND kid = $2 AND tile"
		            " BETWEEN $3 AND $4 ORDER BY tile",
		            &q);
	else
		r = pg_exec(s, "read the metric history",
		            "SELECT step, ts, value FROM metric_points WHERE rid = $1 AND kid = $2"
		            " AND step BETWEEN $3 AND $4 ORDER BY step, ts",
		            &q);
	if (!r)
		return cairn_error_last_code();
	int nrows = pq.ntuples(r);
	for (int i = 0; i < nrows; i++) {
		if (w.tiles) {
			fold_tile t = {.tile = pg_get_int(r, i, 0)};
			t.has_val = !pg_isnull(r, i, 2);
			t.lo = (fold_pt){pg_get_int(r, i, 3), pg_get_int(r, i, 4),
			                 pg_get_double(r, i, 2)};
			t.hi = (fold_pt){pg_get_int(r, i, 6), pg_get_int(r, i, 7),
			                 pg_get_double(r, i, 5)};
			t.has_nan = !pg_isnull(r, i, 8);
			t.nan = (fold_pt){pg_get_int(r, i, 8), pg_get_int(r, i, 9), NAN};
			sample_tile(&w, &t);
		} else {
			fold_pt x = {pg_get_int(r, i, 0), pg_get_int(r, i, 1),
			             pg_get_double(r, i, 2)};
			sample_point(&w, &x);
		}
	}
	pq.clear(r);
	return sample_end(&w);
}

/* --- tiles ------------------------------------------------------------------ */

int pg_tiles_fold(cairn_store *s, const mpoint *pts, size_t n)
{
	/* One upsert per tile per batch, not per point (fold.h): the batch's
	 * tiles go in as one multi-row upsert of array parameters. */
	fold_tile *tab = NULL;
	size_t nt = 0;
	int rc = fold_tiles(pts, n, &tab, &nt);
	if (rc)
		return rc;
	enum { NA = 12 };
	buf a[NA];
	bool f[NA];
	for (int k = 0; k < NA; k++) {
		buf_init(&a[k]);
		buf_putc(&a[k], '{');
		f[k] = true;
	}
	for (size_t i = 0; i < nt; i++) {
		const fold_tile *t = &tab[i];
		pg_array_int_add(&a[0], &f[0], t->rid);
		pg_array_int_add(&a[1], &f[1], t->kid);
		pg_array_int_add(&a[2], &f[2], t->tile);
		pg_array_int_add(&a[3], &f[3], t->n);
		const fold_pt *lh[2] = {&t->lo, &t->hi};
		for (int j = 0; j < 2; j++) {
			pg_array_double_add(&a[4 + 3 * j], &f[4 + 3 * j],
			                    t->has_val ? lh[j]->value : NAN);
			if (t->has_val) {
				pg_array_int_add(&a[5 + 3 * j], &f[5 + 3 * j], lh[j]->step);
				pg_array_int_add(&a[6 + 3 * j], &f[6 + 3 * j], lh[j]->ts);
			} else {
				pg_array_double_add(&a[5 + 3 * j], &f[5 + 3 * j], NAN);
				pg_array_double_add(&a[6 + 3 * j], &f[6 + 3 * j], NAN);
			}
		}
		if (t->has_nan) {
			pg_array_int_add(&a[10], &f[10], t->nan.step);
			pg_array_int_add(&a[11], &f[11], t->nan.ts);
		} else {
			pg_array_double_add(&a[10], &f[10], NAN);
			pg_array_double_add(&a[11], &f[11], NAN);
		}
	}
	free(tab);
	pg_params p = PG_PARAMS_INIT;
	bool ok = true;
	for (int k = 0; k < NA; k++) {
		buf_putc(&a[k], '}');
		ok &= buf_ok(&a[k]);
		pg_param_text(&p, a[k].ptr);
	}
	rc = ok ? pg_run(
	              s, "update metric tiles",
	              "INSERT INTO metric_tiles AS t(rid, kid, tile, n, lo, lo_step, lo_ts, hi,"
	              " hi_step, hi_ts, nan_step, nan_ts) SELECT * FROM unnest($1::bigint[],"
	              " $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::bigint[],"
	              " $7::bigint[], $8::float8[], $9::bigint[], $10::bigint[], $11::bigint[],"
	              " $12::bigint[]) ON CONFLICT(rid, kid, tile) DO UPDATE SET n = t.n + "
	              "excluded.n,"
	              " lo = CASE WHEN excluded.lo < t.lo OR t.lo IS NULL"
	              "   THEN coalesce(excluded.lo, t.lo) ELSE t.lo END,"
	              " lo_step = CASE WHEN excluded.lo < t.lo OR (t.lo IS NULL AND excluded.lo IS"
	              "   NOT NULL) THEN excluded.lo_step ELSE t.lo_step END,"
	              " lo_ts = CASE WHEN excluded.lo < t.lo OR (t.lo IS NULL AND excluded.lo IS"
	              "   NOT NULL) THEN excluded.lo_ts ELSE t.lo_ts END,"
	              " hi = CASE WHEN excluded.hi > t.hi OR t.hi IS NULL"
	              "   THEN coalesce(excluded.hi, t.hi) ELSE t.hi END,"
	              " hi_step = CASE WHEN excluded.hi > t.hi OR (t.hi IS NULL AND excluded.hi IS"
	              "   NOT NULL) THEN excluded.hi_step ELSE t.hi_step END,"
	              " hi_ts = CASE WHEN excluded.hi > t.hi OR (t.hi IS NULL AND excluded.hi IS"
	              "   NOT NULL) THEN excluded.hi_ts ELSE t.hi_ts END,"
	              " nan_step = coalesce(t.nan_step, excluded.nan_step),"
	              " nan_ts = CASE WHEN t.nan_step IS NULL THEN excluded.nan_ts ELSE t.nan_ts "
	              "END",
	              &p, NULL)
	        : err_set(CAIRN_ENOMEM, "out of memory");
	for (int k = 0; k < NA; k++)
		buf_free(&a[k]);
	return rc;
}
