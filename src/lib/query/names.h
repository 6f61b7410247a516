/*
 * lib/query/names.h — metric and param names looked up among the runs of a
 * store: the resolver that lets a query, a sort, a group field or a column
 * name a metric or param bare (`valid_acc` for metrics.valid_acc), the check
 * that a named metric or param exists at all (for warnings), and "did you
 * mean" suggestions by edit distance.  names.c; design in
 * docs/internals/query.md, "Bare names".
 *
 * A qnames belongs to one call (one thread) and caches what it has looked
 * up; it reads the store through the planner (plan_open … plan_match), so it
 * works on every backend, and never inside another query's context.
 */
#ifndef CAIRN_LIB_QUERY_NAMES_H
#define CAIRN_LIB_QUERY_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/query/query.h"
#include "util/buf.h"

typedef struct qname_seen {
	qkind kind;
	char *key;
	bool has;
	bool warned; /* qnames_warnings said so already */
} qname_seen;

typedef struct qnames {
	cairn_store *s;
	const char *project; /* the scope: NULL every project */
	bool include_deleted;
	qresolve res;   /* for the parser: res.ctx is this */
	int rc;         /* a store error met while resolving (0: none) */
	char rmsg[320]; /* its message */
	qname_seen *seen;
	size_t nseen, capseen;
	char **cand; /* suggestion candidates ("metrics.x", "params.y", "status"), loaded once */
	size_t ncand;
	bool cand_loaded;
} qnames;

void qnames_init(qnames *n, cairn_store *s, const char *project, bool include_deleted);
void qnames_free(qnames *n);

/* Does some run in scope have metric (QK_METRIC) or param (QK_PARAM) key? */
int qnames_has(qnames *n, qkind kind, const char *key, bool *out);

/* " (did you mean metrics.valid_acc?)" for the closest metric or param (or,
 * with attrs, attribute) name to `name` (a bare key, or a field name), or ""
 * when none is close. */
void qnames_suggest(qnames *n, const char *name, bool attrs, char *out, size_t outsz);

/* "no run" or "no run of project 'p'", for messages. */
void qnames_noun(const qnames *n, char *out, size_t outsz);

/* After a parse with n->res failed: raise the store error the resolver met,
 * if any (returns it), else 0. */
int qnames_raise(const qnames *n);
/* A parse of text (what: "query", "sort", …) with n's resolver failed:
 * raise the store's error if a lookup failed, else the parse error. */
int qnames_parse_error(const qnames *n, const qerror *err, const char *what, const char *text);

/* The warnings for a parsed query and sort keys: one message per metric or
 * param they name that no run in scope has, as a JSON array of strings
 * appended to b. */
int qnames_warnings(qnames *n, const qexpr *q, const qsortkey *keys, size_t nkeys, buf *b);

/* Edit distance (optimal string alignment, ASCII case folded), capped:
 * anything above cap is cap + 1. */
size_t qnames_distance(const char *a, const char *b, size_t cap);

#endif
