/*
 * lib/store/scan.h — what the query planner asks of a store: scans over run
 * ids, sort-key values and grouping aggregates.  The planner (lib/query/)
 * writes no SQL; a backend implements these operations over its own storage
 * (the SQLite one: lib/store/sqlite/scan*.c).  Design and costs:
 * docs/internals/query.md.
 *
 * A *scan* (store_scan) is a logical descriptor: "runs whose param K
 * (numeric values) is < 0.1", "runs with tag T", "runs whose status is in
 * this mask", "every run", "deleted runs".  The backend *prepares* it into
 * one or a few *parts* (store_part): physical scans it can answer, each with
 * a cost class the planner plans with:
 *
 *   STORE_COST_RANGE  an index range: rows counted cheaply (estimate), read
 *                     in proportion to their number;
 *   STORE_COST_KEY    one key's rows (about as many as runs), not counted;
 *   STORE_COST_FULL   a pass over every run (dearer per row).
 *
 * A part can (a) be estimated (rows, counted up to a cap: RANGE parts only),
 * (b) fill a run-id set (optionally only members of a candidate set), with
 * or without a budget of rows, and (c) be probed for each run of a candidate
 * set (several parts of one prepared source at once, OR'd).  A part matches
 * runs whatever their deleted state; the planner removes deleted runs.
 *
 * Sort and group keys (store_key) name one field per run; the backend reads
 * its values for given runs (gather), walks them in order restricted to a
 * set (for the top k, when walkable), and runs the two grouping passes.
 *
 * Ownership: a query opens a context (open ... close) that owns everything
 * the backend allocates for it; prepared parts, keys, walks and the text of
 * values it returns live until close (text in the arena passed to open).
 * Inside a context everything reads one snapshot (a read transaction), and
 * the store's lock is held from open to close.  Errors: 0 or a negative
 * cairn error code with the error set.
 */
#ifndef CAIRN_LIB_STORE_SCAN_H
#define CAIRN_LIB_STORE_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn.h"
#include "lib/query/query.h"
#include "lib/query/rset.h"
#include "util/arena.h"

/* --- scans ---------------------------------------------------------------------- */

typedef enum store_src {
	STORE_SRC_METRIC,   /* a metric's summary; field: QM_*; kid */
	STORE_SRC_PARAM,    /* a param; ptype says which typed values; kid */
	STORE_SRC_TAG,      /* tags: key = the tag (PRESENT), NULL: the tag names */
	STORE_SRC_PROPERTY, /* key = the property */
	STORE_SRC_DATASET,  /* key = the dataset's name; field: QD_* */
	STORE_SRC_RUN,      /* a run attribute; field: qattr */
	STORE_SRC_FILES,    /* the paths a run read or wrote; field: QF_* */
	STORE_SRC_ALL,      /* every run */
	STORE_SRC_DELETED,  /* deleted runs */
} store_src;

typedef enum store_test {
	STORE_PRESENT, /* the run has the field (`is not null`) */
	STORE_TRUTHY,  /* a bare field: present and not false (TAG with key NULL: any tag;
	                  FILES: any path) */
	STORE_CMP,     /* value op literal (op: QO_EQ … QO_GE) */
	STORE_NAN,     /* the value is NaN (metrics' last/min/max, float params) */
	STORE_GLOB,    /* text matches a glob (* ? [..]), case-sensitive */
	STORE_LIKE,    /* text matches a LIKE pattern (% _), case-sensitive */
	STORE_ILIKE,   /* the same, ASCII case folded */
	STORE_PREFIX,  /* text starts with the literal (lowercase hex ids) */
	STORE_STATUS,  /* the run's status is in mask (bit per cairn_status) */
} store_test;

typedef enum store_ptype {
	STORE_PT_ANY,  /* any value (PRESENT, TRUTHY) */
	STORE_PT_NUM,  /* int and float values, compared as numbers */
	STORE_PT_BOOL, /* bool values, compared as 0/1 */
	STORE_PT_TEXT, /* string values */
} store_ptype;

typedef struct store_scan {
	store_src src;
	int field;       /* QM_*, QD_* or qattr, by src */
	int64_t kid;     /* METRIC, PARAM: the handle key_lookup gave */
	const char *key; /* TAG, PROPERTY, DATASET */
	store_test test;
	qop op;            /* CMP */
	store_ptype ptype; /* PARAM */
	/* the literal: a number (numeric: as an integer when is_int) or text */
	bool numeric;
	bool is_int;
	int64_t i;
	double num;
	const char *text;
	unsigned mask; /* STATUS */
} store_scan;

enum { STORE_COST_RANGE, STORE_COST_KEY, STORE_COST_FULL };

/* One physical scan.  cost is the backend's; est/est_cap are the planner's
 * (rows counted and the cap they were counted to; est -1: not yet). */
typedef struct store_part {
	int cost;
	int64_t est, est_cap;
	const void *impl; /* the backend's */
} store_part;

#define STORE_PARTS_MAX 8

typedef struct store_parts {
	store_part p[STORE_PARTS_MAX];
	int n;
	bool all; /* the scan matches every run (n is 0): an attribute every run has */
} store_parts;

/* --- values of a field ----------------------------------------------------------- */

enum { V_NUM, V_TEXT, V_NAN, V_MISSING }; /* present < NaN < missing */

typedef struct sval {
	uint8_t cls;  /* V_* */
	uint8_t type; /* params: the cairn_type (orders equal numbers, types groups) */
	bool is_int;
	int64_t i;
	double d;
	const char *s; /* V_TEXT */
} sval;

/* A field whose values sort or group runs. */
typedef struct store_key {
	qfield f;
	bool desc;
	bool walkable;    /* prepared: the backend can walk its values in order */
	bool walk_newest; /* prepared: and gives equal values newest (highest rid) first */
	const void *impl; /* the backend's */
} store_key;

typedef struct store_walk store_walk;

/* --- grouping --------------------------------------------------------------------- */

typedef struct gstat {
	int64_t count, nvals;
	double min, max, sum;
} gstat;

#define GID_OUT  (-2) /* not a match */
#define GID_NONE (-1) /* a match without the field (yet) */

#define STORE_GROUP_AHEAD 16 /* values held back while their run's gid is fetched */

typedef struct store_groups {
	int32_t *gid; /* by rid (0 … maxrid): group number, GID_NONE or GID_OUT */
	int64_t maxrid;
	int32_t ngroups; /* numbers handed out by group_values */
	gstat *stats;    /* ngroups + 1 (the last: runs without the field) */
	/* store_group_add's values not yet added (a ring) */
	int64_t held_rid[STORE_GROUP_AHEAD];
	double held_v[STORE_GROUP_AHEAD];
	unsigned held;
} store_groups;

static inline void store_group_add_now(store_groups *g, int64_t rid, double v)
{
	if (g->gid[rid] == GID_OUT)
		return;
	int32_t k = g->gid[rid];
	gstat *st = &g->stats[k < 0 ? g->ngroups : k];
	if (st->nvals == 0 || v < st->min)
		st->min = v;
	if (st->nvals == 0 || v > st->max)
		st->max = v;
	st->sum += v;
	st->nvals++;
}

/* A metric value of run rid into its group (NaN and non-matches skipped),
 * or later: the values come in the metric index's order, so their runs
 * are in no order, and reading each one's gid at once stalled on a cache
 * miss a row (half of a group at 1M runs).  The gid is prefetched and the
 * value added STORE_GROUP_AHEAD values later; store_group_flush adds the
 * rest (the planner calls it after group_stats). */
static inline void store_group_add(store_groups *g, int64_t rid, double v)
{
	if (rid < 0 || rid > g->maxrid || v != v)
		return;
	__builtin_prefetch(&g->gid[rid]);
	unsigned i = g->held++ % STORE_GROUP_AHEAD;
	if (g->held > STORE_GROUP_AHEAD)
		store_group_add_now(g, g->held_rid[i], g->held_v[i]);
	g->held_rid[i] = rid;
	g->held_v[i] = v;
}

static inline void store_group_flush(store_groups *g)
{
	unsigned n = g->held < STORE_GROUP_AHEAD ? g->held : STORE_GROUP_AHEAD;
	for (unsigned i = 0; i < n; i++)
		store_group_add_now(g, g->held_rid[i], g->held_v[i]);
	g->held = 0;
}

/* --- the operations ---------------------------------------------------------------- */

typedef struct store_scan_ctx store_scan_ctx;
typedef struct store_group_bg store_group_bg;

typedef struct store_scan_info {
	int64_t maxrid; /* largest run id (0: none); sets have maxrid/64 + 1 words */
	int64_t nruns;  /* runs, deleted ones included */
} store_scan_info;

#define STORE_SCAN_OPS_VERSION 1

typedef struct store_scan_ops {
	unsigned version;
	/* Lock the store, begin a read, fill *info.  Allocations for the query
	 * (values' text included) go to mem, which the caller frees after close.
	 * close is NULL-safe and always releases the lock. */
	int (*open)(cairn_store *s, arena *mem, store_scan_ctx **out, store_scan_info *info);
	void (*close)(store_scan_ctx *c);
	/* The handle of a metric or param key, 0 when no run has it. */
	int (*key_lookup)(store_scan_ctx *c, const char *key, int64_t *out);

	/* Append sc's parts to out (at most STORE_PARTS_MAX in all), or set all. */
	int (*prepare)(store_scan_ctx *c, const store_scan *sc, store_parts *out);
	/* Rows of a RANGE part, counted up to cap. */
	int (*estimate)(store_scan_ctx *c, const store_part *p, int64_t cap, int64_t *rows);
	/* Add the part's runs (members of within only, when not NULL) to out. */
	int (*fill)(store_scan_ctx *c, const store_part *p, const rset *within, rset *out);
	/* Add at most limit of a RANGE part's runs to out; *got: how many
	 * (limit: the range may be bigger, out holds part of it). */
	int (*fill_limited)(store_scan_ctx *c, const store_part *p, int64_t limit, rset *out,
	                    int64_t *got);
	/* Add the members of cand that one of the n parts matches to out, run by
	 * run.  The parts come from one prepared source (one table). */
	int (*probe)(store_scan_ctx *c, const store_part *p, int n, const rset *cand, rset *out);

	/* Resolve k's field; sets k->walkable. */
	int (*key_prepare)(store_scan_ctx *c, store_key *k);
	/* Values of k for n distinct runs: vals[i * stride] for rids[i], left as
	 * they are for runs without a value.  by_probe: look each run up (few
	 * runs) rather than one pass over the field's values. */
	int (*gather)(store_scan_ctx *c, const store_key *k, const int64_t *rids, size_t n,
	              sval *vals, size_t stride, bool by_probe);
	/* The members of M (NULL: every run) with a non-NaN value of a walkable
	 * k, in k's order (ties in any order, or newest first where k's
	 * walk_newest says so): walk_next gives 1 and a row, 0 at the end.
	 * from (NULL: the start): begin at the first value not before it in
	 * k's order, and (walk_newest) among its ties at the first with a rid
	 * not above from_rid (INT64_MAX: at the first of them) (a keyset page,
	 * which the planner filters exactly; a backend may start earlier, never
	 * later).  skip: rows passed over before the first one given (an
	 * offset page), only asked of a walk_newest walk without from,
	 * whose order is exact. */
	int (*walk_open)(store_scan_ctx *c, const store_key *k, const rset *M, const sval *from,
	                 int64_t from_rid, int64_t skip, store_walk **out);
	int (*walk_next)(store_walk *w, int64_t *rid, sval *v);
	void (*walk_close)(store_walk *w);

	/* Grouping, pass 1: for each distinct value of k among the runs whose
	 * g->gid is not GID_OUT, a new group number (g->ngroups++) written to
	 * those runs' gid, and each(arg, value, number).  A value may be
	 * V_MISSING (a row without a value). */
	int (*group_values)(store_scan_ctx *c, const store_key *k, store_groups *g,
	                    int (*each)(void *arg, const sval *v, int32_t id), void *arg);
	/* Pass 2: every numeric value of metric (or param) key k into
	 * store_group_add(g, rid, value). */
	int (*group_stats)(store_scan_ctx *c, const store_key *k, store_groups *g);
	/* Optional: pass 2 beside pass 1.  group_stats_begin starts reading
	 * k's values of runs 0 … maxrid on a connection of its own (another
	 * thread), before group_values; *out is NULL when it cannot (then the
	 * planner calls group_stats).  group_stats_end waits for it and adds
	 * the values into g as group_stats would; with g NULL it only waits
	 * and frees (the query failed). */
	int (*group_stats_begin)(store_scan_ctx *c, const store_key *k, int64_t maxrid,
	                         store_group_bg **out);
	int (*group_stats_end)(store_scan_ctx *c, store_group_bg *bg, store_groups *g);
} store_scan_ops;

/* The fewest runs (the largest rid) for which the planner runs a group's
 * two passes side by side (group_stats_begin): a second connection costs
 * about a millisecond to open.  Tests lower it. */
extern int64_t store_group_bg_min;

/* The scans of the store's backend (its ops table's scan field). */
const store_scan_ops *store_scans(cairn_store *s);

#endif
