/*
 * lib/run/run.c — run handles: creating and attaching, logging params, metrics,
 * tags, properties and notes, finishing, and reading runs back (artifacts
 * are logged in artifact.c; the handle's layout is in run.h).
 *
 * A cairn_run caches, per metric key, the interned key id and the last step
 * this handle logged, in an open-addressing table guarded by `mu`, so the
 * hot path (cairn_run_log_metric) is: validate the key once, one hash lookup,
 * one append to the store's writer.  A point without a step is appended
 * with CAIRN_STEP_AUTO and gets its step in the store's insert transaction
 * (next_step), so every handle, process or server writing the series
 * counts from one last step.  Thread-safe.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/run/run.h"
#include "lib/store/capture.h"
#include "lib/store/store.h"
#include "lib/store/sweep.h"
#include "util/fs.h"
#include "util/utf8.h"

static int run_alloc(cairn_run **out, cairn_store *s, int64_t rid, const char *id)
{
	cairn_run *r = calloc(1, sizeof *r);
	if (!r)
		return err_set(CAIRN_ENOMEM, "out of memory");
	r->store = s;
	r->rid = rid;
	r->aborts = __atomic_load_n(&s->aborts, __ATOMIC_ACQUIRE);
	memcpy(r->id, id, CAIRN_RUN_ID_HEXSZ + 1);
	pthread_mutex_init(&r->mu, NULL);
	int rc = store_run_names(s, rid, &r->name, &r->project, &r->seq);
	if (rc) {
		cairn_run_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int cairn_run_create(cairn_run **out, cairn_store *s, const cairn_run_options *o)
{
	cairn_run_options def = CAIRN_RUN_OPTIONS_INIT;
	char cwd[PATH_MAX], host[256] = "";
	*out = NULL;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (!o)
		o = &def;
	if (o->version < 1 || o->version > CAIRN_RUN_OPTIONS_VERSION)
		return err_set(CAIRN_EINVALID, "cairn_run_options version %u is not supported",
		               o->version);
	const char *project = o->project;
	if (!project || !*project)
		project = getenv("CAIRN_PROJECT");
	if (!project || !*project)
		project = "default";
	int rc;
	if ((rc = cairn_key_validate(project, "project name")) != 0)
		return rc;
	if (o->name && (rc = cairn_key_validate(o->name, "run name")) != 0)
		return rc;
	for (size_t i = 0; i < o->ntags; i++)
		if ((rc = cairn_tag_validate(o->tags[i])) != 0)
			return rc;
	gethostname(host, sizeof host - 1);
	const char *user = getenv("USER");
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		user = pw->pw_name;
	if (o->version >= 2 && o->user) {
		if ((rc = cairn_key_validate(o->user, "user name")) != 0)
			return rc;
		user = o->user;
	}
	run_row row = {
	    .project = project,
	    .name = o->name,
	    .command = o->command,
	    .cwd = o->cwd ? o->cwd : getcwd(cwd, sizeof cwd),
	    .host = host,
	    .user = user,
	    .parent = o->parent,
	    .pid = (int)getpid(),
	    .start_time = o->version >= 3 && o->start_time > 0 ? o->start_time : store_now(s),
	};
	char id[33];
	int64_t rid, seq;
	char *name = NULL;
	if ((rc = store_run_insert(s, &row, o->tags, o->ntags, id, &rid, &seq, &name)) != 0)
		return rc;
	free(name);
	return run_alloc(out, s, rid, id);
}

int cairn_run_resolve(char out_id[CAIRN_RUN_ID_HEXSZ + 1], cairn_store *s, const char *id)
{
	int64_t rid;
	return store_run_lookup(s, id, false, &rid, out_id);
}

int cairn_run_open(cairn_run **out, cairn_store *s, const char *id)
{
	int64_t rid;
	char full[33];
	*out = NULL;
	int rc = store_run_lookup(s, id, false, &rid, full);
	if (rc)
		return rc;
	return run_alloc(out, s, rid, full);
}

int cairn_run_resume(cairn_run **out, cairn_store *s, const char *id)
{
	int64_t rid;
	char full[33];
	*out = NULL;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	int rc = store_run_lookup(s, id, false, &rid, full);
	if (rc == CAIRN_ENOTFOUND && store_run_lookup(s, id, true, &rid, full) == 0)
		return err_set(CAIRN_ENOTFOUND,
		               "run '%s' is deleted: a deleted run cannot be resumed", id);
	if (rc)
		return rc;
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	if ((rc = store_run_reopen(s, rid, (int)getpid(), host)) != 0)
		return rc;
	return run_alloc(out, s, rid, full);
}

void cairn_run_free(cairn_run *r)
{
	if (!r)
		return;
	writer_flush(r->store);
	for (size_t i = 0; i < r->capkeys; i++)
		free(r->keys[i].name);
	free(r->keys);
	free(r->name);
	free(r->project);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

const char *cairn_run_id(const cairn_run *r)
{
	return r ? r->id : NULL;
}
const char *cairn_run_name(const cairn_run *r)
{
	return r ? r->name : NULL;
}
const char *cairn_run_project(const cairn_run *r)
{
	return r ? r->project : NULL;
}
int64_t cairn_run_seq(const cairn_run *r)
{
	return r ? r->seq : 0;
}
cairn_store *cairn_run_store(const cairn_run *r)
{
	return r ? r->store : NULL;
}

/* --- metrics --------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

/* Forget every cached key when a keyed write was rolled back since they were
 * learnt (lib/store/idem.c): a key interned inside it is gone from the
 * store, and its id may be another key's next; a step taken inside it was
 * never stored.  Called with r->mu held, before the first key_slot. */
static void keys_fresh(cairn_run *r)
{
	unsigned a = __atomic_load_n(&r->store->aborts, __ATOMIC_ACQUIRE);
	if (a == r->aborts)
		return;
	for (size_t i = 0; i < r->capkeys; i++)
		free(r->keys[i].name);
	free(r->keys);
	r->keys = NULL;
	r->nkeys = r->capkeys = 0;
	r->aborts = a;
}

/* Find or add the key in the handle's cache; called with r->mu held. */
static int key_slot(cairn_run *r, const char *key, keyent **out)
{
	uint64_t h = fnv1a(key);
	if (r->capkeys) {
		size_t i = h & (r->capkeys - 1);
		while (r->keys[i].name) {
			if (r->keys[i].hash == h && strcmp(r->keys[i].name, key) == 0) {
				*out = &r->keys[i];
				return 0;
			}
			i = (i + 1) & (r->capkeys - 1);
		}
	}
	/* New key: validate, intern, learn its last step. */
	int rc = cairn_key_validate(key, "metric key");
	if (rc)
		return rc;
	int64_t kid, last = -1;
	if ((rc = store_key_intern(r->store, key, &kid)) != 0)
		return rc;
	if (!store_default_steps(r->store) &&
	    (rc = store_metric_last_step(r->store, r->rid, kid, &last)) != 0)
		return rc;
	if ((r->nkeys + 1) * 2 > r->capkeys) {
		size_t ncap = r->capkeys ? r->capkeys * 2 : 16;
		keyent *nk = calloc(ncap, sizeof *nk);
		if (!nk)
			return err_set(CAIRN_ENOMEM, "out of memory");
		for (size_t i = 0; i < r->capkeys; i++) {
			if (!r->keys[i].name)
				continue;
			size_t j = r->keys[i].hash & (ncap - 1);
			while (nk[j].name)
				j = (j + 1) & (ncap - 1);
			nk[j] = r->keys[i];
		}
		free(r->keys);
		r->keys = nk;
		r->capkeys = ncap;
	}
	size_t i = h & (r->capkeys - 1);
	while (r->keys[i].name)
		i = (i + 1) & (r->capkeys - 1);
	r->keys[i].name = strdup(key);
	if (!r->keys[i].name)
		return err_set(CAIRN_ENOMEM, "out of memory");
	r->keys[i].hash = h;
	r->keys[i].kid = kid;
	r->keys[i].last_step = last;
	r->nkeys++;
	*out = &r->keys[i];
	return 0;
}

/* The step a point gets: `step`, or for CAIRN_STEP_AUTO one past the key's
 * last one.  Where the store can (store_default_steps) it counts that in
 * its insert transaction, after the last step any writer stored, and the
 * point keeps CAIRN_STEP_AUTO; else the handle counts from the last step
 * stored when it first logged the key.  Steps are 0..INT64_MAX, and there
 * is none after the last (caught here when this handle logged it, else by
 * the store's insert). */
static int next_step(cairn_store *s, const char *key, const keyent *k, int64_t step, int64_t *out)
{
	if (step == CAIRN_STEP_AUTO) {
		if (k->last_step == INT64_MAX)
			return err_set(CAIRN_EINVALID,
			               "metric '%s': no step after %lld, the largest there is", key,
			               (long long)k->last_step);
		*out = store_default_steps(s) ? CAIRN_STEP_AUTO : k->last_step + 1;
		return 0;
	}
	if (step < 0)
		return err_set(CAIRN_EINVALID, "metric '%s': negative step %lld", key,
		               (long long)step);
	*out = step;
	return 0;
}

/* A point's time in milliseconds: `timestamp` (seconds since the epoch), or
 * now for 0.  Anything else outside 1970..9999 is an error, not a wrapped
 * integer. */
static int timestamp_ms(cairn_store *s, const char *key, double timestamp, int64_t *out)
{
	if (timestamp == 0) {
		*out = store_now_ms(s);
		return 0;
	}
	if (!(timestamp > 0 && timestamp <= TIMESTAMP_MAX))
		return err_set(CAIRN_EINVALID,
		               "metric '%s': timestamp %g is out of range (seconds since 1970, "
		               "at most %.0f: the end of year 9999)",
		               key ? key : "", timestamp, TIMESTAMP_MAX);
	*out = (int64_t)llround(timestamp * 1000.0);
	return 0;
}

int cairn_run_log_metric(cairn_run *r, const char *key, double value, int64_t step,
                         double timestamp)
{
	if (!r || !key)
		return err_set(CAIRN_EINVALID, "no run or no metric key");
	keyent *k = NULL;
	pthread_mutex_lock(&r->mu);
	keys_fresh(r);
	int rc = key_slot(r, key, &k);
	if (rc) {
		pthread_mutex_unlock(&r->mu);
		return rc;
	}
	int64_t ts_ms;
	if ((rc = timestamp_ms(r->store, key, timestamp, &ts_ms)) != 0 ||
	    (rc = next_step(r->store, key, k, step, &step)) != 0) {
		pthread_mutex_unlock(&r->mu);
		return rc;
	}
	if (step > k->last_step)
		k->last_step = step;
	mpoint p = {r->rid, k->kid, step, ts_ms, value};
	pthread_mutex_unlock(&r->mu);
	return writer_append(r->store, &p);
}

int cairn_run_log_metrics(cairn_run *r, const char *const *keys, const double *values, size_t n,
                          int64_t step, double timestamp)
{
	if (!r || (n && (!keys || !values)))
		return err_set(CAIRN_EINVALID, "no run, no metric keys or no values");
	if (step != CAIRN_STEP_AUTO && step < 0)
		return err_set(CAIRN_EINVALID, "metrics: negative step %lld", (long long)step);
	int64_t ts_ms;
	int rc = timestamp_ms(r->store, n ? keys[0] : "", timestamp, &ts_ms);
	if (rc)
		return rc;
	mpoint stackpts[128], *pts = stackpts;
	if (n > sizeof stackpts / sizeof stackpts[0]) {
		if (n > SIZE_MAX / sizeof *pts || !(pts = malloc(n * sizeof *pts)))
			return err_set(CAIRN_ENOMEM, "out of memory");
	}
	keyent *k = NULL;
	pthread_mutex_lock(&r->mu);
	keys_fresh(r);
	/* Pass 1 interns every key (and may grow the table); nothing is changed
	 * that a failure would have to undo.  Pass 2 finds each key again — the
	 * table no longer moves — and takes its step. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!keys[i])
			rc = err_set(CAIRN_EINVALID, "metrics: key %zu is NULL", i);
		else
			rc = key_slot(r, keys[i], &k);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		key_slot(r, keys[i], &k);
		int64_t st;
		if ((rc = next_step(r->store, keys[i], k, step, &st)) != 0)
			break; /* no point is appended after an error */
		if (st > k->last_step)
			k->last_step = st;
		pts[i] = (mpoint){r->rid, k->kid, st, ts_ms, values[i]};
	}
	pthread_mutex_unlock(&r->mu);
	/* writer_append buffers the point even when it reports an earlier
	 * flush failure, so every point goes in and the first error comes out. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		int arc = writer_append(r->store, &pts[i]);
		if (arc && !rc)
			rc = arc;
	}
	if (pts != stackpts)
		free(pts);
	return rc;
}

int cairn_run_flush(cairn_run *r)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	return writer_flush(r->store);
}

/* --- params, tags, properties, note ------------------------------------------ */

static int check_value(const char *key, const cairn_value *v)
{
	if (!v)
		return err_set(CAIRN_EINVALID, "param '%s' has no value", key);
	if (v->type < CAIRN_TYPE_INT || v->type > CAIRN_TYPE_STRING)
		return err_set(CAIRN_EINVALID, "param '%s' has an unknown type", key);
	if (v->type == CAIRN_TYPE_STRING) {
		if (!v->s)
			return err_set(CAIRN_EINVALID, "param '%s' has no value", key);
		if (strlen(v->s) > TEXT_VALUE_MAX)
			return err_set(CAIRN_ETOOBIG,
			               "param '%s' value too long (%zu bytes, at most %d)", key,
			               strlen(v->s), TEXT_VALUE_MAX);
	}
	return 0;
}

static int param_put(cairn_run *r, const char *key, const cairn_value *v, bool overwrite)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	int rc = cairn_key_validate(key, "param key");
	if (rc || (rc = check_value(key, v)) != 0)
		return rc;
	return store_param_put(r->store, r->rid, key, v, overwrite);
}

int cairn_run_log_param(cairn_run *r, const char *key, const cairn_value *v)
{
	return param_put(r, key, v, false);
}

int cairn_run_set_param(cairn_run *r, const char *key, const cairn_value *v)
{
	return param_put(r, key, v, true);
}

int cairn_run_log_param_text(cairn_run *r, const char *key, const char *text)
{
	cairn_value v;
	cairn_value_parse(&v, text ? text : "");
	return param_put(r, key, &v, false);
}

static int params_put_many(cairn_run *r, const char *const *keys, const cairn_value *values,
                           size_t n, bool overwrite)
{
	if (!r || (n && (!keys || !values)))
		return err_set(CAIRN_EINVALID, "no run, no param keys or no values");
	/* Everything is checked before the one transaction starts. */
	for (size_t i = 0; i < n; i++) {
		int rc = cairn_key_validate(keys[i], "param key");
		if (rc || (rc = check_value(keys[i], &values[i])) != 0)
			return rc;
	}
	return store_params_put_many(r->store, r->rid, keys, values, n, overwrite);
}

int cairn_run_log_params(cairn_run *r, const char *const *keys, const cairn_value *values, size_t n)
{
	return params_put_many(r, keys, values, n, false);
}

int cairn_run_set_params(cairn_run *r, const char *const *keys, const cairn_value *values, size_t n)
{
	return params_put_many(r, keys, values, n, true);
}

int cairn_run_set_tag(cairn_run *r, const char *tag)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	if (!tag)
		return err_set(CAIRN_EINVALID, "empty tag");
	char *key;
	const char *value;
	int rc = store_tag_split(tag, &key, &value);
	/* the text form is one word before any '=' (listings join tags with
	 * ','); the value may hold anything */
	if (rc == 0)
		rc = cairn_tag_validate(key ? key : tag);
	if (rc == 0)
		rc = cairn_run_set_tag_value(r, key ? key : tag, value);
	free(key);
	return rc;
}

int cairn_run_set_tag_value(cairn_run *r, const char *key, const char *value)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	int rc = cairn_key_validate(key, "tag");
	if (rc)
		return rc;
	if (strchr(key, '='))
		return err_set(CAIRN_EINVALID,
		               "tag '%s' contains '=' (it separates a tag from its value)", key);
	if (value) {
		size_t n = strlen(value), at;
		if (n > TEXT_VALUE_MAX)
			return err_set(CAIRN_ETOOBIG,
			               "tag '%s' value too long (%zu bytes, at most %d)", key, n,
			               TEXT_VALUE_MAX);
		if (!utf8_valid(value, n, &at))
			return err_set(CAIRN_EINVALID,
			               "tag '%s' value is not valid UTF-8 (at byte %zu)", key, at);
	}
	return store_tag_put(r->store, r->rid, key, value, false);
}

int cairn_run_remove_tag(cairn_run *r, const char *tag)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	int rc = cairn_key_validate(tag, "tag");
	return rc ? rc : store_tag_put(r->store, r->rid, tag, NULL, true);
}

int cairn_run_set_property(cairn_run *r, const char *key, const char *value)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	int rc = cairn_key_validate(key, "property key");
	if (rc)
		return rc;
	if (!value)
		return err_set(CAIRN_EINVALID, "property '%s' has no value", key);
	if (strlen(value) > TEXT_VALUE_MAX)
		return err_set(CAIRN_ETOOBIG, "property '%s' value too long (at most %d bytes)",
		               key, TEXT_VALUE_MAX);
	return store_property_put(r->store, r->rid, key, value);
}

int cairn_run_set_note(cairn_run *r, const char *text)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	if (text && strlen(text) > NOTE_MAX)
		return err_set(CAIRN_ETOOBIG, "note too long (at most %d bytes)", NOTE_MAX);
	return store_run_set_text(r->store, r->rid, "note", text ? text : "");
}

int cairn_run_set_name(cairn_run *r, const char *name)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	int rc = cairn_key_validate(name, "run name");
	if (rc)
		return rc;
	rc = store_run_set_text(r->store, r->rid, "name", name);
	if (rc == 0) {
		char *n = strdup(name);
		if (n) {
			free(r->name);
			r->name = n;
		}
	}
	return rc;
}

/* --- lifecycle ----------------------------------------------------------------- */

int cairn_run_heartbeat(cairn_run *r)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	return store_heartbeat(r->store, r->rid, store_now(r->store));
}

int cairn_run_finish(cairn_run *r, cairn_status status, int exit_code)
{
	if (!r)
		return err_set(CAIRN_EINVALID, "no run");
	if (status == CAIRN_STATUS_RUNNING || status > CAIRN_STATUS_PRUNED)
		return err_set(CAIRN_EINVALID, "a run cannot finish with status '%s'",
		               cairn_status_name(status));
	int frc = writer_flush(r->store);
	int rc = store_run_finish(r->store, r->rid, status, exit_code, store_now(r->store));
	return rc ? rc : frc;
}

/* --- reading ------------------------------------------------------------------- */

static int finish_json(char **out, buf *b, int rc)
{
	if (rc) {
		buf_free(b);
		return rc;
	}
	*out = buf_detach(b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

int cairn_run_get_json(char **out, cairn_store *s, const char *id)
{
	int64_t rid;
	char full[33];
	buf b = BUF_INIT;
	*out = NULL;
	writer_flush(s);
	int rc = store_run_lookup(s, id, false, &rid, full);
	if (rc == 0)
		rc = store_run_json(s, rid, true, &b);
	return finish_json(out, &b, rc);
}

int cairn_run_list_json(char **out, cairn_store *s, const cairn_list_options *o)
{
	cairn_list_options def = CAIRN_LIST_OPTIONS_INIT;
	buf b = BUF_INIT;
	*out = NULL;
	if (!o)
		o = &def;
	writer_flush(s);
	return finish_json(out, &b, store_run_list_json(s, o, &b));
}

int cairn_run_metric_history_json(char **out, cairn_store *s, const char *id, const char *key)
{
	int64_t rid;
	char full[33];
	buf b = BUF_INIT;
	*out = NULL;
	writer_flush(s);
	int rc = store_run_lookup(s, id, false, &rid, full);
	if (rc == 0)
		rc = store_metric_history_json(s, rid, key, &b);
	return finish_json(out, &b, rc);
}

int cairn_run_delete(cairn_store *s, const char *id, int purge)
{
	int64_t rid;
	char full[33];
	buf orphans = BUF_INIT;
	writer_flush(s);
	int rc = store_run_lookup(s, id, purge != 0, &rid, full);
	if (rc)
		return rc;
	/* Purge: the rows go in one transaction, the files the run alone used
	 * in a second one that checks each is still unreferenced (a writer may
	 * have referenced the same bytes in between).  A crash between the two
	 * leaves unreferenced files: garbage, never a dangling reference. */
	rc = store_run_delete(s, rid, purge != 0, &orphans);
	if (rc == 0 && purge && (rc = store_objects_sweep(s, &orphans, NULL)) != 0)
		err_wrap(rc, "run '%s' was purged, but the files of its objects were left in place",
		         full);
	buf_free(&orphans);
	return rc;
}
