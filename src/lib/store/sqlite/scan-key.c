/*
 * lib/store/sqlite/scan-key.c — the SQLite store's sort keys (lib/store/scan.h).
 *
 * A key is one field's value columns in one table, read for given runs by
 * primary-key probes or one pass over the key's rows restricted to the set
 * (cairn_inset), or walked in the order of an index (a metric's last value,
 * a param's (value, type), start time, name, end time).  Grouping by a key
 * is in scan-group.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/sqlite/scan-sql.h"

int scan_key_prepare(store_scan_ctx *q, store_key *key)
{
	const qfield *f = &key->f;
	bool desc = key->desc;
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
		if ((rc = scan_key_id(q, f->key, &kid)) != 0)
			return rc;
		cb_sql(&c, "kid = ?");
		cb_int(&c, kid);
		if (f->kind == QK_METRIC) {
			k->table = "metric_summary";
			snprintf(k->val, sizeof k->val, "%s", scan_metric_cols[f->part]);
			k->form = F_METRIC;
			if (f->part == QM_LAST || f->part == QM_MIN || f->part == QM_MAX) {
				/* an index each: metric_summary_kid_last, _min, _max */
				const char *col = scan_metric_cols[f->part];
				key->walkable = key->walk_newest = true;
				snprintf(k->walk_notnull, sizeof k->walk_notnull, "%s IS NOT NULL",
				         col);
				snprintf(k->walk_order, sizeof k->walk_order, "%s %s", col,
				         desc ? "DESC, rid DESC" : "ASC");
				k->walk_col = col;
			}
		} else {
			k->table = "params";
			snprintf(k->val, sizeof k->val, "value, type");
			k->form = F_PARAM;
			key->walkable = key->walk_newest = true;
			snprintf(k->walk_notnull, sizeof k->walk_notnull, "value IS NOT NULL");
			snprintf(k->walk_order, sizeof k->walk_order, "%s",
			         desc ? "value DESC, type DESC, rid DESC" : "value ASC, type ASC");
			k->walk_col = "value";
			k->walk_type = "type";
		}
		break;
	}
	case QK_TAG:
		/* a tag's value; a bare tag's is "" (as MLflow reads it) */
		k->table = "tags";
		cb_sql(&c, "tag = ?");
		cb_txt(&c, f->key);
		snprintf(k->val, sizeof k->val, "coalesce(value, '')");
		k->form = F_TEXT;
		break;
	case QK_PROPERTY:
	case QK_DATASET:
		k->table = f->kind == QK_PROPERTY ? "properties" : "datasets";
		cb_sql(&c, f->kind == QK_PROPERTY ? "key = ?" : "name = ?");
		cb_txt(&c, f->key);
		snprintf(k->val, sizeof k->val, "%s",
		         f->kind == QK_PROPERTY ? "value" : scan_data_cols[f->part]);
		k->form = qfield_type(f) == QT_NUM ? F_NUM : F_TEXT;
		break;
	case QK_ATTR: {
		attr_sql as = scan_attr((qattr)f->part);
		k->table = "runs";
		cb_sql(&c, "1");
		snprintf(k->val, sizeof k->val, "%s", as.expr);
		/* the value expression's binds come first in the statement; keep
		 * them in the key's bind list and put the value in the SELECT */
		scan_attr_binds(q, &as, &c, false);
		qtype t = qfield_type(f);
		qattr a = (qattr)f->part;
		k->form = a == QA_STATUS ? F_STATUS : t == QT_TEXT ? F_TEXT : F_NUM;
		if (a == QA_STARTED || a == QA_NAME || a == QA_ENDED) {
			key->walkable = true;
			const char *col = a == QA_STARTED ? "start_time"
			                  : a == QA_NAME  ? "name"
			                                  : "end_time";
			snprintf(k->walk_notnull, sizeof k->walk_notnull, "%s IS NOT NULL", col);
			/* runs' indexes end in the rowid, the rid: read backwards, ties
			 * come newest first; ascending, the walk reverses each block
			 * of ties, as a param's (walk_next_reversed) */
			snprintf(k->walk_order, sizeof k->walk_order, "%s %s", col,
			         desc ? "DESC, rid DESC" : "ASC");
			key->walk_newest = true;
			k->walk_col = col;
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

static const char *col_text(store_scan_ctx *q, sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return arena_strndup(q->mem, s ? s : "", (size_t)sqlite3_column_bytes(st, col));
}

static void col_num(sqlite3_stmt *st, int col, int t, sval *v)
{
	v->cls = V_NUM;
	v->d = sqlite3_column_double(st, col);
	if (t == SQLITE_INTEGER) {
		v->is_int = true;
		v->i = sqlite3_column_int64(st, col);
	}
}

/* The value columns of a row (starting at column c0) as an sval. */
int scan_read_val(store_scan_ctx *q, const skey *k, sqlite3_stmt *st, int c0, sval *v)
{
	memset(v, 0, sizeof *v);
	int t = sqlite3_column_type(st, c0);
	switch (k->form) {
	case F_METRIC:
		if (t == SQLITE_NULL)
			v->cls = V_NAN;
		else
			col_num(st, c0, t, v);
		return 0;
	case F_PARAM: {
		int type = sqlite3_column_int(st, c0 + 1);
		v->type = (uint8_t)type;
		if (t == SQLITE_NULL) {
			v->cls = V_NAN;
		} else if (type == CAIRN_TYPE_STRING || t == SQLITE_TEXT) {
			v->cls = V_TEXT;
			v->s = col_text(q, st, c0);
		} else {
			col_num(st, c0, t, v);
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
			v->s = col_text(q, st, c0);
		}
		break;
	default:
		if (t == SQLITE_NULL) {
			v->cls = V_MISSING;
		} else if (t == SQLITE_TEXT) {
			v->cls = V_TEXT;
			v->s = col_text(q, st, c0);
		} else {
			col_num(st, c0, t, v);
		}
		return 0;
	}
	if (v->cls == V_TEXT && !v->s)
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

int scan_gather(store_scan_ctx *q, const store_key *key, const int64_t *rids, size_t n, sval *vals,
                size_t stride, bool by_probe)
{
	const skey *k = key->impl;
	if (n == 0)
		return 0;
	int rc;
	sqlite3_stmt *st;
	char sql[1024];
	int ridx = k->nb + 1; /* the value's and key's binds come first in the text */
	if (by_probe) {
		snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s AND rid = ?%d", k->val,
		         k->table, k->keycond, ridx);
		if ((rc = scan_prep(q, sql, &st)) != 0)
			return rc;
		scan_bind_all(st, 1, k->b, k->nb);
		for (size_t i = 0; i < n && rc == 0; i++) {
			sqlite3_bind_int64(st, ridx, rids[i]);
			int s = sqlite3_step(st);
			if (s == SQLITE_ROW)
				rc = scan_read_val(q, k, st, 0, &vals[i * stride]);
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
	snprintf(sql, sizeof sql, "SELECT rid, %s FROM %s WHERE %s AND cairn_inset(?%d, rid)",
	         k->val, k->table, k->keycond, ridx);
	if ((rc = scan_prep(q, sql, &st)) == 0) {
		scan_bind_all(st, 1, k->b, k->nb);
		sqlite3_bind_pointer(st, ridx, &set, RSET_PTR, NULL);
		int s;
		while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
			size_t i = row_of[rrank_of(&rk, sqlite3_column_int64(st, 0))];
			rc = scan_read_val(q, k, st, 1, &vals[i * stride]);
		}
		if (rc == 0 && s != SQLITE_DONE)
			rc = store_sqlerr(q->s, "run the query");
		sqlite3_finalize(st);
	}
done:
	rrank_free(&rk);
	free(row_of);
	rset_free(&set);
	return rc;
}

/* --- walking a key in order ------------------------------------------------------------ */

/* A walk with walk_newest gives equal values newest first.  Descending,
 * that is the index read backwards: (value, type, rid) all descending.
 * Ascending, the index gives ties oldest first, so the walk reverses each
 * block of equal values: a block of up to WALK_BUF rows is held and given
 * back to front; a longer one is read from its end by a second statement
 * (`= value ORDER BY rid DESC`, from a keyset position's rid when it is
 * the position's block), and the main statement opened again past the
 * block.  So a page of a sort by a 5-valued param reads its 100 rows, not
 * the 200,000 ties of its last value. */
#define WALK_BUF 64
int store_walk_held_max = WALK_BUF;

struct store_walk {
	store_scan_ctx *q;
	const skey *k;
	sqlite3_stmt *st; /* the main statement, in the index's order */
	const rset *M;
	bool desc, newest;
	const sval *from; /* the keyset position's first value and rid */
	int64_t from_rid;
	sqlite3_stmt *blk; /* a long block, newest first */
	sval bv;           /* the value of the block being given */
	int64_t buf[WALK_BUF];
	int nbuf;      /* rows of a short block still to give (from the end) */
	bool held;     /* st's current row begins the next block */
	bool st_done;  /* st has given its last row */
	int64_t skip;  /* rows the main statement passes over first (OFFSET) */
	bool skip_fix; /* ascending: its first block not yet fixed (skip_fix) */
};

static void bind_sval(sqlite3_stmt *st, int at, const sval *v)
{
	if (v->cls == V_TEXT)
		sqlite3_bind_text(st, at, v->s, -1, SQLITE_TRANSIENT);
	else if (v->is_int)
		sqlite3_bind_int64(st, at, v->i);
	else
		sqlite3_bind_double(st, at, v->d);
}

/* Whether the main statement's row holds v (columns 1 and, for a param, 2). */
static bool row_is(const skey *k, sqlite3_stmt *st, const sval *v)
{
	int t = sqlite3_column_type(st, 1);
	if (k->walk_type && sqlite3_column_int(st, 2) != v->type)
		return false;
	if (v->cls == V_TEXT) {
		const char *s = (const char *)sqlite3_column_text(st, 1);
		return t == SQLITE_TEXT && s && strcmp(s, v->s) == 0;
	}
	if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
		return false;
	if (t == SQLITE_INTEGER && v->is_int)
		return sqlite3_column_int64(st, 1) == v->i;
	return sqlite3_column_double(st, 1) == v->d;
}

static bool sval_same(const sval *a, const sval *b)
{
	if (a->cls != b->cls || a->type != b->type)
		return false;
	if (a->cls == V_TEXT)
		return strcmp(a->s, b->s) == 0;
	return a->is_int && b->is_int ? a->i == b->i : a->d == b->d;
}

/* Open the main statement: from the start, from w->from (and its rid when
 * descending newest first), or past the value `past` (a long block given). */
static int walk_main(store_walk *w, const sval *past)
{
	const skey *k = w->k;
	const char *c = k->walk_col, *ty = k->walk_type;
	char sql[1024], inset[48] = "", start[96] = "";
	int at = k->nb + 1;
	if (w->M)
		snprintf(inset, sizeof inset, " AND cairn_inset(?%d, rid)", at++);
	const sval *b = past ? past : w->from;
	bool with_rid = !past && b && w->desc && w->newest;
	if (past && ty)
		snprintf(start, sizeof start, " AND (%s, %s) > (?%d, ?%d)", c, ty, at, at + 1);
	else if (past)
		snprintf(start, sizeof start, " AND %s > ?%d", c, at);
	else if (with_rid && ty)
		snprintf(start, sizeof start, " AND (%s, %s, rid) <= (?%d, ?%d, ?%d)", c, ty, at,
		         at + 1, at + 2);
	else if (with_rid)
		snprintf(start, sizeof start, " AND (%s, rid) <= (?%d, ?%d)", c, at, at + 1);
	else if (b) /* SQLite orders numbers before text as the planner does */
		snprintf(start, sizeof start, " AND %s %s ?%d", c, w->desc ? "<=" : ">=", at);
	/* the offset bound last, as the one anonymous parameter */
	const char *skip = w->skip && !past ? " LIMIT -1 OFFSET ?" : "";
	snprintf(sql, sizeof sql, "SELECT rid, %s FROM %s WHERE %s AND %s%s%s ORDER BY %s%s",
	         k->val, k->table, k->keycond, k->walk_notnull, inset, start, k->walk_order, skip);
	sqlite3_finalize(w->st);
	w->st = NULL;
	int rc = scan_prep(w->q, sql, &w->st);
	if (rc)
		return rc;
	scan_bind_all(w->st, 1, k->b, k->nb);
	if (w->M)
		sqlite3_bind_pointer(w->st, k->nb + 1, (void *)w->M, RSET_PTR, NULL);
	if (b) {
		bind_sval(w->st, at++, b);
		if ((past || with_rid) && ty)
			sqlite3_bind_int(w->st, at++, b->type);
		if (with_rid)
			sqlite3_bind_int64(w->st, at, w->from_rid);
	}
	if (*skip)
		sqlite3_bind_int64(w->st, sqlite3_bind_parameter_count(w->st), w->skip);
	return 0;
}

/* A statement over the rows of w->bv (those in the set), SELECT what ...
 * [AND rid rel below] tail [OFFSET off, off > 0]: the long block, newest
 * first, or a count.  Anonymous parameters, bound in their order. */
static int value_stmt(store_walk *w, const char *what, const char *rel, int64_t below,
                      const char *tail, int64_t off, sqlite3_stmt **out)
{
	const skey *k = w->k;
	char sql[1024], type[32] = "", cut[32] = "";
	if (k->walk_type)
		snprintf(type, sizeof type, " AND %s = ?", k->walk_type);
	if (rel)
		snprintf(cut, sizeof cut, " AND rid %s ?", rel);
	snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s AND %s = ?%s%s%s%s%s", what, k->table,
	         k->keycond, k->walk_col, type, w->M ? " AND cairn_inset(?, rid)" : "", cut, tail,
	         off > 0 ? " LIMIT -1 OFFSET ?" : "");
	int rc = scan_prep(w->q, sql, out);
	if (rc)
		return rc;
	scan_bind_all(*out, 1, k->b, k->nb);
	int at = k->nb + 1;
	bind_sval(*out, at++, &w->bv);
	if (k->walk_type)
		sqlite3_bind_int(*out, at++, w->bv.type);
	if (w->M)
		sqlite3_bind_pointer(*out, at++, (void *)w->M, RSET_PTR, NULL);
	if (rel)
		sqlite3_bind_int64(*out, at++, below);
	if (off > 0)
		sqlite3_bind_int64(*out, at, off);
	return 0;
}

/* Open the long block of w->bv, newest first, from the keyset position's
 * rid in its own value, less its first `newer` rows (an offset page's). */
static int walk_block(store_walk *w, int64_t newer)
{
	bool at_pos = w->from && sval_same(&w->bv, w->from);
	return value_stmt(w, "rid", at_pos ? "<=" : NULL, w->from_rid, " ORDER BY rid DESC", newer,
	                  &w->blk);
}

/* An ascending offset page: the main statement passed over w->skip rows in
 * the index's order, which gives ties oldest first, so when its first row
 * r is inside a value's block, the rows of that value it passed over (those
 * below r) are the value's oldest, where the page's order passes over its
 * newest.  That many are passed over from the block's newest end instead,
 * and the block is given from there.  0 with *fixed when it was, or when r
 * begins its block (nothing to fix). */
static int skip_fix(store_walk *w, int64_t r, bool *fixed)
{
	sqlite3_stmt *st;
	*fixed = false;
	int rc = value_stmt(w, "count(*)", "<", r, "", 0, &st);
	if (rc)
		return rc;
	int64_t older = 0;
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		older = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (s != SQLITE_ROW)
		return store_sqlerr(w->q->s, "run the query");
	if (older == 0)
		return 0;
	*fixed = true;
	return walk_block(w, older);
}

int scan_walk_open(store_scan_ctx *q, const store_key *key, const rset *M, const sval *from,
                   int64_t from_rid, int64_t skip, store_walk **out)
{
	if (skip && (!key->walk_newest || from))
		return err_set(CAIRN_ERROR, "internal: a skip asked of a walk that cannot");
	store_walk *w = arena_zalloc(q->mem, sizeof *w);
	if (!w)
		return err_set(CAIRN_ENOMEM, "out of memory");
	w->q = q;
	w->k = key->impl;
	w->M = M; /* NULL: every row of the key, in order (the caller tests them) */
	w->desc = key->desc;
	w->newest = key->walk_newest;
	if (from && from->cls <= V_TEXT) {
		w->from = from;
		w->from_rid = from_rid;
	}
	w->skip = skip;
	w->skip_fix = skip > 0 && !w->desc;
	int rc = walk_main(w, NULL);
	if (rc == 0)
		*out = w;
	return rc;
}

/* The next row of an ascending walk_newest walk: blocks reversed. */
static int walk_next_reversed(store_walk *w, int64_t *rid, sval *v)
{
	for (;;) {
		if (w->nbuf > 0) {
			*rid = w->buf[--w->nbuf];
			*v = w->bv;
			return 1;
		}
		if (w->blk) {
			int s = sqlite3_step(w->blk);
			if (s == SQLITE_ROW) {
				*rid = sqlite3_column_int64(w->blk, 0);
				*v = w->bv;
				return 1;
			}
			if (s != SQLITE_DONE)
				return store_sqlerr(w->q->s, "run the query");
			sqlite3_finalize(w->blk);
			w->blk = NULL;
			int rc = walk_main(w, &w->bv); /* on past the block */
			if (rc)
				return rc;
			w->held = w->st_done = false;
			continue;
		}
		if (w->st_done)
			return 0;
		if (!w->held) {
			int s = sqlite3_step(w->st);
			if (s == SQLITE_DONE)
				return 0;
			if (s != SQLITE_ROW)
				return store_sqlerr(w->q->s, "run the query");
		}
		/* a block begins at this row: hold it, or read it from its end */
		w->held = false;
		int rc = scan_read_val(w->q, w->k, w->st, 1, &w->bv);
		if (rc)
			return rc;
		if (w->skip_fix) {
			bool fixed;
			w->skip_fix = false;
			if ((rc = skip_fix(w, sqlite3_column_int64(w->st, 0), &fixed)) != 0)
				return rc;
			if (fixed)
				continue; /* the block statement gives the rest of it */
		}
		int n = 0;
		w->buf[n++] = sqlite3_column_int64(w->st, 0);
		for (;;) {
			int s = sqlite3_step(w->st);
			if (s == SQLITE_DONE) {
				w->st_done = true;
				break;
			}
			if (s != SQLITE_ROW)
				return store_sqlerr(w->q->s, "run the query");
			if (!row_is(w->k, w->st, &w->bv)) {
				w->held = true;
				break;
			}
			if (n >= WALK_BUF || n >= store_walk_held_max) {
				if ((rc = walk_block(w, 0)) != 0)
					return rc;
				n = 0; /* the block statement gives them all */
				break;
			}
			w->buf[n++] = sqlite3_column_int64(w->st, 0);
		}
		w->nbuf = n;
	}
}

int scan_walk_next(store_walk *w, int64_t *rid, sval *v)
{
	if (w->newest && !w->desc)
		return walk_next_reversed(w, rid, v);
	int s = sqlite3_step(w->st);
	if (s == SQLITE_DONE)
		return 0;
	if (s != SQLITE_ROW)
		return store_sqlerr(w->q->s, "run the query");
	*rid = sqlite3_column_int64(w->st, 0);
	int rc = scan_read_val(w->q, w->k, w->st, 1, v);
	return rc ? rc : 1;
}

void scan_walk_close(store_walk *w)
{
	if (w) {
		sqlite3_finalize(w->st);
		sqlite3_finalize(w->blk);
		w->st = w->blk = NULL;
	}
}
