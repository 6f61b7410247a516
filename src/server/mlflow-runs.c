/*
 * server/mlflow-runs.c — MLflow's runs on cairn's (docs/mlflow.md): the
 * Run and RunInfo objects, create, get, update, delete, restore, and
 * logging metrics, params, tags and dataset inputs (one by one and in
 * batches).  A run created here is a full cairn run; a cairn run reads as
 * an MLflow run.
 *
 * Writes validate the whole request before writing (a batch's limits,
 * keys, values, and params against the ones already logged), so a refused
 * request changes nothing.  Metrics are flushed before the answer: MLflow
 * clients read what they just logged.  Params are MLflow's strings, stored
 * typed when the type's text is the same string ("0.01" a float, "32" an
 * int, "True" stays a string), so cairn's queries and diffs compare them
 * as numbers and MLflow reads back exactly what it wrote.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/mlflow.h"

/* --- values ------------------------------------------------------------------------- */

void mlf_param_text(const cairn_value *v, char *out, size_t n)
{
	switch (v->type) {
	case CAIRN_TYPE_INT: snprintf(out, n, "%lld", (long long)v->i); return;
	case CAIRN_TYPE_BOOL: snprintf(out, n, "%s", v->i ? "true" : "false"); return;
	case CAIRN_TYPE_FLOAT: {
		/* Python's repr: the shortest text that reads back, ".0" on
		 * integral values */
		for (int p = 1; p <= 17; p++) {
			snprintf(out, n, "%.*g", p, v->f);
			if (strtod(out, NULL) == v->f)
				break;
		}
		if (isfinite(v->f) && !strpbrk(out, ".en"))
			snprintf(out + strlen(out), n - strlen(out), ".0");
		return;
	}
	default: snprintf(out, n, "%s", v->s ? v->s : ""); return;
	}
}

static int64_t ms(double t)
{
	return (int64_t)llround(t * 1000.0);
}

static void put_kv(buf *b, bool *first, const char *k, const char *v)
{
	bool f = true;
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	buf_putc(b, '{');
	json_key(b, &f, "key");
	json_str(b, k);
	json_key(b, &f, "value");
	json_str(b, v ? v : "");
	buf_putc(b, '}');
}

static const char *status_name(cairn_status st)
{
	switch (st) {
	case CAIRN_STATUS_RUNNING: return "RUNNING";
	case CAIRN_STATUS_FINISHED: return "FINISHED";
	case CAIRN_STATUS_KILLED:
	case CAIRN_STATUS_PRUNED: return "KILLED";
	default: return "FAILED";
	}
}

/* --- Run objects ----------------------------------------------------------------------- */

void mlf_put_run_info(buf *b, const cairn_run_record *r, const mlf_projects *ps)
{
	bool f = true;
	char eid[32];
	const char *id = cairn_run_record_id(r);
	mlf_exp_id(ps, cairn_run_record_project(r), eid, sizeof eid);
	buf_putc(b, '{');
	json_key(b, &f, "run_id");
	json_str(b, id);
	json_key(b, &f, "run_uuid");
	json_str(b, id);
	json_key(b, &f, "run_name");
	json_str(b, cairn_run_record_name(r));
	json_key(b, &f, "experiment_id");
	json_str(b, eid);
	json_key(b, &f, "user_id");
	json_str(b, cairn_run_record_user(r) ? cairn_run_record_user(r) : "");
	json_key(b, &f, "status");
	json_str(b, status_name(cairn_run_record_status(r)));
	json_key(b, &f, "start_time");
	json_int(b, ms(cairn_run_record_start_time(r)));
	double end = cairn_run_record_end_time(r);
	if (end > 0) {
		json_key(b, &f, "end_time");
		json_int(b, ms(end));
	}
	json_key(b, &f, "artifact_uri");
	buf_printf(b, "\"mlflow-artifacts:/%s/%s/artifacts\"", eid, id);
	json_key(b, &f, "lifecycle_stage");
	json_str(b, cairn_run_record_deleted(r) ? "deleted" : "active");
	buf_putc(b, '}');
}

static void put_double(buf *b, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
		buf_printf(b, "%.1f", v); /* 1.0 keeps its .0, as MLflow writes it */
	else
		json_num(b, v);
}

void mlf_put_run(buf *b, const cairn_run_record *r, const mlf_projects *ps)
{
	bool f = true, first;
	buf_putc(b, '{');
	json_key(b, &f, "info");
	mlf_put_run_info(b, r, ps);
	json_key(b, &f, "data");
	buf_puts(b, "{\"metrics\":[");
	first = true;
	for (size_t i = 0; i < cairn_run_record_metric_count(r); i++) {
		const cairn_metric_summary *m = cairn_run_record_metric(r, i);
		bool g = true;
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_putc(b, '{');
		json_key(b, &g, "key");
		json_str(b, m->key);
		json_key(b, &g, "value");
		put_double(b, m->last);
		json_key(b, &g, "timestamp");
		json_int(b, ms(m->timestamp));
		json_key(b, &g, "step");
		json_int(b, m->step);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"params\":[");
	first = true;
	for (size_t i = 0; i < cairn_run_record_param_count(r); i++) {
		cairn_value v;
		const char *k = cairn_run_record_param(&v, r, i);
		char text[128];
		mlf_param_text(&v, text, sizeof text);
		put_kv(b, &first, k, v.type == CAIRN_TYPE_STRING ? v.s : text);
	}
	buf_puts(b, "],\"tags\":[");
	first = true;
	/* cairn's fields as MLflow's system tags, then the tags */
	put_kv(b, &first, "mlflow.runName", cairn_run_record_name(r));
	const char *u = cairn_run_record_user(r);
	if (u)
		put_kv(b, &first, "mlflow.user", u);
	const cairn_run_code *c = cairn_run_record_code(r);
	if (c && c->commit)
		put_kv(b, &first, "mlflow.source.git.commit", c->commit);
	if (c && c->branch)
		put_kv(b, &first, "mlflow.source.git.branch", c->branch);
	if (c && c->remote)
		put_kv(b, &first, "mlflow.source.git.repoURL", c->remote);
	const char *note = cairn_run_record_note(r);
	if (note && *note)
		put_kv(b, &first, "mlflow.note.content", note);
	const char *parent = cairn_run_record_parent(r);
	if (parent)
		put_kv(b, &first, "mlflow.parentRunId", parent);
	for (size_t i = 0; i < cairn_run_record_tag_count(r); i++)
		put_kv(b, &first, cairn_run_record_tag(r, i), cairn_run_record_tag_value(r, i));
	buf_puts(b, "]},\"inputs\":{");
	size_t nd = cairn_run_record_dataset_count(r);
	if (nd) {
		buf_puts(b, "\"dataset_inputs\":[");
		for (size_t i = 0; i < nd; i++) {
			const cairn_run_dataset *d = cairn_run_record_dataset(r, i);
			bool g = true, t = true;
			if (i)
				buf_putc(b, ',');
			buf_puts(b, "{\"tags\":[");
			if (d->role && *d->role && strcmp(d->role, "input") != 0)
				put_kv(b, &t, "mlflow.data.context", d->role);
			buf_puts(b, "],\"dataset\":{");
			json_key(b, &g, "name");
			json_str(b, d->name);
			json_key(b, &g, "digest");
			json_str(b, d->digest);
			json_key(b, &g, "source_type");
			json_str(b, d->algo && *d->algo ? d->algo : "local");
			json_key(b, &g, "source");
			json_str(b, d->path);
			buf_puts(b, "}}");
		}
		buf_putc(b, ']');
	}
	buf_puts(b, "}}");
}

bool mlf_get_run(request *rq, response *rs, const char *id, unsigned flags, cairn_run_record **out)
{
	*out = NULL;
	/* MLflow names runs by their whole id; a prefix or a name is not one */
	if (strlen(id) != CAIRN_RUN_ID_HEXSZ) {
		mlf_no_run(rs, id);
		return false;
	}
	int rc = cairn_run_record_get(out, rq->store, id, flags | CAIRN_RECORD_DELETED);
	if (rc == CAIRN_ENOTFOUND || rc == CAIRN_EAMBIGUOUS || rc == CAIRN_EINVALID) {
		mlf_no_run(rs, id);
		return false;
	}
	if (rc) {
		mlf_lib_error(rs, rc);
		return false;
	}
	const char *own = auth_project(rq);
	if (own && strcmp(own, cairn_run_record_project(*out)) != 0) {
		cairn_run_record_free(*out);
		*out = NULL;
		mlf_no_run(rs, id);
		return false;
	}
	return true;
}

bool mlf_run_for_write(request *rq, response *rs, const char *id, cairn_run **out)
{
	cairn_run_record *rec;
	*out = NULL;
	if (!mlf_get_run(rq, rs, id, 0, &rec))
		return false;
	bool deleted = cairn_run_record_deleted(rec);
	cairn_run_record_free(rec);
	if (deleted) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "The run %s must be in the 'active' state. Current state is deleted.",
		          id);
		return false;
	}
	int rc = run_cache_get(rq->srv, id, out);
	if (rc) {
		mlf_lib_error(rs, rc);
		return false;
	}
	return true;
}

/* --- writing tags ------------------------------------------------------------------- */

/* Validate one tag (key and value) of a write. */
static bool tag_ok(response *rs, const char *key, const char *value)
{
	if (!mlf_key_ok(rs, "tag", key))
		return false;
	if (strlen(value) > MLF_TAG_VAL_MAX) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Tag value '%.50s...' had length %zu, which exceeded length limit of %d",
		          value, strlen(value), MLF_TAG_VAL_MAX);
		return false;
	}
	if (strcmp(key, "mlflow.runName") == 0 && cairn_key_validate(value, "run name") != 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE", "Invalid run name '%.250s': %s", value,
		          cairn_error_last());
		return false;
	}
	return true;
}

/* Set one MLflow tag: a system tag sets the cairn field it is, any other
 * is a key/value tag. */
static int tag_set(cairn_run *run, const char *key, const char *value)
{
	if (strcmp(key, "mlflow.runName") == 0)
		return cairn_run_set_name(run, value);
	if (strcmp(key, "mlflow.note.content") == 0)
		return cairn_run_set_note(run, value);
	static const char *const attrs[][2] = {
	    {"mlflow.user", "user"},
	    {"mlflow.source.git.commit", "commit"},
	    {"mlflow.source.git.branch", "branch"},
	    {"mlflow.source.git.repoURL", "remote"},
	};
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
		if (strcmp(key, attrs[i][0]) == 0)
			return cairn_run_set_attribute(run, attrs[i][1], value);
	return cairn_run_set_tag_value(run, key, value);
}

/* The key/value array tags[] of a request: every one checked. */
static bool tags_check(response *rs, const json *tags, const char *name)
{
	size_t i = 0;
	for (const json *t = tags ? tags->child : NULL; t; t = t->next, i++) {
		const char *k = t->type == JSON_OBJ ? json_get_str(t, "key") : NULL;
		const char *v = t->type == JSON_OBJ ? json_get_str(t, "value") : NULL;
		if (!k || !*k) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Missing value for required parameter '%s[%zu].key'. See the API docs "
			    "for more information about request parameters.",
			    name, i);
			return false;
		}
		if (!v) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Missing value for required parameter '%s[%zu].value'. See the API "
			    "docs for more information about request parameters.",
			    name, i);
			return false;
		}
		if (!tag_ok(rs, k, v))
			return false;
	}
	return true;
}

/* --- create, get, update, delete, restore ------------------------------------------------- */

int mlf_run_create(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	cairn_run *run = NULL;
	cairn_run_record *rec = NULL;
	const char *eid, *name, *user;
	const json *tags;
	int64_t start = 0;
	if (!mlf_str(rs, &in, "experiment_id", false, &eid) ||
	    !mlf_str(rs, &in, "run_name", false, &name) ||
	    !mlf_str(rs, &in, "user_id", false, &user) || !mlf_array(rs, &in, "tags", &tags) ||
	    !mlf_int(rs, json_get(in.root, "start_time"), "start_time", false, &start, NULL) ||
	    !tags_check(rs, tags, "tags") || !mlf_projects_load(rq, rs, &ps))
		goto done;
	if (!eid || !*eid)
		eid = "0";
	bool dflt;
	const cairn_project *p = mlf_project_by_exp(&ps, eid, &dflt);
	if (!p && !dflt) {
		mlf_error(rs, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=%.64s exists", eid);
		goto done;
	}
	if (p && p->deleted) {
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "The experiment %s must be in the 'active' state. Current state is deleted.",
		    eid);
		goto done;
	}
	const char *project = p ? p->name : "default";
	const char *own = auth_project(rq);
	if (own && strcmp(own, project) != 0) {
		mlf_error(rs, "PERMISSION_DENIED",
		          "the token '%s' may create runs in project '%s' only", rq->auth.name,
		          own);
		goto done;
	}
	/* the name: run_name or the tag mlflow.runName, which must agree */
	for (const json *t = tags ? tags->child : NULL; t; t = t->next) {
		const char *k = json_get_str(t, "key"), *v = json_get_str(t, "value");
		if (strcmp(k, "mlflow.runName") == 0) {
			if (name && *name && strcmp(name, v) != 0) {
				mlf_error(rs, "INVALID_PARAMETER_VALUE",
				          "Both 'run_name' argument and 'mlflow.runName' tag are "
				          "specified, "
				          "but with different values (run_name='%.250s', "
				          "mlflow.runName='%.250s').",
				          name, v);
				goto done;
			}
			name = v;
		}
		if (strcmp(k, "mlflow.user") == 0 && (!user || !*user))
			user = v;
	}
	if (name && !*name)
		name = NULL;
	if (name && cairn_key_validate(name, "run name") != 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE", "Invalid run name '%.250s': %s", name,
		          cairn_error_last());
		goto done;
	}
	cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
	ro.project = project;
	ro.name = name;
	ro.cwd = "";
	ro.user = rq->auth.authed ? rq->auth.name : (user && *user ? user : NULL);
	ro.start_time = start > 0 ? (double)start / 1000.0 : 0;
	int rc = cairn_run_create(&run, rq->store, &ro);
	for (const json *t = tags ? tags->child : NULL; rc == 0 && t; t = t->next) {
		const char *k = json_get_str(t, "key"), *v = json_get_str(t, "value");
		if (strcmp(k, "mlflow.runName") == 0 || strcmp(k, "mlflow.user") == 0)
			continue;
		rc = tag_set(run, k, v);
	}
	if (rc == 0)
		rc = cairn_run_record_get(&rec, rq->store, cairn_run_id(run), 0);
	if (rc) {
		mlf_lib_error(rs, rc);
		goto done;
	}
	buf_puts(&rs->body, "{\"run\":");
	mlf_put_run(&rs->body, rec, &ps);
	buf_putc(&rs->body, '}');
	resp_json_buf(rs, 200);
done:
	cairn_run_record_free(rec);
	cairn_run_free(run);
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

int mlf_run_get(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	cairn_run_record *rec = NULL;
	const char *id;
	if (mlf_run_id(rs, &in, &id) && mlf_get_run(rq, rs, id, 0, &rec) &&
	    mlf_projects_load(rq, rs, &ps)) {
		buf_puts(&rs->body, "{\"run\":");
		mlf_put_run(&rs->body, rec, &ps);
		buf_putc(&rs->body, '}');
		resp_json_buf(rs, 200);
	}
	cairn_run_record_free(rec);
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

static bool status_parse(response *rs, const char *s, cairn_status *out)
{
	static const struct {
		const char *name;
		cairn_status st;
	} map[] = {
	    {"RUNNING", CAIRN_STATUS_RUNNING},   {"SCHEDULED", CAIRN_STATUS_RUNNING},
	    {"FINISHED", CAIRN_STATUS_FINISHED}, {"FAILED", CAIRN_STATUS_FAILED},
	    {"KILLED", CAIRN_STATUS_KILLED},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].name, s) == 0) {
			*out = map[i].st;
			return true;
		}
	mlf_error(
	    rs, "INVALID_PARAMETER_VALUE",
	    "Invalid value \"%.60s\" for parameter 'status' supplied. Hint: Value was of type "
	    "'str'. See the API docs for more information about request parameters.",
	    s);
	return false;
}

int mlf_run_update(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	cairn_run *run = NULL;
	cairn_run_record *rec = NULL;
	const char *id, *status, *name;
	int64_t end = 0;
	bool has_end;
	cairn_status st = CAIRN_STATUS_RUNNING;
	if (!mlf_run_id(rs, &in, &id) || !mlf_str(rs, &in, "status", false, &status) ||
	    !mlf_str(rs, &in, "run_name", false, &name) ||
	    !mlf_int(rs, json_get(in.root, "end_time"), "end_time", false, &end, &has_end) ||
	    (status && !status_parse(rs, status, &st)))
		goto done;
	if (name && *name && cairn_key_validate(name, "run name") != 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE", "Invalid run name '%.250s': %s", name,
		          cairn_error_last());
		goto done;
	}
	if (!mlf_run_for_write(rq, rs, id, &run))
		goto done;
	int rc = 0;
	if (name && *name)
		rc = cairn_run_set_name(run, name);
	if (rc == 0 && status) {
		rc = cairn_run_record_get(&rec, rq->store, id, 0);
		/* RUNNING again only reopens an ended run */
		if (rc == 0 && !(st == CAIRN_STATUS_RUNNING &&
		                 cairn_run_record_status(rec) == CAIRN_STATUS_RUNNING))
			rc = cairn_run_end(run, st, has_end && end > 0 ? (double)end / 1000.0 : 0);
		cairn_run_record_free(rec);
		rec = NULL;
	}
	if (rc == 0)
		rc = cairn_run_record_get(&rec, rq->store, id, 0);
	if (rc == 0 && !mlf_projects_load(rq, rs, &ps))
		goto done;
	if (rc) {
		mlf_lib_error(rs, rc);
		goto done;
	}
	buf_puts(&rs->body, "{\"run_info\":");
	mlf_put_run_info(&rs->body, rec, &ps);
	buf_putc(&rs->body, '}');
	resp_json_buf(rs, 200);
done:
	cairn_run_record_free(rec);
	run_cache_release(rq->srv, run);
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

static int delete_or_restore(request *rq, response *rs, bool restore)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run_record *rec = NULL;
	const char *id;
	if (mlf_run_id(rs, &in, &id) && mlf_get_run(rq, rs, id, 0, &rec)) {
		int rc =
		    restore ? cairn_run_restore(rq->store, id) : cairn_run_delete(rq->store, id, 0);
		if (rc == 0 && !restore)
			run_cache_forget(rq->srv, id);
		if (rc)
			mlf_lib_error(rs, rc);
		else
			resp_json_take(rs, 200, strdup("{}"));
	}
	cairn_run_record_free(rec);
	mlf_in_free(&in);
	return 0;
}

int mlf_run_delete(request *rq, response *rs)
{
	return delete_or_restore(rq, rs, false);
}

int mlf_run_restore(request *rq, response *rs)
{
	return delete_or_restore(rq, rs, true);
}
