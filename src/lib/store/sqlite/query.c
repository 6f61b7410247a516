/*
 * lib/store/sqlite/query.c — compiles a parsed query to SQL and runs it: filter,
 * count, sort, group (design and measurements in docs/internals/query.md).
 *
 * The plan is chosen here, not by SQLite's planner.  Every comparison becomes
 * one or a few "scans": a fixed SQL condition over one table that an index
 * answers as a range (params by (kid, value, type), metric summaries by
 * (kid, last), tags by tag, …), with every value bound.  A scan either fills
 * a bitmap of run ids (SELECT cairn_bits(?, rid) FROM t WHERE cond: one pass
 * over the index range, no row crosses into C) or, when few candidate runs
 * are left, is probed run by run through the table's primary key.  The
 * boolean tree is evaluated over bitmaps: AND narrows the candidate set
 * child by child (cheapest estimated first), OR unions, NOT complements
 * within the candidates.  The count is a popcount.  The top k are found by
 * walking the first sort key's index in order and keeping members of the
 * match set (cairn_inset), or by gathering the keys of the matches and
 * sorting in C, whichever the estimates say is cheaper.
 *
 * Invariants: no text from the query reaches SQL except through bindings;
 * every SQL string is assembled from the fixed fragments below.  A whole
 * query runs in one read transaction, so count and rows agree.
 * Thread-safety: holds the store's lock for the whole call.
 */
#include "lib/store/query.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/sqlite.h"
#include "util/json.h"

/* Relative costs, in "index rows scanned inside SQLite" (measured on the
 * benchmark store: ~65 ns per scanned index row with cairn_bits, ~0.8 µs per
 * primary-key probe from C, ~95 ns per row of a full scan of runs). */
#define COST_PROBE 12
#define COST_FULL  2
#define EST_CAP    256 /* rows counted to estimate a range (≈10 µs) */

/* --- memory: everything a query allocates, freed at once ------------------------ */

typedef struct mchunk {
	struct mchunk *next;
	size_t used, cap;
	_Alignas(16) char data[];
} mchunk;

typedef struct mem {
	mchunk *head;
	bool oom;
} mem;

static void *mem_alloc(mem *m, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	mchunk *c = m->head;
	if (!c || c->used + n > c->cap) {
		size_t cap = n > 65536 ? n : 65536;
		mchunk *nc = malloc(sizeof *nc + cap);
		if (!nc) {
			m->oom = true;
			return NULL;
		}
		nc->next = c;
		nc->used = 0;
		nc->cap = cap;
		m->head = nc;
		c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

static char *mem_strdup(mem *m, const char *s, size_t n)
{
	char *d = mem_alloc(m, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void mem_free(mem *m)
{
	mchunk *c = m->head;
	while (c) {
		mchunk *n = c->next;
		free(c);
		c = n;
	}
	m->head = NULL;
}

/* --- run-id sets ------------------------------------------------------------- */

typedef struct rset {
	uint64_t *w;
	size_t nw;
} rset;

#define RSET_PTR "cairn_rset"

static int rset_init(rset *r, size_t nw)
{
	r->nw = nw;
	r->w = calloc(nw, sizeof *r->w);
	return r->w ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static void rset_free(rset *r)
{
	free(r->w);
	r->w = NULL;
}

static inline void rset_add(rset *r, int64_t rid)
{
	if (rid >= 0 && (size_t)(rid >> 6) < r->nw)
		r->w[rid >> 6] |= 1ull << (rid & 63);
}

static inline bool rset_has(const rset *r, int64_t rid)
{
	return rid >= 0 && (size_t)(rid >> 6) < r->nw && (r->w[rid >> 6] >> (rid & 63) & 1);
}

/* Bits set in a word (portable: the default x86-64 target has no popcnt
 * instruction and the builtin becomes a libgcc call). */
static inline unsigned pop64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

static int64_t rset_count(const rset *r)
{
	int64_t n = 0;
	for (size_t i = 0; i < r->nw; i++)
		n += pop64(r->w[i]);
	return n;
}

static void rset_or(rset *a, const rset *b)
{
	for (size_t i = 0; i < a->nw; i++)
		a->w[i] |= b->w[i];
}

static void rset_andnot(rset *a, const rset *b)
{
	for (size_t i = 0; i < a->nw; i++)
		a->w[i] &= ~b->w[i];
}

static int rset_copy(rset *dst, const rset *src)
{
	if (rset_init(dst, src->nw) != 0)
		return CAIRN_ENOMEM;
	memcpy(dst->w, src->w, src->nw * sizeof *src->w);
	return 0;
}

/* Iterate: for (int64_t r = rset_next(s, 0); r >= 0; r = rset_next(s, r + 1)) */
static int64_t rset_next(const rset *r, int64_t from)
{
	if (from < 0)
		from = 0;
	size_t i = (size_t)(from >> 6);
	if (i >= r->nw)
		return -1;
	uint64_t w = r->w[i] & (~0ull << (from & 63));
	for (;;) {
		if (w)
			return (int64_t)(i * 64 + (size_t)__builtin_ctzll(w));
		if (++i >= r->nw)
			return -1;
		w = r->w[i];
	}
}

/* Rank table: position of a member among the members, in rid order. */
typedef struct rrank {
	const rset *s;
	uint32_t *pre;
} rrank;

static int rrank_init(rrank *k, const rset *s)
{
	k->s = s;
	k->pre = malloc((s->nw + 1) * sizeof *k->pre);
	if (!k->pre)
		return err_set(CAIRN_ENOMEM, "out of memory");
	uint32_t acc = 0;
	for (size_t i = 0; i < s->nw; i++) {
		k->pre[i] = acc;
		acc += pop64(s->w[i]);
	}
	k->pre[s->nw] = acc;
	return 0;
}

static inline uint32_t rrank_of(const rrank *k, int64_t rid)
{
	size_t i = (size_t)(rid >> 6);
	uint64_t below = (1ull << (rid & 63)) - 1;
	return k->pre[i] + pop64(k->s->w[i] & below);
}

/* --- SQL functions over sets -------------------------------------------------- */

static void fn_inset(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const rset *r = sqlite3_value_pointer(argv[0], RSET_PTR);
	sqlite3_result_int(ctx, r && rset_has(r, sqlite3_value_int64(argv[1])));
}

typedef struct bits_agg {
	rset *r; /* looked up once: sqlite3_value_pointer compares type names */
	int64_t n;
	bool init;
} bits_agg;

static void fn_bits_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	bits_agg *a = sqlite3_aggregate_context(ctx, sizeof *a);
	if (!a)
		return;
	if (!a->init) {
		a->r = sqlite3_value_pointer(argv[0], RSET_PTR);
		a->init = true;
	}
	if (a->r)
		rset_add(a->r, sqlite3_value_int64(argv[1]));
	a->n++;
}

static void fn_bits_final(sqlite3_context *ctx)
{
	bits_agg *a = sqlite3_aggregate_context(ctx, 0);
	sqlite3_result_int64(ctx, a ? a->n : 0);
}

/* Register cairn_inset / cairn_bits on the connection once. */
static int ensure_functions(cairn_store *s)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(store_sqlite_db(s),
	                       "SELECT cairn_inset(NULL, 0), cairn_bits(NULL, 0)", -1, &st,
	                       NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
	if (sqlite3_create_function_v2(store_sqlite_db(s), "cairn_inset", 2, flags, NULL, fn_inset,
	                               NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(store_sqlite_db(s), "cairn_bits", 2, flags, NULL, NULL,
	                               fn_bits_step, fn_bits_final, NULL) != SQLITE_OK)
		return store_sqlerr(s, "register the query functions");
	return 0;
}

/* --- bound values and SQL conditions ----------------------------------------- */

#define MAXB 8

typedef struct qbind {
	char t; /* 'i' int, 'd' double, 's' text, 'n' null */
	int64_t i;
	double d;
	const char *s;
} qbind;

enum { C_RANGE, C_KEY, C_FULL };

/* One scan: rows of `table` matching `cond` (fixed SQL, values bound). */
typedef struct qscan {
	const char *table;
	const char *cond;
	qbind b[MAXB];
	int nb;
	int cost;
	int64_t est; /* rows, when counted; -1 unknown */
	int64_t est_cap;
} qscan;

/* A condition under construction. */
typedef struct cb {
	char sql[768];
	size_t len;
	qbind b[MAXB];
	int nb;
	bool overflow;
} cb;

static void cb_sql(cb *c, const char *frag)
{
	size_t n = strlen(frag);
	if (c->len + n + 1 > sizeof c->sql) {
		c->overflow = true;
		return;
	}
	memcpy(c->sql + c->len, frag, n + 1);
	c->len += n;
}

static void cb_bind(cb *c, qbind b)
{
	if (c->nb >= MAXB) {
		c->overflow = true;
		return;
	}
	c->b[c->nb++] = b;
}

static void cb_int(cb *c, int64_t v)
{
	cb_bind(c, (qbind){.t = 'i', .i = v});
}

static void cb_dbl(cb *c, double v)
{
	cb_bind(c, (qbind){.t = 'd', .d = v});
}

static void cb_txt(cb *c, const char *v)
{
	cb_bind(c, (qbind){.t = 's', .s = v});
}

static void cb_num(cb *c, const qlit *l)
{
	if (l->is_int)
		cb_int(c, l->i);
	else
		cb_dbl(c, l->num);
}

static int bind_all(sqlite3_stmt *st, int first, const qbind *b, int nb)
{
	for (int k = 0; k < nb; k++) {
		int i = first + k;
		switch (b[k].t) {
		case 'i': sqlite3_bind_int64(st, i, b[k].i); break;
		case 'd': sqlite3_bind_double(st, i, b[k].d); break;
		case 's': sqlite3_bind_text(st, i, b[k].s, -1, SQLITE_STATIC); break;
		default: sqlite3_bind_null(st, i); break;
		}
	}
	return first + nb;
}

/* Bind the unnamed parameters (?) in order, skipping named ones (:x). */
static void bind_anon(sqlite3_stmt *st, const qbind *b, int nb)
{
	int n = sqlite3_bind_parameter_count(st), k = 0;
	for (int i = 1; i <= n && k < nb; i++)
		if (!sqlite3_bind_parameter_name(st, i))
			bind_all(st, i, &b[k++], 1);
}

/* --- the query context --------------------------------------------------------- */

typedef struct qctx {
	cairn_store *s;
	sqlite3 *db;
	size_t nw; /* words in every set */
	int64_t maxrid;
	int64_t nruns;
	double now, stale; /* running runs whose heartbeat is older than stale are crashed */
	rset universe;
	bool have_universe;
	mem m;
	/* statements this query prepared, reused when the same text comes back
	 * (the scans of one `in (...)` list differ only in their values) */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[32];
	int ncache, evict;
} qctx;

static int prep(qctx *q, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store_sqlerr(q->s, "prepare the query");
	}
	return 0;
}

/* A statement for sql, prepared once per query: reset and unbound when it
 * comes back.  Owned by the query (ctx_close finalizes it): do not finalize. */
static int prep_reuse(qctx *q, const char *sql, sqlite3_stmt **st)
{
	for (int i = 0; i < q->ncache; i++) {
		if (strcmp(q->cache[i].sql, sql) == 0) {
			*st = q->cache[i].st;
			sqlite3_reset(*st);
			sqlite3_clear_bindings(*st);
			return 0;
		}
	}
	int rc = prep(q, sql, st);
	if (rc)
		return rc;
	const char *copy = mem_strdup(&q->m, sql, strlen(sql));
	if (!copy) {
		sqlite3_finalize(*st);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	/* full: replace the oldest (no caller holds a statement across calls) */
	int slot = q->ncache;
	if (slot == (int)(sizeof q->cache / sizeof q->cache[0])) {
		slot = q->evict++ % slot;
		sqlite3_finalize(q->cache[slot].st);
	} else {
		q->ncache++;
	}
	q->cache[slot].sql = copy;
	q->cache[slot].st = *st;
	return 0;
}

static int step_err(qctx *q, sqlite3_stmt *st, int rc)
{
	(void)st;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return store_sqlerr(q->s, "run the query");
}

static int64_t scalar_int(qctx *q, const char *sql, int *rc)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	if ((*rc = prep(q, sql, &st)) != 0)
		return 0;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		*rc = step_err(q, st, r);
	sqlite3_finalize(st);
	return v;
}

static int ctx_open(qctx *q, cairn_store *s)
{
	int rc;
	memset(q, 0, sizeof *q);
	q->s = s;
	q->db = store_sqlite_db(s);
	q->now = store_now(s);
	q->stale = q->now - s->stale_after;
	if ((rc = ensure_functions(s)) != 0)
		return rc;
	q->maxrid = scalar_int(q, "SELECT coalesce(max(rid), 0) FROM runs", &rc);
	if (rc)
		return rc;
	q->nruns = scalar_int(q, "SELECT count(*) FROM runs", &rc);
	q->nw = (size_t)(q->maxrid >> 6) + 1;
	return rc;
}

static void ctx_close(qctx *q)
{
	for (int i = 0; i < q->ncache; i++)
		sqlite3_finalize(q->cache[i].st);
	q->ncache = 0;
	rset_free(&q->universe);
	mem_free(&q->m);
}

static int run_bits(qctx *q, const char *sql, const qbind *b, int nb, rset *out)
{
	sqlite3_stmt *st;
	int rc = prep(q, sql, &st);
	if (rc)
		return rc;
	sqlite3_bind_pointer(st, 1, out, RSET_PTR, NULL);
	bind_all(st, 2, b, nb);
	rc = step_err(q, st, sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

/* Every run (deleted ones too; they are removed at the end). */
static int universe(qctx *q, const rset **out)
{
	if (!q->have_universe) {
		int rc = rset_init(&q->universe, q->nw);
		if (rc)
			return rc;
		if (q->nruns == q->maxrid) {
			/* rids are dense (nothing purged): 1..maxrid, no need to read them */
			size_t full = (size_t)(q->maxrid + 1) >> 6;
			memset(q->universe.w, 0xff, full * sizeof *q->universe.w);
			for (int64_t r = (int64_t)full * 64; r <= q->maxrid; r++)
				rset_add(&q->universe, r);
			q->universe.w[0] &= ~1ull; /* rid 0 is never a run */
		} else if ((rc = run_bits(
		                q, "SELECT cairn_bits(?, rid) FROM runs INDEXED BY runs_visible",
		                NULL, 0, &q->universe)) != 0) {
			return rc;
		}
		q->have_universe = true;
	}
	*out = &q->universe;
	return 0;
}

/* --- compiling comparisons to scans ------------------------------------------ */

typedef struct qleaf {
	qscan *pos; /* OR of these */
	int npos;
	bool neg; /* result: present − pos */
	bool all; /* matches every candidate */
	bool present_all;
	qscan present;
} qleaf;

static const char *const op_sql[] = {" = ", " != ", " < ", " <= ", " > ", " >= "};

static int add_scan(qctx *q, qleaf *l, const char *table, const cb *c, int cost)
{
	if (c->overflow)
		return err_set(CAIRN_ERROR, "internal: query condition too long");
	qscan *n = mem_alloc(&q->m, (size_t)(l->npos + 1) * sizeof *n);
	if (!n)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (l->npos)
		memcpy(n, l->pos, (size_t)l->npos * sizeof *n);
	qscan *sc = &n[l->npos];
	memset(sc, 0, sizeof *sc);
	sc->table = table;
	sc->cond = mem_strdup(&q->m, c->sql, c->len);
	if (!sc->cond)
		return err_set(CAIRN_ENOMEM, "out of memory");
	memcpy(sc->b, c->b, sizeof c->b);
	sc->nb = c->nb;
	sc->cost = cost;
	sc->est = -1;
	l->pos = n;
	l->npos++;
	return 0;
}

static int set_present(qctx *q, qleaf *l, const char *table, const cb *c, int cost)
{
	qleaf tmp = {0};
	int rc = add_scan(q, &tmp, table, c, cost);
	if (rc == 0)
		l->present = tmp.pos[0];
	return rc;
}

/* The key id of a metric/param key, or 0 when no run has it. */
static int key_id(qctx *q, const char *key, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = prep(q, "SELECT id FROM keys WHERE name = ?", &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = step_err(q, st, r);
	sqlite3_finalize(st);
	return rc;
}

/* LIKE (% and _) as a GLOB pattern, so it is case-sensitive as in MLflow. */
static const char *like_to_glob(qctx *q, const char *pat)
{
	size_t n = strlen(pat);
	char *g = mem_alloc(&q->m, 3 * n + 1), *o = g;
	if (!g)
		return NULL;
	for (const char *p = pat; *p; p++) {
		switch (*p) {
		case '%': *o++ = '*'; break;
		case '_': *o++ = '?'; break;
		case '*':
		case '?':
		case '[':
			*o++ = '[';
			*o++ = *p;
			*o++ = ']';
			break;
		default: *o++ = *p;
		}
	}
	*o = '\0';
	return g;
}

/* A GLOB's literal prefix as a range [lo, hi), so any index on the column
 * answers it (SQLite only does this itself for TEXT-affinity columns). */
static void glob_range(qctx *q, cb *c, const char *col, const char *glob)
{
	size_t n = strcspn(glob, "*?[");
	if (n == 0 || n > 200)
		return;
	char *lo = mem_strdup(&q->m, glob, n), *hi = mem_strdup(&q->m, glob, n);
	if (!lo || !hi || (unsigned char)hi[n - 1] == 0xff)
		return;
	hi[n - 1]++;
	cb_sql(c, " AND ");
	cb_sql(c, col);
	cb_sql(c, " >= ? AND ");
	cb_sql(c, col);
	cb_sql(c, " < ?");
	cb_txt(c, lo);
	cb_txt(c, hi);
}

static bool is_hex(const char *s, size_t *n)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	*n = i;
	return i > 0;
}

/* The positive form of an operator (the negative ones are present − positive). */
static qop positive(qop op, bool *neg)
{
	*neg = true;
	switch (op) {
	case QO_NE: return QO_EQ;
	case QO_NGLOB: return QO_GLOB;
	case QO_NLIKE: return QO_LIKE;
	case QO_NILIKE: return QO_ILIKE;
	case QO_NIN: return QO_IN;
	default: *neg = false; return op;
	}
}

/* Text column comparisons: col OP value; match ops; prefix ids. */
static int text_scans(qctx *q, qleaf *l, const char *table, const char *keyfrag, const qbind *keyb,
                      int nkeyb, const char *col, qop op, const qlit *lits, size_t nlits, int cost,
                      bool hexprefix)
{
	int rc;
	size_t nl = (op == QO_IN) ? nlits : 1;
	for (size_t k = 0; k < nl; k++) {
		const qlit *lt = &lits[k];
		cb c = {0};
		cb_sql(&c, keyfrag);
		for (int j = 0; j < nkeyb; j++)
			cb_bind(&c, keyb[j]);
		int sc_cost = cost;
		qop o = op == QO_IN ? QO_EQ : op;
		size_t hn;
		if (o == QO_EQ && hexprefix && is_hex(lt->text, &hn) && hn >= 4 && hn < 32) {
			/* a commit or run id prefix, as everywhere a run is named */
			char *lo = mem_strdup(&q->m, lt->text, hn),
			     *hi = mem_strdup(&q->m, lt->text, hn);
			if (!lo || !hi)
				return err_set(CAIRN_ENOMEM, "out of memory");
			for (size_t i = 0; i < hn; i++)
				lo[i] = hi[i] = (char)tolower((unsigned char)lo[i]);
			hi[hn - 1] = hi[hn - 1] == '9'   ? 'a'
			             : hi[hn - 1] == 'f' ? 'g'
			                                 : (char)(hi[hn - 1] + 1);
			cb_sql(&c, " AND ");
			cb_sql(&c, col);
			cb_sql(&c, " >= ? AND ");
			cb_sql(&c, col);
			cb_sql(&c, " < ?");
			cb_txt(&c, lo);
			cb_txt(&c, hi);
		} else if (o == QO_EQ && hexprefix && is_hex(lt->text, &hn) &&
		           (hn == 32 || hn == 40)) {
			char *lo = mem_strdup(&q->m, lt->text, hn);
			if (!lo)
				return err_set(CAIRN_ENOMEM, "out of memory");
			for (size_t i = 0; i < hn; i++)
				lo[i] = (char)tolower((unsigned char)lo[i]);
			cb_sql(&c, " AND ");
			cb_sql(&c, col);
			cb_sql(&c, " = ?");
			cb_txt(&c, lo);
		} else if (o <= QO_GE) {
			cb_sql(&c, " AND ");
			cb_sql(&c, col);
			cb_sql(&c, op_sql[o]);
			cb_sql(&c, "?");
			cb_txt(&c, lt->text);
		} else if (o == QO_GLOB || o == QO_LIKE) {
			const char *g = o == QO_LIKE ? like_to_glob(q, lt->text) : lt->text;
			if (!g)
				return err_set(CAIRN_ENOMEM, "out of memory");
			cb_sql(&c, " AND ");
			cb_sql(&c, col);
			cb_sql(&c, " GLOB ?");
			cb_txt(&c, g);
			size_t before = c.len;
			glob_range(q, &c, col, g);
			if (c.len == before && sc_cost == C_RANGE)
				sc_cost = C_KEY;
		} else if (o == QO_ILIKE) {
			cb_sql(&c, " AND ");
			cb_sql(&c, col);
			cb_sql(&c, " LIKE ?");
			cb_txt(&c, lt->text);
			if (sc_cost == C_RANGE)
				sc_cost = C_KEY;
		}
		if ((rc = add_scan(q, l, table, &c, sc_cost)) != 0)
			return rc;
	}
	return 0;
}

/* Numeric column comparisons (NaN stored as NULL in nan_col columns). */
static int num_scans(qctx *q, qleaf *l, const char *table, const char *keyfrag, const qbind *keyb,
                     int nkeyb, const char *col, qop op, const qlit *lits, size_t nlits, int cost,
                     bool can_nan)
{
	int rc;
	size_t nl = (op == QO_IN) ? nlits : 1;
	for (size_t k = 0; k < nl; k++) {
		const qlit *lt = &lits[k];
		qop o = op == QO_IN ? QO_EQ : op;
		cb c = {0};
		cb_sql(&c, keyfrag);
		for (int j = 0; j < nkeyb; j++)
			cb_bind(&c, keyb[j]);
		if (isnan(lt->num)) {
			/* NaN equals only NaN and has no order */
			if (o != QO_EQ || !can_nan)
				continue;
			cb_sql(&c, " AND ");
			cb_sql(&c, col);
			cb_sql(&c, " IS NULL");
		} else {
			cb_sql(&c, " AND ");
			cb_sql(&c, col);
			cb_sql(&c, op_sql[o]);
			cb_sql(&c, "?");
			cb_num(&c, lt);
		}
		if ((rc = add_scan(q, l, table, &c, cost)) != 0)
			return rc;
	}
	return 0;
}

/* params: each literal compares in the form of each run's value type. */
static int param_scans(qctx *q, qleaf *l, int64_t kid, qop op, const qlit *lits, size_t nlits)
{
	int rc;
	size_t nl = (op == QO_IN) ? nlits : 1;
	qbind kb = {.t = 'i', .i = kid};
	for (size_t k = 0; k < nl; k++) {
		const qlit *lt = &lits[k];
		qop o = op == QO_IN ? QO_EQ : op;
		if (o == QO_GLOB || o == QO_LIKE || o == QO_ILIKE) {
			if ((rc = text_scans(q, l, "params", "kid = ? AND type = 4", &kb, 1,
			                     "value", o, lt, 1, C_RANGE, false)) != 0)
				return rc;
			continue;
		}
		if (lt->has_num) {
			cb c = {0};
			cb_sql(&c, "kid = ?");
			cb_int(&c, kid);
			if (isnan(lt->num)) {
				if (o != QO_EQ)
					goto no_num;
				cb_sql(&c, " AND value IS NULL AND type = 2");
			} else {
				cb_sql(&c, " AND value");
				cb_sql(&c, op_sql[o]);
				cb_sql(&c, "? AND type IN (1, 2)");
				cb_num(&c, lt);
			}
			if ((rc = add_scan(q, l, "params", &c, C_RANGE)) != 0)
				return rc;
		}
	no_num:
		if (lt->has_bool) {
			cb c = {0};
			cb_sql(&c, "kid = ? AND value");
			cb_int(&c, kid);
			cb_sql(&c, op_sql[o]);
			cb_sql(&c, "? AND type = 3");
			cb_int(&c, lt->b);
			if ((rc = add_scan(q, l, "params", &c, C_RANGE)) != 0)
				return rc;
		}
		if ((rc = text_scans(q, l, "params", "kid = ? AND type = 4", &kb, 1, "value", o, lt,
		                     1, C_RANGE, false)) != 0)
			return rc;
	}
	return 0;
}

static const char *const metric_cols[] = {"last", "min", "max", "count", "last_step"};
static const char *const data_cols[] = {"digest", "path", "role", "algo", "files", "bytes"};

/* SQL for a runs attribute's value, its presence, and whether an index
 * answers ranges over it. */
typedef struct attr_sql {
	const char *expr;
	const char *present; /* NULL: every run has it */
	const char *truthy;  /* condition for a bare attribute */
	int cost;
	int nstale; /* ?s in expr taking the stale time (then `now`, if nnow) */
	int nnow;
	int pstale; /* ?s in present taking the stale time */
} attr_sql;

#define LIVE "(status = 0 AND (heartbeat IS NULL OR heartbeat >= ?))"

static attr_sql attr_of(qattr a)
{
	switch (a) {
	case QA_ID: return (attr_sql){"id", NULL, "1", C_RANGE, 0, 0, 0};
	case QA_SEQ: return (attr_sql){"seq", NULL, "1", C_FULL, 0, 0, 0};
	case QA_NAME: return (attr_sql){"name", NULL, "1", C_RANGE, 0, 0, 0};
	case QA_PROJECT:
		return (attr_sql){"(SELECT name FROM projects WHERE id = project_id)",
		                  NULL,
		                  "1",
		                  C_FULL,
		                  0,
		                  0,
		                  0};
	case QA_STATUS:
		return (attr_sql){"(CASE WHEN status = 0 AND heartbeat < ? THEN 4 ELSE status END)",
		                  NULL,
		                  "1",
		                  C_RANGE,
		                  1,
		                  0,
		                  0};
	case QA_STARTED: return (attr_sql){"start_time", NULL, "1", C_RANGE, 0, 0, 0};
	case QA_ENDED:
		return (attr_sql){
		    "end_time", "end_time IS NOT NULL", "end_time IS NOT NULL", C_RANGE, 0, 0, 0};
	case QA_START_MS:
		return (attr_sql){"CAST(start_time * 1000 AS INTEGER)", NULL, "1", C_FULL, 0, 0, 0};
	case QA_END_MS:
		return (attr_sql){"CAST(end_time * 1000 AS INTEGER)",
		                  "end_time IS NOT NULL",
		                  "end_time IS NOT NULL",
		                  C_FULL,
		                  0,
		                  0,
		                  0};
	case QA_DURATION:
		return (attr_sql){"(coalesce(end_time, CASE WHEN " LIVE
		                  " THEN ? END) - start_time)",
		                  "(end_time IS NOT NULL OR " LIVE ")",
		                  "(end_time IS NOT NULL OR " LIVE ")",
		                  C_FULL,
		                  1,
		                  1,
		                  1};
	case QA_USER:
		return (attr_sql){
		    "user", "user IS NOT NULL", "(user IS NOT NULL AND user != '')", C_FULL, 0, 0,
		    0};
	case QA_HOST:
		return (attr_sql){
		    "host", "host IS NOT NULL", "(host IS NOT NULL AND host != '')", C_FULL, 0, 0,
		    0};
	case QA_COMMIT:
		return (attr_sql){"git_commit",
		                  "git_commit IS NOT NULL",
		                  "(git_commit IS NOT NULL AND git_commit != '')",
		                  C_RANGE,
		                  0,
		                  0,
		                  0};
	case QA_BRANCH:
		return (attr_sql){"git_branch",
		                  "git_branch IS NOT NULL",
		                  "(git_branch IS NOT NULL AND git_branch != '')",
		                  C_RANGE,
		                  0,
		                  0,
		                  0};
	case QA_REMOTE:
		return (attr_sql){"git_remote",
		                  "git_remote IS NOT NULL",
		                  "(git_remote IS NOT NULL AND git_remote != '')",
		                  C_FULL,
		                  0,
		                  0,
		                  0};
	case QA_DIRTY:
		return (attr_sql){
		    "git_dirty", "git_dirty IS NOT NULL", "git_dirty = 1", C_FULL, 0, 0, 0};
	case QA_COMMAND:
		return (attr_sql){"command",
		                  "command IS NOT NULL",
		                  "(command IS NOT NULL AND command != '')",
		                  C_FULL,
		                  0,
		                  0,
		                  0};
	case QA_NOTE:
		return (attr_sql){
		    "coalesce(note, '')", NULL, "coalesce(note, '') != ''", C_FULL, 0, 0, 0};
	case QA_EXIT_CODE:
		return (attr_sql){
		    "exit_code", "exit_code IS NOT NULL", "exit_code IS NOT NULL", C_FULL, 0, 0, 0};
	case QA_PARENT:
		return (attr_sql){"(SELECT q.id FROM runs q WHERE q.rid = runs.parent_rid)",
		                  "parent_rid IS NOT NULL",
		                  "parent_rid IS NOT NULL",
		                  C_FULL,
		                  0,
		                  0,
		                  0};
	default: return (attr_sql){"NULL", "0", "0", C_FULL, 0, 0, 0};
	}
}

static void attr_binds(qctx *q, const attr_sql *a, cb *c, bool for_present)
{
	int ns = for_present ? a->pstale : a->nstale;
	for (int k = 0; k < ns; k++)
		cb_dbl(c, q->stale);
	if (!for_present)
		for (int k = 0; k < a->nnow; k++)
			cb_dbl(c, q->now);
}

static int status_scans(qctx *q, qleaf *l, unsigned mask)
{
	int rc;
	for (unsigned s = 0; s <= CAIRN_STATUS_PRUNED; s++) {
		if (!(mask & (1u << s)))
			continue;
		cb c = {0};
		if (s == CAIRN_STATUS_RUNNING) {
			cb_sql(&c, "status = 0 AND (heartbeat IS NULL OR heartbeat >= ?)");
			cb_dbl(&c, q->stale);
		} else if (s == CAIRN_STATUS_CRASHED) {
			cb c2 = {0};
			cb_sql(&c2, "status = 0 AND heartbeat < ?");
			cb_dbl(&c2, q->stale);
			if ((rc = add_scan(q, l, "runs", &c2, C_RANGE)) != 0)
				return rc;
			cb_sql(&c, "status = 4");
		} else {
			cb_sql(&c, "status = ?");
			cb_int(&c, s);
		}
		if ((rc = add_scan(q, l, "runs", &c, C_RANGE)) != 0)
			return rc;
	}
	return 0;
}

static int compile_attr(qctx *q, const qnode *n, qop op, qleaf *l)
{
	qattr a = (qattr)n->f.part;
	attr_sql as = attr_of(a);
	int rc;
	if (as.present) {
		cb c = {0};
		cb_sql(&c, as.present);
		attr_binds(q, &as, &c, true);
		if ((rc = set_present(q, l, "runs", &c, C_FULL)) != 0)
			return rc;
	} else {
		l->present_all = true;
	}
	if (op == QO_PRESENT) {
		if (!as.present) {
			l->all = true;
			return 0;
		}
		l->pos = NULL;
		l->npos = 0;
		cb c = {0};
		cb_sql(&c, as.present);
		attr_binds(q, &as, &c, true);
		return add_scan(q, l, "runs", &c, C_FULL);
	}
	if (op == QO_TRUE) {
		if (strcmp(as.truthy, "1") == 0) {
			l->all = true;
			return 0;
		}
		cb c = {0};
		cb_sql(&c, as.truthy);
		attr_binds(q, &as, &c, true);
		return add_scan(q, l, "runs", &c, C_FULL);
	}
	if (a == QA_STATUS) {
		unsigned mask = 0;
		size_t nl = op == QO_IN ? n->nlits : 1;
		for (size_t k = 0; k < nl; k++)
			mask |= n->lits[k].status_mask;
		return status_scans(q, l, mask);
	}
	if (a == QA_DIRTY) {
		size_t nl = op == QO_IN ? n->nlits : 1;
		for (size_t k = 0; k < nl; k++) {
			cb c = {0};
			cb_sql(&c, "git_dirty = ?");
			cb_int(&c, n->lits[k].b);
			if ((rc = add_scan(q, l, "runs", &c, C_FULL)) != 0)
				return rc;
		}
		return 0;
	}
	if (a == QA_PROJECT) {
		/* through the projects table, so runs_project_seq answers it */
		static const char *const pfrag[] = {
		    "project_id IN (SELECT id FROM projects WHERE 1", ")"};
		size_t nl = op == QO_IN ? n->nlits : 1;
		for (size_t k = 0; k < nl; k++) {
			qleaf tmp = {0};
			if ((rc = text_scans(q, &tmp, "runs", pfrag[0], NULL, 0, "name",
			                     op == QO_IN ? QO_EQ : op, &n->lits[k], 1, C_RANGE,
			                     false)) != 0)
				return rc;
			cb c = {0};
			cb_sql(&c, tmp.pos[0].cond);
			cb_sql(&c, pfrag[1]);
			for (int j = 0; j < tmp.pos[0].nb; j++)
				cb_bind(&c, tmp.pos[0].b[j]);
			if ((rc = add_scan(q, l, "runs", &c, C_RANGE)) != 0)
				return rc;
		}
		return 0;
	}
	qtype t = qfield_type(&n->f);
	if (t == QT_TEXT) {
		return text_scans(q, l, "runs", "1", NULL, 0, as.expr, op, n->lits, n->nlits,
		                  as.cost, a == QA_ID || a == QA_COMMIT || a == QA_PARENT);
	}
	/* numbers and times; the expression may take the stale time and now */
	size_t nl = op == QO_IN ? n->nlits : 1;
	for (size_t k = 0; k < nl; k++) {
		const qlit *lt = &n->lits[k];
		qop o = op == QO_IN ? QO_EQ : op;
		if (isnan(lt->num))
			continue;
		cb c = {0};
		cb_sql(&c, as.expr);
		attr_binds(q, &as, &c, false);
		cb_sql(&c, op_sql[o]);
		cb_sql(&c, "?");
		cb_num(&c, lt);
		if ((rc = add_scan(q, l, "runs", &c, as.cost)) != 0)
			return rc;
	}
	return 0;
}

/* Compile one comparison into a leaf.  `empty` leaves (a key no run has)
 * have no scans and no presence: they match nothing. */
static int compile_cmp(qctx *q, const qnode *n, qleaf *l)
{
	memset(l, 0, sizeof *l);
	bool neg;
	qop op = positive(n->op, &neg);
	l->neg = neg;
	int rc = 0;
	const qfield *f = &n->f;
	int64_t kid = 0;
	if (f->kind == QK_METRIC || f->kind == QK_PARAM) {
		if ((rc = key_id(q, f->key, &kid)) != 0)
			return rc;
		if (kid == 0) {
			l->neg = false; /* nothing has the field: nothing matches */
			return 0;
		}
	}
	qbind kb = {.t = 'i', .i = kid};
	qbind sb = {.t = 's', .s = f->key};
	switch (f->kind) {
	case QK_METRIC: {
		const char *col = metric_cols[f->part];
		int cost = f->part == QM_LAST ? C_RANGE : C_KEY;
		cb c = {0};
		cb_sql(&c, "kid = ?");
		cb_int(&c, kid);
		if ((rc = set_present(q, l, "metric_summary", &c, C_KEY)) != 0)
			return rc;
		if (op == QO_TRUE || op == QO_PRESENT)
			return add_scan(q, l, "metric_summary", &c, C_KEY);
		return num_scans(q, l, "metric_summary", "kid = ?", &kb, 1, col, op, n->lits,
		                 n->nlits, cost, f->part <= QM_MAX);
	}
	case QK_PARAM: {
		cb c = {0};
		cb_sql(&c, "kid = ?");
		cb_int(&c, kid);
		if ((rc = set_present(q, l, "params", &c, C_KEY)) != 0)
			return rc;
		if (op == QO_PRESENT)
			return add_scan(q, l, "params", &c, C_KEY);
		if (op == QO_TRUE) {
			cb_sql(&c, " AND NOT (type = 3 AND value = 0)");
			return add_scan(q, l, "params", &c, C_KEY);
		}
		return param_scans(q, l, kid, op, n->lits, n->nlits);
	}
	case QK_PROPERTY:
	case QK_DATASET: {
		bool prop = f->kind == QK_PROPERTY;
		const char *table = prop ? "properties" : "datasets";
		const char *keyfrag = prop ? "key = ?" : "name = ?";
		const char *col = prop ? "value" : data_cols[f->part];
		cb c = {0};
		cb_sql(&c, keyfrag);
		cb_txt(&c, f->key);
		if ((rc = set_present(q, l, table, &c, C_KEY)) != 0)
			return rc;
		if (op == QO_TRUE || op == QO_PRESENT)
			return add_scan(q, l, table, &c, C_KEY);
		int cost = prop || f->part == QD_DIGEST ? C_RANGE : C_KEY;
		if (qfield_type(f) == QT_NUM)
			return num_scans(q, l, table, keyfrag, &sb, 1, col, op, n->lits, n->nlits,
			                 cost, false);
		return text_scans(q, l, table, keyfrag, &sb, 1, col, op, n->lits, n->nlits, cost,
		                  false);
	}
	case QK_TAG: {
		cb c = {0};
		cb_sql(&c, "tag = ?");
		cb_txt(&c, f->key);
		return add_scan(q, l, "tags", &c, C_RANGE);
	}
	case QK_TAGS:
		l->present_all = true;
		if (op == QO_PRESENT) {
			l->all = true;
			return 0;
		}
		if (op == QO_TRUE) {
			cb c = {0};
			cb_sql(&c, "1");
			return add_scan(q, l, "tags", &c, C_FULL);
		}
		return text_scans(q, l, "tags", "1", NULL, 0, "tag", op, n->lits, n->nlits, C_RANGE,
		                  false);
	case QK_ATTR: return compile_attr(q, n, op, l);
	}
	return 0;
}

/* --- the compiled tree ------------------------------------------------------------ */

typedef struct cnode {
	qntype type;
	struct cnode **kids; /* AND / OR (flattened), NOT (one) */
	int nkids;
	qleaf leaf; /* QN_CMP */
} cnode;

/* The operands of a chain of one operator (a and b and c), in order. */
static int collect(qctx *q, const qnode *n, qntype t, const qnode ***v, int *nv, int *cap)
{
	if (n->type == t) {
		int rc = collect(q, n->l, t, v, nv, cap);
		return rc ? rc : collect(q, n->r, t, v, nv, cap);
	}
	if (*nv == *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		const qnode **nn = mem_alloc(&q->m, (size_t)ncap * sizeof *nn);
		if (!nn)
			return err_set(CAIRN_ENOMEM, "out of memory");
		if (*nv)
			memcpy(nn, *v, (size_t)*nv * sizeof *nn);
		*v = nn;
		*cap = ncap;
	}
	(*v)[(*nv)++] = n;
	return 0;
}

static bool mergeable(const qnode *n)
{
	return n->type == QN_CMP && (n->op == QO_EQ || n->op == QO_IN) && n->f.kind != QK_TAG;
}

static bool same_field(const qfield *a, const qfield *b)
{
	return a->kind == b->kind && a->part == b->part &&
	       (a->key == b->key || (a->key && b->key && strcmp(a->key, b->key) == 0));
}

static int compile_node(qctx *q, const qnode *n, cnode **out)
{
	cnode *c = mem_alloc(&q->m, sizeof *c);
	if (!c)
		return err_set(CAIRN_ENOMEM, "out of memory");
	memset(c, 0, sizeof *c);
	c->type = n->type;
	*out = c;
	int rc, nv = 0, cap = 0;
	const qnode **v = NULL;
	switch (n->type) {
	case QN_CMP: return compile_cmp(q, n, &c->leaf);
	case QN_NOT:
		c->kids = mem_alloc(&q->m, sizeof *c->kids);
		if (!c->kids)
			return err_set(CAIRN_ENOMEM, "out of memory");
		c->nkids = 1;
		return compile_node(q, n->l, &c->kids[0]);
	default:
		if ((rc = collect(q, n, n->type, &v, &nv, &cap)) != 0)
			return rc;
		if (n->type == QN_OR) {
			/* a = x or a = y or a in (z): one comparison a in (x, y, z),
			 * probed or scanned as one (its scans share one decision) */
			for (int i = 0; i < nv; i++) {
				if (!v[i] || !mergeable(v[i]))
					continue;
				size_t nl = v[i]->nlits;
				int same = 0;
				for (int j = i + 1; j < nv; j++)
					if (v[j] && mergeable(v[j]) &&
					    same_field(&v[i]->f, &v[j]->f)) {
						nl += v[j]->nlits;
						same++;
					}
				if (!same)
					continue;
				qnode *m = mem_alloc(&q->m, sizeof *m);
				qlit *lits = mem_alloc(&q->m, nl * sizeof *lits);
				if (!m || !lits)
					return err_set(CAIRN_ENOMEM, "out of memory");
				*m = *v[i];
				m->op = QO_IN;
				m->lits = lits;
				m->nlits = 0;
				for (int j = i; j < nv; j++) {
					if (!v[j] || (j > i && !(mergeable(v[j]) &&
					                         same_field(&v[i]->f, &v[j]->f))))
						continue;
					memcpy(lits + m->nlits, v[j]->lits,
					       v[j]->nlits * sizeof *lits);
					m->nlits += v[j]->nlits;
					if (j > i)
						v[j] = NULL;
				}
				v[i] = m;
			}
		}
		c->kids = mem_alloc(&q->m, (size_t)(nv ? nv : 1) * sizeof *c->kids);
		if (!c->kids)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (int i = 0; i < nv; i++) {
			if (!v[i])
				continue;
			if ((rc = compile_node(q, v[i], &c->kids[c->nkids++])) != 0)
				return rc;
		}
		if (c->nkids == 1) /* everything merged into one comparison */
			*out = c->kids[0];
		return 0;
	}
}

/* --- evaluating ------------------------------------------------------------------ */

/* Rows of a scan, counted up to cap (an estimate of its cost). */
static int scan_estimate(qctx *q, qscan *sc, int64_t cap)
{
	if (sc->cost == C_KEY) {
		sc->est = q->nruns;
		return 0;
	}
	if (sc->cost == C_FULL) {
		sc->est = q->nruns * COST_FULL;
		return 0;
	}
	if (sc->est >= 0 && (sc->est < sc->est_cap || sc->est_cap >= cap))
		return 0;
	char sql[1024];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s LIMIT ?)",
	         sc->table, sc->cond);
	sqlite3_stmt *st;
	int rc = prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	int i = bind_all(st, 1, sc->b, sc->nb);
	sqlite3_bind_int64(st, i, cap);
	int r = sqlite3_step(st);
	sc->est = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : q->nruns;
	sc->est_cap = cap;
	rc = step_err(q, st, r);
	sqlite3_reset(st);
	return rc;
}

/* Rows of the scan (members of C only, when given) into out. */
static int scan_fill(qctx *q, const qscan *sc, const rset *C, rset *out)
{
	char sql[1024];
	snprintf(sql, sizeof sql, "SELECT cairn_bits(:out, rid) FROM %s WHERE %s%s", sc->table,
	         sc->cond, C ? " AND cairn_inset(:c, rid)" : "");
	sqlite3_stmt *st;
	int rc = prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	bind_anon(st, sc->b, sc->nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":out"), out, RSET_PTR, NULL);
	if (C)
		sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":c"), (void *)C,
		                     RSET_PTR, NULL);
	rc = step_err(q, st, sqlite3_step(st));
	sqlite3_reset(st);
	return rc;
}

/* Members of C for which one of the scans has a row, probing by rid. */
static int probe(qctx *q, const qscan *scans, int n, const rset *C, rset *out)
{
	char sql[4096];
	size_t o = (size_t)snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE rid = ? AND (",
	                            scans[0].table);
	for (int k = 0; k < n && o < sizeof sql; k++)
		o += (size_t)snprintf(sql + o, sizeof sql - o, "%s(%s)", k ? " OR " : "",
		                      scans[k].cond);
	if (o + 2 >= sizeof sql)
		return err_set(CAIRN_ERROR, "internal: query condition too long");
	memcpy(sql + o, ")", 2);
	sqlite3_stmt *st;
	int rc = prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	int i = 2;
	for (int k = 0; k < n; k++)
		i = bind_all(st, i, scans[k].b, scans[k].nb);
	for (int64_t r = rset_next(C, 0); r >= 0; r = rset_next(C, r + 1)) {
		sqlite3_bind_int64(st, 1, r);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			rset_add(out, r);
		else if (s != SQLITE_DONE) {
			rc = store_sqlerr(q->s, "run the query");
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_reset(st);
	return rc;
}

/* Fill out with a range scan's rows, at most `limit` of them; *got is how
 * many (limit: the range is at least that big, out holds part of it). */
static int fill_limited(qctx *q, const qscan *sc, int64_t limit, rset *out, int64_t *got)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
	         "SELECT cairn_bits(:out, rid) FROM (SELECT rid FROM %s WHERE %s LIMIT :lim)",
	         sc->table, sc->cond);
	sqlite3_stmt *st;
	int rc = prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	bind_anon(st, sc->b, sc->nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":out"), out, RSET_PTR, NULL);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lim"), limit);
	int r = sqlite3_step(st);
	*got = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = step_err(q, st, r);
	sqlite3_reset(st);
	return rc;
}

/* out = members of C (NULL: of every run) matching any of the scans.
 *
 * With few candidates, probing them one by one may beat scanning: an index
 * range is filled with a budget of rows (what probing would cost) and the
 * fill is abandoned for probes when the ranges turn out bigger, so a scan
 * is never paid twice and a probe never costs more than twice the best. */
static int eval_scans(qctx *q, qscan *scans, int n, const rset *C, int64_t ncand, rset *out)
{
	int rc;
	if (n == 0)
		return 0;
	if (C && ncand * COST_PROBE < q->nruns * COST_FULL) {
		/* several scans probe through one OR'd condition: dearer per run */
		int64_t budget = ncand * COST_PROBE * (n > 1 ? 2 : 1);
		int64_t used = 0;
		bool ranges = false;
		for (int k = 0; k < n; k++) {
			if (scans[k].cost == C_RANGE)
				ranges = true;
			else
				used += scans[k].cost == C_KEY ? q->nruns : q->nruns * COST_FULL;
		}
		if (used > budget)
			return probe(q, scans, n, C, out);
		if (ranges) {
			rset tmp;
			if ((rc = rset_init(&tmp, q->nw)) != 0)
				return rc;
			for (int k = 0; k < n && rc == 0; k++) {
				if (scans[k].cost != C_RANGE)
					continue;
				int64_t got;
				if ((rc = fill_limited(q, &scans[k], budget - used + 1, &tmp,
				                       &got)) != 0)
					break;
				used += got;
				if (used > budget) {
					rset_free(&tmp);
					return probe(q, scans, n, C, out);
				}
			}
			for (int k = 0; k < n && rc == 0; k++)
				if (scans[k].cost != C_RANGE)
					rc = scan_fill(q, &scans[k], C, &tmp);
			if (rc == 0)
				for (size_t i = 0; i < out->nw; i++)
					out->w[i] |= tmp.w[i] & C->w[i];
			rset_free(&tmp);
			return rc;
		}
	}
	for (int k = 0; k < n; k++)
		if ((rc = scan_fill(q, &scans[k], C, out)) != 0)
			return rc;
	return 0;
}

static int eval_leaf(qctx *q, qleaf *l, const rset *C, int64_t ncand, rset *out)
{
	int rc;
	const rset *base = C;
	if (l->all || (l->neg && l->present_all)) {
		if (!base && (rc = universe(q, &base)) != 0)
			return rc;
	}
	if (l->all) {
		memcpy(out->w, base->w, out->nw * sizeof *out->w);
		return 0;
	}
	if (!l->neg)
		return eval_scans(q, l->pos, l->npos, C, ncand, out);
	if (l->present_all) {
		memcpy(out->w, base->w, out->nw * sizeof *out->w);
	} else if (l->present.cond) {
		if ((rc = eval_scans(q, &l->present, 1, C, ncand, out)) != 0)
			return rc;
	} else {
		return 0;
	}
	if (l->npos == 0)
		return 0;
	rset pos;
	if ((rc = rset_init(&pos, q->nw)) != 0)
		return rc;
	int64_t npres = rset_count(out);
	if ((rc = eval_scans(q, l->pos, l->npos, out, npres, &pos)) == 0)
		rset_andnot(out, &pos);
	rset_free(&pos);
	return rc;
}

/* Order of AND children: cheap, selective ranges first. */
static int64_t node_rank(qctx *q, cnode *c, int *rc)
{
	if (c->type != QN_CMP)
		return INT64_MAX / 2;
	qleaf *l = &c->leaf;
	if (l->npos == 0 && !l->all && !(l->neg && l->present_all))
		return l->neg && l->present.cond ? q->nruns : -1; /* matches nothing: first */
	if (l->all)
		return q->nruns * 4;
	if (l->neg)
		return q->nruns * 3;
	int64_t est = 0;
	for (int k = 0; k < l->npos; k++) {
		if ((*rc = scan_estimate(q, &l->pos[k], EST_CAP)) != 0)
			return 0;
		est += l->pos[k].est;
	}
	return est;
}

typedef struct ranked {
	cnode *c;
	int64_t rank;
	int idx;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->idx - y->idx;
}

static int eval_node(qctx *q, cnode *c, const rset *C, int64_t ncand, rset *out)
{
	int rc = 0;
	switch (c->type) {
	case QN_CMP: return eval_leaf(q, &c->leaf, C, ncand, out);
	case QN_NOT: {
		const rset *base = C;
		if (!base && (rc = universe(q, &base)) != 0)
			return rc;
		rset r;
		if ((rc = rset_init(&r, q->nw)) != 0)
			return rc;
		int64_t nb = C ? ncand : rset_count(base);
		if ((rc = eval_node(q, c->kids[0], base, nb, &r)) == 0) {
			memcpy(out->w, base->w, out->nw * sizeof *out->w);
			rset_andnot(out, &r);
		}
		rset_free(&r);
		return rc;
	}
	case QN_OR: {
		rset rem = {0}, r;
		if (C && (rc = rset_copy(&rem, C)) != 0)
			return rc;
		if ((rc = rset_init(&r, q->nw)) != 0) {
			rset_free(&rem);
			return rc;
		}
		int64_t left = ncand;
		for (int k = 0; k < c->nkids && rc == 0; k++) {
			memset(r.w, 0, r.nw * sizeof *r.w);
			if ((rc = eval_node(q, c->kids[k], C ? &rem : NULL, left, &r)) != 0)
				break;
			rset_or(out, &r);
			if (C) {
				rset_andnot(&rem, &r);
				left = rset_count(&rem);
				if (left == 0)
					break;
			}
		}
		rset_free(&r);
		rset_free(&rem);
		return rc;
	}
	case QN_AND: {
		ranked *order = malloc((size_t)c->nkids * sizeof *order);
		if (!order)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (int k = 0; k < c->nkids && rc == 0; k++) {
			order[k].c = c->kids[k];
			order[k].idx = k;
			order[k].rank = node_rank(q, c->kids[k], &rc);
		}
		if (rc) {
			free(order);
			return rc;
		}
		qsort(order, (size_t)c->nkids, sizeof *order, cmp_ranked);
		rset cur = {0}, r = {0};
		bool have = false;
		int64_t n = ncand;
		for (int k = 0; k < c->nkids; k++) {
			if ((rc = rset_init(&r, q->nw)) != 0)
				break;
			if ((rc = eval_node(q, order[k].c, have ? &cur : C, have ? n : ncand,
			                    &r)) != 0)
				break;
			rset_free(&cur);
			cur = r;
			r.w = NULL;
			have = true;
			n = rset_count(&cur);
			if (n == 0)
				break;
		}
		if (rc == 0)
			memcpy(out->w, cur.w, out->nw * sizeof *out->w);
		rset_free(&r);
		rset_free(&cur);
		free(order);
		return rc;
	}
	}
	return 0;
}

/* The set of matching runs, visible ones only (project, not deleted). */
static int match_set(qctx *q, const store_query *sq, rset *out)
{
	int rc;
	if ((rc = rset_init(out, q->nw)) != 0)
		return rc;
	cnode *root = NULL;
	if (sq->q && sq->q->root && (rc = compile_node(q, sq->q->root, &root)) != 0)
		return rc;
	if (sq->project) {
		/* the project is one more conjunct, planned like the others */
		qlit lit = {.kind = QL_STR, .text = sq->project};
		qnode pn = {.type = QN_CMP,
		            .f = {.kind = QK_ATTR, .part = QA_PROJECT},
		            .op = QO_EQ,
		            .lits = &lit,
		            .nlits = 1};
		cnode *pc;
		if ((rc = compile_node(q, &pn, &pc)) != 0)
			return rc;
		if (root) {
			cnode *and = mem_alloc(&q->m, sizeof *and);
			cnode **kids = mem_alloc(&q->m, 2 * sizeof *kids);
			if (!and || !kids)
				return err_set(CAIRN_ENOMEM, "out of memory");
			memset(and, 0, sizeof *and);
			and->type = QN_AND;
			kids[0] = pc;
			kids[1] = root;
			and->kids = kids;
			and->nkids = 2;
			root = and;
		} else {
			root = pc;
		}
	}
	if (root) {
		if ((rc = eval_node(q, root, NULL, q->nruns, out)) != 0)
			return rc;
	} else {
		const rset *u;
		if ((rc = universe(q, &u)) != 0)
			return rc;
		memcpy(out->w, u->w, out->nw * sizeof *out->w);
	}
	if (!sq->include_deleted) {
		rset del;
		if ((rc = rset_init(&del, q->nw)) != 0)
			return rc;
		rc = run_bits(q, "SELECT cairn_bits(?, rid) FROM runs WHERE deleted > 0", NULL, 0,
		              &del);
		rset_andnot(out, &del);
		rset_free(&del);
	}
	return rc;
}

/* --- sort keys and values ------------------------------------------------------------ */

enum { V_NUM, V_TEXT, V_NAN, V_MISSING };

typedef struct sval {
	uint8_t cls;
	uint8_t type; /* param type (ties between equal numbers of different types) */
	bool is_int;
	int64_t i;
	double d;
	const char *s;
} sval;

/* How to read one field's value for a run. */
typedef struct skey {
	const char *table;
	char keycond[256];
	qbind b[MAXB];
	int nb;
	char val[320];    /* value columns */
	int form;         /* how to read them */
	bool present_all; /* every run has a row (runs columns) */
	bool desc;
	/* walking the index in order: */
	bool walk;
	char walk_notnull[64];
	char walk_order[64];
} skey;

enum { F_METRIC, F_PARAM, F_TEXT, F_NUM, F_STATUS };

static int make_key(qctx *q, const qfield *f, bool desc, skey *k)
{
	memset(k, 0, sizeof *k);
	k->desc = desc;
	cb c = {0};
	int rc;
	switch (f->kind) {
	case QK_METRIC:
	case QK_PARAM: {
		int64_t kid;
		if ((rc = key_id(q, f->key, &kid)) != 0)
			return rc;
		cb_sql(&c, "kid = ?");
		cb_int(&c, kid);
		if (f->kind == QK_METRIC) {
			k->table = "metric_summary";
			snprintf(k->val, sizeof k->val, "%s", metric_cols[f->part]);
			k->form = F_METRIC;
			if (f->part == QM_LAST) {
				k->walk = true;
				snprintf(k->walk_notnull, sizeof k->walk_notnull,
				         "last IS NOT NULL");
				snprintf(k->walk_order, sizeof k->walk_order, "last %s",
				         desc ? "DESC" : "ASC");
			}
		} else {
			k->table = "params";
			snprintf(k->val, sizeof k->val, "value, type");
			k->form = F_PARAM;
			k->walk = true;
			snprintf(k->walk_notnull, sizeof k->walk_notnull, "value IS NOT NULL");
			snprintf(k->walk_order, sizeof k->walk_order, "value %s, type %s",
			         desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
		}
		break;
	}
	case QK_PROPERTY:
	case QK_DATASET:
		k->table = f->kind == QK_PROPERTY ? "properties" : "datasets";
		cb_sql(&c, f->kind == QK_PROPERTY ? "key = ?" : "name = ?");
		cb_txt(&c, f->key);
		snprintf(k->val, sizeof k->val, "%s",
		         f->kind == QK_PROPERTY ? "value" : data_cols[f->part]);
		k->form = qfield_type(f) == QT_NUM ? F_NUM : F_TEXT;
		break;
	case QK_ATTR: {
		attr_sql as = attr_of((qattr)f->part);
		k->table = "runs";
		k->present_all = true;
		cb_sql(&c, "1");
		snprintf(k->val, sizeof k->val, "%s", as.expr);
		/* the value expression's binds come first in the statement; keep
		 * them in the key's bind list and put the value in the SELECT */
		attr_binds(q, &as, &c, false);
		qtype t = qfield_type(f);
		k->form = (qattr)f->part == QA_STATUS ? F_STATUS : t == QT_TEXT ? F_TEXT : F_NUM;
		qattr a = (qattr)f->part;
		if (a == QA_STARTED || a == QA_NAME || a == QA_ENDED) {
			k->walk = true;
			const char *col = a == QA_STARTED ? "start_time"
			                  : a == QA_NAME  ? "name"
			                                  : "end_time";
			snprintf(k->walk_notnull, sizeof k->walk_notnull, "%s IS NOT NULL", col);
			snprintf(k->walk_order, sizeof k->walk_order, "%s %s", col,
			         desc ? "DESC" : "ASC");
		}
		break;
	}
	default: return err_set(CAIRN_EINVALID, "cannot sort by this field");
	}
	if (c.overflow)
		return err_set(CAIRN_ERROR, "internal: sort key too long");
	memcpy(k->keycond, c.sql, c.len + 1);
	memcpy(k->b, c.b, sizeof c.b);
	k->nb = c.nb;
	return 0;
}

/* The value columns of a row (starting at column c0) as an sval. */
static int read_val(qctx *q, const skey *k, sqlite3_stmt *st, int c0, sval *v)
{
	memset(v, 0, sizeof *v);
	int t = sqlite3_column_type(st, c0);
	switch (k->form) {
	case F_METRIC:
		if (t == SQLITE_NULL) {
			v->cls = V_NAN;
		} else {
			v->cls = V_NUM;
			v->d = sqlite3_column_double(st, c0);
			if (t == SQLITE_INTEGER) {
				v->is_int = true;
				v->i = sqlite3_column_int64(st, c0);
			}
		}
		return 0;
	case F_PARAM: {
		int type = sqlite3_column_int(st, c0 + 1);
		v->type = (uint8_t)type;
		if (t == SQLITE_NULL) {
			v->cls = V_NAN;
		} else if (type == CAIRN_TYPE_STRING || t == SQLITE_TEXT) {
			v->cls = V_TEXT;
			const char *s = (const char *)sqlite3_column_text(st, c0);
			v->s = mem_strdup(&q->m, s ? s : "", (size_t)sqlite3_column_bytes(st, c0));
		} else {
			v->cls = V_NUM;
			v->d = sqlite3_column_double(st, c0);
			if (t == SQLITE_INTEGER) {
				v->is_int = true;
				v->i = sqlite3_column_int64(st, c0);
			}
		}
		break;
	}
	case F_STATUS:
		if (t == SQLITE_NULL) {
			v->cls = V_MISSING;
		} else {
			v->cls = V_TEXT;
			v->s = cairn_status_name((cairn_status)sqlite3_column_int(st, c0));
		}
		return 0;
	case F_TEXT:
		if (t == SQLITE_NULL) {
			v->cls = V_MISSING;
		} else {
			v->cls = V_TEXT;
			const char *s = (const char *)sqlite3_column_text(st, c0);
			v->s = mem_strdup(&q->m, s ? s : "", (size_t)sqlite3_column_bytes(st, c0));
		}
		break;
	default:
		if (t == SQLITE_NULL) {
			v->cls = V_MISSING;
		} else if (t == SQLITE_TEXT) {
			v->cls = V_TEXT;
			const char *s = (const char *)sqlite3_column_text(st, c0);
			v->s = mem_strdup(&q->m, s ? s : "", (size_t)sqlite3_column_bytes(st, c0));
		} else {
			v->cls = V_NUM;
			v->d = sqlite3_column_double(st, c0);
			if (t == SQLITE_INTEGER) {
				v->is_int = true;
				v->i = sqlite3_column_int64(st, c0);
			}
		}
		return 0;
	}
	if ((v->cls == V_TEXT && !v->s))
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* Order of two values of one key (direction applied; NaN and missing last). */
static int cmp_val(const sval *a, const sval *b, bool desc)
{
	bool ap = a->cls <= V_TEXT, bp = b->cls <= V_TEXT;
	if (!ap || !bp)
		return (int)a->cls - (int)b->cls; /* present < NaN < missing, always */
	int r;
	if (a->cls != b->cls) {
		r = a->cls == V_NUM ? -1 : 1;
	} else if (a->cls == V_TEXT) {
		r = strcmp(a->s, b->s);
		r = (r > 0) - (r < 0);
	} else {
		if (a->is_int && b->is_int)
			r = (a->i > b->i) - (a->i < b->i);
		else
			r = (a->d > b->d) - (a->d < b->d);
		if (r == 0)
			r = (a->type > b->type) - (a->type < b->type);
	}
	return desc ? -r : r;
}

static bool same_val(const sval *a, const sval *b)
{
	if (a->cls != b->cls)
		return false;
	if (a->cls >= V_NAN)
		return a->type == b->type;
	return cmp_val(a, b, false) == 0;
}

/* Rows being sorted: rid and one value per key. */
typedef struct srows {
	int64_t *rid;
	sval *v; /* n * nkeys */
	size_t n, cap;
	int nkeys;
} srows;

static int srows_add(srows *r, int64_t rid)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		int64_t *nr = realloc(r->rid, nc * sizeof *nr);
		if (!nr)
			return err_set(CAIRN_ENOMEM, "out of memory");
		r->rid = nr;
		sval *nv = realloc(r->v, nc * (size_t)r->nkeys * sizeof *nv);
		if (!nv)
			return err_set(CAIRN_ENOMEM, "out of memory");
		r->v = nv;
		r->cap = nc;
	}
	r->rid[r->n] = rid;
	for (int k = 0; k < r->nkeys; k++)
		r->v[r->n * (size_t)r->nkeys + (size_t)k] = (sval){.cls = V_MISSING};
	r->n++;
	return 0;
}

static void srows_free(srows *r)
{
	free(r->rid);
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* Fill key k's values for rows [from, n) of r (any order of rids). */
static int gather(qctx *q, const skey *key, int k, srows *r, size_t from)
{
	size_t n = r->n - from;
	if (n == 0)
		return 0;
	int rc;
	sqlite3_stmt *st;
	char sql[1024];
	int ridx = key->nb + 1; /* the value's and key's binds come first in the text */
	if ((int64_t)n * COST_PROBE < q->nruns * COST_FULL) {
		snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s AND rid = ?%d", key->val,
		         key->table, key->keycond, ridx);
		if ((rc = prep(q, sql, &st)) != 0)
			return rc;
		bind_all(st, 1, key->b, key->nb);
		for (size_t i = from; i < r->n && rc == 0; i++) {
			sqlite3_bind_int64(st, ridx, r->rid[i]);
			int s = sqlite3_step(st);
			if (s == SQLITE_ROW)
				rc = read_val(q, key, st, 0,
				              &r->v[i * (size_t)r->nkeys + (size_t)k]);
			else if (s != SQLITE_DONE)
				rc = store_sqlerr(q->s, "run the query");
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		return rc;
	}
	/* many rows: one pass over the key's rows, members only */
	rset set;
	rrank rk = {0};
	size_t *row_of = malloc(n * sizeof *row_of);
	if (!row_of)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = rset_init(&set, q->nw)) != 0) {
		free(row_of);
		return rc;
	}
	for (size_t i = from; i < r->n; i++)
		rset_add(&set, r->rid[i]);
	if ((rc = rrank_init(&rk, &set)) != 0)
		goto done;
	for (size_t i = from; i < r->n; i++)
		row_of[rrank_of(&rk, r->rid[i])] = i;
	snprintf(sql, sizeof sql, "SELECT rid, %s FROM %s WHERE %s AND cairn_inset(?%d, rid)",
	         key->val, key->table, key->keycond, ridx);
	if ((rc = prep(q, sql, &st)) == 0) {
		bind_all(st, 1, key->b, key->nb);
		sqlite3_bind_pointer(st, ridx, &set, RSET_PTR, NULL);
		int s;
		while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
			size_t i = row_of[rrank_of(&rk, sqlite3_column_int64(st, 0))];
			rc = read_val(q, key, st, 1, &r->v[i * (size_t)r->nkeys + (size_t)k]);
		}
		if (rc == 0 && s != SQLITE_DONE)
			rc = store_sqlerr(q->s, "run the query");
		sqlite3_finalize(st);
	}
done:
	free(rk.pre);
	free(row_of);
	rset_free(&set);
	return rc;
}

typedef struct sort_ctx {
	const srows *r;
	const skey *keys;
	int nkeys;
} sort_ctx;

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const sort_ctx *c = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	for (int k = 0; k < c->nkeys; k++) {
		int r = cmp_val(&c->r->v[i * (size_t)c->nkeys + (size_t)k],
		                &c->r->v[j * (size_t)c->nkeys + (size_t)k], c->keys[k].desc);
		if (r)
			return r;
	}
	int64_t x = c->r->rid[i], y = c->r->rid[j];
	return (x < y) - (x > y); /* newest (highest rid) first */
}

/* Sort rows [from, n) and append their rids in order to out. */
static int sort_append(srows *r, size_t from, const skey *keys, int nkeys, int64_t *out,
                       size_t *nout, size_t need)
{
	size_t n = r->n - from;
	size_t *idx = malloc((n ? n : 1) * sizeof *idx);
	if (!idx)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		idx[i] = from + i;
	sort_ctx c = {r, keys, nkeys};
	qsort_r(idx, n, sizeof *idx, cmp_rows, &c);
	for (size_t i = 0; i < n && *nout < need; i++)
		out[(*nout)++] = r->rid[idx[i]];
	free(idx);
	return 0;
}

/* The first `need` members of M in sort order, into out (ascending order of
 * position). */
static int top_k(qctx *q, const rset *M, int64_t nm, skey *keys, int nkeys, size_t need,
                 int64_t *out, size_t *nout)
{
	int rc = 0;
	srows r = {.nkeys = nkeys};
	*nout = 0;
	if (need == 0 || nm == 0)
		return 0;
	/* Walk the first key's index when that scans fewer rows than gathering. */
	int64_t walk_cost = (int64_t)need * (q->nruns / (nm ? nm : 1) + 1);
	int64_t gather_cost = nm * COST_PROBE < q->nruns * COST_FULL ? nm * COST_PROBE : q->nruns;
	if (keys[0].walk && walk_cost < gather_cost) {
		char sql[1024];
		snprintf(
		    sql, sizeof sql,
		    "SELECT rid, %s FROM %s WHERE %s AND %s AND cairn_inset(?%d, rid) ORDER BY %s",
		    keys[0].val, keys[0].table, keys[0].keycond, keys[0].walk_notnull,
		    keys[0].nb + 1, keys[0].walk_order);
		sqlite3_stmt *st;
		if ((rc = prep(q, sql, &st)) != 0)
			return rc;
		bind_all(st, 1, keys[0].b, keys[0].nb);
		sqlite3_bind_pointer(st, keys[0].nb + 1, (void *)M, RSET_PTR, NULL);
		int s;
		bool exhausted = false;
		sval edge = {0};
		for (;;) {
			s = sqlite3_step(st);
			if (s != SQLITE_ROW) {
				exhausted = s == SQLITE_DONE;
				break;
			}
			sval v;
			if ((rc = read_val(q, &keys[0], st, 1, &v)) != 0)
				break;
			if (r.n >= need && !same_val(&v, &edge))
				break; /* past the last tie of the k-th row */
			if ((rc = srows_add(&r, sqlite3_column_int64(st, 0))) != 0)
				break;
			r.v[(r.n - 1) * (size_t)nkeys] = v;
			if (r.n == need)
				edge = v;
		}
		if (rc == 0 && s != SQLITE_ROW && s != SQLITE_DONE)
			rc = store_sqlerr(q->s, "run the query");
		sqlite3_finalize(st);
		if (rc)
			goto done;
		/* The walked rows, sorted by every key. */
		size_t nwalked = r.n;
		for (int k = 1; k < nkeys && rc == 0; k++)
			rc = gather(q, &keys[k], k, &r, 0);
		if (rc == 0)
			rc = sort_append(&r, 0, keys, nkeys, out, nout, need);
		if (rc == 0 && exhausted && *nout < need) {
			/* the rest have no value for the first key (NaN or missing) */
			rset rest;
			if ((rc = rset_copy(&rest, M)) == 0) {
				for (size_t i = 0; i < nwalked; i++)
					rest.w[r.rid[i] >> 6] &= ~(1ull << (r.rid[i] & 63));
				for (int64_t x = rset_next(&rest, 0); x >= 0 && rc == 0;
				     x = rset_next(&rest, x + 1))
					rc = srows_add(&r, x);
				for (int k = 0; k < nkeys && rc == 0; k++)
					rc = gather(q, &keys[k], k, &r, nwalked);
				if (rc == 0)
					rc = sort_append(&r, nwalked, keys, nkeys, out, nout, need);
				rset_free(&rest);
			}
		}
		goto done;
	}
	for (int64_t x = rset_next(M, 0); x >= 0 && rc == 0; x = rset_next(M, x + 1))
		rc = srows_add(&r, x);
	for (int k = 0; k < nkeys && rc == 0; k++)
		rc = gather(q, &keys[k], k, &r, 0);
	if (rc == 0)
		rc = sort_append(&r, 0, keys, nkeys, out, nout, need);
done:
	srows_free(&r);
	return rc;
}

/* --- the page of a query ---------------------------------------------------- */

int sqlite_query_page(cairn_store *s, const store_query *sq, int64_t **out_rids, size_t *out_n,
                      int64_t *out_total)
{
	qctx q;
	rset M = {0};
	int64_t *ids = NULL;
	int rc;
	*out_rids = NULL;
	*out_n = 0;
	*out_total = 0;
	store_lock(s);
	if ((rc = ctx_open(&q, s)) != 0)
		goto done;
	if ((rc = match_set(&q, sq, &M)) != 0)
		goto done;
	int64_t total = rset_count(&M);
	size_t off = sq->offset > 0 ? (size_t)sq->offset : 0;
	size_t need = (size_t)total;
	if (sq->limit > 0 && off + (size_t)sq->limit < need)
		need = off + (size_t)sq->limit;
	skey keys[QUERY_MAX_SORT];
	int nkeys = 0;
	if (sq->nkeys == 0) {
		qfield started = {.kind = QK_ATTR, .part = QA_STARTED};
		if ((rc = make_key(&q, &started, true, &keys[0])) != 0)
			goto done;
		nkeys = 1;
	}
	for (size_t k = 0; k < sq->nkeys && k < QUERY_MAX_SORT; k++)
		if ((rc = make_key(&q, &sq->keys[k].f, sq->keys[k].desc, &keys[nkeys++])) != 0)
			goto done;
	size_t nout = 0;
	ids = malloc((need ? need : 1) * sizeof *ids);
	if (!ids) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if (off < need && (rc = top_k(&q, &M, total, keys, nkeys, need, ids, &nout)) != 0)
		goto done;
	if (nout > off)
		memmove(ids, ids + off, (nout - off) * sizeof *ids);
	*out_rids = ids;
	*out_n = nout > off ? nout - off : 0;
	*out_total = total;
	ids = NULL;
done:
	free(ids);
	rset_free(&M);
	ctx_close(&q);
	store_unlock(s);
	return rc;
}

/* --- grouping ------------------------------------------------------------------------
 *
 * Two passes, neither returning rows per run: GROUP BY the field over the
 * matches with an aggregate (cairn_gid) that writes each run's group number
 * into an array indexed by rid, then one pass over the metric's rows with an
 * aggregate (cairn_gstat) that adds each value to its run's group.
 */

typedef struct gstat {
	int64_t count, nvals;
	double min, max, sum;
} gstat;

#define GID_OUT  (-2) /* not a match */
#define GID_NONE (-1) /* a match without the field */

typedef struct gctx {
	int32_t *gid; /* by rid: group number, GID_NONE or GID_OUT */
	int64_t maxrid;
	int32_t ngroups;
	gstat *stats; /* ngroups + 1 (the last: runs without the field) */
} gctx;

#define GCTX_PTR "cairn_gctx"

static void fn_gid_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	gctx *g = sqlite3_value_pointer(argv[0], GCTX_PTR);
	int32_t *id = sqlite3_aggregate_context(ctx, 2 * sizeof *id);
	if (!g || !id)
		return;
	int64_t rid = sqlite3_value_int64(argv[1]);
	if (rid < 0 || rid > g->maxrid || g->gid[rid] == GID_OUT)
		return; /* not a match */
	if (!id[1]) {
		id[0] = g->ngroups++;
		id[1] = 1;
	}
	g->gid[rid] = id[0];
}

static void fn_gid_final(sqlite3_context *ctx)
{
	int32_t *id = sqlite3_aggregate_context(ctx, 0);
	sqlite3_result_int(ctx, id && id[1] ? id[0] : -1);
}

static void fn_gstat_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)ctx;
	gctx *g = sqlite3_value_pointer(argv[0], GCTX_PTR);
	int t = sqlite3_value_type(argv[2]);
	if (!g || (t != SQLITE_INTEGER && t != SQLITE_FLOAT))
		return;
	int64_t rid = sqlite3_value_int64(argv[1]);
	if (rid < 0 || rid > g->maxrid || g->gid[rid] == GID_OUT)
		return;
	double v = sqlite3_value_double(argv[2]);
	if (isnan(v))
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

static void fn_gstat_final(sqlite3_context *ctx)
{
	sqlite3_result_null(ctx);
}

static int ensure_group_functions(cairn_store *s)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(store_sqlite_db(s),
	                       "SELECT cairn_gid(NULL, 0), cairn_gstat(NULL, 0, 0)", -1, &st,
	                       NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
	if (sqlite3_create_function_v2(store_sqlite_db(s), "cairn_gid", 2, flags, NULL, NULL,
	                               fn_gid_step, fn_gid_final, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(store_sqlite_db(s), "cairn_gstat", 3, flags, NULL, NULL,
	                               fn_gstat_step, fn_gstat_final, NULL) != SQLITE_OK)
		return store_sqlerr(s, "register the query functions");
	return 0;
}

typedef struct group {
	sval v;
	int32_t id; /* aggregate group number, -1: runs without the field */
	int64_t count;
	gstat st;
} group;

static void put_sval(buf *b, const sval *v)
{
	switch (v->cls) {
	case V_NUM:
		if (v->type == CAIRN_TYPE_BOOL) {
			json_bool(b, v->i != 0);
		} else if (v->is_int && v->type != CAIRN_TYPE_FLOAT) {
			json_int(b, v->i);
		} else {
			/* a float param stays recognisable as a float ("1.0"), as in run JSON */
			size_t before = b->len;
			json_num(b, v->d);
			if (v->type == CAIRN_TYPE_FLOAT && isfinite(v->d) &&
			    !memchr(b->ptr + before, '.', b->len - before) &&
			    !memchr(b->ptr + before, 'e', b->len - before))
				buf_puts(b, ".0");
		}
		break;
	case V_TEXT: json_str(b, v->s); break;
	case V_NAN: buf_puts(b, "\"NaN\""); break;
	default: buf_puts(b, "null");
	}
}

static int cmp_groups(const void *a, const void *b)
{
	const group *x = a, *y = b;
	return cmp_val(&x->v, &y->v, false);
}

int sqlite_query_group_json(cairn_store *s, const store_query *sq, const qfield *gf,
                            const qfield *mf, buf *b)
{
	qctx q;
	rset M = {0};
	gctx g = {0};
	group *groups = NULL;
	size_t ng = 0, capg = 0;
	bool own = false;
	sqlite3_stmt *st = NULL;
	int rc;
	char sql[1024];
	store_lock(s);
	if ((rc = store_read_begin(s, &own)) != 0)
		goto done_unlocked;
	if ((rc = ctx_open(&q, s)) != 0 || (rc = ensure_group_functions(s)) != 0)
		goto done;
	if ((rc = match_set(&q, sq, &M)) != 0)
		goto done;
	int64_t total = rset_count(&M);
	skey gk;
	if ((rc = make_key(&q, gf, false, &gk)) != 0)
		goto done;
	g.maxrid = q.maxrid;
	g.gid = malloc(((size_t)q.maxrid + 1) * sizeof *g.gid);
	if (!g.gid) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (int64_t i = 0; i <= q.maxrid; i++)
		g.gid[i] = rset_has(&M, i) ? GID_NONE : GID_OUT;
	/* pass 1: the groups, each match's group number through cairn_gid
	 * (which skips runs that are not matches: no cairn_inset needed) */
	int nv = gk.form == F_PARAM ? 2 : 1;
	snprintf(sql, sizeof sql, "SELECT %s, cairn_gid(:g, rid) FROM %s WHERE %s GROUP BY %s",
	         gk.val, gk.table, gk.keycond, nv == 2 ? "1, 2" : "1");
	if ((rc = prep(&q, sql, &st)) != 0)
		goto done;
	bind_anon(st, gk.b, gk.nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":g"), &g, GCTX_PTR, NULL);
	int srow;
	int64_t grouped = 0;
	typedef struct pending {
		sval v;
		int32_t id;
	} pending;
	pending *pend = NULL;
	size_t np = 0, capp = 0;
	while ((srow = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, nv) == SQLITE_NULL || sqlite3_column_int(st, nv) < 0)
			continue; /* a value no match has */
		if (np == capp) {
			capp = capp ? capp * 2 : 16;
			pending *n = realloc(pend, capp * sizeof *n);
			if (!n) {
				free(pend);
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				goto done;
			}
			pend = n;
		}
		if ((rc = read_val(&q, &gk, st, 0, &pend[np].v)) != 0) {
			free(pend);
			goto done;
		}
		pend[np++].id = sqlite3_column_int(st, nv);
	}
	if (srow != SQLITE_DONE) {
		free(pend);
		rc = store_sqlerr(s, "run the query");
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* sizes of the groups, from the group numbers */
	int64_t *counts = calloc((size_t)g.ngroups + 1, sizeof *counts);
	if (!counts) {
		free(pend);
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (int64_t r = 0; r <= q.maxrid; r++)
		if (g.gid[r] >= 0)
			counts[g.gid[r]]++;
	for (size_t k = 0; k < np && rc == 0; k++) {
		sval v = pend[k].v;
		int32_t id = pend[k].id;
		int64_t cnt = counts[id];
		if (v.cls == V_MISSING) {
			/* a NULL column: these runs are in the missing group */
			for (int64_t r = 0; r <= q.maxrid; r++)
				if (g.gid[r] == id)
					g.gid[r] = GID_NONE;
			continue;
		}
		if (ng == capg) {
			capg = capg ? capg * 2 : 16;
			group *n = realloc(groups, (capg + 1) * sizeof *n);
			if (!n) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			groups = n;
		}
		memset(&groups[ng], 0, sizeof groups[ng]);
		groups[ng].v = v;
		groups[ng].id = id;
		groups[ng].count = cnt;
		grouped += cnt;
		ng++;
	}
	free(pend);
	free(counts);
	if (rc)
		goto done;
	/* pass 2: the metric's values into their runs' groups */
	g.stats = calloc((size_t)g.ngroups + 1, sizeof *g.stats);
	if (!g.stats) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if (mf) {
		skey mk;
		if ((rc = make_key(&q, mf, false, &mk)) != 0)
			goto done;
		snprintf(sql, sizeof sql, "SELECT cairn_gstat(:g, rid, %s) FROM %s WHERE %s",
		         mk.form == F_PARAM ? "CASE WHEN type IN (1, 2) THEN value END" : mk.val,
		         mk.table, mk.keycond);
		if ((rc = prep(&q, sql, &st)) != 0)
			goto done;
		bind_anon(st, mk.b, mk.nb);
		sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":g"), &g, GCTX_PTR,
		                     NULL);
		if ((rc = step_err(&q, st, sqlite3_step(st))) != 0)
			goto done;
		sqlite3_finalize(st);
		st = NULL;
	}
	/* the runs without the field form the last group */
	if (!groups && !(groups = malloc(sizeof *groups))) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	memset(&groups[ng], 0, sizeof groups[ng]);
	groups[ng].v.cls = V_MISSING;
	groups[ng].id = -1;
	groups[ng].count = total - grouped;
	for (size_t k = 0; k <= ng; k++)
		groups[k].st = g.stats[groups[k].id < 0 ? g.ngroups : groups[k].id];
	qsort(groups, ng, sizeof *groups, cmp_groups);
	char gname[320], mname[320];
	qfield_name(gname, sizeof gname, gf);
	if (mf)
		qfield_name(mname, sizeof mname, mf);
	buf_puts(b, "{\"total\":");
	json_int(b, total);
	buf_puts(b, ",\"group_by\":");
	json_str(b, gname);
	buf_puts(b, ",\"metric\":");
	json_str(b, mf ? mname : NULL);
	buf_puts(b, ",\"groups\":[");
	bool first = true;
	for (size_t k = 0; k <= ng; k++) {
		group *gr = &groups[k];
		if (k == ng && gr->count == 0)
			break;
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_puts(b, "{\"value\":");
		put_sval(b, &gr->v);
		if (k == ng)
			buf_puts(b, ",\"missing\":true");
		buf_puts(b, ",\"count\":");
		json_int(b, gr->count);
		buf_puts(b, ",\"metric\":");
		json_str(b, mf ? mname : NULL);
		buf_puts(b, ",\"values\":");
		json_int(b, gr->st.nvals);
		static const char *const names[] = {",\"min\":", ",\"mean\":", ",\"max\":"};
		double vals[] = {gr->st.min, gr->st.nvals ? gr->st.sum / (double)gr->st.nvals : 0,
		                 gr->st.max};
		for (int j = 0; j < 3; j++) {
			buf_puts(b, names[j]);
			if (gr->st.nvals)
				json_num(b, vals[j]);
			else
				buf_puts(b, "null");
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	if (!buf_ok(b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	sqlite3_finalize(st);
	free(g.gid);
	free(g.stats);
	free(groups);
	rset_free(&M);
	ctx_close(&q);
	store_read_end(s, own);
done_unlocked:
	store_unlock(s);
	return rc;
}
