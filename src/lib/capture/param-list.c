/*
 * lib/capture/param-list.c — cairn_params, an ordered list of named typed values:
 * what the library hands out where it has params that are not (yet) a run's
 * (a command line's, a config file's, a sweep trial's), so that callers read
 * types instead of re-parsing JSON.  params_from_json decodes the lists the
 * library keeps as JSON text (a trial's params in the queue, a flattened
 * config) with the one typing rule of cairn_run_log_params_json.
 *
 * A list is immutable once handed out; reading it from several threads is
 * safe.  Strings returned are borrowed from the list.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/capture/capture.h"
#include "lib/capture/param-list.h"
#include "util/json.h"

struct cairn_params {
	char **keys;
	cairn_value *vals; /* a STRING's s is owned */
	size_t n, cap;
};

cairn_params *params_new(void)
{
	cairn_params *p = calloc(1, sizeof *p);
	if (!p)
		err_set(CAIRN_ENOMEM, "out of memory");
	return p;
}

int params_add(cairn_params *p, const char *key, const cairn_value *v)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		char **nk = realloc(p->keys, ncap * sizeof *nk);
		if (!nk)
			return err_set(CAIRN_ENOMEM, "out of memory");
		p->keys = nk;
		cairn_value *nv = realloc(p->vals, ncap * sizeof *nv);
		if (!nv)
			return err_set(CAIRN_ENOMEM, "out of memory");
		p->vals = nv;
		p->cap = ncap;
	}
	char *k = strdup(key);
	char *s = v->type == CAIRN_TYPE_STRING ? strdup(v->s ? v->s : "") : NULL;
	if (!k || (v->type == CAIRN_TYPE_STRING && !s)) {
		free(k);
		free(s);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	p->keys[p->n] = k;
	p->vals[p->n] = *v;
	p->vals[p->n].s = s;
	p->n++;
	return 0;
}

int params_from_json(cairn_params **out, const char *text, const char *what)
{
	char err[160];
	*out = NULL;
	json_doc *d = json_parse(text, strlen(text), NULL, err, sizeof err);
	if (!d)
		return err_set(CAIRN_EINVALID, "%s are not valid JSON: %s", what, err);
	const json *r = json_root(d);
	int rc = 0;
	cairn_params *p = NULL;
	if (r->type != JSON_OBJ) {
		rc = err_set(CAIRN_EINVALID, "%s must be a JSON object", what);
		goto done;
	}
	if (!(p = params_new())) {
		rc = CAIRN_ENOMEM;
		goto done;
	}
	for (const json *c = r->child; c && !rc; c = c->next) {
		cairn_value v = {CAIRN_TYPE_STRING, 0, 0, NULL};
		buf t = BUF_INIT;
		switch (c->type) {
		case JSON_NUM:
			if (c->is_int) {
				v.type = CAIRN_TYPE_INT;
				v.i = c->i;
			} else {
				v.type = CAIRN_TYPE_FLOAT;
				v.f = c->num;
			}
			break;
		case JSON_BOOL:
			v.type = CAIRN_TYPE_BOOL;
			v.i = c->b;
			break;
		case JSON_STR: v.s = c->str; break;
		case JSON_NULL: v.s = "null"; break;
		default:
			json_node_text(&t, c, 0, false);
			if (!buf_ok(&t))
				rc = err_set(CAIRN_ENOMEM, "out of memory");
			v.s = t.ptr;
		}
		if (!rc)
			rc = params_add(p, c->key, &v);
		buf_free(&t);
	}
done:
	json_doc_free(d);
	if (rc) {
		cairn_params_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

size_t cairn_params_count(const cairn_params *p)
{
	return p ? p->n : 0;
}

const char *cairn_params_get(cairn_value *value, const cairn_params *p, size_t i)
{
	if (!p || i >= p->n) {
		if (value)
			memset(value, 0, sizeof *value);
		return NULL;
	}
	if (value)
		*value = p->vals[i];
	return p->keys[i];
}

int cairn_params_lookup(cairn_value *value, const cairn_params *p, const char *key)
{
	/* the last one wins, as when the list is recorded with cairn_run_set_params */
	for (size_t i = p && key ? p->n : 0; i-- > 0;)
		if (strcmp(p->keys[i], key) == 0) {
			if (value)
				*value = p->vals[i];
			return 0;
		}
	if (value)
		memset(value, 0, sizeof *value);
	return err_set(CAIRN_ENOTFOUND, "no param '%s'", key ? key : "");
}

void cairn_params_free(cairn_params *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->keys[i]);
		if (p->vals[i].type == CAIRN_TYPE_STRING)
			free((char *)p->vals[i].s);
	}
	free(p->keys);
	free(p->vals);
	free(p);
}
