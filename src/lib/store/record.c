/*
 * lib/store/record.c — the memory of run records (lib/store/record.h): the
 * batch arena, batch reference counts, key lookups by bisection, and the
 * lazily read environment document.  Backend-neutral: a store backend fills
 * batches, the accessors and the JSON projection read them.
 *
 * Thread-safety: reference counts are atomic, so records of one batch may
 * be freed from different threads; a single record is used by one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/record.h"
#include "util/json.h"

rec_batch *rec_batch_new(void)
{
	rec_batch *b = calloc(1, sizeof *b);
	if (b) {
		atomic_init(&b->refs, 1);
		b->arena.chunk = REC_ARENA_CHUNK;
	}
	return b;
}

void rec_batch_ref(rec_batch *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void rec_batch_unref(rec_batch *b)
{
	if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < b->n; i++)
		record_lazy_free(&b->recs[i]);
	arena_free(&b->arena);
	free(b);
}

const char *record_env(const cairn_run_record *r)
{
	if (!r->env_oid)
		return NULL;
	if (!r->env_read) {
		/* logically const: the document is part of the record, read late */
		cairn_run_record *w = (cairn_run_record *)r;
		void *data = NULL;
		size_t len = 0;
		w->env_read = true;
		if (cairn_object_read(&data, &len, r->store, r->env_oid, 64 << 20) == 0 &&
		    len > 0) {
			char *t = realloc(data, len + 1);
			if (t) {
				t[len] = '\0';
				w->env = t;
				data = NULL;
			}
		}
		free(data);
	}
	return r->env;
}

void record_lazy_free(cairn_run_record *r)
{
	for (size_t i = 0; i < r->nenv_items; i++) {
		free((char *)r->env_items[i].key);
		free((char *)r->env_items[i].value);
	}
	free(r->env_items);
	free(r->env);
	r->env_items = NULL;
	r->nenv_items = 0;
	r->env = NULL;
	r->env_read = r->env_items_read = false;
}

/* A scalar as text: strings as they are, numbers as integers or %.10g. */
static char *scalar_text(const json *v)
{
	char tmp[64];
	switch (v->type) {
	case JSON_STR: return strdup(v->str);
	case JSON_BOOL: return strdup(v->b ? "true" : "false");
	case JSON_NUM:
		if (v->is_int)
			snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
		else
			snprintf(tmp, sizeof tmp, "%.10g", v->num);
		return strdup(tmp);
	default: return NULL;
	}
}

const rec_prop *record_env_items(const cairn_run_record *r, size_t *n)
{
	cairn_run_record *w = (cairn_run_record *)r; /* logically const, as record_env */
	if (!r->env_items_read) {
		w->env_items_read = true;
		const char *env = record_env(r);
		json_doc *d = env ? json_parse(env, strlen(env), NULL, NULL, 0) : NULL;
		const json *root = d ? json_root(d) : NULL;
		if (root && root->type == JSON_OBJ && root->len &&
		    (w->env_items = calloc(root->len, sizeof *w->env_items))) {
			for (const json *e = root->child; e; e = e->next) {
				char *t = scalar_text(e), *k = t ? strdup(e->key) : NULL;
				if (!t || !k) {
					free(t);
					continue;
				}
				w->env_items[w->nenv_items].key = k;
				w->env_items[w->nenv_items++].value = t;
			}
		}
		json_doc_free(d);
	}
	*n = r->nenv_items;
	return r->env_items;
}

/* Bisect a key-sorted array of elements whose first member is the key. */
static const void *find(const void *base, size_t n, size_t size, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const void *e = (const char *)base + mid * size;
		int c = strcmp(*(const char *const *)e, key);
		if (c == 0)
			return e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const rec_param *record_param_find(const cairn_run_record *r, const char *key)
{
	return key ? find(r->params, r->nparams, sizeof *r->params, key) : NULL;
}

const rec_metric *record_metric_find(const cairn_run_record *r, const char *key)
{
	return key ? find(r->metrics, r->nmetrics, sizeof *r->metrics, key) : NULL;
}

const rec_prop *record_prop_find(const cairn_run_record *r, const char *key)
{
	return key ? find(r->props, r->nprops, sizeof *r->props, key) : NULL;
}

const cairn_run_dataset *record_dataset_find(const cairn_run_record *r, const char *name)
{
	return name ? find(r->datasets, r->ndatasets, sizeof *r->datasets, name) : NULL;
}

const rec_prop *record_tag_find(const cairn_run_record *r, const char *tag)
{
	return tag ? find(r->tags, r->ntags, sizeof *r->tags, tag) : NULL;
}

bool record_has_tag(const cairn_run_record *r, const char *tag)
{
	return tag && find(r->tags, r->ntags, sizeof *r->tags, tag) != NULL;
}
