/*
 * lib/capture/stream.c — artifacts written in pieces (the logs of `cairn
 * run`), with bounded memory whatever their size, kept off the caller's
 * critical path.
 *
 * Bytes go through a ring of RING_SLOTS buffers of SLOT_SIZE bytes.  Two
 * worker threads consume every slot in order: one writes it to a temp file
 * in objects/tmp, the other runs it through SHA-256; a slot is free again
 * once both have passed it.  So the producer (the output pump of cairn run)
 * only copies — or, with reserve()/commit(), reads straight into a slot —
 * and the two expensive steps run beside it and beside each other.  close()
 * waits for both, publishes the object under its hash (a hard link: the temp
 * file stays as the source until the artifact is recorded, see close()) and
 * records the artifact.
 *
 * Crash safety: from open() to the end of close() the temp file is locked
 * and named in a sidecar (object_stream_mark), so when this process dies
 * — kill -9 included — the next process to open the store, or `cairn gc`,
 * attaches what was written to the run (lib/store/objects-tmp.c).  The
 * worker writes each slot as soon as it is committed, so what a crash can
 * lose is the ring's unwritten slots, not the log.
 *
 * States: open -> (write | reserve/commit)* -> closed | aborted.  A write
 * error is sticky: later bytes are dropped and close() reports it (the temp
 * file is removed).  Thread-safety: one producer per stream; the ring is
 * shared with the workers under `mu`.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/capture/capture.h"
#include "lib/store/store.h"
#include "util/fs.h"
#include "util/sha.h"

#define SLOT_SIZE  ((size_t)1 << 20)
#define RING_SLOTS 8

struct cairn_artifact_stream {
	cairn_store *store;
	int64_t rid;
	char *name, *kind, *tmp;
	int fd;
	sha_ctx *sha;
	int64_t size;

	char *slots[RING_SLOTS];
	size_t len[RING_SLOTS];
	uint64_t produced;        /* slots committed */
	uint64_t written, hashed; /* slots consumed by each worker */
	bool reserved;            /* the producer holds slot produced % RING_SLOTS */
	bool closing;
	bool marked; /* the sidecar that makes the temp file recoverable is there */
	pthread_mutex_t mu;
	pthread_cond_t work, space;
	pthread_t writer, hasher;
	bool threads;

	int err; /* sticky: the first error */
	char errmsg[256];
};

static void *writer_main(void *arg)
{
	cairn_artifact_stream *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->written == s->produced && !s->closing)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->written == s->produced)
			break;
		size_t k = s->written % RING_SLOTS;
		const char *p = s->slots[k];
		size_t n = s->len[k];
		bool failed = s->err != 0;
		pthread_mutex_unlock(&s->mu);
		int e = 0;
		while (n && !failed) {
			ssize_t w = write(s->fd, p, n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				e = errno;
				break;
			}
			p += w;
			n -= (size_t)w;
		}
		pthread_mutex_lock(&s->mu);
		if (e && !s->err) {
			s->err = CAIRN_EIO;
			snprintf(s->errmsg, sizeof s->errmsg, "cannot write artifact '%s': %s",
			         s->name, strerror(e));
		}
		s->written++;
		pthread_cond_broadcast(&s->space);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void *hasher_main(void *arg)
{
	cairn_artifact_stream *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->hashed == s->produced && !s->closing)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->hashed == s->produced)
			break;
		size_t k = s->hashed % RING_SLOTS;
		pthread_mutex_unlock(&s->mu);
		sha_update(s->sha, s->slots[k], s->len[k]);
		pthread_mutex_lock(&s->mu);
		s->hashed++;
		pthread_cond_broadcast(&s->space);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Stop the workers once they have drained the ring. */
static void stop_workers(cairn_artifact_stream *s)
{
	if (!s->threads)
		return;
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->writer, NULL);
	pthread_join(s->hasher, NULL);
	s->threads = false;
}

void cairn_artifact_stream_abort(cairn_artifact_stream *s)
{
	if (!s)
		return;
	stop_workers(s);
	/* sidecar, then the temp file, then the lock (objects-tmp.c) */
	if (s->marked)
		object_stream_unmark(s->tmp);
	if (s->tmp)
		unlink(s->tmp);
	if (s->fd >= 0)
		close(s->fd);
	sha_free(s->sha);
	for (int i = 0; i < RING_SLOTS; i++)
		free(s->slots[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->space);
	free(s->tmp);
	free(s->name);
	free(s->kind);
	free(s);
}

static const char *media_of(const char *name)
{
	size_t n = strlen(name);
	if ((n > 4 && strcmp(name + n - 4, ".log") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".txt") == 0))
		return "text/plain";
	return "application/octet-stream";
}

int cairn_artifact_stream_open(cairn_artifact_stream **out, cairn_run *run, const char *name,
                               const char *kind)
{
	*out = NULL;
	if (!run || !name)
		return err_set(CAIRN_EINVALID, "no run or no artifact name");
	int rc = cairn_key_validate(name, "artifact name");
	if (rc)
		return rc;
	if (!relpath_is_safe(name))
		return err_set(CAIRN_EINVALID, "artifact name '%s' is not a clean relative path",
		               name);
	cairn_artifact_stream *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(CAIRN_ENOMEM, "out of memory");
	s->fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->space, NULL);
	s->store = cairn_run_store(run);
	s->name = strdup(name);
	s->kind = strdup(kind ? kind : CAIRN_ARTIFACT_FILE);
	s->sha = sha_new();
	bool ok = s->name && s->kind && s->sha;
	for (int i = 0; i < RING_SLOTS && ok; i++)
		ok = (s->slots[i] = malloc(SLOT_SIZE)) != NULL;
	if (!ok) {
		const char *why = s->sha ? NULL : sha_error();
		cairn_artifact_stream_abort(s);
		return why ? err_set(CAIRN_ERROR, "%s", why)
		           : err_set(CAIRN_ENOMEM, "out of memory");
	}
	if ((rc = capture_run_rid(run, &s->rid)) != 0) {
		cairn_artifact_stream_abort(s);
		return rc;
	}
	s->fd = object_temp_open(s->store, &s->tmp);
	if (s->fd < 0) {
		rc = cairn_error_last_code();
		cairn_artifact_stream_abort(s);
		return rc ? rc : CAIRN_EIO;
	}
	/* Recoverable from here on: if this process dies, whoever opens the
	 * store next attaches what was written (lib/store/objects-tmp.c). */
	if ((rc = object_stream_mark(s->store, s->fd, s->tmp, cairn_run_id(run), s->name, s->kind,
	                             media_of(s->name))) != 0) {
		cairn_artifact_stream_abort(s);
		return rc;
	}
	s->marked = true;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		cairn_artifact_stream_abort(s);
		return err_set(CAIRN_ERROR, "cannot start a thread");
	}
	if (pthread_create(&s->hasher, NULL, hasher_main, s) != 0) {
		pthread_mutex_lock(&s->mu);
		s->closing = true;
		pthread_cond_broadcast(&s->work);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
		cairn_artifact_stream_abort(s);
		return err_set(CAIRN_ERROR, "cannot start a thread");
	}
	s->threads = true;
	*out = s;
	return 0;
}

int cairn_artifact_stream_reserve(cairn_artifact_stream *s, void **out, size_t *len)
{
	if (!s || !out || !len)
		return err_set(CAIRN_EINVALID, "no stream or no buffer");
	if (s->reserved)
		return err_set(CAIRN_EINVALID, "a slot of artifact '%s' is already reserved",
		               s->name);
	pthread_mutex_lock(&s->mu);
	/* wait until both workers are done with the slot we are about to reuse */
	while (s->produced - s->written >= RING_SLOTS || s->produced - s->hashed >= RING_SLOTS)
		pthread_cond_wait(&s->space, &s->mu);
	int err = s->err;
	pthread_mutex_unlock(&s->mu);
	if (err)
		return err_set(err, "%s", s->errmsg);
	*out = s->slots[s->produced % RING_SLOTS];
	*len = SLOT_SIZE;
	s->reserved = true;
	return 0;
}

int cairn_artifact_stream_commit(cairn_artifact_stream *s, size_t n)
{
	if (!s || !s->reserved)
		return err_set(CAIRN_EINVALID, "no slot reserved");
	s->reserved = false;
	if (n == 0)
		return 0;
	if (n > SLOT_SIZE)
		return err_set(CAIRN_EINVALID, "committed %zu bytes into a slot of %zu", n,
		               SLOT_SIZE);
	pthread_mutex_lock(&s->mu);
	s->len[s->produced % RING_SLOTS] = n;
	s->produced++;
	s->size += (int64_t)n;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int cairn_artifact_stream_write(cairn_artifact_stream *s, const void *data, size_t len)
{
	if (!s || (!data && len))
		return err_set(CAIRN_EINVALID, "no stream or no data");
	const char *p = data;
	while (len) {
		void *slot;
		size_t cap;
		int rc = cairn_artifact_stream_reserve(s, &slot, &cap);
		if (rc)
			return rc;
		size_t n = len < cap ? len : cap;
		memcpy(slot, p, n);
		cairn_artifact_stream_commit(s, n);
		p += n;
		len -= n;
	}
	return 0;
}

int cairn_artifact_stream_close(cairn_artifact_stream *s)
{
	if (!s)
		return err_set(CAIRN_EINVALID, "no stream");
	int rc = 0;
	char oid[65];
	stop_workers(s);
	if (s->err) {
		rc = err_set(s->err, "%s", s->errmsg);
		goto done;
	}
	/* The fd (and with it the lock that says this writer lives) stays open
	 * until abort() below has removed the sidecar and the temp file. */
	sha_final_hex(s->sha, oid);
	s->sha = NULL;
	/* Published as a hard link, the temp file staying until the reference
	 * commits: if a purge removes the object in between (same bytes, another
	 * run), it is published again from the temp file.  abort() unlinks it. */
	for (int attempt = 0;; attempt++) {
		rc = object_publish(s->store, s->tmp, oid, true);
		if (rc == 0)
			rc = store_artifact_put(s->store, s->rid, s->name, oid, s->size,
			                        media_of(s->name), s->kind, NULL, CAIRN_STEP_AUTO);
		if (!object_retry(&rc, attempt))
			break;
	}
done:
	cairn_artifact_stream_abort(s);
	return rc;
}
