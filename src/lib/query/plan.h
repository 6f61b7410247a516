/*
 * lib/query/plan.h — what the planner's files share (plan.c, eval.c, sort.c,
 * group.c): one query's context, the compiled tree, and the steps between
 * them.  Backend-independent: everything the store does goes through its
 * scan operations (lib/store/scan.h).
 *
 * A compiled tree (cnode) mirrors the parsed one with AND/OR chains
 * flattened and `a = x or a = y` merged into one `a in (x, y)`; each leaf
 * (qleaf) is one comparison as the store's parts: the positive ones (OR'd),
 * and for a negative operator the field's presence, since `!=` is present −
 * equal.  Everything lives in the query's arena.  Not thread-safe; one
 * query per qplan.
 */
#ifndef CAIRN_LIB_QUERY_PLAN_H
#define CAIRN_LIB_QUERY_PLAN_H

#include "lib/internal.h"
#include "lib/query/query.h"
#include "lib/query/rset.h"
#include "lib/store/query.h"
#include "lib/store/scan.h"
#include "util/arena.h"

/* Relative costs, in "index rows scanned inside the store" (measured on the
 * benchmark store with SQLite: ~65 ns per scanned index row, ~0.8 µs per
 * primary-key probe, ~95 ns per row of a full scan of runs). */
#define COST_PROBE 12
#define COST_FULL  2
#define EST_CAP    256 /* rows counted to estimate a range (≈10 µs) */

typedef struct qplan {
	const store_scan_ops *ops;
	store_scan_ctx *c;
	store_scan_info info;
	size_t nw; /* words in every set */
	int64_t nruns;
	arena mem; /* everything the query allocates, the backend's too */
	rset universe;
	bool have_universe;
} qplan;

typedef struct qleaf {
	store_part *pos; /* OR of these */
	int npos, cappos;
	store_part *present; /* the field's presence (neg) */
	int npresent;
	bool neg;         /* result: present − pos */
	bool all;         /* matches every candidate */
	bool present_all; /* every run has the field */
	/* A metric's last value against one number (<, <=, =, >, >=): what
	 * the top-k walk over that metric tests on the values it walks
	 * instead of probing the store (sort.c, walk_probe). */
	bool wtest;
	const char *wkey;
	qop wop;
	qlit wlit;
} qleaf;

typedef struct cnode {
	qntype type;
	struct cnode **kids; /* AND / OR (flattened), NOT (one) */
	int nkids;
	qleaf leaf; /* QN_CMP */
} cnode;

/* plan.c */
int plan_open(qplan *q, cairn_store *s);
void plan_close(qplan *q);
/* Every run, deleted ones too (owned by q). */
int plan_universe(qplan *q, const rset **out);
/* The matches of sq: the filter and the project, without deleted runs
 * unless sq asks for them.  out is initialised here (the caller frees it). */
int plan_match(qplan *q, const store_query *sq, rset *out);
/* The pieces of plan_match: the query's tree with the project as one more
 * conjunct (*out NULL: every run), and the deleted runs (*out initialised
 * here; rset_free it). */
int plan_root(qplan *q, const store_query *sq, cnode **out);
int plan_deleted(qplan *q, rset *out);
/* A comparison (or its positive form and presence) into a leaf. */
int plan_compile(qplan *q, const qnode *n, cnode **out);

/* eval.c: the members of C (NULL: every run) that the tree matches, into
 * out (same words; ncand: C's size, or nruns). */
int plan_eval(qplan *q, cnode *c, const rset *C, int64_t ncand, rset *out);

/* sort.c */
int cmp_val(const sval *a, const sval *b, bool desc);

/* walked.c: whether the walked value v passes leaf l's wtest (1 or 0,
 * exactly as the store compares; -1 when C cannot tell exactly), and the
 * tree c without one conjunct testing metric key that way (*hit: the
 * leaf, NULL when there is none and c is returned; NULL returned with
 * *hit set: nothing else to test). */
int plan_walked_test(const qleaf *l, const sval *v);
cnode *plan_without_walked(qplan *q, cnode *c, const char *key, const qleaf **hit);

/* pos.c: a keyset position, the place of one row in a sort order (every
 * key's value, then the rid).  Text values point into the arena given to
 * qpos_decode. */
#define QPOS_MAX_RAW                                                                               \
	6000 /* bytes of a position before base64url (its HTTP cursor fits an 8 KiB argument) */
#define QPOS_MAX_TEXT 8000 /* its text: 4/3 of that */
typedef struct qpos {
	int nkeys;
	sval v[QUERY_MAX_SORT + 1];
	int64_t rid;
} qpos;
/* The hash a position carries of the sort order it belongs to. */
uint32_t qpos_sort_hash(const store_key *keys, int nkeys);
/* *out malloc'ed; CAIRN_ETOOBIG when the row's values do not fit. */
int qpos_encode(char **out, const qpos *p, uint32_t hash);
/* CAIRN_EINVALID (one message) for a garbled position or one of another
 * sort order. */
int qpos_decode(qpos *out, const char *text, uint32_t hash, int nkeys, arena *mem);

#endif
