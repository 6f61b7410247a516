/*
 * cli/run-files-record.c — the end of an auto-captured run (run-files.h):
 * which of the files the command touched are its inputs and outputs, and
 * their recording.  The rules, in order (docs/cli/run.md, "Files read and
 * written"; the reasons in docs/internals/auto-capture.md):
 *
 *   1. every path reported is resolved (realpath); one that is gone or is
 *      not a regular file is dropped; the store's files are never recorded;
 *   2. the --capture-ignore globs, in order, the last that matches decides:
 *      GLOB leaves the file out, !GLOB keeps it whatever the defaults say;
 *   3. the defaults leave out system trees (/usr, /lib*, /bin, /sbin, /etc,
 *      /boot, /var/lib, /var/cache, /nix/store, /proc, /sys, /dev, /run), temporary trees (/tmp,
 * /var/tmp, $TMPDIR),
 *      ~/.cache, ~/.config, ~/.local (a tree the working directory is in is not left out: a
 *      project may live in /tmp), the interpreter's prefix (a
 *      virtualenv's folder, unless the working directory is in it), any path
 *      through .git, .cairn, __pycache__, site-packages, dist-packages or
 *      .ipynb_checkpoints, and *.pyc, *.pyo, pyvenv.cfg; a --data-root
 *      lifts the tree rules (not the others) for what is under it;
 *   4. inputs: read and never written, under the project (the git work
 *      tree's root, else the working directory) or a --data-root, not
 *      tracked by git, not source (*.py: the code capture has it), not the
 *      command or its script, not under a --data path;
 *   5. outputs: written (created, truncated, opened for writing, renamed
 *      to) under the working directory, or matching --artifacts;
 *   6. more than RUN_FILES_GROUP inputs in one folder make one dataset of
 *      the folder, unless it is the project's root, holds the working
 *      directory or the store, or holds an output of the run.
 *
 * Names: an input's dataset is named by its path relative to the project
 * (or "ROOTNAME/rel" under a data root outside it); an output's artifact by
 * its path relative to the working directory.  An output over the size
 * limit, or whose name is one cairn uses itself (logs/stdout.log,
 * logs/stderr.log, config/..., env/...), becomes a dataset of role output:
 * its digest and path, its bytes not stored.
 */
#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/run-files.h"
#include "cli/run-pump.h"
#include "util/buf.h"

#define RF_FORCE 4u /* matched --artifacts */

typedef struct entry {
	char *path; /* resolved */
	unsigned bits;
	int64_t size;
	int tracked;
} entry;

typedef struct coll {
	entry *v;
	size_t n, cap;
	const run_files_opts *o;
	size_t walked;
	bool oom;
} coll;

static bool under(const char *p, const char *dir)
{
	if (!p || !dir || !*dir)
		return false;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return p[0] == '/';
	return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

static const char *rel_to(const char *p, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1)
		return p + 1;
	return p[n] == '/' ? p + n + 1 : p + n;
}

static void push(coll *c, const char *path, unsigned bits, int64_t size)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		entry *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->oom = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	char *p = strdup(path);
	if (!p) {
		c->oom = true;
		return;
	}
	c->v[c->n++] = (entry){p, bits, size, 0};
}

static int add_reported(void *ctx, const char *path, unsigned bits)
{
	coll *c = ctx;
	char rp[PATH_MAX];
	struct stat st;
	if (!realpath(path, rp) || stat(rp, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	push(c, rp, bits, (int64_t)st.st_size);
	return c->oom;
}

/* --- the rules ----------------------------------------------------------------------------------
 */

static bool glob_match(const char *pat, const char *path, const char *cwd)
{
	if (!strchr(pat, '/'))
		return fnmatch(pat, strrchr(path, '/') + 1, 0) == 0;
	if (pat[0] == '/')
		return fnmatch(pat, path, 0) == 0;
	return under(path, cwd) && fnmatch(pat, rel_to(path, cwd), 0) == 0;
}

static bool has_component(const char *p, const char *name)
{
	size_t n = strlen(name);
	for (const char *s = p; (s = strstr(s, name)); s += n)
		if (s > p && s[-1] == '/' && (s[n] == '/' || s[n] == '\0'))
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static const char *const trees[] = {"/usr",       "/lib",       "/lib32",  "/lib64", "/libx32",
                                    "/bin",       "/sbin",      "/etc",    "/boot",  "/var/lib",
                                    "/var/cache", "/nix/store", "/proc",   "/sys",   "/dev",
                                    "/run",       "/tmp",       "/var/tmp"};

char *run_files_shim_skip(const char *cwd, const char *const *roots, size_t nroots,
                          const char *const *ignores, size_t nignores)
{
	for (size_t i = 0; i < nignores; i++)
		if (ignores[i][0] == '!')
			return NULL; /* a !GLOB may keep anything: the shim sends it all */
	buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
		bool keep = cwd && under(cwd, trees[i]);
		for (size_t j = 0; j < nroots && !keep; j++)
			keep = under(roots[j], trees[i]) || under(trees[i], roots[j]);
		if (!keep)
			buf_printf(&b, "%s%s", b.len ? ":" : "", trees[i]);
	}
	if (!buf_ok(&b) || !b.len) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static bool default_ignored(const char *p, const run_files_opts *o, const char *python_prefix)
{
	static const char *const comps[] = {".git",          "__pycache__", "site-packages",
	                                    "dist-packages", ".cairn",      ".ipynb_checkpoints"};
	for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++)
		if (has_component(p, comps[i]))
			return true;
	const char *base = strrchr(p, '/') + 1;
	if (ends_with(base, ".pyc") || ends_with(base, ".pyo") || strcmp(base, "pyvenv.cfg") == 0)
		return true;
	for (size_t i = 0; i < o->ndata_roots; i++)
		if (under(p, o->data_roots[i]))
			return false; /* named: the tree rules do not apply */
	/* a tree the working directory is in is the project's, not the system's */
	for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++)
		if (under(p, trees[i]) && !under(o->cwd, trees[i]))
			return true;
	const char *t = getenv("TMPDIR");
	char rt[PATH_MAX];
	if (t && *t == '/' && realpath(t, rt) && strcmp(rt, "/") != 0 && under(p, rt) &&
	    !under(o->cwd, rt))
		return true;
	const char *home = getenv("HOME");
	static const char *const dots[] = {".cache", ".config", ".local"};
	for (size_t i = 0; home && *home == '/' && i < sizeof dots / sizeof dots[0]; i++) {
		char c[PATH_MAX];
		snprintf(c, sizeof c, "%s/%s", home, dots[i]);
		if (realpath(c, rt) && under(p, rt) && !under(o->cwd, rt))
			return true;
	}
	return python_prefix && under(p, python_prefix) && !under(o->cwd, python_prefix);
}

/* 1: leave out, 0: keep */
static int ignored(const char *p, const run_files_opts *o, const char *python_prefix)
{
	if (under(p, o->store_dir))
		return 1;
	int d = -1;
	for (size_t i = 0; i < o->nignores; i++) {
		const char *g = o->ignores[i];
		bool neg = g[0] == '!';
		if (glob_match(neg ? g + 1 : g, p, o->cwd))
			d = neg ? 0 : 1;
	}
	if (d >= 0)
		return d;
	return default_ignored(p, o, python_prefix) ? 1 : 0;
}

/* --- --artifacts ---------------------------------------------------------------------------------
 */

static _Thread_local coll *walk_c;

static int walk_cb(const char *p, const struct stat *st, int type, struct FTW *w)
{
	coll *c = walk_c;
	if (++c->walked > RUN_FILES_WALK_MAX)
		return 1;
	if (type == FTW_D) {
		const char *b = p + w->base;
		if (w->level > 0 && (strcmp(b, ".git") == 0 || strcmp(b, ".cairn") == 0 ||
		                     under(p, c->o->store_dir)))
			return FTW_SKIP_SUBTREE;
		return 0;
	}
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	for (size_t i = 0; i < c->o->nglobs; i++)
		if (glob_match(c->o->globs[i], p, c->o->cwd)) {
			push(c, p, RF_WRITE | RF_FORCE, (int64_t)st->st_size);
			break;
		}
	return c->oom;
}

/* --- recording -------------------------------------------------------------------------------- */

/* Folder first, then name: a folder's files are next to each other. */
static int by_path(const void *a, const void *b)
{
	const char *x = ((const entry *)a)->path, *y = ((const entry *)b)->path;
	size_t dx = (size_t)(strrchr(x, '/') - x), dy = (size_t)(strrchr(y, '/') - y);
	int c = strncmp(x, y, dx < dy ? dx : dy);
	if (c)
		return c;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x + dx, y + dy);
}

static bool is_image(const char *p)
{
	static const char *const ext[] = {".png", ".jpg", ".jpeg", ".svg", ".gif"};
	const char *b = strrchr(p, '/');
	const char *dot = strrchr(b ? b + 1 : p, '.');
	for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
		if (strcasecmp(dot, ext[i]) == 0)
			return true;
	return false;
}

static bool reserved_name(const char *rel)
{
	return strcmp(rel, "logs/stdout.log") == 0 || strcmp(rel, "logs/stderr.log") == 0 ||
	       strncmp(rel, "config/", 7) == 0 || strncmp(rel, "env/", 4) == 0;
}

static bool is_input(const entry *e, const run_files_opts *o, const char *project)
{
	if ((e->bits & RF_WRITE) || !(e->bits & RF_READ))
		return false;
	bool in_root = false;
	for (size_t i = 0; i < o->ndata_roots && !in_root; i++)
		in_root = under(e->path, o->data_roots[i]);
	if (!in_root && !under(e->path, project))
		return false;
	if (ends_with(e->path, ".py"))
		return false;
	for (size_t i = 0; i < o->nskip; i++)
		if (o->skip[i] && strcmp(o->skip[i], e->path) == 0)
			return false;
	for (size_t i = 0; i < o->ndata_paths; i++)
		if (under(e->path, o->data_paths[i]))
			return false;
	return true;
}

/* The dataset name of an input (or its folder) at path. */
static char *input_name(const char *path, const run_files_opts *o, const char *project)
{
	if (under(path, project) && strcmp(path, project) != 0)
		return strdup(rel_to(path, project));
	for (size_t i = 0; i < o->ndata_roots; i++) {
		const char *r = o->data_roots[i];
		if (!under(path, r))
			continue;
		const char *base = strrchr(r, '/');
		base = base && base[1] ? base + 1 : "data";
		buf b = BUF_INIT;
		if (strcmp(path, r) == 0)
			buf_puts(&b, base);
		else
			buf_printf(&b, "%s/%s", base, rel_to(path, r));
		return buf_ok(&b) ? buf_detach(&b) : (buf_free(&b), NULL);
	}
	return strdup(strrchr(path, '/') + 1);
}

/* A dataset the run has already (a --data one): an automatic one of the
 * same name would replace it. */
static bool taken(const cairn_run_record *r, const char *name)
{
	return r && cairn_run_record_dataset_get(r, name) != NULL;
}

static void record_input(cairn_run *run, const cairn_run_record *had, const char *path,
                         const run_files_opts *o, const char *project)
{
	char *name = input_name(path, o, project);
	if (name && taken(had, name))
		run_warn("input '%s' not recorded: the run has a dataset named '%s'", path, name);
	else if (!name || cairn_run_log_dataset(run, name, path, "input") != 0)
		run_warn("input '%s' not recorded: %s", path,
		         name ? cairn_error_last() : "out of memory");
	free(name);
}

static void record_output(cairn_run *run, const cairn_run_record *had, const entry *e,
                          const run_files_opts *o)
{
	const char *rel = rel_to(e->path, o->cwd);
	int rc;
	if ((e->size > o->artifact_max || reserved_name(rel)) && taken(had, rel)) {
		run_warn("output '%s' not recorded: the run has a dataset of that name", rel);
		return;
	}
	if (e->size > o->artifact_max || reserved_name(rel))
		rc = cairn_run_log_dataset(run, rel, e->path, "output");
	else
		rc = cairn_run_log_artifact_kind(
		    run, e->path, rel, is_image(rel) ? CAIRN_ARTIFACT_IMAGE : CAIRN_ARTIFACT_FILE);
	if (rc != 0)
		run_warn("output '%s' not recorded: %s", rel, cairn_error_last());
}

void run_files_record(run_files *f, cairn_run *run, const run_files_opts *o)
{
	coll c = {.o = o};
	cairn_run_record *had = NULL;
	char *root = NULL;
	const char *pyprefix = o->python_prefix;
	int *tr = NULL;
	const char **paths = NULL;
	run_files_read(f);
	run_files_close(f);
	if (o->traced)
		run_files_each(f, add_reported, &c);
	if (o->nglobs) {
		walk_c = &c;
		nftw(o->cwd, walk_cb, 64, FTW_PHYS | FTW_ACTIONRETVAL);
		walk_c = NULL;
		if (c.walked > RUN_FILES_WALK_MAX)
			run_warn("--artifacts looked at the first %d entries under '%s' only",
			         RUN_FILES_WALK_MAX, o->cwd);
	}
	if (c.oom) {
		run_warn("files read and written not recorded: out of memory");
		goto done;
	}
	/* one entry per file, with what was done to it */
	if (c.n)
		qsort(c.v, c.n, sizeof *c.v, by_path);
	size_t k = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (k && strcmp(c.v[k - 1].path, c.v[i].path) == 0) {
			c.v[k - 1].bits |= c.v[i].bits;
			free(c.v[i].path);
		} else {
			c.v[k++] = c.v[i];
		}
	}
	c.n = k;
	/* the rules */
	k = 0;
	for (size_t i = 0; i < c.n; i++) {
		entry *e = &c.v[i];
		bool keep = (e->bits & RF_FORCE) ? !under(e->path, o->store_dir)
		                                 : !ignored(e->path, o, pyprefix);
		if (keep)
			c.v[k++] = *e;
		else
			free(e->path);
	}
	c.n = k;
	/* tracked by git? asked once, for the files only read */
	size_t nread = 0;
	paths = calloc(c.n + 1, sizeof *paths);
	tr = calloc(c.n + 1, sizeof *tr);
	if (!paths || !tr) {
		run_warn("files read and written not recorded: out of memory");
		goto done;
	}
	for (size_t i = 0; i < c.n; i++)
		if ((c.v[i].bits & RF_READ) && !(c.v[i].bits & RF_WRITE))
			paths[nread++] = c.v[i].path;
	if (nread && cairn_code_tracked(&root, tr, paths, nread, o->cwd) != 0) {
		run_warn("cannot tell which files git tracks (%s): every file read under the "
		         "project counts as data",
		         cairn_error_last());
		cairn_error_clear();
	}
	for (size_t i = 0, j = 0; i < c.n; i++)
		if ((c.v[i].bits & RF_READ) && !(c.v[i].bits & RF_WRITE))
			c.v[i].tracked = tr[j++];
	const char *project = root ? root : o->cwd;
	/* the datasets the run has already (--data), so as not to replace one */
	if (cairn_run_record_get(&had, cairn_run_store(run), cairn_run_id(run), 0) != 0)
		cairn_error_clear();
	/* inputs, a folder of many as one dataset (entries are in path order, so
	 * a folder's files are next to each other) */
	for (size_t i = 0; i < c.n;) {
		entry *e = &c.v[i];
		if (!is_input(e, o, project) || e->tracked) {
			i++;
			continue;
		}
		const char *slash = strrchr(e->path, '/');
		size_t dl = (size_t)(slash - e->path);
		size_t j = i, count = 0;
		bool outputs = false;
		/* the folder's entries before this one (not inputs) may be outputs */
		for (size_t b = i; b > 0 && strncmp(c.v[b - 1].path, e->path, dl) == 0 &&
		                   strrchr(c.v[b - 1].path, '/') == c.v[b - 1].path + dl;
		     b--)
			outputs = outputs || (c.v[b - 1].bits & RF_WRITE);
		for (; j < c.n && strncmp(c.v[j].path, e->path, dl) == 0 &&
		       strrchr(c.v[j].path, '/') == c.v[j].path + dl;
		     j++) {
			if (is_input(&c.v[j], o, project) && !c.v[j].tracked)
				count++;
			else if (c.v[j].bits & RF_WRITE)
				outputs = true;
		}
		char *dir = strndup(e->path, dl ? dl : 1);
		/* never a folder that holds the working directory or the store: its
		 * dataset would hash the project, outputs and all */
		if (dir && count > RUN_FILES_GROUP && !outputs && strcmp(dir, project) != 0 &&
		    strcmp(dir, "/") != 0 && !under(o->cwd, dir) && !under(o->store_dir, dir)) {
			record_input(run, had, dir, o, project);
			i = j;
		} else {
			for (; i < j; i++)
				if (is_input(&c.v[i], o, project) && !c.v[i].tracked)
					record_input(run, had, c.v[i].path, o, project);
		}
		free(dir);
	}
	/* outputs */
	for (size_t i = 0; i < c.n; i++)
		if ((c.v[i].bits & RF_WRITE) && under(c.v[i].path, o->cwd) &&
		    strcmp(c.v[i].path, o->cwd) != 0)
			record_output(run, had, &c.v[i], o);
	if (run_files_dropped(f)) {
		char note[96];
		snprintf(note, sizeof note, "truncated: %llu paths over the %zu kept",
		         (unsigned long long)run_files_dropped(f), RUN_FILES_MAX);
		cairn_run_set_property(run, "capture.files", note);
		run_warn("the command opened more than %zu files: the others are not recorded",
		         RUN_FILES_MAX);
	}
	if (run_files_bad(f))
		run_warn("%llu malformed file events were ignored",
		         (unsigned long long)run_files_bad(f));
done:
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].path);
	free(c.v);
	free(paths);
	free(tr);
	cairn_free(root);
	cairn_run_record_free(had);
}
