/*
 * lib/internal.h — what the library's modules share and nothing outside
 * src/lib may include: the store handle's layout, error raising, and the
 * metric writer's entry points.
 */
#ifndef CAIRN_LIB_INTERNAL_H
#define CAIRN_LIB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "cairn.h"
#include "util/buf.h"

#define KEY_MAX        250                 /* bytes in any key, tag or name */
#define TIMESTAMP_MAX  CAIRN_TIMESTAMP_MAX /* 9999-12-31T23:59:59Z, in seconds */
#define TEXT_VALUE_MAX (64 << 10)          /* bytes in a param/property value */
#define NOTE_MAX       (1 << 20)           /* bytes in a note */

typedef struct writer writer;
/* Test-only (store_test_hook): called with the store's lock held but no
 * transaction open, at "refs" (a transaction recording object references is
 * about to begin: the objects were written or found before) and "sweep" (a
 * purge committed; its objects are about to be removed). */
typedef void (*store_hook_fn)(cairn_store *s, const char *point, void *arg);
typedef struct store_ops store_ops;

/* A store handle: what every backend shares.  The backend's own state
 * (the SQLite connection and its statement cache, say) is behind `be`,
 * reached only by the backend's ops (lib/store/backend.h). */
struct cairn_store {
	const store_ops *ops; /* the backend, chosen at open (store_backend_for) */
	void *be;             /* the backend's state, owned by ops->open/close */
	char *dir;            /* the store directory (…/.cairn), or a URI without its password */
	char *uri;            /* a URI store: the URI as given, password and all (the
	                       * backend connects with it; never printed); else NULL */
	char *objects_dir;    /* dir/objects, or the local cache of objects kept elsewhere */
	bool created;         /* a URI store: ops->open created it (cairn init) */
	bool peer;            /* cairn_store_open_peer's: another handle's second connection */
	bool peer_mapped;     /* a server reader's: SQLite maps the file (schema.c) */
	int64_t cache_kib;    /* cairn_store_set_cache's size (0: the default) */
	/* Where the objects live (lib/store/objects.h): a directory or an S3
	 * bucket, chosen at open from $CAIRN_OBJECTS, the store's `objects`
	 * setting, else objects_dir; objects_loc says which (never with
	 * credentials), obj is that place's state, owned by obj_ops. */
	const struct object_ops *obj_ops;
	void *obj;
	char *objects_loc;
	/* Recursive; held around every store call (the dispatchers take it), so
	 * a handle may be shared by threads and no backend locks on its own. */
	pthread_mutex_t lock;
	writer *w;             /* metrics writer, started on first metric */
	pthread_mutex_t wlock; /* guards w's creation */
	double stale_after;    /* seconds without heartbeat before "crashed" */
	double pinned_now;     /* > 0: what store_now() answers (tests); 0: the wall clock */
	cairn_gc_stats
	    at_open;        /* what opening collected in objects/tmp (cairn_store_gc reports it) */
	store_hook_fn hook; /* tests: called where a concurrent purge or writer interleaves */
	void *hook_arg;
	/* cairn_store_idem_begin .. _commit (lib/store/idem.c): one transaction
	 * holds a keyed write and its key; the ops' own begin/commit/rollback
	 * inside it are savepoints, hold_depth deep */
	bool hold;
	int hold_depth;
	/* The metrics the holding thread logs while a keyed write is open
	 * (writer.c: held_*): kept here, not in the writer, and inserted in the
	 * held transaction at its next flush or at commit; `holds` (atomic) is
	 * how many are open, so the writer's hot path skips the check; `aborts`
	 * (atomic) counts rolled-back holds, so a run handle drops key ids it
	 * may have learnt inside one (run.c). */
	struct mpoint *held;
	size_t nheld, capheld;
	unsigned holds, aborts;
};

/* Raise an error on this thread; returns code so callers can
 * `return err_set(CAIRN_EINVALID, "…")`. */
int err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current error message with context ("cannot log artifact: …"). */
int err_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The writer (writer.c). */
typedef struct mpoint {
	int64_t rid, kid, step, ts_ms;
	double value;
} mpoint;

int writer_append(cairn_store *s, const mpoint *p);
int writer_flush(cairn_store *s);
/* The count of points appended so far (0: none), and a wait until the
 * first `mark` of them are committed; the writer's error, if any, stays
 * for its next producer (writer_wait is a reader's, not a producer's). */
uint64_t writer_mark(cairn_store *s);
void writer_wait(cairn_store *s, uint64_t mark);
/* A keyed write's points (held by this thread's open cairn_store_idem_begin):
 * inserted now inside its transaction, or dropped; called with the lock. */
int writer_held_flush(cairn_store *s);
void writer_held_drop(cairn_store *s);
void writer_stop(cairn_store *s);

/* objects.c */
void object_remove(cairn_store *s, const char *oid);
/* Is the object's file there?  Only meaningful for a reference inside a
 * write transaction (a purge removes objects only inside one). */
bool object_present(cairn_store *s, const char *oid);
/* Internal code (never returned by the public API): an object a write
 * transaction was about to reference had been removed by a concurrent purge
 * since it was written or found; nothing was recorded. */
#define OBJECT_VANISHED (-100)
#define OBJECT_ATTEMPTS 8
/* After a write that ended with *rc: true when the objects should be
 * written again and the write retried (*rc was OBJECT_VANISHED and attempts
 * remain); otherwise false, with OBJECT_VANISHED turned into CAIRN_EBUSY.
 *   for (int attempt = 0;; attempt++) {
 *           rc = put the objects; if (rc == 0) rc = record the references;
 *           if (!object_retry(&rc, attempt)) break;
 *   } */
bool object_retry(int *rc, int attempt);
/* A temp file in objects/tmp (returns its fd, or -1 with the error set), and
 * moving a finished one into place under oid (streamed objects).  With keep
 * the temp file stays (hard-linked), so the object can be published again if
 * a purge removes it before its reference commits; the caller unlinks it. */
int object_temp_open(cairn_store *s, char **out_path);
int object_publish(cairn_store *s, const char *tmp, const char *oid, bool keep);
/* objects-tmp.c: a streamed artifact's temp file, made recoverable (locked
 * and named in a sidecar, so a dead writer's bytes can be attached to its
 * run) and the sidecar's removal once the artifact is recorded; collecting
 * what dead writers left in objects/tmp: their streams attached, other temp
 * files untouched for `stale` seconds removed (counted into *st). */
int object_stream_mark(cairn_store *s, int fd, const char *tmp, const char *run_id,
                       const char *path, const char *kind, const char *media);
void object_stream_unmark(const char *tmp);
int objects_tmp_collect(cairn_store *s, double stale, cairn_gc_stats *st);
/* Seconds a temp file nobody holds must be left untouched before it counts
 * as a dead writer's (at open, and cairn gc's default). */
#define OBJECTS_TMP_STALE 3600.0
#endif
