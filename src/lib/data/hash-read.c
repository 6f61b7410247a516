/*
 * lib/data/hash-read.c — phases 3 and 4 of a hash (the algorithm is
 * described in hash.c): verifying the hash cache's candidates by a stat on
 * the file, and reading and hashing the misses, with the before/after fstat
 * that catches a file changing while it is read.  Workers take runs of
 * entries by an atomic index.
 *
 * Thread-safety: an entry belongs to the worker that took it; its final
 * state is published with set_state (release).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/data/data.h"
#include "lib/store/data.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

#include "lib/data/engine.h"

/* --- phases 3 and 4: verify and hash -------------------------------------------------------- */

/* The fd of entry e's directory (cached per worker); -1 with errno set. */
static int entry_dirfd(worker *w, const mentry *e)
{
	engine *en = w->en;
	if (w->dirfd >= 0 && w->cur_dir == e->dir)
		return w->dirfd;
	if (w->dirfd >= 0 && w->dirfd != en->rootfd)
		close(w->dirfd);
	w->dirfd = -1;
	w->cur_dir = e->dir;
	const char *rel = en->dirs[e->dir];
	w->dirfd = *rel ? openat(en->rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
	                : en->rootfd;
	w->dir_errno = w->dirfd < 0 ? errno : 0;
	if (w->dirfd < 0)
		errno = w->dir_errno;
	return w->dirfd;
}

void close_dirfd(worker *w)
{
	if (w->dirfd >= 0 && w->dirfd != w->en->rootfd)
		close(w->dirfd);
	w->dirfd = -1;
}

/* Take the next run of entries: [*lo, *hi).  Runs shrink toward the end so
 * the last files (maybe big ones) spread over every thread. */
static bool take_run(engine *en, size_t *lo, size_t *hi)
{
	size_t seen = atomic_load_explicit(&en->next, memory_order_relaxed);
	size_t left = seen < en->nlist ? en->nlist - seen : 0;
	size_t k = left / (4 * (size_t)en->nthreads);
	if (k > RUN_MAX)
		k = RUN_MAX;
	if (k < 1)
		k = 1;
	size_t i = atomic_fetch_add_explicit(&en->next, k, memory_order_relaxed);
	if (i >= en->nlist)
		return false;
	*lo = i;
	*hi = i + k < en->nlist ? i + k : en->nlist;
	return true;
}

void verify_worker(worker *w)
{
	engine *en = w->en;
	size_t lo, hi;
	while (!atomic_load_explicit(&en->cancel, memory_order_relaxed) && take_run(en, &lo, &hi)) {
		for (size_t i = lo; i < hi; i++) {
			mentry *e = en->list[i];
			struct stat st;
			int ok;
			if (en->rootfd < 0) {
				ok = stat(en->j->path, &st) == 0; /* a file root */
			} else {
				int dfd = entry_dirfd(w, e);
				ok = dfd >= 0 && fstatat(dfd, e->path + e->name_off, &st,
				                         AT_SYMLINK_NOFOLLOW) == 0;
			}
			if (ok && S_ISREG(st.st_mode) && same_stat(e, &st)) {
				e->state = ENTRY_CACHED;
				atomic_fetch_add_explicit(&en->hits, 1, memory_order_relaxed);
				atomic_fetch_add_explicit(&en->done_files, 1, memory_order_relaxed);
				atomic_fetch_add_explicit(&en->done_bytes, e->size,
				                          memory_order_relaxed);
				atomic_fetch_add_explicit(&en->found_bytes, e->size,
				                          memory_order_relaxed);
			} else {
				e->state =
				    ENTRY_PENDING; /* changed, or gone: the hash pass decides */
			}
		}
	}
	close_dirfd(w);
}

/* O_NOATIME keeps hashing from dirtying every inode it reads (relatime
 * still writes the first read after a change); only the owner (or root) may
 * ask for it, so on EPERM the worker stops asking. */
static int open_entry(worker *w, const mentry *e)
{
	engine *en = w->en;
	for (;;) {
		int flags =
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (w->no_noatime ? 0 : O_NOATIME);
		int fd;
		if (en->rootfd < 0) {
			fd = open(en->j->path,
			          flags); /* a file root: the user's path, links followed */
		} else {
			int dfd = entry_dirfd(w, e);
			if (dfd < 0)
				return -1;
			fd = openat(dfd, e->path + e->name_off, flags | O_NOFOLLOW);
		}
		if (fd >= 0 || errno != EPERM || w->no_noatime)
			return fd;
		w->no_noatime = true;
	}
}

static void hash_entry(worker *w, mentry *e)
{
	engine *en = w->en;
	hash_job *j = en->j;
	const char *rel = en->rootfd < 0 ? NULL : e->path;
	int inj = j->fault ? j->fault(j->fault_arg, FAULT_OPEN, e->path) : 0;
	int fd = inj ? (errno = inj, -1) : open_entry(w, e);
	if (fd < 0) {
		note_errno(w, rel, errno, false);
		set_state(e, ENTRY_FAILED);
		return;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		note_errno(w, rel, err, false);
		set_state(e, ENTRY_FAILED);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		note_error(w, rel, "replaced by a special file while being hashed");
		set_state(e, ENTRY_FAILED);
		return;
	}
	fill_stat(e, &st); /* the "before" stat */
	atomic_fetch_add_explicit(&en->found_bytes, e->size, memory_order_relaxed);
	if (e->size >= BIG_FILE)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	int64_t total = 0;
	bool streaming = false, faulted = false;
	char one[DIGEST_HEX_MAX + 1];
	while (total < e->size) {
		ssize_t r = read(fd, w->block, BLOCK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			note_errno(w, rel, err, false);
			set_state(e, ENTRY_FAILED);
			return;
		}
		if (r == 0)
			break;
		if (total == 0 && (int64_t)r >= e->size) {
			/* The whole file in one read: one-shot digest. */
			digest_buf_hex(&w->dc, w->block, (size_t)r, one);
		} else {
			if (!streaming) {
				digest_begin(&w->dc);
				streaming = true;
			}
			digest_update(&w->dc, w->block, (size_t)r);
		}
		total += r;
		if (j->fault && !faulted) {
			faulted = true;
			j->fault(j->fault_arg, FAULT_READ, e->path);
		}
		if (atomic_load_explicit(&en->cancel, memory_order_relaxed))
			break;
	}
	if (e->size == 0 && j->fault)
		j->fault(j->fault_arg, FAULT_READ, e->path);
	int fe = fstat(fd, &st);
	int ferr = errno;
	close(fd);
	w->files_read++;
	w->bytes_read += total;
	if (fe != 0) {
		note_errno(w, rel, ferr, false);
		set_state(e, ENTRY_FAILED);
		return;
	}
	if (!same_stat(e, &st) || total != e->size) {
		if (!atomic_load(&en->cancel))
			note_error(w, rel, "changed while being hashed");
		set_state(e, ENTRY_FAILED);
		return;
	}
	if (streaming)
		digest_end_hex(&w->dc, e->digest);
	else if (e->size == 0)
		digest_buf_hex(&w->dc, "", 0, e->digest);
	else
		memcpy(e->digest, one, sizeof one);
	set_state(e, ENTRY_HASHED);
	atomic_fetch_add_explicit(&en->done_files, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&en->done_bytes, e->size, memory_order_relaxed);
}

void hash_worker(worker *w)
{
	engine *en = w->en;
	if (!w->block) {
		w->block = aligned_alloc(4096, BLOCK);
		if (!w->block) {
			w->fatal = err_set(CAIRN_ENOMEM, "out of memory");
			atomic_store(&en->cancel, 1);
			return;
		}
	}
	size_t lo, hi;
	while (!atomic_load_explicit(&en->cancel, memory_order_relaxed) && take_run(en, &lo, &hi))
		for (size_t i = lo; i < hi; i++)
			hash_entry(w, en->list[i]);
	close_dirfd(w);
}

/* Run fn over list[0, n) on up to nthreads threads. */
void run_list(engine *en, mentry **list, size_t n, void (*fn)(worker *w), int per_thread)
{
	en->list = list;
	en->nlist = n;
	atomic_store(&en->next, 0);
	int threads = en->nthreads;
	if ((size_t)threads * (size_t)per_thread > n)
		threads = (int)(n / (size_t)per_thread) + 1;
	if (threads > en->nthreads)
		threads = en->nthreads;
	fork_join(en, threads, fn);
}
