/*
 * lib/run/run.h — what the files of lib/run/ share about a run handle: the
 * layout of struct cairn_run (run.c owns its life; artifact.c logs files
 * into it).  The handle is thread-safe: `mu` guards the per-key cache, the
 * rest is fixed once the handle exists.
 */
#ifndef CAIRN_LIB_RUN_RUN_H
#define CAIRN_LIB_RUN_RUN_H

#include <pthread.h>

#include "lib/internal.h"

typedef struct keyent {
	char *name;
	uint64_t hash;
	int64_t kid;
	int64_t last_step;
} keyent;

/* cairn_run_iter_write_json's settings (iter-json.c), which tests change: the
 * fewest runs it takes threads for (4 batches), the runs a thread loads at
 * a time (STORE_RECORD_BATCH), and how many threads (0: one a CPU, up to
 * 4). */
extern size_t run_json_threads_min;
extern size_t run_json_batch;
extern int run_json_threads;

struct cairn_run {
	cairn_store *store;
	int64_t rid;
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	char *name;
	char *project;
	int64_t seq;
	pthread_mutex_t mu;
	keyent *keys;
	size_t nkeys, capkeys; /* capkeys is a power of two */
	unsigned aborts;       /* store->aborts when keys were learnt (run.c, keys_fresh) */
};

/* Delete run rid's artifact at path (or under it) and remove the objects no
 * record needs any more (artifact.c; the server of a remote store calls it
 * for its clients, serve-data.c).  *out_freed: objects removed. */
int artifact_delete_free(cairn_store *s, int64_t rid, const char *path, int64_t *out_removed,
                         size_t *out_freed);

#endif
