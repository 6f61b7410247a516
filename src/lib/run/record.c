/*
 * lib/run/record.c — the public record API (cairn/record.h): one run by
 * name, the query iterator, the accessors, and a query-language field's
 * value read out of a record.
 *
 * The iterator fixes the page of matching run ids when it is made (the
 * planner's store_query_page, one read transaction for count and ids) and
 * loads records STORE_RECORD_BATCH at a time (store_records_load), each
 * batch in its own short read: the store is never held between calls, so
 * a slow consumer does not block writers.  The iterator holds one
 * reference on its current batch and every record it yields holds one
 * more (lib/store/record.h).  Not thread-safe per iterator.  Its records
 * written as JSON by several threads: iter-json.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/query/query.h"
#include "lib/store/query.h"
#include "lib/store/record.h"
#include "lib/store/store.h"
#include "lib/run/iter.h"
#include "lib/run/run.h"

/* --- one run ------------------------------------------------------------------- */

int cairn_run_record_get(cairn_run_record **out, cairn_store *s, const char *id, unsigned flags)
{
	int64_t rid;
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	rec_batch *bt = NULL;
	*out = NULL;
	if (!s || !id)
		return err_set(CAIRN_EINVALID, "no store or run");
	writer_flush(s);
	int rc = store_run_lookup(s, id, (flags & CAIRN_RECORD_DELETED) != 0, &rid, full);
	if (rc == 0)
		rc = store_records_load(s, &rid, 1, (flags & CAIRN_RECORD_ARTIFACTS) != 0, &bt);
	if (rc)
		return rc;
	if (bt->n == 0) {
		rec_batch_unref(bt);
		return err_set(CAIRN_ENOTFOUND, "run not found");
	}
	*out = &bt->recs[0]; /* the loader's reference becomes the record's */
	return 0;
}

void cairn_run_record_free(cairn_run_record *r)
{
	if (!r)
		return;
	record_lazy_free(r);
	rec_batch_unref(r->batch);
}

int cairn_run_metric_raw_json(char **out, cairn_store *s, const char *id, const char *key)
{
	int64_t rid;
	char full[CAIRN_RUN_ID_HEXSZ + 1];
	buf b = BUF_INIT;
	*out = NULL;
	if (!s || !id || !key)
		return err_set(CAIRN_EINVALID, "no store, run or key");
	writer_flush(s);
	int rc = store_run_lookup(s, id, false, &rid, full);
	if (rc == 0)
		rc = store_metric_raw_json(s, rid, key, &b);
	if (rc == 0 && !(*out = buf_detach(&b)))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	buf_free(&b);
	return rc;
}

/* --- the iterator ------------------------------------------------------------------ */

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

int cairn_query_iter_new(cairn_run_iter **out, cairn_store *s, const cairn_query_options *o)
{
	int rc;
	*out = NULL;
	cairn_run_iter *it = calloc(1, sizeof *it);
	if (!it)
		return err_set(CAIRN_ENOMEM, "out of memory");
	it->store = s;
	it->total = -1;
	rc = query_compile(&it->c, s, o);
	it->compiled = true;
	if (rc == 0 && (rc = dup_opt(&it->text, it->c.sq.text)) == 0 &&
	    (rc = dup_opt(&it->sort_text, it->c.sq.sort_text)) == 0 &&
	    (rc = dup_opt(&it->project, it->c.sq.project)) == 0) {
		it->c.sq.text = it->text;
		it->c.sq.sort_text = it->sort_text;
		it->c.sq.project = it->project;
		/* the total is counted only when asked for: a page near the top of
		 * a big store is then found without every match */
		rc = store_query_page_at(s, &it->c.sq, &it->ids, &it->n, NULL, &it->after);
		it->c.sq.after = NULL; /* the caller's; the count needs no position */
	}
	if (rc) {
		cairn_run_iter_free(it);
		return rc;
	}
	*out = it;
	return 0;
}

int cairn_run_iter_next(cairn_run_record **out, cairn_run_iter *it)
{
	*out = NULL;
	if (!it)
		return err_set(CAIRN_EINVALID, "no iterator");
	for (;;) {
		if (it->batch && it->bpos < it->batch->n) {
			cairn_run_record *r = &it->batch->recs[it->bpos++];
			rec_batch_ref(it->batch);
			*out = r;
			return 0;
		}
		rec_batch_unref(it->batch);
		it->batch = NULL;
		if (it->next >= it->n)
			return CAIRN_ITEROVER;
		size_t cnt = it->n - it->next;
		if (cnt > STORE_RECORD_BATCH)
			cnt = STORE_RECORD_BATCH;
		int rc = store_records_load(it->store, it->ids + it->next, cnt, false, &it->batch);
		if (rc)
			return rc;
		it->next += cnt;
		it->bpos = 0;
	}
}

void cairn_run_iter_rewind(cairn_run_iter *it)
{
	if (!it)
		return;
	rec_batch_unref(it->batch);
	it->batch = NULL;
	it->bpos = 0;
	it->next = 0;
}

size_t cairn_run_iter_count(const cairn_run_iter *it)
{
	return it ? it->n : 0;
}

int64_t cairn_run_iter_total(const cairn_run_iter *cit)
{
	cairn_run_iter *it = (cairn_run_iter *)cit; /* the count is cached */
	if (!it)
		return 0;
	if (it->total < 0) {
		int64_t n = 0;
		if (store_query_count(it->store, &it->c.sq, &n) != 0) {
			cairn_error_clear();
			/* what the page shows is a lower bound */
			int64_t off = it->c.sq.offset > 0 ? it->c.sq.offset : 0;
			return off + (int64_t)it->n;
		}
		it->total = n;
	}
	return it->total;
}

int cairn_run_iter_after(char **out, const cairn_run_iter *it)
{
	if (!out)
		return err_set(CAIRN_EINVALID, "no result to fill");
	*out = NULL;
	if (!it)
		return err_set(CAIRN_EINVALID, "no iterator");
	if (it->after && !(*out = strdup(it->after)))
		return err_set(CAIRN_ENOMEM, "out of memory");
	return 0;
}

void cairn_run_iter_free(cairn_run_iter *it)
{
	if (!it)
		return;
	rec_batch_unref(it->batch);
	free(it->ids);
	if (it->compiled)
		query_compiled_free(&it->c);
	free(it->text);
	free(it->sort_text);
	free(it->project);
	free(it->after);
	free(it);
}

/* --- accessors ------------------------------------------------------------------------ */

const char *cairn_run_record_id(const cairn_run_record *r)
{
	return r->id;
}
int64_t cairn_run_record_seq(const cairn_run_record *r)
{
	return r->seq;
}
const char *cairn_run_record_name(const cairn_run_record *r)
{
	return r->name;
}
const char *cairn_run_record_project(const cairn_run_record *r)
{
	return r->project;
}
cairn_status cairn_run_record_status(const cairn_run_record *r)
{
	return r->status;
}
double cairn_run_record_start_time(const cairn_run_record *r)
{
	return r->has_start ? r->start_time : 0;
}
double cairn_run_record_end_time(const cairn_run_record *r)
{
	return r->has_end ? r->end_time : 0;
}
double cairn_run_record_heartbeat(const cairn_run_record *r)
{
	return r->has_heartbeat ? r->heartbeat : 0;
}
const char *cairn_run_record_command(const cairn_run_record *r)
{
	return r->command;
}
const char *cairn_run_record_cwd(const cairn_run_record *r)
{
	return r->cwd;
}
const char *cairn_run_record_host(const cairn_run_record *r)
{
	return r->host;
}
const char *cairn_run_record_user(const cairn_run_record *r)
{
	return r->user;
}
const char *cairn_run_record_parent(const cairn_run_record *r)
{
	return r->parent;
}
int64_t cairn_run_record_children(const cairn_run_record *r)
{
	return r ? r->children : 0;
}
const char *cairn_run_record_note(const cairn_run_record *r)
{
	return r->note;
}
int64_t cairn_run_record_pid(const cairn_run_record *r)
{
	return r->pid;
}
int cairn_run_record_deleted(const cairn_run_record *r)
{
	return r->deleted;
}

int cairn_run_record_exit_code(int64_t *out, const cairn_run_record *r)
{
	if (!r->has_exit_code)
		return CAIRN_ENOTFOUND;
	*out = r->exit_code;
	return 0;
}

const cairn_run_code *cairn_run_record_code(const cairn_run_record *r)
{
	return r->has_code ? &r->code : NULL;
}

const char *cairn_run_record_environment(const cairn_run_record *r)
{
	return record_env(r);
}

size_t cairn_run_record_environment_count(const cairn_run_record *r)
{
	size_t n;
	record_env_items(r, &n);
	return n;
}

const char *cairn_run_record_environment_item(const char **text, const cairn_run_record *r,
                                              size_t i)
{
	size_t n;
	const rec_prop *items = record_env_items(r, &n);
	if (i >= n)
		return NULL;
	if (text)
		*text = items[i].value;
	return items[i].key;
}

size_t cairn_run_record_param_count(const cairn_run_record *r)
{
	return r->nparams;
}

const char *cairn_run_record_param(cairn_value *value, const cairn_run_record *r, size_t i)
{
	if (i >= r->nparams)
		return NULL;
	if (value)
		*value = r->params[i].v;
	return r->params[i].key;
}

int cairn_run_record_param_get(cairn_value *value, const cairn_run_record *r, const char *key)
{
	const rec_param *p = record_param_find(r, key);
	if (!p)
		return CAIRN_ENOTFOUND;
	if (value)
		*value = p->v;
	return 0;
}

size_t cairn_run_record_metric_count(const cairn_run_record *r)
{
	return r->nmetrics;
}

const cairn_metric_summary *cairn_run_record_metric(const cairn_run_record *r, size_t i)
{
	return i < r->nmetrics ? &r->metrics[i].m : NULL;
}

const cairn_metric_summary *cairn_run_record_metric_get(const cairn_run_record *r, const char *key)
{
	const rec_metric *m = record_metric_find(r, key);
	return m ? &m->m : NULL;
}

size_t cairn_run_record_tag_count(const cairn_run_record *r)
{
	return r->ntags;
}

const char *cairn_run_record_tag(const cairn_run_record *r, size_t i)
{
	return i < r->ntags ? r->tags[i].key : NULL;
}

const char *cairn_run_record_tag_value(const cairn_run_record *r, size_t i)
{
	return i < r->ntags ? r->tags[i].value : NULL;
}

int cairn_run_record_has_tag(const cairn_run_record *r, const char *tag)
{
	return record_has_tag(r, tag);
}

size_t cairn_run_record_property_count(const cairn_run_record *r)
{
	return r->nprops;
}

const char *cairn_run_record_property(const char **value, const cairn_run_record *r, size_t i)
{
	if (i >= r->nprops)
		return NULL;
	if (value)
		*value = r->props[i].value;
	return r->props[i].key;
}

const char *cairn_run_record_property_get(const cairn_run_record *r, const char *key)
{
	const rec_prop *p = record_prop_find(r, key);
	return p ? p->value : NULL;
}

size_t cairn_run_record_dataset_count(const cairn_run_record *r)
{
	return r->ndatasets;
}

const cairn_run_dataset *cairn_run_record_dataset(const cairn_run_record *r, size_t i)
{
	return i < r->ndatasets ? &r->datasets[i] : NULL;
}

const cairn_run_dataset *cairn_run_record_dataset_get(const cairn_run_record *r, const char *name)
{
	return record_dataset_find(r, name);
}

size_t cairn_run_record_artifact_count(const cairn_run_record *r)
{
	return r->nartifacts;
}

const cairn_run_artifact *cairn_run_record_artifact(const cairn_run_record *r, size_t i)
{
	return i < r->nartifacts ? &r->artifacts[i] : NULL;
}

/* --- a field's value -------------------------------------------------------------------- */

static int v_str(cairn_value *out, const char *s)
{
	if (!s)
		return CAIRN_ENOTFOUND;
	out->type = CAIRN_TYPE_STRING;
	out->s = s;
	return 0;
}

static int v_int(cairn_value *out, int64_t i)
{
	out->type = CAIRN_TYPE_INT;
	out->i = i;
	return 0;
}

static int v_float(cairn_value *out, double f)
{
	out->type = CAIRN_TYPE_FLOAT;
	out->f = f;
	return 0;
}

static int attr_value(cairn_value *out, const cairn_run_record *r, const char *a)
{
	const cairn_run_code *c = r->has_code ? &r->code : NULL;
	if (strcmp(a, "id") == 0)
		return v_str(out, r->id);
	if (strcmp(a, "seq") == 0)
		return v_int(out, r->seq);
	if (strcmp(a, "name") == 0)
		return v_str(out, r->name);
	if (strcmp(a, "project") == 0)
		return v_str(out, r->project);
	if (strcmp(a, "status") == 0)
		return v_str(out, cairn_status_name(r->status));
	if (strcmp(a, "started") == 0)
		return r->has_start ? v_float(out, r->start_time) : CAIRN_ENOTFOUND;
	if (strcmp(a, "ended") == 0)
		return r->has_end && r->end_time > 0 ? v_float(out, r->end_time) : CAIRN_ENOTFOUND;
	if (strcmp(a, "duration") == 0) {
		if (r->has_end && r->end_time > 0)
			return v_float(out, r->end_time - r->start_time);
		if (r->status == CAIRN_STATUS_RUNNING)
			return v_float(out, r->loaded_at - r->start_time);
		/* a crashed run lasted until its last heartbeat */
		if (r->status == CAIRN_STATUS_CRASHED && !r->has_end && r->has_heartbeat)
			return v_float(out, r->heartbeat - r->start_time);
		return CAIRN_ENOTFOUND;
	}
	if (strcmp(a, "start_time") == 0)
		return r->has_start ? v_int(out, (int64_t)(r->start_time * 1000)) : CAIRN_ENOTFOUND;
	if (strcmp(a, "end_time") == 0)
		return r->has_end ? v_int(out, (int64_t)(r->end_time * 1000)) : CAIRN_ENOTFOUND;
	if (strcmp(a, "user") == 0)
		return v_str(out, r->user);
	if (strcmp(a, "host") == 0)
		return v_str(out, r->host);
	if (strcmp(a, "command") == 0)
		return v_str(out, r->command);
	if (strcmp(a, "note") == 0)
		return v_str(out, r->note);
	if (strcmp(a, "parent") == 0)
		return v_str(out, r->parent);
	if (strcmp(a, "children") == 0)
		return v_int(out, r->children);
	if (strcmp(a, "exit_code") == 0)
		return r->has_exit_code ? v_int(out, r->exit_code) : CAIRN_ENOTFOUND;
	if (strcmp(a, "commit") == 0)
		return v_str(out, c ? c->commit : NULL);
	if (strcmp(a, "branch") == 0)
		return v_str(out, c ? c->branch : NULL);
	if (strcmp(a, "remote") == 0)
		return v_str(out, c ? c->remote : NULL);
	if (strcmp(a, "dirty") == 0) {
		if (!c || c->dirty < 0)
			return CAIRN_ENOTFOUND;
		out->type = CAIRN_TYPE_BOOL;
		out->i = c->dirty;
		return 0;
	}
	return CAIRN_ENOTFOUND;
}

int cairn_run_record_field(cairn_value *out, const cairn_run_record *r, const cairn_field *f)
{
	memset(out, 0, sizeof *out);
	if (!r || !f || !f->key)
		return err_set(CAIRN_EINVALID, "no record or field");
	switch (f->kind) {
	case CAIRN_FIELD_METRIC: {
		const rec_metric *m = record_metric_find(r, f->key);
		if (!m)
			return CAIRN_ENOTFOUND;
		switch (f->part) {
		case CAIRN_METRIC_MIN: return v_float(out, m->m.min);
		case CAIRN_METRIC_MAX: return v_float(out, m->m.max);
		case CAIRN_METRIC_COUNT: return v_int(out, m->m.count);
		case CAIRN_METRIC_STEP: return v_int(out, m->m.step);
		default: return v_float(out, m->m.last);
		}
	}
	case CAIRN_FIELD_PARAM: return cairn_run_record_param_get(out, r, f->key);
	case CAIRN_FIELD_PROPERTY: return v_str(out, cairn_run_record_property_get(r, f->key));
	case CAIRN_FIELD_TAG: {
		const rec_prop *t = record_tag_find(r, f->key);
		if (!t)
			return CAIRN_ENOTFOUND;
		if (t->value)
			return v_str(out, t->value);
		out->type = CAIRN_TYPE_BOOL;
		out->i = 1;
		return 0;
	}
	case CAIRN_FIELD_TAGS: return r->ntags ? v_str(out, r->tags_joined) : CAIRN_ENOTFOUND;
	case CAIRN_FIELD_DATASET: {
		const cairn_run_dataset *d = record_dataset_find(r, f->key);
		if (!d)
			return CAIRN_ENOTFOUND;
		switch (f->part) {
		case CAIRN_DATASET_PATH: return v_str(out, d->path);
		case CAIRN_DATASET_ROLE: return v_str(out, d->role);
		case CAIRN_DATASET_ALGO: return v_str(out, d->algo);
		case CAIRN_DATASET_FILES: return v_int(out, d->files);
		case CAIRN_DATASET_BYTES: return v_int(out, d->bytes);
		default: return v_str(out, d->digest);
		}
	}
	case CAIRN_FIELD_ATTRIBUTE: return attr_value(out, r, f->key);
	case CAIRN_FIELD_FILES: {
		/* a set has no one value: how many paths (the paths themselves
		 * are the datasets' and artifacts'; wrote counts artifacts only
		 * in records loaded with them) */
		bool wrote = f->part == CAIRN_FILES_WROTE;
		int64_t n = 0;
		for (size_t i = 0; i < r->ndatasets; i++)
			n += strcmp(r->datasets[i].role, wrote ? "output" : "input") == 0;
		for (size_t i = 0; wrote && i < r->nartifacts; i++)
			n += !cairn_artifact_is_capture(r->artifacts[i].kind);
		return n ? v_int(out, n) : CAIRN_ENOTFOUND;
	}
	}
	return CAIRN_ENOTFOUND;
}
