/*
 * cli/cmd-init.c — `cairn init [--objects URI] [DIR]`: create DIR/.cairn,
 * its objects in objects/ or in the place URI names (a bucket).
 *
 * Inside a git work tree it also adds `.cairn/` to the repository's
 * info/exclude (once: a line already there is left alone), so `git status`
 * stays clean without touching a tracked .gitignore.  The repository is found
 * as git finds it, walking up from DIR to a `.git` directory, or a `.git`
 * file naming the git directory (worktrees and submodules; a worktree's
 * excludes live in its common directory).  Failing to write the exclude is a
 * warning: the store is made either way.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/fs.h"

static const char usage[] =
    "usage: cairn init [--objects URI] [DIR]\n\n"
    "Create a store (.cairn/) in DIR (default: the working directory).\n"
    "cairn commands run below DIR find it by walking up, as git finds .git.\n\n"
    "  --objects URI   keep the objects (artifacts, code snapshots, configs) in\n"
    "                  s3://bucket/prefix, or an absolute directory, instead of\n"
    "                  .cairn/objects; endpoint, region and credentials come from\n"
    "                  AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, ... or\n"
    "                  ~/.aws, and are never stored\n";

/* The first line of a small file, without its newline; NULL when unreadable. */
static char *first_line(const char *path)
{
	buf b = BUF_INIT;
	if (read_file(path, 4096, &b) != 0 || !buf_ok(&b)) {
		buf_free(&b);
		return NULL;
	}
	char *s = buf_detach(&b);
	if (s)
		s[strcspn(s, "\r\n")] = '\0';
	return s;
}

/* The git directory whose info/exclude covers `dir` (malloc'd), or NULL when
 * `dir` is not inside a work tree.  *root receives the work tree. */
static char *git_common_dir(const char *dir, char **root)
{
	char *cur = realpath(dir, NULL);
	*root = NULL;
	while (cur) {
		char *dotgit = path_join(cur, ".git");
		struct stat st;
		if (dotgit && stat(dotgit, &st) == 0) {
			char *gitdir = NULL;
			if (S_ISDIR(st.st_mode)) {
				gitdir = dotgit;
				dotgit = NULL;
			} else if (S_ISREG(st.st_mode)) {
				char *l = first_line(dotgit);
				if (l && strncmp(l, "gitdir: ", 8) == 0)
					gitdir =
					    l[8] == '/' ? strdup(l + 8) : path_join(cur, l + 8);
				free(l);
			}
			free(dotgit);
			if (!gitdir)
				break;
			/* a worktree: the excludes are the main repository's */
			char *cd = path_join(gitdir, "commondir");
			char *common = cd ? first_line(cd) : NULL;
			free(cd);
			if (common && *common) {
				char *c =
				    common[0] == '/' ? strdup(common) : path_join(gitdir, common);
				char *real = c ? realpath(c, NULL) : NULL;
				free(gitdir);
				free(c);
				gitdir = real;
			}
			free(common);
			if (!gitdir)
				break;
			*root = cur;
			return gitdir;
		}
		free(dotgit);
		if (strcmp(cur, "/") == 0)
			break;
		char *slash = strrchr(cur, '/');
		slash[slash == cur ? 1 : 0] = '\0';
	}
	free(cur);
	return NULL;
}

/* Is `.cairn/` (or a pattern that says the same) a line of the text? */
static bool excludes_store(const char *text)
{
	static const char *const same[] = {".cairn/", ".cairn", "/.cairn/", "/.cairn", ".cairn/*"};
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		size_t m = n && p[n - 1] == '\r' ? n - 1 : n;
		for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
			if (strlen(same[i]) == m && strncmp(p, same[i], m) == 0)
				return true;
		p += n + (p[n] == '\n');
	}
	return false;
}

/* Add .cairn/ to info/exclude of the repository around store_dir. */
static void exclude_store(const char *store_dir)
{
	char *root = NULL, *parent = path_join(store_dir, "..");
	char *gitdir = parent ? git_common_dir(parent, &root) : NULL;
	free(parent);
	if (!gitdir) {
		free(root);
		return;
	}
	char *info = path_join(gitdir, "info");
	char *excl = info ? path_join(info, "exclude") : NULL;
	buf old = BUF_INIT;
	if (!excl)
		goto done;
	int e = read_file(excl, (size_t)16 << 20, &old);
	if (e && e != -ENOENT && e != -ENOTDIR) {
		fprintf(stderr, "warning: cannot read %s: %s\n", excl, strerror(-e));
		goto done;
	}
	if (excludes_store(old.ptr))
		goto done;
	FILE *f = NULL;
	if ((e = mkdir_p(info)) != 0 || !(f = fopen(excl, "a"))) {
		fprintf(stderr, "warning: cannot add .cairn/ to %s: %s\n", excl,
		        strerror(e ? -e : errno));
		goto done;
	}
	bool nl = old.len && old.ptr[old.len - 1] != '\n';
	fprintf(f, "%s.cairn/\n", nl ? "\n" : "");
	if (fclose(f) != 0) {
		fprintf(stderr, "warning: cannot add .cairn/ to %s: %s\n", excl, strerror(errno));
		goto done;
	}
	/* relative to the work tree when it is the usual <root>/.git/info/exclude */
	size_t rl = strlen(root);
	const char *shown = excl;
	if (strncmp(excl, root, rl) == 0 && excl[rl] == '/')
		shown = excl + rl + 1;
	fprintf(stderr, "added .cairn/ to %s\n", shown);
done:
	buf_free(&old);
	free(excl);
	free(info);
	free(gitdir);
	free(root);
}

int cmd_init(int argc, char **argv)
{
	static const cli_opt opts[] = {{"help", 'h', false, 'h'}, {"objects", 0, true, 'o'}, {0}};
	cli_args a;
	int o, rc = 0;
	const char *objects = NULL;
	cli_args_init(&a, "init", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == 'h') {
			cli_help(usage);
			goto done;
		}
		if (o == 'o')
			objects = a.val;
	}
	if (o < 0 || a.npos > 1) {
		rc = o < 0 ? EXIT_USAGE : cli_usage_error("init", "too many arguments");
		goto done;
	}
	char *dir = NULL;
	int e = cairn_store_init_objects(&dir, a.npos ? a.pos[0] : NULL, objects);
	if (!e || (e == CAIRN_EEXISTS && dir)) {
		if (dir && !strstr(dir, "://"))
			exclude_store(dir);
	}
	if (e == CAIRN_EEXISTS && dir) {
		printf("store %s already exists\n", dir);
	} else if (e) {
		rc = cli_fail_lib(NULL);
	} else if (objects) {
		printf("initialised empty cairn store in %s, objects in %s\n", dir, objects);
	} else {
		printf("initialised empty cairn store in %s\n", dir);
	}
	cairn_free(dir);
done:
	cli_args_free(&a);
	return rc;
}
