/*
 * lib/data/engine.h — what the hash engine's three files share (private to
 * src/lib/data/): the engine (one hash, its threads' shared state) and the
 * worker (one thread's), the stat helpers, and each phase's entry point.
 *
 *   hash.c         the job, fork-join, sorting, the whole hash
 *   hash-result.c  the typed result and its JSON, the public entry points
 *   hash-walk.c    phase 1: the parallel directory walk
 *   hash-read.c    phases 3 and 4: verifying cache candidates, hashing files
 *
 * The algorithm and its invariants are described at the top of hash.c.
 * Thread-safety: as there; workers share only atomics and the engine's
 * locked directory stack and table.
 */
#ifndef CAIRN_LIB_DATA_ENGINE_H
#define CAIRN_LIB_DATA_ENGINE_H

#include <dirent.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "lib/data/data.h"

#define BLOCK          (1u << 20)   /* bytes per read */
#define BIG_FILE       (16ll << 20) /* files at least this large get fadvise SEQUENTIAL */
#define RUN_MAX        64           /* files a thread takes at once */
#define ERRORS_IN_JSON 1000

typedef struct worker worker;

typedef struct engine {
	hash_job *j;
	int rootfd; /* the root directory, or -1 for a file root */
	int nthreads;
	atomic_int cancel;
	/* walk: the stack of directories to read, the table of those read */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char **stack;
	size_t sn, scap;
	int active;
	char **dirs;
	size_t ndirs, dcap;
	atomic_llong found_files, found_bytes;
	atomic_int walking;
	/* verify and hash: a list of entries taken in runs */
	mentry **list;
	size_t nlist;
	atomic_size_t next;
	atomic_llong done_files, done_bytes, hits;
	worker *w;
	/* progress */
	double t0;
	int64_t start_ns; /* wall clock at start, for racy entries */
} engine;

struct worker {
	engine *en;
	manifest *m;     /* walk: this thread's entries */
	problems errors; /* walk and hash problems */
	problems skipped;
	digest_ctx dc;
	bool dc_ready;
	char *block;
	int fatal; /* an error that stops the whole job (out of memory) */
	int64_t files_read, bytes_read;
	buf path;         /* scratch */
	uint32_t cur_dir; /* the directory dirfd is open on */
	int dirfd;
	int dir_errno;   /* why dirfd could not be opened */
	bool no_noatime; /* O_NOATIME was refused (not the owner) */
};

static inline int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static inline void fill_stat(mentry *e, const struct stat *st)
{
	e->dev = (uint64_t)st->st_dev;
	e->ino = (uint64_t)st->st_ino;
	e->size = (int64_t)st->st_size;
	e->mtime_ns = ts_ns(&st->st_mtim);
	e->ctime_ns = ts_ns(&st->st_ctim);
}

static inline bool same_stat(const mentry *e, const struct stat *st)
{
	return (uint64_t)st->st_dev == e->dev && (uint64_t)st->st_ino == e->ino &&
	       (int64_t)st->st_size == e->size && ts_ns(&st->st_mtim) == e->mtime_ns &&
	       ts_ns(&st->st_ctim) == e->ctime_ns;
}

static inline const char *special_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "special file skipped: FIFO";
	if (S_ISSOCK(m))
		return "special file skipped: socket";
	if (S_ISCHR(m))
		return "special file skipped: character device";
	if (S_ISBLK(m))
		return "special file skipped: block device";
	return "special file skipped";
}

static inline const char *special_dtype(unsigned char t)
{
	switch (t) {
	case DT_FIFO: return "special file skipped: FIFO";
	case DT_SOCK: return "special file skipped: socket";
	case DT_CHR: return "special file skipped: character device";
	case DT_BLK: return "special file skipped: block device";
	default: return NULL;
	}
}

/* hash.c */
const char *user_path(worker *w, const char *rel);
void note_error(worker *w, const char *rel, const char *msg);
void note_errno(worker *w, const char *rel, int e, bool walking);
void set_state(mentry *e, entry_state st);
void fork_join(engine *en, int n, void (*fn)(worker *w));

/* hash-walk.c: phase 1 */
int push_dir(engine *en, const char *rel);
void walk_worker(worker *w);

/* hash-read.c: phases 3 and 4 */
void verify_worker(worker *w);
void hash_worker(worker *w);
void close_dirfd(worker *w);
void run_list(engine *en, mentry **list, size_t n, void (*fn)(worker *w), int per_thread);

#endif
