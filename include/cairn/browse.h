/*
 * cairn/browse.h — reading a store for browsing it (the HTTP API and the web
 * UI): the projects, the columns runs can be shown with, a metric's history
 * thinned to a screen's worth of points, and the stored object behind an
 * artifact path.
 *
 * Every call only reads; each returns JSON (freed with cairn_free) or fills
 * out-parameters.  Thread-safe like every call on a cairn_store.
 */
#ifndef CAIRN_BROWSE_H
#define CAIRN_BROWSE_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* [{"name", "runs", "created"}] — every project with its number of runs that
 * are not deleted, by name. */
CAIRN_EXTERN(int) cairn_project_list_json(char **out, cairn_store *store);

/* The keys that runs of `project` (NULL: all) carry, so a table can offer them
 * as columns:
 *   {"runs": N,
 *    "params":     [{"key", "count", "distinct"}],
 *    "metrics":    [{"key", "count"}],
 *    "properties": [{"key", "count", "distinct"}],
 *    "tags":       [{"tag", "count"}]}
 * count = runs that have the key; distinct = their distinct values, so a
 * column "differs" when distinct > 1 or count < runs. */
CAIRN_EXTERN(int) cairn_run_columns_json(char **out, cairn_store *store, const char *project);

/* A metric's history thinned to at most max_points points:
 *   {"key", "count", "sampled": bool, "points": [[step, timestamp, value], ...]}
 * The step range is cut into max_points/2 buckets of (nearly) equal width and
 * each bucket keeps its lowest and its highest point (in step order), so
 * spikes survive; a bucket whose values are all NaN keeps one NaN point.
 * Buckets wider than 256 steps are read from per-256-step tiles kept beside
 * the points, so a long series costs ~1/256 of a scan.  A series of at most
 * max_points points comes back whole (sampled false).  max_points is clamped
 * to [2, 1000000]. */
CAIRN_EXTERN(int)
cairn_run_metric_sample_json(char **out, cairn_store *store, const char *id, const char *key,
                             size_t max_points);

/* The same for the steps from..to only (a chart zoomed in): the window's
 * points thinned to at most max_points, "count" the points in the window.
 * Where the window's buckets are at least a 256-step tile wide the window
 * is widened to whole tiles (the first and last bucket may hold points
 * just outside it; a chart clips them); below that every point is in the
 * window.  from > to, or a window without points, is an empty series;
 * from INT64_MIN and to INT64_MAX are the whole series. */
CAIRN_EXTERN(int)
cairn_run_metric_window_json(char **out, cairn_store *store, const char *id, const char *key,
                             size_t max_points, int64_t from, int64_t to);

/* A metric's whole history, unthinned, in the same shape:
 *   {"key", "count", "sampled": false, "points": [[step, timestamp, value], ...]}
 * with count the number of points.  CAIRN_ENOTFOUND when the run has no
 * such metric (an empty series is not an error). */
CAIRN_EXTERN(int)
cairn_run_metric_raw_json(char **out, cairn_store *store, const char *id, const char *key);

/* The artifact stored under run-relative `path` of run `id`: its object id,
 * size and media type (*out_media_type freed with cairn_free).
 * CAIRN_EINVALID for a path that is not a clean relative path,
 * CAIRN_ENOTFOUND when the run has no such artifact. */
CAIRN_EXTERN(int)
cairn_artifact_lookup(char out_oid[CAIRN_OID_HEXSZ + 1], int64_t *out_size, char **out_media_type,
                      cairn_store *store, const char *id, const char *path);

#ifdef __cplusplus
}
#endif
#endif
