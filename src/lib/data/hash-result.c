/*
 * lib/data/hash-result.c — what one hash reports: the typed result
 * (cairn_hash_result), the JSON object cairn_hash_path writes from it, and
 * the public hashing entry points.
 *
 * The result takes the job's problems and counters instead of copying them,
 * and keeps no manifest: a result costs its problems, not its entries.  The
 * JSON lists at most ERRORS_IN_JSON problems of each kind (with a count of
 * the rest); the typed result keeps them all.
 *
 * A result is immutable once made; reading it from several threads is safe.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/data/data.h"
#include "lib/data/engine.h"
#include "util/json.h"

struct cairn_hash_result {
	char *path;
	data_algo algo;
	bool complete;                    /* a digest: no file failed */
	char digest[DIGEST_HEX_MAX + 16]; /* "<algo>:<hex>" when complete */
	int64_t files, bytes;
	problems errors, skipped;    /* owned strings */
	cairn_data_problem *ev, *sv; /* views of errors and skipped */
	cairn_hash_stats stats;
};

static cairn_data_problem *views(const problems *p)
{
	cairn_data_problem *v = calloc(p->n ? p->n : 1, sizeof *v);
	for (size_t i = 0; v && i < p->n; i++) {
		v[i].path = p->v[i].path;
		v[i].message = p->v[i].msg;
	}
	return v;
}

int hash_result_take(cairn_hash_result **out, hash_job *j)
{
	*out = NULL;
	cairn_hash_result *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(j->path))) {
		free(r);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	r->algo = j->algo;
	r->complete = j->m && !j->errors.n;
	if (r->complete)
		snprintf(r->digest, sizeof r->digest, "%s:%s", algo_name(j->algo), j->m->digest);
	r->files = j->m ? j->m->files : 0;
	r->bytes = j->m ? j->m->bytes : 0;
	r->errors = j->errors;
	r->skipped = j->skipped;
	memset(&j->errors, 0, sizeof j->errors);
	memset(&j->skipped, 0, sizeof j->skipped);
	r->stats = j->stats;
	r->ev = views(&r->errors);
	r->sv = views(&r->skipped);
	if (!r->ev || !r->sv) {
		cairn_hash_result_free(r);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

void hash_result_json(const cairn_hash_result *r, buf *b)
{
	bool first = true;
	buf_putc(b, '{');
	json_key(b, &first, "path");
	json_str(b, r->path);
	json_key(b, &first, "algo");
	json_str(b, algo_name(r->algo));
	json_key(b, &first, "digest");
	json_str(b, r->complete ? r->digest : NULL);
	json_key(b, &first, "files");
	json_int(b, r->files);
	json_key(b, &first, "bytes");
	json_int(b, r->bytes);
	static const char *const lists[2][2] = {{"errors", "error"}, {"skipped", "reason"}};
	for (int l = 0; l < 2; l++) {
		const problems *p = l == 0 ? &r->errors : &r->skipped;
		json_key(b, &first, lists[l][0]);
		buf_putc(b, '[');
		for (size_t i = 0; i < p->n && i < ERRORS_IN_JSON; i++) {
			bool f = true;
			if (i)
				buf_putc(b, ',');
			buf_putc(b, '{');
			json_key(b, &f, "path");
			json_str(b, p->v[i].path);
			json_key(b, &f, lists[l][1]);
			json_str(b, p->v[i].msg);
			buf_putc(b, '}');
		}
		buf_putc(b, ']');
		if (p->n > ERRORS_IN_JSON) {
			json_key(b, &first, l == 0 ? "errors_omitted" : "skipped_omitted");
			json_int(b, (int64_t)(p->n - ERRORS_IN_JSON));
		}
	}
	json_key(b, &first, "stats");
	bool f = true;
	buf_putc(b, '{');
	json_key(b, &f, "cache_hits");
	json_int(b, r->stats.cache_hits);
	json_key(b, &f, "files_read");
	json_int(b, r->stats.files_read);
	json_key(b, &f, "bytes_read");
	json_int(b, r->stats.bytes_read);
	json_key(b, &f, "seconds");
	json_num(b, r->stats.seconds);
	buf_putc(b, '}');
	buf_putc(b, '}');
}

/* --- public entry points ---------------------------------------------------------------------- */

/* Hash path; *out (when out is not NULL) as cairn_hash_path_result says. */
static int hash(cairn_hash_result **out, cairn_hash_stats *stats, cairn_store *store,
                const char *path, const cairn_hash_options *opts)
{
	if (out)
		*out = NULL;
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (!path)
		return err_set(CAIRN_EINVALID, "no path to hash");
	hash_job j;
	hash_job_init(&j, path, ALGO_XXH128);
	int rc = hash_job_options(&j, opts);
	if (rc)
		return rc;
	rc = data_hash(&j, store);
	if (stats)
		*stats = j.stats;
	if (out && (rc == 0 || (rc == CAIRN_EIO && j.m))) {
		char *saved = NULL;
		if (rc) /* keep the hash's message across building the result */
			saved = strdup(cairn_error_last());
		int e = hash_result_take(out, &j);
		if (e)
			rc = e;
		else if (saved)
			err_set(rc, "%s", saved);
		free(saved);
	}
	hash_job_free(&j);
	return rc;
}

int cairn_hash_path_result(cairn_hash_result **out, cairn_store *store, const char *path,
                           const cairn_hash_options *opts)
{
	if (!out)
		return err_set(CAIRN_EINVALID, "no result to fill");
	return hash(out, NULL, store, path, opts);
}

int cairn_hash_path(char **out, cairn_hash_stats *stats, cairn_store *store, const char *path,
                    const cairn_hash_options *opts)
{
	cairn_hash_result *r = NULL;
	if (out)
		*out = NULL;
	int rc = hash(out ? &r : NULL, stats, store, path, opts);
	if (r) {
		buf b = BUF_INIT;
		hash_result_json(r, &b);
		cairn_hash_result_free(r);
		if (!buf_ok(&b)) {
			buf_free(&b);
			return err_set(CAIRN_ENOMEM, "out of memory");
		}
		*out = buf_detach(&b);
	}
	return rc;
}

int cairn_hash_path_json(char **out, cairn_store *store, const char *path, const char *algo)
{
	cairn_hash_options o = CAIRN_HASH_OPTIONS_INIT;
	o.algo = algo;
	return cairn_hash_path(out, NULL, store, path, &o);
}

/* --- accessors ------------------------------------------------------------------------------ */

const char *cairn_hash_result_path(const cairn_hash_result *r)
{
	return r ? r->path : NULL;
}

const char *cairn_hash_result_algo(const cairn_hash_result *r)
{
	return r ? algo_name(r->algo) : NULL;
}

const char *cairn_hash_result_digest(const cairn_hash_result *r)
{
	return r && r->complete ? r->digest : NULL;
}

int64_t cairn_hash_result_files(const cairn_hash_result *r)
{
	return r ? r->files : 0;
}

int64_t cairn_hash_result_bytes(const cairn_hash_result *r)
{
	return r ? r->bytes : 0;
}

const cairn_hash_stats *cairn_hash_result_stats(const cairn_hash_result *r)
{
	return r ? &r->stats : NULL;
}

size_t cairn_hash_result_error_count(const cairn_hash_result *r)
{
	return r ? r->errors.n : 0;
}

const cairn_data_problem *cairn_hash_result_error(const cairn_hash_result *r, size_t i)
{
	return r && i < r->errors.n ? &r->ev[i] : NULL;
}

size_t cairn_hash_result_skipped_count(const cairn_hash_result *r)
{
	return r ? r->skipped.n : 0;
}

const cairn_data_problem *cairn_hash_result_skipped(const cairn_hash_result *r, size_t i)
{
	return r && i < r->skipped.n ? &r->sv[i] : NULL;
}

void cairn_hash_result_free(cairn_hash_result *r)
{
	if (!r)
		return;
	free(r->path);
	problems_free(&r->errors);
	problems_free(&r->skipped);
	free(r->ev);
	free(r->sv);
	free(r);
}
