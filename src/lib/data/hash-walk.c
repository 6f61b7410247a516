/*
 * lib/data/hash-walk.c — phase 1 of a hash (the algorithm is described in
 * hash.c): the parallel directory walk.  A shared stack of directories
 * (relative paths under the root's fd), each popped by one worker, read
 * with readdir, its regular files recorded by name and d_ino without a
 * stat; symbolic links read with readlinkat and never followed; special
 * files and unreadable entries noted, the walk going on.
 *
 * Thread-safety: the stack and the table of directories read are guarded
 * by the engine's mutex; each worker fills its own manifest.
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

/* --- phase 1: walk ------------------------------------------------------------------ */

int push_dir(engine *en, const char *rel)
{
	char *d = strdup(rel);
	if (!d)
		return err_set(CAIRN_ENOMEM, "out of memory");
	pthread_mutex_lock(&en->mu);
	if (en->sn == en->scap) {
		size_t ncap = en->scap ? en->scap * 2 : 64;
		char **ns = realloc(en->stack, ncap * sizeof *ns);
		if (!ns) {
			pthread_mutex_unlock(&en->mu);
			free(d);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		en->stack = ns;
		en->scap = ncap;
	}
	en->stack[en->sn++] = d;
	pthread_cond_signal(&en->cv);
	pthread_mutex_unlock(&en->mu);
	return 0;
}

/* Keep a directory's path for the hash pass; returns its index (or -1). */
static int64_t register_dir(engine *en, char *rel)
{
	int64_t idx = -1;
	pthread_mutex_lock(&en->mu);
	if (en->ndirs == en->dcap && en->dcap < UINT32_MAX / 2) {
		size_t ncap = en->dcap ? en->dcap * 2 : 64;
		char **nd = realloc(en->dirs, ncap * sizeof *nd);
		if (nd) {
			en->dirs = nd;
			en->dcap = ncap;
		}
	}
	if (en->ndirs < en->dcap) {
		idx = (int64_t)en->ndirs;
		en->dirs[en->ndirs++] = rel;
	}
	pthread_mutex_unlock(&en->mu);
	return idx;
}

static void walk_dir(worker *w, const char *rel, uint32_t dir_idx)
{
	engine *en = w->en;
	if (*rel && en->j->fault)
		en->j->fault(en->j->fault_arg, FAULT_DIR, rel);
	int dfd = *rel ? openat(en->rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
	               : openat(en->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;
		note_errno(w, rel, e == ELOOP ? ENOTDIR : e, true);
		return;
	}
	struct stat dst;
	if (fstat(dfd, &dst) != 0) {
		note_errno(w, rel, errno, true);
		close(dfd);
		return;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		note_errno(w, rel, errno, true);
		close(dfd);
		return;
	}
	buf child = BUF_INIT;
	char target[PATH_MAX + 1];
	size_t prefix = 0;
	if (*rel) {
		buf_puts(&child, rel);
		buf_putc(&child, '/');
		prefix = child.len;
	}
	for (;;) {
		if (atomic_load_explicit(&en->cancel, memory_order_relaxed))
			break;
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				note_errno(w, rel, errno, true);
			break;
		}
		const char *name = de->d_name;
		if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
			continue;
		buf_truncate(&child, prefix);
		buf_puts(&child, name);
		if (!buf_ok(&child)) {
			w->fatal = err_set(CAIRN_ENOMEM, "out of memory");
			break;
		}
		unsigned char type = de->d_type;
		mentry e;
		memset(&e, 0, sizeof e);
		e.path = child.ptr;
		e.dir = dir_idx;
		e.name_off = (uint32_t)prefix;
		e.dev = (uint64_t)dst.st_dev;
		e.ino = (uint64_t)de->d_ino;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				note_errno(w, child.ptr, errno, true);
				continue;
			}
			type = S_ISDIR(st.st_mode)   ? DT_DIR
			       : S_ISREG(st.st_mode) ? DT_REG
			       : S_ISLNK(st.st_mode) ? DT_LNK
			                             : DT_UNKNOWN;
			if (type == DT_UNKNOWN) {
				problems_add(&w->skipped, user_path(w, child.ptr),
				             special_kind(st.st_mode));
				continue;
			}
			e.ino = (uint64_t)st.st_ino;
		}
		if (type == DT_DIR) {
			/* A store inside the tree changes with every command: hashing it
			 * would make every version differ. */
			if (strcmp(name, ".cairn") == 0) {
				problems_add(&w->skipped, user_path(w, child.ptr),
				             "cairn store skipped");
				continue;
			}
			if ((w->fatal = push_dir(en, child.ptr)) != 0)
				break;
			continue;
		} else if (type == DT_REG) {
			e.type = 'f';
		} else if (type == DT_LNK) {
			ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
			if (n < 0) {
				note_errno(w, child.ptr, errno, true);
				continue;
			}
			if (n == 0) {
				note_error(w, child.ptr, "symbolic link with an empty target");
				continue;
			}
			target[n] = '\0';
			e.type = 'l';
			e.size = (int64_t)n;
			e.target = target;
			e.state = ENTRY_HASHED;
			digest_buf_hex(&w->dc, target, (size_t)n, e.digest);
		} else {
			const char *why = special_dtype(type);
			problems_add(&w->skipped, user_path(w, child.ptr),
			             why ? why : "special file skipped");
			continue;
		}
		if ((w->fatal = manifest_add(w->m, &e)) != 0)
			break;
		atomic_fetch_add_explicit(&en->found_files, 1, memory_order_relaxed);
	}
	buf_free(&child);
	closedir(d);
}

void walk_worker(worker *w)
{
	engine *en = w->en;
	for (;;) {
		pthread_mutex_lock(&en->mu);
		while (en->sn == 0 && en->active > 0 && !atomic_load(&en->cancel))
			pthread_cond_wait(&en->cv, &en->mu);
		if (en->sn == 0 || atomic_load(&en->cancel)) {
			pthread_cond_broadcast(&en->cv);
			pthread_mutex_unlock(&en->mu);
			return;
		}
		char *rel = en->stack[--en->sn];
		en->active++;
		pthread_mutex_unlock(&en->mu);
		int64_t idx = register_dir(en, rel);
		if (idx < 0) {
			free(rel);
			w->fatal = err_set(CAIRN_ENOMEM, "out of memory");
		} else {
			walk_dir(w, rel, (uint32_t)idx);
		}
		if (w->fatal)
			atomic_store(&en->cancel, 1);
		pthread_mutex_lock(&en->mu);
		en->active--;
		if (en->active == 0 && en->sn == 0)
			pthread_cond_broadcast(&en->cv);
		pthread_mutex_unlock(&en->mu);
	}
}
