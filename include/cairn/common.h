/*
 * cairn/common.h — error codes, the per-thread last error, version, and the
 * small value types shared by every part of the public API.
 *
 * Conventions (libgit2 style): a fallible call returns int, 0 on success or a
 * negative cairn_error_code; out-parameters come first; handles are opaque;
 * every _open/_new has a NULL-safe _close/_free.  Strings returned through
 * `char **out` are heap-allocated and released with cairn_free().
 */
#ifndef CAIRN_COMMON_H
#define CAIRN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CAIRN_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define CAIRN_EXTERN(type) extern type
#endif

#define CAIRN_VERSION "0.1.0"

typedef enum cairn_error_code {
	CAIRN_OK = 0,
	CAIRN_ERROR = -1,      /* generic failure */
	CAIRN_EINVALID = -2,   /* bad input: key, value, option, query */
	CAIRN_ENOTFOUND = -3,  /* no such run, object, path, key */
	CAIRN_EEXISTS = -4,    /* already exists */
	CAIRN_EAMBIGUOUS = -5, /* a run prefix matching several runs */
	CAIRN_ECONFLICT = -6,  /* e.g. a param re-logged with another value */
	CAIRN_EIO = -7,        /* filesystem error */
	CAIRN_ESTORE = -8,     /* the database failed or is not a cairn store */
	CAIRN_ENOMEM = -9,
	CAIRN_EBUSY = -10,    /* the store stayed locked past the timeout */
	CAIRN_ETOOBIG = -11,  /* input over a size cap */
	CAIRN_EDIRTY = -12,   /* --require-clean refused a dirty tree */
	CAIRN_ITEROVER = -13, /* an iterator has no more items (not an error) */
} cairn_error_code;

/* The message of the last error raised on this thread ("" if none).
 * Valid until the next failing cairn call on the same thread. */
CAIRN_EXTERN(const char *) cairn_error_last(void);
/* The code of the last error raised on this thread (0 if none). */
CAIRN_EXTERN(int) cairn_error_last_code(void);
CAIRN_EXTERN(void) cairn_error_clear(void);

/* Free memory returned by any cairn call through a `char **` out-param. */
CAIRN_EXTERN(void) cairn_free(void *p);

CAIRN_EXTERN(const char *) cairn_version(void);

/* Typed parameter values. */
typedef enum cairn_type {
	CAIRN_TYPE_NONE = 0,
	CAIRN_TYPE_INT = 1,
	CAIRN_TYPE_FLOAT = 2,
	CAIRN_TYPE_BOOL = 3,
	CAIRN_TYPE_STRING = 4,
} cairn_type;

typedef struct cairn_value {
	cairn_type type;
	int64_t i;     /* INT, BOOL (0/1) */
	double f;      /* FLOAT */
	const char *s; /* STRING (borrowed) */
} cairn_value;

/* Parse text as the most specific type: int, float, bool (true/false), else
 * string.  `out->s` borrows `text`. */
CAIRN_EXTERN(void) cairn_value_parse(cairn_value *out, const char *text);

/* Validate a key (param, metric, property, tag, artifact name). Returns 0 or
 * CAIRN_EINVALID with the reason in cairn_error_last(). `what` names the kind
 * in the message ("metric key"). */
CAIRN_EXTERN(int) cairn_key_validate(const char *key, const char *what);

/* Validate a new tag: a key (above) without commas or spaces, which would
 * make one tag look like several where a run's tags are listed.  Every way
 * of adding a tag (runs created with tags, cairn_run_set_tag, the HTTP API)
 * checks this; removing a tag checks only cairn_key_validate, so a store
 * written before the rule can still drop such tags. */
CAIRN_EXTERN(int) cairn_tag_validate(const char *tag);

#ifdef __cplusplus
}
#endif
#endif
