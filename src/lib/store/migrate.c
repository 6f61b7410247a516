/*
 * lib/store/migrate.c — cairn_store_migrate: copy a whole store into an
 * empty one, across backends (SQLite <-> PostgreSQL) and object places (a
 * directory <-> a bucket), through the store interface only, so any two
 * backends copy alike.
 *
 * Every run keeps its id, sequence number, name, times, status, params
 * (typed), every metric point, tags, properties, note, artifacts, datasets,
 * code version and environment; the code map and sweep trial queues come
 * along, and every object anything references is copied by content (so its
 * id is the same).  Not copied: the hash cache (inodes of one machine's
 * files) and the store's settings (where the target keeps its objects is
 * the target's own).  The rules are in docs/internals/store.md, "Copying a
 * store".
 *
 * Order: the code map first, then the runs oldest first (a parent exists
 * before its children), each with its objects before the rows that
 * reference them; sweep trials and soft deletions last, once every run they
 * name is there.  A failure stops the copy with the error of the first
 * thing that failed; what was copied stays (the target is a new store: the
 * doc says to drop it and start again).  Neither store may be a cairn
 * server's URL (one clear error before anything is read; remote.md, "What
 * is not remote").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/store/capture.h"
#include "lib/store/data.h"
#include "lib/store/objects.h"
#include "lib/store/record.h"
#include "lib/store/store.h"
#include "lib/store/sweep.h"
#include "util/sha.h"

#define POINTS_CHUNK 65536
#define MAP_CHUNK    1024

typedef struct migrate {
	cairn_store *from, *to;
	const cairn_migrate_options *o;
	cairn_migrate_stats st;
	/* the objects copied (or found there) so far: an open-addressed set */
	char (*seen)[65];
	size_t nseen, cap;
} migrate;

static size_t oid_hash(const char *oid)
{
	size_t h = 0;
	for (int i = 0; i < 16; i++)
		h = h * 16 + (size_t)(oid[i] <= '9' ? oid[i] - '0' : oid[i] - 'a' + 10);
	return h;
}

/* true when oid was in the set; adds it otherwise (false on OOM too, which
 * only costs a second presence check). */
static bool seen_add(migrate *m, const char *oid)
{
	if (m->nseen * 2 >= m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 4096;
		char(*nv)[65] = calloc(nc, sizeof *nv);
		if (!nv)
			return false;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->seen[i][0])
				continue;
			size_t j = oid_hash(m->seen[i]) & (nc - 1);
			while (nv[j][0])
				j = (j + 1) & (nc - 1);
			memcpy(nv[j], m->seen[i], 65);
		}
		free(m->seen);
		m->seen = nv;
		m->cap = nc;
	}
	size_t j = oid_hash(oid) & (m->cap - 1);
	while (m->seen[j][0]) {
		if (strcmp(m->seen[j], oid) == 0)
			return true;
		j = (j + 1) & (m->cap - 1);
	}
	memcpy(m->seen[j], oid, 65);
	m->nseen++;
	return false;
}

static int progress(migrate *m, const char *phase, int64_t done, int64_t total)
{
	if (!m->o || !m->o->progress)
		return 0;
	cairn_migrate_progress p = {phase, done, total, &m->st};
	if (m->o->progress(&p, m->o->payload) != 0)
		return err_set(CAIRN_ERROR, "the copy was cancelled");
	return 0;
}

/* The object into the target, by content: the same id comes out. */
static int copy_object(migrate *m, const char *oid)
{
	if (!oid_valid(oid))
		return 0; /* not an object id (a hint of the code map) */
	if (seen_add(m, oid) || object_present(m->to, oid))
		return 0;
	char *path = NULL, got[CAIRN_OID_HEXSZ + 1];
	int rc = cairn_object_path(&path, m->from, oid);
	if (rc)
		return err_wrap(rc, "cannot read object %.12s of the source store", oid);
	struct stat sb;
	if (stat(path, &sb) == 0)
		m->st.object_bytes += sb.st_size;
	rc = cairn_object_put_file(got, m->to, path);
	free(path);
	if (rc)
		return err_wrap(rc, "cannot copy object %.12s", oid);
	if (strcmp(got, oid) != 0)
		return err_set(CAIRN_ESTORE,
		               "object %s of the source store is damaged: its bytes hash to %s",
		               oid, got);
	m->st.objects++;
	return 0;
}

static int copy_code_map(migrate *m)
{
	code_map_row *v = NULL;
	size_t n = 0;
	int rc = store_code_map_list(m->from, &v, &n);
	for (size_t i = 0; i < n && rc == 0; i += MAP_CHUNK) {
		size_t k = n - i < MAP_CHUNK ? n - i : MAP_CHUNK;
		const char **keys = calloc(k, sizeof *keys);
		char(*oids)[65] = calloc(k, sizeof *oids);
		int64_t *sizes = calloc(k, sizeof *sizes);
		size_t w = 0;
		if (!keys || !oids || !sizes)
			rc = err_set(CAIRN_ENOMEM, "out of memory");
		for (size_t j = 0; j < k && rc == 0; j++) {
			const code_map_row *e = &v[i + j];
			if (!oid_valid(e->oid))
				continue;
			/* an entry whose object the source lost is a cache miss, not data */
			if (copy_object(m, e->oid) != 0) {
				cairn_error_clear();
				continue;
			}
			keys[w] = e->key;
			memcpy(oids[w], e->oid, 65);
			sizes[w++] = e->size;
		}
		if (rc == 0 && w)
			rc = store_code_map_put(m->to, keys, (const char(*)[65])oids, sizes, w);
		m->st.code_map += (int64_t)w;
		free(keys);
		free(oids);
		free(sizes);
		if (rc == 0)
			rc = progress(m, "code", (int64_t)(i + k), (int64_t)n);
	}
	code_map_rows_free(v, n);
	return rc;
}

/* Every point of every metric of the run. */
static int copy_metrics(migrate *m, const cairn_run_record *r, int64_t rid)
{
	mpoint *pts = NULL;
	int rc = 0;
	for (size_t i = 0; i < r->nmetrics && rc == 0; i++) {
		const char *key = r->metrics[i].m.key;
		store_points sp;
		int64_t kid;
		memset(&sp, 0, sizeof sp);
		if ((rc = store_metric_points(m->from, r->rid, key, &sp)) != 0 ||
		    (rc = store_key_intern(m->to, key, &kid)) != 0) {
			store_points_free(&sp);
			break;
		}
		for (size_t j = 0; j < sp.n && rc == 0; j += POINTS_CHUNK) {
			size_t k = sp.n - j < POINTS_CHUNK ? sp.n - j : POINTS_CHUNK;
			if (!pts && !(pts = malloc(POINTS_CHUNK * sizeof *pts))) {
				rc = err_set(CAIRN_ENOMEM, "out of memory");
				break;
			}
			for (size_t q = 0; q < k; q++)
				pts[q] = (mpoint){rid, kid, sp.step[j + q], sp.ts_ms[j + q],
				                  sp.value[j + q]};
			rc = store_metrics_insert(m->to, pts, k);
		}
		m->st.metric_points += (int64_t)sp.n;
		store_points_free(&sp);
	}
	free(pts);
	return rc;
}

/* The run's rows that reference objects, after the objects. */
static int copy_refs(migrate *m, const cairn_run_record *r, int64_t rid)
{
	char(*refs)[65] = NULL;
	size_t nrefs = 0, nd = 0;
	dataset_row *ds = NULL;
	int rc = store_refs_list(m->from, r->rid, &refs, &nrefs);
	for (size_t i = 0; i < nrefs && rc == 0; i++)
		rc = copy_object(m, refs[i]);
	for (size_t i = 0; i < r->nartifacts && rc == 0; i++) {
		const cairn_run_artifact *a = &r->artifacts[i];
		if ((rc = copy_object(m, a->digest)) == 0)
			rc = store_artifact_put(m->to, rid, a->path, a->digest, a->size,
			                        a->media_type, a->kind, a->key, a->step);
		m->st.artifacts++;
	}
	if (rc == 0)
		rc = store_dataset_list(m->from, r->rid, NULL, &ds, &nd);
	for (size_t i = 0; i < nd && rc == 0; i++) {
		if (ds[i].manifest_oid && (rc = copy_object(m, ds[i].manifest_oid)) != 0)
			break;
		rc = store_dataset_put(m->to, rid, &ds[i]);
		m->st.datasets++;
	}
	if (rc == 0 && r->has_code) {
		const cairn_run_code *c = &r->code;
		if (c->snapshot && (rc = copy_object(m, c->snapshot)) != 0)
			goto done;
		rc = store_run_code_set(m->to, rid, c->commit, c->branch, c->remote, c->dirty,
		                        c->snapshot, NULL, 0);
	}
	if (rc == 0 && r->env_oid && (rc = copy_object(m, r->env_oid)) == 0)
		rc = store_run_env_set(m->to, rid, r->env_oid);
	/* the rest of what the run referenced (config copies, snapshot files) */
	if (rc == 0)
		rc = store_refs_put(m->to, rid, (const char(*)[65])refs, nrefs);
done:
	dataset_rows_free(ds, nd);
	free(refs);
	return rc;
}

static int copy_run(migrate *m, const cairn_run_record *r, int64_t *out_rid)
{
	run_row row = {r->project, r->name,     r->command,    r->cwd, r->host, r->user,
	               r->parent,  (int)r->pid, r->start_time, r->id,  r->seq};
	char id[33], *name = NULL;
	int64_t rid, seq;
	/* tags as "key" / "key=value", the text run_insert splits again */
	char **tags = calloc(r->ntags ? r->ntags : 1, sizeof *tags);
	int rc = tags ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < r->ntags; i++) {
		const rec_prop *t = &r->tags[i];
		if (t->value ? asprintf(&tags[i], "%s=%s", t->key, t->value) < 0
		             : !(tags[i] = strdup(t->key))) {
			tags[i] = NULL;
			rc = err_set(CAIRN_ENOMEM, "out of memory");
		}
	}
	if (rc == 0)
		rc = store_run_insert(m->to, &row, (const char *const *)tags, r->ntags, id, &rid,
		                      &seq, &name);
	for (size_t i = 0; tags && i < r->ntags; i++)
		free(tags[i]);
	free(tags);
	free(name);
	if (rc)
		return err_wrap(rc, "cannot copy run %.8s", r->id);
	*out_rid = rid;
	if (r->nparams) {
		const char **keys = calloc(r->nparams, sizeof *keys);
		cairn_value *vals = calloc(r->nparams, sizeof *vals);
		for (size_t i = 0; keys && vals && i < r->nparams; i++) {
			keys[i] = r->params[i].key;
			vals[i] = r->params[i].v;
		}
		rc = keys && vals ? store_params_put_many(m->to, rid, keys, vals, r->nparams, true)
		                  : err_set(CAIRN_ENOMEM, "out of memory");
		free(keys);
		free(vals);
		m->st.params += (int64_t)r->nparams;
	}
	for (size_t i = 0; i < r->nprops && rc == 0; i++)
		rc = store_property_put(m->to, rid, r->props[i].key, r->props[i].value);
	m->st.properties += (int64_t)r->nprops;
	m->st.tags += (int64_t)r->ntags;
	if (rc == 0 && r->note)
		rc = store_run_set_text(m->to, rid, "note", r->note);
	if (rc == 0)
		rc = copy_metrics(m, r, rid);
	if (rc == 0)
		rc = copy_refs(m, r, rid);
	/* a crashed run is a running one whose heartbeat went stale: the
	 * same heartbeat makes it crashed in the target too */
	if (rc == 0 && r->has_heartbeat)
		rc = store_heartbeat(m->to, rid, r->heartbeat);
	bool running =
	    r->status == CAIRN_STATUS_RUNNING || (r->status == CAIRN_STATUS_CRASHED && !r->has_end);
	if (rc == 0 && !running)
		rc = store_run_finish(m->to, rid, r->status,
		                      r->has_exit_code ? (int)r->exit_code : 0, r->end_time);
	if (rc)
		return err_wrap(rc, "cannot copy run %.8s", r->id);
	m->st.runs++;
	return 0;
}

static bool is_sweep(const cairn_run_record *r)
{
	return record_prop_find(r, "sweep.metric") != NULL || record_has_tag(r, "sweep");
}

/* The rids of every run of s (deleted ones too), oldest first. */
static int all_runs(cairn_store *s, int64_t **out, size_t *n)
{
	cairn_list_options lo = CAIRN_LIST_OPTIONS_INIT;
	lo.include_deleted = 1;
	int rc = store_run_list_ids(s, &lo, out, n);
	for (size_t i = 0; rc == 0 && i < *n / 2; i++) {
		int64_t t = (*out)[i];
		(*out)[i] = (*out)[*n - 1 - i];
		(*out)[*n - 1 - i] = t;
	}
	return rc;
}

int cairn_store_migrate(cairn_store *from, cairn_store *to, const cairn_migrate_options *o,
                        cairn_migrate_stats *out)
{
	migrate m;
	int64_t *src = NULL, *dst = NULL, *there = NULL;
	size_t n = 0, nthere = 0;
	memset(&m, 0, sizeof m);
	if (out)
		memset(out, 0, sizeof *out);
	if (!from || !to)
		return err_set(CAIRN_EINVALID, "name two stores");
	if (o && o->version != CAIRN_MIGRATE_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_migrate_options version %u is not supported",
		               o->version);
	/* A copy reads and writes what a server does not offer (every object
	 * reference, the code map, trial rows as given), and a server's store
	 * is a directory or a database on its own machine: migrate it there. */
	for (int i = 0; i < 2; i++)
		if (store_is_remote(i ? to : from))
			return err_set(CAIRN_EINVALID,
			               "%s is a cairn server: cairn migrate copies between stores "
			               "it opens itself; run it where the server's store is, with "
			               "that store's directory or postgresql:// URI",
			               cairn_store_path(i ? to : from));
	m.from = from;
	m.to = to;
	m.o = o;
	int rc = all_runs(to, &there, &nthere);
	if (rc == 0 && nthere)
		rc = err_set(CAIRN_EEXISTS,
		             "the target store '%s' already has %zu run%s: cairn migrate copies "
		             "into an empty store",
		             cairn_store_path(to), nthere, nthere == 1 ? "" : "s");
	free(there);
	if (rc == 0)
		rc = all_runs(from, &src, &n);
	if (rc == 0 && !(dst = calloc(n ? n : 1, sizeof *dst)))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = copy_code_map(&m);
	/* the runs, a batch of records at a time */
	for (size_t i = 0; i < n && rc == 0; i += STORE_RECORD_BATCH) {
		size_t k = n - i < STORE_RECORD_BATCH ? n - i : STORE_RECORD_BATCH;
		rec_batch *b = NULL;
		if ((rc = store_records_load(from, src + i, k, true, &b)) != 0)
			break;
		for (size_t j = 0; j < b->n && rc == 0; j++)
			rc = copy_run(&m, &b->recs[j], &dst[i + j]);
		rec_batch_unref(b);
		if (rc == 0)
			rc = progress(&m, "runs", (int64_t)(i + k), (int64_t)n);
	}
	/* then what names other runs, and the soft deletions */
	for (size_t i = 0; i < n && rc == 0; i += STORE_RECORD_BATCH) {
		size_t k = n - i < STORE_RECORD_BATCH ? n - i : STORE_RECORD_BATCH;
		rec_batch *b = NULL;
		if ((rc = store_records_load(from, src + i, k, false, &b)) != 0)
			break;
		for (size_t j = 0; j < b->n && rc == 0; j++) {
			const cairn_run_record *r = &b->recs[j];
			if (is_sweep(r)) {
				trial_row *t = NULL;
				size_t nt = 0;
				if ((rc = store_trial_list(from, r->rid, &t, &nt)) == 0)
					rc = store_trials_put(to, dst[i + j], t, nt);
				m.st.trials += (int64_t)nt;
				trial_rows_free(t, nt);
			}
			if (rc == 0 && r->deleted)
				rc = store_run_delete(to, dst[i + j], false, NULL);
		}
		rec_batch_unref(b);
	}
	if (out)
		*out = m.st;
	free(m.seen);
	free(src);
	free(dst);
	return rc;
}
