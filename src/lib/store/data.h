/*
 * lib/store/data.h — the store's side of data versions (SQLite:
 * sqlite/data.c): the hash cache and the datasets recorded on runs.  Same
 * rules as store.h: each write in one transaction, the store's lock held
 * throughout.  Rows handed out are malloc'ed; dataset_rows_free frees them.
 */
#ifndef CAIRN_LIB_STORE_DATA_H
#define CAIRN_LIB_STORE_DATA_H

#include "lib/data/data.h"
#include "lib/store/store.h"

/* For every entry of `files` (dev and ino from the walk) that the cache has
 * a row for, copy the row's size, mtime, ctime and digest into the entry and
 * mark it ENTRY_CANDIDATE: a hit once a stat confirms all three.  Entries
 * are reordered (sorted by device and inode).  *out_found counts them. */
int store_hash_cache_lookup(cairn_store *s, data_algo algo, mentry **files, size_t n,
                            int64_t *out_found);
/* Insert or replace the rows of `files` in one transaction (reorders
 * `files` by device and inode). */
int store_hash_cache_put(cairn_store *s, data_algo algo, mentry **files, size_t n);

typedef struct dataset_row {
	char *name, *path, *role, *algo, *digest, *manifest_oid;
	int64_t files, bytes;
} dataset_row;

/* Record (or replace) a dataset of run rid and reference its manifest
 * object, in one transaction. */
int store_dataset_put(cairn_store *s, int64_t rid, const dataset_row *d);
/* The run's datasets ordered by name (only `name` when not NULL). */
int store_dataset_list(cairn_store *s, int64_t rid, const char *name, dataset_row **out,
                       size_t *out_n);
void dataset_rows_free(dataset_row *v, size_t n);

#endif
