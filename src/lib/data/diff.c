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
 * The diff itself is a merge of two sorted manifests: O(n + m).
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

static bool is_oid(const char *s)
{
	size_t n = strlen(s);
	if (n != CAIRN_OID_HEXSZ)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
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
	if (is_oid(spec)) {
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

static void version_json(buf *b, const version *v)
{
	if (!v) {
		buf_puts(b, "null");
		return;
	}
	bool f = true;
	buf_putc(b, '{');
	json_key(b, &f, "digest");
	buf_printf(b, "\"%s:%s\"", algo_name(v->m->algo), v->m->digest);
	json_key(b, &f, "files");
	json_int(b, v->m->files);
	json_key(b, &f, "bytes");
	json_int(b, v->m->bytes);
	json_key(b, &f, "path");
	json_str(b, v->where ? v->where : v->path);
	if (v->oid) {
		json_key(b, &f, "manifest");
		json_str(b, v->oid);
	}
	buf_putc(b, '}');
}

static void path_list(buf *b, bool *first, bool *any, const char *p)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	*any = true;
	json_str(b, p);
}

static void pair_json(buf *b, const char *name, const version *a, const version *bv)
{
	bool f = true;
	buf_putc(b, '{');
	json_key(b, &f, "name");
	json_str(b, name);
	bool same =
	    a && bv && a->m->algo == bv->m->algo && strcmp(a->m->digest, bv->m->digest) == 0;
	json_key(b, &f, "same");
	json_bool(b, same);
	json_key(b, &f, "a");
	version_json(b, a);
	json_key(b, &f, "b");
	version_json(b, bv);
	const manifest *ma = a ? a->m : NULL, *mb = bv ? bv->m : NULL;
	/* Three lists from one merge. */
	buf lists[3] = {BUF_INIT, BUF_INIT, BUF_INIT}; /* added, removed, changed */
	bool firsts[3] = {true, true, true}, any = false;
	if (same) {
		/* nothing differs */
	} else if (ma && mb && ma->is_file && mb->is_file) {
		path_list(&lists[2], &firsts[2], &any, mb->e[0].path);
	} else {
		size_t i = 0, k = 0, na = ma ? ma->n : 0, nb = mb ? mb->n : 0;
		while (i < na || k < nb) {
			int c = i >= na ? 1 : k >= nb ? -1 : strcmp(ma->e[i].path, mb->e[k].path);
			if (c < 0) {
				path_list(&lists[1], &firsts[1], &any, ma->e[i++].path);
			} else if (c > 0) {
				path_list(&lists[0], &firsts[0], &any, mb->e[k++].path);
			} else {
				const mentry *x = &ma->e[i++], *y = &mb->e[k++];
				if (x->type != y->type || x->size != y->size ||
				    strcmp(x->digest, y->digest) != 0)
					path_list(&lists[2], &firsts[2], &any, y->path);
			}
		}
	}
	static const char *const keys[3] = {"added", "removed", "changed"};
	for (int l = 0; l < 3; l++) {
		json_key(b, &f, keys[l]);
		buf_putc(b, '[');
		buf_add(b, lists[l].ptr, lists[l].len);
		buf_putc(b, ']');
		if (!buf_ok(&lists[l]))
			b->oom = true;
		buf_free(&lists[l]);
	}
	buf_putc(b, '}');
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

static int diff_json(char **out, cairn_store *s, const char *a, const char *b, bool paths)
{
	side sa, sb;
	buf o = BUF_INIT;
	*out = NULL;
	memset(&sb, 0, sizeof sb);
	if (!paths && !s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = resolve(&sa, s, a, paths);
	if (rc == 0)
		rc = resolve(&sb, s, b, paths);
	if (rc)
		goto done;
	buf_puts(&o, "{\"datasets\":[");
	if (sa.kind == SIDE_RUN && sb.kind == SIDE_RUN) {
		/* Pair by name; both lists are sorted by name. */
		size_t i = 0, k = 0;
		bool first = true;
		while (i < sa.n || k < sb.n) {
			int c = i >= sa.n ? 1 : k >= sb.n ? -1 : strcmp(sa.v[i].name, sb.v[k].name);
			version *va = c <= 0 ? &sa.v[i] : NULL, *vb = c >= 0 ? &sb.v[k] : NULL;
			if ((rc = load_pair(va, &sa, vb, &sb, s)) != 0)
				goto done;
			if (!first)
				buf_putc(&o, ',');
			first = false;
			pair_json(&o, va ? va->name : vb->name, va, vb);
			if (va)
				i++;
			if (vb)
				k++;
		}
	} else {
		version *va, *vb;
		if ((rc = pick(&va, &sa, &sb)) != 0 || (rc = pick(&vb, &sb, &sa)) != 0)
			goto done;
		if ((rc = load_pair(va, &sa, vb, &sb, s)) != 0)
			goto done;
		const char *name = va->name ? va->name : vb->name;
		pair_json(&o, name, va, vb);
	}
	buf_puts(&o, "]}");
	if (!buf_ok(&o)) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	*out = buf_detach(&o);
done:
	buf_free(&o);
	side_free(&sa);
	side_free(&sb);
	return rc;
}

int cairn_data_diff_json(char **out, cairn_store *s, const char *a, const char *b)
{
	return diff_json(out, s, a, b, true);
}

int cairn_data_diff_stored_json(char **out, cairn_store *s, const char *a, const char *b)
{
	return diff_json(out, s, a, b, false);
}
