/*
 * lib/store/objects-tmp.c — the temp files of objects/tmp: the logs a
 * writer that died left there, attached to their run after all, and the
 * stray temp files nobody will publish, removed (docs/internals/store.md,
 * "Temp files and crashed writers").
 *
 * A streamed artifact (lib/capture/stream.c: the logs of `cairn run`) is
 * written into a temp file for as long as its run lives and becomes an
 * object only when the stream closes.  So that a writer killed before that
 * (kill -9, the OOM killer, a node lost) loses nothing it wrote, the stream
 *   1. holds an exclusive flock on its temp file from the moment it is made
 *      (the kernel drops it when the process dies, however it dies);
 *   2. writes a sidecar beside it, TMP.stream, naming the store, the run,
 *      the artifact's path, kind and media type;
 *   3. at close publishes the object, records the artifact, then removes
 *      the sidecar and the temp file, and only then releases the lock.
 * A sidecar whose temp file nobody holds is therefore a dead writer's:
 * objects_tmp_collect hashes the temp file, publishes it (kept, as a
 * stream's close does, so a purge in between cannot lose it), records the
 * artifact (replacing the row if the writer got that far), and removes
 * both files.  Taking the lock first makes the recovery itself exclusive:
 * two processes opening the store at once recover a file once.
 *
 * Any other temp file (a put_file, a download into a cache, a sidecar's own
 * temp) that nobody holds and that was not modified for `stale` seconds is
 * garbage and removed: its writer is gone or will fail and write again.
 *
 * Sidecars name their store (cairn_store_path), because an objects
 * directory can be shared: the cache of remote stores, $CAIRN_OBJECTS.
 * Thread-safety: any number of processes and handles at once (the flocks
 * above); the calls it makes take the store's lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/store/objects.h"
#include "lib/store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/sha.h"

#define SIDECAR_SUFFIX ".stream"
#define SIDECAR_MAX    (64 << 10)

static char *sidecar_of(const char *tmp)
{
	size_t n = strlen(tmp) + sizeof SIDECAR_SUFFIX;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s", tmp, SIDECAR_SUFFIX);
	return p;
}

int object_stream_mark(cairn_store *s, int fd, const char *tmp, const char *run_id,
                       const char *path, const char *kind, const char *media)
{
	if (flock(fd, LOCK_EX) != 0)
		return err_set(CAIRN_EIO, "cannot lock the temp file of '%s': %s", path,
		               strerror(errno));
	buf b = BUF_INIT;
	bool first = true;
	buf_puts(&b, "{");
	json_key(&b, &first, "format");
	json_int(&b, 1);
	json_key(&b, &first, "store");
	json_str(&b, s->dir);
	json_key(&b, &first, "run");
	json_str(&b, run_id);
	json_key(&b, &first, "path");
	json_str(&b, path);
	json_key(&b, &first, "kind");
	json_str(&b, kind);
	json_key(&b, &first, "media_type");
	json_str(&b, media);
	buf_puts(&b, "}\n");
	char *side = sidecar_of(tmp);
	int e = !side || b.oom ? -ENOMEM : write_file_atomic(side, b.ptr, b.len);
	free(side);
	buf_free(&b);
	if (e)
		return err_set(CAIRN_EIO, "cannot write to the object store '%s': %s",
		               s->objects_dir, strerror(-e));
	return 0;
}

void object_stream_unmark(const char *tmp)
{
	char *side = tmp ? sidecar_of(tmp) : NULL;
	if (side)
		unlink(side);
	free(side);
}

/* Hash fd's bytes from the start; *size gets their count. */
static int hash_fd(int fd, char oid[CAIRN_OID_HEXSZ + 1], int64_t *size)
{
	sha_ctx *h = sha_new();
	size_t bsz = 1 << 20;
	char *blk = malloc(bsz);
	int rc = 0;
	*size = 0;
	if (!h || !blk) {
		rc = !h && sha_error() ? err_set(CAIRN_ERROR, "%s", sha_error())
		                       : err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (off_t off = 0;;) {
		ssize_t r = pread(fd, blk, bsz, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_set(CAIRN_EIO, "cannot read a temp file: %s", strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		sha_update(h, blk, (size_t)r);
		off += r;
		*size += r;
	}
	sha_final_hex(h, oid);
	h = NULL;
done:
	sha_free(h);
	free(blk);
	return rc;
}

/* One sidecar: 1 recovered, 0 left alone (another store's, a live writer),
 * negative an error (the files stay for a later try). */
static int recover_one(cairn_store *s, const char *side, cairn_gc_stats *st)
{
	buf text = BUF_INIT;
	json_doc *doc = NULL;
	char *tmp = strndup(side, strlen(side) - strlen(SIDECAR_SUFFIX));
	int fd = -1, rc = 0;
	if (!tmp) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) { /* a recovery died between its two unlinks */
		if (errno == ENOENT)
			unlink(side);
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		goto done; /* its writer lives, or another process recovers it */
	char err[128];
	const json *root = NULL;
	if (read_file(side, SIDECAR_MAX, &text) == 0 &&
	    (doc = json_parse(text.ptr, text.len, NULL, err, sizeof err)) != NULL)
		root = json_root(doc);
	const char *store = root ? json_get_str(root, "store") : NULL;
	const char *run = root ? json_get_str(root, "run") : NULL;
	const char *path = root ? json_get_str(root, "path") : NULL;
	const char *kind = root ? json_get_str(root, "kind") : NULL;
	const char *media = root ? json_get_str(root, "media_type") : NULL;
	if (!store || !run || !path || !kind || !media || !relpath_is_safe(path)) {
		/* written by a writer that died writing it: nothing to attach to */
		unlink(side);
		unlink(tmp);
		goto done;
	}
	if (strcmp(store, s->dir) != 0)
		goto done;
	int64_t rid;
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	if ((rc = store_run_lookup(s, run, true, &rid, id)) == CAIRN_ENOTFOUND) {
		rc = 0; /* the run was purged since */
		unlink(side);
		unlink(tmp);
		goto done;
	}
	char oid[CAIRN_OID_HEXSZ + 1];
	int64_t size;
	if (rc || (rc = hash_fd(fd, oid, &size)) != 0)
		goto done;
	for (int attempt = 0;; attempt++) {
		rc = object_publish(s, tmp, oid, true);
		if (rc == 0)
			rc = store_artifact_put(s, rid, path, oid, size, media, kind, NULL,
			                        CAIRN_STEP_AUTO);
		if (!object_retry(&rc, attempt))
			break;
	}
	if (rc)
		goto done;
	unlink(side);
	unlink(tmp);
	st->logs_recovered++;
	st->log_bytes += size;
	rc = 1;
done:
	if (fd >= 0)
		close(fd); /* drops the lock, after the unlinks */
	json_doc_free(doc);
	buf_free(&text);
	free(tmp);
	return rc;
}

/* A temp file no one holds, untouched for stale seconds: removed. */
static void remove_stray(const char *file, double stale, time_t now, cairn_gc_stats *st)
{
	struct stat sb;
	if (lstat(file, &sb) != 0 || !S_ISREG(sb.st_mode) || difftime(now, sb.st_mtime) < stale)
		return;
	char *side = sidecar_of(file);
	bool has_side = side && path_exists(side);
	free(side);
	if (has_side)
		return; /* a stream's: recovered or live, never stray */
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(file) == 0) {
		st->tmp_removed++;
		st->tmp_bytes += sb.st_size;
	}
	close(fd);
}

int objects_tmp_collect(cairn_store *s, double stale, cairn_gc_stats *st)
{
	char *dir = path_join(s->objects_dir, "tmp");
	if (!dir)
		return err_set(CAIRN_ENOMEM, "out of memory");
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		free(dir);
		return e == ENOENT ? 0
		                   : err_set(CAIRN_EIO, "cannot read '%s/tmp': %s", s->objects_dir,
		                             strerror(e));
	}
	/* sidecars first, so that their temp files are gone or known live
	 * before the stray ones are chosen */
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(names, nc * sizeof *nv);
			if (!nv) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			names = nv;
			cap = nc;
		}
		if (!(names[n] = path_join(dir, de->d_name))) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	size_t sl = strlen(SIDECAR_SUFFIX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(names[i]);
		if (len > sl && strcmp(names[i] + len - sl, SIDECAR_SUFFIX) == 0) {
			int r = recover_one(s, names[i], st);
			if (r < 0)
				rc = r;
		}
	}
	time_t now = time(NULL);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(names[i]);
		if (!(len > sl && strcmp(names[i] + len - sl, SIDECAR_SUFFIX) == 0))
			remove_stray(names[i], stale, now, st);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return rc;
}
