/*
 * lib/store/fold.h — what every backend does to metric points in C before
 * and after its own SQL (fold.c), so both backends keep and answer the same:
 *  - a batch folded into one summary per (run, key) and one tile per
 *    (run, key, 256-step tile), which the backend then upserts (one row
 *    per series or tile per batch, not per point);
 *  - a thinned history: the backend reads the series' summary, asks
 *    sample_begin whether to read tiles or points, feeds the rows in order,
 *    and sample_end writes the JSON (the bucketing rule is in browse.h).
 * The folds are pure: no store, no lock.
 */
#ifndef CAIRN_LIB_STORE_FOLD_H
#define CAIRN_LIB_STORE_FOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/internal.h"
#include "util/buf.h"

/* Tiles of metric_tiles span 256 steps: tile = step >> 8. */
#define TILE_SHIFT 8
#define TILE_STEPS (1 << TILE_SHIFT)

typedef struct fold_pt {
	int64_t step, ts; /* ts in milliseconds */
	double value;
} fold_pt;

/* One series of a batch: its last point by (step, ts), count, min/max of
 * the numbers (has_minmax false when every point was NaN). */
typedef struct fold_summary {
	int64_t rid, kid;
	double last, min, max;
	int64_t last_step, last_ts, count;
	bool has_minmax;
} fold_summary;

/* One tile of a batch: the number of points, the lowest and highest number
 * (has_val) and the first NaN (has_nan). */
typedef struct fold_tile {
	int64_t rid, kid, tile, n;
	fold_pt lo, hi, nan;
	bool has_val, has_nan;
} fold_tile;

/* The batch folded (*out malloc'ed, *out_n entries, in no set order). */
int fold_summaries(const mpoint *pts, size_t n, fold_summary **out, size_t *out_n);
int fold_tiles(const mpoint *pts, size_t n, fold_tile **out, size_t *out_n);
/* The order to write the batch's points in (*order malloc'ed, n indexes into
 * pts): grouped by series (run, key), series by first appearance, each
 * series' points in arrival order, so a later point with the same (step,
 * ts) still replaces an earlier one.  A batch interleaves its series (every
 * key of an epoch, then the next epoch); written grouped, consecutive
 * inserts land next to each other in the points' clustered index. */
int fold_series_order(const mpoint *pts, size_t n, size_t **order);

/* --- default steps ---------------------------------------------------------
 * A point of a batch whose step is CAIRN_STEP_AUTO (the caller gave none)
 * takes its step inside the backend's insert transaction, after the series'
 * last step read there under a lock that orders it against every other
 * writer of the series (store.md, "Default steps"), so two processes, two
 * servers, logging to one series never give two points the same step. */
typedef struct fold_series {
	int64_t rid, kid, last; /* last: the series' last step, -1 for none */
} fold_series;

/* Whether any point of pts has the default step. */
bool fold_has_auto(const mpoint *pts, size_t n);
/* The distinct series of pts sorted by (rid, kid), each with last -1
 * (*out malloc'ed): the order a backend locks them in. */
int fold_series_sorted(const mpoint *pts, size_t n, fold_series **out, size_t *out_n);
/* A copy of pts (*out malloc'ed) in which each default step is the one
 * after its series' last: ser[].last as stored (-1: no point yet), raised by
 * every point of the batch in arrival order, so step 10 then a default step
 * gives 11, as a run handle's own counting did.  CAIRN_EINVALID when there
 * is no step after the last (INT64_MAX). */
int fold_assign_steps(const mpoint *pts, size_t n, fold_series *ser, size_t nser, mpoint **out);

/* --- the thinned history ----------------------------------------------------- */

typedef struct sample {
	buf *b;
	size_t hdr;      /* where "count" and "sampled" go once known */
	bool sampled;    /* more points than asked for: bucketed */
	bool tiles;      /* buckets are whole tiles: read tiles, not points */
	bool first;      /* no point written yet */
	int64_t lo_step; /* the series' step range */
	uint64_t nb;     /* buckets */
	unsigned __int128 span;
	uint64_t cur; /* the bucket being filled, UINT64_MAX before the first */
	int64_t seen; /* points read */
	fold_pt lo, hi, nan;
	bool has_val, has_nan;
} sample;

/* Start the JSON of key's history, whose summary says count points over
 * steps lo_step..hi_step; max_points is clamped to [2, 1000000].  Then
 * w->tiles says which rows to read: the tiles in tile order
 * (sample_tile), else the points in (step, ts) order (sample_point). */
void sample_begin(sample *w, buf *b, const char *key, int64_t count, int64_t lo_step,
                  int64_t hi_step, size_t max_points);
void sample_point(sample *w, const fold_pt *p);
void sample_tile(sample *w, const fold_tile *t);
/* Close the JSON: 0 or CAIRN_ENOMEM. */
int sample_end(sample *w);
/* A window from..to over a series of steps *lo..*hi: both clamped to it;
 * false when no step of the series can be in it (from > to, or outside). */
bool sample_window(int64_t *lo, int64_t *hi, int64_t from, int64_t to);

#endif
