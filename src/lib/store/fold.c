/*
 * lib/store/fold.c — folding metric points into summaries and tiles, and
 * thinning a history into buckets: the C half of the metric paths that
 * every backend shares (fold.h).
 */
#include "lib/store/fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* --- folding a batch ------------------------------------------------------------ */

/* An open-addressed index over (rid, kid, tile) into a compact array of
 * entries of `size` bytes whose first three fields are those int64_t. */
typedef struct index {
	size_t *slot; /* entry number + 1, 0 when free */
	size_t cap, n;
	char *v;
	size_t size;
} fold_index;

static size_t key_hash(int64_t rid, int64_t kid, int64_t tile)
{
	uint64_t h = (uint64_t)rid * 0x9E3779B97F4A7C15ull ^ (uint64_t)kid * 0xC2B2AE3D27D4EB4Full ^
	             (uint64_t)tile * 0x165667B19E3779F9ull;
	return (size_t)(h ^ (h >> 31));
}

static const int64_t *entry_key(const fold_index *x, size_t i)
{
	return (const int64_t *)(x->v + i * x->size);
}

/* The entry of the key, made zeroed (with its key) when new; NULL on OOM. */
static void *index_get(fold_index *x, int64_t rid, int64_t kid, int64_t tile, bool *fresh)
{
	if ((x->n + 1) * 4 > x->cap * 3) {
		size_t nc = x->cap ? x->cap * 2 : 64;
		size_t *ns = calloc(nc, sizeof *ns);
		char *nv = realloc(x->v, nc * x->size);
		if (!ns || !nv) {
			free(ns);
			if (nv)
				x->v = nv;
			return NULL;
		}
		x->v = nv;
		for (size_t i = 0; i < x->n; i++) {
			const int64_t *k = entry_key(x, i);
			size_t h = key_hash(k[0], k[1], k[2]) & (nc - 1);
			while (ns[h])
				h = (h + 1) & (nc - 1);
			ns[h] = i + 1;
		}
		free(x->slot);
		x->slot = ns;
		x->cap = nc;
	}
	size_t h = key_hash(rid, kid, tile) & (x->cap - 1);
	for (; x->slot[h]; h = (h + 1) & (x->cap - 1)) {
		const int64_t *k = entry_key(x, x->slot[h] - 1);
		if (k[0] == rid && k[1] == kid && k[2] == tile) {
			*fresh = false;
			return x->v + (x->slot[h] - 1) * x->size;
		}
	}
	x->slot[h] = ++x->n;
	int64_t *k = (int64_t *)(x->v + (x->n - 1) * x->size);
	memset(k, 0, x->size);
	k[0] = rid;
	k[1] = kid;
	k[2] = tile;
	*fresh = true;
	return k;
}

/* A summary keyed by (rid, kid, 0) for the index: the tile slot is a pad. */
typedef struct summary_entry {
	int64_t rid, kid, pad;
	fold_summary s;
} summary_entry;

int fold_summaries(const mpoint *pts, size_t n, fold_summary **out, size_t *out_n)
{
	fold_index x = {NULL, 0, 0, NULL, sizeof(summary_entry)};
	*out = NULL;
	*out_n = 0;
	for (size_t i = 0; i < n; i++) {
		const mpoint *p = &pts[i];
		bool fresh;
		summary_entry *se = index_get(&x, p->rid, p->kid, 0, &fresh);
		if (!se) {
			free(x.slot);
			free(x.v);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		fold_summary *e = &se->s;
		if (fresh || p->step > e->last_step ||
		    (p->step == e->last_step && p->ts_ms >= e->last_ts)) {
			e->rid = p->rid;
			e->kid = p->kid;
			e->last = p->value;
			e->last_step = p->step;
			e->last_ts = p->ts_ms;
		}
		e->count++;
		if (!isnan(p->value)) {
			if (!e->has_minmax || p->value < e->min)
				e->min = p->value;
			if (!e->has_minmax || p->value > e->max)
				e->max = p->value;
			e->has_minmax = true;
		}
	}
	free(x.slot);
	/* compact: the summaries without their index keys */
	fold_summary *v = malloc((x.n ? x.n : 1) * sizeof *v);
	if (!v) {
		free(x.v);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < x.n; i++)
		v[i] = ((summary_entry *)x.v)[i].s;
	free(x.v);
	*out = v;
	*out_n = x.n;
	return 0;
}

int fold_tiles(const mpoint *pts, size_t n, fold_tile **out, size_t *out_n)
{
	fold_index x = {NULL, 0, 0, NULL, sizeof(fold_tile)};
	*out = NULL;
	*out_n = 0;
	for (size_t i = 0; i < n; i++) {
		const mpoint *p = &pts[i];
		bool fresh;
		fold_tile *t = index_get(&x, p->rid, p->kid, p->step >> TILE_SHIFT, &fresh);
		if (!t) {
			free(x.slot);
			free(x.v);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		t->n++;
		fold_pt q = {p->step, p->ts_ms, p->value};
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
	free(x.slot);
	*out = (fold_tile *)x.v;
	*out_n = x.n;
	return 0;
}

/* A series keyed by (rid, kid, 0): its points in the batch, then where its
 * next point goes in the order. */
typedef struct series_entry {
	int64_t rid, kid, pad;
	size_t count, at;
} series_entry;

int fold_series_order(const mpoint *pts, size_t n, size_t **order)
{
	fold_index x = {NULL, 0, 0, NULL, sizeof(series_entry)};
	size_t *sid = malloc((n ? n : 1) * sizeof *sid);
	size_t *ord = malloc((n ? n : 1) * sizeof *ord);
	*order = NULL;
	if (!sid || !ord)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		bool fresh;
		series_entry *e = index_get(&x, pts[i].rid, pts[i].kid, 0, &fresh);
		if (!e)
			goto oom;
		e->count++;
		sid[i] = (size_t)((char *)e - x.v) / sizeof *e;
	}
	series_entry *v = (series_entry *)x.v;
	size_t at = 0;
	for (size_t k = 0; k < x.n; k++) {
		v[k].at = at;
		at += v[k].count;
	}
	for (size_t i = 0; i < n; i++)
		ord[v[sid[i]].at++] = i;
	free(sid);
	free(x.slot);
	free(x.v);
	*order = ord;
	return 0;
oom:
	free(sid);
	free(ord);
	free(x.slot);
	free(x.v);
	return err_set(CAIRN_ENOMEM, "out of memory");
}

/* --- default steps ------------------------------------------------------------ */

bool fold_has_auto(const mpoint *pts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pts[i].step == CAIRN_STEP_AUTO)
			return true;
	return false;
}

static int series_cmp(const void *a, const void *b)
{
	const fold_series *x = a, *y = b;
	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return x->kid < y->kid ? -1 : x->kid > y->kid;
}

int fold_series_sorted(const mpoint *pts, size_t n, fold_series **out, size_t *out_n)
{
	fold_index x = {NULL, 0, 0, NULL, sizeof(series_entry)};
	*out = NULL;
	*out_n = 0;
	for (size_t i = 0; i < n; i++) {
		bool fresh;
		if (!index_get(&x, pts[i].rid, pts[i].kid, 0, &fresh)) {
			free(x.slot);
			free(x.v);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	free(x.slot);
	fold_series *v = malloc((x.n ? x.n : 1) * sizeof *v);
	if (!v) {
		free(x.v);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < x.n; i++) {
		const series_entry *e = &((series_entry *)x.v)[i];
		v[i] = (fold_series){e->rid, e->kid, -1};
	}
	free(x.v);
	qsort(v, x.n, sizeof *v, series_cmp);
	*out = v;
	*out_n = x.n;
	return 0;
}

int fold_assign_steps(const mpoint *pts, size_t n, fold_series *ser, size_t nser, mpoint **out)
{
	mpoint *v = malloc((n ? n : 1) * sizeof *v);
	*out = NULL;
	if (!v)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i] = pts[i];
		fold_series key = {pts[i].rid, pts[i].kid, 0};
		fold_series *e = bsearch(&key, ser, nser, sizeof *ser, series_cmp);
		if (!e) {
			free(v);
			return err_set(CAIRN_ERROR, "metric batch: a series without its last step");
		}
		if (v[i].step == CAIRN_STEP_AUTO) {
			if (e->last == INT64_MAX) {
				free(v);
				return err_set(CAIRN_EINVALID,
				               "metric: no step after %lld, the largest there is",
				               (long long)e->last);
			}
			v[i].step = e->last + 1;
		}
		if (v[i].step > e->last)
			e->last = v[i].step;
	}
	*out = v;
	return 0;
}

/* --- the thinned history ---------------------------------------------------------- */

static void put_point(sample *w, const fold_pt *p)
{
	buf *b = w->b;
	if (!w->first)
		buf_putc(b, ',');
	w->first = false;
	buf_putc(b, '[');
	json_int(b, p->step);
	buf_putc(b, ',');
	json_num(b, (double)p->ts / 1000.0);
	buf_putc(b, ',');
	json_num(b, p->value);
	buf_putc(b, ']');
}

/* Emit the bucket's kept points in step order: its minimum and maximum
 * (once if they are the same point), or its first NaN when it has no
 * number. */
static void bucket_flush(sample *w)
{
	if (w->has_val) {
		const fold_pt *a = &w->lo, *c = &w->hi;
		bool same = a->step == c->step && a->ts == c->ts;
		if (c->step < a->step || (c->step == a->step && c->ts < a->ts)) {
			const fold_pt *t = a;
			a = c;
			c = t;
		}
		put_point(w, a);
		if (!same)
			put_point(w, c);
	} else if (w->has_nan) {
		put_point(w, &w->nan);
	}
	w->has_val = w->has_nan = false;
}

static void bucket_enter(sample *w, uint64_t bi)
{
	if (bi != w->cur) {
		bucket_flush(w);
		w->cur = bi;
	}
}

void sample_begin(sample *w, buf *b, const char *key, int64_t count, int64_t lo_step,
                  int64_t hi_step, size_t max_points)
{
	memset(w, 0, sizeof *w);
	if (max_points < 2)
		max_points = 2;
	if (max_points > 1000000)
		max_points = 1000000;
	w->b = b;
	w->first = true;
	w->cur = UINT64_MAX;
	w->lo_step = lo_step;
	w->nb = max_points / 2;
	w->sampled = count > (int64_t)max_points && hi_step > lo_step;
	/* Steps are in 0..INT64_MAX (checked where they enter), but
	 * differences are taken unsigned so that no stored value can make them
	 * overflow.  A bucket at least a tile wide is a whole number of tiles:
	 * read the tiles (1/256 of the points) instead of the points. */
	w->tiles = w->sampled && ((uint64_t)hi_step - (uint64_t)lo_step) / w->nb >= TILE_STEPS;
	if (w->tiles) {
		/* tile i of ntiles goes to bucket i*nb/ntiles: buckets of whole
		 * tiles, as equal as tiles allow; every point is counted */
		w->span =
		    (unsigned __int128)((hi_step >> TILE_SHIFT) - (lo_step >> TILE_SHIFT)) + 1;
		w->seen = count;
	} else {
		/* bucket i covers steps [lo + i*span/nb, lo + (i+1)*span/nb) */
		w->span = (unsigned __int128)((uint64_t)hi_step - (uint64_t)lo_step) + 1;
	}
	bool f = true;
	buf_putc(b, '{');
	json_key(b, &f, "key");
	json_str(b, key);
	w->hdr = b->len;
	buf_puts(b, ",\"points\":[");
}

void sample_point(sample *w, const fold_pt *p)
{
	w->seen++;
	if (!w->sampled) {
		put_point(w, p);
		return;
	}
	bucket_enter(w, (uint64_t)((unsigned __int128)((uint64_t)p->step - (uint64_t)w->lo_step) *
	                           w->nb / w->span));
	if (isnan(p->value)) {
		if (!w->has_nan) {
			w->nan = *p;
			w->has_nan = true;
		}
	} else if (!w->has_val) {
		w->lo = w->hi = *p;
		w->has_val = true;
	} else if (p->value < w->lo.value) {
		w->lo = *p;
	} else if (p->value > w->hi.value) {
		w->hi = *p;
	}
}

void sample_tile(sample *w, const fold_tile *t)
{
	bucket_enter(w, (uint64_t)((unsigned __int128)(t->tile - (w->lo_step >> TILE_SHIFT)) *
	                           w->nb / w->span));
	if (t->has_val) {
		if (!w->has_val || t->lo.value < w->lo.value)
			w->lo = t->lo;
		if (!w->has_val || t->hi.value > w->hi.value)
			w->hi = t->hi;
		w->has_val = true;
	} else if (t->has_nan && !w->has_nan) {
		w->nan = t->nan;
		w->has_nan = true;
	}
}

bool sample_window(int64_t *lo, int64_t *hi, int64_t from, int64_t to)
{
	if (from > *lo)
		*lo = from;
	if (to < *hi)
		*hi = to;
	return *lo <= *hi;
}

int sample_end(sample *w)
{
	buf *b = w->b;
	bucket_flush(w);
	buf_puts(b, "]}");
	/* splice "count" and "sampled" in after the key (known only now) */
	char extra[96];
	int n = snprintf(extra, sizeof extra, ",\"count\":%lld,\"sampled\":%s", (long long)w->seen,
	                 w->sampled ? "true" : "false");
	buf_grow(b, (size_t)n);
	if (!buf_ok(b))
		return err_set(CAIRN_ENOMEM, "out of memory");
	memmove(b->ptr + w->hdr + n, b->ptr + w->hdr, b->len - w->hdr + 1);
	memcpy(b->ptr + w->hdr, extra, (size_t)n);
	b->len += (size_t)n;
	return 0;
}
