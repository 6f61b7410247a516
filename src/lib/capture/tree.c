/*
 * lib/capture/tree.c — code entries and manifests: storing the content of a
 * list of files under the size cap, writing a run's code record, and loading
 * a run's tree back (the base manifest overlaid with the changes) for
 * checkout and diff.
 *
 * Invariants: every path in a manifest is a clean relative path
 * (relpath_is_safe), checked again when a manifest is read, so a damaged or
 * hostile store cannot make checkout write outside its directory.  A loaded
 * tree is sorted by path and holds no deletions.
 * Thread-safety: no shared state; a code_list belongs to one caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lib/capture/capture.h"
#include "lib/store/capture.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/sha.h"

/* --- lists ------------------------------------------------------------------ */

code_entry *code_list_add(code_list *l, const char *path)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		code_entry *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		l->v = nv;
		l->cap = nc;
	}
	code_entry *e = &l->v[l->n];
	memset(e, 0, sizeof *e);
	e->size = -1;
	e->mode = MODE_FILE;
	if (!(e->path = strdup(path)))
		return NULL;
	l->n++;
	return e;
}

void code_list_free(code_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const code_entry *)a)->path, ((const code_entry *)b)->path);
}

void code_list_sort(code_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, by_path);
}

code_entry *code_list_find(const code_list *l, const char *path)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].path, path);
		if (c == 0)
			return &l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* --- JSON --------------------------------------------------------------------- */

static const char *const status_names[] = {"base",    "modified", "added", "untracked",
                                           "deleted", "filtered", "extra", "file"};

const char *code_status_name(int st)
{
	if (st >= 0 && (size_t)st < sizeof status_names / sizeof status_names[0])
		return status_names[st];
	return "base";
}

static const char *const omit_reasons[] = {"size cap", "secret", "unreadable", "not a file",
                                           "not stored"};

static const char *omit_reason(const char *s)
{
	for (size_t i = 0; i < sizeof omit_reasons / sizeof omit_reasons[0]; i++)
		if (strcmp(s, omit_reasons[i]) == 0)
			return omit_reasons[i];
	return "not stored";
}

void code_entry_json(buf *b, const code_entry *e)
{
	bool f = true;
	char mode[16];
	buf_putc(b, '{');
	json_key(b, &f, "path");
	json_str(b, e->path);
	json_key(b, &f, "mode");
	snprintf(mode, sizeof mode, "%06o", e->mode);
	json_str(b, mode);
	if (e->status != ST_BASE) {
		json_key(b, &f, "status");
		json_str(b, code_status_name(e->status));
	}
	if (e->staged) {
		json_key(b, &f, "staged");
		json_bool(b, true);
	}
	if (e->unstaged) {
		json_key(b, &f, "unstaged");
		json_bool(b, true);
	}
	if (e->size >= 0) {
		json_key(b, &f, "size");
		json_int(b, e->size);
	}
	if (e->oid[0]) {
		json_key(b, &f, "oid");
		json_str(b, e->oid);
	}
	if (e->git[0]) {
		json_key(b, &f, "git");
		json_str(b, e->git);
	}
	if (e->script[0]) {
		json_key(b, &f, "script");
		json_str(b, e->script);
	}
	if (e->digest[0]) {
		json_key(b, &f, "digest");
		json_str(b, e->digest);
	}
	if (e->omitted) {
		json_key(b, &f, "omitted");
		json_str(b, e->omitted);
	}
	buf_putc(b, '}');
}

int code_entries_parse(const json *arr, code_list *out)
{
	if (!arr)
		return 0;
	if (arr->type != JSON_ARR)
		return err_set(CAIRN_EINVALID, "damaged code manifest: file list is not an array");
	for (const json *x = arr->child; x; x = x->next) {
		const char *path = json_get_str(x, "path");
		if (!path || !relpath_is_safe(path))
			return err_set(CAIRN_EINVALID, "damaged code manifest: bad path '%.200s'",
			               path ? path : "(none)");
		code_entry *e = code_list_add(out, path);
		if (!e)
			return err_set(CAIRN_ENOMEM, "out of memory");
		const char *mode = json_get_str(x, "mode");
		e->mode = mode ? (uint32_t)strtoul(mode, NULL, 8) : MODE_FILE;
		if (e->mode != MODE_FILE && e->mode != MODE_EXEC && e->mode != MODE_LINK &&
		    e->mode != MODE_GITLINK)
			e->mode = MODE_FILE;
		const char *st = json_get_str(x, "status");
		e->status = ST_BASE;
		for (size_t i = 0; st && i < sizeof status_names / sizeof status_names[0]; i++)
			if (strcmp(st, status_names[i]) == 0)
				e->status = (uint8_t)i;
		const json *v = json_get(x, "staged");
		e->staged = v && v->type == JSON_BOOL && v->b;
		v = json_get(x, "unstaged");
		e->unstaged = v && v->type == JSON_BOOL && v->b;
		v = json_get(x, "size");
		e->size = v && v->type == JSON_NUM ? v->i : -1;
		const char *s;
		if ((s = json_get_str(x, "oid")) && hex_is(s, 64))
			memcpy(e->oid, s, 65);
		if ((s = json_get_str(x, "git")) && hex_is(s, 40))
			memcpy(e->git, s, 41);
		if ((s = json_get_str(x, "script")) && hex_is(s, 64))
			memcpy(e->script, s, 65);
		if ((s = json_get_str(x, "digest")))
			snprintf(e->digest, sizeof e->digest, "%s", s);
		if ((s = json_get_str(x, "omitted")))
			e->omitted = omit_reason(s);
	}
	return 0;
}

/* --- digests and file names --------------------------------------------------- */

int file_xxh128(const char *path, char out[80])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	XXH3_state_t *st = XXH3_createState();
	char *blk = malloc(1 << 20);
	int rc = 0;
	if (!st || !blk) {
		rc = -ENOMEM;
		goto done;
	}
	XXH3_128bits_reset(st);
	for (;;) {
		ssize_t n = read(fd, blk, 1 << 20);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto done;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(st, blk, (size_t)n);
	}
	XXH128_canonical_t canon;
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(st));
	memcpy(out, "xxh128:", 7);
	hex_encode(out + 7, canon.digest, sizeof canon.digest);
done:
	XXH3_freeState(st);
	free(blk);
	close(fd);
	return rc;
}

static void buf_xxh128(const void *data, size_t len, char out[80])
{
	XXH128_canonical_t canon;
	XXH128_canonicalFromHash(&canon, XXH3_128bits(data, len));
	memcpy(out, "xxh128:", 7);
	hex_encode(out + 7, canon.digest, sizeof canon.digest);
}

bool secret_file_name(const char *path)
{
	const char *b = path_base(path);
	static const char *const exact[] = {".env",    ".netrc",           ".pgpass",
	                                    ".pypirc", ".git-credentials", "credentials.json",
	                                    ".npmrc"};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strcmp(b, exact[i]) == 0)
			return true;
	if (strncmp(b, ".env.", 5) == 0)
		return true;
	static const char *const keys[] = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		size_t n = strlen(keys[i]);
		if (strncmp(b, keys[i], n) == 0) {
			const char *rest = b + n;
			if (*rest == '\0' || (strcmp(rest, ".pub") != 0 && rest[0] != '.'))
				return true;
		}
	}
	static const char *const exts[] = {".pem", ".key", ".p12", ".pfx"};
	size_t bl = strlen(b);
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		size_t n = strlen(exts[i]);
		if (bl > n && strcmp(b + bl - n, exts[i]) == 0)
			return true;
	}
	return false;
}

bool is_notebook(const char *path)
{
	size_t n = strlen(path);
	return n > 6 && strcmp(path + n - 6, ".ipynb") == 0;
}

/* --- storing files under the cap ------------------------------------------------ */

void code_store_script(cairn_store *s, const void *data, size_t len, char script[65])
{
	char *code = NULL;
	script[0] = '\0';
	if (cairn_notebook_code(&code, data, len) == 0 && code) {
		if (cairn_object_put_buf(script, s, code, strlen(code)) != 0)
			script[0] = '\0';
	}
	cairn_free(code);
	cairn_error_clear();
}

typedef struct cand {
	code_entry *e;
	int64_t size;
	struct stat st;
} cand;

/* The digest of a file not stored, from the stat-keyed cache when the file
 * has not changed since it was last read (a big untracked file is read once,
 * not on every run).  The cache entry's algo label is capture's own. */
static void omitted_digest(capture_ctx *c, const char *full, const struct stat *st, char out[80])
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	int64_t ct = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	static const char algo[] = "capture-xxh128";
	if (store_hash_cache_get1(c->store, (int64_t)st->st_dev, (int64_t)st->st_ino, algo,
	                          (int64_t)st->st_size, mt, ct, out, 80) == 0 &&
	    strncmp(out, "xxh128:", 7) == 0)
		return;
	if (file_xxh128(full, out) != 0) {
		out[0] = '\0';
		return;
	}
	store_hash_cache_put1(c->store, (int64_t)st->st_dev, (int64_t)st->st_ino, algo,
	                      (int64_t)st->st_size, mt, ct, out);
	cairn_error_clear();
}

static int by_size(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return strcmp(x->e->path, y->e->path);
}

/* Store one work-tree file (regular or symlink) into e->oid. */
static int store_one(capture_ctx *c, code_entry *e, const char *full)
{
	int rc = 0;
	if (e->mode == MODE_LINK) {
		char target[4096];
		ssize_t n = readlink(full, target, sizeof target);
		if (n < 0 || n >= (ssize_t)sizeof target)
			return err_set(CAIRN_EIO, "cannot read link '%s'", e->path);
		return cairn_object_put_buf(e->oid, c->store, target, (size_t)n);
	}
	if (is_notebook(e->path) && e->size >= 0 && (size_t)e->size <= NOTEBOOK_MAX) {
		buf b = BUF_INIT;
		int r = read_file(full, NOTEBOOK_MAX, &b);
		if (r == 0) {
			rc = cairn_object_put_buf(e->oid, c->store, b.ptr, b.len);
			if (rc == 0)
				code_store_script(c->store, b.ptr, b.len, e->script);
			e->size = (int64_t)b.len;
			buf_free(&b);
			return rc;
		}
		buf_free(&b);
	}
	return cairn_object_put_file(e->oid, c->store, full);
}

static void list_names(buf *b, cand *v, size_t n)
{
	for (size_t i = 0; i < n && i < 5; i++)
		buf_printf(b, "%s%s", i ? ", " : "", v[i].e->path);
	if (n > 5)
		buf_printf(b, " and %zu more", n - 5);
}

int code_store_files(capture_ctx *c, code_list *l, int64_t cap)
{
	cand *cs = calloc(l->n + 1, sizeof *cs);
	cand *over = calloc(l->n + 1, sizeof *over);
	size_t n = 0, nover = 0;
	int rc = 0;
	if (!cs || !over) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < l->n; i++) {
		code_entry *e = &l->v[i];
		if (e->status == ST_DELETED || e->oid[0] || e->omitted || e->mode == MODE_GITLINK)
			continue;
		char *full = path_join(c->root, e->path);
		struct stat st;
		if (!full) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
		if (lstat(full, &st) != 0) {
			e->omitted = "unreadable";
			capture_warn(c, "cannot snapshot '%s': %s", e->path, strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			e->mode = MODE_LINK;
			e->size = (int64_t)st.st_size;
		} else if (S_ISREG(st.st_mode)) {
			e->mode = (st.st_mode & 0111) ? MODE_EXEC : MODE_FILE;
			e->size = (int64_t)st.st_size;
		} else {
			e->omitted = "not a file";
		}
		free(full);
		if (!e->omitted) {
			cs[n].e = e;
			cs[n].size = e->size;
			cs[n].st = st;
			n++;
		}
	}
	qsort(cs, n, sizeof *cs, by_size);
	int64_t total = 0, over_bytes = 0;
	for (size_t i = 0; i < n; i++) {
		code_entry *e = cs[i].e;
		char *full = path_join(c->root, e->path);
		if (!full) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
		if (total + cs[i].size <= cap) {
			int r = store_one(c, e, full);
			if (r == CAIRN_ENOMEM) {
				free(full);
				rc = r;
				goto done;
			}
			if (r) {
				e->oid[0] = '\0';
				e->omitted = "unreadable";
				capture_warn(c, "cannot snapshot '%s': %s", e->path,
				             cairn_error_last());
			} else {
				total += cs[i].size;
			}
		} else {
			e->omitted = "size cap";
			if (e->mode == MODE_LINK) {
				char target[4096];
				ssize_t k = readlink(full, target, sizeof target);
				if (k >= 0)
					buf_xxh128(target, (size_t)k, e->digest);
			} else {
				omitted_digest(c, full, &cs[i].st, e->digest);
			}
			over[nover++] = cs[i];
			over_bytes += cs[i].size;
		}
		free(full);
	}
	if (nover) {
		buf m = BUF_INIT;
		buf_printf(
		    &m,
		    "%zu file%s (%lld bytes) over the snapshot size cap of %lld bytes %s not "
		    "stored, only listed with %s digest%s: ",
		    nover, nover == 1 ? "" : "s", (long long)over_bytes, (long long)cap,
		    nover == 1 ? "was" : "were", nover == 1 ? "its" : "their",
		    nover == 1 ? "" : "s");
		list_names(&m, over, nover);
		capture_warn(c, "%s", m.ptr);
		buf_free(&m);
	}
done:
	free(cs);
	free(over);
	return rc;
}

/* --- the run's code record -------------------------------------------------------- */

int code_record_finish(capture_ctx *c, const char *vcs, const char *commit, const char *branch,
                       const char *remote, int dirty, const char *subdir, const char *base_oid,
                       code_list *changes, int64_t nbase_files, int64_t base_bytes)
{
	buf b = BUF_INIT;
	bool f = true;
	char oid[65];
	char(*refs)[65] = NULL;
	size_t nrefs = 0;
	int rc = 0;
	int64_t files = nbase_files, bytes = base_bytes, changed = 0, deleted = 0, omitted = 0;

	code_list_sort(changes);
	buf_putc(&b, '{');
	json_key(&b, &f, "format");
	json_int(&b, 1);
	json_key(&b, &f, "vcs");
	json_str(&b, vcs);
	json_key(&b, &f, "root");
	json_str(&b, c->root);
	json_key(&b, &f, "subdir");
	json_str(&b, subdir ? subdir : "");
	json_key(&b, &f, "commit");
	json_str(&b, commit);
	json_key(&b, &f, "branch");
	json_str(&b, branch);
	json_key(&b, &f, "remote");
	json_str(&b, remote);
	json_key(&b, &f, "dirty");
	if (dirty < 0)
		buf_puts(&b, "null");
	else
		json_bool(&b, dirty != 0);
	json_key(&b, &f, "base");
	json_str(&b, base_oid && *base_oid ? base_oid : NULL);
	json_key(&b, &f, "changes");
	buf_putc(&b, '[');
	refs = calloc(changes->n * 2 + 2, sizeof *refs);
	if (!refs) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < changes->n; i++) {
		code_entry *e = &changes->v[i];
		if (i)
			buf_putc(&b, ',');
		code_entry_json(&b, e);
		if (e->oid[0])
			memcpy(refs[nrefs++], e->oid, 65);
		if (e->script[0])
			memcpy(refs[nrefs++], e->script, 65);
		if (e->omitted)
			omitted++;
		switch (e->status) {
		case ST_DELETED:
			deleted++;
			files--;
			break;
		case ST_MODIFIED: changed++; break;
		case ST_FILTERED: break;
		default:
			changed++;
			files++;
			if (e->size > 0)
				bytes += e->size;
		}
	}
	buf_puts(&b, "]}");
	if (!buf_ok(&b)) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = cairn_object_put_buf(oid, c->store, b.ptr, b.len)) != 0)
		goto done;
	memcpy(refs[nrefs++], oid, 65);
	if (base_oid && *base_oid)
		memcpy(refs[nrefs++], base_oid, 65);
	if ((rc = store_run_code_set(c->store, c->rid, commit, branch, remote, dirty, oid,
	                             (const char(*)[65])refs, nrefs)) != 0)
		goto done;
	buf_clear(&c->code_report);
	f = true;
	buf *r = &c->code_report;
	buf_putc(r, '{');
	json_key(r, &f, "vcs");
	json_str(r, vcs);
	json_key(r, &f, "commit");
	json_str(r, commit);
	json_key(r, &f, "branch");
	json_str(r, branch);
	json_key(r, &f, "remote");
	json_str(r, remote);
	json_key(r, &f, "dirty");
	if (dirty < 0)
		buf_puts(r, "null");
	else
		json_bool(r, dirty != 0);
	json_key(r, &f, "files");
	json_int(r, files);
	json_key(r, &f, "bytes");
	json_int(r, bytes);
	json_key(r, &f, "changed");
	json_int(r, changed);
	json_key(r, &f, "deleted");
	json_int(r, deleted);
	json_key(r, &f, "omitted");
	json_int(r, omitted);
	json_key(r, &f, "snapshot");
	json_str(r, oid);
	buf_putc(r, '}');
done:
	buf_free(&b);
	free(refs);
	return rc;
}

/* --- loading a run's tree --------------------------------------------------------- */

int code_json_read(cairn_store *s, const char *oid, json_doc **out, const char *what)
{
	void *data = NULL;
	size_t len = 0;
	char err[160];
	*out = NULL;
	int rc = cairn_object_read(&data, &len, s, oid, MANIFEST_MAX);
	if (rc)
		return rc;
	json_limits lim = {64, MANIFEST_MAX};
	*out = json_parse(data, len, &lim, err, sizeof err);
	free(data);
	if (!*out)
		return err_set(CAIRN_EINVALID, "damaged %s %s: %s", what, oid, err);
	if (json_root(*out)->type != JSON_OBJ) {
		json_doc_free(*out);
		*out = NULL;
		return err_set(CAIRN_EINVALID, "damaged %s %s: not an object", what, oid);
	}
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void code_tree_free(code_tree *t)
{
	code_list_free(&t->files);
	free(t->vcs);
	free(t->commit);
	free(t->root);
	free(t->subdir);
	free(t->branch);
	free(t->remote);
	memset(t, 0, sizeof *t);
}

static int tree_load(cairn_store *s, const char *run, code_tree *t, bool base_only)
{
	int64_t rid;
	char id[33], code_oid[65];
	json_doc *rec = NULL, *base = NULL;
	code_list changes = {0};
	memset(t, 0, sizeof *t);
	int rc = store_run_lookup(s, run, false, &rid, id);
	if (rc)
		return rc;
	if ((rc = store_run_code_oid(s, rid, code_oid)) != 0)
		return rc;
	if (!code_oid[0])
		return err_set(CAIRN_ENOTFOUND, "run '%s' has no code snapshot", run);
	if ((rc = code_json_read(s, code_oid, &rec, "code record")) != 0)
		goto done;
	const json *r = json_root(rec);
	t->vcs = dup_or_null(json_get_str(r, "vcs"));
	t->commit = dup_or_null(json_get_str(r, "commit"));
	t->root = dup_or_null(json_get_str(r, "root"));
	t->subdir = dup_or_null(json_get_str(r, "subdir"));
	t->branch = dup_or_null(json_get_str(r, "branch"));
	t->remote = dup_or_null(json_get_str(r, "remote"));
	const char *base_oid = json_get_str(r, "base");
	if (base_oid) {
		if ((rc = code_json_read(s, base_oid, &base, "base manifest")) != 0)
			goto done;
		if ((rc = code_entries_parse(json_get(json_root(base), "files"), &t->files)) != 0)
			goto done;
	}
	if (!base_only && (rc = code_entries_parse(json_get(r, "changes"), &changes)) != 0)
		goto done;
	code_list_sort(&t->files);
	/* Overlay: a change replaces the base entry of its path; a deletion
	 * drops it.  Deleted entries are marked with a NULL-free status and
	 * compacted afterwards. */
	size_t nbase = t->files.n;
	for (size_t i = 0; i < changes.n; i++) {
		code_entry *c = &changes.v[i];
		code_entry *b = NULL;
		/* binary search only among the base entries (the list grows below) */
		code_list view = {t->files.v, nbase, nbase};
		b = code_list_find(&view, c->path);
		if (c->status == ST_DELETED) {
			if (b)
				b->status = ST_DELETED;
			continue;
		}
		if (b) {
			free(b->path);
			*b = *c;
			c->path = NULL;
			continue;
		}
		code_entry *n = code_list_add(&t->files, c->path);
		if (!n) {
			rc = err_set(CAIRN_ENOMEM, "out of memory");
			goto done;
		}
		char *p = n->path;
		*n = *c;
		n->path = p;
	}
	size_t w = 0;
	for (size_t i = 0; i < t->files.n; i++) {
		if (t->files.v[i].status == ST_DELETED) {
			free(t->files.v[i].path);
			continue;
		}
		t->files.v[w++] = t->files.v[i];
	}
	t->files.n = w;
	code_list_sort(&t->files);
done:
	json_doc_free(rec);
	json_doc_free(base);
	code_list_free(&changes);
	if (rc)
		code_tree_free(t);
	return rc;
}

/* Every object id (64 hex digits) a JSON value holds, one per line. */
static void oids_in(const json *v, buf *out)
{
	if (v->type == JSON_STR && v->len == CAIRN_OID_HEXSZ && hex_is(v->str, CAIRN_OID_HEXSZ))
		buf_printf(out, "%s\n", v->str);
	for (const json *c = v->type == JSON_ARR || v->type == JSON_OBJ ? v->child : NULL; c;
	     c = c->next)
		oids_in(c, out);
}

int code_refs_collect(cairn_store *s, const char *code_oid, buf *out)
{
	json_doc *rec = NULL, *base = NULL;
	buf_printf(out, "%s\n", code_oid);
	int rc = code_json_read(s, code_oid, &rec, "code record");
	if (rc == 0) {
		oids_in(json_root(rec), out);
		const char *base_oid = json_get_str(json_root(rec), "base");
		if (base_oid && (rc = code_json_read(s, base_oid, &base, "base manifest")) == 0)
			oids_in(json_root(base), out);
	}
	json_doc_free(rec);
	json_doc_free(base);
	if (rc == 0 && !buf_ok(out))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	return rc;
}

int code_tree_load(cairn_store *s, const char *run, code_tree *t)
{
	return tree_load(s, run, t, false);
}

int code_tree_load_base(cairn_store *s, const char *run, code_tree *t)
{
	return tree_load(s, run, t, true);
}

int cairn_run_code_copy(cairn_run *run, const char *src)
{
	int64_t src_rid, rid;
	char id[33], code_oid[65];
	json_doc *rec = NULL;
	code_list changes = {0};
	char(*refs)[65] = NULL;
	size_t nrefs = 0;
	if (!run || !src)
		return err_set(CAIRN_EINVALID, "no run");
	cairn_store *s = cairn_run_store(run);
	int rc = store_run_lookup(s, src, false, &src_rid, id);
	if (rc || (rc = capture_run_rid(run, &rid)) != 0 ||
	    (rc = store_run_code_oid(s, src_rid, code_oid)) != 0)
		return rc;
	if (!code_oid[0])
		return err_set(CAIRN_ENOTFOUND, "run '%s' has no code snapshot", src);
	if ((rc = code_json_read(s, code_oid, &rec, "code record")) != 0 ||
	    (rc = code_entries_parse(json_get(json_root(rec), "changes"), &changes)) != 0)
		goto done;
	/* the references the capture made (code_record_finish): each change's
	 * content and script, the record and the base manifest */
	if (!(refs = calloc(changes.n * 2 + 2, sizeof *refs))) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < changes.n; i++) {
		if (changes.v[i].oid[0])
			memcpy(refs[nrefs++], changes.v[i].oid, 65);
		if (changes.v[i].script[0])
			memcpy(refs[nrefs++], changes.v[i].script, 65);
	}
	memcpy(refs[nrefs++], code_oid, 65);
	const json *r = json_root(rec);
	const char *base = json_get_str(r, "base");
	if (base && strlen(base) == 64)
		memcpy(refs[nrefs++], base, 65);
	const json *dj = json_get(r, "dirty");
	int dirty = dj && dj->type == JSON_BOOL ? dj->b : -1;
	rc = store_run_code_set(s, rid, json_get_str(r, "commit"), json_get_str(r, "branch"),
	                        json_get_str(r, "remote"), dirty, code_oid, (const char(*)[65])refs,
	                        nrefs);
done:
	free(refs);
	code_list_free(&changes);
	json_doc_free(rec);
	return rc;
}
