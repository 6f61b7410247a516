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

/* Each section's statement is SQL_<k>_A, a condition on the run id, then
 * SQL_<k>_B.  Three forms are prepared once and cached (store_prep): one
 * run (= ?, for cairn show and the HTTP run page), a run of consecutive
 * ids (BETWEEN ?1 AND ?2: a listing's batch is usually one, and a range
 * reads each index in order), and a full batch of ids (IN with
 * STORE_RECORD_BATCH placeholders, built once); any other batch is
 * prepared for itself.
 *
 * The head reads the project by id (names cached for the batch, as key
 * names are) and the child counts come from one grouped statement over
 * the batch's ids (SQL_KIDS): as subqueries in the head they were a join
 * and an index seek per run, ~0.5 us of a listing's ~13 us.  The child
 * count names runs_parent: ANALYZE of a store without nested runs rates it
 * as one value over every run, and the planner would then scan runs. */
#define SQL_HEAD_A                                                                                 \
	"SELECT r.rid, r.id, r.seq, r.name, r.project_id, r.status, r.start_time, r.end_time,"     \
	" r.heartbeat, r.exit_code, r.command, r.cwd, r.host, r.user, r.note, r.git_commit,"       \
	" r.git_branch, r.git_remote, r.git_dirty, r.code_oid, r.env_oid, (SELECT id FROM runs q"  \
	" WHERE q.rid = r.parent_rid), r.pid, r.deleted FROM runs r WHERE r.rid"
#define SQL_HEAD_B " ORDER BY r.rid"
#define SQL_KIDS_A                                                                                 \
	"SELECT parent_rid, count(*) FROM runs INDEXED BY runs_parent WHERE deleted = 0"           \
	" AND parent_rid"
#define SQL_KIDS_B   " GROUP BY parent_rid ORDER BY parent_rid"
#define SQL_PARAMS_A "SELECT rid, kid, type, value FROM params WHERE rid"
#define SQL_PARAMS_B " ORDER BY rid"
#define SQL_METRICS_A                                                                              \
	"SELECT rid, kid, last, min, max, count, last_step, last_ts FROM metric_summary"           \
	" WHERE rid"
#define SQL_METRICS_B " ORDER BY rid"
#define SQL_TAGS_A    "SELECT rid, tag, value FROM tags WHERE rid"
#define SQL_TAGS_B    " ORDER BY rid, tag"
#define SQL_PROPS_A   "SELECT rid, key, value FROM properties WHERE rid"
#define SQL_PROPS_B   " ORDER BY rid, key"
#define SQL_DATA_A                                                                                 \
	"SELECT rid, name, path, role, algo, digest, files, bytes, manifest_oid FROM datasets"     \
	" WHERE rid"
#define SQL_DATA_B " ORDER BY rid, name"
#define SQL_ARTS_A                                                                                 \
	"SELECT rid, path, oid, size, media_type, kind, key, step FROM artifacts WHERE rid"
#define SQL_ARTS_B " ORDER BY rid, path"

/* The statements by section; SQL_KIDS, the child counts, is one more
 * section here (SECT_KIDS), read after the head. */
#define SECT_KIDS REC_NSECT
#define NSQL      (REC_NSECT + 1)
#define SECT_SQL(form)                                                                             \
	{                                                                                          \
		SQL_HEAD_A form SQL_HEAD_B, SQL_PARAMS_A form SQL_PARAMS_B,                        \
		    SQL_METRICS_A form SQL_METRICS_B, SQL_TAGS_A form SQL_TAGS_B,                  \
		    SQL_PROPS_A form SQL_PROPS_B, SQL_DATA_A form SQL_DATA_B,                      \
		    SQL_ARTS_A form SQL_ARTS_B, SQL_KIDS_A form SQL_KIDS_B                         \
	}

static const char *const sect_sql[NSQL][2] = {
    {SQL_HEAD_A, SQL_HEAD_B}, {SQL_PARAMS_A, SQL_PARAMS_B}, {SQL_METRICS_A, SQL_METRICS_B},
    {SQL_TAGS_A, SQL_TAGS_B}, {SQL_PROPS_A, SQL_PROPS_B},   {SQL_DATA_A, SQL_DATA_B},
    {SQL_ARTS_A, SQL_ARTS_B}, {SQL_KIDS_A, SQL_KIDS_B},
};
static const char *const sect_sql1[NSQL] = SECT_SQL(" = ?");
static const char *const sect_range[NSQL] = SECT_SQL(" BETWEEN ?1 AND ?2");

/* The IN form of a section for n ids (malloc'd; NULL on OOM). */
static char *sect_list(int k, size_t n)
{
	buf sql = BUF_INIT;
	buf_puts(&sql, sect_sql[k][0]);
	buf_puts(&sql, " IN (");
	for (size_t i = 0; i < n; i++)
		buf_puts(&sql, i ? ",?" : "?");
	buf_puts(&sql, ")");
	buf_puts(&sql, sect_sql[k][1]);
	return buf_detach(&sql);
}

/* The full-batch forms, built once per process (their addresses key the
 * statement cache). */
static char *sect_full[NSQL];
static pthread_once_t sect_full_once = PTHREAD_ONCE_INIT;

static void sect_full_build(void)
{
	for (int k = 0; k < NSQL; k++)
		sect_full[k] = sect_list(k, STORE_RECORD_BATCH);
}

/* Section k's statement for the batch's sorted ids, bound (*cached: a
 * store_prep statement, to reset; else one to finalize). */
static int sect_stmt(cairn_store *s, int k, const rec_ridx *sorted, size_t n, sqlite3_stmt **out,
                     bool *cached)
{
	sqlite3_stmt *st = NULL;
	bool range = n > 1 && sorted[n - 1].rid - sorted[0].rid + 1 == (int64_t)n;
	const char *csql = n == 1 ? sect_sql1[k] : range ? sect_range[k] : NULL;
	if (!csql && n == STORE_RECORD_BATCH) {
		pthread_once(&sect_full_once, sect_full_build);
		csql = sect_full[k];
	}
	*out = NULL;
	*cached = csql != NULL;
	if (csql) {
		if (!(st = store_prep(s, csql)))
			return cairn_error_last_code();
	} else {
		char *sql = sect_list(k, n);
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

/* Columns are read through sqlite3_column_value and the sqlite3_value_*
 * accessors: one call per column instead of two (its type, then its
 * value), and the value accessors skip the statement's error bookkeeping
 * that every sqlite3_column_* call does — ~30 calls per run.  The values
 * are "unprotected": safe here, as the connection is opened NOMUTEX and
 * only used under the store's lock. */
#define COL(st, c) sqlite3_column_value((st), (c))

/* A text value copied into the arena (NULL stays NULL). */
static const char *aval(arena *a, sqlite3_value *v)
{
	const char *t = (const char *)sqlite3_value_text(v);
	return t ? rec_strndup(a, t, (size_t)sqlite3_value_bytes(v)) : NULL;
}

static const char *acol(arena *a, sqlite3_stmt *st, int col)
{
	return aval(a, COL(st, col));
}

static bool vnull(sqlite3_value *v)
{
	return sqlite3_value_type(v) == SQLITE_NULL;
}

/* A REAL column: *has is false and the value 0 when it is NULL. */
static double opt_double(sqlite3_stmt *st, int col, bool *has)
{
	sqlite3_value *v = COL(st, col);
	*has = !vnull(v);
	return sqlite3_value_double(v);
}

static int read_head(cairn_store *s, arena *a, cairn_run_record *r, sqlite3_stmt *st, double now,
                     kcache *projects)
{
	sqlite3_value *v = COL(st, 1);
	const char *id = (const char *)sqlite3_value_text(v);
	size_t idlen = id ? (size_t)sqlite3_value_bytes(v) : 0;
	if (idlen > CAIRN_RUN_ID_HEXSZ)
		idlen = CAIRN_RUN_ID_HEXSZ; /* as snprintf into r->id would cut it */
	memcpy(r->id, id ? id : "", idlen);
	r->id[idlen] = '\0';
	r->seq = sqlite3_value_int64(COL(st, 2));
	r->name = acol(a, st, 3);
	int rc = kcache_name(s, a, projects, sqlite3_value_int64(COL(st, 4)), &r->project);
	if (rc)
		return rc;
	r->status = (cairn_status)sqlite3_value_int(COL(st, 5));
	r->start_time = opt_double(st, 6, &r->has_start);
	r->end_time = opt_double(st, 7, &r->has_end);
	r->heartbeat = opt_double(st, 8, &r->has_heartbeat);
	if (r->status == CAIRN_STATUS_RUNNING && r->has_heartbeat &&
	    r->heartbeat < now - s->stale_after)
		r->status = CAIRN_STATUS_CRASHED;
	v = COL(st, 9);
	r->has_exit_code = !vnull(v);
	r->exit_code = sqlite3_value_int64(v);
	r->command = acol(a, st, 10);
	r->cwd = acol(a, st, 11);
	r->host = acol(a, st, 12);
	r->user = acol(a, st, 13);
	r->note = acol(a, st, 14);
	if (!r->note)
		r->note = "";
	r->code.commit = acol(a, st, 15);
	r->code.branch = acol(a, st, 16);
	r->code.remote = acol(a, st, 17);
	v = COL(st, 18);
	r->code.dirty = vnull(v) ? -1 : sqlite3_value_int(v) != 0;
	r->code.snapshot = acol(a, st, 19);
	r->has_code = r->code.commit || r->code.snapshot;
	r->env_oid = acol(a, st, 20);
	r->parent = acol(a, st, 21);
	r->pid = sqlite3_value_int64(COL(st, 22));
	r->deleted = sqlite3_value_int(COL(st, 23)) != 0;
	r->children = 0; /* SECT_KIDS */
	r->loaded_at = now;
	r->store = s;
	return 0;
}

static void read_param(rec_param *p, arena *a, sqlite3_stmt *st)
{
	int type = sqlite3_value_int(COL(st, 2));
	sqlite3_value *v = COL(st, 3);
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

static void read_metric(rec_metric *m, sqlite3_stmt *st)
{
	bool has;
	m->m.last = opt_double(st, 2, &has);
	if (!has)
		m->m.last = NAN;
	m->m.min = opt_double(st, 3, &has);
	m->min_null = !has;
	if (!has)
		m->m.min = NAN;
	m->m.max = opt_double(st, 4, &has);
	m->max_null = !has;
	if (!has)
		m->m.max = NAN;
	m->m.count = sqlite3_value_int64(COL(st, 5));
	m->m.step = sqlite3_value_int64(COL(st, 6));
	m->ts_ms = sqlite3_value_int64(COL(st, 7));
	m->m.timestamp = (double)m->ts_ms / 1000.0;
}

/* The child counts of the batch's runs: rows by parent, in id order, merged
 * with the sorted ids. */
static int load_kids(cairn_store *s, rec_batch *bt, const rec_ridx *sorted, size_t n)
{
	sqlite3_stmt *st;
	bool cached;
	int rc = sect_stmt(s, SECT_KIDS, sorted, n, &st, &cached);
	if (rc)
		return rc;
	size_t pos = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t rid = sqlite3_value_int64(COL(st, 0));
		while (pos < n && sorted[pos].rid < rid)
			pos++;
		if (pos == n)
			break;
		if (sorted[pos].rid == rid)
			bt->recs[sorted[pos].idx].children = sqlite3_value_int64(COL(st, 1));
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sqlerr(s, "read the runs");
	sect_done(st, cached);
	return rc;
}

/* One section's rows for the batch, gathered into the records (record.h). */
static int load_section(cairn_store *s, rec_batch *bt, int k, const rec_ridx *sorted, size_t n,
                        kcache *kc, kcache *projects, double now)
{
	arena *a = &bt->arena;
	sqlite3_stmt *st;
	bool cached;
	int rc = sect_stmt(s, k, sorted, n, &st, &cached);
	if (rc)
		return rc;
	rec_gather g;
	record_gather_init(&g, bt, k, sorted, n);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		cairn_run_record *cur;
		void *e;
		if ((rc = record_gather_row(&g, sqlite3_value_int64(COL(st, 0)), &cur, &e)) != 0 ||
		    !cur)
			break;
		switch (k) {
		case REC_HEAD:
			if ((rc = read_head(s, a, cur, st, now, projects)) != 0)
				goto done;
			break;
		case REC_PARAMS: {
			rec_param *p = e;
			if ((rc = kcache_name(s, a, kc, sqlite3_value_int64(COL(st, 1)),
			                      &p->key)) != 0)
				goto done;
			read_param(p, a, st);
			break;
		}
		case REC_METRICS: {
			rec_metric *m = e;
			if ((rc = kcache_name(s, a, kc, sqlite3_value_int64(COL(st, 1)),
			                      &m->m.key)) != 0)
				goto done;
			read_metric(m, st);
			break;
		}
		case REC_TAGS:
		case REC_PROPS: {
			rec_prop *p = e;
			p->key = acol(a, st, 1);
			p->value = acol(a, st, 2);
			break;
		}
		case REC_DATA: {
			cairn_run_dataset *d = e;
			d->name = acol(a, st, 1);
			d->path = acol(a, st, 2);
			d->role = acol(a, st, 3);
			d->algo = acol(a, st, 4);
			d->digest = acol(a, st, 5);
			d->files = sqlite3_value_int64(COL(st, 6));
			d->bytes = sqlite3_value_int64(COL(st, 7));
			d->manifest = acol(a, st, 8);
			break;
		}
		case REC_ARTS: {
			cairn_run_artifact *x = e;
			sqlite3_value *v = COL(st, 7);
			x->path = acol(a, st, 1);
			x->digest = acol(a, st, 2);
			x->size = sqlite3_value_int64(COL(st, 3));
			x->media_type = acol(a, st, 4);
			x->kind = acol(a, st, 5);
			x->key = acol(a, st, 6);
			x->step = vnull(v) ? CAIRN_STEP_AUTO : sqlite3_value_int64(v);
			break;
		}
		}
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sqlerr(s, "read the runs");
done:
	rc = record_gather_end(&g, rc);
	sect_done(st, cached);
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
	int rc = record_batch_start(&bt, &sorted, rids, n, with_artifacts);
	if (rc)
		return rc;
	store_lock(s);
	double now = store_now(s);
	for (int k = 0; k < REC_NSECT && rc == 0 && n; k++) {
		if (k == REC_ARTS && !with_artifacts)
			break;
		rc = load_section(s, bt, k, sorted, n, &kc, &projects, now);
	}
	if (rc == 0)
		record_batch_finish(bt, n);
	store_unlock(s);
	free(kc.tab);
	sqlite3_finalize(kc.st);
	free(projects.tab);
	sqlite3_finalize(projects.st);
	free(sorted);
	if (rc) {
		rec_batch_unref(bt);
		return rc;
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
