/*
 * lib/query/query.c — the public query API (cairn/query.h): checks options, parses
 * the query, sort and field texts, and hands the trees to the executor
 * (lib/query/ plan, sort, group).  Also the metric-direction heuristic shared by diff and
 * `cairn best`.  Stateless; thread-safe as the store is.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/query/names.h"
#include "lib/query/query.h"
#include "lib/store/query.h"
#include "util/json.h"

static int parse_query(qexpr *e, const char *text, size_t *out_pos)
{
	qerror err;
	if (qexpr_parse(e, text, &err) != 0) {
		if (out_pos)
			*out_pos = err.pos;
		return qerror_raise(&err, "query", text);
	}
	return 0;
}

int cairn_query_validate(const char *query, size_t *out_pos)
{
	qexpr e;
	if (out_pos)
		*out_pos = 0;
	int rc = parse_query(&e, query, out_pos);
	qexpr_free(&e);
	return rc;
}

int cairn_query_sort_validate(const char *sort, size_t *out_pos)
{
	qexpr e = {0};
	qsortkey keys[QUERY_MAX_SORT];
	size_t n;
	qerror err;
	int rc = 0;
	if (out_pos)
		*out_pos = 0;
	if (qsort_parse(keys, &n, &e, sort, &err) != 0) {
		if (out_pos)
			*out_pos = err.pos;
		rc = qerror_raise(&err, "sort", sort);
	}
	qexpr_free(&e);
	return rc;
}

static int finish(char **out, buf *b, int rc)
{
	if (rc) {
		buf_free(b);
		return rc;
	}
	*out = buf_detach(b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}

static int check_opts(const cairn_query_options *o)
{
	if (o->version != CAIRN_QUERY_OPTIONS_VERSION && o->version != 1)
		return err_set(CAIRN_EINVALID, "cairn_query_options version %u is not supported",
		               o->version);
	if (o->offset < 0)
		return err_set(CAIRN_EINVALID, "negative offset");
	return 0;
}

int query_compile(query_compiled *c, cairn_store *s, const cairn_query_options *o)
{
	cairn_query_options def = CAIRN_QUERY_OPTIONS_INIT;
	qerror err;
	qnames names;
	int rc;
	memset(c, 0, sizeof *c);
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (!o)
		o = &def;
	if ((rc = check_opts(o)) != 0)
		return rc;
	/* flushed first: bare names resolve against what the writer holds too */
	writer_flush(s);
	qnames_init(&names, s, o->project, o->include_deleted != 0);
	size_t nkeys = 0;
	if (qexpr_parse_r(&c->e, o->query, &names.res, &err) != 0) {
		rc = qnames_parse_error(&names, &err, "query", o->query);
	} else if (o->sort && qsort_parse_r(c->keys, &nkeys, &c->se, o->sort, &names.res, &err)) {
		rc = qnames_parse_error(&names, &err, "sort", o->sort);
	}
	qnames_free(&names);
	if (rc)
		return rc;
	c->sq = (store_query){.q = &c->e,
	                      .keys = c->keys,
	                      .nkeys = nkeys,
	                      .limit = o->limit,
	                      .offset = o->offset,
	                      .project = o->project,
	                      .include_deleted = o->include_deleted != 0,
	                      .text = o->query,
	                      .sort_text = o->sort,
	                      .after = o->version >= 2 ? o->after : NULL};
	return 0;
}

void query_compiled_free(query_compiled *c)
{
	qexpr_free(&c->e);
	qexpr_free(&c->se);
}

int cairn_query_runs_json(char **out, cairn_store *s, const cairn_query_options *o)
{
	query_compiled c;
	buf b = BUF_INIT;
	*out = NULL;
	int rc = query_compile(&c, s, o);
	if (rc == 0)
		rc = store_query_runs_json(s, &c.sq, &b);
	query_compiled_free(&c);
	return finish(out, &b, rc);
}

int cairn_query_group(cairn_group_result **out, cairn_store *s, const cairn_query_options *o,
                      const char *group_by, const char *metric)
{
	cairn_query_options def = CAIRN_QUERY_OPTIONS_INIT;
	qexpr e = {0}, fe = {0};
	qfield gf, mf;
	qerror err;
	qnames names;
	int rc;
	if (!out)
		return err_set(CAIRN_EINVALID, "no result to fill");
	*out = NULL;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (!o)
		o = &def;
	if ((rc = check_opts(o)) != 0)
		return rc;
	if (!group_by || !*group_by)
		return err_set(CAIRN_EINVALID, "no field to group by");
	writer_flush(s);
	qnames_init(&names, s, o->project, o->include_deleted != 0);
	if (qexpr_parse_r(&e, o->query, &names.res, &err) != 0) {
		rc = qnames_parse_error(&names, &err, "query", o->query);
		goto done;
	}
	if (qfield_parse_r(&gf, &fe, group_by, &names.res, &err) != 0) {
		rc = qnames_parse_error(&names, &err, "group field", group_by);
		goto done;
	}
	if (!qtype_sortable(qfield_type(&gf))) {
		rc = err_set(CAIRN_EINVALID,
		             "cannot group by '%s' (a run has many tags: filter with "
		             "tags.TAG instead)",
		             group_by);
		goto done;
	}
	if (metric && *metric) {
		if (qfield_parse_r(&mf, &fe, metric, &names.res, &err) != 0) {
			rc = qnames_parse_error(&names, &err, "metric", metric);
			goto done;
		}
		if (!qtype_sortable(qfield_type(&mf)) || qfield_type(&mf) == QT_FLAG) {
			rc = err_set(CAIRN_EINVALID, "'%s' has no values to summarise", metric);
			goto done;
		}
	}
	store_query sq = {.q = &e,
	                  .project = o->project,
	                  .include_deleted = o->include_deleted != 0,
	                  .text = o->query,
	                  .group_text = group_by,
	                  .metric_text = metric && *metric ? metric : NULL};
	rc = store_query_group(s, &sq, &gf, metric && *metric ? &mf : NULL, out);
done:
	qnames_free(&names);
	qexpr_free(&e);
	qexpr_free(&fe);
	return rc;
}

int cairn_query_group_json(char **out, cairn_store *s, const cairn_query_options *o,
                           const char *group_by, const char *metric)
{
	cairn_group_result *g = NULL;
	buf b = BUF_INIT;
	*out = NULL;
	int rc = cairn_query_group(&g, s, o, group_by, metric);
	if (rc == 0)
		rc = group_result_json(g, &b);
	cairn_group_result_free(g);
	return finish(out, &b, rc);
}

int cairn_query_check(cairn_store *s, const cairn_query_options *o, size_t *out_pos,
                      int *out_in_sort)
{
	cairn_query_options def = CAIRN_QUERY_OPTIONS_INIT;
	qexpr e = {0}, se = {0};
	qsortkey keys[QUERY_MAX_SORT];
	size_t nkeys;
	qerror err;
	qnames names;
	int rc;
	if (out_pos)
		*out_pos = 0;
	if (out_in_sort)
		*out_in_sort = 0;
	if (!s)
		return err_set(CAIRN_EINVALID, "no store");
	if (!o)
		o = &def;
	if ((rc = check_opts(o)) != 0)
		return rc;
	writer_flush(s);
	qnames_init(&names, s, o->project, o->include_deleted != 0);
	if (qexpr_parse_r(&e, o->query, &names.res, &err) != 0) {
		rc = qnames_parse_error(&names, &err, "query", o->query);
	} else if (o->sort && qsort_parse_r(keys, &nkeys, &se, o->sort, &names.res, &err) != 0) {
		rc = qnames_parse_error(&names, &err, "sort", o->sort);
		if (out_in_sort)
			*out_in_sort = 1;
	}
	if (rc == CAIRN_EINVALID && out_pos)
		*out_pos = err.pos;
	qnames_free(&names);
	qexpr_free(&e);
	qexpr_free(&se);
	return rc;
}

int cairn_query_field_resolve(char **out, cairn_store *s, const cairn_query_options *scope,
                              const char *field, size_t *out_pos)
{
	qexpr e = {0};
	qfield f;
	qerror err;
	qnames names;
	int rc = 0;
	*out = NULL;
	if (out_pos)
		*out_pos = 0;
	if (!s || !field)
		return err_set(CAIRN_EINVALID, "no store or no field");
	if (scope && (rc = check_opts(scope)) != 0)
		return rc;
	writer_flush(s);
	qnames_init(&names, s, scope ? scope->project : NULL, scope && scope->include_deleted);
	if (qfield_parse_r(&f, &e, field, &names.res, &err) != 0) {
		if (!(rc = qnames_raise(&names))) {
			if (out_pos)
				*out_pos = err.pos;
			rc = qerror_raise(&err, "field", field);
		}
	} else {
		char name[320];
		qfield_name(name, sizeof name, &f);
		if (!(*out = strdup(name)))
			rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
	qnames_free(&names);
	qexpr_free(&e);
	return rc;
}

int cairn_query_warnings(char **out, cairn_store *s, const cairn_query_options *o)
{
	query_compiled c;
	qnames names;
	buf b = BUF_INIT;
	*out = NULL;
	int rc = query_compile(&c, s, o);
	if (rc == 0) {
		qnames_init(&names, s, c.sq.project, c.sq.include_deleted);
		rc = qnames_warnings(&names, &c.e, c.keys, c.sq.nkeys, &b);
		qnames_free(&names);
	}
	query_compiled_free(&c);
	return finish(out, &b, rc);
}

int cairn_query_field_json(char **out, const char *field, size_t *out_pos)
{
	static const char *const kinds[] = {"metric",   "param",   "tag",       "tags",
	                                    "property", "dataset", "attribute", "files"};
	static const char *const mparts[] = {"last", "min", "max", "count", "step"};
	static const char *const dparts[] = {"digest", "path", "role", "algo", "files", "bytes"};
	qexpr e = {0};
	qfield f;
	qerror err;
	buf b = BUF_INIT;
	int rc = 0;
	*out = NULL;
	if (out_pos)
		*out_pos = 0;
	if (qfield_parse(&f, &e, field, &err) != 0) {
		if (out_pos)
			*out_pos = err.pos;
		rc = qerror_raise(&err, "field", field);
		goto done;
	}
	char name[320];
	qfield_name(name, sizeof name, &f);
	bool first = true;
	buf_putc(&b, '{');
	json_key(&b, &first, "field");
	json_str(&b, name);
	json_key(&b, &first, "kind");
	json_str(&b, kinds[f.kind]);
	json_key(&b, &first, "key");
	if (f.kind == QK_ATTR) {
		const char *an = qattr_name((qattr)f.part);
		const char *dot = strrchr(an, '.');
		json_str(&b, dot ? dot + 1 : an);
	} else if (f.kind == QK_FILES) {
		json_str(&b, name);
	} else {
		json_str(&b, f.key);
	}
	json_key(&b, &first, "part");
	json_str(&b, f.kind == QK_METRIC    ? mparts[f.part]
	             : f.kind == QK_DATASET ? dparts[f.part]
	                                    : NULL);
	buf_putc(&b, '}');
done:
	qexpr_free(&e);
	return finish(out, &b, rc);
}

/* Does the metric name contain `word` as a word part (split at anything
 * that is not a letter or digit, and at lower-to-upper case changes)? */
static bool has_word(const char *key, const char *word)
{
	size_t wn = strlen(word);
	for (const char *p = key; *p;) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		const char *st = p;
		if (*p)
			p++;
		while (*p && isalnum((unsigned char)*p) &&
		       !(isupper((unsigned char)*p) && islower((unsigned char)p[-1])))
			p++;
		size_t n = (size_t)(p - st);
		if (n == wn && strncasecmp(st, word, wn) == 0)
			return true;
	}
	return false;
}

int cairn_metric_direction(const char *key)
{
	static const char *const lower[] = {
	    "loss", "error",      "err", "rmse",    "mse", "mae",     "mape",   "rmsle", "wer",
	    "cer",  "perplexity", "ppl", "latency", "nll", "logloss", "regret", NULL};
	static const char *const higher[] = {
	    "acc",    "accuracy", "auc",  "f1",    "f1score", "precision", "recall",
	    "map",    "ndcg",     "bleu", "rouge", "r2",      "iou",       "dice",
	    "reward", "top1",     "top5", "mrr",   "roc",     "pr",        NULL};
	if (!key)
		return 0;
	for (int k = 0; lower[k]; k++)
		if (has_word(key, lower[k]))
			return -1;
	for (int k = 0; higher[k]; k++)
		if (has_word(key, higher[k]))
			return 1;
	return 0;
}
