/*
 * server/mlflow.c — MLflow's tracking API (docs/mlflow.md): its route
 * table, the dispatch of MLflow's paths, its error bodies and statuses,
 * decoding requests with its messages, and the experiments (cairn's
 * projects).  Runs are in mlflow-runs.c, artifacts in mlflow-art.c; the
 * mapping of the data model is in mlflow.h.
 *
 * Errors: every answer of these routes that is not 2xx is MLflow's
 * {"error_code", "message"} with the status MLflow gives that code — also
 * the generic ones (no such route, authentication, a body over the cap,
 * a POST without Content-Type: application/json), which mlf_dispatch
 * rewrites.  A user's mistake is never a 5xx: MLflow's client retries 5xx
 * for minutes.
 *
 * Thread-safety: as every handler (api.c); nothing here is shared.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/mhd.h"
#include "server/mlflow.h"

/* --- errors ------------------------------------------------------------------------ */

static int code_status(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
	    {"INVALID_PARAMETER_VALUE", 400},
	    {"RESOURCE_ALREADY_EXISTS", 400},
	    {"BAD_REQUEST", 400},
	    {"MALFORMED_REQUEST", 400},
	    {"RESOURCE_DOES_NOT_EXIST", 404},
	    {"ENDPOINT_NOT_FOUND", 404},
	    {"NOT_FOUND", 404},
	    {"PERMISSION_DENIED", 403},
	    {"UNAUTHENTICATED", 401},
	    {"RESOURCE_CONFLICT", 409},
	    {"NOT_IMPLEMENTED", 501},
	    {"TEMPORARILY_UNAVAILABLE", 503},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	return 500;
}

static int error_msg(response *rs, const char *code, const char *msg)
{
	bool f = true;
	buf_free(&rs->body);
	if (rs->fd >= 0) {
		close(rs->fd);
		rs->fd = -1;
	}
	rs->disposition = NULL;
	rs->cache = NULL;
	rs->etag[0] = '\0';
	rs->sandbox = false;
	rs->static_data = NULL;
	rs->status = code_status(code);
	rs->content_type = "application/json";
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "error_code");
	json_str(&rs->body, code);
	json_key(&rs->body, &f, "message");
	json_str(&rs->body, msg);
	buf_putc(&rs->body, '}');
	return 0;
}

int mlf_error(response *rs, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return error_msg(rs, code, msg);
}

int mlf_lib_error(response *rs, int rc)
{
	const char *msg = cairn_error_last();
	switch (rc) {
	case CAIRN_ENOTFOUND: return mlf_error(rs, "RESOURCE_DOES_NOT_EXIST", "%s", msg);
	case CAIRN_EEXISTS: return mlf_error(rs, "RESOURCE_ALREADY_EXISTS", "%s", msg);
	case CAIRN_EINVALID:
	case CAIRN_EAMBIGUOUS:
	case CAIRN_ECONFLICT:
	case CAIRN_ETOOBIG: return mlf_error(rs, "INVALID_PARAMETER_VALUE", "%s", msg);
	case CAIRN_EBUSY: return mlf_error(rs, "TEMPORARILY_UNAVAILABLE", "%s", msg);
	default: return mlf_error(rs, "INTERNAL_ERROR", "%s", msg);
	}
}

int mlf_no_run(response *rs, const char *id)
{
	return mlf_error(rs, "RESOURCE_DOES_NOT_EXIST", "Run with id=%.64s not found", id);
}

/* A cairn error body ({"error": {"code", "message"}}) written by the
 * generic parts (routing, auth, caps) as MLflow's. */
void mlf_rewrite_error(response *rs)
{
	if (rs->status < 400 || !rs->body.len || strncmp(rs->body.ptr, "{\"error\":", 9) != 0)
		return;
	char err[128], msg[1024] = "";
	json_doc *d = json_parse(rs->body.ptr, rs->body.len, NULL, err, sizeof err);
	const json *e = d ? json_get(json_root(d), "error") : NULL;
	const char *m = e ? json_get_str(e, "message") : NULL;
	snprintf(msg, sizeof msg, "%s", m ? m : "");
	json_doc_free(d);
	int st = rs->status;
	const char *code = st == 401   ? "UNAUTHENTICATED"
	                   : st == 403 ? "PERMISSION_DENIED"
	                   : st == 404 ? (strstr(msg, "endpoint") ? "ENDPOINT_NOT_FOUND"
	                                                          : "RESOURCE_DOES_NOT_EXIST")
	                   : st == 503 ? "TEMPORARILY_UNAVAILABLE"
	                   : st >= 500 ? "INTERNAL_ERROR"
	                               : "INVALID_PARAMETER_VALUE";
	if (st == 415)
		snprintf(msg, sizeof msg,
		         "Bad Request. Content-Type must be one of ['application/json'].");
	const char *allow = rs->allow, *auth = rs->www_auth;
	error_msg(rs, code, msg);
	/* keep the statuses MLflow's client treats as they are */
	if (st == 405 || st == 413)
		rs->status = st;
	rs->allow = allow;
	rs->www_auth = auth;
}

/* --- projects as experiments ----------------------------------------------------------------- */

bool mlf_projects_load(request *rq, response *rs, mlf_projects *ps)
{
	ps->p = NULL;
	ps->n = 0;
	/* no run counts: MLflow's objects have none, and counting reads an
	 * index entry per run on every request */
	int rc = cairn_projects_get_ext(&ps->p, &ps->n, rq->store, CAIRN_PROJECTS_NO_COUNTS);
	if (rc) {
		mlf_lib_error(rs, rc);
		return false;
	}
	return true;
}

void mlf_projects_free(mlf_projects *ps)
{
	cairn_projects_free(ps->p, ps->n);
	ps->p = NULL;
	ps->n = 0;
}

static const cairn_project *by_name(const mlf_projects *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].name, name) == 0)
			return &ps->p[i];
	return NULL;
}

const cairn_project *mlf_project_by_exp(const mlf_projects *ps, const char *exp_id,
                                        bool *is_default)
{
	*is_default = exp_id && strcmp(exp_id, "0") == 0;
	if (*is_default)
		return by_name(ps, "default");
	char *end;
	long long id = exp_id ? strtoll(exp_id, &end, 10) : 0;
	if (!exp_id || !*exp_id || *end || id <= 0)
		return NULL;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].id == id && strcmp(ps->p[i].name, "default") != 0)
			return &ps->p[i];
	return NULL;
}

void mlf_exp_id(const mlf_projects *ps, const char *project, char *out, size_t n)
{
	const cairn_project *p = strcmp(project, "default") == 0 ? NULL : by_name(ps, project);
	if (p)
		snprintf(out, n, "%lld", (long long)p->id);
	else
		snprintf(out, n, "0");
}

static int64_t ms(double t)
{
	return (int64_t)(t * 1000.0 + 0.5);
}

/* One Experiment object; p NULL: the default experiment before its project
 * exists. */
void mlf_put_experiment(buf *b, const cairn_project *p)
{
	bool f = true;
	bool dflt = !p || strcmp(p->name, "default") == 0;
	char id[32];
	snprintf(id, sizeof id, "%lld", dflt ? 0LL : (long long)p->id);
	buf_putc(b, '{');
	json_key(b, &f, "experiment_id");
	json_str(b, id);
	json_key(b, &f, "name");
	json_str(b, dflt ? "Default" : p->name);
	json_key(b, &f, "artifact_location");
	buf_printf(b, "\"mlflow-artifacts:/%s\"", id);
	json_key(b, &f, "lifecycle_stage");
	json_str(b, p && p->deleted ? "deleted" : "active");
	json_key(b, &f, "last_update_time");
	json_int(b, p ? ms(p->updated > 0 ? p->updated : p->created) : 0);
	json_key(b, &f, "creation_time");
	json_int(b, p ? ms(p->created) : 0);
	json_key(b, &f, "tags");
	buf_putc(b, '[');
	for (size_t i = 0; p && i < p->ntags; i++) {
		bool g = true;
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, &g, "key");
		json_str(b, p->tag_keys[i]);
		json_key(b, &g, "value");
		json_str(b, p->tag_values[i]);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
}

/* The project named by the request's experiment_id (the default one is
 * created on first need when want_row); false with the answer. */
static bool exp_project(request *rq, response *rs, const mlf_in *in, mlf_projects *ps,
                        const cairn_project **out, bool want_row)
{
	const char *eid;
	if (!mlf_str(rs, in, "experiment_id", true, &eid))
		return false;
	if (!mlf_projects_load(rq, rs, ps))
		return false;
	bool dflt;
	*out = mlf_project_by_exp(ps, eid, &dflt);
	if (!*out && dflt && want_row) {
		int64_t id;
		int rc = cairn_project_create(&id, rq->store, "default");
		if (rc && rc != CAIRN_EEXISTS) {
			mlf_lib_error(rs, rc);
			return false;
		}
		mlf_projects_free(ps);
		if (!mlf_projects_load(rq, rs, ps))
			return false;
		*out = mlf_project_by_exp(ps, eid, &dflt);
	}
	if (!*out && !dflt) {
		mlf_error(rs, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=%.64s exists", eid);
		return false;
	}
	return true;
}

/* --- experiment handlers ------------------------------------------------------------------------
 */

static bool name_ok(response *rs, const char *name)
{
	if (strlen(name) > MLF_EXP_NAME_MAX) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Experiment name exceeds the maximum length of %d characters",
		          MLF_EXP_NAME_MAX);
		return false;
	}
	if (cairn_key_validate(name, "experiment name") != 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE", "Invalid experiment name '%.500s': %s",
		          name, cairn_error_last());
		return false;
	}
	return true;
}

/* MLflow's Default is cairn's default project. */
static const char *project_name(const char *exp_name)
{
	return strcmp(exp_name, "Default") == 0 ? "default" : exp_name;
}

int mlf_exp_create(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	const char *name;
	const json *tags = NULL;
	mlf_projects ps = {0};
	if (!mlf_str(rs, &in, "name", true, &name) || !mlf_array(rs, &in, "tags", &tags) ||
	    !name_ok(rs, name))
		goto done;
	const char *pname = project_name(name);
	if (strcmp(pname, "default") == 0) {
		mlf_error(rs, "RESOURCE_ALREADY_EXISTS", "Experiment(name=%s) already exists.",
		          name);
		goto done;
	}
	for (const json *t = tags ? tags->child : NULL; t; t = t->next) {
		const char *k = json_get_str(t, "key"), *v = json_get_str(t, "value");
		if (!k || !v) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Missing value for required parameter 'tags[].key' or 'tags[].value'");
			goto done;
		}
		if (strlen(v) > MLF_EXP_TAG_MAX) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "Experiment tag value for '%.100s' exceeds the maximum length of %d", k,
			    MLF_EXP_TAG_MAX);
			goto done;
		}
	}
	const char *own = auth_project(rq);
	if (own && strcmp(own, pname) != 0) {
		mlf_error(rs, "PERMISSION_DENIED", "the token '%s' may use project '%s' only",
		          rq->auth.name, own);
		goto done;
	}
	int64_t id;
	int rc = cairn_project_create(&id, rq->store, pname);
	if (rc == CAIRN_EEXISTS) {
		mlf_error(rs, "RESOURCE_ALREADY_EXISTS", "Experiment(name=%s) already exists.",
		          name);
		goto done;
	}
	for (const json *t = tags ? tags->child : NULL; rc == 0 && t; t = t->next)
		rc = cairn_project_set_tag(rq->store, id, json_get_str(t, "key"),
		                           json_get_str(t, "value"));
	if (rc) {
		mlf_lib_error(rs, rc);
		goto done;
	}
	buf_printf(&rs->body, "{\"experiment_id\":\"%lld\"}", (long long)id);
	resp_json_buf(rs, 200);
done:
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

static bool visible(request *rq, const char *project)
{
	const char *own = auth_project(rq);
	return !own || strcmp(own, project) == 0;
}

int mlf_exp_get(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	const cairn_project *p;
	if (exp_project(rq, rs, &in, &ps, &p, false)) {
		if (p && !visible(rq, p->name)) {
			mlf_error(rs, "RESOURCE_DOES_NOT_EXIST",
			          "No Experiment with id=%lld exists", (long long)p->id);
		} else {
			buf_puts(&rs->body, "{\"experiment\":");
			mlf_put_experiment(&rs->body, p);
			buf_putc(&rs->body, '}');
			resp_json_buf(rs, 200);
		}
	}
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

int mlf_exp_get_by_name(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	const char *name;
	if (mlf_str(rs, &in, "experiment_name", true, &name) && mlf_projects_load(rq, rs, &ps)) {
		const char *pname = project_name(name);
		const cairn_project *p = by_name(&ps, pname);
		if ((p || strcmp(pname, "default") == 0) && visible(rq, pname)) {
			buf_puts(&rs->body, "{\"experiment\":");
			mlf_put_experiment(&rs->body, p);
			buf_putc(&rs->body, '}');
			resp_json_buf(rs, 200);
		} else {
			mlf_error(rs, "RESOURCE_DOES_NOT_EXIST",
			          "Could not find experiment with name '%.500s'", name);
		}
	}
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

/* rename, delete, restore, tags: one experiment, one change */
typedef enum { EX_RENAME, EX_DELETE, EX_RESTORE, EX_TAG, EX_UNTAG } exp_change;

static int exp_change_do(request *rq, response *rs, exp_change what)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	const cairn_project *p;
	const char *arg = NULL, *value = NULL;
	int rc = 0;
	if (what == EX_RENAME && (!mlf_str(rs, &in, "new_name", true, &arg) || !name_ok(rs, arg)))
		goto done;
	if ((what == EX_TAG || what == EX_UNTAG) && !mlf_str(rs, &in, "key", true, &arg))
		goto done;
	if (what == EX_TAG && !mlf_str(rs, &in, "value", false, &value))
		goto done;
	if (what == EX_TAG && !value) {
		mlf_missing(rs, "value");
		goto done;
	}
	if (what == EX_TAG && strlen(value) > MLF_EXP_TAG_MAX) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Experiment tag value exceeds the maximum length of %d characters",
		          MLF_EXP_TAG_MAX);
		goto done;
	}
	if (!exp_project(rq, rs, &in, &ps, &p, true))
		goto done;
	if (!visible(rq, p->name)) {
		mlf_error(rs, "PERMISSION_DENIED", "the token '%s' may use project '%s' only",
		          rq->auth.name, auth_project(rq));
		goto done;
	}
	bool dflt = strcmp(p->name, "default") == 0;
	switch (what) {
	case EX_RENAME:
		if (dflt) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Cannot rename the default experiment '0'.");
			goto done;
		}
		rc = cairn_project_rename(rq->store, p->id, project_name(arg));
		if (rc == CAIRN_EEXISTS) {
			mlf_error(rs, "RESOURCE_ALREADY_EXISTS",
			          "Experiment(name=%s) already exists.", arg);
			goto done;
		}
		break;
	case EX_DELETE:
		if (dflt) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Cannot delete the default experiment '0'. This is an internal "
			          "experiment.");
			goto done;
		}
		rc = cairn_project_set_deleted(rq->store, p->id, 1);
		break;
	case EX_RESTORE: rc = cairn_project_set_deleted(rq->store, p->id, 0); break;
	case EX_TAG:
	case EX_UNTAG:
		if (p->deleted) {
			mlf_error(
			    rs, "INVALID_PARAMETER_VALUE",
			    "The experiment %lld must be in the 'active' state. Current state is "
			    "deleted.",
			    dflt ? 0LL : (long long)p->id);
			goto done;
		}
		rc = cairn_project_set_tag(rq->store, p->id, arg, what == EX_TAG ? value : NULL);
		break;
	}
	if (rc)
		mlf_lib_error(rs, rc);
	else
		resp_json_take(rs, 200, strdup("{}"));
done:
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

int mlf_exp_update(request *rq, response *rs)
{
	return exp_change_do(rq, rs, EX_RENAME);
}
int mlf_exp_delete(request *rq, response *rs)
{
	return exp_change_do(rq, rs, EX_DELETE);
}
int mlf_exp_restore(request *rq, response *rs)
{
	return exp_change_do(rq, rs, EX_RESTORE);
}
int mlf_exp_set_tag(request *rq, response *rs)
{
	return exp_change_do(rq, rs, EX_TAG);
}
int mlf_exp_delete_tag(request *rq, response *rs)
{
	return exp_change_do(rq, rs, EX_UNTAG);
}
