/*
 * server/body.h — decoding request bodies of the native API: bounded JSON
 * parsing, then one decoder per write endpoint that checks every member's
 * type and bounds and names the first bad one ("metrics[3].value: expected a
 * number").  Also writes parsed JSON back out (for column projections).
 *
 * Pure functions over util/json and the public key checks: no I/O, no
 * store, so the fuzz target (tests/fuzz/fuzz-http-json.c) drives them
 * directly.  Decoded structures borrow strings from the json_doc and are
 * freed with body_free_* (arrays only).
 */
#ifndef CAIRN_SERVER_BODY_H
#define CAIRN_SERVER_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn.h"
#include "util/buf.h"
#include "util/json.h"

#define BODY_MAX_DEPTH 32
/* Items in one request body (docs/http-api.md, "Limits and safety").  More is
 * BODY_ETOOMANY (413), found before anything is decoded further or written. */
#define BODY_MAX_METRICS    100000 /* points */
#define BODY_MAX_PARAMS     10000  /* params, after nested objects are flattened */
#define BODY_MAX_PROPERTIES 10000
#define BODY_MAX_TAGS       1000

/* What the decoders return: 0, BODY_EINVALID (a bad member: 400) or
 * BODY_ETOOMANY (over a cap above: 413), with the reason in err. */
#define BODY_EINVALID (-1)
#define BODY_ETOOMANY (-2)

/* Parse a request body: NULL with "what at offset N" in err on bad JSON or
 * over max_bytes; the root must be an object. */
json_doc *body_parse(const char *data, size_t len, size_t max_bytes, char *err, size_t errsz);

typedef struct metric_in {
	const char *key;
	double value;
	int64_t step;     /* CAIRN_STEP_AUTO when absent */
	double timestamp; /* 0 when absent: now */
} metric_in;

/* {"metrics": [{"key", "value", "step"?, "timestamp"?}, ...]} */
int body_metrics(const json *root, metric_in **out, size_t *n, char *err, size_t errsz);

typedef struct param_in {
	char *key; /* owned: nested objects are flattened to dotted keys */
	cairn_value value;
} param_in;

/* {"params": {"lr": 0.1, "model": {"depth": 3}}} -> lr, model.depth.
 * Values: numbers (integers stay integers), booleans, strings. */
int body_params(const json *root, const char *member, param_in **out, size_t *n, char *err,
                size_t errsz);
void body_free_params(param_in *p, size_t n);
/* The index of a key that occurs twice in p (its second occurrence in key
 * order), or -1 when all differ; O(n log n).  -2 when out of memory. */
long body_params_dup(const param_in *p, size_t n);

/* {"properties": {"k": "v"}}: string values only. */
int body_properties(const json *root, const json **out_obj, char *err, size_t errsz);

/* {"tags": ["a", "b"]} (every tag checked as a key). */
int body_tags(const json *root, const char ***out, size_t *n, char *err, size_t errsz);

/* {"note": "text"} (may be ""). */
int body_note(const json *root, const char **out, char *err, size_t errsz);

typedef struct finish_in {
	cairn_status status;
	int exit_code;
} finish_in;

/* {"status": "finished"|"failed"|"killed", "exit_code"?: int} (empty: finished). */
int body_finish(const json *root, finish_in *out, char *err, size_t errsz);

typedef struct create_in {
	const char *project, *name, *note, *command, *parent;
	const char **tags;
	size_t ntags;
	param_in *params;
	size_t nparams;
} create_in;

/* {"project"?, "name"?, "tags"?, "params"?, "note"?, "command"?, "parent"?} */
int body_create(const json *root, create_in *out, char *err, size_t errsz);
void body_free_create(create_in *c);

/* Write a parsed value back as JSON (floats keep a ".0" so a float param
 * stays recognisable as a float). */
void json_write_node(buf *b, const json *v);

#endif
