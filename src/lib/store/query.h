/*
 * lib/store/query.h — running a parsed query against the store: the
 * planner's entry points (lib/query/sort.c, group.c), which ask the store
 * for scans through lib/store/scan.h and write no SQL, and the run objects
 * of a page (lib/store/sqlite/records.c).
 */
#ifndef CAIRN_LIB_STORE_QUERY_H
#define CAIRN_LIB_STORE_QUERY_H

#include "lib/internal.h"
#include "lib/query/query.h"

typedef struct store_query {
	const qexpr *q;       /* parsed filter (root NULL: every run) */
	const qsortkey *keys; /* sort keys; none: newest first */
	size_t nkeys;
	int64_t limit, offset; /* limit <= 0: all */
	/* A keyset position (lib/query/pos.c; NULL or "": none): only the rows
	 * after it in the sort order, then offset and limit. */
	const char *after;
	const char *project; /* NULL: every project */
	bool include_deleted;
	/* The texts the trees were parsed from, for a backend that runs the
	 * query elsewhere (the remote one: backend.h, query_page): the query,
	 * the sort keys, and for a grouping the field and the metric (NULL
	 * when none). */
	const char *text, *sort_text, *group_text, *metric_text;
} store_query;

/* The planner's answer for sq: the page (offset, limit) of matching run ids
 * in sort order in *out_rids (malloc'ed, *out_n of them) and the number of
 * matches before offset and limit in *out_total.  It runs in one read
 * transaction; callers that also read the runs hold one around both, so
 * count and rows agree. */
int store_query_page(cairn_store *s, const store_query *sq, int64_t **out_rids, size_t *out_n,
                     int64_t *out_total);
/* The same, and with out_last not NULL the position of the page's last
 * row in *out_last (malloc'ed; NULL for an empty page, a row whose values
 * are too long for a position, or a remote store). */
int store_query_page_at(cairn_store *s, const store_query *sq, int64_t **out_rids, size_t *out_n,
                        int64_t *out_total, char **out_last);
/* out_total may be NULL: the caller does without the total, and a small
 * page of a big store sorted by an indexed key is then found by walking
 * the key and testing candidates, without the whole match set
 * (docs/internals/query.md, "Top k without the match set").  The number of
 * matches, in a read of its own: */
int store_query_count(cairn_store *s, const store_query *sq, int64_t *out);
/* The smallest store (runs) where that walk is tried; tests lower it. */
extern int64_t store_probe_min_runs;
/* The most equal values an ascending SQLite walk holds to give back newest
 * first before it reads the rest of them from their end (1 … 64); tests
 * lower it so that both ways run on a small store. */
extern int store_walk_held_max;

/* {"total": N, "runs": [...]} into out. */
int store_query_runs_json(cairn_store *s, const store_query *sq, buf *out);

/* The grouped form (see cairn_query_group) into *out. metric may be NULL. */
int store_query_group(cairn_store *s, const store_query *sq, const qfield *group,
                      const qfield *metric, cairn_group_result **out);
/* A result built from its parts (the remote backend reads one off the
 * wire): total, field, metric (may be NULL), whether grouped by a param,
 * and n zeroed groups to fill (group_result_at); text values are copied
 * into the result with group_result_text.  NULL when out of memory. */
cairn_group_result *group_result_new(int64_t total, const char *field, const char *metric,
                                     bool param, size_t n);
cairn_group *group_result_at(cairn_group_result *g, size_t i);
const char *group_result_text(cairn_group_result *g, const char *s);
bool group_result_param(const cairn_group_result *g);
/* The result as the JSON of cairn_query_group_json, appended to b. */
int group_result_json(const cairn_group_result *res, buf *b);

/* A query's options (cairn/query.h) checked, parsed and ready for the
 * planner in sq, with the writer's buffered points flushed so the query sees
 * them.  On failure the error is raised; query_compiled_free is needed
 * either way. */
typedef struct query_compiled {
	qexpr e, se; /* the filter and the sort keys' trees */
	qsortkey keys[QUERY_MAX_SORT];
	store_query sq;
} query_compiled;
int query_compile(query_compiled *c, cairn_store *s, const cairn_query_options *o);
void query_compiled_free(query_compiled *c);

#endif
