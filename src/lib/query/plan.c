/*
 * lib/query/plan.c — the query planner: compiles a parsed query into scans
 * the store answers, and finds its set of matches (design and measurements
 * in docs/internals/query.md).
 *
 * The plan is chosen here, not by the store.  Every comparison becomes one
 * or a few logical scans (lib/store/scan.h) — "param K's numeric values
 * < 0.1", "tag T present", "status in mask" — which the backend prepares
 * into parts with a cost class.  Keys are resolved first: a metric or param
 * key no run has matches nothing, without a scan.  Negative operators are
 * present − positive; a typed param comparison is up to three scans (the
 * literal as a number, a boolean, text); an `in` list is one scan per value;
 * `a = x or a = y` is compiled as `a in (x, y)`, so one decision (scan or
 * probe) covers both.  The boolean tree then runs over run-id sets (eval.c).
 *
 * Invariants: nothing here knows how the store keeps its data; the only
 * text of the query that reaches the store is the literals, inside
 * descriptors.  Thread-safety: the store's lock is held from plan_open to
 * plan_close (the backend's open takes it).
 */
#include "lib/query/plan.h"
#include "lib/store/backend.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

/* --- the context ------------------------------------------------------------------ */

int plan_open(qplan *q, cairn_store *s)
{
	memset(q, 0, sizeof *q);
	q->mem.chunk = 65536;
	q->ops = store_scans(s);
	if (!q->ops)
		return store_unsupported(s, "a query");
	int rc = q->ops->open(s, &q->mem, &q->c, &q->info);
	if (rc)
		return rc;
	q->nw = (size_t)(q->info.maxrid >> 6) + 1;
	q->nruns = q->info.nruns;
	return 0;
}

void plan_close(qplan *q)
{
	if (q->ops)
		q->ops->close(q->c);
	q->c = NULL;
	rset_free(&q->universe);
	arena_free(&q->mem);
}

static int oom(void)
{
	return err_set(CAIRN_ENOMEM, "out of memory");
}

int plan_universe(qplan *q, const rset **out)
{
	if (!q->have_universe) {
		int rc = rset_init(&q->universe, q->nw);
		if (rc)
			return rc;
		store_parts ps = {0};
		store_scan all = {.src = STORE_SRC_ALL};
		if ((rc = q->ops->prepare(q->c, &all, &ps)) != 0)
			return rc;
		for (int k = 0; k < ps.n && rc == 0; k++)
			rc = q->ops->fill(q->c, &ps.p[k], NULL, &q->universe);
		if (rc)
			return rc;
		q->have_universe = true;
	}
	*out = &q->universe;
	return 0;
}

/* --- comparisons into leaves -------------------------------------------------------- */

/* Prepare sc; its parts are appended to *v (growing in the arena), or *all
 * is set when it matches every run. */
static int add_parts(qplan *q, const store_scan *sc, store_part **v, int *n, int *cap, bool *all)
{
	store_parts ps = {0};
	int rc = q->ops->prepare(q->c, sc, &ps);
	if (rc)
		return rc;
	if (ps.all) {
		*all = true;
		return 0;
	}
	if (*n + ps.n > *cap) {
		int ncap = *cap ? *cap * 2 : 4;
		while (ncap < *n + ps.n)
			ncap *= 2;
		store_part *nv = arena_alloc(&q->mem, (size_t)ncap * sizeof *nv);
		if (!nv)
			return oom();
		if (*n)
			memcpy(nv, *v, (size_t)*n * sizeof *nv);
		*v = nv;
		*cap = ncap;
	}
	for (int k = 0; k < ps.n; k++) {
		ps.p[k].est = -1;
		ps.p[k].est_cap = 0;
		(*v)[(*n)++] = ps.p[k];
	}
	return 0;
}

/* A positive scan of the leaf. */
static int add(qplan *q, qleaf *l, const store_scan *sc)
{
	return add_parts(q, sc, &l->pos, &l->npos, &l->cappos, &l->all);
}

/* The field's presence: parts, or present_all. */
static int set_present(qplan *q, qleaf *l, const store_scan *sc)
{
	int cap = 0;
	store_scan p = *sc;
	p.test = STORE_PRESENT;
	p.ptype = STORE_PT_ANY;
	return add_parts(q, &p, &l->present, &l->npresent, &cap, &l->present_all);
}

/* The positive form of an operator (the negative ones are present − positive). */
static qop positive(qop op, bool *neg)
{
	*neg = true;
	switch (op) {
	case QO_NE: return QO_EQ;
	case QO_NGLOB: return QO_GLOB;
	case QO_NLIKE: return QO_LIKE;
	case QO_NILIKE: return QO_ILIKE;
	case QO_NIN: return QO_IN;
	default: *neg = false; return op;
	}
}

static void set_num(store_scan *sc, const qlit *l)
{
	sc->numeric = true;
	sc->is_int = l->is_int;
	sc->i = l->i;
	sc->num = l->num;
}

/* A text comparison (=, <, …, ~, like, ilike) of the literal's text. */
static void set_text(store_scan *sc, qop o, const char *text)
{
	sc->test = o == QO_GLOB    ? STORE_GLOB
	           : o == QO_LIKE  ? STORE_LIKE
	           : o == QO_ILIKE ? STORE_ILIKE
	                           : STORE_CMP;
	sc->op = o;
	sc->text = text;
}

static bool is_hex(const char *s, size_t *n)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	*n = i;
	return i > 0;
}

/* Text comparisons, one scan per literal.  hexprefix: ids and commits, where
 * 4–31 hex digits name a prefix and 32 or 40 the whole value, in any case. */
static int text_scans(qplan *q, qleaf *l, const store_scan *base, qop op, const qlit *lits,
                      size_t nlits, bool hexprefix)
{
	size_t nl = op == QO_IN ? nlits : 1;
	for (size_t k = 0; k < nl; k++) {
		const qlit *lt = &lits[k];
		qop o = op == QO_IN ? QO_EQ : op;
		store_scan sc = *base;
		size_t hn;
		if (o == QO_EQ && hexprefix && is_hex(lt->text, &hn) &&
		    ((hn >= 4 && hn < 32) || hn == 32 || hn == 40)) {
			char *low = arena_strndup(&q->mem, lt->text, hn);
			if (!low)
				return oom();
			for (size_t i = 0; i < hn; i++)
				low[i] = (char)tolower((unsigned char)low[i]);
			set_text(&sc, QO_EQ, low);
			if (hn < 32)
				sc.test = STORE_PREFIX;
		} else {
			set_text(&sc, o, lt->text);
		}
		int rc = add(q, l, &sc);
		if (rc)
			return rc;
	}
	return 0;
}

/* reads / wrote: a literal that does not start with '/' matches a whole
 * path or any tail of it after a '/' (as a .gitignore pattern without a
 * slash in front): `reads ~ "data/train*"` finds /home/u/proj/data/train.csv,
 * `wrote = "model.pt"` finds checkpoints/model.pt.  So each literal is one
 * scan of the whole path and, when relative, one of "*" "/" + literal (the
 * glob's specials in an exact literal escaped as [*]). */
static int files_scans(qplan *q, qleaf *l, const store_scan *base, qop op, const qlit *lits,
                       size_t nlits)
{
	size_t nl = op == QO_IN ? nlits : 1;
	for (size_t k = 0; k < nl; k++) {
		const char *t = lits[k].text;
		qop o = op == QO_IN ? QO_EQ : op;
		store_scan sc = *base;
		set_text(&sc, o, t);
		int rc = add(q, l, &sc);
		if (rc)
			return rc;
		if (t[0] == '/')
			continue; /* an absolute path has no tails (the next literal may) */
		size_t n = strlen(t);
		char *tail = arena_alloc(&q->mem, 3 * n + 3), *w = tail;
		if (!tail)
			return oom();
		*w++ = o == QO_LIKE || o == QO_ILIKE ? '%' : '*';
		*w++ = '/';
		for (const char *c = t; *c; c++) {
			if (o == QO_EQ && (*c == '*' || *c == '?' || *c == '[')) {
				*w++ = '[';
				*w++ = *c;
				*w++ = ']';
			} else {
				*w++ = *c;
			}
		}
		*w = '\0';
		set_text(&sc, o == QO_EQ ? QO_GLOB : o, tail);
		if ((rc = add(q, l, &sc)) != 0)
			return rc;
	}
	return 0;
}

/* Numeric comparisons, one scan per literal.  NaN equals only NaN (where
 * the field can hold it: can_nan) and has no order. */
static int num_scans(qplan *q, qleaf *l, const store_scan *base, qop op, const qlit *lits,
                     size_t nlits, bool can_nan)
{
	size_t nl = op == QO_IN ? nlits : 1;
	for (size_t k = 0; k < nl; k++) {
		const qlit *lt = &lits[k];
		qop o = op == QO_IN ? QO_EQ : op;
		store_scan sc = *base;
		if (isnan(lt->num)) {
			if (o != QO_EQ || !can_nan)
				continue;
			sc.test = STORE_NAN;
		} else {
			sc.test = STORE_CMP;
			sc.op = o;
			set_num(&sc, lt);
		}
		int rc = add(q, l, &sc);
		if (rc)
			return rc;
	}
	return 0;
}

/* params: each literal compares in the form of each run's value type. */
static int param_scans(qplan *q, qleaf *l, const store_scan *base, qop op, const qlit *lits,
                       size_t nlits)
{
	int rc;
	size_t nl = op == QO_IN ? nlits : 1;
	for (size_t k = 0; k < nl; k++) {
		const qlit *lt = &lits[k];
		qop o = op == QO_IN ? QO_EQ : op;
		store_scan sc = *base;
		sc.ptype = STORE_PT_TEXT;
		if (o == QO_GLOB || o == QO_LIKE || o == QO_ILIKE) {
			set_text(&sc, o, lt->text);
			if ((rc = add(q, l, &sc)) != 0)
				return rc;
			continue;
		}
		if (lt->has_num && (!isnan(lt->num) || o == QO_EQ)) {
			store_scan ns = *base;
			ns.ptype = STORE_PT_NUM;
			if (isnan(lt->num)) {
				ns.test = STORE_NAN;
			} else {
				ns.test = STORE_CMP;
				ns.op = o;
				set_num(&ns, lt);
			}
			if ((rc = add(q, l, &ns)) != 0)
				return rc;
		}
		if (lt->has_bool) {
			store_scan bs = *base;
			bs.ptype = STORE_PT_BOOL;
			bs.test = STORE_CMP;
			bs.op = o;
			bs.numeric = bs.is_int = true;
			bs.i = lt->b;
			bs.num = lt->b;
			if ((rc = add(q, l, &bs)) != 0)
				return rc;
		}
		set_text(&sc, o, lt->text);
		if ((rc = add(q, l, &sc)) != 0)
			return rc;
	}
	return 0;
}

static int compile_attr(qplan *q, const qnode *n, qop op, qleaf *l)
{
	qattr a = (qattr)n->f.part;
	store_scan base = {.src = STORE_SRC_RUN, .field = (int)a};
	int rc;
	if ((rc = set_present(q, l, &base)) != 0)
		return rc;
	if (op == QO_PRESENT) {
		if (l->present_all) {
			l->all = true;
			return 0;
		}
		base.test = STORE_PRESENT;
		return add(q, l, &base);
	}
	if (op == QO_TRUE) {
		base.test = STORE_TRUTHY;
		return add(q, l, &base);
	}
	size_t nl = op == QO_IN ? n->nlits : 1;
	if (a == QA_STATUS) {
		base.test = STORE_STATUS;
		for (size_t k = 0; k < nl; k++)
			base.mask |= n->lits[k].status_mask;
		return add(q, l, &base);
	}
	if (a == QA_DIRTY) {
		for (size_t k = 0; k < nl; k++) {
			store_scan sc = base;
			sc.test = STORE_CMP;
			sc.op = QO_EQ;
			sc.numeric = sc.is_int = true;
			sc.i = n->lits[k].b;
			sc.num = n->lits[k].b;
			if ((rc = add(q, l, &sc)) != 0)
				return rc;
		}
		return 0;
	}
	if (qfield_type(&n->f) == QT_TEXT)
		return text_scans(q, l, &base, op, n->lits, n->nlits,
		                  a == QA_ID || a == QA_COMMIT || a == QA_PARENT);
	/* numbers and times */
	return num_scans(q, l, &base, op, n->lits, n->nlits, false);
}

/* Compile one comparison into a leaf.  `empty` leaves (a key no run has)
 * have no scans and no presence: they match nothing. */
static int compile_cmp(qplan *q, const qnode *n, qleaf *l)
{
	memset(l, 0, sizeof *l);
	bool neg;
	qop op = positive(n->op, &neg);
	l->neg = neg;
	int rc = 0;
	const qfield *f = &n->f;
	store_scan base = {.field = f->part, .key = f->key};
	if (f->kind == QK_METRIC || f->kind == QK_PARAM) {
		if ((rc = q->ops->key_lookup(q->c, f->key, &base.kid)) != 0)
			return rc;
		if (base.kid == 0) {
			l->neg = false; /* nothing has the field: nothing matches */
			return 0;
		}
	}
	switch (f->kind) {
	case QK_METRIC:
		base.src = STORE_SRC_METRIC;
		if ((rc = set_present(q, l, &base)) != 0)
			return rc;
		if (!neg && f->part == QM_LAST && n->nlits == 1 && n->lits[0].has_num &&
		    !isnan(n->lits[0].num) &&
		    (op == QO_EQ || op == QO_LT || op == QO_LE || op == QO_GT || op == QO_GE)) {
			l->wtest = true;
			l->wkey = f->key;
			l->wop = op;
			l->wlit = n->lits[0];
		}
		if (op == QO_TRUE || op == QO_PRESENT) {
			base.test = op == QO_TRUE ? STORE_TRUTHY : STORE_PRESENT;
			return add(q, l, &base);
		}
		return num_scans(q, l, &base, op, n->lits, n->nlits, f->part <= QM_MAX);
	case QK_PARAM:
		base.src = STORE_SRC_PARAM;
		if ((rc = set_present(q, l, &base)) != 0)
			return rc;
		if (op == QO_TRUE || op == QO_PRESENT) {
			base.test = op == QO_TRUE ? STORE_TRUTHY : STORE_PRESENT;
			return add(q, l, &base);
		}
		return param_scans(q, l, &base, op, n->lits, n->nlits);
	case QK_PROPERTY:
	case QK_DATASET:
		base.src = f->kind == QK_PROPERTY ? STORE_SRC_PROPERTY : STORE_SRC_DATASET;
		if ((rc = set_present(q, l, &base)) != 0)
			return rc;
		if (op == QO_TRUE || op == QO_PRESENT) {
			base.test = op == QO_TRUE ? STORE_TRUTHY : STORE_PRESENT;
			return add(q, l, &base);
		}
		if (qfield_type(f) == QT_NUM)
			return num_scans(q, l, &base, op, n->lits, n->nlits, false);
		return text_scans(q, l, &base, op, n->lits, n->nlits, false);
	case QK_TAG:
		/* bare: present or not; with a text comparison (check.c let it
		 * through): the value of a key/value tag.  A bare tag has no value,
		 * so it matches no comparison, a negated one (!=, not like, not in)
		 * included: those are taken among the tags that have a value (a
		 * LIKE '%' of the value, which every value matches). */
		base.src = STORE_SRC_TAG;
		if (op == QO_TRUE || op == QO_PRESENT) {
			if ((rc = set_present(q, l, &base)) != 0)
				return rc;
			base.test = STORE_PRESENT;
			return add(q, l, &base);
		}
		if (neg) {
			store_scan valued = base;
			int cap = 0;
			set_text(&valued, QO_LIKE, "%");
			rc =
			    add_parts(q, &valued, &l->present, &l->npresent, &cap, &l->present_all);
		} else {
			rc = set_present(q, l, &base);
		}
		if (rc)
			return rc;
		return text_scans(q, l, &base, op, n->lits, n->nlits, false);
	case QK_TAGS:
	case QK_FILES:
		/* sets (a run's tags; the paths it read or wrote): `tags !~ "p"`,
		 * `reads !~ "p"` are every run none of whose members matches
		 * (runs with none included) */
		base.src = f->kind == QK_TAGS ? STORE_SRC_TAG : STORE_SRC_FILES;
		base.key = NULL;
		l->present_all = true;
		if (op == QO_PRESENT) {
			l->all = true;
			return 0;
		}
		if (op == QO_TRUE) {
			base.test = STORE_TRUTHY;
			return add(q, l, &base);
		}
		if (f->kind == QK_FILES)
			return files_scans(q, l, &base, op, n->lits, n->nlits);
		return text_scans(q, l, &base, op, n->lits, n->nlits, false);
	case QK_ATTR: return compile_attr(q, n, op, l);
	}
	return 0;
}

/* --- the compiled tree ------------------------------------------------------------ */

/* The operands of a chain of one operator (a and b and c), in order. */
static int collect(qplan *q, const qnode *n, qntype t, const qnode ***v, int *nv, int *cap)
{
	if (n->type == t) {
		int rc = collect(q, n->l, t, v, nv, cap);
		return rc ? rc : collect(q, n->r, t, v, nv, cap);
	}
	if (*nv == *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		const qnode **nn = arena_alloc(&q->mem, (size_t)ncap * sizeof *nn);
		if (!nn)
			return oom();
		if (*nv)
			memcpy(nn, *v, (size_t)*nv * sizeof *nn);
		*v = nn;
		*cap = ncap;
	}
	(*v)[(*nv)++] = n;
	return 0;
}

static bool mergeable(const qnode *n)
{
	return n->type == QN_CMP && (n->op == QO_EQ || n->op == QO_IN) && n->f.kind != QK_TAG;
}

static bool same_field(const qfield *a, const qfield *b)
{
	return a->kind == b->kind && a->part == b->part &&
	       (a->key == b->key || (a->key && b->key && strcmp(a->key, b->key) == 0));
}

/* a = x or a = y or a in (z): one comparison a in (x, y, z), probed or
 * scanned as one (its scans share one decision).  v[j] merged into an
 * earlier one become NULL. */
static int merge_or(qplan *q, const qnode **v, int nv)
{
	for (int i = 0; i < nv; i++) {
		if (!v[i] || !mergeable(v[i]))
			continue;
		size_t nl = v[i]->nlits;
		int same = 0;
		for (int j = i + 1; j < nv; j++)
			if (v[j] && mergeable(v[j]) && same_field(&v[i]->f, &v[j]->f)) {
				nl += v[j]->nlits;
				same++;
			}
		if (!same)
			continue;
		qnode *m = arena_alloc(&q->mem, sizeof *m);
		qlit *lits = arena_alloc(&q->mem, nl * sizeof *lits);
		if (!m || !lits)
			return oom();
		*m = *v[i];
		m->op = QO_IN;
		m->lits = lits;
		m->nlits = 0;
		for (int j = i; j < nv; j++) {
			if (!v[j] ||
			    (j > i && !(mergeable(v[j]) && same_field(&v[i]->f, &v[j]->f))))
				continue;
			memcpy(lits + m->nlits, v[j]->lits, v[j]->nlits * sizeof *lits);
			m->nlits += v[j]->nlits;
			if (j > i)
				v[j] = NULL;
		}
		v[i] = m;
	}
	return 0;
}

int plan_compile(qplan *q, const qnode *n, cnode **out)
{
	cnode *c = arena_zalloc(&q->mem, sizeof *c);
	if (!c)
		return oom();
	c->type = n->type;
	*out = c;
	int rc, nv = 0, cap = 0;
	const qnode **v = NULL;
	switch (n->type) {
	case QN_CMP: return compile_cmp(q, n, &c->leaf);
	case QN_NOT:
		c->kids = arena_alloc(&q->mem, sizeof *c->kids);
		if (!c->kids)
			return oom();
		c->nkids = 1;
		return plan_compile(q, n->l, &c->kids[0]);
	default:
		if ((rc = collect(q, n, n->type, &v, &nv, &cap)) != 0)
			return rc;
		if (n->type == QN_OR && (rc = merge_or(q, v, nv)) != 0)
			return rc;
		c->kids = arena_alloc(&q->mem, (size_t)(nv ? nv : 1) * sizeof *c->kids);
		if (!c->kids)
			return oom();
		for (int i = 0; i < nv; i++) {
			if (!v[i])
				continue;
			if ((rc = plan_compile(q, v[i], &c->kids[c->nkids++])) != 0)
				return rc;
		}
		if (c->nkids == 1) /* everything merged into one comparison */
			*out = c->kids[0];
		return 0;
	}
}

/* --- the set of matches ------------------------------------------------------------ */

int plan_root(qplan *q, const store_query *sq, cnode **out)
{
	int rc;
	cnode *root = NULL;
	*out = NULL;
	if (sq->q && sq->q->root && (rc = plan_compile(q, sq->q->root, &root)) != 0)
		return rc;
	if (sq->project) {
		/* the project is one more conjunct, planned like the others */
		qlit lit = {.kind = QL_STR, .text = sq->project};
		qnode pn = {.type = QN_CMP,
		            .f = {.kind = QK_ATTR, .part = QA_PROJECT},
		            .op = QO_EQ,
		            .lits = &lit,
		            .nlits = 1};
		cnode *pc;
		if ((rc = plan_compile(q, &pn, &pc)) != 0)
			return rc;
		if (root) {
			cnode *and = arena_zalloc(&q->mem, sizeof *and);
			cnode **kids = arena_alloc(&q->mem, 2 * sizeof *kids);
			if (!and || !kids)
				return oom();
			and->type = QN_AND;
			kids[0] = pc;
			kids[1] = root;
			and->kids = kids;
			and->nkids = 2;
			root = and;
		} else {
			root = pc;
		}
	}
	*out = root;
	return 0;
}

int plan_deleted(qplan *q, rset *out)
{
	int rc;
	if ((rc = rset_init(out, q->nw)) != 0)
		return rc;
	store_parts ps = {0};
	store_scan d = {.src = STORE_SRC_DELETED};
	rc = q->ops->prepare(q->c, &d, &ps);
	for (int k = 0; k < ps.n && rc == 0; k++)
		rc = q->ops->fill(q->c, &ps.p[k], NULL, out);
	return rc;
}

int plan_match(qplan *q, const store_query *sq, rset *out)
{
	int rc;
	if ((rc = rset_init(out, q->nw)) != 0)
		return rc;
	cnode *root = NULL;
	if ((rc = plan_root(q, sq, &root)) != 0)
		return rc;
	if (root) {
		if ((rc = plan_eval(q, root, NULL, q->nruns, out)) != 0)
			return rc;
	} else {
		const rset *u;
		if ((rc = plan_universe(q, &u)) != 0)
			return rc;
		rset_assign(out, u);
	}
	if (!sq->include_deleted) {
		rset del;
		rc = plan_deleted(q, &del);
		if (rc == 0)
			rset_andnot(out, &del);
		rset_free(&del);
	}
	return rc;
}
