/*
 * shim/shim.c — libcairn-shim.so, the LD_PRELOAD library through which
 * `cairn run` learns which files its command read and wrote
 * (docs/internals/auto-capture.md).
 *
 * What it does: it defines open, openat, creat, fopen, freopen, rename and
 * their 64-bit and fortify (__open_2, ...) forms; each calls the real
 * function (dlsym(RTLD_NEXT)), and when that succeeded reports the file once
 * per process to the `cairn run` parent, then returns exactly what the real
 * call returned with errno as it left it.  execve, execvpe, posix_spawn and
 * posix_spawnp are wrapped only to keep LD_PRELOAD and CAIRN_SHIM_SOCK in an
 * environment the program made up, so children are traced too.  chdir and
 * fchdir are wrapped to forget the cached working directory.
 *
 * The protocol: one datagram per event on an AF_UNIX SOCK_DGRAM socket in
 * the abstract namespace, whose name (without the leading NUL) is
 * $CAIRN_SHIM_SOCK:
 *     "cairn1 PID OP FLAGS PATH"
 * PID decimal, OP 'r' (opened for reading only) or 'w' (created, truncated,
 * opened for writing, or the target of a rename), FLAGS the open flags in
 * hex, PATH absolute (the working directory joined to a relative path, not
 * normalised: the parent resolves it).  A datagram is whole or absent, so
 * any number of processes share the one socket.  The send waits at most a
 * second for a parent that does not read (SO_SNDTIMEO); once the parent is
 * gone (ECONNREFUSED) or has not read for that second, the process stops
 * reporting.
 *
 * Cost: a file already reported costs a hash of its path and a probe of a
 * lock-free table of 64-bit hashes (per process; cleared when 3/4 full, so
 * a path may be reported again, which the parent dedupes).  /proc, /sys and
 * /dev are left out here, and the trees $CAIRN_SHIM_SKIP names ("/usr:/lib:
 * ..."), which the parent would drop anyway: it leaves out of that list any
 * tree the user's rules could keep.  Every other rule is the parent's.
 *
 * Invariants: never changes what the program sees (return values, errno,
 * its descriptors below SOCK_FD_MIN); never allocates (a vfork child may
 * call execve); async-signal-safe apart from dlsym at the first call.
 * Thread-safety: the table and the socket descriptor are atomics.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

#define EXPORT      __attribute__((visibility("default")))
#define SLOTS       8192
#define SOCK_FD_MIN 700
#define MSG_MAX     (PATH_MAX + 64)
#define ENV_SOCK    "CAIRN_SHIM_SOCK="
#define ENV_PRELOAD "LD_PRELOAD="

static uint64_t table[SLOTS];
static unsigned used;
static int sock_fd = -1;
static ino_t sock_ino;
static int dead;          /* the parent is gone, or there never was one */
static uint64_t cwd_hash; /* 0: not known */
static struct sockaddr_un addr;
static socklen_t addr_len;
/* for exec: "CAIRN_SHIM_SOCK=..." and the LD_PRELOAD we started with */
static char env_sock[sizeof ENV_SOCK + 108];
static char env_preload[4096];
static char shim_path[PATH_MAX]; /* this library, as named in LD_PRELOAD */
/* $CAIRN_SHIM_SKIP: trees the parent drops anyway, not sent */
#define SKIP_MAX 32
static char skip_buf[1024];
static const char *skip_at[SKIP_MAX];
static size_t skip_len[SKIP_MAX], nskip;

/* --- the real functions --------------------------------------------------------------------- */

#define REAL(name, ret, ...)                                                                       \
	static ret (*real_##name)(__VA_ARGS__);                                                    \
	static ret (*get_##name(void))(__VA_ARGS__)                                                \
	{                                                                                          \
		if (!__atomic_load_n(&real_##name, __ATOMIC_ACQUIRE))                              \
			__atomic_store_n(&real_##name,                                             \
			                 (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name),             \
			                 __ATOMIC_RELEASE);                                        \
		return real_##name;                                                                \
	}

REAL(open, int, const char *, int, ...)
REAL(open64, int, const char *, int, ...)
REAL(openat, int, int, const char *, int, ...)
REAL(openat64, int, int, const char *, int, ...)
REAL(__open_2, int, const char *, int)
REAL(__open64_2, int, const char *, int)
REAL(__openat_2, int, int, const char *, int)
REAL(__openat64_2, int, int, const char *, int)
REAL(creat, int, const char *, mode_t)
REAL(creat64, int, const char *, mode_t)
REAL(fopen, FILE *, const char *, const char *)
REAL(fopen64, FILE *, const char *, const char *)
REAL(freopen, FILE *, const char *, const char *, FILE *)
REAL(freopen64, FILE *, const char *, const char *, FILE *)
REAL(rename, int, const char *, const char *)
REAL(renameat, int, int, const char *, int, const char *)
REAL(renameat2, int, int, const char *, int, const char *, unsigned)
REAL(execve, int, const char *, char *const[], char *const[])
REAL(execvpe, int, const char *, char *const[], char *const[])
REAL(execv, int, const char *, char *const[])
REAL(execvp, int, const char *, char *const[])
REAL(posix_spawn, int, pid_t *, const char *, const posix_spawn_file_actions_t *,
     const posix_spawnattr_t *, char *const[], char *const[])
REAL(posix_spawnp, int, pid_t *, const char *, const posix_spawn_file_actions_t *,
     const posix_spawnattr_t *, char *const[], char *const[])
REAL(chdir, int, const char *)
REAL(fchdir, int, int)

/* --- set-up ------------------------------------------------------------------------------------
 */

__attribute__((constructor)) static void shim_init(void)
{
	const char *s = getenv("CAIRN_SHIM_SOCK");
	const char *p = getenv("LD_PRELOAD");
	size_t n = s ? strlen(s) : 0;
	if (!s || !n || n >= sizeof addr.sun_path - 1) {
		dead = 1;
		return;
	}
	addr.sun_family = AF_UNIX;
	addr.sun_path[0] = '\0';
	memcpy(addr.sun_path + 1, s, n);
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	snprintf(env_sock, sizeof env_sock, "%s%s", ENV_SOCK, s);
	if (p && strlen(p) < sizeof env_preload - sizeof ENV_PRELOAD)
		snprintf(env_preload, sizeof env_preload, "%s%s", ENV_PRELOAD, p);
	const char *k = getenv("CAIRN_SHIM_SKIP");
	if (k && strlen(k) < sizeof skip_buf) {
		memcpy(skip_buf, k, strlen(k) + 1);
		for (char *q = skip_buf; *q && nskip < SKIP_MAX;) {
			char *c = strchr(q, ':');
			size_t len = c ? (size_t)(c - q) : strlen(q);
			if (len > 1 && q[0] == '/') {
				skip_at[nskip] = q;
				skip_len[nskip++] = len;
			}
			if (!c)
				break;
			q = c + 1;
		}
	}
	Dl_info di;
	if (dladdr((void *)shim_init, &di) && di.dli_fname &&
	    strlen(di.dli_fname) < sizeof shim_path)
		snprintf(shim_path, sizeof shim_path, "%s", di.dli_fname);
}

/* cairn itself, traced because an outer `cairn run` started it (a sweep
 * script's trials), turns the shim off: what it reads is not that run's
 * data (src/cli/main.c). */
EXPORT void cairn_shim_disable(void)
{
	__atomic_store_n(&dead, 1, __ATOMIC_RELAXED);
}

/* --- the table of paths reported ------------------------------------------------------------ */

static uint64_t mix(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static uint64_t finish(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1;
}

/* true when h is new (and now in the table) */
static int first_time(uint64_t h)
{
	if (__atomic_load_n(&used, __ATOMIC_RELAXED) > SLOTS / 4 * 3) {
		memset(table, 0, sizeof table); /* racy but harmless: a path may be sent again */
		__atomic_store_n(&used, 0, __ATOMIC_RELAXED);
	}
	for (unsigned i = (unsigned)h & (SLOTS - 1), k = 0; k < SLOTS;
	     i = (i + 1) & (SLOTS - 1), k++) {
		uint64_t v = __atomic_load_n(&table[i], __ATOMIC_RELAXED);
		if (v == h)
			return 0;
		if (v == 0) {
			uint64_t z = 0;
			if (__atomic_compare_exchange_n(&table[i], &z, h, 0, __ATOMIC_RELAXED,
			                                __ATOMIC_RELAXED)) {
				__atomic_add_fetch(&used, 1, __ATOMIC_RELAXED);
				return 1;
			}
			if (z == h)
				return 0;
		}
	}
	return 1;
}

/* --- reporting ------------------------------------------------------------------------------ */

static int sock_get(void)
{
	int fd = __atomic_load_n(&sock_fd, __ATOMIC_ACQUIRE);
	struct stat st;
	/* still ours? the program may have closed it (closefrom) and reused N */
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == sock_ino)
		return fd;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int hi = fcntl(s, F_DUPFD_CLOEXEC, SOCK_FD_MIN);
	if (hi >= 0) {
		close(s);
		s = hi;
	}
	struct timeval tv = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (fstat(s, &st) != 0) {
		close(s);
		return -1;
	}
	sock_ino = st.st_ino;
	__atomic_store_n(&sock_fd, s, __ATOMIC_RELEASE);
	return s;
}

static size_t put(char *m, size_t at, const char *s)
{
	size_t n = strlen(s);
	if (at + n >= MSG_MAX)
		n = MSG_MAX - 1 - at;
	memcpy(m + at, s, n);
	return at + n;
}

static size_t put_uint(char *m, size_t at, unsigned long v, unsigned base)
{
	char d[24];
	int k = 0;
	do {
		d[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (k)
		m[at++] = d[--k];
	return at;
}

/* dir: the directory a relative path is in ("" for an absolute one) */
static void send_event(char op, int flags, const char *dir, const char *path)
{
	char m[MSG_MAX];
	size_t at = put(m, 0, "cairn1 ");
	at = put_uint(m, at, (unsigned long)getpid(), 10);
	m[at++] = ' ';
	m[at++] = op;
	m[at++] = ' ';
	at = put_uint(m, at, (unsigned)flags, 16);
	m[at++] = ' ';
	if (*dir) {
		at = put(m, at, dir);
		if (at < MSG_MAX - 1 && m[at - 1] != '/')
			m[at++] = '/';
	}
	at = put(m, at, path);
	if (at >= MSG_MAX - 1)
		return; /* too long: the parent would not resolve it anyway */
	m[at] = '\0';
	const char *abs = strchr(strchr(strchr(strchr(m, ' ') + 1, ' ') + 1, ' ') + 1, ' ') + 1;
	for (size_t i = 0; i < nskip; i++)
		if (strncmp(abs, skip_at[i], skip_len[i]) == 0 &&
		    (abs[skip_len[i]] == '/' || abs[skip_len[i]] == '\0'))
			return;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = sock_get();
		if (fd < 0)
			return;
		ssize_t r = sendto(fd, m, at, MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
		if (r >= 0)
			return;
		/* gone, or not reading for a second (SO_SNDTIMEO): stop, a lost
		 * event is better than a program slowed down */
		if (errno == ECONNREFUSED || errno == ENOENT || errno == EAGAIN) {
			__atomic_store_n(&dead, 1, __ATOMIC_RELAXED);
			return;
		}
		if (errno != EBADF && errno != ENOTSOCK)
			return;
	}
}

/* The directory a path relative to dirfd is in, into d (PATH_MAX); 0 or -1. */
static int dir_of(int dirfd, char *d)
{
	if (dirfd == AT_FDCWD)
		return getcwd(d, PATH_MAX) ? 0 : -1;
	char link[40] = "/proc/self/fd/";
	size_t at = put_uint(link, 14, (unsigned long)dirfd, 10);
	link[at] = '\0';
	ssize_t n = readlink(link, d, PATH_MAX - 1);
	if (n <= 0 || d[0] != '/')
		return -1;
	d[n] = '\0';
	return 0;
}

static int skipped(const char *p)
{
	return strncmp(p, "/proc/", 6) == 0 || strncmp(p, "/sys/", 5) == 0 ||
	       strncmp(p, "/dev/", 5) == 0;
}

static void report(int dirfd, const char *path, int flags)
{
	if (__atomic_load_n(&dead, __ATOMIC_RELAXED) || !path || !*path ||
	    (flags & (O_DIRECTORY | O_PATH)))
		return;
	int saved = errno;
	char op = ((flags & O_ACCMODE) == O_RDONLY && !(flags & (O_CREAT | O_TRUNC))) ? 'r' : 'w';
	uint64_t h;
	if (path[0] == '/') {
		if (skipped(path))
			goto out;
		h = mix(0xcbf29ce484222325ull ^ (uint64_t)op, path);
	} else if (dirfd == AT_FDCWD) {
		uint64_t c = __atomic_load_n(&cwd_hash, __ATOMIC_RELAXED);
		if (!c) {
			char d[PATH_MAX];
			if (!getcwd(d, sizeof d))
				goto out;
			c = finish(mix(0xcbf29ce484222325ull, d));
			__atomic_store_n(&cwd_hash, c, __ATOMIC_RELAXED);
		}
		h = mix(c ^ (uint64_t)op, path);
	} else {
		char d[PATH_MAX];
		if (dir_of(dirfd, d) != 0)
			goto out;
		h = mix(mix(0x84222325ull ^ (uint64_t)op, d), path);
	}
	if (!first_time(finish(h)))
		goto out;
	if (path[0] == '/') {
		send_event(op, flags, "", path);
	} else {
		char d[PATH_MAX];
		if (dir_of(dirfd, d) == 0)
			send_event(op, flags, d, path);
	}
out:
	errno = saved;
}

static int fopen_flags(const char *mode)
{
	if (!mode)
		return O_RDONLY;
	int plus = strchr(mode, '+') != NULL;
	switch (mode[0]) {
	case 'r': return plus ? O_RDWR : O_RDONLY;
	case 'w': return (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC;
	case 'a': return (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND;
	default: return O_RDWR;
	}
}

/* --- the opens ----------------------------------------------------------------------------------
 */

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_LIKE(name)                                                                            \
	EXPORT int name(const char *path, int flags, ...)                                          \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, flags);                                                               \
		mode_t mode = mode_arg(flags, ap);                                                 \
		va_end(ap);                                                                        \
		int fd = get_##name()(path, flags, mode);                                          \
		if (fd >= 0)                                                                       \
			report(AT_FDCWD, path, flags);                                             \
		return fd;                                                                         \
	}
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name)                                                                          \
	EXPORT int name(int dirfd, const char *path, int flags, ...)                               \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, flags);                                                               \
		mode_t mode = mode_arg(flags, ap);                                                 \
		va_end(ap);                                                                        \
		int fd = get_##name()(dirfd, path, flags, mode);                                   \
		if (fd >= 0)                                                                       \
			report(dirfd, path, flags);                                                \
		return fd;                                                                         \
	}
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

#define OPEN2_LIKE(name)                                                                           \
	EXPORT int name(const char *path, int flags)                                               \
	{                                                                                          \
		int fd = get_##name()(path, flags);                                                \
		if (fd >= 0)                                                                       \
			report(AT_FDCWD, path, flags);                                             \
		return fd;                                                                         \
	}
OPEN2_LIKE(__open_2)
OPEN2_LIKE(__open64_2)

#define OPENAT2_LIKE(name)                                                                         \
	EXPORT int name(int dirfd, const char *path, int flags)                                    \
	{                                                                                          \
		int fd = get_##name()(dirfd, path, flags);                                         \
		if (fd >= 0)                                                                       \
			report(dirfd, path, flags);                                                \
		return fd;                                                                         \
	}
OPENAT2_LIKE(__openat_2)
OPENAT2_LIKE(__openat64_2)

#define CREAT_LIKE(name)                                                                           \
	EXPORT int name(const char *path, mode_t mode)                                             \
	{                                                                                          \
		int fd = get_##name()(path, mode);                                                 \
		if (fd >= 0)                                                                       \
			report(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC);                      \
		return fd;                                                                         \
	}
CREAT_LIKE(creat)
CREAT_LIKE(creat64)

#define FOPEN_LIKE(name)                                                                           \
	EXPORT FILE *name(const char *path, const char *mode)                                      \
	{                                                                                          \
		FILE *f = get_##name()(path, mode);                                                \
		if (f)                                                                             \
			report(AT_FDCWD, path, fopen_flags(mode));                                 \
		return f;                                                                          \
	}
FOPEN_LIKE(fopen)
FOPEN_LIKE(fopen64)

#define FREOPEN_LIKE(name)                                                                         \
	EXPORT FILE *name(const char *path, const char *mode, FILE *stream)                        \
	{                                                                                          \
		FILE *f = get_##name()(path, mode, stream);                                        \
		if (f && path)                                                                     \
			report(AT_FDCWD, path, fopen_flags(mode));                                 \
		return f;                                                                          \
	}
FREOPEN_LIKE(freopen)
FREOPEN_LIKE(freopen64)

EXPORT int rename(const char *from, const char *to)
{
	int r = get_rename()(from, to);
	if (r == 0)
		report(AT_FDCWD, to, O_WRONLY | O_CREAT);
	return r;
}

EXPORT int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	int r = get_renameat()(fromfd, from, tofd, to);
	if (r == 0)
		report(tofd, to, O_WRONLY | O_CREAT);
	return r;
}

EXPORT int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned fl)
{
	int r = get_renameat2()(fromfd, from, tofd, to, fl);
	if (r == 0)
		report(tofd, to, O_WRONLY | O_CREAT);
	return r;
}

EXPORT int chdir(const char *path)
{
	int r = get_chdir()(path);
	__atomic_store_n(&cwd_hash, 0, __ATOMIC_RELAXED);
	return r;
}

EXPORT int fchdir(int fd)
{
	int r = get_fchdir()(fd);
	__atomic_store_n(&cwd_hash, 0, __ATOMIC_RELAXED);
	return r;
}

/* --- children ------------------------------------------------------------------------------------
 */

static int has_entry(char *const envp[], const char *prefix, const char *inside)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], prefix, n) == 0)
			return !inside || !*inside || strstr(envp[i] + n, inside) != NULL ? 1 : -1;
	return 0;
}

/* Call f with envp, or with a copy on the stack that has our two entries
 * back when the program's envp lost them.  No allocation: a vfork child may
 * be the caller. */
#define WITH_ENV(envp, call)                                                                       \
	do {                                                                                       \
		int sock = !env_sock[0] ? 1 : has_entry(envp, ENV_SOCK, NULL);                     \
		int pre = !env_preload[0] ? 1 : has_entry(envp, ENV_PRELOAD, shim_path);           \
		if (sock == 1 && pre == 1) {                                                       \
			char *const *env_ = envp;                                                  \
			call;                                                                      \
		}                                                                                  \
		size_t n_ = 0;                                                                     \
		while (envp && envp[n_])                                                           \
			n_++;                                                                      \
		char *copy_[n_ + 3];                                                               \
		char joined_[sizeof env_preload + PATH_MAX + 2];                                   \
		size_t k_ = 0;                                                                     \
		for (size_t i_ = 0; i_ < n_; i_++) {                                               \
			if (pre == -1 &&                                                           \
			    strncmp(envp[i_], ENV_PRELOAD, sizeof ENV_PRELOAD - 1) == 0) {         \
				/* theirs, with the shim in front */                               \
				snprintf(joined_, sizeof joined_, "%s%s:%s", ENV_PRELOAD,          \
				         shim_path, envp[i_] + sizeof ENV_PRELOAD - 1);            \
				copy_[k_++] = joined_;                                             \
			} else {                                                                   \
				copy_[k_++] = envp[i_];                                            \
			}                                                                          \
		}                                                                                  \
		if (sock == 0)                                                                     \
			copy_[k_++] = env_sock;                                                    \
		if (pre == 0)                                                                      \
			copy_[k_++] = env_preload;                                                 \
		copy_[k_] = NULL;                                                                  \
		char *const *env_ = copy_;                                                         \
		call;                                                                              \
	} while (0)

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, return get_execve()(path, argv, env_));
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, return get_execvpe()(file, argv, env_));
}

/* execv and execvp pass environ, which the program may have emptied (env
 * -i): they become execve and execvpe with it, fixed. */
EXPORT int execv(const char *path, char *const argv[])
{
	if (!env_sock[0])
		return get_execv()(path, argv);
	WITH_ENV(environ, return get_execve()(path, argv, env_));
}

EXPORT int execvp(const char *file, char *const argv[])
{
	if (!env_sock[0])
		return get_execvp()(file, argv);
	WITH_ENV(environ, return get_execvpe()(file, argv, env_));
}

/* The execl forms: their arguments gathered on the stack (no allocation). */
#define ARGS_MAX 4096
#define GATHER(arg0, ap, argv, n)                                                                  \
	char *argv[ARGS_MAX + 1];                                                                  \
	size_t n = 0;                                                                              \
	argv[n++] = (char *)arg0;                                                                  \
	while (n <= ARGS_MAX && (argv[n] = va_arg(ap, char *)) != NULL)                            \
		n++;                                                                               \
	if (n > ARGS_MAX) {                                                                        \
		va_end(ap);                                                                        \
		errno = E2BIG;                                                                     \
		return -1;                                                                         \
	}

EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	GATHER(arg0, ap, argv, n);
	va_end(ap);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	GATHER(arg0, ap, argv, n);
	va_end(ap);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	GATHER(arg0, ap, argv, n);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, return get_posix_spawn()(pid, path, fa, at, argv, env_));
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	WITH_ENV(envp, return get_posix_spawnp()(pid, file, fa, at, argv, env_));
}
