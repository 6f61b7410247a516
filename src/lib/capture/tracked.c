/*
 * lib/capture/tracked.c — cairn_code_tracked: which files the git index of
 * a work tree tracks.  `cairn run` asks it once, at the end of a run, for
 * the files its command read under the project: a tracked file is code
 * (already in the run's code version), an untracked one is data.
 *
 * The index is read once and each path looked up in it (stage 0, as git
 * status counts a path as tracked); a path outside the work tree is not
 * tracked.  libgit2 is loaded on first use (lg2.h).  Thread-safe: no state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/capture/lg2.h"
#include "lib/internal.h"
#include "util/fs.h"

int cairn_code_tracked(char **out_root, int *tracked, const char *const *paths, size_t n,
                       const char *dir)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	char *cwd = NULL, *root = NULL;
	int rc = 0;
	if (out_root)
		*out_root = NULL;
	if ((n && (!tracked || !paths)))
		return err_set(CAIRN_EINVALID, "no paths or no result array");
	for (size_t i = 0; i < n; i++)
		tracked[i] = 0;
	if (!(cwd = path_abs(dir ? dir : ".")))
		return err_set(CAIRN_EIO, "cannot resolve '%s': %s", dir ? dir : ".",
		               strerror(errno));
	if ((rc = lg2_load()) != 0) {
		free(cwd);
		return rc;
	}
	int e = lg2.repository_open_ext(&repo, cwd, 0, getenv("GIT_CEILING_DIRECTORIES"));
	if (e == GIT_ENOTFOUND) {
		lg2.error_clear();
		goto done;
	}
	if (e < 0) {
		const git_error *ge = lg2.error_last();
		rc = err_set(CAIRN_EIO, "cannot open the git repository: %s",
		             ge && ge->message ? ge->message : "unknown error");
		goto done;
	}
	if (lg2.repository_is_bare(repo) || !lg2.repository_workdir(repo))
		goto done;
	if (!(root = path_abs(lg2.repository_workdir(repo)))) {
		rc = err_set(CAIRN_EIO, "cannot resolve the work tree: %s", strerror(errno));
		goto done;
	}
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		root[--rl] = '\0';
	if (n && lg2.repository_index(&idx, repo) < 0) {
		const git_error *ge = lg2.error_last();
		rc = err_set(CAIRN_EIO, "cannot read the git index: %s",
		             ge && ge->message ? ge->message : "unknown error");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = paths[i];
		if (!p || strncmp(p, root, rl) != 0 || p[rl] != '/')
			continue;
		tracked[i] = lg2.index_get_bypath(idx, p + rl + 1, 0) != NULL;
	}
done:
	if (rc == 0 && out_root) {
		*out_root = root;
		root = NULL;
	}
	lg2.index_free(idx);
	lg2.repository_free(repo);
	lg2.libgit2_shutdown();
	free(root);
	free(cwd);
	return rc;
}
