/*
 * server/auth.c — who may do what on a `cairn server` (docs/internals/
 * auth.md): authenticating a request (a bearer token, or a browser
 * session's cookie), checking the scope its route asks for, the CSRF token
 * of a browser's writes, the project a token is limited to, the audit log
 * of writes, and the session and administration routes.
 *
 * Per request, in dispatch order (server.c, dispatch_table):
 *   1. auth_request: a route of scope NONE passes (it authenticates by
 *      itself, if at all); on a --no-auth server every route passes.  Else
 *      the caller is found — `Authorization: Bearer TOKEN` first, else the
 *      `cairn_session` cookie — or the answer is 401 with WWW-Authenticate;
 *      a scope below the route's is 403; a write through a session without
 *      the session's X-CSRF-Token is 403; a project-limited token naming a
 *      run of another project gets 404, the answer for a run that does not
 *      exist, so it learns nothing of other projects.
 *   2. the handler; list handlers narrow themselves to auth_project(rq).
 *   3. auth_audit: a write that passed 1 is recorded under the token's name.
 *
 * Cost: a token costs one SHA-256 and a scan of a 64-entry cache; the store
 * is asked only when the entry is older than AUTH_CACHE_TTL (http.h), so a
 * busy ingest path never waits on the store's lock to authenticate.  A
 * session (browsers only) is looked up in the store on every request.
 *
 * Thread-safety: the caches are guarded by srv->auth_mu; a request's
 * auth_ctx belongs to its thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "server/mhd.h"
#include "util/clock.h"
#include "util/evp.h"
#include "util/json.h"

#define SESSION_COOKIE "cairn_session"
#define SESSION_TTL    (12 * 3600.0)
#define TOUCH_EVERY    60.0 /* seconds between last_used updates of a token */

static const char www_auth[] = "Bearer realm=\"cairn\"";
static const char www_auth_bad[] = "Bearer realm=\"cairn\", error=\"invalid_token\"";

void auth_ctx_free(auth_ctx *a)
{
	free(a->project);
	memset(a, 0, sizeof *a);
}

const char *auth_project(const request *rq)
{
	return rq->auth.authed ? rq->auth.project : NULL;
}

static bool is_read(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

int auth_tables_check(char *err, size_t errsz)
{
	const route *tables[] = {api_v1_routes, mlflow_routes};
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const route *r = tables[t]; r->pattern; r++)
			if (!is_read(r->method) && r->scope == CAIRN_SCOPE_READ &&
			    !(r->flags & ROUTE_POST_READ)) {
				snprintf(
				    err, errsz,
				    "internal: route %s %s changes the store but asks only the "
				    "read scope",
				    r->method, r->pattern);
				return -1;
			}
	return 0;
}

void auth_server_free(server *srv)
{
	for (int i = 0; i < AUTH_CACHE_SIZE; i++)
		free(srv->auth_cache[i].project);
}

/* --- finding the caller -------------------------------------------------------- */

static int fill_ctx(auth_ctx *a, const cairn_token *t)
{
	a->authed = true;
	a->token_id = t->id;
	a->scope = t->scope;
	snprintf(a->name, sizeof a->name, "%s", t->name);
	a->project = t->project ? strdup(t->project) : NULL;
	return t->project && !a->project ? -1 : 0;
}

/* The cache: an entry whose hash matches (compared in constant time, every
 * entry) and is fresh fills a; returns true then. */
static bool cache_lookup(server *srv, const char *hash, auth_ctx *a)
{
	double now = clock_mono(), wall = clock_now();
	bool hit = false;
	pthread_mutex_lock(&srv->auth_mu);
	for (int i = 0; i < AUTH_CACHE_SIZE; i++) {
		auth_cache_ent *e = &srv->auth_cache[i];
		if (e->checked <= 0 || evp_memeq(e->hash, hash, 64) != 1)
			continue;
		if (now - e->checked > AUTH_CACHE_TTL || (e->expires > 0 && e->expires <= wall))
			break;
		a->authed = true;
		a->token_id = e->token_id;
		a->scope = e->scope;
		memcpy(a->name, e->name, sizeof a->name);
		a->project = e->project ? strdup(e->project) : NULL;
		hit = !e->project || a->project;
		break;
	}
	pthread_mutex_unlock(&srv->auth_mu);
	return hit;
}

static void cache_put(server *srv, const char *hash, const cairn_token *t)
{
	char *project = t->project ? strdup(t->project) : NULL;
	if (t->project && !project)
		return;
	pthread_mutex_lock(&srv->auth_mu);
	auth_cache_ent *slot = &srv->auth_cache[0];
	for (int i = 0; i < AUTH_CACHE_SIZE; i++) {
		auth_cache_ent *e = &srv->auth_cache[i];
		if (e->checked > 0 && strcmp(e->hash, hash) == 0) {
			slot = e;
			break;
		}
		if (e->checked < slot->checked)
			slot = e; /* the stalest (or an empty one) */
	}
	free(slot->project);
	memcpy(slot->hash, hash, 65);
	slot->checked = clock_mono();
	slot->expires = t->expires;
	slot->token_id = t->id;
	slot->scope = t->scope;
	snprintf(slot->name, sizeof slot->name, "%s", t->name);
	slot->project = project;
	pthread_mutex_unlock(&srv->auth_mu);
}

/* Forget token id (revoked through the API) at once. */
static void cache_forget(server *srv, int64_t id)
{
	pthread_mutex_lock(&srv->auth_mu);
	for (int i = 0; i < AUTH_CACHE_SIZE; i++) {
		auth_cache_ent *e = &srv->auth_cache[i];
		if (e->checked > 0 && e->token_id == id) {
			free(e->project);
			memset(e, 0, sizeof *e);
		}
	}
	pthread_mutex_unlock(&srv->auth_mu);
}

static int unauthorized(response *rs, const char *hdr, const char *fmt, const char *detail)
{
	resp_error(rs, 401, "unauthorized", fmt, detail);
	rs->www_auth = hdr;
	return -1;
}

static int by_token(request *rq, response *rs, const char *value)
{
	server *srv = rq->srv;
	if (strncasecmp(value, "Bearer ", 7) != 0)
		return unauthorized(rs, www_auth_bad, "%s",
		                    "the Authorization header must be 'Bearer TOKEN'");
	const char *tok = value + 7;
	while (*tok == ' ')
		tok++;
	char hash[65];
	if (cairn_token_hash(hash, tok) != 0)
		return unauthorized(rs, www_auth_bad, "%s",
		                    "the bearer token is not a cairn token (cairn token create)");
	if (cache_lookup(srv, hash, &rq->auth))
		return 0;
	auth_ctx_free(&rq->auth);
	cairn_token t = {0};
	if (cairn_token_verify_hash(&t, srv->store, hash) != 0) {
		int code = cairn_error_last_code();
		if (code != CAIRN_ENOTFOUND) {
			resp_lib_error(rs, code);
			return -1;
		}
		return unauthorized(rs, www_auth_bad, "%s", cairn_error_last());
	}
	int rc = fill_ctx(&rq->auth, &t);
	if (rc == 0) {
		cache_put(srv, hash, &t);
		if (clock_now() - t.last_used > TOUCH_EVERY)
			cairn_token_touch(srv->store, t.id); /* best effort: a statistic */
	} else {
		resp_error(rs, 500, "internal", "out of memory");
	}
	cairn_token_clear(&t);
	return rc;
}

static const char *session_cookie(request *rq)
{
	return mhd.lookup_connection_value(rq->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
}

/* Set-Cookie for a session id (NULL: clear the cookie). */
static void set_cookie(request *rq, response *rs, const char *sid, double ttl)
{
	char c[256];
	snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
	         SESSION_COOKIE, sid ? sid : "", sid ? (int)ttl : 0,
	         rq->srv->cfg.tls_cert_pem ? "; Secure" : "");
	free(rs->set_cookie);
	rs->set_cookie = strdup(c);
}

static int by_session(request *rq, response *rs, const char *sid)
{
	cairn_token t = {0};
	if (cairn_session_verify(&t, rq->store, sid) != 0) {
		int code = cairn_error_last_code();
		if (code != CAIRN_ENOTFOUND && code != CAIRN_EINVALID) {
			resp_lib_error(rs, code);
			return -1;
		}
		unauthorized(rs, www_auth, "%s", "the session has ended; log in again");
		set_cookie(rq, rs, NULL, 0);
		return -1;
	}
	int rc = fill_ctx(&rq->auth, &t);
	cairn_token_clear(&t);
	if (rc)
		return resp_error(rs, 500, "internal", "out of memory"), -1;
	rq->auth.via_session = true;
	snprintf(rq->auth.session, sizeof rq->auth.session, "%s", sid);
	return 0;
}

/* Fill rq->auth from the request: 0, or -1 with the answer in rs. */
static int authenticate(request *rq, response *rs)
{
	const char *h = req_header(rq, "Authorization");
	if (h)
		return by_token(rq, rs, h);
	const char *sid = session_cookie(rq);
	if (sid && *sid)
		return by_session(rq, rs, sid);
	return unauthorized(rs, www_auth, "%s",
	                    "this server needs a token: send 'Authorization: Bearer TOKEN' "
	                    "(cairn token create), or log in from the web UI");
}

/* A browser's write carries the session's CSRF token in X-CSRF-Token. */
static bool csrf_ok(request *rq, response *rs)
{
	char want[65];
	const char *got = req_header(rq, "X-CSRF-Token");
	if (cairn_session_csrf(want, rq->auth.session) == 0 && got && strlen(got) == 64 &&
	    evp_memeq(want, got, 64) == 1)
		return true;
	resp_error(rs, 403, "csrf",
	           "%s %s from a browser session needs the session's X-CSRF-Token header "
	           "(GET /api/v1/session gives it)",
	           rq->method, rq->url);
	return false;
}

/* --- projects ----------------------------------------------------------------------- */

bool auth_run_visible(request *rq, response *rs, const char *id)
{
	const char *p = auth_project(rq);
	if (!p || !id)
		return true;
	cairn_run *run = NULL;
	int rc = run_cache_get(rq->srv, id, &run);
	if (rc) {
		resp_lib_error(rs, rc);
		return false;
	}
	bool same = strcmp(cairn_run_project(run), p) == 0;
	run_cache_release(rq->srv, run);
	if (!same)
		resp_error(rs, 404, "not_found", "no run '%.100s'", id);
	return same;
}

/* The runs a route names: the {run} of /api/v1/runs/{run}..., or ?a= and
 * ?b= of the diffs. */
static bool route_runs_visible(request *rq, response *rs, const route *r)
{
	if (!auth_project(rq))
		return true;
	if (strncmp(r->pattern, "/api/v1/runs/{run}", 18) == 0)
		return auth_run_visible(rq, rs, rq->params[0]);
	if (strncmp(r->pattern, "/api/v1/diff", 12) == 0) {
		/* diff/code and diff/data compare paths of runs (RUN:PATH) */
		const char *args[] = {"a", "b"};
		for (int i = 0; i < 2; i++) {
			const char *v = req_arg(rq, args[i]);
			if (!v || strlen(v) > 200)
				continue; /* the handler refuses it */
			char id[201];
			snprintf(id, sizeof id, "%s", v);
			char *colon = strchr(id, ':');
			if (colon)
				*colon = '\0';
			if (!auth_run_visible(rq, rs, id))
				return false;
		}
	}
	return true;
}

bool auth_request(request *rq, response *rs, const route *r)
{
	if (!rq->srv->cfg.auth || r->scope == CAIRN_SCOPE_NONE)
		return true;
	if (authenticate(rq, rs) != 0)
		return false;
	if (rq->auth.scope < r->scope) {
		resp_error(rs, 403, "forbidden", "the token '%s' has the %s scope; %s %s needs %s",
		           rq->auth.name, cairn_scope_name(rq->auth.scope), rq->method, r->pattern,
		           cairn_scope_name(r->scope));
		return false;
	}
	if (rq->auth.via_session && !is_read(rq->method) && !csrf_ok(rq, rs))
		return false;
	return route_runs_visible(rq, rs, r);
}

/* --- the audit log ---------------------------------------------------------------------- */

/* Has this token's batch to this run been audited in the last
 * AUDIT_COALESCE_S seconds?  Records it when not. */
static bool recently_audited(server *srv, int64_t token, const char *key)
{
	double now = clock_mono();
	bool seen = false;
	pthread_mutex_lock(&srv->auth_mu);
	audit_coalesce_ent *slot = &srv->audit_recent[0];
	for (int i = 0; i < AUDIT_COALESCE_SIZE; i++) {
		audit_coalesce_ent *e = &srv->audit_recent[i];
		if (e->at > 0 && e->token_id == token && strcmp(e->key, key) == 0) {
			seen = now - e->at < AUDIT_COALESCE_S;
			slot = e;
			break;
		}
		if (e->at < slot->at)
			slot = e;
	}
	if (!seen) {
		slot->token_id = token;
		snprintf(slot->key, sizeof slot->key, "%s", key);
		slot->at = now;
	}
	pthread_mutex_unlock(&srv->auth_mu);
	return seen;
}

void auth_audit(request *rq, const response *rs, const route *r)
{
	if (!rq->auth.authed || is_read(rq->method) || r->scope == CAIRN_SCOPE_NONE ||
	    (r->flags & ROUTE_POST_READ))
		return;
	/* batches (metrics, heartbeats, the remote backend's writes) are
	 * audited once per token, route and run or op a minute */
	if ((r->fn == h_metrics_log || r->fn == h_heartbeat || r->fn == h_store_write) &&
	    rs->status < 400) {
		char key[CAIRN_RUN_ID_HEXSZ + 16];
		snprintf(key, sizeof key, "%c:%.40s",
		         r->fn == h_metrics_log ? 'm'
		         : r->fn == h_heartbeat ? 'h'
		                                : 'w',
		         rq->params[0]);
		if (recently_audited(rq->srv, rq->auth.token_id, key))
			return;
	}
	/* A failure to audit is reported, never hidden; the write itself stands. */
	if (cairn_audit_record(rq->store, rq->auth.name, rq->method, rq->url, rs->status))
		fprintf(stderr, "error: cannot record %s %s in the audit log: %s\n", rq->method,
		        rq->url, cairn_error_last());
}

int h_audit(request *rq, response *rs)
{
	int64_t limit = 100;
	if (!parse_int_arg(rq, rs, "limit", 1, 10000, &limit))
		return 0;
	char *out = NULL;
	int rc = cairn_audit_list_json(&out, rq->store, limit);
	if (rc)
		return resp_lib_error(rs, rc);
	buf_puts(&rs->body, "{\"audit\":");
	buf_puts(&rs->body, out);
	buf_putc(&rs->body, '}');
	cairn_free(out);
	return resp_json_buf(rs, 200);
}

/* --- the browser's session ------------------------------------------------------------- */

/* {"auth": true, "name", "scope", "project", "csrf"} of the caller. */
static int whoami(request *rq, response *rs, int status)
{
	bool f = true;
	buf *b = &rs->body;
	buf_clear(b);
	buf_putc(b, '{');
	json_key(b, &f, "auth");
	buf_puts(b, "true");
	json_key(b, &f, "name");
	json_str(b, rq->auth.name);
	json_key(b, &f, "scope");
	json_str(b, cairn_scope_name(rq->auth.scope));
	json_key(b, &f, "project");
	if (rq->auth.project)
		json_str(b, rq->auth.project);
	else
		buf_puts(b, "null");
	json_key(b, &f, "csrf");
	char csrf[65];
	if (rq->auth.via_session && cairn_session_csrf(csrf, rq->auth.session) == 0)
		json_str(b, csrf);
	else
		buf_puts(b, "null");
	buf_putc(b, '}');
	return resp_json_buf(rs, status);
}

static int no_auth(response *rs)
{
	buf_puts(&rs->body, "{\"auth\":false}");
	return resp_json_buf(rs, 200);
}

int h_session_get(request *rq, response *rs)
{
	if (!rq->srv->cfg.auth)
		return no_auth(rs);
	if (authenticate(rq, rs) != 0)
		return 0;
	return whoami(rq, rs, 200);
}

int h_session_login(request *rq, response *rs)
{
	if (!rq->srv->cfg.auth)
		return no_auth(rs);
	json_doc *doc;
	if (!parse_body(rq, rs, &doc))
		return 0;
	const json *root = json_root(doc);
	const char *tok = root && root->type == JSON_OBJ ? json_get_str(root, "token") : NULL;
	cairn_token t = {0};
	char sid[CAIRN_SESSION_HEXSZ + 1];
	if (!tok) {
		resp_error(rs, 400, "bad_request", "the body must be {\"token\": \"cairn_...\"}");
	} else if (cairn_token_verify(&t, rq->store, tok) != 0) {
		int code = cairn_error_last_code();
		if (code == CAIRN_ENOTFOUND || code == CAIRN_EINVALID)
			unauthorized(rs, www_auth_bad, "cannot log in: %s", cairn_error_last());
		else
			resp_lib_error(rs, code);
	} else if (cairn_session_create(sid, rq->store, t.id, SESSION_TTL) != 0) {
		resp_lib_error(rs, cairn_error_last_code());
	} else if (fill_ctx(&rq->auth, &t) != 0) {
		cairn_session_delete(rq->store, sid);
		resp_error(rs, 500, "internal", "out of memory");
	} else {
		rq->auth.via_session = true;
		memcpy(rq->auth.session, sid, sizeof sid);
		set_cookie(rq, rs, sid, SESSION_TTL);
		whoami(rq, rs, 200);
		if (cairn_audit_record(rq->store, t.name, "POST", rq->path, 200))
			fprintf(stderr, "error: cannot record a login in the audit log: %s\n",
			        cairn_error_last());
	}
	memset(sid, 0, sizeof sid);
	cairn_token_clear(&t);
	json_doc_free(doc);
	return 0;
}

int h_session_logout(request *rq, response *rs)
{
	const char *sid = session_cookie(rq);
	if (rq->srv->cfg.auth && sid && *sid) {
		/* Only the page holding the session may end it. */
		snprintf(rq->auth.session, sizeof rq->auth.session, "%s", sid);
		if (!csrf_ok(rq, rs))
			return 0;
		int rc = cairn_session_delete(rq->store, sid);
		if (rc && rc != CAIRN_EINVALID)
			return resp_lib_error(rs, rc);
	}
	set_cookie(rq, rs, NULL, 0);
	buf_puts(&rs->body, "{\"auth\":false}");
	return resp_json_buf(rs, 200);
}

/* --- tokens through the API (admin) ------------------------------------------------------ */

int h_tokens_list(request *rq, response *rs)
{
	cairn_token *v = NULL;
	size_t n = 0;
	int rc = cairn_token_list(&v, &n, rq->store);
	if (rc)
		return resp_lib_error(rs, rc);
	buf *b = &rs->body;
	buf_puts(b, "{\"tokens\":[");
	for (size_t i = 0; i < n; i++) {
		bool f = true;
		buf_puts(b, i ? ",{" : "{");
		json_key(b, &f, "id");
		json_int(b, v[i].id);
		json_key(b, &f, "name");
		json_str(b, v[i].name);
		json_key(b, &f, "scope");
		json_str(b, cairn_scope_name(v[i].scope));
		json_key(b, &f, "project");
		if (v[i].project)
			json_str(b, v[i].project);
		else
			buf_puts(b, "null");
		const char *times[] = {"created", "expires", "last_used", "revoked"};
		double vals[] = {v[i].created, v[i].expires, v[i].last_used, v[i].revoked};
		for (int k = 0; k < 4; k++) {
			json_key(b, &f, times[k]);
			if (vals[k] > 0)
				json_num(b, vals[k]);
			else
				buf_puts(b, "null");
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	cairn_token_list_free(v, n);
	return resp_json_buf(rs, 200);
}

int h_token_revoke(request *rq, response *rs)
{
	cairn_token t = {0};
	int rc = cairn_token_revoke(rq->store, rq->params[0], &t);
	if (rc)
		return resp_lib_error(rs, rc);
	cache_forget(rq->srv, t.id);
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "revoked");
	json_str(&rs->body, t.name);
	buf_putc(&rs->body, '}');
	cairn_token_clear(&t);
	return resp_json_buf(rs, 200);
}
