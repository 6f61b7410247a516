/*
 * lib/store/remote/serve-data.c — the server's end of the protocol (see
 * serve.c) for the ops that name objects (artifacts, the code map, a run's
 * code and environment, datasets) and for every read: records, lists,
 * whole queries (planned and run here, from their text), points, and the
 * browsing JSON.  Each handler checks its whole request first.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/run/run.h"
#include "lib/store/query.h"
#include "lib/store/record.h"
#include "lib/store/remote/serve.h"
#include "util/fs.h"

void wire_record_put(buf *b, const cairn_run_record *r);

#define PATH_MAX_BYTES 4096
#define CODE_MAP_MAX   65536 /* entries in one code map request */

/* --- writes that name objects ------------------------------------------------------ */

SV_DEF(sv_artifact_put)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *path = r_text(r), *oid = r_str(r);
	int64_t size = r_i64(r);
	const char *media = r_str(r), *kind = r_text(r), *key = r_str(r);
	int64_t step = r_i64(r);
	if (rc == 0)
		rc = wr_check(r, true, "artifact_put request");
	if (rc == 0 && (!*path || strlen(path) > PATH_MAX_BYTES || !relpath_is_safe(path)))
		rc = err_set(CAIRN_EINVALID, "'%.200s' is not an artifact path", path);
	if (rc == 0)
		rc = sv_oid(oid, false);
	if (rc == 0 && size < 0)
		rc = err_set(CAIRN_EINVALID, "artifact_put: negative size");
	if (rc == 0 && (sv_text(media, KEY_MAX, "media type") || sv_text(kind, 32, "kind")))
		rc = cairn_error_last_code();
	if (rc == 0 && key)
		rc = cairn_key_validate(key, "image key");
	return rc ? rc : store_artifact_put(s, rid, path, oid, size, media, kind, key, step);
}

SV_DEF(sv_artifact_delete)
{
	int64_t rid, n = 0;
	int rc = sv_run(s, r, &rid);
	const char *path = r_text(r);
	if (rc == 0)
		rc = wr_check(r, true, "artifact_delete request");
	if (rc == 0 && *path && (strlen(path) > PATH_MAX_BYTES || !relpath_is_safe(path)))
		rc = err_set(CAIRN_EINVALID, "'%.200s' is not an artifact path", path);
	if (rc == 0 && (rc = artifact_delete_free(s, rid, path, &n, NULL)) == 0)
		w_i64(out, n);
	return rc;
}

SV_DEF(sv_code_map_put)
{
	uint32_t n = r_count(r, 18);
	if (n > CODE_MAP_MAX)
		return err_set(CAIRN_ETOOBIG, "code_map_put: over %d entries", CODE_MAP_MAX);
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	char(*oids)[65] = calloc(n ? n : 1, sizeof *oids);
	int64_t *sizes = calloc(n ? n : 1, sizeof *sizes);
	int rc = keys && oids && sizes ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		keys[i] = r_text(r);
		const char *oid = r_text(r);
		sizes[i] = r_i64(r);
		if ((rc = wr_check(r, false, "code_map_put request")) == 0 &&
		    (rc = sv_text(keys[i], 512, "code map key")) == 0 &&
		    (rc = sv_oid(oid, false)) == 0)
			memcpy(oids[i], oid, 65);
	}
	if (rc == 0)
		rc = wr_check(r, true, "code_map_put request");
	if (rc == 0)
		rc = store_code_map_put(s, keys, (const char(*)[65])oids, sizes, n);
	free(keys);
	free(oids);
	free(sizes);
	return rc;
}

SV_DEF(sv_run_code_set)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *commit = r_str(r), *branch = r_str(r), *remote = r_str(r);
	int64_t dirty = r_i64(r);
	const char *code = r_str(r);
	uint32_t n = r_count(r, 69);
	char(*refs)[65] = calloc(n ? n : 1, sizeof *refs);
	if (!refs)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		const char *oid = r_text(r);
		if ((rc = wr_check(r, false, "run_code_set request")) == 0 &&
		    (rc = sv_oid(oid, false)) == 0)
			memcpy(refs[i], oid, 65);
	}
	if (rc == 0)
		rc = wr_check(r, true, "run_code_set request");
	if (rc == 0 && (sv_text(commit, 128, "commit") || sv_text(branch, 1024, "branch") ||
	                sv_text(remote, PATH_MAX_BYTES, "remote") || sv_oid(code, true)))
		rc = cairn_error_last_code();
	if (rc == 0)
		rc = store_run_code_set(s, rid, commit, branch, remote, dirty < 0 ? -1 : dirty != 0,
		                        code, (const char(*)[65])refs, n);
	free(refs);
	return rc;
}

SV_DEF(sv_run_env_set)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *oid = r_str(r);
	if (rc == 0)
		rc = wr_check(r, true, "run_env_set request");
	if (rc == 0)
		rc = sv_oid(oid, false);
	return rc ? rc : store_run_env_set(s, rid, oid);
}

SV_DEF(sv_dataset_put)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	dataset_row d = {0};
	d.name = (char *)r_text(r);
	d.path = (char *)r_str(r);
	d.role = (char *)r_str(r);
	d.algo = (char *)r_str(r);
	d.digest = (char *)r_str(r);
	d.manifest_oid = (char *)r_str(r);
	d.files = r_i64(r);
	d.bytes = r_i64(r);
	if (rc == 0)
		rc = wr_check(r, true, "dataset_put request");
	if (rc == 0)
		rc = cairn_key_validate(d.name, "dataset name");
	if (rc == 0 && (sv_text(d.path, PATH_MAX_BYTES, "dataset path") ||
	                sv_text(d.role, 32, "dataset role") || sv_text(d.algo, 32, "digest name") ||
	                sv_text(d.digest, 256, "digest") || sv_oid(d.manifest_oid, true)))
		rc = cairn_error_last_code();
	if (rc == 0 && (d.files < 0 || d.bytes < 0))
		rc = err_set(CAIRN_EINVALID, "dataset_put: negative counts");
	return rc ? rc : store_dataset_put(s, rid, &d);
}

/* --- reads ------------------------------------------------------------------------------- */

SV_DEF(sv_records_load)
{
	uint32_t n = r_count(r, 37);
	if (n > STORE_RECORD_BATCH)
		return err_set(CAIRN_EINVALID, "too many runs in one batch");
	int64_t rids[STORE_RECORD_BATCH];
	size_t k = 0;
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		/* a run the store does not have is left out, as in any backend */
		rc = sv_run(s, r, &rids[k]);
		if (rc == 0)
			k++;
		else if (rc == CAIRN_ENOTFOUND)
			rc = 0;
	}
	bool arts = r_u8(r);
	if (rc == 0)
		rc = wr_check(r, true, "records_load request");
	rec_batch *bt = NULL;
	if (rc == 0 && (rc = store_records_load(s, rids, k, arts, &bt)) == 0) {
		w_u32(out, (uint32_t)bt->n);
		for (size_t i = 0; i < bt->n; i++)
			wire_record_put(out, &bt->recs[i]);
	}
	rec_batch_unref(bt);
	return rc;
}

static void put_ids(cairn_store *s, buf *out, const int64_t *rids, size_t n)
{
	/* records_load of 256 at a time gives the ids; cheaper: run_names?  One
	 * small query per batch through the records keeps this backend-neutral */
	w_u32(out, (uint32_t)n);
	for (size_t i = 0; i < n; i += STORE_RECORD_BATCH) {
		size_t m = n - i < STORE_RECORD_BATCH ? n - i : STORE_RECORD_BATCH;
		rec_batch *bt = NULL;
		if (store_records_load(s, rids + i, m, false, &bt) != 0 || bt->n != m) {
			for (size_t j = 0; j < m; j++)
				w_str(out, "");
		} else {
			for (size_t j = 0; j < m; j++)
				w_str(out, bt->recs[j].id);
		}
		rec_batch_unref(bt);
	}
}

SV_DEF(sv_run_list_ids)
{
	cairn_list_options o = CAIRN_LIST_OPTIONS_INIT;
	o.project = r_str(r);
	o.limit = r_i64(r);
	o.include_deleted = r_u8(r);
	int rc = wr_check(r, true, "run_list_ids request");
	int64_t *rids = NULL;
	size_t n = 0;
	if (rc == 0 && (rc = store_run_list_ids(s, &o, &rids, &n)) == 0)
		put_ids(s, out, rids, n);
	free(rids);
	return rc;
}

SV_DEF(sv_query_page)
{
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.query = r_str(r);
	o.sort = r_str(r);
	o.limit = r_i64(r);
	o.offset = r_i64(r);
	o.project = r_str(r);
	o.include_deleted = r_u8(r);
	int rc = wr_check(r, true, "query_page request");
	query_compiled c;
	if (rc)
		return rc;
	rc = query_compile(&c, s, &o);
	int64_t *rids = NULL, total = 0;
	size_t n = 0;
	if (rc == 0) {
		bool own;
		store_lock(s);
		if ((rc = store_read_begin(s, &own)) == 0) {
			if ((rc = store_query_page(s, &c.sq, &rids, &n, &total)) == 0) {
				w_i64(out, total);
				put_ids(s, out, rids, n);
			}
			store_read_end(s, own);
		}
		store_unlock(s);
	}
	query_compiled_free(&c);
	free(rids);
	return rc;
}

SV_DEF(sv_query_group)
{
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.query = r_str(r);
	o.project = r_str(r);
	o.include_deleted = r_u8(r);
	const char *group = r_str(r), *metric = r_str(r);
	int rc = wr_check(r, true, "query_group request");
	cairn_group_result *g = NULL;
	if (rc == 0 && (rc = cairn_query_group(&g, s, &o, group, metric)) == 0) {
		w_i64(out, cairn_group_result_total(g));
		w_str(out, cairn_group_result_field(g));
		w_str(out, cairn_group_result_metric(g));
		w_u8(out, group_result_param(g));
		size_t n = cairn_group_result_count(g);
		w_u32(out, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			const cairn_group *x = cairn_group_result_get(g, i);
			w_value(out, &x->value);
			w_u8(out, (uint8_t)x->missing);
			w_i64(out, x->count);
			w_i64(out, x->values);
			w_f64(out, x->min);
			w_f64(out, x->mean);
			w_f64(out, x->max);
		}
	}
	cairn_group_result_free(g);
	return rc;
}

SV_DEF(sv_metric_points)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *key = r_text(r);
	if (rc == 0)
		rc = wr_check(r, true, "metric_points request");
	store_points p = {0};
	if (rc == 0 && (rc = store_metric_points(s, rid, key, &p)) == 0) {
		w_u8(out, p.known);
		w_u32(out, (uint32_t)p.n);
		buf_grow(out, p.n * 24);
		for (size_t i = 0; i < p.n; i++) {
			w_i64(out, p.step[i]);
			w_i64(out, p.ts_ms[i]);
			w_f64(out, p.value[i]);
		}
	}
	store_points_free(&p);
	return rc;
}

SV_DEF(sv_metric_sample_json)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *key = r_text(r);
	int64_t max = r_i64(r), from = r_i64(r), to = r_i64(r);
	if (rc == 0)
		rc = wr_check(r, true, "metric_sample_json request");
	if (rc == 0 && (max < 1 || max > 1000000))
		rc = err_set(CAIRN_EINVALID, "metric_sample_json: at most 1 to 1000000 points");
	buf j = BUF_INIT;
	if (rc == 0 && (rc = store_metric_sample_json(s, rid, key, (size_t)max, from, to, &j)) == 0)
		w_bytes(out, j.ptr, j.len);
	buf_free(&j);
	return rc;
}

SV_DEF(sv_project_list_json)
{
	int rc = wr_check(r, true, "project_list_json request");
	buf j = BUF_INIT;
	if (rc == 0 && (rc = store_project_list_json(s, &j)) == 0)
		w_bytes(out, j.ptr, j.len);
	buf_free(&j);
	return rc;
}

SV_DEF(sv_run_columns_json)
{
	const char *project = r_str(r);
	int rc = wr_check(r, true, "run_columns_json request");
	buf j = BUF_INIT;
	if (rc == 0 && (rc = store_run_columns_json(s, project, &j)) == 0)
		w_bytes(out, j.ptr, j.len);
	buf_free(&j);
	return rc;
}

SV_DEF(sv_artifact_lookup)
{
	int64_t rid, size = 0;
	int rc = sv_run(s, r, &rid);
	const char *path = r_text(r);
	if (rc == 0)
		rc = wr_check(r, true, "artifact_lookup request");
	char oid[CAIRN_OID_HEXSZ + 1];
	char *media = NULL;
	if (rc == 0 && (rc = store_artifact_lookup(s, rid, path, oid, &size, &media)) == 0) {
		w_str(out, oid);
		w_i64(out, size);
		w_str(out, media);
	}
	free(media);
	return rc;
}

SV_DEF(sv_run_code_oid)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	if (rc == 0)
		rc = wr_check(r, true, "run_code_oid request");
	char oid[65] = "";
	if (rc == 0 && (rc = store_run_code_oid(s, rid, oid)) == 0)
		w_str(out, oid);
	return rc;
}

SV_DEF(sv_code_map_get)
{
	uint32_t n = r_count(r, 5);
	if (n > CODE_MAP_MAX)
		return err_set(CAIRN_ETOOBIG, "code_map_get: over %d keys", CODE_MAP_MAX);
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	char(*oids)[65] = calloc(n ? n : 1, sizeof *oids);
	int64_t *sizes = calloc(n ? n : 1, sizeof *sizes);
	int rc = keys && oids && sizes ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n && rc == 0; i++)
		keys[i] = r_text(r);
	if (rc == 0)
		rc = wr_check(r, true, "code_map_get request");
	if (rc == 0 && (rc = store_code_map_get(s, keys, n, oids, sizes)) == 0) {
		w_u32(out, n);
		for (uint32_t i = 0; i < n; i++) {
			w_str(out, oids[i]);
			w_i64(out, sizes[i]);
		}
	}
	free(keys);
	free(oids);
	free(sizes);
	return rc;
}

SV_DEF(sv_dataset_list)
{
	int64_t rid;
	int rc = sv_run(s, r, &rid);
	const char *name = r_str(r);
	if (rc == 0)
		rc = wr_check(r, true, "dataset_list request");
	dataset_row *v = NULL;
	size_t n = 0;
	if (rc == 0 && (rc = store_dataset_list(s, rid, name, &v, &n)) == 0) {
		w_u32(out, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			w_str(out, v[i].name);
			w_str(out, v[i].path);
			w_str(out, v[i].role);
			w_str(out, v[i].algo);
			w_str(out, v[i].digest);
			w_str(out, v[i].manifest_oid);
			w_i64(out, v[i].files);
			w_i64(out, v[i].bytes);
		}
	}
	dataset_rows_free(v, n);
	return rc;
}

SV_DEF(sv_schema_version)
{
	int v = 0;
	int rc = wr_check(r, true, "schema_version request");
	if (rc == 0 && (rc = store_schema_version(s, &v)) == 0)
		w_i64(out, v);
	return rc;
}
