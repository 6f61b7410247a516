/*
 * lib/query/group.c — grouping the matches by a field (store_query_group_json,
 * `cairn ls --group F`).
 *
 * One group per distinct value of F among the matches (typed: 1 and 1.0
 * differ), ordered like an ascending sort, then the matches without F as a
 * last group; each with its count and the min/mean/max of a metric over its
 * non-NaN values.  Two passes of the store, neither returning a row per run:
 * group_values numbers the distinct values and writes each match's group
 * number into an array indexed by rid; group_stats adds each metric value to
 * its run's group.
 */
#include "lib/query/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

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

static void put_sval(buf *b, const sval *v)
{
	switch (v->cls) {
	case V_NUM:
		if (v->type == CAIRN_TYPE_BOOL) {
			json_bool(b, v->i != 0);
		} else if (v->is_int && v->type != CAIRN_TYPE_FLOAT) {
			json_int(b, v->i);
		} else {
			/* a float param stays recognisable as a float ("1.0"), as in run JSON */
			size_t before = b->len;
			json_num(b, v->d);
			if (v->type == CAIRN_TYPE_FLOAT && isfinite(v->d) &&
			    !memchr(b->ptr + before, '.', b->len - before) &&
			    !memchr(b->ptr + before, 'e', b->len - before))
				buf_puts(b, ".0");
		}
		break;
	case V_TEXT: json_str(b, v->s); break;
	case V_NAN: buf_puts(b, "\"NaN\""); break;
	default: buf_puts(b, "null");
	}
}

static int cmp_groups(const void *a, const void *b)
{
	const group *x = a, *y = b;
	return cmp_val(&x->v, &y->v, false);
}

static void put_groups(buf *b, const qfield *gf, const qfield *mf, int64_t total, group *groups,
                       size_t ng)
{
	char gname[320], mname[320];
	qfield_name(gname, sizeof gname, gf);
	if (mf)
		qfield_name(mname, sizeof mname, mf);
	buf_puts(b, "{\"total\":");
	json_int(b, total);
	buf_puts(b, ",\"group_by\":");
	json_str(b, gname);
	buf_puts(b, ",\"metric\":");
	json_str(b, mf ? mname : NULL);
	buf_puts(b, ",\"groups\":[");
	bool first = true;
	for (size_t k = 0; k <= ng; k++) {
		group *gr = &groups[k];
		if (k == ng && gr->count == 0)
			break;
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_puts(b, "{\"value\":");
		put_sval(b, &gr->v);
		if (k == ng)
			buf_puts(b, ",\"missing\":true");
		buf_puts(b, ",\"count\":");
		json_int(b, gr->count);
		buf_puts(b, ",\"metric\":");
		json_str(b, mf ? mname : NULL);
		buf_puts(b, ",\"values\":");
		json_int(b, gr->st.nvals);
		static const char *const names[] = {",\"min\":", ",\"mean\":", ",\"max\":"};
		double vals[] = {gr->st.min, gr->st.nvals ? gr->st.sum / (double)gr->st.nvals : 0,
		                 gr->st.max};
		for (int j = 0; j < 3; j++) {
			buf_puts(b, names[j]);
			if (gr->st.nvals)
				json_num(b, vals[j]);
			else
				buf_puts(b, "null");
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
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

int store_query_group_json(cairn_store *s, const store_query *sq, const qfield *gf,
                           const qfield *mf, buf *b)
{
	qplan q;
	rset M = {0};
	store_groups g = {0};
	pending pd = {0};
	group *groups = NULL;
	size_t ng = 0;
	int rc;
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
		store_key mk = {.f = *mf};
		if ((rc = q.ops->key_prepare(q.c, &mk)) != 0 ||
		    (rc = q.ops->group_stats(q.c, &mk, &g)) != 0)
			goto done;
	}
	/* the runs without the field form the last group */
	memset(&groups[ng], 0, sizeof groups[ng]);
	groups[ng].v.cls = V_MISSING;
	groups[ng].id = -1;
	groups[ng].count = total - grouped;
	for (size_t k = 0; k <= ng; k++)
		groups[k].st = g.stats[groups[k].id < 0 ? g.ngroups : groups[k].id];
	qsort(groups, ng, sizeof *groups, cmp_groups);
	put_groups(b, gf, mf, total, groups, ng);
	if (!buf_ok(b))
		rc = err_set(CAIRN_ENOMEM, "out of memory");
done:
	free(pd.p);
	free(g.gid);
	free(g.stats);
	free(groups);
	rset_free(&M);
	plan_close(&q);
	return rc;
}
