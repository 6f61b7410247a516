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
 * prepared for itself.  The child count names runs_parent: ANALYZE of a
 * store without nested runs rates it as one value over every run, and the
 * planner would then scan runs once per record. */
#define SQL_HEAD_A                                                                                 \
	"SELECT r.rid, r.id, r.seq, r.name, p.name, r.status, r.start_time, r.end_time,"           \
	" r.heartbeat, r.exit_code, r.command, r.cwd, r.host, r.user, r.note, r.git_commit,"       \
	" r.git_branch, r.git_remote, r.git_dirty, r.code_oid, r.env_oid, (SELECT id FROM runs q"  \
	" WHERE q.rid = r.parent_rid), r.pid, r.deleted, (SELECT count(*) FROM runs c"             \
	" INDEXED BY runs_parent WHERE c.parent_rid = r.rid AND c.deleted = 0) FROM runs r"        \
	" JOIN projects p ON p.id = r.project_id WHERE r.rid"
#define SQL_HEAD_B   " ORDER BY r.rid"
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

#define SECT_SQL(form)                                                                             \
	{                                                                                          \
		SQL_HEAD_A form SQL_HEAD_B, SQL_PARAMS_A form SQL_PARAMS_B,                        \
		    SQL_METRICS_A form SQL_METRICS_B, SQL_TAGS_A form SQL_TAGS_B,                  \
		    SQL_PROPS_A form SQL_PROPS_B, SQL_DATA_A form SQL_DATA_B,                      \
		    SQL_ARTS_A form SQL_ARTS_B                                                     \
	}

static const char *const sect_sql[REC_NSECT][2] = {
    {SQL_HEAD_A, SQL_HEAD_B}, {SQL_PARAMS_A, SQL_PARAMS_B}, {SQL_METRICS_A, SQL_METRICS_B},
    {SQL_TAGS_A, SQL_TAGS_B}, {SQL_PROPS_A, SQL_PROPS_B},   {SQL_DATA_A, SQL_DATA_B},
    {SQL_ARTS_A, SQL_ARTS_B},
};
static const char *const sect_sql1[REC_NSECT] = SECT_SQL(" = ?");
static const char *const sect_range[REC_NSECT] = SECT_SQL(" BETWEEN ?1 AND ?2");

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
static char *sect_full[REC_NSECT];
static pthread_once_t sect_full_once = PTHREAD_ONCE_INIT;

static void sect_full_build(void)
{
	for (int k = 0; k < REC_NSECT; k++)
		sect_full[k] = sect_list(k, STORE_RECORD_BATCH);
}

/* Key names by id for one batch, copied into its arena once each. */
typedef struct kname {
	int64_t kid;
	const char *name;
} kname;

typedef struct kcache {
	kname *tab;
	size_t cap, n;
	sqlite3_stmt *st;
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
	if (!c->st && (rc = prep(s, "SELECT name FROM keys WHERE id = ?", &c->st)) != 0)
		return rc;
	sqlite3_reset(c->st);
	sqlite3_bind_int64(c->st, 1, kid);
	if (sqlite3_step(c->st) != SQLITE_ROW)
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

/* Text column col copied into the arena (NULL stays NULL). */
static const char *acol(arena *a, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return t ? rec_strndup(a, t, (size_t)sqlite3_column_bytes(st, col)) : NULL;
}

static bool isnull(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL;
}

static void read_head(cairn_store *s, arena *a, cairn_run_record *r, sqlite3_stmt *st, double now)
{
	const char *id = (const char *)sqlite3_column_text(st, 1);
	snprintf(r->id, sizeof r->id, "%s", id ? id : "");
	r->seq = sqlite3_column_int64(st, 2);
	r->name = acol(a, st, 3);
	r->project = acol(a, st, 4);
	r->status = (cairn_status)sqlite3_column_int(st, 5);
	r->has_start = !isnull(st, 6);
	r->start_time = sqlite3_column_double(st, 6);
	r->has_end = !isnull(st, 7);
	r->end_time = sqlite3_column_double(st, 7);
	r->has_heartbeat = !isnull(st, 8);
	r->heartbeat = sqlite3_column_double(st, 8);
	if (r->status == CAIRN_STATUS_RUNNING && r->has_heartbeat &&
	    r->heartbeat < now - s->stale_after)
		r->status = CAIRN_STATUS_CRASHED;
	r->has_exit_code = !isnull(st, 9);
	r->exit_code = sqlite3_column_int64(st, 9);
	r->command = acol(a, st, 10);
	r->cwd = acol(a, st, 11);
	r->host = acol(a, st, 12);
	r->user = acol(a, st, 13);
	r->note = acol(a, st, 14);
	if (!r->note)
		r->note = "";
	r->has_code = !isnull(st, 15) || !isnull(st, 19);
	r->code.commit = acol(a, st, 15);
	r->code.branch = acol(a, st, 16);
	r->code.remote = acol(a, st, 17);
	r->code.dirty = isnull(st, 18) ? -1 : sqlite3_column_int(st, 18) != 0;
	r->code.snapshot = acol(a, st, 19);
	r->env_oid = acol(a, st, 20);
	r->parent = acol(a, st, 21);
	r->pid = sqlite3_column_int64(st, 22);
	r->deleted = sqlite3_column_int(st, 23) != 0;
	r->children = sqlite3_column_int64(st, 24);
	r->loaded_at = now;
	r->store = s;
}

static void read_param(rec_param *p, arena *a, sqlite3_stmt *st)
{
	int type = sqlite3_column_int(st, 2);
	memset(&p->v, 0, sizeof p->v);
	p->v.type = (cairn_type)type;
	switch (type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: p->v.i = sqlite3_column_int64(st, 3); break;
	case CAIRN_TYPE_FLOAT:
		/* SQLite cannot hold NaN: it is stored as NULL */
		p->v.f = isnull(st, 3) ? NAN : sqlite3_column_double(st, 3);
		break;
	default:
		p->v.type = CAIRN_TYPE_STRING;
		p->v.s = acol(a, st, 3);
		if (!p->v.s)
			p->v.s = "";
	}
}

static void read_metric(rec_metric *m, sqlite3_stmt *st)
{
	m->m.last = isnull(st, 2) ? NAN : sqlite3_column_double(st, 2);
	m->min_null = isnull(st, 3);
	m->m.min = m->min_null ? NAN : sqlite3_column_double(st, 3);
	m->max_null = isnull(st, 4);
	m->m.max = m->max_null ? NAN : sqlite3_column_double(st, 4);
	m->m.count = sqlite3_column_int64(st, 5);
	m->m.step = sqlite3_column_int64(st, 6);
	m->ts_ms = sqlite3_column_int64(st, 7);
	m->m.timestamp = (double)m->ts_ms / 1000.0;
}

/* One section's rows for the batch, gathered into the records (record.h). */
static int load_section(cairn_store *s, rec_batch *bt, int k, const rec_ridx *sorted, size_t n,
                        kcache *kc, double now)
{
	arena *a = &bt->arena;
	sqlite3_stmt *st = NULL;
	int rc = 0;
	bool range = n > 1 && sorted[n - 1].rid - sorted[0].rid + 1 == (int64_t)n;
	const char *csql = n == 1 ? sect_sql1[k] : range ? sect_range[k] : NULL;
	if (!csql && n == STORE_RECORD_BATCH) {
		pthread_once(&sect_full_once, sect_full_build);
		csql = sect_full[k];
	}
	bool cached = csql != NULL;
	if (cached) {
		if (!(st = store_prep(s, csql)))
			return cairn_error_last_code();
	} else {
		char *sql = sect_list(k, n);
		rc = sql ? prep(s, sql, &st) : err_set(CAIRN_ENOMEM, "out of memory");
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
	rec_gather g;
	record_gather_init(&g, bt, k, sorted, n);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		cairn_run_record *cur;
		void *e;
		if ((rc = record_gather_row(&g, sqlite3_column_int64(st, 0), &cur, &e)) != 0 ||
		    !cur)
			break;
		if (k == REC_HEAD) {
			read_head(s, a, cur, st, now);
			continue;
		}
		switch (k) {
		case REC_PARAMS: {
			rec_param *p = e;
			if ((rc = kcache_name(s, a, kc, sqlite3_column_int64(st, 1), &p->key)) != 0)
				goto done;
			read_param(p, a, st);
			break;
		}
		case REC_METRICS: {
			rec_metric *m = e;
			if ((rc = kcache_name(s, a, kc, sqlite3_column_int64(st, 1), &m->m.key)) !=
			    0)
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
			d->files = sqlite3_column_int64(st, 6);
			d->bytes = sqlite3_column_int64(st, 7);
			d->manifest = acol(a, st, 8);
			break;
		}
		case REC_ARTS: {
			cairn_run_artifact *x = e;
			x->path = acol(a, st, 1);
			x->digest = acol(a, st, 2);
			x->size = sqlite3_column_int64(st, 3);
			x->media_type = acol(a, st, 4);
			x->kind = acol(a, st, 5);
			x->key = acol(a, st, 6);
			x->step = isnull(st, 7) ? CAIRN_STEP_AUTO : sqlite3_column_int64(st, 7);
			break;
		}
		}
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sqlerr(s, "read the runs");
done:
	rc = record_gather_end(&g, rc);
	if (cached)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return rc;
}

int sqlite_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                        rec_batch **out)
{
	kcache kc = {0};
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
		rc = load_section(s, bt, k, sorted, n, &kc, now);
	}
	if (rc == 0)
		record_batch_finish(bt, n);
	store_unlock(s);
	free(kc.tab);
	sqlite3_finalize(kc.st);
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
