/*
 * cli/cmd-ls.c — `cairn ls [QUERY]`: find runs with the query language, sort,
 * group, and show them as a table that fits the terminal, CSV or JSON.
 * Also the engine of `cairn best` (ls_run with best = true).
 *
 * The default columns show what varies: id, name, status, start, duration,
 * the sort keys, then the final metrics and the params whose values differ
 * among the listed runs, then tags.  A query or sort that does not parse is
 * a usage error printed with a caret under the problem.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/fields.h"

static const char usage[] =
    "usage: cairn ls [QUERY] [--sort KEYS] [--group FIELD [--metric M]] [--columns COLS]\n"
    "                [--limit N] [--offset N] [--format table|json|csv] [-p PROJECT] [--all]\n\n"
    "List the runs that match QUERY, newest first.  QUERY is the query language\n"
    "(docs/internals/query.md), for example\n"
    "  cairn ls 'metrics.valid_auc > 0.9 and params.model = \"lgbm\" and not tags.debug'\n\n"
    "options:\n"
    "  -s, --sort KEYS      comma-separated fields, '-' for descending:\n"
    "                       -metrics.valid_auc,params.lr (runs without a field sort last)\n"
    "  -g, --group FIELD    one row per value of FIELD, with the number of runs and the\n"
    "                       min/mean/max of a metric\n"
    "  -m, --metric M       the metric --group summarises (default: the first sort key)\n"
    "  -c, --columns COLS   comma-separated fields to show (default: what differs among\n"
    "                       the runs); +COLS adds them to the default columns\n"
    "  -n, --limit N        at most N runs (N >= 1)\n"
    "      --offset N       skip the first N runs\n"
    "  -f, --format F       table (default), json (an array of runs) or csv\n"
    "      --json           same as --format json\n"
    "  -p, --project P      only runs of project P\n"
    "  -a, --all            include deleted runs\n";

static const char best_usage[] =
    "usage: cairn best METRIC [QUERY] [--higher | --lower] [-p PROJECT] [--format F] [--all]\n\n"
    "The best run so far by METRIC (metrics.KEY, or just KEY) among the runs that match\n"
    "QUERY.  Whether higher or lower is better is guessed from the name (loss, error,\n"
    "rmse: lower; acc, auc, f1, precision, recall: higher) unless given.\n\n"
    "options:\n"
    "      --higher         higher values are better\n"
    "      --lower          lower values are better\n"
    "  -c, --columns COLS   more fields to show\n"
    "  -f, --format F       table (default), json (the run object) or csv\n"
    "      --json           same as --format json\n"
    "  -p, --project P      only runs of project P\n"
    "  -a, --all            include deleted runs\n";

/* --- columns ------------------------------------------------------------------ */

typedef struct col {
	rfield f;
	char head[320];
	bool right;
} col;

typedef struct cols {
	col *v;
	int n, cap;
} cols;

static bool cols_has(const cols *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->v[i].f.name, name) == 0)
			return true;
	return false;
}

static void cols_add(cols *c, const rfield *f, const char *head)
{
	if (cols_has(c, f->name))
		return;
	if (c->n == c->cap) {
		int nc = c->cap ? c->cap * 2 : 16;
		col *nv = realloc(c->v, (size_t)nc * sizeof *nv);
		if (!nv)
			return;
		c->v = nv;
		c->cap = nc;
	}
	col *x = &c->v[c->n++];
	memset(x, 0, sizeof *x);
	x->f = *f;
	snprintf(x->head, sizeof x->head, "%s", head ? head : f->name);
}

static void cols_attr(cols *c, const char *attr, const char *head)
{
	rfield f;
	rfield_make(&f, CAIRN_FIELD_ATTRIBUTE, attr, -1);
	cols_add(c, &f, head);
}

/* Split a comma-separated list of fields (commas inside `…` or "…" do not
 * split), dropping a leading -/+ and a trailing asc/desc from each. */
static int split_fields(const char *text, char ***out, int *n, bool sortspec)
{
	*out = NULL;
	*n = 0;
	size_t len = strlen(text);
	char **v = calloc(len / 2 + 2, sizeof *v);
	if (!v)
		return -1;
	size_t st = 0;
	char q = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = text[i];
		if (q) {
			if (c == q)
				q = 0;
			continue;
		}
		if (c == '`' || c == '"') {
			q = c;
			continue;
		}
		if (c != ',' && c != '\0')
			continue;
		const char *s = text + st;
		size_t l = i - st;
		while (l && (*s == ' ' || (sortspec && (*s == '-' || *s == '+')))) {
			s++;
			l--;
		}
		while (l && s[l - 1] == ' ')
			l--;
		if (sortspec) {
			if (l > 5 && strncasecmp(s + l - 5, " desc", 5) == 0)
				l -= 5;
			else if (l > 4 && strncasecmp(s + l - 4, " asc", 4) == 0)
				l -= 4;
			while (l && s[l - 1] == ' ')
				l--;
		}
		if (l)
			v[(*n)++] = strndup(s, l);
		st = i + 1;
	}
	*out = v;
	return 0;
}

static void free_fields(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The runs of the page, read as records. */
typedef struct runs {
	cairn_run_record **v;
	size_t n, cap;
	int64_t total;
} runs;

static void runs_free(runs *r)
{
	for (size_t i = 0; i < r->n; i++)
		cairn_run_record_free(r->v[i]);
	free(r->v);
}

static int runs_load(runs *r, cairn_store *s, const cairn_query_options *qo)
{
	cairn_run_iter *it = NULL;
	cairn_run_record *rec;
	int rc = cairn_query_iter_new(&it, s, qo);
	if (rc)
		return rc;
	r->total = cairn_run_iter_total(it);
	while ((rc = cairn_run_iter_next(&rec, it)) == 0) {
		if (r->n == r->cap) {
			size_t nc = r->cap ? r->cap * 2 : 64;
			cairn_run_record **nv = realloc(r->v, nc * sizeof *nv);
			if (!nv) {
				cairn_run_record_free(rec);
				rc = CAIRN_ENOMEM;
				break;
			}
			r->v = nv;
			r->cap = nc;
		}
		r->v[r->n++] = rec;
	}
	cairn_run_iter_free(it);
	return rc == CAIRN_ITEROVER ? 0 : rc;
}

/* Keys of the runs' params (metrics: true) or metrics, sorted, deduplicated. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char **all_keys(const runs *rs, bool metrics, int *n)
{
	int cap = 16;
	const char **v = malloc((size_t)cap * sizeof *v);
	*n = 0;
	for (size_t r = 0; r < rs->n && v; r++) {
		const cairn_run_record *rec = rs->v[r];
		size_t nk = metrics ? cairn_run_record_metric_count(rec)
		                    : cairn_run_record_param_count(rec);
		for (size_t k = 0; k < nk; k++) {
			const char *key = metrics ? cairn_run_record_metric(rec, k)->key
			                          : cairn_run_record_param(NULL, rec, k);
			bool seen = false;
			for (int i = 0; i < *n && !seen; i++)
				seen = strcmp(v[i], key) == 0;
			if (seen)
				continue;
			if (*n == cap) {
				cap *= 2;
				const char **nv = realloc(v, (size_t)cap * sizeof *nv);
				if (!nv)
					return v;
				v = nv;
			}
			v[(*n)++] = key;
		}
	}
	if (v)
		qsort(v, (size_t)*n, sizeof *v, cmp_str);
	return v;
}

/* Does the field's displayed value differ between the runs? */
static bool differs(const runs *rs, const rfield *f)
{
	char first[512], cur[512];
	bool firstp = false;
	for (size_t r = 0; r < rs->n; r++) {
		bool p = rfield_text(rs->v[r], f, cur, sizeof cur, true);
		if (r == 0) {
			memcpy(first, cur, sizeof cur);
			firstp = p;
		} else if (p != firstp || strcmp(first, cur) != 0) {
			return true;
		}
	}
	return false;
}

static void default_columns(cols *c, const runs *rs, char **sortf, int nsort)
{
	cols_attr(c, "id", "ID");
	cols_attr(c, "name", "NAME");
	const char *proj = NULL;
	bool projects = false;
	for (size_t r = 0; r < rs->n; r++) {
		const char *p = cairn_run_record_project(rs->v[r]);
		if (proj && p && strcmp(proj, p) != 0)
			projects = true;
		proj = p;
	}
	if (projects)
		cols_attr(c, "project", "PROJECT");
	cols_attr(c, "status", "STATUS");
	cols_attr(c, "started", "STARTED");
	cols_attr(c, "duration", "DURATION");
	for (int i = 0; i < nsort; i++) {
		rfield f;
		if (rfield_parse(&f, sortf[i], NULL) == 0)
			cols_add(c, &f, NULL);
	}
	int n;
	const char **keys = all_keys(rs, true, &n);
	for (int i = 0; keys && i < n; i++) {
		rfield f;
		rfield_make(&f, CAIRN_FIELD_METRIC, keys[i], CAIRN_METRIC_LAST);
		if (differs(rs, &f))
			cols_add(c, &f, NULL);
	}
	free(keys);
	keys = all_keys(rs, false, &n);
	for (int i = 0; keys && i < n; i++) {
		rfield f;
		rfield_make(&f, CAIRN_FIELD_PARAM, keys[i], -1);
		if (differs(rs, &f))
			cols_add(c, &f, NULL);
	}
	free(keys);
	bool tags = false;
	for (size_t r = 0; r < rs->n && !tags; r++)
		tags = cairn_run_record_tag_count(rs->v[r]) > 0;
	if (tags) {
		rfield f;
		rfield_make(&f, CAIRN_FIELD_TAGS, "tags", -1);
		cols_add(c, &f, "TAGS");
	}
}

static const char *status_color(const char *s)
{
	if (!s)
		return NULL;
	if (strcmp(s, "finished") == 0)
		return "32";
	if (strcmp(s, "failed") == 0)
		return "31";
	if (strcmp(s, "running") == 0)
		return "36";
	if (strcmp(s, "crashed") == 0)
		return "35";
	return "33";
}

static void print_runs(const runs *rs, cols *c, bool csv, int64_t total)
{
	table *t = table_new(c->n);
	if (!t)
		return;
	const cairn_run_record *sample = rs->n ? rs->v[0] : NULL;
	for (int i = 0; i < c->n; i++) {
		c->v[i].right = rfield_numeric(&c->v[i].f, sample);
		table_header(t, i, c->v[i].head);
		table_align_right(t, i, c->v[i].right);
	}
	const char **cells = calloc((size_t)c->n, sizeof *cells);
	char(*vals)[512] = calloc((size_t)c->n, sizeof *vals);
	if (!cells || !vals) {
		free(cells);
		free(vals);
		table_free(t);
		return;
	}
	for (size_t r = 0; r < rs->n; r++) {
		for (int i = 0; i < c->n; i++) {
			rfield_text(rs->v[r], &c->v[i].f, vals[i], sizeof vals[i], csv);
			cells[i] = vals[i];
		}
		table_row(t, cells);
		for (int i = 0; i < c->n; i++)
			if (c->v[i].f.kind == CAIRN_FIELD_ATTRIBUTE &&
			    strcmp(c->v[i].f.key, "status") == 0)
				table_cell_color(t, table_nrows(t) - 1, i, status_color(vals[i]));
	}
	if (csv) {
		table_print_csv(t, stdout);
	} else {
		int hidden = table_print(t, stdout, cli_term_width());
		if (cli_isatty(stdout)) {
			size_t shown = table_nrows(t);
			if ((int64_t)shown < total || hidden)
				printf("%s%zu of %lld runs%s%s%s\n", cli_color() ? "\033[2m" : "",
				       shown, (long long)total, hidden ? "; " : "",
				       hidden ? "some columns hidden (widen the terminal or use "
				                "--columns)"
				              : "",
				       cli_color() ? "\033[0m" : "");
		}
	}
	free(cells);
	free(vals);
	table_free(t);
}

/* --- groups ----------------------------------------------------------------------- */

typedef struct grow {
	const cairn_group *g;
	bool has; /* the group has a mean */
} grow;

static int grow_desc;

static int cmp_grow(const void *a, const void *b)
{
	const grow *x = a, *y = b;
	if (x->has != y->has)
		return x->has ? -1 : 1;
	if (!x->has)
		return 0;
	int r = (x->g->mean > y->g->mean) - (x->g->mean < y->g->mean);
	return grow_desc ? -r : r;
}

/* A group's value as the runs table shows a field's: a float as cli_fmt_num
 * writes it (nan, inf), a string as its text. */
static void group_value_text(char *v, size_t n, const cairn_group *g)
{
	const cairn_value *val = &g->value;
	if (g->missing)
		snprintf(v, n, "(none)");
	else if (val->type == CAIRN_TYPE_STRING)
		snprintf(v, n, "%s", val->s);
	else if (val->type == CAIRN_TYPE_BOOL)
		snprintf(v, n, "%s", val->i ? "true" : "false");
	else if (val->type == CAIRN_TYPE_INT)
		snprintf(v, n, "%lld", (long long)val->i);
	else
		cli_fmt_num(v, n, val->f);
}

static int print_groups(const cairn_group_result *res, bool csv, bool by_metric, bool desc)
{
	const char *metric = cairn_group_result_metric(res);
	size_t n = cairn_group_result_count(res);
	grow *rows = calloc(n ? n : 1, sizeof *rows);
	if (!rows)
		return cli_fail("out of memory");
	for (size_t i = 0; i < n; i++) {
		rows[i].g = cairn_group_result_get(res, i);
		rows[i].has = rows[i].g->values > 0;
	}
	if (by_metric) {
		grow_desc = desc;
		/* stable: the library's value order breaks ties */
		for (size_t a = 1; a < n; a++)
			for (size_t b = a; b > 0 && cmp_grow(&rows[b - 1], &rows[b]) > 0; b--) {
				grow tmp = rows[b];
				rows[b] = rows[b - 1];
				rows[b - 1] = tmp;
			}
	}
	int ncols = metric ? 5 : 2;
	table *t = table_new(ncols);
	char h[4][360];
	snprintf(h[0], sizeof h[0], "%s", cairn_group_result_field(res));
	table_header(t, 0, h[0]);
	table_header(t, 1, "RUNS");
	table_align_right(t, 1, true);
	if (metric) {
		static const char *const names[] = {"MIN", "MEAN", "MAX"};
		for (int k = 0; k < 3; k++) {
			snprintf(h[k + 1], sizeof h[k + 1], "%s %s", names[k], metric);
			table_header(t, 2 + k, h[k + 1]);
			table_align_right(t, 2 + k, true);
		}
	}
	for (size_t i = 0; i < n; i++) {
		char v[512], cnt[32], st[3][64];
		const cairn_group *g = rows[i].g;
		group_value_text(v, sizeof v, g);
		snprintf(cnt, sizeof cnt, "%lld", (long long)g->count);
		double x[3] = {g->min, g->mean, g->max};
		for (int k = 0; k < 3; k++) {
			if (g->values > 0)
				cli_fmt_num(st[k], sizeof st[k], x[k]);
			else
				st[k][0] = '\0';
		}
		const char *cells[] = {v, cnt, st[0], st[1], st[2]};
		table_row(t, cells);
	}
	if (csv)
		table_print_csv(t, stdout);
	else
		table_print(t, stdout, cli_term_width());
	table_free(t);
	free(rows);
	return 0;
}

/* --- the command ------------------------------------------------------------------ */

static int parse_count(const char *cmd, const char *opt, const char *val, int64_t *out)
{
	char *end;
	long long v = strtoll(val, &end, 10);
	if (*end || end == val || v < 0)
		return cli_usage_error(cmd, "%s needs a non-negative integer, got '%s'", opt, val);
	*out = v;
	return 0;
}

int ls_run(int argc, char **argv, bool best)
{
	enum {
		O_HELP = 1,
		O_PROJECT,
		O_LIMIT,
		O_OFFSET,
		O_FORMAT,
		O_JSON,
		O_ALL,
		O_SORT,
		O_GROUP,
		O_METRIC,
		O_COLUMNS,
		O_HIGHER,
		O_LOWER
	};
	static const cli_opt ls_opts[] = {
	    {"help", 'h', false, O_HELP},      {"project", 'p', true, O_PROJECT},
	    {"limit", 'n', true, O_LIMIT},     {"offset", 0, true, O_OFFSET},
	    {"format", 'f', true, O_FORMAT},   {"json", 0, false, O_JSON},
	    {"all", 'a', false, O_ALL},        {"sort", 's', true, O_SORT},
	    {"group", 'g', true, O_GROUP},     {"metric", 'm', true, O_METRIC},
	    {"columns", 'c', true, O_COLUMNS}, {0}};
	static const cli_opt best_opts[] = {{"help", 'h', false, O_HELP},
	                                    {"project", 'p', true, O_PROJECT},
	                                    {"format", 'f', true, O_FORMAT},
	                                    {"json", 0, false, O_JSON},
	                                    {"all", 'a', false, O_ALL},
	                                    {"columns", 'c', true, O_COLUMNS},
	                                    {"higher", 0, false, O_HIGHER},
	                                    {"lower", 0, false, O_LOWER},
	                                    {0}};
	const char *cmd = best ? "best" : "ls";
	cli_args a;
	cairn_store *s = NULL;
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	const char *format = "table", *group = NULL, *metric = NULL, *columns = NULL, *sort = NULL;
	char *query = NULL, *out = NULL, *bestq = NULL, bestsort[400];
	char **sortf = NULL, **colf = NULL;
	int nsort = 0, ncolf = 0, dir = 0;
	runs rs = {0};
	cols c = {0};
	int o, rc = 0;
	size_t pos;
	cli_args_init(&a, cmd, argc, argv);
	while ((o = cli_next(&a, best ? best_opts : ls_opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(best ? best_usage : usage); goto done;
		case O_PROJECT: qo.project = a.val; break;
		case O_LIMIT:
			if ((rc = parse_count(cmd, "--limit", a.val, &qo.limit)) != 0)
				goto done;
			/* the library reads limit 0 as "no limit": never pass it on */
			if (qo.limit == 0) {
				rc = cli_usage_error(cmd,
				                     "--limit must be at least 1 (leave it out to "
				                     "list every run)");
				goto done;
			}
			break;
		case O_OFFSET:
			if ((rc = parse_count(cmd, "--offset", a.val, &qo.offset)) != 0)
				goto done;
			break;
		case O_FORMAT: format = a.val; break;
		case O_JSON: format = "json"; break;
		case O_ALL: qo.include_deleted = 1; break;
		case O_SORT: sort = a.val; break;
		case O_GROUP: group = a.val; break;
		case O_METRIC: metric = a.val; break;
		case O_COLUMNS: columns = a.val; break;
		case O_HIGHER: dir = 1; break;
		case O_LOWER: dir = -1; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "csv")) {
		rc = cli_usage_error(cmd, "--format must be table, json or csv, not '%s'", format);
		goto done;
	}
	/* QUERY: the positionals, joined (so `cairn ls status = finished` works) */
	int first = 0;
	if (best) {
		if (a.npos < 1) {
			rc = cli_usage_error(cmd, "name the metric to rank runs by");
			goto done;
		}
		first = 1;
	}
	size_t qlen = 0;
	for (int i = first; i < a.npos; i++)
		qlen += strlen(a.pos[i]) + 1;
	query = calloc(qlen + 1, 1);
	if (!query) {
		rc = cli_fail("out of memory");
		goto done;
	}
	for (int i = first; i < a.npos; i++) {
		if (i > first)
			strcat(query, " ");
		strcat(query, a.pos[i]);
	}
	if (cairn_query_validate(query, &pos) != 0) {
		rc = cli_caret_error(query, pos);
		goto done;
	}
	if (best) {
		/* METRIC: metrics.KEY[.part] or KEY */
		rfield mf;
		char mname[400];
		const char *m = a.pos[0];
		if (strchr(m, '.') || strchr(m, '`'))
			snprintf(mname, sizeof mname, "%s", m);
		else
			snprintf(mname, sizeof mname, "metrics.%s", m);
		if (rfield_parse(&mf, mname, &pos) != 0) {
			rc = cli_caret_error(mname, pos);
			goto done;
		}
		if (!dir)
			dir = cairn_metric_direction(mf.key);
		if (!dir) {
			rc = cli_usage_error(
			    cmd,
			    "cannot tell whether a higher or a lower %s is better: give "
			    "--higher or --lower",
			    mf.name);
			goto done;
		}
		snprintf(bestsort, sizeof bestsort, "%s%s", dir > 0 ? "-" : "", mf.name);
		sort = bestsort;
		size_t bl = strlen(query) + strlen(mf.name) + 32;
		bestq = malloc(bl);
		if (!bestq) {
			rc = cli_fail("out of memory");
			goto done;
		}
		/* only runs with a number for the metric can be best */
		if (*query)
			snprintf(bestq, bl, "(%s) and %s != nan", query, mf.name);
		else
			snprintf(bestq, bl, "%s != nan", mf.name);
		qo.limit = 1;
	}
	if (sort && cairn_query_sort_validate(sort, &pos) != 0) {
		rc = cli_caret_error(sort, pos);
		goto done;
	}
	qo.query = bestq ? bestq : query;
	qo.sort = sort;
	if (sort && split_fields(sort, &sortf, &nsort, true) != 0) {
		rc = cli_fail("out of memory");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	if (group) {
		if (!metric && nsort > 0)
			metric = sortf[0];
		if (strcmp(format, "json") == 0) {
			if (cairn_query_group_json(&out, s, &qo, group, metric) != 0)
				rc = cli_fail_lib("cannot group runs");
			else
				puts(out);
			goto done;
		}
		cairn_group_result *gr = NULL;
		if (cairn_query_group(&gr, s, &qo, group, metric) != 0) {
			rc = cli_fail_lib("cannot group runs");
			goto done;
		}
		bool by_metric = metric && nsort > 0 && strcmp(metric, sortf[0]) == 0;
		rc =
		    print_groups(gr, strcmp(format, "csv") == 0, by_metric, sort && sort[0] == '-');
		cairn_group_result_free(gr);
		goto done;
	}
	if (runs_load(&rs, s, &qo) != 0) {
		rc = cli_fail_lib(best ? "cannot find the best run" : "cannot list runs");
		goto done;
	}
	if (best && rs.n == 0) {
		rc = cli_fail("no run%s has a value for %s",
		              *query ? " that matches the query" : "", sort + (sort[0] == '-'));
		goto done;
	}
	if (strcmp(format, "json") == 0) {
		/* the run objects (for `best`, the one run), as the library writes them */
		if (!best)
			putchar('[');
		for (size_t i = 0; i < rs.n; i++) {
			char *js = NULL;
			if (cairn_run_record_json(&js, rs.v[i], NULL, 0) != 0) {
				rc = cli_fail_lib(NULL);
				goto done;
			}
			printf("%s%s", i ? "," : "", js);
			cairn_free(js);
		}
		printf(best ? "\n" : "]\n");
		goto done;
	}
	bool plus = columns && columns[0] == '+';
	if (columns && split_fields(columns + plus, &colf, &ncolf, false) != 0) {
		rc = cli_fail("out of memory");
		goto done;
	}
	if (!columns || plus)
		default_columns(&c, &rs, sortf, nsort);
	for (int i = 0; i < ncolf; i++) {
		rfield f;
		if (rfield_parse(&f, colf[i], &pos) != 0) {
			rc = cli_caret_error(colf[i], pos);
			goto done;
		}
		cols_add(&c, &f, NULL);
	}
	print_runs(&rs, &c, strcmp(format, "csv") == 0, rs.total);
done:
	free(c.v);
	free_fields(sortf, nsort);
	free_fields(colf, ncolf);
	runs_free(&rs);
	cairn_free(out);
	free(query);
	free(bestq);
	cli_args_free(&a);
	return rc;
}

int cmd_ls(int argc, char **argv)
{
	return ls_run(argc, argv, false);
}

int cmd_best(int argc, char **argv)
{
	return ls_run(argc, argv, true);
}
