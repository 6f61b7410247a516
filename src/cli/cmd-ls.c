/*
 * cli/cmd-ls.c — `cairn ls [QUERY]`: find runs with the query language, sort,
 * group, and show them as a table that fits the terminal (cli/ls-table.c),
 * CSV or JSON.  Also the engine of `cairn best` (ls_run with best = true).
 *
 * Every name the user gives — the query, the sort keys, --group, --metric,
 * --columns, best's METRIC — goes through the library on the store, so a
 * bare metric or param name (valid_acc) means what it means for the HTTP API
 * too, and a name that does not parse or resolve is a usage error (exit 2)
 * printed with a caret under the problem.  A metric or param that no run in
 * scope has is a warning on stderr (for best, an error: it cannot rank by
 * it).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/fields.h"
#include "cli/ls-table.h"
#include "util/json.h"

static const char usage[] =
    "usage: cairn ls [QUERY] [--sort KEYS] [--group FIELD [--metric M]] [--columns COLS]\n"
    "                [--limit N] [--offset N] [--format table|json|csv] [-p PROJECT] [--all]\n\n"
    "List the runs that match QUERY, newest first.  QUERY is the query language\n"
    "(docs/internals/query.md), for example\n"
    "  cairn ls 'metrics.valid_auc > 0.9 and params.model = \"lgbm\" and not tags.debug'\n"
    "A metric or param may be named bare (valid_auc, model) wherever a field is taken,\n"
    "when only one of metrics.X and params.X exists among the runs.\n\n"
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

/* --- fields ------------------------------------------------------------------ */

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

/* A field the user named (a sort key, --group, --metric, a column), bare
 * names resolved among the runs in scope, into its canonical name (*out,
 * cairn_free).  A bad one is a usage error with a caret. */
static int resolve_field(char **out, cairn_store *s, const cairn_query_options *qo,
                         const char *text)
{
	size_t pos;
	if (cairn_query_field_resolve(out, s, qo, text, &pos) == 0)
		return 0;
	return cairn_error_last_code() == CAIRN_EINVALID ? cli_caret_error(text, pos)
	                                                 : cli_fail_lib(NULL);
}

/* Print the library's warnings for a query ("no run has a metric 'nope'");
 * with first_only, return the first as an error instead (best). */
static int warn_query(cairn_store *s, const cairn_query_options *qo, bool as_error, const char *cmd)
{
	char *js = NULL;
	int rc = 0;
	if (cairn_query_warnings(&js, s, qo) != 0) {
		cairn_error_clear();
		return 0;
	}
	char err[64];
	json_doc *d = json_parse(js, strlen(js), NULL, err, sizeof err);
	const json *root = d ? json_root(d) : NULL;
	for (const json *w = root && root->type == JSON_ARR ? root->child : NULL; w; w = w->next) {
		if (w->type != JSON_STR)
			continue;
		if (as_error) {
			rc = cli_usage_error(cmd, "%s", w->str);
			break;
		}
		fputs("warning: ", stderr);
		cli_fputs_safe(stderr, w->str, 0);
		fputc('\n', stderr);
	}
	json_doc_free(d);
	cairn_free(js);
	return rc;
}

/* best's METRIC: metrics.KEY[.part], or KEY (a bare name means a metric
 * here), which some run in scope must have. */
static int best_metric(rfield *mf, cairn_store *s, const cairn_query_options *qo, const char *m)
{
	char mname[400], *canon = NULL;
	size_t pos;
	if (strchr(m, '.') || strchr(m, '`'))
		snprintf(mname, sizeof mname, "%s", m);
	else
		snprintf(mname, sizeof mname, "metrics.%s", m);
	int rc = resolve_field(&canon, s, qo, mname);
	if (rc)
		return rc;
	rc = rfield_parse(mf, canon, &pos) != 0 ? cli_caret_error(canon, pos) : 0;
	cairn_free(canon);
	if (rc)
		return rc;
	if (mf->kind != CAIRN_FIELD_METRIC)
		return cli_usage_error("best", "%s is not a metric (best ranks runs by a metric)",
		                       mf->name);
	cairn_query_options has = *qo;
	char q[420];
	snprintf(q, sizeof q, "%s is not null", mf->name);
	has.query = q;
	has.sort = NULL;
	return warn_query(s, &has, true, "best");
}

/* The page cache of the listing's store handle, in KiB. */
#define LS_CACHE_KIB 512

/* How many runs a listing keeps in memory before it streams; lowered by
 * $CAIRN_LS_KEEP for the tests of the streamed path. */
static size_t ls_keep_limit(void)
{
	const char *e = getenv("CAIRN_LS_KEEP");
	long long v = e && *e ? atoll(e) : 0;
	return v > 0 ? (size_t)v : 20000;
}

/* stdout as the JSON listing's writer: write(2) of the library's pieces
 * (~600 KB), after what stdio holds (print_json flushes first), instead of
 * a copy of each into stdio's buffer. */
static int write_stdout(void *arg, const char *data, size_t len)
{
	(void)arg;
	while (len) {
		ssize_t w = write(STDOUT_FILENO, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return CAIRN_EIO; /* errno says why */
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The JSON listing: the run objects (for best, the one run), as the
 * library writes them, a batch at a time (cairn_run_iter_write_json: loaded
 * by a thread a CPU), so any number of runs takes the memory of a few
 * batches.  A store error mid-way is an error (exit 1) with no closing
 * bracket: never a document that parses but lacks runs. */
static int print_json(cairn_run_iter *it, bool best)
{
	/* nothing went to stdout yet: into a file or a pipe, 64 KiB writes
	 * instead of 4 KiB ones (a listing of 1M runs is ~2 GB) */
	static char obuf[64 << 10];
	if (!cli_isatty(stdout))
		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	if (!best)
		putchar('[');
	if (fflush(stdout) != 0)
		return cli_fail("cannot write the listing: %s", strerror(errno));
	if (cairn_run_iter_write_json(it, write_stdout, NULL) != 0) {
		fflush(stdout);
		return cli_fail_lib("cannot list runs");
	}
	fputs(best ? "\n" : "]\n", stdout);
	return 0;
}

/* The default columns of a streamed listing: one pass over the records. */
static int scan_columns(cairn_run_iter *it, colscan **out)
{
	cairn_run_record *rec;
	int rc;
	colscan *cs = colscan_new();
	if (!cs)
		return cli_fail("out of memory");
	cairn_run_iter_rewind(it);
	while ((rc = cairn_run_iter_next(&rec, it)) == 0) {
		colscan_add(cs, rec);
		cairn_run_record_free(rec);
	}
	if (rc != CAIRN_ITEROVER) {
		colscan_free(cs);
		return cli_fail_lib("cannot list runs");
	}
	*out = cs;
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
	char *query = NULL, *out = NULL, *bestq = NULL, *gcanon = NULL, *mcanon = NULL;
	char bestsort[400];
	char **sortf = NULL, **colf = NULL;
	int nsort = 0, ncolf = 0, dir = 0;
	runs rs = {0};
	cols c = {0};
	cairn_run_iter *it = NULL;
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
	if (metric && !group) {
		rc = cli_usage_error(cmd, "--metric is what --group summarises: give --group too");
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
	/* bare names (valid_acc) resolve among the runs in scope: on the store */
	if ((rc = cli_store(&s)) != 0)
		goto done;
	/* one pass over what it reads, then the process ends: a big page
	 * cache would only be fresh memory to fault in (store.md, "Page
	 * cache"); a store without one ignores it */
	if (cairn_store_set_cache(s, LS_CACHE_KIB) != 0)
		cairn_error_clear();
	qo.query = query;
	qo.sort = sort;
	int in_sort = 0;
	if (cairn_query_check(s, &qo, &pos, &in_sort) != 0) {
		rc = cairn_error_last_code() == CAIRN_EINVALID
		         ? cli_caret_error(in_sort ? sort : query, pos)
		         : cli_fail_lib(NULL);
		goto done;
	}
	if (best) {
		rfield mf;
		if ((rc = best_metric(&mf, s, &qo, a.pos[0])) != 0)
			goto done;
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
	qo.query = bestq ? bestq : query;
	qo.sort = sort;
	if (sort && split_fields(sort, &sortf, &nsort, true) != 0) {
		rc = cli_fail("out of memory");
		goto done;
	}
	/* the sort keys as fields (a bare key by its full name), for columns */
	for (int i = 0; i < nsort; i++) {
		char *canon = NULL;
		if ((rc = resolve_field(&canon, s, &qo, sortf[i])) != 0)
			goto done;
		free(sortf[i]);
		sortf[i] = strdup(canon);
		cairn_free(canon);
		if (!sortf[i]) {
			rc = cli_fail("out of memory");
			goto done;
		}
	}
	if (!best)
		warn_query(s, &qo, false, cmd);
	if (group) {
		if (!metric && nsort > 0)
			metric = sortf[0];
		if ((rc = resolve_field(&gcanon, s, &qo, group)) != 0 ||
		    (metric && (rc = resolve_field(&mcanon, s, &qo, metric)) != 0))
			goto done;
		if (strcmp(format, "json") == 0) {
			if (cairn_query_group_json(&out, s, &qo, gcanon, mcanon) != 0)
				rc = cli_fail_lib("cannot group runs");
			else
				puts(out);
		} else {
			cairn_group_result *gr = NULL;
			if (cairn_query_group(&gr, s, &qo, gcanon, mcanon) != 0) {
				rc = cli_fail_lib("cannot group runs");
			} else {
				bool by_metric =
				    mcanon && nsort > 0 && strcmp(mcanon, sortf[0]) == 0;
				rc = ls_print_groups(gr, strcmp(format, "csv") == 0, by_metric,
				                     sort && sort[0] == '-');
			}
			cairn_group_result_free(gr);
		}
		/* what the checks above let through is still the field's fault
		 * ("cannot group by tags"): a usage error */
		if (rc && cairn_error_last_code() == CAIRN_EINVALID)
			rc = EXIT_USAGE;
		goto done;
	}
	bool plus = columns && columns[0] == '+';
	if (columns && split_fields(columns + plus, &colf, &ncolf, false) != 0) {
		rc = cli_fail("out of memory");
		goto done;
	}
	rfield *colv = calloc((size_t)ncolf + 1, sizeof *colv);
	if (!colv) {
		rc = cli_fail("out of memory");
		goto done;
	}
	for (int i = 0; i < ncolf && rc == 0; i++) {
		char *canon = NULL;
		if ((rc = resolve_field(&canon, s, &qo, colf[i])) == 0 &&
		    rfield_parse(&colv[i], canon, &pos) != 0)
			rc = cli_caret_error(colf[i], 0);
		cairn_free(canon);
	}
	if (rc) {
		free(colv);
		goto done;
	}
	if (cairn_query_iter_new(&it, s, &qo) != 0) {
		free(colv);
		rc = cli_fail_lib(best ? "cannot find the best run" : "cannot list runs");
		goto done;
	}
	if (best && cairn_run_iter_count(it) == 0) {
		free(colv);
		rc = cli_fail("no run%s has a value for %s",
		              *query ? " that matches the query" : "", sort + (sort[0] == '-'));
		goto done;
	}
	if (strcmp(format, "json") == 0) {
		free(colv);
		rc = print_json(it, best);
		goto done;
	}
	/* a page worth keeping is read once; a longer listing streams (two or
	 * three passes over the same ids, none kept) */
	bool stream = cairn_run_iter_count(it) > ls_keep_limit();
	colscan *cs = NULL;
	if (!stream) {
		if (runs_load(&rs, it) != 0) {
			free(colv);
			rc = cli_fail_lib("cannot list runs");
			goto done;
		}
		if (!columns || plus)
			ls_default_columns(&c, &rs, sortf, nsort);
	} else if (!columns || plus) {
		if ((rc = scan_columns(it, &cs)) != 0) {
			free(colv);
			goto done;
		}
		colscan_columns(cs, &c, sortf, nsort);
		colscan_free(cs);
	}
	for (int i = 0; i < ncolf; i++) {
		bool idname = colv[i].kind == CAIRN_FIELD_ATTRIBUTE &&
		              (strcmp(colv[i].key, "id") == 0 || strcmp(colv[i].key, "name") == 0);
		cols_add(&c, &colv[i], NULL,
		         idname ? TABLE_KEEP : (plus ? LS_PRIO_PLUS : LS_PRIO_COLUMNS) - i);
	}
	free(colv);
	if (!stream)
		ls_print_runs(&rs, &c, strcmp(format, "csv") == 0, it);
	else if (ls_stream_runs(it, &c, strcmp(format, "csv") == 0) != 0)
		rc = cli_fail_lib("cannot list runs");
done:
	cairn_run_iter_free(it);
	free(c.v);
	free_fields(sortf, nsort);
	free_fields(colf, ncolf);
	runs_free(&rs);
	cairn_free(out);
	cairn_free(gcanon);
	cairn_free(mcanon);
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
