/*
 * server/mlflow-log.c — logging into runs through MLflow's API
 * (docs/mlflow.md): log-metric, log-parameter, set-tag, delete-tag,
 * log-batch, log-inputs (reading histories back: mlflow-metrics.c).
 *
 * A request is checked whole before anything is written: types, MLflow's
 * limits (1000 metrics, 100 params, 100 tags, 1000 entities, 1 MB per
 * batch), keys, value lengths, and params against those already logged
 * (MLflow's params are write-once: the same value again is fine, another
 * is 400 with MLflow's message).  Metric timestamps are MLflow's
 * milliseconds; cairn keeps milliseconds too, so they read back exactly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/mlflow.h"

/* --- metrics --------------------------------------------------------------------------- */

typedef struct mpt {
	const char *key;
	double value;
	int64_t ts, step;
} mpt;

/* The name of member `field` of metric idx for a message: "metrics[3].key"
 * in a batch, "key" (idx < 0) in log-metric. */
static const char *field_name(char *n, size_t cap, long idx, const char *field)
{
	if (idx < 0)
		snprintf(n, cap, "%s", field);
	else
		snprintf(n, cap, "metrics[%ld].%s", idx, field);
	return n;
}

/* Keys a batch has validated already (a batch repeats a few keys). */
typedef struct keys_seen {
	const char *k[8];
	size_t n;
} keys_seen;

/* One Metric object, metric idx of a batch (idx < 0: the body of
 * log-metric).  The names in messages are formatted only for a message:
 * a batch of 1,000 points reads each member once, in one pass. */
static bool metric_read(response *rs, const json *m, long idx, keys_seen *seen, mpt *out)
{
	char n[96];
	if (m->type != JSON_OBJ) {
		if (idx < 0)
			snprintf(n, sizeof n, "metrics");
		else
			snprintf(n, sizeof n, "metrics[%ld]", idx);
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Invalid value for parameter '%s' supplied", n);
		return false;
	}
	/* the first of each member, as json_get finds it */
	const json *k = NULL, *v = NULL, *ts = NULL, *st = NULL;
	for (const json *c = m->child; c; c = c->next) {
		const char *name = c->key;
		if (!k && strcmp(name, "key") == 0)
			k = c;
		else if (!v && strcmp(name, "value") == 0)
			v = c;
		else if (!ts && strcmp(name, "timestamp") == 0)
			ts = c;
		else if (!st && strcmp(name, "step") == 0)
			st = c;
	}
	if (!k || k->type == JSON_NULL || (k->type == JSON_STR && !*k->str)) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Missing value for required parameter '%s'. See the API docs for more "
		          "information about request parameters.",
		          field_name(n, sizeof n, idx, "key"));
		return false;
	}
	if (k->type != JSON_STR) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Invalid value for parameter '%s' supplied",
		          field_name(n, sizeof n, idx, "key"));
		return false;
	}
	out->key = k->str;
	if (v && v->type == JSON_BOOL) {
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "Got invalid value %s for metric '%s' (timestamp=...). Please specify value as "
		    "a valid double (64-bit floating point)",
		    v->b ? "True" : "False", k->str);
		return false;
	}
	bool has;
	/* the common case, numbers and integers, without formatting names */
	if (v && v->type == JSON_NUM)
		out->value = v->num;
	else if (!mlf_double(rs, v, field_name(n, sizeof n, idx, "value"), &out->value))
		return false;
	if (ts && ts->type == JSON_NUM && ts->is_int)
		out->ts = ts->i;
	else if (!mlf_int(rs, ts, field_name(n, sizeof n, idx, "timestamp"), true, &out->ts, &has))
		return false;
	out->step = 0;
	if (st && st->type == JSON_NUM && st->is_int)
		out->step = st->i;
	else if (!mlf_int(rs, st, field_name(n, sizeof n, idx, "step"), false, &out->step, &has))
		return false;
	bool known = false;
	for (size_t i = 0; seen && i < seen->n && !known; i++)
		known = strcmp(seen->k[i], out->key) == 0;
	if (!known) {
		if (!mlf_key_ok(rs, "metric", out->key))
			return false;
		if (seen && seen->n < sizeof seen->k / sizeof seen->k[0])
			seen->k[seen->n++] = out->key;
	}
	if (out->ts < 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Metric '%s' has a negative timestamp %lld (milliseconds since 1970)",
		          out->key, (long long)out->ts);
		return false;
	}
	if (out->step < 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Metric '%s' has a negative step %lld; cairn's steps start at 0 "
		          "(docs/mlflow.md)",
		          out->key, (long long)out->step);
		return false;
	}
	return true;
}

static int metric_log(cairn_run *run, const mpt *p)
{
	/* cairn takes seconds; timestamp 0 means "now" there, so MLflow's 0 is
	 * given as a tenth of a millisecond, which rounds back to 0 */
	double ts = p->ts > 0 ? (double)p->ts / 1000.0 : 1e-4;
	return cairn_run_log_metric(run, p->key, p->value, p->step, ts);
}

/* --- params -------------------------------------------------------------------------- */

typedef struct ppt {
	const char *key, *value;
} ppt;

/* Params against the run's: CAIRN_ECONFLICT answered with MLflow's message
 * for the first one logged before with another value. */
static bool params_check(request *rq, response *rs, const char *id, const ppt *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!mlf_key_ok(rs, "param", p[i].key))
			return false;
		if (strlen(p[i].value) > MLF_PARAM_VAL_MAX) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Param value '%.50s...' had length %zu, which exceeded length limit of "
			    "%d",
			    p[i].value, strlen(p[i].value), MLF_PARAM_VAL_MAX);
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(p[j].key, p[i].key) == 0 &&
			    strcmp(p[j].value, p[i].value) != 0) {
				mlf_error(
				    rs, "INVALID_PARAMETER_VALUE",
				    "Duplicate parameter keys have been submitted: ['%s']. Please "
				    "ensure the request contains only one param value per param "
				    "key.",
				    p[i].key);
				return false;
			}
	}
	if (n == 0)
		return true;
	cairn_run_record *rec;
	if (!mlf_get_run(rq, rs, id, 0, &rec))
		return false;
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		cairn_value v;
		if (cairn_run_record_param_get(&v, rec, p[i].key) != 0)
			continue;
		char text[128];
		mlf_param_text(&v, text, sizeof text);
		const char *old = v.type == CAIRN_TYPE_STRING ? v.s : text;
		if (strcmp(old, p[i].value) != 0) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Changing param values is not allowed. Param with key='%s' was already "
			    "logged with value='%.1000s' for run ID='%s'. Attempted logging new "
			    "value '%.1000s'.",
			    p[i].key, old, id, p[i].value);
			ok = false;
		}
	}
	cairn_run_record_free(rec);
	return ok;
}

static int params_log(cairn_run *run, const ppt *p, size_t n)
{
	if (n == 0)
		return 0;
	const char **keys = malloc(n * sizeof *keys);
	cairn_value *vals = malloc(n * sizeof *vals);
	int rc = CAIRN_ENOMEM;
	if (keys && vals) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++) {
			bool dup = false;
			for (size_t j = 0; j < m && !dup; j++)
				dup = strcmp(keys[j], p[i].key) == 0;
			if (dup)
				continue; /* the same key and value twice in one batch */
			keys[m] = p[i].key;
			cairn_value_parse(&vals[m], p[i].value);
			char back[64];
			if (vals[m].type != CAIRN_TYPE_STRING) {
				mlf_param_text(&vals[m], back, sizeof back);
				if (strcmp(back, p[i].value) != 0) {
					memset(&vals[m], 0, sizeof vals[m]);
					vals[m].type = CAIRN_TYPE_STRING;
					vals[m].s = p[i].value;
				}
			}
			m++;
		}
		rc = cairn_run_log_params(run, keys, vals, m);
	}
	free(keys);
	free(vals);
	return rc;
}

/* --- single writes ---------------------------------------------------------------------------- */

int mlf_log_metric(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run *run = NULL;
	const char *id;
	mpt p;
	if (mlf_run_id(rs, &in, &id) && metric_read(rs, in.root, -1, NULL, &p) &&
	    mlf_run_for_write(rq, rs, id, &run)) {
		int rc = metric_log(run, &p);
		if (rc == 0)
			rc = cairn_run_flush(run);
		if (rc)
			mlf_lib_error(rs, rc);
		else
			resp_json_take(rs, 200, strdup("{}"));
	}
	run_cache_release(rq->srv, run);
	mlf_in_free(&in);
	return 0;
}

int mlf_log_param(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run *run = NULL;
	const char *id;
	ppt p;
	if (mlf_run_id(rs, &in, &id) && mlf_str(rs, &in, "key", true, &p.key) &&
	    mlf_str(rs, &in, "value", false, &p.value)) {
		if (!p.value) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Missing value for required parameter 'value'. See the API docs for "
			    "more information about request parameters.");
		} else if (params_check(rq, rs, id, &p, 1) && mlf_run_for_write(rq, rs, id, &run)) {
			int rc = params_log(run, &p, 1);
			if (rc)
				mlf_lib_error(rs, rc);
			else
				resp_json_take(rs, 200, strdup("{}"));
		}
	}
	run_cache_release(rq->srv, run);
	mlf_in_free(&in);
	return 0;
}

int mlf_set_tag(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run *run = NULL;
	const char *id, *key, *value;
	if (mlf_run_id(rs, &in, &id) && mlf_str(rs, &in, "key", true, &key) &&
	    mlf_str(rs, &in, "value", false, &value)) {
		if (!value)
			value = "";
		if (!mlf_key_ok(rs, "tag", key)) {
		} else if (strlen(value) > MLF_TAG_VAL_MAX) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Tag value '%.50s...' had length %zu, which exceeded length "
			          "limit of %d",
			          value, strlen(value), MLF_TAG_VAL_MAX);
		} else if (mlf_run_for_write(rq, rs, id, &run)) {
			int rc;
			if (strcmp(key, "mlflow.runName") == 0)
				rc = cairn_run_set_name(run, value);
			else if (strcmp(key, "mlflow.note.content") == 0)
				rc = cairn_run_set_note(run, value);
			else if (strcmp(key, "mlflow.user") == 0)
				rc = cairn_run_set_attribute(run, "user", value);
			else if (strcmp(key, "mlflow.source.git.commit") == 0)
				rc = cairn_run_set_attribute(run, "commit", value);
			else if (strcmp(key, "mlflow.source.git.branch") == 0)
				rc = cairn_run_set_attribute(run, "branch", value);
			else if (strcmp(key, "mlflow.source.git.repoURL") == 0)
				rc = cairn_run_set_attribute(run, "remote", value);
			else
				rc = cairn_run_set_tag_value(run, key, value);
			if (rc)
				mlf_lib_error(rs, rc);
			else
				resp_json_take(rs, 200, strdup("{}"));
		}
	}
	run_cache_release(rq->srv, run);
	mlf_in_free(&in);
	return 0;
}

int mlf_delete_tag(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run *run = NULL;
	cairn_run_record *rec = NULL;
	const char *id, *key;
	if (mlf_run_id(rs, &in, &id) && mlf_str(rs, &in, "key", true, &key) &&
	    mlf_get_run(rq, rs, id, 0, &rec)) {
		bool has = false;
		for (size_t i = 0; i < cairn_run_record_tag_count(rec) && !has; i++)
			has = strcmp(cairn_run_record_tag(rec, i), key) == 0;
		if (cairn_run_record_deleted(rec)) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "The run %s must be in the 'active' state. Current state is deleted.",
			    id);
		} else if (!has) {
			mlf_error(rs, "RESOURCE_DOES_NOT_EXIST",
			          "No tag with name: %.250s in run with id %s", key, id);
		} else if (mlf_run_for_write(rq, rs, id, &run)) {
			int rc = cairn_run_remove_tag(run, key);
			if (rc)
				mlf_lib_error(rs, rc);
			else
				resp_json_take(rs, 200, strdup("{}"));
		}
	}
	cairn_run_record_free(rec);
	run_cache_release(rq->srv, run);
	mlf_in_free(&in);
	return 0;
}

/* --- log-batch ---------------------------------------------------------------------------------
 */

int mlf_log_batch(request *rq, response *rs)
{
	if (rq->body.len > MLF_MAX_BATCH_SIZE)
		return mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "Batched logging API requests must be at most %d bytes, got a request "
		    "of %zu bytes",
		    MLF_MAX_BATCH_SIZE, rq->body.len);
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run *run = NULL;
	mpt *mp = NULL;
	ppt *pp = NULL;
	const char *id;
	const json *metrics, *params, *tags;
	if (!mlf_run_id(rs, &in, &id) || !mlf_array(rs, &in, "metrics", &metrics) ||
	    !mlf_array(rs, &in, "params", &params) || !mlf_array(rs, &in, "tags", &tags))
		goto done;
	size_t nm = metrics ? metrics->len : 0, np = params ? params->len : 0,
	       nt = tags ? tags->len : 0;
	if (nm > MLF_MAX_METRICS || np > MLF_MAX_PARAMS || nt > MLF_MAX_TAGS ||
	    nm + np + nt > MLF_MAX_ENTITIES) {
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "A batch logging request can contain at most %d metrics, %d params, and %d "
		    "tags, and at most %d entities in total. Got %zu metrics, %zu params and "
		    "%zu tags.",
		    MLF_MAX_METRICS, MLF_MAX_PARAMS, MLF_MAX_TAGS, MLF_MAX_ENTITIES, nm, np, nt);
		goto done;
	}
	mp = calloc(nm ? nm : 1, sizeof *mp);
	pp = calloc(np ? np : 1, sizeof *pp);
	if (!mp || !pp) {
		mlf_error(rs, "INTERNAL_ERROR", "out of memory");
		goto done;
	}
	size_t i = 0;
	keys_seen seen = {.n = 0};
	for (const json *m = metrics ? metrics->child : NULL; m; m = m->next, i++)
		if (!metric_read(rs, m, (long)i, &seen, &mp[i]))
			goto done;
	i = 0;
	for (const json *p = params ? params->child : NULL; p; p = p->next, i++) {
		pp[i].key = p->type == JSON_OBJ ? json_get_str(p, "key") : NULL;
		pp[i].value = p->type == JSON_OBJ ? json_get_str(p, "value") : NULL;
		if (!pp[i].key || !*pp[i].key || !pp[i].value) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Missing value for required parameter 'params[%zu].%s'. See the API "
			    "docs for more information about request parameters.",
			    i, !pp[i].key || !*pp[i].key ? "key" : "value");
			goto done;
		}
	}
	/* tags: the same checks as set-tag */
	size_t t = 0;
	for (const json *g = tags ? tags->child : NULL; g; g = g->next, t++) {
		const char *k = g->type == JSON_OBJ ? json_get_str(g, "key") : NULL;
		const char *v = g->type == JSON_OBJ ? json_get_str(g, "value") : NULL;
		if (!k || !*k || !v) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Missing value for required parameter 'tags[%zu].%s'. See the API docs "
			    "for more information about request parameters.",
			    t, !k || !*k ? "key" : "value");
			goto done;
		}
		if (!mlf_key_ok(rs, "tag", k))
			goto done;
		if (strlen(v) > MLF_TAG_VAL_MAX) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Tag value '%.50s...' had length %zu, which exceeded length "
			          "limit of %d",
			          v, strlen(v), MLF_TAG_VAL_MAX);
			goto done;
		}
	}
	if (!params_check(rq, rs, id, pp, np) || !mlf_run_for_write(rq, rs, id, &run))
		goto done;
	int rc = params_log(run, pp, np);
	for (const json *g = tags ? tags->child : NULL; rc == 0 && g; g = g->next) {
		const char *k = json_get_str(g, "key"), *v = json_get_str(g, "value");
		if (strcmp(k, "mlflow.runName") == 0)
			rc = cairn_run_set_name(run, v);
		else if (strcmp(k, "mlflow.note.content") == 0)
			rc = cairn_run_set_note(run, v);
		else if (strcmp(k, "mlflow.user") == 0)
			rc = cairn_run_set_attribute(run, "user", v);
		else if (strcmp(k, "mlflow.source.git.commit") == 0)
			rc = cairn_run_set_attribute(run, "commit", v);
		else
			rc = cairn_run_set_tag_value(run, k, v);
	}
	for (i = 0; rc == 0 && i < nm; i++)
		rc = metric_log(run, &mp[i]);
	if (rc == 0 && nm)
		rc = cairn_run_flush(run);
	if (rc)
		mlf_lib_error(rs, rc);
	else
		resp_json_take(rs, 200, strdup("{}"));
done:
	free(mp);
	free(pp);
	run_cache_release(rq->srv, run);
	mlf_in_free(&in);
	return 0;
}

/* --- log-inputs
 * ----------------------------------------------------------------------------------- */

int mlf_log_inputs(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	cairn_run *run = NULL;
	const char *id;
	const json *ds;
	if (!mlf_run_id(rs, &in, &id) || !mlf_array(rs, &in, "datasets", &ds))
		goto done;
	size_t i = 0;
	for (const json *d = ds ? ds->child : NULL; d; d = d->next, i++) {
		const json *set = json_get(d, "dataset");
		static const char *const req[] = {"name", "digest", "source_type", "source"};
		for (size_t k = 0; k < 4; k++) {
			const char *v = set ? json_get_str(set, req[k]) : NULL;
			if (!v || !*v) {
				mlf_error(rs, "INVALID_PARAMETER_VALUE",
				          "Missing value for required parameter "
				          "'datasets[%zu].dataset.%s'. "
				          "See the API docs for more information about request "
				          "parameters.",
				          i, req[k]);
				goto done;
			}
		}
		const char *name = json_get_str(set, "name");
		if (strlen(name) > 500 || strlen(json_get_str(set, "digest")) > 36 ||
		    strlen(json_get_str(set, "source")) > 65535) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Dataset '%.100s': name, digest or source over MLflow's limit "
			          "(500, 36, "
			          "65535)",
			          name);
			goto done;
		}
		if (cairn_key_validate(name, "dataset name") != 0) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Invalid dataset name '%.500s': %s", name, cairn_error_last());
			goto done;
		}
	}
	if (!mlf_run_for_write(rq, rs, id, &run))
		goto done;
	int rc = 0;
	for (const json *d = ds ? ds->child : NULL; rc == 0 && d; d = d->next) {
		const json *set = json_get(d, "dataset"), *tags = json_get(d, "tags");
		const char *context = "input";
		for (const json *t = tags && tags->type == JSON_ARR ? tags->child : NULL; t;
		     t = t->next) {
			const char *k = json_get_str(t, "key"), *v = json_get_str(t, "value");
			if (k && v && *v && strcmp(k, "mlflow.data.context") == 0)
				context = v;
		}
		cairn_run_dataset cd = {
		    .name = json_get_str(set, "name"),
		    .path = json_get_str(set, "source"),
		    .role = context,
		    .algo = json_get_str(set, "source_type"),
		    .digest = json_get_str(set, "digest"),
		};
		rc = cairn_run_set_dataset(run, &cd);
	}
	if (rc)
		mlf_lib_error(rs, rc);
	else
		resp_json_take(rs, 200, strdup("{}"));
done:
	run_cache_release(rq->srv, run);
	mlf_in_free(&in);
	return 0;
}
