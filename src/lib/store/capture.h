/*
 * lib/store/capture.h — the store's side of code and environment capture:
 * the map from git object ids to stored objects (so a blob is hashed and
 * stored once however many runs use it), the run's code and environment
 * columns, and params written in bulk.  SQLite: sqlite/capture.c and
 * sqlite/params.c; every function holds the store's lock and writes inside
 * one transaction.
 */
#ifndef CAIRN_LIB_STORE_CAPTURE_H
#define CAIRN_LIB_STORE_CAPTURE_H

#include "lib/store/store.h"

/* Look up n keys of the code map ("blob:<sha1>", "tree:<sha1>:<cap>").
 * out_oids[i] is "" when keys[i] is not mapped; out_sizes may be NULL. */
int store_code_map_get(cairn_store *s, const char *const *keys, size_t n, char (*out_oids)[65],
                       int64_t *out_sizes);
/* Record n mappings (existing keys are replaced).  An entry keeps its
 * object from purge, except the "tree…" keys, which are hints to check
 * before use (purge drops them with their object).  OBJECT_VANISHED, with
 * nothing recorded, when an object is gone (store.h). */
int store_code_map_put(cairn_store *s, const char *const *keys, const char (*oids)[65],
                       const int64_t *sizes, size_t n);

/* Set the run's code columns; dirty < 0 stores NULL.  refs are object ids the
 * run now references (kept until it is purged); OBJECT_VANISHED as above. */
int store_run_code_set(cairn_store *s, int64_t rid, const char *commit, const char *branch,
                       const char *remote, int dirty, const char *code_oid, const char (*refs)[65],
                       size_t nrefs);
/* Set the run's environment record (OBJECT_VANISHED as above). */
int store_run_env_set(cairn_store *s, int64_t rid, const char *env_oid);
/* The run's code snapshot object id ("" when it has none). */
int store_run_code_oid(cairn_store *s, int64_t rid, char out[65]);

/* Params in bulk (one transaction); with overwrite = false a different
 * existing value is CAIRN_ECONFLICT and nothing is written. */
int store_params_put_many(cairn_store *s, int64_t rid, const char *const *keys,
                          const cairn_value *values, size_t n, bool overwrite);

/* The stat-keyed digest cache (hash_cache table), shared with dataset
 * hashing; capture uses its own algo label so entries never mix.  get: 0 and
 * out[0] == '\0' when absent or stale. */
int store_hash_cache_get1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                          int64_t mtime_ns, int64_t ctime_ns, char *out, size_t outsz);
int store_hash_cache_put1(cairn_store *s, int64_t dev, int64_t ino, const char *algo, int64_t size,
                          int64_t mtime_ns, int64_t ctime_ns, const char *digest);

#endif
