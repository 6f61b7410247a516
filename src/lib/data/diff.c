/*
 * lib/data/diff.c — comparing two data versions: which files were added,
 * removed or changed.
 *
 * Each side names versions in one of four ways, tried in this order:
 *   1. an existing path (file or directory): hashed now, with the cache
 *      (never for cairn_data_diff_stored_json, which serves input from
 *      outside — the HTTP API — and so reads nothing but the store);
 *   2. a stored manifest object id (64 hex digits);
 *   3. a run (id, unique prefix or name): every dataset of that run;
 *   4. RUN:NAME: one dataset of a run.
 * Two runs are paired dataset by dataset, by name (a name on one side only
 * is all added or all removed).  A run with several datasets against a
 * single version is paired by the recorded path or by name, else refused
 * with a request for RUN:NAME.
 *
 * Digests are only comparable within one algorithm: a live path is hashed
 * with the stored side's algorithm; two stored versions hashed differently
 * are refused.  A stored manifest is checked against its recorded digest
 * before use, so a damaged object cannot produce a wrong diff.
 *
 * The diff itself is a merge of two sorted manifests: O(n + m).  The typed
 * result (cairn_data_diff) keeps both sides' manifests, and its path lists
 * point into them; the JSON form is written from it.
 * Thread-safe; nothing is written to the store except hash-cache rows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/data/data.h"
#include "lib/store/data.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/sha.h"

typedef enum side_kind {
	SIDE_PATH,
	SIDE_OBJECT,
	SIDE_RUN,
	SIDE_RUN_NAME,
} side_kind;

typedef struct version {
	char *name;   /* dataset name, or NULL */
	char *path;   /* a live path to hash, or NULL */
	char *where;  /* the recorded (or real) path, for pairing */
	char *oid;    /* the stored manifest, or NULL */
	char *digest; /* the recorded digest (hex), or NULL */
	data_algo algo;
	bool algo_known;
	manifest *m;
} version;

typedef struct side {
	side_kind kind;
	const char *spec;
	char run[CAIRN_RUN_ID_HEXSZ + 1];
	version *v;
	size_t n;
} side;

static void side_free(side *sd)
{
	for (size_t i = 0; i < sd->n; i++) {
		version *v = &sd->v[i];
		free(v->name);
		free(v->path);
		free(v->where);
		free(v->oid);
		free(v->digest);
		manifest_free(v->m);
	}
	free(sd->v);
	sd->v = NULL;
	sd->n = 0;
}

static int side_from_rows(side *sd, dataset_row *rows, size_t n)
{
	sd->v = calloc(n ? n : 1, sizeof *sd->v);
	if (!sd->v)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		version *v = &sd->v[i];
		/* Take the row's strings. */
		v->name = rows[i].name;
		v->where = rows[i].path;
		v->oid = rows[i].manifest_oid;
		v->digest = rows[i].digest;
		rows[i].name = rows[i].path = rows[i].manifest_oid = rows[i].digest = NULL;
		if (algo_parse(&v->algo, rows[i].algo) != 0) {
			sd->n = i + 1;
			return err_set(CAIRN_EINVALID, "dataset '%s' has an unknown digest '%s'",
			               v->name, rows[i].algo);
		}
		v->algo_known = true;
	}
	sd->n = n;
	return 0;
}

/* paths: whether spec may name a file or directory (looked up first). */
static int resolve(side *sd, cairn_store *s, const char *spec, bool paths)
{
	memset(sd, 0, sizeof *sd);
	sd->spec = spec;
	struct stat st;
	if (!spec || !*spec)
		return err_set(CAIRN_EINVALID, "an empty name for a data version");
	if (paths && lstat(spec, &st) == 0) {
		sd->kind = SIDE_PATH;
		sd->v = calloc(1, sizeof *sd->v);
		if (!sd->v)
			return err_set(CAIRN_ENOMEM, "out of memory");
		sd->n = 1;
		sd->v->path = strdup(spec);
		sd->v->where = path_abs(spec);
		if (!sd->v->path)
			return err_set(CAIRN_ENOMEM, "out of memory");
		return 0;
	}
	if (!s)
		return err_set(CAIRN_ENOTFOUND, "'%s': no such file or directory", spec);
	if (hex_is(spec, CAIRN_OID_HEXSZ)) {
		char *p = NULL;
		if (cairn_object_path(&p, s, spec) == 0) {
			free(p);
			sd->kind = SIDE_OBJECT;
			sd->v = calloc(1, sizeof *sd->v);
			if (!sd->v || !(sd->v->oid = strdup(spec)))
				return err_set(CAIRN_ENOMEM, "out of memory");
			sd->n = 1;
			return 0;
		}
	}
	int64_t rid;
	const char *name = NULL;
	char *runpart = NULL;
	int rc = store_run_lookup(s, spec, false, &rid, sd->run);
	if (rc == CAIRN_ENOTFOUND && strrchr(spec, ':')) {
		const char *colon = strrchr(spec, ':');
		runpart = strndup(spec, (size_t)(colon - spec));
		if (!runpart)
			return err_set(CAIRN_ENOMEM, "out of memory");
		name = colon + 1;
		rc = *runpart && *name ? store_run_lookup(s, runpart, false, &rid, sd->run)
		                       : CAIRN_ENOTFOUND;
	}
	if (rc == CAIRN_ENOTFOUND) {
		free(runpart);
		if (!paths)
			return err_set(CAIRN_ENOTFOUND,
			               "'%.200s' is not a run, RUN:DATASET or a stored manifest",
			               spec);
		return err_set(CAIRN_ENOTFOUND,
		               "'%s' is not an existing path, a stored manifest or a run", spec);
	}
	if (rc) {
		free(runpart);
		return rc;
	}
	sd->kind = name ? SIDE_RUN_NAME : SIDE_RUN;
	dataset_row *rows = NULL;
	size_t n = 0;
	rc = store_dataset_list(s, rid, name, &rows, &n);
	if (rc == 0 && n == 0) {
		if (name)
			rc =
			    err_set(CAIRN_ENOTFOUND, "run %.8s has no dataset '%s'", sd->run, name);
		else
			rc = err_set(CAIRN_ENOTFOUND, "run %.8s has no datasets", sd->run);
	}
	if (rc == 0)
		rc = side_from_rows(sd, rows, n);
	dataset_rows_free(rows, n);
	free(runpart);
	return rc;
}

/* Load a version's manifest: hash a live path with `algo`, read a stored one. */
static int load(version *v, cairn_store *s, data_algo algo)
{
	if (v->m)
		return 0;
	if (v->path) {
		hash_job j;
		hash_job_init(&j, v->path, algo);
		int rc = data_hash(&j, s);
		if (rc == 0) {
			v->m = j.m;
			j.m = NULL;
			v->algo = algo;
			v->algo_known = true;
		}
		hash_job_free(&j);
		return rc;
	}
	int rc = manifest_load(&v->m, s, v->oid);
	if (rc)
		return rc;
	if (v->algo_known && v->m->algo != v->algo)
		return err_set(CAIRN_ESTORE, "manifest %.12s is %s, but its dataset says %s",
		               v->oid, algo_name(v->m->algo), algo_name(v->algo));
	if (v->digest && strcmp(v->digest, v->m->digest) != 0)
		return err_set(
		    CAIRN_ESTORE,
		    "manifest %.12s does not match its dataset's digest (damaged store?)", v->oid);
	v->algo = v->m->algo;
	v->algo_known = true;
	return 0;
}

static const char *label(const side *sd, const version *v)
{
	if (v->name)
		return v->name;
	if (v->path)
		return v->path;
	return sd->spec;
}

/* Load both versions of a pair with one algorithm. */
static int load_pair(version *a, const side *sa, version *b, const side *sb, cairn_store *s)
{
	int rc;
	if (a && !a->path && (rc = load(a, s, ALGO_XXH128)) != 0)
		return rc;
	if (b && !b->path && (rc = load(b, s, ALGO_XXH128)) != 0)
		return rc;
	data_algo algo = ALGO_XXH128;
	if (a && !a->path)
		algo = a->algo;
	else if (b && !b->path)
		algo = b->algo;
	if (a && (rc = load(a, s, algo)) != 0)
		return rc;
	if (b && (rc = load(b, s, algo)) != 0)
		return rc;
	if (a && b && a->algo != b->algo)
		return err_set(
		    CAIRN_EINVALID,
		    "cannot compare '%s' (%s) with '%s' (%s): different digests; record one "
		    "again with the other's",
		    label(sa, a), algo_name(a->algo), label(sb, b), algo_name(b->algo));
	return 0;
}

/* --- the typed result ------------------------------------------------------------ */

typedef struct pair_rec {
	cairn_data_pair pub;
	cairn_data_side side[2];
	char digest[2][DIGEST_HEX_MAX + 16];
	const char **paths; /* one block: added, then removed, then changed */
} pair_rec;

struct cairn_data_diff {
	side sa, sb; /* own the versions and manifests the pairs point into */
	pair_rec *p; /* room for every pairing, never moved (pairs point into it) */
	size_t n;
};

static const cairn_data_side *side_fill(pair_rec *r, int k, const version *v)
{
	if (!v)
		return NULL;
	cairn_data_side *o = &r->side[k];
	snprintf(r->digest[k], sizeof r->digest[k], "%s:%s", algo_name(v->m->algo), v->m->digest);
	o->digest = r->digest[k];
	o->files = v->m->files;
	o->bytes = v->m->bytes;
	o->path = v->where ? v->where : v->path;
	o->manifest = v->oid;
	return o;
}

/* Pair a with bv: the three path lists come from one merge of the two sorted
 * manifests and point into them. */
static int pair_add(cairn_data_diff *d, const char *name, const version *a, const version *bv)
{
	pair_rec *r = &d->p[d->n];
	cairn_data_pair *p = &r->pub;
	p->name = name;
	p->same = a && bv && a->m->algo == bv->m->algo && strcmp(a->m->digest, bv->m->digest) == 0;
	p->a = side_fill(r, 0, a);
	p->b = side_fill(r, 1, bv);
	const manifest *ma = a ? a->m : NULL, *mb = bv ? bv->m : NULL;
	size_t na = ma ? ma->n : 0, nb = mb ? mb->n : 0;
	r->paths = malloc((na + nb + (na < nb ? na : nb) + 1) * sizeof *r->paths);
	if (!r->paths)
		return err_set(CAIRN_ENOMEM, "out of memory");
	const char **add = r->paths, **rem = add + nb, **chg = rem + na;
	size_t n[3] = {0, 0, 0}; /* added, removed, changed */
	d->n++;
	if (p->same) {
		/* nothing differs */
	} else if (ma && mb && ma->is_file && mb->is_file) {
		chg[n[2]++] = mb->e[0].path;
	} else {
		size_t i = 0, k = 0;
		while (i < na || k < nb) {
			int c = i >= na ? 1 : k >= nb ? -1 : strcmp(ma->e[i].path, mb->e[k].path);
			if (c < 0) {
				rem[n[1]++] = ma->e[i++].path;
			} else if (c > 0) {
				add[n[0]++] = mb->e[k++].path;
			} else {
				const mentry *x = &ma->e[i++], *y = &mb->e[k++];
				if (x->type != y->type || x->size != y->size ||
				    strcmp(x->digest, y->digest) != 0)
					chg[n[2]++] = y->path;
			}
		}
	}
	p->added = add;
	p->nadded = n[0];
	p->removed = rem;
	p->nremoved = n[1];
	p->changed = chg;
	p->nchanged = n[2];
	return 0;
}

/* A single version of sd to compare with `other`'s single version. */
static int pick(version **out, side *sd, const side *other)
{
	if (sd->n == 1) {
		*out = &sd->v[0];
		return 0;
	}
	const version *o = other->n == 1 ? &other->v[0] : NULL;
	for (size_t i = 0; o && i < sd->n; i++) {
		version *v = &sd->v[i];
		if ((o->name && strcmp(o->name, v->name) == 0) ||
		    (o->where && v->where && strcmp(o->where, v->where) == 0)) {
			*out = v;
			return 0;
		}
	}
	for (size_t i = 0; o && o->path && i < sd->n; i++) {
		if (strcmp(path_base(o->where ? o->where : o->path), sd->v[i].name) == 0) {
			*out = &sd->v[i];
			return 0;
		}
	}
	return err_set(CAIRN_EINVALID, "run %.8s has %zu datasets (%s, %s%s); name one as RUN:NAME",
	               sd->run, sd->n, sd->v[0].name, sd->v[1].name, sd->n > 2 ? ", ..." : "");
}

static int diff_new(cairn_data_diff **out, cairn_store *s, const char *a, const char *b, bool paths)
{
	if (!out)
		return err_set(CAIRN_EINVALID, "no result to fill");
	*out = NULL;
	if (!paths && !s)
		return err_set(CAIRN_EINVALID, "no store");
	cairn_data_diff *d = calloc(1, sizeof *d);
	if (!d)
		return err_set(CAIRN_ENOMEM, "out of memory");
	int rc = resolve(&d->sa, s, a, paths);
	if (rc == 0)
		rc = resolve(&d->sb, s, b, paths);
	if (rc == 0 && !(d->p = calloc(d->sa.n + d->sb.n + 1, sizeof *d->p)))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc)
		goto done;
	side *sa = &d->sa, *sb = &d->sb;
	if (sa->kind == SIDE_RUN && sb->kind == SIDE_RUN) {
		/* Pair by name; both lists are sorted by name. */
		size_t i = 0, k = 0;
		while (i < sa->n || k < sb->n) {
			int c = i >= sa->n   ? 1
			        : k >= sb->n ? -1
			                     : strcmp(sa->v[i].name, sb->v[k].name);
			version *va = c <= 0 ? &sa->v[i] : NULL, *vb = c >= 0 ? &sb->v[k] : NULL;
			if ((rc = load_pair(va, sa, vb, sb, s)) != 0 ||
			    (rc = pair_add(d, va ? va->name : vb->name, va, vb)) != 0)
				goto done;
			if (va)
				i++;
			if (vb)
				k++;
		}
	} else {
		version *va, *vb;
		if ((rc = pick(&va, sa, sb)) != 0 || (rc = pick(&vb, sb, sa)) != 0)
			goto done;
		if ((rc = load_pair(va, sa, vb, sb, s)) != 0)
			goto done;
		rc = pair_add(d, va->name ? va->name : vb->name, va, vb);
	}
done:
	if (rc)
		cairn_data_diff_free(d);
	else
		*out = d;
	return rc;
}

int cairn_data_diff_new(cairn_data_diff **out, cairn_store *s, const char *a, const char *b)
{
	return diff_new(out, s, a, b, true);
}

int cairn_data_diff_stored(cairn_data_diff **out, cairn_store *s, const char *a, const char *b)
{
	return diff_new(out, s, a, b, false);
}

size_t cairn_data_diff_count(const cairn_data_diff *d)
{
	return d ? d->n : 0;
}

const cairn_data_pair *cairn_data_diff_get(const cairn_data_diff *d, size_t i)
{
	return d && i < d->n ? &d->p[i].pub : NULL;
}

void cairn_data_diff_free(cairn_data_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->p[i].paths);
	free(d->p);
	side_free(&d->sa);
	side_free(&d->sb);
	free(d);
}

/* --- the JSON form ---------------------------------------------------------------- */

static void side_json(buf *b, const cairn_data_side *v)
{
	if (!v) {
		buf_puts(b, "null");
		return;
	}
	bool f = true;
	buf_putc(b, '{');
	json_key(b, &f, "digest");
	json_str(b, v->digest);
	json_key(b, &f, "files");
	json_int(b, v->files);
	json_key(b, &f, "bytes");
	json_int(b, v->bytes);
	json_key(b, &f, "path");
	json_str(b, v->path);
	if (v->manifest) {
		json_key(b, &f, "manifest");
		json_str(b, v->manifest);
	}
	buf_putc(b, '}');
}

static void pair_json(buf *b, const cairn_data_pair *p)
{
	bool f = true;
	buf_putc(b, '{');
	json_key(b, &f, "name");
	json_str(b, p->name);
	json_key(b, &f, "same");
	json_bool(b, p->same);
	json_key(b, &f, "a");
	side_json(b, p->a);
	json_key(b, &f, "b");
	side_json(b, p->b);
	static const char *const keys[3] = {"added", "removed", "changed"};
	const char *const *lists[3] = {p->added, p->removed, p->changed};
	size_t ns[3] = {p->nadded, p->nremoved, p->nchanged};
	for (int l = 0; l < 3; l++) {
		json_key(b, &f, keys[l]);
		buf_putc(b, '[');
		for (size_t i = 0; i < ns[l]; i++) {
			if (i)
				buf_putc(b, ',');
			json_str(b, lists[l][i]);
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
}

static int diff_json(char **out, cairn_store *s, const char *a, const char *b, bool paths)
{
	cairn_data_diff *d = NULL;
	*out = NULL;
	int rc = diff_new(&d, s, a, b, paths);
	if (rc)
		return rc;
	buf o = BUF_INIT;
	buf_puts(&o, "{\"datasets\":[");
	for (size_t i = 0; i < d->n; i++) {
		if (i)
			buf_putc(&o, ',');
		pair_json(&o, &d->p[i].pub);
	}
	buf_puts(&o, "]}");
	cairn_data_diff_free(d);
	if (!buf_ok(&o)) {
		buf_free(&o);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = buf_detach(&o);
	return 0;
}

int cairn_data_diff_json(char **out, cairn_store *s, const char *a, const char *b)
{
	return diff_json(out, s, a, b, true);
}

int cairn_data_diff_stored_json(char **out, cairn_store *s, const char *a, const char *b)
{
	return diff_json(out, s, a, b, false);
}
