/*
 * server/server.c — libmicrohttpd glue: starting and stopping the daemon,
 * the life of one request (headers, capped body, dispatch, response) and
 * the embedded web UI's files (the answer helpers are in server/resp.c).
 *
 * Request life: libmicrohttpd calls on_request first with the headers (we
 * allocate the request and refuse a declared body over the cap with 413),
 * then once per body chunk (appended up to the cap; past it the rest is
 * discarded and the request answered 413), then a last time with no data,
 * when the request is dispatched: /api/v1/ to the native API's route table,
 * /api/2.0/mlflow/ to the MLflow table, anything else to the embedded UI.
 * on_completed frees the request.
 *
 * Safety: bodies are capped (max_body); idle connections time out
 * (timeout_s) and their number is bounded; when bound to loopback, requests
 * whose Host is not a loopback name are refused (a web page cannot reach the
 * API through DNS rebinding); a write (POST, PUT, PATCH, DELETE) is refused
 * when its Origin or Sec-Fetch-Site says another site's page sent it, and
 * needs Content-Type: application/json even without a body, which no
 * cross-site page can send without a CORS preflight that is never granted
 * (write_allowed); user content (artifact files) is served with a
 * sandboxing Content-Security-Policy.
 *
 * Thread-safety: libmicrohttpd runs a pool of threads; a request belongs to
 * one thread; the shared server object is read-only after start except the
 * run cache and the read pool (server/pool.c: a read's handler runs on a
 * reader of its own), which have their own mutexes.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/api.h"
#include "server/http.h"
#include "server/mhd.h"
#include "server/mlflow.h"
#include "server/web-assets.h"
#include "util/clock.h"
#include "util/json.h"

/* --- routing --------------------------------------------------------------- */

bool route_match(const char *pattern, const char *path, request *rq)
{
	const char *p = pattern, *s = path;
	int n = 0;
	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				return false;
			if (p[1] == '*') {
				/* the rest of the path, at least one byte */
				if (!*s || n >= ROUTE_MAX_PARAMS)
					return false;
				rq->params[n++] = s;
				rq->nparams = n;
				return close[1] == '\0';
			}
			const char *e = strchr(s, '/');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			if (len == 0 || n >= ROUTE_MAX_PARAMS)
				return false;
			rq->params[n++] = s; /* terminated below, after the whole match */
			s += len;
			p = close + 1;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*s)
		return false;
	rq->nparams = n;
	return true;
}

/* Copies of single-segment params are cut at their '/'; the rest-param keeps
 * its slashes.  Captures point into rq->path, so cut a private copy. */
static char *dup_path_for_params(const char *path)
{
	return strdup(path);
}

static void terminate_params(request *rq, const char *pattern)
{
	/* Segment params end at the next '/' in the private path copy. */
	int i = 0;
	for (const char *p = pattern; *p && i < rq->nparams; p++) {
		if (*p != '{')
			continue;
		if (p[1] != '*') {
			char *e = strchr((char *)rq->params[i], '/');
			if (e)
				*e = '\0';
		}
		i++;
	}
}

/* --- cross-site request forgery ------------------------------------------------ */

static bool is_write(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	       strcmp(method, "DELETE") == 0 || strcmp(method, "PATCH") == 0;
}

/* "application/json" (or the store protocol's application/x-cairn: no
 * more a simple cross-site type than JSON), alone or with parameters ("; charset=utf-8"), in any
 * case; not "application/jsonp" nor "text/plain". */
static bool is_json_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strncasecmp(ct, "application/json", 16) == 0 ? 16
	           : strncasecmp(ct, CAIRN_STORE_WIRE_TYPE, strlen(CAIRN_STORE_WIRE_TYPE)) == 0
	               ? strlen(CAIRN_STORE_WIRE_TYPE)
	               : 0;
	if (!n)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Origin is "scheme://host[:port]"; the server's own origin is the one its
 * pages were loaded from, i.e. the Host the browser addressed (the Host
 * check has already refused foreign names on loopback). */
static bool origin_is_own(const char *origin, const char *host)
{
	const char *p;
	if (strncasecmp(origin, "http://", 7) == 0)
		p = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		p = origin + 8;
	else
		return false; /* "null" (sandboxed frames, data: and file: pages), other schemes */
	return host && *host && strcasecmp(p, host) == 0;
}

/* A state-changing request must come from the UI's own page or from a client
 * that is not a web page (curl, the Python binding, a script).  A page of
 * another site can make the browser send a "simple" cross-site request (a
 * form, a no-cors fetch) without asking anyone: its method may be POST, but
 * its Content-Type can only be text/plain, form-urlencoded or multipart, and
 * it carries the page's Origin and Sec-Fetch-Site.  So a write is refused
 *   - 403 when Origin is present and is not the server's own origin, or
 *     Sec-Fetch-Site is present and is neither "same-origin" nor "none"
 *     (what browsers send for requests the user typed or bookmarked);
 *   - 415 unless it says Content-Type: application/json, with or without a
 *     body: that type makes a cross-site request non-simple, so the browser
 *     first asks with a CORS preflight, which this server never grants.
 * Either check alone stops today's browsers; both together also cover
 * browsers that omit one of the headers.  Reads are not checked: the
 * same-origin policy keeps their answers from other sites' scripts. */
static bool write_allowed(request *rq, response *rs)
{
	const char *origin = req_header(rq, "Origin");
	const char *site = req_header(rq, "Sec-Fetch-Site");
	if (origin && !origin_is_own(origin, req_header(rq, "Host"))) {
		resp_error(rs, 403, "forbidden",
		           "%s %s from the page of another origin (%.100s) is refused; only the "
		           "UI's own pages and non-browser clients may change the store",
		           rq->method, rq->path, origin);
		return false;
	}
	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0) {
		resp_error(rs, 403, "forbidden",
		           "%s %s from a %.40s page is refused; only the UI's own pages and "
		           "non-browser clients may change the store",
		           rq->method, rq->path, site);
		return false;
	}
	/* MLflow's artifact uploads carry the file's bytes, not JSON; PUT and
	 * DELETE are never simple cross-site requests (a page cannot send them
	 * without a CORS preflight, never granted), so the type is not needed
	 * to refuse forged ones there. */
	bool mlflow_file = strncmp(rq->path, "/api/2.0/mlflow-artifacts/", 26) == 0 &&
	                   (strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "DELETE") == 0);
	if (!mlflow_file && !is_json_type(req_header(rq, "Content-Type"))) {
		resp_error(rs, 415, "unsupported_media_type",
		           "%s needs Content-Type: application/json (also without a body)",
		           rq->method);
		return false;
	}
	return true;
}

int server_dispatch_table(request *rq, response *rs, const route *table, const char *what)
{
	char allow[64] = "";
	bool path_seen = false;
	for (const route *r = table; r && r->pattern; r++) {
		request probe = *rq;
		if (!route_match(r->pattern, rq->path, &probe))
			continue;
		if (strcmp(r->method, rq->method) != 0 &&
		    !(strcmp(r->method, "GET") == 0 && strcmp(rq->method, "HEAD") == 0)) {
			path_seen = true;
			if (strlen(allow) + strlen(r->method) + 3 < sizeof allow &&
			    !strstr(allow, r->method))
				snprintf(allow + strlen(allow), sizeof allow - strlen(allow),
				         "%s%s", allow[0] ? ", " : "", r->method);
			continue;
		}
		rq->nparams = probe.nparams;
		memcpy(rq->params, probe.params, sizeof rq->params);
		terminate_params(rq, r->pattern);
		if (!auth_request(rq, rs, r))
			return 0;
		if (is_write(rq->method) && !write_allowed(rq, rs))
			return 0;
		if (is_write(rq->method) && idem_replay(rq, rs))
			return 0;
		/* reads on a reader of the pool (pool.c), writes on the writer */
		bool reads = !is_write(rq->method) || (r->flags & ROUTE_POST_READ);
		if (reads)
			rq->store = pool_lease(rq->srv, rq);
		int rc = !reads && !(r->flags & ROUTE_KEY_AFTER) ? idem_write(rq, rs, r->fn)
		                                                 : r->fn(rq, rs);
		if (reads) {
			pool_release(rq->srv, rq->store);
			rq->store = rq->srv->store;
		} else {
			pool_wrote(rq->srv, rq);
		}
		if (is_write(rq->method))
			idem_remember(rq, rs);
		auth_audit(rq, rs, r);
		return rc;
	}
	if (path_seen) {
		static _Thread_local char allow_hdr[64];
		snprintf(allow_hdr, sizeof allow_hdr, "%s", allow);
		rs->allow = allow_hdr;
		return resp_error(rs, 405, "method_not_allowed", "%s %s is not allowed (use %s)",
		                  rq->method, rq->path, allow);
	}
	return resp_error(rs, 404, "not_found", "no %s endpoint %s", what, rq->path);
}

/* --- the embedded web UI -------------------------------------------------- */

static const web_asset *asset_find(const char *path)
{
	for (size_t i = 0; i < web_nassets; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

static int serve_asset(request *rq, response *rs)
{
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		rs->allow = "GET, HEAD";
		return resp_error(rs, 405, "method_not_allowed", "%s is not allowed here",
		                  rq->method);
	}
	const web_asset *a = asset_find(rq->path);
	if (!a) {
		/* Client-side routes (/runs, /run/ID, /compare) get the app's page;
		 * a missing file (a name with a dot in its last segment) is a 404. */
		const char *last = strrchr(rq->path, '/');
		if (last && strchr(last, '.'))
			return resp_error(rs, 404, "not_found", "no file %s", rq->path);
		a = asset_find("/index.html");
		if (!a)
			return resp_error(rs, 404, "not_found", "this build has no web UI");
	}
	rs->status = 200;
	rs->content_type = a->type;
	rs->static_data = a->data;
	rs->static_len = a->len;
	rs->cache = "no-cache";
	snprintf(rs->etag, sizeof rs->etag, "\"%s\"", a->etag);
	const char *inm = req_header(rq, "If-None-Match");
	if (inm && strcmp(inm, rs->etag) == 0) {
		rs->status = 304;
		rs->static_data = NULL;
		rs->static_len = 0;
	}
	return 0;
}

/* --- dispatch ------------------------------------------------------------------ */

/* With a loopback listener, refuse Hosts that are not loopback names: a page
 * of another site resolving its own name to 127.0.0.1 (DNS rebinding) would
 * otherwise reach the API. */
static bool host_allowed(request *rq)
{
	if (!rq->srv->loopback)
		return true;
	const char *h = req_header(rq, "Host");
	if (!h)
		return true; /* HTTP/1.0 without Host: not a browser */
	char name[256];
	size_t n = strlen(h);
	if (n >= sizeof name)
		return false;
	memcpy(name, h, n + 1);
	if (name[0] == '[') {
		char *e = strchr(name, ']');
		if (!e)
			return false;
		*e = '\0';
		return strcmp(name + 1, "::1") == 0;
	}
	char *colon = strchr(name, ':');
	if (colon)
		*colon = '\0';
	return server_host_is_loopback(name);
}

static int dispatch(request *rq, response *rs)
{
	if (!host_allowed(rq))
		return resp_error(rs, 400, "bad_host",
		                  "Host '%.100s' is not a loopback name; this server only answers "
		                  "requests addressed to localhost",
		                  req_header(rq, "Host"));
	if (rq->body_too_big)
		return resp_error(rs, 413, "too_large", "request body over %zu bytes",
		                  rq->srv->cfg.max_body);
	if (mlf_path(rq->path))
		return mlf_dispatch(rq, rs); /* /ajax-api/2.0/, /health, /version too */
	if (strncmp(rq->path, "/api/", 5) == 0) {
		if (strncmp(rq->path, "/api/v1/", 8) == 0)
			return server_dispatch_table(rq, rs, api_v1_routes, "API");
		if (mlf_path(rq->path))
			return mlf_dispatch(rq, rs);
		return resp_error(rs, 404, "not_found",
		                  "no API at %s (the native API is under /api/v1/)", rq->path);
	}
	return serve_asset(rq, rs);
}

/* --- libmicrohttpd callbacks ------------------------------------------------- */

static const char csp_app[] = "default-src 'self'; img-src 'self' data: blob:; "
                              "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                              "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                              "form-action 'none'";
static const char csp_sandbox[] = "sandbox; default-src 'none'; img-src 'self' data:; "
                                  "style-src 'unsafe-inline'; frame-ancestors 'self'";

void content_disposition(char *out, size_t n, const char *disposition, const char *filename)
{
	/* The file name is the artifact's base name, quoted; quotes and
	 * control bytes cannot break the header (replaced by '_'). */
	char name[256] = "";
	if (filename) {
		size_t j = 0;
		for (const char *p = filename; *p && j + 1 < sizeof name; p++)
			name[j++] =
			    ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f)
			        ? '_'
			        : *p;
		name[j] = '\0';
	}
	snprintf(out, n, "%s; filename=\"%s\"", disposition, name);
}

static enum MHD_Result send_response(request *rq, response *rs)
{
	struct MHD_Response *r;
	if (rs->fd >= 0) {
		r = mhd.create_response_from_fd_at_offset64(rs->fd_size, rs->fd, rs->fd_offset);
		if (r)
			rs->fd = -1; /* owned by the response now */
	} else if (rs->static_data || rs->status == 304) {
		r = mhd.create_response_from_buffer(rs->static_len, (void *)rs->static_data,
		                                    MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len = rs->body.len;
		char *body = buf_detach(&rs->body);
		r = mhd.create_response_from_buffer(len, body ? body : (char *)"",
		                                    body ? MHD_RESPMEM_MUST_FREE
		                                         : MHD_RESPMEM_PERSISTENT);
		if (!r)
			free(body);
	}
	if (!r)
		return MHD_NO;
	if (rs->content_type)
		mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	mhd.add_response_header(r, "X-Content-Type-Options", "nosniff");
	mhd.add_response_header(r, "Referrer-Policy", "no-referrer");
	if (rs->sandbox) {
		mhd.add_response_header(r, "Content-Security-Policy", csp_sandbox);
	} else if (rs->content_type && strncmp(rs->content_type, "text/html", 9) == 0) {
		mhd.add_response_header(r, "Content-Security-Policy", csp_app);
		mhd.add_response_header(r, "X-Frame-Options", "DENY");
	}
	if (rs->allow)
		mhd.add_response_header(r, "Allow", rs->allow);
	if (rs->range[0])
		mhd.add_response_header(r, "Content-Range", rs->range);
	if (rs->sandbox)
		mhd.add_response_header(r, "Accept-Ranges", "bytes");
	mhd.add_response_header(r, "Cache-Control", rs->cache ? rs->cache : "no-store");
	if (rs->etag[0])
		mhd.add_response_header(r, "ETag", rs->etag);
	if (rs->disposition) {
		char cd[600];
		content_disposition(cd, sizeof cd, rs->disposition, rs->filename);
		mhd.add_response_header(r, "Content-Disposition", cd);
	}
	if (rs->location)
		mhd.add_response_header(r, "Location", rs->location);
	if (rs->set_cookie)
		mhd.add_response_header(r, "Set-Cookie", rs->set_cookie);
	if (rs->status == 401 && rs->www_auth)
		mhd.add_response_header(r, "WWW-Authenticate", rs->www_auth);
	enum MHD_Result ok = mhd.queue_response(rq->conn, (unsigned)rs->status, r);
	mhd.destroy_response(r);
	return ok;
}

static void response_free(response *rs)
{
	buf_free(&rs->body);
	if (rs->fd >= 0)
		close(rs->fd);
	free(rs->filename);
	free(rs->location);
	free(rs->set_cookie);
}

static void access_log(request *rq, const char *url, int status)
{
	if (rq->srv->cfg.quiet)
		return;
	fprintf(stderr, "%s %s %d %.1fms\n", rq->method, url, status,
	        (clock_mono() - rq->started) * 1000.0);
}

#define BODY_PREALLOC ((size_t)1 << 20)

/* 413 before the body is read (or while it streams): libmicrohttpd sends the
 * answer and closes the connection instead of reading the rest. */
static enum MHD_Result answer_too_big(request *rq)
{
	response rs = {.fd = -1};
	buf_init(&rs.body);
	rq->body_too_big = true;
	rq->answered = true;
	resp_error(&rs, 413, "too_large", "request body over %zu bytes", rq->srv->cfg.max_body);
	enum MHD_Result ok = send_response(rq, &rs);
	access_log(rq, rq->path, rs.status);
	response_free(&rs);
	return ok;
}

/* Would PUT /api/v1/objects/OID pass authentication and the write check?
 * Asked before the body arrives; dispatch asks again for the answer. */
static bool upload_allowed(request *rq)
{
	static const route put = {"PUT", "/api/v1/objects/{oid}", CAIRN_SCOPE_WRITE, NULL, 0};
	response probe = {.fd = -1};
	bool ok = auth_request(rq, &probe, &put) && write_allowed(rq, &probe);
	response_free(&probe);
	auth_ctx_free(&rq->auth);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
	server *srv = cls;
	request *rq = *con_cls;
	if (!rq) {
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		rq->srv = srv;
		rq->store = srv->store;
		rq->conn = conn;
		rq->method = method;
		rq->path = url;
		rq->url = url;
		rq->started = clock_mono();
		buf_init_cap(&rq->body, srv->cfg.max_body); /* the body's one cap */
		*con_cls = rq;
		/* An object upload streams to a file with no cap, so only for a
		 * caller who may write; anyone else's body takes the capped path
		 * and dispatch answers 401/403. */
		if (upload_wanted(method, url) && upload_allowed(rq))
			return upload_begin(rq) == 0 || rq->upload_rc ? MHD_YES : MHD_NO;
		const char *cl =
		    mhd.lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || *end || n > srv->cfg.max_body)
				return answer_too_big(rq); /* the body is never read */
			/* One allocation for a declared body instead of doubling
			 * from 64 bytes; only up to BODY_PREALLOC, so a request
			 * that announces a large body and sends nothing holds
			 * little memory. */
			buf_grow(&rq->body, n < BODY_PREALLOC ? (size_t)n : BODY_PREALLOC);
		}
		return MHD_YES;
	}
	if (rq->answered) {
		*upload_size = 0; /* discard: the answer is out, the connection closes */
		return MHD_YES;
	}
	if (*upload_size && rq->upload) {
		upload_write(rq, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		/* Past the cap the rest of the body is read and dropped (the answer
		 * is 413 once it ends); a client that keeps sending far beyond the
		 * cap is cut off. */
		if (!rq->body_too_big) {
			buf_add(&rq->body, upload_data, *upload_size);
			if (buf_too_big(&rq->body)) {
				buf_free(&rq->body);
				rq->body_too_big = true;
			}
		}
		if (rq->body_too_big)
			rq->discarded += *upload_size;
		*upload_size = 0;
		return rq->discarded > 16 * (uint64_t)srv->cfg.max_body ? MHD_NO : MHD_YES;
	}
	response rs = {.fd = -1};
	buf_init(&rs.body);
	char *path = dup_path_for_params(url);
	if (!path) {
		resp_error(&rs, 500, "internal", "out of memory");
	} else {
		rq->path = path;
		if (!buf_ok(&rq->body))
			resp_error(&rs, 500, "internal", "out of memory");
		else
			dispatch(rq, &rs);
	}
	enum MHD_Result ok = send_response(rq, &rs);
	access_log(rq, url, rs.status);
	response_free(&rs);
	free(path);
	rq->path = url;
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	request *rq = *con_cls;
	if (!rq)
		return;
	upload_abort(rq);
	buf_free(&rq->body);
	auth_ctx_free(&rq->auth);
	free(rq);
	*con_cls = NULL;
}

/* --- start / stop ---------------------------------------------------------------- */

/* libmicrohttpd's own messages (a client that went away mid-request, a
 * header block over the limit) belong to the access log: printed with it,
 * dropped with --quiet, so a quiet server's stderr holds real errors only. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const server *srv = cls;
	if (srv->cfg.quiet)
		return;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	fprintf(stderr, "http: %s\n", msg);
}

bool server_host_is_loopback(const char *host)
{
	if (!host)
		return false;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return true;
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return false;
}

int server_start(server **out, cairn_store *store, const server_config *cfg, char *err,
                 size_t errsz)
{
	*out = NULL;
	if (mhd_load() != 0) {
		snprintf(err, errsz, "%s", mhd_error());
		return -1;
	}
	server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	srv->store = store;
	srv->cfg = *cfg;
	if (!srv->cfg.host || !*srv->cfg.host)
		srv->cfg.host = "127.0.0.1";
	if (!srv->cfg.max_body)
		srv->cfg.max_body = SERVER_DEFAULT_MAX_BODY;
	if (!srv->cfg.timeout_s)
		srv->cfg.timeout_s = SERVER_DEFAULT_TIMEOUT;
	if (!srv->cfg.threads)
		srv->cfg.threads = 4;
	if (auth_tables_check(err, errsz) != 0) {
		free(srv);
		return -1;
	}
	if (!srv->cfg.tls_cert_pem != !srv->cfg.tls_key_pem) {
		snprintf(err, errsz, "HTTPS needs both a certificate and its key");
		free(srv);
		return -1;
	}
	if (srv->cfg.tls_cert_pem && mhd.is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errsz,
		         "this libmicrohttpd was built without TLS (GnuTLS); serve "
		         "HTTPS through a reverse proxy instead");
		free(srv);
		return -1;
	}
	pthread_mutex_init(&srv->cache_mu, NULL);
	pthread_mutex_init(&srv->auth_mu, NULL);
	srv->loopback = server_host_is_loopback(srv->cfg.host);

	const char *host = srv->cfg.host;
	if (strcasecmp(host, "localhost") == 0)
		host = "127.0.0.1";
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)srv->cfg.port);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)srv->cfg.port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errsz, "'%s' is not a numeric IP address or 'localhost'",
		         srv->cfg.host);
		pthread_mutex_destroy(&srv->cache_mu);
		pthread_mutex_destroy(&srv->auth_mu);
		free(srv);
		return -1;
	}
	if (srv->cfg.port < 0 || srv->cfg.port > 65535) {
		snprintf(err, errsz, "port %d is out of range", srv->cfg.port);
		pthread_mutex_destroy(&srv->cache_mu);
		pthread_mutex_destroy(&srv->auth_mu);
		free(srv);
		return -1;
	}
	/* HTTPS: libmicrohttpd's GnuTLS, with the PEM certificate and key the
	 * caller read (cmd-ui.c); MHD copies nothing, so they must outlive
	 * the daemon (they are the caller's, like the store). */
	struct MHD_OptionItem tls[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)srv->cfg.tls_cert_pem},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)srv->cfg.tls_key_pem},
	    {MHD_OPTION_END, 0, NULL},
	};
	if (srv->cfg.tls_cert_pem)
		flags |= MHD_USE_TLS;
	else
		tls[0].option = MHD_OPTION_END;
	pool_open(srv); /* before the first request can come */
	srv->daemon = mhd.start_daemon(
	    flags, (uint16_t)srv->cfg.port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)srv->cfg.timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)(srv->loopback ? 0 : 64), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(64 * 1024), MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)srv->cfg.threads,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1, MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, errsz, "cannot listen on %s:%d: %s", srv->cfg.host, srv->cfg.port,
		         errno ? strerror(errno) : "the address is not available");
		pool_close(srv);
		pthread_mutex_destroy(&srv->cache_mu);
		pthread_mutex_destroy(&srv->auth_mu);
		free(srv);
		return -1;
	}
	const union MHD_DaemonInfo *info =
	    mhd.get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : srv->cfg.port;
	*out = srv;
	return 0;
}

int server_port(const server *srv)
{
	return srv ? srv->port : 0;
}

void server_stop(server *srv)
{
	if (!srv)
		return;
	if (srv->daemon)
		mhd.stop_daemon(srv->daemon);
	if (srv->pool)
		pool_close(srv);
	run_cache_clear(srv);
	auth_server_free(srv);
	pthread_mutex_destroy(&srv->cache_mu);
	pthread_mutex_destroy(&srv->auth_mu);
	free(srv);
}
