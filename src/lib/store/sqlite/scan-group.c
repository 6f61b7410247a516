/*
 * lib/store/sqlite/scan-group.c — the SQLite store's grouping passes
 * (lib/store/scan.h: group_values, group_stats).
 *
 * Neither pass returns a row per run: SQL functions write into the planner's
 * store_groups.  group_values numbers the field's distinct values among the
 * matches and writes each match's group number into an array by rid;
 * group_stats adds each metric value to its run's group (cairn_gstat).
 * Both only touch runs the planner marked as matches, and run with a small
 * page cache (they read each page once).
 *
 * A param with few distinct values (GROUP_SKIP_MAX) is grouped without
 * GROUP BY: a skip scan finds each (value, type) and the first rid of its
 * rows by one seek each, then one walk of the key's rows in the index's
 * order (cairn_gwalk in the WHERE clause) knows a value ends where the next
 * value's first rid comes, since a rid has one row per key.  That walk
 * compares no values; GROUP BY compared each row's value and type with the
 * last row's (a group by a 5-valued param at 1M runs: 283 -> 199 ms of CPU,
 * docs/internals/query.md).  Any other field, or a
 * param with more values, takes GROUP BY (cairn_gid).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/store/sqlite/scan-sql.h"

#define GROUPS_PTR "cairn_gctx"
#define GWALK_PTR  "cairn_gwalk"

/* The values a skip scan collects at most before handing over to GROUP BY
 * (each costs a seek: more would also mean fewer rows a value). */
#define GROUP_SKIP_MAX 256

/* cairn_gwalk's state: the values in index order and their first rids. */
typedef struct gwalk {
	store_groups *g;
	int n;
	sval v[GROUP_SKIP_MAX];
	int64_t first[GROUP_SKIP_MAX];
	int32_t id[GROUP_SKIP_MAX]; /* group number; -1: no match seen yet */
	int cur;                    /* the value of the row walked; -1 before any */
	int64_t prev;               /* the last row's rid */
	bool bad;                   /* rows came out of the index's order */
} gwalk;

/* GROUP BY's per-group state. */
typedef struct gid_agg {
	store_groups *g;
	int32_t id;
	bool has;
} gid_agg;

static void fn_gid_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	gid_agg *a = sqlite3_aggregate_context(ctx, sizeof *a);
	if (!a)
		return;
	/* the pointer is read once a group: sqlite3_value_pointer compares its
	 * type's name on every call */
	if (!a->g && !(a->g = sqlite3_value_pointer(argv[0], GROUPS_PTR)))
		return;
	store_groups *g = a->g;
	int64_t rid = sqlite3_value_int64(argv[1]);
	if (rid < 0 || rid > g->maxrid || g->gid[rid] == GID_OUT)
		return; /* not a match */
	if (!a->has) {
		a->id = g->ngroups++;
		a->has = true;
	}
	g->gid[rid] = a->id;
}

static void fn_gid_final(sqlite3_context *ctx)
{
	gid_agg *a = sqlite3_aggregate_context(ctx, 0);
	sqlite3_result_int(ctx, a && a->has ? a->id : -1);
}

/* cairn_gwalk(w, rid): a row of the walk, in the index's order; NULL (the
 * WHERE clause drops every row). */
static void fn_gwalk(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	gwalk *w = sqlite3_get_auxdata(ctx, 0);
	if (!w) {
		if (!(w = sqlite3_value_pointer(argv[0], GWALK_PTR)))
			return;
		sqlite3_set_auxdata(ctx, 0, w, NULL); /* kept while :w is bound */
	}
	int64_t rid = sqlite3_value_int64(argv[1]);
	if (w->cur + 1 < w->n && rid == w->first[w->cur + 1])
		w->cur++; /* the next value's first row */
	else if (w->cur < 0 || rid <= w->prev)
		w->bad = true; /* within a value, rids ascend */
	w->prev = rid;
	store_groups *g = w->g;
	if (w->cur < 0 || rid < 0 || rid > g->maxrid || g->gid[rid] == GID_OUT)
		return;
	int32_t *id = &w->id[w->cur];
	if (*id < 0)
		*id = g->ngroups++;
	g->gid[rid] = *id;
}

static void fn_gstat_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	store_groups **g = sqlite3_aggregate_context(ctx, sizeof *g);
	if (!g || (!*g && !(*g = sqlite3_value_pointer(argv[0], GROUPS_PTR))))
		return;
	int t = sqlite3_value_type(argv[2]);
	if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
		return;
	store_group_add(*g, sqlite3_value_int64(argv[1]), sqlite3_value_double(argv[2]));
}

static void fn_gstat_final(sqlite3_context *ctx)
{
	sqlite3_result_null(ctx);
}

static int ensure_group_functions(cairn_store *s)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(store_sqlite_db(s),
	                       "SELECT cairn_gid(NULL, 0), cairn_gstat(NULL, 0, 0), "
	                       "cairn_gwalk(NULL, 0)",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
	if (sqlite3_create_function_v2(store_sqlite_db(s), "cairn_gid", 2, flags, NULL, NULL,
	                               fn_gid_step, fn_gid_final, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(store_sqlite_db(s), "cairn_gstat", 3, flags, NULL, NULL,
	                               fn_gstat_step, fn_gstat_final, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(store_sqlite_db(s), "cairn_gwalk", 2, flags, NULL, fn_gwalk,
	                               NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(s, "register the query functions");
	return 0;
}

/* A grouping pass reads each page of one index once, so a page cache
 * bigger than the path down the index only costs fresh memory: at 1M runs
 * the two passes filled the connection's 32 MiB with pages never read
 * again, ~8,000 page faults (a tenth of the group).  The pass runs with a
 * cache of GROUP_CACHE_KIB and gives the connection its size back after. */
#define GROUP_CACHE_KIB 1000

static int64_t cache_shrink(store_scan_ctx *q)
{
	int64_t was = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "PRAGMA cache_size", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		was = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	/* only one surely bigger (negative: KiB; positive: pages of 512 B or more) */
	if (was < 0 ? was >= -GROUP_CACHE_KIB : was <= GROUP_CACHE_KIB * 2)
		return 0;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", GROUP_CACHE_KIB);
	return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? was : 0;
}

static void cache_restore(store_scan_ctx *q, int64_t was)
{
	char sql[64];
	if (!was)
		return;
	snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", (long long)was);
	sqlite3_exec(q->db, sql, NULL, NULL, NULL);
}

/* The skip scan's statements: the first row of the key; after a value v of
 * type t, the first row of v of a later type, else the first of a greater
 * value; after NaN (a NULL value) of type t, the first of a later type, else
 * the first non-NULL value.  Rows come in the index's order (kid, value,
 * type, rid), so each row found is its value's first, and each statement is
 * one seek (a row value `(value, type) > (v, t)` seeks to v and then reads
 * every row of v). */
enum { SK_FIRST, SK_SAME, SK_GREATER, SK_SAME_NULL, SK_NOT_NULL, SK_N };

static const char *const skip_cond[SK_N] = {
    "",
    " AND value = :v AND type > :t",
    " AND value > :v",
    " AND value IS NULL AND type > :t",
    " AND value IS NOT NULL",
};

/* Fill w with the key's distinct (value, type) and their first rids: 0,
 * 1 when there are more than GROUP_SKIP_MAX, or an error. */
static int skip_scan(store_scan_ctx *q, const skey *k, gwalk *w)
{
	sqlite3_stmt *st[SK_N] = {0};
	sqlite3_value *last = NULL; /* the last value found (its row is reset) */
	int last_type = 0, rc = 0, which = SK_FIRST;
	w->n = 0;
	while (rc == 0) {
		if (!st[which]) {
			char sql[512];
			snprintf(sql, sizeof sql,
			         "SELECT value, type, rid FROM %s WHERE %s%s"
			         " ORDER BY value, type, rid LIMIT 1",
			         k->table, k->keycond, skip_cond[which]);
			if ((rc = scan_prep(q, sql, &st[which])) != 0)
				break;
		}
		sqlite3_stmt *s = st[which];
		sqlite3_reset(s);
		scan_bind_anon(s, k->b, k->nb);
		int iv = sqlite3_bind_parameter_index(s, ":v");
		int it = sqlite3_bind_parameter_index(s, ":t");
		if (iv)
			sqlite3_bind_value(s, iv, last);
		if (it)
			sqlite3_bind_int(s, it, last_type);
		int r = sqlite3_step(s);
		if (r == SQLITE_DONE && (which == SK_SAME || which == SK_SAME_NULL)) {
			which = which == SK_SAME ? SK_GREATER : SK_NOT_NULL; /* no later type */
			continue;
		}
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = store_sqlerr(q->s, "run the query");
			break;
		}
		if (w->n == GROUP_SKIP_MAX) {
			rc = 1;
			break;
		}
		if ((rc = scan_read_val(q, k, s, 0, &w->v[w->n])) != 0)
			break;
		w->first[w->n] = sqlite3_column_int64(s, 2);
		w->id[w->n++] = -1;
		last_type = sqlite3_column_int(s, 1);
		bool null = sqlite3_column_type(s, 0) == SQLITE_NULL;
		sqlite3_value_free(last);
		last = null ? NULL : sqlite3_value_dup(sqlite3_column_value(s, 0));
		if (!null && !last)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
		which = null ? SK_SAME_NULL : SK_SAME;
	}
	sqlite3_value_free(last);
	for (int i = 0; i < SK_N; i++)
		sqlite3_finalize(st[i]);
	return rc;
}

/* The walk over the key's rows in the index's order, numbering the values
 * among the matches: 0, 1 when it could not (then the caller takes GROUP BY,
 * g as it was), or an error. */
static int group_walk(store_scan_ctx *q, const skey *k, store_groups *g, gwalk *w)
{
	w->g = g;
	w->cur = -1;
	w->prev = -1;
	w->bad = false;
	char sql[512];
	snprintf(sql, sizeof sql,
	         "SELECT rid FROM %s WHERE %s AND cairn_gwalk(:w, rid) ORDER BY value, type, rid",
	         k->table, k->keycond);
	sqlite3_stmt *st;
	int rc = scan_prep(q, sql, &st);
	if (rc)
		return rc;
	scan_bind_anon(st, k->b, k->nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":w"), w, GWALK_PTR, NULL);
	int s = sqlite3_step(st);
	/* a sort would have called cairn_gwalk in some other order */
	bool in_order = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_SORT, 0) == 0;
	if (s == SQLITE_ROW)
		rc = err_set(CAIRN_ERROR, "internal: the group walk returned a row");
	else if (s != SQLITE_DONE)
		rc = store_sqlerr(q->s, "run the query");
	sqlite3_finalize(st);
	if (rc == 0 && (!in_order || w->bad || w->cur != w->n - 1)) {
		for (int64_t r = 0; r <= g->maxrid; r++)
			if (g->gid[r] >= 0)
				g->gid[r] = GID_NONE;
		g->ngroups = 0;
		rc = 1;
	}
	return rc;
}

/* A param's groups by the skip scan and the walk: 0, 1 when the key does
 * not suit them (g untouched), or an error. */
static int group_values_walk(store_scan_ctx *q, const skey *k, store_groups *g,
                             int (*each)(void *arg, const sval *v, int32_t id), void *arg)
{
	if (k->form != F_PARAM)
		return 1;
	gwalk *w = malloc(sizeof *w);
	if (!w)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = skip_scan(q, k, w);
	if (rc == 0 && w->n)
		rc = group_walk(q, k, g, w);
	for (int i = 0; rc == 0 && i < w->n; i++)
		if (w->id[i] >= 0)
			rc = each(arg, &w->v[i], w->id[i]);
	free(w);
	return rc;
}

int scan_group_values(store_scan_ctx *q, const store_key *key, store_groups *g,
                      int (*each)(void *arg, const sval *v, int32_t id), void *arg)
{
	const skey *k = key->impl;
	int rc = ensure_group_functions(q->s);
	if (rc)
		return rc;
	int64_t cache = cache_shrink(q);
	rc = group_values_walk(q, k, g, each, arg);
	if (rc != 1) {
		cache_restore(q, cache);
		return rc;
	}
	rc = 0;
	/* cairn_gid skips runs that are not matches: no cairn_inset needed */
	int nv = k->form == F_PARAM ? 2 : 1;
	char sql[1024];
	snprintf(sql, sizeof sql, "SELECT %s, cairn_gid(:g, rid) FROM %s WHERE %s GROUP BY %s",
	         k->val, k->table, k->keycond, nv == 2 ? "1, 2" : "1");
	sqlite3_stmt *st;
	if ((rc = scan_prep(q, sql, &st)) != 0) {
		cache_restore(q, cache);
		return rc;
	}
	scan_bind_anon(st, k->b, k->nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":g"), g, GROUPS_PTR, NULL);
	int s;
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, nv) == SQLITE_NULL || sqlite3_column_int(st, nv) < 0)
			continue; /* a value no match has */
		sval v;
		if ((rc = scan_read_val(q, k, st, 0, &v)) == 0)
			rc = each(arg, &v, sqlite3_column_int(st, nv));
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = store_sqlerr(q->s, "run the query");
	sqlite3_finalize(st);
	cache_restore(q, cache);
	return rc;
}

/* Pass 2's statement: fn(:g, rid, the numeric value) over k's rows. */
static void stats_sql(char *sql, size_t n, const skey *k, const char *fn)
{
	snprintf(sql, n, "SELECT %s(:g, rid, %s) FROM %s WHERE %s", fn,
	         k->form == F_PARAM ? "CASE WHEN type IN (1, 2) THEN value END" : k->val, k->table,
	         k->keycond);
}

int scan_group_stats(store_scan_ctx *q, const store_key *key, store_groups *g)
{
	const skey *k = key->impl;
	int rc = ensure_group_functions(q->s);
	if (rc)
		return rc;
	char sql[1024];
	stats_sql(sql, sizeof sql, k, "cairn_gstat");
	sqlite3_stmt *st;
	if ((rc = scan_prep(q, sql, &st)) != 0)
		return rc;
	scan_bind_anon(st, k->b, k->nb);
	sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":g"), g, GROUPS_PTR, NULL);
	int64_t cache = cache_shrink(q);
	rc = scan_step_err(q, sqlite3_step(st));
	sqlite3_finalize(st);
	cache_restore(q, cache);
	return rc;
}

/* --- pass 2 beside pass 1 ---------------------------------------------------------- */

/* The two passes read two indexes, each at SQLite's per-row cost (~70 and
 * ~85 ms at 1M runs), and neither needs the other's rows: the metric pass
 * only needs the group numbers when it adds.  So on a big store a thread
 * reads the metric's values into an array by rid (NaN: none) on a second
 * connection of its own while the group pass runs, and the planner adds
 * them in rid order afterwards (docs/internals/query.md, "Grouping").  The
 * second connection reads in its own transaction, begun a moment after the
 * query's: runs newer than the query's (rid past maxrid) are left out, and
 * a value logged in between may be counted (a group is then as of a moment
 * during the query, not its start). */
struct store_group_bg {
	pthread_t th;
	char path[4096];
	char sql[1024];
	qbind b[MAXB];
	int nb;
	int64_t maxrid;
	double *vals; /* by rid, 0 … maxrid */
	int64_t held_rid[STORE_GROUP_AHEAD];
	double held_v[STORE_GROUP_AHEAD];
	unsigned held;
	int rc;
	char err[512];
};

#define GVALS_PTR "cairn_gvals"

/* cairn_gvals(bg, rid, value): value into bg->vals[rid] (an aggregate,
 * so the whole pass is one step). */
static void fn_gvals_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	store_group_bg **w = sqlite3_aggregate_context(ctx, sizeof *w);
	if (!w || (!*w && !(*w = sqlite3_value_pointer(argv[0], GVALS_PTR))))
		return;
	int t = sqlite3_value_type(argv[2]);
	if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
		return;
	int64_t rid = sqlite3_value_int64(argv[1]);
	store_group_bg *bg = *w;
	if (rid < 0 || rid > bg->maxrid)
		return;
	/* the rows come in the index's order, so their rids in none: a store
	 * at once stalls on the slot's cache miss, as store_group_add's read
	 * would; the slot is prefetched and written STORE_GROUP_AHEAD rows on */
	__builtin_prefetch(&bg->vals[rid], 1);
	unsigned i = bg->held++ % STORE_GROUP_AHEAD;
	if (bg->held > STORE_GROUP_AHEAD)
		bg->vals[bg->held_rid[i]] = bg->held_v[i];
	bg->held_rid[i] = rid;
	bg->held_v[i] = sqlite3_value_double(argv[2]);
}

static void *gvals_main(void *arg)
{
	store_group_bg *bg = arg;
	/* here, not before the thread starts: 8 MB at 1M runs, beside pass 1 */
	for (int64_t r = 0; r <= bg->maxrid; r++)
		bg->vals[r] = NAN;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *what = "open a second connection";
	int r = sqlite3_open_v2(bg->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (r == SQLITE_OK) {
		sqlite3_busy_timeout(db, 60000);
		what = "run the query";
		/* each page is read once: a small cache, no mapping */
		r = sqlite3_exec(db, "PRAGMA cache_size=-1000", NULL, NULL, NULL);
	}
	if (r == SQLITE_OK)
		r = sqlite3_create_function_v2(db, "cairn_gvals", 3,
		                               SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, NULL,
		                               fn_gvals_step, fn_gstat_final, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_prepare_v2(db, bg->sql, -1, &st, NULL);
	if (r == SQLITE_OK) {
		scan_bind_anon(st, bg->b, bg->nb);
		sqlite3_bind_pointer(st, sqlite3_bind_parameter_index(st, ":g"), bg, GVALS_PTR,
		                     NULL);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW || r == SQLITE_DONE)
			r = SQLITE_OK;
		unsigned n = bg->held < STORE_GROUP_AHEAD ? bg->held : STORE_GROUP_AHEAD;
		for (unsigned i = 0; i < n; i++)
			bg->vals[bg->held_rid[i]] = bg->held_v[i];
	}
	if (r != SQLITE_OK) {
		bg->rc = r == SQLITE_NOMEM ? CAIRN_ENOMEM : CAIRN_ESTORE;
		snprintf(bg->err, sizeof bg->err, "cannot %s: %s", what,
		         db ? sqlite3_errmsg(db) : "out of memory");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return NULL;
}

int scan_group_stats_begin(store_scan_ctx *q, const store_key *key, int64_t maxrid,
                           store_group_bg **out)
{
	const skey *k = key->impl;
	*out = NULL;
	const char *path = sqlite3_db_filename(q->db, "main");
	if (!path || !*path || strlen(path) >= sizeof((store_group_bg *)0)->path)
		return 0; /* a temporary database: no second connection */
	store_group_bg *bg = calloc(1, sizeof *bg);
	if (!bg || !(bg->vals = malloc(((size_t)maxrid + 1) * sizeof *bg->vals))) {
		free(bg);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	memcpy(bg->path, path, strlen(path) + 1);
	stats_sql(bg->sql, sizeof bg->sql, k, "cairn_gvals");
	memcpy(bg->b, k->b, sizeof bg->b);
	bg->nb = k->nb;
	bg->maxrid = maxrid;
	if (pthread_create(&bg->th, NULL, gvals_main, bg) != 0) {
		free(bg->vals);
		free(bg);
		return 0; /* no thread: the planner reads them itself */
	}
	*out = bg;
	return 0;
}

int scan_group_stats_end(store_scan_ctx *q, store_group_bg *bg, store_groups *g)
{
	(void)q;
	pthread_join(bg->th, NULL);
	int rc = bg->rc ? err_set(bg->rc, "%s", bg->err) : 0;
	if (rc == 0 && g) {
		int64_t n = bg->maxrid < g->maxrid ? bg->maxrid : g->maxrid;
		for (int64_t r = 0; r <= n; r++)
			if (bg->vals[r] == bg->vals[r])
				store_group_add_now(g, r, bg->vals[r]);
	}
	free(bg->vals);
	free(bg);
	return rc;
}
