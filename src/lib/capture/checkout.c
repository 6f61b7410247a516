/*
 * lib/capture/checkout.c — cairn_code_checkout: rebuild the tree a run saw
 * (commit + changes + untracked files) in a directory, from the store alone.
 *
 * Files whose bytes were not stored (over the size cap, or secret-looking)
 * are taken from a git repository when one has the blob (the run's own, or
 * the caller's), else listed as missing; everything else is still restored.
 *
 * Safety: the target must be new or empty; paths were validated when the
 * manifest was read; every parent directory is opened with O_NOFOLLOW and
 * files are created with O_EXCL|O_NOFOLLOW, and symbolic links are made
 * last, so no entry can write through a link or outside the target.
 *
 * The report (cairn_checkout_report) owns what it says: copies of the vcs,
 * commit and subdir, and the missing and secret lists moved out of the
 * restore.  cairn_code_checkout_ext writes it as JSON.
 * Thread-safety: per call.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/capture/capture.h"
#include "lib/capture/lg2.h"
#include "util/fs.h"
#include "util/json.h"

struct cairn_checkout_report {
	int64_t files, bytes;
	int git;                     /* the checkout is a git repository */
	char *vcs, *commit, *subdir; /* commit may be NULL; subdir "" when none */
	code_list missing, secret;
};

typedef struct restore {
	cairn_store *s;
	int root;              /* fd of the target directory */
	const char *repo_path; /* where to look for blobs not stored */
	git_repository *repo;
	bool repo_tried;
	int64_t files, bytes;
	code_list missing; /* content nowhere to be found */
	code_list secret;  /* left out on purpose (secret-looking files) */
} restore;

/* Open the directory that will hold rel's last component, creating the
 * directories on the way; *leaf points into rel.  -1 with errno set. */
static int open_parent(int root, const char *rel, const char **leaf)
{
	int fd = dup(root);
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash) {
			*leaf = p;
			return fd;
		}
		char comp[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(fd, comp, 0777) != 0 && errno != EEXIST) {
				int e = errno;
				close(fd);
				errno = e;
				return -1;
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		int e = errno;
		close(fd);
		if (next < 0) {
			errno = e;
			return -1;
		}
		fd = next;
		p = slash + 1;
	}
}

/* The bytes of a blob from the repository, as checkout would write them. */
static int git_bytes(restore *r, const code_entry *e, git_buf *out)
{
	if (!e->git[0])
		return -1;
	if (!r->repo_tried) {
		r->repo_tried = true;
		if (!r->repo_path || lg2.repository_open_ext(&r->repo, r->repo_path, 0, NULL) != 0)
			r->repo = NULL;
		lg2.error_clear();
	}
	if (!r->repo)
		return -1;
	git_oid id;
	git_blob *blob = NULL;
	if (lg2.oid_fromstr(&id, e->git) != 0 || lg2.blob_lookup(&blob, r->repo, &id) != 0) {
		lg2.error_clear();
		return -1;
	}
	git_blob_filter_options fo;
	lg2.blob_filter_options_init(&fo, GIT_BLOB_FILTER_OPTIONS_VERSION);
	int rc = lg2.blob_filter(out, blob, e->path, &fo);
	lg2.blob_free(blob);
	lg2.error_clear();
	return rc == 0 ? 0 : -1;
}

static int copy_object(restore *r, const char *oid, int out, int64_t *copied)
{
	char *src = NULL;
	int rc = cairn_object_path(&src, r->s, oid);
	if (rc)
		return rc;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	free(src);
	if (in < 0)
		return err_set(CAIRN_EIO, "cannot read object %s: %s", oid, strerror(errno));
	*copied = 0;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n > 0) {
			*copied += n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		/* not supported here: plain copy from where it stopped */
		char blk[1 << 16];
		for (;;) {
			ssize_t k = read(in, blk, sizeof blk);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				rc = err_set(CAIRN_EIO, "cannot read object %s: %s", oid,
				             strerror(errno));
				break;
			}
			if (k == 0)
				break;
			int e = fd_write_all(out, blk, (size_t)k);
			if (e) {
				rc = err_set(CAIRN_EIO, "cannot write: %s", strerror(-e));
				break;
			}
			*copied += k;
		}
		break;
	}
	close(in);
	return rc;
}

static int add_missing(restore *r, const char *path)
{
	return code_list_add(&r->missing, path) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static int restore_file(restore *r, const code_entry *e)
{
	const char *leaf;
	int pfd = open_parent(r->root, e->path, &leaf);
	if (pfd < 0)
		return err_set(CAIRN_EIO, "cannot create the directory of '%s': %s", e->path,
		               strerror(errno));
	int rc = 0;
	git_buf gb = {0};
	bool have_git = !e->oid[0] && git_bytes(r, e, &gb) == 0;
	if (!e->oid[0] && !have_git) {
		if (e->omitted && strcmp(e->omitted, "secret") == 0)
			rc = code_list_add(&r->secret, e->path)
			         ? 0
			         : err_set(CAIRN_ENOMEM, "out of memory");
		else
			rc = add_missing(r, e->path);
		goto done;
	}
	mode_t mode = e->mode == MODE_EXEC ? 0777 : 0666;
	int fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = err_set(CAIRN_EIO, "cannot create '%s': %s", e->path, strerror(errno));
		goto done;
	}
	int64_t n = 0;
	if (e->oid[0]) {
		rc = copy_object(r, e->oid, fd, &n);
	} else {
		int w = fd_write_all(fd, gb.ptr, gb.size);
		if (w)
			rc = err_set(CAIRN_EIO, "cannot write '%s': %s", e->path, strerror(-w));
		n = (int64_t)gb.size;
	}
	if (close(fd) != 0 && !rc)
		rc = err_set(CAIRN_EIO, "cannot write '%s': %s", e->path, strerror(errno));
	if (rc == 0) {
		r->files++;
		r->bytes += n;
	}
done:
	lg2.buf_dispose(&gb);
	close(pfd);
	return rc;
}

static int restore_link(restore *r, const code_entry *e)
{
	void *data = NULL;
	size_t len = 0;
	git_buf gb = {0};
	int rc = 0;
	if (e->oid[0]) {
		if ((rc = cairn_object_read(&data, &len, r->s, e->oid, PATH_MAX)) != 0)
			return rc;
	} else if (git_bytes(r, e, &gb) == 0 && gb.size < PATH_MAX) {
		data = malloc(gb.size + 1);
		if (!data) {
			lg2.buf_dispose(&gb);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		memcpy(data, gb.ptr, gb.size);
		len = gb.size;
		lg2.buf_dispose(&gb);
	} else {
		lg2.buf_dispose(&gb);
		return add_missing(r, e->path);
	}
	char target[PATH_MAX];
	memcpy(target, data, len < PATH_MAX ? len : PATH_MAX - 1);
	target[len < PATH_MAX ? len : PATH_MAX - 1] = '\0';
	free(data);
	const char *leaf;
	int pfd = open_parent(r->root, e->path, &leaf);
	if (pfd < 0)
		return err_set(CAIRN_EIO, "cannot create the directory of '%s': %s", e->path,
		               strerror(errno));
	if (symlinkat(target, pfd, leaf) != 0)
		rc = err_set(CAIRN_EIO, "cannot create link '%s': %s", e->path, strerror(errno));
	else
		r->files++;
	close(pfd);
	return rc;
}

static int restore_gitlink(restore *r, const code_entry *e)
{
	const char *leaf;
	int pfd = open_parent(r->root, e->path, &leaf);
	if (pfd < 0)
		return err_set(CAIRN_EIO, "cannot create the directory of '%s': %s", e->path,
		               strerror(errno));
	int rc = 0;
	if (mkdirat(pfd, leaf, 0777) != 0 && errno != EEXIST)
		rc = err_set(CAIRN_EIO, "cannot create '%s': %s", e->path, strerror(errno));
	close(pfd);
	return rc;
}

/* The target: created when absent, else it must be an empty directory. */
static int prepare_dir(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		int e = mkdir_p(dir);
		if (e)
			return err_set(CAIRN_EIO, "cannot create '%s': %s", dir, strerror(-e));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(CAIRN_EEXISTS, "cannot check out into '%s': it is not a directory",
		               dir);
	DIR *d = opendir(dir);
	if (!d)
		return err_set(CAIRN_EIO, "cannot read '%s': %s", dir, strerror(errno));
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	if (!empty)
		return err_set(CAIRN_EEXISTS,
		               "cannot check out into '%s': the directory is not empty", dir);
	return 0;
}

void cairn_checkout_report_free(cairn_checkout_report *r)
{
	if (!r)
		return;
	free(r->vcs);
	free(r->commit);
	free(r->subdir);
	code_list_free(&r->missing);
	code_list_free(&r->secret);
	free(r);
}

/* The report of a finished restore: takes r's lists. */
static int make_report(cairn_checkout_report **out, restore *r, const code_tree *t)
{
	cairn_checkout_report *rep = calloc(1, sizeof *rep);
	if (!rep)
		return err_set(CAIRN_ENOMEM, "out of memory");
	rep->files = r->files;
	rep->bytes = r->bytes;
	rep->vcs = strdup(t->vcs ? t->vcs : "none");
	rep->commit = t->commit ? strdup(t->commit) : NULL;
	rep->subdir = strdup(t->subdir ? t->subdir : "");
	rep->missing = r->missing;
	rep->secret = r->secret;
	memset(&r->missing, 0, sizeof r->missing);
	memset(&r->secret, 0, sizeof r->secret);
	if (!rep->vcs || !rep->subdir || (t->commit && !rep->commit)) {
		cairn_checkout_report_free(rep);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = rep;
	return 0;
}

int cairn_code_checkout_report(cairn_checkout_report **out_report, cairn_store *s, const char *run,
                               const char *dir, const cairn_checkout_options *o)
{
	cairn_checkout_options def = CAIRN_CHECKOUT_OPTIONS_INIT;
	code_tree t;
	restore r;
	int rc;
	memset(&r, 0, sizeof r);
	r.root = -1;
	if (out_report)
		*out_report = NULL;
	if (!s || !run || !dir || !*dir)
		return err_set(CAIRN_EINVALID, "no store, run or directory");
	if (!o)
		o = &def;
	if (o->version != CAIRN_CHECKOUT_OPTIONS_VERSION && o->version != 1)
		return err_set(CAIRN_EINVALID, "cairn_checkout_options version %u is not supported",
		               o->version);
	bool git = !(o->version >= 2 && o->no_git);
	if ((rc = code_tree_load(s, run, &t)) != 0)
		return rc;
	if ((rc = lg2_load()) != 0) {
		code_tree_free(&t);
		return rc;
	}
	if ((rc = prepare_dir(dir)) != 0)
		goto done;
	r.s = s;
	r.repo_path = o->repo ? o->repo : t.root;
	r.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.root < 0) {
		rc = err_set(CAIRN_EIO, "cannot open '%s': %s", dir, strerror(errno));
		goto done;
	}
	/* Files and directories first, links last. */
	for (size_t i = 0; i < t.files.n && !rc; i++) {
		const code_entry *e = &t.files.v[i];
		if (e->mode == MODE_GITLINK)
			rc = restore_gitlink(&r, e);
		else if (e->mode != MODE_LINK)
			rc = restore_file(&r, e);
	}
	for (size_t i = 0; i < t.files.n && !rc; i++)
		if (t.files.v[i].mode == MODE_LINK)
			rc = restore_link(&r, &t.files.v[i]);
	if (rc)
		goto done;
	/* a git run's checkout remembers its origin (checkout-git.c) */
	bool made_git = false;
	if (git && t.vcs && strcmp(t.vcs, "git") == 0) {
		if ((rc = checkout_git_init(s, run, dir, &t)) != 0)
			goto done;
		made_git = true;
	}
	/* the message first: the report takes the lists */
	if (r.missing.n) {
		buf m = BUF_INIT;
		for (size_t i = 0; i < r.missing.n && i < 5; i++)
			buf_printf(&m, "%s%s", i ? ", " : "", r.missing.v[i].path);
		if (r.missing.n > 5)
			buf_printf(&m, " and %zu more", r.missing.n - 5);
		rc = err_set(CAIRN_ENOTFOUND,
		             "%zu file%s could not be restored (not stored in the snapshot, and no "
		             "repository has %s): %s",
		             r.missing.n, r.missing.n == 1 ? "" : "s",
		             r.missing.n == 1 ? "it" : "them", m.ptr);
		buf_free(&m);
	}
	if (out_report) {
		int mrc = make_report(out_report, &r, &t);
		if (mrc)
			rc = mrc;
		else
			(*out_report)->git = made_git;
	}
done:
	if (r.root >= 0)
		close(r.root);
	lg2.repository_free(r.repo);
	lg2.libgit2_shutdown();
	code_list_free(&r.missing);
	code_list_free(&r.secret);
	code_tree_free(&t);
	return rc;
}

int cairn_code_checkout_ext(char **out_report, cairn_store *s, const char *run, const char *dir,
                            const cairn_checkout_options *o)
{
	cairn_checkout_report *rep = NULL;
	if (out_report)
		*out_report = NULL;
	int rc = cairn_code_checkout_report(out_report ? &rep : NULL, s, run, dir, o);
	if (!rep)
		return rc;
	buf b = BUF_INIT;
	bool f = true;
	buf_putc(&b, '{');
	json_key(&b, &f, "files");
	json_int(&b, rep->files);
	json_key(&b, &f, "bytes");
	json_int(&b, rep->bytes);
	json_key(&b, &f, "vcs");
	json_str(&b, rep->vcs);
	json_key(&b, &f, "commit");
	json_str(&b, rep->commit);
	json_key(&b, &f, "subdir");
	json_str(&b, rep->subdir);
	json_key(&b, &f, "git");
	json_bool(&b, rep->git);
	for (int k = 0; k < 2; k++) {
		const code_list *l = k ? &rep->secret : &rep->missing;
		json_key(&b, &f, k ? "secret" : "missing");
		buf_putc(&b, '[');
		for (size_t i = 0; i < l->n; i++) {
			if (i)
				buf_putc(&b, ',');
			json_str(&b, l->v[i].path);
		}
		buf_putc(&b, ']');
	}
	buf_putc(&b, '}');
	cairn_checkout_report_free(rep);
	*out_report = buf_detach(&b);
	if (!*out_report)
		return err_set(CAIRN_ENOMEM, "out of memory");
	return rc;
}

int64_t cairn_checkout_report_files(const cairn_checkout_report *r)
{
	return r ? r->files : 0;
}

int64_t cairn_checkout_report_bytes(const cairn_checkout_report *r)
{
	return r ? r->bytes : 0;
}

const char *cairn_checkout_report_vcs(const cairn_checkout_report *r)
{
	return r ? r->vcs : NULL;
}

const char *cairn_checkout_report_commit(const cairn_checkout_report *r)
{
	return r ? r->commit : NULL;
}

int cairn_checkout_report_git(const cairn_checkout_report *r)
{
	return r ? r->git : 0;
}

const char *cairn_checkout_report_subdir(const cairn_checkout_report *r)
{
	return r ? r->subdir : NULL;
}

size_t cairn_checkout_report_missing_count(const cairn_checkout_report *r)
{
	return r ? r->missing.n : 0;
}

const char *cairn_checkout_report_missing(const cairn_checkout_report *r, size_t i)
{
	return r && i < r->missing.n ? r->missing.v[i].path : NULL;
}

size_t cairn_checkout_report_secret_count(const cairn_checkout_report *r)
{
	return r ? r->secret.n : 0;
}

const char *cairn_checkout_report_secret(const cairn_checkout_report *r, size_t i)
{
	return r && i < r->secret.n ? r->secret.v[i].path : NULL;
}

int cairn_code_checkout(cairn_store *s, const char *run, const char *dir)
{
	return cairn_code_checkout_ext(NULL, s, run, dir, NULL);
}
