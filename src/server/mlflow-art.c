/*
 * server/mlflow-art.c — MLflow's artifacts on cairn's (docs/mlflow.md):
 * artifacts/list of the tracking API, and the proxied artifact routes
 * /api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>
 * (GET downloads, PUT uploads, DELETE deletes, GET without a path lists)
 * that MLflow's clients use for runs whose artifact_uri is
 * mlflow-artifacts:/….  An
 * upload becomes an artifact of the run in cairn's object store, so `cairn
 * show` and the web UI list it.
 *
 * Paths are run-relative and clean: a path with a ".." or "." component,
 * a leading '/', or a backslash is 400 {"error_code":
 * "INVALID_PARAMETER_VALUE", "message": "Invalid path"}, MLflow's exact
 * answer.  DELETE removes the artifact at the path, or every artifact
 * under it when it names a directory (the run's root: all of them), as
 * MLflow's artifact repositories do; the run must be active (a deleted one
 * is 400, as every MLflow write), and a path with nothing under it is 404
 * RESOURCE_DOES_NOT_EXIST.  Only the records go: the objects stay,
 * referenced by the run, until it is purged (docs/internals/store.md,
 * "Deleting an artifact").
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/mlflow.h"

static bool path_ok(const char *p)
{
	if (*p == '/' || strchr(p, '\\'))
		return false;
	while (*p) {
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t l = (size_t)(p - s);
		if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.') || l == 0)
			return false;
		if (*p)
			p++;
	}
	return true;
}

static int invalid_path(response *rs)
{
	return mlf_error(rs, "INVALID_PARAMETER_VALUE", "Invalid path");
}

/* "<exp>/<run>/artifacts[/<path>]" into the run id and the path ("" for
 * the root). */
static bool split_uri_path(const char *full, char run[CAIRN_RUN_ID_HEXSZ + 1], const char **path)
{
	const char *s = strchr(full, '/');
	if (!s)
		return false;
	s++;
	const char *e = strchr(s, '/');
	if (!e || (size_t)(e - s) != CAIRN_RUN_ID_HEXSZ || strncmp(e, "/artifacts", 10) != 0)
		return false;
	memcpy(run, s, CAIRN_RUN_ID_HEXSZ);
	run[CAIRN_RUN_ID_HEXSZ] = '\0';
	e += 10;
	if (*e && *e != '/')
		return false;
	*path = *e ? e + 1 : "";
	return true;
}

/* The files and directories directly under dir ("" the root) of rec:
 * names relative to dir when base, else to the run's root. */
static void put_listing(buf *b, const cairn_run_record *rec, const char *dir, bool base)
{
	size_t dl = strlen(dir);
	char last_dir[1024] = "";
	bool first = true;
	buf_puts(b, "\"files\":[");
	for (size_t i = 0; i < cairn_run_record_artifact_count(rec); i++) {
		const cairn_run_artifact *a = cairn_run_record_artifact(rec, i);
		const char *rel = a->path;
		if (dl) {
			if (strncmp(rel, dir, dl) != 0 || rel[dl] != '/')
				continue;
			rel += dl + 1;
		}
		const char *slash = strchr(rel, '/');
		char name[1024];
		bool is_dir = slash != NULL;
		snprintf(name, sizeof name, "%.*s",
		         (int)(slash ? (size_t)(slash - rel) : strlen(rel)), rel);
		if (is_dir && strcmp(name, last_dir) == 0)
			continue; /* artifacts are in path order: a directory's files follow each
			             other */
		if (is_dir)
			snprintf(last_dir, sizeof last_dir, "%s", name);
		bool f = true;
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_putc(b, '{');
		json_key(b, &f, "path");
		if (base || !dl) {
			json_str(b, name);
		} else {
			buf full = BUF_INIT;
			buf_printf(&full, "%s/%s", dir, name);
			json_str(b, full.ptr);
			buf_free(&full);
		}
		json_key(b, &f, "is_dir");
		json_bool(b, is_dir);
		if (!is_dir) {
			json_key(b, &f, "file_size");
			json_int(b, a->size);
		}
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

int mlf_artifacts_list(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	cairn_run_record *rec = NULL;
	const char *id, *path;
	if (mlf_run_id(rs, &in, &id) && mlf_str(rs, &in, "path", false, &path)) {
		if (!path)
			path = "";
		if (*path && !path_ok(path)) {
			invalid_path(rs);
		} else if (mlf_get_run(rq, rs, id, CAIRN_RECORD_ARTIFACTS, &rec) &&
		           mlf_projects_load(rq, rs, &ps)) {
			char eid[32];
			mlf_exp_id(&ps, cairn_run_record_project(rec), eid, sizeof eid);
			bool f = true;
			buf_putc(&rs->body, '{');
			json_key(&rs->body, &f, "root_uri");
			buf_printf(&rs->body, "\"mlflow-artifacts:/%s/%s/artifacts\",", eid, id);
			put_listing(&rs->body, rec, path, false);
			buf_putc(&rs->body, '}');
			resp_json_buf(rs, 200);
		}
	}
	cairn_run_record_free(rec);
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

int mlf_art_list(request *rq, response *rs)
{
	const char *full;
	if (!req_arg_checked(rq, rs, "path", &full))
		return 0;
	char run[CAIRN_RUN_ID_HEXSZ + 1];
	const char *path;
	if (!full || !*full)
		return mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "Listing the artifact root is not supported: give path=EXPERIMENT/RUN/"
		    "artifacts");
	if (!split_uri_path(full, run, &path))
		return invalid_path(rs);
	if (*path && !path_ok(path))
		return invalid_path(rs);
	cairn_run_record *rec;
	if (!mlf_get_run(rq, rs, run, CAIRN_RECORD_ARTIFACTS, &rec))
		return 0;
	buf_putc(&rs->body, '{');
	put_listing(&rs->body, rec, path, true);
	buf_putc(&rs->body, '}');
	cairn_run_record_free(rec);
	return resp_json_buf(rs, 200);
}

int mlf_art_get(request *rq, response *rs)
{
	char run[CAIRN_RUN_ID_HEXSZ + 1];
	const char *path;
	if (!split_uri_path(rq->params[0], run, &path) || !*path || !path_ok(path))
		return invalid_path(rs);
	cairn_run_record *rec;
	if (!mlf_get_run(rq, rs, run, 0, &rec))
		return 0;
	cairn_run_record_free(rec);
	char oid[CAIRN_OID_HEXSZ + 1], *media = NULL, *file = NULL;
	int64_t size;
	int rc = cairn_artifact_lookup(oid, &size, &media, rq->store, run, path);
	if (rc == CAIRN_ENOTFOUND)
		return mlf_error(rs, "RESOURCE_DOES_NOT_EXIST", "No artifact %.500s in run %s",
		                 path, run);
	if (rc == 0)
		rc = cairn_object_path(&file, rq->store, oid);
	cairn_free(media);
	if (rc)
		return mlf_lib_error(rs, rc);
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	cairn_free(file);
	if (fd < 0)
		return mlf_error(rs, "INTERNAL_ERROR", "cannot open the artifact's object");
	rs->status = 200;
	rs->fd = fd;
	rs->fd_size = (uint64_t)size;
	rs->content_type = "application/octet-stream";
	rs->sandbox = true;
	return 0;
}

int mlf_art_put(request *rq, response *rs)
{
	char run[CAIRN_RUN_ID_HEXSZ + 1];
	const char *path;
	if (!split_uri_path(rq->params[0], run, &path) || !*path || !path_ok(path))
		return invalid_path(rs);
	if (cairn_key_validate(path, "artifact path") != 0)
		return invalid_path(rs);
	cairn_run *h = NULL;
	if (!mlf_run_for_write(rq, rs, run, &h))
		return 0;
	int rc =
	    cairn_run_log_artifact_buf(h, rq->body.ptr, rq->body.len, path, CAIRN_ARTIFACT_FILE);
	run_cache_release(rq->srv, h);
	if (rc)
		return mlf_lib_error(rs, rc);
	return resp_json_take(rs, 200, strdup("{}"));
}

int mlf_art_delete(request *rq, response *rs)
{
	char run[CAIRN_RUN_ID_HEXSZ + 1];
	const char *path;
	if (!split_uri_path(rq->params[0], run, &path) || (*path && !path_ok(path)))
		return invalid_path(rs);
	cairn_run *h = NULL;
	if (!mlf_run_for_write(rq, rs, run, &h))
		return 0;
	int64_t n = 0;
	int rc = cairn_run_delete_artifact(h, path, &n);
	run_cache_release(rq->srv, h);
	if (rc == CAIRN_ENOTFOUND)
		return mlf_error(rs, "RESOURCE_DOES_NOT_EXIST", "No artifact %.500s in run %s",
		                 *path ? path : "(the root)", run);
	if (rc)
		return mlf_lib_error(rs, rc);
	return resp_json_take(rs, 200, strdup("{}"));
}
