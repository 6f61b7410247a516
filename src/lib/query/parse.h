/*
 * lib/query/parse.h — what the query parser's files share (lex.c: tokens and
 * values; check.c: type checking; parse.c: fields and the grammar): the
 * parser's state and its helpers.
 *
 * A qp reads one text (s, n) from position i.  The first error wins: qp_err
 * records its message and position in *err and returns CAIRN_EINVALID, and
 * later errors are ignored, so callers simply return what a helper returned.
 * Memory: everything a parse allocates lives in e's arena (zeroed).
 */
#ifndef CAIRN_LIB_QUERY_PARSE_H
#define CAIRN_LIB_QUERY_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/internal.h"
#include "lib/query/query.h"
#include "util/arena.h"

typedef struct qp {
	const char *s;
	size_t n, i;
	qexpr *e;
	qerror *err;
	int depth;
	bool failed;
	const qresolve *res; /* bare names: NULL, they are unknown fields */
} qp;

static inline void *qp_alloc(qexpr *e, size_t n)
{
	return arena_zalloc(&e->arena, n);
}

static inline char *qp_strndup(qexpr *e, const char *s, size_t n)
{
	return arena_strndup(&e->arena, s, n);
}

/* lex.c */
int qp_err(qp *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int qp_oom(qp *p);
/* A short quote of the text at pos for messages: "'abc'" or "the end"
 * (len 0: the token there). */
void qp_quote(qp *p, size_t pos, size_t len, char *out, size_t outsz);
void qp_skip_ws(qp *p);
/* Is the keyword kw (lowercase) at p->i, as a whole word?  eat: and skip it. */
bool qp_at_kw(qp *p, const char *kw);
bool qp_eat_kw(qp *p, const char *kw);
bool qp_is_key_char(unsigned char c);
int qp_check_controls(qp *p);
/* A quoted string at p->i into the arena. */
int qp_scan_quoted(qp *p, const char **out, size_t *outlen);
/* A value (string, number, date, duration, boolean, word) at p->i;
 * `after` names what precedes it, for messages. */
int qp_scan_value(qp *p, qlit *l, const char *after);
/* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][zone] -> seconds: 1 parsed, 0 not a
 * date, -1 looks like a date but is invalid. */
int qp_parse_date(const char *s, size_t n, bool allow_space, double *out);

/* check.c */
qnode *qp_new_node(qp *p, qntype t, size_t pos);
/* Type-check a comparison; may rewrite it (tags.T = false -> not tags.T). */
int qp_check_cmp(qp *p, qnode **np);
const char *qp_type_noun(qtype t);

#endif
