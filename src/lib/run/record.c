/*
 * lib/run/record.c — the public record API (cairn/record.h): one run by
 * name, the query iterator, the accessors, and a query-language field's
 * value read out of a record.
 *
 * The iterator fixes the page of matching run ids when it is made (the
 * planner's store_query_page, one read transaction for count and ids) and
 * loads records STORE_RECORD_BATCH at a time (store_records_load), each
 * batch in its own short read: the store is never held between calls, so
 * a slow consumer does not block writers.  The iterator holds one
 * reference on its current batch and every record it yields holds one
 * more (lib/store/record.h).  Not thread-safe per iterator.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/query/query.h"
#include "lib/store/query.h"
#include "lib/store/record.h"
#include "lib/store/backend.h"
#include "lib/store/store.h"
#include "lib/run/run.h"

/* --- one run ------------------------------------------------------------------- */

int cairn_run_record_get(cairn_run_record **out, cairn_store *s, const char *id, unsigned flags)
{
	int64_t rid;
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	rec_batch *bt = NULL;
	*out = NULL;
	if (!s || !id)
		return err_set(CAIRN_EINVALID, "no store or run");
	writer_flush(s);
	int rc = store_run_lookup(s, id, (flags & CAIRN_RECORD_DELETED) != 0, &rid, full);
	if (rc == 0)
		rc = store_records_load(s, &rid, 1, (flags & CAIRN_RECORD_ARTIFACTS) != 0, &bt);
	if (rc)
		return rc;
	if (bt->n == 0) {
		rec_batch_unref(bt);
		return err_set(CAIRN_ENOTFOUND, "run not found");
	}
	*out = &bt->recs[0]; /* the loader's reference becomes the record's */
	return 0;
}

void cairn_run_record_free(cairn_run_record *r)
{
	if (!r)
		return;
	record_lazy_free(r);
	rec_batch_unref(r->batch);
}

int cairn_run_metric_raw_json(char **out, cairn_store *s, const char *id, const char *key)
{
	int64_t rid;
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	buf b = BUF_INIT;
	*out = NULL;
	if (!s || !id || !key)
		return err_set(CAIRN_EINVALID, "no store, run or key");
	writer_flush(s);
	int rc = store_run_lookup(s, id, false, &rid, full);
	if (rc == 0)
		rc = store_metric_raw_json(s, rid, key, &b);
	if (rc == 0 && !(*out = buf_detach(&b)))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	buf_free(&b);
	return rc;
}

/* --- the iterator ------------------------------------------------------------------ */

struct cairn_run_iter {
	cairn_store *store;
	int64_t *ids;
	size_t n, next; /* ids not loaded yet: ids[next..n) */
	int64_t total;  /* -1: not counted yet (cairn_run_iter_total counts) */
	rec_batch *batch;
	size_t bpos;
	/* the query, kept for the count: its trees and copies of its texts */
	query_compiled c;
	bool compiled;
	char *text, *sort_text, *project;
	char *after; /* the position of the last id (cairn_run_iter_after) */
};

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

int cairn_query_iter_new(cairn_run_iter **out, cairn_store *s, const cairn_query_options *o)
{
	int rc;
	*out = NULL;
	cairn_run_iter *it = calloc(1, sizeof *it);
	if (!it)
		return err_set(CAIRN_ENOMEM, "out of memory");
	it->store = s;
	it->total = -1;
	rc = query_compile(&it->c, s, o);
	it->compiled = true;
	if (rc == 0 && (rc = dup_opt(&it->text, it->c.sq.text)) == 0 &&
	    (rc = dup_opt(&it->sort_text, it->c.sq.sort_text)) == 0 &&
	    (rc = dup_opt(&it->project, it->c.sq.project)) == 0) {
		it->c.sq.text = it->text;
		it->c.sq.sort_text = it->sort_text;
		it->c.sq.project = it->project;
		/* the total is counted only when asked for: a page near the top of
		 * a big store is then found without every match */
		rc = store_query_page_at(s, &it->c.sq, &it->ids, &it->n, NULL, &it->after);
		it->c.sq.after = NULL; /* the caller's; the count needs no position */
	}
	if (rc) {
		cairn_run_iter_free(it);
		return rc;
	}
	*out = it;
	return 0;
}

int cairn_run_iter_next(cairn_run_record **out, cairn_run_iter *it)
{
	*out = NULL;
	if (!it)
		return err_set(CAIRN_EINVALID, "no iterator");
	for (;;) {
		if (it->batch && it->bpos < it->batch->n) {
			cairn_run_record *r = &it->batch->recs[it->bpos++];
			rec_batch_ref(it->batch);
			*out = r;
			return 0;
		}
		rec_batch_unref(it->batch);
		it->batch = NULL;
		if (it->next >= it->n)
			return CAIRN_ITEROVER;
		size_t cnt = it->n - it->next;
		if (cnt > STORE_RECORD_BATCH)
			cnt = STORE_RECORD_BATCH;
		int rc = store_records_load(it->store, it->ids + it->next, cnt, false, &it->batch);
		if (rc)
			return rc;
		it->next += cnt;
		it->bpos = 0;
	}
}

void cairn_run_iter_rewind(cairn_run_iter *it)
{
	if (!it)
		return;
	rec_batch_unref(it->batch);
	it->batch = NULL;
	it->bpos = 0;
	it->next = 0;
}

size_t cairn_run_iter_count(const cairn_run_iter *it)
{
	return it ? it->n : 0;
}

int64_t cairn_run_iter_total(const cairn_run_iter *cit)
{
	cairn_run_iter *it = (cairn_run_iter *)cit; /* the count is cached */
	if (!it)
		return 0;
	if (it->total < 0) {
		int64_t n = 0;
		if (store_query_count(it->store, &it->c.sq, &n) != 0) {
			cairn_error_clear();
			/* what the page shows is a lower bound */
			int64_t off = it->c.sq.offset > 0 ? it->c.sq.offset : 0;
			return off + (int64_t)it->n;
		}
		it->total = n;
	}
	return it->total;
}

int cairn_run_iter_after(char **out, const cairn_run_iter *it)
{
	if (!out)
		return err_set(CAIRN_EINVALID, "no result to fill");
	*out = NULL;
	if (!it)
		return err_set(CAIRN_EINVALID, "no iterator");
	if (it->after && !(*out = strdup(it->after)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

void cairn_run_iter_free(cairn_run_iter *it)
{
	if (!it)
		return;
	rec_batch_unref(it->batch);
	free(it->ids);
	if (it->compiled)
		query_compiled_free(&it->c);
	free(it->text);
	free(it->sort_text);
	free(it->project);
	free(it->after);
	free(it);
}

/* --- the iterator's records as JSON, by several threads ------------------------------- */

/* A listing of many runs is mostly loading (SQLite's per-row cost over the
 * runs' params and metrics rows) and then writing JSON, each batch alone:
 * so threads, each with a handle of its own (the first the caller's, the
 * others peers), take batches in turn, load and write them into a buffer,
 * and the caller's thread hands the buffers to `write` in order.  At most
 * JS_AHEAD batches wait, so the memory is a few batches' whatever the page
 * (docs/internals/query.md, "The JSON listing"). */
#define JS_THREADS_MAX 4
#define JS_AHEAD       8

size_t run_json_threads_min = 4 * STORE_RECORD_BATCH;
size_t run_json_batch = STORE_RECORD_BATCH;
int run_json_threads = 0;

typedef struct js_slot {
	buf b;
	bool ready;
} js_slot;

typedef struct js_stream {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const int64_t *ids;
	size_t n, batch, nbatches;
	size_t claim; /* the next batch a thread takes */
	size_t out;   /* the next batch written */
	js_slot slot[JS_AHEAD];
	int rc; /* the first error */
	char err[1024];
} js_stream;

typedef struct js_worker {
	js_stream *js;
	cairn_store *s;
	pthread_t th;
} js_worker;

/* write(arg, data, len), its failure an error: CAIRN_EIO (or the cairn
 * code it returned) with errno's reason when it left one. */
static int js_write(int (*write)(void *, const char *, size_t), void *arg, const char *data,
                    size_t len)
{
	errno = 0;
	int rc = write(arg, data, len);
	if (rc == 0)
		return 0;
	int e = errno;
	return err_set(rc < 0 && rc >= CAIRN_ITEROVER ? rc : CAIRN_EIO,
	               "cannot write the listing%s%s", e ? ": " : "", e ? strerror(e) : "");
}

/* Batch i's objects, comma-separated, into b. */
static int js_batch(cairn_store *s, const int64_t *ids, size_t n, buf *b)
{
	rec_batch *bt;
	int rc = store_records_load(s, ids, n, false, &bt);
	if (rc)
		return rc;
	size_t size = bt->n; /* the commas */
	for (size_t i = 0; i < bt->n; i++)
		size += record_json_size(&bt->recs[i]);
	buf_grow(b, size); /* once: doubling a ~600 KB buffer copied it twice over */
	for (size_t i = 0; i < bt->n; i++) {
		if (i)
			buf_putc(b, ',');
		record_json(b, &bt->recs[i], NULL, 0);
	}
	rec_batch_unref(bt);
	return buf_ok(b) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static void js_fail(js_stream *js, int rc)
{
	if (!js->rc) {
		js->rc = rc;
		snprintf(js->err, sizeof js->err, "%s", cairn_error_last());
	}
	pthread_cond_broadcast(&js->cv);
}

static void *js_main(void *arg)
{
	js_worker *w = arg;
	js_stream *js = w->js;
	pthread_mutex_lock(&js->mu);
	for (;;) {
		size_t i = js->claim;
		if (js->rc || i >= js->nbatches)
			break;
		js->claim++;
		/* its slot is free once batch i - JS_AHEAD is written */
		while (!js->rc && i >= js->out + JS_AHEAD)
			pthread_cond_wait(&js->cv, &js->mu);
		if (js->rc)
			break;
		pthread_mutex_unlock(&js->mu);
		size_t from = i * js->batch;
		size_t cnt = js->n - from < js->batch ? js->n - from : js->batch;
		buf b = BUF_INIT;
		int rc = js_batch(w->s, js->ids + from, cnt, &b);
		pthread_mutex_lock(&js->mu);
		if (rc) {
			buf_free(&b);
			js_fail(js, rc);
			break;
		}
		js->slot[i % JS_AHEAD].b = b;
		js->slot[i % JS_AHEAD].ready = true;
		pthread_cond_broadcast(&js->cv);
	}
	pthread_mutex_unlock(&js->mu);
	return NULL;
}

/* How many threads a listing of n runs takes: one a CPU, up to
 * JS_THREADS_MAX, and none beside the caller's for a few batches or a
 * backend that is not a local database (a remote store's peer would be a
 * second client of its server). */
static int js_threads(const cairn_run_iter *it, size_t n)
{
	cairn_store *s = it->store;
	if (n < run_json_threads_min || s->hold ||
	    (strcmp(s->ops->name, "sqlite") != 0 && strcmp(s->ops->name, "postgresql") != 0))
		return 1;
	long cpus = run_json_threads > 0 ? run_json_threads : sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 2 ? 1 : cpus > JS_THREADS_MAX ? JS_THREADS_MAX : (int)cpus;
}

int cairn_run_iter_write_json(cairn_run_iter *it,
                              int (*write)(void *arg, const char *data, size_t len), void *arg)
{
	if (!it || !write)
		return err_set(CAIRN_EINVALID, "no iterator or writer");
	/* what cairn_run_iter_next has not given yet: the rest of the current
	 * batch, then the ids not loaded */
	bool first = true;
	int rc = 0;
	for (; it->batch && it->bpos < it->batch->n && rc == 0; it->bpos++) {
		buf b = BUF_INIT;
		if (!first)
			buf_putc(&b, ',');
		record_json(&b, &it->batch->recs[it->bpos], NULL, 0);
		rc = buf_ok(&b) ? js_write(write, arg, b.ptr, b.len)
		                : err_set(CAIRN_ENOMEM, "out of memory");
		buf_free(&b);
		first = false;
	}
	if (rc)
		return rc;
	size_t per = run_json_batch >= 1 && run_json_batch <= STORE_RECORD_BATCH
	                 ? run_json_batch
	                 : STORE_RECORD_BATCH;
	js_stream js = {.ids = it->ids + it->next, .n = it->n - it->next, .batch = per};
	js.nbatches = (js.n + per - 1) / per;
	it->next = it->n;
	if (js.n == 0)
		return 0;
	pthread_mutex_init(&js.mu, NULL);
	pthread_cond_init(&js.cv, NULL);
	js_worker w[JS_THREADS_MAX];
	int nw = js_threads(it, js.n), started = 0;
	for (int k = 0; k < nw; k++) {
		w[k] = (js_worker){.js = &js, .s = it->store};
		/* a peer with the caller's page cache, not mapped: a mapping's
		 * pages count in the process's memory, ~1.3 GB for 1M runs */
		if (k > 0 && store_open_peer(&w[k].s, it->store, false) != 0) {
			cairn_error_clear(); /* fewer threads, then */
			break;
		}
		if (pthread_create(&w[k].th, NULL, js_main, &w[k]) != 0) {
			if (k > 0)
				cairn_store_close(w[k].s);
			break;
		}
		started++;
	}
	if (started == 0) {
		/* no thread at all: the batches one after another, here */
		for (size_t i = 0; i < js.nbatches && rc == 0; i++) {
			size_t from = i * per;
			size_t cnt = js.n - from < per ? js.n - from : per;
			buf b = BUF_INIT;
			if (!first)
				buf_putc(&b, ',');
			if ((rc = js_batch(it->store, js.ids + from, cnt, &b)) == 0)
				rc = js_write(write, arg, b.ptr, b.len);
			buf_free(&b);
			first = false;
		}
	} else {
		pthread_mutex_lock(&js.mu);
		while (js.out < js.nbatches) {
			js_slot *sl = &js.slot[js.out % JS_AHEAD];
			while (!js.rc && !sl->ready)
				pthread_cond_wait(&js.cv, &js.mu);
			if (js.rc)
				break;
			buf b = sl->b;
			sl->b = (buf)BUF_INIT;
			sl->ready = false;
			pthread_mutex_unlock(&js.mu);
			int wrc = first ? 0 : js_write(write, arg, ",", 1);
			if (wrc == 0)
				wrc = js_write(write, arg, b.ptr, b.len);
			buf_free(&b);
			first = false;
			pthread_mutex_lock(&js.mu);
			if (wrc) {
				if (!js.rc) {
					js.rc = wrc;
					snprintf(js.err, sizeof js.err, "%s", cairn_error_last());
				}
				pthread_cond_broadcast(&js.cv);
				break;
			}
			js.out++;
			pthread_cond_broadcast(&js.cv);
		}
		pthread_mutex_unlock(&js.mu);
		for (int k = 0; k < started; k++) {
			pthread_join(w[k].th, NULL);
			if (k > 0)
				cairn_store_close(w[k].s);
		}
		for (int k = 0; k < JS_AHEAD; k++)
			buf_free(&js.slot[k].b);
		rc = js.rc;
		if (rc)
			err_set(rc, "%s", js.err);
	}
	pthread_cond_destroy(&js.cv);
	pthread_mutex_destroy(&js.mu);
	return rc;
}

/* --- accessors ------------------------------------------------------------------------ */

const char *cairn_run_record_id(const cairn_run_record *r)
{
	return r->id;
}
int64_t cairn_run_record_seq(const cairn_run_record *r)
{
	return r->seq;
}
const char *cairn_run_record_name(const cairn_run_record *r)
{
	return r->name;
}
const char *cairn_run_record_project(const cairn_run_record *r)
{
	return r->project;
}
cairn_status cairn_run_record_status(const cairn_run_record *r)
{
	return r->status;
}
double cairn_run_record_start_time(const cairn_run_record *r)
{
	return r->has_start ? r->start_time : 0;
}
double cairn_run_record_end_time(const cairn_run_record *r)
{
	return r->has_end ? r->end_time : 0;
}
double cairn_run_record_heartbeat(const cairn_run_record *r)
{
	return r->has_heartbeat ? r->heartbeat : 0;
}
const char *cairn_run_record_command(const cairn_run_record *r)
{
	return r->command;
}
const char *cairn_run_record_cwd(const cairn_run_record *r)
{
	return r->cwd;
}
const char *cairn_run_record_host(const cairn_run_record *r)
{
	return r->host;
}
const char *cairn_run_record_user(const cairn_run_record *r)
{
	return r->user;
}
const char *cairn_run_record_parent(const cairn_run_record *r)
{
	return r->parent;
}
int64_t cairn_run_record_children(const cairn_run_record *r)
{
	return r ? r->children : 0;
}
const char *cairn_run_record_note(const cairn_run_record *r)
{
	return r->note;
}
int64_t cairn_run_record_pid(const cairn_run_record *r)
{
	return r->pid;
}
int cairn_run_record_deleted(const cairn_run_record *r)
{
	return r->deleted;
}

int cairn_run_record_exit_code(int64_t *out, const cairn_run_record *r)
{
	if (!r->has_exit_code)
		return CAIRN_ENOTFOUND;
	*out = r->exit_code;
	return 0;
}

const cairn_run_code *cairn_run_record_code(const cairn_run_record *r)
{
	return r->has_code ? &r->code : NULL;
}

const char *cairn_run_record_environment(const cairn_run_record *r)
{
	return record_env(r);
}

size_t cairn_run_record_environment_count(const cairn_run_record *r)
{
	size_t n;
	record_env_items(r, &n);
	return n;
}

const char *cairn_run_record_environment_item(const char **text, const cairn_run_record *r,
                                              size_t i)
{
	size_t n;
	const rec_prop *items = record_env_items(r, &n);
	if (i >= n)
		return NULL;
	if (text)
		*text = items[i].value;
	return items[i].key;
}

size_t cairn_run_record_param_count(const cairn_run_record *r)
{
	return r->nparams;
}

const char *cairn_run_record_param(cairn_value *value, const cairn_run_record *r, size_t i)
{
	if (i >= r->nparams)
		return NULL;
	if (value)
		*value = r->params[i].v;
	return r->params[i].key;
}

int cairn_run_record_param_get(cairn_value *value, const cairn_run_record *r, const char *key)
{
	const rec_param *p = record_param_find(r, key);
	if (!p)
		return CAIRN_ENOTFOUND;
	if (value)
		*value = p->v;
	return 0;
}

size_t cairn_run_record_metric_count(const cairn_run_record *r)
{
	return r->nmetrics;
}

const cairn_metric_summary *cairn_run_record_metric(const cairn_run_record *r, size_t i)
{
	return i < r->nmetrics ? &r->metrics[i].m : NULL;
}

const cairn_metric_summary *cairn_run_record_metric_get(const cairn_run_record *r, const char *key)
{
	const rec_metric *m = record_metric_find(r, key);
	return m ? &m->m : NULL;
}

size_t cairn_run_record_tag_count(const cairn_run_record *r)
{
	return r->ntags;
}

const char *cairn_run_record_tag(const cairn_run_record *r, size_t i)
{
	return i < r->ntags ? r->tags[i].key : NULL;
}

const char *cairn_run_record_tag_value(const cairn_run_record *r, size_t i)
{
	return i < r->ntags ? r->tags[i].value : NULL;
}

int cairn_run_record_has_tag(const cairn_run_record *r, const char *tag)
{
	return record_has_tag(r, tag);
}

size_t cairn_run_record_property_count(const cairn_run_record *r)
{
	return r->nprops;
}

const char *cairn_run_record_property(const char **value, const cairn_run_record *r, size_t i)
{
	if (i >= r->nprops)
		return NULL;
	if (value)
		*value = r->props[i].value;
	return r->props[i].key;
}

const char *cairn_run_record_property_get(const cairn_run_record *r, const char *key)
{
	const rec_prop *p = record_prop_find(r, key);
	return p ? p->value : NULL;
}

size_t cairn_run_record_dataset_count(const cairn_run_record *r)
{
	return r->ndatasets;
}

const cairn_run_dataset *cairn_run_record_dataset(const cairn_run_record *r, size_t i)
{
	return i < r->ndatasets ? &r->datasets[i] : NULL;
}

const cairn_run_dataset *cairn_run_record_dataset_get(const cairn_run_record *r, const char *name)
{
	return record_dataset_find(r, name);
}

size_t cairn_run_record_artifact_count(const cairn_run_record *r)
{
	return r->nartifacts;
}

const cairn_run_artifact *cairn_run_record_artifact(const cairn_run_record *r, size_t i)
{
	return i < r->nartifacts ? &r->artifacts[i] : NULL;
}

/* --- a field's value -------------------------------------------------------------------- */

static int v_str(cairn_value *out, const char *s)
{
	if (!s)
		return CAIRN_ENOTFOUND;
	out->type = CAIRN_TYPE_STRING;
	out->s = s;
	return 0;
}

static int v_int(cairn_value *out, int64_t i)
{
	out->type = CAIRN_TYPE_INT;
	out->i = i;
	return 0;
}

static int v_float(cairn_value *out, double f)
{
	out->type = CAIRN_TYPE_FLOAT;
	out->f = f;
	return 0;
}

static int attr_value(cairn_value *out, const cairn_run_record *r, const char *a)
{
	const cairn_run_code *c = r->has_code ? &r->code : NULL;
	if (strcmp(a, "id") == 0)
		return v_str(out, r->id);
	if (strcmp(a, "seq") == 0)
		return v_int(out, r->seq);
	if (strcmp(a, "name") == 0)
		return v_str(out, r->name);
	if (strcmp(a, "project") == 0)
		return v_str(out, r->project);
	if (strcmp(a, "status") == 0)
		return v_str(out, cairn_status_name(r->status));
	if (strcmp(a, "started") == 0)
		return r->has_start ? v_float(out, r->start_time) : CAIRN_ENOTFOUND;
	if (strcmp(a, "ended") == 0)
		return r->has_end && r->end_time > 0 ? v_float(out, r->end_time) : CAIRN_ENOTFOUND;
	if (strcmp(a, "duration") == 0) {
		if (r->has_end && r->end_time > 0)
			return v_float(out, r->end_time - r->start_time);
		if (r->status == CAIRN_STATUS_RUNNING)
			return v_float(out, r->loaded_at - r->start_time);
		/* a crashed run lasted until its last heartbeat */
		if (r->status == CAIRN_STATUS_CRASHED && !r->has_end && r->has_heartbeat)
			return v_float(out, r->heartbeat - r->start_time);
		return CAIRN_ENOTFOUND;
	}
	if (strcmp(a, "start_time") == 0)
		return r->has_start ? v_int(out, (int64_t)(r->start_time * 1000)) : CAIRN_ENOTFOUND;
	if (strcmp(a, "end_time") == 0)
		return r->has_end ? v_int(out, (int64_t)(r->end_time * 1000)) : CAIRN_ENOTFOUND;
	if (strcmp(a, "user") == 0)
		return v_str(out, r->user);
	if (strcmp(a, "host") == 0)
		return v_str(out, r->host);
	if (strcmp(a, "command") == 0)
		return v_str(out, r->command);
	if (strcmp(a, "note") == 0)
		return v_str(out, r->note);
	if (strcmp(a, "parent") == 0)
		return v_str(out, r->parent);
	if (strcmp(a, "children") == 0)
		return v_int(out, r->children);
	if (strcmp(a, "exit_code") == 0)
		return r->has_exit_code ? v_int(out, r->exit_code) : CAIRN_ENOTFOUND;
	if (strcmp(a, "commit") == 0)
		return v_str(out, c ? c->commit : NULL);
	if (strcmp(a, "branch") == 0)
		return v_str(out, c ? c->branch : NULL);
	if (strcmp(a, "remote") == 0)
		return v_str(out, c ? c->remote : NULL);
	if (strcmp(a, "dirty") == 0) {
		if (!c || c->dirty < 0)
			return CAIRN_ENOTFOUND;
		out->type = CAIRN_TYPE_BOOL;
		out->i = c->dirty;
		return 0;
	}
	return CAIRN_ENOTFOUND;
}

int cairn_run_record_field(cairn_value *out, const cairn_run_record *r, const cairn_field *f)
{
	memset(out, 0, sizeof *out);
	if (!r || !f || !f->key)
		return err_set(CAIRN_EINVALID, "no record or field");
	switch (f->kind) {
	case CAIRN_FIELD_METRIC: {
		const rec_metric *m = record_metric_find(r, f->key);
		if (!m)
			return CAIRN_ENOTFOUND;
		switch (f->part) {
		case CAIRN_METRIC_MIN: return v_float(out, m->m.min);
		case CAIRN_METRIC_MAX: return v_float(out, m->m.max);
		case CAIRN_METRIC_COUNT: return v_int(out, m->m.count);
		case CAIRN_METRIC_STEP: return v_int(out, m->m.step);
		default: return v_float(out, m->m.last);
		}
	}
	case CAIRN_FIELD_PARAM: return cairn_run_record_param_get(out, r, f->key);
	case CAIRN_FIELD_PROPERTY: return v_str(out, cairn_run_record_property_get(r, f->key));
	case CAIRN_FIELD_TAG: {
		const rec_prop *t = record_tag_find(r, f->key);
		if (!t)
			return CAIRN_ENOTFOUND;
		if (t->value)
			return v_str(out, t->value);
		out->type = CAIRN_TYPE_BOOL;
		out->i = 1;
		return 0;
	}
	case CAIRN_FIELD_TAGS: return r->ntags ? v_str(out, r->tags_joined) : CAIRN_ENOTFOUND;
	case CAIRN_FIELD_DATASET: {
		const cairn_run_dataset *d = record_dataset_find(r, f->key);
		if (!d)
			return CAIRN_ENOTFOUND;
		switch (f->part) {
		case CAIRN_DATASET_PATH: return v_str(out, d->path);
		case CAIRN_DATASET_ROLE: return v_str(out, d->role);
		case CAIRN_DATASET_ALGO: return v_str(out, d->algo);
		case CAIRN_DATASET_FILES: return v_int(out, d->files);
		case CAIRN_DATASET_BYTES: return v_int(out, d->bytes);
		default: return v_str(out, d->digest);
		}
	}
	case CAIRN_FIELD_ATTRIBUTE: return attr_value(out, r, f->key);
	case CAIRN_FIELD_FILES: {
		/* a set has no one value: how many paths (the paths themselves
		 * are the datasets' and artifacts'; wrote counts artifacts only
		 * in records loaded with them) */
		bool wrote = f->part == CAIRN_FILES_WROTE;
		int64_t n = 0;
		for (size_t i = 0; i < r->ndatasets; i++)
			n += strcmp(r->datasets[i].role, wrote ? "output" : "input") == 0;
		for (size_t i = 0; wrote && i < r->nartifacts; i++)
			n += !cairn_artifact_is_capture(r->artifacts[i].kind);
		return n ? v_int(out, n) : CAIRN_ENOTFOUND;
	}
	}
	return CAIRN_ENOTFOUND;
}
