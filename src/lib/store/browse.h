/*
 * lib/store/browse.h — the store's side of cairn/browse.h (lib/browse.c): reads
 * that the HTTP API and the web UI need and the core store does not offer.
 * Each function holds the store's lock for its whole duration.
 */
#ifndef CAIRN_LIB_STORE_BROWSE_H
#define CAIRN_LIB_STORE_BROWSE_H

#include "lib/store/store.h"

/* A whole series, as the window of store_metric_sample_json. */
#define SAMPLE_ALL_FROM INT64_MIN
#define SAMPLE_ALL_TO   INT64_MAX

int store_project_list_json(cairn_store *s, buf *out);
int store_run_columns_json(cairn_store *s, const char *project, buf *out);
/* rid's series `key` thinned to at most max_points (see
 * cairn_run_metric_window_json), steps from..to (SAMPLE_ALL_FROM/TO: all). */
int store_metric_sample_json(cairn_store *s, int64_t rid, const char *key, size_t max_points,
                             int64_t from, int64_t to, buf *out);
int store_artifact_lookup(cairn_store *s, int64_t rid, const char *path,
                          char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media);

#endif
