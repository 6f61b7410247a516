/*
 * lib/store/sqlite/scan.c — the SQLite store's scans (lib/store/scan.h): a
 * scan descriptor becomes one fixed SQL condition over one table that an
 * index answers as a range — params by (kid, value, type, rid), metric
 * summaries by (kid, last, rid), tags by (tag, rid), properties by (key,
 * value, rid), datasets by (name, digest, rid), run attributes by their own
 * indexes — with every value bound.
 *
 * A part fills a set through an aggregate function, so no row crosses into
 * C: SELECT cairn_bits(:out, rid) FROM t WHERE cond walks the index range
 * inside SQLite and sets one bit per row (~65 ns per index row);
 * cairn_inset(:c, rid) restricts a statement to a set.  Probing looks each
 * candidate up through the table's primary key (~0.8 µs per run).  A glob's
 * literal prefix becomes a range (value >= 'res' AND value < 'ret'); LIKE,
 * case-sensitive as in MLflow, runs as a GLOB; ILIKE as SQLite's LIKE.
 *
 * Invariants: no text of the query reaches SQL except through bindings;
 * every SQL string is assembled from the fixed fragments here and in
 * scan-key.c.  A context holds the store's lock and one read transaction
 * from open to close; statements it prepares are finalized at close.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/scan-sql.h"

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

/* --- statements ------------------------------------------------------------------ */

int scan_bind_all(sqlite3_stmt *st, int first, const qbind *b, int nb)
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

void scan_bind_anon(sqlite3_stmt *st, const qbind *b, int nb)
{
	int n = sqlite3_bind_parameter_count(st), k = 0;
	for (int i = 1; i <= n && k < nb; i++)
		if (!sqlite3_bind_parameter_name(st, i))
			scan_bind_all(st, i, &b[k++], 1);
}

int scan_prep(store_scan_ctx *q, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store_sqlerr(q->s, "prepare the query");
	}
	return 0;
}

int scan_prep_reuse(store_scan_ctx *q, const char *sql, sqlite3_stmt **st)
{
	for (int i = 0; i < q->ncache; i++) {
		if (strcmp(q->cache[i].sql, sql) == 0) {
			*st = q->cache[i].st;
			sqlite3_reset(*st);
			sqlite3_clear_bindings(*st);
			return 0;
		}
	}
	int rc = scan_prep(q, sql, st);
	if (rc)
		return rc;
	const char *copy = arena_strndup(q->mem, sql, strlen(sql));
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

int scan_step_err(store_scan_ctx *q, int rc)
{
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return store_sqlerr(q->s, "run the query");
}

static int64_t scalar_int(store_scan_ctx *q, const char *sql, int *rc)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	if ((*rc = scan_prep(q, sql, &st)) != 0)
		return 0;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		*rc = scan_step_err(q, r);
	sqlite3_finalize(st);
	return v;
}

int scan_key_id(store_scan_ctx *q, const char *key, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = scan_prep(q, "SELECT id FROM keys WHERE name = ?", &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = scan_step_err(q, r);
	sqlite3_finalize(st);
	return rc;
}

/* --- the context ------------------------------------------------------------------ */

static void scan_close(store_scan_ctx *q)
{
	if (!q)
		return;
	for (int i = 0; i < q->ncache; i++)
		sqlite3_finalize(q->cache[i].st);
	q->ncache = 0;
	store_read_end(q->s, q->own_read);
	store_unlock(q->s);
}

static int scan_open(cairn_store *s, arena *mem, store_scan_ctx **out, store_scan_info *info)
{
	int rc;
	*out = NULL;
	store_scan_ctx *q = arena_zalloc(mem, sizeof *q);
	if (!q)
		return err_set(CAIRN_ENOMEM, "out of memory");
	store_lock(s);
	q->s = s;
	q->db = store_sqlite_db(s);
	q->mem = mem;
	q->now = store_now(s);
	q->stale = q->now - s->stale_after;
	if ((rc = store_read_begin(s, &q->own_read)) != 0) {
		store_unlock(s);
		return rc;
	}
	if ((rc = ensure_functions(s)) == 0)
		q->maxrid = scalar_int(q, "SELECT coalesce(max(rid), 0) FROM runs", &rc);
	if (rc == 0)
		q->nruns = scalar_int(q, "SELECT n FROM run_count", &rc);
	if (rc) {
		scan_close(q);
		return rc;
	}
	info->maxrid = q->maxrid;
	info->nruns = q->nruns;
	*out = q;
	return 0;
}

/* --- parts ------------------------------------------------------------------------ */

/* A part: rows of `table` matching `cond` (fixed SQL, values bound), or a
 * whole statement (every run, deleted runs). */
typedef struct spart {
	const char *table;
	const char *cond;
	const char *whole; /* SELECT cairn_bits(?, rid) …; NULL: table and cond */
	bool dense;        /* every run, rids 1..maxrid (nothing purged) */
	bool point;        /* params: kid, type and value all equal, so a probe seeks
	                      params_kid_value_type to one entry */
	qbind b[MAXB];
	int nb;
} spart;

static int emit(store_scan_ctx *q, store_parts *out, const char *table, const cb *c, int cost)
{
	if (c->overflow)
		return err_set(CAIRN_ERROR, "internal: query condition too long");
	if (out->n == STORE_PARTS_MAX)
		return err_set(CAIRN_ERROR, "internal: too many parts for one scan");
	spart *p = arena_zalloc(q->mem, sizeof *p);
	if (!p || !(p->cond = arena_strndup(q->mem, c->sql, c->len)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	p->table = table;
	memcpy(p->b, c->b, sizeof c->b);
	p->nb = c->nb;
	out->p[out->n++] = (store_part){.cost = cost, .est = -1, .impl = p};
	return 0;
}

static int emit_whole(store_scan_ctx *q, store_parts *out, const char *sql, bool dense)
{
	spart *p = arena_zalloc(q->mem, sizeof *p);
	if (!p)
		return err_set(CAIRN_ENOMEM, "out of memory");
	p->table = "runs";
	p->whole = sql;
	p->dense = dense;
	out->p[out->n++] = (store_part){.cost = STORE_COST_FULL, .est = -1, .impl = p};
	return 0;
}

static const char *const op_sql[] = {" = ", " != ", " < ", " <= ", " > ", " >= "};

static void cb_num(cb *c, const store_scan *sc)
{
	if (sc->is_int)
		cb_int(c, sc->i);
	else
		cb_dbl(c, sc->num);
}

/* LIKE (% and _) as a GLOB pattern, so it is case-sensitive as in MLflow. */
static const char *like_to_glob(store_scan_ctx *q, const char *pat)
{
	size_t n = strlen(pat);
	char *g = arena_alloc(q->mem, 3 * n + 1), *o = g;
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
static void glob_range(store_scan_ctx *q, cb *c, const char *col, const char *glob)
{
	size_t n = strcspn(glob, "*?[");
	if (n == 0 || n > 200)
		return;
	char *lo = arena_strndup(q->mem, glob, n), *hi = arena_strndup(q->mem, glob, n);
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

/* " AND col <test> ?" for a text test; returns the part's cost (a pattern
 * without a literal prefix reads the key's rows, not a range). */
static int text_cond(store_scan_ctx *q, cb *c, const char *col, const store_scan *sc, int cost)
{
	cb_sql(c, " AND ");
	cb_sql(c, col);
	switch (sc->test) {
	case STORE_PREFIX: {
		/* a lowercase hex prefix of an id or commit */
		size_t n = strlen(sc->text);
		char *hi = arena_strndup(q->mem, sc->text, n);
		if (!hi || n == 0) {
			c->overflow = true;
			return cost;
		}
		hi[n - 1] = hi[n - 1] == '9' ? 'a' : hi[n - 1] == 'f' ? 'g' : (char)(hi[n - 1] + 1);
		cb_sql(c, " >= ? AND ");
		cb_sql(c, col);
		cb_sql(c, " < ?");
		cb_txt(c, sc->text);
		cb_txt(c, hi);
		return cost;
	}
	case STORE_GLOB:
	case STORE_LIKE: {
		const char *g = sc->test == STORE_LIKE ? like_to_glob(q, sc->text) : sc->text;
		if (!g) {
			c->overflow = true;
			return cost;
		}
		cb_sql(c, " GLOB ?");
		cb_txt(c, g);
		size_t before = c->len;
		glob_range(q, c, col, g);
		return c->len == before && cost == STORE_COST_RANGE ? STORE_COST_KEY : cost;
	}
	case STORE_ILIKE:
		cb_sql(c, " LIKE ?");
		cb_txt(c, sc->text);
		return cost == STORE_COST_RANGE ? STORE_COST_KEY : cost;
	default:
		cb_sql(c, op_sql[sc->op]);
		cb_sql(c, "?");
		cb_txt(c, sc->text);
		return cost;
	}
}

/* " AND col op ?" or " AND col IS NULL" (NaN, stored as NULL). */
static void num_cond(cb *c, const char *col, const store_scan *sc)
{
	cb_sql(c, " AND ");
	cb_sql(c, col);
	if (sc->test == STORE_NAN) {
		cb_sql(c, " IS NULL");
		return;
	}
	cb_sql(c, op_sql[sc->op]);
	cb_sql(c, "?");
	cb_num(c, sc);
}

static int status_parts(store_scan_ctx *q, unsigned mask, store_parts *out)
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
			if ((rc = emit(q, out, "runs", &c2, STORE_COST_RANGE)) != 0)
				return rc;
			cb_sql(&c, "status = 4");
		} else {
			cb_sql(&c, "status = ?");
			cb_int(&c, s);
		}
		if ((rc = emit(q, out, "runs", &c, STORE_COST_RANGE)) != 0)
			return rc;
	}
	return 0;
}

static int prepare_run(store_scan_ctx *q, const store_scan *sc, store_parts *out)
{
	qattr a = (qattr)sc->field;
	attr_sql as = scan_attr(a);
	cb c = {0};
	switch (sc->test) {
	case STORE_PRESENT:
	case STORE_TRUTHY: {
		const char *cond = sc->test == STORE_PRESENT ? as.present : as.truthy;
		if (!cond || strcmp(cond, "1") == 0) {
			out->all = true;
			return 0;
		}
		cb_sql(&c, cond);
		scan_attr_binds(q, &as, &c, true);
		return emit(q, out, "runs", &c, STORE_COST_FULL);
	}
	case STORE_STATUS: return status_parts(q, sc->mask, out);
	default: break;
	}
	if (a == QA_DIRTY) {
		cb_sql(&c, "git_dirty = ?");
		cb_int(&c, sc->i);
		return emit(q, out, "runs", &c, STORE_COST_FULL);
	}
	if (a == QA_PROJECT) {
		/* through the projects table, so runs_project_seq answers it */
		cb_sql(&c, "project_id IN (SELECT id FROM projects WHERE 1");
		text_cond(q, &c, "name", sc, STORE_COST_RANGE);
		cb_sql(&c, ")");
		return emit(q, out, "runs", &c, STORE_COST_RANGE);
	}
	if (!sc->numeric) {
		cb_sql(&c, "1");
		int cost = text_cond(q, &c, as.expr, sc, as.cost);
		return emit(q, out, "runs", &c, cost);
	}
	/* numbers and times; the expression may take the stale time and now */
	cb_sql(&c, as.expr);
	scan_attr_binds(q, &as, &c, false);
	cb_sql(&c, op_sql[sc->op]);
	cb_sql(&c, "?");
	cb_num(&c, sc);
	return emit(q, out, "runs", &c, as.cost);
}

/* A param's part; one that tests the value for equality is a point of
 * params_kid_value_type (kid, value, type, rid), which scan_probe seeks
 * rather than the run's row of params: the entries of one value lie
 * together, so probing a few hundred runs reads about half the pages. */
static int emit_param(store_scan_ctx *q, store_parts *out, const cb *c, int cost,
                      const store_scan *sc)
{
	int rc = emit(q, out, "params", c, cost);
	if (rc == 0 && sc->test == STORE_CMP && sc->op == QO_EQ)
		((spart *)out->p[out->n - 1].impl)->point = true;
	return rc;
}

static int prepare_param(store_scan_ctx *q, const store_scan *sc, store_parts *out)
{
	cb c = {0};
	cb_sql(&c, "kid = ?");
	cb_int(&c, sc->kid);
	if (sc->test == STORE_PRESENT)
		return emit(q, out, "params", &c, STORE_COST_KEY);
	if (sc->test == STORE_TRUTHY) {
		cb_sql(&c, " AND NOT (type = 3 AND value = 0)");
		return emit(q, out, "params", &c, STORE_COST_KEY);
	}
	switch (sc->ptype) {
	case STORE_PT_NUM:
		if (sc->test == STORE_NAN) {
			cb_sql(&c, " AND value IS NULL AND type = 2");
		} else {
			cb_sql(&c, " AND value");
			cb_sql(&c, op_sql[sc->op]);
			cb_sql(&c, "? AND type IN (1, 2)");
			cb_num(&c, sc);
		}
		return emit_param(q, out, &c, STORE_COST_RANGE, sc);
	case STORE_PT_BOOL:
		cb_sql(&c, " AND value");
		cb_sql(&c, op_sql[sc->op]);
		cb_sql(&c, "? AND type = 3");
		cb_int(&c, sc->i);
		return emit_param(q, out, &c, STORE_COST_RANGE, sc);
	default: {
		cb_sql(&c, " AND type = 4");
		int cost = text_cond(q, &c, "value", sc, STORE_COST_RANGE);
		return emit_param(q, out, &c, cost, sc);
	}
	}
}

/* reads: input datasets' paths; wrote: artifacts' paths (not cairn's own
 * captures: logs, configs, environment files) and output datasets' paths
 * (two parts of two tables), by datasets_path and
 * artifacts_path (path, …, rid), so a glob's literal prefix is a range. */
static int prepare_files(store_scan_ctx *q, const store_scan *sc, store_parts *out)
{
	bool any = sc->test == STORE_TRUTHY || sc->test == STORE_PRESENT;
	int rc;
	if (sc->field == QF_WROTE) {
		cb a = {0};
		cb_sql(&a, "kind NOT IN (?, ?, ?)");
		cb_txt(&a, CAIRN_ARTIFACT_LOG);
		cb_txt(&a, CAIRN_ARTIFACT_CONFIG);
		cb_txt(&a, CAIRN_ARTIFACT_ENV);
		int cost = any ? STORE_COST_FULL : text_cond(q, &a, "path", sc, STORE_COST_RANGE);
		if ((rc = emit(q, out, "artifacts", &a, cost)) != 0)
			return rc;
	}
	cb c = {0};
	cb_sql(&c, "role = ?");
	cb_txt(&c, sc->field == QF_WROTE ? "output" : "input");
	int cost = any ? STORE_COST_FULL : text_cond(q, &c, "path", sc, STORE_COST_RANGE);
	return emit(q, out, "datasets", &c, cost);
}

static int scan_prepare(store_scan_ctx *q, const store_scan *sc, store_parts *out)
{
	cb c = {0};
	switch (sc->src) {
	case STORE_SRC_ALL:
		/* rids are dense when nothing was purged: 1..maxrid, no need to read them */
		if (q->nruns == q->maxrid)
			return emit_whole(q, out, NULL, true);
		return emit_whole(
		    q, out, "SELECT cairn_bits(?, rid) FROM runs INDEXED BY runs_visible", false);
	case STORE_SRC_DELETED:
		return emit_whole(q, out, "SELECT cairn_bits(?, rid) FROM runs WHERE deleted > 0",
		                  false);
	case STORE_SRC_METRIC:
		cb_sql(&c, "kid = ?");
		cb_int(&c, sc->kid);
		if (sc->test == STORE_PRESENT || sc->test == STORE_TRUTHY)
			return emit(q, out, "metric_summary", &c, STORE_COST_KEY);
		num_cond(&c, scan_metric_cols[sc->field], sc);
		/* last, min and max are indexed (kid, column, rid): a range */
		return emit(q, out, "metric_summary", &c,
		            sc->field == QM_COUNT || sc->field == QM_STEP ? STORE_COST_KEY
		                                                          : STORE_COST_RANGE);
	case STORE_SRC_PARAM: return prepare_param(q, sc, out);
	case STORE_SRC_PROPERTY:
	case STORE_SRC_DATASET: {
		bool prop = sc->src == STORE_SRC_PROPERTY;
		const char *table = prop ? "properties" : "datasets";
		const char *col = prop ? "value" : scan_data_cols[sc->field];
		cb_sql(&c, prop ? "key = ?" : "name = ?");
		cb_txt(&c, sc->key);
		if (sc->test == STORE_PRESENT || sc->test == STORE_TRUTHY)
			return emit(q, out, table, &c, STORE_COST_KEY);
		int cost = prop || sc->field == QD_DIGEST ? STORE_COST_RANGE : STORE_COST_KEY;
		if (sc->numeric) {
			num_cond(&c, col, sc);
			return emit(q, out, table, &c, cost);
		}
		cost = text_cond(q, &c, col, sc, cost);
		return emit(q, out, table, &c, cost);
	}
	case STORE_SRC_TAG:
		if (sc->key) {
			cb_sql(&c, "tag = ?");
			cb_txt(&c, sc->key);
			if (sc->test == STORE_PRESENT || sc->test == STORE_TRUTHY)
				return emit(q, out, "tags", &c, STORE_COST_RANGE);
			/* a key/value tag's value (a bare tag's is NULL: no match) */
			return emit(q, out, "tags", &c,
			            text_cond(q, &c, "value", sc, STORE_COST_RANGE));
		}
		cb_sql(&c, "1");
		if (sc->test == STORE_TRUTHY || sc->test == STORE_PRESENT)
			return emit(q, out, "tags", &c, STORE_COST_FULL);
		return emit(q, out, "tags", &c, text_cond(q, &c, "tag", sc, STORE_COST_RANGE));
	case STORE_SRC_RUN: return prepare_run(q, sc, out);
	case STORE_SRC_FILES: return prepare_files(q, sc, out);
	}
	return err_set(CAIRN_ERROR, "internal: unknown scan");
}

/* --- estimating, filling, probing ---------------------------------------------------- */

static int scan_estimate(store_scan_ctx *q, const store_part *part, int64_t cap, int64_t *rows)
{
	const spart *p = part->impl;
	char sql[1024];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s LIMIT ?)",
	         p->table, p->cond);
	sqlite3_stmt *st;
	int rc = scan_prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	int i = scan_bind_all(st, 1, p->b, p->nb);
	sqlite3_bind_int64(st, i, cap);
	int r = sqlite3_step(st);
	*rows = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : q->nruns;
	rc = scan_step_err(q, r);
	sqlite3_reset(st);
	return rc;
}

static int fill_whole(store_scan_ctx *q, const spart *p, rset *out)
{
	if (p->dense) {
		size_t full = (size_t)(q->maxrid + 1) >> 6;
		if (full > out->nw)
			full = out->nw;
		memset(out->w, 0xff, full * sizeof *out->w);
		for (int64_t r = (int64_t)full * 64; r <= q->maxrid; r++)
			rset_add(out, r);
		out->w[0] &= ~1ull; /* rid 0 is never a run */
		return 0;
	}
	sqlite3_stmt *st;
	int rc = scan_prep(q, p->whole, &st);
	if (rc)
		return rc;
	sqlite3_bind_pointer(st, 1, out, RSET_PTR, NULL);
	rc = scan_step_err(q, sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

static int scan_fill(store_scan_ctx *q, const store_part *part, const rset *C, rset *out)
{
	const spart *p = part->impl;
	if (p->whole || p->dense) {
		if (!C)
			return fill_whole(q, p, out);
		rset all;
		int rc = rset_init(&all, out->nw);
		if (rc == 0 && (rc = fill_whole(q, p, &all)) == 0)
			for (size_t i = 0; i < out->nw; i++)
				out->w[i] |= all.w[i] & C->w[i];
		rset_free(&all);
		return rc;
	}
	char sql[1024];
	snprintf(sql, sizeof sql, "SELECT cairn_bits(:out, rid) FROM %s WHERE %s%s", p->table,
	         p->cond, C ? " AND cairn_inset(:c, rid)" : "");
	sqlite3_stmt *st;
	int rc = scan_prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	scan_bind_anon(st, p->b, p->nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":out"), out, RSET_PTR, NULL);
	if (C)
		sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":c"), (void *)C,
		                     RSET_PTR, NULL);
	rc = scan_step_err(q, sqlite3_step(st));
	sqlite3_reset(st);
	return rc;
}

static int scan_fill_limited(store_scan_ctx *q, const store_part *part, int64_t limit, rset *out,
                             int64_t *got)
{
	const spart *p = part->impl;
	char sql[1024];
	snprintf(sql, sizeof sql,
	         "SELECT cairn_bits(:out, rid) FROM (SELECT rid FROM %s WHERE %s LIMIT :lim)",
	         p->table, p->cond);
	sqlite3_stmt *st;
	int rc = scan_prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	scan_bind_anon(st, p->b, p->nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":out"), out, RSET_PTR, NULL);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lim"), limit);
	int r = sqlite3_step(st);
	*got = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = scan_step_err(q, r);
	sqlite3_reset(st);
	return rc;
}

static int scan_probe(store_scan_ctx *q, const store_part *parts, int n, const rset *C, rset *out)
{
	/* parts of two tables (wrote: artifacts and datasets): each table's
	 * parts probed apart, their matches OR'd into out */
	for (int k = 1; k < n; k++) {
		const spart *a = parts[0].impl, *b = parts[k].impl;
		if (strcmp(a->table, b->table) != 0) {
			int rc = scan_probe(q, parts, k, C, out);
			return rc ? rc : scan_probe(q, parts + k, n - k, C, out);
		}
	}
	const spart *p0 = parts[0].impl;
	char sql[4096];
	size_t o =
	    (size_t)snprintf(sql, sizeof sql, "SELECT 1 FROM %s%s WHERE rid = ? AND (", p0->table,
	                     n == 1 && p0->point ? " INDEXED BY params_kid_value_type" : "");
	for (int k = 0; k < n && o < sizeof sql; k++) {
		const spart *p = parts[k].impl;
		if (!p->cond || strcmp(p->table, p0->table) != 0)
			return err_set(CAIRN_ERROR, "internal: probing parts of different tables");
		o += (size_t)snprintf(sql + o, sizeof sql - o, "%s(%s)", k ? " OR " : "", p->cond);
	}
	if (o + 2 >= sizeof sql)
		return err_set(CAIRN_ERROR, "internal: query condition too long");
	memcpy(sql + o, ")", 2);
	sqlite3_stmt *st;
	int rc = scan_prep_reuse(q, sql, &st);
	if (rc)
		return rc;
	int i = 2;
	for (int k = 0; k < n; k++) {
		const spart *p = parts[k].impl;
		i = scan_bind_all(st, i, p->b, p->nb);
	}
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

const store_scan_ops store_sqlite_scan_ops = {
    .version = STORE_SCAN_OPS_VERSION,
    .open = scan_open,
    .close = scan_close,
    .key_lookup = scan_key_id,
    .prepare = scan_prepare,
    .estimate = scan_estimate,
    .fill = scan_fill,
    .fill_limited = scan_fill_limited,
    .probe = scan_probe,
    .key_prepare = scan_key_prepare,
    .gather = scan_gather,
    .walk_open = scan_walk_open,
    .walk_next = scan_walk_next,
    .walk_close = scan_walk_close,
    .group_values = scan_group_values,
    .group_stats = scan_group_stats,
    .group_stats_begin = scan_group_stats_begin,
    .group_stats_end = scan_group_stats_end,
};
