/*
 * lib/query/check.c — the query language's type checker: every comparison
 * is checked as soon as it is parsed, against the type of its field
 * (docs/internals/query.md, "Types and comparisons"), so an error names the
 * token that is wrong.  A literal gets the forms its field compares with (a
 * date's seconds, a status name's bit); tags.T = false becomes not tags.T,
 * and tags.T <op> 'value' MLflow's key/value tag, a property.
 *
 * Status names match globs and LIKE patterns through util-free matchers of
 * our own (glob.c), not the store's.  Reentrant.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/query/glob.h"
#include "lib/query/parse.h"

/* --- type checking ------------------------------------------------------------- */

static const char *op_text(qop op)
{
	static const char *const t[] = {
	    "=",    "!=",       "<",     "<=",        ">",  ">=",     "~", "!~",
	    "like", "not like", "ilike", "not ilike", "in", "not in", "",  "is not null"};
	return t[op];
}

static bool op_is_order(qop op)
{
	return op >= QO_LT && op <= QO_GE;
}

static bool op_is_match(qop op)
{
	return op >= QO_GLOB && op <= QO_NILIKE;
}

const char *qp_type_noun(qtype t)
{
	switch (t) {
	case QT_NUM: return "a number";
	case QT_BOOL: return "true or false";
	case QT_TIME:
	case QT_TIMEMS: return "a time";
	case QT_STATUS: return "a status";
	case QT_SET: return "a set of tags";
	case QT_PATHS: return "a set of paths";
	case QT_FLAG: return "a tag (present or not)";
	default: return "text";
	}
}

static const char *const status_words[] = {"running", "finished", "failed",
                                           "killed",  "crashed",  "pruned"};
#define NSTATUS (sizeof status_words / sizeof status_words[0])

/* Give a literal the form a field of type t compares with, or fail. */
static int check_lit(qp *p, const qnode *n, qtype t, qlit *l)
{
	char fname[300];
	qfield_name(fname, sizeof fname, &n->f);
	switch (t) {
	case QT_NUM:
		if (!l->has_num)
			return qp_err(p, l->pos, "%s is a number; '%s' is not", fname,
			              l->text ? l->text : "");
		return 0;
	case QT_BOOL:
		if (!l->has_bool)
			return qp_err(p, l->pos, "%s is true or false; '%s' is neither", fname,
			              l->text ? l->text : "");
		return 0;
	case QT_TIME:
	case QT_TIMEMS: {
		double v;
		if (l->kind == QL_DURATION)
			return qp_err(p, l->pos,
			              "%s is a time: compare it with a date, not a duration",
			              fname);
		if (l->kind == QL_BOOL || (l->has_num && isnan(l->num)))
			return qp_err(p, l->pos, "%s is a time; '%s' is not", fname,
			              l->text ? l->text : "");
		if (l->kind == QL_STR || l->kind == QL_WORD) {
			int d = qp_parse_date(l->text, strlen(l->text), true, &v);
			if (d > 0) {
				l->has_num = true;
				l->num = t == QT_TIMEMS ? v * 1000 : v;
				l->is_int = false;
				return 0;
			}
			if (!l->has_num)
				return qp_err(p, l->pos,
				              "invalid date '%.40s' (expected YYYY-MM-DD or "
				              "YYYY-MM-DDTHH:MM[:SS][Z])",
				              l->text);
			return 0;
		}
		if (l->kind == QL_DATE && t == QT_TIMEMS) {
			l->num *= 1000;
			l->is_int = false;
		}
		return 0;
	}
	case QT_STATUS: {
		if (!l->text)
			return qp_err(p, l->pos, "expected a status");
		char low[64];
		size_t k = 0;
		for (; l->text[k] && k + 1 < sizeof low; k++)
			low[k] = (char)tolower((unsigned char)l->text[k]);
		low[k] = '\0';
		if (op_is_match(n->op)) {
			for (unsigned s = 0; s < NSTATUS; s++) {
				bool m;
				if (n->op == QO_GLOB || n->op == QO_NGLOB)
					m = glob_match(low, status_words[s]);
				else
					m = like_match(low, status_words[s], true);
				if (m)
					l->status_mask |= 1u << s;
			}
			return 0;
		}
		for (unsigned s = 0; s < NSTATUS; s++)
			if (strcmp(low, status_words[s]) == 0)
				l->status_mask = 1u << s;
		if (!l->status_mask && strcmp(low, "scheduled") != 0)
			return qp_err(
			    p, l->pos,
			    "unknown status '%.40s' (expected running, finished, failed, killed, "
			    "crashed or pruned)",
			    l->text);
		return 0;
	}
	default: return 0;
	}
}

qnode *qp_new_node(qp *p, qntype t, size_t pos)
{
	qnode *n = qp_alloc(p->e, sizeof *n);
	if (n) {
		n->type = t;
		n->pos = pos;
	}
	return n;
}

/* Type-check a comparison; may rewrite it (tags.T = false -> not tags.T). */
int qp_check_cmp(qp *p, qnode **np)
{
	qnode *n = *np;
	qtype t = qfield_type(&n->f);
	char fname[300];
	qfield_name(fname, sizeof fname, &n->f);
	if (t == QT_FLAG && n->op != QO_TRUE && n->op != QO_PRESENT) {
		bool all_bool = n->nlits > 0;
		for (size_t k = 0; k < n->nlits; k++)
			if (n->lits[k].kind != QL_BOOL)
				all_bool = false;
		if (all_bool && (n->op == QO_EQ || n->op == QO_NE)) {
			bool want = n->lits[0].b == (n->op == QO_EQ);
			n->op = QO_TRUE;
			n->nlits = 0;
			if (!want) {
				qnode *no = qp_new_node(p, QN_NOT, n->pos);
				if (!no)
					return qp_oom(p);
				no->l = n;
				*np = no;
			}
			return 0;
		}
		if (all_bool)
			return qp_err(p, n->pos,
			              "%s is present or not: write %s, not %s, or %s = true", fname,
			              fname, fname, fname);
		/* A key/value tag (`cairn tag RUN k=v`, MLflow's tags): compare its
		 * value as text (plan.c: the tag's value scans). */
		t = QT_TEXT;
	}
	if (op_is_order(n->op) && (t == QT_SET || t == QT_PATHS || t == QT_STATUS || t == QT_BOOL))
		return qp_err(p, n->pos, "%s is %s: it has no order (use =, != or in)", fname,
		              qp_type_noun(t));
	if (op_is_match(n->op) && (t == QT_NUM || t == QT_TIME || t == QT_TIMEMS || t == QT_BOOL))
		return qp_err(p, n->pos, "'%s' matches text, but %s is %s", op_text(n->op), fname,
		              qp_type_noun(t));
	for (size_t k = 0; k < n->nlits; k++)
		if (check_lit(p, n, t, &n->lits[k]) != 0)
			return CAIRN_EINVALID;
	return 0;
}
