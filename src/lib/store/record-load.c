/*
 * lib/store/record-load.c — what every backend's records_load shares
 * (record.h, "Loading a batch"): the batch of empty records with its run
 * ids sorted (at most STORE_RECORD_BATCH: the dispatcher checks), the gathering of one section's
 * rows (ordered by run) into each record's array, and closing the gaps of runs not found.  A
 * backend only runs its statements and reads its columns.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/record.h"

static int cmp_ridx(const void *a, const void *b)
{
	int64_t x = ((const rec_ridx *)a)->rid, y = ((const rec_ridx *)b)->rid;
	return (x > y) - (x < y);
}

int record_batch_start(rec_batch **out, rec_ridx **out_sorted, const int64_t *rids, size_t n,
                       bool with_artifacts)
{
	*out = NULL;
	*out_sorted = NULL;
	rec_batch *bt = rec_batch_new();
	rec_ridx *sorted = malloc((n ? n : 1) * sizeof *sorted);
	if (bt)
		bt->recs = arena_alloc(&bt->arena, (n ? n : 1) * sizeof *bt->recs);
	if (!bt || !bt->recs || !sorted) {
		rec_batch_unref(bt);
		free(sorted);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	memset(bt->recs, 0, n * sizeof *bt->recs);
	for (size_t i = 0; i < n; i++) {
		sorted[i].rid = rids[i];
		sorted[i].idx = i;
		bt->recs[i].rid = -1; /* not found yet */
		bt->recs[i].batch = bt;
		bt->recs[i].with_artifacts = with_artifacts;
	}
	qsort(sorted, n, sizeof *sorted, cmp_ridx);
	*out = bt;
	*out_sorted = sorted;
	return 0;
}

void record_batch_finish(rec_batch *bt, size_t n)
{
	/* runs not in the store have no head: close the gaps, keeping the order */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!bt->recs[i].project)
			continue;
		if (m != i)
			bt->recs[m] = bt->recs[i];
		m++;
	}
	bt->n = m;
}

/* --- gathering a section ------------------------------------------------------------ */

static size_t elem_size(int k)
{
	switch (k) {
	case REC_PARAMS: return sizeof(rec_param);
	case REC_METRICS: return sizeof(rec_metric);
	case REC_TAGS: return sizeof(rec_prop);
	case REC_PROPS: return sizeof(rec_prop);
	case REC_DATA: return sizeof(cairn_run_dataset);
	case REC_ARTS: return sizeof(cairn_run_artifact);
	default: return 0;
	}
}

static const char *row_key(int k, const void *row)
{
	return k == REC_PARAMS ? ((const rec_param *)row)->key : ((const rec_metric *)row)->m.key;
}

typedef struct keyed {
	const char *key;
	size_t row;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
	return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

/* Copy the n gathered rows (g->tmp) into arr sorted by key (strcmp: keys
 * are unique within a run).  When the run's keys are the last run's, in
 * the same order, the last order is reused; else it is found by a sort and
 * kept for the next run. */
static int sort_rows(rec_gather *g, void *arr, size_t n)
{
	size_t es = g->es;
	bool same = n == g->nord;
	for (size_t i = 0; same && i < n; i++) {
		const char *key = row_key(g->k, g->tmp + i * es);
		same = key == g->okeys[i] || strcmp(key, g->okeys[i]) == 0;
	}
	if (!same) {
		if (n > g->ocap) {
			size_t nc = n > 2 * g->ocap ? n : 2 * g->ocap;
			const char **nk = realloc(g->okeys, nc * sizeof *nk);
			if (nk)
				g->okeys = nk;
			size_t *no = nk ? realloc(g->ord, nc * sizeof *no) : NULL;
			if (no)
				g->ord = no;
			if (!nk || !no)
				return err_set(CAIRN_ENOMEM, "out of memory");
			g->ocap = nc;
		}
		keyed *kv = malloc(n * sizeof *kv);
		if (!kv)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			kv[i].key = row_key(g->k, g->tmp + i * es);
			kv[i].row = i;
			g->okeys[i] = kv[i].key;
		}
		qsort(kv, n, sizeof *kv, cmp_keyed);
		for (size_t j = 0; j < n; j++)
			g->ord[j] = kv[j].row;
		free(kv);
		g->nord = n;
	}
	for (size_t j = 0; j < n; j++)
		memcpy((char *)arr + j * es, g->tmp + g->ord[j] * es, es);
	return 0;
}

/* Move the rows gathered for the current run into its record. */
static int attach(rec_gather *g)
{
	arena *a = &g->bt->arena;
	cairn_run_record *r = g->cur;
	size_t n = g->nt, es = g->es;
	if (!r || n == 0)
		return 0;
	void *arr = arena_alloc(a, n * es);
	if (!arr)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (g->k == REC_PARAMS || g->k == REC_METRICS) {
		int rc = sort_rows(g, arr, n);
		if (rc)
			return rc;
	} else {
		memcpy(arr, g->tmp, n * es);
	}
	g->nt = 0;
	switch (g->k) {
	case REC_PARAMS:
		r->params = arr;
		r->nparams = n;
		break;
	case REC_METRICS:
		r->metrics = arr;
		r->nmetrics = n;
		break;
	case REC_TAGS: {
		r->tags = arr;
		r->ntags = n;
		size_t len = 0;
		for (size_t i = 0; i < n; i++)
			len += strlen(r->tags[i].key) + 2 +
			       (r->tags[i].value ? strlen(r->tags[i].value) : 0);
		char *j = arena_alloc(a, len + 1), *p = j;
		if (!j)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(r->tags[i].key);
			if (i)
				*p++ = ',';
			memcpy(p, r->tags[i].key, l);
			p += l;
			if (r->tags[i].value) {
				*p++ = '=';
				l = strlen(r->tags[i].value);
				memcpy(p, r->tags[i].value, l);
				p += l;
			}
		}
		*p = '\0';
		r->tags_joined = j;
		break;
	}
	case REC_PROPS:
		r->props = arr;
		r->nprops = n;
		break;
	case REC_DATA:
		r->datasets = arr;
		r->ndatasets = n;
		break;
	case REC_ARTS:
		r->artifacts = arr;
		r->nartifacts = n;
		break;
	}
	return 0;
}

void record_gather_init(rec_gather *g, rec_batch *bt, int k, const rec_ridx *sorted, size_t n)
{
	memset(g, 0, sizeof *g);
	g->bt = bt;
	g->k = k;
	g->sorted = sorted;
	g->n = n;
	g->es = elem_size(k);
}

int record_gather_row(rec_gather *g, int64_t rid, cairn_run_record **out_rec, void **out_elem)
{
	*out_rec = NULL;
	*out_elem = NULL;
	if (!g->cur || g->cur->rid != rid) {
		int rc = attach(g);
		if (rc)
			return rc;
		while (g->pos < g->n && g->sorted[g->pos].rid != rid)
			g->pos++;
		if (g->pos == g->n)
			return 0; /* not a run of the batch (rows come in run order) */
		g->cur = &g->bt->recs[g->sorted[g->pos].idx];
		g->cur->rid = rid;
	}
	*out_rec = g->cur;
	if (g->k == REC_HEAD)
		return 0;
	if (g->nt == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 64;
		char *t = realloc(g->tmp, nc * g->es);
		if (!t)
			return err_set(CAIRN_ENOMEM, "out of memory");
		g->tmp = t;
		g->cap = nc;
	}
	*out_elem = g->tmp + g->nt++ * g->es;
	return 0;
}

int record_gather_end(rec_gather *g, int rc)
{
	if (rc == 0)
		rc = attach(g);
	free(g->tmp);
	g->tmp = NULL;
	free(g->okeys);
	free(g->ord);
	g->okeys = NULL;
	g->ord = NULL;
	g->nord = g->ocap = 0;
	if (rc == 0 && g->bt->arena.oom)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	return rc;
}
