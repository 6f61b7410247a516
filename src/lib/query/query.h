/*
 * lib/query/query.h — the query language inside the library: the syntax tree the
 * parser (lex.c, parse.c, check.c) builds and type-checks, which the planner
 * (plan.c, eval.c, sort.c, group.c; lib/store/query.h) runs against the store.
 *
 * A parsed query owns all its memory in one arena (qexpr_free releases it).
 * The tree is type-checked when parsed: every comparison it holds is one the
 * planner can turn into scans, and every literal carries the forms (number,
 * boolean, text) the field's type may compare with.  No part of the tree is
 * ever pasted into SQL: the store binds the literals.  Not thread-safe per
 * tree; parsing is reentrant.
 */
#ifndef CAIRN_LIB_QUERY_H
#define CAIRN_LIB_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn.h"
#include "util/arena.h"

#define QUERY_MAX_BYTES (16 << 10) /* longest query text */
#define QUERY_MAX_DEPTH 64         /* parentheses and `not`s nested */
#define QUERY_MAX_TERMS 256        /* comparisons in one query */
#define QUERY_MAX_LIST  1000       /* values in one `in (…)` */
#define QUERY_MAX_SORT  8          /* keys in one sort */

/* What a field names. */
typedef enum qkind {
	QK_METRIC,   /* metrics.KEY[.last|.min|.max|.count|.step] */
	QK_PARAM,    /* params.KEY */
	QK_TAG,      /* tags.TAG: present or not */
	QK_TAGS,     /* tags: the set of a run's tags */
	QK_PROPERTY, /* properties.KEY */
	QK_DATASET,  /* datasets.NAME[.digest|.path|.role|.algo|.files|.bytes] */
	QK_ATTR,     /* a run attribute (qattr) */
	QK_FILES,    /* reads / wrote: the set of paths a run read or wrote (QF_*) */
} qkind;

typedef enum qattr {
	QA_ID,
	QA_SEQ,
	QA_NAME,
	QA_PROJECT,
	QA_STATUS,
	QA_STARTED,
	QA_ENDED,
	QA_DURATION,
	QA_USER,
	QA_HOST,
	QA_COMMIT,
	QA_BRANCH,
	QA_REMOTE,
	QA_DIRTY,
	QA_COMMAND,
	QA_NOTE,
	QA_EXIT_CODE,
	QA_START_MS, /* MLflow's attributes.start_time: milliseconds since the epoch */
	QA_END_MS,   /* MLflow's attributes.end_time */
	QA_PARENT,   /* the parent run's id (a sweep's trials) */
	QA_CHILDREN, /* how many runs (not deleted) have this one as parent */
	QA_COUNT_
} qattr;

enum { QM_LAST, QM_MIN, QM_MAX, QM_COUNT, QM_STEP };
enum { QD_DIGEST, QD_PATH, QD_ROLE, QD_ALGO, QD_FILES, QD_BYTES };
/* reads: the paths of the run's input datasets; wrote: its artifacts' paths
 * and its output datasets' paths (docs/internals/query.md) */
enum { QF_READS, QF_WROTE };

/* The type a field's values have, which decides how literals compare. */
typedef enum qtype {
	QT_NUM,    /* numbers (NaN possible for metrics) */
	QT_TEXT,   /* strings */
	QT_BOOL,   /* true / false */
	QT_TIME,   /* seconds since the epoch; literals are dates */
	QT_TIMEMS, /* milliseconds since the epoch (MLflow) */
	QT_DYN,    /* params: int, float, bool or string, per run */
	QT_FLAG,   /* tags.TAG */
	QT_SET,    /* tags */
	QT_PATHS,  /* reads, wrote: a set of paths */
	QT_STATUS, /* run status names */
} qtype;

typedef struct qfield {
	qkind kind;
	int part; /* QM_* for metrics, QD_* for datasets, QF_* for files, qattr for attributes */
	const char *key; /* metric/param/property key, tag, dataset name; NULL otherwise */
	size_t pos, len; /* where the field is in the text */
} qfield;

typedef enum qop {
	QO_EQ,
	QO_NE,
	QO_LT,
	QO_LE,
	QO_GT,
	QO_GE,
	QO_GLOB,
	QO_NGLOB,
	QO_LIKE,
	QO_NLIKE,
	QO_ILIKE,
	QO_NILIKE,
	QO_IN,
	QO_NIN,
	QO_TRUE,    /* a bare field: present and not false */
	QO_PRESENT, /* field is not null */
} qop;

typedef enum qlkind { QL_NUM, QL_STR, QL_WORD, QL_BOOL, QL_DATE, QL_DURATION } qlkind;

/* A literal, with every form the field's type may compare with. */
typedef struct qlit {
	qlkind kind;
	const char *text; /* a string's value, else the token as written */
	bool has_num;     /* num holds it as a number (NaN for `nan`) */
	double num;
	bool is_int; /* ...and exactly as an integer */
	int64_t i;
	bool has_bool;
	bool b;
	unsigned status_mask; /* QT_STATUS: bit per cairn_status matched */
	size_t pos, len;
} qlit;

typedef enum qntype { QN_AND, QN_OR, QN_NOT, QN_CMP } qntype;

typedef struct qnode {
	qntype type;
	struct qnode *l, *r; /* AND, OR: both; NOT: l */
	qfield f;            /* QN_CMP */
	qop op;
	qlit *lits;
	size_t nlits;
	size_t pos;
} qnode;

typedef struct qsortkey {
	qfield f;
	bool desc;
} qsortkey;

typedef struct qexpr {
	qnode *root; /* NULL: every run */
	arena arena; /* the tree, its keys and literals (zeroed: empty) */
	size_t nterms;
} qexpr;

typedef struct qerror {
	char msg[320];
	size_t pos; /* 0-based byte offset */
} qerror;

/* A bare name: a field that names no namespace and no attribute
 * (`valid_acc`, `model.lr`, `` `a b` ``).  Without a resolver it is an
 * unknown field; with one (lib/query/names.c: against the runs of a store)
 * fn is given the key as written (parts joined by '.') and either fills
 * f->kind (QK_METRIC or QK_PARAM), f->part and f->key (the key in e's arena)
 * and returns 0, or writes why not into msg and returns CAIRN_EINVALID (the
 * parser puts it at the name's position). */
typedef struct qresolve {
	int (*fn)(void *ctx, qexpr *e, const char *name, qfield *f, char *msg, size_t msgsz);
	void *ctx;
} qresolve;

/* Parse and type-check.  On error returns CAIRN_EINVALID (nothing raised:
 * the caller turns qerror into the message it wants).  res may be NULL. */
int qexpr_parse(qexpr *out, const char *text, qerror *err);
int qexpr_parse_r(qexpr *out, const char *text, const qresolve *res, qerror *err);
void qexpr_free(qexpr *e);

/* Parse one field name (the whole text). Strings live in e's arena. */
int qfield_parse(qfield *out, qexpr *e, const char *text, qerror *err);
int qfield_parse_r(qfield *out, qexpr *e, const char *text, const qresolve *res, qerror *err);
/* Parse a sort specification: comma-separated fields, each with an optional
 * leading '-' (descending) or '+', or a trailing " desc" / " asc". */
int qsort_parse(qsortkey *keys, size_t *nkeys, qexpr *e, const char *text, qerror *err);
int qsort_parse_r(qsortkey *keys, size_t *nkeys, qexpr *e, const char *text, const qresolve *res,
                  qerror *err);

qtype qfield_type(const qfield *f);
/* The canonical text of a field ("metrics.`a b`.max"), into out. */
void qfield_name(char *out, size_t n, const qfield *f);
const char *qattr_name(qattr a);
/* The i-th attribute name a query may write bare ("id", "name", …), NULL
 * past the last (for "did you mean" suggestions). */
const char *qattr_word(size_t i);
bool qtype_sortable(qtype t);

/* Raise CAIRN_EINVALID with "invalid <what>: <msg> at character N". */
int qerror_raise(const qerror *err, const char *what, const char *text);

#endif
