/*
 * lib/diff.c — cairn_run_diff_json: what differs between two runs, across
 * every dimension a run records, as one JSON object (shape in
 * docs/cli/diff.md).
 *
 * Works on the two runs' JSON (cairn_run_get_json), so it sees exactly what
 * `cairn show` shows and needs no SQL of its own.  Sections come in the
 * order a reader wants them: params, metrics, code, data, environment,
 * command, tags, properties.  The unified source diff comes from
 * cairn_code_diff (capture); the files added, removed and changed in a
 * changed dataset come from its two manifests (cairn_data_diff_stored_json,
 * data), so a run diff reads nothing but the store.
 * Stateless.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"
#include "util/json.h"

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

static void comma(buf *b, bool *first)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
}

/* {"changed":[{key,a,b}],"added":[{key,value}],"removed":[{key,value}]} for
 * two objects; returns whether anything differs. */
/* The members of `from` that `other` lacks, as {keyname: key, value}. */
static bool only_in(buf *b, const json *from, const json *other, const char *keyname)
{
	bool any = false, first = true;
	for (const json *p = from ? from->child : NULL; p; p = p->next) {
		if (json_get(other, p->key))
			continue;
		comma(b, &first);
		buf_printf(b, "{\"%s\":", keyname);
		json_str(b, p->key);
		buf_puts(b, ",\"value\":");
		put_json(b, p);
		buf_putc(b, '}');
		any = true;
	}
	return any;
}

static bool diff_objects(buf *b, const json *a, const json *bb, const char *keyname)
{
	bool any = false, first;
	buf_puts(b, "{\"changed\":[");
	first = true;
	for (const json *p = a ? a->child : NULL; p; p = p->next) {
		const json *q = json_get(bb, p->key);
		if (!q || same_json(p, q))
			continue;
		comma(b, &first);
		buf_printf(b, "{\"%s\":", keyname);
		json_str(b, p->key);
		buf_puts(b, ",\"a\":");
		put_json(b, p);
		buf_puts(b, ",\"b\":");
		put_json(b, q);
		buf_putc(b, '}');
		any = true;
	}
	buf_puts(b, "],\"added\":[");
	any |= only_in(b, bb, a, keyname);
	buf_puts(b, "],\"removed\":[");
	any |= only_in(b, a, bb, keyname);
	buf_puts(b, "]}");
	return any;
}

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

static bool diff_metrics(buf *b, const json *ma, const json *mb, const cairn_diff_options *o)
{
	bool any = false, first = true;
	buf_puts(b, "{\"changed\":[");
	for (const json *p = ma ? ma->child : NULL; p; p = p->next) {
		const json *q = json_get(mb, p->key);
		if (!q)
			continue;
		double x = NAN, y = NAN;
		json_num_value(json_get(p, "last"), &x);
		json_num_value(json_get(q, "last"), &y);
		if (x == y || (isnan(x) && isnan(y)))
			continue;
		any = true;
		comma(b, &first);
		buf_puts(b, "{\"key\":");
		json_str(b, p->key);
		buf_puts(b, ",\"a\":");
		json_num(b, x);
		buf_puts(b, ",\"b\":");
		json_num(b, y);
		buf_puts(b, ",\"change\":");
		if (isfinite(x) && isfinite(y))
			json_num(b, y - x);
		else
			buf_puts(b, "null");
		buf_puts(b, ",\"relative\":");
		if (isfinite(x) && isfinite(y) && x != 0)
			json_num(b, (y - x) / fabs(x));
		else
			buf_puts(b, "null");
		int dir = direction(p->key, o);
		buf_puts(b, ",\"direction\":");
		buf_puts(b, dir > 0 ? "\"higher\"" : dir < 0 ? "\"lower\"" : "null");
		buf_puts(b, ",\"better\":");
		if (dir == 0 || (isnan(x) && isnan(y)))
			buf_puts(b, "null");
		else if (isnan(x))
			buf_puts(b, "\"b\"");
		else if (isnan(y))
			buf_puts(b, "\"a\"");
		else
			buf_puts(b, (dir > 0) == (y > x) ? "\"b\"" : "\"a\"");
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"added\":[");
	first = true;
	for (const json *q = mb ? mb->child : NULL; q; q = q->next) {
		if (json_get(ma, q->key))
			continue;
		any = true;
		comma(b, &first);
		buf_puts(b, "{\"key\":");
		json_str(b, q->key);
		buf_puts(b, ",\"value\":");
		put_json(b, json_get(q, "last"));
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"removed\":[");
	first = true;
	for (const json *p = ma ? ma->child : NULL; p; p = p->next) {
		if (json_get(mb, p->key))
			continue;
		any = true;
		comma(b, &first);
		buf_puts(b, "{\"key\":");
		json_str(b, p->key);
		buf_puts(b, ",\"value\":");
		put_json(b, json_get(p, "last"));
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	return any;
}

static void put_code(buf *b, const json *c)
{
	if (!c || c->type != JSON_OBJ) {
		buf_puts(b, "null");
		return;
	}
	bool first = true;
	buf_putc(b, '{');
	static const char *const keys[] = {"commit", "branch", "remote", "dirty"};
	for (int k = 0; k < 4; k++) {
		json_key(b, &first, keys[k]);
		put_json(b, json_get(c, keys[k]));
	}
	buf_putc(b, '}');
}

static bool diff_code(buf *b, const json *ca, const json *cb, cairn_store *s, const char *ida,
                      const char *idb)
{
	bool oa = ca && ca->type == JSON_OBJ, ob = cb && cb->type == JSON_OBJ;
	bool commit =
	    !same_json(oa ? json_get(ca, "commit") : NULL, ob ? json_get(cb, "commit") : NULL);
	bool branch =
	    !same_json(oa ? json_get(ca, "branch") : NULL, ob ? json_get(cb, "branch") : NULL);
	bool dirty =
	    !same_json(oa ? json_get(ca, "dirty") : NULL, ob ? json_get(cb, "dirty") : NULL);
	bool remote =
	    !same_json(oa ? json_get(ca, "remote") : NULL, ob ? json_get(cb, "remote") : NULL);
	/* two dirty snapshots of the same commit may still differ */
	bool snap =
	    !same_json(oa ? json_get(ca, "snapshot") : NULL, ob ? json_get(cb, "snapshot") : NULL);
	bool any = commit || branch || dirty || remote || snap;
	buf_puts(b, "{\"same\":");
	json_bool(b, !any);
	buf_puts(b, ",\"a\":");
	put_code(b, ca);
	buf_puts(b, ",\"b\":");
	put_code(b, cb);
	buf_puts(b, ",\"commit_changed\":");
	json_bool(b, commit);
	buf_puts(b, ",\"branch_changed\":");
	json_bool(b, branch);
	buf_puts(b, ",\"dirty_changed\":");
	json_bool(b, dirty);
	buf_puts(b, ",\"snapshot_changed\":");
	json_bool(b, snap);
	/* the unified diff of the two source snapshots (capture module); null
	 * when either run has no snapshot or the diff cannot be made */
	char *ud = NULL;
	buf_puts(b, ",\"diff\":");
	if (any && oa && ob && cairn_code_diff(&ud, s, ida, idb) == 0)
		json_str(b, ud);
	else
		buf_puts(b, "null");
	cairn_free(ud);
	cairn_error_clear();
	buf_putc(b, '}');
	return any;
}

static const json *find_named(const json *arr, const char *field, const char *name)
{
	for (const json *d = arr ? arr->child : NULL; d; d = d->next) {
		const char *n = json_get_str(d, field);
		if (n && strcmp(n, name) == 0)
			return d;
	}
	return NULL;
}

static void put_dataset(buf *b, const json *d)
{
	if (!d) {
		buf_puts(b, "null");
		return;
	}
	bool first = true;
	buf_putc(b, '{');
	static const char *const keys[] = {"path", "role", "algo", "digest", "files", "bytes"};
	for (int k = 0; k < 6; k++) {
		json_key(b, &first, keys[k]);
		put_json(b, json_get(d, keys[k]));
	}
	buf_putc(b, '}');
}

/* The files added, removed and changed between two datasets' manifests, as
 * {"added": [...], "removed": [...], "changed": [...]}, or null when a
 * manifest is missing or unreadable. */
static void put_file_changes(buf *b, cairn_store *s, const json *x, const json *y)
{
	const char *ma = json_get_str(x, "manifest"), *mb = json_get_str(y, "manifest");
	char *out = NULL;
	json_doc *doc = NULL;
	const json *d = NULL;
	/* Stored versions only: a file named like a manifest id in the working
	 * directory must not be hashed instead. */
	if (ma && mb && cairn_data_diff_stored_json(&out, s, ma, mb) == 0 &&
	    (doc = json_parse(out, strlen(out), NULL, NULL, 0)) != NULL) {
		const json *list = json_get(json_root(doc), "datasets");
		d = list ? list->child : NULL;
	}
	if (!d) {
		buf_puts(b, "null");
	} else {
		bool first = true;
		buf_putc(b, '{');
		static const char *const keys[] = {"added", "removed", "changed"};
		for (int k = 0; k < 3; k++) {
			json_key(b, &first, keys[k]);
			put_json(b, json_get(d, keys[k]));
		}
		buf_putc(b, '}');
	}
	json_doc_free(doc);
	cairn_free(out);
	cairn_error_clear();
}

static bool diff_data(buf *b, const json *da, const json *db, cairn_store *s)
{
	bool any = false, first = true;
	buf_puts(b, "{\"datasets\":[");
	for (int pass = 0; pass < 2; pass++) {
		const json *list = pass == 0 ? da : db;
		for (const json *d = list ? list->child : NULL; d; d = d->next) {
			const char *name = json_get_str(d, "name");
			if (!name)
				continue;
			const json *x = find_named(da, "name", name),
			           *y = find_named(db, "name", name);
			if (pass == 1 && x)
				continue; /* listed in the first pass */
			const char *status;
			if (!x)
				status = "added";
			else if (!y)
				status = "removed";
			else if (same_json(json_get(x, "digest"), json_get(y, "digest")))
				status = "same";
			else
				status = "changed";
			if (strcmp(status, "same") != 0)
				any = true;
			comma(b, &first);
			buf_puts(b, "{\"name\":");
			json_str(b, name);
			buf_puts(b, ",\"status\":");
			json_str(b, status);
			buf_puts(b, ",\"same\":");
			json_bool(b, strcmp(status, "same") == 0);
			buf_puts(b, ",\"a\":");
			put_dataset(b, x);
			buf_puts(b, ",\"b\":");
			put_dataset(b, y);
			buf_puts(b, ",\"files\":");
			if (strcmp(status, "changed") == 0)
				put_file_changes(b, s, x, y);
			else
				buf_puts(b, "null");
			buf_putc(b, '}');
		}
	}
	buf_puts(b, "],\"same\":");
	json_bool(b, !any);
	buf_putc(b, '}');
	return any;
}

/* Environment files compared by path and digest. */
static bool diff_env_files(buf *b, const json *fa, const json *fb)
{
	bool any = false, first = true;
	buf_puts(b, "{\"changed\":[");
	for (const json *f = fa ? fa->child : NULL; f; f = f->next) {
		const char *path = json_get_str(f, "path");
		const json *g = path ? find_named(fb, "path", path) : NULL;
		if (!g || same_json(json_get(f, "digest"), json_get(g, "digest")))
			continue;
		any = true;
		comma(b, &first);
		buf_puts(b, "{\"path\":");
		json_str(b, path);
		buf_puts(b, ",\"a\":");
		put_json(b, json_get(f, "digest"));
		buf_puts(b, ",\"b\":");
		put_json(b, json_get(g, "digest"));
		buf_putc(b, '}');
	}
	for (int pass = 0; pass < 2; pass++) {
		buf_puts(b, pass == 0 ? "],\"added\":[" : "],\"removed\":[");
		first = true;
		const json *from = pass == 0 ? fb : fa, *other = pass == 0 ? fa : fb;
		for (const json *f = from ? from->child : NULL; f; f = f->next) {
			const char *path = json_get_str(f, "path");
			if (!path || find_named(other, "path", path))
				continue;
			any = true;
			comma(b, &first);
			buf_puts(b, "{\"path\":");
			json_str(b, path);
			buf_puts(b, ",\"digest\":");
			put_json(b, json_get(f, "digest"));
			buf_putc(b, '}');
		}
	}
	buf_puts(b, "]}");
	return any;
}

static bool diff_env(buf *b, const json *ea, const json *eb)
{
	bool oa = ea && ea->type == JSON_OBJ, ob = eb && eb->type == JSON_OBJ;
	bool any = false, first = true;
	buf_puts(b, "{\"recorded\":{\"a\":");
	json_bool(b, oa);
	buf_puts(b, ",\"b\":");
	json_bool(b, ob);
	buf_puts(b, "},\"changed\":[");
	/* every other member (os, kernel, cpu, gpus, python, ...) as a whole */
	for (int pass = 0; pass < 2; pass++) {
		const json *from = pass == 0 ? ea : eb, *other = pass == 0 ? eb : ea;
		if (!from || from->type != JSON_OBJ)
			continue;
		for (const json *p = from->child; p; p = p->next) {
			if (strcmp(p->key, "packages") == 0 || strcmp(p->key, "files") == 0 ||
			    strcmp(p->key, "env_vars") == 0)
				continue;
			const json *q =
			    other && other->type == JSON_OBJ ? json_get(other, p->key) : NULL;
			if (pass == 1 && q)
				continue;
			if (same_json(p, q))
				continue;
			any = true;
			comma(b, &first);
			buf_puts(b, "{\"key\":");
			json_str(b, p->key);
			buf_puts(b, ",\"a\":");
			put_json(b, pass == 0 ? p : q);
			buf_puts(b, ",\"b\":");
			put_json(b, pass == 0 ? q : p);
			buf_putc(b, '}');
		}
	}
	buf_puts(b, "],\"packages\":");
	any |= diff_objects(b, oa ? json_get(ea, "packages") : NULL,
	                    ob ? json_get(eb, "packages") : NULL, "name");
	buf_puts(b, ",\"env_vars\":");
	any |= diff_objects(b, oa ? json_get(ea, "env_vars") : NULL,
	                    ob ? json_get(eb, "env_vars") : NULL, "name");
	buf_puts(b, ",\"files\":");
	any |=
	    diff_env_files(b, oa ? json_get(ea, "files") : NULL, ob ? json_get(eb, "files") : NULL);
	any |= oa != ob;
	buf_puts(b, ",\"same\":");
	json_bool(b, !any);
	buf_putc(b, '}');
	return any;
}

static bool diff_tags(buf *b, const json *ta, const json *tb)
{
	bool any = false, first;
	for (int pass = 0; pass < 2; pass++) {
		buf_puts(b, pass == 0 ? "{\"added\":[" : "],\"removed\":[");
		first = true;
		const json *from = pass == 0 ? tb : ta, *other = pass == 0 ? ta : tb;
		for (const json *t = from ? from->child : NULL; t; t = t->next) {
			bool found = false;
			for (const json *u = other ? other->child : NULL; u && !found; u = u->next)
				found = u->type == JSON_STR && t->type == JSON_STR &&
				        strcmp(u->str, t->str) == 0;
			if (found)
				continue;
			any = true;
			comma(b, &first);
			put_json(b, t);
		}
	}
	buf_puts(b, "]}");
	return any;
}

static void put_run_ref(buf *b, const json *r)
{
	buf_puts(b, "{\"id\":");
	json_str(b, json_get_str(r, "id"));
	buf_puts(b, ",\"name\":");
	json_str(b, json_get_str(r, "name"));
	buf_puts(b, ",\"project\":");
	json_str(b, json_get_str(r, "project"));
	buf_putc(b, '}');
}

int cairn_run_diff_json_opts(char **out, cairn_store *s, const char *a, const char *bid,
                             const cairn_diff_options *o)
{
	char *ja = NULL, *jb = NULL;
	json_doc *da = NULL, *db = NULL;
	buf b = BUF_INIT;
	char err[128];
	int rc;
	*out = NULL;
	if (o && o->version != CAIRN_DIFF_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_diff_options version %u is not supported",
		               o->version);
	if ((rc = cairn_run_get_json(&ja, s, a)) != 0 ||
	    (rc = cairn_run_get_json(&jb, s, bid)) != 0)
		goto done;
	da = json_parse(ja, strlen(ja), NULL, err, sizeof err);
	db = json_parse(jb, strlen(jb), NULL, err, sizeof err);
	if (!da || !db) {
		rc = err_set(CAIRN_ERROR, "internal: bad run JSON: %s", err);
		goto done;
	}
	const json *ra = json_root(da), *rb = json_root(db);
	bool any = false;
	buf_puts(&b, "{\"a\":");
	put_run_ref(&b, ra);
	buf_puts(&b, ",\"b\":");
	put_run_ref(&b, rb);
	buf_puts(&b, ",\"params\":");
	any |= diff_objects(&b, json_get(ra, "params"), json_get(rb, "params"), "key");
	buf_puts(&b, ",\"metrics\":");
	any |= diff_metrics(&b, json_get(ra, "metrics"), json_get(rb, "metrics"), o);
	buf_puts(&b, ",\"code\":");
	any |= diff_code(&b, json_get(ra, "code"), json_get(rb, "code"), s, json_get_str(ra, "id"),
	                 json_get_str(rb, "id"));
	buf_puts(&b, ",\"data\":");
	any |= diff_data(&b, json_get(ra, "datasets"), json_get(rb, "datasets"), s);
	buf_puts(&b, ",\"environment\":");
	any |= diff_env(&b, json_get(ra, "environment"), json_get(rb, "environment"));
	const json *ca = json_get(ra, "command"), *cb = json_get(rb, "command");
	bool cmd = !same_json(ca, cb);
	any |= cmd;
	buf_puts(&b, ",\"command\":{\"same\":");
	json_bool(&b, !cmd);
	buf_puts(&b, ",\"a\":");
	put_json(&b, ca);
	buf_puts(&b, ",\"b\":");
	put_json(&b, cb);
	buf_puts(&b, "},\"tags\":");
	any |= diff_tags(&b, json_get(ra, "tags"), json_get(rb, "tags"));
	buf_puts(&b, ",\"properties\":");
	any |= diff_objects(&b, json_get(ra, "properties"), json_get(rb, "properties"), "key");
	buf_puts(&b, ",\"identical\":");
	json_bool(&b, !any);
	buf_putc(&b, '}');
	if (!buf_ok(&b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	json_doc_free(da);
	json_doc_free(db);
	cairn_free(ja);
	cairn_free(jb);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_run_diff_json(char **out, cairn_store *s, const char *a, const char *b)
{
	return cairn_run_diff_json_opts(out, s, a, b, NULL);
}
