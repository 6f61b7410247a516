/*
 * lib/store/remote/ops-read.c — the remote backend's reads: run records,
 * lists and whole queries (the server plans and runs a query from its
 * text: backend.h, query_page), metric points, artifacts, the code map,
 * datasets and the browsing JSON.  Every run the server names comes back
 * as its id and gets the handle's number (remote.h, "Numbers").
 *
 * A read needs the server: when it does not answer, the op fails with
 * CAIRN_ESTORE "cannot reach the server at …" (the message raised by
 * remote_read).  Except code_map_get, a cache: offline it misses.
 * Thread-safety: the store's lock is held.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/query.h"
#include "lib/store/record.h"
#include "lib/store/remote/remote.h"

int wire_record_get(wr *r, rec_batch *bt, cairn_run_record *rec);

static int down(int rc)
{
	return remote_down(rc) ? CAIRN_ESTORE : rc;
}

/* One read with a run first: the request's other fields are in req. */
static int read1(cairn_store *s, const char *op, buf *req, int rc, wr *r)
{
	if (rc == 0)
		rc = remote_read(s, op, req, r);
	buf_free(req);
	return down(rc);
}

/* A reply of run ids as the handle's numbers (malloc'ed). */
static int read_ids(cairn_store *s, wr *r, int64_t **out, size_t *out_n)
{
	uint32_t n = r_count(r, 5);
	int64_t *rids = malloc((n ? n : 1) * sizeof *rids);
	if (!rids)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = remote_rid(s, r_text(r), &rids[i]);
	if (rc == 0)
		rc = wr_check(r, true, "list of runs");
	if (rc) {
		free(rids);
		return rc;
	}
	*out = rids;
	*out_n = n;
	return 0;
}

int rq_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                    rec_batch **out)
{
	buf req = BUF_INIT;
	int rc = 0;
	w_u32(&req, (uint32_t)n);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = remote_w_run(s, &req, rids[i]);
	w_u8(&req, with_artifacts);
	wr r;
	if ((rc = read1(s, "records_load", &req, rc, &r)) != 0)
		return rc;
	rec_batch *bt = rec_batch_new();
	uint32_t got = r_count(&r, 100);
	if (bt)
		bt->recs = arena_zalloc(&bt->arena, (got ? got : 1) * sizeof *bt->recs);
	if (!bt || !bt->recs) {
		rec_batch_unref(bt);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	double now = store_now(s);
	for (uint32_t i = 0; i < got && rc == 0; i++) {
		cairn_run_record *rec = &bt->recs[i];
		if ((rc = wire_record_get(&r, bt, rec)) != 0)
			break;
		rec->store = s;
		rec->loaded_at = now;
		rc = remote_rid(s, rec->id, &rec->rid);
	}
	if (rc == 0)
		rc = wr_check(&r, true, "reply to records_load");
	if (rc) {
		rec_batch_unref(bt);
		return rc;
	}
	bt->n = got;
	*out = bt;
	return 0;
}

int rq_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids, size_t *out_n)
{
	buf req = BUF_INIT;
	w_str(&req, o->project);
	w_i64(&req, o->limit);
	w_u8(&req, o->include_deleted != 0);
	wr r;
	int rc = read1(s, "run_list_ids", &req, 0, &r);
	return rc ? rc : read_ids(s, &r, out_rids, out_n);
}

int rq_query_page(cairn_store *s, const store_query *sq, int64_t **out_rids, size_t *out_n,
                  int64_t *out_total)
{
	buf req = BUF_INIT;
	w_str(&req, sq->text);
	w_str(&req, sq->sort_text);
	w_i64(&req, sq->limit);
	w_i64(&req, sq->offset);
	w_str(&req, sq->project);
	w_u8(&req, sq->include_deleted);
	wr r;
	int rc = read1(s, "query_page", &req, 0, &r);
	if (rc)
		return rc;
	int64_t total = r_i64(&r);
	if ((rc = read_ids(s, &r, out_rids, out_n)) == 0)
		*out_total = total;
	return rc;
}

int rq_query_group(cairn_store *s, const store_query *sq, cairn_group_result **out)
{
	buf req = BUF_INIT;
	*out = NULL;
	w_str(&req, sq->text);
	w_str(&req, sq->project);
	w_u8(&req, sq->include_deleted);
	w_str(&req, sq->group_text);
	w_str(&req, sq->metric_text);
	wr r;
	int rc = read1(s, "query_group", &req, 0, &r);
	if (rc)
		return rc;
	int64_t total = r_i64(&r);
	const char *field = r_str(&r), *metric = r_str(&r);
	bool param = r_u8(&r);
	uint32_t n = r_count(&r, 45);
	if ((rc = wr_check(&r, false, "reply to query_group")) != 0)
		return rc;
	cairn_group_result *g = group_result_new(total, field, metric, param, n);
	if (!g)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		cairn_group *o = group_result_at(g, i);
		r_value(&r, &o->value);
		if (o->value.type == CAIRN_TYPE_STRING)
			o->value.s = group_result_text(g, o->value.s);
		o->missing = r_u8(&r);
		o->count = r_i64(&r);
		o->values = r_i64(&r);
		o->min = r_f64(&r);
		o->mean = r_f64(&r);
		o->max = r_f64(&r);
	}
	if ((rc = wr_check(&r, true, "reply to query_group")) != 0) {
		cairn_group_result_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int rq_metric_points(cairn_store *s, int64_t rid, const char *key, store_points *out)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, key);
	wr r;
	if ((rc = read1(s, "metric_points", &req, rc, &r)) != 0)
		return rc;
	out->known = r_u8(&r);
	uint32_t n = r_count(&r, 24);
	out->step = malloc((n ? n : 1) * sizeof *out->step);
	out->ts_ms = malloc((n ? n : 1) * sizeof *out->ts_ms);
	out->value = malloc((n ? n : 1) * sizeof *out->value);
	if (!out->step || !out->ts_ms || !out->value)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		out->step[i] = r_i64(&r);
		out->ts_ms[i] = r_i64(&r);
		out->value[i] = r_f64(&r);
	}
	out->n = n;
	return wr_check(&r, true, "reply to metric_points");
}

/* A reply that is one run of bytes (JSON text) appended to out. */
static int bytes_into(wr *r, buf *out, const char *what)
{
	size_t n;
	const void *p = r_bytes(r, &n);
	int rc = wr_check(r, true, what);
	if (rc == 0)
		buf_add(out, p, n);
	return rc;
}

int rq_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                          int64_t from, int64_t to, buf *out)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, key);
	w_i64(&req, (int64_t)max_points);
	w_i64(&req, from);
	w_i64(&req, to);
	wr r;
	if ((rc = read1(s, "metric_sample_json", &req, rc, &r)) != 0)
		return rc;
	return bytes_into(&r, out, "reply to metric_sample_json");
}

int rq_project_list_json(cairn_store *s, buf *out)
{
	buf req = BUF_INIT;
	wr r;
	int rc = read1(s, "project_list_json", &req, 0, &r);
	return rc ? rc : bytes_into(&r, out, "reply to project_list_json");
}

int rq_run_columns_json(cairn_store *s, const char *project, buf *out)
{
	buf req = BUF_INIT;
	w_str(&req, project);
	wr r;
	int rc = read1(s, "run_columns_json", &req, 0, &r);
	return rc ? rc : bytes_into(&r, out, "reply to run_columns_json");
}

int rq_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                       char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, path);
	wr r;
	if ((rc = read1(s, "artifact_lookup", &req, rc, &r)) != 0)
		return rc;
	const char *oid = r_text(&r);
	int64_t size = r_i64(&r);
	const char *media = r_str(&r);
	if ((rc = wr_check(&r, true, "reply to artifact_lookup")) != 0)
		return rc;
	snprintf(out_oid, CAIRN_OID_HEXSZ + 1, "%s", oid);
	if (out_size)
		*out_size = size;
	if (out_media) {
		*out_media = media ? strdup(media) : NULL;
		if (media && !*out_media)
			return err_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

int rq_run_code_oid(cairn_store *s, int64_t rid, char out[65])
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	wr r;
	if ((rc = read1(s, "run_code_oid", &req, rc, &r)) != 0)
		return rc;
	const char *oid = r_text(&r);
	if ((rc = wr_check(&r, true, "reply to run_code_oid")) == 0)
		snprintf(out, 65, "%s", oid);
	return rc;
}

int rq_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                    int64_t *out_sizes)
{
	buf req = BUF_INIT;
	w_u32(&req, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		w_str(&req, keys[i]);
	wr r;
	int rc = remote_read(s, "code_map_get", &req, &r);
	buf_free(&req);
	if (remote_down(rc)) {
		/* a cache: offline everything misses (the objects are sent again) */
		for (size_t i = 0; i < n; i++) {
			out_oids[i][0] = '\0';
			if (out_sizes)
				out_sizes[i] = 0;
		}
		return 0;
	}
	if (rc)
		return rc;
	if (r_count(&r, 12) != n)
		return err_set(CAIRN_ESTORE, "malformed reply to code_map_get");
	for (size_t i = 0; i < n; i++) {
		snprintf(out_oids[i], 65, "%s", r_text(&r));
		int64_t sz = r_i64(&r);
		if (out_sizes)
			out_sizes[i] = sz;
	}
	return wr_check(&r, true, "reply to code_map_get");
}

int rq_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out, size_t *out_n)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, name);
	wr r;
	if ((rc = read1(s, "dataset_list", &req, rc, &r)) != 0)
		return rc;
	uint32_t n = r_count(&r, 40);
	dataset_row *v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return err_set(CAIRN_ENOMEM, "out of memory");
	bool oom = false;
#define DUP(x) ((x) ? (strdup(x) ?: (oom = true, NULL)) : NULL)
	for (uint32_t i = 0; i < n; i++) {
		const char *f[6];
		for (int k = 0; k < 6; k++)
			f[k] = r_str(&r);
		v[i].name = DUP(f[0]);
		v[i].path = DUP(f[1]);
		v[i].role = DUP(f[2]);
		v[i].algo = DUP(f[3]);
		v[i].digest = DUP(f[4]);
		v[i].manifest_oid = DUP(f[5]);
		v[i].files = r_i64(&r);
		v[i].bytes = r_i64(&r);
	}
#undef DUP
	rc = oom ? err_set(CAIRN_ENOMEM, "out of memory")
	         : wr_check(&r, true, "reply to dataset_list");
	if (rc) {
		dataset_rows_free(v, n);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}
