/*
 * lib/store/remote/ops-run.c — the remote backend's run ops: runs, keys,
 * params, tags, properties and metrics (remote.h, "Numbers": a run travels
 * as its id, a key as its name; the handle numbers them itself).
 *
 * A run's id is always made here (32 random hex digits, as every backend
 * makes them), never by the server: so a retried or replayed run_insert is
 * the same run (the server answers an id it has with that run), and a run
 * started while the server is down has its final id at once.  Its
 * sequence number and generated name are the server's; offline the handle
 * answers seq 0 and the id's first 8 digits until the server numbers it.
 *
 * key_intern never asks the server: a key is its name on the wire.
 * metrics_insert sends one batch of the metrics writer (run/writer.c) as
 * one request: the runs and keys it names once each, then 32 bytes per
 * point.  Thread-safety: the store's lock is held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/remote/remote.h"
#include "util/sha.h"

static void remember(rmap_run *r, const char *name, const char *project, int64_t seq)
{
	if (name) {
		free(r->name);
		r->name = strdup(name);
	}
	if (project) {
		free(r->project);
		r->project = strdup(project);
	}
	if (seq)
		r->seq = seq;
}

int rr_run_insert(cairn_store *s, const run_row *row, const char *const *tags, size_t ntags,
                  char out_id[33], int64_t *out_rid, int64_t *out_seq, char **out_name)
{
	char id[33];
	if (row->id) {
		snprintf(id, sizeof id, "%s", row->id);
	} else {
		unsigned char rnd[16];
		if (random_bytes(rnd, sizeof rnd) != 0)
			return err_set(CAIRN_ERROR, "cannot read random bytes: %s",
			               strerror(errno));
		hex_encode(id, rnd, sizeof rnd);
	}
	buf req = BUF_INIT;
	w_str(&req, row->project);
	w_str(&req, row->name);
	w_str(&req, row->command);
	w_str(&req, row->cwd);
	w_str(&req, row->host);
	w_str(&req, row->user);
	w_str(&req, row->parent);
	w_i64(&req, row->pid);
	w_f64(&req, row->start_time);
	w_str(&req, id);
	w_i64(&req, row->seq);
	w_u32(&req, (uint32_t)ntags);
	for (size_t i = 0; i < ntags; i++)
		w_str(&req, tags[i]);
	wr r;
	int rc = remote_write(s, "run_insert", &req, &r);
	buf_free(&req);
	const char *name = row->name;
	int64_t seq = 0;
	char provisional[9];
	if (rc == REMOTE_SPOOLED) {
		if (!name) {
			snprintf(provisional, sizeof provisional, "%.8s", id);
			name = provisional;
		}
		rc = 0;
	} else if (rc == 0) {
		const char *got = r_text(&r);
		seq = r_i64(&r);
		name = r_text(&r);
		if ((rc = wr_check(&r, true, "reply to run_insert")) == 0 && strcmp(got, id) != 0)
			rc = err_set(CAIRN_ESTORE, "the server made run %s instead of %s", got, id);
	}
	if (rc)
		return rc;
	int64_t rid;
	if ((rc = remote_rid(s, id, &rid)) != 0)
		return rc;
	rmap_run *m = rmap_get(&remote_of(s)->runs, rid);
	remember(m, name, row->project, seq);
	char *nm = strdup(name);
	if (!nm)
		return err_set(CAIRN_ENOMEM, "out of memory");
	memcpy(out_id, id, 33);
	*out_rid = rid;
	*out_seq = seq;
	*out_name = nm;
	return 0;
}

int rr_run_lookup(cairn_store *s, const char *id, bool include_deleted, int64_t *out_rid,
                  char out_id[33])
{
	buf req = BUF_INIT;
	w_str(&req, id);
	w_u8(&req, include_deleted);
	wr r;
	int rc = remote_read(s, "run_lookup", &req, &r);
	buf_free(&req);
	const char *full = id;
	if (remote_down(rc)) {
		/* the server is down: a whole id is taken on trust (a process
		 * attaching to a run its parent started offline); anything else
		 * needs the server */
		if (!hex_is(id, CAIRN_RUN_ID_HEXSZ))
			return CAIRN_ESTORE;
		rc = 0;
	} else if (rc == 0) {
		full = r_text(&r);
		if ((rc = wr_check(&r, true, "reply to run_lookup")) != 0)
			return rc;
	}
	if (rc)
		return rc;
	int64_t rid;
	if ((rc = remote_rid(s, full, &rid)) != 0)
		return rc;
	*out_rid = rid;
	memcpy(out_id, rmap_get(&remote_of(s)->runs, rid)->id, 33);
	return 0;
}

int rr_run_names(cairn_store *s, int64_t rid, char **out_name, char **out_project, int64_t *out_seq)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	wr r;
	if (rc == 0)
		rc = remote_read(s, "run_names", &req, &r);
	buf_free(&req);
	rmap_run *m = rmap_get(&remote_of(s)->runs, rid);
	const char *name, *project;
	int64_t seq;
	if (remote_down(rc)) {
		char provisional[9];
		snprintf(provisional, sizeof provisional, "%.8s", m->id);
		const char *pe = getenv("CAIRN_PROJECT");
		name = m->name ? m->name : provisional;
		project = m->project ? m->project : pe && *pe ? pe : "default";
		seq = m->seq;
		*out_name = strdup(name);
		*out_project = strdup(project);
		*out_seq = seq;
		return *out_name && *out_project ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (rc)
		return rc;
	name = r_text(&r);
	project = r_text(&r);
	seq = r_i64(&r);
	if ((rc = wr_check(&r, true, "reply to run_names")) != 0)
		return rc;
	remember(m, name, project, seq);
	*out_name = strdup(name);
	*out_project = strdup(project);
	*out_seq = seq;
	if (!*out_name || !*out_project) {
		free(*out_name);
		free(*out_project);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	return 0;
}

int rr_run_set_text(cairn_store *s, int64_t rid, const char *column, const char *value)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, column);
	w_str(&req, value);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	if (strcmp(column, "name") == 0)
		remember(rmap_get(&remote_of(s)->runs, rid), value, NULL, 0);
	return remote_write_only(s, "run_set_text", &req);
}

int rr_run_finish(cairn_store *s, int64_t rid, cairn_status st, int exit_code, double end)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_u8(&req, (uint8_t)st);
	w_i64(&req, exit_code);
	w_f64(&req, end);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	return remote_write_only(s, "run_finish", &req);
}

int rr_heartbeat(cairn_store *s, int64_t rid, double now)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_f64(&req, now);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	return remote_write_only(s, "heartbeat", &req);
}

int rr_run_delete(cairn_store *s, int64_t rid, bool purge, buf *orphans)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_u8(&req, purge);
	wr r;
	if (rc == 0)
		rc = remote_write(s, "run_delete", &req, &r);
	buf_free(&req);
	if (rc == REMOTE_SPOOLED)
		return 0;
	if (rc)
		return rc;
	size_t n;
	const void *p = r_bytes(&r, &n);
	if ((rc = wr_check(&r, true, "reply to run_delete")) == 0 && orphans)
		buf_add(orphans, p, n);
	return rc;
}

int rr_objects_sweep(cairn_store *s, const buf *candidates, size_t *out_removed)
{
	buf req = BUF_INIT;
	w_bytes(&req, candidates->ptr, candidates->len);
	wr r;
	int rc = remote_write(s, "objects_sweep", &req, &r);
	buf_free(&req);
	if (out_removed)
		*out_removed = 0;
	if (rc == REMOTE_SPOOLED)
		return 0;
	if (rc)
		return rc;
	int64_t n = r_i64(&r);
	if ((rc = wr_check(&r, true, "reply to objects_sweep")) == 0 && out_removed)
		*out_removed = (size_t)n;
	return rc;
}

/* --- keys, params, tags, properties -------------------------------------------- */

int rr_key_intern(cairn_store *s, const char *name, int64_t *out_kid)
{
	int64_t kid = kmap_kid(&remote_of(s)->keys, name);
	if (kid < 0)
		return (int)kid;
	*out_kid = kid;
	return 0;
}

int rr_param_put(cairn_store *s, int64_t rid, const char *key, const cairn_value *v, bool overwrite)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_u32(&req, 1);
	w_str(&req, key);
	w_value(&req, v);
	w_u8(&req, overwrite);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	return remote_write_only(s, "params_put", &req);
}

int rr_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                       const cairn_value *values, size_t n, bool overwrite)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_u32(&req, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		w_str(&req, keys[i]);
		w_value(&req, &values[i]);
	}
	w_u8(&req, overwrite);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	return remote_write_only(s, "params_put", &req);
}

int rr_tag_put(cairn_store *s, int64_t rid, const char *tag, const char *value, bool remove)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	/* the tag as its text, "key" or "key=value" (keys hold no '=') */
	if (value) {
		buf t = BUF_INIT;
		buf_printf(&t, "%s=%s", tag, value);
		w_str(&req, t.ptr);
		buf_free(&t);
	} else {
		w_str(&req, tag);
	}
	w_u8(&req, remove);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	return remote_write_only(s, "tag_put", &req);
}

int rr_property_put(cairn_store *s, int64_t rid, const char *key, const char *value)
{
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, key);
	w_str(&req, value);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	return remote_write_only(s, "property_put", &req);
}

/* --- metrics -------------------------------------------------------------------- */

int rr_metric_last_step(cairn_store *s, int64_t rid, int64_t kid, int64_t *out_step)
{
	const char *key = kmap_name(&remote_of(s)->keys, kid);
	if (!key)
		return err_set(CAIRN_ENOTFOUND, "no such key (number %lld)", (long long)kid);
	buf req = BUF_INIT;
	int rc = remote_w_run(s, &req, rid);
	w_str(&req, key);
	wr r;
	if (rc == 0)
		rc = remote_read(s, "metric_last_step", &req, &r);
	buf_free(&req);
	if (remote_down(rc)) {
		*out_step = -1; /* offline: steps count from the start */
		return 0;
	}
	if (rc)
		return rc;
	int64_t step = r_i64(&r);
	if ((rc = wr_check(&r, true, "reply to metric_last_step")) == 0)
		*out_step = step;
	return rc;
}

/* The batch: u32 runs, their ids; u32 keys, their names; u32 points, each
 * (u32 run index, u32 key index, i64 step, i64 ts_ms, f64 value). */
int rr_metrics_insert(cairn_store *s, const mpoint *pts, size_t n)
{
	remote_be *be = remote_of(s);
	if (n == 0)
		return 0;
	int32_t *ridx = malloc((be->runs.n + 1) * sizeof *ridx);
	int32_t *kidx = malloc((be->keys.n + 1) * sizeof *kidx);
	int64_t *rlist = malloc(n * sizeof *rlist), *klist = malloc(n * sizeof *klist);
	int rc = 0;
	buf req = BUF_INIT;
	if (!ridx || !kidx || !rlist || !klist) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	memset(ridx, 0xff, (be->runs.n + 1) * sizeof *ridx);
	memset(kidx, 0xff, (be->keys.n + 1) * sizeof *kidx);
	uint32_t nr = 0, nk = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t rid = pts[i].rid, kid = pts[i].kid;
		if (rid < 1 || (size_t)rid > be->runs.n || kid < 1 || (size_t)kid > be->keys.n) {
			rc = err_set(CAIRN_ERROR, "internal: a point of an unknown run or key");
			goto done;
		}
		if (ridx[rid] < 0) {
			ridx[rid] = (int32_t)nr;
			rlist[nr++] = rid;
		}
		if (kidx[kid] < 0) {
			kidx[kid] = (int32_t)nk;
			klist[nk++] = kid;
		}
	}
	buf_grow(&req, 16 + (size_t)nr * 40 + n * 32);
	w_u32(&req, nr);
	for (uint32_t i = 0; i < nr; i++)
		w_str(&req, be->runs.runs[rlist[i] - 1].id);
	w_u32(&req, nk);
	for (uint32_t i = 0; i < nk; i++)
		w_str(&req, be->keys.names[klist[i] - 1]);
	w_u32(&req, (uint32_t)n);
	if (buf_ok(&req)) {
		buf_grow(&req, n * 32);
		char *p = req.ptr + req.len;
		for (size_t i = 0; i < n && buf_ok(&req); i++, p += 32) {
			uint32_t a = (uint32_t)ridx[pts[i].rid], b = (uint32_t)kidx[pts[i].kid];
			memcpy(p, &a, 4);
			memcpy(p + 4, &b, 4);
			memcpy(p + 8, &pts[i].step, 8);
			memcpy(p + 16, &pts[i].ts_ms, 8);
			memcpy(p + 24, &pts[i].value, 8);
		}
		if (buf_ok(&req)) {
			req.len += n * 32;
			req.ptr[req.len] = '\0';
		}
	}
	rc = remote_write_only(s, "metrics_insert", &req);
done:
	buf_free(&req);
	free(ridx);
	free(kidx);
	free(rlist);
	free(klist);
	return rc;
}
