/*
 * lib/capture/dir.c — the code snapshot of a run outside git: the source
 * files of the working directory, chosen by extension (or by the caller's
 * source_globs), under the same size cap as a git snapshot.  The record says
 * "vcs": "none" and the run's commit stays null, so `cairn show` reports that
 * the code was not in a git repository.
 *
 * Bounded: at most DIR_MAX_FILES files and DIR_MAX_DEPTH levels; files over
 * DIR_FILE_MAX are taken for data and left out (with a warning); hidden
 * directories, virtual environments (a pyvenv.cfg or conda-meta inside),
 * caches and the store are skipped.
 * Thread-safety: the walk state is per call.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/capture/capture.h"
#include "util/fs.h"

#define DIR_MAX_FILES 20000
#define DIR_MAX_DEPTH 24
#define DIR_FILE_MAX  ((off_t)4 << 20) /* larger files are data, not source */

static bool source_ext(const char *name)
{
	static const char *const exts[] = {
	    ".py",  ".ipynb", ".pyx",   ".pxd", ".r",   ".R",    ".jl",    ".sh",    ".bash",
	    ".zsh", ".c",     ".h",     ".cc",  ".cpp", ".cxx",  ".hpp",   ".hh",    ".cu",
	    ".cuh", ".java",  ".scala", ".kt",  ".go",  ".rs",   ".js",    ".mjs",   ".ts",
	    ".m",   ".lua",   ".pl",    ".rb",  ".sql", ".yaml", ".yml",   ".json",  ".toml",
	    ".cfg", ".ini",   ".txt",   ".md",  ".rst", ".mk",   ".cmake", ".proto", ".swift",
	};
	const char *dot = strrchr(name, '.');
	if (!dot)
		return strcmp(name, "Makefile") == 0 || strcmp(name, "Dockerfile") == 0 ||
		       strcmp(name, "CMakeLists.txt") == 0;
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (strcmp(dot, exts[i]) == 0)
			return true;
	return false;
}

/* A virtual environment or conda environment, whatever its name. */
static bool env_dir(const char *full)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/pyvenv.cfg", full);
	if (path_exists(p))
		return true;
	snprintf(p, sizeof p, "%s/conda-meta", full);
	return path_is_dir(p);
}

static bool skip_dir(const char *name)
{
	static const char *const skip[] = {"__pycache__", "node_modules", "site-packages", "wandb",
	                                   "mlruns"};
	if (name[0] == '.')
		return true; /* .git, .cairn, .venv, .ipynb_checkpoints, .cache, ... */
	for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
		if (strcmp(name, skip[i]) == 0)
			return true;
	return false;
}

typedef struct dwalk {
	capture_ctx *c;
	code_list *l;
	const char *store_abs;
	size_t nfiles, nbig;
	bool truncated;
	int rc;
} dwalk;

static void walk(dwalk *w, const char *rel, int depth)
{
	char *dir = *rel ? path_join(w->c->root, rel) : strdup(w->c->root);
	if (!dir) {
		w->rc = err_set(CAIRN_ENOMEM, "out of memory");
		return;
	}
	if (w->store_abs && strcmp(dir, w->store_abs) == 0) {
		free(dir);
		return;
	}
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (w->rc || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			goto next;
		char *sub = *rel ? path_join(rel, name) : strdup(name);
		char *full = sub ? path_join(w->c->root, sub) : NULL;
		struct stat st;
		if (!sub || !full) {
			w->rc = err_set(CAIRN_ENOMEM, "out of memory");
		} else if (lstat(full, &st) != 0) {
			/* vanished: skip */
		} else if (S_ISDIR(st.st_mode)) {
			if (!skip_dir(name) && !env_dir(full) && depth < DIR_MAX_DEPTH)
				walk(w, sub, depth + 1);
		} else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && source_ext(name) &&
		           relpath_is_safe(sub)) {
			if (S_ISREG(st.st_mode) && st.st_size > DIR_FILE_MAX) {
				w->nbig++;
			} else if (w->nfiles >= DIR_MAX_FILES) {
				w->truncated = true;
			} else {
				code_entry *e = code_list_add(w->l, sub);
				if (!e)
					w->rc = err_set(CAIRN_ENOMEM, "out of memory");
				else {
					e->status = ST_FILE;
					if (secret_file_name(sub))
						e->omitted = "secret";
				}
				w->nfiles++;
			}
		}
		free(sub);
		free(full);
	next:
		free(ents[i]);
	}
	free(ents);
	free(dir);
}

static int add_globs(capture_ctx *c, code_list *l)
{
	size_t rootlen = strlen(c->root);
	for (size_t g = 0; g < c->o->nsource_globs; g++) {
		const char *pat = c->o->source_globs[g];
		if (!pat || !*pat)
			continue;
		char *full = pat[0] == '/' ? strdup(pat) : path_join(c->cwd, pat);
		if (!full)
			return err_set(CAIRN_ENOMEM, "out of memory");
		glob_t gl;
		memset(&gl, 0, sizeof gl);
		int gr = glob(full, 0, NULL, &gl);
		free(full);
		for (size_t i = 0; gr == 0 && i < gl.gl_pathc && l->n < DIR_MAX_FILES; i++) {
			char *abs = path_abs(gl.gl_pathv[i]);
			struct stat st;
			if (abs && stat(abs, &st) == 0 && S_ISREG(st.st_mode) &&
			    strncmp(abs, c->root, rootlen) == 0 && abs[rootlen] == '/' &&
			    relpath_is_safe(abs + rootlen + 1)) {
				code_entry *e = code_list_add(l, abs + rootlen + 1);
				if (!e) {
					free(abs);
					globfree(&gl);
					return err_set(CAIRN_ENOMEM, "out of memory");
				}
				e->status = ST_FILE;
				if (secret_file_name(e->path))
					e->omitted = "secret";
			} else if (abs) {
				capture_warn(c, "'%s' is outside '%s': not snapshotted",
				             gl.gl_pathv[i], c->root);
			}
			free(abs);
		}
		globfree(&gl);
	}
	/* Several globs may name one file: keep the first. */
	code_list_sort(l);
	size_t w = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (w && strcmp(l->v[w - 1].path, l->v[i].path) == 0) {
			free(l->v[i].path);
			continue;
		}
		l->v[w++] = l->v[i];
	}
	l->n = w;
	return 0;
}

int code_capture_dir(capture_ctx *c)
{
	code_list l = {0};
	int rc;
	free(c->root);
	c->root = strdup(c->cwd);
	if (!c->root)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (c->o->nsource_globs) {
		rc = add_globs(c, &l);
	} else {
		char *store_abs = path_abs(cairn_store_path(c->store));
		dwalk w = {c, &l, store_abs, 0, 0, false, 0};
		walk(&w, "", 0);
		free(store_abs);
		rc = w.rc;
		if (w.nbig)
			capture_warn(
			    c,
			    "%zu file%s under '%s' larger than %lld bytes %s taken for data, "
			    "not source, and left out of the snapshot",
			    w.nbig, w.nbig == 1 ? "" : "s", c->root, (long long)DIR_FILE_MAX,
			    w.nbig == 1 ? "was" : "were");
		if (w.truncated)
			capture_warn(
			    c,
			    "more than %d source files under '%s': only the first %d are in "
			    "the snapshot",
			    DIR_MAX_FILES, c->root, DIR_MAX_FILES);
	}
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		if (l.v[i].omitted && strcmp(l.v[i].omitted, "secret") == 0)
			capture_warn(c, "'%s' looks like a secret file: not stored in the snapshot",
			             l.v[i].path);
	if (rc == 0)
		rc = code_store_files(c, &l, c->cap);
	if (rc == 0)
		rc = code_record_finish(c, "none", NULL, NULL, NULL, -1, "", NULL, &l, 0, 0);
	code_list_free(&l);
	return rc;
}
