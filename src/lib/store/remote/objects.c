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
		object_cache_put(s, tmp, oid, keep);
	else if (!keep)
		unlink(tmp);
	return rc;
}

static int ro_fetch(cairn_store *s, const char *oid, int fd, uint64_t cap, sha_ctx *h)
{
	char p[128];
	http_result res;
	obj_path(p, sizeof p, oid);
	store_lock(s);
	remote_be *be = remote_of(s);
	int rc = http_get_fd(be, p, fd, cap, h, &res);
	store_unlock(s);
	if (rc)
		return rc;
	if (res.status == 404)
		return err_set(CAIRN_ENOTFOUND, "object %s is not on the server", oid);
	if (res.status != 200)
		return err_set(CAIRN_ESTORE, "the server at %s answered HTTP %ld to GET %s",
		               be->base, res.status, p);
	return 0;
}

static int ro_path(cairn_store *s, const char *oid, uint64_t cap, char **out)
{
	return object_cache_path(s, oid, cap, ro_fetch, "the server", out);
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
	char *dir = object_cache_user_dir();
	if (!dir)
		return err_set(CAIRN_EINVALID,
		               "a store behind a server needs a local cache of objects: set "
		               "XDG_CACHE_HOME or HOME");
	int e = mkdir_p(dir);
	if (e) {
		int rc =
		    err_set(CAIRN_EIO, "cannot make the object cache '%s': %s", dir, strerror(-e));
		free(dir);
		return rc;
	}
	char *loc = malloc(strlen(remote_of(s)->base) + 20);
	if (!loc) {
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
