/*
 * util/json.h — cairn's small JSON writer and bounded DOM parser.
 *
 * Why our own: the hot paths (show/list output, HTTP batch ingest) want an
 * arena parser with no per-node malloc and a writer that appends straight
 * into a buf; both fit in a few hundred lines (docs/internals/json.md).
 *
 * Strings are written as valid UTF-8 whatever their bytes: a byte that is not
 * part of a valid UTF-8 sequence is written as the escape of the lone
 * surrogate U+DC00 + byte (\udcff for 0xff), the convention of Python's
 * "surrogateescape" error handler and os.fsdecode; the parser turns such an
 * escape back into the byte, so file names and log text round-trip byte for
 * byte.  Other lone surrogates are rejected.
 *
 * Non-finite numbers are written as the strings "NaN", "Infinity" and
 * "-Infinity" (JSON has no literal for them); json_num_value() reads them back.
 * The parser bounds nesting depth and input size, rejects invalid UTF-8 escapes
 * and reports the byte offset of the first error.  Not thread-safe per doc.
 */
#ifndef CAIRN_UTIL_JSON_H
#define CAIRN_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* --- writer --------------------------------------------------------------- */
void json_str(buf *b, const char *s);
void json_strn(buf *b, const char *s, size_t n);
void json_num(buf *b, double v);
void json_int(buf *b, int64_t v);
void json_bool(buf *b, bool v);
/* Appends `"key":` (with a leading comma unless *first, which it clears). */
void json_key(buf *b, bool *first, const char *key);

/* --- parser --------------------------------------------------------------- */
typedef enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUM,
	JSON_STR,
	JSON_ARR,
	JSON_OBJ,
} json_type;

typedef struct json {
	json_type type;
	bool b;
	bool is_int; /* a number written without fraction/exponent, fits int64 */
	int64_t i;
	double num;
	const char *str; /* JSON_STR: NUL-terminated (may contain NULs; see len) */
	size_t len;      /* string length, or element count for ARR/OBJ */
	const char *key; /* member name when inside an object */
	struct json *child, *next;
} json;

typedef struct json_doc json_doc;

typedef struct json_limits {
	size_t max_depth; /* 0: 64 */
	size_t max_bytes; /* 0: 64 MiB */
} json_limits;

/* Parse `len` bytes.  On error returns NULL and writes "what at offset N" to
 * err.  The doc owns every node and string. */
json_doc *json_parse(const char *text, size_t len, const json_limits *lim, char *err, size_t errsz);
/* Whether text[0..len) is one JSON document json_parse would accept, and
 * (root_type may be NULL) the type of its root; nothing is built, so
 * checking a stored document costs a scan and one scratch buffer. */
bool json_valid(const char *text, size_t len, const json_limits *lim, json_type *root_type);
const json *json_root(const json_doc *doc);
void json_doc_free(json_doc *doc);

const json *json_get(const json *obj, const char *key);
const char *json_get_str(const json *obj, const char *key); /* NULL if absent/not str */
bool json_get_num(const json *obj, const char *key, double *out);
/* A number, or one of the non-finite strings. */
bool json_num_value(const json *v, double *out);

#endif
