/*
 * lib/store/objects-cache.c — the local cache of a place whose objects are
 * elsewhere: a bucket (objects-s3.c) or a server (remote/objects.c).
 * s->objects_dir holds objects named as in objects/ (ab/cdef…); a file
 * there is always whole and right, because it is renamed in only after its
 * SHA-256 was checked against its name, and objects never change.  So
 * removing any part of the cache is always safe; it has no eviction yet.
 * Thread-safety: any thread; files are only ever renamed or linked in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/store/objects.h"
#include "util/sha.h"

char *object_cache_user_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char p[4096];
	if (xdg && *xdg)
		snprintf(p, sizeof p, "%s/cairn/objects", xdg);
	else if (home && *home)
		snprintf(p, sizeof p, "%s/.cache/cairn/objects", home);
	else
		return NULL;
	return strdup(p);
}

void object_cache_put(cairn_store *s, const char *tmp, const char *oid, bool keep)
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

int object_cache_path(cairn_store *s, const char *oid, uint64_t cap, object_fetch_fn fetch,
                      const char *from, char **out)
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
	if ((rc = fetch(s, oid, fd, cap, h)) != 0)
		goto done;
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
		rc = err_set(CAIRN_ESTORE, "object %s from %s holds other bytes (SHA-256 %s)", oid,
		             from, got);
		goto done;
	}
	object_cache_put(s, tmp, oid, true);
	if (stat(final, &st) != 0) {
		/* the cache cannot hold it (no hard links?): hand out the temp file */
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
