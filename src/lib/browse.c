/*
 * lib/browse.c — the public reads of cairn/browse.h: argument checks, run
 * lookup and the pending-metrics flush, then the SQL of store-browse.c.
 * Thread-safe like every call on a cairn_store.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/browse.h"
#include "util/fs.h"

static int finish(char **out, buf *b, int rc)
{
	if (rc == 0 && !buf_ok(b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc) {
		buf_free(b);
		return rc;
	}
	*out = buf_detach(b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_project_list_json(char **out, cairn_store *s)
{
	buf b = BUF_INIT;
	*out = NULL;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	return finish(out, &b, store_project_list_json(s, &b));
}

int cairn_run_columns_json(char **out, cairn_store *s, const char *project)
{
	buf b = BUF_INIT;
	*out = NULL;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	writer_flush(s);
	return finish(out, &b, store_run_columns_json(s, project, &b));
}

int cairn_run_metric_sample_json(char **out, cairn_store *s, const char *id, const char *key,
                                 size_t max_points)
{
	return cairn_run_metric_window_json(out, s, id, key, max_points, SAMPLE_ALL_FROM,
	                                    SAMPLE_ALL_TO);
}

int cairn_run_metric_window_json(char **out, cairn_store *s, const char *id, const char *key,
                                 size_t max_points, int64_t from, int64_t to)
{
	int64_t rid;
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	buf b = BUF_INIT;
	*out = NULL;
	if (!s || !key)
		return err_set(CAIRN_EINVALID, "no store or no metric key");
	int rc = cairn_key_validate(key, "metric key");
	if (rc)
		return rc;
	writer_flush(s);
	rc = store_run_lookup(s, id, false, &rid, full);
	if (rc == 0)
		rc = store_metric_sample_json(s, rid, key, max_points, from, to, &b);
	return finish(out, &b, rc);
}

int cairn_artifact_lookup(char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size,
                          char **out_media_type, cairn_store *s, const char *id, const char *path)
{
	int64_t rid;
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	*out_media_type = NULL;
	out_oid[0] = '\0';
	*out_size = 0;
	if (!s || !path)
		return err_set(CAIRN_EINVALID, "no store or no path");
	if (strlen(path) > 4096 || !relpath_is_safe(path))
		return err_set(CAIRN_EINVALID,
		               "artifact path '%.200s' is not a clean relative path", path);
	int rc = store_run_lookup(s, id, false, &rid, full);
	if (rc)
		return rc;
	return store_artifact_lookup(s, rid, path, out_oid, out_size, out_media_type);
}
