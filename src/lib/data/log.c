/*
 * lib/data/log.c — recording data versions on runs, and reading them back.
 *
 * cairn_run_log_dataset hashes the path (with the store's cache), stores the
 * canonical manifest text as an object of the store, and records the
 * dataset row with a reference from the run to the object (so `cairn rm
 * --purge` removes a manifest no other run shares).  A hash with any error
 * records nothing: a partial manifest must never pass for the version.
 *
 * cairn_data_show reads back a run's datasets with their manifests as a
 * typed listing (cairn_data_show_json writes its JSON from it); with a limit
 * only that many lines of each manifest object are read, so a sample of a
 * million-file dataset costs a few kilobytes of I/O.
 *
 * Thread-safe (the store serialises its own use).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/data/data.h"
#include "lib/store/data.h"
#include "util/fs.h"
#include "util/json.h"

int data_log(cairn_run *run, const char *name, const char *role, hash_job *j)
{
	if (!run || !j->path || !*j->path)
		return err_set(CAIRN_EINVALID, "cannot log a dataset: no run or no path");
	if (!role || !*role)
		role = "input";
	if (strcmp(role, "input") != 0 && strcmp(role, "output") != 0)
		return err_set(CAIRN_EINVALID,
		               "dataset role must be 'input' or 'output', not '%.40s'", role);
	if (name && *name && cairn_key_validate(name, "dataset name") != 0)
		return CAIRN_EINVALID;
	cairn_store *s = cairn_run_store(run);
	char *abs = NULL, oid[CAIRN_OID_HEXSZ + 1];
	buf text = BUF_INIT;
	int rc;
	if ((rc = data_hash(j, s)) != 0)
		goto done;
	abs = path_abs(j->path);
	if (!abs) {
		rc = err_set(CAIRN_EIO, "cannot log dataset '%s': %s", j->path, strerror(errno));
		goto done;
	}
	if (!name || !*name)
		name = path_base(abs);
	if ((rc = cairn_key_validate(name, "dataset name")) != 0)
		goto done;
	manifest_format(j->m, &text);
	if (!buf_ok(&text)) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	int64_t rid;
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	if ((rc = store_run_lookup(s, cairn_run_id(run), true, &rid, id)) != 0)
		goto done;
	dataset_row d = {
	    .name = (char *)name,
	    .path = abs,
	    .role = (char *)role,
	    .algo = (char *)algo_name(j->algo),
	    .digest = j->m->digest,
	    .manifest_oid = oid,
	    .files = j->m->files,
	    .bytes = j->m->bytes,
	};
	for (int attempt = 0;; attempt++) {
		/* (again when a purge removed the manifest before the row committed) */
		rc = cairn_object_put_buf(oid, s, text.ptr, text.len);
		if (rc == 0)
			rc = store_dataset_put(s, rid, &d);
		if (!object_retry(&rc, attempt))
			break;
	}
done:
	buf_free(&text);
	free(abs);
	return rc;
}

int cairn_run_log_dataset_opts(cairn_run *run, const char *name, const char *path, const char *role,
                               const cairn_hash_options *opts)
{
	if (!path || !*path)
		return err_set(CAIRN_EINVALID, "cannot log a dataset: no path");
	hash_job j;
	hash_job_init(&j, path, ALGO_XXH128);
	int rc = hash_job_options(&j, opts);
	if (rc == 0)
		rc = data_log(run, name, role, &j);
	hash_job_free(&j);
	return rc;
}

int cairn_run_log_dataset(cairn_run *run, const char *name, const char *path, const char *role)
{
	return cairn_run_log_dataset_opts(run, name, path, role, NULL);
}

/* --- reading back ------------------------------------------------------------- */

/* Open a manifest object and read up to limit entries. */
static int read_manifest(manifest **out, bool *more, cairn_store *s, const char *oid, int64_t limit)
{
	char *p = NULL;
	int rc = cairn_object_path(&p, s, oid);
	if (rc)
		return rc;
	FILE *f = fopen(p, "rb");
	if (!f) {
		rc = err_set(CAIRN_EIO, "cannot read manifest %s: %s", oid, strerror(errno));
		free(p);
		return rc;
	}
	free(p);
	rc = manifest_read_prefix(out, more, f, limit);
	fclose(f);
	if (rc)
		return err_wrap(rc, "manifest %.12s", oid);
	return 0;
}

int manifest_load(manifest **out, cairn_store *s, const char *oid)
{
	bool more = false;
	*out = NULL;
	int rc = read_manifest(out, &more, s, oid, 0);
	if (rc)
		return rc;
	if ((*out)->is_file && (*out)->n != 1)
		rc = err_set(CAIRN_EINVALID,
		             "manifest %.12s: a file manifest needs exactly one entry", oid);
	else
		rc = manifest_finish(*out);
	if (rc) {
		manifest_free(*out);
		*out = NULL;
	}
	return rc;
}

/* --- the typed listing ------------------------------------------------------------ */

typedef struct listed {
	manifest *m;              /* the prefix read, or NULL */
	cairn_manifest_entry *ev; /* views of m's entries */
	char *error;
} listed;

struct cairn_data_listing {
	char run[CAIRN_RUN_ID_HEXSZ + 1];
	dataset_row *rows; /* owned; the public structs point into them */
	listed *l;
	cairn_data_dataset *d;
	size_t n;
};

/* Read (a prefix of) dataset i's manifest; a manifest that cannot be read is
 * that dataset's error, not the listing's. */
static int list_one(cairn_data_listing *L, size_t i, cairn_store *s, int64_t limit)
{
	const dataset_row *r = &L->rows[i];
	listed *x = &L->l[i];
	cairn_data_dataset *d = &L->d[i];
	*d = (cairn_data_dataset){.name = r->name,
	                          .path = r->path,
	                          .role = r->role,
	                          .algo = r->algo,
	                          .digest = r->digest,
	                          .files = r->files,
	                          .bytes = r->bytes,
	                          .manifest = r->manifest_oid};
	bool more = false;
	if (!r->manifest_oid || read_manifest(&x->m, &more, s, r->manifest_oid, limit) != 0) {
		x->error = strdup(r->manifest_oid ? cairn_error_last() : "no manifest recorded");
		cairn_error_clear();
		if (!x->error)
			return err_set(CAIRN_ENOMEM, "out of memory");
		d->error = x->error;
		return 0;
	}
	d->truncated = more;
	if (!(x->ev = calloc(x->m->n ? x->m->n : 1, sizeof *x->ev)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t k = 0; k < x->m->n; k++) {
		const mentry *e = &x->m->e[k];
		x->ev[k] = (cairn_manifest_entry){.path = e->path,
		                                  .type = e->type == 'l' ? "link" : "file",
		                                  .size = e->size,
		                                  .digest = e->digest,
		                                  .target = e->type == 'l' ? e->target : NULL};
	}
	d->entries = x->ev;
	d->nentries = x->m->n;
	return 0;
}

int cairn_data_show(cairn_data_listing **out, cairn_store *s, const char *run, const char *name,
                    int64_t limit)
{
	if (!out)
		return err_set(CAIRN_EINVALID, "no result to fill");
	*out = NULL;
	if (!s || !run)
		return err_set(CAIRN_EINVALID, "no store or no run");
	cairn_data_listing *L = calloc(1, sizeof *L);
	if (!L)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int64_t rid;
	int rc = store_run_lookup(s, run, false, &rid, L->run);
	if (rc == 0)
		rc = store_dataset_list(s, rid, name, &L->rows, &L->n);
	if (rc == 0 && name && L->n == 0)
		rc = err_set(CAIRN_ENOTFOUND, "run %.8s has no dataset '%s'", L->run, name);
	if (rc == 0 &&
	    (!(L->l = calloc(L->n + 1, sizeof *L->l)) || !(L->d = calloc(L->n + 1, sizeof *L->d))))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < L->n; i++)
		rc = list_one(L, i, s, limit);
	if (rc)
		cairn_data_listing_free(L);
	else
		*out = L;
	return rc;
}

const char *cairn_data_listing_run(const cairn_data_listing *l)
{
	return l ? l->run : NULL;
}

size_t cairn_data_listing_count(const cairn_data_listing *l)
{
	return l ? l->n : 0;
}

const cairn_data_dataset *cairn_data_listing_get(const cairn_data_listing *l, size_t i)
{
	return l && i < l->n ? &l->d[i] : NULL;
}

void cairn_data_listing_free(cairn_data_listing *l)
{
	if (!l)
		return;
	for (size_t i = 0; l->l && i < l->n; i++) {
		manifest_free(l->l[i].m);
		free(l->l[i].ev);
		free(l->l[i].error);
	}
	free(l->l);
	free(l->d);
	dataset_rows_free(l->rows, l->n);
	free(l);
}

/* --- the JSON form ---------------------------------------------------------------- */

static void dataset_json(buf *b, const cairn_data_dataset *d)
{
	bool f = true;
	buf_putc(b, '{');
	static const char *const keys[] = {"name", "path", "role", "algo", "digest"};
	const char *vals[] = {d->name, d->path, d->role, d->algo, d->digest};
	for (int k = 0; k < 5; k++) {
		json_key(b, &f, keys[k]);
		json_str(b, vals[k]);
	}
	json_key(b, &f, "files");
	json_int(b, d->files);
	json_key(b, &f, "bytes");
	json_int(b, d->bytes);
	json_key(b, &f, "manifest");
	json_str(b, d->manifest);
	json_key(b, &f, "entries");
	buf_putc(b, '[');
	for (size_t i = 0; i < d->nentries; i++) {
		const cairn_manifest_entry *e = &d->entries[i];
		bool g = true;
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, &g, "path");
		json_str(b, e->path);
		json_key(b, &g, "type");
		json_str(b, e->type);
		json_key(b, &g, "size");
		json_int(b, e->size);
		json_key(b, &g, "digest");
		json_str(b, e->digest);
		if (e->target) {
			json_key(b, &g, "target");
			json_str(b, e->target);
		}
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	json_key(b, &f, "truncated");
	json_bool(b, d->truncated);
	if (d->error) {
		json_key(b, &f, "error");
		json_str(b, d->error);
	}
	buf_putc(b, '}');
}

int cairn_data_show_json(char **out, cairn_store *s, const char *run, const char *name,
                         int64_t limit)
{
	*out = NULL;
	cairn_data_listing *l = NULL;
	int rc = cairn_data_show(&l, s, run, name, limit);
	if (rc)
		return rc;
	buf b = BUF_INIT;
	bool first = true;
	buf_putc(&b, '{');
	json_key(&b, &first, "run");
	json_str(&b, l->run);
	json_key(&b, &first, "datasets");
	buf_putc(&b, '[');
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_putc(&b, ',');
		dataset_json(&b, &l->d[i]);
	}
	buf_puts(&b, "]}");
	cairn_data_listing_free(l);
	if (!buf_ok(&b)) {
		buf_free(&b);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&b);
	return 0;
}
