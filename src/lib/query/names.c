/*
 * lib/query/names.c — bare names, unknown keys and "did you mean"; see
 * names.h.
 *
 * A bare name is resolved by asking the planner whether any run in scope
 * (the query's project, deleted runs only when asked for) has the metric,
 * and whether any has the param: a presence scan each, answered from the
 * key's index range without reading a run — first from its first rows only
 * (peek), which settles it unless every one of them is out of scope.  Exactly one: that field;
 * both: ambiguous; neither: an unknown field, with the closest known name.  The answers are cached
 * per qnames, so a name written twice costs one lookup.
 *
 * Suggestions come from the keys the runs in scope carry (the store's
 * column list, read once and only on the error path) and the attribute
 * names, ranked by edit distance with a cap that grows with the name's
 * length: one edit for names up to 3 bytes, two up to 6, three beyond; a
 * name that is a whole word of a key (loss: valid_loss) counts as one edit,
 * and at equal distance a metric comes before a param, a param before an
 * attribute.
 * Not thread-safe per qnames; the store is used as its calls allow.
 */
#include "lib/query/names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/internal.h"
#include "lib/query/plan.h"
#include "lib/store/backend.h"
#include "lib/store/browse.h"
#include "util/json.h"

static int resolve(void *ctx, qexpr *e, const char *name, qfield *f, char *msg, size_t msgsz);

void qnames_init(qnames *n, cairn_store *s, const char *project, bool include_deleted)
{
	memset(n, 0, sizeof *n);
	n->s = s;
	n->project = project && *project ? project : NULL;
	n->include_deleted = include_deleted;
	n->res.fn = resolve;
	n->res.ctx = n;
}

void qnames_free(qnames *n)
{
	for (size_t i = 0; i < n->nseen; i++)
		free(n->seen[i].key);
	free(n->seen);
	for (size_t i = 0; i < n->ncand; i++)
		free(n->cand[i]);
	free(n->cand);
	memset(n, 0, sizeof *n);
}

void qnames_noun(const qnames *n, char *out, size_t outsz)
{
	if (n->project)
		snprintf(out, outsz, "no run of project '%.100s'", n->project);
	else
		snprintf(out, outsz, "no run");
}

int qnames_raise(const qnames *n)
{
	return n->rc ? err_set(n->rc, "%s", n->rmsg) : 0;
}

int qnames_parse_error(const qnames *n, const qerror *err, const char *what, const char *text)
{
	int rc = qnames_raise(n);
	return rc ? rc : qerror_raise(err, what, text);
}

/* --- presence --------------------------------------------------------------------- */

/* Rows of a key read to decide presence before the whole range is. */
#define PEEK 64

/* Presence, cheaply: the field's first PEEK rows, checked against the scope
 * (the project, deleted runs) by the planner with them as the candidates.
 * *ans 1: some run in scope has it; 0: none has (no run has the key, or
 * every row was read); -1: cannot tell from those rows (the caller reads the
 * whole range).  A key in every run in scope, the common case, costs a few
 * index rows and probes instead of a pass over all runs. */
static int peek(qplan *q, const store_query *sq, const qnode *cmp, int *ans)
{
	cnode *c;
	rset R = {0}, in = {0}, del = {0};
	*ans = -1;
	int rc = plan_compile(q, cmp, &c);
	if (rc)
		return rc;
	const qleaf *l = &c->leaf;
	if (l->npos == 0 && !l->all) {
		*ans = 0; /* no run has the key */
		return 0;
	}
	if (l->all || l->neg)
		return 0;
	/* an index range (RANGE) or one key's rows (KEY) stops after PEEK rows;
	 * a pass over every run (FULL) is no cheaper peeked */
	for (int k = 0; k < l->npos; k++)
		if (l->pos[k].cost == STORE_COST_FULL)
			return 0;
	bool whole = true;
	if ((rc = rset_init(&R, q->nw)) != 0)
		return rc;
	for (int k = 0; k < l->npos && rc == 0; k++) {
		int64_t got = 0;
		rc = q->ops->fill_limited(q->c, &l->pos[k], PEEK, &R, &got);
		if (got >= PEEK)
			whole = false;
	}
	if (rc == 0 && sq->project) {
		qlit lit = {.kind = QL_STR, .text = sq->project};
		qnode pn = {.type = QN_CMP,
		            .f = {.kind = QK_ATTR, .part = QA_PROJECT},
		            .op = QO_EQ,
		            .lits = &lit,
		            .nlits = 1};
		cnode *pc;
		if ((rc = plan_compile(q, &pn, &pc)) == 0 && (rc = rset_init(&in, q->nw)) == 0 &&
		    (rc = plan_eval(q, pc, &R, rset_count(&R), &in)) == 0)
			rset_assign(&R, &in);
	}
	if (rc == 0 && !sq->include_deleted && rset_count(&R) > 0) {
		store_parts ps = {0};
		store_scan d = {.src = STORE_SRC_DELETED};
		if ((rc = rset_init(&del, q->nw)) == 0)
			rc = q->ops->prepare(q->c, &d, &ps);
		for (int k = 0; k < ps.n && rc == 0; k++)
			rc = q->ops->fill(q->c, &ps.p[k], &R, &del);
		rset_andnot(&R, &del);
	}
	if (rc == 0)
		*ans = rset_count(&R) > 0 ? 1 : whole ? 0 : -1;
	rset_free(&R);
	rset_free(&in);
	rset_free(&del);
	return rc;
}

static int remember(qnames *n, qkind kind, const char *key, bool has);

/* A backend that runs whole queries itself (the remote one) has no scans
 * here: one query for a single run that has the key answers instead. */
static int remote_has(qnames *n, qkind kind, const char *key, bool *out)
{
	*out = false;
	if (strlen(key) > 400)
		return remember(n, kind, key, false); /* longer than any key may be */
	/* metrics.`KEY` is not null, with each ` of the key doubled */
	char text[1024];
	size_t t =
	    (size_t)snprintf(text, sizeof text, "%s.`", kind == QK_METRIC ? "metrics" : "params");
	for (const char *c = key; *c; c++) {
		if (*c == '`')
			text[t++] = '`';
		text[t++] = *c;
	}
	snprintf(text + t, sizeof text - t, "` is not null");
	qexpr e = {0};
	store_query sq = {.q = &e,
	                  .limit = 1,
	                  .project = n->project,
	                  .include_deleted = n->include_deleted,
	                  .text = text};
	int64_t *ids = NULL, total = 0;
	size_t nids = 0;
	int rc = n->s->ops->query_page(n->s, &sq, &ids, &nids, &total);
	free(ids);
	if (rc)
		return rc;
	*out = total > 0;
	return remember(n, kind, key, *out);
}

int qnames_has(qnames *n, qkind kind, const char *key, bool *out)
{
	*out = false;
	for (size_t i = 0; i < n->nseen; i++)
		if (n->seen[i].kind == kind && strcmp(n->seen[i].key, key) == 0) {
			*out = n->seen[i].has;
			return 0;
		}
	if (n->s->ops->query_page) /* the server plans (remote): ask it */
		return remote_has(n, kind, key, out);
	qnode cmp = {.type = QN_CMP, .op = QO_PRESENT};
	cmp.f.kind = kind;
	cmp.f.part = kind == QK_METRIC ? QM_LAST : 0;
	cmp.f.key = key;
	qexpr e = {.root = &cmp};
	store_query sq = {.q = &e, .project = n->project, .include_deleted = n->include_deleted};
	qplan q;
	rset M = {0};
	int ans = -1;
	int rc = plan_open(&q, n->s);
	if (rc == 0)
		rc = peek(&q, &sq, &cmp, &ans);
	if (rc == 0 && ans < 0) {
		rc = plan_match(&q, &sq, &M);
		ans = rc == 0 && rset_count(&M) > 0;
	}
	bool has = ans > 0;
	rset_free(&M);
	plan_close(&q);
	if (rc)
		return rc;
	*out = has;
	return remember(n, kind, key, has);
}

static int remember(qnames *n, qkind kind, const char *key, bool has)
{
	if (n->nseen == n->capseen) {
		size_t nc = n->capseen ? n->capseen * 2 : 8;
		qname_seen *nv = realloc(n->seen, nc * sizeof *nv);
		if (!nv)
			return err_set(CAIRN_ENOMEM, "out of memory");
		n->seen = nv;
		n->capseen = nc;
	}
	char *k = strdup(key);
	if (!k)
		return err_set(CAIRN_ENOMEM, "out of memory");
	n->seen[n->nseen++] = (qname_seen){kind, k, has, false};
	return 0;
}

/* --- suggestions ------------------------------------------------------------------ */

size_t qnames_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 250 || lb > 250)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	/* three rows of the optimal-string-alignment table */
	size_t rows[3][252];
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		size_t best = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t v = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

static int add_cand(qnames *n, const char *text, size_t *cap)
{
	if (n->ncand == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		char **nv = realloc(n->cand, nc * sizeof *nv);
		if (!nv)
			return -1;
		n->cand = nv;
		*cap = nc;
	}
	if (!(n->cand[n->ncand] = strdup(text)))
		return -1;
	n->ncand++;
	return 0;
}

/* The keys of one section of the column list as field names. */
static void add_section(qnames *n, const json *root, const char *section, qkind kind, size_t *cap)
{
	const json *arr = json_get(root, section);
	if (!arr || arr->type != JSON_ARR)
		return;
	for (const json *e = arr->child; e; e = e->next) {
		const char *key = json_get_str(e, "key");
		if (!key || strlen(key) > KEY_MAX)
			continue;
		char name[320];
		qfield f = {.kind = kind, .part = kind == QK_METRIC ? QM_LAST : 0, .key = key};
		qfield_name(name, sizeof name, &f);
		if (add_cand(n, name, cap) != 0)
			return;
	}
}

/* Candidates are best effort: a store that cannot list its keys gets
 * suggestions from the attribute names only. */
static void load_candidates(qnames *n)
{
	size_t cap = 0;
	n->cand_loaded = true;
	buf b = BUF_INIT;
	if (store_run_columns_json(n->s, n->project, &b) == 0 && buf_ok(&b)) {
		char jerr[64];
		json_doc *d = json_parse(b.ptr, b.len, NULL, jerr, sizeof jerr);
		if (d) {
			add_section(n, json_root(d), "metrics", QK_METRIC, &cap);
			add_section(n, json_root(d), "params", QK_PARAM, &cap);
			json_doc_free(d);
		}
	}
	buf_free(&b);
	for (size_t i = 0; qattr_word(i); i++)
		if (add_cand(n, qattr_word(i), &cap) != 0)
			break;
}

/* The key part of a candidate ("metrics.valid_acc" -> "valid_acc"). */
static const char *cand_key(const char *c)
{
	if (strncmp(c, "metrics.", 8) == 0)
		return c + 8;
	if (strncmp(c, "params.", 7) == 0)
		return c + 7;
	return c;
}

/* Is `word` a whole part of key, split at '_', '/', '.' and '-'
 * (loss in valid_loss, acc in val/acc)? */
static bool word_part(const char *key, const char *word)
{
	size_t n = strlen(word);
	if (n < 2)
		return false;
	for (const char *p = key; (p = strstr(p, word)) != NULL; p++) {
		bool start = p == key || strchr("_/.-", p[-1]);
		bool end = p[n] == '\0' || strchr("_/.-", p[n]);
		if (start && end)
			return true;
	}
	return false;
}

void qnames_suggest(qnames *n, const char *name, bool attrs, char *out, size_t outsz)
{
	out[0] = '\0';
	if (!n->cand_loaded)
		load_candidates(n);
	const char *key = cand_key(name);
	size_t len = strlen(key);
	size_t cap = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	size_t best = cap + 1;
	const char *pick = NULL;
	for (size_t i = 0; i < n->ncand; i++) {
		if (strcmp(n->cand[i], name) == 0 || (!attrs && cand_key(n->cand[i]) == n->cand[i]))
			continue;
		const char *ck = cand_key(n->cand[i]);
		size_t d = qnames_distance(key, ck, cap);
		if (d > 1 && word_part(ck, key))
			d = 1; /* loss: valid_loss */
		/* the same key in the other namespace is the best guess there is */
		if (strcmp(ck, key) == 0)
			d = 0;
		if (d < best) {
			best = d;
			pick = n->cand[i];
		}
	}
	if (pick)
		snprintf(out, outsz, " (did you mean %s?)", pick);
}

/* --- the resolver ----------------------------------------------------------------- */

static const char *const mparts[] = {"last", "min", "max", "count", "step", NULL};

static int store_error(qnames *n, char *msg, size_t msgsz, const char *name)
{
	n->rc = cairn_error_last_code();
	if (!n->rc)
		n->rc = CAIRN_EIO;
	snprintf(n->rmsg, sizeof n->rmsg, "cannot look up '%.100s': %s", name, cairn_error_last());
	snprintf(msg, msgsz, "%s", n->rmsg);
	return CAIRN_EINVALID;
}

static int resolve(void *ctx, qexpr *e, const char *name, qfield *f, char *msg, size_t msgsz)
{
	qnames *n = ctx;
	bool m = false, p = false;
	if (qnames_has(n, QK_METRIC, name, &m) != 0 || qnames_has(n, QK_PARAM, name, &p) != 0)
		return store_error(n, msg, msgsz, name);
	int part = QM_LAST;
	size_t keylen = strlen(name);
	if (!m && !p) {
		/* loss.min: the part of a metric loss, when no key is loss.min */
		const char *dot = strrchr(name, '.');
		for (int k = 0; dot && mparts[k]; k++) {
			if (strcasecmp(dot + 1, mparts[k]) != 0)
				continue;
			char *pre = strndup(name, (size_t)(dot - name));
			if (!pre)
				return store_error(n, msg, msgsz, name);
			int rc = qnames_has(n, QK_METRIC, pre, &m);
			free(pre);
			if (rc)
				return store_error(n, msg, msgsz, name);
			if (m) {
				part = k;
				keylen = (size_t)(dot - name);
			}
		}
	}
	char q[300];
	snprintf(q, sizeof q, "%s", name);
	if (m && p) {
		char a[320], b[320];
		qfield fm = {.kind = QK_METRIC, .part = QM_LAST, .key = q};
		qfield fp = {.kind = QK_PARAM, .key = q};
		qfield_name(a, sizeof a, &fm);
		qfield_name(b, sizeof b, &fp);
		snprintf(msg, msgsz, "ambiguous name '%.100s': did you mean %s or %s", name, a, b);
		return CAIRN_EINVALID;
	}
	if (!m && !p) {
		char noun[160], sug[340];
		qnames_noun(n, noun, sizeof noun);
		qnames_suggest(n, name, true, sug, sizeof sug);
		snprintf(msg, msgsz,
		         "unknown field '%.100s': %s has a metric or param of that name%s", name,
		         noun, sug);
		return CAIRN_EINVALID;
	}
	f->kind = m ? QK_METRIC : QK_PARAM;
	f->part = m ? part : 0;
	f->key = arena_strndup(&e->arena, name, keylen);
	return 0;
}

/* --- warnings --------------------------------------------------------------------- */

static int warn_field(qnames *n, const qfield *f, buf *b, bool *first)
{
	if (f->kind != QK_METRIC && f->kind != QK_PARAM)
		return 0;
	bool has;
	int rc = qnames_has(n, f->kind, f->key, &has);
	if (rc || has)
		return rc;
	/* once per key (qnames_has left it in the cache) */
	for (size_t i = 0; i < n->nseen; i++)
		if (n->seen[i].kind == f->kind && strcmp(n->seen[i].key, f->key) == 0) {
			if (n->seen[i].warned)
				return 0;
			n->seen[i].warned = true;
		}
	char noun[160], sug[340], name[320], m[900];
	qfield plain = *f;
	plain.part = f->kind == QK_METRIC ? QM_LAST : 0;
	qfield_name(name, sizeof name, &plain);
	qnames_noun(n, noun, sizeof noun);
	qnames_suggest(n, name, false, sug, sizeof sug);
	snprintf(m, sizeof m, "%s has a %s '%s'%s", noun, f->kind == QK_METRIC ? "metric" : "param",
	         f->key, sug);
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	json_str(b, m);
	return 0;
}

static int warn_node(qnames *n, const qnode *x, buf *b, bool *first, int depth)
{
	if (!x || depth > QUERY_MAX_DEPTH * 2 + 8)
		return 0;
	if (x->type == QN_CMP)
		return warn_field(n, &x->f, b, first);
	int rc = warn_node(n, x->l, b, first, depth + 1);
	return rc ? rc : warn_node(n, x->r, b, first, depth + 1);
}

int qnames_warnings(qnames *n, const qexpr *q, const qsortkey *keys, size_t nkeys, buf *b)
{
	bool first = true;
	buf_putc(b, '[');
	int rc = warn_node(n, q ? q->root : NULL, b, &first, 0);
	for (size_t k = 0; rc == 0 && k < nkeys; k++)
		rc = warn_field(n, &keys[k].f, b, &first);
	buf_putc(b, ']');
	return rc;
}
