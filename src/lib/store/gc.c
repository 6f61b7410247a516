/*
 * lib/store/gc.c — cairn_store_gc: what crashed writers and deletions left
 * behind.  Three passes, each safe beside live writers:
 *   1. objects/tmp (objects-tmp.c): a dead `cairn run`'s logs attached to
 *      their run, stray temp files removed;
 *   2. with opts->objects, every object file of a directory place is a
 *      candidate for store_objects_sweep, which removes, under the store's
 *      write lock, those that nothing references — the sweep a purge runs,
 *      over the whole store (docs/internals/store.md, "Objects, references
 *      and purge": a writer whose object is swept before its reference
 *      commits writes it again).  Candidates go in batches, so the write
 *      lock is never held for more than one batch.
 * A bucket is not listed (pass 2 is skipped for it), nor the cache of a
 * remote store: the server collects its own.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/store/objects.h"
#include "lib/store/remote/remote.h"
#include "lib/store/store.h"
#include "util/fs.h"
#include "util/sha.h"

#define SWEEP_BATCH 1024

typedef struct sweep_batch {
	buf oids;
	char **files;
	int64_t *sizes;
	size_t n;
} sweep_batch;

static int batch_flush(cairn_store *s, sweep_batch *b, cairn_gc_stats *st)
{
	int rc = 0;
	if (b->n) {
		if (b->oids.oom)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
		else
			rc = store_objects_sweep(s, &b->oids, NULL);
		for (size_t i = 0; i < b->n; i++) {
			if (rc == 0 && !path_exists(b->files[i])) {
				st->objects_removed++;
				st->object_bytes += b->sizes[i];
			}
			free(b->files[i]);
		}
	}
	buf_clear(&b->oids);
	b->n = 0;
	return rc;
}

static int sweep_all(cairn_store *s, cairn_gc_stats *st)
{
	sweep_batch b = {BUF_INIT, calloc(SWEEP_BATCH, sizeof(char *)),
	                 calloc(SWEEP_BATCH, sizeof(int64_t)), 0};
	int rc = b.files && b.sizes ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	DIR *top = rc ? NULL : opendir(s->objects_dir);
	if (rc == 0 && !top && errno != ENOENT)
		rc = err_set(CAIRN_EIO, "cannot read '%s': %s", s->objects_dir, strerror(errno));
	struct dirent *de;
	while (rc == 0 && top && (de = readdir(top)) != NULL) {
		if (strlen(de->d_name) != 2 || !hex_is(de->d_name, 2))
			continue;
		char *sub = path_join(s->objects_dir, de->d_name);
		DIR *d = sub ? opendir(sub) : NULL;
		struct dirent *fe;
		while (rc == 0 && d && (fe = readdir(d)) != NULL) {
			char oid[CAIRN_OID_HEXSZ + 1];
			if (strlen(fe->d_name) != CAIRN_OID_HEXSZ - 2)
				continue;
			memcpy(oid, de->d_name, 2);
			memcpy(oid + 2, fe->d_name, CAIRN_OID_HEXSZ - 2);
			oid[CAIRN_OID_HEXSZ] = '\0';
			if (!oid_valid(oid))
				continue;
			char *file = path_join(sub, fe->d_name);
			struct stat sb;
			if (!file || stat(file, &sb) != 0) {
				free(file);
				continue;
			}
			buf_printf(&b.oids, "%s\n", oid);
			b.files[b.n] = file;
			b.sizes[b.n++] = sb.st_size;
			if (b.n == SWEEP_BATCH)
				rc = batch_flush(s, &b, st);
		}
		if (d)
			closedir(d);
		free(sub);
	}
	if (top)
		closedir(top);
	int r2 = batch_flush(s, &b, st);
	if (rc == 0)
		rc = r2;
	buf_free(&b.oids);
	free(b.files);
	free(b.sizes);
	return rc;
}

int cairn_store_gc(cairn_store *s, const cairn_gc_options *opts, cairn_gc_stats *out)
{
	cairn_gc_options def = CAIRN_GC_OPTIONS_INIT;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (!opts)
		opts = &def;
	if (opts->version != CAIRN_GC_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_gc_options version %u, this library has %d",
		               opts->version, CAIRN_GC_OPTIONS_VERSION);
	/* what opening the store did counts: it is the same collection */
	cairn_gc_stats st = s->at_open;
	memset(&s->at_open, 0, sizeof s->at_open);
	double age = opts->tmp_age < 0 ? OBJECTS_TMP_STALE : opts->tmp_age;
	int rc = objects_tmp_collect(s, age, &st);
	if (rc == 0 && opts->objects && s->obj_ops == &objects_dir_ops &&
	    s->ops != &store_remote_ops)
		rc = sweep_all(s, &st);
	if (out)
		*out = st;
	return rc;
}
