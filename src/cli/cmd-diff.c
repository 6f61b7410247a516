/*
 * cli/cmd-diff.c — `cairn diff RUN_A RUN_B`: what differs between two runs,
 * dimension by dimension (params, metrics, code, data, environment, command,
 * tags, properties), from cairn_run_diff_json.  Only what differs is shown;
 * identical runs say so.  Colour (better/worse, added/removed) only on a
 * terminal.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/json.h"

static const char usage[] =
    "usage: cairn diff RUN_A RUN_B [--json] [--higher METRIC]... [--lower METRIC]...\n\n"
    "Show what differs between two runs: params (changed, added, removed), metrics\n"
    "(final values, absolute and relative change, which run is better), code, data,\n"
    "environment, command line, tags and properties.\n\n"
    "options:\n"
    "      --json           print the diff as one JSON object (see docs/cli/diff.md)\n"
    "      --higher METRIC  higher values of METRIC are better (repeatable)\n"
    "      --lower METRIC   lower values of METRIC are better (repeatable)\n"
    "Without --higher/--lower the direction is guessed from the name: loss, error,\n"
    "rmse, … are lower-is-better; acc, auc, f1, precision, recall, … higher.\n";

static bool color;

static const char *c_on(const char *sgr)
{
	static char b[4][16];
	static int i;
	if (!color || !sgr)
		return "";
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "\033[%sm", sgr);
	return b[i];
}

static const char *c_off(void)
{
	return color ? "\033[0m" : "";
}

static void value_text(char *out, size_t n, const json *v)
{
	double d;
	if (!v || v->type == JSON_NULL) {
		snprintf(out, n, "-");
		return;
	}
	switch (v->type) {
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

static void section(const char *title)
{
	printf("\n%s%s%s\n", c_on("1"), title, c_off());
}

static size_t key_width(const json *arr, const char *field, size_t w)
{
	for (const json *e = arr ? arr->child : NULL; e; e = e->next) {
		const char *k = json_get_str(e, field);
		if (k && strlen(k) > w)
			w = strlen(k);
	}
	return w > 40 ? 40 : w;
}

/* changed / added / removed lists of {key, a, b} / {key, value} */
static bool print_kv(const json *o, const char *keyname)
{
	const json *ch = json_get(o, "changed"), *ad = json_get(o, "added"),
	           *rm = json_get(o, "removed");
	if ((!ch || !ch->len) && (!ad || !ad->len) && (!rm || !rm->len))
		return false;
	size_t w = key_width(ch, keyname, key_width(ad, keyname, key_width(rm, keyname, 4)));
	char x[512], y[512];
	for (const json *e = ch ? ch->child : NULL; e; e = e->next) {
		value_text(x, sizeof x, json_get(e, "a"));
		value_text(y, sizeof y, json_get(e, "b"));
		printf("  ~ %-*s  %s → %s\n", (int)w, json_get_str(e, keyname), x, y);
	}
	for (const json *e = ad ? ad->child : NULL; e; e = e->next) {
		value_text(x, sizeof x, json_get(e, "value"));
		printf("  %s+ %-*s  %s%s\n", c_on("32"), (int)w, json_get_str(e, keyname), x,
		       c_off());
	}
	for (const json *e = rm ? rm->child : NULL; e; e = e->next) {
		value_text(x, sizeof x, json_get(e, "value"));
		printf("  %s- %-*s  %s%s\n", c_on("31"), (int)w, json_get_str(e, keyname), x,
		       c_off());
	}
	return true;
}

static void print_metrics(const json *m)
{
	const json *ch = json_get(m, "changed");
	size_t w = key_width(
	    ch, "key",
	    key_width(json_get(m, "added"), "key", key_width(json_get(m, "removed"), "key", 4)));
	if (ch && ch->len)
		printf("  %-*s  %12s  %12s  %s\n", (int)w + 2, "", "a", "b", "change");
	for (const json *e = ch ? ch->child : NULL; e; e = e->next) {
		char x[64], y[64], d[64] = "", r[64] = "";
		value_text(x, sizeof x, json_get(e, "a"));
		value_text(y, sizeof y, json_get(e, "b"));
		double cd, rel;
		if (json_get_num(e, "change", &cd)) {
			char t[48];
			cli_fmt_num(t, sizeof t, cd);
			snprintf(d, sizeof d, "%s%s", cd > 0 ? "+" : "", t);
		}
		if (json_get_num(e, "relative", &rel))
			snprintf(r, sizeof r, " (%+.1f%%)", rel * 100);
		const char *better = json_get_str(e, "better");
		const char *dir = json_get_str(e, "direction");
		const char *sgr = better ? (strcmp(better, "b") == 0 ? "32" : "31") : NULL;
		printf("  ~ %-*s  %12s  %12s  %s%s%s%s", (int)w, json_get_str(e, "key"), x, y,
		       c_on(sgr), d, r, c_off());
		if (better)
			printf("  %s is better (%s is better)", better,
			       dir && strcmp(dir, "lower") == 0 ? "lower" : "higher");
		printf("\n");
	}
	char x[64];
	for (const json *e = json_get(m, "added") ? json_get(m, "added")->child : NULL; e;
	     e = e->next) {
		value_text(x, sizeof x, json_get(e, "value"));
		printf("  %s+ %-*s  %12s%s  (only in b)\n", c_on("32"), (int)w,
		       json_get_str(e, "key"), x, c_off());
	}
	for (const json *e = json_get(m, "removed") ? json_get(m, "removed")->child : NULL; e;
	     e = e->next) {
		value_text(x, sizeof x, json_get(e, "value"));
		printf("  %s- %-*s  %12s%s  (only in a)\n", c_on("31"), (int)w,
		       json_get_str(e, "key"), x, c_off());
	}
}

static void code_side(char *out, size_t n, const json *c, const char *key)
{
	const json *v = c && c->type == JSON_OBJ ? json_get(c, key) : NULL;
	if (v && v->type == JSON_STR && strcmp(key, "commit") == 0)
		snprintf(out, n, "%.12s", v->str);
	else
		value_text(out, n, v);
}

static void print_code(const json *code)
{
	const json *a = json_get(code, "a"), *b = json_get(code, "b");
	static const char *const keys[] = {"commit", "branch", "dirty", "remote"};
	static const char *const flags[] = {"commit_changed", "branch_changed", "dirty_changed",
	                                    NULL};
	for (int k = 0; k < 4; k++) {
		char x[128], y[128];
		code_side(x, sizeof x, a, keys[k]);
		code_side(y, sizeof y, b, keys[k]);
		const json *f = flags[k] ? json_get(code, flags[k]) : NULL;
		bool changed = f ? f->b : strcmp(x, y) != 0;
		if (changed)
			printf("  %-7s %s → %s\n", keys[k], x, y);
	}
	const json *snap = json_get(code, "snapshot_changed");
	const json *fa = json_get(code, "commit_changed");
	if (snap && snap->b && !(fa && fa->b))
		printf("  the uncommitted changes differ\n");
	const json *d = json_get(code, "diff");
	if (d && d->type == JSON_STR && d->len) {
		/* the unified diff, coloured by line on a terminal */
		const char *p = d->str;
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			const char *sgr = NULL;
			if (strncmp(p, "+++", 3) == 0 || strncmp(p, "---", 3) == 0 ||
			    strncmp(p, "diff ", 5) == 0)
				sgr = "1";
			else if (*p == '+')
				sgr = "32";
			else if (*p == '-')
				sgr = "31";
			else if (strncmp(p, "@@", 2) == 0)
				sgr = "36";
			printf("  %s%.*s%s\n", c_on(sgr), (int)n, p, sgr ? c_off() : "");
			p += n + (nl ? 1 : 0);
		}
	}
}

static void print_data(const json *data)
{
	const json *ds = json_get(data, "datasets");
	char same[1024] = "";
	size_t o = 0;
	for (const json *d = ds ? ds->child : NULL; d; d = d->next) {
		const char *st = json_get_str(d, "status"), *name = json_get_str(d, "name");
		const json *a = json_get(d, "a"), *b = json_get(d, "b");
		if (strcmp(st, "same") == 0) {
			if (o < sizeof same)
				o += (size_t)snprintf(same + o, sizeof same - o, "%s%s",
				                      o ? ", " : "", name);
			continue;
		}
		if (strcmp(st, "added") == 0) {
			printf("  %s+ %s  %s (%s)%s\n", c_on("32"), name, json_get_str(b, "digest"),
			       json_get_str(b, "path"), c_off());
		} else if (strcmp(st, "removed") == 0) {
			printf("  %s- %s  %s (%s)%s\n", c_on("31"), name, json_get_str(a, "digest"),
			       json_get_str(a, "path"), c_off());
		} else {
			double fa = 0, fb = 0, ba = 0, bb = 0;
			json_get_num(a, "files", &fa);
			json_get_num(b, "files", &fb);
			json_get_num(a, "bytes", &ba);
			json_get_num(b, "bytes", &bb);
			printf("  ~ %s  %s → %s  (%.0f → %.0f files, %.0f → %.0f bytes)\n", name,
			       json_get_str(a, "digest"), json_get_str(b, "digest"), fa, fb, ba,
			       bb);
		}
		const json *files = json_get(d, "files");
		if (files && files->type == JSON_OBJ) {
			static const char *const kinds[] = {"added", "removed", "changed"};
			static const char *const marks[] = {"+", "-", "~"};
			for (int k = 0; k < 3; k++) {
				const json *l = json_get(files, kinds[k]);
				for (const json *p = l ? l->child : NULL; p; p = p->next)
					printf("      %s %s\n", marks[k],
					       p->type == JSON_STR ? p->str : "?");
			}
		}
	}
	if (o)
		printf("  unchanged: %s\n", same);
}

static void print_env(const json *env)
{
	const json *rec = json_get(env, "recorded");
	if (rec) {
		const json *a = json_get(rec, "a"), *b = json_get(rec, "b");
		if (a && b && a->b != b->b)
			printf("  recorded for %s only\n", a->b ? "a" : "b");
	}
	const json *ch = json_get(env, "changed");
	size_t w = key_width(ch, "key", 4);
	for (const json *e = ch ? ch->child : NULL; e; e = e->next) {
		char x[256], y[256];
		const json *va = json_get(e, "a"), *vb = json_get(e, "b");
		if (va && (va->type == JSON_ARR || va->type == JSON_OBJ))
			snprintf(x, sizeof x, "(%zu entries)", va->len);
		else
			value_text(x, sizeof x, va);
		if (vb && (vb->type == JSON_ARR || vb->type == JSON_OBJ))
			snprintf(y, sizeof y, "(%zu entries)", vb->len);
		else
			value_text(y, sizeof y, vb);
		printf("  ~ %-*s  %s → %s\n", (int)w, json_get_str(e, "key"), x, y);
	}
	static const char *const groups[] = {"packages", "env_vars"};
	static const char *const titles[] = {"packages", "environment variables"};
	for (int g = 0; g < 2; g++) {
		const json *p = json_get(env, groups[g]);
		const json *c = json_get(p, "changed"), *ad = json_get(p, "added"),
		           *rm = json_get(p, "removed");
		if ((!c || !c->len) && (!ad || !ad->len) && (!rm || !rm->len))
			continue;
		printf("  %s:\n", titles[g]);
		for (const json *e = c ? c->child : NULL; e; e = e->next) {
			char x[256], y[256];
			value_text(x, sizeof x, json_get(e, "a"));
			value_text(y, sizeof y, json_get(e, "b"));
			printf("    ~ %s  %s → %s\n", json_get_str(e, "name"), x, y);
		}
		for (const json *e = ad ? ad->child : NULL; e; e = e->next) {
			char x[256];
			value_text(x, sizeof x, json_get(e, "value"));
			printf("    %s+ %s  %s%s\n", c_on("32"), json_get_str(e, "name"), x,
			       c_off());
		}
		for (const json *e = rm ? rm->child : NULL; e; e = e->next) {
			char x[256];
			value_text(x, sizeof x, json_get(e, "value"));
			printf("    %s- %s  %s%s\n", c_on("31"), json_get_str(e, "name"), x,
			       c_off());
		}
	}
	const json *f = json_get(env, "files");
	const json *fc = json_get(f, "changed"), *fa = json_get(f, "added"),
	           *fr = json_get(f, "removed");
	if ((fc && fc->len) || (fa && fa->len) || (fr && fr->len)) {
		printf("  files:\n");
		for (const json *e = fc ? fc->child : NULL; e; e = e->next)
			printf("    ~ %s\n", json_get_str(e, "path"));
		for (const json *e = fa ? fa->child : NULL; e; e = e->next)
			printf("    %s+ %s%s\n", c_on("32"), json_get_str(e, "path"), c_off());
		for (const json *e = fr ? fr->child : NULL; e; e = e->next)
			printf("    %s- %s%s\n", c_on("31"), json_get_str(e, "path"), c_off());
	}
}

static bool has_changes(const json *o)
{
	static const char *const k[] = {"changed", "added", "removed"};
	for (int i = 0; i < 3; i++) {
		const json *l = json_get(o, k[i]);
		if (l && l->len)
			return true;
	}
	return false;
}

static bool not_same(const json *o)
{
	const json *s = json_get(o, "same");
	return s && s->type == JSON_BOOL && !s->b;
}

int cmd_diff(int argc, char **argv)
{
	enum { O_HELP = 1, O_JSON, O_HIGHER, O_LOWER };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"json", 0, false, O_JSON},
	                               {"higher", 0, true, O_HIGHER},
	                               {"lower", 0, true, O_LOWER},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	char *out = NULL;
	json_doc *doc = NULL;
	bool as_json = false;
	const char **higher = calloc((size_t)argc + 1, sizeof *higher);
	const char **lower = calloc((size_t)argc + 1, sizeof *lower);
	size_t nh = 0, nl = 0;
	int o, rc = 0;
	cli_args_init(&a, "diff", argc, argv);
	if (!higher || !lower) {
		rc = cli_fail("out of memory");
		goto done;
	}
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_JSON: as_json = true; break;
		case O_HIGHER: higher[nh++] = a.val; break;
		case O_LOWER: lower[nl++] = a.val; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos != 2) {
		rc = cli_usage_error("diff", a.npos < 2 ? "name two runs" : "too many arguments");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	cairn_diff_options dopt = CAIRN_DIFF_OPTIONS_INIT;
	dopt.higher = higher;
	dopt.nhigher = nh;
	dopt.lower = lower;
	dopt.nlower = nl;
	if (cairn_run_diff_json_opts(&out, s, a.pos[0], a.pos[1], &dopt) != 0) {
		rc = cli_fail_lib("cannot diff");
		goto done;
	}
	if (as_json) {
		puts(out);
		goto done;
	}
	char err[128];
	doc = json_parse(out, strlen(out), NULL, err, sizeof err);
	if (!doc) {
		rc = cli_fail("internal: bad JSON from the library: %s", err);
		goto done;
	}
	color = cli_color();
	const json *r = json_root(doc);
	const json *ra = json_get(r, "a"), *rb = json_get(r, "b");
	const json *ident = json_get(r, "identical");
	printf("%sa%s %.8s %s   %sb%s %.8s %s\n", c_on("1"), c_off(), json_get_str(ra, "id"),
	       json_get_str(ra, "name"), c_on("1"), c_off(), json_get_str(rb, "id"),
	       json_get_str(rb, "name"));
	if (ident && ident->b) {
		printf("\nidentical: params, metrics, code, data, environment, command, tags and "
		       "properties are the same\n");
		goto done;
	}
	const json *x;
	if (has_changes(x = json_get(r, "params"))) {
		section("params");
		print_kv(x, "key");
	}
	if (has_changes(x = json_get(r, "metrics"))) {
		section("metrics");
		print_metrics(x);
	}
	if (not_same(x = json_get(r, "code"))) {
		section("code");
		print_code(x);
	}
	if (not_same(x = json_get(r, "data"))) {
		section("data");
		print_data(x);
	}
	if (not_same(x = json_get(r, "environment"))) {
		section("environment");
		print_env(x);
	}
	if (not_same(x = json_get(r, "command"))) {
		char ca[4096], cb[4096];
		value_text(ca, sizeof ca, json_get(x, "a"));
		value_text(cb, sizeof cb, json_get(x, "b"));
		section("command");
		printf("  %s- %s%s\n  %s+ %s%s\n", c_on("31"), ca, c_off(), c_on("32"), cb,
		       c_off());
	}
	x = json_get(r, "tags");
	if ((json_get(x, "added") && json_get(x, "added")->len) ||
	    (json_get(x, "removed") && json_get(x, "removed")->len)) {
		section("tags");
		for (const json *t = json_get(x, "added")->child; t; t = t->next)
			printf("  %s+ %s%s\n", c_on("32"), t->str, c_off());
		for (const json *t = json_get(x, "removed")->child; t; t = t->next)
			printf("  %s- %s%s\n", c_on("31"), t->str, c_off());
	}
	if (has_changes(x = json_get(r, "properties"))) {
		section("properties");
		print_kv(x, "key");
	}
done:
	json_doc_free(doc);
	cairn_free(out);
	cli_args_free(&a);
	free(higher);
	free(lower);
	return rc;
}
