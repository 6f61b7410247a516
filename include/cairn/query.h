/*
 * cairn/query.h — finding runs with the query language, grouping them, and
 * diffing two runs across every dimension.
 *
 * The language (DESIGN.md §6, grammar in docs/internals/query.md) is shared by
 * the CLI, the HTTP API and the web UI:
 *
 *   metrics.valid_auc > 0.9 and params.model = "lgbm" and not tags.debug
 *   (params.lr < 1e-3 or params.optimizer in ("adam", "sgd")) and status = finished
 *   name ~ "resnet*" and started > 2026-11-01 and duration < 1h30m
 *
 * MLflow's filter syntax (metrics.rmse < 1 and params.model = 'tree', LIKE,
 * ILIKE, attributes.status, backquoted keys) is a subset.  Queries compile to
 * SQL with bound parameters only.  A bad query is CAIRN_EINVALID with a
 * message naming the character where the problem is.
 */
#ifndef CAIRN_QUERY_H
#define CAIRN_QUERY_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_query_options {
	unsigned int version; /* CAIRN_QUERY_OPTIONS_VERSION */
	const char *query;    /* the query language, "" or NULL for every run */
	const char *sort; /* "-metrics.valid_auc,params.lr" (- descending); NULL: newest first */
	int64_t limit;    /* <= 0: no limit */
	int64_t offset;
	const char *project; /* NULL: every project */
	int include_deleted;
	/* Version 2: a keyset position, as cairn_run_iter_after gives it for
	 * the last run of a page (NULL or "": none).  Only the runs after that
	 * place in the sort order match, then offset and limit apply; so the
	 * next page costs what the first does, at any depth.  The position
	 * belongs to the sort order (sort, or the default): given with another
	 * sort, or garbled, it is CAIRN_EINVALID.  total still counts every
	 * match. */
	const char *after;
} cairn_query_options;

#define CAIRN_QUERY_OPTIONS_VERSION 2 /* 1: without after (still accepted) */
#define CAIRN_QUERY_OPTIONS_INIT                                                                   \
	{                                                                                          \
		CAIRN_QUERY_OPTIONS_VERSION, NULL, NULL, 0, 0, NULL, 0, NULL                       \
	}

/* The matching runs, sorted, as {"total": N, "runs": [run objects as
 * cairn_run_get_json returns them, without artifacts]}.  total counts every
 * match, before offset and limit.  A run without a sort key's field sorts
 * after the runs that have it, and NaN after every number, in both
 * directions; runs equal on every key are newest first. */
CAIRN_EXTERN(int)
cairn_query_runs_json(char **out, cairn_store *store, const cairn_query_options *opts);

/* The matching runs grouped by the value of a field (group_by, e.g.
 * "params.model"), with the count and min/mean/max of a metric (e.g.
 * "metrics.valid_auc", or NULL for counts only), as
 * {"total": N, "group_by": "...", "metric": "...", "groups": [{"value": v,
 * "count": n, "metric": "...", "values": k, "min": x, "mean": x, "max": x}]}.
 * Groups are ordered by value (numbers, then text); runs without the field
 * form the last group, with value null and "missing": true.  NaN values of
 * the metric are left out of min/mean/max ("values" counts the rest).  A
 * value is written as in run objects: a non-finite float param as
 * {"$float": "NaN"}, a metric's as the string "NaN" (docs/internals/json.md). */
CAIRN_EXTERN(int)
cairn_query_group_json(char **out, cairn_store *store, const cairn_query_options *opts,
                       const char *group_by, const char *metric);

/* The same grouping as a typed result (the `*_json` form above is written
 * from it).  Release with cairn_group_result_free (NULL-safe); every string
 * and struct an accessor returns is borrowed from the result.  CAIRN_EINVALID
 * for a bad query, group field or metric (the message names the problem). */
typedef struct cairn_group_result cairn_group_result;

typedef struct cairn_group {
	/* The group's value, typed as the field's values are: a param keeps its
	 * own type (a float param NaN is CAIRN_TYPE_FLOAT with f NaN, a string
	 * param "NaN" is CAIRN_TYPE_STRING); CAIRN_TYPE_NONE for the group of
	 * runs without the field.  value.s is borrowed from the result. */
	cairn_value value;
	int missing;           /* 1: the runs without the field (always the last group) */
	int64_t count;         /* runs in the group */
	int64_t values;        /* the metric's non-NaN values among them */
	double min, mean, max; /* over those values; NaN when values is 0 */
} cairn_group;

CAIRN_EXTERN(int)
cairn_query_group(cairn_group_result **out, cairn_store *store, const cairn_query_options *opts,
                  const char *group_by, const char *metric);
/* Every match. */
CAIRN_EXTERN(int64_t) cairn_group_result_total(const cairn_group_result *g);
/* The canonical names of the group field and the metric (NULL: none). */
CAIRN_EXTERN(const char *) cairn_group_result_field(const cairn_group_result *g);
CAIRN_EXTERN(const char *) cairn_group_result_metric(const cairn_group_result *g);
/* The groups in value order (numbers, then text), the missing one last. */
CAIRN_EXTERN(size_t) cairn_group_result_count(const cairn_group_result *g);
CAIRN_EXTERN(const cairn_group *) cairn_group_result_get(const cairn_group_result *g, size_t i);
CAIRN_EXTERN(void) cairn_group_result_free(cairn_group_result *g);

/* Check a query without running it.  0, or CAIRN_EINVALID with the message in
 * cairn_error_last() and *out_pos set to the 0-based byte offset of the
 * problem (out_pos may be NULL). */
CAIRN_EXTERN(int) cairn_query_validate(const char *query, size_t *out_pos);

/* Same for a sort specification ("-metrics.valid_auc,params.lr"). */
CAIRN_EXTERN(int) cairn_query_sort_validate(const char *sort, size_t *out_pos);

/* Bare names.  Where a store answers (every call above that takes one), a
 * field that names no namespace and no attribute — `valid_acc`, `model.lr`
 * — means metrics.valid_acc or params.valid_acc when exactly one of the two
 * exists among the runs in scope (opts->project; deleted runs only with
 * include_deleted).  Both: CAIRN_EINVALID "ambiguous name 'valid_acc': did
 * you mean metrics.valid_acc or params.valid_acc"; neither: "unknown field
 * 'x': no run has a metric or param of that name (did you mean …?)".  An
 * attribute name (status, name, duration, …) is always the attribute.  The
 * validate calls above have no store: for them a bare name is unknown. */

/* Check opts' query and sort as they will run on store, bare names
 * resolved.  0, or CAIRN_EINVALID with the message set and *out_pos (may be
 * NULL) the 0-based byte offset of the problem in the query, or in the sort
 * when *out_in_sort (may be NULL) is 1. */
CAIRN_EXTERN(int)
cairn_query_check(cairn_store *store, const cairn_query_options *opts, size_t *out_pos,
                  int *out_in_sort);

/* The canonical name of a field (a group field, a metric to summarise, a
 * column), a bare name resolved among the runs in scope's project and
 * include_deleted (scope may be NULL: every run).  *out freed with
 * cairn_free; CAIRN_EINVALID and *out_pos as above. */
CAIRN_EXTERN(int)
cairn_query_field_resolve(char **out, cairn_store *store, const cairn_query_options *scope,
                          const char *field, size_t *out_pos);

/* What a query silently cannot match: a JSON array of messages, one per
 * metric or param that opts' query or sort names and no run in scope has,
 * with the closest known name when one is near —
 * ["no run has a metric 'nope' (did you mean metrics.valid_acc?)"]; [] when
 * every name exists.  A query that does not compile is its error. */
CAIRN_EXTERN(int)
cairn_query_warnings(char **out, cairn_store *store, const cairn_query_options *opts);

/* A field name of the language, parsed: {"field": canonical name, "kind":
 * "metric"|"param"|"tag"|"tags"|"property"|"dataset"|"attribute", "key":
 * key or dataset name or attribute name, "part": "last"|"min"|"max"|"count"|
 * "step" (metrics) or "digest"|"path"|"role"|"algo"|"files"|"bytes"
 * (datasets) or null}.  Lets callers (cairn ls --columns, the web UI) read a
 * field's value out of a run object.  CAIRN_EINVALID and *out_pos as above. */
CAIRN_EXTERN(int) cairn_query_field_json(char **out, const char *field, size_t *out_pos);

/* Whether a higher (+1) or lower (-1) value of a metric is better, guessed
 * from its name (loss, error, rmse, … are lower; acc, auc, f1, precision,
 * recall, … are higher), or 0 when the name does not tell. */
CAIRN_EXTERN(int) cairn_metric_direction(const char *key);

typedef struct cairn_diff_options {
	unsigned int version;      /* CAIRN_DIFF_OPTIONS_VERSION */
	const char *const *higher; /* metric keys where higher is better */
	size_t nhigher;
	const char *const *lower; /* metric keys where lower is better */
	size_t nlower;
} cairn_diff_options;

#define CAIRN_DIFF_OPTIONS_VERSION 1
#define CAIRN_DIFF_OPTIONS_INIT                                                                    \
	{                                                                                          \
		CAIRN_DIFF_OPTIONS_VERSION, NULL, 0, NULL, 0                                       \
	}

/* The full diff of two runs across every dimension, as cairn diff --json
 * prints it (shape in docs/cli/diff.md): params, metrics (absolute and
 * relative change, which run is better where the direction is known), code,
 * data, environment, command, tags, properties; "identical": true when
 * nothing differs.  The typed form is cairn_run_diff_new (cairn/diff.h). */
CAIRN_EXTERN(int) cairn_run_diff_json(char **out, cairn_store *store, const char *a, const char *b);
/* Same, with metric directions given by the caller (NULL: guessed). */
CAIRN_EXTERN(int)
cairn_run_diff_json_opts(char **out, cairn_store *store, const char *a, const char *b,
                         const cairn_diff_options *opts);

#ifdef __cplusplus
}
#endif
#endif
