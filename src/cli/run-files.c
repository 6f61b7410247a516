/*
 * cli/run-files.c — the file-event channel of `cairn run` (run-files.h):
 * the socket the shim and the Python hook send to, the set of paths they
 * reported, the command's environment for the shim, and the test for
 * programs LD_PRELOAD cannot reach.
 *
 * The socket is AF_UNIX, SOCK_DGRAM, in the abstract namespace (no file to
 * clean up, nothing left behind by a crash), named "cairn-PID-RANDOM"; the
 * name reaches the command as CAIRN_SHIM_SOCK.  Datagrams keep processes'
 * messages apart with no framing; each is parsed by fevent_parse and a bad
 * one is counted and skipped (any local process can send to an abstract
 * socket).  A path is kept once, with the union of what was done to it
 * (RF_READ, RF_WRITE), up to RUN_FILES_MAX paths; more are counted, not
 * kept.  The receive buffer is made large so that a burst of opens does not
 * block the senders (they wait at most a second, SO_SNDTIMEO in the shim).
 *
 * Static binaries (an ELF with no PT_INTERP: nothing loads the shim),
 * set-user/group-ID programs (the loader ignores LD_PRELOAD for them) and
 * Go programs (a .go.buildinfo section: they make their own system calls,
 * past libc, even when linked dynamically) are found before the command
 * starts; a #! script is judged by its interpreter, one level deep.
 *
 * run_files_start and run_files_finish are cairn run's two steps around
 * the command (cmd-run.c keeps only the options).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/fevent.h"
#include "cli/run-files.h"
#include "cli/run-pump.h"
#include "util/buf.h"

typedef struct slot {
	char *path;
	unsigned bits;
} slot;

struct run_files {
	int fd;
	char name[64];
	char env_sock[96];
	char *env_preload, *env_skip;
	slot *tab;
	size_t cap, n;
	uint64_t dropped, bad;
};

/* --- the socket ------------------------------------------------------------------------------ */

run_files *run_files_new(void)
{
	run_files *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (f->fd < 0)
		goto fail;
	unsigned char rnd[8];
	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		uint64_t t = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)f;
		memcpy(rnd, &t, sizeof rnd);
	}
	snprintf(f->name, sizeof f->name, "cairn-%d-", (int)getpid());
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(f->name + strlen(f->name), 3, "%02x", rnd[i]);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(f->name);
	memcpy(a.sun_path + 1, f->name, n);
	if (bind(f->fd, (struct sockaddr *)&a,
	         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0)
		goto fail;
	int sz = 8 << 20;
	setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	snprintf(f->env_sock, sizeof f->env_sock, "CAIRN_SHIM_SOCK=%s", f->name);
	f->cap = 1024;
	if (!(f->tab = calloc(f->cap, sizeof *f->tab)))
		goto fail;
	return f;
fail:
	run_files_free(f);
	return NULL;
}

void run_files_close(run_files *f)
{
	if (f && f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
}

void run_files_free(run_files *f)
{
	if (!f)
		return;
	run_files_close(f);
	for (size_t i = 0; i < f->cap && f->tab; i++)
		free(f->tab[i].path);
	free(f->tab);
	free(f->env_preload);
	free(f->env_skip);
	free(f);
}

int run_files_fd(const run_files *f)
{
	return f ? f->fd : -1;
}

/* --- the set of paths ---------------------------------------------------------------------- */

static size_t hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 29));
}

static int grow(run_files *f)
{
	size_t cap = f->cap * 2;
	slot *t = calloc(cap, sizeof *t);
	if (!t)
		return -1;
	for (size_t i = 0; i < f->cap; i++) {
		if (!f->tab[i].path)
			continue;
		size_t j = hash(f->tab[i].path, strlen(f->tab[i].path)) & (cap - 1);
		while (t[j].path)
			j = (j + 1) & (cap - 1);
		t[j] = f->tab[i];
	}
	free(f->tab);
	f->tab = t;
	f->cap = cap;
	return 0;
}

static void add(run_files *f, const char *p, size_t n, unsigned bits)
{
	size_t i = hash(p, n) & (f->cap - 1);
	for (; f->tab[i].path; i = (i + 1) & (f->cap - 1))
		if (strlen(f->tab[i].path) == n && memcmp(f->tab[i].path, p, n) == 0) {
			f->tab[i].bits |= bits;
			return;
		}
	if (f->n >= RUN_FILES_MAX) {
		f->dropped++;
		return;
	}
	if (!(f->tab[i].path = strndup(p, n))) {
		f->dropped++;
		return;
	}
	f->tab[i].bits = bits;
	if (++f->n * 2 > f->cap && grow(f) != 0)
		f->dropped++; /* kept, but the table stays as it is: it is only slower */
}

void run_files_read(run_files *f)
{
	char m[FEVENT_MSG_MAX + 2];
	if (!f || f->fd < 0)
		return;
	for (;;) {
		ssize_t r = recv(f->fd, m, sizeof m, MSG_TRUNC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return; /* EAGAIN: nothing more now */
		fevent ev;
		if ((size_t)r > FEVENT_MSG_MAX || fevent_parse(&ev, m, (size_t)r) != 0) {
			f->bad++;
			continue;
		}
		add(f, ev.path, ev.path_len, ev.op == 'r' ? RF_READ : RF_WRITE);
	}
}

void run_files_each(const run_files *f, int (*cb)(void *, const char *, unsigned), void *ctx)
{
	for (size_t i = 0; f && i < f->cap; i++)
		if (f->tab[i].path && cb(ctx, f->tab[i].path, f->tab[i].bits))
			return;
}

uint64_t run_files_dropped(const run_files *f)
{
	return f ? f->dropped : 0;
}

uint64_t run_files_bad(const run_files *f)
{
	return f ? f->bad : 0;
}

/* --- the shim and the environment ------------------------------------------------------------ */

static char *file_in(const char *dir, const char *rel)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return access(p, R_OK) == 0 ? realpath(p, NULL) : NULL;
}

char *run_files_shim_path(void)
{
	const char *e = getenv("CAIRN_SHIM");
	if (e)
		return *e && strcmp(e, "0") != 0 && access(e, R_OK) == 0 ? realpath(e, NULL) : NULL;
	char self[PATH_MAX];
	if (!run_ctl_self_dir(self))
		return NULL;
	/* installed: PREFIX/bin/cairn and PREFIX/lib/libcairn-shim.so; the build
	 * tree: build/cairn and build/libcairn-shim.so */
	char *r = file_in(self, "../lib/libcairn-shim.so");
	return r ? r : file_in(self, "libcairn-shim.so");
}

int run_files_child_env(run_files *f, run_env *e, const char *shim, const char *skip)
{
	size_t n = 0;
	while (e->envp[n])
		n++;
	char **v = realloc(e->envp, (n + 4) * sizeof *v);
	if (!v)
		return -1;
	e->envp = v;
	const char *old = NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (shim && strncmp(v[i], "LD_PRELOAD=", 11) == 0)
			old = v[i] + 11;
		else if (strncmp(v[i], "CAIRN_SHIM_SOCK=", 16) != 0 &&
		         strncmp(v[i], "CAIRN_SHIM_SKIP=", 16) != 0)
			v[k++] = v[i];
	}
	if (shim) { /* else LD_PRELOAD stays as it was: only the Python hook reports */
		buf b = BUF_INIT;
		buf_printf(&b, "LD_PRELOAD=%s%s%s", shim, old && *old ? ":" : "",
		           old && *old ? old : "");
		free(f->env_preload);
		if (!buf_ok(&b) || !(f->env_preload = buf_detach(&b))) {
			buf_free(&b);
			return -1;
		}
		v[k++] = f->env_preload;
	}
	v[k++] = f->env_sock;
	free(f->env_skip);
	f->env_skip = NULL;
	if (skip && shim) {
		buf b = BUF_INIT;
		buf_printf(&b, "CAIRN_SHIM_SKIP=%s", skip);
		if (!buf_ok(&b) || !(f->env_skip = buf_detach(&b))) {
			buf_free(&b);
			v[k] = NULL;
			return -1;
		}
		v[k++] = f->env_skip;
	}
	v[k] = NULL;
	return 0;
}

/* --- what cannot be traced ----------------------------------------------------------------- */

/* A Go program makes its own system calls, past any libc wrapper, even
 * when it is linked dynamically: it has a .go.buildinfo section. */
static bool elf64_is_go(int fd, const Elf64_Ehdr *h)
{
	if (h->e_shentsize != sizeof(Elf64_Shdr) || h->e_shstrndx == SHN_UNDEF ||
	    h->e_shstrndx >= h->e_shnum || h->e_shnum > 4096)
		return false;
	Elf64_Shdr str;
	if (pread(fd, &str, sizeof str, (off_t)(h->e_shoff + h->e_shstrndx * sizeof str)) !=
	    (ssize_t)sizeof str)
		return false;
	for (unsigned i = 0; i < h->e_shnum; i++) {
		Elf64_Shdr sh;
		char name[16];
		if (pread(fd, &sh, sizeof sh, (off_t)(h->e_shoff + i * sizeof sh)) !=
		    (ssize_t)sizeof sh)
			return false;
		if (sh.sh_name >= str.sh_size ||
		    pread(fd, name, sizeof name, (off_t)(str.sh_offset + sh.sh_name)) <= 0)
			continue;
		name[sizeof name - 1] = '\0';
		if (strcmp(name, ".go.buildinfo") == 0)
			return true;
	}
	return false;
}

/* Whether the program headers name an interpreter: 1 yes, 0 no, -1 unreadable.
 * p_type is the first word of a program header in both ELF classes. */
static int elf_has_interp(int fd, off_t phoff, unsigned phnum, size_t phsz)
{
	for (unsigned i = 0; i < phnum && i < 4096; i++) {
		uint32_t type;
		if (pread(fd, &type, sizeof type, phoff + (off_t)(i * phsz)) !=
		    (ssize_t)sizeof type)
			return -1;
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
}

static const char *elf_reason(int fd)
{
	unsigned char id[EI_NIDENT];
	if (pread(fd, id, sizeof id, 0) != (ssize_t)sizeof id || memcmp(id, ELFMAG, SELFMAG) != 0)
		return NULL; /* not ELF: a script, judged by its #! line */
	int interp = -1;
	Elf64_Ehdr h64;
	Elf32_Ehdr h32;
	if (id[EI_CLASS] == ELFCLASS64 && pread(fd, &h64, sizeof h64, 0) == (ssize_t)sizeof h64 &&
	    h64.e_phentsize == sizeof(Elf64_Phdr))
		interp = elf_has_interp(fd, (off_t)h64.e_phoff, h64.e_phnum, sizeof(Elf64_Phdr));
	else if (id[EI_CLASS] == ELFCLASS32 &&
	         pread(fd, &h32, sizeof h32, 0) == (ssize_t)sizeof h32 &&
	         h32.e_phentsize == sizeof(Elf32_Phdr))
		interp = elf_has_interp(fd, (off_t)h32.e_phoff, h32.e_phnum, sizeof(Elf32_Phdr));
	if (interp < 0)
		return NULL;
	if (interp == 0)
		return "static binary";
	if (id[EI_CLASS] == ELFCLASS64 && elf64_is_go(fd, &h64))
		return "Go program (makes its own system calls)";
	return NULL;
}

static const char *reason_at(const char *path, int depth)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	const char *why = NULL;
	if (fstat(fd, &st) == 0 && (st.st_mode & S_ISUID))
		why = "setuid program";
	else if (fstat(fd, &st) == 0 && (st.st_mode & S_ISGID))
		why = "setgid program";
	if (!why)
		why = elf_reason(fd);
	if (!why && depth == 0) {
		char line[PATH_MAX + 3];
		ssize_t n = pread(fd, line, sizeof line - 1, 0);
		if (n > 2 && line[0] == '#' && line[1] == '!') {
			line[n] = '\0';
			char *p = line + 2;
			while (*p == ' ' || *p == '\t')
				p++;
			char *end = p + strcspn(p, " \t\r\n");
			*end = '\0';
			if (*p == '/')
				why = reason_at(p, 1);
		}
	}
	close(fd);
	return why;
}

const char *run_files_untraceable(const char *path)
{
	return path ? reason_at(path, 0) : NULL;
}

/* --- cairn run's side: before and after the command ----------------------------------------- */

const char **run_files_env_ignores(char *env, size_t extra, size_t *n)
{
	size_t k = 0;
	for (const char *q = env; q && *q; q++)
		k += *q == ':';
	const char **v = calloc(extra + k + 2, sizeof *v);
	*n = 0;
	for (char *q = env, *tok; v && q && (tok = strsep(&q, ":"));)
		if (*tok)
			v[(*n)++] = tok;
	return v;
}

int run_files_start(run_files **out, run_env *env, cairn_run *run, const char *path,
                    const char *name, bool pyhook, const run_files_opts *o)
{
	run_files *f = NULL;
	const char *untraced = run_files_untraceable(path);
	char *shim = untraced ? NULL : run_files_shim_path();
	if (!untraced && !shim)
		untraced = "no shim (libcairn-shim.so not found)";
	if ((shim || pyhook) && !(f = run_files_new()))
		run_warn("files read and written will not be recorded: %s", strerror(errno));
	int rc = 0;
	if (f) {
		char *here = realpath(".", NULL);
		char *skip = run_files_shim_skip(here, o->data_roots, o->ndata_roots, o->ignores,
		                                 o->nignores);
		rc = run_files_child_env(f, env, shim, skip);
		free(here);
		free(skip);
	}
	free(shim);
	if (untraced) {
		char note[160];
		snprintf(note, sizeof note, "untraced: %s%s", untraced,
		         f ? " (Python-level opens only)" : "");
		cairn_run_set_property(run, "capture.files", note);
		run_warn("cairn cannot see the files '%s' opens (%s)%s", name, untraced,
		         f ? ": only those Python opens are recorded" : "");
	}
	*out = f;
	return rc;
}

/* The script of an interpreter command (python, sh, ...): its first
 * argument that is not an option, when that is a file; malloc'd, resolved,
 * or NULL.  It is code, not an input. */
static char *script_of(const char *path, bool python, int ncmd, char **cmd)
{
	static const char *const shells[] = {"sh",   "bash", "dash",    "zsh", "ksh",
	                                     "perl", "ruby", "Rscript", "node"};
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	bool interp = python;
	for (size_t i = 0; i < sizeof shells / sizeof shells[0] && !interp; i++)
		interp = strcmp(b, shells[i]) == 0;
	if (!interp)
		return NULL;
	for (int i = 1; i < ncmd; i++) {
		if (cmd[i][0] == '-')
			continue;
		struct stat st;
		return stat(cmd[i], &st) == 0 && S_ISREG(st.st_mode) ? realpath(cmd[i], NULL)
		                                                     : NULL;
	}
	return NULL;
}

/* The directory two levels above a Python command (a virtualenv's folder,
 * or /usr), resolved; NULL when there is none. */
static char *python_prefix(const char *path)
{
	char *p = strdup(path);
	char *r = NULL;
	for (int i = 0; p && i < 2; i++) {
		char *sl = strrchr(p, '/');
		if (!sl || sl == p) {
			free(p);
			return NULL;
		}
		*sl = '\0';
	}
	if (p)
		r = realpath(p, NULL);
	free(p);
	return r;
}

void run_files_finish(run_files *f, cairn_run *run, const char *path, bool python, int ncmd,
                      char **cmd, const char *store_abs, run_files_opts *o)
{
	char *cwd = realpath(".", NULL), *store = realpath(store_abs, NULL);
	char *cmd_abs = realpath(path, NULL), *script = script_of(path, python, ncmd, cmd);
	char *prefix = python ? python_prefix(path) : NULL;
	const char *skip[] = {cmd_abs, script};
	o->cwd = cwd;
	o->store_dir = store ? store : store_abs;
	o->skip = skip;
	o->nskip = 2;
	o->python_prefix = prefix;
	if (cwd)
		run_files_record(f, run, o);
	else
		run_warn("files read and written not recorded: %s", strerror(errno));
	o->cwd = o->store_dir = o->python_prefix = NULL;
	o->skip = NULL;
	free(cwd);
	free(store);
	free(cmd_abs);
	free(script);
	free(prefix);
}
