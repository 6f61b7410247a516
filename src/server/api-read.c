/*
 * server/api-read.c — the read side of the native API (docs/http-api.md):
 * the runs list (a page of records projected to the columns asked for, with
 * an opaque cursor), query checks, diffs, one run, metric histories,
 * artifacts, dataset manifests and the code snapshot.  Every run is read as
 * a record (cairn/record.h); run objects are written by the library
 * (cairn_run_record_json), never re-parsed here.  Thread-safety as api.c.
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

/* --- runs list ----------------------------------------------------------------------- */

/* The cursor is opaque to clients: base64url("<offset>.<hash>"), where the
 * hash binds it to the query it was issued for, then "." and the library's
 * keyset position of the page's last run (cairn_run_iter_after), so the
 * next page is the runs after that place in the sort order and costs what
 * the first page does at any depth.  The offset is the page's place for
 * the "offset" field only.  Without a position (a row whose sort values do
 * not fit in one, a remote store) the cursor is the offset alone, as
 * before. */
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
		cs->tok[cs->n++] = t;
	}
	return true;
}

/* A query or sort that does not parse, or names a metric or param bare that
 * the runs in scope do not resolve (cairn_query_check): 400 with the
 * position of the problem. */
static bool check_query(response *rs, cairn_store *store, const cairn_query_options *qo)
{
	size_t pos = 0;
	int in_sort = 0;
	int rc = cairn_query_check(store, qo, &pos, &in_sort);
	if (rc == CAIRN_EINVALID) {
		resp_error_pos(rs, 400, in_sort ? "invalid_sort" : "invalid_query", pos, "%s",
		               cairn_error_last());
		return false;
	}
	if (rc) {
		resp_lib_error(rs, rc);
		return false;
	}
	return true;
}

/* GET /api/v1/query/check?q=&sort=&project=: {"ok": true, "warnings": [the
 * metrics and params the query names that no run has]}, or the 400 above. */
int h_query_check(request *rq, response *rs)
{
	const char *q, *sort, *project;
	if (!req_arg_checked(rq, rs, "q", &q) || !req_arg_checked(rq, rs, "sort", &sort) ||
	    !req_arg_checked(rq, rs, "project", &project))
		return 0;
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	qo.query = q && *q ? q : NULL;
	qo.sort = sort && *sort ? sort : NULL;
	qo.project = project && *project ? project : NULL;
	if (!check_query(rs, rq->store, &qo))
		return 0;
	char *warn = NULL;
	int rc = cairn_query_warnings(&warn, rq->store, &qo);
	if (rc)
		return resp_lib_error(rs, rc);
	buf_puts(&rs->body, "{\"ok\":true,\"warnings\":");
	buf_puts(&rs->body, warn);
	buf_putc(&rs->body, '}');
	cairn_free(warn);
	return resp_json_buf(rs, 200);
}

int h_runs_list(request *rq, response *rs)
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
	/* A token limited to a project lists that project's runs only: asked
	 * for another, it gets the runs of both, none. */
	const char *own = auth_project(rq);
	if (own && project && strcmp(project, own) != 0) {
		if (group && *group) {
			bool f = true;
			buf_putc(&rs->body, '{');
			json_key(&rs->body, &f, "total");
			json_int(&rs->body, 0);
			json_key(&rs->body, &f, "group_by");
			json_str(&rs->body, group);
			json_key(&rs->body, &f, "metric");
			if (metric && *metric)
				json_str(&rs->body, metric);
			else
				buf_puts(&rs->body, "null");
			json_key(&rs->body, &f, "groups");
			buf_puts(&rs->body, "[]}");
		} else {
			buf_puts(&rs->body, "{\"total\":0,\"offset\":0,\"runs\":[],\"next\":null}");
		}
		return resp_json_buf(rs, 200);
	}
	if (own)
		project = own;
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
	char head[96];
	const char *after = NULL;
	if (cursor && *cursor) {
		const char *dot = strchr(cursor, '.');
		size_t hl = dot ? (size_t)(dot - cursor) : strlen(cursor);
		if (hl >= sizeof head)
			hl = sizeof head - 1; /* too long: cursor_decode refuses it */
		memcpy(head, cursor, hl);
		head[hl] = '\0';
		if (!cursor_decode(head, qhash, &offset) || (dot && !dot[1]))
			return resp_error(
			    rs, 400, "bad_cursor",
			    "the cursor is not valid for this query (start again without it)");
		after = dot ? dot + 1 : NULL;
	}
	colspec cs;
	if (!colspec_parse(&cs, cols)) {
		free(cs.copy);
		return resp_error(rs, 400, "bad_request", "too many columns (at most %d)",
		                  COLUMNS_MAX);
	}
	char *list = NULL;
	cairn_run_iter *it = NULL;
	cairn_run_record *rec = NULL;
	int rc;
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	qo.query = q && *q ? q : NULL;
	qo.sort = sort && *sort ? sort : NULL;
	qo.project = project;
	qo.include_deleted = deleted;
	if (!check_query(rs, rq->store, &qo))
		goto done;
	if (group && *group) {
		rc = cairn_query_group_json(&list, rq->store, &qo, group,
		                            metric && *metric ? metric : NULL);
		if (rc)
			resp_lib_error(rs, rc);
		else
			resp_json_take(rs, 200, list);
		list = NULL;
		goto done;
	}
	qo.limit = limit;
	qo.offset = after ? 0 : offset;
	qo.after = after;
	if ((rc = cairn_query_iter_new(&it, rq->store, &qo)) != 0) {
		if (after && rc == CAIRN_EINVALID)
			resp_error(
			    rs, 400, "bad_cursor",
			    "the cursor is not valid for this query (start again without it)");
		else
			resp_lib_error(rs, rc);
		goto done;
	}
	/* {"total", "offset", "runs" (projected to the columns), "next"} */
	int64_t total = cairn_run_iter_total(it), n = 0;
	buf *b = &rs->body;
	buf_puts(b, "{\"total\":");
	json_int(b, total);
	buf_puts(b, ",\"offset\":");
	json_int(b, offset);
	buf_puts(b, ",\"runs\":[");
	while ((rc = cairn_run_iter_next(&rec, it)) == 0) {
		char *js = NULL;
		rc = cairn_run_record_json(&js, rec, cs.tok, (size_t)cs.n);
		cairn_run_record_free(rec);
		if (rc)
			break;
		if (n++)
			buf_putc(b, ',');
		buf_puts(b, js);
		cairn_free(js);
	}
	if (rc != CAIRN_ITEROVER) {
		buf_clear(b);
		resp_lib_error(rs, rc);
		goto done;
	}
	buf_puts(b, "],\"next\":");
	if (offset + n < total && n == limit) {
		char c[128], *pos = NULL;
		cursor_encode(c, sizeof c, offset + n, qhash);
		if ((rc = cairn_run_iter_after(&pos, it)) != 0) {
			buf_clear(b);
			resp_lib_error(rs, rc);
			goto done;
		}
		if (pos) {
			buf cb = BUF_INIT;
			buf_puts(&cb, c);
			buf_putc(&cb, '.');
			buf_puts(&cb, pos);
			json_str(b, buf_ok(&cb) ? cb.ptr : c);
			buf_free(&cb);
			cairn_free(pos);
		} else {
			json_str(b, c);
		}
	} else {
		buf_puts(b, "null");
	}
	buf_putc(b, '}');
	resp_json_buf(rs, 200);
done:
	cairn_run_iter_free(it);
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

int h_diff(request *rq, response *rs)
{
	const char *a, *b;
	char *out = NULL;
	if (!diff_args(rq, rs, &a, &b))
		return 0;
	int rc = cairn_run_diff_json(&out, rq->store, a, b);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* ?a=RUN&b=RUN, or ?a=RUN alone: the run's snapshot against its commit;
 * full=1 diffs data-like files too; path=P keeps one file (the UI asks for a
 * folded data file's patch so). */
int h_diff_code(request *rq, response *rs)
{
	const char *a, *b, *full, *path;
	char *out = NULL;
	cairn_code_changes *c = NULL;
	if (!req_arg_checked(rq, rs, "a", &a) || !req_arg_checked(rq, rs, "b", &b) ||
	    !req_arg_checked(rq, rs, "full", &full) || !req_arg_checked(rq, rs, "path", &path))
		return 0;
	if (!a || !*a) {
		resp_error(rs, 400, "bad_request",
		           "name the runs to compare: ?a=RUN&b=RUN, or ?a=RUN for its uncommitted "
		           "changes");
		return 0;
	}
	if (full && strcmp(full, "0") != 0 && strcmp(full, "1") != 0) {
		resp_error(rs, 400, "bad_request", "full must be 0 or 1");
		return 0;
	}
	cairn_code_diff_options o = CAIRN_CODE_DIFF_OPTIONS_INIT;
	o.full = full && strcmp(full, "1") == 0;
	o.path = path && *path ? path : NULL;
	int rc = cairn_code_changes_new(&c, rq->store, a, b && *b ? b : NULL, &o);
	if (rc == 0)
		rc = cairn_code_changes_json(&out, c);
	cairn_code_changes_free(c);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* Only versions the store records: a and b are runs, RUN:NAME or manifest
 * ids, never paths on the server's disk (which cairn data diff would hash). */
int h_diff_data(request *rq, response *rs)
{
	const char *a, *b;
	char *out = NULL;
	if (!diff_args(rq, rs, &a, &b))
		return 0;
	int rc = cairn_data_diff_stored_json(&out, rq->store, a, b);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* --- one run --------------------------------------------------------------------- */

int h_run_get(request *rq, response *rs)
{
	char *out = NULL;
	int rc = cairn_run_get_json(&out, rq->store, run_param(rq));
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

int h_run_delete(request *rq, response *rs)
{
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	int rc = cairn_run_resolve(full, rq->store, run_param(rq));
	if (rc == 0)
		rc = cairn_run_delete(rq->store, full, 0);
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

int h_metric(request *rq, response *rs)
{
	const char *key = rq->params[1];
	int64_t points = SAMPLE_DEFAULT, from = INT64_MIN, to = INT64_MAX;
	if (!parse_int_arg(rq, rs, "points", 2, 1000000, &points) ||
	    !parse_int_arg(rq, rs, "from", 0, INT64_MAX, &from) ||
	    !parse_int_arg(rq, rs, "to", 0, INT64_MAX, &to))
		return 0;
	if (from != INT64_MIN && to != INT64_MAX && from > to)
		return resp_error(rs, 400, "bad_request", "'from' (%lld) is after 'to' (%lld)",
		                  (long long)from, (long long)to);
	if (cairn_key_validate(key, "metric key") != 0)
		return resp_error(rs, 400, "bad_request", "%s", cairn_error_last());
	char *out = NULL;
	int rc;
	if (flag_arg(rq, "raw")) {
		rc = cairn_run_metric_raw_json(&out, rq->store, run_param(rq), key);
		return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
	}
	rc = cairn_run_metric_window_json(&out, rq->store, run_param(rq), key, (size_t)points, from,
	                                  to);
	return rc ? resp_lib_error(rs, rc) : resp_json_take(rs, 200, out);
}

/* --- artifacts ---------------------------------------------------------------------- */

int h_artifacts(request *rq, response *rs)
{
	const char *prefix;
	cairn_run_record *r = NULL;
	if (!req_arg_checked(rq, rs, "prefix", &prefix))
		return 0;
	if (!get_run_rec(rq, rs, run_param(rq), CAIRN_RECORD_ARTIFACTS, &r))
		return 0;
	size_t pl = prefix ? strlen(prefix) : 0, n = cairn_run_record_artifact_count(r);
	buf *b = &rs->body;
	bool first = true;
	buf_puts(b, "{\"artifacts\":[");
	for (size_t i = 0; i < n; i++) {
		const cairn_run_artifact *x = cairn_run_record_artifact(r, i);
		if (pl && strncmp(x->path, prefix, pl) != 0)
			continue;
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_puts(b, "{\"path\":");
		json_str(b, x->path);
		buf_puts(b, ",\"digest\":");
		json_str(b, x->digest);
		buf_puts(b, ",\"size\":");
		json_int(b, x->size);
		buf_puts(b, ",\"media_type\":");
		json_str(b, x->media_type);
		buf_puts(b, ",\"kind\":");
		json_str(b, x->kind);
		buf_puts(b, ",\"key\":");
		json_str(b, x->key);
		buf_puts(b, ",\"step\":");
		if (x->step == CAIRN_STEP_AUTO)
			buf_puts(b, "null");
		else
			json_int(b, x->step);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	cairn_run_record_free(r);
	return resp_json_buf(rs, 200);
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
		int h = hex_value(p[1]), l = h >= 0 ? hex_value(p[2]) : -1;
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

int h_artifact_get(request *rq, response *rs)
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
	int rc = cairn_artifact_lookup(oid, &size, &media, rq->store, run_param(rq), path);
	if (rc)
		return resp_lib_error(rs, rc);
	static _Thread_local char ctype[160];
	if (strncmp(media, "text/", 5) == 0)
		snprintf(ctype, sizeof ctype, "%s; charset=utf-8", media);
	else
		snprintf(ctype, sizeof ctype, "%s", media);
	const char *where = cairn_store_objects(rq->store);
	if (rq->srv->cfg.objects_presign && where && strncmp(where, "s3://", 5) == 0) {
		/* The bucket serves the bytes (another origin: the sandbox of
		 * user content is the browser's origin boundary there). */
		char cd[600];
		content_disposition(cd, sizeof cd,
		                    inline_type(media) && !flag_arg(rq, "download") ? "inline"
		                                                                    : "attachment",
		                    path_base(path));
		rc = cairn_object_url(&rs->location, rq->store, oid, SERVER_PRESIGN_EXPIRES, cd,
		                      ctype);
		cairn_free(media);
		if (rc)
			return resp_error(rs, 500, "internal",
			                  "cannot sign a URL for artifact '%.200s' (%s)", path,
			                  cairn_error_last());
		rs->status = 307;
		return 0;
	}
	/* The run records the artifact: a missing object is the store's fault.
	 * For objects in a bucket this is the server's cache of them (the bytes
	 * are fetched on the first request, then served from the file). */
	if ((rc = cairn_object_path(&file, rq->store, oid)) != 0) {
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
int h_manifest(request *rq, response *rs)
{
	const char *name = rq->params[1];
	cairn_run_record *r = NULL;
	if (!get_run_rec(rq, rs, run_param(rq), 0, &r))
		return 0;
	const cairn_run_dataset *d = cairn_run_record_dataset_get(r, name);
	const char *oid = d ? d->manifest : NULL;
	void *data = NULL;
	size_t len = 0;
	int rc = 0;
	if (!oid) {
		resp_error(rs, 404, "not_found", "the run has no dataset '%.200s' with a manifest",
		           name);
		goto done;
	}
	if ((rc = cairn_object_read(&data, &len, rq->store, oid, (size_t)64 << 20)) != 0) {
		resp_lib_error(rs, rc);
		goto done;
	}
	if (json_valid(data, len, NULL, NULL)) {
		buf_add(&rs->body, data, len);
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
	cairn_run_record_free(r);
	return 0;
}

/* The run's code snapshot record (commit, branch, dirty, the changed files
 * against the commit), as the capture part stored it. */
int h_code(request *rq, response *rs)
{
	cairn_run_record *r = NULL;
	if (!get_run_rec(rq, rs, run_param(rq), 0, &r))
		return 0;
	const cairn_run_code *code = cairn_run_record_code(r);
	const char *oid = code ? code->snapshot : NULL;
	void *data = NULL;
	size_t len = 0;
	int rc;
	if (!oid) {
		resp_error(rs, 404, "not_found", "no code snapshot was captured for this run");
	} else if ((rc = cairn_object_read(&data, &len, rq->store, oid, (size_t)64 << 20)) != 0) {
		resp_error(rs, 500, "internal", "cannot read the run's code snapshot: %s",
		           cairn_error_last());
	} else {
		json_type t;
		if (json_valid(data, len, NULL, &t) && t == JSON_OBJ) {
			buf_add(&rs->body, data, len);
			resp_json_buf(rs, 200);
		} else {
			resp_error(rs, 500, "internal",
			           "the run's code snapshot is not a JSON object");
		}
	}
	free(data);
	cairn_run_record_free(r);
	return 0;
}
