/*
 * cli/cmd-show.c — `cairn show RUN [--json]`: everything recorded for a run.
 * Reads summaries, never metric points, so it is fast at any run size.
 *
 * Every string it prints comes from the store, where anyone who could log
 * into a run put it: each one goes through cli_safe_text (control
 * characters become spaces, as in `cairn ls`), through safe() for printf
 * arguments and tables for the rest.  --json prints the library's JSON
 * unchanged, escapes and all.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/clock.h"
#include "util/json.h"

static const char usage[] = "usage: cairn show [RUN] [--json]\n\n"
                            "Show a run: lifecycle, params, metrics (last/min/max/count/step),\n"
                            "tags, properties, note, code, data, environment and artifacts.\n"
                            "RUN defaults to $CAIRN_RUN_ID.\n\n"
                            "options:\n"
                            "  --json   print one JSON object (see docs/cli/show.md)\n";

static void value_text(char *out, size_t n, const json *v)
{
	double d;
	switch (v->type) {
	case JSON_NULL: snprintf(out, n, "-"); break;
	case JSON_BOOL: snprintf(out, n, "%s", v->b ? "true" : "false"); break;
	case JSON_NUM:
		if (v->is_int)
			snprintf(out, n, "%lld", (long long)v->i);
		else
			snprintf(out, n, "%.10g", v->num);
		break;
	case JSON_STR:
		if (json_num_value(v, &d))
			cli_fmt_num(out, n, d);
		else
			snprintf(out, n, "%s", v->str);
		break;
	default: snprintf(out, n, "…"); break;
	}
}

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

static void section(const char *title, bool color)
{
	if (color)
		printf("\n\033[1m%s\033[0m\n", title);
	else
		printf("\n%s\n", title);
}

int cmd_show(int argc, char **argv)
{
	enum { O_HELP = 1, O_JSON };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP}, {"json", 0, false, O_JSON}, {0}};
	cli_args a;
	cairn_store *s = NULL;
	char *out = NULL;
	json_doc *doc = NULL;
	safe_ring sr = {{NULL}, 0};
	bool as_json = false;
	int o, rc = 0;
	cli_args_init(&a, "show", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == O_HELP) {
			cli_help(usage);
			goto done;
		}
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
	if (cairn_run_get_json(&out, s, id) != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}
	if (as_json) {
		puts(out);
		goto done;
	}
	char err[128], tmp[256], t1[32], t2[32];
	doc = json_parse(out, strlen(out), NULL, err, sizeof err);
	if (!doc) {
		rc = cli_fail("internal: bad JSON from the library: %s", err);
		goto done;
	}
	const json *r = json_root(doc);
	bool color = cli_color();
	double st = 0, en = 0;
	json_get_num(r, "start_time", &st);
	json_get_num(r, "end_time", &en);
	clock_format_iso(t1, st);
	clock_format_iso(t2, en);
	printf("%s%s%s  %s  (%s #%lld)\n", color ? "\033[1m" : "",
	       safe(&sr, json_get_str(r, "name")), color ? "\033[0m" : "",
	       safe(&sr, json_get_str(r, "id")), safe(&sr, json_get_str(r, "project")),
	       (long long)json_get(r, "seq")->i);
	const json *ec = json_get(r, "exit_code");
	printf("status    %s", safe(&sr, json_get_str(r, "status")));
	if (ec && ec->type == JSON_NUM)
		printf(" (exit code %lld)", (long long)ec->i);
	printf("\nstarted   %s\n", t1);
	if (en > 0)
		printf("ended     %s (%.1fs)\n", t2, en - st);
	const char *cmd = json_get_str(r, "command");
	if (cmd)
		printf("command   %s\n", safe(&sr, cmd));
	const char *host = json_get_str(r, "host"), *user = json_get_str(r, "user");
	if (host || user)
		printf("host      %s%s%s\n", safe(&sr, user), user ? "@" : "", safe(&sr, host));
	const char *cwd = json_get_str(r, "cwd");
	if (cwd)
		printf("cwd       %s\n", safe(&sr, cwd));
	const json *tags = json_get(r, "tags");
	if (tags && tags->len) {
		printf("tags     ");
		for (const json *x = tags->child; x; x = x->next)
			printf(" %s", safe(&sr, x->str));
		printf("\n");
	}
	const char *note = json_get_str(r, "note");
	if (note && *note)
		print_note(note);

	const json *code = json_get(r, "code");
	if (code && code->type == JSON_OBJ) {
		section("code", color);
		const char *c = json_get_str(code, "commit");
		const json *dirty = json_get(code, "dirty");
		printf("  commit  %s%s\n", c ? safe(&sr, c) : "(not a git repository)",
		       dirty && dirty->type == JSON_BOOL && dirty->b ? " (dirty)" : "");
		if (json_get_str(code, "branch"))
			printf("  branch  %s\n", safe(&sr, json_get_str(code, "branch")));
		if (json_get_str(code, "remote"))
			printf("  remote  %s\n", safe(&sr, json_get_str(code, "remote")));
	}

	const json *params = json_get(r, "params");
	if (params && params->len) {
		section("params", color);
		table *t = table_new(2);
		for (const json *p = params->child; p; p = p->next) {
			char key[300];
			value_text(tmp, sizeof tmp, p);
			snprintf(key, sizeof key, "  %s", p->key);
			const char *cells[] = {key, tmp};
			table_row(t, cells);
		}
		table_header(t, 0, "  KEY");
		table_header(t, 1, "VALUE");
		table_print(t, stdout, cli_term_width());
		table_free(t);
	}
	const json *metrics = json_get(r, "metrics");
	if (metrics && metrics->len) {
		section("metrics", color);
		table *t = table_new(6);
		const char *h[] = {"  KEY", "LAST", "MIN", "MAX", "COUNT", "STEP"};
		for (int c = 0; c < 6; c++) {
			table_header(t, c, h[c]);
			table_align_right(t, c, c > 0);
		}
		for (const json *m = metrics->child; m; m = m->next) {
			char v[4][48];
			static const char *const ks[] = {"last", "min", "max"};
			for (int k = 0; k < 3; k++)
				value_text(v[k], sizeof v[k], json_get(m, ks[k]));
			char cnt[32], stp[32], key[300];
			snprintf(cnt, sizeof cnt, "%lld", (long long)json_get(m, "count")->i);
			snprintf(stp, sizeof stp, "%lld", (long long)json_get(m, "step")->i);
			snprintf(key, sizeof key, "  %s", m->key);
			const char *cells[] = {key, v[0], v[1], v[2], cnt, stp};
			table_row(t, cells);
		}
		table_print(t, stdout, cli_term_width());
		table_free(t);
	}
	const json *props = json_get(r, "properties");
	if (props && props->len) {
		section("properties", color);
		for (const json *p = props->child; p; p = p->next)
			printf("  %s = %s\n", safe(&sr, p->key), safe(&sr, p->str));
	}
	const json *ds = json_get(r, "datasets");
	if (ds && ds->len) {
		section("data", color);
		for (const json *d = ds->child; d; d = d->next) {
			printf(
			    "  %s (%s)  %s  %s:%s  %lld files, %lld bytes\n",
			    safe(&sr, json_get_str(d, "name")), safe(&sr, json_get_str(d, "role")),
			    safe(&sr, json_get_str(d, "path")), safe(&sr, json_get_str(d, "algo")),
			    safe(&sr, json_get_str(d, "digest")),
			    (long long)json_get(d, "files")->i, (long long)json_get(d, "bytes")->i);
			data_print_sample(s, json_get_str(r, "id"), json_get_str(d, "name"), 5);
		}
	}
	const json *env = json_get(r, "environment");
	if (env && env->type == JSON_OBJ) {
		section("environment", color);
		for (const json *e = env->child; e; e = e->next) {
			if (e->type == JSON_STR || e->type == JSON_NUM || e->type == JSON_BOOL) {
				value_text(tmp, sizeof tmp, e);
				printf("  %-12s %s\n", safe(&sr, e->key), safe(&sr, tmp));
			}
		}
	}
	const json *arts = json_get(r, "artifacts");
	if (arts && arts->len) {
		section("artifacts", color);
		for (const json *x = arts->child; x; x = x->next)
			printf("  %-40s %10lld  %s\n", safe(&sr, json_get_str(x, "path")),
			       (long long)json_get(x, "size")->i,
			       safe(&sr, json_get_str(x, "kind")));
	}
done:
	safe_free(&sr);
	json_doc_free(doc);
	cairn_free(out);
	cli_args_free(&a);
	return rc;
}
