/*
 * lib/store/objects.c — the content-addressed object store under `objects/`.
 *
 * An object is named by the SHA-256 of its bytes and lives at
 * objects/ab/cdef….  It is written to a temp file in objects/tmp/ and
 * renamed into place, so an object file is either whole or absent; writing
 * one that exists already is a no-op.  Objects are immutable (mode 0444).
 * Thread- and process-safe: rename is atomic, and equal names mean equal
 * bytes.
 *
 * Writing an object and referencing it are two steps, and a purge may remove
 * an unreferenced object between them (the writer found the file there and
 * skipped writing it).  So the store checks, inside the write transaction
 * that records a reference, that the object is still there (object_present),
 * and a writer whose object vanished writes it again and retries
 * (object_retry); purge removes objects only inside a write transaction,
 * after checking again that nothing references them.  The protocol and why
 * it is safe: docs/internals/store.md, "Objects, references and purge".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/internal.h"
#include "util/fs.h"
#include "util/sha.h"

static bool oid_valid(const char *oid)
{
	if (!oid || strlen(oid) != CAIRN_OID_HEXSZ)
		return false;
	for (int i = 0; i < CAIRN_OID_HEXSZ; i++)
		if (!((oid[i] >= '0' && oid[i] <= '9') || (oid[i] >= 'a' && oid[i] <= 'f')))
			return false;
	return true;
}

static char *object_file(const cairn_store *s, const char *oid)
{
	size_t n = strlen(s->objects_dir) + CAIRN_OID_HEXSZ + 3;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%.2s/%s", s->objects_dir, oid, oid + 2);
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

/* Move (keep: hard-link, so tmp stays as the source of a rewrite) the
 * finished temp file into place under oid.  Without keep, tmp is gone
 * afterwards whatever happens. */
static int publish(cairn_store *s, const char *tmp, const char *oid, bool keep)
{
	char *final = object_file(s, oid);
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

int cairn_object_put_buf(char out_oid[CAIRN_OID_HEXSZ + 1], cairn_store *s, const void *data,
                         size_t len)
{
	char *tmp = NULL;
	if (sha_buf_hex(data, len, out_oid) != 0)
		return err_set(CAIRN_ERROR, "%s", sha_error());
	char *final = object_file(s, out_oid);
	struct stat st;
	if (final && stat(final, &st) == 0) {
		free(final);
		return 0;
	}
	free(final);
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

int cairn_object_path(char **out_path, cairn_store *s, const char *oid)
{
	*out_path = NULL;
	if (!oid_valid(oid))
		return err_set(CAIRN_EINVALID, "invalid object id '%.70s'", oid ? oid : "");
	char *p = object_file(s, oid);
	if (!p)
		return err_set(CAIRN_ENOMEM, "out of memory");
	struct stat st;
	if (stat(p, &st) != 0) {
		free(p);
		return err_set(CAIRN_ENOTFOUND, "object %s is missing from the store", oid);
	}
	*out_path = p;
	return 0;
}

int cairn_object_read(void **out, size_t *out_len, cairn_store *s, const char *oid, size_t cap)
{
	*out = NULL;
	*out_len = 0;
	char *p;
	int rc = cairn_object_path(&p, s, oid);
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

bool object_present(cairn_store *s, const char *oid)
{
	if (!oid_valid(oid))
		return false;
	char *p = object_file(s, oid);
	struct stat st;
	bool there = p && stat(p, &st) == 0;
	free(p);
	return there;
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
	if (!oid_valid(oid))
		return;
	char *p = object_file(s, oid);
	if (p) {
		unlink(p);
		free(p);
	}
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
