/*
 * lib/store/pg/scan-sql.h — what the PostgreSQL scans' files share (scan.c:
 * the context, statements, parts and their SQL; scan-attr.c: the SQL of run
 * attributes and the translation of patterns; scan-key.c: sort keys, walks
 * and grouping).  The same split and the same conditions as sqlite/scan*.c,
 * in PostgreSQL's terms.
 *
 * SQL is assembled only from the fixed fragments of these files, with every
 * value bound.  A condition is built in a cb: its text, where each `?` stands
 * for the next binding, and its bindings in order, with a sticky overflow
 * flag checked once.  When a statement is assembled (pgscan_sql), each `?`
 * becomes a numbered parameter with its type ($3::int8, $4::float8,
 * $5::text), so conditions compose (a probe ORs several) without renumbering
 * by hand.  No fixed fragment contains a `?` of its own.
 */
#ifndef CAIRN_LIB_STORE_PG_SCAN_SQL_H
#define CAIRN_LIB_STORE_PG_SCAN_SQL_H

#include <string.h>

#include "lib/store/pg/pg.h"
#include "lib/store/scan.h"
#include "util/buf.h"

#define MAXB 8

typedef struct qbind {
	char t; /* 'i' int8, 'd' float8 (NaN: NULL), 's' text, 'a' int8[] literal, 'n' null */
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

/* The parameters of one statement, as libpq takes them (text). */
#define SCAN_MAXPARAMS 80

typedef struct plist {
	int n;
	bool overflow;
	const char *v[SCAN_MAXPARAMS];
	char num[SCAN_MAXPARAMS][32];
} plist;

/* The query's context: one read snapshot, and the cursors of its walks. */
struct store_scan_ctx {
	cairn_store *s;
	arena *mem;
	int64_t maxrid, nruns;
	double now, stale; /* running runs whose heartbeat is older than stale are crashed */
	bool own_read;
	int ncursors; /* walks opened so far (each names its cursor by number) */
};

/* SQL for a runs attribute's value, its presence, and whether an index
 * answers ranges over it. */
typedef struct attr_sql {
	const char *expr;
	const char *present; /* NULL: every run has it */
	const char *truthy;  /* condition for a bare attribute */
	int cost;
	int nstale; /* ?s in expr taking the stale time (then `now`, if nnow) */
	int nnow;
	int pstale;  /* ?s in present taking the stale time */
	bool is_int; /* the value is an integer (SQLite's INTEGER columns) */
} attr_sql;

extern const char *const pgscan_metric_cols[];
extern const char *const pgscan_data_cols[];

/* scan-attr.c */
attr_sql pgscan_attr(qattr a);
/* The stale time and now, as the attribute's expression (or presence) takes them. */
void pgscan_attr_binds(store_scan_ctx *q, const attr_sql *a, cb *c, bool for_present);
/* " AND col <test> ?" for a text test (compare, glob, LIKE, ILIKE, hex
 * prefix); returns the part's cost (a pattern without a literal prefix reads
 * the key's rows, not a range).  col compares in the "C" collation (bytes). */
/* "col op literal" (no leading AND) with SQLite's exact answer when one is
 * an integer and the other a real; col_int: the column holds integers; as:
 * the attribute whose expression col is (its binds follow col), or NULL. */
void pgscan_num_cond(store_scan_ctx *q, cb *c, const char *col, bool col_int, const attr_sql *as,
                     const store_scan *sc);
/* " AND ..." for a param's numeric comparison: an index range on num, then
 * ints by ival and floats by num, each exactly. */
void pgscan_param_num_cond(store_scan_ctx *q, cb *c, const store_scan *sc);
int pgscan_text_cond(store_scan_ctx *q, cb *c, const char *col, const store_scan *sc, int cost);

/* scan.c */
/* Append frag to out with each ? numbered and typed, its bindings to p. */
void pgscan_sql(buf *out, plist *p, const char *frag, const qbind *b, int nb);
/* Run sql with p: the rows, or NULL with the error raised. */
PGresult *pgscan_exec(store_scan_ctx *q, const buf *sql, const plist *p);
/* The int8[] literal of n rids, appended to b. */
void pgscan_rid_array(buf *b, const int64_t *rids, size_t n);
/* The key id of a metric/param key, or 0 when no run has it. */
int pgscan_key_id(store_scan_ctx *q, const char *key, int64_t *out);

/* scan-key.c */
int pgscan_key_prepare(store_scan_ctx *c, store_key *k);
int pgscan_gather(store_scan_ctx *c, const store_key *k, const int64_t *rids, size_t n, sval *vals,
                  size_t stride, bool by_probe);
int pgscan_walk_open(store_scan_ctx *c, const store_key *k, const rset *M, const sval *from,
                     int64_t from_rid, int64_t skip, store_walk **out);
int pgscan_walk_next(store_walk *w, int64_t *rid, sval *v);
void pgscan_walk_close(store_walk *w);
int pgscan_group_values(store_scan_ctx *c, const store_key *k, store_groups *g,
                        int (*each)(void *arg, const sval *v, int32_t id), void *arg);
int pgscan_group_stats(store_scan_ctx *c, const store_key *k, store_groups *g);

extern const struct store_scan_ops store_pg_scan_ops;

#endif
