/*
 * lib/capture/diff.c — cairn_code_diff: the unified diff between the code
 * of two runs, file by file in path order, as `git diff` prints it (the
 * hunks come from libgit2's patch engine).
 *
 * Files are equal when their stored objects are (content addressing makes
 * that a string compare), else when their git blob ids or digests are.
 * Notebooks are compared by their extracted code: a notebook whose outputs
 * changed but whose code did not is not a difference.  Content that was not
 * stored (over the size cap) is reported as "differ (content not stored)";
 * files over DIFF_FILE_MAX as "differ (too large to diff)".
 * Thread-safety: per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/capture/capture.h"
#include "lib/capture/lg2.h"

static bool same_content(const code_entry *a, const code_entry *b)
{
	if (a->oid[0] && b->oid[0])
		return strcmp(a->oid, b->oid) == 0;
	if (a->git[0] && b->git[0])
		return strcmp(a->git, b->git) == 0;
	if (a->digest[0] && b->digest[0])
		return strcmp(a->digest, b->digest) == 0;
	return false;
}

/* Load an object, or report why not (*why). */
static int load(cairn_store *s, const char *oid, void **data, size_t *len, const char **why)
{
	*data = NULL;
	*len = 0;
	*why = NULL;
	if (!oid || !oid[0]) {
		*why = "content not stored";
		return 0;
	}
	int rc = cairn_object_read(data, len, s, oid, DIFF_FILE_MAX);
	if (rc == CAIRN_ETOOBIG) {
		*why = "too large to diff";
		cairn_error_clear();
		return 0;
	}
	return rc;
}

static void mode_lines(buf *out, const code_entry *a, const code_entry *b)
{
	if (a && b && a->mode != b->mode)
		buf_printf(out, "old mode %06o\nnew mode %06o\n", a->mode, b->mode);
}

/* Append the patch of one path; a or b may be NULL (added / deleted). */
int code_patch_one(buf *out, cairn_store *s, const code_entry *a, const code_entry *b)
{
	const code_entry *e = a ? a : b;
	const char *path = e->path;
	bool nb = a && b ? a->script[0] && b->script[0] : e->script[0] != '\0';
	const char *oa = a ? (nb ? a->script : a->oid) : NULL;
	const char *ob = b ? (nb ? b->script : b->oid) : NULL;
	if (a && b) {
		bool same = nb ? strcmp(a->script, b->script) == 0 : same_content(a, b);
		if (same) {
			if (a->mode != b->mode) {
				buf_printf(out, "diff --git a/%s b/%s\n", path, path);
				mode_lines(out, a, b);
			}
			return 0;
		}
	}
	void *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;
	const char *wa = NULL, *wb = NULL;
	int rc = 0;
	if (a && (rc = load(s, oa, &da, &la, &wa)) != 0)
		goto done;
	if (b && (rc = load(s, ob, &db, &lb, &wb)) != 0)
		goto done;
	if (wa || wb) {
		buf_printf(out, "diff --git a/%s b/%s\n", path, path);
		mode_lines(out, a, b);
		buf_printf(out, "Files %s%s and %s%s differ (%s)\n", a ? "a/" : "",
		           a ? path : "/dev/null", b ? "b/" : "", b ? path : "/dev/null",
		           wa ? wa : wb);
		goto done;
	}
	git_patch *patch = NULL;
	git_buf pb = {0};
	git_diff_options dopt;
	lg2.diff_options_init(&dopt, GIT_DIFF_OPTIONS_VERSION);
	dopt.context_lines = 3;
	if (lg2.patch_from_buffers(&patch, a ? (da ? da : "") : NULL, la, path,
	                           b ? (db ? db : "") : NULL, lb, path, &dopt) != 0 ||
	    lg2.patch_to_buf(&pb, patch) != 0) {
		const git_error *ge = lg2.error_last();
		rc = err_set(CAIRN_ERROR, "cannot diff '%s': %s", path,
		             ge && ge->message ? ge->message : "libgit2 error");
	} else if (pb.size) {
		/* insert mode lines after the "diff --git" line */
		const char *nl = memchr(pb.ptr, '\n', pb.size);
		size_t head = nl ? (size_t)(nl + 1 - pb.ptr) : pb.size;
		buf_add(out, pb.ptr, head);
		mode_lines(out, a, b);
		buf_add(out, pb.ptr + head, pb.size - head);
	}
	lg2.buf_dispose(&pb);
	lg2.patch_free(patch);
done:
	free(da);
	free(db);
	return rc;
}

int cairn_code_diff(char **out, cairn_store *s, const char *run_a, const char *run_b)
{
	code_tree ta, tb;
	buf b = BUF_INIT;
	*out = NULL;
	if (!s || !run_a || !run_b)
		return err_set(CAIRN_EINVALID, "no store or no runs");
	int rc = code_tree_load(s, run_a, &ta);
	if (rc)
		return rc;
	if ((rc = code_tree_load(s, run_b, &tb)) != 0) {
		code_tree_free(&ta);
		return rc;
	}
	if ((rc = lg2_load()) != 0) {
		code_tree_free(&ta);
		code_tree_free(&tb);
		return rc;
	}
	size_t i = 0, j = 0;
	while ((i < ta.files.n || j < tb.files.n) && rc == 0) {
		const code_entry *x = i < ta.files.n ? &ta.files.v[i] : NULL;
		const code_entry *y = j < tb.files.n ? &tb.files.v[j] : NULL;
		int c = !x ? 1 : !y ? -1 : strcmp(x->path, y->path);
		if (c == 0) {
			rc = code_patch_one(&b, s, x, y);
			i++;
			j++;
		} else if (c < 0) {
			rc = code_patch_one(&b, s, x, NULL);
			i++;
		} else {
			rc = code_patch_one(&b, s, NULL, y);
			j++;
		}
	}
	lg2.libgit2_shutdown();
	code_tree_free(&ta);
	code_tree_free(&tb);
	if (rc == 0 && !buf_ok(&b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
