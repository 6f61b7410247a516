/*
 * lib/run/writer.c — the buffered metrics writer of a store.
 *
 * Producers (cairn_run_log_metric, any thread) append points to the `fill`
 * buffer under `mu` and return.  One flusher thread per store swaps `fill`
 * with `spare` and commits the swapped batch in one transaction, when the
 * batch reaches TRIGGER points, every INTERVAL_MS, on writer_flush, and when
 * the store closes.  Memory is bounded: when `fill` holds CAP points the
 * producer waits for the flusher (back-pressure; nothing is dropped).
 *
 * A failed commit is not silent: the error is kept and returned by the next
 * log/flush call of any producer.
 *
 * A keyed write (cairn_store_idem_begin .. _commit, lib/store/idem.c) holds
 * the store's lock and one transaction for the whole of a server request,
 * so its points cannot go through the flusher (which takes the lock to
 * commit: it would wait for the request, and the request for it).  The
 * thread that holds it appends to s->held instead; its flushes insert
 * those points into the held transaction (and do not wait for the
 * flusher), commit inserts the rest before the key, abort drops them.
 * Which thread holds is asked of the lock itself: a trylock of the
 * recursive mutex succeeds, with s->hold set, only for the holder.
 *
 * States: not started (s->w NULL) -> running -> stopping -> joined.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/store/store.h"

#define CAP         (256 * 1024) /* points per buffer; two buffers per store */
#define TRIGGER     (64 * 1024)  /* flush early once this many are waiting */
#define INTERVAL_MS 200          /* flush at least this often */

struct writer {
	cairn_store *s;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t wake;  /* flusher: work or stop */
	pthread_cond_t space; /* producers: fill has room */
	pthread_cond_t done;  /* flushers' progress */
	mpoint *fill, *spare;
	size_t n;
	uint64_t appended, flushed; /* sequence counters */
	bool stop, urgent;
	int err;
	char errmsg[512];
};

static void *flusher(void *arg)
{
	writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (w->n == 0 && w->stop)
			break;
		if (w->n < TRIGGER && !w->urgent && !w->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += INTERVAL_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->wake, &w->mu, &ts);
		}
		if (w->n == 0) {
			w->urgent = false;
			pthread_cond_broadcast(&w->done);
			continue;
		}
		mpoint *batch = w->fill;
		size_t n = w->n;
		uint64_t upto = w->appended;
		w->fill = w->spare;
		w->spare = NULL;
		w->n = 0;
		w->urgent = false;
		pthread_cond_broadcast(&w->space);
		pthread_mutex_unlock(&w->mu);

		int rc = store_metrics_insert(w->s, batch, n);
		char msg[512] = "";
		if (rc)
			snprintf(msg, sizeof msg, "%s", cairn_error_last());

		pthread_mutex_lock(&w->mu);
		w->spare = batch;
		w->flushed = upto;
		if (rc && !w->err) {
			w->err = rc;
			snprintf(w->errmsg, sizeof w->errmsg, "metrics lost: %s", msg);
		}
		pthread_cond_broadcast(&w->done);
	}
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static writer *writer_get(cairn_store *s)
{
	pthread_mutex_lock(&s->wlock);
	writer *w = s->w;
	if (w) {
		pthread_mutex_unlock(&s->wlock);
		return w;
	}
	w = calloc(1, sizeof *w);
	if (!w)
		goto fail;
	w->s = s;
	w->fill = malloc(CAP * sizeof(mpoint));
	w->spare = malloc(CAP * sizeof(mpoint));
	if (!w->fill || !w->spare)
		goto fail;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->space, NULL);
	pthread_cond_init(&w->done, NULL);
	if (pthread_create(&w->th, NULL, flusher, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->space);
		pthread_cond_destroy(&w->done);
		goto fail;
	}
	__atomic_store_n(&s->w, w, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->wlock);
	return w;
fail:
	if (w) {
		free(w->fill);
		free(w->spare);
		free(w);
	}
	pthread_mutex_unlock(&s->wlock);
	err_set(CAIRN_ENOMEM, "cannot start the metrics writer");
	return NULL;
}

static int take_error(writer *w)
{
	/* called with mu held */
	if (!w->err)
		return 0;
	int rc = err_set(w->err, "%s", w->errmsg);
	w->err = 0;
	return rc;
}

/* True, with the store's lock taken once more, when this thread holds a
 * keyed write; the caller unlocks. */
static bool held_by_me(cairn_store *s)
{
	if (!__atomic_load_n(&s->holds, __ATOMIC_ACQUIRE))
		return false;
	if (pthread_mutex_trylock(&s->lock) != 0)
		return false; /* another thread holds the lock: not ours */
	if (s->hold)
		return true;
	pthread_mutex_unlock(&s->lock);
	return false;
}

static int held_append(cairn_store *s, const mpoint *p)
{
	if (s->nheld == s->capheld) {
		size_t ncap = s->capheld ? s->capheld * 2 : 1024;
		mpoint *np = realloc(s->held, ncap * sizeof *np);
		if (!np)
			return err_set(CAIRN_ENOMEM, "out of memory");
		s->held = np;
		s->capheld = ncap;
	}
	s->held[s->nheld++] = *p;
	return 0;
}

int writer_held_flush(cairn_store *s)
{
	if (s->nheld == 0)
		return 0;
	int rc = store_metrics_insert(s, s->held, s->nheld);
	s->nheld = 0;
	return rc;
}

void writer_held_drop(cairn_store *s)
{
	free(s->held);
	s->held = NULL;
	s->nheld = s->capheld = 0;
}

int writer_append(cairn_store *s, const mpoint *p)
{
	if (held_by_me(s)) {
		int rc = held_append(s, p);
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	writer *w = __atomic_load_n(&s->w, __ATOMIC_ACQUIRE);
	if (!w)
		w = writer_get(s);
	if (!w)
		return CAIRN_ENOMEM;
	pthread_mutex_lock(&w->mu);
	int rc = take_error(w);
	while (w->n >= CAP || !w->fill) {
		w->urgent = true;
		pthread_cond_signal(&w->wake);
		pthread_cond_wait(&w->space, &w->mu);
	}
	w->fill[w->n++] = *p;
	w->appended++;
	if (w->n == TRIGGER)
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int writer_flush(cairn_store *s)
{
	if (held_by_me(s)) {
		/* the held points into the held transaction; the flusher's are
		 * other requests' and it cannot commit them before this one ends */
		int rc = writer_held_flush(s);
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	writer *w = __atomic_load_n(&s->w, __ATOMIC_ACQUIRE);
	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	uint64_t target = w->appended;
	while (w->flushed < target) {
		w->urgent = true;
		pthread_cond_signal(&w->wake);
		pthread_cond_wait(&w->done, &w->mu);
	}
	int rc = take_error(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

uint64_t writer_mark(cairn_store *s)
{
	writer *w = __atomic_load_n(&s->w, __ATOMIC_ACQUIRE);
	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	uint64_t mark = w->appended;
	pthread_mutex_unlock(&w->mu);
	return mark;
}

void writer_wait(cairn_store *s, uint64_t mark)
{
	writer *w = __atomic_load_n(&s->w, __ATOMIC_ACQUIRE);
	if (!w || mark == 0)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->flushed < mark && w->flushed < w->appended) {
		w->urgent = true;
		pthread_cond_signal(&w->wake);
		pthread_cond_wait(&w->done, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

void writer_stop(cairn_store *s)
{
	writer *w = s->w;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->space);
	pthread_cond_destroy(&w->done);
	free(w->fill);
	free(w->spare);
	free(w);
	s->w = NULL;
}
