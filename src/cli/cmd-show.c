/*
 * cli/cmd-show.c — `cairn show RUN [--json]`: everything recorded for a run.
 * Reads summaries, never metric points, so it is fast at any run size.
 *
 * Every string it prints comes from the store, where anyone who could log
 * into a run put it: each one goes through cli_safe_text (control
 * characters become spaces, as in `cairn ls`), through safe() for printf
 * arguments and tables for the rest.  It reads the run as a record
 * (cairn/record.h); --json prints the record's JSON projection unchanged,
 * escapes and all.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/fields.h"
#include "util/clock.h"
#include "util/json.h"

static const char usage[] =
    "usage: cairn show [RUN] [--json] [--packages] [--files]\n\n"
    "Show a run: lifecycle, params, metrics (last/min/max/count/step),\n"
    "tags, properties, note, code, data, environment and artifacts.\n"
    "RUN defaults to $CAIRN_RUN_ID.\n\n"
    "options:\n"
    "  --json       print one JSON object (see docs/cli/show.md)\n"
    "  --files      only the files the run read (its input datasets) and wrote\n"
    "               (its artifacts, and output datasets: recorded, not stored)\n"
    "  --packages   list every Python package (by default: the count and the\n"
    "               best-known ones)\n";

/* Packages shown first in the short form, when the run has them: the ones
 * that decide what a training run computes. */
static const char *const key_packages[] = {
    "torch",        "tensorflow",        "jax",       "numpy",       "pandas", "scipy",
    "scikit-learn", "xgboost",           "lightgbm",  "catboost",    "polars", "transformers",
    "keras",        "pytorch-lightning", "lightning", "statsmodels", "cairn"};
#define SHORT_PACKAGES 8

/* Up to SAFE_RING strings made safe for the terminal, alive together for one
 * printf; freed by safe_free. */
#define SAFE_RING 8
typedef struct safe_ring {
	char *s[SAFE_RING];
	int next;
} safe_ring;

static const char *safe(safe_ring *r, const char *s)
{
	free(r->s[r->next]);
	char *d = r->s[r->next] = cli_safe_dup(s, 0);
	r->next = (r->next + 1) % SAFE_RING;
	return d ? d : "";
}

static void safe_free(safe_ring *r)
{
	for (int i = 0; i < SAFE_RING; i++)
		free(r->s[i]);
}

/* A note of several lines: each line after the first indented under it. */
static void print_note(const char *note)
{
	char *t = cli_safe_dup(note, CLI_TEXT_LINES);
	printf("note      ");
	for (const char *p = t ? t : ""; *p; p++) {
		putchar(*p);
		if (*p == '\n' && p[1])
			printf("          ");
	}
	putchar('\n');
	free(t);
}

static int by_name(const void *a, const void *b)
{
	return strcasecmp((*(const json *const *)a)->key, (*(const json *const *)b)->key);
}

/* The Python interpreter and its packages from the environment document:
 * the version and, unless `all`, the package count with the best-known
 * ones; `all` lists every package, one a line, by name. */
/* The number of children `cairn show` names (the rest: `cairn ls 'parent = ID'`). */
#define SHOW_CHILDREN 5

/* The parent (id and name) and the children (count, then the first few,
 * oldest first), each line only when there is something to say. */
static void print_family(cairn_store *s, const cairn_run_record *r, safe_ring *sr)
{
	const char *parent = cairn_run_record_parent(r);
	if (parent) {
		cairn_run_record *p = NULL;
		if (cairn_run_record_get(&p, s, parent, CAIRN_RECORD_DELETED) == 0)
			printf("parent    %s  %s\n", safe(sr, cairn_run_record_name(p)),
			       safe(sr, parent));
		else
			printf("parent    %s\n", safe(sr, parent));
		cairn_error_clear();
		cairn_run_record_free(p);
	}
	int64_t n = cairn_run_record_children(r);
	if (n <= 0)
		return;
	printf("children  %lld\n", (long long)n);
	char q[64];
	snprintf(q, sizeof q, "parent = %s", cairn_run_record_id(r));
	cairn_query_options qo = CAIRN_QUERY_OPTIONS_INIT;
	qo.query = q;
	qo.sort = "seq";
	qo.limit = SHOW_CHILDREN;
	cairn_run_iter *it = NULL;
	cairn_run_record *c = NULL;
	if (cairn_query_iter_new(&it, s, &qo) != 0) {
		cairn_error_clear();
		return;
	}
	while (cairn_run_iter_next(&c, it) == 0 && c) {
		printf("  %s  %s\n", safe(sr, cairn_run_record_name(c)),
		       safe(sr, cairn_run_record_id(c)));
		cairn_run_record_free(c);
		c = NULL;
	}
	cairn_error_clear();
	cairn_run_iter_free(it);
	if (n > SHOW_CHILDREN)
		printf("  … %lld more: cairn ls 'parent = %s'\n", (long long)(n - SHOW_CHILDREN),
		       cairn_run_record_id(r));
}

static void print_python(safe_ring *sr, const char *env, bool all)
{
	json_doc *d = env ? json_parse(env, strlen(env), NULL, NULL, 0) : NULL;
	const json *root = d ? json_root(d) : NULL;
	const json *py = root ? json_get(root, "python") : NULL;
	const json *pk = root ? json_get(root, "packages") : NULL;
	if (py && py->type == JSON_OBJ && json_get_str(py, "version")) {
		const char *impl = json_get_str(py, "implementation");
		const char *exe = json_get_str(py, "executable");
		printf("  %-12s %s", "python", safe(sr, json_get_str(py, "version")));
		if (impl || exe)
			printf(" (%s%s%s)", impl ? safe(sr, impl) : "", impl && exe ? ", " : "",
			       exe ? safe(sr, exe) : "");
		putchar('\n');
	}
	size_t n = pk && pk->type == JSON_OBJ ? pk->len : 0;
	const json **v = n ? calloc(n, sizeof *v) : NULL;
	size_t k = 0;
	for (const json *x = v ? pk->child : NULL; x; x = x->next)
		if (x->type == JSON_STR)
			v[k++] = x;
	if (k) {
		qsort(v, k, sizeof *v, by_name);
		printf("  %-12s %zu", "packages", k);
		if (all) {
			putchar('\n');
			for (size_t i = 0; i < k; i++)
				printf("    %-30s %s\n", safe(sr, v[i]->key), safe(sr, v[i]->str));
		} else {
			size_t shown = 0;
			for (size_t j = 0; j < sizeof key_packages / sizeof key_packages[0]; j++)
				for (size_t i = 0; i < k && shown < SHORT_PACKAGES; i++)
					if (strcasecmp(v[i]->key, key_packages[j]) == 0)
						printf("%s%s %s", shown++ ? ", " : ": ",
						       safe(sr, v[i]->key), safe(sr, v[i]->str));
			for (size_t i = 0; i < k && !shown && i < SHORT_PACKAGES; i++)
				printf("%s%s %s", i ? ", " : ": ", safe(sr, v[i]->key),
				       safe(sr, v[i]->str));
			size_t listed = shown ? shown : (k < SHORT_PACKAGES ? k : SHORT_PACKAGES);
			if (k > listed)
				printf(" and %zu more", k - listed);
			printf("\n  %-12s cairn show --packages lists them all (--json too)\n", "");
		}
	}
	free(v);
	json_doc_free(d);
}

static void section(const char *title, bool color)
{
	if (color)
		printf("\n\033[1m%s\033[0m\n", title);
	else
		printf("\n%s\n", title);
}

/* --- --files ---------------------------------------------------------------------------------- */

/* An artifact the run wrote, not one cairn made of its own (logs, config
 * copies, environment files). */
/* what the query's `wrote` counts: not cairn's own logs, configs, env */
static bool wrote_artifact(const cairn_run_artifact *x)
{
	return !cairn_artifact_is_capture(x->kind);
}

/* One file of --files --json: an input dataset {name, path, digest, files,
 * bytes}, or an output recorded as a dataset {path (its name), size,
 * digest, kind "dataset", stored false}. */
static void put_dataset_file(buf *b, bool *first, const cairn_run_dataset *d, bool output)
{
	if (!*first)
		buf_putc(b, ',');
	*first = false;
	bool k = true;
	buf_putc(b, '{');
	if (!output) {
		json_key(b, &k, "name");
		json_str(b, d->name);
	}
	json_key(b, &k, "path");
	json_str(b, output ? d->name : d->path);
	if (output) {
		json_key(b, &k, "size");
		json_int(b, d->bytes);
	}
	json_key(b, &k, "digest");
	buf_printf(b, "\"%s:%s\"", d->algo, d->digest);
	if (output) {
		json_key(b, &k, "kind");
		json_str(b, "dataset");
		json_key(b, &k, "stored");
		json_bool(b, false);
	} else {
		json_key(b, &k, "files");
		json_int(b, d->files);
		json_key(b, &k, "bytes");
		json_int(b, d->bytes);
	}
	buf_putc(b, '}');
}

static void files_json(const cairn_run_record *r)
{
	buf b = BUF_INIT;
	bool first = true;
	buf_putc(&b, '{');
	json_key(&b, &first, "run");
	json_str(&b, cairn_run_record_id(r));
	json_key(&b, &first, "capture");
	const char *cap = cairn_run_record_property_get(r, "capture.files");
	if (cap)
		json_str(&b, cap);
	else
		buf_puts(&b, "null");
	json_key(&b, &first, "read");
	buf_putc(&b, '[');
	bool f1 = true;
	for (size_t i = 0; i < cairn_run_record_dataset_count(r); i++) {
		const cairn_run_dataset *d = cairn_run_record_dataset(r, i);
		if (strcmp(d->role, "input") == 0)
			put_dataset_file(&b, &f1, d, false);
	}
	buf_putc(&b, ']');
	json_key(&b, &first, "wrote");
	buf_putc(&b, '[');
	f1 = true;
	for (size_t i = 0; i < cairn_run_record_artifact_count(r); i++) {
		const cairn_run_artifact *x = cairn_run_record_artifact(r, i);
		if (!wrote_artifact(x))
			continue;
		if (!f1)
			buf_putc(&b, ',');
		f1 = false;
		bool k = true;
		buf_putc(&b, '{');
		json_key(&b, &k, "path");
		json_str(&b, x->path);
		json_key(&b, &k, "size");
		json_int(&b, x->size);
		json_key(&b, &k, "digest");
		buf_printf(&b, "\"sha256:%s\"", x->digest);
		json_key(&b, &k, "kind");
		json_str(&b, x->kind);
		json_key(&b, &k, "stored");
		json_bool(&b, true);
		buf_putc(&b, '}');
	}
	for (size_t i = 0; i < cairn_run_record_dataset_count(r); i++) {
		const cairn_run_dataset *d = cairn_run_record_dataset(r, i);
		if (strcmp(d->role, "output") == 0)
			put_dataset_file(&b, &f1, d, true);
	}
	buf_puts(&b, "]}");
	if (buf_ok(&b))
		puts(b.ptr);
	buf_free(&b);
}

static void files_text(const cairn_run_record *r, safe_ring *sr, bool color)
{
	const char *cap = cairn_run_record_property_get(r, "capture.files");
	if (cap)
		printf("capture   %s\n", safe(sr, cap));
	section("read", color);
	size_t n = 0;
	for (size_t i = 0; i < cairn_run_record_dataset_count(r); i++) {
		const cairn_run_dataset *d = cairn_run_record_dataset(r, i);
		if (strcmp(d->role, "input") != 0)
			continue;
		n++;
		printf("  %-32s %s:%s  %lld files, %lld bytes  %s\n", safe(sr, d->name),
		       safe(sr, d->algo), safe(sr, d->digest), (long long)d->files,
		       (long long)d->bytes, safe(sr, d->path));
	}
	if (!n)
		printf("  (nothing)\n");
	section("wrote", color);
	n = 0;
	for (size_t i = 0; i < cairn_run_record_artifact_count(r); i++) {
		const cairn_run_artifact *x = cairn_run_record_artifact(r, i);
		if (!wrote_artifact(x))
			continue;
		n++;
		printf("  %-32s %10lld  sha256:%s  stored\n", safe(sr, x->path), (long long)x->size,
		       safe(sr, x->digest));
	}
	for (size_t i = 0; i < cairn_run_record_dataset_count(r); i++) {
		const cairn_run_dataset *d = cairn_run_record_dataset(r, i);
		if (strcmp(d->role, "output") != 0)
			continue;
		n++;
		printf("  %-32s %10lld  %s:%s  not stored\n", safe(sr, d->name),
		       (long long)d->bytes, safe(sr, d->algo), safe(sr, d->digest));
	}
	if (!n)
		printf("  (nothing)\n");
}

int cmd_show(int argc, char **argv)
{
	enum { O_HELP = 1, O_JSON, O_PACKAGES, O_FILES };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"json", 0, false, O_JSON},
	                               {"packages", 0, false, O_PACKAGES},
	                               {"files", 0, false, O_FILES},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	char *out = NULL;
	cairn_run_record *r = NULL;
	safe_ring sr = {{NULL}, 0};
	bool as_json = false, all_packages = false, files = false;
	int o, rc = 0;
	cli_args_init(&a, "show", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == O_HELP) {
			cli_help(usage);
			goto done;
		}
		if (o == O_PACKAGES)
			all_packages = true;
		else if (o == O_FILES)
			files = true;
		else
			as_json = true;
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos > 1) {
		rc = cli_usage_error("show", "too many arguments");
		goto done;
	}
	const char *id = a.npos ? a.pos[0] : getenv("CAIRN_RUN_ID");
	if (!id || !*id) {
		rc = cli_usage_error("show", "name a run (or set CAIRN_RUN_ID)");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	if (cairn_run_record_get(&r, s, id, CAIRN_RECORD_ARTIFACTS) != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}
	if (files) {
		if (as_json)
			files_json(r);
		else
			files_text(r, &sr, cli_color());
		goto done;
	}
	if (as_json) {
		if (cairn_run_record_json(&out, r, NULL, 0) != 0) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
		puts(out);
		goto done;
	}
	char tmp[256], t1[32], t2[32];
	bool color = cli_color();
	double st = cairn_run_record_start_time(r), en = cairn_run_record_end_time(r);
	clock_format_iso(t1, st);
	clock_format_iso(t2, en);
	printf("%s%s%s  %s  (%s #%lld)\n", color ? "\033[1m" : "",
	       safe(&sr, cairn_run_record_name(r)), color ? "\033[0m" : "",
	       safe(&sr, cairn_run_record_id(r)), safe(&sr, cairn_run_record_project(r)),
	       (long long)cairn_run_record_seq(r));
	int64_t ec;
	printf("status    %s", cairn_status_name(cairn_run_record_status(r)));
	if (cairn_run_record_exit_code(&ec, r) == 0)
		printf(" (exit code %lld)", (long long)ec);
	printf("\nstarted   %s\n", t1);
	if (en > 0) {
		printf("ended     %s (%.1fs)\n", t2, en - st);
	} else if (cairn_run_record_status(r) == CAIRN_STATUS_CRASHED &&
	           cairn_run_record_heartbeat(r) > 0) {
		/* a crashed run lasted until its last heartbeat */
		double hb = cairn_run_record_heartbeat(r);
		clock_format_iso(t2, hb);
		printf("last beat %s (%.1fs)\n", t2, hb - st);
	}
	const char *cmd = cairn_run_record_command(r);
	if (cmd)
		printf("command   %s\n", safe(&sr, cmd));
	const char *host = cairn_run_record_host(r), *user = cairn_run_record_user(r);
	if (host || user)
		printf("host      %s%s%s\n", safe(&sr, user), user ? "@" : "", safe(&sr, host));
	const char *cwd = cairn_run_record_cwd(r);
	if (cwd)
		printf("cwd       %s\n", safe(&sr, cwd));
	print_family(s, r, &sr);
	size_t ntags = cairn_run_record_tag_count(r);
	if (ntags) {
		printf("tags     ");
		for (size_t i = 0; i < ntags; i++) {
			const char *tv = cairn_run_record_tag_value(r, i);
			printf(" %s", safe(&sr, cairn_run_record_tag(r, i)));
			if (tv)
				printf("=%s", safe(&sr, tv));
		}
		printf("\n");
	}
	const char *note = cairn_run_record_note(r);
	if (note && *note)
		print_note(note);

	const cairn_run_code *code = cairn_run_record_code(r);
	if (code) {
		section("code", color);
		printf("  commit  %s%s\n",
		       code->commit ? safe(&sr, code->commit) : "(not a git repository)",
		       code->dirty == 1 ? " (dirty)" : "");
		if (code->branch)
			printf("  branch  %s\n", safe(&sr, code->branch));
		if (code->remote)
			printf("  remote  %s\n", safe(&sr, code->remote));
	}

	size_t np = cairn_run_record_param_count(r);
	if (np) {
		section("params", color);
		table *t = table_new(2);
		/* argparse defaults `cairn run` recorded: a JSON array of keys */
		const char *defaults = "", *pv;
		for (size_t i = 0; i < cairn_run_record_property_count(r); i++)
			if (strcmp(cairn_run_record_property(&pv, r, i), "argparse.defaults") == 0)
				defaults = pv;
		for (size_t i = 0; i < np; i++) {
			char key[300];
			cairn_value v;
			const char *k = cairn_run_record_param(&v, r, i);
			rvalue_text(tmp, sizeof tmp, &v, false);
			if (v.type == CAIRN_TYPE_FLOAT && isfinite(v.f))
				snprintf(tmp, sizeof tmp, "%.10g", v.f);
			snprintf(key, sizeof key, "\"%s\"", k);
			if (*defaults && strstr(defaults, key))
				snprintf(tmp + strlen(tmp), sizeof tmp - strlen(tmp),
				         "  (default)");
			snprintf(key, sizeof key, "  %s", k);
			const char *cells[] = {key, tmp};
			table_row(t, cells);
		}
		table_header(t, 0, "  KEY");
		table_header(t, 1, "VALUE");
		table_print(t, stdout, cli_term_width());
		table_free(t);
	}
	size_t nm = cairn_run_record_metric_count(r);
	if (nm) {
		section("metrics", color);
		table *t = table_new(6);
		const char *h[] = {"  KEY", "LAST", "MIN", "MAX", "COUNT", "STEP"};
		for (int c = 0; c < 6; c++) {
			table_header(t, c, h[c]);
			table_align_right(t, c, c > 0);
		}
		for (size_t i = 0; i < nm; i++) {
			const cairn_metric_summary *m = cairn_run_record_metric(r, i);
			char v[3][48];
			const double x[3] = {m->last, m->min, m->max};
			for (int k = 0; k < 3; k++) {
				if (k && isnan(x[k])) /* min/max of an all-NaN series */
					snprintf(v[k], sizeof v[k], "-");
				else if (isfinite(x[k]) && fabs(x[k]) < 1e15 &&
				         x[k] == (double)(long long)x[k])
					snprintf(v[k], sizeof v[k], "%lld", (long long)x[k]);
				else if (isfinite(x[k]))
					snprintf(v[k], sizeof v[k], "%.10g", x[k]);
				else
					cli_fmt_num(v[k], sizeof v[k], x[k]);
			}
			char cnt[32], stp[32], key[300];
			snprintf(cnt, sizeof cnt, "%lld", (long long)m->count);
			snprintf(stp, sizeof stp, "%lld", (long long)m->step);
			snprintf(key, sizeof key, "  %s", m->key);
			const char *cells[] = {key, v[0], v[1], v[2], cnt, stp};
			table_row(t, cells);
		}
		table_print(t, stdout, cli_term_width());
		table_free(t);
	}
	size_t nprops = cairn_run_record_property_count(r);
	if (nprops) {
		section("properties", color);
		for (size_t i = 0; i < nprops; i++) {
			const char *v, *k = cairn_run_record_property(&v, r, i);
			printf("  %s = %s\n", safe(&sr, k), safe(&sr, v));
		}
	}
	size_t nds = cairn_run_record_dataset_count(r);
	if (nds) {
		section("data", color);
		for (size_t i = 0; i < nds; i++) {
			const cairn_run_dataset *d = cairn_run_record_dataset(r, i);
			printf("  %s (%s)  %s  %s:%s  %lld files, %lld bytes\n", safe(&sr, d->name),
			       safe(&sr, d->role), safe(&sr, d->path), safe(&sr, d->algo),
			       safe(&sr, d->digest), (long long)d->files, (long long)d->bytes);
			data_print_sample(s, cairn_run_record_id(r), d->name, 5);
		}
	}
	if (cairn_run_record_environment(r)) {
		size_t ne = cairn_run_record_environment_count(r);
		section("environment", color);
		for (size_t i = 0; i < ne; i++) {
			const char *v, *k = cairn_run_record_environment_item(&v, r, i);
			printf("  %-12s %s\n", safe(&sr, k), safe(&sr, v));
		}
		print_python(&sr, cairn_run_record_environment(r), all_packages);
	}
	size_t na = cairn_run_record_artifact_count(r);
	if (na) {
		section("artifacts", color);
		for (size_t i = 0; i < na; i++) {
			const cairn_run_artifact *x = cairn_run_record_artifact(r, i);
			printf("  %-40s %10lld  %s\n", safe(&sr, x->path), (long long)x->size,
			       safe(&sr, x->kind));
		}
	}
done:
	safe_free(&sr);
	cairn_run_record_free(r);
	cairn_free(out);
	cli_args_free(&a);
	return rc;
}
