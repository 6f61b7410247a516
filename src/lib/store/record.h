/*
 * lib/store/record.h — the layout of run records (cairn/record.h) inside the
 * library: what a store backend fills when it loads runs, and what the
 * accessors (run/record.c) and the JSON projection (store/record-json.c)
 * read.
 *
 * Records are loaded in batches.  A batch owns one arena holding every
 * string and array of its records and is reference-counted: the loader
 * holds one reference, and every record handed to a caller holds one, so a
 * record may outlive the iterator that yielded it and the batch is freed
 * with its last record.  Every key-ordered array (params, metrics, tags,
 * properties, datasets, artifacts) is sorted by key (strcmp) when loaded, so
 * lookups bisect.  The reference count is atomic; everything else is
 * immutable after loading except the lazily read environment.
 */
#ifndef CAIRN_LIB_STORE_RECORD_H
#define CAIRN_LIB_STORE_RECORD_H

#include <stdatomic.h>

#include "lib/internal.h"
#include "util/arena.h"

#define REC_ARENA_CHUNK (64u << 10)

typedef struct rec_param {
	const char *key;
	cairn_value v; /* v.s points into the batch's arena */
} rec_param;

typedef struct rec_metric {
	cairn_metric_summary m; /* m.key into the arena */
	int64_t ts_ms;          /* the last point's time as stored */
	bool min_null, max_null;
} rec_metric;

typedef struct rec_prop {
	const char *key, *value;
} rec_prop;

typedef struct rec_batch rec_batch;

struct cairn_run_record {
	rec_batch *batch;
	cairn_store *store; /* for the lazy environment */
	int64_t rid;
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	int64_t seq, pid;
	int64_t children; /* runs (not deleted) whose parent this one is */
	const char *name, *project, *command, *cwd, *host, *user, *note, *parent;
	cairn_status status; /* stale heartbeat already turned into crashed */
	double start_time, end_time, heartbeat;
	bool has_start, has_end, has_heartbeat, has_exit_code, deleted;
	int64_t exit_code;
	bool has_code;
	cairn_run_code code;
	const char *env_oid; /* NULL: none captured */
	char *env;           /* lazily read (malloc'ed), see env_read */
	bool env_read;
	rec_prop *env_items; /* its top-level scalars as text (malloc'ed, lazily) */
	size_t nenv_items;
	bool env_items_read;
	double loaded_at; /* the store's clock when loaded (running durations) */
	rec_param *params;
	size_t nparams;
	rec_metric *metrics;
	size_t nmetrics;
	rec_prop *tags; /* key: the tag; value: its value, NULL for a bare tag */
	size_t ntags;
	const char *tags_joined; /* "a,k=v": the value of the `tags` field */
	rec_prop *props;
	size_t nprops;
	cairn_run_dataset *datasets;
	size_t ndatasets;
	cairn_run_artifact *artifacts;
	size_t nartifacts;
	bool with_artifacts;
};

/* A copy of s[0..n) and a NUL in the batch's arena; NULL when s is NULL or
 * memory ran out (then a->oom is set). */
static inline const char *rec_strndup(arena *a, const char *s, size_t n)
{
	return s ? arena_strndup(a, s, n) : NULL;
}

struct rec_batch {
	atomic_int refs;
	arena arena; /* 64 KiB chunks (REC_ARENA_CHUNK): a batch of 256 runs fits in a few */
	cairn_run_record *recs; /* n of them, in the order asked for */
	size_t n;
};

/* A new empty batch (one reference, the caller's) or NULL. */
rec_batch *rec_batch_new(void);
void rec_batch_ref(rec_batch *b);
void rec_batch_unref(rec_batch *b);

/* Load the records of rids[0..n) (at most STORE_RECORD_BATCH of them) into a
 * new batch, in the order given; with_artifacts also reads artifacts.  A run
 * that is not in the store is left out (*out's n counts the rest).  The
 * caller holds a read transaction when several loads must agree. */
#define STORE_RECORD_BATCH 256

/* --- Loading a batch: what every backend's records_load shares
 * (record-load.c).  record_batch_start makes n empty records in the order
 * asked for and the ids sorted; each section's rows, ordered by run, are
 * fed to a rec_gather (record_gather_row gives the row's record and, past
 * the head, a fresh element of the section's array to fill; a NULL record
 * means the row's run is not in the batch: stop); record_batch_finish
 * drops the runs no head was found for. */
enum { REC_HEAD, REC_PARAMS, REC_METRICS, REC_TAGS, REC_PROPS, REC_DATA, REC_ARTS, REC_NSECT };

typedef struct rec_ridx {
	int64_t rid;
	size_t idx; /* into batch->recs */
} rec_ridx;

typedef struct rec_gather {
	rec_batch *bt;
	int k;
	const rec_ridx *sorted;
	size_t n, pos, es, nt, cap;
	char *tmp;
	cairn_run_record *cur;
	/* params and metrics: the keys of the last run attached, in the order
	 * its rows came, and the order that sorts them (ord[j]: the row that
	 * goes j-th).  Runs of one batch mostly have the same keys in the same
	 * order, so each is sorted by copying instead of a qsort. */
	const char **okeys;
	size_t *ord;
	size_t nord, ocap;
} rec_gather;

int record_batch_start(rec_batch **out, rec_ridx **out_sorted, const int64_t *rids, size_t n,
                       bool with_artifacts);
void record_batch_finish(rec_batch *bt, size_t n);
void record_gather_init(rec_gather *g, rec_batch *bt, int k, const rec_ridx *sorted, size_t n);
int record_gather_row(rec_gather *g, int64_t rid, cairn_run_record **out_rec, void **out_elem);
/* Attach the last run's rows and free the scratch; returns rc, or the
 * first error of its own. */
int record_gather_end(rec_gather *g, int rc);
int store_records_load(cairn_store *s, const int64_t *rids, size_t n, bool with_artifacts,
                       rec_batch **out);

/* A param value as run objects write it (store/record-json.c): a
 * non-finite float as {"$float": "NaN"|"Infinity"|"-Infinity"}, a finite
 * float keeping a decimal point, so the type survives. */
void record_json_param(buf *b, const cairn_value *v);

/* Lookups by key (bisection over the sorted arrays); NULL when absent. */
const rec_param *record_param_find(const cairn_run_record *r, const char *key);
const rec_metric *record_metric_find(const cairn_run_record *r, const char *key);
const rec_prop *record_prop_find(const cairn_run_record *r, const char *key);
const cairn_run_dataset *record_dataset_find(const cairn_run_record *r, const char *name);
bool record_has_tag(const cairn_run_record *r, const char *tag);
/* The tag (key and value) or NULL. */
const rec_prop *record_tag_find(const cairn_run_record *r, const char *tag);

/* A metric's whole history as {"key", "count", "sampled": false, "points":
 * [[step, timestamp, value], ...]} (cairn_run_metric_raw_json);
 * CAIRN_ENOTFOUND when the run has no such metric. */
int store_metric_raw_json(cairn_store *s, int64_t rid, const char *key, buf *b);

/* The ids of cairn_run_list's runs, newest first (*out_rids malloc'ed). */
int store_run_list_ids(cairn_store *s, const cairn_list_options *o, int64_t **out_rids,
                       size_t *out_n);

/* The environment document of r, read from the store on first use (NULL:
 * none, or unreadable). */
const char *record_env(const cairn_run_record *r);

/* The top-level scalar members of the environment document as key/text
 * pairs, in document order (parsed on first use). */
const rec_prop *record_env_items(const cairn_run_record *r, size_t *n);
/* Release what the record read lazily. */
void record_lazy_free(cairn_run_record *r);

/* The JSON projection (record-json.c): the run object of r appended to
 * b, or with columns only "id" and those (see cairn_run_record_json). */
void record_json(buf *b, const cairn_run_record *r, const char *const *columns, size_t ncolumns);
/* About the size of r's whole object (record_json without columns), to
 * size a buffer once. */
size_t record_json_size(const cairn_run_record *r);

#endif
