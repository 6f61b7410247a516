/*
 * server/ingest.h — the fast decoder of a metrics batch, the body of
 * POST /api/v1/runs/{run}/metrics (docs/internals/ingest.md).
 *
 * It reads the common shape of that body in one pass over the bytes,
 *
 *   {"metrics": [{"key": K, "value": V, "step"?: S, "timestamp"?: T}, ...]}
 *
 * without building a JSON tree: no allocation per point, one key table per
 * batch (each distinct key copied and validated once), numbers converted in
 * place.  It accepts only bodies the general path (body_parse, then
 * body_metrics) accepts, with the same points; everything else — a bad
 * body, but also any valid body outside the shape: escapes in strings,
 * other members, a member given twice, a step that is not a plain
 * non-negative integer — it leaves to the general path, which then gives
 * the answer and the error message it always gave.  So the decoder changes
 * the cost of a batch and nothing else; the http-json fuzz target checks
 * that it agrees with the general path on every input it accepts.
 *
 * Pure: no I/O, no store, no global state (the thread's last error is
 * cleared after a key or value the library refused).
 */
#ifndef CAIRN_SERVER_INGEST_H
#define CAIRN_SERVER_INGEST_H

#include <stddef.h>

#include "server/body.h"

typedef struct ingest_batch {
	metric_in *pts; /* n points; their keys point into keys */
	size_t n;
	char *keys; /* the distinct keys, each NUL-terminated */
	size_t nkeys;
} ingest_batch;

/* Decode data[0..len) into *b: true when the body has the common shape and
 * every point is valid (b then owns its arrays: ingest_batch_free); false,
 * with *b empty, when the general path must decide (over max_bytes, out of
 * memory, or anything outside the shape). */
bool ingest_decode(ingest_batch *b, const char *data, size_t len, size_t max_bytes);
void ingest_batch_free(ingest_batch *b);

#endif
