/*
 * lib/store/remote/objects.c — where a remote store's objects are
 * (lib/store/objects.h): on the server, reached by
 *   HEAD /api/v1/objects/OID   is it there (present; the upload's check)
 *   PUT  /api/v1/objects/OID   a streamed upload from the temp file, never
 *                              whole in memory; the server hashes what it
 *                              receives and refuses bytes that are not OID
 *   GET  /api/v1/objects/OID   a streamed download (path)
 * and a local cache of the objects this machine wrote or read, the same
 * one a bucket uses ($XDG_CACHE_HOME/cairn/objects, objects-s3.c): objects
 * are content-addressed, so a cache file is right whatever server it came
 * from, and removing any of it is always safe.
 *
 * Uploads are skipped when the server has the object (HEAD first), so a
 * code snapshot sends only the files the server has not seen.  While the
 * server does not answer, an object to publish is kept beside the journal
 * (spool_object) and uploaded before the writes that reference it when the
 * journal is replayed.  The server is the one that decides whether an
 * object is present, never the cache.
 * Thread-safety: the calls take the store's lock (the connection is the
 * handle's); the object calls of objects.c are made without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/store/objects.h"
#include "lib/store/remote/remote.h"
#include "util/fs.h"
#include "util/sha.h"

static void obj_path(char *out, size_t n, const char *oid)
{
	snprintf(out, n, "/api/v1/objects/%s", oid);
}

/* 1 there, 0 absent, SPOOL_DOWN no answer, else an error. */
int remote_object_head(remote_be *be, const char *oid)
{
	char p[128];
	http_result res;
	obj_path(p, sizeof p, oid);
	int rc = http_once(be, "HEAD", p, NULL, 0, NULL, &res);
	if (http_retryable(rc, &res))
		return SPOOL_DOWN;
	if (rc)
		return rc;
	if (res.status == 200)
		return 1;
	if (res.status == 404)
		return 0;
	return err_set(CAIRN_ESTORE, "the server at %s answered HTTP %ld to HEAD %s", be->base,
	               res.status, p);
}

int remote_object_put(remote_be *be, const char *file, const char *oid)
{
	struct stat st;
	if (stat(file, &st) != 0)
		return err_set(CAIRN_EIO, "cannot read '%s': %s", file, strerror(errno));
	int there = remote_object_head(be, oid);
	if (there != 0)
		return there == 1 ? 0 : there;
	char p[128];
	http_result res;
	obj_path(p, sizeof p, oid);
	int rc = http_put_file(be, p, file, (int64_t)st.st_size, &res);
	if (http_retryable(rc, &res))
		return SPOOL_DOWN;
	if (rc)
		return rc;
	if (res.status == 200 || res.status == 201 || res.status == 204)
		return 0;
	wr r;
	if (res.wire) {
		wr_init(&r, be->reply.ptr, be->reply.len);
		if ((rc = r_reply(&r)) != 0)
			return rc;
	}
	return err_set(CAIRN_ESTORE, "the server at %s refused object %.12s… (HTTP %ld)", be->base,
	               oid, res.status);
}

static bool ro_present(cairn_store *s, const char *oid)
{
	store_lock(s);
	remote_be *be = remote_of(s);
	int there = be->offline ? 0 : remote_object_head(be, oid);
	if (there == SPOOL_DOWN)
		remote_offline(be);
	store_unlock(s);
	return there == 1;
}

/* Move (or link) a file holding oid's bytes into the cache. */
static void cache_put(cairn_store *s, const char *tmp, const char *oid, bool keep)
{
	char *final = object_file_in(s->objects_dir, oid);
	if (final) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%.2s", s->objects_dir, oid);
		mkdir(dir, 0777);
		chmod(tmp, 0444);
		if (keep ? link(tmp, final) != 0 : rename(tmp, final) != 0)
			if (!keep)
				unlink(tmp);
	} else if (!keep) {
		unlink(tmp);
	}
	free(final);
}

static int ro_publish(cairn_store *s, const char *tmp, const char *oid, bool keep)
{
	store_lock(s);
	remote_be *be = remote_of(s);
	int rc = be->offline || spool_pending(s) ? SPOOL_DOWN : remote_object_put(be, tmp, oid);
	if (rc == SPOOL_DOWN) {
		remote_offline(be);
		rc = spool_object(s, tmp, oid);
	}
	store_unlock(s);
	if (rc == 0)
		cache_put(s, tmp, oid, keep);
	else if (!keep)
		unlink(tmp);
	return rc;
}

static int ro_path(cairn_store *s, const char *oid, uint64_t cap, char **out)
{
	char *final = object_file_in(s->objects_dir, oid);
	if (!final)
		return err_set(CAIRN_ENOMEM, "out of memory");
	struct stat st;
	if (stat(final, &st) == 0) {
		if (cap && (uint64_t)st.st_size > cap) {
			free(final);
			return err_set(CAIRN_ETOOBIG, "object %s is larger than %llu bytes", oid,
			               (unsigned long long)cap);
		}
		*out = final;
		return 0;
	}
	char *tmp = NULL;
	sha_ctx *h = NULL;
	int rc = 0, fd = object_temp_open(s, &tmp);
	if (fd < 0) {
		free(final);
		return cairn_error_last_code();
	}
	if (!(h = sha_new())) {
		rc = sha_error() ? err_set(CAIRN_ERROR, "%s", sha_error())
		                 : err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	char p[128];
	http_result res;
	obj_path(p, sizeof p, oid);
	store_lock(s);
	remote_be *be = remote_of(s);
	rc = http_get_fd(be, p, fd, cap, h, &res);
	store_unlock(s);
	if (rc)
		goto done;
	if (res.status == 404) {
		rc = err_set(CAIRN_ENOTFOUND, "object %s is not on the server", oid);
		goto done;
	}
	if (res.status != 200) {
		rc = err_set(CAIRN_ESTORE, "the server at %s answered HTTP %ld to GET %s", be->base,
		             res.status, p);
		goto done;
	}
	char got[65];
	sha_final_hex(h, got);
	h = NULL;
	if (close(fd) != 0) {
		fd = -1;
		rc = err_set(CAIRN_EIO, "cannot write the object cache: %s", strerror(errno));
		goto done;
	}
	fd = -1;
	if (strcmp(got, oid) != 0) {
		rc = err_set(CAIRN_ESTORE, "the server sent other bytes for object %s (SHA-256 %s)",
		             oid, got);
		goto done;
	}
	cache_put(s, tmp, oid, true);
	if (stat(final, &st) != 0) {
		*out = tmp;
		tmp = NULL;
	} else {
		*out = final;
		final = NULL;
	}
done:
	if (fd >= 0)
		close(fd);
	sha_free(h);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(final);
	return rc;
}

static void ro_remove(cairn_store *s, const char *oid)
{
	/* a purge runs on the server, which removes its objects itself */
}

static int ro_url(cairn_store *s, const char *oid, int expires, const char *disposition,
                  const char *content_type, char **out)
{
	return err_set(CAIRN_EINVALID,
	               "the objects of store '%s' are behind its server, which "
	               "gives no presigned URLs",
	               s->dir);
}

static void ro_close(cairn_store *s)
{
	s->obj = NULL;
}

const object_ops objects_remote_ops = {
    .name = "remote",
    .present = ro_present,
    .publish = ro_publish,
    .path = ro_path,
    .remove = ro_remove,
    .url = ro_url,
    .close = ro_close,
};

int objects_remote_attach(cairn_store *s)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char p[4096];
	if (xdg && *xdg)
		snprintf(p, sizeof p, "%s/cairn/objects", xdg);
	else if (home && *home)
		snprintf(p, sizeof p, "%s/.cache/cairn/objects", home);
	else
		return err_set(CAIRN_EINVALID,
		               "a store behind a server needs a local cache of objects: set "
		               "XDG_CACHE_HOME or HOME");
	int e = mkdir_p(p);
	if (e)
		return err_set(CAIRN_EIO, "cannot make the object cache '%s': %s", p, strerror(-e));
	char *dir = strdup(p), *loc = malloc(strlen(remote_of(s)->base) + 20);
	if (!dir || !loc) {
		free(dir);
		free(loc);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	sprintf(loc, "%s/api/v1/objects", remote_of(s)->base);
	free(s->objects_dir);
	s->objects_dir = dir;
	free(s->objects_loc);
	s->objects_loc = loc;
	s->obj_ops = &objects_remote_ops;
	return 0;
}
