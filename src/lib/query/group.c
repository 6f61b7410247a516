/*
 * lib/query/group.c — grouping the matches by a field (store_query_group,
 * cairn_query_group, `cairn ls --group F`), and the group result's accessors
 * and JSON (cairn_query_group_json is written from the typed result).
 *
 * One group per distinct value of F among the matches (typed: 1 and 1.0
 * differ), ordered like an ascending sort, then the matches without F as a
 * last group; each with its count and the min/mean/max of a metric over its
 * non-NaN values.  Two passes of the store, neither returning a row per run:
 * group_values numbers the distinct values and writes each match's group
 * number into an array indexed by rid; group_stats adds each metric value to
 * its run's group (store_group_add, which prefetches the run's slot and adds
 * the value a few values later: store_group_flush adds the last ones).
 *
 * A cairn_group_result owns one arena holding its groups and every string
 * (the values' text is copied out of the planner's memory, which the query
 * context frees); it is immutable once built, so it may be read from several
 * threads.
 */
#include "lib/query/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/backend.h"
#include "lib/store/record.h"
#include "util/arena.h"
#include "util/json.h"

struct cairn_group_result {
	arena mem;
	int64_t total;
	const char *field, *metric; /* metric: NULL when none */
	bool param;                 /* grouped by a param: values keep their type in JSON */
	cairn_group *groups;
	size_t n;
};

typedef struct group {
	sval v;
	int32_t id; /* group number, -1: runs without the field */
	int64_t count;
	gstat st;
} group;

/* The distinct values group_values reports, in its order. */
typedef struct pending {
	struct {
		sval v;
		int32_t id;
	} * p;
	size_t n, cap;
} pending;

static int collect_value(void *arg, const sval *v, int32_t id)
{
	pending *pd = arg;
	if (pd->n == pd->cap) {
		size_t cap = pd->cap ? pd->cap * 2 : 16;
		void *n = realloc(pd->p, cap * sizeof *pd->p);
		if (!n)
			return err_set(CAIRN_ENOMEM, "out of memory");
		pd->p = n;
		pd->cap = cap;
	}
	pd->p[pd->n].v = *v;
	pd->p[pd->n++].id = id;
	return 0;
}

/* A group's value as the public type: a param's own type, a number's
 * (integer or float), text; NaN is a float. */
static int typed_value(cairn_group_result *res, const sval *v, cairn_value *out)
{
	memset(out, 0, sizeof *out);
	switch (v->cls) {
	case V_NUM:
		if (v->type == CAIRN_TYPE_BOOL) {
			out->type = CAIRN_TYPE_BOOL;
			out->i = v->i != 0;
		} else if (v->is_int && v->type != CAIRN_TYPE_FLOAT) {
			out->type = CAIRN_TYPE_INT;
			out->i = v->i;
		} else {
			out->type = CAIRN_TYPE_FLOAT;
			out->f = v->d;
		}
		return 0;
	case V_TEXT:
		out->type = CAIRN_TYPE_STRING;
		out->s = arena_strndup(&res->mem, v->s, strlen(v->s));
		return out->s ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
	case V_NAN:
		out->type = CAIRN_TYPE_FLOAT;
		out->f = NAN;
		return 0;
	default: return 0; /* CAIRN_TYPE_NONE */
	}
}

/* A value as run objects write it: a param through record_json_param (a
 * non-finite float as {"$float": …}, a float keeping its ".0"), any other
 * field's float as json_num does (non-finite: the string "NaN"). */
static void put_value(buf *b, const cairn_group_result *res, const cairn_value *v)
{
	if (res->param && v->type != CAIRN_TYPE_NONE) {
		record_json_param(b, v);
		return;
	}
	switch (v->type) {
	case CAIRN_TYPE_BOOL: json_bool(b, v->i != 0); break;
	case CAIRN_TYPE_INT: json_int(b, v->i); break;
	case CAIRN_TYPE_FLOAT: json_num(b, v->f); break;
	case CAIRN_TYPE_STRING: json_str(b, v->s); break;
	default: buf_puts(b, "null");
	}
}

int group_result_json(const cairn_group_result *res, buf *b)
{
	buf_puts(b, "{\"total\":");
	json_int(b, res->total);
	buf_puts(b, ",\"group_by\":");
	json_str(b, res->field);
	buf_puts(b, ",\"metric\":");
	json_str(b, res->metric);
	buf_puts(b, ",\"groups\":[");
	for (size_t k = 0; k < res->n; k++) {
		const cairn_group *gr = &res->groups[k];
		if (k)
			buf_putc(b, ',');
		buf_puts(b, "{\"value\":");
		put_value(b, res, &gr->value);
		if (gr->missing)
			buf_puts(b, ",\"missing\":true");
		buf_puts(b, ",\"count\":");
		json_int(b, gr->count);
		buf_puts(b, ",\"metric\":");
		json_str(b, res->metric);
		buf_puts(b, ",\"values\":");
		json_int(b, gr->values);
		static const char *const names[] = {",\"min\":", ",\"mean\":", ",\"max\":"};
		double vals[] = {gr->min, gr->mean, gr->max};
		for (int j = 0; j < 3; j++) {
			buf_puts(b, names[j]);
			if (gr->values)
				json_num(b, vals[j]);
			else
				buf_puts(b, "null");
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	return buf_ok(b) ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

/* The result of the sorted groups (the missing group at groups[ng], kept
 * when it has runs). */
static int make_result(cairn_group_result **out, const qfield *gf, const qfield *mf, int64_t total,
                       const group *groups, size_t ng)
{
	char name[320];
	cairn_group_result *res = calloc(1, sizeof *res);
	if (!res)
		return err_set(CAIRN_ENOMEM, "out of memory");
	res->total = total;
	res->param = gf->kind == QK_PARAM;
	qfield_name(name, sizeof name, gf);
	res->field = arena_strndup(&res->mem, name, strlen(name));
	if (mf) {
		qfield_name(name, sizeof name, mf);
		res->metric = arena_strndup(&res->mem, name, strlen(name));
	}
	size_t n = ng + (groups[ng].count > 0);
	res->groups = arena_zalloc(&res->mem, (n ? n : 1) * sizeof *res->groups);
	if (res->mem.oom) {
		cairn_group_result_free(res);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < n; k++) {
		const group *gr = &groups[k];
		cairn_group *o = &res->groups[k];
		int rc = typed_value(res, &gr->v, &o->value);
		if (rc) {
			cairn_group_result_free(res);
			return rc;
		}
		o->missing = k == ng;
		o->count = gr->count;
		o->values = gr->st.nvals;
		o->min = gr->st.nvals ? gr->st.min : NAN;
		o->max = gr->st.nvals ? gr->st.max : NAN;
		o->mean = gr->st.nvals ? gr->st.sum / (double)gr->st.nvals : NAN;
	}
	res->n = n;
	*out = res;
	return 0;
}

static int cmp_groups(const void *a, const void *b)
{
	const group *x = a, *y = b;
	return cmp_val(&x->v, &y->v, false);
}

/* The groups of the reported values: their sizes from the group numbers;
 * a V_MISSING value (a row without a value) sends its runs to the missing
 * group.  *grouped: the runs in some group. */
static int make_groups(store_groups *g, const pending *pd, group **out, size_t *nout,
                       int64_t *grouped)
{
	int64_t *counts = calloc((size_t)g->ngroups + 1, sizeof *counts);
	group *groups = malloc((pd->n + 1) * sizeof *groups);
	if (!counts || !groups) {
		free(counts);
		free(groups);
		return err_set(CAIRN_ENOMEM, "out of memory");
	}
	for (int64_t r = 0; r <= g->maxrid; r++)
		if (g->gid[r] >= 0)
			counts[g->gid[r]]++;
	size_t ng = 0;
	*grouped = 0;
	for (size_t k = 0; k < pd->n; k++) {
		int32_t id = pd->p[k].id;
		if (pd->p[k].v.cls == V_MISSING) {
			for (int64_t r = 0; r <= g->maxrid; r++)
				if (g->gid[r] == id)
					g->gid[r] = GID_NONE;
			continue;
		}
		memset(&groups[ng], 0, sizeof groups[ng]);
		groups[ng].v = pd->p[k].v;
		groups[ng].id = id;
		groups[ng].count = counts[id];
		*grouped += counts[id];
		ng++;
	}
	free(counts);
	*out = groups;
	*nout = ng;
	return 0;
}

int64_t store_group_bg_min = 65536;

int store_query_group(cairn_store *s, const store_query *sq, const qfield *gf, const qfield *mf,
                      cairn_group_result **out)
{
	qplan q;
	rset M = {0};
	store_groups g = {0};
	store_group_bg *bg = NULL;
	pending pd = {0};
	group *groups = NULL;
	size_t ng = 0;
	int rc;
	*out = NULL;
	if (s->ops->query_group) /* the backend runs queries itself (remote) */
		return s->ops->query_group(s, sq, out);
	if ((rc = plan_open(&q, s)) != 0)
		goto done;
	if ((rc = plan_match(&q, sq, &M)) != 0)
		goto done;
	int64_t total = rset_count(&M);
	store_key gk = {.f = *gf};
	if ((rc = q.ops->key_prepare(q.c, &gk)) != 0)
		goto done;
	g.maxrid = q.info.maxrid;
	g.gid = malloc(((size_t)g.maxrid + 1) * sizeof *g.gid);
	if (!g.gid) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	for (int64_t i = 0; i <= g.maxrid; i++)
		g.gid[i] = rset_has(&M, i) ? GID_NONE : GID_OUT;
	/* pass 2 begins beside pass 1 on a big store (a connection of its own,
	 * so not inside a keyed write: that connection would miss its writes) */
	store_key mk = {0};
	if (mf) {
		mk.f = *mf;
		if ((rc = q.ops->key_prepare(q.c, &mk)) != 0)
			goto done;
		if (q.ops->group_stats_begin && !s->hold && g.maxrid >= store_group_bg_min &&
		    (rc = q.ops->group_stats_begin(q.c, &mk, g.maxrid, &bg)) != 0)
			goto done;
	}
	/* pass 1: the groups, and each match's group number */
	if ((rc = q.ops->group_values(q.c, &gk, &g, collect_value, &pd)) != 0)
		goto done;
	int64_t grouped = 0;
	if ((rc = make_groups(&g, &pd, &groups, &ng, &grouped)) != 0)
		goto done;
	/* pass 2: the metric's values into their runs' groups */
	g.stats = calloc((size_t)g.ngroups + 1, sizeof *g.stats);
	if (!g.stats) {
		rc = err_set(CAIRN_ENOMEM, "out of memory");
		goto done;
	}
	if (mf) {
		if (bg) {
			rc = q.ops->group_stats_end(q.c, bg, &g);
			bg = NULL;
		} else {
			rc = q.ops->group_stats(q.c, &mk, &g);
		}
		if (rc)
			goto done;
		store_group_flush(&g);
	}
	/* the runs without the field form the last group */
	memset(&groups[ng], 0, sizeof groups[ng]);
	groups[ng].v.cls = V_MISSING;
	groups[ng].id = -1;
	groups[ng].count = total - grouped;
	for (size_t k = 0; k <= ng; k++)
		groups[k].st = g.stats[groups[k].id < 0 ? g.ngroups : groups[k].id];
	qsort(groups, ng, sizeof *groups, cmp_groups);
	rc = make_result(out, gf, mf, total, groups, ng);
done:
	if (bg)
		q.ops->group_stats_end(q.c, bg, NULL);
	free(pd.p);
	free(g.gid);
	free(g.stats);
	free(groups);
	rset_free(&M);
	plan_close(&q);
	return rc;
}

/* --- the result's accessors ---------------------------------------------------- */

int64_t cairn_group_result_total(const cairn_group_result *g)
{
	return g ? g->total : 0;
}

const char *cairn_group_result_field(const cairn_group_result *g)
{
	return g ? g->field : NULL;
}

const char *cairn_group_result_metric(const cairn_group_result *g)
{
	return g ? g->metric : NULL;
}

size_t cairn_group_result_count(const cairn_group_result *g)
{
	return g ? g->n : 0;
}

const cairn_group *cairn_group_result_get(const cairn_group_result *g, size_t i)
{
	return g && i < g->n ? &g->groups[i] : NULL;
}

cairn_group_result *group_result_new(int64_t total, const char *field, const char *metric,
                                     bool param, size_t n)
{
	cairn_group_result *res = calloc(1, sizeof *res);
	if (!res)
		return NULL;
	res->total = total;
	res->param = param;
	res->field = field ? arena_strndup(&res->mem, field, strlen(field)) : NULL;
	res->metric = metric ? arena_strndup(&res->mem, metric, strlen(metric)) : NULL;
	res->groups = arena_zalloc(&res->mem, (n ? n : 1) * sizeof *res->groups);
	res->n = n;
	if (res->mem.oom) {
		cairn_group_result_free(res);
		return NULL;
	}
	return res;
}

cairn_group *group_result_at(cairn_group_result *g, size_t i)
{
	return i < g->n ? &g->groups[i] : NULL;
}

const char *group_result_text(cairn_group_result *g, const char *s)
{
	return s ? arena_strndup(&g->mem, s, strlen(s)) : NULL;
}

bool group_result_param(const cairn_group_result *g)
{
	return g->param;
}

void cairn_group_result_free(cairn_group_result *g)
{
	if (!g)
		return;
	arena_free(&g->mem);
	free(g);
}
