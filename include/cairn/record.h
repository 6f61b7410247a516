/*
 * cairn/record.h — runs read back as typed records: the primary read API.
 *
 * A cairn_run_record is an immutable snapshot of one run as the store held it
 * when the record was loaded: lifecycle, params (with their type), metric
 * summaries, tags, properties, datasets, code, environment and (on request)
 * artifacts.  Records come from cairn_run_record_get (one run) or from a
 * query iterator (cairn_query_iter_new / cairn_run_iter_next), which loads
 * them in batches of about 256 runs with one statement per table per batch,
 * so walking a large result costs constant memory per batch.
 *
 * Ownership: every record the caller receives is its own, released with
 * cairn_run_record_free (NULL-safe), and may outlive the iterator that gave
 * it.  Every string and struct an accessor returns is borrowed from the
 * record and valid until the record is freed.  A record reads its
 * environment document lazily, from the store it came from, so free records
 * before closing their store.  A record is not thread-safe: use one from one
 * thread at a time (a store may still be shared between threads).
 *
 * JSON is one projection of a record (cairn_run_record_json; the shape is in
 * docs/internals/json.md).  cairn_run_get_json and cairn_query_runs_json
 * return the same text.
 */
#ifndef CAIRN_RECORD_H
#define CAIRN_RECORD_H

#include "common.h"
#include "query.h"
#include "run.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_run_record cairn_run_record;
typedef struct cairn_run_iter cairn_run_iter;

/* Flags for cairn_run_record_get. */
#define CAIRN_RECORD_ARTIFACTS 1u /* also load the run's artifacts */
#define CAIRN_RECORD_DELETED   2u /* a deleted (hidden) run may be named too */

/* The run named by its id, a unique prefix of 4+ hex digits or its exact
 * name.  CAIRN_ENOTFOUND, CAIRN_EAMBIGUOUS as cairn_run_resolve. */
CAIRN_EXTERN(int)
cairn_run_record_get(cairn_run_record **out, cairn_store *store, const char *id, unsigned flags);
CAIRN_EXTERN(void) cairn_run_record_free(cairn_run_record *rec);

/* --- the run's attributes ------------------------------------------------- */

CAIRN_EXTERN(const char *) cairn_run_record_id(const cairn_run_record *r); /* 32 hex */
CAIRN_EXTERN(int64_t) cairn_run_record_seq(const cairn_run_record *r);
CAIRN_EXTERN(const char *) cairn_run_record_name(const cairn_run_record *r);
CAIRN_EXTERN(const char *) cairn_run_record_project(const cairn_run_record *r);
/* running, unless its heartbeat is stale: then crashed. */
CAIRN_EXTERN(cairn_status) cairn_run_record_status(const cairn_run_record *r);
/* Seconds since the epoch; 0 when the run has no such time (not ended, no
 * heartbeat yet). */
CAIRN_EXTERN(double) cairn_run_record_start_time(const cairn_run_record *r);
CAIRN_EXTERN(double) cairn_run_record_end_time(const cairn_run_record *r);
CAIRN_EXTERN(double) cairn_run_record_heartbeat(const cairn_run_record *r);
/* 0 with *out set, or CAIRN_ENOTFOUND while the run has no exit code. */
CAIRN_EXTERN(int) cairn_run_record_exit_code(int64_t *out, const cairn_run_record *r);
/* NULL when not recorded. */
CAIRN_EXTERN(const char *) cairn_run_record_command(const cairn_run_record *r);
CAIRN_EXTERN(const char *) cairn_run_record_cwd(const cairn_run_record *r);
CAIRN_EXTERN(const char *) cairn_run_record_host(const cairn_run_record *r);
CAIRN_EXTERN(const char *) cairn_run_record_user(const cairn_run_record *r);
/* The parent run's id (a sweep's trials), or NULL. */
CAIRN_EXTERN(const char *) cairn_run_record_parent(const cairn_run_record *r);
/* How many runs (deleted ones aside) have this one as their parent. */
CAIRN_EXTERN(int64_t) cairn_run_record_children(const cairn_run_record *r);
/* "" when the run has no note. */
CAIRN_EXTERN(const char *) cairn_run_record_note(const cairn_run_record *r);
CAIRN_EXTERN(int64_t) cairn_run_record_pid(const cairn_run_record *r);
CAIRN_EXTERN(int) cairn_run_record_deleted(const cairn_run_record *r);

/* The code a run was started from; NULL when none was captured.  Each
 * string may be NULL (no git repository, no remote). */
typedef struct cairn_run_code {
	const char *commit;
	const char *branch;
	const char *remote;
	int dirty;            /* 1, 0, or -1 when unknown */
	const char *snapshot; /* object id of the snapshot manifest, or NULL */
} cairn_run_code;
CAIRN_EXTERN(const cairn_run_code *) cairn_run_record_code(const cairn_run_record *r);

/* The captured environment as the JSON text it was stored as (an opaque
 * document: OS, CPU, GPUs, packages, …), or NULL when none was captured or
 * it cannot be read.  Read from the store on first use. */
CAIRN_EXTERN(const char *) cairn_run_record_environment(const cairn_run_record *r);
/* The document's top-level scalar members (os, kernel, cpu, memory_bytes,
 * python, …) as text, in document order: strings as they are, numbers and
 * booleans written out; nested objects and arrays are left out.  For
 * summaries such as cairn show's. */
CAIRN_EXTERN(size_t) cairn_run_record_environment_count(const cairn_run_record *r);
CAIRN_EXTERN(const char *)
cairn_run_record_environment_item(const char **text, const cairn_run_record *r, size_t i);

/* --- params ---------------------------------------------------------------- */

/* Params in key order.  A value keeps its type: a float param NaN or +-Inf
 * is CAIRN_TYPE_FLOAT, a string param "NaN" is CAIRN_TYPE_STRING.  value->s
 * is borrowed from the record. */
CAIRN_EXTERN(size_t) cairn_run_record_param_count(const cairn_run_record *r);
CAIRN_EXTERN(const char *)
cairn_run_record_param(cairn_value *value, const cairn_run_record *r, size_t i);
/* 0, or CAIRN_ENOTFOUND when the run has no such param. */
CAIRN_EXTERN(int)
cairn_run_record_param_get(cairn_value *value, const cairn_run_record *r, const char *key);

/* --- metric summaries -------------------------------------------------------- */

typedef struct cairn_metric_summary {
	const char *key;
	double last;      /* may be NaN or +-Inf */
	double min, max;  /* NaN when every point was NaN */
	int64_t count;    /* points logged */
	int64_t step;     /* the last point's step */
	double timestamp; /* the last point's time, seconds since the epoch */
} cairn_metric_summary;

/* Metrics in key order. */
CAIRN_EXTERN(size_t) cairn_run_record_metric_count(const cairn_run_record *r);
CAIRN_EXTERN(const cairn_metric_summary *)
cairn_run_record_metric(const cairn_run_record *r, size_t i);
/* NULL when the run has no such metric. */
CAIRN_EXTERN(const cairn_metric_summary *)
cairn_run_record_metric_get(const cairn_run_record *r, const char *key);

/* --- tags and properties ------------------------------------------------------- */

CAIRN_EXTERN(size_t) cairn_run_record_tag_count(const cairn_run_record *r);
/* The i-th tag (in tag order) and its value (NULL: a bare tag). */
CAIRN_EXTERN(const char *) cairn_run_record_tag(const cairn_run_record *r, size_t i);
CAIRN_EXTERN(const char *) cairn_run_record_tag_value(const cairn_run_record *r, size_t i);
CAIRN_EXTERN(int) cairn_run_record_has_tag(const cairn_run_record *r, const char *tag);

CAIRN_EXTERN(size_t) cairn_run_record_property_count(const cairn_run_record *r);
/* The i-th property's key (in key order); its value in *value. */
CAIRN_EXTERN(const char *)
cairn_run_record_property(const char **value, const cairn_run_record *r, size_t i);
/* NULL when the run has no such property. */
CAIRN_EXTERN(const char *)
cairn_run_record_property_get(const cairn_run_record *r, const char *key);

/* --- datasets and artifacts ------------------------------------------------------- */

typedef struct cairn_run_dataset {
	const char *name, *path, *role, *algo, *digest;
	int64_t files, bytes;
	const char *manifest; /* object id of the manifest, or NULL */
} cairn_run_dataset;

CAIRN_EXTERN(size_t) cairn_run_record_dataset_count(const cairn_run_record *r);
CAIRN_EXTERN(const cairn_run_dataset *)
cairn_run_record_dataset(const cairn_run_record *r, size_t i);
CAIRN_EXTERN(const cairn_run_dataset *)
cairn_run_record_dataset_get(const cairn_run_record *r, const char *name);

typedef struct cairn_run_artifact {
	const char *path;   /* run-relative */
	const char *digest; /* object id */
	int64_t size;
	const char *media_type; /* or NULL */
	const char *kind;       /* CAIRN_ARTIFACT_* */
	const char *key;        /* images: their key, else NULL */
	int64_t step;           /* images: their step, else CAIRN_STEP_AUTO */
} cairn_run_artifact;

/* Only for records loaded with CAIRN_RECORD_ARTIFACTS (else 0). */
CAIRN_EXTERN(size_t) cairn_run_record_artifact_count(const cairn_run_record *r);
CAIRN_EXTERN(const cairn_run_artifact *)
cairn_run_record_artifact(const cairn_run_record *r, size_t i);

/* --- the query iterator ------------------------------------------------------------- */

/* The runs matching opts (NULL: every run, newest first), in sort order,
 * loaded in batches.  The query and sort are checked here (CAIRN_EINVALID,
 * the message naming the position).  The page of matching ids is fixed
 * when the iterator is made; a run purged before its batch is read is
 * skipped. */
CAIRN_EXTERN(int)
cairn_query_iter_new(cairn_run_iter **out, cairn_store *store, const cairn_query_options *opts);
/* 0 with the next record in *out (the caller's: cairn_run_record_free),
 * CAIRN_ITEROVER when there are no more, or an error. */
CAIRN_EXTERN(int) cairn_run_iter_next(cairn_run_record **out, cairn_run_iter *it);
/* Back to the first record of the same page of ids (no new query: a
 * second pass over exactly what the first saw, less runs purged since). */
CAIRN_EXTERN(void) cairn_run_iter_rewind(cairn_run_iter *it);
/* How many ids the page holds (after offset and limit). */
CAIRN_EXTERN(size_t) cairn_run_iter_count(const cairn_run_iter *it);
/* Every match, before offset and limit.  Counted when first asked for, in
 * a read of its own (a page near the top of a big store is found without
 * every match), so it may count runs logged since the page was fixed. */
CAIRN_EXTERN(int64_t) cairn_run_iter_total(const cairn_run_iter *it);
/* The keyset position of the page's last run (the sort keys' values and
 * its place among equal ones), for cairn_query_options.after to ask for
 * the page after this one; computed with the page, in the same read.  *out
 * (cairn_free) is NULL when the page is empty, when the run's sort values
 * are too long for a position (over ~6 KB of text), or on a remote store
 * (which takes offsets only): page with offset then. */
CAIRN_EXTERN(int) cairn_run_iter_after(char **out, const cairn_run_iter *it);
/* The iterator's records not yet given, as run objects (cairn_run_record_json's
 * text), comma-separated, handed to write(arg, data, len) in order, in pieces of
 * up to a batch; the iterator is then at its end.  A big page is loaded by
 * several threads, each with a handle of its own onto the store (the caller's
 * and peers: cairn_store_open_peer), so it goes about as many times faster as
 * there are CPUs, in the memory of a few batches.  0 when all were written.
 * write returns 0, or nonzero to stop: the error is then that cairn code
 * (CAIRN_EIO for any other value), its message errno's reason when write
 * left one.  A store error mid-way is returned after what came before it
 * was written. */
CAIRN_EXTERN(int)
cairn_run_iter_write_json(cairn_run_iter *it, int (*write)(void *arg, const char *data, size_t len),
                          void *arg);
CAIRN_EXTERN(void) cairn_run_iter_free(cairn_run_iter *it);

/* --- fields of the query language --------------------------------------------------- */

typedef enum cairn_field_kind {
	CAIRN_FIELD_METRIC = 0,    /* metrics.KEY[.part] */
	CAIRN_FIELD_PARAM = 1,     /* params.KEY */
	CAIRN_FIELD_TAG = 2,       /* tags.TAG: present or not */
	CAIRN_FIELD_TAGS = 3,      /* tags: every tag */
	CAIRN_FIELD_PROPERTY = 4,  /* properties.KEY */
	CAIRN_FIELD_DATASET = 5,   /* datasets.NAME[.part] */
	CAIRN_FIELD_ATTRIBUTE = 6, /* id, name, status, started, duration, … */
	CAIRN_FIELD_FILES = 7,     /* reads, wrote: the paths a run read or wrote */
} cairn_field_kind;

/* part of a files field; its value (cairn_run_record_field) is the number
 * of paths */
enum { CAIRN_FILES_READS, CAIRN_FILES_WROTE };

/* part of a metric field */
enum {
	CAIRN_METRIC_LAST,
	CAIRN_METRIC_MIN,
	CAIRN_METRIC_MAX,
	CAIRN_METRIC_COUNT,
	CAIRN_METRIC_STEP
};
/* part of a dataset field */
enum {
	CAIRN_DATASET_DIGEST,
	CAIRN_DATASET_PATH,
	CAIRN_DATASET_ROLE,
	CAIRN_DATASET_ALGO,
	CAIRN_DATASET_FILES,
	CAIRN_DATASET_BYTES
};

typedef struct cairn_field {
	cairn_field_kind kind;
	char *name; /* canonical text: "metrics.`a b`.max" */
	char *key;  /* the key, tag, dataset name, or attribute name ("started") */
	int part;   /* CAIRN_METRIC_* or CAIRN_DATASET_*; -1 for other kinds */
} cairn_field;

/* Parse a field name of the language (the whole text).  0, or
 * CAIRN_EINVALID with the message set and *pos (may be NULL) the 0-based
 * byte offset of the problem.  Release with cairn_field_free (NULL-safe; it
 * leaves *f empty, so freeing twice is harmless). */
CAIRN_EXTERN(int) cairn_field_parse(cairn_field *f, const char *text, size_t *pos);
CAIRN_EXTERN(void) cairn_field_free(cairn_field *f);

/* The field's value in a record: 0 with *out typed as follows, or
 * CAIRN_ENOTFOUND when the run has no value for it.
 *   metrics: FLOAT (last/min/max, NaN possible), INT (count, step);
 *   params: the param's own type; properties: STRING;
 *   tags.TAG: BOOL true, or STRING its value for a key/value tag (absent:
 *   CAIRN_ENOTFOUND); tags: STRING, the tags
 *   joined by ","; datasets: STRING, or INT for files/bytes;
 *   attributes: id, name, project, status, user, host, command, note,
 *   commit, branch, remote, parent: STRING; seq, exit_code: INT; dirty:
 *   BOOL; started, ended, duration: FLOAT seconds (a running run's duration
 *   up to when the record was loaded); start_time, end_time: INT ms.
 * out->s is borrowed from the record (or the field). */
CAIRN_EXTERN(int)
cairn_run_record_field(cairn_value *out, const cairn_run_record *r, const cairn_field *f);

/* --- JSON, one projection of a record ------------------------------------------------ */

/* The run object (docs/internals/json.md), or with columns (ncolumns > 0)
 * only "id" and the members named: a top-level member ("name", "status",
 * "params") whole, or one key of params, metrics or properties
 * ("params.lr").  *out freed with cairn_free. */
CAIRN_EXTERN(int)
cairn_run_record_json(char **out, const cairn_run_record *r, const char *const *columns,
                      size_t ncolumns);

#ifdef __cplusplus
}
#endif
#endif
