/*
 * server/mlflow-search.c — MLflow's searches (docs/mlflow.md): runs/search
 * through cairn's query engine (the filter and order_by compiled by
 * cairn_mlflow_filter / cairn_mlflow_order, experiment ids and the view
 * type as conjuncts), experiments/search over the projects, and MLflow's
 * page tokens.
 *
 * Page tokens are MLflow's own form, base64 of {"offset": N}; a token is
 * given only when more results follow (MLflow's tests want none after the
 * last page).  A token that does not decode is 400 "Invalid page token".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/mlflow.h"

/* --- page tokens ------------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void token_put(buf *b, int64_t offset)
{
	char text[64];
	int n = snprintf(text, sizeof text, "{\"offset\": %lld}", (long long)offset);
	buf_putc(b, '"');
	for (int i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)text[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)text[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)text[i + 2];
		buf_putc(b, b64[(v >> 18) & 63]);
		buf_putc(b, b64[(v >> 12) & 63]);
		buf_putc(b, i + 1 < n ? b64[(v >> 6) & 63] : '=');
		buf_putc(b, i + 2 < n ? b64[v & 63] : '=');
	}
	buf_putc(b, '"');
}

static bool token_read(response *rs, const char *tok, int64_t *offset)
{
	char text[96];
	size_t n = 0, len = strlen(tok);
	unsigned acc = 0;
	int bits = 0;
	bool ok = len > 0 && len < 120;
	for (size_t i = 0; ok && i < len && tok[i] != '='; i++) {
		const char *p = strchr(b64, tok[i]);
		if (!p || !tok[i]) {
			ok = false;
			break;
		}
		acc = (acc << 6) | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= sizeof text) {
				ok = false;
				break;
			}
			text[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	text[n] = '\0';
	long long off = -1;
	char tail = 0;
	if (!ok || sscanf(text, "{\"offset\": %lld}%c", &off, &tail) != 1 || off < 0) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "Invalid page token, could not base64-decode");
		return false;
	}
	*offset = off;
	return true;
}

/* max_results (absent: def), page_token, as MLflow checks them. */
static bool paging(response *rs, const mlf_in *in, int64_t def, int64_t *limit, int64_t *offset)
{
	const char *tok;
	*limit = def;
	*offset = 0;
	bool has;
	if (!mlf_int(rs, json_get(in->root, "max_results"), "max_results", false, limit, &has))
		return false;
	if (*limit <= 0 || *limit > MLF_SEARCH_MAX) {
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "Invalid value %lld for parameter 'max_results' supplied. It must be at most "
		    "%d, but got value %lld",
		    (long long)*limit, MLF_SEARCH_MAX, (long long)*limit);
		return false;
	}
	if (!mlf_str(rs, in, "page_token", false, &tok))
		return false;
	return !tok || !*tok || token_read(rs, tok, offset);
}

/* ACTIVE_ONLY (1, the default), DELETED_ONLY (2), ALL (3). */
static bool view_type(response *rs, const mlf_in *in, const char *name, int *out)
{
	const json *v = json_get(in->root, name);
	*out = 1;
	if (!v || v->type == JSON_NULL)
		return true;
	if (v->type == JSON_STR) {
		if (strcmp(v->str, "ACTIVE_ONLY") == 0 || strcmp(v->str, "1") == 0)
			return true;
		if (strcmp(v->str, "DELETED_ONLY") == 0 || strcmp(v->str, "2") == 0)
			return *out = 2, true;
		if (strcmp(v->str, "ALL") == 0 || strcmp(v->str, "3") == 0)
			return *out = 3, true;
	} else if (v->type == JSON_NUM && v->is_int && v->i >= 1 && v->i <= 3) {
		*out = (int)v->i;
		return true;
	}
	mlf_error(rs, "INVALID_PARAMETER_VALUE", "Invalid value for parameter '%s' supplied", name);
	return false;
}

/* order_by[] as an array of strings. */
static bool order_list(response *rs, const mlf_in *in, const char ***out, size_t *n)
{
	const json *ob;
	*out = NULL;
	*n = 0;
	if (!mlf_array(rs, in, "order_by", &ob))
		return false;
	if (!ob)
		return true;
	*out = calloc(ob->len ? ob->len : 1, sizeof **out);
	if (!*out) {
		mlf_error(rs, "INTERNAL_ERROR", "out of memory");
		return false;
	}
	for (const json *o = ob->child; o; o = o->next) {
		if (o->type != JSON_STR) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Invalid value for parameter 'order_by' supplied");
			return false;
		}
		(*out)[(*n)++] = o->str;
	}
	return true;
}

/* A project name as a cairn string literal. */
static void put_literal(buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_putc(b, '\'');
		if (*s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

int mlf_run_search(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	const json *eids;
	const char *filter, **order = NULL;
	size_t norder = 0;
	int64_t limit, offset;
	int view;
	char *q = NULL, *sort = NULL;
	cairn_run_iter *it = NULL;
	buf query = BUF_INIT;
	if (!mlf_array(rs, &in, "experiment_ids", &eids) ||
	    !mlf_str(rs, &in, "filter", false, &filter) ||
	    !paging(rs, &in, MLF_SEARCH_DEFAULT, &limit, &offset) ||
	    !view_type(rs, &in, "run_view_type", &view) || !order_list(rs, &in, &order, &norder) ||
	    !mlf_projects_load(rq, rs, &ps))
		goto done;
	int rc = cairn_mlflow_filter(&q, filter);
	if (rc == 0)
		rc = cairn_mlflow_order(&sort, order, norder);
	if (rc) {
		mlf_lib_error(rs, rc);
		goto done;
	}
	/* the experiments: project in (...); an unknown id matches nothing */
	const char *own = auth_project(rq);
	buf_puts(&query, "project in (");
	bool any = false;
	for (const json *e = eids ? eids->child : NULL; e; e = e->next) {
		if (e->type != JSON_STR) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE",
			          "Invalid value for parameter 'experiment_ids' supplied");
			goto done;
		}
		bool dflt;
		const cairn_project *p = mlf_project_by_exp(&ps, e->str, &dflt);
		const char *name = p ? p->name : dflt ? "default" : NULL;
		if (!name || (own && strcmp(own, name) != 0))
			continue;
		if (any)
			buf_puts(&query, ", ");
		any = true;
		put_literal(&query, name);
	}
	if (!any)
		put_literal(&query, "\x01"); /* no project has this name */
	buf_putc(&query, ')');
	if (*q) {
		buf_puts(&query, " and (");
		buf_puts(&query, q);
		buf_putc(&query, ')');
	}
	if (!buf_ok(&query)) {
		mlf_error(rs, "INTERNAL_ERROR", "out of memory");
		goto done;
	}
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	qo.query = query.ptr;
	qo.sort = sort;
	/* DELETED_ONLY: the deleted matches, picked from all of them here (the
	 * query language has no `deleted` attribute yet) */
	qo.limit = view == 2 ? 0 : limit;
	qo.offset = view == 2 ? 0 : offset;
	qo.include_deleted = view != 1;
	if ((rc = cairn_query_iter_new(&it, rq->store, &qo)) != 0) {
		mlf_lib_error(rs, rc);
		goto done;
	}
	int64_t total = cairn_run_iter_total(it), n = 0, seen = 0;
	buf *b = &rs->body;
	buf_puts(b, "{\"runs\":[");
	cairn_run_record *rec;
	while ((rc = cairn_run_iter_next(&rec, it)) == 0) {
		bool take = true;
		if (view == 2) {
			take = cairn_run_record_deleted(rec) && seen++ >= offset && n < limit;
		}
		if (take) {
			if (n++)
				buf_putc(b, ',');
			mlf_put_run(b, rec, &ps);
		}
		cairn_run_record_free(rec);
	}
	if (view == 2)
		total = seen;
	if (rc != CAIRN_ITEROVER) {
		mlf_lib_error(rs, rc);
		goto done;
	}
	buf_putc(b, ']');
	if (offset + n < total) {
		buf_puts(b, ",\"next_page_token\":");
		token_put(b, offset + n);
	}
	buf_putc(b, '}');
	resp_json_buf(rs, 200);
done:
	cairn_run_iter_free(it);
	buf_free(&query);
	cairn_free(q);
	cairn_free(sort);
	free(order);
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}

/* --- experiments/search --------------------------------------------------------------------- */

/* SQL LIKE: % any run, _ one byte, anchored; fold: ASCII case (ILIKE). */
static bool like(const char *s, const char *p, bool fold)
{
	for (; *p; p++, s++) {
		if (*p == '%') {
			while (p[1] == '%')
				p++;
			if (!p[1])
				return true;
			for (; *s; s++)
				if (like(s, p + 1, fold))
					return true;
			return false;
		}
		if (!*s)
			return false;
		if (*p != '_' &&
		    (fold ? tolower((unsigned char)*p) != tolower((unsigned char)*s) : *p != *s))
			return false;
	}
	return !*s;
}

/* One clause of an experiments filter: name or tags.KEY, = != LIKE ILIKE,
 * a quoted string; creation_time / last_update_time with numbers. */
typedef struct eclause {
	char key[256];
	bool tag, num;
	char op[8];
	char val[1024];
	double num_val;
} eclause;

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

static int eparse(const char *f, eclause *cl, int max)
{
	int n = 0;
	const char *p = skip_ws(f ? f : "");
	while (*p) {
		if (n == max)
			return -1;
		eclause *c = &cl[n];
		memset(c, 0, sizeof *c);
		const char *s = p;
		while (*p && !isspace((unsigned char)*p) && !strchr("=!<>", *p))
			p++;
		char ident[300];
		snprintf(ident, sizeof ident, "%.*s", (int)(p - s), s);
		const char *k = ident;
		if (strncasecmp(k, "attribute.", 10) == 0 || strncasecmp(k, "attributes.", 11) == 0)
			k = strchr(k, '.') + 1;
		if (strncasecmp(k, "tags.", 5) == 0 || strncasecmp(k, "tag.", 4) == 0) {
			c->tag = true;
			k = strchr(k, '.') + 1;
		}
		size_t kl = strlen(k);
		if (kl >= 2 && (k[0] == '`' || k[0] == '"') && k[kl - 1] == k[0])
			snprintf(c->key, sizeof c->key, "%.*s", (int)(kl - 2), k + 1);
		else
			snprintf(c->key, sizeof c->key, "%s", k);
		if (!c->tag && strcmp(c->key, "name") != 0) {
			c->num = strcmp(c->key, "creation_time") == 0 ||
			         strcmp(c->key, "last_update_time") == 0;
			if (!c->num)
				return -2;
		}
		p = skip_ws(p);
		s = p;
		while (*p && (strchr("=!<>", *p) || isalpha((unsigned char)*p)))
			p++;
		snprintf(c->op, sizeof c->op, "%.*s", (int)(p - s), s);
		p = skip_ws(p);
		if (c->num) {
			char *end;
			c->num_val = strtod(p, &end);
			if (end == p)
				return -3;
			p = end;
		} else {
			char q = *p;
			if (q != '\'' && q != '"')
				return -3;
			size_t j = 0;
			for (p++; *p && *p != q && j + 1 < sizeof c->val; p++)
				c->val[j++] = *p;
			if (*p != q)
				return -3;
			p++;
		}
		n++;
		p = skip_ws(p);
		if (*p) {
			if (strncasecmp(p, "and", 3) != 0 || !isspace((unsigned char)p[3]))
				return -4;
			p = skip_ws(p + 3);
		}
	}
	return n;
}

static bool ematch(const cairn_project *p, const eclause *c)
{
	if (c->num) {
		double t = (strcmp(c->key, "creation_time") == 0 ? p->created
		            : p->updated > 0                     ? p->updated
		                                                 : p->created) *
		           1000.0;
		double v = c->num_val;
		return !strcmp(c->op, "=")    ? t == v
		       : !strcmp(c->op, "!=") ? t != v
		       : !strcmp(c->op, "<")  ? t < v
		       : !strcmp(c->op, "<=") ? t <= v
		       : !strcmp(c->op, ">")  ? t > v
		                              : t >= v;
	}
	const char *s = NULL;
	if (!c->tag) {
		s = strcmp(p->name, "default") == 0 ? "Default" : p->name;
	} else {
		for (size_t i = 0; i < p->ntags && !s; i++)
			if (strcmp(p->tag_keys[i], c->key) == 0)
				s = p->tag_values[i];
		if (!s)
			return false;
	}
	if (!strcmp(c->op, "="))
		return strcmp(s, c->val) == 0;
	if (!strcmp(c->op, "!="))
		return strcmp(s, c->val) != 0;
	return like(s, c->val, strcasecmp(c->op, "ilike") == 0);
}

typedef struct eorder {
	int key; /* 0 name, 1 experiment_id, 2 creation_time, 3 last_update_time */
	bool desc;
} eorder;

static int ecmp(const void *a, const void *b, void *arg)
{
	const eorder *o = arg;
	const cairn_project *x = *(const cairn_project *const *)a,
	                    *y = *(const cairn_project *const *)b;
	int r = 0;
	const char *xn = strcmp(x->name, "default") == 0 ? "Default" : x->name;
	const char *yn = strcmp(y->name, "default") == 0 ? "Default" : y->name;
	int64_t xi = strcmp(x->name, "default") == 0 ? 0 : x->id;
	int64_t yi = strcmp(y->name, "default") == 0 ? 0 : y->id;
	switch (o->key) {
	case 0: r = strcmp(xn, yn); break;
	case 1: r = (xi > yi) - (xi < yi); break;
	case 2: r = (x->created > y->created) - (x->created < y->created); break;
	default: {
		double xu = x->updated > 0 ? x->updated : x->created;
		double yu = y->updated > 0 ? y->updated : y->created;
		r = (xu > yu) - (xu < yu);
	}
	}
	if (o->desc)
		r = -r;
	if (r == 0)
		r = (xi > yi) - (xi < yi);
	return r;
}

int mlf_exp_search(request *rq, response *rs)
{
	mlf_in in;
	if (!mlf_in_read(rq, rs, &in))
		return 0;
	mlf_projects ps = {0};
	const char *filter, **order = NULL;
	size_t norder = 0;
	int64_t limit, offset;
	int view;
	eclause cl[16];
	const cairn_project **sel = NULL;
	if (!mlf_str(rs, &in, "filter", false, &filter) ||
	    !paging(rs, &in, MLF_SEARCH_DEFAULT, &limit, &offset) ||
	    !view_type(rs, &in, "view_type", &view) || !order_list(rs, &in, &order, &norder) ||
	    !mlf_projects_load(rq, rs, &ps))
		goto done;
	int ncl = eparse(filter, cl, 16);
	if (ncl < 0) {
		mlf_error(
		    rs, "INVALID_PARAMETER_VALUE",
		    "Invalid filter '%.200s': experiments are searched by name, tags.KEY (= != "
		    "LIKE ILIKE and a quoted string), creation_time and last_update_time",
		    filter);
		goto done;
	}
	/* order: one key (name, experiment_id, creation_time, last_update_time);
	 * default creation_time DESC, experiment_id ASC */
	eorder ord = {2, true};
	if (norder > 1) {
		mlf_error(rs, "INVALID_PARAMETER_VALUE",
		          "order_by takes one clause on this server");
		goto done;
	}
	if (norder == 1) {
		char k[64] = "", d[8] = "";
		sscanf(order[0], "%63s %7s", k, d);
		const char *kk = strncmp(k, "attribute.", 10) == 0 ? k + 10 : k;
		ord.key = !strcmp(kk, "name")               ? 0
		          : !strcmp(kk, "experiment_id")    ? 1
		          : !strcmp(kk, "creation_time")    ? 2
		          : !strcmp(kk, "last_update_time") ? 3
		                                            : -1;
		if (ord.key < 0 || (d[0] && strcasecmp(d, "asc") && strcasecmp(d, "desc"))) {
			mlf_error(rs, "INVALID_PARAMETER_VALUE", "Invalid order_by clause '%.200s'",
			          order[0]);
			goto done;
		}
		ord.desc = strcasecmp(d, "desc") == 0;
	}
	sel = calloc(ps.n + 1, sizeof *sel);
	if (!sel) {
		mlf_error(rs, "INTERNAL_ERROR", "out of memory");
		goto done;
	}
	size_t ns = 0;
	bool has_default = false;
	const char *own = auth_project(rq);
	cairn_project dflt = {.id = 0, .name = "default"};
	for (size_t i = 0; i <= ps.n; i++) {
		const cairn_project *p = i < ps.n ? &ps.p[i] : has_default ? NULL : &dflt;
		if (!p)
			continue;
		if (strcmp(p->name, "default") == 0)
			has_default = true;
		if ((view == 1 && p->deleted) || (view == 2 && !p->deleted) ||
		    (own && strcmp(own, p->name) != 0))
			continue;
		bool ok = true;
		for (int c = 0; c < ncl && ok; c++)
			ok = ematch(p, &cl[c]);
		if (ok)
			sel[ns++] = p;
	}
	qsort_r(sel, ns, sizeof *sel, ecmp, &ord);
	buf *b = &rs->body;
	buf_puts(b, "{\"experiments\":[");
	int64_t n = 0;
	for (size_t i = (size_t)offset; i < ns && n < limit; i++, n++) {
		if (n)
			buf_putc(b, ',');
		mlf_put_experiment(b, sel[i] == &dflt ? NULL : sel[i]);
	}
	buf_putc(b, ']');
	if ((size_t)offset + (size_t)n < ns) {
		buf_puts(b, ",\"next_page_token\":");
		token_put(b, offset + n);
	}
	buf_putc(b, '}');
	resp_json_buf(rs, 200);
done:
	free(sel);
	free(order);
	mlf_projects_free(&ps);
	mlf_in_free(&in);
	return 0;
}
