/*
 * server/body.c — see body.h.  Every decoder walks the parsed document once,
 * checks types and bounds, and stops at the first problem with a message
 * naming the member ("params.lr: expected a number, string or boolean").
 * Nothing here allocates per byte of input beyond the json_doc itself and
 * arrays bounded by the BODY_MAX_* caps, which are checked before the items
 * are; every decoder is linear in the size of its input.
 */
#include "server/body.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_doc *body_parse(const char *data, size_t len, size_t max_bytes, char *err, size_t errsz)
{
	json_limits lim = {BODY_MAX_DEPTH, max_bytes};
	char perr[160];
	if (len == 0) {
		snprintf(err, errsz, "empty request body (expected a JSON object)");
		return NULL;
	}
	json_doc *d = json_parse(data, len, &lim, perr, sizeof perr);
	if (!d) {
		snprintf(err, errsz, "invalid JSON body: %s", perr);
		return NULL;
	}
	if (json_root(d)->type != JSON_OBJ) {
		snprintf(err, errsz, "the request body must be a JSON object");
		json_doc_free(d);
		return NULL;
	}
	return d;
}

static int bad(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return BODY_EINVALID;
}

/* A metric value: a JSON number, or a string read by the one public
 * metric-value parser (cairn_metric_value_parse: "NaN", "Infinity",
 * "-Infinity" and the other spellings the CLI and output capture accept). */
static bool metric_value(const json *v, double *out)
{
	if (v && v->type == JSON_NUM) {
		*out = v->num;
		return true;
	}
	if (!v || v->type != JSON_STR || strlen(v->str) != v->len)
		return false;
	if (cairn_metric_value_parse(v->str, out) == 0)
		return true;
	cairn_error_clear(); /* the caller reports the field in its own words */
	return false;
}

static int too_many(char *err, size_t errsz, const char *what, size_t n, int cap)
{
	if (n == SIZE_MAX)
		snprintf(err, errsz, "too many %s in one request (at most %d)", what, cap);
	else
		snprintf(err, errsz, "too many %s in one request (%zu, at most %d)", what, n, cap);
	return BODY_ETOOMANY;
}

/* A key as the library accepts it, with the library's reason otherwise. */
static int check_key(const char *key, size_t len, const char *what, char *err, size_t errsz)
{
	if (strlen(key) != len)
		return bad(err, errsz, "%s contains a NUL byte", what);
	if (cairn_key_validate(key, what) != 0)
		return bad(err, errsz, "%s", cairn_error_last());
	return 0;
}

int body_metrics(const json *root, metric_in **out, size_t *n, char *err, size_t errsz)
{
	*out = NULL;
	*n = 0;
	const json *arr = json_get(root, "metrics");
	if (!arr || arr->type != JSON_ARR)
		return bad(err, errsz,
		           "expected \"metrics\": [{\"key\", \"value\", \"step\"}, ...]");
	if (arr->len > BODY_MAX_METRICS)
		return too_many(err, errsz, "metrics", arr->len, BODY_MAX_METRICS);
	metric_in *m = calloc(arr->len ? arr->len : 1, sizeof *m);
	if (!m)
		return bad(err, errsz, "out of memory");
	size_t i = 0;
	for (const json *e = arr->child; e; e = e->next, i++) {
		if (e->type != JSON_OBJ) {
			free(m);
			return bad(err, errsz, "metrics[%zu]: expected an object", i);
		}
		const json *k = json_get(e, "key"), *v = json_get(e, "value");
		const json *s = json_get(e, "step"), *t = json_get(e, "timestamp");
		if (!k || k->type != JSON_STR) {
			free(m);
			return bad(err, errsz, "metrics[%zu].key: expected a string", i);
		}
		if (check_key(k->str, k->len, "metric key", err, errsz) != 0) {
			char tmp[256];
			snprintf(tmp, sizeof tmp, "%s", err);
			free(m);
			return bad(err, errsz, "metrics[%zu].key: %s", i, tmp);
		}
		m[i].key = k->str;
		if (!metric_value(v, &m[i].value)) {
			free(m);
			return bad(
			    err, errsz,
			    "metrics[%zu].value: expected a number (or \"NaN\", \"Infinity\", "
			    "\"-Infinity\")",
			    i);
		}
		m[i].step = CAIRN_STEP_AUTO;
		if (s && s->type != JSON_NULL) {
			if (s->type != JSON_NUM || !s->is_int || s->i < 0) {
				free(m);
				return bad(err, errsz,
				           "metrics[%zu].step: expected an integer from 0 to "
				           "9223372036854775807",
				           i);
			}
			m[i].step = s->i;
		}
		if (t && t->type != JSON_NULL) {
			if (t->type != JSON_NUM ||
			    !(t->num >= 0 && t->num <= CAIRN_TIMESTAMP_MAX)) {
				free(m);
				return bad(
				    err, errsz,
				    "metrics[%zu].timestamp: expected seconds since the epoch, "
				    "at most %.0f (the end of year 9999)",
				    i, CAIRN_TIMESTAMP_MAX);
			}
			m[i].timestamp = t->num;
		}
	}
	*out = m;
	*n = arr->len;
	return 0;
}

void body_free_params(param_in *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		free(p[i].key);
	free(p);
}

typedef struct pvec {
	param_in *v;
	size_t n, cap;
} pvec;

static int flatten(pvec *pv, const char *prefix, const json *obj, int depth, char *err,
                   size_t errsz)
{
	for (const json *e = obj->child; e; e = e->next) {
		size_t plen = prefix ? strlen(prefix) : 0;
		size_t klen = strlen(e->key);
		if (plen + klen + 2 > 1024)
			return bad(err, errsz, "param key '%.60s…' too long",
			           prefix ? prefix : e->key);
		char key[1024];
		if (prefix)
			snprintf(key, sizeof key, "%s.%s", prefix, e->key);
		else
			snprintf(key, sizeof key, "%s", e->key);
		const json *fv = e->type == JSON_OBJ && e->len == 1 ? json_get(e, "$float") : NULL;
		if (e->type == JSON_OBJ && !fv) {
			if (depth >= BODY_MAX_DEPTH)
				return bad(err, errsz, "params.%s: nested too deep", key);
			int rc = flatten(pv, key, e, depth + 1, err, errsz);
			if (rc != 0)
				return rc;
			continue;
		}
		if (check_key(key, strlen(key), "param key", err, errsz) != 0)
			return -1;
		cairn_value v = {0};
		switch (e->type) {
		case JSON_NUM:
			if (e->is_int) {
				v.type = CAIRN_TYPE_INT;
				v.i = e->i;
			} else {
				v.type = CAIRN_TYPE_FLOAT;
				v.f = e->num;
			}
			break;
		case JSON_BOOL:
			v.type = CAIRN_TYPE_BOOL;
			v.i = e->b;
			break;
		case JSON_STR:
			if (strlen(e->str) != e->len)
				return bad(err, errsz, "params.%s: the value contains a NUL byte",
				           key);
			/* a string stays a string, "NaN" included: a non-finite float
			 * param is {"$float": "NaN"} (docs/internals/json.md) */
			v.type = CAIRN_TYPE_STRING;
			v.s = e->str;
			break;
		case JSON_OBJ: /* {"$float": "NaN"}: a non-finite float (above) */
			if (fv->type != JSON_STR || !metric_value(fv, &v.f))
				return bad(err, errsz,
				           "params.%s: an object value must be {\"$float\": "
				           "\"NaN\" | \"Infinity\" | \"-Infinity\"}",
				           key);
			v.type = CAIRN_TYPE_FLOAT;
			break;
		default:
			return bad(err, errsz, "params.%s: expected a number, string or boolean",
			           key);
		}
		if (pv->n >= BODY_MAX_PARAMS)
			return too_many(err, errsz, "params", SIZE_MAX, BODY_MAX_PARAMS);
		if (pv->n == pv->cap) {
			size_t nc = pv->cap ? pv->cap * 2 : 16;
			param_in *nv = realloc(pv->v, nc * sizeof *nv);
			if (!nv)
				return bad(err, errsz, "out of memory");
			pv->v = nv;
			pv->cap = nc;
		}
		pv->v[pv->n].key = strdup(key);
		if (!pv->v[pv->n].key)
			return bad(err, errsz, "out of memory");
		pv->v[pv->n].value = v;
		pv->n++;
	}
	return 0;
}

int body_params(const json *root, const char *member, param_in **out, size_t *n, char *err,
                size_t errsz)
{
	*out = NULL;
	*n = 0;
	const json *obj = json_get(root, member);
	if (!obj)
		return bad(err, errsz, "expected \"%s\": {\"key\": value, ...}", member);
	if (obj->type != JSON_OBJ)
		return bad(err, errsz, "%s: expected an object", member);
	/* A flat object over the cap is refused before any of it is decoded;
	 * nested ones are counted as they are flattened. */
	if (obj->len > BODY_MAX_PARAMS)
		return too_many(err, errsz, "params", obj->len, BODY_MAX_PARAMS);
	pvec pv = {0};
	int rc = flatten(&pv, NULL, obj, 0, err, errsz);
	if (rc != 0) {
		body_free_params(pv.v, pv.n);
		return rc;
	}
	*out = pv.v;
	*n = pv.n;
	return 0;
}

typedef struct keyref {
	const char *key;
	size_t i;
} keyref;

static int by_key(const void *x, const void *y)
{
	const keyref *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	return c ? c : (a->i > b->i) - (a->i < b->i);
}

long body_params_dup(const param_in *p, size_t n)
{
	/* Sort (key, position) pairs and look at neighbours: a pair check would
	 * be quadratic, and 10,000 params make 50 million pairs. */
	if (n < 2)
		return -1;
	keyref *v = malloc(n * sizeof *v);
	if (!v)
		return -2;
	for (size_t i = 0; i < n; i++)
		v[i] = (keyref){p[i].key, i};
	qsort(v, n, sizeof *v, by_key);
	long dup = -1;
	for (size_t i = 1; i < n && dup < 0; i++)
		if (strcmp(v[i - 1].key, v[i].key) == 0)
			dup = (long)v[i].i;
	free(v);
	return dup;
}

int body_properties(const json *root, const json **out_obj, char *err, size_t errsz)
{
	const json *obj = json_get(root, "properties");
	*out_obj = NULL;
	if (!obj || obj->type != JSON_OBJ)
		return bad(err, errsz, "expected \"properties\": {\"key\": \"value\", ...}");
	if (obj->len > BODY_MAX_PROPERTIES)
		return too_many(err, errsz, "properties", obj->len, BODY_MAX_PROPERTIES);
	for (const json *e = obj->child; e; e = e->next) {
		if (check_key(e->key, strlen(e->key), "property key", err, errsz) != 0)
			return -1;
		if (e->type != JSON_STR || strlen(e->str) != e->len)
			return bad(err, errsz,
			           "properties.%.200s: expected a string without NUL bytes",
			           e->key);
	}
	*out_obj = obj;
	return 0;
}

int body_tags(const json *root, const char ***out, size_t *n, char *err, size_t errsz)
{
	*out = NULL;
	*n = 0;
	const json *arr = json_get(root, "tags");
	if (!arr || arr->type != JSON_ARR)
		return bad(err, errsz, "expected \"tags\": [\"tag\", ...]");
	if (arr->len > BODY_MAX_TAGS)
		return too_many(err, errsz, "tags", arr->len, BODY_MAX_TAGS);
	const char **t = calloc(arr->len ? arr->len : 1, sizeof *t);
	if (!t)
		return bad(err, errsz, "out of memory");
	size_t i = 0;
	for (const json *e = arr->child; e; e = e->next, i++) {
		if (e->type != JSON_STR) {
			free(t);
			return bad(err, errsz, "tags[%zu]: expected a string", i);
		}
		if (check_key(e->str, e->len, "tag", err, errsz) != 0 ||
		    (cairn_tag_validate(e->str) != 0 &&
		     bad(err, errsz, "tags[%zu]: %s", i, cairn_error_last()) != 0)) {
			free(t);
			return -1;
		}
		t[i] = e->str;
	}
	*out = t;
	*n = arr->len;
	return 0;
}

int body_note(const json *root, const char **out, char *err, size_t errsz)
{
	const json *v = json_get(root, "note");
	*out = NULL;
	if (!v || v->type != JSON_STR)
		return bad(err, errsz, "expected \"note\": \"text\"");
	if (strlen(v->str) != v->len)
		return bad(err, errsz, "note: contains a NUL byte");
	*out = v->str;
	return 0;
}

int body_finish(const json *root, finish_in *out, char *err, size_t errsz)
{
	out->status = CAIRN_STATUS_FINISHED;
	out->exit_code = 0;
	const json *s = json_get(root, "status"), *e = json_get(root, "exit_code");
	if (s) {
		if (s->type != JSON_STR || cairn_status_parse(&out->status, s->str) != 0 ||
		    out->status == CAIRN_STATUS_RUNNING || out->status == CAIRN_STATUS_CRASHED)
			return bad(err, errsz,
			           "status: expected \"finished\", \"failed\" or \"killed\"");
		if (out->status == CAIRN_STATUS_FAILED)
			out->exit_code = 1;
	}
	if (e && e->type != JSON_NULL) {
		if (e->type != JSON_NUM || !e->is_int || e->i < -1000000 || e->i > 1000000)
			return bad(err, errsz, "exit_code: expected an integer");
		out->exit_code = (int)e->i;
	}
	return 0;
}

static int opt_str(const json *root, const char *key, const char **out, const char *what, char *err,
                   size_t errsz)
{
	const json *v = json_get(root, key);
	*out = NULL;
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_STR)
		return bad(err, errsz, "%s: expected a string", key);
	if (what && check_key(v->str, v->len, what, err, errsz) != 0)
		return -1;
	if (!what && strlen(v->str) != v->len)
		return bad(err, errsz, "%s: contains a NUL byte", key);
	*out = v->str;
	return 0;
}

void body_free_create(create_in *c)
{
	free(c->tags);
	body_free_params(c->params, c->nparams);
	memset(c, 0, sizeof *c);
}

int body_create(const json *root, create_in *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof *out);
	if (opt_str(root, "project", &out->project, "project name", err, errsz) ||
	    opt_str(root, "name", &out->name, "run name", err, errsz) ||
	    opt_str(root, "note", &out->note, NULL, err, errsz) ||
	    opt_str(root, "command", &out->command, NULL, err, errsz) ||
	    opt_str(root, "parent", &out->parent, "parent run", err, errsz))
		return -1;
	int rc = 0;
	if (json_get(root, "tags") &&
	    (rc = body_tags(root, &out->tags, &out->ntags, err, errsz)) != 0)
		return rc;
	if (json_get(root, "params") &&
	    (rc = body_params(root, "params", &out->params, &out->nparams, err, errsz)) != 0) {
		body_free_create(out);
		return rc;
	}
	return 0;
}

void json_write_node(buf *b, const json *v)
{
	switch (v->type) {
	case JSON_NULL: buf_puts(b, "null"); break;
	case JSON_BOOL: json_bool(b, v->b); break;
	case JSON_NUM:
		if (v->is_int) {
			json_int(b, v->i);
		} else {
			size_t before = b->len;
			json_num(b, v->num);
			if (isfinite(v->num) && !memchr(b->ptr + before, '.', b->len - before) &&
			    !memchr(b->ptr + before, 'e', b->len - before))
				buf_puts(b, ".0");
		}
		break;
	case JSON_STR: json_strn(b, v->str, v->len); break;
	case JSON_ARR:
	case JSON_OBJ: {
		bool obj = v->type == JSON_OBJ, first = true;
		buf_putc(b, obj ? '{' : '[');
		for (const json *c = v->child; c; c = c->next) {
			if (obj) {
				json_key(b, &first, c->key);
			} else {
				if (!first)
					buf_putc(b, ',');
				first = false;
			}
			json_write_node(b, c);
		}
		buf_putc(b, obj ? '}' : ']');
		break;
	}
	}
}
