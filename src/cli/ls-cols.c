/*
 * cli/ls-cols.c — the default columns of `cairn ls` (ls-table.h), found in
 * one pass over the records that does not keep them: colscan_add takes one
 * record at a time, so a listing of any size (the streamed one of
 * cmd-ls.c) and a page held in memory choose the same columns.
 *
 * A metric or param is a default column when its displayed value differs
 * between the runs: some run lacks it while another has it, or two runs
 * show different text.  Per key the scan keeps the first run's text, how
 * many runs have the key and whether a difference was seen, so memory
 * grows with the number of distinct keys, not of runs.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ls-table.h"

typedef struct ckey {
	char *key;
	char first[512]; /* the first run's text (of the runs that have it) */
	bool firstp;     /* ... and whether rfield_text found a value */
	bool differs;
	size_t present; /* runs that have the key */
} ckey;

typedef struct ckeys {
	ckey *v;
	size_t n, cap;
	size_t *slot; /* open addressing: index + 1 into v, 0 empty */
	size_t nslot;
} ckeys;

struct colscan {
	ckeys metrics, params;
	size_t nruns;
	char *project;
	bool projects, tags;
};

static size_t key_hash(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int keys_grow(ckeys *k)
{
	size_t ns = k->nslot ? k->nslot * 2 : 64;
	size_t *slot = calloc(ns, sizeof *slot);
	if (!slot)
		return -1;
	for (size_t i = 0; i < k->n; i++) {
		size_t h = key_hash(k->v[i].key) & (ns - 1);
		while (slot[h])
			h = (h + 1) & (ns - 1);
		slot[h] = i + 1;
	}
	free(k->slot);
	k->slot = slot;
	k->nslot = ns;
	return 0;
}

/* The key's entry; *fresh when it was added now.  NULL on OOM. */
static ckey *keys_get(ckeys *k, const char *key, bool *fresh)
{
	*fresh = false;
	if ((k->n + 1) * 2 > k->nslot && keys_grow(k) != 0)
		return NULL;
	size_t h = key_hash(key) & (k->nslot - 1);
	for (; k->slot[h]; h = (h + 1) & (k->nslot - 1))
		if (strcmp(k->v[k->slot[h] - 1].key, key) == 0)
			return &k->v[k->slot[h] - 1];
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 16;
		ckey *nv = realloc(k->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		k->v = nv;
		k->cap = nc;
	}
	ckey *e = &k->v[k->n];
	memset(e, 0, sizeof *e);
	if (!(e->key = strdup(key)))
		return NULL;
	k->slot[h] = ++k->n;
	*fresh = true;
	return e;
}

static void keys_free(ckeys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].key);
	free(k->v);
	free(k->slot);
}

colscan *colscan_new(void)
{
	return calloc(1, sizeof(colscan));
}

void colscan_free(colscan *cs)
{
	if (!cs)
		return;
	keys_free(&cs->metrics);
	keys_free(&cs->params);
	free(cs->project);
	free(cs);
}

static void scan_key(colscan *cs, ckeys *k, const cairn_run_record *rec, cairn_field_kind kind,
                     const char *key)
{
	bool fresh;
	ckey *e = keys_get(k, key, &fresh);
	if (!e)
		return;
	e->present++;
	if (e->differs && !fresh)
		return;
	rfield f;
	rfield_make(&f, kind, key, kind == CAIRN_FIELD_METRIC ? CAIRN_METRIC_LAST : -1);
	char cur[512];
	bool p = rfield_text(rec, &f, cur, sizeof cur, true);
	if (fresh) {
		/* a key the runs before this one lack differs already */
		e->differs = cs->nruns > 0;
		memcpy(e->first, cur, sizeof cur);
		e->firstp = p;
	} else if (p != e->firstp || strcmp(e->first, cur) != 0) {
		e->differs = true;
	}
}

void colscan_add(colscan *cs, const cairn_run_record *rec)
{
	const char *p = cairn_run_record_project(rec);
	if (p && cs->project && strcmp(cs->project, p) != 0)
		cs->projects = true;
	if (p && (!cs->project || strcmp(cs->project, p) != 0)) {
		free(cs->project);
		cs->project = strdup(p);
	}
	size_t nm = cairn_run_record_metric_count(rec);
	for (size_t i = 0; i < nm; i++)
		scan_key(cs, &cs->metrics, rec, CAIRN_FIELD_METRIC,
		         cairn_run_record_metric(rec, i)->key);
	size_t np = cairn_run_record_param_count(rec);
	for (size_t i = 0; i < np; i++)
		scan_key(cs, &cs->params, rec, CAIRN_FIELD_PARAM,
		         cairn_run_record_param(NULL, rec, i));
	cs->tags |= cairn_run_record_tag_count(rec) > 0;
	cs->nruns++;
}

static int cmp_ckey(const void *a, const void *b)
{
	return strcmp(((const ckey *)a)->key, ((const ckey *)b)->key);
}

static void cols_attr(cols *c, const char *attr, const char *head, int prio)
{
	rfield f;
	rfield_make(&f, CAIRN_FIELD_ATTRIBUTE, attr, -1);
	cols_add(c, &f, head, prio);
}

/* A system-monitor metric (the sampler's sys/cpu, sys/rss, sys/gpu0/util). */
static bool sys_metric(const char *key)
{
	return strncmp(key, "sys/", 4) == 0;
}

/* The sort keys of one kind (metric or param) at the head of their group. */
static void sort_cols(cols *c, char **sortf, int nsort, bool attrs, cairn_field_kind kind)
{
	for (int i = 0; i < nsort; i++) {
		rfield f;
		if (rfield_parse(&f, sortf[i], NULL) != 0)
			continue;
		bool mp = f.kind == CAIRN_FIELD_METRIC || f.kind == CAIRN_FIELD_PARAM;
		if (attrs ? !mp : f.kind == kind)
			cols_add(c, &f, NULL, LS_PRIO_SORT - i);
	}
}

/* The keys that differ, in name order, as columns of priority prio. */
static void key_cols(cols *c, colscan *cs, ckeys *k, cairn_field_kind kind, int prio)
{
	/* the hash slots are not needed past the scan: sort the entries */
	free(k->slot);
	k->slot = NULL;
	k->nslot = 0;
	if (k->n)
		qsort(k->v, k->n, sizeof *k->v, cmp_ckey);
	for (size_t i = 0; i < k->n; i++) {
		const ckey *e = &k->v[i];
		if (kind == CAIRN_FIELD_METRIC && sys_metric(e->key))
			continue;
		if (!e->differs && e->present == cs->nruns)
			continue;
		rfield f;
		rfield_make(&f, kind, e->key, kind == CAIRN_FIELD_METRIC ? CAIRN_METRIC_LAST : -1);
		cols_add(c, &f, NULL, prio);
	}
}

void colscan_columns(colscan *cs, cols *c, char **sortf, int nsort)
{
	cols_attr(c, "id", "ID", TABLE_KEEP);
	cols_attr(c, "name", "NAME", TABLE_KEEP);
	if (cs->projects)
		cols_attr(c, "project", "PROJECT", LS_PRIO_PROJECT);
	cols_attr(c, "status", "STATUS", LS_PRIO_STATUS);
	sort_cols(c, sortf, nsort, false, CAIRN_FIELD_METRIC);
	key_cols(c, cs, &cs->metrics, CAIRN_FIELD_METRIC, LS_PRIO_METRIC);
	sort_cols(c, sortf, nsort, false, CAIRN_FIELD_PARAM);
	key_cols(c, cs, &cs->params, CAIRN_FIELD_PARAM, LS_PRIO_PARAM);
	cols_attr(c, "started", "STARTED", LS_PRIO_STARTED);
	cols_attr(c, "duration", "DURATION", LS_PRIO_DURATION);
	sort_cols(c, sortf, nsort, true, CAIRN_FIELD_ATTRIBUTE);
	if (cs->tags) {
		rfield f;
		rfield_make(&f, CAIRN_FIELD_TAGS, "tags", -1);
		cols_add(c, &f, "TAGS", LS_PRIO_TAGS);
	}
}

void ls_default_columns(cols *c, const runs *rs, char **sortf, int nsort)
{
	colscan *cs = colscan_new();
	if (!cs)
		return;
	for (size_t r = 0; r < rs->n; r++)
		colscan_add(cs, rs->v[r]);
	colscan_columns(cs, c, sortf, nsort);
	colscan_free(cs);
}
