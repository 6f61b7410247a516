/*
 * lib/store/pg/records.c — run records (lib/store/record.h) read from a
 * PostgreSQL store (the records_load and run_list_ids ops), as
 * sqlite/records.c does: a batch of up to STORE_RECORD_BATCH runs costs one
 * statement per table (runs, params, metric_summary, tags, properties,
 * datasets, artifacts on request), each `WHERE rid = ANY($1::bigint[])`, so
 * every statement is one prepared text whatever the batch size.  Key names
 * come joined in; each run's params and metrics are sorted by name here
 * (strcmp, as every backend sorts them).  Every string is copied into the
 * batch's arena.
 *
 * The JSON text of a run is never written here: record_json
 * (store/record-json.c) is the one writer.  Thread-safety: every entry point
 * holds the store's lock.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/pg/pg.h"
#include "lib/store/query.h"
#include "lib/store/record.h"

static const char *const sect_sql[REC_NSECT] = {
    "SELECT r.rid, r.id, r.seq, r.name, p.name, r.status, r.start_time, r.end_time,"
    " r.heartbeat, r.exit_code, r.command, r.cwd, r.host, r.user_name, r.note, r.git_commit,"
    " r.git_branch, r.git_remote, r.git_dirty, r.code_oid, r.env_oid, (SELECT id FROM runs q"
    " WHERE q.rid = r.parent_rid), r.pid, r.deleted, (SELECT count(*) FROM runs c"
    " WHERE c.parent_rid = r.rid AND c.deleted = 0) FROM runs r JOIN projects p ON p.id ="
    " r.project_id WHERE r.rid = ANY($1::bigint[]) ORDER BY r.rid",
    "SELECT x.rid, k.name, x.type, x.num, x.ival, x.sval FROM params x JOIN keys k"
    " ON k.id = x.kid WHERE x.rid = ANY($1::bigint[]) ORDER BY x.rid",
    "SELECT x.rid, k.name, x.last, x.min, x.max, x.count, x.last_step, x.last_ts"
    " FROM metric_summary x JOIN keys k ON k.id = x.kid WHERE x.rid = ANY($1::bigint[])"
    " ORDER BY x.rid",
    "SELECT rid, tag, value FROM tags WHERE rid = ANY($1::bigint[]) ORDER BY rid, tag",
    "SELECT rid, key, value FROM properties WHERE rid = ANY($1::bigint[]) ORDER BY rid, key",
    "SELECT rid, name, path, role, algo, digest, files, bytes, manifest_oid FROM datasets"
    " WHERE rid = ANY($1::bigint[]) ORDER BY rid, name",
    "SELECT rid, path, oid, size, media_type, kind, key, step FROM artifacts"
    " WHERE rid = ANY($1::bigint[]) ORDER BY rid, path",
};

/* Text column col copied into the arena (NULL stays NULL). */
static const char *acol(arena *a, const PGresult *r, int row, int col)
{
	const char *t = pg_get_text(r, row, col);
	return t ? rec_strndup(a, t, (size_t)pq.getlength(r, row, col)) : NULL;
}

static void read_head(cairn_store *s, arena *a, cairn_run_record *rec, const PGresult *r, int i,
                      double now)
{
	const char *id = pg_get_text(r, i, 1);
	snprintf(rec->id, sizeof rec->id, "%s", id ? id : "");
	rec->seq = pg_get_int(r, i, 2);
	rec->name = acol(a, r, i, 3);
	rec->project = acol(a, r, i, 4);
	rec->status = (cairn_status)pg_get_int(r, i, 5);
	rec->has_start = !pg_isnull(r, i, 6);
	rec->start_time = rec->has_start ? pg_get_double(r, i, 6) : 0;
	rec->has_end = !pg_isnull(r, i, 7);
	rec->end_time = rec->has_end ? pg_get_double(r, i, 7) : 0;
	rec->has_heartbeat = !pg_isnull(r, i, 8);
	rec->heartbeat = rec->has_heartbeat ? pg_get_double(r, i, 8) : 0;
	if (rec->status == CAIRN_STATUS_RUNNING && rec->has_heartbeat &&
	    rec->heartbeat < now - s->stale_after)
		rec->status = CAIRN_STATUS_CRASHED;
	rec->has_exit_code = !pg_isnull(r, i, 9);
	rec->exit_code = pg_get_int(r, i, 9);
	rec->command = acol(a, r, i, 10);
	rec->cwd = acol(a, r, i, 11);
	rec->host = acol(a, r, i, 12);
	rec->user = acol(a, r, i, 13);
	rec->note = acol(a, r, i, 14);
	if (!rec->note)
		rec->note = "";
	rec->has_code = !pg_isnull(r, i, 15) || !pg_isnull(r, i, 19);
	rec->code.commit = acol(a, r, i, 15);
	rec->code.branch = acol(a, r, i, 16);
	rec->code.remote = acol(a, r, i, 17);
	rec->code.dirty = pg_isnull(r, i, 18) ? -1 : pg_get_int(r, i, 18) != 0;
	rec->code.snapshot = acol(a, r, i, 19);
	rec->env_oid = acol(a, r, i, 20);
	rec->parent = acol(a, r, i, 21);
	rec->pid = pg_get_int(r, i, 22);
	rec->deleted = pg_get_int(r, i, 23) != 0;
	rec->children = pg_get_int(r, i, 24);
	rec->loaded_at = now;
	rec->store = s;
}

static void read_param(rec_param *p, arena *a, const PGresult *r, int i)
{
	int type = (int)pg_get_int(r, i, 2);
	memset(&p->v, 0, sizeof p->v);
	p->v.type = (cairn_type)type;
	switch (type) {
	case CAIRN_TYPE_INT:
	case CAIRN_TYPE_BOOL: p->v.i = pg_get_int(r, i, 4); break;
	case CAIRN_TYPE_FLOAT: p->v.f = pg_get_double(r, i, 3); break; /* NULL is NaN */
	default:
		p->v.type = CAIRN_TYPE_STRING;
		p->v.s = acol(a, r, i, 5);
		if (!p->v.s)
			p->v.s = "";
	}
}

static void read_metric(rec_metric *m, const PGresult *r, int i)
{
	m->m.last = pg_get_double(r, i, 2);
	m->min_null = pg_isnull(r, i, 3);
	m->m.min = pg_get_double(r, i, 3);
	m->max_null = pg_isnull(r, i, 4);
	m->m.max = pg_get_double(r, i, 4);
	m->m.count = pg_get_int(r, i, 5);
	m->m.step = pg_get_int(r, i, 6);
	m->ts_ms = pg_get_int(r, i, 7);
	m->m.timestamp = (double)m->ts_ms / 1000.0;
}

/* One section's rows for the batch, gathered into the records (record.h). */
static int load_section(cairn_store *s, rec_batch *bt, int k, const rec_ridx *sorted, size_t n,
                        const char *ids, double now)
{
	arena *a = &bt->arena;
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, ids);
	PGresult *r = pg_exec(s, "read the runs", sect_sql[k], &p);
	if (!r)
		return cairn_error_last_code();
	int rc = 0, nrows = pq.ntuples(r);
	rec_gather g;
	record_gather_init(&g, bt, k, sorted, n);
	for (int i = 0; i < nrows; i++) {
		cairn_run_record *cur;
		void *e;
		if ((rc = record_gather_row(&g, pg_get_int(r, i, 0), &cur, &e)) != 0 || !cur)
			break;
		if (k == REC_HEAD) {
			read_head(s, a, cur, r, i, now);
			continue;
		}
		switch (k) {
		case REC_PARAMS: {
			rec_param *x = e;
			x->key = acol(a, r, i, 1);
			read_param(x, a, r, i);
			break;
		}
		case REC_METRICS: {
			rec_metric *m = e;
			m->m.key = acol(a, r, i, 1);
			read_metric(m, r, i);
			break;
		}
		case REC_TAGS:
		case REC_PROPS: {
			rec_prop *x = e;
			x->key = acol(a, r, i, 1);
			x->value = acol(a, r, i, 2);
			break;
		}
		case REC_DATA: {
			cairn_run_dataset *d = e;
			d->name = acol(a, r, i, 1);
			d->path = acol(a, r, i, 2);
			d->role = acol(a, r, i, 3);
			d->algo = acol(a, r, i, 4);
			d->digest = acol(a, r, i, 5);
			d->files = pg_get_int(r, i, 6);
			d->bytes = pg_get_int(r, i, 7);
			d->manifest = acol(a, r, i, 8);
			break;
		}
		case REC_ARTS: {
			cairn_run_artifact *x = e;
			x->path = acol(a, r, i, 1);
			x->digest = acol(a, r, i, 2);
			x->size = pg_get_int(r, i, 3);
			x->media_type = acol(a, r, i, 4);
			x->kind = acol(a, r, i, 5);
			x->key = acol(a, r, i, 6);
			x->step = pg_isnull(r, i, 7) ? CAIRN_STEP_AUTO : pg_get_int(r, i, 7);
			break;
		}
		}
	}
	pq.clear(r);
	return record_gather_end(&g, rc);
}

int pg_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                    rec_batch **out)
{
	rec_ridx *sorted = NULL;
	rec_batch *bt = NULL;
	buf ids = BUF_INIT;
	bool first = true;
	*out = NULL;
	int rc = record_batch_start(&bt, &sorted, rids, n, with_artifacts);
	if (rc)
		return rc;
	buf_putc(&ids, '{');
	for (size_t i = 0; i < n; i++)
		pg_array_int_add(&ids, &first, rids[i]);
	buf_putc(&ids, '}');
	if (!buf_ok(&ids))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	store_lock(s);
	double now = store_now(s);
	for (int k = 0; k < REC_NSECT && rc == 0 && n; k++) {
		if (k == REC_ARTS && !with_artifacts)
			break;
		rc = load_section(s, bt, k, sorted, n, ids.ptr, now);
	}
	if (rc == 0)
		record_batch_finish(bt, n);
	store_unlock(s);
	buf_free(&ids);
	free(sorted);
	if (rc) {
		rec_batch_unref(bt);
		return rc;
	}
	*out = bt;
	return 0;
}

int pg_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids, size_t *out_n)
{
	*out_rids = NULL;
	*out_n = 0;
	pg_params p = PG_PARAMS_INIT;
	pg_param_text(&p, o->project);
	pg_param_bool(&p, o->include_deleted);
	pg_param_int_or_null(&p, o->limit > 0, o->limit);
	PGresult *r = pg_exec(s, "list the runs",
	                      "SELECT r.rid FROM runs r JOIN projects p ON p.id = r.project_id"
	                      " WHERE ($1::text IS NULL OR p.name = $1) AND ($2::boolean OR"
	                      " r.deleted = 0) ORDER BY r.start_time DESC, r.rid DESC LIMIT $3",
	                      &p);
	if (!r)
		return cairn_error_last_code();
	size_t n = (size_t)pq.ntuples(r);
	int64_t *rids = malloc((n ? n : 1) * sizeof *rids);
	if (!rids) {
		pq.clear(r);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		rids[i] = pg_get_int(r, (int)i, 0);
	pq.clear(r);
	*out_rids = rids;
	*out_n = n;
	return 0;
}
