/*
 * lib/capture/checkout-git.c — a checkout that remembers its origin: after
 * cairn_code_checkout has written a git run's files, the directory is made a
 * git repository whose HEAD holds the run's committed tree, with the run's
 * changes as uncommitted changes in the work tree.  So `git status` and
 * `git diff` there show what the run changed, and a run made there is
 * captured against the same tree: `cairn diff ORIGINAL RERUN` shows only
 * what really differs (docs/internals/capture.md, "Checkouts remember their
 * origin").
 *
 * The commit itself cannot be rebuilt: cairn stores the commit's tree (the
 * base manifest), not its author, message or parents.  So HEAD is a
 * stand-in: a root commit by "cairn" with the original tree, on the
 * original branch, with remote.origin.url the original remote.  The tree's
 * entries carry the original blob ids (the manifest has them), so its id is
 * the original tree's, and the file <gitdir>/cairn-origin maps the stand-in
 * to the original commit:
 *     {"format": 1, "run": "<run id>", "commit": "<stand-in>", "origin": "<commit>"}
 * The capture (capture-git.c) records the original commit while HEAD is the
 * stand-in; once the user commits, HEAD moves on and the new commit is
 * recorded as it is.
 *
 * Index entries: a committed file the run did not change is added from the
 * work tree (git_index_add_bypath: its blob is written and its stat data
 * kept, so the next `git status` hashes nothing); a changed, deleted or
 * missing one gets the original blob id, with the blob written from the
 * stored base bytes when they are there (so `git diff` can show it); one
 * whose bytes are nowhere (over the size cap, no repository) is left out of
 * the index, as it is missing from the work tree.
 * Thread-safety: per call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/capture/capture.h"
#include "lib/capture/lg2.h"
#include "util/fs.h"
#include "util/json.h"

static int git_fail(const char *what)
{
	const git_error *ge = lg2.error_last();
	return err_set(CAIRN_ERROR, "%s: %s", what,
	               ge && ge->message ? ge->message : "libgit2 error");
}

static bool same_file(const code_entry *a, const code_entry *b)
{
	if (a->mode != b->mode)
		return false;
	if (a->oid[0] && b->oid[0])
		return strcmp(a->oid, b->oid) == 0;
	return a->git[0] && b->git[0] && strcmp(a->git, b->git) == 0;
}

/* One committed file into the index. */
static int index_base(git_index *idx, git_odb *odb, cairn_store *s, const code_entry *e,
                      const code_entry *now)
{
	/* fails when the file is not there (content nowhere to be found) */
	if (e->mode != MODE_GITLINK && now && same_file(e, now)) {
		if (lg2.index_add_bypath(idx, e->path) == 0)
			return 0;
		lg2.error_clear(); /* below, from the manifest */
	}
	git_index_entry ie;
	memset(&ie, 0, sizeof ie);
	ie.mode = e->mode;
	ie.path = e->path;
	ie.file_size = e->size > 0 && e->size < UINT32_MAX ? (uint32_t)e->size : 0;
	bool have = e->git[0] && lg2.oid_fromstr(&ie.id, e->git) == 0;
	if (e->mode != MODE_GITLINK && e->oid[0]) {
		void *data = NULL;
		size_t len = 0;
		git_oid wrote;
		if (cairn_object_read(&data, &len, s, e->oid, DIFF_FILE_MAX) == 0 &&
		    lg2.odb_write(&wrote, odb, data, len, GIT_OBJECT_BLOB) == 0 && !have) {
			ie.id = wrote;
			have = true;
		}
		free(data);
		cairn_error_clear();
		lg2.error_clear();
	}
	/* libgit2 adds only what its object database has: a file whose content
	 * is nowhere (not stored, no repository had it) stays out */
	if (!have || !lg2.odb_exists(odb, &ie.id))
		return 0;
	return lg2.index_add(idx, &ie) == 0 ? 0 : git_fail("cannot add to the index");
}

static int write_marker(const char *gitdir, const char *run, const char *standin,
                        const char *origin)
{
	buf b = BUF_INIT;
	bool f = true;
	buf_putc(&b, '{');
	json_key(&b, &f, "format");
	json_int(&b, 1);
	json_key(&b, &f, "run");
	json_str(&b, run);
	json_key(&b, &f, "commit");
	json_str(&b, standin);
	json_key(&b, &f, "origin");
	json_str(&b, origin);
	buf_puts(&b, "}\n");
	char *path = path_join(gitdir, "cairn-origin");
	FILE *fp = path && buf_ok(&b) ? fopen(path, "wx") : NULL;
	int rc = 0;
	if (!fp || fwrite(b.ptr, 1, b.len, fp) != b.len)
		rc = err_set(CAIRN_EIO, "cannot write %s: %s", path ? path : "cairn-origin",
		             strerror(errno));
	if (fp && fclose(fp) != 0 && !rc)
		rc = err_set(CAIRN_EIO, "cannot write %s: %s", path, strerror(errno));
	free(path);
	buf_free(&b);
	return rc;
}

int checkout_git_init(cairn_store *s, const char *run, const char *dir, const code_tree *t)
{
	code_tree base;
	git_repository *repo = NULL;
	git_index *idx = NULL;
	git_odb *odb = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_config *cfg = NULL;
	int rc = code_tree_load_base(s, run, &base);
	if (rc)
		return rc;
	if (lg2.repository_init(&repo, dir, 0) != 0) {
		rc = git_fail("cannot make the checkout a git repository");
		goto done;
	}
	/* HEAD on the run's branch (unborn until the commit below) */
	char ref[512];
	int valid = 0;
	bool branch = t->branch && strcmp(t->branch, "(detached)") != 0 &&
	              (size_t)snprintf(ref, sizeof ref, "refs/heads/%s", t->branch) < sizeof ref &&
	              lg2.reference_name_is_valid(&valid, ref) == 0 && valid;
	if (branch && lg2.repository_set_head(repo, ref) != 0) {
		rc = git_fail("cannot set HEAD");
		goto done;
	}
	if (t->remote && *t->remote) {
		if (lg2.repository_config(&cfg, repo) != 0 ||
		    lg2.config_set_string(cfg, "remote.origin.url", t->remote) != 0 ||
		    lg2.config_set_string(cfg, "remote.origin.fetch",
		                          "+refs/heads/*:refs/remotes/origin/*") != 0) {
			rc = git_fail("cannot set the checkout's remote");
			goto done;
		}
	}
	if (!t->commit) /* an unborn branch: every file is a change */
		goto done;
	if (lg2.repository_index(&idx, repo) != 0 || lg2.repository_odb(&odb, repo) != 0) {
		rc = git_fail("cannot open the checkout's index");
		goto done;
	}
	for (size_t i = 0; i < base.files.n && !rc; i++) {
		const code_entry *e = &base.files.v[i];
		rc = index_base(idx, odb, s, e, code_list_find(&t->files, e->path));
	}
	if (rc)
		goto done;
	git_oid tree_id, commit_id;
	if (lg2.index_write_tree(&tree_id, idx) != 0 || lg2.index_write(idx) != 0 ||
	    lg2.tree_lookup(&tree, repo, &tree_id) != 0) {
		rc = git_fail("cannot write the checkout's tree");
		goto done;
	}
	buf msg = BUF_INIT;
	buf_printf(&msg,
	           "cairn checkout of run %s\n\n"
	           "A stand-in for commit %s: its tree, restored from the cairn store\n"
	           "(which keeps a commit's files, not its author, message or parents).\n"
	           "The run's uncommitted changes are in the work tree.\n",
	           run, t->commit);
	if (lg2.signature_new(&sig, "cairn", "cairn@localhost", (git_time_t)time(NULL), 0) != 0 ||
	    !buf_ok(&msg) ||
	    lg2.commit_create(&commit_id, repo, branch ? "HEAD" : NULL, sig, sig, NULL, msg.ptr,
	                      tree, 0, NULL) != 0 ||
	    (!branch && lg2.repository_set_head_detached(repo, &commit_id) != 0)) {
		buf_free(&msg);
		rc = git_fail("cannot write the checkout's commit");
		goto done;
	}
	buf_free(&msg);
	char standin[GIT_OID_HEXSZ + 1];
	lg2.oid_tostr(standin, sizeof standin, &commit_id);
	rc = write_marker(lg2.repository_path(repo), run, standin, t->commit);
done:
	lg2.config_free(cfg);
	lg2.signature_free(sig);
	lg2.tree_free(tree);
	lg2.odb_free(odb);
	lg2.index_free(idx);
	lg2.repository_free(repo);
	lg2.error_clear();
	code_tree_free(&base);
	return rc;
}

void checkout_origin_commit(const char *gitdir, char commit[41])
{
	char *path = path_join(gitdir, "cairn-origin");
	buf b = BUF_INIT;
	json_doc *d = NULL;
	if (path && read_file(path, 4096, &b) == 0 && buf_ok(&b))
		d = json_parse(b.ptr, b.len, NULL, NULL, 0);
	const json *r = d ? json_root(d) : NULL;
	const char *standin = r ? json_get_str(r, "commit") : NULL;
	const char *origin = r ? json_get_str(r, "origin") : NULL;
	if (standin && origin && strcmp(standin, commit) == 0 && strlen(origin) == 40 &&
	    strspn(origin, "0123456789abcdef") == 40)
		memcpy(commit, origin, 41);
	json_doc_free(d);
	buf_free(&b);
	free(path);
}
