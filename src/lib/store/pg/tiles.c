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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

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

int pg_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points, buf *b)
{
	int rc = 0;
	if (max_points < 2)
		max_points = 2;
	if (max_points > 1000000)
		max_points = 1000000;
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
	int64_t kid = pg_get_int(r, 0, 0);
	int64_t count = pg_get_int(r, 0, 1);
	int64_t hi_step = pg_get_int(r, 0, 2);
	int64_t lo_step = pg_get_int(r, 0, 3);
	pq.clear(r);
	bool sampled = count > (int64_t)max_points && hi_step > lo_step;
	uint64_t nbk = max_points / 2;
	bool tiles = sampled && ((uint64_t)hi_step - (uint64_t)lo_step) / nbk >= TILE_STEPS;
	pg_params q = PG_PARAMS_INIT;
	pg_param_int(&q, rid);
	pg_param_int(&q, kid);
	if (tiles)
		r = pg_exec(s, "read the metric history",
		            "SELECT tile, n, lo, lo_step, lo_ts, hi, hi_step, hi_ts, nan_step,"
		            " nan_ts FROM metric_tiles WHERE rid = $1 AND kid = $2 ORDER BY tile",
		            &q);
	else
		r = pg_exec(s, "read the metric history",
		            "SELECT step, ts, value FROM metric_points WHERE rid = $1 AND kid = $2"
		            " ORDER BY step, ts",
		            &q);
	if (!r)
		return cairn_error_last_code();
	int nrows = pq.ntuples(r);
	bool first = true, f = true;
	buf_putc(b, '{');
	json_key(b, &first, "key");
	json_str(b, key);
	size_t hdr = b->len; /* "count" and "sampled" follow the scan */
	buf_puts(b, ",\"points\":[");
	int64_t seen = 0;
	if (tiles) {
		int64_t t0 = lo_step >> TILE_SHIFT, t1 = hi_step >> TILE_SHIFT;
		unsigned __int128 ntiles = (unsigned __int128)(t1 - t0) + 1;
		int64_t cur = -1;
		bucket k;
		memset(&k, 0, sizeof k);
		seen = count;
		for (int i = 0; i < nrows; i++) {
			int64_t bi =
			    (int64_t)((unsigned __int128)(pg_get_int(r, i, 0) - t0) * nbk / ntiles);
			if (bi != cur) {
				bucket_flush(b, &f, &k);
				cur = bi;
			}
			if (!pg_isnull(r, i, 2)) {
				pt lo = {pg_get_int(r, i, 3), pg_get_int(r, i, 4),
				         pg_get_double(r, i, 2)};
				pt hi = {pg_get_int(r, i, 6), pg_get_int(r, i, 7),
				         pg_get_double(r, i, 5)};
				if (!k.has_val || lo.value < k.lo.value)
					k.lo = lo;
				if (!k.has_val || hi.value > k.hi.value)
					k.hi = hi;
				k.has_val = true;
			} else if (!pg_isnull(r, i, 8) && !k.has_nan) {
				k.nan = (pt){pg_get_int(r, i, 8), pg_get_int(r, i, 9), NAN};
				k.has_nan = true;
			}
		}
		bucket_flush(b, &f, &k);
	} else if (!sampled) {
		for (int i = 0; i < nrows; i++) {
			pt x = {pg_get_int(r, i, 0), pg_get_int(r, i, 1), pg_get_double(r, i, 2)};
			put_point(b, &f, &x);
			seen++;
		}
	} else {
		uint64_t nb = max_points / 2;
		unsigned __int128 span =
		    (unsigned __int128)((uint64_t)hi_step - (uint64_t)lo_step) + 1;
		uint64_t cur = UINT64_MAX;
		bucket k;
		memset(&k, 0, sizeof k);
		for (int i = 0; i < nrows; i++) {
			pt x = {pg_get_int(r, i, 0), pg_get_int(r, i, 1), pg_get_double(r, i, 2)};
			seen++;
			uint64_t bi =
			    (uint64_t)((unsigned __int128)((uint64_t)x.step - (uint64_t)lo_step) *
			               nb / span);
			if (bi != cur) {
				bucket_flush(b, &f, &k);
				cur = bi;
			}
			if (isnan(x.value)) {
				if (!k.has_nan) {
					k.nan = x;
					k.has_nan = true;
				}
			} else if (!k.has_val) {
				k.lo = k.hi = x;
				k.has_val = true;
			} else if (x.value < k.lo.value) {
				k.lo = x;
			} else if (x.value > k.hi.value) {
				k.hi = x;
			}
		}
		bucket_flush(b, &f, &k);
	}
	pq.clear(r);
	buf_puts(b, "]}");
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

int pg_tiles_fold(cairn_store *s, const mpoint *pts, size_t n)
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
	enum { NA = 12 };
	buf a[NA];
	bool f[NA];
	for (int k = 0; k < NA; k++) {
		buf_init(&a[k]);
		buf_putc(&a[k], '{');
		f[k] = true;
	}
	for (size_t i = 0; i < cap; i++) {
		tile_acc *t = &tab[i];
		if (!t->used)
			continue;
		pg_array_int_add(&a[0], &f[0], t->rid);
		pg_array_int_add(&a[1], &f[1], t->kid);
		pg_array_int_add(&a[2], &f[2], t->tile);
		pg_array_int_add(&a[3], &f[3], t->n);
		const pt *lh[2] = {&t->lo, &t->hi};
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
