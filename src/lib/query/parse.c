/*
 * lib/query/parse.c — the query language's parser: fields and the grammar
 * (docs/internals/query.md).
 *
 * A hand-written recursive-descent parser over the raw text, lexing by
 * context (lex.c): in field position it reads dotted keys (segments may be
 * `backquoted`, or "double-quoted" after a dot, as MLflow writes them); in
 * value position a quoted string or a bare token, classified.  Every
 * comparison is type-checked as soon as it is parsed (check.c).
 *
 * Bounds: QUERY_MAX_BYTES of text, QUERY_MAX_DEPTH of nesting (the only
 * recursion), QUERY_MAX_TERMS comparisons, QUERY_MAX_LIST values per list.
 * Memory: everything lives in the qexpr's arena.  Reentrant.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/query/parse.h"

void qexpr_free(qexpr *e)
{
	if (!e)
		return;
	arena_free(&e->arena);
	e->root = NULL;
}

/* --- fields ------------------------------------------------------------------ */

typedef struct part {
	const char *s;
	size_t n;
	bool quoted;
	size_t pos;
} part;

#define MAX_PARTS 64

static const struct {
	const char *name;
	qattr a;
	bool mlflow_only;
} attr_names[] = {
    {"id", QA_ID, false},
    {"seq", QA_SEQ, false},
    {"name", QA_NAME, false},
    {"project", QA_PROJECT, false},
    {"status", QA_STATUS, false},
    {"started", QA_STARTED, false},
    {"ended", QA_ENDED, false},
    {"duration", QA_DURATION, false},
    {"user", QA_USER, false},
    {"host", QA_HOST, false},
    {"commit", QA_COMMIT, false},
    {"branch", QA_BRANCH, false},
    {"remote", QA_REMOTE, false},
    {"dirty", QA_DIRTY, false},
    {"command", QA_COMMAND, false},
    {"note", QA_NOTE, false},
    {"exit_code", QA_EXIT_CODE, false},
    {"parent", QA_PARENT, false},
    {"children", QA_CHILDREN, false},
    {"run_id", QA_ID, true},
    {"run_name", QA_NAME, true},
    {"start_time", QA_START_MS, true},
    {"end_time", QA_END_MS, true},
    {"created", QA_START_MS, true},
    {"user_id", QA_USER, true},
};

const char *qattr_name(qattr a)
{
	if (a == QA_START_MS)
		return "attributes.start_time";
	if (a == QA_END_MS)
		return "attributes.end_time";
	for (size_t k = 0; k < sizeof attr_names / sizeof attr_names[0]; k++)
		if (attr_names[k].a == a)
			return attr_names[k].name;
	return "?";
}

const char *qattr_word(size_t i)
{
	for (size_t k = 0; k < sizeof attr_names / sizeof attr_names[0]; k++)
		if (!attr_names[k].mlflow_only && i-- == 0)
			return attr_names[k].name;
	return NULL;
}

static bool part_is(const part *pt, const char *word)
{
	return !pt->quoted && pt->n == strlen(word) && strncasecmp(pt->s, word, pt->n) == 0;
}

static bool part_in(const part *pt, const char *const *words)
{
	for (; *words; words++)
		if (part_is(pt, *words))
			return true;
	return false;
}

/* Join parts[from..to) with '.' into the arena. */
static const char *join_parts(qp *p, const part *parts, size_t from, size_t to, size_t *len)
{
	size_t n = 0;
	for (size_t k = from; k < to; k++)
		n += parts[k].n + 1;
	char *d = qp_alloc(p->e, n + 1);
	if (!d)
		return NULL;
	size_t o = 0;
	for (size_t k = from; k < to; k++) {
		if (k > from)
			d[o++] = '.';
		memcpy(d + o, parts[k].s, parts[k].n);
		o += parts[k].n;
	}
	d[o] = '\0';
	*len = o;
	return d;
}

static const char *const metric_words[] = {"metrics", "metric", NULL};
static const char *const param_words[] = {"params", "param", "parameters", "parameter", NULL};
static const char *const tag_words[] = {"tags", "tag", NULL};
static const char *const prop_words[] = {"properties", "property", "props", "prop", NULL};
static const char *const data_words[] = {"datasets", "dataset", NULL};
static const char *const attr_words[] = {"attributes", "attribute", "attr", "run", NULL};
static const char *const metric_parts[] = {"last", "min", "max", "count", "step", NULL};
static const char *const data_parts[] = {"digest", "path", "role", "algo", "files", "bytes", NULL};

static int unknown_field(qp *p, size_t pos, size_t len)
{
	char q[64];
	qp_quote(p, pos, len, q, sizeof q);
	return qp_err(p, pos,
	              "unknown field %s (fields are metrics.KEY, params.KEY, tags.TAG, "
	              "properties.KEY, datasets.NAME.digest, id, name, project, status, started, "
	              "ended, duration, user, host, commit, branch, dirty, …)",
	              q);
}

/* A bare name (no namespace, not an attribute): the resolver decides what it
 * names, or it is an unknown field. */
static int bare_name(qp *p, const part *parts, size_t np, size_t start, qfield *f)
{
	if (!p->res)
		return unknown_field(p, start, f->len);
	size_t klen;
	const char *name = join_parts(p, parts, 0, np, &klen);
	if (!name)
		return qp_oom(p);
	if (klen > KEY_MAX)
		return qp_err(p, start, "key too long (%zu bytes, at most %d)", klen, KEY_MAX);
	char msg[sizeof p->err->msg];
	msg[0] = '\0';
	f->key = NULL;
	if (p->res->fn(p->res->ctx, p->e, name, f, msg, sizeof msg) != 0) {
		if (p->failed)
			return CAIRN_EINVALID;
		return qp_err(p, start, "%s", msg[0] ? msg : "unknown field");
	}
	return f->key ? 0 : qp_oom(p);
}

static int scan_field(qp *p, qfield *f)
{
	part parts[MAX_PARTS];
	size_t np = 0;
	size_t start = p->i;
	for (;;) {
		if (np == MAX_PARTS)
			return qp_err(p, p->i, "field has too many parts");
		part *pt = &parts[np];
		pt->pos = p->i;
		pt->quoted = false;
		unsigned char c = p->i < p->n ? (unsigned char)p->s[p->i] : 0;
		if (c == '`') {
			size_t st = p->i++;
			char *d = qp_alloc(p->e, p->n - st + 1);
			if (!d)
				return qp_oom(p);
			size_t o = 0;
			for (;;) {
				if (p->i >= p->n)
					return qp_err(p, st, "unterminated backquote");
				if (p->s[p->i] == '`') {
					if (p->i + 1 < p->n && p->s[p->i + 1] == '`') {
						d[o++] = '`';
						p->i += 2;
						continue;
					}
					p->i++;
					break;
				}
				d[o++] = p->s[p->i++];
			}
			if (o == 0)
				return qp_err(p, st, "empty key in backquotes");
			pt->s = d;
			pt->n = o;
			pt->quoted = true;
		} else if (c == '"' && np > 0) {
			size_t st = p->i;
			if (qp_scan_quoted(p, &pt->s, &pt->n) != 0)
				return CAIRN_EINVALID;
			if (pt->n == 0)
				return qp_err(p, st, "empty key in quotes");
			pt->quoted = true;
		} else if (c && qp_is_key_char(c) && (np > 0 || isalpha(c) || c == '_')) {
			size_t st = p->i;
			while (p->i < p->n && qp_is_key_char((unsigned char)p->s[p->i]))
				p->i++;
			pt->s = p->s + st;
			pt->n = p->i - st;
		} else if (np == 0) {
			char q[64];
			qp_quote(p, p->i, 0, q, sizeof q);
			return qp_err(
			    p, p->i,
			    "expected a field (metrics.KEY, params.KEY, tags.TAG, status, "
			    "…), found %s",
			    q);
		} else {
			return qp_err(p, p->i, "expected a key after '.'");
		}
		np++;
		if (p->i < p->n && p->s[p->i] == '.') {
			p->i++;
			continue;
		}
		break;
	}
	memset(f, 0, sizeof *f);
	f->pos = start;
	f->len = p->i - start;
	size_t klen = 0;
	const part *p0 = &parts[0];
	if (p0->quoted)
		return bare_name(p, parts, np, start, f);
	if (part_in(p0, metric_words) || part_in(p0, param_words) || part_in(p0, prop_words) ||
	    part_in(p0, data_words)) {
		if (np < 2)
			return qp_err(p, p->i, "expected a key after '%.*s'", (int)p0->n, p0->s);
		size_t to = np;
		if (part_in(p0, metric_words)) {
			f->kind = QK_METRIC;
			f->part = QM_LAST;
			if (np >= 3 && part_in(&parts[np - 1], metric_parts)) {
				for (int k = 0; metric_parts[k]; k++)
					if (part_is(&parts[np - 1], metric_parts[k]))
						f->part = k;
				to = np - 1;
			}
		} else if (part_in(p0, data_words)) {
			f->kind = QK_DATASET;
			f->part = QD_DIGEST;
			if (np >= 3 && part_in(&parts[np - 1], data_parts)) {
				for (int k = 0; data_parts[k]; k++)
					if (part_is(&parts[np - 1], data_parts[k]))
						f->part = k;
				to = np - 1;
			}
		} else {
			f->kind = part_in(p0, param_words) ? QK_PARAM : QK_PROPERTY;
		}
		f->key = join_parts(p, parts, 1, to, &klen);
	} else if (np == 1 && (part_is(p0, "reads") || part_is(p0, "wrote"))) {
		f->kind = QK_FILES;
		f->part = part_is(p0, "reads") ? QF_READS : QF_WROTE;
	} else if (part_in(p0, tag_words)) {
		if (np == 1) {
			f->kind = QK_TAGS;
		} else {
			f->kind = QK_TAG;
			f->key = join_parts(p, parts, 1, np, &klen);
		}
	} else {
		const part *ap = p0;
		bool prefixed = false;
		if (part_in(p0, attr_words)) {
			if (np != 2)
				return np < 2 ? qp_err(p, p->i,
				                       "expected an attribute name after '%.*s'",
				                       (int)p0->n, p0->s)
				              : unknown_field(p, start, f->len);
			ap = &parts[1];
			prefixed = true;
		} else if (np != 1) {
			return bare_name(p, parts, np, start, f);
		}
		bool found = false;
		for (size_t k = 0; k < sizeof attr_names / sizeof attr_names[0]; k++) {
			if ((prefixed || !attr_names[k].mlflow_only) &&
			    part_is(ap, attr_names[k].name)) {
				f->kind = QK_ATTR;
				f->part = attr_names[k].a;
				found = true;
				break;
			}
		}
		if (!found)
			return prefixed ? unknown_field(p, start, f->len)
			                : bare_name(p, parts, np, start, f);
	}
	if (f->kind != QK_ATTR && f->kind != QK_TAGS && f->kind != QK_FILES) {
		if (!f->key)
			return qp_oom(p);
		if (klen > KEY_MAX)
			return qp_err(p, start, "key too long (%zu bytes, at most %d)", klen,
			              KEY_MAX);
	}
	return 0;
}

qtype qfield_type(const qfield *f)
{
	switch (f->kind) {
	case QK_METRIC: return QT_NUM;
	case QK_PARAM: return QT_DYN;
	case QK_TAG: return QT_FLAG;
	case QK_TAGS: return QT_SET;
	case QK_FILES: return QT_PATHS;
	case QK_PROPERTY: return QT_TEXT;
	case QK_DATASET: return f->part == QD_FILES || f->part == QD_BYTES ? QT_NUM : QT_TEXT;
	case QK_ATTR:
		switch ((qattr)f->part) {
		case QA_SEQ:
		case QA_EXIT_CODE:
		case QA_CHILDREN:
		case QA_DURATION: return QT_NUM;
		case QA_STARTED:
		case QA_ENDED: return QT_TIME;
		case QA_START_MS:
		case QA_END_MS: return QT_TIMEMS;
		case QA_STATUS: return QT_STATUS;
		case QA_DIRTY: return QT_BOOL;
		default: return QT_TEXT;
		}
	}
	return QT_TEXT;
}

bool qtype_sortable(qtype t)
{
	/* tags.K sorts and groups by its value (a bare tag's is ""); the set of
	 * a run's tags has no one value */
	return t != QT_SET && t != QT_PATHS;
}

/* Does a key need backquotes to read back as the same field? */
static bool key_needs_quotes(const char *k, bool has_parts, const char *const *parts)
{
	size_t n = strlen(k);
	if (n == 0 || k[0] == '.' || k[n - 1] == '.' || strstr(k, ".."))
		return true;
	for (size_t i = 0; i < n; i++)
		if (k[i] != '.' && !qp_is_key_char((unsigned char)k[i]))
			return true;
	if (has_parts) {
		const char *last = strrchr(k, '.');
		if (last) {
			for (; *parts; parts++)
				if (strcasecmp(last + 1, *parts) == 0)
					return true;
		}
	}
	return false;
}

/* Append to a fixed buffer, truncating (a name only ever goes into messages
 * and column headers, so a cut name is harmless; overflow is not). */
static void app(char *out, size_t n, size_t *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *o + 1 < n; i++)
		out[(*o)++] = s[i];
	out[*o < n ? *o : n - 1] = '\0';
}

static void put_key(char *out, size_t n, const char *prefix, const char *key, bool quote,
                    const char *suffix)
{
	size_t o = 0;
	if (n == 0)
		return;
	out[0] = '\0';
	app(out, n, &o, prefix, strlen(prefix));
	if (quote)
		app(out, n, &o, "`", 1);
	for (const char *k = key; *k; k++) {
		if (*k == '`' && quote)
			app(out, n, &o, "`", 1);
		app(out, n, &o, k, 1);
	}
	if (quote)
		app(out, n, &o, "`", 1);
	if (suffix)
		app(out, n, &o, suffix, strlen(suffix));
}

void qfield_name(char *out, size_t n, const qfield *f)
{
	static const char *const msuf[] = {NULL, ".min", ".max", ".count", ".step"};
	static const char *const dsuf[] = {NULL, ".path", ".role", ".algo", ".files", ".bytes"};
	switch (f->kind) {
	case QK_METRIC:
		put_key(out, n, "metrics.", f->key, key_needs_quotes(f->key, true, metric_parts),
		        msuf[f->part]);
		break;
	case QK_PARAM:
		put_key(out, n, "params.", f->key, key_needs_quotes(f->key, false, NULL), NULL);
		break;
	case QK_TAG:
		put_key(out, n, "tags.", f->key, key_needs_quotes(f->key, false, NULL), NULL);
		break;
	case QK_TAGS: snprintf(out, n, "tags"); break;
	case QK_PROPERTY:
		put_key(out, n, "properties.", f->key, key_needs_quotes(f->key, false, NULL), NULL);
		break;
	case QK_DATASET:
		put_key(out, n, "datasets.", f->key, key_needs_quotes(f->key, true, data_parts),
		        dsuf[f->part]);
		break;
	case QK_ATTR: snprintf(out, n, "%s", qattr_name((qattr)f->part)); break;
	case QK_FILES: snprintf(out, n, "%s", f->part == QF_READS ? "reads" : "wrote"); break;
	}
}

/* --- the grammar --------------------------------------------------------------- */

static int parse_or(qp *p, qnode **out);

static int parse_cond(qp *p, qnode **out)
{
	qnode *n = qp_new_node(p, QN_CMP, p->i);
	if (!n)
		return qp_oom(p);
	if (scan_field(p, &n->f) != 0)
		return CAIRN_EINVALID;
	if (++p->e->nterms > QUERY_MAX_TERMS)
		return qp_err(p, n->pos, "too many conditions (at most %d)", QUERY_MAX_TERMS);
	char fname[300];
	qfield_name(fname, sizeof fname, &n->f);
	qp_skip_ws(p);
	size_t opos = p->i;
	const char *s = p->s + p->i;
	size_t left = p->n - p->i;
	bool missing = false;
	if (p->i >= p->n || *s == ')' || qp_at_kw(p, "and") || qp_at_kw(p, "or")) {
		n->op = QO_TRUE;
	} else if (left >= 2 && (strncmp(s, "==", 2) == 0)) {
		n->op = QO_EQ;
		p->i += 2;
	} else if (left >= 2 && (strncmp(s, "!=", 2) == 0 || strncmp(s, "<>", 2) == 0)) {
		n->op = QO_NE;
		p->i += 2;
	} else if (left >= 2 && strncmp(s, "!~", 2) == 0) {
		n->op = QO_NGLOB;
		p->i += 2;
	} else if (left >= 2 && strncmp(s, "<=", 2) == 0) {
		n->op = QO_LE;
		p->i += 2;
	} else if (left >= 2 && strncmp(s, ">=", 2) == 0) {
		n->op = QO_GE;
		p->i += 2;
	} else if (*s == '=' || *s == '<' || *s == '>' || *s == '~') {
		n->op = *s == '=' ? QO_EQ : *s == '<' ? QO_LT : *s == '>' ? QO_GT : QO_GLOB;
		p->i++;
	} else if (qp_eat_kw(p, "in")) {
		n->op = QO_IN;
	} else if (qp_eat_kw(p, "like")) {
		n->op = QO_LIKE;
	} else if (qp_eat_kw(p, "ilike")) {
		n->op = QO_ILIKE;
	} else if (qp_at_kw(p, "not")) {
		p->i += 3;
		qp_skip_ws(p);
		if (qp_eat_kw(p, "in"))
			n->op = QO_NIN;
		else if (qp_eat_kw(p, "like"))
			n->op = QO_NLIKE;
		else if (qp_eat_kw(p, "ilike"))
			n->op = QO_NILIKE;
		else
			return qp_err(p, p->i, "expected 'in', 'like' or 'ilike' after 'not'");
	} else if (qp_eat_kw(p, "is")) {
		qp_skip_ws(p);
		if (qp_eat_kw(p, "not")) {
			qp_skip_ws(p);
		} else {
			missing = true;
		}
		if (!qp_eat_kw(p, "null"))
			return qp_err(p, p->i, "expected 'null' after 'is'");
		n->op = QO_PRESENT;
	} else {
		char q[64];
		qp_quote(p, p->i, 0, q, sizeof q);
		return qp_err(
		    p, opos,
		    "expected an operator (=, !=, <, <=, >, >=, ~, in, like) after %s, found %s",
		    fname, q);
	}
	char after[64];
	snprintf(after, sizeof after, "'%.*s'", (int)(p->i - opos), p->s + opos);
	if (n->op == QO_IN || n->op == QO_NIN) {
		qp_skip_ws(p);
		if (p->i >= p->n || p->s[p->i] != '(')
			return qp_err(p, p->i, "expected '(' after %s", after);
		size_t lpos = p->i++;
		size_t cap = 8;
		n->lits = qp_alloc(p->e, cap * sizeof *n->lits);
		if (!n->lits)
			return qp_oom(p);
		for (;;) {
			qp_skip_ws(p);
			if (n->nlits == 0 && p->i < p->n && p->s[p->i] == ')')
				return qp_err(p, lpos, "empty list after %s", after);
			if (n->nlits == QUERY_MAX_LIST)
				return qp_err(p, p->i, "list too long (at most %d values)",
				              QUERY_MAX_LIST);
			if (n->nlits == cap) {
				qlit *nl = qp_alloc(p->e, 2 * cap * sizeof *nl);
				if (!nl)
					return qp_oom(p);
				memcpy(nl, n->lits, cap * sizeof *nl);
				n->lits = nl;
				cap *= 2;
			}
			if (qp_scan_value(p, &n->lits[n->nlits], n->nlits ? "','" : "'('") != 0)
				return CAIRN_EINVALID;
			n->nlits++;
			qp_skip_ws(p);
			if (p->i < p->n && p->s[p->i] == ',') {
				p->i++;
				continue;
			}
			if (p->i < p->n && p->s[p->i] == ')') {
				p->i++;
				break;
			}
			return qp_err(p, p->i, "expected ',' or ')' in the list after %s", after);
		}
	} else if (n->op != QO_TRUE && n->op != QO_PRESENT) {
		n->lits = qp_alloc(p->e, sizeof *n->lits);
		if (!n->lits)
			return qp_oom(p);
		if (qp_scan_value(p, &n->lits[0], after) != 0)
			return CAIRN_EINVALID;
		n->nlits = 1;
	}
	if (qp_check_cmp(p, &n) != 0)
		return CAIRN_EINVALID;
	if (missing) {
		qnode *no = qp_new_node(p, QN_NOT, n->pos);
		if (!no)
			return qp_oom(p);
		no->l = n;
		n = no;
	}
	*out = n;
	return 0;
}

static int parse_not(qp *p, qnode **out)
{
	qp_skip_ws(p);
	if (++p->depth > QUERY_MAX_DEPTH)
		return qp_err(p, p->i, "query nests too deeply (more than %d levels)",
		              QUERY_MAX_DEPTH);
	int rc;
	if (qp_at_kw(p, "not")) {
		size_t pos = p->i;
		p->i += 3;
		qnode *n = qp_new_node(p, QN_NOT, pos);
		if (!n)
			return qp_oom(p);
		if ((rc = parse_not(p, &n->l)) != 0)
			return rc;
		*out = n;
	} else if (p->i < p->n && p->s[p->i] == '(') {
		size_t pos = p->i++;
		if ((rc = parse_or(p, out)) != 0)
			return rc;
		qp_skip_ws(p);
		if (p->i >= p->n || p->s[p->i] != ')')
			return qp_err(p, p->i >= p->n ? pos : p->i,
			              p->i >= p->n ? "unclosed '('" : "expected ')'");
		p->i++;
	} else if (p->i < p->n && p->s[p->i] == ')') {
		return qp_err(p, p->i, "unexpected ')'");
	} else if (p->i >= p->n) {
		return qp_err(p, p->i, "expected a condition");
	} else {
		if ((rc = parse_cond(p, out)) != 0)
			return rc;
	}
	p->depth--;
	return 0;
}

static int parse_and(qp *p, qnode **out)
{
	int rc = parse_not(p, out);
	if (rc)
		return rc;
	for (;;) {
		qp_skip_ws(p);
		size_t pos = p->i;
		if (!qp_eat_kw(p, "and"))
			return 0;
		qnode *n = qp_new_node(p, QN_AND, pos);
		if (!n)
			return qp_oom(p);
		n->l = *out;
		if ((rc = parse_not(p, &n->r)) != 0)
			return rc;
		*out = n;
	}
}

static int parse_or(qp *p, qnode **out)
{
	int rc = parse_and(p, out);
	if (rc)
		return rc;
	for (;;) {
		qp_skip_ws(p);
		size_t pos = p->i;
		if (!qp_eat_kw(p, "or"))
			return 0;
		qnode *n = qp_new_node(p, QN_OR, pos);
		if (!n)
			return qp_oom(p);
		n->l = *out;
		if ((rc = parse_and(p, &n->r)) != 0)
			return rc;
		*out = n;
	}
}

static int start(qp *p, qexpr *e, const char *text, qerror *err)
{
	memset(p, 0, sizeof *p);
	memset(err, 0, sizeof *err);
	p->s = text ? text : "";
	p->n = strlen(p->s);
	p->e = e;
	p->err = err;
	if (!e->arena.chunk)
		e->arena.chunk = 8192; /* a query's tree is small */
	if (p->n > QUERY_MAX_BYTES)
		return qp_err(p, QUERY_MAX_BYTES, "too long (%zu bytes, at most %d)", p->n,
		              QUERY_MAX_BYTES);
	return qp_check_controls(p);
}

int qexpr_parse(qexpr *e, const char *text, qerror *err)
{
	return qexpr_parse_r(e, text, NULL, err);
}

int qexpr_parse_r(qexpr *e, const char *text, const qresolve *res, qerror *err)
{
	qp p;
	memset(e, 0, sizeof *e);
	if (start(&p, e, text, err) != 0)
		return CAIRN_EINVALID;
	p.res = res;
	qp_skip_ws(&p);
	if (p.i >= p.n)
		return 0;
	if (parse_or(&p, &e->root) != 0)
		return CAIRN_EINVALID;
	qp_skip_ws(&p);
	if (p.i < p.n) {
		char q[64];
		qp_quote(&p, p.i, 0, q, sizeof q);
		if (p.s[p.i] == ')')
			return qp_err(&p, p.i, "unexpected ')'");
		return qp_err(&p, p.i,
		              "expected 'and', 'or' or the end after the condition, found %s", q);
	}
	return 0;
}

int qfield_parse(qfield *out, qexpr *e, const char *text, qerror *err)
{
	return qfield_parse_r(out, e, text, NULL, err);
}

int qfield_parse_r(qfield *out, qexpr *e, const char *text, const qresolve *res, qerror *err)
{
	qp p;
	if (start(&p, e, text, err) != 0)
		return CAIRN_EINVALID;
	p.res = res;
	qp_skip_ws(&p);
	if (scan_field(&p, out) != 0)
		return CAIRN_EINVALID;
	qp_skip_ws(&p);
	if (p.i < p.n) {
		char q[64];
		qp_quote(&p, p.i, 0, q, sizeof q);
		return qp_err(&p, p.i, "unexpected %s after the field", q);
	}
	return 0;
}

int qsort_parse(qsortkey *keys, size_t *nkeys, qexpr *e, const char *text, qerror *err)
{
	return qsort_parse_r(keys, nkeys, e, text, NULL, err);
}

int qsort_parse_r(qsortkey *keys, size_t *nkeys, qexpr *e, const char *text, const qresolve *res,
                  qerror *err)
{
	qp p;
	*nkeys = 0;
	if (start(&p, e, text, err) != 0)
		return CAIRN_EINVALID;
	p.res = res;
	for (;;) {
		qp_skip_ws(&p);
		if (p.i >= p.n) {
			if (*nkeys == 0)
				return 0;
			return qp_err(&p, p.i, "expected a field after ','");
		}
		if (*nkeys == QUERY_MAX_SORT)
			return qp_err(&p, p.i, "too many sort keys (at most %d)", QUERY_MAX_SORT);
		qsortkey *k = &keys[*nkeys];
		k->desc = false;
		if (p.s[p.i] == '-' || p.s[p.i] == '+') {
			k->desc = p.s[p.i] == '-';
			p.i++;
		}
		if (scan_field(&p, &k->f) != 0)
			return CAIRN_EINVALID;
		if (!qtype_sortable(qfield_type(&k->f))) {
			char fname[300];
			qfield_name(fname, sizeof fname, &k->f);
			return qp_err(&p, k->f.pos, "cannot sort by %s (it is %s)", fname,
			              qp_type_noun(qfield_type(&k->f)));
		}
		qp_skip_ws(&p);
		if (qp_eat_kw(&p, "desc"))
			k->desc = true;
		else if (qp_eat_kw(&p, "asc"))
			k->desc = false;
		(*nkeys)++;
		qp_skip_ws(&p);
		if (p.i >= p.n)
			return 0;
		if (p.s[p.i] != ',') {
			char q[64];
			qp_quote(&p, p.i, 0, q, sizeof q);
			return qp_err(&p, p.i, "expected ',' between sort keys, found %s", q);
		}
		p.i++;
	}
}
