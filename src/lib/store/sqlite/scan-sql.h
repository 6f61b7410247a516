/*
 * lib/store/sqlite/scan-sql.h — what the SQLite scans' files share (scan.c:
 * the context, scans and their SQL; scan-attr.c: the SQL of run attributes;
 * scan-key.c: sort keys; scan-group.c: grouping).
 *
 * SQL is assembled only from the fixed fragments of these files, with every
 * value bound (tests/fuzz/fuzz-query.c checks each prepared statement's words
 * against that vocabulary).  A condition is built in a cb: its text and its
 * bindings in order, with a sticky overflow flag checked once.
 */
#ifndef CAIRN_LIB_STORE_SQLITE_SCAN_SQL_H
#define CAIRN_LIB_STORE_SQLITE_SCAN_SQL_H

#include <string.h>

#include "lib/store/scan.h"
#include "lib/store/sqlite/sqlite.h"

#define RSET_PTR "cairn_rset" /* the pointer type of sets bound to the SQL functions */
#define MAXB     8

typedef struct qbind {
	char t; /* 'i' int, 'd' double, 's' text, 'n' null */
	int64_t i;
	double d;
	const char *s;
} qbind;

/* A condition under construction. */
typedef struct cb {
	char sql[768];
	size_t len;
	qbind b[MAXB];
	int nb;
	bool overflow;
} cb;

static inline void cb_sql(cb *c, const char *frag)
{
	size_t n = strlen(frag);
	if (c->len + n + 1 > sizeof c->sql) {
		c->overflow = true;
		return;
	}
	memcpy(c->sql + c->len, frag, n + 1);
	c->len += n;
}

static inline void cb_bind(cb *c, qbind b)
{
	if (c->nb >= MAXB) {
		c->overflow = true;
		return;
	}
	c->b[c->nb++] = b;
}

static inline void cb_int(cb *c, int64_t v)
{
	cb_bind(c, (qbind){.t = 'i', .i = v});
}

static inline void cb_dbl(cb *c, double v)
{
	cb_bind(c, (qbind){.t = 'd', .d = v});
}

static inline void cb_txt(cb *c, const char *v)
{
	cb_bind(c, (qbind){.t = 's', .s = v});
}

/* The query's context: one read transaction, the statements it prepared. */
struct store_scan_ctx {
	cairn_store *s;
	sqlite3 *db;
	arena *mem;
	int64_t maxrid, nruns;
	double now, stale; /* running runs whose heartbeat is older than stale are crashed */
	bool own_read;
	/* statements this query prepared, reused when the same text comes back
	 * (the scans of one `in (...)` list differ only in their values) */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[32];
	int ncache, evict;
};

/* How to read one field's value for a run. */
typedef struct skey {
	const char *table;
	char keycond[256];
	qbind b[MAXB];
	int nb;
	char val[320]; /* value columns */
	int form;      /* how to read them */
	/* walking the index in order: */
	char walk_notnull[64];
	char walk_order[64];
	const char *walk_col;  /* the column walked (a keyset walk starts at a value of it) */
	const char *walk_type; /* and the type column that splits its equal values, or NULL */
} skey;

enum { /* skey.form */ F_METRIC, F_PARAM, F_TEXT, F_NUM, F_STATUS };

/* SQL for a runs attribute's value, its presence, and whether an index
 * answers ranges over it. */
typedef struct attr_sql {
	const char *expr;
	const char *present; /* NULL: every run has it */
	const char *truthy;  /* condition for a bare attribute */
	int cost;
	int nstale; /* ?s in expr taking the stale time (then `now`, if nnow) */
	int nnow;
	int pstale; /* ?s in present taking the stale time */
} attr_sql;

extern const char *const scan_metric_cols[];
extern const char *const scan_data_cols[];

/* scan-attr.c */
attr_sql scan_attr(qattr a);
/* The stale time and now, as the attribute's expression (or presence) takes them. */
void scan_attr_binds(store_scan_ctx *q, const attr_sql *a, cb *c, bool for_present);
int scan_bind_all(sqlite3_stmt *st, int first, const qbind *b, int nb);
/* Bind the unnamed parameters (?) in order, skipping named ones (:x). */
void scan_bind_anon(sqlite3_stmt *st, const qbind *b, int nb);
int scan_prep(store_scan_ctx *q, const char *sql, sqlite3_stmt **st);
/* A statement for sql, prepared once per query: reset and unbound when it
 * comes back.  Owned by the query (close finalizes it): do not finalize. */
int scan_prep_reuse(store_scan_ctx *q, const char *sql, sqlite3_stmt **st);
int scan_step_err(store_scan_ctx *q, int rc);
/* The key id of a metric/param key, or 0 when no run has it. */
int scan_key_id(store_scan_ctx *q, const char *key, int64_t *out);

/* scan-key.c */
int scan_key_prepare(store_scan_ctx *c, store_key *k);
int scan_gather(store_scan_ctx *c, const store_key *k, const int64_t *rids, size_t n, sval *vals,
                size_t stride, bool by_probe);
int scan_walk_open(store_scan_ctx *c, const store_key *k, const rset *M, const sval *from,
                   int64_t from_rid, int64_t skip, store_walk **out);
int scan_walk_next(store_walk *w, int64_t *rid, sval *v);
void scan_walk_close(store_walk *w);
/* The value columns of a row of k's table (starting at column c0) as an sval
 * (text copied into the query's arena). */
int scan_read_val(store_scan_ctx *q, const skey *k, sqlite3_stmt *st, int c0, sval *v);

/* scan-group.c */
int scan_group_values(store_scan_ctx *c, const store_key *k, store_groups *g,
                      int (*each)(void *arg, const sval *v, int32_t id), void *arg);
int scan_group_stats(store_scan_ctx *c, const store_key *k, store_groups *g);
int scan_group_stats_begin(store_scan_ctx *c, const store_key *k, int64_t maxrid,
                           store_group_bg **out);
int scan_group_stats_end(store_scan_ctx *c, store_group_bg *bg, store_groups *g);

#endif
