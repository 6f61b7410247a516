/*
 * lib/run/iter.h — the query iterator's layout (struct cairn_run_iter),
 * shared by record.c (the iterator) and iter-json.c (its records written
 * as JSON by several threads).
 */
#ifndef CAIRN_LIB_RUN_ITER_H
#define CAIRN_LIB_RUN_ITER_H

#include "lib/store/query.h"
#include "lib/store/record.h"

struct cairn_run_iter {
	cairn_store *store;
	int64_t *ids;
	size_t n, next; /* ids not loaded yet: ids[next..n) */
	int64_t total;  /* -1: not counted yet (cairn_run_iter_total counts) */
	rec_batch *batch;
	size_t bpos;
	/* the query, kept for the count: its trees and copies of its texts */
	query_compiled c;
	bool compiled;
	char *text, *sort_text, *project;
	char *after; /* the position of the last id (cairn_run_iter_after) */
};

#endif
