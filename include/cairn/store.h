/*
 * cairn/store.h — opening a store and its content-addressed object store.
 *
 * A store is a directory (normally `.cairn/`) holding `cairn.db` (SQLite, WAL)
 * and `objects/`.  A cairn_store handle is thread-safe: every call that touches
 * the database holds the handle's lock, and several processes may open the
 * same store at once (SQLite's locking, with a busy timeout and retries).
 */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_store cairn_store;

/* Locate the store directory: `explicit_dir` if not NULL, else $CAIRN_DIR,
 * else the nearest `.cairn/` walking up from the working directory, else the
 * per-user store ($XDG_DATA_HOME/cairn or ~/.local/share/cairn). */
CAIRN_EXTERN(int) cairn_store_find(char **out_dir, const char *explicit_dir);

/* Create `<dir>/.cairn` (dir NULL = working directory) and its database.
 * Existing stores are left as they are (CAIRN_EEXISTS). */
CAIRN_EXTERN(int) cairn_store_init(char **out_dir, const char *dir);
/* The same, with the store's objects in `objects` instead of its objects/
 * directory: `s3://bucket/prefix` (endpoint, region and credentials from
 * the AWS_* environment or ~/.aws; a URI carrying user:password@ is
 * refused, and nothing of the credentials is stored) or an absolute
 * directory.  The place is checked (the bucket reached) before the store
 * is made.  NULL: objects/. */
CAIRN_EXTERN(int)
cairn_store_init_objects(char **out_dir, const char *dir, const char *objects);

/* Open the store at `store_dir` (NULL: cairn_store_find).  An explicit
 * directory must exist; the per-user default is created on demand. */
CAIRN_EXTERN(int) cairn_store_open(cairn_store **out, const char *store_dir);
CAIRN_EXTERN(void) cairn_store_close(cairn_store *store);
CAIRN_EXTERN(const char *) cairn_store_path(const cairn_store *store);

/* Another handle onto the store `store` is: the same database (its own
 * connection: SQLite in WAL mode serves several readers beside a writer,
 * PostgreSQL a connection each) and the same objects, without the work of
 * a first open (creating, collecting stray temp files).  A server keeps a
 * pool of them for its reads (docs/internals/web.md, "Read pool"). */
CAIRN_EXTERN(int) cairn_store_open_peer(cairn_store **out, const cairn_store *store);

/* Size the handle's page cache (SQLite: its connection's, 32 MiB after
 * open; a backend without one ignores it), kib from 64 to 2^30.  A
 * process that reads a store once and exits does better with a small one:
 * every page a big cache keeps is fresh memory, a page fault, and a
 * short-lived process never reads it again (`cairn ls` takes 512 KiB;
 * docs/internals/store.md, "Page cache"). */
CAIRN_EXTERN(int) cairn_store_set_cache(cairn_store *store, int64_t kib);

/* Wait until every metric point logged through this handle is committed
 * (the buffered writer's batches), so a peer handle reads them. */
CAIRN_EXTERN(int) cairn_store_flush(cairn_store *store);

/* A mark of the metric points logged through this handle so far (0 when
 * none was), and a wait until every point logged before `mark` was taken
 * is committed: later points do not lengthen the wait.  A server takes a
 * mark for each client's writes and waits for it before that client's reads
 * (docs/internals/web.md, "Read pool").  A failed commit is left for the
 * handle's next log or cairn_store_flush call, which returns it. */
CAIRN_EXTERN(uint64_t) cairn_store_write_mark(cairn_store *store);
CAIRN_EXTERN(void) cairn_store_flush_to(cairn_store *store, uint64_t mark);

/* Where the store's objects live: its objects/ directory, another
 * directory, or `s3://bucket/prefix` ($CAIRN_OBJECTS, else the store's
 * setting from cairn_store_init_objects, else objects/). */
CAIRN_EXTERN(const char *) cairn_store_objects(const cairn_store *store);

/* PRAGMA integrity_check; 0 when ok, CAIRN_ESTORE with the first problem. */
CAIRN_EXTERN(int) cairn_store_check(cairn_store *store);

/* Objects are named by the lowercase hex SHA-256 of their content. */
#define CAIRN_OID_HEXSZ 64
CAIRN_EXTERN(int)
cairn_object_put_file(char out_oid[CAIRN_OID_HEXSZ + 1], cairn_store *store, const char *path);
CAIRN_EXTERN(int)
cairn_object_put_buf(char out_oid[CAIRN_OID_HEXSZ + 1], cairn_store *store, const void *data,
                     size_t len);
/* The filesystem path of a stored object (CAIRN_ENOTFOUND if absent).  For
 * objects in a bucket, a file in the local cache, downloaded on first use
 * (and checked against its name); valid for as long as the object exists. */
CAIRN_EXTERN(int) cairn_object_path(char **out_path, cairn_store *store, const char *oid);
/* Read a whole object into memory, refusing objects over `cap` bytes. */
CAIRN_EXTERN(int)
cairn_object_read(void **out, size_t *out_len, cairn_store *store, const char *oid, size_t cap);
/* A URL that downloads the object for `expires_s` seconds without cairn (a
 * presigned GET of the bucket), the response carrying the given
 * Content-Disposition and Content-Type when not NULL.  CAIRN_EINVALID when
 * the objects are in a directory. */
CAIRN_EXTERN(int)
cairn_object_url(char **out_url, cairn_store *store, const char *oid, int expires_s,
                 const char *content_disposition, const char *content_type);

/* --- collecting garbage (cairn gc) ------------------------------------------------ */

typedef struct cairn_gc_options {
	unsigned int version; /* CAIRN_GC_OPTIONS_VERSION */
	/* Seconds a temp file in objects/tmp that no process holds must be left
	 * untouched before it is removed (< 0: the default, an hour). */
	double tmp_age;
	/* Also remove every object file that nothing references (objects kept
	 * in a directory only: a bucket is not listed). */
	int objects;
} cairn_gc_options;
#define CAIRN_GC_OPTIONS_VERSION 1
#define CAIRN_GC_OPTIONS_INIT                                                                      \
	{                                                                                          \
		CAIRN_GC_OPTIONS_VERSION, -1, 1                                                    \
	}

typedef struct cairn_gc_stats {
	int64_t logs_recovered, log_bytes;     /* streamed logs of dead writers, attached */
	int64_t tmp_removed, tmp_bytes;        /* stray temp files removed */
	int64_t objects_removed, object_bytes; /* unreferenced objects removed */
} cairn_gc_stats;

/* Collect what crashed writers and deletions left behind: the logs a
 * killed `cairn run` was streaming are attached to their run (opening a
 * store does this too), stray temp files are removed, and with
 * opts->objects the objects nothing references.  opts may be NULL; out
 * (may be NULL) counts what was done.  docs/cli/gc.md. */
CAIRN_EXTERN(int)
cairn_store_gc(cairn_store *store, const cairn_gc_options *opts, cairn_gc_stats *out);

/* --- copying a whole store (cairn migrate) ---------------------------------------- */

typedef struct cairn_migrate_stats {
	int64_t runs, params, metric_points, tags, properties, artifacts, datasets, trials;
	int64_t code_map;              /* entries of the code cache */
	int64_t objects, object_bytes; /* objects the target did not have yet */
} cairn_migrate_stats;

typedef struct cairn_migrate_progress {
	const char *phase;                /* "code" (the code cache), then "runs" */
	int64_t done, total;              /* of that phase */
	const cairn_migrate_stats *stats; /* so far */
} cairn_migrate_progress;
/* Return non-zero to stop the copy (it then fails with CAIRN_ERROR). */
typedef int (*cairn_migrate_progress_cb)(const cairn_migrate_progress *p, void *payload);

typedef struct cairn_migrate_options {
	unsigned int version; /* CAIRN_MIGRATE_OPTIONS_VERSION */
	cairn_migrate_progress_cb progress;
	void *payload;
} cairn_migrate_options;
#define CAIRN_MIGRATE_OPTIONS_VERSION 1
#define CAIRN_MIGRATE_OPTIONS_INIT                                                                 \
	{                                                                                          \
		CAIRN_MIGRATE_OPTIONS_VERSION, NULL, NULL                                          \
	}

/* Copy every run of `from` into `to`, which must have no runs
 * (CAIRN_EEXISTS otherwise), across any two backends and object places:
 * ids, sequence numbers, names, times, status, typed params, every metric
 * point, tags, properties, notes, artifacts, datasets, code versions,
 * environments, the code cache and sweep trial queues, with every object
 * they reference copied by content.  The hash cache and the store's
 * settings are not copied.  opts may be NULL; out (may be NULL) counts what
 * was copied.  docs/cli/migrate.md. */
CAIRN_EXTERN(int)
cairn_store_migrate(cairn_store *from, cairn_store *to, const cairn_migrate_options *opts,
                    cairn_migrate_stats *out);

#ifdef __cplusplus
}
#endif
#endif
