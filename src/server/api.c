/*
 * server/api.c — the native JSON API under /api/v1/ (docs/http-api.md): its
 * route table and handlers, and the cache of run handles used by remote
 * logging.
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

#include "server/body.h"
#include "server/range.h"
#include "server/http.h"
#include "util/fs.h"
#include "util/json.h"

#define RUNS_DEFAULT_LIMIT 100
#define RUNS_MAX_LIMIT     10000
#define COLUMNS_MAX        256
#define SAMPLE_DEFAULT     1000
#define PARAM_VALUE_MAX    (64 * 1024) /* bytes in a string param: the library's TEXT_VALUE_MAX */

/* --- the run cache ----------------------------------------------------------- */

static bool is_full_id(const char *id)
{
	if (strlen(id) != CAIRN_RUN_ID_HEXSZ)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

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
	if (is_full_id(id)) {
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
static void run_cache_forget(server *srv, const char *full)
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

static const char *run_param(request *rq)
{
	return rq->params[0];
}

/* Parse the JSON body into *doc, or answer 400. */
static bool parse_body(request *rq, response *rs, json_doc **doc)
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
static int body_fail(response *rs, int rc, const char *err)
{
	if (rc == BODY_ETOOMANY)
		return resp_error(rs, 413, "too_large", "%s", err);
	return resp_error(rs, 400, "bad_request", "%s", err);
}

static bool parse_int_arg(request *rq, response *rs, const char *name, int64_t lo, int64_t hi,
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

static bool flag_arg(request *rq, const char *name)
{
	const char *v = req_arg(rq, name);
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "") == 0);
}

/* The run's JSON, parsed; answers the error when it fails. */
static bool get_run_doc(request *rq, response *rs, const char *id, char **text, json_doc **doc)
{
	*doc = NULL;
	int rc = cairn_run_get_json(text, rq->srv->store, id);
	if (rc) {
		resp_lib_error(rs, rc);
		return false;
	}
	char err[128];
	*doc = json_parse(*text, strlen(*text), NULL, err, sizeof err);
	if (!*doc) {
		resp_error(rs, 500, "internal", "the library returned bad JSON: %s", err);
		cairn_free(*text);
		*text = NULL;
		return false;
	}
	return true;
}

/* --- info, projects, columns ---------------------------------------------------------- */

static int h_info(request *rq, response *rs)
{
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "name");
	json_str(&rs->body, "cairn");
	json_key(&rs->body, &f, "version");
	json_str(&rs->body, cairn_version());
	json_key(&rs->body, &f, "store");
	json_str(&rs->body, cairn_store_path(rq->srv->store));
	json_key(&rs->body, &f, "api");
	json_str(&rs->body, "v1");
	buf_putc(&rs->body, '}');
	return resp_json_buf(rs, 200);
}

static int h_projects(request *rq, response *rs)
{
	char *out = NULL;
	int rc = cairn_project_list_json(&out, rq->srv->store);
	if (rc)
		return resp_lib_error(rs, rc);
	buf_puts(&rs->body, "{\"projects\":");
	buf_puts(&rs->body, out);
	buf_putc(&rs->body, '}');
	cairn_free(out);
	return resp_json_buf(rs, 200);
}

static int h_columns(request *rq, response *rs)
{
	const char *project;
	if (!req_arg_checked(rq, rs, "project", &project))
		return 0;
	char *out = NULL;
	int rc = cairn_run_columns_json(&out, rq->srv->store, project && *project ? project : NULL);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* --- runs list ----------------------------------------------------------------------- */

/* The cursor is opaque to clients: base64url("<offset>.<hash>"), where the
 * hash binds it to the query it was issued for. */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint64_t fnv(uint64_t h, const char *s)
{
	if (!s)
		s = "";
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	h ^= 0xff; /* separator, so ("ab","c") != ("a","bc") */
	h *= 1099511628211ull;
	return h;
}

static void cursor_encode(char *out, size_t outsz, int64_t offset, uint64_t qhash)
{
	char raw[64];
	int n =
	    snprintf(raw, sizeof raw, "%lld.%016llx", (long long)offset, (unsigned long long)qhash);
	size_t j = 0;
	for (int i = 0; i < n && j + 5 < outsz; i += 3) {
		unsigned v = (unsigned char)raw[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)raw[i + 2];
		out[j++] = b64[(v >> 18) & 63];
		out[j++] = b64[(v >> 12) & 63];
		if (i + 1 < n)
			out[j++] = b64[(v >> 6) & 63];
		if (i + 2 < n)
			out[j++] = b64[v & 63];
	}
	out[j] = '\0';
}

static bool cursor_decode(const char *c, uint64_t qhash, int64_t *offset)
{
	char raw[64];
	size_t n = strlen(c), j = 0;
	unsigned v = 0;
	int bits = 0;
	if (n == 0 || n > 80)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(b64, c[i]);
		if (!p || !c[i])
			return false;
		v = (v << 6) | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (j + 1 >= sizeof raw)
				return false;
			raw[j++] = (char)((v >> bits) & 0xff);
		}
	}
	raw[j] = '\0';
	char *dot = strchr(raw, '.');
	if (!dot)
		return false;
	*dot = '\0';
	char *end;
	long long o = strtoll(raw, &end, 10);
	if (*end || end == raw || o < 0)
		return false;
	unsigned long long h = strtoull(dot + 1, &end, 16);
	if (*end || strlen(dot + 1) != 16 || h != qhash)
		return false;
	*offset = o;
	return true;
}

typedef struct colspec {
	const char *tok[COLUMNS_MAX];
	size_t len[COLUMNS_MAX];
	int n;
	char *copy;
} colspec;

static bool colspec_parse(colspec *cs, const char *cols)
{
	memset(cs, 0, sizeof *cs);
	if (!cols || !*cols)
		return true;
	cs->copy = strdup(cols);
	if (!cs->copy)
		return false;
	for (char *save = NULL, *t = strtok_r(cs->copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		size_t l = strlen(t);
		while (l && t[l - 1] == ' ')
			t[--l] = '\0';
		if (!l)
			continue;
		if (cs->n >= COLUMNS_MAX)
			return false;
		cs->tok[cs->n] = t;
		cs->len[cs->n] = l;
		cs->n++;
	}
	return true;
}

static bool col_wants(const colspec *cs, const char *name)
{
	for (int i = 0; i < cs->n; i++)
		if (strcmp(cs->tok[i], name) == 0)
			return true;
	return false;
}

/* Write a run object with only the columns asked for (id always). */
static void project_run(buf *b, const json *run, const colspec *cs)
{
	static const char *const maps[] = {"params", "metrics", "properties"};
	bool first = true;
	buf_putc(b, '{');
	for (const json *m = run->child; m; m = m->next) {
		if (strcmp(m->key, "id") == 0 || col_wants(cs, m->key)) {
			json_key(b, &first, m->key);
			json_write_node(b, m);
			continue;
		}
		for (size_t k = 0; k < 3; k++) {
			if (strcmp(m->key, maps[k]) != 0 || m->type != JSON_OBJ)
				continue;
			size_t pl = strlen(maps[k]);
			bool open = false, f2 = true;
			for (int i = 0; i < cs->n; i++) {
				if (cs->len[i] <= pl + 1 || strncmp(cs->tok[i], maps[k], pl) != 0 ||
				    cs->tok[i][pl] != '.')
					continue;
				const json *v = json_get(m, cs->tok[i] + pl + 1);
				if (!v)
					continue;
				if (!open) {
					json_key(b, &first, m->key);
					buf_putc(b, '{');
					open = true;
				}
				json_key(b, &f2, v->key);
				json_write_node(b, v);
			}
			if (open)
				buf_putc(b, '}');
		}
	}
	buf_putc(b, '}');
}

/* The page answer: {"total", "offset", "runs" (projected), "next"}; the
 * first `skip` runs of the array are left out. */
static void write_page(buf *b, const json *runs, int64_t total, int64_t offset, int64_t limit,
                       int64_t skip, const colspec *cs, uint64_t qhash)
{
	bool first = true, f2 = true;
	int64_t i = 0, n = 0;
	buf_putc(b, '{');
	json_key(b, &first, "total");
	json_int(b, total);
	json_key(b, &first, "offset");
	json_int(b, offset);
	json_key(b, &first, "runs");
	buf_putc(b, '[');
	for (const json *r = runs ? runs->child : NULL; r && n < limit; r = r->next, i++) {
		if (i < skip)
			continue;
		if (!f2)
			buf_putc(b, ',');
		f2 = false;
		if (cs->n)
			project_run(b, r, cs);
		else
			json_write_node(b, r);
		n++;
	}
	buf_putc(b, ']');
	json_key(b, &first, "next");
	if (offset + n < total && n == limit) {
		char c[128];
		cursor_encode(c, sizeof c, offset + n, qhash);
		json_str(b, c);
	} else {
		buf_puts(b, "null");
	}
	buf_putc(b, '}');
}

/* A query or sort that does not parse: 400 with the position of the problem. */
static bool check_query(response *rs, const char *q, const char *sort)
{
	size_t pos = 0;
	if (q && *q && cairn_query_validate(q, &pos) != 0) {
		resp_error_pos(rs, 400, "invalid_query", pos, "%s", cairn_error_last());
		return false;
	}
	if (sort && *sort && cairn_query_sort_validate(sort, &pos) != 0) {
		resp_error_pos(rs, 400, "invalid_sort", pos, "%s", cairn_error_last());
		return false;
	}
	return true;
}

static int h_query_check(request *rq, response *rs)
{
	const char *q, *sort;
	if (!req_arg_checked(rq, rs, "q", &q) || !req_arg_checked(rq, rs, "sort", &sort))
		return 0;
	if (!check_query(rs, q, sort))
		return 0;
	buf_puts(&rs->body, "{\"ok\":true}");
	return resp_json_buf(rs, 200);
}

static int h_runs_list(request *rq, response *rs)
{
	const char *project, *q, *sort, *group, *metric, *cols, *cursor;
	if (!req_arg_checked(rq, rs, "project", &project) || !req_arg_checked(rq, rs, "q", &q) ||
	    !req_arg_checked(rq, rs, "sort", &sort) || !req_arg_checked(rq, rs, "group", &group) ||
	    !req_arg_checked(rq, rs, "metric", &metric) ||
	    !req_arg_checked(rq, rs, "columns", &cols) ||
	    !req_arg_checked(rq, rs, "cursor", &cursor))
		return 0;
	if (project && !*project)
		project = NULL;
	int64_t limit = RUNS_DEFAULT_LIMIT, offset = 0;
	if (!parse_int_arg(rq, rs, "limit", 1, RUNS_MAX_LIMIT, &limit) ||
	    !parse_int_arg(rq, rs, "offset", 0, INT64_MAX / 2, &offset))
		return 0;
	bool deleted = flag_arg(rq, "deleted");
	uint64_t qhash = 1469598103934665603ull;
	qhash = fnv(qhash, project);
	qhash = fnv(qhash, q);
	qhash = fnv(qhash, sort);
	qhash = fnv(qhash, deleted ? "1" : "0");
	if (cursor && *cursor && !cursor_decode(cursor, qhash, &offset))
		return resp_error(
		    rs, 400, "bad_cursor",
		    "the cursor is not valid for this query (start again without it)");
	colspec cs;
	if (!colspec_parse(&cs, cols)) {
		free(cs.copy);
		return resp_error(rs, 400, "bad_request", "too many columns (at most %d)",
		                  COLUMNS_MAX);
	}
	char *list = NULL;
	json_doc *doc = NULL;
	char err[128];
	int rc;
	if (!check_query(rs, q, sort))
		goto done;
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	qo.query = q && *q ? q : NULL;
	qo.sort = sort && *sort ? sort : NULL;
	qo.project = project;
	qo.include_deleted = deleted;
	if (group && *group) {
		rc = cairn_query_group_json(&list, rq->srv->store, &qo, group,
		                            metric && *metric ? metric : NULL);
		if (rc)
			resp_lib_error(rs, rc);
		else
			resp_json_take(rs, 200, list);
		list = NULL;
		goto done;
	}
	qo.limit = limit;
	qo.offset = offset;
	if ((rc = cairn_query_runs_json(&list, rq->srv->store, &qo)) != 0) {
		resp_lib_error(rs, rc);
		goto done;
	}
	if (!(doc = json_parse(list, strlen(list), NULL, err, sizeof err))) {
		resp_error(rs, 500, "internal", "the library returned bad JSON: %s", err);
		goto done;
	}
	const json *tot = json_get(json_root(doc), "total");
	write_page(&rs->body, json_get(json_root(doc), "runs"), tot ? tot->i : 0, offset, limit, 0,
	           &cs, qhash);
	resp_json_buf(rs, 200);
done:
	json_doc_free(doc);
	cairn_free(list);
	free(cs.copy);
	return 0;
}

/* --- diffs --------------------------------------------------------------------- */

/* The two runs (or paths) a diff compares: ?a=&b=, both required. */
static bool diff_args(request *rq, response *rs, const char **a, const char **b)
{
	if (!req_arg_checked(rq, rs, "a", a) || !req_arg_checked(rq, rs, "b", b))
		return false;
	if (!*a || !**a || !*b || !**b) {
		resp_error(rs, 400, "bad_request", "name the two runs to compare: ?a=RUN&b=RUN");
		return false;
	}
	return true;
}

static int h_diff(request *rq, response *rs)
{
	const char *a, *b;
	char *out = NULL;
	if (!diff_args(rq, rs, &a, &b))
		return 0;
	int rc = cairn_run_diff_json(&out, rq->srv->store, a, b);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

static int h_diff_code(request *rq, response *rs)
{
	const char *a, *b;
	char *out = NULL;
	if (!diff_args(rq, rs, &a, &b))
		return 0;
	int rc = cairn_code_diff(&out, rq->srv->store, a, b);
	if (rc)
		return resp_lib_error(rs, rc);
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "diff");
	json_str(&rs->body, out);
	buf_putc(&rs->body, '}');
	cairn_free(out);
	return resp_json_buf(rs, 200);
}

/* Only versions the store records: a and b are runs, RUN:NAME or manifest
 * ids, never paths on the server's disk (which cairn data diff would hash). */
static int h_diff_data(request *rq, response *rs)
{
	const char *a, *b;
	char *out = NULL;
	if (!diff_args(rq, rs, &a, &b))
		return 0;
	int rc = cairn_data_diff_stored_json(&out, rq->srv->store, a, b);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* --- one run --------------------------------------------------------------------- */

static int h_run_get(request *rq, response *rs)
{
	char *out = NULL;
	int rc = cairn_run_get_json(&out, rq->srv->store, run_param(rq));
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

static int h_run_delete(request *rq, response *rs)
{
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	int rc = cairn_run_resolve(full, rq->srv->store, run_param(rq));
	if (rc == 0)
		rc = cairn_run_delete(rq->srv->store, full, 0);
	if (rc)
		return resp_lib_error(rs, rc);
	run_cache_forget(rq->srv, full);
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "deleted");
	json_str(&rs->body, full);
	buf_putc(&rs->body, '}');
	return resp_json_buf(rs, 200);
}

static int h_metric(request *rq, response *rs)
{
	const char *key = rq->params[1];
	int64_t points = SAMPLE_DEFAULT;
	if (!parse_int_arg(rq, rs, "points", 2, 1000000, &points))
		return 0;
	if (cairn_key_validate(key, "metric key") != 0)
		return resp_error(rs, 400, "bad_request", "%s", cairn_error_last());
	char *out = NULL;
	int rc;
	if (flag_arg(rq, "raw")) {
		rc = cairn_run_metric_history_json(&out, rq->srv->store, run_param(rq), key);
		if (rc)
			return resp_lib_error(rs, rc);
		/* The library's history has no way to tell "no such metric" from an
		 * empty one: an empty raw series of a key the run lacks is a 404. */
		if (strcmp(out, "[]") == 0) {
			cairn_free(out);
			char *chk = NULL;
			rc = cairn_run_metric_sample_json(&chk, rq->srv->store, run_param(rq), key,
			                                  2);
			cairn_free(chk);
			if (rc)
				return resp_lib_error(rs, rc);
			out = NULL;
		}
		size_t count = 0;
		for (const char *p = out ? out + 1 : ""; *p; p++)
			count += *p == '[';
		bool f = true;
		buf_putc(&rs->body, '{');
		json_key(&rs->body, &f, "key");
		json_str(&rs->body, key);
		json_key(&rs->body, &f, "count");
		json_int(&rs->body, (int64_t)count);
		json_key(&rs->body, &f, "sampled");
		json_bool(&rs->body, false);
		json_key(&rs->body, &f, "points");
		buf_puts(&rs->body, out ? out : "[]");
		buf_putc(&rs->body, '}');
		cairn_free(out);
		return resp_json_buf(rs, 200);
	}
	rc = cairn_run_metric_sample_json(&out, rq->srv->store, run_param(rq), key, (size_t)points);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* --- artifacts ---------------------------------------------------------------------- */

static int h_artifacts(request *rq, response *rs)
{
	const char *prefix;
	if (!req_arg_checked(rq, rs, "prefix", &prefix))
		return 0;
	char *text = NULL;
	json_doc *doc = NULL;
	if (!get_run_doc(rq, rs, run_param(rq), &text, &doc))
		return 0;
	const json *arts = json_get(json_root(doc), "artifacts");
	bool first = true, f = true;
	size_t pl = prefix ? strlen(prefix) : 0;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &first, "artifacts");
	buf_putc(&rs->body, '[');
	for (const json *a = arts ? arts->child : NULL; a; a = a->next) {
		const char *p = json_get_str(a, "path");
		if (pl && (!p || strncmp(p, prefix, pl) != 0))
			continue;
		if (!f)
			buf_putc(&rs->body, ',');
		f = false;
		json_write_node(&rs->body, a);
	}
	buf_puts(&rs->body, "]}");
	json_doc_free(doc);
	cairn_free(text);
	return resp_json_buf(rs, 200);
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* libmicrohttpd has decoded the path once; a path that still holds an
 * encoded '.', '/' or '\' was encoded twice to slip past a check, and is
 * refused like the plain form. */
static bool artifact_path_ok(const char *path)
{
	if (!relpath_is_safe(path))
		return false;
	for (const char *p = path; *p; p++) {
		if (*p != '%')
			continue;
		int h = hexv(p[1]), l = h >= 0 ? hexv(p[2]) : -1;
		if (h < 0 || l < 0)
			continue;
		int c = h * 16 + l;
		if (c == '.' || c == '/' || c == '\\' || c == '%' || c < 0x20)
			return false;
	}
	return true;
}

/* Shown in the browser rather than saved: images and plain text.  HTML is
 * always an attachment (on top of the sandboxing policy), so an artifact can
 * never act as a page of the UI's origin. */
static bool inline_type(const char *media)
{
	if (strncmp(media, "text/html", 9) == 0 || strstr(media, "xhtml") || strstr(media, "xml"))
		return strncmp(media, "image/svg+xml", 13) == 0;
	return strncmp(media, "image/", 6) == 0 || strncmp(media, "text/", 5) == 0 ||
	       strcmp(media, "application/json") == 0 || strcmp(media, "application/yaml") == 0;
}

static int h_artifact_get(request *rq, response *rs)
{
	const char *path = rq->params[1];
	if (!artifact_path_ok(path))
		return resp_error(
		    rs, 400, "bad_path",
		    "artifact path '%.200s' is not a clean relative path (no '..', no "
		    "leading '/', no encoded separators)",
		    path);
	char oid[CAIRN_OID_HEXSZ + 1], *media = NULL, *file = NULL;
	int64_t size = 0;
	int rc = cairn_artifact_lookup(oid, &size, &media, rq->srv->store, run_param(rq), path);
	if (rc)
		return resp_lib_error(rs, rc);
	/* The run records the artifact: a missing object is the store's fault. */
	if ((rc = cairn_object_path(&file, rq->srv->store, oid)) != 0) {
		cairn_free(media);
		return resp_error(rs, 500, "internal",
		                  "the store has lost the bytes of artifact '%.200s' (%s)", path,
		                  cairn_error_last());
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		cairn_free(file);
		cairn_free(media);
		return resp_error(rs, 500, "internal", "cannot open the stored artifact %s", oid);
	}
	cairn_free(file);
	static _Thread_local char ctype[160];
	if (strncmp(media, "text/", 5) == 0)
		snprintf(ctype, sizeof ctype, "%s; charset=utf-8", media);
	else
		snprintf(ctype, sizeof ctype, "%s", media);
	rs->status = 200;
	rs->content_type = ctype;
	rs->fd = fd;
	rs->fd_size = (uint64_t)st.st_size;
	rs->sandbox = true;
	rs->disposition = inline_type(media) && !flag_arg(rq, "download") ? "inline" : "attachment";
	rs->filename = strdup(path_base(path));
	rs->cache = "private, max-age=31536000, immutable"; /* content-addressed */
	snprintf(rs->etag, sizeof rs->etag, "\"%s\"", oid);
	cairn_free(media);
	const char *inm = req_header(rq, "If-None-Match");
	if (inm && strcmp(inm, rs->etag) == 0) {
		close(rs->fd);
		rs->fd = -1;
		rs->status = 304;
		return 0;
	}
	/* One byte range (server/range.c), for previews of big logs; an If-Range
	 * naming other bytes than these asks for the whole file. */
	const char *if_range = req_header(rq, "If-Range");
	if (if_range && strcmp(if_range, rs->etag) != 0)
		return 0;
	uint64_t first, last, whole = rs->fd_size;
	switch (http_range_parse(req_header(rq, "Range"), whole, &first, &last)) {
	case RANGE_NONE: break;
	case RANGE_OK:
		rs->status = 206;
		rs->fd_offset = first;
		rs->fd_size = last - first + 1;
		snprintf(rs->range, sizeof rs->range, "bytes %llu-%llu/%llu",
		         (unsigned long long)first, (unsigned long long)last,
		         (unsigned long long)whole);
		break;
	case RANGE_UNSATISFIABLE: /* an error body (resp_error closes the file) */
		rs->disposition = NULL;
		rs->cache = NULL;
		rs->etag[0] = '\0';
		resp_error(rs, 416, "range_not_satisfiable",
		           "the range '%.80s' is not within the artifact's %llu bytes",
		           req_header(rq, "Range"), (unsigned long long)whole);
		snprintf(rs->range, sizeof rs->range, "bytes */%llu", (unsigned long long)whole);
		break;
	}
	return 0;
}

/* A dataset's manifest (the object its record names), as JSON when it is
 * JSON, else wrapped as {"text": ...}. */
static int h_manifest(request *rq, response *rs)
{
	const char *name = rq->params[1];
	char *text = NULL;
	json_doc *doc = NULL;
	if (!get_run_doc(rq, rs, run_param(rq), &text, &doc))
		return 0;
	const json *ds = json_get(json_root(doc), "datasets");
	const char *oid = NULL;
	for (const json *d = ds ? ds->child : NULL; d; d = d->next) {
		const char *n = json_get_str(d, "name");
		if (n && strcmp(n, name) == 0)
			oid = json_get_str(d, "manifest");
	}
	void *data = NULL;
	size_t len = 0;
	int rc = 0;
	if (!oid) {
		resp_error(rs, 404, "not_found", "the run has no dataset '%.200s' with a manifest",
		           name);
		goto done;
	}
	if ((rc = cairn_object_read(&data, &len, rq->srv->store, oid, (size_t)64 << 20)) != 0) {
		resp_lib_error(rs, rc);
		goto done;
	}
	json_doc *m = json_parse(data, len, NULL, NULL, 0);
	if (m) {
		buf_add(&rs->body, data, len);
		json_doc_free(m);
	} else {
		bool f = true;
		buf_putc(&rs->body, '{');
		json_key(&rs->body, &f, "text");
		json_strn(&rs->body, data, len);
		buf_putc(&rs->body, '}');
	}
	resp_json_buf(rs, 200);
done:
	free(data);
	json_doc_free(doc);
	cairn_free(text);
	return 0;
}

/* The run's code snapshot record (commit, branch, dirty, the changed files
 * against the commit), as the capture part stored it. */
static int h_code(request *rq, response *rs)
{
	char *text = NULL;
	json_doc *doc = NULL;
	if (!get_run_doc(rq, rs, run_param(rq), &text, &doc))
		return 0;
	const json *code = json_get(json_root(doc), "code");
	const char *oid = code ? json_get_str(code, "snapshot") : NULL;
	void *data = NULL;
	size_t len = 0;
	int rc;
	if (!oid) {
		resp_error(rs, 404, "not_found", "no code snapshot was captured for this run");
	} else if ((rc = cairn_object_read(&data, &len, rq->srv->store, oid, (size_t)64 << 20)) !=
	           0) {
		resp_error(rs, 500, "internal", "cannot read the run's code snapshot: %s",
		           cairn_error_last());
	} else {
		json_doc *m = json_parse(data, len, NULL, NULL, 0);
		if (m && json_root(m)->type == JSON_OBJ) {
			buf_add(&rs->body, data, len);
			resp_json_buf(rs, 200);
		} else {
			resp_error(rs, 500, "internal",
			           "the run's code snapshot is not a JSON object");
		}
		json_doc_free(m);
	}
	free(data);
	json_doc_free(doc);
	cairn_free(text);
	return 0;
}

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

static int h_run_create(request *rq, response *rs)
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
		rc = cairn_run_resolve(pid, rq->srv->store, c.parent);
	}
	if (rc == 0)
		rc = cairn_run_create(&run, rq->srv->store, &ro);
	if (rc == 0)
		rc = log_params(run, c.params, c.nparams);
	if (rc == 0 && c.note)
		rc = cairn_run_set_note(run, c.note);
	if (rc == 0)
		rc = cairn_run_get_json(&out, rq->srv->store, cairn_run_id(run));
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

static int h_metrics_log(request *rq, response *rs)
{
	int brc;
	json_doc *doc;
	char err[512];
	metric_in *m = NULL;
	size_t n = 0;
	cairn_run *run = NULL;
	if (!parse_body(rq, rs, &doc))
		return 0;
	if ((brc = body_metrics(json_root(doc), &m, &n, err, sizeof err)) != 0) {
		body_fail(rs, brc, err);
		goto done;
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
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "logged");
	json_int(&rs->body, (int64_t)n);
	buf_putc(&rs->body, '}');
	resp_json_buf(rs, 200);
done:
	run_cache_release(rq->srv, run);
	free(m);
	json_doc_free(doc);
	return 0;
}

/* Params are write-once: the library checks every one against the stored
 * values inside the one transaction that writes them all, so a conflict
 * writes nothing (and costs one indexed lookup per param, not a scan). */
static int h_params_log(request *rq, response *rs)
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
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "logged");
	json_int(&rs->body, (int64_t)n);
	buf_putc(&rs->body, '}');
	resp_json_buf(rs, 200);
done:
	run_cache_release(rq->srv, run);
	body_free_params(p, n);
	json_doc_free(doc);
	return 0;
}

static int h_properties(request *rq, response *rs)
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
	bool f = true;
	buf_putc(&rs->body, '{');
	json_key(&rs->body, &f, "logged");
	json_int(&rs->body, (int64_t)obj->len);
	buf_putc(&rs->body, '}');
	resp_json_buf(rs, 200);
done:
	run_cache_release(rq->srv, run);
	json_doc_free(doc);
	return 0;
}

static int reply_run(request *rq, response *rs, cairn_run *run, int status)
{
	char *out = NULL;
	int rc = cairn_run_get_json(&out, rq->srv->store, cairn_run_id(run));
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, status, out);
}

static int h_finish(request *rq, response *rs)
{
	int brc;
	json_doc *doc = NULL, *rdoc = NULL;
	char err[512], *text = NULL;
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
	if (!get_run_doc(rq, rs, run_param(rq), &text, &rdoc))
		goto done;
	const char *st = json_get_str(json_root(rdoc), "status");
	if (st && strcmp(st, "running") != 0) {
		resp_error(rs, 409, "conflict", "run %s is already %s",
		           json_get_str(json_root(rdoc), "id"), st);
		goto done;
	}
	int rc = run_cache_get(rq->srv, json_get_str(json_root(rdoc), "id"), &run);
	if (rc == 0)
		rc = cairn_run_finish(run, fin.status, fin.exit_code);
	if (rc)
		resp_lib_error(rs, rc);
	else
		reply_run(rq, rs, run, 200);
done:
	run_cache_release(rq->srv, run);
	json_doc_free(rdoc);
	cairn_free(text);
	json_doc_free(doc);
	return 0;
}

static int h_heartbeat(request *rq, response *rs)
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

static int h_tags_add(request *rq, response *rs)
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

static int h_tag_remove(request *rq, response *rs)
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

static int h_note_set(request *rq, response *rs)
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

static int h_note_clear(request *rq, response *rs)
{
	return set_note(rq, rs, "");
}

/* --- the route table ---------------------------------------------------------------- */

const route api_v1_routes[] = {
    {"GET", "/api/v1/", h_info},
    {"GET", "/api/v1/projects", h_projects},
    {"GET", "/api/v1/columns", h_columns},
    {"GET", "/api/v1/runs", h_runs_list},
    {"POST", "/api/v1/runs", h_run_create},
    {"GET", "/api/v1/runs/{run}", h_run_get},
    {"DELETE", "/api/v1/runs/{run}", h_run_delete},
    {"GET", "/api/v1/runs/{run}/metrics/{*}", h_metric},
    {"POST", "/api/v1/runs/{run}/metrics", h_metrics_log},
    {"POST", "/api/v1/runs/{run}/params", h_params_log},
    {"POST", "/api/v1/runs/{run}/properties", h_properties},
    {"POST", "/api/v1/runs/{run}/finish", h_finish},
    {"POST", "/api/v1/runs/{run}/heartbeat", h_heartbeat},
    {"GET", "/api/v1/runs/{run}/artifacts", h_artifacts},
    {"GET", "/api/v1/runs/{run}/artifacts/{*}", h_artifact_get},
    {"GET", "/api/v1/runs/{run}/manifests/{*}", h_manifest},
    {"GET", "/api/v1/runs/{run}/code", h_code},
    {"POST", "/api/v1/runs/{run}/tags", h_tags_add},
    {"DELETE", "/api/v1/runs/{run}/tags/{*}", h_tag_remove},
    {"PUT", "/api/v1/runs/{run}/note", h_note_set},
    {"POST", "/api/v1/runs/{run}/note", h_note_set},
    {"DELETE", "/api/v1/runs/{run}/note", h_note_clear},
    {"GET", "/api/v1/query", h_query_check},
    {"GET", "/api/v1/diff", h_diff},
    {"GET", "/api/v1/diff/code", h_diff_code},
    {"GET", "/api/v1/diff/data", h_diff_data},
    {NULL, NULL, NULL},
};

/* MLflow's REST API (/api/2.0/mlflow/...) is served by a later part; its
 * routes go in this table, matched the same way. */
const route mlflow_routes[] = {
    {NULL, NULL, NULL},
};
