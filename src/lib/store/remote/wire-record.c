/*
 * lib/store/remote/wire-record.c — run records (lib/store/record.h) in the
 * remote protocol: the server writes each record of a loaded batch
 * (wire_record_put), the client reads them into a batch of its own
 * (wire_record_get), every string copied into the batch's arena and every
 * array in the order the server sorted it (by key), so the client's
 * lookups bisect as the server's do.  The layout is in
 * docs/internals/remote.md, "Records".
 */
#include <stdio.h>
#include <string.h>

#include "lib/store/record.h"
#include "lib/store/remote/wire.h"

enum {
	F_START = 1,
	F_END = 2,
	F_HEARTBEAT = 4,
	F_EXIT = 8,
	F_DELETED = 16,
	F_CODE = 32,
	F_ARTIFACTS = 64,
};

void wire_record_put(buf *b, const cairn_run_record *r)
{
	w_str(b, r->id);
	w_i64(b, r->seq);
	w_i64(b, r->pid);
	w_str(b, r->name);
	w_str(b, r->project);
	w_str(b, r->command);
	w_str(b, r->cwd);
	w_str(b, r->host);
	w_str(b, r->user);
	w_str(b, r->note);
	w_str(b, r->parent);
	w_i64(b, r->children);
	w_u8(b, (uint8_t)r->status);
	w_f64(b, r->start_time);
	w_f64(b, r->end_time);
	w_f64(b, r->heartbeat);
	w_u8(b, (uint8_t)((r->has_start ? F_START : 0) | (r->has_end ? F_END : 0) |
	                  (r->has_heartbeat ? F_HEARTBEAT : 0) | (r->has_exit_code ? F_EXIT : 0) |
	                  (r->deleted ? F_DELETED : 0) | (r->has_code ? F_CODE : 0) |
	                  (r->with_artifacts ? F_ARTIFACTS : 0)));
	w_i64(b, r->exit_code);
	w_str(b, r->code.commit);
	w_str(b, r->code.branch);
	w_str(b, r->code.remote);
	w_i64(b, r->code.dirty);
	w_str(b, r->code.snapshot);
	w_str(b, r->env_oid);
	w_u32(b, (uint32_t)r->nparams);
	for (size_t i = 0; i < r->nparams; i++) {
		w_str(b, r->params[i].key);
		w_value(b, &r->params[i].v);
	}
	w_u32(b, (uint32_t)r->nmetrics);
	for (size_t i = 0; i < r->nmetrics; i++) {
		const rec_metric *m = &r->metrics[i];
		w_str(b, m->m.key);
		w_f64(b, m->m.last);
		w_f64(b, m->m.min);
		w_f64(b, m->m.max);
		w_i64(b, m->m.count);
		w_i64(b, m->m.step);
		w_i64(b, m->ts_ms);
		w_u8(b, (uint8_t)((m->min_null ? 1 : 0) | (m->max_null ? 2 : 0)));
	}
	w_u32(b, (uint32_t)r->ntags);
	/* a tag travels as its text, "key" or "key=value" (keys hold no '=') */
	for (size_t i = 0; i < r->ntags; i++) {
		if (!r->tags[i].value) {
			w_str(b, r->tags[i].key);
			continue;
		}
		buf t = BUF_INIT;
		buf_printf(&t, "%s=%s", r->tags[i].key, r->tags[i].value);
		w_str(b, t.ptr);
		buf_free(&t);
	}
	w_u32(b, (uint32_t)r->nprops);
	for (size_t i = 0; i < r->nprops; i++) {
		w_str(b, r->props[i].key);
		w_str(b, r->props[i].value);
	}
	w_u32(b, (uint32_t)r->ndatasets);
	for (size_t i = 0; i < r->ndatasets; i++) {
		const cairn_run_dataset *d = &r->datasets[i];
		w_str(b, d->name);
		w_str(b, d->path);
		w_str(b, d->role);
		w_str(b, d->algo);
		w_str(b, d->digest);
		w_i64(b, d->files);
		w_i64(b, d->bytes);
		w_str(b, d->manifest);
	}
	w_u32(b, (uint32_t)r->nartifacts);
	for (size_t i = 0; i < r->nartifacts; i++) {
		const cairn_run_artifact *a = &r->artifacts[i];
		w_str(b, a->path);
		w_str(b, a->digest);
		w_i64(b, a->size);
		w_str(b, a->media_type);
		w_str(b, a->kind);
		w_str(b, a->key);
		w_i64(b, a->step);
	}
}

static const char *cp(arena *a, wr *r)
{
	const char *s = r_str(r);
	return s ? rec_strndup(a, s, strlen(s)) : NULL;
}

static void *arr(arena *a, wr *r, size_t each_min, size_t es, size_t *n)
{
	*n = r_count(r, each_min);
	if (*n == 0)
		return NULL;
	return arena_zalloc(a, *n * es);
}

int wire_record_get(wr *r, rec_batch *bt, cairn_run_record *rec)
{
	arena *a = &bt->arena;
	memset(rec, 0, sizeof *rec);
	rec->batch = bt;
	const char *id = r_text(r);
	snprintf(rec->id, sizeof rec->id, "%s", id);
	rec->seq = r_i64(r);
	rec->pid = r_i64(r);
	rec->name = cp(a, r);
	rec->project = cp(a, r);
	rec->command = cp(a, r);
	rec->cwd = cp(a, r);
	rec->host = cp(a, r);
	rec->user = cp(a, r);
	rec->note = cp(a, r);
	if (!rec->note)
		rec->note = "";
	rec->parent = cp(a, r);
	rec->children = r_i64(r);
	rec->status = (cairn_status)r_u8(r);
	rec->start_time = r_f64(r);
	rec->end_time = r_f64(r);
	rec->heartbeat = r_f64(r);
	uint8_t f = r_u8(r);
	rec->has_start = f & F_START;
	rec->has_end = f & F_END;
	rec->has_heartbeat = f & F_HEARTBEAT;
	rec->has_exit_code = f & F_EXIT;
	rec->deleted = f & F_DELETED;
	rec->has_code = f & F_CODE;
	rec->with_artifacts = f & F_ARTIFACTS;
	rec->exit_code = r_i64(r);
	rec->code.commit = cp(a, r);
	rec->code.branch = cp(a, r);
	rec->code.remote = cp(a, r);
	rec->code.dirty = (int)r_i64(r);
	rec->code.snapshot = cp(a, r);
	rec->env_oid = cp(a, r);
	rec_param *ps = arr(a, r, 5, sizeof *ps, &rec->nparams);
	for (size_t i = 0; i < rec->nparams && ps; i++) {
		ps[i].key = cp(a, r);
		r_value(r, &ps[i].v);
		if (ps[i].v.type == CAIRN_TYPE_STRING)
			ps[i].v.s = rec_strndup(a, ps[i].v.s, strlen(ps[i].v.s));
	}
	rec->params = ps;
	rec_metric *ms = arr(a, r, 53, sizeof *ms, &rec->nmetrics);
	for (size_t i = 0; i < rec->nmetrics && ms; i++) {
		rec_metric *m = &ms[i];
		m->m.key = cp(a, r);
		m->m.last = r_f64(r);
		m->m.min = r_f64(r);
		m->m.max = r_f64(r);
		m->m.count = r_i64(r);
		m->m.step = r_i64(r);
		m->ts_ms = r_i64(r);
		m->m.timestamp = (double)m->ts_ms / 1000.0;
		uint8_t nf = r_u8(r);
		m->min_null = nf & 1;
		m->max_null = nf & 2;
	}
	rec->metrics = ms;
	const char **texts = arr(a, r, 5, sizeof *texts, &rec->ntags);
	rec_prop *tags =
	    texts ? arena_alloc(a, (rec->ntags ? rec->ntags : 1) * sizeof *tags) : NULL;
	size_t tl = 0;
	for (size_t i = 0; i < rec->ntags && texts; i++) {
		texts[i] = cp(a, r);
		tl += texts[i] ? strlen(texts[i]) + 1 : 1;
	}
	for (size_t i = 0; i < rec->ntags && tags; i++) {
		const char *eq = texts[i] ? strchr(texts[i], '=') : NULL;
		tags[i].key = texts[i] ? texts[i] : "";
		tags[i].value = NULL;
		if (eq) {
			char *k = arena_alloc(a, (size_t)(eq - texts[i]) + 1);
			if (k) {
				memcpy(k, texts[i], (size_t)(eq - texts[i]));
				k[eq - texts[i]] = '\0';
				tags[i].key = k;
				tags[i].value = eq + 1;
			}
		}
	}
	rec->tags = tags;
	char *j = arena_alloc(a, tl + 1), *p = j;
	if (j) {
		for (size_t i = 0; i < rec->ntags && texts && texts[i]; i++) {
			size_t l = strlen(texts[i]);
			if (i)
				*p++ = ',';
			memcpy(p, texts[i], l);
			p += l;
		}
		*p = '\0';
	}
	rec->tags_joined = j;
	rec_prop *pr = arr(a, r, 8, sizeof *pr, &rec->nprops);
	for (size_t i = 0; i < rec->nprops && pr; i++) {
		pr[i].key = cp(a, r);
		pr[i].value = cp(a, r);
	}
	rec->props = pr;
	cairn_run_dataset *ds = arr(a, r, 40, sizeof *ds, &rec->ndatasets);
	for (size_t i = 0; i < rec->ndatasets && ds; i++) {
		ds[i].name = cp(a, r);
		ds[i].path = cp(a, r);
		ds[i].role = cp(a, r);
		ds[i].algo = cp(a, r);
		ds[i].digest = cp(a, r);
		ds[i].files = r_i64(r);
		ds[i].bytes = r_i64(r);
		ds[i].manifest = cp(a, r);
	}
	rec->datasets = ds;
	cairn_run_artifact *as = arr(a, r, 36, sizeof *as, &rec->nartifacts);
	for (size_t i = 0; i < rec->nartifacts && as; i++) {
		as[i].path = cp(a, r);
		as[i].digest = cp(a, r);
		as[i].size = r_i64(r);
		as[i].media_type = cp(a, r);
		as[i].kind = cp(a, r);
		as[i].key = cp(a, r);
		as[i].step = r_i64(r);
	}
	rec->artifacts = as;
	if (a->oom)
		return err_set(CAIRN_ENOMEM, "out of memory");
	return wr_check(r, false, "run record");
}
