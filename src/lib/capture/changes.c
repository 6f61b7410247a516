/*
 * lib/capture/changes.c — cairn_code_changes_new: the code diff of two runs
 * (or of one run's snapshot against its commit) file by file, so that a
 * reader sees the list of changed files first, the source files' hunks, and
 * a one-line summary of each data-like file instead of its hundreds of
 * changed lines.
 *
 * The data-like rule (docs/internals/capture.md, "Data files in a code
 * diff"), decided per path from what the manifests already hold, reading
 * content only where it must:
 *   1. a binary-data extension (.parquet .npy .pkl .pt .h5 .zip .png …);
 *   2. a table (.csv .tsv .psv, JSON lines .jsonl .ndjson), whatever its size;
 *   3. another text-data extension (.json .xml .txt .arff …) and either side
 *      over DATA_TEXT_MIN (8 KiB);
 *   4. either side over DATA_ANY_MIN (1 MiB);
 *   5. content git calls binary (a NUL byte in the first 8000 bytes).
 * A data-like file gets sizes, digests and, for delimited text and JSON
 * lines, its line count on each side; its patch only with `full`.
 *
 * The patches are cairn_code_diff's (code_patch_one), so a file's hunks read
 * the same in every view.  One run alone: the base manifest (the commit's
 * files) is side a, the run's tree side b; files an external filter keeps
 * out of the base (status "filtered") are unchanged, not added.
 *
 * Ownership: the result owns every string it hands out (one arena per
 * file); cairn_code_changes_free is NULL-safe.  Thread-safety: per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/capture/capture.h"
#include "lib/capture/lg2.h"
#include "util/json.h"

#define DATA_TEXT_MIN ((int64_t)8 << 10)
#define DATA_ANY_MIN  ((int64_t)1 << 20)

typedef struct file_rec {
	cairn_code_file f;
	char *strs[6]; /* what f points to, owned */
} file_rec;

struct cairn_code_changes {
	file_rec *v;
	size_t n, cap;
};

static const char *const binary_exts[] = {
    "parquet", "feather", "arrow",   "orc",    "avro", "npy", "npz",    "h5",          "hdf5",
    "hdf",     "pkl",     "pickle",  "joblib", "pt",   "pth", "ckpt",   "safetensors", "onnx",
    "pb",      "tflite",  "bin",     "dat",    "mat",  "db",  "sqlite", "sqlite3",     "xls",
    "xlsx",    "zip",     "gz",      "tgz",    "bz2",  "xz",  "zst",    "7z",          "tar",
    "rar",     "png",     "jpg",     "jpeg",   "gif",  "bmp", "tif",    "tiff",        "webp",
    "ico",     "svg",     "wav",     "mp3",    "flac", "ogg", "mp4",    "avi",         "mov",
    "mkv",     "pdf",     "tfrecord"};
static const char *const text_exts[] = {"json", "xml", "txt", "arff", "libsvm", "svm", "geojson"};
static const char *const row_exts[] = {"csv", "tsv", "psv", "jsonl", "ndjson"};

static const char *ext_of(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	return dot && dot != base ? dot + 1 : "";
}

static bool ext_in(const char *ext, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(ext, list[i]) == 0)
			return true;
	return false;
}
#define EXT_IN(e, l) ext_in(e, l, sizeof l / sizeof l[0])

/* Rules 1-4 (rule 5 needs the content). */
static bool data_by_name(const char *path, int64_t sa, int64_t sb)
{
	const char *e = ext_of(path);
	int64_t big = sa > sb ? sa : sb;
	return EXT_IN(e, binary_exts) || EXT_IN(e, row_exts) ||
	       (EXT_IN(e, text_exts) && big > DATA_TEXT_MIN) || big > DATA_ANY_MIN;
}

void cairn_code_changes_free(cairn_code_changes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		for (int k = 0; k < 6; k++)
			free(c->v[i].strs[k]);
	free(c->v);
	free(c);
}

size_t cairn_code_changes_count(const cairn_code_changes *c)
{
	return c ? c->n : 0;
}

const cairn_code_file *cairn_code_changes_file(const cairn_code_changes *c, size_t i)
{
	return c && i < c->n ? &c->v[i].f : NULL;
}

static const char *own(file_rec *r, int k, const char *s)
{
	if (!s)
		return NULL;
	r->strs[k] = strdup(s);
	return r->strs[k] ? r->strs[k] : "";
}

static void digest_of(const code_entry *e, char out[120])
{
	out[0] = '\0';
	if (!e)
		return;
	if (e->oid[0])
		snprintf(out, 120, "sha256:%s", e->oid);
	else if (e->digest[0])
		snprintf(out, 120, "%s", e->digest);
	else if (e->git[0])
		snprintf(out, 120, "git:%s", e->git);
}

/* Lines of a stored text file (a last line without a newline counts), or -1
 * when it cannot be read or holds a NUL byte (*binary then). */
static int64_t count_rows(cairn_store *s, const code_entry *e, bool *binary)
{
	void *data = NULL;
	size_t len = 0;
	if (!e || !e->oid[0] || cairn_object_read(&data, &len, s, e->oid, DIFF_FILE_MAX) != 0) {
		cairn_error_clear();
		return -1;
	}
	int64_t n = 0;
	const char *p = data, *end = p + len;
	if (memchr(p, '\0', len < 8000 ? len : 8000)) {
		*binary = true;
		free(data);
		return -1;
	}
	for (const char *q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++)
		n++;
	if (len && p[len - 1] != '\n')
		n++;
	free(data);
	return n;
}

/* Lines added and removed in a patch: '+'/'-' lines after the first hunk
 * header (before it, "+++"/"---" are the file names). */
static void patch_stats(const char *p, int64_t *add, int64_t *del)
{
	bool in_hunk = false;
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (strncmp(p, "@@", 2) == 0)
			in_hunk = true;
		else if (in_hunk && *p == '+')
			(*add)++;
		else if (in_hunk && *p == '-')
			(*del)++;
		p += n + (p[n] == '\n');
	}
}

static int add_file(cairn_code_changes *c, cairn_store *s, const code_entry *a, const code_entry *b,
                    const cairn_code_diff_options *o)
{
	const code_entry *e = a ? a : b;
	buf patch = BUF_INIT;
	int rc = code_patch_one(&patch, s, a, b);
	if (rc || !buf_ok(&patch)) {
		buf_free(&patch);
		return rc ? rc : err_set(CAIRN_ENOMEM, "out of memory");
	}
	if (patch.len == 0) { /* the same (a notebook's code, say) */
		buf_free(&patch);
		return 0;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		file_rec *nv = realloc(c->v, nc * sizeof *nv);
		if (!nv) {
			buf_free(&patch);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		c->v = nv;
		c->cap = nc;
	}
	file_rec *r = &c->v[c->n++];
	memset(r, 0, sizeof *r);
	cairn_code_file *f = &r->f;
	f->change = !a ? CAIRN_CODE_ADDED : !b ? CAIRN_CODE_DELETED : CAIRN_CODE_MODIFIED;
	f->old_mode = a ? a->mode : 0;
	f->new_mode = b ? b->mode : 0;
	f->old_size = a ? a->size : -1;
	f->new_size = b ? b->size : -1;
	f->old_rows = f->new_rows = -1;
	char da[120], db[120];
	digest_of(a, da);
	digest_of(b, db);
	bool same_bytes = a && b && da[0] && strcmp(da, db) == 0;
	if (same_bytes && a->mode != b->mode)
		f->change = CAIRN_CODE_MODE;
	/* what the patch says: binary, or why there is none */
	bool hunks = strstr(patch.ptr, "\n@@") != NULL;
	const char *why = strstr(patch.ptr, " differ (");
	f->binary = !hunks && strstr(patch.ptr, "\nBinary files ") != NULL;
	f->data = f->change != CAIRN_CODE_MODE &&
	          (f->binary || data_by_name(e->path, f->old_size, f->new_size));
	if (f->data && EXT_IN(ext_of(e->path), row_exts)) {
		bool bin = false;
		f->old_rows = a ? count_rows(s, a, &bin) : -1;
		f->new_rows = b ? count_rows(s, b, &bin) : -1;
		f->binary |= bin;
	}
	patch_stats(patch.ptr, &f->additions, &f->deletions);
	f->path = own(r, 0, e->path);
	f->old_digest = own(r, 1, da[0] ? da : NULL);
	f->new_digest = own(r, 2, db[0] ? db : NULL);
	if (why) {
		char note[64];
		snprintf(note, sizeof note, "%.*s", (int)strcspn(why + 9, ")"), why + 9);
		f->note = own(r, 3, note);
	}
	if (!f->data || o->full)
		f->patch = own(r, 4, patch.ptr);
	buf_free(&patch);
	if (!f->path || (da[0] && !f->old_digest) || (db[0] && !f->new_digest))
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

/* Side b's entries that are not changes against a base: files an external
 * filter keeps out of the base manifest, listed with every run. */
static bool skip_b(const code_entry *y, bool against_base)
{
	return against_base && y->status == ST_FILTERED;
}

int cairn_code_changes_new(cairn_code_changes **out, cairn_store *s, const char *run_a,
                           const char *run_b, const cairn_code_diff_options *o)
{
	cairn_code_diff_options def = CAIRN_CODE_DIFF_OPTIONS_INIT;
	code_tree ta, tb;
	*out = NULL;
	if (!s || !run_a)
		return err_set(CAIRN_EINVALID, "no store or no run");
	if (!o)
		o = &def;
	if (o->version != CAIRN_CODE_DIFF_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID,
		               "cairn_code_diff_options version %u is not supported", o->version);
	bool one = !run_b;
	int rc = one ? code_tree_load_base(s, run_a, &ta) : code_tree_load(s, run_a, &ta);
	if (rc)
		return rc;
	if (one && (!ta.vcs || strcmp(ta.vcs, "git") != 0)) {
		code_tree_free(&ta);
		return err_set(CAIRN_EINVALID,
		               "run '%s' was captured outside git: there is no commit to compare "
		               "its snapshot with",
		               run_a);
	}
	if ((rc = code_tree_load(s, one ? run_a : run_b, &tb)) != 0) {
		code_tree_free(&ta);
		return rc;
	}
	cairn_code_changes *c = calloc(1, sizeof *c);
	bool loaded = false;
	if (!c)
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	else if ((rc = lg2_load()) == 0)
		loaded = true;
	size_t i = 0, j = 0;
	while (rc == 0 && (i < ta.files.n || j < tb.files.n)) {
		const code_entry *x = i < ta.files.n ? &ta.files.v[i] : NULL;
		const code_entry *y = j < tb.files.n ? &tb.files.v[j] : NULL;
		int cmp = !x ? 1 : !y ? -1 : strcmp(x->path, y->path);
		const char *path = cmp <= 0 ? x->path : y->path;
		bool wanted = !o->path || strcmp(o->path, path) == 0;
		if (cmp == 0) {
			if (wanted)
				rc = add_file(c, s, x, y, o);
			i++;
			j++;
		} else if (cmp < 0) {
			if (wanted)
				rc = add_file(c, s, x, NULL, o);
			i++;
		} else {
			if (wanted && !skip_b(y, one))
				rc = add_file(c, s, NULL, y, o);
			j++;
		}
	}
	if (loaded)
		lg2.libgit2_shutdown();
	code_tree_free(&ta);
	code_tree_free(&tb);
	if (rc) {
		cairn_code_changes_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static void put_side(buf *b, const char *key, uint32_t mode, int64_t size, const char *digest,
                     int64_t rows, bool present)
{
	buf_printf(b, ",\"%s\":", key);
	if (!present) {
		buf_puts(b, "null");
		return;
	}
	bool f = true;
	char m[16];
	snprintf(m, sizeof m, "%06o", mode);
	buf_putc(b, '{');
	json_key(b, &f, "mode");
	json_str(b, m);
	json_key(b, &f, "size");
	if (size >= 0)
		json_int(b, size);
	else
		buf_puts(b, "null");
	json_key(b, &f, "digest");
	json_str(b, digest);
	if (rows >= 0) {
		json_key(b, &f, "rows");
		json_int(b, rows);
	}
	buf_putc(b, '}');
}

int cairn_code_changes_json(char **out, const cairn_code_changes *c)
{
	static const char *const names[] = {"", "modified", "added", "deleted", "mode"};
	buf b = BUF_INIT, all = BUF_INIT;
	*out = NULL;
	buf_puts(&b, "{\"files\":[");
	for (size_t i = 0; c && i < c->n; i++) {
		const cairn_code_file *f = &c->v[i].f;
		bool first = true;
		buf_puts(&b, i ? ",{" : "{");
		json_key(&b, &first, "path");
		json_str(&b, f->path);
		json_key(&b, &first, "change");
		json_str(&b, names[f->change]);
		json_key(&b, &first, "data");
		json_bool(&b, f->data);
		json_key(&b, &first, "binary");
		json_bool(&b, f->binary);
		json_key(&b, &first, "additions");
		json_int(&b, f->additions);
		json_key(&b, &first, "deletions");
		json_int(&b, f->deletions);
		put_side(&b, "a", f->old_mode, f->old_size, f->old_digest, f->old_rows,
		         f->change != CAIRN_CODE_ADDED);
		put_side(&b, "b", f->new_mode, f->new_size, f->new_digest, f->new_rows,
		         f->change != CAIRN_CODE_DELETED);
		json_key(&b, &first, "note");
		json_str(&b, f->note);
		json_key(&b, &first, "patch");
		json_str(&b, f->patch);
		buf_putc(&b, '}');
		if (f->patch)
			buf_puts(&all, f->patch);
	}
	buf_puts(&b, "],\"diff\":");
	json_str(&b, all.ptr);
	buf_putc(&b, '}');
	int ok = buf_ok(&b) && buf_ok(&all);
	buf_free(&all);
	if (!ok) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
