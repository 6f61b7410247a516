/*
 * cairn/data.h — data versions: digests of files and directory trees, their
 * manifests, recording them on runs, and diffs between two versions.
 *
 * A file's digest is XXH3-128 by default ("xxh128"), or "sha256" / "md5" on
 * request.  A directory's digest is the digest (same algorithm) of its
 * canonical manifest: one line per regular file or symbolic link, sorted by
 * relative path, giving type, digest, size and path (docs/internals/data.md).
 * Symbolic links inside a tree are recorded as links (their target text),
 * never followed; special files (FIFOs, sockets, devices) are skipped with a
 * note.  Digests are written as text "<algo>:<hex>".
 *
 * Hashing runs on a thread per core; with a store, a cache keyed by (device,
 * inode, size, mtime, ctime) lets an unchanged file cost one stat.  A file
 * that changes while it is read is reported as an error, never recorded.
 *
 * Every call is thread-safe; progress callbacks run on the calling thread.
 */
#ifndef CAIRN_DATA_H
#define CAIRN_DATA_H

#include "common.h"
#include "run.h"
#include "record.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Progress of one hash, reported every `progress_interval` seconds. */
typedef struct cairn_hash_progress {
	int walking;         /* 1 while the tree is still being listed */
	int64_t files_total; /* entries found so far (final once walking is 0) */
	int64_t bytes_total; /* bytes of the files stat'ed so far: sizes are learnt
	                        as files are opened, so this grows while hashing */
	int64_t files_done;  /* entries hashed or found in the cache */
	int64_t bytes_done;
	double elapsed; /* seconds since the hash began */
} cairn_hash_progress;

/* Return non-zero to cancel the hash (it then fails with CAIRN_ERROR). */
typedef int (*cairn_hash_progress_cb)(const cairn_hash_progress *p, void *payload);

typedef struct cairn_hash_options {
	unsigned int version;            /* CAIRN_HASH_OPTIONS_VERSION */
	const char *algo;                /* "xxh128" (NULL), "sha256" or "md5" */
	int use_cache;                   /* use the store's hash cache (default 1) */
	int threads;                     /* 0: one per online core */
	cairn_hash_progress_cb progress; /* or NULL */
	void *payload;
	double progress_interval; /* seconds; 0: 0.1 */
} cairn_hash_options;

#define CAIRN_HASH_OPTIONS_VERSION 1
#define CAIRN_HASH_OPTIONS_INIT                                                                    \
	{                                                                                          \
		CAIRN_HASH_OPTIONS_VERSION, NULL, 1, 0, NULL, NULL, 0                              \
	}

/* Counters of one hash: what the result covers and what it cost. */
typedef struct cairn_hash_stats {
	int64_t files;      /* entries in the manifest (regular files + links) */
	int64_t bytes;      /* bytes of the regular files */
	int64_t cache_hits; /* files whose digest came from the cache */
	int64_t files_read; /* files whose content was read */
	int64_t bytes_read;
	int64_t errors;  /* files or directories that could not be hashed */
	int64_t skipped; /* special files left out */
	double seconds;
} cairn_hash_stats;

/* Hash a file or directory tree.  `store` may be NULL (no cache).  *out is
 * the JSON object
 *   {"path", "algo", "digest": "<algo>:<hex>" | null, "files", "bytes",
 *    "errors": [{"path", "error"}], "skipped": [{"path", "reason"}],
 *    "stats": {"cache_hits", "files_read", "bytes_read", "seconds"}}
 * When files inside a directory cannot be read (or change while being
 * read), the walk goes on, the call returns CAIRN_EIO with the first problem
 * in cairn_error_last(), and *out is still set, with "digest": null and every
 * problem under "errors".  For other failures (missing path, symlink loop)
 * *out is NULL.  `stats` may be NULL. */
CAIRN_EXTERN(int)
cairn_hash_path(char **out, cairn_hash_stats *stats, cairn_store *store, const char *path,
                const cairn_hash_options *opts);

/* The same with default options and the given algorithm (NULL: xxh128). */
CAIRN_EXTERN(int)
cairn_hash_path_json(char **out, cairn_store *store, const char *path, const char *algo);

/* Hash `path` (file or directory) and record it on the run as dataset
 * `name` (NULL: the base name of path) with role "input" (NULL) or
 * "output": digest, counts, absolute path, and the manifest as an object of
 * the store referenced by the run.  Re-logging a name replaces it.  Nothing is
 * recorded when any file could not be hashed. */
CAIRN_EXTERN(int)
cairn_run_log_dataset(cairn_run *run, const char *name, const char *path, const char *role);
/* The same with hashing options (algorithm, progress). */
CAIRN_EXTERN(int)
cairn_run_log_dataset_opts(cairn_run *run, const char *name, const char *path, const char *role,
                           const cairn_hash_options *opts);

/* Record a dataset on the run as given, without hashing anything (name,
 * path, role and digest required; algo NULL: "", files and bytes may be 0,
 * manifest must be NULL): datasets that live elsewhere, such as MLflow's
 * log-inputs.  Re-recording a name replaces it. */
CAIRN_EXTERN(int) cairn_run_set_dataset(cairn_run *run, const cairn_run_dataset *d);

/* Compare two data versions.  A and B are each a path (hashed now, with the
 * store's cache), a stored manifest object id (64 hex digits), a run (id,
 * prefix or name: each dataset of that run, paired by name), or RUN:NAME (one
 * dataset of a run).  *out is
 *   {"datasets": [{"name", "same", "a": {"digest", "files", "bytes"} | null,
 *                  "b": {...} | null, "added": [paths], "removed": [paths],
 *                  "changed": [paths]}]}
 * with one entry whose name is null when neither side is a run.  `store` may
 * be NULL when both sides are paths. */
CAIRN_EXTERN(int)
cairn_data_diff_json(char **out, cairn_store *store, const char *a, const char *b);
/* The same over recorded versions only: A and B are each a run, RUN:NAME or
 * a stored manifest id, never a path.  Nothing outside the store is read and
 * nothing is hashed, so A and B may come from outside (the HTTP API).  A name
 * that is none of these is CAIRN_ENOTFOUND. */
CAIRN_EXTERN(int)
cairn_data_diff_stored_json(char **out, cairn_store *store, const char *a, const char *b);

/* A run's datasets with (a prefix of) each manifest:
 *   {"run": id, "datasets": [{"name", "path", "role", "algo", "digest", "files", "bytes",
 *    "manifest", "entries": [{"path", "type", "size", "digest", "target"?}],
 *    "truncated": bool}]}
 * `name` NULL: every dataset; `limit` <= 0: every entry, else at most limit
 * entries per dataset (only that much of each manifest is read). */
CAIRN_EXTERN(int)
cairn_data_show_json(char **out, cairn_store *store, const char *run, const char *name,
                     int64_t limit);

/* --- typed results --------------------------------------------------------------
 *
 * The reports above as typed results (each `*_json` form is written from
 * one).  Every string and struct an accessor returns is borrowed from the
 * result and lives until its NULL-safe `_free`. */

/* A file that could not be hashed (message: why) or was left out (message:
 * the reason, e.g. "fifo"). */
typedef struct cairn_data_problem {
	const char *path;
	const char *message;
} cairn_data_problem;

typedef struct cairn_hash_result cairn_hash_result;

/* What cairn_hash_path reports, typed.  *out is set on success and, with
 * CAIRN_EIO, when files inside a directory could not be hashed (then the
 * digest is NULL and the problems are listed, every one of them, not only the
 * first 1000 the JSON holds); NULL otherwise. */
CAIRN_EXTERN(int)
cairn_hash_path_result(cairn_hash_result **out, cairn_store *store, const char *path,
                       const cairn_hash_options *opts);
CAIRN_EXTERN(const char *) cairn_hash_result_path(const cairn_hash_result *r);
CAIRN_EXTERN(const char *) cairn_hash_result_algo(const cairn_hash_result *r);
/* "<algo>:<hex>", or NULL when any file failed. */
CAIRN_EXTERN(const char *) cairn_hash_result_digest(const cairn_hash_result *r);
CAIRN_EXTERN(int64_t) cairn_hash_result_files(const cairn_hash_result *r);
CAIRN_EXTERN(int64_t) cairn_hash_result_bytes(const cairn_hash_result *r);
CAIRN_EXTERN(const cairn_hash_stats *) cairn_hash_result_stats(const cairn_hash_result *r);
CAIRN_EXTERN(size_t) cairn_hash_result_error_count(const cairn_hash_result *r);
CAIRN_EXTERN(const cairn_data_problem *)
cairn_hash_result_error(const cairn_hash_result *r, size_t i);
CAIRN_EXTERN(size_t) cairn_hash_result_skipped_count(const cairn_hash_result *r);
CAIRN_EXTERN(const cairn_data_problem *)
cairn_hash_result_skipped(const cairn_hash_result *r, size_t i);
CAIRN_EXTERN(void) cairn_hash_result_free(cairn_hash_result *r);

/* One side of a compared pair. */
typedef struct cairn_data_side {
	const char *digest; /* "<algo>:<hex>" */
	int64_t files, bytes;
	const char *path;     /* the recorded (or hashed) path; NULL for a manifest id */
	const char *manifest; /* the stored manifest's id, or NULL for a live path */
} cairn_data_side;

/* Two versions compared; the path lists are in path order. */
typedef struct cairn_data_pair {
	const char *name; /* the dataset's name; NULL when neither side is a run */
	int same;
	const cairn_data_side *a, *b; /* NULL on the side without the dataset */
	const char *const *added;
	size_t nadded;
	const char *const *removed;
	size_t nremoved;
	const char *const *changed;
	size_t nchanged;
} cairn_data_pair;

typedef struct cairn_data_diff cairn_data_diff;

/* cairn_data_diff_json and cairn_data_diff_stored_json, typed: the same
 * resolution of A and B, the same errors, *out NULL on failure. */
CAIRN_EXTERN(int)
cairn_data_diff_new(cairn_data_diff **out, cairn_store *store, const char *a, const char *b);
CAIRN_EXTERN(int)
cairn_data_diff_stored(cairn_data_diff **out, cairn_store *store, const char *a, const char *b);
CAIRN_EXTERN(size_t) cairn_data_diff_count(const cairn_data_diff *d);
CAIRN_EXTERN(const cairn_data_pair *) cairn_data_diff_get(const cairn_data_diff *d, size_t i);
CAIRN_EXTERN(void) cairn_data_diff_free(cairn_data_diff *d);

/* One line of a manifest. */
typedef struct cairn_manifest_entry {
	const char *path;   /* raw bytes, not necessarily UTF-8 */
	const char *type;   /* "file" or "link" */
	int64_t size;       /* a link: the length of its target */
	const char *digest; /* hex, without the algorithm */
	const char *target; /* a link's target, else NULL */
} cairn_manifest_entry;

/* A dataset of a run with (a prefix of) its manifest. */
typedef struct cairn_data_dataset {
	const char *name, *path, *role, *algo;
	const char *digest; /* hex, without the algorithm */
	int64_t files, bytes;
	const char *manifest; /* the manifest object's id */
	const cairn_manifest_entry *entries;
	size_t nentries;
	int truncated;     /* more entries than the limit */
	const char *error; /* why the manifest could not be read, else NULL */
} cairn_data_dataset;

typedef struct cairn_data_listing cairn_data_listing;

/* cairn_data_show_json, typed: same arguments, same errors. */
CAIRN_EXTERN(int)
cairn_data_show(cairn_data_listing **out, cairn_store *store, const char *run, const char *name,
                int64_t limit);
/* The run's full id. */
CAIRN_EXTERN(const char *) cairn_data_listing_run(const cairn_data_listing *l);
CAIRN_EXTERN(size_t) cairn_data_listing_count(const cairn_data_listing *l);
CAIRN_EXTERN(const cairn_data_dataset *)
cairn_data_listing_get(const cairn_data_listing *l, size_t i);
CAIRN_EXTERN(void) cairn_data_listing_free(cairn_data_listing *l);

#ifdef __cplusplus
}
#endif
#endif
