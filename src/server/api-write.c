/*
 * server/api-write.c — the write side of the native API (docs/http-api.md):
 * creating runs, logging metrics, params and properties, finish, heartbeat,
 * tags and notes.  Each request is validated whole before anything is
 * written (body.c decodes and bounds the body), so a bad request changes
 * nothing.  Thread-safety as api.c: run handles come from the run cache.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/api.h"
#include "server/ingest.h"
#include "server/range.h"
#include "util/fs.h"
#include "util/json.h"

/* --- writes --------------------------------------------------------------------------- */

/* Params are checked whole (duplicates, value sizes) before the run exists,
 * so a refused request leaves no run behind. */
static int check_params(response *rs, const param_in *p, size_t n)
{
	long dup = body_params_dup(p, n);
	if (dup == -2) {
		resp_error(rs, 500, "internal", "out of memory");
		return -1;
	}
	if (dup >= 0) {
		resp_error(rs, 409, "conflict", "param '%s' given twice", p[dup].key);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i].value.type == CAIRN_TYPE_STRING &&
		    strlen(p[i].value.s) > PARAM_VALUE_MAX) {
			resp_error(rs, 413, "too_large",
			           "param '%.100s' value too long (at most 64 KiB)", p[i].key);
			return -1;
		}
	return 0;
}

/* The library takes keys and values as two arrays. */
static int log_params(cairn_run *run, const param_in *p, size_t n)
{
	if (n == 0)
		return 0;
	const char **keys = malloc(n * sizeof *keys);
	cairn_value *vals = malloc(n * sizeof *vals);
	int rc = CAIRN_ENOMEM;
	if (keys && vals) {
		for (size_t i = 0; i < n; i++) {
			keys[i] = p[i].key;
			vals[i] = p[i].value;
		}
		rc = cairn_run_log_params(run, keys, vals, n);
	}
	free(keys);
	free(vals);
	return rc;
}

/* The answer to a write of n items: 200 {"logged": n}. */
static void resp_logged(response *rs, size_t n)
{
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "logged");
	json_int(&rs->body, (int64_t)n);
	buf_putc(&rs->body, '}');
	resp_json_buf(rs, 200);
}

int h_run_create(request *rq, response *rs)
{
	json_doc *doc;
	char err[512];
	if (!parse_body(rq, rs, &doc))
		return 0;
	create_in c;
	cairn_run *run = NULL;
	char *out = NULL;
	int rc = body_create(json_root(doc), &c, err, sizeof err);
	if (rc != 0) {
		json_doc_free(doc);
		return body_fail(rs, rc, err);
	}
	cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
	ro.project = c.project;
	/* Through a token, the run is the token's: in its project (the one a
	 * project-limited token may write to) and started by its name. */
	const char *own = auth_project(rq);
	if (own && c.project && *c.project && strcmp(c.project, own) != 0) {
		resp_error(rs, 403, "forbidden",
		           "the token '%s' may create runs in project '%s' only", rq->auth.name,
		           own);
		goto done;
	}
	if (own)
		ro.project = own;
	if (rq->auth.authed)
		ro.user = rq->auth.name;
	ro.name = c.name;
	ro.tags = c.tags;
	ro.ntags = c.ntags;
	ro.command = c.command;
	ro.parent = c.parent;
	ro.cwd = "";
	if (check_params(rs, c.params, c.nparams) != 0)
		goto done;
	if (c.note && strlen(c.note) > (1 << 20)) {
		resp_error(rs, 413, "too_large", "note too long (at most 1 MiB)");
		goto done;
	}
	if (c.parent) {
		char pid[CAIRN_RUN_ID_HEXSZ + 1];
		rc = cairn_run_resolve(pid, rq->store, c.parent);
		if (rc == 0 && !auth_run_visible(rq, rs, pid))
			goto done;
	}
	if (rc == 0)
		rc = cairn_run_create(&run, rq->store, &ro);
	if (rc == 0)
		rc = log_params(run, c.params, c.nparams);
	if (rc == 0 && c.note)
		rc = cairn_run_set_note(run, c.note);
	if (rc == 0)
		rc = cairn_run_get_json(&out, rq->store, cairn_run_id(run));
	if (rc)
		resp_lib_error(rs, rc);
	else
		resp_json_take(rs, 201, out);
done:
	cairn_run_free(run);
	body_free_create(&c);
	json_doc_free(doc);
	return 0;
}

/* A batch of points: the fast decoder reads the common shape of the body
 * without a JSON tree (ingest.h); any other body, a bad one included, goes
 * the general way (body_parse, body_metrics), which gives the answers and
 * messages of the API.  Every point is decoded and checked before the first
 * is logged. */
int h_metrics_log(request *rq, response *rs)
{
	int brc;
	json_doc *doc = NULL;
	char err[512];
	ingest_batch fast;
	metric_in *m = NULL;
	size_t n = 0;
	cairn_run *run = NULL;
	bool is_fast = ingest_decode(&fast, rq->body.ptr, rq->body.len, rq->srv->cfg.max_body);
	if (is_fast) {
		m = fast.pts;
		n = fast.n;
	} else {
		if (!parse_body(rq, rs, &doc))
			return 0;
		if ((brc = body_metrics(json_root(doc), &m, &n, err, sizeof err)) != 0) {
			body_fail(rs, brc, err);
			goto done;
		}
	}
	int rc = run_cache_get(rq->srv, run_param(rq), &run);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = cairn_run_log_metric(run, m[i].key, m[i].value, m[i].step, m[i].timestamp);
	if (rc == 0 && flag_arg(rq, "sync"))
		rc = cairn_run_flush(run);
	if (rc) {
		resp_lib_error(rs, rc);
		goto done;
	}
	resp_logged(rs, n);
done:
	run_cache_release(rq->srv, run);
	if (is_fast)
		ingest_batch_free(&fast);
	else
		free(m);
	json_doc_free(doc);
	return 0;
}

/* Params are write-once: the library checks every one against the stored
 * values inside the one transaction that writes them all, so a conflict
 * writes nothing (and costs one indexed lookup per param, not a scan). */
int h_params_log(request *rq, response *rs)
{
	json_doc *doc;
	char err[512];
	param_in *p = NULL;
	size_t n = 0;
	cairn_run *run = NULL;
	if (!parse_body(rq, rs, &doc))
		return 0;
	int rc = body_params(json_root(doc), "params", &p, &n, err, sizeof err);
	if (rc != 0) {
		body_fail(rs, rc, err);
		goto done;
	}
	if (check_params(rs, p, n) != 0)
		goto done;
	rc = run_cache_get(rq->srv, run_param(rq), &run);
	if (rc == 0)
		rc = log_params(run, p, n);
	if (rc) {
		resp_lib_error(rs, rc);
		goto done;
	}
	resp_logged(rs, n);
done:
	run_cache_release(rq->srv, run);
	body_free_params(p, n);
	json_doc_free(doc);
	return 0;
}

int h_properties(request *rq, response *rs)
{
	int brc;
	json_doc *doc;
	char err[512];
	const json *obj;
	cairn_run *run = NULL;
	if (!parse_body(rq, rs, &doc))
		return 0;
	if ((brc = body_properties(json_root(doc), &obj, err, sizeof err)) != 0) {
		body_fail(rs, brc, err);
		goto done;
	}
	for (const json *e = obj->child; e; e = e->next)
		if (e->len > 64 * 1024) {
			resp_error(rs, 413, "too_large",
			           "property '%.100s' value too long (at most 64 KiB)", e->key);
			goto done;
		}
	int rc = run_cache_get(rq->srv, run_param(rq), &run);
	for (const json *e = obj->child; rc == 0 && e; e = e->next)
		rc = cairn_run_set_property(run, e->key, e->str);
	if (rc) {
		resp_lib_error(rs, rc);
		goto done;
	}
	resp_logged(rs, obj->len);
done:
	run_cache_release(rq->srv, run);
	json_doc_free(doc);
	return 0;
}

static int reply_run(request *rq, response *rs, cairn_run *run, int status)
{
	char *out = NULL;
	int rc = cairn_run_get_json(&out, rq->store, cairn_run_id(run));
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, status, out);
}

int h_finish(request *rq, response *rs)
{
	int brc;
	json_doc *doc = NULL;
	cairn_run_record *rec = NULL;
	char err[512];
	finish_in fin = {CAIRN_STATUS_FINISHED, 0};
	cairn_run *run = NULL;
	if (rq->body.len) {
		if (!parse_body(rq, rs, &doc))
			return 0;
		if ((brc = body_finish(json_root(doc), &fin, err, sizeof err)) != 0) {
			body_fail(rs, brc, err);
			goto done;
		}
	}
	if (!get_run_rec(rq, rs, run_param(rq), 0, &rec))
		goto done;
	cairn_status st = cairn_run_record_status(rec);
	if (st != CAIRN_STATUS_RUNNING) {
		resp_error(rs, 409, "conflict", "run %s is already %s", cairn_run_record_id(rec),
		           cairn_status_name(st));
		goto done;
	}
	int rc = run_cache_get(rq->srv, cairn_run_record_id(rec), &run);
	if (rc == 0)
		rc = cairn_run_finish(run, fin.status, fin.exit_code);
	if (rc)
		resp_lib_error(rs, rc);
	else
		reply_run(rq, rs, run, 200);
done:
	run_cache_release(rq->srv, run);
	cairn_run_record_free(rec);
	json_doc_free(doc);
	return 0;
}

int h_heartbeat(request *rq, response *rs)
{
	cairn_run *run = NULL;
	int rc = run_cache_get(rq->srv, run_param(rq), &run);
	if (rc == 0)
		rc = cairn_run_heartbeat(run);
	if (rc) {
		resp_lib_error(rs, rc);
	} else {
		buf_puts(&rs->body, "{}");
		resp_json_buf(rs, 200);
	}
	run_cache_release(rq->srv, run);
	return 0;
}

int h_tags_add(request *rq, response *rs)
{
	int brc;
	json_doc *doc;
	char err[512];
	const char **tags = NULL;
	size_t n = 0;
	cairn_run *run = NULL;
	if (!parse_body(rq, rs, &doc))
		return 0;
	if ((brc = body_tags(json_root(doc), &tags, &n, err, sizeof err)) != 0) {
		body_fail(rs, brc, err);
		goto done;
	}
	int rc = run_cache_get(rq->srv, run_param(rq), &run);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = cairn_run_set_tag(run, tags[i]);
	if (rc)
		resp_lib_error(rs, rc);
	else
		reply_run(rq, rs, run, 200);
done:
	run_cache_release(rq->srv, run);
	free(tags);
	json_doc_free(doc);
	return 0;
}

int h_tag_remove(request *rq, response *rs)
{
	const char *tag = rq->params[1];
	if (cairn_key_validate(tag, "tag") != 0)
		return resp_error(rs, 400, "bad_request", "%s", cairn_error_last());
	cairn_run *run = NULL;
	int rc = run_cache_get(rq->srv, run_param(rq), &run);
	if (rc == 0)
		rc = cairn_run_remove_tag(run, tag);
	if (rc)
		resp_lib_error(rs, rc);
	else
		reply_run(rq, rs, run, 200);
	run_cache_release(rq->srv, run);
	return 0;
}

static int set_note(request *rq, response *rs, const char *text)
{
	cairn_run *run = NULL;
	int rc = run_cache_get(rq->srv, run_param(rq), &run);
	if (rc == 0)
		rc = cairn_run_set_note(run, text);
	if (rc)
		resp_lib_error(rs, rc);
	else
		reply_run(rq, rs, run, 200);
	run_cache_release(rq->srv, run);
	return 0;
}

int h_note_set(request *rq, response *rs)
{
	json_doc *doc;
	char err[512];
	const char *note;
	if (!parse_body(rq, rs, &doc))
		return 0;
	if (body_note(json_root(doc), &note, err, sizeof err) != 0)
		resp_error(rs, 400, "bad_request", "%s", err);
	else
		set_note(rq, rs, note);
	json_doc_free(doc);
	return 0;
}

int h_note_clear(request *rq, response *rs)
{
	return set_note(rq, rs, "");
}
