/*
 * server/api.c — the native JSON API under /api/v1/ (docs/http-api.md): its
 * route tables, the helpers its handlers share, the info / projects /
 * columns handlers, and the cache of run handles used by remote logging.
 * Reads are in api-read.c, writes in api-write.c (declared in api.h).
 *
 * Handlers read their arguments (path captures, query string, JSON body),
 * call the public library API, and fill the response; library errors map to
 * statuses in resp_lib_error (400 bad input, 404 unknown, 409 conflict, 413
 * too large, 500 only for real faults).  Writes validate the whole request
 * before changing anything, so a bad request leaves the store unchanged.
 *
 * Thread-safety: handlers run on libmicrohttpd's pool threads; the store is
 * thread-safe; the run cache is guarded by srv->cache_mu, and a handle in use
 * (refs > 0) is never freed.
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
#include "server/range.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/sha.h"

/* --- the run cache ----------------------------------------------------------- */

static run_cache_ent *cache_find(server *srv, const char *full)
{
	for (int i = 0; i < RUN_CACHE_SIZE; i++)
		if (srv->cache[i].run && strcmp(srv->cache[i].id, full) == 0)
			return &srv->cache[i];
	return NULL;
}

int run_cache_get(server *srv, const char *id, cairn_run **out)
{
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	*out = NULL;
	/* A full id hits the cache without touching the store (whose lock the
	 * metrics flusher may hold for a while). */
	if (hex_is(id, CAIRN_RUN_ID_HEXSZ)) {
		pthread_mutex_lock(&srv->cache_mu);
		run_cache_ent *e = cache_find(srv, id);
		if (e) {
			e->refs++;
			e->used = ++srv->cache_clock;
			*out = e->run;
			pthread_mutex_unlock(&srv->cache_mu);
			return 0;
		}
		pthread_mutex_unlock(&srv->cache_mu);
	}
	int rc = cairn_run_resolve(full, srv->store, id);
	if (rc)
		return rc;
	pthread_mutex_lock(&srv->cache_mu);
	run_cache_ent *e = cache_find(srv, full);
	if (e) {
		e->refs++;
		e->used = ++srv->cache_clock;
		*out = e->run;
		pthread_mutex_unlock(&srv->cache_mu);
		return 0;
	}
	pthread_mutex_unlock(&srv->cache_mu);
	cairn_run *run = NULL;
	if ((rc = cairn_run_open(&run, srv->store, full)) != 0)
		return rc;
	pthread_mutex_lock(&srv->cache_mu);
	e = cache_find(srv, full); /* another thread may have opened it meanwhile */
	if (e) {
		e->refs++;
		e->used = ++srv->cache_clock;
		*out = e->run;
		pthread_mutex_unlock(&srv->cache_mu);
		cairn_run_free(run);
		return 0;
	}
	run_cache_ent *victim = NULL;
	for (int i = 0; i < RUN_CACHE_SIZE; i++) {
		run_cache_ent *c = &srv->cache[i];
		if (!c->run) {
			victim = c;
			break;
		}
		if (c->refs == 0 && (!victim || c->used < victim->used))
			victim = c;
	}
	cairn_run *evicted = NULL;
	if (victim) {
		evicted = victim->run;
		memcpy(victim->id, full, sizeof full);
		victim->run = run;
		victim->refs = 1;
		victim->used = ++srv->cache_clock;
	}
	/* With every slot busy the handle stays uncached; release frees it. */
	pthread_mutex_unlock(&srv->cache_mu);
	cairn_run_free(evicted);
	*out = run;
	return 0;
}

void run_cache_release(server *srv, cairn_run *run)
{
	if (!run)
		return;
	pthread_mutex_lock(&srv->cache_mu);
	for (int i = 0; i < RUN_CACHE_SIZE; i++) {
		if (srv->cache[i].run == run) {
			srv->cache[i].refs--;
			pthread_mutex_unlock(&srv->cache_mu);
			return;
		}
	}
	pthread_mutex_unlock(&srv->cache_mu);
	cairn_run_free(run);
}

/* Forget a run's handle (after the run is deleted) if no request uses it. */
void run_cache_forget(server *srv, const char *full)
{
	cairn_run *run = NULL;
	pthread_mutex_lock(&srv->cache_mu);
	run_cache_ent *e = cache_find(srv, full);
	if (e && e->refs == 0) {
		run = e->run;
		memset(e, 0, sizeof *e);
	}
	pthread_mutex_unlock(&srv->cache_mu);
	cairn_run_free(run);
}

void run_cache_clear(server *srv)
{
	for (int i = 0; i < RUN_CACHE_SIZE; i++) {
		cairn_run_free(srv->cache[i].run);
		memset(&srv->cache[i], 0, sizeof srv->cache[i]);
	}
}

/* --- small helpers -------------------------------------------------------------- */

const char *run_param(request *rq)
{
	return rq->params[0];
}

/* Parse the JSON body into *doc, or answer 400. */
bool parse_body(request *rq, response *rs, json_doc **doc)
{
	char err[256];
	*doc = body_parse(rq->body.ptr, rq->body.len, rq->srv->cfg.max_body, err, sizeof err);
	if (!*doc) {
		resp_error(rs, 400, "bad_request", "%s", err);
		return false;
	}
	return true;
}

/* A body decoder's failure (body.h): 413 over a per-request cap, else 400. */
int body_fail(response *rs, int rc, const char *err)
{
	if (rc == BODY_ETOOMANY)
		return resp_error(rs, 413, "too_large", "%s", err);
	return resp_error(rs, 400, "bad_request", "%s", err);
}

bool parse_int_arg(request *rq, response *rs, const char *name, int64_t lo, int64_t hi,
                   int64_t *out)
{
	const char *v = req_arg(rq, name);
	if (!v)
		return true;
	char *end;
	long long x = strtoll(v, &end, 10);
	if (!*v || *end || x < lo || x > hi) {
		resp_error(rs, 400, "bad_request",
		           "argument '%s' must be an integer from %lld to %lld", name,
		           (long long)lo, (long long)hi);
		return false;
	}
	*out = x;
	return true;
}

bool flag_arg(request *rq, const char *name)
{
	const char *v = req_arg(rq, name);
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "") == 0);
}

bool get_run_rec(request *rq, response *rs, const char *id, unsigned flags, cairn_run_record **out)
{
	int rc = cairn_run_record_get(out, rq->store, id, flags);
	if (rc) {
		resp_lib_error(rs, rc);
		return false;
	}
	return true;
}

/* --- info, projects, columns ---------------------------------------------------------- */

int h_info(request *rq, response *rs)
{
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "name");
	json_str(&rs->body, "cairn");
	json_key(&rs->body, &f, "version");
	json_str(&rs->body, cairn_version());
	json_key(&rs->body, &f, "store");
	json_str(&rs->body, cairn_store_path(rq->store));
	json_key(&rs->body, &f, "api");
	json_str(&rs->body, "v1");
	json_key(&rs->body, &f, "store_wire");
	json_int(&rs->body, CAIRN_STORE_WIRE_VERSION);
	buf_putc(&rs->body, '}');
	return resp_json_buf(rs, 200);
}

int h_projects(request *rq, response *rs)
{
	char *out = NULL;
	int rc = cairn_project_list_json(&out, rq->store);
	if (rc)
		return resp_lib_error(rs, rc);
	const char *own = auth_project(rq);
	buf_puts(&rs->body, "{\"projects\":");
	if (!own) {
		buf_puts(&rs->body, out);
	} else {
		/* A token limited to a project sees that one only. */
		char err[128];
		json_doc *d = json_parse(out, strlen(out), NULL, err, sizeof err);
		const json *root = d ? json_root(d) : NULL;
		buf_putc(&rs->body, '[');
		for (const json *p = root ? root->child : NULL; p; p = p->next) {
			const json *name = json_get(p, "name");
			if (name && name->type == JSON_STR && strcmp(name->str, own) == 0) {
				const json *n = json_get(p, "runs"), *c = json_get(p, "created");
				bool f = true;
				buf_putc(&rs->body, '{');
				json_key(&rs->body, &f, "name");
				json_str(&rs->body, own);
				json_key(&rs->body, &f, "runs");
				json_int(&rs->body, n && n->type == JSON_NUM ? n->i : 0);
				json_key(&rs->body, &f, "created");
				json_num(&rs->body, c && c->type == JSON_NUM ? c->num : 0);
				buf_putc(&rs->body, '}');
			}
		}
		buf_putc(&rs->body, ']');
		json_doc_free(d);
	}
	buf_putc(&rs->body, '}');
	cairn_free(out);
	return resp_json_buf(rs, 200);
}

int h_columns(request *rq, response *rs)
{
	const char *project;
	if (!req_arg_checked(rq, rs, "project", &project))
		return 0;
	if (project && !*project)
		project = NULL;
	const char *own = auth_project(rq);
	if (own && project && strcmp(project, own) != 0)
		project = "\x01"; /* no project has this name: no runs, no columns */
	else if (own)
		project = own;
	char *out = NULL;
	int rc = cairn_run_columns_json(&out, rq->store, project);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* --- the route tables ---
 * Every route names the scope a token needs for it (http.h, route): read
 * for GET, write for a change, admin for administration, none only for the
 * session routes, which authenticate by themselves.  server/auth.c checks
 * at start that no write route asks less than
 * write.------------------------------------------------------------- */

const route api_v1_routes[] = {
    {"GET", "/api/v1/", CAIRN_SCOPE_READ, h_info, 0},
    {"GET", "/api/v1/projects", CAIRN_SCOPE_READ, h_projects, 0},
    {"GET", "/api/v1/columns", CAIRN_SCOPE_READ, h_columns, 0},
    {"GET", "/api/v1/runs", CAIRN_SCOPE_READ, h_runs_list, 0},
    {"POST", "/api/v1/runs", CAIRN_SCOPE_WRITE, h_run_create, 0},
    {"GET", "/api/v1/runs/{run}", CAIRN_SCOPE_READ, h_run_get, 0},
    {"DELETE", "/api/v1/runs/{run}", CAIRN_SCOPE_WRITE, h_run_delete, 0},
    {"GET", "/api/v1/runs/{run}/metrics/{*}", CAIRN_SCOPE_READ, h_metric, 0},
    {"POST", "/api/v1/runs/{run}/metrics", CAIRN_SCOPE_WRITE, h_metrics_log, 0},
    {"POST", "/api/v1/runs/{run}/params", CAIRN_SCOPE_WRITE, h_params_log, 0},
    {"POST", "/api/v1/runs/{run}/properties", CAIRN_SCOPE_WRITE, h_properties, 0},
    {"POST", "/api/v1/runs/{run}/finish", CAIRN_SCOPE_WRITE, h_finish, 0},
    {"POST", "/api/v1/runs/{run}/heartbeat", CAIRN_SCOPE_WRITE, h_heartbeat, 0},
    {"GET", "/api/v1/runs/{run}/artifacts", CAIRN_SCOPE_READ, h_artifacts, 0},
    {"GET", "/api/v1/runs/{run}/artifacts/{*}", CAIRN_SCOPE_READ, h_artifact_get, 0},
    {"GET", "/api/v1/runs/{run}/manifests/{*}", CAIRN_SCOPE_READ, h_manifest, 0},
    {"GET", "/api/v1/runs/{run}/code", CAIRN_SCOPE_READ, h_code, 0},
    {"POST", "/api/v1/runs/{run}/tags", CAIRN_SCOPE_WRITE, h_tags_add, 0},
    {"DELETE", "/api/v1/runs/{run}/tags/{*}", CAIRN_SCOPE_WRITE, h_tag_remove, 0},
    {"PUT", "/api/v1/runs/{run}/note", CAIRN_SCOPE_WRITE, h_note_set, 0},
    {"POST", "/api/v1/runs/{run}/note", CAIRN_SCOPE_WRITE, h_note_set, 0},
    {"DELETE", "/api/v1/runs/{run}/note", CAIRN_SCOPE_WRITE, h_note_clear, 0},
    {"GET", "/api/v1/query", CAIRN_SCOPE_READ, h_query_check, 0},
    {"GET", "/api/v1/diff", CAIRN_SCOPE_READ, h_diff, 0},
    {"GET", "/api/v1/diff/code", CAIRN_SCOPE_READ, h_diff_code, 0},
    {"GET", "/api/v1/diff/data", CAIRN_SCOPE_READ, h_diff_data, 0},
    /* the browser's session (server/auth.c): logging in needs no token */
    {"GET", "/api/v1/session", CAIRN_SCOPE_NONE, h_session_get, 0},
    {"POST", "/api/v1/session", CAIRN_SCOPE_NONE, h_session_login, 0},
    {"DELETE", "/api/v1/session", CAIRN_SCOPE_NONE, h_session_logout, 0},
    /* administration */
    {"GET", "/api/v1/audit", CAIRN_SCOPE_ADMIN, h_audit, 0},
    {"GET", "/api/v1/tokens", CAIRN_SCOPE_ADMIN, h_tokens_list, 0},
    {"DELETE", "/api/v1/tokens/{token}", CAIRN_SCOPE_ADMIN, h_token_revoke, 0},
    /* the remote backend (api-store.c, docs/internals/remote.md) */
    {"POST", "/api/v1/store/r/{op}", CAIRN_SCOPE_READ, h_store_read, ROUTE_POST_READ},
    {"POST", "/api/v1/store/w/{op}", CAIRN_SCOPE_WRITE, h_store_write, ROUTE_KEY_AFTER},
    {"GET", "/api/v1/objects/{oid}", CAIRN_SCOPE_READ, h_object_get, 0},
    {"PUT", "/api/v1/objects/{oid}", CAIRN_SCOPE_WRITE, h_object_put, ROUTE_KEY_AFTER},
    {NULL, NULL, CAIRN_SCOPE_NONE, NULL, 0},
};

/* MLflow's REST API (/api/2.0/mlflow/...): its table is in mlflow-routes.c. */
