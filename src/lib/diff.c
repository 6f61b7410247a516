/*
 * lib/diff.c — cairn_run_diff_new: what differs between two runs, across
 * every dimension a run records (cairn/diff.h), built from the two runs'
 * records, so it sees exactly what `cairn show` shows and needs no SQL of
 * its own.  lib/diff-json.c writes the result as cairn_run_diff_json.
 *
 * Sections come in the order a reader wants them: params, metrics, code,
 * data, environment, command, tags, properties.  The unified source diff
 * comes from cairn_code_diff (capture); the files added, removed and
 * changed in a changed dataset come from its two manifests
 * (cairn_data_diff_stored, data), so a run diff reads nothing but the
 * store.  The environment is an opaque stored document: its members are
 * compared as JSON values (numbers by value, objects by members).
 *
 * Equality: params by type and value, except that numbers compare by value
 * (an int 1 and a float 1.0 are the same, as they always were), and a NaN
 * equals a NaN; a float NaN is never the string "NaN".  Stateless.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diff.h"
#include "util/json.h"

static void *vec_push(diff_vec *v, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *n = realloc(v->v, cap * size);
		if (!n)
			return NULL;
		v->v = n;
		v->cap = cap;
	}
	void *p = (char *)v->v + v->n++ * size;
	memset(p, 0, size);
	return p;
}

static const char *dup(cairn_run_diff *d, const char *s, size_t n)
{
	return s ? arena_strndup(&d->mem, s, n) : NULL;
}

/* --- JSON values of the environment --------------------------------------------- */

/* Write a parsed JSON value back as JSON. */
static void put_json(buf *b, const json *v)
{
	if (!v) {
		buf_puts(b, "null");
		return;
	}
	switch (v->type) {
	case JSON_NULL: buf_puts(b, "null"); break;
	case JSON_BOOL: json_bool(b, v->b); break;
	case JSON_NUM:
		if (v->is_int)
			json_int(b, v->i);
		else
			json_num(b, v->num);
		break;
	case JSON_STR: json_strn(b, v->str, v->len); break;
	case JSON_ARR: {
		buf_putc(b, '[');
		for (const json *c = v->child; c; c = c->next) {
			if (c != v->child)
				buf_putc(b, ',');
			put_json(b, c);
		}
		buf_putc(b, ']');
		break;
	}
	case JSON_OBJ: {
		bool first = true;
		buf_putc(b, '{');
		for (const json *c = v->child; c; c = c->next) {
			json_key(b, &first, c->key);
			put_json(b, c);
		}
		buf_putc(b, '}');
		break;
	}
	}
}

/* Are two values the same (numbers by value, objects by members)? */
static bool same_json(const json *a, const json *b)
{
	if (!a || !b)
		return a == b;
	double x, y;
	if (json_num_value(a, &x) && json_num_value(b, &y) &&
	    (a->type == JSON_NUM || b->type == JSON_NUM || (isnan(x) && isnan(y))))
		return x == y || (isnan(x) && isnan(y));
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JSON_NULL: return true;
	case JSON_BOOL: return a->b == b->b;
	case JSON_STR: return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
	case JSON_ARR: {
		const json *p = a->child, *q = b->child;
		for (; p && q; p = p->next, q = q->next)
			if (!same_json(p, q))
				return false;
		return !p && !q;
	}
	case JSON_OBJ: {
		if (a->len != b->len)
			return false;
		for (const json *p = a->child; p; p = p->next)
			if (!same_json(p, json_get(b, p->key)))
				return false;
		return true;
	}
	default: return false;
	}
}

/* One side of an environment entry: typed when a scalar, and as JSON. */
static int env_side(cairn_run_diff *d, const json *v, cairn_value *val, const char **js,
                    size_t *entries)
{
	if (!v)
		return 0;
	switch (v->type) {
	case JSON_BOOL:
		val->type = CAIRN_TYPE_BOOL;
		val->i = v->b;
		break;
	case JSON_NUM:
		if (v->is_int) {
			val->type = CAIRN_TYPE_INT;
			val->i = v->i;
		} else {
			val->type = CAIRN_TYPE_FLOAT;
			val->f = v->num;
		}
		break;
	case JSON_STR:
		val->type = CAIRN_TYPE_STRING;
		if (!(val->s = dup(d, v->str, v->len)))
			return err_set(CAIRN_ENOMEM, "out of memory");
		break;
	case JSON_ARR:
	case JSON_OBJ: *entries = v->len; break;
	default: break;
	}
	buf b = BUF_INIT;
	put_json(&b, v);
	*js = buf_ok(&b) ? dup(d, b.ptr, b.len) : NULL;
	buf_free(&b);
	return *js ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static int env_entry(cairn_run_diff *d, cairn_diff_section sec, cairn_diff_change ch,
                     const char *key, const json *a, const json *b)
{
	cairn_diff_entry *e = vec_push(&d->sec[sec], sizeof *e);
	if (!e || !(e->key = dup(d, key, strlen(key))))
		return err_set(CAIRN_ENOMEM, "out of memory");
	e->change = ch;
	int rc = env_side(d, a, &e->a, &e->a_json, &e->a_entries);
	return rc ? rc : env_side(d, b, &e->b, &e->b_json, &e->b_entries);
}

/* Two objects compared member by member: changed (in a's order), added
 * (in b's), removed (in a's). */
static int env_objects(cairn_run_diff *d, cairn_diff_section sec, const json *a, const json *b)
{
	int rc = 0;
	for (const json *p = a ? a->child : NULL; p && !rc; p = p->next) {
		const json *q = json_get(b, p->key);
		if (q && !same_json(p, q))
			rc = env_entry(d, sec, CAIRN_DIFF_CHANGED, p->key, p, q);
	}
	for (const json *q = b ? b->child : NULL; q && !rc; q = q->next)
		if (!json_get(a, q->key))
			rc = env_entry(d, sec, CAIRN_DIFF_ADDED, q->key, NULL, q);
	for (const json *p = a ? a->child : NULL; p && !rc; p = p->next)
		if (!json_get(b, p->key))
			rc = env_entry(d, sec, CAIRN_DIFF_REMOVED, p->key, p, NULL);
	return rc;
}

static const json *find_path(const json *arr, const char *path)
{
	for (const json *f = arr ? arr->child : NULL; f; f = f->next) {
		const char *n = json_get_str(f, "path");
		if (n && strcmp(n, path) == 0)
			return f;
	}
	return NULL;
}

/* Environment files compared by path and digest. */
static int env_files(cairn_run_diff *d, const json *fa, const json *fb)
{
	int rc = 0;
	for (const json *f = fa ? fa->child : NULL; f && !rc; f = f->next) {
		const char *path = json_get_str(f, "path");
		const json *g = path ? find_path(fb, path) : NULL;
		if (g && !same_json(json_get(f, "digest"), json_get(g, "digest")))
			rc = env_entry(d, CAIRN_DIFF_ENV_FILES, CAIRN_DIFF_CHANGED, path,
			               json_get(f, "digest"), json_get(g, "digest"));
	}
	for (int pass = 0; pass < 2 && !rc; pass++) {
		const json *from = pass == 0 ? fb : fa, *other = pass == 0 ? fa : fb;
		for (const json *f = from ? from->child : NULL; f && !rc; f = f->next) {
			const char *path = json_get_str(f, "path");
			if (!path || find_path(other, path))
				continue;
			const json *dg = json_get(f, "digest");
			rc = env_entry(d, CAIRN_DIFF_ENV_FILES,
			               pass == 0 ? CAIRN_DIFF_ADDED : CAIRN_DIFF_REMOVED, path,
			               pass == 0 ? NULL : dg, pass == 0 ? dg : NULL);
		}
	}
	return rc;
}

static bool grouped_member(const char *key)
{
	return strcmp(key, "packages") == 0 || strcmp(key, "files") == 0 ||
	       strcmp(key, "env_vars") == 0;
}

static int diff_env(cairn_run_diff *d, const char *ta, const char *tb)
{
	json_doc *doc[2] = {NULL, NULL};
	const json *e[2] = {NULL, NULL};
	int rc = 0;
	for (int s = 0; s < 2; s++) {
		const char *text = s == 0 ? ta : tb;
		/* a stored document: one that cannot be read counts as not recorded */
		if (text && (doc[s] = json_parse(text, strlen(text), NULL, NULL, 0)) != NULL &&
		    json_root(doc[s])->type == JSON_OBJ)
			e[s] = json_root(doc[s]);
		d->env[s] = e[s] != NULL;
	}
	cairn_error_clear();
	/* every other member (os, kernel, cpu, gpus, python, ...) as a whole */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		const json *from = e[pass], *other = e[1 - pass];
		for (const json *p = from ? from->child : NULL; p && !rc; p = p->next) {
			if (grouped_member(p->key))
				continue;
			const json *q = json_get(other, p->key);
			if ((pass == 1 && q) || same_json(p, q))
				continue;
			cairn_diff_change ch =
			    !q ? (pass == 0 ? CAIRN_DIFF_REMOVED : CAIRN_DIFF_ADDED)
			       : CAIRN_DIFF_CHANGED;
			rc = env_entry(d, CAIRN_DIFF_ENV_DETAILS, ch, p->key, pass == 0 ? p : q,
			               pass == 0 ? q : p);
		}
	}
	if (!rc)
		rc = env_objects(d, CAIRN_DIFF_ENV_PACKAGES, json_get(e[0], "packages"),
		                 json_get(e[1], "packages"));
	if (!rc)
		rc = env_objects(d, CAIRN_DIFF_ENV_VARS, json_get(e[0], "env_vars"),
		                 json_get(e[1], "env_vars"));
	if (!rc)
		rc = env_files(d, json_get(e[0], "files"), json_get(e[1], "files"));
	d->env_same = d->env[0] == d->env[1];
	for (int s = CAIRN_DIFF_ENV_DETAILS; s <= CAIRN_DIFF_ENV_FILES; s++)
		d->env_same &= d->sec[s].n == 0;
	json_doc_free(doc[0]);
	json_doc_free(doc[1]);
	return rc;
}

/* --- params, properties, tags ------------------------------------------------------ */

static bool is_num(const cairn_value *v)
{
	return v->type == CAIRN_TYPE_INT || v->type == CAIRN_TYPE_FLOAT;
}

static double num_of(const cairn_value *v)
{
	return v->type == CAIRN_TYPE_INT ? (double)v->i : v->f;
}

static bool same_value(const cairn_value *a, const cairn_value *b)
{
	if (is_num(a) && is_num(b)) {
		double x = num_of(a), y = num_of(b);
		return x == y || (isnan(x) && isnan(y));
	}
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case CAIRN_TYPE_BOOL: return (a->i != 0) == (b->i != 0);
	case CAIRN_TYPE_STRING: return strcmp(a->s, b->s) == 0;
	default: return true;
	}
}

static int value_entry(cairn_run_diff *d, cairn_diff_section sec, cairn_diff_change ch,
                       const char *key, const cairn_value *a, const cairn_value *b)
{
	cairn_diff_entry *e = vec_push(&d->sec[sec], sizeof *e);
	if (!e)
		return err_set(CAIRN_ENOMEM, "out of memory");
	e->change = ch;
	e->key = key;
	if (a)
		e->a = *a;
	if (b)
		e->b = *b;
	return 0;
}

static int diff_params(cairn_run_diff *d)
{
	const cairn_run_record *ra = d->r[0], *rb = d->r[1];
	size_t na = cairn_run_record_param_count(ra), nb = cairn_run_record_param_count(rb);
	cairn_value x, y;
	int rc = 0;
	for (size_t i = 0; i < na && !rc; i++) {
		const char *k = cairn_run_record_param(&x, ra, i);
		if (cairn_run_record_param_get(&y, rb, k) == 0 && !same_value(&x, &y))
			rc = value_entry(d, CAIRN_DIFF_PARAMS, CAIRN_DIFF_CHANGED, k, &x, &y);
	}
	for (size_t i = 0; i < nb && !rc; i++) {
		const char *k = cairn_run_record_param(&y, rb, i);
		if (cairn_run_record_param_get(&x, ra, k) != 0)
			rc = value_entry(d, CAIRN_DIFF_PARAMS, CAIRN_DIFF_ADDED, k, NULL, &y);
	}
	for (size_t i = 0; i < na && !rc; i++) {
		const char *k = cairn_run_record_param(&x, ra, i);
		if (cairn_run_record_param_get(&y, rb, k) != 0)
			rc = value_entry(d, CAIRN_DIFF_PARAMS, CAIRN_DIFF_REMOVED, k, &x, NULL);
	}
	return rc;
}

static cairn_value str_value(const char *s)
{
	cairn_value v = {.type = CAIRN_TYPE_STRING, .s = s};
	return v;
}

static int diff_properties(cairn_run_diff *d)
{
	const cairn_run_record *ra = d->r[0], *rb = d->r[1];
	size_t na = cairn_run_record_property_count(ra), nb = cairn_run_record_property_count(rb);
	const char *x, *y;
	int rc = 0;
	for (size_t i = 0; i < na && !rc; i++) {
		const char *k = cairn_run_record_property(&x, ra, i);
		if ((y = cairn_run_record_property_get(rb, k)) != NULL && strcmp(x, y) != 0) {
			cairn_value vx = str_value(x), vy = str_value(y);
			rc = value_entry(d, CAIRN_DIFF_PROPERTIES, CAIRN_DIFF_CHANGED, k, &vx, &vy);
		}
	}
	for (size_t i = 0; i < nb && !rc; i++) {
		const char *k = cairn_run_record_property(&y, rb, i);
		cairn_value vy = str_value(y);
		if (!cairn_run_record_property_get(ra, k))
			rc = value_entry(d, CAIRN_DIFF_PROPERTIES, CAIRN_DIFF_ADDED, k, NULL, &vy);
	}
	for (size_t i = 0; i < na && !rc; i++) {
		const char *k = cairn_run_record_property(&x, ra, i);
		cairn_value vx = str_value(x);
		if (!cairn_run_record_property_get(rb, k))
			rc =
			    value_entry(d, CAIRN_DIFF_PROPERTIES, CAIRN_DIFF_REMOVED, k, &vx, NULL);
	}
	return rc;
}

/* Is tag i of `from` in `other` with the same value (both bare, or equal)? */
static bool tag_in(const cairn_run_record *from, size_t i, const cairn_run_record *other)
{
	const char *t = cairn_run_record_tag(from, i), *v = cairn_run_record_tag_value(from, i);
	for (size_t k = 0; k < cairn_run_record_tag_count(other); k++) {
		if (strcmp(cairn_run_record_tag(other, k), t) != 0)
			continue;
		const char *w = cairn_run_record_tag_value(other, k);
		return v == w || (v && w && strcmp(v, w) == 0);
	}
	return false;
}

/* Tags as their text (key, or key=value as `cairn tag` takes them): a tag
 * whose value differs is the old text removed and the new one added. */
static int diff_tags(cairn_run_diff *d)
{
	int rc = 0;
	for (int pass = 0; pass < 2 && !rc; pass++) {
		const cairn_run_record *from = d->r[pass == 0], *other = d->r[pass != 0];
		for (size_t i = 0; i < cairn_run_record_tag_count(from) && !rc; i++) {
			if (tag_in(from, i, other))
				continue;
			const char *t = cairn_run_record_tag(from, i);
			const char *v = cairn_run_record_tag_value(from, i);
			if (v) {
				size_t lt = strlen(t), lv = strlen(v);
				char *text = arena_alloc(&d->mem, lt + lv + 2);
				if (!text)
					return err_set(CAIRN_ENOMEM, "out of memory");
				memcpy(text, t, lt);
				text[lt] = '=';
				memcpy(text + lt + 1, v, lv + 1);
				t = text;
			}
			rc = value_entry(d, CAIRN_DIFF_TAGS,
			                 pass == 0 ? CAIRN_DIFF_ADDED : CAIRN_DIFF_REMOVED, t, NULL,
			                 NULL);
		}
	}
	return rc;
}

/* --- metrics ---------------------------------------------------------------------- */

static bool in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && strcmp(list[i], key) == 0)
			return true;
	return false;
}

static int direction(const char *key, const cairn_diff_options *o)
{
	if (o && in_list(key, o->higher, o->nhigher))
		return 1;
	if (o && in_list(key, o->lower, o->nlower))
		return -1;
	return cairn_metric_direction(key);
}

static int metric_entry(cairn_run_diff *d, cairn_diff_change ch, const char *key, double x,
                        double y, const cairn_diff_options *o)
{
	cairn_diff_metric *m = vec_push(&d->metrics, sizeof *m);
	if (!m)
		return err_set(CAIRN_ENOMEM, "out of memory");
	m->change = ch;
	m->key = key;
	m->a = x;
	m->b = y;
	m->delta = m->relative = NAN;
	if (ch != CAIRN_DIFF_CHANGED)
		return 0;
	if (isfinite(x) && isfinite(y)) {
		m->delta = y - x;
		if (x != 0)
			m->relative = (y - x) / fabs(x);
	}
	m->direction = direction(key, o);
	if (m->direction == 0)
		m->better = 0;
	else if (isnan(x))
		m->better = 'b';
	else if (isnan(y))
		m->better = 'a';
	else
		m->better = (m->direction > 0) == (y > x) ? 'b' : 'a';
	return 0;
}

static int diff_metrics(cairn_run_diff *d, const cairn_diff_options *o)
{
	const cairn_run_record *ra = d->r[0], *rb = d->r[1];
	size_t na = cairn_run_record_metric_count(ra), nb = cairn_run_record_metric_count(rb);
	int rc = 0;
	for (size_t i = 0; i < na && !rc; i++) {
		const cairn_metric_summary *p = cairn_run_record_metric(ra, i);
		const cairn_metric_summary *q = cairn_run_record_metric_get(rb, p->key);
		if (!q || p->last == q->last || (isnan(p->last) && isnan(q->last)))
			continue;
		rc = metric_entry(d, CAIRN_DIFF_CHANGED, p->key, p->last, q->last, o);
	}
	for (size_t i = 0; i < nb && !rc; i++) {
		const cairn_metric_summary *q = cairn_run_record_metric(rb, i);
		if (!cairn_run_record_metric_get(ra, q->key))
			rc = metric_entry(d, CAIRN_DIFF_ADDED, q->key, NAN, q->last, o);
	}
	for (size_t i = 0; i < na && !rc; i++) {
		const cairn_metric_summary *p = cairn_run_record_metric(ra, i);
		if (!cairn_run_record_metric_get(rb, p->key))
			rc = metric_entry(d, CAIRN_DIFF_REMOVED, p->key, p->last, NAN, o);
	}
	return rc;
}

/* --- code ------------------------------------------------------------------------- */

/* A member of the code on each side: a side without code has none, which
 * differs from a member that is null. */
static bool differs(const cairn_run_code *a, const char *x, const cairn_run_code *b, const char *y)
{
	if (!a || !b)
		return a != b;
	if (!x || !y)
		return x != y;
	return strcmp(x, y) != 0;
}

static int diff_code(cairn_run_diff *d, cairn_store *s)
{
	const cairn_run_code *a = cairn_run_record_code(d->r[0]),
	                     *b = cairn_run_record_code(d->r[1]);
	cairn_diff_code *c = &d->code;
	c->commit_changed = differs(a, a ? a->commit : NULL, b, b ? b->commit : NULL);
	c->branch_changed = differs(a, a ? a->branch : NULL, b, b ? b->branch : NULL);
	c->remote_changed = differs(a, a ? a->remote : NULL, b, b ? b->remote : NULL);
	c->dirty_changed = (!a || !b) ? a != b : a->dirty != b->dirty;
	/* two dirty snapshots of the same commit may still differ */
	c->snapshot_changed = differs(a, a ? a->snapshot : NULL, b, b ? b->snapshot : NULL);
	c->same = !(c->commit_changed || c->branch_changed || c->remote_changed ||
	            c->dirty_changed || c->snapshot_changed);
	/* the unified diff of the two source snapshots (capture module); none
	 * when either run has no snapshot or the diff cannot be made */
	char *ud = NULL;
	if (!c->same && a && b &&
	    cairn_code_diff(&ud, s, cairn_run_record_id(d->r[0]), cairn_run_record_id(d->r[1])) ==
	        0) {
		/* Two snapshots whose trees hold the same files are the same
		 * code: a run made in a checkout of another run has another
		 * record (its root, staged flags) for the same tree. */
		if (!*ud && c->snapshot_changed) {
			c->snapshot_changed = 0;
			c->same = !(c->commit_changed || c->branch_changed || c->remote_changed ||
			            c->dirty_changed);
		}
		c->diff = *ud ? dup(d, ud, strlen(ud)) : NULL;
		bool oom = *ud && !c->diff;
		cairn_free(ud);
		if (oom)
			return err_set(CAIRN_ENOMEM, "out of memory");
	}
	cairn_error_clear();
	return 0;
}

/* --- data ------------------------------------------------------------------------- */

/* The files added, removed and changed between two datasets' manifests;
 * has_files stays 0 when a manifest is missing or unreadable.  Stored
 * versions only: a file named like a manifest id in the working directory
 * must not be hashed instead. */
static int file_changes(cairn_run_diff *d, cairn_store *s, cairn_diff_dataset *ds, size_t *first)
{
	const char *ma = ds->a->manifest, *mb = ds->b->manifest;
	cairn_data_diff *dd = NULL;
	const cairn_data_pair *p = NULL;
	int rc = 0;
	*first = d->files.n;
	if (ma && mb && cairn_data_diff_stored(&dd, s, ma, mb) == 0)
		p = cairn_data_diff_get(dd, 0);
	if (p) {
		const char *const *lists[] = {p->added, p->removed, p->changed};
		const size_t ns[] = {p->nadded, p->nremoved, p->nchanged};
		static const cairn_diff_change ch[] = {CAIRN_DIFF_ADDED, CAIRN_DIFF_REMOVED,
		                                       CAIRN_DIFF_CHANGED};
		ds->has_files = 1;
		for (int k = 0; k < 3 && !rc; k++) {
			for (size_t i = 0; i < ns[k] && !rc; i++) {
				cairn_diff_file *f = vec_push(&d->files, sizeof *f);
				if (!f || !(f->path = dup(d, lists[k][i], strlen(lists[k][i]))))
					rc = err_set(CAIRN_ENOMEM, "out of memory");
				else
					f->change = ch[k];
			}
		}
	}
	ds->nfiles = d->files.n - *first;
	cairn_data_diff_free(dd);
	if (!rc)
		cairn_error_clear();
	return rc;
}

static bool same_str(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static int diff_data(cairn_run_diff *d, cairn_store *s)
{
	int rc = 0;
	size_t *starts = NULL, nstarts = 0;
	d->data_same = true;
	for (int pass = 0; pass < 2 && !rc; pass++) {
		const cairn_run_record *from = d->r[pass];
		for (size_t i = 0; i < cairn_run_record_dataset_count(from) && !rc; i++) {
			const cairn_run_dataset *ds = cairn_run_record_dataset(from, i);
			const cairn_run_dataset *x =
			                            cairn_run_record_dataset_get(d->r[0], ds->name),
			                        *y =
			                            cairn_run_record_dataset_get(d->r[1], ds->name);
			if (pass == 1 && x)
				continue; /* listed in the first pass */
			cairn_diff_dataset *e = vec_push(&d->datasets, sizeof *e);
			size_t *st = realloc(starts, (nstarts + 1) * sizeof *starts);
			if (!e || !st) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			starts = st;
			starts[nstarts] = d->files.n;
			e->name = ds->name;
			e->a = x;
			e->b = y;
			if (!x)
				e->change = CAIRN_DIFF_ADDED;
			else if (!y)
				e->change = CAIRN_DIFF_REMOVED;
			else if (same_str(x->digest, y->digest))
				e->change = CAIRN_DIFF_SAME;
			else
				e->change = CAIRN_DIFF_CHANGED;
			if (e->change != CAIRN_DIFF_SAME)
				d->data_same = false;
			if (e->change == CAIRN_DIFF_CHANGED)
				rc = file_changes(d, s, e, &starts[nstarts]);
			nstarts++;
		}
	}
	/* the files array has stopped moving: point each dataset at its files */
	cairn_diff_dataset *v = d->datasets.v;
	for (size_t i = 0; i < nstarts && !rc; i++)
		v[i].files = v[i].nfiles ? (cairn_diff_file *)d->files.v + starts[i] : NULL;
	free(starts);
	return rc;
}

/* --- the diff --------------------------------------------------------------------- */

int cairn_run_diff_new(cairn_run_diff **out, cairn_store *s, const char *a, const char *b,
                       const cairn_diff_options *o)
{
	int rc;
	if (!out)
		return err_set(CAIRN_EINVALID, "no diff to fill");
	*out = NULL;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (!a || !b)
		return err_set(CAIRN_EINVALID, "name two runs");
	if (o && o->version != CAIRN_DIFF_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_diff_options version %u is not supported",
		               o->version);
	cairn_run_diff *d = calloc(1, sizeof *d);
	if (!d)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if ((rc = cairn_run_record_get(&d->r[0], s, a, 0)) != 0 ||
	    (rc = cairn_run_record_get(&d->r[1], s, b, 0)) != 0 || (rc = diff_params(d)) != 0 ||
	    (rc = diff_metrics(d, o)) != 0 || (rc = diff_code(d, s)) != 0 ||
	    (rc = diff_data(d, s)) != 0 ||
	    (rc = diff_env(d, cairn_run_record_environment(d->r[0]),
	                   cairn_run_record_environment(d->r[1]))) != 0 ||
	    (rc = diff_tags(d)) != 0 || (rc = diff_properties(d)) != 0)
		goto fail;
	if (d->mem.oom) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto fail;
	}
	d->command_same =
	    same_str(cairn_run_record_command(d->r[0]), cairn_run_record_command(d->r[1]));
	d->identical = d->command_same && d->code.same && d->data_same && d->env_same &&
	               d->metrics.n == 0 && d->sec[CAIRN_DIFF_PARAMS].n == 0 &&
	               d->sec[CAIRN_DIFF_TAGS].n == 0 && d->sec[CAIRN_DIFF_PROPERTIES].n == 0;
	*out = d;
	return 0;
fail:
	cairn_run_diff_free(d);
	return rc;
}

int cairn_env_diff_new(cairn_run_diff **out, const char *a, const char *b)
{
	if (!out)
		return err_set(CAIRN_EINVALID, "no diff to fill");
	*out = NULL;
	cairn_run_diff *d = calloc(1, sizeof *d);
	if (!d)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = diff_env(d, a, b);
	if (!rc && d->mem.oom)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc) {
		cairn_run_diff_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void cairn_run_diff_free(cairn_run_diff *d)
{
	if (!d)
		return;
	for (int i = 0; i < DIFF_NSECTIONS; i++)
		free(d->sec[i].v);
	free(d->metrics.v);
	free(d->datasets.v);
	free(d->files.v);
	arena_free(&d->mem);
	cairn_run_record_free(d->r[0]);
	cairn_run_record_free(d->r[1]);
	free(d);
}

const cairn_run_record *cairn_run_diff_run(const cairn_run_diff *d, int side)
{
	return d && (side == 0 || side == 1) ? d->r[side] : NULL;
}

int cairn_run_diff_identical(const cairn_run_diff *d)
{
	return d && d->identical;
}

size_t cairn_run_diff_count(const cairn_run_diff *d, cairn_diff_section s)
{
	return d && (unsigned)s < DIFF_NSECTIONS ? d->sec[s].n : 0;
}

const cairn_diff_entry *cairn_run_diff_entry(const cairn_run_diff *d, cairn_diff_section s,
                                             size_t i)
{
	if (!d || (unsigned)s >= DIFF_NSECTIONS || i >= d->sec[s].n)
		return NULL;
	return (const cairn_diff_entry *)d->sec[s].v + i;
}

size_t cairn_run_diff_metric_count(const cairn_run_diff *d)
{
	return d ? d->metrics.n : 0;
}

const cairn_diff_metric *cairn_run_diff_metric(const cairn_run_diff *d, size_t i)
{
	return d && i < d->metrics.n ? (const cairn_diff_metric *)d->metrics.v + i : NULL;
}

const cairn_diff_code *cairn_run_diff_code(const cairn_run_diff *d)
{
	return d ? &d->code : NULL;
}

size_t cairn_run_diff_dataset_count(const cairn_run_diff *d)
{
	return d ? d->datasets.n : 0;
}

const cairn_diff_dataset *cairn_run_diff_dataset(const cairn_run_diff *d, size_t i)
{
	return d && i < d->datasets.n ? (const cairn_diff_dataset *)d->datasets.v + i : NULL;
}

int cairn_run_diff_env_recorded(const cairn_run_diff *d, int side)
{
	return d && (side == 0 || side == 1) && d->env[side];
}

int cairn_run_diff_env_same(const cairn_run_diff *d)
{
	return !d || d->env_same;
}

int cairn_run_diff_command_same(const cairn_run_diff *d)
{
	return !d || d->command_same;
}
