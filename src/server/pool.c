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
 * Read-your-writes, per client: metric batches are acknowledged once
 * buffered in the writer's handle.  After each write the writer's mark
 * (cairn_store_write_mark) is kept for the client (its token; a --no-auth
 * server has one client), and its next lease first waits for the points
 * before that mark to be committed (cairn_store_flush_to), so a client
 * reads every point acknowledged to it.  Another client's read does not
 * wait for them: it sees what the writer committed (every 200 ms while
 * anyone logs).  Waiting for the whole buffer on every read made each read
 * beside a busy writer wait for one or two commits of up to 256k points.
 *
 * Thread-safety: pool_mu guards the free list and the marks; a leased
 * handle belongs to one request until released.  There are as many readers as threads, so a
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

static int64_t client_of(const request *rq)
{
	return rq->auth.authed ? rq->auth.token_id : 0;
}

void pool_wrote(server *srv, const request *rq)
{
	if (!srv->pool_n)
		return;
	uint64_t mark = cairn_store_write_mark(srv->store);
	if (mark == 0)
		return;
	int64_t who = client_of(rq);
	pthread_mutex_lock(&srv->pool_mu);
	pool_mark *slot = NULL, *low = &srv->marks[0];
	for (int i = 0; i < POOL_MARKS && !slot; i++) {
		pool_mark *m = &srv->marks[i];
		if (m->mark && m->who == who)
			slot = m;
		else if (m->mark < low->mark)
			low = m;
	}
	if (!slot) { /* a free slot, else the oldest mark's: its client then waits as unknown */
		slot = low;
		if (slot->mark > srv->marks_evicted)
			srv->marks_evicted = slot->mark;
		slot->who = who;
	}
	if (mark > slot->mark)
		slot->mark = mark;
	pthread_mutex_unlock(&srv->pool_mu);
}

cairn_store *pool_lease(server *srv, const request *rq)
{
	if (!srv->pool_n)
		return srv->store;
	int64_t who = client_of(rq);
	pthread_mutex_lock(&srv->pool_mu);
	uint64_t mark = srv->marks_evicted;
	for (int i = 0; i < POOL_MARKS; i++)
		if (srv->marks[i].mark && srv->marks[i].who == who) {
			mark = srv->marks[i].mark > mark ? srv->marks[i].mark : mark;
			break;
		}
	pthread_mutex_unlock(&srv->pool_mu);
	/* a failed commit stays the writer's error, returned to its next writer */
	cairn_store_flush_to(srv->store, mark);
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
