/*
 * lib/run/artifact.c — files, bytes and images logged into a run as
 * artifacts: each is put into the object store, then recorded under its
 * run-relative name with its kind and media type; and artifacts deleted,
 * their objects freed when no record needs them any more
 * (artifact_delete_free; docs/internals/store.md, "Deleting an
 * artifact").  A directory is walked
 * (nftw, physical) and every regular file under it logged under name/rel.
 * Thread-safe as the run handle; the walk is serialised (see walk_cur).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/capture/capture.h"
#include "lib/run/run.h"
#include "lib/store/capture.h"
#include "lib/store/store.h"
#include "util/fs.h"

/* --- artifacts -------------------------------------------------------------- */

static const char *media_type_of(const char *path)
{
	static const char *const map[][2] = {
	    {".png", "image/png"},
	    {".jpg", "image/jpeg"},
	    {".jpeg", "image/jpeg"},
	    {".svg", "image/svg+xml"},
	    {".gif", "image/gif"},
	    {".txt", "text/plain"},
	    {".log", "text/plain"},
	    {".md", "text/markdown"},
	    {".csv", "text/csv"},
	    {".tsv", "text/tab-separated-values"},
	    {".json", "application/json"},
	    {".yaml", "application/yaml"},
	    {".yml", "application/yaml"},
	    {".py", "text/x-python"},
	    {".ipynb", "application/x-ipynb+json"},
	    {".html", "text/html"},
	    {".c", "text/x-c"},
	    {".h", "text/x-c"},
	    {".sh", "text/x-shellscript"},
	    {".toml", "application/toml"},
	    {".pkl", "application/octet-stream"},
	    {".pdf", "application/pdf"},
	};
	const char *dot = strrchr(path_base(path), '.');
	if (dot)
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
			if (strcasecmp(dot, map[i][0]) == 0)
				return map[i][1];
	return "application/octet-stream";
}

static int artifact_file_as(cairn_run *r, const char *path, const char *name, const char *kind,
                            const char *key, int64_t step, const char *media,
                            char oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		               "cannot log artifact '%s': %s", path, strerror(errno));
	int rc;
	for (int attempt = 0;; attempt++) {
		/* (again after a purge removed the object: it is read anew) */
		rc = cairn_object_put_file(oid, r->store, path);
		if (rc == 0)
			rc = store_artifact_put(r->store, r->rid, name, oid, (int64_t)st.st_size,
			                        media ? media : media_type_of(name), kind, key,
			                        step);
		if (!object_retry(&rc, attempt)) {
			if (out_size)
				*out_size = (int64_t)st.st_size;
			return rc;
		}
	}
}

static int artifact_file(cairn_run *r, const char *path, const char *name, const char *kind,
                         const char *key, int64_t step, const char *media)
{
	char oid[CAIRN_OID_HEXSZ + 1];
	return artifact_file_as(r, path, name, kind, key, step, media, oid, NULL);
}

typedef struct walk_ctx {
	cairn_run *r;
	const char *root;
	const char *name;
	const char *kind;
	int rc;
} walk_ctx;

/* nftw has no user pointer; the walk is serialised by a lock-free hand-off
 * through this thread-local (one walk per thread at a time). */
static _Thread_local walk_ctx *walk_cur;

static int walk_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	walk_ctx *c = walk_cur;
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0; /* directories, links and special files are not stored */
	const char *rel = fpath + strlen(c->root);
	while (*rel == '/')
		rel++;
	char *full = path_join(c->name, rel);
	if (!full) {
		c->rc = err_set(CAIRN_ENOMEM, "out of memory");
		return 1;
	}
	c->rc = artifact_file(c->r, fpath, full, c->kind, NULL, CAIRN_STEP_AUTO, NULL);
	free(full);
	return c->rc ? 1 : 0;
}

int cairn_run_log_artifact_kind(cairn_run *r, const char *path, const char *name, const char *kind)
{
	if (!r || !path)
		return err_set(CAIRN_EINVALID, "no run or no path");
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		               "cannot log artifact '%s': %s", path, strerror(errno));
	if (!name || !*name)
		name = path_base(path);
	int rc = cairn_key_validate(name, "artifact name");
	if (rc)
		return rc;
	if (!relpath_is_safe(name))
		return err_set(CAIRN_EINVALID, "artifact name '%s' is not a clean relative path",
		               name);
	if (!kind)
		kind = CAIRN_ARTIFACT_FILE;
	if (S_ISREG(st.st_mode))
		return artifact_file(r, path, name, kind, NULL, CAIRN_STEP_AUTO, NULL);
	if (!S_ISDIR(st.st_mode))
		return err_set(CAIRN_EINVALID, "cannot log artifact '%s': not a file or directory",
		               path);
	walk_ctx c = {r, path, name, kind, 0};
	walk_ctx *saved = walk_cur;
	walk_cur = &c;
	int w = nftw(path, walk_cb, 32, FTW_PHYS);
	walk_cur = saved;
	if (c.rc)
		return c.rc;
	if (w != 0)
		return err_set(CAIRN_EIO, "cannot walk '%s': %s", path, strerror(errno));
	return 0;
}

/* NAME@vK: version K of a versioned artifact NAME (0 when name is not one). */
static int64_t version_of(const char *name, const char *base)
{
	size_t n = strlen(base);
	if (strncmp(name, base, n) != 0 || strncmp(name + n, "@v", 2) != 0)
		return 0;
	const char *d = name + n + 2;
	int64_t v = 0;
	for (; *d >= '0' && *d <= '9' && v < INT64_MAX / 10; d++)
		v = v * 10 + (*d - '0');
	return *d || d == name + n + 2 ? 0 : v;
}

int cairn_run_log_artifact_keep(cairn_run *r, const char *path, const char *name, int keep_last)
{
	if (!r || !path)
		return err_set(CAIRN_EINVALID, "no run or no path");
	if (keep_last < 1)
		return err_set(CAIRN_EINVALID, "keep_last must be at least 1, not %d", keep_last);
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		               "cannot log artifact '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(CAIRN_EINVALID,
		               "cannot keep versions of '%s': only a file has versions", path);
	if (!name || !*name)
		name = path_base(path);
	int rc = cairn_key_validate(name, "artifact name");
	if (rc)
		return rc;
	if (!relpath_is_safe(name) || strlen(name) > 4000)
		return err_set(CAIRN_EINVALID, "artifact name '%s' is not a clean relative path",
		               name);
	/* the versions logged so far */
	cairn_run_record *rec = NULL;
	if ((rc = cairn_run_record_get(&rec, r->store, r->id, CAIRN_RECORD_ARTIFACTS)) != 0)
		return rc;
	int64_t last = 0;
	for (size_t i = 0; i < cairn_run_record_artifact_count(rec); i++) {
		int64_t v = version_of(cairn_run_record_artifact(rec, i)->path, name);
		if (v > last)
			last = v;
	}
	char vname[4096 + 32], oid[CAIRN_OID_HEXSZ + 1];
	snprintf(vname, sizeof vname, "%s@v%lld", name, (long long)(last + 1));
	int64_t size = 0;
	/* the new version, then NAME naming the same object (the latest) */
	if ((rc = artifact_file_as(r, path, vname, CAIRN_ARTIFACT_FILE, NULL, CAIRN_STEP_AUTO, NULL,
	                           oid, &size)) == 0)
		rc = store_artifact_put(r->store, r->rid, name, oid, size, media_type_of(name),
		                        CAIRN_ARTIFACT_FILE, NULL, CAIRN_STEP_AUTO);
	/* then the versions past the last keep_last go, with their bytes */
	for (size_t i = 0; rc == 0 && i < cairn_run_record_artifact_count(rec); i++) {
		const char *p = cairn_run_record_artifact(rec, i)->path;
		int64_t v = version_of(p, name);
		if (v > 0 && v <= last + 1 - keep_last)
			rc = artifact_delete_free(r->store, r->rid, p, NULL, NULL);
	}
	cairn_run_record_free(rec);
	return rc;
}

int cairn_artifact_is_capture(const char *kind)
{
	return kind &&
	       (strcmp(kind, CAIRN_ARTIFACT_LOG) == 0 || strcmp(kind, CAIRN_ARTIFACT_CONFIG) == 0 ||
	        strcmp(kind, CAIRN_ARTIFACT_ENV) == 0);
}

int cairn_run_log_artifact(cairn_run *r, const char *path, const char *name)
{
	return cairn_run_log_artifact_kind(r, path, name, CAIRN_ARTIFACT_FILE);
}

int cairn_run_log_artifact_buf(cairn_run *r, const void *data, size_t len, const char *name,
                               const char *kind)
{
	if (!r || (!data && len))
		return err_set(CAIRN_EINVALID, "no run or no data");
	int rc = cairn_key_validate(name, "artifact name");
	if (rc)
		return rc;
	if (!relpath_is_safe(name))
		return err_set(CAIRN_EINVALID, "artifact name '%s' is not a clean relative path",
		               name);
	char oid[CAIRN_OID_HEXSZ + 1];
	for (int attempt = 0;; attempt++) {
		rc = cairn_object_put_buf(oid, r->store, data ? data : "", len);
		if (rc == 0)
			rc = store_artifact_put(
			    r->store, r->rid, name, oid, (int64_t)len, media_type_of(name),
			    kind ? kind : CAIRN_ARTIFACT_FILE, NULL, CAIRN_STEP_AUTO);
		if (!object_retry(&rc, attempt))
			return rc;
	}
}

int artifact_delete_free(cairn_store *s, int64_t rid, const char *path, int64_t *out_removed,
                         size_t *out_freed)
{
	if (out_removed)
		*out_removed = 0;
	if (out_freed)
		*out_freed = 0;
	if (*path && (strlen(path) > 4096 || !relpath_is_safe(path)))
		return err_set(CAIRN_EINVALID,
		               "artifact path '%.200s' is not a clean relative path", path);
	/* a remote store's server frees the objects itself (serve-data.c) */
	if (store_is_remote(s))
		return store_artifact_delete(s, rid, path, NULL, out_removed, NULL);
	int rc = 0;
	/* the code record is read outside the write, then checked unchanged
	 * inside it; once more if a capture slipped in between */
	for (int attempt = 0; attempt < 2; attempt++) {
		char code_oid[65];
		buf keep = BUF_INIT, orphans = BUF_INIT;
		if ((rc = store_run_code_oid(s, rid, code_oid)) == 0 && code_oid[0])
			rc = code_refs_collect(s, code_oid, &keep);
		store_art_keep k = {code_oid, keep.ptr};
		if (rc == 0)
			rc = store_artifact_delete(s, rid, path, &k, out_removed, &orphans);
		if (rc == 0 && orphans.len)
			rc = store_objects_sweep(s, &orphans, out_freed);
		buf_free(&keep);
		buf_free(&orphans);
		if (rc != CAIRN_ECONFLICT)
			break;
	}
	return rc;
}

int cairn_run_delete_artifact(cairn_run *r, const char *path, int64_t *out_removed)
{
	if (out_removed)
		*out_removed = 0;
	if (!r || !path)
		return err_set(CAIRN_EINVALID, "no run or no path");
	return artifact_delete_free(r->store, r->rid, path, out_removed, NULL);
}

int cairn_artifact_delete(cairn_store *s, const char *id, const char *path, int64_t *out_removed,
                          size_t *out_freed)
{
	if (out_removed)
		*out_removed = 0;
	if (out_freed)
		*out_freed = 0;
	if (!s || !id || !path)
		return err_set(CAIRN_EINVALID, "no store, run or path");
	int64_t rid;
	char full[33];
	int rc = store_run_lookup(s, id, false, &rid, full);
	return rc ? rc : artifact_delete_free(s, rid, path, out_removed, out_freed);
}

/* Recognise an image by its first bytes; returns the extension or NULL. */
static const char *image_kind(const unsigned char *p, size_t n, const char **media)
{
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
		*media = "image/png";
		return "png";
	}
	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
		*media = "image/jpeg";
		return "jpg";
	}
	/* SVG: XML text whose first element is <svg (allow a prolog) */
	size_t lim = n < 1024 ? n : 1024;
	for (size_t i = 0; i + 4 <= lim; i++) {
		if (memcmp(p + i, "<svg", 4) == 0) {
			*media = "image/svg+xml";
			return "svg";
		}
	}
	return NULL;
}

static int image_name(char *out, size_t n, const char *key, int64_t step, const char *ext)
{
	if (step == CAIRN_STEP_AUTO)
		snprintf(out, n, "images/%s.%s", key, ext);
	else
		snprintf(out, n, "images/%s/%08lld.%s", key, (long long)step, ext);
	return 0;
}

/* Validate an image's key, step and content; names its artifact path. */
static int image_check(const char *key, int64_t step, const void *head, size_t n, const char *what,
                       char *name, size_t namesz, const char **media)
{
	int rc = cairn_key_validate(key, "image key");
	if (rc)
		return rc;
	if (step != CAIRN_STEP_AUTO && step < 0)
		return err_set(CAIRN_EINVALID, "image '%s': negative step", key);
	const char *ext = image_kind(head, n, media);
	if (!ext)
		return err_set(CAIRN_EINVALID, "%s is not a PNG, JPEG or SVG image", what);
	image_name(name, namesz, key, step, ext);
	return 0;
}

int cairn_run_log_image_buf(cairn_run *r, const char *key, const void *data, size_t len,
                            int64_t step)
{
	char name[KEY_MAX + 64], oid[CAIRN_OID_HEXSZ + 1], what[KEY_MAX + 16];
	const char *media = NULL;
	if (!r || !data)
		return err_set(CAIRN_EINVALID, "no run or no image data");
	snprintf(what, sizeof what, "image '%s'", key ? key : "");
	int rc = image_check(key, step, data, len, what, name, sizeof name, &media);
	if (rc)
		return rc;
	for (int attempt = 0;; attempt++) {
		rc = cairn_object_put_buf(oid, r->store, data, len);
		if (rc == 0)
			rc = store_artifact_put(r->store, r->rid, name, oid, (int64_t)len, media,
			                        CAIRN_ARTIFACT_IMAGE, key, step);
		if (!object_retry(&rc, attempt))
			return rc;
	}
}

int cairn_run_log_image(cairn_run *r, const char *key, const char *path, int64_t step)
{
	char name[KEY_MAX + 64], what[4200];
	const char *media = NULL;
	unsigned char head[1024];
	if (!r || !path)
		return err_set(CAIRN_EINVALID, "no run or no path");
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		               "cannot read image '%s': %s", path, strerror(errno));
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	snprintf(what, sizeof what, "'%s'", path);
	int rc = image_check(key, step, head, n, what, name, sizeof name, &media);
	if (rc)
		return rc;
	return artifact_file(r, path, name, CAIRN_ARTIFACT_IMAGE, key, step, media);
}
