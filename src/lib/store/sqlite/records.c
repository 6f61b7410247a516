/*
 * lib/store/sqlite/records.c — run records (lib/store/record.h) read from the
 * SQLite store (the records_load and run_list_ids ops).
 *
 * A batch of up to STORE_RECORD_BATCH runs costs one statement per table
 * (runs, params, metric_summary, tags, properties, datasets, artifacts on
 * request) instead of seven per run: 100 runs take ~0.6 ms instead of
 * ~2.5 ms.  Rows are read by run id order; params and metrics by key id
 * (the join and ORDER BY name would cost a sort), their key names are
 * cached for the batch and each run's rows sorted by name (record-load.c:
 * by the last run's order when its keys are the same, as most of a
 * batch's are, else by a sort).  Every
 * string is copied into the batch's arena, so a record is one block of
 * memory with its batch.
 *
 * The JSON text of a run is never written here: record_json
 * (store/record-json.c) is the one writer.  Thread-safety: every entry point
 * holds the store's lock.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/query.h"
#include "lib/store/record.h"
#include "lib/store/sqlite/sqlite.h"
#include "util/json.h"

static int prep(cairn_store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store_sqlerr(s, "prepare the query");
	}
	return 0;
}

/* --- loading a batch ----------------------------------------------------------------- */

/* Each section's statement is SELECT <k>_COLS <k>_FROM, a condition on the
 * run id, then <k>_ORD.  Three forms are prepared once and cached (store_prep): one
 * run (= ?, for cairn show and the HTTP run page), a run of consecutive
 * ids (BETWEEN ?1 AND ?2: a listing's batch is usually one, and a range
 * reads each index in order), and a full batch of ids (IN with
 * STORE_RECORD_BATCH placeholders, built once); any other batch is
 * prepared for itself.
 *
 * The head reads the project by id (names cached for the batch, as key
 * names are) and the child counts come from one grouped statement over
 * the batch's ids (KIDS_COLS): as subqueries in the head they were a join
 * and an index seek per run, ~0.5 us of a listing's ~13 us.  The child
 * count names runs_parent: ANALYZE of a store without nested runs rates it
 * as one value over every run, and the planner would then scan runs. */
#define HEAD_COLS                                                                                  \
	"r.rid, r.id, r.seq, r.name, r.project_id, r.status, r.start_time, r.end_time,"            \
	" r.heartbeat, r.exit_code, r.command, r.cwd, r.host, r.user, r.note, r.git_commit,"       \
	" r.git_branch, r.git_remote, r.git_dirty, r.code_oid, r.env_oid, (SELECT id FROM runs q"  \
	" WHERE q.rid = r.parent_rid), r.pid, r.deleted"
#define HEAD_FROM    " FROM runs r WHERE r.rid"
#define HEAD_ORD     " ORDER BY r.rid"
#define KIDS_COLS    "parent_rid, count(*)"
#define KIDS_FROM    " FROM runs INDEXED BY runs_parent WHERE deleted = 0 AND parent_rid"
#define KIDS_ORD     " GROUP BY parent_rid ORDER BY parent_rid"
#define PARAMS_COLS  "rid, kid, type, value"
#define PARAMS_FROM  " FROM params WHERE rid"
#define PARAMS_ORD   " ORDER BY rid"
#define METRICS_COLS "rid, kid, last, min, max, count, last_step, last_ts"
#define METRICS_FROM " FROM metric_summary WHERE rid"
#define METRICS_ORD  " ORDER BY rid"
#define TAGS_COLS    "rid, tag, value"
#define TAGS_FROM    " FROM tags WHERE rid"
#define TAGS_ORD     " ORDER BY rid, tag"
#define PROPS_COLS   "rid, key, value"
#define PROPS_FROM   " FROM properties WHERE rid"
#define PROPS_ORD    " ORDER BY rid, key"
#define DATA_COLS    "rid, name, path, role, algo, digest, files, bytes, manifest_oid"
#define DATA_FROM    " FROM datasets WHERE rid"
#define DATA_ORD     " ORDER BY rid, name"
#define ARTS_COLS    "rid, path, oid, size, media_type, kind, key, step"
#define ARTS_FROM    " FROM artifacts WHERE rid"
#define ARTS_ORD     " ORDER BY rid, path"

/* The statements by section; KIDS, the child counts, is one more
 * section here (SECT_KIDS), read after the head. */
#define SECT_KIDS          REC_NSECT
#define NSQL               (REC_NSECT + 1)
#define SECT_ROWS(k, form) "SELECT " k##_COLS k##_FROM form k##_ORD
#define SECT_SQL(form)                                                                             \
	{                                                                                          \
		SECT_ROWS(HEAD, form), SECT_ROWS(PARAMS, form), SECT_ROWS(METRICS, form),          \
		    SECT_ROWS(TAGS, form), SECT_ROWS(PROPS, form), SECT_ROWS(DATA, form),          \
		    SECT_ROWS(ARTS, form), SECT_ROWS(KIDS, form)                                   \
	}

static const char *const sect_sql[NSQL][2] = {
    {"SELECT " HEAD_COLS HEAD_FROM, HEAD_ORD},
    {"SELECT " PARAMS_COLS PARAMS_FROM, PARAMS_ORD},
    {"SELECT " METRICS_COLS METRICS_FROM, METRICS_ORD},
    {"SELECT " TAGS_COLS TAGS_FROM, TAGS_ORD},
    {"SELECT " PROPS_COLS PROPS_FROM, PROPS_ORD},
    {"SELECT " DATA_COLS DATA_FROM, DATA_ORD},
    {"SELECT " ARTS_COLS ARTS_FROM, ARTS_ORD},
    {"SELECT " KIDS_COLS KIDS_FROM, KIDS_ORD},
};
static const char *const sect_sql1[NSQL] = SECT_SQL(" = ?");
static const char *const sect_range[NSQL] = SECT_SQL(" BETWEEN ?1 AND ?2");

/* The big sections of a batch also come as one aggregate over their rows,
 * cairn_rows(columns…), whose step reads each row (below, "The rows by an
 * aggregate"); no ORDER BY, which an aggregate cannot take, so the loader
 * checks the rows come by run. */
#define SECT_AGG(k, form) "SELECT cairn_rows(" k##_COLS ")" k##_FROM form
static const char *const agg_range[NSQL] = {SECT_AGG(HEAD, " BETWEEN ?1 AND ?2"),
                                            SECT_AGG(PARAMS, " BETWEEN ?1 AND ?2"),
                                            SECT_AGG(METRICS, " BETWEEN ?1 AND ?2")};
static const char *const agg_sql[NSQL][2] = {
    {"SELECT cairn_rows(" HEAD_COLS ")" HEAD_FROM, ""},
    {"SELECT cairn_rows(" PARAMS_COLS ")" PARAMS_FROM, ""},
    {"SELECT cairn_rows(" METRICS_COLS ")" METRICS_FROM, ""}};

/* The IN form of a section for n ids, as rows or as the aggregate
 * (malloc'd; NULL on OOM). */
static char *sect_list(int k, size_t n, bool agg)
{
	buf sql = BUF_INIT;
	buf_puts(&sql, agg ? agg_sql[k][0] : sect_sql[k][0]);
	buf_puts(&sql, " IN (");
	for (size_t i = 0; i < n; i++)
		buf_puts(&sql, i ? ",?" : "?");
	buf_puts(&sql, ")");
	buf_puts(&sql, agg ? agg_sql[k][1] : sect_sql[k][1]);
	return buf_detach(&sql);
}

/* The full-batch forms, built once per process (their addresses key the
 * statement cache). */
static char *sect_full[NSQL], *agg_full[NSQL];
static pthread_once_t sect_full_once = PTHREAD_ONCE_INIT;

static void sect_full_build(void)
{
	for (int k = 0; k < NSQL; k++) {
		sect_full[k] = sect_list(k, STORE_RECORD_BATCH, false);
		if (agg_range[k])
			agg_full[k] = sect_list(k, STORE_RECORD_BATCH, true);
	}
}

/* Does section k of n runs come by the aggregate? */
static bool sect_agg(int k, size_t n)
{
	return n > 1 && k < NSQL && agg_range[k];
}

/* Section k's statement for the batch's sorted ids, bound (*cached: a
 * store_prep statement, to reset; else one to finalize); agg: the
 * aggregate's (sect_agg). */
static int sect_stmt(cairn_store *s, int k, const rec_ridx *sorted, size_t n, bool agg,
                     sqlite3_stmt **out, bool *cached)
{
	sqlite3_stmt *st = NULL;
	bool range = n > 1 && sorted[n - 1].rid - sorted[0].rid + 1 == (int64_t)n;
	const char *csql = n == 1   ? sect_sql1[k]
	                   : !range ? NULL
	                   : agg    ? agg_range[k]
	                            : sect_range[k];
	if (!csql && n == STORE_RECORD_BATCH) {
		pthread_once(&sect_full_once, sect_full_build);
		csql = agg ? agg_full[k] : sect_full[k];
	}
	*out = NULL;
	*cached = csql != NULL;
	if (csql) {
		if (!(st = store_prep(s, csql)))
			return cairn_error_last_code();
	} else {
		char *sql = sect_list(k, n, agg);
		int rc = sql ? prep(s, sql, &st) : err_set(CAIRN_ENOMEM, "out of memory");
		free(sql);
		if (rc)
			return rc;
	}
	if (range) {
		sqlite3_bind_int64(st, 1, sorted[0].rid);
		sqlite3_bind_int64(st, 2, sorted[n - 1].rid);
	} else {
		for (size_t i = 0; i < n; i++)
			sqlite3_bind_int64(st, (int)i + 1, sorted[i].rid);
	}
	*out = st;
	return 0;
}

static void sect_done(sqlite3_stmt *st, bool cached)
{
	if (cached)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
}

/* Names by id (keys, projects) for one batch, copied into its arena once
 * each: an open-addressing table and the statement that reads a missing
 * one.  A name not in the store is an error for a key (its row names it)
 * and NULL for a project (the run is then left out, as a join would). */
typedef struct kname {
	int64_t kid;
	const char *name;
} kname;

typedef struct kcache {
	kname *tab;
	size_t cap, n;
	sqlite3_stmt *st;
	const char *sql;
	bool optional; /* projects: a missing one is NULL, not an error */
} kcache;

static int kcache_name(cairn_store *s, arena *a, kcache *c, int64_t kid, const char **out)
{
	if (c->n * 2 >= c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		kname *nt = calloc(ncap, sizeof *nt);
		if (!nt)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < c->cap; i++) {
			if (!c->tab[i].name)
				continue;
			size_t h = (size_t)c->tab[i].kid * 0x9E3779B97F4A7C15ull & (ncap - 1);
			while (nt[h].name)
				h = (h + 1) & (ncap - 1);
			nt[h] = c->tab[i];
		}
		free(c->tab);
		c->tab = nt;
		c->cap = ncap;
	}
	size_t h = (size_t)kid * 0x9E3779B97F4A7C15ull & (c->cap - 1);
	while (c->tab[h].name) {
		if (c->tab[h].kid == kid) {
			*out = c->tab[h].name;
			return 0;
		}
		h = (h + 1) & (c->cap - 1);
	}
	int rc;
	*out = NULL;
	if (!c->st && (rc = prep(s, c->sql, &c->st)) != 0)
		return rc;
	sqlite3_reset(c->st);
	sqlite3_bind_int64(c->st, 1, kid);
	int step = sqlite3_step(c->st);
	if (step == SQLITE_DONE && c->optional)
		return 0;
	if (step != SQLITE_ROW)
		return store_sqlerr(s, "read a key name");
	const char *name = rec_strndup(a, (const char *)sqlite3_column_text(c->st, 0),
	                               (size_t)sqlite3_column_bytes(c->st, 0));
	if (!name)
		return err_set(CAIRN_ENOMEM, "out of memory");
	c->tab[h].kid = kid;
	c->tab[h].name = name;
	c->n++;
	*out = name;
	return 0;
}

/* A row's columns are sqlite3_values: the aggregate's arguments, or a
 * statement's row through sqlite3_column_value (one call per column
 * instead of two, its type then its value; the value accessors skip the
 * statement's error bookkeeping that every sqlite3_column_* call does).
 * The values are "unprotected": safe here, as the connection is opened
 * NOMUTEX and only used under the store's lock. */

/* A text value copied into the arena (NULL stays NULL). */
static const char *aval(arena *a, sqlite3_value *v)
{
	const char *t = (const char *)sqlite3_value_text(v);
	return t ? rec_strndup(a, t, (size_t)sqlite3_value_bytes(v)) : NULL;
}

static bool vnull(sqlite3_value *v)
{
	return sqlite3_value_type(v) == SQLITE_NULL;
}

/* A REAL column: *has is false and the value 0 when it is NULL. */
static double opt_double(sqlite3_value *v, bool *has)
{
	*has = !vnull(v);
	return sqlite3_value_double(v);
}

static int read_head(cairn_store *s, arena *a, cairn_run_record *r, sqlite3_value **c, double now,
                     kcache *projects)
{
	const char *id = (const char *)sqlite3_value_text(c[1]);
	size_t idlen = id ? (size_t)sqlite3_value_bytes(c[1]) : 0;
	if (idlen > CAIRN_RUN_ID_HEXSZ)
		idlen = CAIRN_RUN_ID_HEXSZ; /* as snprintf into r->id would cut it */
	memcpy(r->id, id ? id : "", idlen);
	r->id[idlen] = '\0';
	r->seq = sqlite3_value_int64(c[2]);
	r->name = aval(a, c[3]);
	int rc = kcache_name(s, a, projects, sqlite3_value_int64(c[4]), &r->project);
	if (rc)
		return rc;
	r->status = (cairn_status)sqlite3_value_int(c[5]);
	r->start_time = opt_double(c[6], &r->has_start);
	r->end_time = opt_double(c[7], &r->has_end);
	r->heartbeat = opt_double(c[8], &r->has_heartbeat);
	if (r->status == CAIRN_STATUS_RUNNING && r->has_heartbeat &&
	    r->heartbeat < now - s->stale_after)
		r->status = CAIRN_STATUS_CRASHED;
	r->has_exit_code = !vnull(c[9]);
	r->exit_code = sqlite3_value_int64(c[9]);
	r->command = aval(a, c[10]);
	r->cwd = aval(a, c[11]);
	r->host = aval(a, c[12]);
	r->user = aval(a, c[13]);
	r->note = aval(a, c[14]);
	if (!r->note)
		r->note = "";
	r->code.commit = aval(a, c[15]);
	r->code.branch = aval(a, c[16]);
	r->code.remote = aval(a, c[17]);
	r->code.dirty = vnull(c[18]) ? -1 : sqlite3_value_int(c[18]) != 0;
	r->code.snapshot = aval(a, c[19]);
	r->has_code = r->code.commit || r->code.snapshot;
	r->env_oid = aval(a, c[20]);
	r->parent = aval(a, c[21]);
	r->pid = sqlite3_value_int64(c[22]);
	r->deleted = sqlite3_value_int(c[23]) != 0;
	r->children = 0; /* SECT_KIDS */
	r->loaded_at = now;
	r->store = s;
	return 0;
}

static void read_param(rec_param *p, arena *a, sqlite3_value **c)
{
	int type = sqlite3_value_int(c[2]);
	sqlite3_value *v = c[3];
	memset(&p->v, 0, sizeof p->v);
	p->v.type = (cairn_type)type;
	switch (type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: p->v.i = sqlite3_value_int64(v); break;
	case CAIRN_TYPE_FLOAT:
		/* SQLite cannot hold NaN: it is stored as NULL */
		p->v.f = vnull(v) ? NAN : sqlite3_value_double(v);
		break;
	default:
		p->v.type = CAIRN_TYPE_STRING;
		p->v.s = aval(a, v);
		if (!p->v.s)
			p->v.s = "";
	}
}

static void read_metric(rec_metric *m, sqlite3_value **c)
{
	bool has;
	m->m.last = opt_double(c[2], &has);
	if (!has)
		m->m.last = NAN;
	m->m.min = opt_double(c[3], &has);
	m->min_null = !has;
	if (!has)
		m->m.min = NAN;
	m->m.max = opt_double(c[4], &has);
	m->max_null = !has;
	if (!has)
		m->m.max = NAN;
	m->m.count = sqlite3_value_int64(c[5]);
	m->m.step = sqlite3_value_int64(c[6]);
	m->ts_ms = sqlite3_value_int64(c[7]);
	m->m.timestamp = (double)m->ts_ms / 1000.0;
}

/* The child counts of the batch's runs: rows by parent, in id order, merged
 * with the sorted ids. */
static int load_kids(cairn_store *s, rec_batch *bt, const rec_ridx *sorted, size_t n)
{
	sqlite3_stmt *st;
	bool cached;
	int rc = sect_stmt(s, SECT_KIDS, sorted, n, false, &st, &cached);
	if (rc)
		return rc;
	size_t pos = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(st, 0);
		while (pos < n && sorted[pos].rid < rid)
			pos++;
		if (pos == n)
			break;
		if (sorted[pos].rid == rid)
			bt->recs[sorted[pos].idx].children = sqlite3_column_int64(st, 1);
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sqlerr(s, "read the runs");
	sect_done(st, cached);
	return rc;
}

/* One section's loading: the gathering, what a row needs, and how it went. */
typedef struct sect_ld {
	cairn_store *s;
	rec_batch *bt;
	int k;
	rec_gather g;
	kcache *kc, *projects;
	double now;
	int64_t prev;  /* the last row's run */
	int rc;        /* an error reading a row */
	bool done;     /* a row past the batch's runs came: the rest are too */
	bool disorder; /* the aggregate's rows came out of run order */
} sect_ld;

/* Row c (its columns, the run id first) into its record: 0, or an error;
 * L->done when the row's run is past the batch. */
static int sect_row(sect_ld *L, sqlite3_value **c)
{
	arena *a = &L->bt->arena;
	cairn_run_record *cur;
	void *e;
	int rc = record_gather_row(&L->g, sqlite3_value_int64(c[0]), &cur, &e);
	if (rc || !cur) {
		L->done = !rc;
		return rc;
	}
	switch (L->k) {
	case REC_HEAD: return read_head(L->s, a, cur, c, L->now, L->projects);
	case REC_PARAMS: {
		rec_param *p = e;
		if ((rc = kcache_name(L->s, a, L->kc, sqlite3_value_int64(c[1]), &p->key)) != 0)
			return rc;
		read_param(p, a, c);
		return 0;
	}
	case REC_METRICS: {
		rec_metric *m = e;
		if ((rc = kcache_name(L->s, a, L->kc, sqlite3_value_int64(c[1]), &m->m.key)) != 0)
			return rc;
		read_metric(m, c);
		return 0;
	}
	case REC_TAGS:
	case REC_PROPS: {
		rec_prop *p = e;
		p->key = aval(a, c[1]);
		p->value = aval(a, c[2]);
		return 0;
	}
	case REC_DATA: {
		cairn_run_dataset *d = e;
		d->name = aval(a, c[1]);
		d->path = aval(a, c[2]);
		d->role = aval(a, c[3]);
		d->algo = aval(a, c[4]);
		d->digest = aval(a, c[5]);
		d->files = sqlite3_value_int64(c[6]);
		d->bytes = sqlite3_value_int64(c[7]);
		d->manifest = aval(a, c[8]);
		return 0;
	}
	case REC_ARTS: {
		cairn_run_artifact *x = e;
		x->path = aval(a, c[1]);
		x->digest = aval(a, c[2]);
		x->size = sqlite3_value_int64(c[3]);
		x->media_type = aval(a, c[4]);
		x->kind = aval(a, c[5]);
		x->key = aval(a, c[6]);
		x->step = vnull(c[7]) ? CAIRN_STEP_AUTO : sqlite3_value_int64(c[7]);
		return 0;
	}
	}
	return 0;
}

/* --- the rows by an aggregate ---------------------------------------------------------- */

/* A row a step costs SQLite's return to the caller and a column call per
 * column; the aggregate's step gets them as its arguments inside one
 * sqlite3_step (params and metrics of a 1M-run listing: ~145 -> ~105 ns a
 * row).  An aggregate takes no ORDER BY, and the gathering needs the rows
 * by run: they come so (each table's primary key starts with rid, read as
 * one range or in the IN list's sorted order), and a row out of order sets
 * `disorder`, after which the batch is read again row by row. */
bool sqlite_rows_disorder = false;

static void fn_rows_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	/* the loader of the statement being stepped: the connection's, set
	 * for that step (the connection is used by one thread at a time) */
	sect_ld *L = ((sqlite_be *)sqlite3_user_data(ctx))->rows;
	if (!L || L->rc || L->done || L->disorder)
		return;
	int64_t rid = sqlite3_value_int64(argv[0]);
	if (rid < L->prev || (sqlite_rows_disorder && L->prev != INT64_MIN)) {
		L->disorder = true;
		return;
	}
	L->prev = rid;
	if ((L->rc = sect_row(L, argv)) != 0)
		sqlite3_result_error(ctx, "cannot read a row", -1); /* the loader has why */
}

static void fn_rows_final(sqlite3_context *ctx)
{
	sqlite3_result_null(ctx);
}

static int rows_function(cairn_store *s)
{
	sqlite_be *be = s->be;
	if (be->rows_fn)
		return 0;
	if (sqlite3_create_function_v2(be->db, "cairn_rows", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
	                               be, NULL, fn_rows_step, fn_rows_final, NULL) != SQLITE_OK)
		return store_sqlerr(s, "register the record functions");
	be->rows_fn = true;
	return 0;
}

/* One section's rows for the batch, gathered into the records (record.h):
 * 0, 1 when the aggregate's rows came out of run order, or an error. */
static int load_section(cairn_store *s, rec_batch *bt, int k, const rec_ridx *sorted, size_t n,
                        kcache *kc, kcache *projects, double now, bool rows)
{
	bool agg = !rows && sect_agg(k, n);
	int rc = agg ? rows_function(s) : 0;
	if (rc)
		return rc;
	sqlite3_stmt *st;
	bool cached;
	if ((rc = sect_stmt(s, k, sorted, n, agg, &st, &cached)) != 0)
		return rc;
	sect_ld L = {.s = s,
	             .bt = bt,
	             .k = k,
	             .kc = kc,
	             .projects = projects,
	             .now = now,
	             .prev = INT64_MIN};
	record_gather_init(&L.g, bt, k, sorted, n);
	int step;
	if (agg) {
		sqlite_be *be = s->be;
		be->rows = &L;
		step = sqlite3_step(st);
		be->rows = NULL;
		if (step == SQLITE_ROW)
			step = SQLITE_DONE;
	} else {
		sqlite3_value *c[24];
		int nc = sqlite3_column_count(st);
		while (!L.rc && !L.done && (step = sqlite3_step(st)) == SQLITE_ROW) {
			for (int i = 0; i < nc && i < 24; i++)
				c[i] = sqlite3_column_value(st, i);
			L.rc = sect_row(&L, c);
		}
		if (L.rc || L.done)
			step = SQLITE_DONE;
	}
	rc = L.rc;
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_sqlerr(s, "read the runs");
	rc = record_gather_end(&L.g, rc);
	sect_done(st, cached);
	if (rc == 0 && L.disorder)
		return 1;
	if (rc == 0 && k == REC_HEAD)
		rc = load_kids(s, bt, sorted, n);
	return rc;
}

int sqlite_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                        rec_batch **out)
{
	kcache kc = {.sql = "SELECT name FROM keys WHERE id = ?"};
	kcache projects = {.sql = "SELECT name FROM projects WHERE id = ?", .optional = true};
	rec_ridx *sorted = NULL;
	rec_batch *bt = NULL;
	*out = NULL;
	int rc;
	bool rows = false; /* true: no aggregate (its rows came out of order) */
again:
	if ((rc = record_batch_start(&bt, &sorted, rids, n, with_artifacts)) != 0)
		goto done;
	store_lock(s);
	double now = store_now(s);
	for (int k = 0; k < REC_NSECT && rc == 0 && n; k++) {
		if (k == REC_ARTS && !with_artifacts)
			break;
		rc = load_section(s, bt, k, sorted, n, &kc, &projects, now, rows);
	}
	if (rc == 0)
		record_batch_finish(bt, n);
	store_unlock(s);
	if (rc == 1 && !rows) {
		/* the batch again, row by row; names read so far are in the old
		 * batch's arena, so the caches start over too */
		rec_batch_unref(bt);
		bt = NULL;
		free(sorted);
		sorted = NULL;
		free(kc.tab);
		free(projects.tab);
		kc.tab = projects.tab = NULL;
		kc.cap = kc.n = projects.cap = projects.n = 0;
		rows = true;
		goto again;
	}
done:
	free(kc.tab);
	sqlite3_finalize(kc.st);
	free(projects.tab);
	sqlite3_finalize(projects.st);
	free(sorted);
	if (rc) {
		rec_batch_unref(bt);
		return rc == 1 ? err_set(CAIRN_ERROR, "internal: rows out of run order") : rc;
	}
	*out = bt;
	return 0;
}

/* --- the run list ------------------------------------------------------------------- */

int sqlite_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids,
                        size_t *out_n)
{
	int64_t *rids = NULL;
	size_t n = 0, cap = 0;
	*out_rids = NULL;
	*out_n = 0;
	sqlite3_stmt *st =
	    store_prep(s, "SELECT r.rid FROM runs r JOIN projects p ON p.id = r.project_id"
	                  " WHERE (?1 IS NULL OR p.name = ?1) AND (?2 OR r.deleted = 0)"
	                  " ORDER BY r.start_time DESC, r.rid DESC LIMIT ?3");
	if (!st)
		return cairn_error_last_code();
	store_bind_text(st, 1, o->project);
	sqlite3_bind_int(st, 2, o->include_deleted);
	sqlite3_bind_int64(st, 3, o->limit > 0 ? o->limit : -1);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *nr = realloc(rids, cap * sizeof *nr);
			if (!nr) {
				sqlite3_reset(st);
				free(rids);
				return err_set(CAIRN_ENOMEM, "out of memory");
			}
			rids = nr;
		}
		rids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		free(rids);
		return store_sqlerr(s, "list the runs");
	}
	*out_rids = rids;
	*out_n = n;
	return 0;
}
