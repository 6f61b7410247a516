/*
 * lib/store/objects-s3.c — objects in an S3 bucket (lib/store/objects.h):
 * key prefix/ab/cdef… in s3://bucket/prefix, the same layout as objects/,
 * so a directory of objects and a bucket can be copied into each other with
 * any S3 tool.
 *
 * A local cache keeps the objects this machine wrote or read, named the
 * same way under the cache directory: DIR/cache/objects for a store in a
 * directory, else $XDG_CACHE_HOME/cairn/objects (~/.cache/cairn/objects).
 * That is what cairn_object_path answers for a bucket: a local file that
 * stays valid, because an object never changes.  A download streams into a
 * temp file in the cache, is hashed on the way, and is renamed into the
 * cache only when its SHA-256 is its name, so a cache file is always whole
 * and right whoever else wrote to the bucket.  A cache file may outlive a
 * purge of its object (removing the cache, any part of it, is always safe;
 * it has no eviction yet).  Only the bucket decides whether an object is
 * there (present: a HEAD), never the cache.
 *
 * (The cache is objects-cache.c's, shared with a store behind a server.)
 *
 * Publishing: HEAD, then a streamed PUT from the temp file when the key is
 * absent (a multipart upload above 64 MiB: s3.c; a PUT of a key that exists
 * would be harmless too: same name, same bytes), then the temp file moves into the cache (linked
 * when the caller keeps it).
 *
 * The client (credentials, libcurl) is made on first use, so a store
 * whose objects are in a bucket opens, lists and queries without either.
 * Thread-safety: the client is made under `mu`; s3_client is thread-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/store/objects.h"
#include "lib/store/s3/s3.h"
#include "util/fs.h"
#include "util/sha.h"

typedef struct s3_objects {
	char *uri;
	pthread_mutex_t mu;
	s3_client *c; /* NULL until first use */
} s3_objects;

static int client(cairn_store *s, s3_client **out)
{
	s3_objects *o = s->obj;
	pthread_mutex_lock(&o->mu);
	int rc = o->c ? 0 : s3_open(&o->c, o->uri);
	*out = o->c;
	pthread_mutex_unlock(&o->mu);
	return rc;
}

static bool s3o_present(cairn_store *s, const char *oid)
{
	s3_client *c;
	return client(s, &c) == 0 && s3_head(c, oid) == 1;
}

static int s3o_publish(cairn_store *s, const char *tmp, const char *oid, bool keep)
{
	s3_client *c;
	struct stat st;
	int rc = client(s, &c);
	if (rc == 0 && stat(tmp, &st) != 0)
		rc = err_set(CAIRN_EIO, "cannot store object: %s", strerror(errno));
	int there = rc == 0 ? s3_head(c, oid) : rc;
	if (there < 0)
		rc = there;
	else if (there == 0 && rc == 0)
		rc = s3_put_file(c, oid, tmp, (int64_t)st.st_size);
	if (rc == 0)
		object_cache_put(s, tmp, oid, keep);
	else if (!keep)
		unlink(tmp);
	return rc;
}

static int s3o_fetch(cairn_store *s, const char *oid, int fd, uint64_t cap, sha_ctx *h)
{
	s3_client *c;
	int rc = client(s, &c);
	return rc ? rc : s3_get_fd(c, oid, fd, cap, h, NULL);
}

static int s3o_path(cairn_store *s, const char *oid, uint64_t cap, char **out)
{
	return object_cache_path(s, oid, cap, s3o_fetch, "the bucket", out);
}

static void s3o_remove(cairn_store *s, const char *oid)
{
	s3_client *c;
	if (client(s, &c) == 0)
		s3_delete(c, oid);
	char *p = object_file_in(s->objects_dir, oid);
	if (p)
		unlink(p);
	free(p);
}

static int s3o_url(cairn_store *s, const char *oid, int expires, const char *disposition,
                   const char *content_type, char **out)
{
	s3_client *c;
	int rc = client(s, &c);
	return rc ? rc : s3_presign(c, oid, expires, disposition, content_type, out);
}

static void s3o_close(cairn_store *s)
{
	s3_objects *o = s->obj;
	if (!o)
		return;
	s3_close(o->c);
	pthread_mutex_destroy(&o->mu);
	free(o->uri);
	free(o);
	s->obj = NULL;
}

const object_ops objects_s3_ops = {
    .name = "s3",
    .present = s3o_present,
    .publish = s3o_publish,
    .path = s3o_path,
    .remove = s3o_remove,
    .url = s3o_url,
    .close = s3o_close,
};

static char *cache_dir(cairn_store *s)
{
	if (s->dir && path_is_dir(s->dir))
		return path_join(s->dir, "cache/objects");
	return object_cache_user_dir();
}

int objects_s3_open(cairn_store *s, const char *uri)
{
	char *b, *p;
	int rc = s3_uri_parse(uri, &b, &p);
	free(b);
	free(p);
	if (rc)
		return rc;
	char *cache = cache_dir(s);
	if (!cache)
		return err_set(CAIRN_EINVALID,
		               "objects in %s need a local cache: set XDG_CACHE_HOME or HOME", uri);
	s3_objects *o = calloc(1, sizeof *o);
	if (!o || !(o->uri = strdup(uri))) {
		free(o);
		free(cache);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&o->mu, NULL);
	free(s->objects_dir);
	s->objects_dir = cache;
	s->obj = o;
	s->obj_ops = &objects_s3_ops;
	return 0;
}

int objects_s3_check(const char *uri)
{
	s3_client *c;
	int rc = s3_open(&c, uri);
	if (rc == 0)
		rc = s3_check(c);
	s3_close(c);
	return rc;
}
