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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* --- sampled metric history ------------------------------------------------- */

/* Tiles of metric_tiles (migration 3) span 256 steps: tile = step >> 8. */
#define TILE_SHIFT 8
#define TILE_STEPS (1 << TILE_SHIFT)

typedef struct pt {
	int64_t step, ts;
	double value;
} pt;

static void put_point(buf *b, bool *first, const pt *p)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	buf_putc(b, '[');
	json_int(b, p->step);
	buf_putc(b, ',');
	json_num(b, (double)p->ts / 1000.0);
	buf_putc(b, ',');
	json_num(b, p->value);
	buf_putc(b, ']');
}

typedef struct bucket {
	pt lo, hi, nan;
	bool has_val, has_nan;
} bucket;

/* Emit a bucket's kept points in step order: its minimum and maximum (once if
 * they are the same point), or its first NaN when it has no number. */
static size_t bucket_flush(buf *b, bool *first, bucket *k)
{
	size_t n = 0;
	if (k->has_val) {
		const pt *a = &k->lo, *c = &k->hi;
		bool same = a->step == c->step && a->ts == c->ts;
		if (c->step < a->step || (c->step == a->step && c->ts < a->ts)) {
			const pt *t = a;
			a = c;
			c = t;
		}
		put_point(b, first, a);
		n++;
		if (!same) {
			put_point(b, first, c);
			n++;
		}
	} else if (k->has_nan) {
		put_point(b, first, &k->nan);
		n++;
	}
	memset(k, 0, sizeof *k);
	return n;
}

static double col_value(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int sqlite_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                              buf *b)
{
	int rc = 0, r;
	if (max_points < 2)
		max_points = 2;
	if (max_points > 1000000)
		max_points = 1000000;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT m.kid, m.count, m.last_step, (SELECT min(step) FROM"
	                  " metric_points p WHERE p.rid = m.rid AND p.kid = m.kid)"
	                  " FROM metric_summary m JOIN keys k ON k.id = m.kid"
	                  " WHERE m.rid = ? AND k.name = ?");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, key);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		rc = r == SQLITE_DONE ? err_set(CAIRN_ENOTFOUND, "the run has no metric '%s'", key)
		                      : store_sqlerr(s, "read the metric summary");
		goto done;
	}
	int64_t kid = sqlite3_column_int64(st, 0);
	int64_t count = sqlite3_column_int64(st, 1);
	int64_t hi_step = sqlite3_column_int64(st, 2);
	int64_t lo_step = sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	bool sampled = count > (int64_t)max_points && hi_step > lo_step;
	/* Steps are in 0..INT64_MAX (checked where they enter), but differences
	 * are taken unsigned so that no stored value can make them overflow. */

	/* A bucket at least a tile wide is a whole number of tiles: read the
	 * tiles (1/256 of the points) instead of the points. */
	uint64_t nbk = max_points / 2;
	bool tiles = sampled && ((uint64_t)hi_step - (uint64_t)lo_step) / nbk >= TILE_STEPS;
	if (tiles)
		st = store_prep(
		    s, "SELECT tile, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts, nan_step,"
		       " nan_ts FROM metric_tiles WHERE rid = ? AND kid = ? ORDER BY tile");
	else
		st = store_prep(
		    s, "SELECT step, ts, value FROM metric_points WHERE rid = ? AND kid = ?"
		       " ORDER BY step, ts");
	if (!st) {
		rc = cairn_error_last_code();
		goto done;
	}
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, kid);
	bool first = true, f = true;
	buf_putc(b, '{');
	json_key(b, &first, "key");
	json_str(b, key);
	size_t hdr = b->len; /* "count" and "sampled" follow the scan */
	buf_puts(b, ",\"points\":[");
	int64_t seen = 0;
	if (tiles) {
		/* Tile i of ntiles goes to bucket i*nb/ntiles: buckets of whole
		 * tiles, as equal as tiles allow. */
		int64_t t0 = lo_step >> TILE_SHIFT, t1 = hi_step >> TILE_SHIFT;
		unsigned __int128 ntiles = (unsigned __int128)(t1 - t0) + 1;
		int64_t cur = -1;
		bucket k;
		memset(&k, 0, sizeof k);
		seen = count;
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t bi =
			    (int64_t)((unsigned __int128)(sqlite3_column_int64(st, 0) - t0) * nbk /
			              ntiles);
			if (bi != cur) {
				bucket_flush(b, &f, &k);
				cur = bi;
			}
			if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
				pt lo = {sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
				         sqlite3_column_double(st, 2)};
				pt hi = {sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
				         sqlite3_column_double(st, 5)};
				if (!k.has_val || lo.value < k.lo.value)
					k.lo = lo;
				if (!k.has_val || hi.value > k.hi.value)
					k.hi = hi;
				k.has_val = true;
			} else if (sqlite3_column_type(st, 8) != SQLITE_NULL && !k.has_nan) {
				k.nan = (pt){sqlite3_column_int64(st, 8),
				             sqlite3_column_int64(st, 9), NAN};
				k.has_nan = true;
			}
		}
		bucket_flush(b, &f, &k);
	} else if (!sampled) {
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			pt p = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			        col_value(st, 2)};
			put_point(b, &f, &p);
			seen++;
		}
	} else {
		/* Bucket i covers steps [lo + i*span/nb, lo + (i+1)*span/nb). */
		uint64_t nb = max_points / 2;
		unsigned __int128 span =
		    (unsigned __int128)((uint64_t)hi_step - (uint64_t)lo_step) + 1;
		uint64_t cur = UINT64_MAX;
		bucket k;
		memset(&k, 0, sizeof k);
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			pt p = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			        col_value(st, 2)};
			seen++;
			uint64_t bi =
			    (uint64_t)((unsigned __int128)((uint64_t)p.step - (uint64_t)lo_step) *
			               nb / span);
			if (bi != cur) {
				bucket_flush(b, &f, &k);
				cur = bi;
			}
			if (isnan(p.value)) {
				if (!k.has_nan) {
					k.nan = p;
					k.has_nan = true;
				}
			} else if (!k.has_val) {
				k.lo = k.hi = p;
				k.has_val = true;
			} else if (p.value < k.lo.value) {
				k.lo = p;
			} else if (p.value > k.hi.value) {
				k.hi = p;
			}
		}
		bucket_flush(b, &f, &k);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_sqlerr(s, "read the metric history");
		goto done;
	}
	buf_puts(b, "]}");
	/* Splice "count" and "sampled" in after the key (known only now). */
	char extra[96];
	int n = snprintf(extra, sizeof extra, ",\"count\":%lld,\"sampled\":%s", (long long)seen,
	                 sampled ? "true" : "false");
	buf_grow(b, (size_t)n);
	if (buf_ok(b)) {
		memmove(b->ptr + hdr + n, b->ptr + hdr, b->len - hdr + 1);
		memcpy(b->ptr + hdr, extra, (size_t)n);
		b->len += (size_t)n;
	} else {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
done:
	return rc;
}

/* --- tiles ------------------------------------------------------------------ */

typedef struct tile_acc {
	int64_t rid, kid, tile, n;
	pt lo, hi, nan;
	bool used, has_val, has_nan;
} tile_acc;

static size_t tile_hash(int64_t rid, int64_t kid, int64_t tile)
{
	uint64_t h = (uint64_t)rid * 0x9E3779B97F4A7C15ull ^ (uint64_t)kid * 0xC2B2AE3D27D4EB4Full ^
	             (uint64_t)tile * 0x165667B19E3779F9ull;
	return (size_t)(h ^ (h >> 31));
}

static void bind_pt(sqlite3_stmt *st, int i, const pt *p, bool has)
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
	/* Fold the batch per (run, key, tile) first: one upsert per tile per
	 * batch, not per point (a batch of 64k points of one series touches 256
	 * tiles). */
	size_t cap = 64;
	while (cap < n * 2 && cap < (1u << 20))
		cap *= 2;
	tile_acc *tab = calloc(cap, sizeof *tab);
	size_t used = 0;
	if (!tab)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const mpoint *p = &pts[i];
		int64_t tile = p->step >> TILE_SHIFT;
		if (used + 1 > cap * 3 / 4) {
			size_t ncap = cap * 2;
			tile_acc *nt = calloc(ncap, sizeof *nt);
			if (!nt) {
				free(tab);
				return err_set(CAIRN_ENOMEM, "out of memory");
			}
			for (size_t j = 0; j < cap; j++) {
				if (!tab[j].used)
					continue;
				size_t h =
				    tile_hash(tab[j].rid, tab[j].kid, tab[j].tile) & (ncap - 1);
				while (nt[h].used)
					h = (h + 1) & (ncap - 1);
				nt[h] = tab[j];
			}
			free(tab);
			tab = nt;
			cap = ncap;
		}
		size_t h = tile_hash(p->rid, p->kid, tile) & (cap - 1);
		while (tab[h].used &&
		       (tab[h].rid != p->rid || tab[h].kid != p->kid || tab[h].tile != tile))
			h = (h + 1) & (cap - 1);
		tile_acc *t = &tab[h];
		if (!t->used) {
			t->used = true;
			t->rid = p->rid;
			t->kid = p->kid;
			t->tile = tile;
			used++;
		}
		t->n++;
		pt q = {p->step, p->ts_ms, p->value};
		if (isnan(p->value)) {
			if (!t->has_nan) {
				t->nan = q;
				t->has_nan = true;
			}
		} else {
			if (!t->has_val || q.value < t->lo.value)
				t->lo = q;
			if (!t->has_val || q.value > t->hi.value)
				t->hi = q;
			t->has_val = true;
		}
	}
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
	for (size_t i = 0; i < cap && rc == 0; i++) {
		tile_acc *t = &tab[i];
		if (!t->used)
			continue;
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
