/*
 * lib/store/pg/scan-key.c — the PostgreSQL store's sort keys and grouping
 * (lib/store/scan.h).
 *
 * A key is one field's value columns in one table, read for given runs
 * through the primary key (rid = ANY($1), in chunks) or in one pass over the
 * key's rows kept when the run is in the set, or walked in the order of an
 * index: a metric's last value (kid, last, rid), start time, name, end time,
 * and a param in two stretches, because its numbers and its strings are in
 * two indexes — ascending the numbers (kid, num, type, rid) then the strings
 * (kid, sval, rid), descending the other way round, which is SQLite's order
 * of its one untyped column (numbers before text; equal numbers by type).
 *
 * A walk is a cursor (DECLARE ... CURSOR inside the query's snapshot), read
 * in batches that grow from 128 rows, so the top k of a large match set costs
 * a few round trips and a walk over a sparse set does not fetch row by row.
 * Rows not in the set are skipped here.  Ties come newest first (every
 * walk's ORDER BY ends in rid DESC: the index backwards, or PostgreSQL's
 * incremental sort of each run of equal values), so with one sort key a
 * page ends at its k-th row; an offset page's rows are passed over by MOVE
 * when every run matches, else as they come.
 *
 * Values as SQLite's columns give them (scan-key.c there): metric last, min
 * and max are doubles, count and step integers; an int or bool param an
 * integer, a float a double, NaN (NULL) V_NAN; integer attributes (seq,
 * exit_code, dirty, the millisecond times) integers.
 *
 * Grouping reads the key's rows in value order and numbers each distinct
 * value that a match has (equal: the same class, the same param type, the
 * same number or bytes), as SQLite's GROUP BY value, type does; the second
 * pass adds each numeric value to its run's group.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/scan-sql.h"

/* How to read one field's value for a run. */
typedef struct skey {
	const char *table;
	char keycond[256];
	qbind b[MAXB];
	int nb;
	char val[320];  /* value columns */
	char order[96]; /* the value columns' order, for grouping */
	int form;       /* how to read them */
	bool is_int;    /* F_METRIC, F_NUM: the value is an integer */
	/* walking an index in order: one or two stretches */
	int nstretch;
	const char *walk_cond[2];
	char walk_order[2][64];
	const char *walk_col[2]; /* the column each stretch walks */
	uint8_t walk_cls[2];     /* the class of its values (V_NUM, V_TEXT) */
} skey;

enum { F_METRIC, F_PARAM, F_TEXT, F_NUM, F_STATUS };

int pgscan_key_prepare(store_scan_ctx *q, store_key *key)
{
	const qfield *f = &key->f;
	bool desc = key->desc;
	const char *dir = desc ? "DESC" : "ASC";
	skey *k = arena_zalloc(q->mem, sizeof *k);
	if (!k)
		return err_set(CAIRN_ENOMEM, "out of memory");
	cb c = {0};
	int rc;
	key->walkable = false;
	switch (f->kind) {
	case QK_METRIC:
	case QK_PARAM: {
		int64_t kid;
		if ((rc = pgscan_key_id(q, f->key, &kid)) != 0)
			return rc;
		cb_sql(&c, "kid = ?");
		cb_int(&c, kid);
		if (f->kind == QK_METRIC) {
			k->table = "metric_summary";
			snprintf(k->val, sizeof k->val, "%s", pgscan_metric_cols[f->part]);
			snprintf(k->order, sizeof k->order, "%s", pgscan_metric_cols[f->part]);
			k->form = F_METRIC;
			k->is_int = f->part == QM_COUNT || f->part == QM_STEP;
			if (f->part == QM_LAST || f->part == QM_MIN || f->part == QM_MAX) {
				/* an index each: metric_summary_kid_last, _min, _max */
				static const char *const notnull[] = {[QM_LAST] =
				                                          "last IS NOT NULL",
				                                      [QM_MIN] = "min IS NOT NULL",
				                                      [QM_MAX] = "max IS NOT NULL"};
				const char *col = pgscan_metric_cols[f->part];
				key->walkable = key->walk_newest = true;
				k->nstretch = 1;
				k->walk_cond[0] = notnull[f->part];
				snprintf(k->walk_order[0], sizeof k->walk_order[0],
				         "%s %s, rid DESC", col, dir);
				k->walk_col[0] = col;
				k->walk_cls[0] = V_NUM;
			}
		} else {
			k->table = "params";
			snprintf(k->val, sizeof k->val, "type, num, ival, sval");
			snprintf(k->order, sizeof k->order, "type, num, ival, sval");
			k->form = F_PARAM;
			key->walkable = key->walk_newest = true;
			k->nstretch = 2;
			int nums = desc ? 1 : 0, strs = 1 - nums;
			k->walk_cond[nums] = "num IS NOT NULL";
			snprintf(k->walk_order[nums], sizeof k->walk_order[0],
			         "num %s, type %s, ival %s, rid DESC", dir, dir, dir);
			k->walk_cond[strs] = "sval IS NOT NULL";
			snprintf(k->walk_order[strs], sizeof k->walk_order[0], "sval %s, rid DESC",
			         dir);
			k->walk_col[nums] = "num";
			k->walk_cls[nums] = V_NUM;
			k->walk_col[strs] = "sval";
			k->walk_cls[strs] = V_TEXT;
		}
		break;
	}
	case QK_TAG:
		/* a tag's value; a bare tag's is "" (as MLflow reads it) */
		k->table = "tags";
		cb_sql(&c, "tag = ?");
		cb_txt(&c, f->key);
		snprintf(k->val, sizeof k->val, "coalesce(value, '')");
		snprintf(k->order, sizeof k->order, "coalesce(value, '') COLLATE \"C\"");
		k->form = F_TEXT;
		break;
	case QK_PROPERTY:
	case QK_DATASET: {
		bool prop = f->kind == QK_PROPERTY;
		k->table = prop ? "properties" : "datasets";
		cb_sql(&c, prop ? "key = ?" : "name = ?");
		cb_txt(&c, f->key);
		const char *col = prop ? "value" : pgscan_data_cols[f->part];
		snprintf(k->val, sizeof k->val, "%s", col);
		snprintf(k->order, sizeof k->order, "%s COLLATE \"C\"", col);
		k->form = qfield_type(f) == QT_NUM ? F_NUM : F_TEXT;
		k->is_int = true; /* files, bytes */
		break;
	}
	case QK_ATTR: {
		attr_sql as = pgscan_attr((qattr)f->part);
		k->table = "runs";
		cb_sql(&c, "TRUE");
		snprintf(k->val, sizeof k->val, "%s", as.expr);
		snprintf(k->order, sizeof k->order, "2");
		/* the value expression's binds come first in the statement; keep
		 * them in the key's bind list and put the value in the SELECT */
		pgscan_attr_binds(q, &as, &c, false);
		qtype t = qfield_type(f);
		qattr a = (qattr)f->part;
		k->form = a == QA_STATUS ? F_STATUS : t == QT_TEXT ? F_TEXT : F_NUM;
		k->is_int = as.is_int;
		if (a == QA_STARTED || a == QA_NAME || a == QA_ENDED) {
			key->walkable = key->walk_newest = true;
			const char *col = a == QA_STARTED ? "start_time"
			                  : a == QA_NAME  ? "name"
			                                  : "end_time";
			k->nstretch = 1;
			k->walk_cond[0] = a == QA_STARTED ? "start_time IS NOT NULL"
			                  : a == QA_NAME  ? "name IS NOT NULL"
			                                  : "end_time IS NOT NULL";
			snprintf(k->walk_order[0], sizeof k->walk_order[0], "%s %s, rid DESC", col,
			         dir);
			k->walk_col[0] = col;
			k->walk_cls[0] = a == QA_NAME ? V_TEXT : V_NUM;
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
	key->impl = k;
	return 0;
}

/* "SELECT rid, <value columns> FROM table WHERE <key> AND " with the key's
 * bindings (the value's come first: they are in keycond's list). */
static void select_key(buf *sql, plist *pl, const skey *k)
{
	/* the value expression's ?s precede the condition's in the text */
	buf_puts(sql, "SELECT rid, ");
	int nval = 0;
	for (const char *c = k->val; *c; c++)
		nval += *c == '?';
	pgscan_sql(sql, pl, k->val, k->b, nval);
	buf_printf(sql, " FROM %s WHERE ", k->table);
	pgscan_sql(sql, pl, k->keycond, k->b + nval, k->nb - nval);
}

static const char *col_text(store_scan_ctx *q, const PGresult *r, int row, int col)
{
	return arena_strndup(q->mem, pq.getvalue(r, row, col), (size_t)pq.getlength(r, row, col));
}

static void col_num(const PGresult *r, int row, int col, bool is_int, sval *v)
{
	v->cls = V_NUM;
	if (is_int) {
		v->is_int = true;
		v->i = pg_get_int(r, row, col);
		v->d = (double)v->i;
	} else {
		v->d = pg_get_double(r, row, col);
	}
}

/* The value columns of a row (starting at column c0) as an sval. */
static int read_val(store_scan_ctx *q, const skey *k, const PGresult *r, int row, int c0, sval *v)
{
	memset(v, 0, sizeof *v);
	bool null = pg_isnull(r, row, c0);
	switch (k->form) {
	case F_METRIC:
		if (null)
			v->cls = V_NAN;
		else
			col_num(r, row, c0, k->is_int, v);
		return 0;
	case F_PARAM: {
		/* type, num, ival, sval */
		int type = (int)pg_get_int(r, row, c0);
		v->type = (uint8_t)type;
		if (type == CAIRN_TYPE_STRING) {
			v->cls = V_TEXT;
			v->s = pg_isnull(r, row, c0 + 3) ? arena_strndup(q->mem, "", 0)
			                                 : col_text(q, r, row, c0 + 3);
		} else if (pg_isnull(r, row, c0 + 1)) {
			v->cls = V_NAN;
		} else if (type == CAIRN_TYPE_FLOAT) {
			col_num(r, row, c0 + 1, false, v);
		} else {
			col_num(r, row, c0 + 2, true, v);
		}
		break;
	}
	case F_STATUS:
		if (null) {
			v->cls = V_MISSING;
		} else {
			v->cls = V_TEXT;
			v->s = cairn_status_name((cairn_status)pg_get_int(r, row, c0));
		}
		return 0;
	case F_TEXT:
		if (null) {
			v->cls = V_MISSING;
		} else {
			v->cls = V_TEXT;
			v->s = col_text(q, r, row, c0);
		}
		break;
	default:
		if (null)
			v->cls = V_MISSING;
		else
			col_num(r, row, c0, k->is_int, v);
		return 0;
	}
	if (v->cls == V_TEXT && !v->s)
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

#define GATHER_CHUNK 8192 /* runs per statement when looking runs up */

int pgscan_gather(store_scan_ctx *q, const store_key *key, const int64_t *rids, size_t n,
                  sval *vals, size_t stride, bool by_probe)
{
	const skey *k = key->impl;
	if (n == 0)
		return 0;
	int rc;
	rset set;
	rrank rk = {0};
	size_t *row_of = malloc(n * sizeof *row_of);
	if (!row_of)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = rset_init(&set, (size_t)(q->maxrid >> 6) + 1)) != 0) {
		free(row_of);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		rset_add(&set, rids[i]);
	if ((rc = rrank_init(&rk, &set)) != 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		row_of[rrank_of(&rk, rids[i])] = i;
	/* by_probe: few runs, looked up by rid; else one pass over the key's rows */
	for (size_t from = 0; rc == 0 && from < (by_probe ? n : 1); from += GATHER_CHUNK) {
		buf sql = BUF_INIT, arr = BUF_INIT;
		plist pl = {0};
		select_key(&sql, &pl, k);
		if (by_probe) {
			size_t m = n - from < GATHER_CHUNK ? n - from : GATHER_CHUNK;
			pgscan_rid_array(&arr, rids + from, m);
			qbind ab = {.t = 'a', .s = arr.ptr};
			pgscan_sql(&sql, &pl, " AND rid = ANY(?)", &ab, 1);
		}
		PGresult *r = buf_ok(&arr) ? pgscan_exec(q, &sql, &pl) : NULL;
		if (!r) {
			rc = buf_ok(&arr) ? cairn_error_last_code()
			                  : err_set(CAIRN_ENOMEM, "out of memory");
		} else {
			int nt = pq.ntuples(r);
			for (int i = 0; i < nt && rc == 0; i++) {
				int64_t rid = strtoll(pq.getvalue(r, i, 0), NULL, 10);
				if (!rset_has(&set, rid))
					continue;
				size_t at = row_of[rrank_of(&rk, rid)];
				rc = read_val(q, k, r, i, 1, &vals[at * stride]);
			}
			pq.clear(r);
		}
		buf_free(&sql);
		buf_free(&arr);
	}
done:
	rrank_free(&rk);
	free(row_of);
	rset_free(&set);
	return rc;
}

/* --- walking a key in order ------------------------------------------------------------ */

#define WALK_FIRST 128
#define WALK_MAX   16384

struct store_walk {
	store_scan_ctx *q;
	const skey *k;
	const rset *M;
	int stretch;      /* the stretch being read; nstretch: the end */
	bool open;        /* its cursor is declared */
	char name[32];    /* the cursor */
	const sval *from; /* a keyset walk's start, in stretch from_at */
	int from_at;
	int64_t skip;   /* members still to pass over (an offset page) */
	int batch;      /* rows per FETCH */
	PGresult *rows; /* the last batch */
	int at, nrows;
	bool desc;
};

static int walk_declare(store_walk *w)
{
	const skey *k = w->k;
	buf sql = BUF_INIT;
	plist pl = {0};
	snprintf(w->name, sizeof w->name, "cairn_walk%d", w->q->ncursors++);
	buf_printf(&sql, "DECLARE %s NO SCROLL CURSOR FOR ", w->name);
	select_key(&sql, &pl, k);
	buf_printf(&sql, " AND %s", k->walk_cond[w->stretch]);
	if (w->from && w->stretch == w->from_at) {
		qbind fb = {
		    .t = w->from->cls == V_TEXT ? 's' : 'd', .d = w->from->d, .s = w->from->s};
		buf_printf(&sql, " AND %s %s ", k->walk_col[w->stretch], w->desc ? "<=" : ">=");
		pgscan_sql(&sql, &pl, "?", &fb, 1);
	}
	buf_printf(&sql, " ORDER BY %s", k->walk_order[w->stretch]);
	PGresult *r = pgscan_exec(w->q, &sql, &pl);
	buf_clear(&sql);
	if (!r) {
		buf_free(&sql);
		return cairn_error_last_code();
	}
	pq.clear(r);
	w->open = true;
	w->batch = WALK_FIRST;
	/* every row a member (no set): the server passes over the skipped
	 * rows itself, without sending them */
	if (w->skip > 0 && !w->M) {
		buf_printf(&sql, "MOVE FORWARD %lld IN %s", (long long)w->skip, w->name);
		plist none = {0};
		if (!(r = pgscan_exec(w->q, &sql, &none))) {
			buf_free(&sql);
			return cairn_error_last_code();
		}
		const char *moved = pq.cmdTuples(r);
		w->skip -= moved && *moved ? strtoll(moved, NULL, 10) : 0;
		pq.clear(r);
	}
	buf_free(&sql);
	return 0;
}

static void walk_end_cursor(store_walk *w)
{
	if (w->rows)
		pq.clear(w->rows);
	w->rows = NULL;
	w->at = w->nrows = 0;
	if (!w->open)
		return;
	w->open = false;
	buf sql = BUF_INIT;
	plist pl = {0};
	buf_printf(&sql, "CLOSE %s", w->name);
	PGresult *r = pgscan_exec(w->q, &sql, &pl);
	buf_free(&sql);
	if (r)
		pq.clear(r);
}

int pgscan_walk_open(store_scan_ctx *q, const store_key *key, const rset *M, const sval *from,
                     int64_t from_rid, int64_t skip, store_walk **out)
{
	/* ties come newest first (rid DESC in every walk_order), and the walk
	 * starts at the position's value, so at its ties' first: earlier than
	 * from_rid, which the contract allows */
	(void)from_rid;
	if (skip && (!key->walk_newest || from))
		return err_set(CAIRN_ERROR, "internal: a skip asked of a walk that cannot");
	store_walk *w = arena_zalloc(q->mem, sizeof *w);
	if (!w)
		return err_set(CAIRN_ENOMEM, "out of memory");
	w->q = q;
	w->k = key->impl;
	w->M = M;
	w->desc = key->desc;
	w->skip = skip;
	/* a keyset walk starts in the stretch of the position's class, at its
	 * value (the stretches before it hold values before it); with none of
	 * that class, from the start (the planner skips what is before) */
	if (from && from->cls <= V_TEXT) {
		for (int i = 0; i < w->k->nstretch; i++)
			if (w->k->walk_cls[i] == from->cls) {
				w->from = from;
				w->from_at = i;
				w->stretch = i;
			}
	}
	*out = w;
	return 0;
}

int pgscan_walk_next(store_walk *w, int64_t *rid, sval *v)
{
	int rc;
	for (;;) {
		while (w->at < w->nrows) {
			int i = w->at++;
			int64_t x = strtoll(pq.getvalue(w->rows, i, 0), NULL, 10);
			if (w->M && !rset_has(w->M, x))
				continue;
			if (w->skip > 0) { /* a member passed over here (with a set) */
				w->skip--;
				continue;
			}
			*rid = x;
			rc = read_val(w->q, w->k, w->rows, i, 1, v);
			return rc ? rc : 1;
		}
		if (w->stretch >= w->k->nstretch)
			return 0;
		if (!w->open && (rc = walk_declare(w)) != 0)
			return rc;
		if (w->rows && w->nrows < w->batch) {
			/* the last batch was short: this stretch is done */
			walk_end_cursor(w);
			w->stretch++;
			continue;
		}
		if (w->rows) {
			pq.clear(w->rows);
			w->rows = NULL;
			if (w->batch < WALK_MAX)
				w->batch *= 2;
		}
		buf sql = BUF_INIT;
		plist pl = {0};
		buf_printf(&sql, "FETCH %d FROM %s", w->batch, w->name);
		w->rows = pgscan_exec(w->q, &sql, &pl);
		buf_free(&sql);
		if (!w->rows)
			return cairn_error_last_code();
		w->at = 0;
		w->nrows = pq.ntuples(w->rows);
	}
}

void pgscan_walk_close(store_walk *w)
{
	if (w)
		walk_end_cursor(w);
}

/* --- grouping ------------------------------------------------------------------------ */

/* One group's value: the same as another's (SQLite's GROUP BY value, type). */
static bool same_group(const sval *a, const sval *b)
{
	if (a->cls != b->cls || a->type != b->type)
		return false;
	switch (a->cls) {
	case V_TEXT: return strcmp(a->s, b->s) == 0;
	case V_NUM: return a->is_int && b->is_int ? a->i == b->i : a->d == b->d;
	default: return true;
	}
}

int pgscan_group_values(store_scan_ctx *q, const store_key *key, store_groups *g,
                        int (*each)(void *arg, const sval *v, int32_t id), void *arg)
{
	const skey *k = key->impl;
	buf sql = BUF_INIT;
	plist pl = {0};
	select_key(&sql, &pl, k);
	buf_printf(&sql, " ORDER BY %s", k->order);
	PGresult *r = pgscan_exec(q, &sql, &pl);
	buf_free(&sql);
	if (!r)
		return cairn_error_last_code();
	int rc = 0, nt = pq.ntuples(r);
	sval cur = {0};
	int32_t id = -1;
	for (int i = 0; i < nt && rc == 0; i++) {
		int64_t rid = strtoll(pq.getvalue(r, i, 0), NULL, 10);
		if (rid < 0 || rid > g->maxrid || g->gid[rid] == GID_OUT)
			continue; /* not a match */
		sval v;
		if ((rc = read_val(q, k, r, i, 1, &v)) != 0)
			break;
		if (id < 0 || !same_group(&v, &cur)) {
			id = g->ngroups++;
			cur = v;
			rc = each(arg, &v, id);
		}
		g->gid[rid] = id;
	}
	pq.clear(r);
	return rc;
}

int pgscan_group_stats(store_scan_ctx *q, const store_key *key, store_groups *g)
{
	const skey *k = key->impl;
	if (k->form == F_TEXT || k->form == F_STATUS)
		return 0; /* no numbers */
	buf sql = BUF_INIT;
	plist pl = {0};
	select_key(&sql, &pl, k);
	PGresult *r = pgscan_exec(q, &sql, &pl);
	buf_free(&sql);
	if (!r)
		return cairn_error_last_code();
	int nt = pq.ntuples(r);
	for (int i = 0; i < nt; i++) {
		int64_t rid = strtoll(pq.getvalue(r, i, 0), NULL, 10);
		double v;
		if (k->form == F_PARAM) {
			int type = (int)pg_get_int(r, i, 1);
			if (type != CAIRN_TYPE_INT && type != CAIRN_TYPE_FLOAT)
				continue;
			v = type == CAIRN_TYPE_INT ? (double)pg_get_int(r, i, 3)
			                           : pg_get_double(r, i, 2);
		} else {
			v = pg_get_double(r, i, 1); /* NULL: NaN, skipped */
		}
		store_group_add(g, rid, v);
	}
	pq.clear(r);
	return 0;
}
