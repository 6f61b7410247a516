/*
 * lib/store/objects-dir.c — objects in a directory: objects/ab/cdef…
 * (lib/store/objects.h).
 *
 * A finished temp file (objects/tmp/obj-XXXXXX) is renamed into place, or
 * hard-linked when the caller keeps it, so an object file is either whole
 * or absent; publishing one that exists already is a no-op.  Objects are
 * immutable (mode 0444).  Thread- and process-safe: rename is atomic, and
 * equal names mean equal bytes.  No state of its own (s->obj is NULL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/store/objects.h"

static int dir_publish(cairn_store *s, const char *tmp, const char *oid, bool keep)
{
	char *final = object_file_in(s->objects_dir, oid);
	if (!final) {
		if (!keep)
			unlink(tmp);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	struct stat st;
	if (stat(final, &st) == 0) {
		if (!keep)
			unlink(tmp); /* already stored: same name, same bytes */
		free(final);
		return 0;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%.2s", s->objects_dir, oid);
	mkdir(dir, 0777);
	chmod(tmp, 0444);
	int r = keep ? link(tmp, final) : rename(tmp, final);
	if (r != 0 && keep && errno == EEXIST)
		r = 0; /* another writer of the same bytes was first */
	if (r != 0 && keep && errno != ENOENT) {
		/* no hard links here (some FUSE and network file systems): move
		 * it; a rewrite after a purge then has no source and gives up */
		r = rename(tmp, final);
	}
	if (r != 0) {
		int e = errno;
		if (!keep)
			unlink(tmp);
		free(final);
		return err_set(CAIRN_EIO, "cannot store object: %s", strerror(e));
	}
	free(final);
	return 0;
}

static bool dir_present(cairn_store *s, const char *oid)
{
	char *p = object_file_in(s->objects_dir, oid);
	struct stat st;
	bool there = p && stat(p, &st) == 0;
	free(p);
	return there;
}

static int dir_path(cairn_store *s, const char *oid, uint64_t cap, char **out)
{
	char *p = object_file_in(s->objects_dir, oid);
	if (!p)
		return err_set(CAIRN_ENOMEM, "out of memory");
	struct stat st;
	if (stat(p, &st) != 0) {
		free(p);
		return err_set(CAIRN_ENOTFOUND, "object %s is missing from the store", oid);
	}
	if (cap && (uint64_t)st.st_size > cap) {
		free(p);
		return err_set(CAIRN_ETOOBIG, "object %s is larger than %llu bytes", oid,
		               (unsigned long long)cap);
	}
	*out = p;
	return 0;
}

static void dir_remove(cairn_store *s, const char *oid)
{
	char *p = object_file_in(s->objects_dir, oid);
	if (p) {
		unlink(p);
		free(p);
	}
}

static int dir_url(cairn_store *s, const char *oid, int expires, const char *disposition,
                   const char *content_type, char **out)
{
	return err_set(CAIRN_EINVALID,
	               "the objects of store '%s' are in a directory, which has no URLs", s->dir);
}

static void dir_close(cairn_store *s)
{
}

const object_ops objects_dir_ops = {
    .name = "dir",
    .present = dir_present,
    .publish = dir_publish,
    .path = dir_path,
    .remove = dir_remove,
    .url = dir_url,
    .close = dir_close,
};
