/*
 * lib/store/pg/scan.c — the PostgreSQL store's scans (lib/store/scan.h): a
 * scan descriptor becomes one fixed SQL condition over one table that an
 * index answers as a range — params by (kid, num, type, rid) or (kid, sval,
 * rid), metric summaries by (kid, last, rid), tags by (tag, rid), properties
 * by (key, value, rid), datasets by (name, digest, rid), run attributes by
 * their own indexes — with every value bound.  The conditions are SQLite's
 * (sqlite/scan.c) over this schema's typed param columns: an int or bool
 * param's num is its value as a double, a float's num is NULL for NaN, a
 * string is in sval.
 *
 * PostgreSQL has no function that sets a bit in the caller's memory, so a
 * part's rids come back as rows (text, one per matching index row) and are
 * set here; a candidate set restricts a fill here too (the range is read
 * either way, as SQLite reads it through cairn_inset).  Probing sends the
 * candidates as one int8[] (rid = ANY($1), through the table's primary key)
 * in chunks, instead of a statement per run: one round trip costs what
 * dozens of index probes do.
 *
 * Invariants: no text of the query reaches SQL except through bindings;
 * every SQL string is assembled from the fixed fragments here and in
 * scan-attr.c and scan-key.c.  A context holds the store's lock and one read
 * snapshot (REPEATABLE READ, pg_read_begin) from open to close.
 * Thread-safety: the store's lock is held by the context.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/scan-sql.h"

/* --- statements ------------------------------------------------------------------ */

static void plist_add(plist *p, const qbind *b)
{
	if (p->n >= SCAN_MAXPARAMS) {
		p->overflow = true;
		return;
	}
	char *num = p->num[p->n];
	switch (b->t) {
	case 'i':
		snprintf(num, sizeof p->num[0], "%lld", (long long)b->i);
		p->v[p->n] = num;
		break;
	case 'd':
		if (isnan(b->d))
			p->v[p->n] = NULL;
		else if (isinf(b->d))
			p->v[p->n] = b->d > 0 ? "Infinity" : "-Infinity";
		else {
			snprintf(num, sizeof p->num[0], "%.17g", b->d);
			p->v[p->n] = num;
		}
		break;
	case 's':
	case 'a': p->v[p->n] = b->s; break;
	default: p->v[p->n] = NULL; break;
	}
	p->n++;
}

void pgscan_sql(buf *out, plist *p, const char *frag, const qbind *b, int nb)
{
	int k = 0;
	for (const char *c = frag; *c; c++) {
		if (*c != '?') {
			buf_putc(out, *c);
			continue;
		}
		if (k >= nb) {
			p->overflow = true;
			return;
		}
		plist_add(p, &b[k]);
		const char *type = b[k].t == 'i'   ? "int8"
		                   : b[k].t == 'd' ? "float8"
		                   : b[k].t == 'a' ? "int8[]"
		                                   : "text";
		buf_printf(out, "$%d::%s", p->n, type);
		k++;
	}
	if (k != nb)
		p->overflow = true;
}

PGresult *pgscan_exec(store_scan_ctx *q, const buf *sql, const plist *p)
{
	if (!buf_ok(sql) || p->overflow) {
		err_set(buf_ok(sql) ? CAIRN_ERROR : CAIRN_ENOMEM,
		        buf_ok(sql) ? "internal: query statement too long" : "out of memory");
		return NULL;
	}
	PGresult *r = pq.execParams(pg_of(q->s)->conn, sql->ptr, p->n, NULL, p->v, NULL, NULL, 0);
	ExecStatusType st = r ? pq.resultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	pg_error(q->s, r, "run the query");
	if (r)
		pq.clear(r);
	return NULL;
}

void pgscan_rid_array(buf *b, const int64_t *rids, size_t n)
{
	bool first = true;
	buf_putc(b, '{');
	for (size_t i = 0; i < n; i++)
		pg_array_int_add(b, &first, rids[i]);
	buf_putc(b, '}');
}

/* The rids in column 0 of r into out (members of within only, when set). */
static void rows_to_set(const PGresult *r, const rset *within, rset *out)
{
	int n = pq.ntuples(r);
	for (int i = 0; i < n; i++) {
		int64_t rid = strtoll(pq.getvalue(r, i, 0), NULL, 10);
		if (!within || rset_has(within, rid))
			rset_add(out, rid);
	}
}

int pgscan_key_id(store_scan_ctx *q, const char *key, int64_t *out)
{
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, key);
	bool found;
	*out = 0;
	return pg_query_int(q->s, "run the query", "SELECT id FROM keys WHERE name = $1", &p, out,
	                    &found);
}

/* --- the context ------------------------------------------------------------------ */

static void scan_close(store_scan_ctx *q)
{
	if (!q)
		return;
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
	q->mem = mem;
	q->now = store_now(s);
	q->stale = q->now - s->stale_after;
	if ((rc = store_read_begin(s, &q->own_read)) != 0) {
		store_unlock(s);
		return rc;
	}
	/* nruns is exact, read with maxrid in the query's snapshot: run_count is
	 * one row kept by triggers (migration 7).  The planner trusts it: a
	 * match set of nruns runs is every run (an offset page then asks the
	 * walk for every row of its key), which an estimate (pg_class) would
	 * get wrong. */
	PGresult *r =
	    pg_exec(s, "run the query",
	            "SELECT coalesce(max(rid), 0), (SELECT n FROM run_count) FROM runs", NULL);
	rc = r ? 0 : cairn_error_last_code();
	if (r && pq.ntuples(r) == 1) {
		q->maxrid = pg_get_int(r, 0, 0);
		q->nruns = pg_get_int(r, 0, 1);
	}
	if (r)
		pq.clear(r);
	if (rc == 0 && (q->nruns < 0 || q->nruns > q->maxrid))
		q->nruns = q->maxrid;
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

enum { W_NONE, W_DENSE, W_ALL, W_DELETED };

/* A part: rows of `table` matching `cond` (fixed SQL, values bound), or a
 * whole set (every run, deleted runs). */
typedef struct spart {
	const char *table;
	const char *cond;
	int whole; /* W_*: not table and cond */
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

static int emit_whole(store_scan_ctx *q, store_parts *out, int whole)
{
	if (out->n == STORE_PARTS_MAX)
		return err_set(CAIRN_ERROR, "internal: too many parts for one scan");
	spart *p = arena_zalloc(q->mem, sizeof *p);
	if (!p)
		return err_set(CAIRN_ENOMEM, "out of memory");
	p->table = "runs";
	p->whole = whole;
	out->p[out->n++] = (store_part){.cost = STORE_COST_FULL, .est = -1, .impl = p};
	return 0;
}

static const char *const op_sql[] = {" = ", " != ", " < ", " <= ", " > ", " >= "};

/* " AND col op ?" or " AND col IS NULL" (NaN, stored as NULL). */
static void num_cond(store_scan_ctx *q, cb *c, const char *col, bool col_int, const store_scan *sc)
{
	cb_sql(c, " AND ");
	if (sc->test == STORE_NAN) {
		cb_sql(c, col);
		cb_sql(c, " IS NULL");
		return;
	}
	pgscan_num_cond(q, c, col, col_int, NULL, sc);
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
	attr_sql as = pgscan_attr(a);
	cb c = {0};
	switch (sc->test) {
	case STORE_PRESENT:
	case STORE_TRUTHY: {
		const char *cond = sc->test == STORE_PRESENT ? as.present : as.truthy;
		if (!cond || strcmp(cond, "TRUE") == 0) {
			out->all = true;
			return 0;
		}
		cb_sql(&c, cond);
		pgscan_attr_binds(q, &as, &c, true);
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
		cb_sql(&c, "project_id IN (SELECT id FROM projects WHERE TRUE");
		pgscan_text_cond(q, &c, "name", sc, STORE_COST_RANGE);
		cb_sql(&c, ")");
		return emit(q, out, "runs", &c, STORE_COST_RANGE);
	}
	if (!sc->numeric) {
		cb_sql(&c, "TRUE");
		int cost = pgscan_text_cond(q, &c, as.expr, sc, as.cost);
		return emit(q, out, "runs", &c, cost);
	}
	/* numbers and times; the expression may take the stale time and now */
	pgscan_num_cond(q, &c, as.expr, as.is_int, &as, sc);
	return emit(q, out, "runs", &c, as.cost);
}

static int prepare_param(store_scan_ctx *q, const store_scan *sc, store_parts *out)
{
	cb c = {0};
	cb_sql(&c, "kid = ?");
	cb_int(&c, sc->kid);
	if (sc->test == STORE_PRESENT)
		return emit(q, out, "params", &c, STORE_COST_KEY);
	if (sc->test == STORE_TRUTHY) {
		cb_sql(&c, " AND NOT (type = 3 AND ival = 0)");
		return emit(q, out, "params", &c, STORE_COST_KEY);
	}
	switch (sc->ptype) {
	case STORE_PT_NUM:
		if (sc->test == STORE_NAN) {
			cb_sql(&c, " AND num IS NULL AND type = 2");
		} else {
			pgscan_param_num_cond(q, &c, sc);
		}
		return emit(q, out, "params", &c, STORE_COST_RANGE);
	case STORE_PT_BOOL:
		cb_sql(&c, " AND num");
		cb_sql(&c, op_sql[sc->op]);
		cb_sql(&c, "? AND type = 3");
		cb_int(&c, sc->i);
		return emit(q, out, "params", &c, STORE_COST_RANGE);
	default: {
		/* only a string has an sval: no type test, so the (kid, sval, rid)
		 * index answers without the table */
		int cost = pgscan_text_cond(q, &c, "sval", sc, STORE_COST_RANGE);
		return emit(q, out, "params", &c, cost);
	}
	}
}

/* reads: input datasets' paths; wrote: artifacts' paths (not cairn's own
 * captures: logs, configs, environment files) and output datasets' paths
 * (two parts of two tables), by datasets_path and
 * artifacts_path, compared as bytes (artifacts.path is a "C" column). */
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
		int cost =
		    any ? STORE_COST_FULL : pgscan_text_cond(q, &a, "path", sc, STORE_COST_RANGE);
		if ((rc = emit(q, out, "artifacts", &a, cost)) != 0)
			return rc;
	}
	cb c = {0};
	cb_sql(&c, "role = ?");
	cb_txt(&c, sc->field == QF_WROTE ? "output" : "input");
	int cost = any ? STORE_COST_FULL
	               : pgscan_text_cond(q, &c, "path COLLATE \"C\"", sc, STORE_COST_RANGE);
	return emit(q, out, "datasets", &c, cost);
}

static int scan_prepare(store_scan_ctx *q, const store_scan *sc, store_parts *out)
{
	cb c = {0};
	switch (sc->src) {
	case STORE_SRC_ALL:
		/* rids are dense when nothing was purged: 1..maxrid, no need to read
		 * them (nruns is run_count's, scan_open) */
		return emit_whole(q, out, q->nruns == q->maxrid ? W_DENSE : W_ALL);
	case STORE_SRC_DELETED: return emit_whole(q, out, W_DELETED);
	case STORE_SRC_METRIC:
		cb_sql(&c, "kid = ?");
		cb_int(&c, sc->kid);
		if (sc->test == STORE_PRESENT || sc->test == STORE_TRUTHY)
			return emit(q, out, "metric_summary", &c, STORE_COST_KEY);
		num_cond(q, &c, pgscan_metric_cols[sc->field],
		         sc->field == QM_COUNT || sc->field == QM_STEP, sc);
		/* last, min and max are indexed (kid, column, rid): a range */
		return emit(q, out, "metric_summary", &c,
		            sc->field == QM_COUNT || sc->field == QM_STEP ? STORE_COST_KEY
		                                                          : STORE_COST_RANGE);
	case STORE_SRC_PARAM: return prepare_param(q, sc, out);
	case STORE_SRC_PROPERTY:
	case STORE_SRC_DATASET: {
		bool prop = sc->src == STORE_SRC_PROPERTY;
		const char *table = prop ? "properties" : "datasets";
		const char *col = prop ? "value" : pgscan_data_cols[sc->field];
		cb_sql(&c, prop ? "key = ?" : "name = ?");
		cb_txt(&c, sc->key);
		if (sc->test == STORE_PRESENT || sc->test == STORE_TRUTHY)
			return emit(q, out, table, &c, STORE_COST_KEY);
		int cost = prop || sc->field == QD_DIGEST ? STORE_COST_RANGE : STORE_COST_KEY;
		if (sc->numeric) {
			num_cond(q, &c, col, true, sc); /* files, bytes */
			return emit(q, out, table, &c, cost);
		}
		/* path, role and algo are not "C" columns: compare them as bytes */
		if (!prop && sc->field != QD_DIGEST)
			col = sc->field == QD_PATH   ? "path COLLATE \"C\""
			      : sc->field == QD_ROLE ? "role COLLATE \"C\""
			                             : "algo COLLATE \"C\"";
		cost = pgscan_text_cond(q, &c, col, sc, cost);
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
			            pgscan_text_cond(q, &c, "value", sc, STORE_COST_RANGE));
		}
		cb_sql(&c, "TRUE");
		if (sc->test == STORE_TRUTHY || sc->test == STORE_PRESENT)
			return emit(q, out, "tags", &c, STORE_COST_FULL);
		return emit(q, out, "tags", &c,
		            pgscan_text_cond(q, &c, "tag", sc, STORE_COST_RANGE));
	case STORE_SRC_RUN: return prepare_run(q, sc, out);
	case STORE_SRC_FILES: return prepare_files(q, sc, out);
	}
	return err_set(CAIRN_ERROR, "internal: unknown scan");
}

/* --- estimating, filling, probing ---------------------------------------------------- */

static int scan_estimate(store_scan_ctx *q, const store_part *part, int64_t cap, int64_t *rows)
{
	const spart *p = part->impl;
	buf sql = BUF_INIT;
	plist pl = {0};
	buf_printf(&sql, "SELECT count(*) FROM (SELECT 1 FROM %s WHERE ", p->table);
	pgscan_sql(&sql, &pl, p->cond, p->b, p->nb);
	qbind lim = {.t = 'i', .i = cap};
	pgscan_sql(&sql, &pl, " LIMIT ?) x", &lim, 1);
	PGresult *r = pgscan_exec(q, &sql, &pl);
	buf_free(&sql);
	if (!r)
		return cairn_error_last_code();
	*rows = pq.ntuples(r) == 1 ? pg_get_int(r, 0, 0) : q->nruns;
	pq.clear(r);
	return 0;
}

static int fill_whole(store_scan_ctx *q, const spart *p, const rset *C, rset *out)
{
	if (p->whole == W_DENSE) {
		rset all;
		int rc = rset_init(&all, out->nw);
		if (rc)
			return rc;
		for (int64_t r = 1; r <= q->maxrid; r++)
			rset_add(&all, r);
		if (C)
			for (size_t i = 0; i < all.nw; i++)
				all.w[i] &= C->w[i];
		rset_or(out, &all);
		rset_free(&all);
		return 0;
	}
	buf sql = BUF_INIT;
	plist pl = {0};
	buf_puts(&sql, p->whole == W_DELETED ? "SELECT rid FROM runs WHERE deleted > 0"
	                                     : "SELECT rid FROM runs");
	PGresult *r = pgscan_exec(q, &sql, &pl);
	buf_free(&sql);
	if (!r)
		return cairn_error_last_code();
	rows_to_set(r, C, out);
	pq.clear(r);
	return 0;
}

static int scan_fill(store_scan_ctx *q, const store_part *part, const rset *C, rset *out)
{
	const spart *p = part->impl;
	if (p->whole)
		return fill_whole(q, p, C, out);
	buf sql = BUF_INIT;
	plist pl = {0};
	buf_printf(&sql, "SELECT rid FROM %s WHERE ", p->table);
	pgscan_sql(&sql, &pl, p->cond, p->b, p->nb);
	PGresult *r = pgscan_exec(q, &sql, &pl);
	buf_free(&sql);
	if (!r)
		return cairn_error_last_code();
	rows_to_set(r, C, out);
	pq.clear(r);
	return 0;
}

static int scan_fill_limited(store_scan_ctx *q, const store_part *part, int64_t limit, rset *out,
                             int64_t *got)
{
	const spart *p = part->impl;
	buf sql = BUF_INIT;
	plist pl = {0};
	buf_printf(&sql, "SELECT rid FROM %s WHERE ", p->table);
	pgscan_sql(&sql, &pl, p->cond, p->b, p->nb);
	qbind lim = {.t = 'i', .i = limit};
	pgscan_sql(&sql, &pl, " LIMIT ?", &lim, 1);
	PGresult *r = pgscan_exec(q, &sql, &pl);
	buf_free(&sql);
	if (!r)
		return cairn_error_last_code();
	*got = pq.ntuples(r);
	rows_to_set(r, NULL, out);
	pq.clear(r);
	return 0;
}

#define PROBE_CHUNK 8192 /* candidates per statement */

static int scan_probe(store_scan_ctx *q, const store_part *parts, int n, const rset *C, rset *out)
{
	const spart *p0 = parts[0].impl;
	for (int k = 0; k < n; k++) {
		const spart *p = parts[k].impl;
		if (p->whole || p0->whole)
			return err_set(CAIRN_ERROR, "internal: probing a whole-table part");
		/* parts of two tables (wrote: artifacts and datasets): each
		 * table's parts probed apart, their matches OR'd into out */
		if (strcmp(p->table, p0->table) != 0) {
			int rc = scan_probe(q, parts, k, C, out);
			return rc ? rc : scan_probe(q, parts + k, n - k, C, out);
		}
	}
	int64_t *rids = malloc(PROBE_CHUNK * sizeof *rids);
	if (!rids)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = 0;
	int64_t x = rset_next(C, 0);
	while (x >= 0 && rc == 0) {
		size_t m = 0;
		for (; x >= 0 && m < PROBE_CHUNK; x = rset_next(C, x + 1))
			rids[m++] = x;
		buf arr = BUF_INIT, sql = BUF_INIT;
		plist pl = {0};
		pgscan_rid_array(&arr, rids, m);
		qbind ab = {.t = 'a', .s = arr.ptr};
		buf_printf(&sql, "SELECT rid FROM %s WHERE ", p0->table);
		pgscan_sql(&sql, &pl, "rid = ANY(?) AND (", &ab, 1);
		for (int k = 0; k < n; k++) {
			const spart *p = parts[k].impl;
			buf_puts(&sql, k ? " OR (" : "(");
			pgscan_sql(&sql, &pl, p->cond, p->b, p->nb);
			buf_putc(&sql, ')');
		}
		buf_putc(&sql, ')');
		PGresult *r = buf_ok(&arr) ? pgscan_exec(q, &sql, &pl) : NULL;
		if (!r)
			rc = buf_ok(&arr) ? cairn_error_last_code()
			                  : err_set(CAIRN_ENOMEM, "out of memory");
		else {
			rows_to_set(r, NULL, out);
			pq.clear(r);
		}
		buf_free(&arr);
		buf_free(&sql);
	}
	free(rids);
	return rc;
}

const store_scan_ops store_pg_scan_ops = {
    .version = STORE_SCAN_OPS_VERSION,
    .open = scan_open,
    .close = scan_close,
    .key_lookup = pgscan_key_id,
    .prepare = scan_prepare,
    .estimate = scan_estimate,
    .fill = scan_fill,
    .fill_limited = scan_fill_limited,
    .probe = scan_probe,
    .key_prepare = pgscan_key_prepare,
    .gather = pgscan_gather,
    .walk_open = pgscan_walk_open,
    .walk_next = pgscan_walk_next,
    .walk_close = pgscan_walk_close,
    .group_values = pgscan_group_values,
    .group_stats = pgscan_group_stats,
};
