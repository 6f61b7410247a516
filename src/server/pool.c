/*
 * server/pool.c — the server's read pool: peer handles of its store
 * (cairn_store_open_peer), one per libmicrohttpd thread, that the reads use
 * instead of the one writer handle (docs/internals/web.md, "Read pool").
 *
 * A store handle serialises its calls under its lock, so one handle would
 * make every request wait for the slowest (a group over a million runs, a
 * flusher's commit).  Each peer has its own connection: SQLite in WAL mode
 * lets readers run beside the writer, PostgreSQL gives each its backend.
 * Writes stay on the writer, so the write path (run cache, metrics writer,
 * idempotency keys) is what it was.
 *
 * Read-your-writes: metric batches are acknowledged once buffered in the
 * writer's handle; a lease first waits for that buffer to be committed
 * (cairn_store_flush, free when nothing waits), so a read sees every point
 * acknowledged before it began.
 *
 * Thread-safety: pool_mu guards the free list; a leased handle belongs to
 * one request until released.  There are as many readers as threads, so a
 * lease waits only when opening some of them failed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "server/http.h"

void pool_open(server *srv)
{
	pthread_mutex_init(&srv->pool_mu, NULL);
	pthread_cond_init(&srv->pool_cv, NULL);
	unsigned want = srv->cfg.readers > 0    ? (unsigned)srv->cfg.readers
	                : srv->cfg.readers == 0 ? srv->cfg.threads
	                                        : 0;
	srv->pool = calloc(want ? want : 1, sizeof *srv->pool);
	srv->pool_free = calloc(want ? want : 1, sizeof *srv->pool_free);
	if (!srv->pool || !srv->pool_free)
		want = 0;
	for (unsigned i = 0; i < want; i++) {
		cairn_store *s;
		if (cairn_store_open_peer(&s, srv->store) != 0) {
			/* fewer readers: the others, or the writer, serve the reads */
			fprintf(stderr, "cairn server: warning: read pool: %s\n",
			        cairn_error_last());
			break;
		}
		srv->pool[srv->pool_n++] = s;
		srv->pool_free[srv->pool_nfree++] = s;
	}
}

void pool_close(server *srv)
{
	for (unsigned i = 0; i < srv->pool_n; i++)
		cairn_store_close(srv->pool[i]);
	free(srv->pool);
	free(srv->pool_free);
	srv->pool = srv->pool_free = NULL;
	srv->pool_n = srv->pool_nfree = 0;
	pthread_cond_destroy(&srv->pool_cv);
	pthread_mutex_destroy(&srv->pool_mu);
}

cairn_store *pool_lease(server *srv)
{
	if (!srv->pool_n)
		return srv->store;
	/* a failed flush is the writer's error, returned to its next writer */
	cairn_store_flush(srv->store);
	pthread_mutex_lock(&srv->pool_mu);
	while (!srv->pool_nfree)
		pthread_cond_wait(&srv->pool_cv, &srv->pool_mu);
	cairn_store *s = srv->pool_free[--srv->pool_nfree];
	pthread_mutex_unlock(&srv->pool_mu);
	return s;
}

void pool_release(server *srv, cairn_store *s)
{
	if (!s || s == srv->store)
		return;
	pthread_mutex_lock(&srv->pool_mu);
	srv->pool_free[srv->pool_nfree++] = s;
	pthread_cond_signal(&srv->pool_cv);
	pthread_mutex_unlock(&srv->pool_mu);
}
