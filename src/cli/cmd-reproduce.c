/*
 * cli/cmd-reproduce.c — `cairn reproduce RUN [DIR]`: restore a run's code,
 * check its data and environment, run its command again as a new run that
 * reproduces it, and say per final metric whether the result held.
 *
 * The steps stop at the first that fails: a restore that is not complete,
 * a dataset whose digest changed (unless --allow-data-change), an
 * environment that differs under --strict-env.  The re-run is `cairn run
 * --reproduces RUN` in the restored tree (this same executable), so it is
 * captured like any run; its code is the original's snapshot, which is what
 * the tree was restored from.  docs/cli/reproduce.md has the rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/fs.h"

static const char usage[] =
    "usage: cairn reproduce RUN [DIR] [options]\n\n"
    "Re-run RUN and check that its results hold: restore its code snapshot into\n"
    "DIR (default ./reproduce-ID, which must not exist or be empty), check every\n"
    "recorded dataset against its digest, compare the environment with the\n"
    "recorded one, run the recorded command there as a new run that reproduces\n"
    "RUN, and compare every final metric.  Exits 0 only when all of them match.\n\n"
    "options:\n"
    "  -n, --name NAME        the new run's name (default: generated)\n"
    "      --here             restore over the current git work tree, which must be\n"
    "                         clean (files the snapshot lacks are left as they are)\n"
    "      --allow-data-change  go on when a dataset changed (its files are listed)\n"
    "      --strict-env       refuse to run when the environment differs\n"
    "      --rtol X           relative tolerance per metric (default 1e-9)\n"
    "      --atol X           absolute tolerance per metric (default 0)\n"
    "      --dry-run          restore and check, but do not run\n";

typedef struct repro {
	cairn_store *s;
	const cairn_run_record *rec;
	const char *dir;  /* the restored tree */
	const char *sub;  /* the subdirectory the run started in, or "" */
	char *workdir;    /* where the command starts: dir/subdir */
	char **data_args; /* "-d", "NAME=PATH", ... for the re-run */
	size_t ndata;
} repro;

/* --- --here: the snapshot over the working tree ------------------------------------ */

/* The work tree's root: the nearest directory above cwd holding .git. */
static char *git_root(void)
{
	char *d = path_abs(".");
	while (d) {
		char *g = path_join(d, ".git");
		bool found = g && path_exists(g);
		free(g);
		if (found)
			return d;
		char *slash = strrchr(d, '/');
		if (!slash || slash == d)
			break;
		*slash = '\0';
	}
	free(d);
	return NULL;
}

/* Copy the tree at from over the one at to: files (with their executable
 * bit) and symbolic links replace what is there; nothing is removed. */
static int copy_over(const char *from, const char *to, int64_t *n)
{
	DIR *dir = opendir(from);
	struct dirent *e;
	int rc = 0;
	if (!dir)
		return cli_fail("cannot read '%s': %s", from, strerror(errno));
	while (!rc && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *a = path_join(from, e->d_name), *b = path_join(to, e->d_name);
		struct stat st;
		buf data = BUF_INIT;
		if (!a || !b) {
			rc = cli_fail("out of memory");
		} else if (lstat(a, &st) != 0) {
			rc = cli_fail("cannot read '%s': %s", a, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir_p(b) != 0)
				rc = cli_fail("cannot make '%s': %s", b, strerror(errno));
			else
				rc = copy_over(a, b, n);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t k = readlink(a, target, sizeof target - 1);
			target[k > 0 ? k : 0] = '\0';
			unlink(b);
			if (k <= 0 || symlink(target, b) != 0)
				rc = cli_fail("cannot link '%s': %s", b, strerror(errno));
			(*n)++;
		} else {
			int fd = -1;
			unlink(b);
			if (read_file(a, SIZE_MAX / 2, &data) != 0 ||
			    (fd = open(b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			               st.st_mode & 0111 ? 0755 : 0644)) < 0 ||
			    fd_write_all(fd, data.ptr, data.len) != 0)
				rc = cli_fail("cannot write '%s': %s", b, strerror(errno));
			if (fd >= 0)
				close(fd);
			(*n)++;
		}
		buf_free(&data);
		free(a);
		free(b);
	}
	closedir(dir);
	return rc;
}

static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		DIR *dir = opendir(path);
		struct dirent *e;
		while (dir && (e = readdir(dir)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *c = path_join(path, e->d_name);
			if (c)
				remove_tree(c);
			free(c);
		}
		if (dir)
			closedir(dir);
		return rmdir(path);
	}
	return unlink(path);
}

/* --here: the work tree must be clean (so that nothing of the user's is
 * overwritten and `git status` afterwards shows exactly what the restore
 * changed); the snapshot goes to a temporary directory, then over it. */
static int restore_here(cairn_store *s, const char *id, char **out_root,
                        cairn_checkout_report **rep)
{
	cairn_checkout_options co = CAIRN_CHECKOUT_OPTIONS_INIT;
	char tmpl[] = "/tmp/cairn-reproduce.XXXXXX";
	int64_t n = 0;
	int rc = 0;
	*out_root = NULL;
	if (cairn_code_require_clean(s, NULL) != 0)
		return cli_fail("--here needs a clean git work tree: %s", cairn_error_last());
	char *root = git_root();
	if (!root)
		return cli_fail("--here: the working directory is not in a git work tree");
	if (!mkdtemp(tmpl)) {
		free(root);
		return cli_fail("cannot make a temporary directory: %s", strerror(errno));
	}
	if (cairn_code_checkout_report(rep, s, id, tmpl, &co) != 0)
		rc = cli_fail("cannot restore run %.8s's code: %s", id, cairn_error_last());
	else
		rc = copy_over(tmpl, root, &n);
	remove_tree(tmpl);
	if (rc)
		free(root);
	else
		*out_root = root;
	return rc;
}

/* --- the data --------------------------------------------------------------------- */

/* The original's root: its working directory less the snapshot's subdir. */
static char *orig_root(const char *cwd, const char *sub)
{
	size_t n = strlen(cwd), k = sub ? strlen(sub) : 0;
	if (k && n > k && strcmp(cwd + n - k, sub) == 0 && cwd[n - k - 1] == '/')
		return strndup(cwd, n - k - 1);
	return strdup(cwd);
}

static int data_arg(repro *r, const char *name, const char *path)
{
	char **v = realloc(r->data_args, (r->ndata + 2) * sizeof *v);
	if (!v)
		return cli_fail("out of memory");
	r->data_args = v;
	size_t n = strlen(name) + strlen(path) + 2;
	if (!(v[r->ndata] = strdup("-d")) || !(v[r->ndata + 1] = malloc(n)))
		return cli_fail("out of memory");
	snprintf(v[r->ndata + 1], n, "%s=%s", name, path);
	r->ndata += 2;
	return 0;
}

/* A dataset inside the original tree that is not part of the snapshot
 * (ignored data, say) is linked into the restored tree at the same place,
 * so that the command finds it where it did.  *inside: it lies in the tree
 * (so the re-run can name it by the same relative path). */
static int link_data(repro *r, const char *abs, const char *root, bool *inside)
{
	size_t k = strlen(root);
	*inside = strncmp(abs, root, k) == 0 && abs[k] == '/' && !strstr(abs + k, "/../");
	char *there = *inside ? path_join(r->dir, abs + k + 1) : NULL;
	int rc = 0;
	struct stat st;
	if (!*inside)
		return 0;
	if (!there)
		return cli_fail("out of memory");
	if (lstat(there, &st) == 0)
		goto done;
	char *slash = strrchr(there, '/');
	*slash = '\0';
	if (mkdir_p(there) != 0) {
		rc = cli_fail("cannot make '%s': %s", there, strerror(errno));
		goto done;
	}
	*slash = '/';
	if (symlink(abs, there) != 0)
		rc = cli_fail("cannot link '%s' to '%s': %s", there, abs, strerror(errno));
	else
		printf("data: linked %s -> %s (not part of the code snapshot)\n", there, abs);
done:
	free(there);
	return rc;
}

static void print_list(const char *what, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n && i < 20; i++)
		printf("    %s %s\n", what, v[i]);
	if (n > 20)
		printf("    ... and %zu more %s\n", n - 20, what);
}

/* Every dataset against its digest; 0 when all are the same (or allowed). */
static int check_data(repro *r, bool allow_change)
{
	const char *cwd = cairn_run_record_cwd(r->rec);
	size_t n = cairn_run_record_dataset_count(r->rec), changed = 0;
	char *root = cwd ? orig_root(cwd, r->sub) : NULL;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const cairn_run_dataset *ds = cairn_run_record_dataset(r->rec, i);
		char *abs =
		    ds->path[0] == '/' || !cwd ? strdup(ds->path) : path_join(cwd, ds->path);
		cairn_data_diff *dd = NULL;
		if (!abs) {
			rc = cli_fail("out of memory");
			break;
		}
		if (!ds->manifest || !ds->digest) {
			printf("data: %s (%s): no digest was recorded, not checked\n", ds->name,
			       ds->path);
		} else if (cairn_data_diff_new(&dd, r->s, ds->manifest, abs) != 0) {
			printf("data: %s (%s): cannot be checked: %s\n", ds->name, abs,
			       cairn_error_last());
			changed++;
		} else {
			const cairn_data_pair *p = cairn_data_diff_get(dd, 0);
			if (p && p->same) {
				printf("data: %s (%s): unchanged\n", ds->name, ds->path);
			} else if (p) {
				changed++;
				printf(
				    "data: %s (%s) changed: %zu added, %zu removed, %zu changed\n",
				    ds->name, abs, p->nadded, p->nremoved, p->nchanged);
				print_list("added", p->added, p->nadded);
				print_list("removed", p->removed, p->nremoved);
				print_list("changed", p->changed, p->nchanged);
			}
		}
		cairn_data_diff_free(dd);
		cairn_error_clear();
		/* the re-run records the same dataset, by the same path when it can */
		bool inside = false;
		if (root)
			rc = link_data(r, abs, root, &inside);
		if (!rc)
			rc = data_arg(r, ds->name, inside || ds->path[0] == '/' ? ds->path : abs);
		free(abs);
	}
	free(root);
	if (!rc && changed && !allow_change)
		rc = cli_fail("%zu dataset%s changed since the run; not running "
		              "(--allow-data-change runs anyway)",
		              changed, changed == 1 ? "" : "s");
	return rc;
}

/* --- the environment -------------------------------------------------------------- */

/* Members that differ from machine to machine without making a result
 * differ: not reported. */
static bool env_noise(const char *key)
{
	static const char *const keys[] = {"hostname", "user", "memory_bytes", "cpu_count",
	                                   "cairn_version"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static void env_value(char *out, size_t n, const cairn_value *v, const char *js)
{
	if (v->type == CAIRN_TYPE_STRING)
		snprintf(out, n, "%s", v->s);
	else if (v->type == CAIRN_TYPE_INT)
		snprintf(out, n, "%lld", (long long)v->i);
	else if (v->type == CAIRN_TYPE_FLOAT)
		snprintf(out, n, "%.10g", v->f);
	else if (v->type == CAIRN_TYPE_BOOL)
		snprintf(out, n, "%s", v->i ? "true" : "false");
	else
		snprintf(out, n, "%s", js ? js : "(none)");
}

/* Print how the environment differs; *out_n the differences counted. */
static int check_env(repro *r, const char *cmd0, size_t *out_n)
{
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	char *path = NULL, *python = NULL, *now = NULL;
	char *rel = strchr(cmd0, '/') && cmd0[0] != '/' ? path_join(r->workdir, cmd0) : NULL;
	cairn_run_diff *d = NULL;
	*out_n = 0;
	/* the command must be there to be run again; its interpreter (when it
	 * is Python) is asked for its packages */
	int rc = cli_resolve_command(rel ? rel : cmd0, &path);
	free(rel);
	if (rc)
		return rc;
	if (cairn_command_python(&python, path) == 0 && python)
		o.python = python;
	cairn_error_clear();
	o.cwd = r->workdir;
	if (cairn_env_capture_json(&now, r->s, &o) != 0 ||
	    cairn_env_diff_new(&d, cairn_run_record_environment(r->rec), now) != 0) {
		rc = cli_fail_lib("cannot compare the environment");
		goto done;
	}
	if (!cairn_run_diff_env_recorded(d, 0)) {
		printf("environment: none was recorded, not compared\n");
		goto done;
	}
	static const cairn_diff_section secs[] = {CAIRN_DIFF_ENV_DETAILS, CAIRN_DIFF_ENV_PACKAGES,
	                                          CAIRN_DIFF_ENV_FILES};
	static const char *const names[] = {"", "package ", "file "};
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < cairn_run_diff_count(d, secs[k]); i++) {
			const cairn_diff_entry *e = cairn_run_diff_entry(d, secs[k], i);
			if (k == 0 && env_noise(e->key))
				continue;
			char a[160], b[160];
			env_value(a, sizeof a, &e->a, e->a_json);
			env_value(b, sizeof b, &e->b, e->b_json);
			if (!*out_n)
				printf("environment: differs from the run's\n");
			printf("    %s%s: %s -> %s\n", names[k], e->key, a, b);
			(*out_n)++;
		}
	}
	if (!*out_n)
		printf("environment: the same as the run's\n");
done:
	cairn_run_diff_free(d);
	cairn_free(now);
	free(python);
	free(path);
	return rc;
}

/* --- the re-run ---------------------------------------------------------------------- */

static int rerun(repro *r, char **cmd, int ncmd, const char *name, int *out_status)
{
	const char *id = cairn_run_record_id(r->rec);
	size_t n = 0, cap = 12 + r->ndata + (size_t)ncmd;
	char **v = calloc(cap, sizeof *v);
	char *store = cli_store_location(r->s); /* a URI as given: the child connects */
	if (!v || !store) {
		free(v);
		free(store);
		return cli_fail("out of memory");
	}
	v[n++] = "cairn";
	v[n++] = "--store";
	v[n++] = store;
	v[n++] = "run";
	v[n++] = "--reproduces";
	v[n++] = (char *)id;
	v[n++] = "-p";
	v[n++] = (char *)cairn_run_record_project(r->rec);
	if (name) {
		v[n++] = "-n";
		v[n++] = (char *)name;
	}
	for (size_t i = 0; i < r->ndata; i++)
		v[n++] = r->data_args[i];
	v[n++] = "--";
	for (int i = 0; i < ncmd; i++)
		v[n++] = cmd[i];
	v[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	/* Ctrl-C reaches the whole group: cairn run passes it to the command
	 * and records the run as killed; this process waits for it. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, oldint, oldterm;
	sigaction(SIGINT, &ign, &oldint);
	sigaction(SIGTERM, &ign, &oldterm);
	pid_t pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &oldint, NULL);
		sigaction(SIGTERM, &oldterm, NULL);
		if (chdir(r->workdir) != 0) {
			fprintf(stderr, "error: cannot enter '%s': %s\n", r->workdir,
			        strerror(errno));
			_exit(127);
		}
		execv("/proc/self/exe", v);
		fprintf(stderr, "error: cannot run cairn again: %s\n", strerror(errno));
		_exit(127);
	}
	int st = 0, rc = 0;
	if (pid < 0)
		rc = cli_fail("cannot start the re-run: %s", strerror(errno));
	else
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGTERM, &oldterm, NULL);
	*out_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	free(store);
	free(v);
	return rc;
}

/* The newest run that reproduces the original: the one just made. */
static int find_repro(cairn_run_record **out, repro *r)
{
	char q[96];
	snprintf(q, sizeof q, "properties.reproduces = '%s'", cairn_run_record_id(r->rec));
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.query = q;
	o.sort = "-started";
	o.limit = 1;
	cairn_run_iter *it = NULL;
	int rc = cairn_query_iter_new(&it, r->s, &o);
	if (rc == 0)
		rc = cairn_run_iter_next(out, it);
	cairn_run_iter_free(it);
	return rc;
}

/* --- the verdict ----------------------------------------------------------------------- */

static bool close_enough(double a, double b, double rtol, double atol)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	if (isinf(a) || isinf(b))
		return a == b;
	return fabs(a - b) <= atol + rtol * fabs(a);
}

static int verdict(const cairn_run_record *a, const cairn_run_record *b, double rtol, double atol)
{
	size_t n = cairn_run_record_metric_count(a), bad = 0, total = 0;
	printf("\n%-28s %16s %16s  %s\n", "metric", "original", "reproduced", "verdict");
	for (size_t i = 0; i < n; i++) {
		const cairn_metric_summary *m = cairn_run_record_metric(a, i);
		if (strncmp(m->key, "sys/", 4) == 0)
			continue; /* system samples: the machine's, not the result's */
		const cairn_metric_summary *x = cairn_run_record_metric_get(b, m->key);
		total++;
		char va[32], vb[32];
		snprintf(va, sizeof va, "%.10g", m->last);
		snprintf(vb, sizeof vb, "%.10g", x ? x->last : NAN);
		if (!x) {
			bad++;
			printf("%-28s %16s %16s  MISSING\n", m->key, va, "-");
		} else if (close_enough(m->last, x->last, rtol, atol)) {
			printf("%-28s %16s %16s  match\n", m->key, va, vb);
		} else {
			bad++;
			printf("%-28s %16s %16s  MISMATCH (|diff| %.3g)\n", m->key, va, vb,
			       fabs(x->last - m->last));
		}
	}
	if (total == 0)
		printf("(the run recorded no final metrics)\n");
	else if (bad == 0)
		printf("\nall %zu metric%s match (rtol %g, atol %g)\n", total,
		       total == 1 ? "" : "s", rtol, atol);
	else
		printf("\n%zu of %zu metric%s differ (rtol %g, atol %g)\n", bad, total,
		       total == 1 ? "" : "s", rtol, atol);
	return bad ? EXIT_FAIL : 0;
}

/* --- the command ------------------------------------------------------------------------- */

static int parse_tol(const char *opt, const char *v, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || *end || errno || !(x >= 0) || isinf(x))
		return cli_usage_error("reproduce", "%s needs a number >= 0, got '%s'", opt, v);
	*out = x;
	return 0;
}

int cmd_reproduce(int argc, char **argv)
{
	enum { O_HELP = 1, O_NAME, O_HERE, O_ALLOW_DATA, O_STRICT_ENV, O_RTOL, O_ATOL, O_DRY };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"name", 'n', true, O_NAME},
	                               {"here", 0, false, O_HERE},
	                               {"allow-data-change", 0, false, O_ALLOW_DATA},
	                               {"strict-env", 0, false, O_STRICT_ENV},
	                               {"rtol", 0, true, O_RTOL},
	                               {"atol", 0, true, O_ATOL},
	                               {"dry-run", 0, false, O_DRY},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run_record *rec = NULL, *again = NULL;
	cairn_checkout_report *rep = NULL;
	cairn_checkout_options co = CAIRN_CHECKOUT_OPTIONS_INIT;
	const char *name = NULL;
	bool allow_data = false, strict_env = false, dry = false, here = false;
	char *here_root = NULL;
	double rtol = 1e-9, atol = 0;
	char **cmd = NULL, defdir[64];
	int ncmd = 0, o, rc = 0;
	repro r;
	memset(&r, 0, sizeof r);
	cli_args_init(&a, "reproduce", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_NAME: name = a.val; break;
		case O_HERE: here = true; break;
		case O_ALLOW_DATA: allow_data = true; break;
		case O_STRICT_ENV: strict_env = true; break;
		case O_RTOL: rc = parse_tol("--rtol", a.val, &rtol); break;
		case O_ATOL: rc = parse_tol("--atol", a.val, &atol); break;
		case O_DRY: dry = true; break;
		}
		if (rc)
			goto done;
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 1 || a.npos > 2 || (here && a.npos > 1)) {
		rc = cli_usage_error("reproduce", a.npos < 1 ? "name a run"
		                                  : here
		                                      ? "--here restores over the work tree: no DIR"
		                                      : "too many arguments");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	if (cairn_run_record_get(&rec, s, a.pos[0], 0) != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}
	r.s = s;
	r.rec = rec;
	const char *id = cairn_run_record_id(rec);
	if (cairn_command_line_split(&cmd, &ncmd, cairn_run_record_command(rec)) != 0) {
		rc = cli_fail("cannot reproduce run %.8s: %s", id, cairn_error_last());
		goto done;
	}
	snprintf(defdir, sizeof defdir, "reproduce-%.8s", id);
	r.dir = a.npos == 2 ? a.pos[1] : defdir;

	/* 1. the code */
	if (here) {
		if ((rc = restore_here(s, id, &here_root, &rep)) != 0)
			goto done;
		r.dir = here_root;
	} else if (cairn_code_checkout_report(&rep, s, id, r.dir, &co) != 0) {
		rc = cli_fail("cannot restore run %.8s's code into %s: %s", id, r.dir,
		              cairn_error_last());
		goto done;
	}
	const char *sub = cairn_checkout_report_subdir(rep);
	r.sub = sub ? sub : "";
	r.workdir = *r.sub ? path_join(r.dir, r.sub) : strdup(r.dir);
	if (!r.workdir || mkdir_p(r.workdir) != 0) {
		rc = cli_fail("cannot make '%s': %s", r.workdir ? r.workdir : r.dir,
		              strerror(errno));
		goto done;
	}
	printf("code: restored %lld files into %s", (long long)cairn_checkout_report_files(rep),
	       r.dir);
	if (cairn_checkout_report_commit(rep))
		printf(" (commit %.12s + the run's changes)", cairn_checkout_report_commit(rep));
	printf("\n");

	/* 2. the data, 3. the environment */
	size_t ndiff = 0;
	if ((rc = check_data(&r, allow_data)) != 0 || (rc = check_env(&r, cmd[0], &ndiff)) != 0)
		goto done;
	if (ndiff && strict_env) {
		rc = cli_fail("the environment differs (%zu difference%s); not running "
		              "(--strict-env)",
		              ndiff, ndiff == 1 ? "" : "s");
		goto done;
	}
	if (dry) {
		printf("dry run: the command would be run in %s\n", r.workdir);
		goto done;
	}

	/* 4. the re-run, 5. the verdict */
	int status = 0;
	if ((rc = rerun(&r, cmd, ncmd, name, &status)) != 0)
		goto done;
	if (find_repro(&again, &r) != 0) {
		rc = cli_fail("the re-run left no run behind (cairn run exited %d)", status);
		goto done;
	}
	printf("\nreproduction: run %.8s (%s) of run %.8s (%s)\n", cairn_run_record_id(again),
	       cairn_run_record_name(again), id, cairn_run_record_name(rec));
	rc = verdict(rec, again, rtol, atol);
	if (status != 0) {
		printf("the command exited %d\n", status);
		rc = EXIT_FAIL;
	}
done:
	cairn_run_record_free(again);
	cairn_run_record_free(rec);
	cairn_checkout_report_free(rep);
	cairn_command_line_free(cmd);
	for (size_t i = 0; i < r.ndata; i++)
		free(r.data_args[i]);
	free(r.data_args);
	free(r.workdir);
	free(here_root);
	cli_args_free(&a);
	return rc;
}
