/*
 * lib/run/iter-json.c — cairn_run_iter_write_json: the iterator's records
 * written as run objects, loaded by a thread a CPU (docs/internals/query.md,
 * "The JSON listing by threads").
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/run/iter.h"
#include "lib/run/run.h"
#include "lib/store/backend.h"
#include "lib/store/record.h"
#include "lib/store/store.h"

/* A listing of many runs is mostly loading (SQLite's per-row cost over the
 * runs' params and metrics rows) and then writing JSON, each batch alone:
 * so threads, each with a handle of its own (the first the caller's, the
 * others peers), take batches in turn, load and write them into a buffer,
 * and the caller's thread hands the buffers to `write` in order.  At most
 * JS_AHEAD batches wait, so the memory is a few batches' whatever the page
 * (docs/internals/query.md, "The JSON listing by threads"). */
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

/* Batch k's objects, comma-separated, into b. */
static int js_batch(cairn_store *s, const js_stream *js, size_t k, buf *b)
{
	size_t from = k * js->batch;
	size_t n = js->n - from < js->batch ? js->n - from : js->batch;
	rec_batch *bt;
	int rc = store_records_load(s, js->ids + from, n, false, &bt);
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
		buf b = BUF_INIT;
		int rc = js_batch(w->s, js, i, &b);
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
			buf b = BUF_INIT;
			if (!first)
				buf_putc(&b, ',');
			if ((rc = js_batch(it->store, &js, i, &b)) == 0)
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
