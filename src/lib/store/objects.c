/*
 * lib/store/objects.c — the content-addressed object store, written once
 * over the place the objects live in (lib/store/objects.h: a directory, or
 * an S3 bucket), and the choice of that place when a store opens.
 *
 * An object is named by the SHA-256 of its bytes.  It is written to a temp
 * file in objects_dir/tmp/ (hashed while copied, so the name is the hash
 * of exactly the bytes stored), then published by the place: renamed into
 * objects/ab/cdef…, or uploaded to the bucket; publishing one that exists
 * already is a no-op.
 *
 * Writing an object and referencing it are two steps, and a purge may remove
 * an unreferenced object between them (the writer found the file there and
 * skipped writing it).  So the store checks, inside the write transaction
 * that records a reference, that the object is still there (object_present),
 * and a writer whose object vanished writes it again and retries
 * (object_retry); purge removes objects only inside a write transaction,
 * after checking again that nothing references them.  The protocol and why
 * it is safe: docs/internals/store.md, "Objects, references and purge".
 * Thread- and process-safe as the place is (objects.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/store/backend.h"
#include "lib/store/objects.h"
#include "lib/store/remote/remote.h"
#include "lib/store/s3/s3.h"
#include "lib/store/store.h"
#include "util/fs.h"
#include "util/sha.h"

bool oid_valid(const char *oid)
{
	return hex_is(oid, CAIRN_OID_HEXSZ);
}

char *object_file_in(const char *dir, const char *oid)
{
	size_t n = strlen(dir) + CAIRN_OID_HEXSZ + 3;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%.2s/%s", dir, oid, oid + 2);
	return p;
}

/* Open a fresh temp file in objects/tmp. */
static int temp_open(cairn_store *s, char **out_path)
{
	char *dir = path_join(s->objects_dir, "tmp");
	if (!dir)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int e = mkdir_p(dir);
	if (e) {
		err_set(CAIRN_EIO, "cannot write to the object store '%s': %s", s->objects_dir,
		        strerror(-e));
		free(dir);
		return -1;
	}
	char *tmpl = path_join(dir, "obj-XXXXXX");
	free(dir);
	if (!tmpl)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		err_set(CAIRN_EIO, "cannot write to the object store '%s': %s", s->objects_dir,
		        strerror(errno));
		free(tmpl);
		return -1;
	}
	*out_path = tmpl;
	return fd;
}

static int publish(cairn_store *s, const char *tmp, const char *oid, bool keep)
{
	return s->obj_ops->publish(s, tmp, oid, keep);
}

int cairn_object_put_buf(char out_oid[CAIRN_OID_HEXSZ + 1], cairn_store *s, const void *data,
                         size_t len)
{
	char *tmp = NULL;
	if (sha_buf_hex(data, len, out_oid) != 0)
		return err_set(CAIRN_ERROR, "%s", sha_error());
	if (s->obj_ops->present(s, out_oid))
		return 0;
	int fd = temp_open(s, &tmp);
	if (fd < 0)
		return cairn_error_last_code();
	int e = fd_write_all(fd, data, len);
	if (close(fd) != 0 && !e)
		e = -errno;
	if (e) {
		unlink(tmp);
		free(tmp);
		return err_set(CAIRN_EIO, "cannot store object: %s", strerror(-e));
	}
	int rc = publish(s, tmp, out_oid, false);
	free(tmp);
	return rc;
}

int cairn_object_put_file(char out_oid[CAIRN_OID_HEXSZ + 1], cairn_store *s, const char *path)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_set(errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
		               "cannot read '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(in, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(in);
		return err_set(CAIRN_EINVALID, "'%s' is not a regular file", path);
	}
	char *tmp = NULL;
	int out = temp_open(s, &tmp);
	if (out < 0) {
		close(in);
		return cairn_error_last_code();
	}
	sha_ctx *h = sha_new();
	size_t bsz = 1 << 20;
	char *blk = malloc(bsz);
	int rc = 0;
	if (!h || !blk) {
		rc = !h && sha_error() ? err_set(CAIRN_ERROR, "%s", sha_error())
		                       : err_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t r = read(in, blk, bsz);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = err_set(CAIRN_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		sha_update(h, blk, (size_t)r);
		int e = fd_write_all(out, blk, (size_t)r);
		if (e) {
			rc = err_set(CAIRN_EIO, "cannot store '%s': %s", path, strerror(-e));
			goto fail;
		}
	}
	sha_final_hex(h, out_oid);
	h = NULL;
	free(blk);
	close(in);
	if (close(out) != 0) {
		rc = err_set(CAIRN_EIO, "cannot store '%s': %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	rc = publish(s, tmp, out_oid, false);
	free(tmp);
	return rc;
fail:
	sha_free(h);
	free(blk);
	close(in);
	close(out);
	unlink(tmp);
	free(tmp);
	return rc;
}

static int object_fetch(char **out_path, cairn_store *s, const char *oid, uint64_t cap)
{
	*out_path = NULL;
	if (!oid_valid(oid))
		return err_set(CAIRN_EINVALID, "invalid object id '%.70s'", oid ? oid : "");
	return s->obj_ops->path(s, oid, cap, out_path);
}

int cairn_object_path(char **out_path, cairn_store *s, const char *oid)
{
	return object_fetch(out_path, s, oid, 0);
}

int cairn_object_read(void **out, size_t *out_len, cairn_store *s, const char *oid, size_t cap)
{
	*out = NULL;
	*out_len = 0;
	char *p;
	int rc = object_fetch(&p, s, oid, cap);
	if (rc)
		return rc;
	buf b = BUF_INIT;
	int e = read_file(p, cap, &b);
	free(p);
	if (e) {
		buf_free(&b);
		if (e == -EFBIG)
			return err_set(CAIRN_ETOOBIG, "object %s is larger than %zu bytes", oid,
			               cap);
		return err_set(CAIRN_EIO, "cannot read object %s: %s", oid, strerror(-e));
	}
	*out_len = b.len;
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_object_url(char **out_url, cairn_store *s, const char *oid, int expires_s,
                     const char *content_disposition, const char *content_type)
{
	*out_url = NULL;
	if (!oid_valid(oid))
		return err_set(CAIRN_EINVALID, "invalid object id '%.70s'", oid ? oid : "");
	return s->obj_ops->url(s, oid, expires_s, content_disposition, content_type, out_url);
}

const char *cairn_store_objects(const cairn_store *s)
{
	return s ? s->objects_loc : NULL;
}

bool object_present(cairn_store *s, const char *oid)
{
	return oid_valid(oid) && s->obj_ops->present(s, oid);
}

bool object_retry(int *rc, int attempt)
{
	if (*rc != OBJECT_VANISHED)
		return false;
	if (attempt + 1 < OBJECT_ATTEMPTS)
		return true;
	*rc = err_wrap(CAIRN_EBUSY, "gave up after %d attempts", OBJECT_ATTEMPTS);
	return false;
}

/* Remove an object file (purge, for objects nothing references). */
void object_remove(cairn_store *s, const char *oid)
{
	if (oid_valid(oid))
		s->obj_ops->remove(s, oid);
}

/* Streamed objects (capture-stream.c): a temp file in objects/tmp to write
 * into, then published under the name of its content. */
int object_temp_open(cairn_store *s, char **out_path)
{
	return temp_open(s, out_path);
}

int object_publish(cairn_store *s, const char *tmp, const char *oid, bool keep)
{
	return publish(s, tmp, oid, keep);
}

/* --- where the objects are ------------------------------------------------- */

int objects_location_check(const char *loc)
{
	if (!loc || !*loc)
		return err_set(CAIRN_EINVALID, "the objects location is empty");
	if (strncmp(loc, "s3://", 5) == 0) {
		char *b, *p;
		int rc = s3_uri_parse(loc, &b, &p);
		free(b);
		free(p);
		return rc;
	}
	if (strstr(loc, "://"))
		return err_set(CAIRN_EINVALID,
		               "objects cannot live at '%.200s': a location is a directory or "
		               "s3://bucket/prefix",
		               loc);
	if (loc[0] != '/')
		return err_set(CAIRN_EINVALID,
		               "the objects directory '%.200s' is not an absolute path", loc);
	return 0;
}

/* A directory elsewhere than DIR/objects. */
static int dir_attach(cairn_store *s, const char *dir)
{
	int e = mkdir_p(dir);
	if (e)
		return err_set(CAIRN_EIO, "cannot use the objects directory '%s': %s", dir,
		               strerror(-e));
	char *d = strdup(dir);
	if (!d)
		return err_set(CAIRN_ENOMEM, "out of memory");
	free(s->objects_dir);
	s->objects_dir = d;
	return 0;
}

int objects_attach(cairn_store *s)
{
	char *loc = NULL;
	int rc = 0;
	if (s->ops == &store_remote_ops) /* the server's objects, whatever the setting */
		return objects_remote_attach(s);
	const char *env = getenv("CAIRN_OBJECTS");
	if (env && *env) {
		/* a relative directory is taken from the working directory */
		loc = env[0] != '/' && !strstr(env, "://") ? path_abs(env) : strdup(env);
		if (!loc)
			return err_set(CAIRN_EINVALID,
			               "CAIRN_OBJECTS names '%.200s', which is not there", env);
	} else if ((rc = store_setting_get(s, "objects", &loc)) == CAIRN_ENOTFOUND) {
		rc = 0;
	}
	if (rc)
		return rc;
	s->obj_ops = &objects_dir_ops;
	if (loc && (rc = objects_location_check(loc)) != 0) {
		rc = err_wrap(rc, "%s",
		              env && *env ? "CAIRN_OBJECTS" : "the store's objects setting");
	} else if (loc && strncmp(loc, "s3://", 5) == 0) {
		rc = objects_s3_open(s, loc);
	} else if (loc) {
		rc = dir_attach(s, loc);
	}
	if (rc == 0 && !(s->objects_loc = strdup(loc ? loc : s->objects_dir)))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	free(loc);
	return rc;
}

/* --- objects written by a stream (cairn/remote.h) --------------------------- */

struct cairn_object_writer {
	cairn_store *s;
	char *tmp;
	int fd;
	sha_ctx *h;
	int err;
};

int cairn_object_writer_new(cairn_object_writer **out, cairn_store *s)
{
	*out = NULL;
	cairn_object_writer *w = calloc(1, sizeof *w);
	if (!w)
		return err_set(CAIRN_ENOMEM, "out of memory");
	w->s = s;
	w->fd = temp_open(s, &w->tmp);
	if (w->fd < 0) {
		free(w);
		return cairn_error_last_code();
	}
	if (!(w->h = sha_new())) {
		int rc = sha_error() ? err_set(CAIRN_ERROR, "%s", sha_error())
		                     : err_set(CAIRN_ENOMEM, "out of memory");
		cairn_object_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int cairn_object_writer_write(cairn_object_writer *w, const void *data, size_t len)
{
	if (w->err)
		return w->err;
	sha_update(w->h, data, len);
	int e = fd_write_all(w->fd, data, len);
	if (e)
		w->err = err_set(CAIRN_EIO, "cannot store object: %s", strerror(-e));
	return w->err;
}

int cairn_object_writer_commit(cairn_object_writer *w, const char *expect,
                               char out_oid[CAIRN_OID_HEXSZ + 1])
{
	int rc = w->err;
	if (rc == 0) {
		sha_final_hex(w->h, out_oid);
		w->h = NULL;
		if (close(w->fd) != 0)
			rc = err_set(CAIRN_EIO, "cannot store object: %s", strerror(errno));
		w->fd = -1;
	}
	if (rc == 0 && expect && strcmp(expect, out_oid) != 0)
		rc = err_set(CAIRN_EINVALID,
		             "the bytes sent for object %.64s have SHA-256 %s: nothing stored",
		             expect, out_oid);
	if (rc == 0) {
		rc = publish(w->s, w->tmp, out_oid, false);
		free(w->tmp);
		w->tmp = NULL;
	}
	cairn_object_writer_free(w);
	return rc;
}

void cairn_object_writer_free(cairn_object_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp) {
		unlink(w->tmp);
		free(w->tmp);
	}
	sha_free(w->h);
	free(w);
}
