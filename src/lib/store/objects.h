/*
 * lib/store/objects.h — where a store's objects live, behind one small
 * table of operations: a directory (objects-dir.c: objects/ab/cdef…) or an
 * S3 bucket (objects-s3.c: s3://bucket/prefix/ab/cdef…, with a local cache).
 * The public object calls (cairn_object_put_buf/put_file/path/read) and the
 * store's internal ones (object_present/remove/temp_open/publish,
 * internal.h) are written once in objects.c over this table, so every
 * caller works unchanged against either place.
 *
 * Which place: $CAIRN_OBJECTS, else the store's setting `objects` (saved by
 * `cairn init --objects`), else the store's objects/ directory
 * (objects_attach, at open; docs/internals/store.md, "Where the objects
 * are").
 *
 * What every place provides (s->obj is its state; s->objects_dir is a local
 * directory whose tmp/ holds the temp files being written, on the file
 * system of any local copy, so a temp file can be renamed into it):
 *  - present: is the object there (in the bucket itself, not a cache)?
 *    Called inside the write transaction that records a reference (store.md,
 *    "Objects, references and purge"); false with the error raised when it
 *    cannot tell.
 *  - publish: store a finished temp file as oid; without keep the temp file
 *    is gone afterwards whatever happens, with keep it stays (a later
 *    publish after a purge needs it).  Storing an oid that exists is a no-op.
 *  - path: a local file holding the object's bytes (malloc'ed), valid as
 *    long as the object is stored (objects are immutable); an object over
 *    cap bytes (cap 0: none) is CAIRN_ETOOBIG; absent CAIRN_ENOTFOUND.
 *  - remove: delete the object (purge; a failure leaves garbage, never a
 *    dangling reference).
 *  - url: a time-limited URL that downloads the object without cairn
 *    (a bucket's presigned GET); a directory has none (CAIRN_EINVALID).
 *  - close: free s->obj.
 * Thread-safety: every op may be called from several threads at once.
 */
#ifndef CAIRN_LIB_STORE_OBJECTS_H
#define CAIRN_LIB_STORE_OBJECTS_H

#include <stdint.h>

#include "lib/internal.h"

typedef struct object_ops {
	const char *name; /* "dir", "s3" */
	bool (*present)(cairn_store *s, const char *oid);
	int (*publish)(cairn_store *s, const char *tmp, const char *oid, bool keep);
	int (*path)(cairn_store *s, const char *oid, uint64_t cap, char **out);
	void (*remove)(cairn_store *s, const char *oid);
	int (*url)(cairn_store *s, const char *oid, int expires, const char *disposition,
	           const char *content_type, char **out);
	void (*close)(cairn_store *s);
} object_ops;

extern const object_ops objects_dir_ops; /* objects-dir.c */
extern const object_ops objects_s3_ops;  /* objects-s3.c */

/* Choose and set up the store's object place (after the backend opened:
 * the setting is read through it). */
int objects_attach(cairn_store *s);
/* Is loc a location objects can live in (a directory path, or an s3:// URI
 * without credentials)?  CAIRN_EINVALID saying why not. */
int objects_location_check(const char *loc);
/* Set up s3 objects at uri (objects-s3.c): the URI is checked now, the
 * client (credentials, libcurl) made on first use. */
int objects_s3_open(cairn_store *s, const char *uri);
/* Reach the bucket now (cairn init --objects). */
int objects_s3_check(const char *uri);

/* --- the local cache of a place whose objects are elsewhere
 * (objects-cache.c; a bucket, a server): s->objects_dir ----------------- */
struct sha_ctx;
/* Stream oid's bytes (at most cap, 0: any) into fd, through h. */
typedef int (*object_fetch_fn)(cairn_store *s, const char *oid, int fd, uint64_t cap,
                               struct sha_ctx *h);
/* $XDG_CACHE_HOME/cairn/objects, else ~/.cache/cairn/objects (malloc'ed);
 * NULL when neither variable is set. */
char *object_cache_user_dir(void);
/* Move (or with keep, link) a file holding oid's bytes into the cache;
 * a failure only costs a later download. */
void object_cache_put(cairn_store *s, const char *tmp, const char *oid, bool keep);
/* The place's path op: the cache file, else fetch it into a temp file,
 * check its SHA-256 is oid (from names the source in the error) and move it
 * into the cache. */
int object_cache_path(cairn_store *s, const char *oid, uint64_t cap, object_fetch_fn fetch,
                      const char *from, char **out);

/* Shared by the places. */
bool oid_valid(const char *oid);
/* dir/ab/cdef… (malloc'ed) */
char *object_file_in(const char *dir, const char *oid);
#endif
