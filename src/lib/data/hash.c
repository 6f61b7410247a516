/*
 * lib/data/hash.c — the hash engine: list a tree, look its files up in the
 * hash cache, hash the rest on a thread per core, build the manifest.
 * This file holds the job, the fork-join, the sorting and the whole hash
 * (its result and the public entry points are in hash-result.c);
 * phase 1 is in hash-walk.c, phases 3 and 4 in hash-read.c, and engine.h
 * has what the three share.
 *
 * One hash is a walk and two parallel passes, each a fork-join over the same
 * threads, with the calling thread reporting progress meanwhile:
 *
 *  1. walk — a shared stack of directories (relative paths under the root's
 *     fd); each thread pops one, reads it with readdir and records regular
 *     files by name and inode number (d_ino) without a stat: the stat that
 *     matters is the one taken on the open file.  Only entries readdir cannot
 *     type are stat'ed.  Symbolic links are recorded with readlinkat and
 *     never followed; special files are noted and skipped; unreadable or
 *     vanished entries are noted as errors and the walk goes on.
 *  2. cache — one merge-join of every file's (device, inode) with the hash
 *     cache (store-data.c) on the calling thread; a row is a candidate.
 *  3. verify — candidates are stat'ed (in parallel); a hit needs the same
 *     device, inode, size, mtime and ctime as the row.  A miss is hashed.
 *  4. hash — threads take runs of files by an atomic index, open each with
 *     openat on its directory's fd (O_NOFOLLOW, and O_NONBLOCK so a FIFO
 *     swapped in cannot block), fstat it (the "before" stat), read it with
 *     reads of up to 1 MiB until the size is reached (a file smaller than
 *     the buffer is one read, hashed one-shot), and fstat it again: if
 *     device, inode, size, mtime or ctime moved, or the bytes read differ
 *     from the size, the file changed while being hashed and is reported as
 *     an error.  Hashed files go into the cache, except "racy" ones (below).
 *
 * Why no stat in the walk: on a first hash of 100,000 small files, stat'ing
 * by name in the walk and again on the open file cost a fifth of the CPU;
 * d_ino is enough to find cache candidates.  Where a filesystem's d_ino
 * differs from st_ino (some FUSE filesystems) nothing breaks: lookups miss
 * and the files are read again.
 *
 * Why read() and not mmap (measured, docs/internals/data.md): on a 1 GiB
 * file in the page cache, 1 MiB reads + XXH3 run at about 1.1x `cat` and
 * mmap at about 1.9x, but a file truncated under a mapping raises SIGBUS in
 * the user's process, which a library cannot guard against without a
 * process-wide signal handler.  read() is well above the 0.8x target.
 *
 * Racy entries: a file modified again within the same timestamp tick after
 * we hashed it would keep its (size, mtime, ctime) key with new content.  So
 * files whose ctime is within `racy_ns` (50 ms) of the start of the hash are
 * hashed but not cached; on filesystems that only keep whole seconds
 * (ctime and mtime nanoseconds both 0) the window is 2 s.
 *
 * Thread-safety: a hash_job belongs to one caller; the threads it starts
 * share only atomics and the locked directory stack and table.
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
#include "lib/data/engine.h"
#include "lib/store/data.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

int data_ncores(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* --- the job ----------------------------------------------------------------- */

void hash_job_init(hash_job *j, const char *path, data_algo algo)
{
	memset(j, 0, sizeof *j);
	j->path = path;
	j->algo = algo;
	j->use_cache = true;
	j->interval = 0.1;
	j->racy_ns = RACY_NS_DEFAULT;
}

int hash_job_options(hash_job *j, const cairn_hash_options *o)
{
	if (!o)
		return 0;
	if (o->version != CAIRN_HASH_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_hash_options version %u is not supported",
		               o->version);
	int rc = algo_parse(&j->algo, o->algo);
	if (rc)
		return rc;
	j->use_cache = o->use_cache != 0;
	j->threads = o->threads > 0 ? o->threads : 0;
	j->progress = o->progress;
	j->payload = o->payload;
	if (o->progress_interval > 0)
		j->interval = o->progress_interval;
	return 0;
}

void hash_job_free(hash_job *j)
{
	manifest_free(j->m);
	j->m = NULL;
	problems_free(&j->errors);
	problems_free(&j->skipped);
}

/* The path as the user names it: root + "/" + rel. */
const char *user_path(worker *w, const char *rel)
{
	buf_clear(&w->path);
	buf_puts(&w->path, w->en->j->path);
	if (rel && *rel) {
		if (w->path.len && w->path.ptr[w->path.len - 1] != '/')
			buf_putc(&w->path, '/');
		buf_puts(&w->path, rel);
	}
	return w->path.ptr;
}

void note_error(worker *w, const char *rel, const char *msg)
{
	problems_add(&w->errors, user_path(w, rel), msg);
}

void note_errno(worker *w, const char *rel, int e, bool walking)
{
	if (e == ENOENT || e == ENOTDIR)
		note_error(w, rel,
		           walking ? "vanished during the walk" : "vanished while being hashed");
	else if (e == ELOOP)
		note_error(w, rel, "replaced by a symbolic link while being hashed");
	else
		note_error(w, rel, strerror(e));
}

/* A worker publishes an entry's final state (and with it the digest). */
void set_state(mentry *e, entry_state st)
{
	__atomic_store_n(&e->state, (uint8_t)st, __ATOMIC_RELEASE);
}

/* --- fork-join ------------------------------------------------------------------ */

typedef struct joiner {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int left;
	void (*fn)(worker *w);
} joiner;

typedef struct thread_arg {
	joiner *jn;
	worker *w;
} thread_arg;

static void *thread_main(void *p)
{
	thread_arg *a = p;
	a->jn->fn(a->w);
	pthread_mutex_lock(&a->jn->mu);
	a->jn->left--;
	pthread_cond_signal(&a->jn->cv);
	pthread_mutex_unlock(&a->jn->mu);
	return NULL;
}

static void report(engine *en)
{
	hash_job *j = en->j;
	if (!j->progress)
		return;
	cairn_hash_progress p = {
	    .walking = atomic_load(&en->walking),
	    .files_total = atomic_load(&en->found_files),
	    .bytes_total = atomic_load(&en->found_bytes),
	    .files_done = atomic_load(&en->done_files),
	    .bytes_done = atomic_load(&en->done_bytes),
	    .elapsed = clock_mono() - en->t0,
	};
	if (j->progress(&p, j->payload) != 0)
		atomic_store(&en->cancel, 1);
}

/* Run fn on n workers while the calling thread reports progress. */
void fork_join(engine *en, int n, void (*fn)(worker *w))
{
	if (n <= 1 && !en->j->progress) {
		fn(&en->w[0]);
		return;
	}
	joiner jn = {.left = 0, .fn = fn};
	pthread_mutex_init(&jn.mu, NULL);
	pthread_cond_init(&jn.cv, NULL);
	pthread_t th[n];
	thread_arg args[n];
	int started = 0;
	for (int i = 0; i < n; i++) {
		args[i].jn = &jn;
		args[i].w = &en->w[i];
		pthread_mutex_lock(&jn.mu);
		jn.left++;
		pthread_mutex_unlock(&jn.mu);
		if (pthread_create(&th[i], NULL, thread_main, &args[i]) != 0) {
			pthread_mutex_lock(&jn.mu);
			jn.left--;
			pthread_mutex_unlock(&jn.mu);
			if (started == 0)
				fn(&en->w[0]); /* no thread at all: do the work here */
			break;
		}
		started++;
	}
	double iv = en->j->interval > 0 ? en->j->interval : 0.1;
	pthread_mutex_lock(&jn.mu);
	while (jn.left > 0) {
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		int64_t ns = dl.tv_nsec + (int64_t)(iv * 1e9);
		dl.tv_sec += ns / 1000000000LL;
		dl.tv_nsec = ns % 1000000000LL;
		pthread_cond_timedwait(&jn.cv, &jn.mu, &dl);
		if (jn.left > 0) {
			pthread_mutex_unlock(&jn.mu);
			report(en);
			pthread_mutex_lock(&jn.mu);
		}
	}
	pthread_mutex_unlock(&jn.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&jn.mu);
	pthread_cond_destroy(&jn.cv);
}

/* --- sorting beside the passes --------------------------------------------------------------- */

/* The manifest's order depends only on paths, which nothing writes after the
 * walk, so a helper thread sorts pointers to the entries while the cache and
 * hash passes run (25 ms of 100,000 paths taken off the critical path). */
typedef struct sorter {
	mentry **order;
	size_t n;
	pthread_t th;
	bool threaded;
} sorter;

static int cmp_path(const void *a, const void *b)
{
	return strcmp((*(mentry *const *)a)->path, (*(mentry *const *)b)->path);
}

static void *sort_main(void *p)
{
	sorter *so = p;
	if (so->n > 1)
		qsort(so->order, so->n, sizeof *so->order, cmp_path);
	return NULL;
}

static int sorter_start(sorter *so, manifest *m)
{
	so->n = m->n;
	so->order = malloc((m->n ? m->n : 1) * sizeof *so->order);
	if (!so->order)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n; i++)
		so->order[i] = &m->e[i];
	so->threaded = m->n >= 4096 && pthread_create(&so->th, NULL, sort_main, so) == 0;
	return 0;
}

static void sorter_join(sorter *so)
{
	if (so->threaded)
		pthread_join(so->th, NULL);
	else if (so->order)
		sort_main(so);
	so->threaded = false;
}

/* Rebuild m->e in path order without the entries that failed. */
static int sorter_apply(sorter *so, manifest *m)
{
	sorter_join(so);
	mentry *e = malloc((m->n ? m->n : 1) * sizeof *e);
	if (!e)
		return err_set(CAIRN_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < so->n; i++)
		if (so->order[i]->state != ENTRY_FAILED)
			e[k++] = *so->order[i];
	free(m->e);
	m->e = e;
	m->cap = m->n ? m->n : 1;
	m->n = k;
	free(so->order);
	so->order = NULL;
	return 0;
}

/* --- the whole hash ---------------------------------------------------------------------- */

static bool racy(const engine *en, const mentry *e)
{
	int64_t window = en->j->racy_ns;
	if (e->ctime_ns % 1000000000LL == 0 && e->mtime_ns % 1000000000LL == 0 &&
	    window < 2000000000LL)
		window = 2000000000LL; /* a filesystem with whole-second timestamps */
	return e->ctime_ns >= en->start_ns - window;
}

static int stat_root(hash_job *j, struct stat *st)
{
	if (stat(j->path, st) == 0)
		return 0;
	int e = errno;
	struct stat lst;
	if (e == ENOENT && lstat(j->path, &lst) == 0 && S_ISLNK(lst.st_mode))
		return err_set(CAIRN_ENOTFOUND, "cannot hash '%s': dangling symbolic link",
		               j->path);
	if (e == ENOENT)
		return err_set(CAIRN_ENOTFOUND, "cannot hash '%s': no such file or directory",
		               j->path);
	if (e == ELOOP)
		return err_set(CAIRN_EINVALID, "cannot hash '%s': symbolic link loop (%s)", j->path,
		               strerror(e));
	return err_set(CAIRN_EIO, "cannot hash '%s': %s", j->path, strerror(e));
}

static void engine_free(engine *en)
{
	for (int i = 0; en->w && i < en->nthreads; i++) {
		worker *w = &en->w[i];
		manifest_free(w->m);
		problems_free(&w->errors);
		problems_free(&w->skipped);
		if (w->dc_ready)
			digest_ctx_free(&w->dc);
		free(w->block);
		buf_free(&w->path);
	}
	free(en->w);
	for (size_t i = 0; i < en->sn; i++)
		free(en->stack[i]);
	free(en->stack);
	for (size_t i = 0; i < en->ndirs; i++)
		free(en->dirs[i]);
	free(en->dirs);
	if (en->rootfd >= 0)
		close(en->rootfd);
	pthread_mutex_destroy(&en->mu);
	pthread_cond_destroy(&en->cv);
}

/* Move every worker's walk results into one manifest. */
static int gather(engine *en, manifest *m)
{
	size_t total = 0;
	for (int i = 0; i < en->nthreads; i++)
		total += en->w[i].m->n;
	if (total) {
		m->e = malloc(total * sizeof *m->e);
		if (!m->e)
			return err_set(CAIRN_ENOMEM, "out of memory");
		m->cap = total;
	}
	for (int i = 0; i < en->nthreads; i++) {
		manifest *wm = en->w[i].m;
		if (wm->n)
			memcpy(m->e + m->n, wm->e, wm->n * sizeof *wm->e);
		m->n += wm->n;
		wm->n = 0;
		arena_adopt(&m->mem, &wm->mem);
	}
	return 0;
}

static int setup(engine *en, hash_job *j)
{
	en->nthreads = j->threads > 0 ? j->threads : data_ncores();
	if (en->nthreads > 256)
		en->nthreads = 256;
	en->w = calloc((size_t)en->nthreads, sizeof *en->w);
	j->m = manifest_new(j->algo);
	if (!en->w || !j->m)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (int i = 0; i < en->nthreads; i++) {
		worker *w = &en->w[i];
		w->en = en;
		w->dirfd = -1;
		buf_init(&w->path);
		w->m = manifest_new(j->algo);
		if (!w->m)
			return CAIRN_ENOMEM;
		int rc = digest_ctx_init(&w->dc, j->algo);
		if (rc)
			return rc;
		w->dc_ready = true;
	}
	return 0;
}

int data_hash(hash_job *j, cairn_store *s)
{
	engine en;
	memset(&en, 0, sizeof en);
	en.j = j;
	en.rootfd = -1;
	en.t0 = clock_mono();
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	en.start_ns = ts_ns(&now);
	pthread_mutex_init(&en.mu, NULL);
	pthread_cond_init(&en.cv, NULL);
	memset(&j->stats, 0, sizeof j->stats);
	manifest_free(j->m);
	j->m = NULL;
	int rc = 0;
	mentry **files = NULL;
	sorter so = {0};

	if (!j->path || !*j->path) {
		rc = err_set(CAIRN_EINVALID, "no path to hash");
		goto done;
	}
	struct stat st;
	if ((rc = stat_root(j, &st)) != 0)
		goto done;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		rc = err_set(CAIRN_EINVALID,
		             "cannot hash '%s': not a regular file or directory (%s)", j->path,
		             special_kind(st.st_mode) + strlen("special file skipped: "));
		goto done;
	}
	if ((rc = setup(&en, j)) != 0)
		goto done;

	/* Phase 1: list the entries. */
	if (S_ISREG(st.st_mode)) {
		/* One file: its digest is the version's digest. */
		mentry e;
		memset(&e, 0, sizeof e);
		e.type = 'f';
		e.path = (char *)path_base(j->path);
		if (!*e.path)
			e.path = (char *)j->path;
		fill_stat(&e, &st);
		j->m->is_file = true;
		if ((rc = manifest_add(en.w[0].m, &e)) != 0)
			goto done;
		atomic_store(&en.found_files, 1);
	} else {
		en.rootfd = open(j->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (en.rootfd < 0) {
			rc = err_set(errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
			             "cannot hash '%s': %s", j->path, strerror(errno));
			goto done;
		}
		if ((rc = push_dir(&en, "")) != 0)
			goto done;
		atomic_store(&en.walking, 1);
		fork_join(&en, en.nthreads, walk_worker);
		atomic_store(&en.walking, 0);
	}
	for (int i = 0; i < en.nthreads; i++) {
		if (en.w[i].fatal) {
			rc = en.w[i].fatal;
			goto done;
		}
	}
	if (atomic_load(&en.cancel)) {
		rc = err_set(CAIRN_ERROR, "hashing '%s' was cancelled", j->path);
		goto done;
	}
	if ((rc = gather(&en, j->m)) != 0)
		goto done;
	if (j->fault)
		j->fault(j->fault_arg, FAULT_AFTER_WALK, NULL);

	if ((rc = sorter_start(&so, j->m)) != 0)
		goto done;

	/* Phase 2: cache candidates. */
	size_t nfiles = 0;
	files = malloc((j->m->n ? j->m->n : 1) * sizeof *files);
	if (!files) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < j->m->n; i++)
		if (j->m->e[i].type == 'f')
			files[nfiles++] = &j->m->e[i];
	atomic_store(&en.done_files, (long long)(j->m->n - nfiles)); /* links are done */
	size_t ncand = 0;
	if (s && j->use_cache && nfiles) {
		int64_t found = 0;
		if (store_hash_cache_lookup(s, j->algo, files, nfiles, &found) != 0)
			cairn_error_clear(); /* an unreadable cache only costs time */
		/* Candidates first (they are sorted by inode: stat order), then the rest
		 * in walk order, so the hash pass reads directory by directory. */
		if (found) {
			mentry **cand = malloc((size_t)found * sizeof *cand);
			if (!cand) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				goto done;
			}
			for (size_t i = 0; i < nfiles; i++)
				if (files[i]->state == ENTRY_CANDIDATE)
					cand[ncand++] = files[i];
			run_list(&en, cand, ncand, verify_worker, 256);
			free(cand);
		}
	}

	/* Phase 4: hash the rest, in walk order. */
	size_t np = 0;
	for (size_t i = 0; i < j->m->n; i++)
		if (j->m->e[i].type == 'f' && j->m->e[i].state != ENTRY_CACHED)
			files[np++] = &j->m->e[i];
	if (np && !atomic_load(&en.cancel))
		run_list(&en, files, np, hash_worker, 16);
	j->stats.cache_hits = atomic_load(&en.hits);
	for (int i = 0; i < en.nthreads; i++) {
		worker *w = &en.w[i];
		if (w->fatal && !rc)
			rc = w->fatal;
		j->stats.files_read += w->files_read;
		j->stats.bytes_read += w->bytes_read;
		problems_merge(&j->errors, &w->errors);
		problems_merge(&j->skipped, &w->skipped);
	}
	if (rc)
		goto done;
	if (atomic_load(&en.cancel)) {
		rc = err_set(CAIRN_ERROR, "hashing '%s' was cancelled", j->path);
		goto done;
	}
	report(&en);

	/* Remember what was read, except racy entries. */
	if (s && j->use_cache) {
		size_t nput = 0;
		for (size_t i = 0; i < np; i++)
			if (files[i]->state == ENTRY_HASHED && !racy(&en, files[i]))
				files[nput++] = files[i];
		if (store_hash_cache_put(s, j->algo, files, nput) != 0)
			cairn_error_clear(); /* a read-only store: hashing still worked */
	}

	/* Failed entries leave the manifest; what remains is sorted and summed. */
	if ((rc = sorter_apply(&so, j->m)) != 0)
		goto done;
	if (j->m->is_file && j->m->n == 0) {
		/* The only file failed: a plain error. */
		rc = err_set(CAIRN_EIO, "cannot hash '%s': %s", j->path,
		             j->errors.n ? j->errors.v[0].msg : "unreadable");
		goto done;
	}
	if ((rc = manifest_finish(j->m)) != 0)
		goto done;
	j->stats.files = j->m->files;
	j->stats.bytes = j->m->bytes;
	j->stats.errors = (int64_t)j->errors.n;
	j->stats.skipped = (int64_t)j->skipped.n;
	if (j->errors.n) {
		rc = err_set(CAIRN_EIO,
		             "cannot hash '%s': %zu %s could not be hashed (first: '%s': %s)",
		             j->path, j->errors.n, j->errors.n == 1 ? "entry" : "entries",
		             j->errors.v[0].path, j->errors.v[0].msg);
		goto done_partial;
	}
done:
	if (rc) {
		manifest_free(j->m);
		j->m = NULL;
	}
done_partial:
	j->stats.seconds = clock_mono() - en.t0;
	sorter_join(&so);
	free(so.order);
	free(files);
	engine_free(&en);
	return rc;
}
