/*
 * lib/store/remote/serve.c — the server's end of the remote store protocol
 * (cairn/remote.h, cairn_store_serve): one request body of
 * POST /api/v1/store/OP decoded, the store op called on the server's own
 * store (any backend), the answer encoded.  The HTTP part is the server's
 * (src/server/api-store.c); the bytes are here, beside the client's end,
 * so the two cannot drift apart.
 *
 * Everything in a body is input from outside: every field is bounded by
 * the reader (wire.h), every run named must exist (a whole id or, for
 * run_lookup, a prefix or name), keys, tags and names are checked as the
 * public API checks them (cairn_key_validate), text values are capped
 * (TEXT_VALUE_MAX, NOTE_MAX), object ids must be ids, statuses and
 * columns come from fixed lists.  A bad body changes nothing: each op
 * checks the whole request before its one write.
 *
 * Idempotency keys are not seen here: the server remembers the answer of
 * every write that carried one (cairn_store_idem_*), whatever its route.
 * run_insert is idempotent by itself too: the client chooses the id, and
 * an insert of an id the store has answers that run.
 * Thread-safety: as the store (each op holds its lock).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/remote.h"
#include "lib/store/objects.h"
#include "lib/store/remote/serve.h"
#include "util/sha.h"

int sv_run(cairn_store *s, wr *r, int64_t *rid)
{
	const char *id = r_text(r);
	if (r->bad)
		return err_set(CAIRN_EINVALID, "malformed request: no run id");
	if (!hex_is(id, CAIRN_RUN_ID_HEXSZ))
		return err_set(CAIRN_EINVALID, "'%.40s' is not a run id", id);
	char full[33];
	return store_run_lookup(s, id, true, rid, full);
}

int sv_text(const char *v, size_t max, const char *what)
{
	if (v && strlen(v) > max)
		return err_set(CAIRN_ETOOBIG, "%s too long (at most %zu bytes)", what, max);
	return 0;
}

int sv_oid(const char *oid, bool may_be_null)
{
	if (!oid && may_be_null)
		return 0;
	if (!oid_valid(oid))
		return err_set(CAIRN_EINVALID, "'%.70s' is not an object id", oid ? oid : "");
	return 0;
}

static int sv_value(const char *key, const cairn_value *v)
{
	int rc = cairn_key_validate(key, "param key");
	if (rc)
		return rc;
	if (v->type < CAIRN_TYPE_INT || v->type > CAIRN_TYPE_STRING)
		return err_set(CAIRN_EINVALID, "param '%s' has no value", key);
	if (v->type == CAIRN_TYPE_BOOL && v->i != 0 && v->i != 1)
		return err_set(CAIRN_EINVALID, "param '%s' is not a boolean", key);
	return v->type == CAIRN_TYPE_STRING ? sv_text(v->s, TEXT_VALUE_MAX, "param value") : 0;
}

/* --- runs ------------------------------------------------------------------------ */

static int sv_run_insert(cairn_store *s, wr *r, buf *out)
{
	run_row row = {0};
	row.project = r_text(r);
	row.name = r_str(r);
	row.command = r_str(r);
	row.cwd = r_str(r);
	row.host = r_str(r);
	row.user = r_str(r);
	row.parent = r_str(r);
	row.pid = (int)r_i64(r);
	row.start_time = r_f64(r);
	row.id = r_text(r);
	row.seq = r_i64(r);
	uint32_t ntags = r_count(r, 5);
	const char **tags = calloc(ntags ? ntags : 1, sizeof *tags);
	if (!tags)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < ntags; i++)
		tags[i] = r_text(r);
	int rc = wr_check(r, true, "run_insert request");
	if (rc == 0 && !hex_is(row.id, CAIRN_RUN_ID_HEXSZ))
		rc = err_set(CAIRN_EINVALID, "'%.40s' is not a run id", row.id);
	if (rc == 0)
		rc = cairn_key_validate(row.project, "project name");
	if (rc == 0 && row.name)
		rc = cairn_key_validate(row.name, "run name");
	for (uint32_t i = 0; i < ntags && rc == 0; i++)
		rc = cairn_key_validate(tags[i], "tag");
	if (rc == 0 &&
	    (!isfinite(row.start_time) || row.start_time < 0 || row.start_time > TIMESTAMP_MAX))
		rc = err_set(CAIRN_EINVALID,
		             "run_insert: start time or sequence number out of range");
	if (rc == 0)
		rc = sv_text(row.command, TEXT_VALUE_MAX, "command");
	if (rc == 0)
		rc = sv_text(row.cwd, TEXT_VALUE_MAX, "working directory");
	if (rc == 0 && (sv_text(row.host, KEY_MAX, "host") || sv_text(row.user, KEY_MAX, "user")))
		rc = cairn_error_last_code();
	if (rc) {
		free(tags);
		return rc;
	}
	/* the id is the client's: an id the store has is that run (a retry,
	 * or a replay of a run started offline) */
	int64_t rid, seq;
	char full[33], *name = NULL, *project = NULL;
	if (store_run_lookup(s, row.id, true, &rid, full) == 0 && strcmp(full, row.id) == 0) {
		rc = store_run_names(s, rid, &name, &project, &seq);
	} else {
		row.seq = 0; /* numbers are the server's */
		rc = store_run_insert(s, &row, tags, ntags, full, &rid, &seq, &name);
	}
	free(tags);
	if (rc == 0) {
		w_str(out, full);
		w_i64(out, seq);
		w_str(out, name);
	}
	free(name);
	free(project);
	return rc;
}

static int sv_run_lookup(cairn_store *s, wr *r, buf *out)
{
	const char *id = r_text(r);
	bool del = r_u8(r);
	int rc = wr_check(r, true, "run_lookup request");
	if (rc == 0)
		rc = sv_text(id, KEY_MAX, "run name");
	int64_t rid;
	char full[33];
	if (rc == 0 && (rc = store_run_lookup(s, id, del, &rid, full)) == 0)
		w_str(out, full);
	return rc;
}

static int sv_run_names(cairn_store *s, wr *r, buf *out)
{
	int64_t rid, seq;
	char *name = NULL, *project = NULL;
	int rc = sv_run(s, r, &rid);
	if (rc == 0)
		rc = wr_check(r, true, "run_names request");
	if (rc == 0 && (rc = store_run_names(s, rid, &name, &project, &seq)) == 0) {
		w_str(out, name);
		w_str(out, project);
		w_i64(out, seq);
	}
	free(name);
	free(project);
	return rc;
}

static int sv_run_set_text(cairn_store *s, wr *r, buf *out)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *col = r_text(r), *value = r_str(r);
	if (rc == 0)
		rc = wr_check(r, true, "run_set_text request");
	if (rc)
		return rc;
	if (strcmp(col, "note") == 0)
		rc = sv_text(value, NOTE_MAX, "note");
	else if (strcmp(col, "name") == 0)
		rc = value ? cairn_key_validate(value, "run name")
		           : err_set(CAIRN_EINVALID, "a run's name cannot be empty");
	else if (strcmp(col, "command") == 0 || strcmp(col, "user") == 0 ||
	         strcmp(col, "git_commit") == 0 || strcmp(col, "git_branch") == 0 ||
	         strcmp(col, "git_remote") == 0) /* cairn_run_set_attribute's columns */
		rc = sv_text(value, TEXT_VALUE_MAX, col);
	else
		rc = err_set(CAIRN_EINVALID, "a run's '%.40s' cannot be set this way", col);
	return rc ? rc : store_run_set_text(s, rid, col, value);
}

static int sv_run_finish(cairn_store *s, wr *r, buf *out)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	uint8_t st = r_u8(r);
	int64_t code = r_i64(r);
	double end = r_f64(r);
	if (rc == 0)
		rc = wr_check(r, true, "run_finish request");
	if (rc == 0 && (st == CAIRN_STATUS_RUNNING || st > CAIRN_STATUS_PRUNED))
		rc = err_set(CAIRN_EINVALID, "a run cannot finish with status %u", st);
	if (rc == 0 && (!isfinite(end) || end < 0 || end > TIMESTAMP_MAX || code < INT32_MIN ||
	                code > INT32_MAX))
		rc = err_set(CAIRN_EINVALID, "run_finish: time or exit code out of range");
	return rc ? rc : store_run_finish(s, rid, (cairn_status)st, (int)code, end);
}

static int sv_heartbeat(cairn_store *s, wr *r, buf *out)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	double now = r_f64(r);
	if (rc == 0)
		rc = wr_check(r, true, "heartbeat request");
	if (rc == 0 && (!isfinite(now) || now < 0 || now > TIMESTAMP_MAX))
		rc = err_set(CAIRN_EINVALID, "heartbeat: time out of range");
	return rc ? rc : store_heartbeat(s, rid, now);
}

static int sv_run_delete(cairn_store *s, wr *r, buf *out)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	bool purge = r_u8(r);
	if (rc == 0)
		rc = wr_check(r, true, "run_delete request");
	buf orphans = BUF_INIT;
	if (rc == 0 && (rc = store_run_delete(s, rid, purge, &orphans)) == 0)
		w_bytes(out, orphans.ptr, orphans.len);
	buf_free(&orphans);
	return rc;
}

static int sv_objects_sweep(cairn_store *s, wr *r, buf *out)
{
	size_t n;
	const char *p = r_bytes(r, &n);
	int rc = wr_check(r, true, "objects_sweep request");
	if (rc)
		return rc;
	/* the candidates are oid lines; anything else is refused */
	for (size_t i = 0; i < n; i += 65)
		if (n - i < 64 || !(n - i == 64 || p[i + 64] == '\n'))
			return err_set(CAIRN_EINVALID,
			               "objects_sweep: candidates are object id lines");
	buf c = BUF_INIT;
	buf_add(&c, p, n);
	size_t removed = 0;
	rc = buf_ok(&c) ? store_objects_sweep(s, &c, &removed)
	                : err_set(CAIRN_ENOMEM, "out of memory");
	buf_free(&c);
	if (rc == 0)
		w_i64(out, (int64_t)removed);
	return rc;
}

/* --- params, tags, properties ------------------------------------------------------- */

static int sv_params_put(cairn_store *s, wr *r, buf *out)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	uint32_t n = r_count(r, 6);
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	cairn_value *vals = calloc(n ? n : 1, sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < n; i++) {
		keys[i] = r_text(r);
		r_value(r, &vals[i]);
	}
	bool overwrite = r_u8(r);
	if (rc == 0)
		rc = wr_check(r, true, "params_put request");
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = sv_value(keys[i], &vals[i]);
	if (rc == 0)
		rc = n == 1 ? store_param_put(s, rid, keys[0], &vals[0], overwrite)
		            : store_params_put_many(s, rid, keys, vals, n, overwrite);
	free(keys);
	free(vals);
	return rc;
}

static int sv_tag_put(cairn_store *s, wr *r, buf *out)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *tag = r_text(r);
	bool remove = r_u8(r);
	if (rc == 0)
		rc = wr_check(r, true, "tag_put request");
	char *key = NULL;
	const char *value = NULL;
	if (rc == 0 && !remove)
		rc = store_tag_split(tag, &key, &value);
	if (rc == 0)
		rc = cairn_key_validate(key ? key : tag, "tag");
	if (rc == 0)
		rc = store_tag_put(s, rid, key ? key : tag, value, remove);
	free(key);
	return rc;
}

static int sv_property_put(cairn_store *s, wr *r, buf *out)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *key = r_text(r), *value = r_text(r);
	if (rc == 0)
		rc = wr_check(r, true, "property_put request");
	if (rc == 0)
		rc = cairn_key_validate(key, "property key");
	if (rc == 0)
		rc = sv_text(value, TEXT_VALUE_MAX, "property value");
	return rc ? rc : store_property_put(s, rid, key, value);
}

/* --- metrics -------------------------------------------------------------------------- */

static int sv_metric_last_step(cairn_store *s, wr *r, buf *out)
{
	int64_t rid, kid, step = -1;
	int rc = sv_run(s, r, &rid);
	const char *key = r_text(r);
	if (rc == 0)
		rc = wr_check(r, true, "metric_last_step request");
	if (rc == 0)
		rc = cairn_key_validate(key, "metric key");
	if (rc == 0 && (rc = store_key_intern(s, key, &kid)) == 0)
		rc = store_metric_last_step(s, rid, kid, &step);
	if (rc == 0)
		w_i64(out, step);
	return rc;
}

/* The writer's batch (ops-run.c, rr_metrics_insert): the runs and keys,
 * then 32 bytes a point; stored in one transaction (no buffering on the
 * server: the answer says the points are stored). */
static int sv_metrics_insert(cairn_store *s, wr *r, buf *out)
{
	uint32_t nr = r_count(r, 37);
	int64_t *rids = calloc(nr ? nr : 1, sizeof *rids);
	int rc = rids ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < nr && rc == 0; i++)
		rc = sv_run(s, r, &rids[i]);
	uint32_t nk = rc ? 0 : r_count(r, 5);
	int64_t *kids = rc ? NULL : calloc(nk ? nk : 1, sizeof *kids);
	if (rc == 0 && !kids)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < nk && rc == 0; i++) {
		const char *key = r_text(r);
		if ((rc = wr_check(r, false, "metrics_insert request")) == 0 &&
		    (rc = cairn_key_validate(key, "metric key")) == 0)
			rc = store_key_intern(s, key, &kids[i]);
	}
	uint32_t n = rc ? 0 : r_count(r, 32);
	mpoint *pts = rc ? NULL : malloc((n ? n : 1) * sizeof *pts);
	if (rc == 0 && !pts)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		uint32_t a = r_u32(r), b = r_u32(r);
		pts[i].step = r_i64(r);
		pts[i].ts_ms = r_i64(r);
		pts[i].value = r_f64(r);
		if (a >= nr || b >= nk || pts[i].step < 0 || pts[i].ts_ms < 0 ||
		    pts[i].ts_ms > (int64_t)TIMESTAMP_MAX * 1000)
			rc = err_set(CAIRN_EINVALID, "metrics_insert: point %u is out of range", i);
		else {
			pts[i].rid = rids[a];
			pts[i].kid = kids[b];
		}
	}
	if (rc == 0)
		rc = wr_check(r, true, "metrics_insert request");
	if (rc == 0)
		rc = store_metrics_insert(s, pts, n);
	free(rids);
	free(kids);
	free(pts);
	return rc;
}

/* --- the table ------------------------------------------------------------------------- */

/* write: the op changes the store (POST /api/v1/store/w/OP, with an
 * idempotency key and the write scope); else a read (…/store/r/OP). */
static const struct {
	const char *name;
	bool write;
	int (*fn)(cairn_store *s, wr *r, buf *out);
} ops[] = {
    {"run_insert", true, sv_run_insert},
    {"run_lookup", false, sv_run_lookup},
    {"run_names", false, sv_run_names},
    {"run_set_text", true, sv_run_set_text},
    {"run_finish", true, sv_run_finish},
    {"heartbeat", true, sv_heartbeat},
    {"run_delete", true, sv_run_delete},
    {"objects_sweep", true, sv_objects_sweep},
    {"params_put", true, sv_params_put},
    {"tag_put", true, sv_tag_put},
    {"property_put", true, sv_property_put},
    {"metric_last_step", false, sv_metric_last_step},
    {"metrics_insert", true, sv_metrics_insert},
    {"artifact_put", true, sv_artifact_put},
    {"artifact_delete", true, sv_artifact_delete},
    {"code_map_put", true, sv_code_map_put},
    {"run_code_set", true, sv_run_code_set},
    {"run_env_set", true, sv_run_env_set},
    {"dataset_put", true, sv_dataset_put},
    {"records_load", false, sv_records_load},
    {"run_list_ids", false, sv_run_list_ids},
    {"query_page", false, sv_query_page},
    {"query_group", false, sv_query_group},
    {"metric_points", false, sv_metric_points},
    {"metric_sample_json", false, sv_metric_sample_json},
    {"project_list_json", false, sv_project_list_json},
    {"run_columns_json", false, sv_run_columns_json},
    {"artifact_lookup", false, sv_artifact_lookup},
    {"run_code_oid", false, sv_run_code_oid},
    {"code_map_get", false, sv_code_map_get},
    {"dataset_list", false, sv_dataset_list},
    {"schema_version", false, sv_schema_version},
    {"trial_claim", true, sv_trial_claim},
    {"trial_set", true, sv_trial_set},
    {"trials_requeue", true, sv_trials_requeue},
    {"trial_list", false, sv_trial_list},
    {"sweep_child_find", false, sv_sweep_child_find},
    {"run_reopen", true, sv_run_reopen},
};

static int status_of(int rc)
{
	switch (rc) {
	case 0: return 200;
	case CAIRN_EINVALID:
	case CAIRN_EAMBIGUOUS: return 400;
	case CAIRN_ENOTFOUND: return 404;
	case CAIRN_EEXISTS:
	case CAIRN_ECONFLICT:
	case OBJECT_VANISHED: return 409;
	case CAIRN_ETOOBIG: return 413;
	case CAIRN_EBUSY: return 503;
	default: return 500;
	}
}

int cairn_store_serve(char **out, size_t *out_len, int *out_status, cairn_store *s, int write,
                      const char *op, const void *body, size_t len)
{
	buf b = BUF_INIT;
	*out = NULL;
	*out_len = 0;
	int rc = CAIRN_ENOTFOUND;
	bool known = false;
	w_u32(&b, 0);
	for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++) {
		if (strcmp(ops[i].name, op) != 0)
			continue;
		known = true;
		if (ops[i].write != (write != 0)) {
			rc = err_set(CAIRN_EINVALID, "'%s' is a %s: send it to /api/v1/store/%s/%s",
			             op, ops[i].write ? "write" : "read", ops[i].write ? "w" : "r",
			             op);
			break;
		}
		wr r;
		wr_init(&r, body, len);
		cairn_error_clear();
		rc = ops[i].fn(s, &r, &b);
		break;
	}
	if (!known)
		err_set(CAIRN_ENOTFOUND, "the store protocol has no operation '%.60s'",
		        op ? op : "");
	if (rc == 0 && !buf_ok(&b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc) {
		buf_clear(&b);
		w_reply_error(&b, rc, cairn_error_last());
	}
	if (!buf_ok(&b)) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out_status = known ? status_of(rc) : 404;
	*out_len = b.len;
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
