/*
 * cli/cmd-diff.c — `cairn diff RUN_A RUN_B`: what differs between two runs,
 * dimension by dimension (params, metrics, code, data, environment, command,
 * tags, properties), from the typed diff (cairn_run_diff_new; --json prints
 * cairn_run_diff_json).  Only what differs is shown;
 * identical runs say so.  Colour (better/worse, added/removed) only on a
 * terminal.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn diff RUN_A RUN_B [--json] [--full] [--sys] [--higher METRIC]...\n"
    "                  [--lower METRIC]...\n"
    "       cairn diff RUN [--json] [--full]\n\n"
    "Show what differs between two runs: params (changed, added, removed), metrics\n"
    "(final values, absolute and relative change, which run is better), code, data,\n"
    "environment, command line, tags and properties.  With one run: the\n"
    "uncommitted changes it ran with, its code snapshot against its commit.\n\n"
    "The code is shown as the list of changed files, then the source files' diffs;\n"
    "data-like files (.csv, .parquet, .npy, images, anything binary or over 1 MiB;\n"
    "see docs/cli/diff.md) get a one-line summary instead of their lines.\n\n"
    "options:\n"
    "      --json           print the diff as one JSON object (see docs/cli/diff.md)\n"
    "      --full           diff data-like files line by line too\n"
    "      --sys            include the system metrics (sys/*), left out by default\n"
    "      --higher METRIC  higher values of METRIC are better (repeatable)\n"
    "      --lower METRIC   lower values of METRIC are better (repeatable)\n"
    "Without --higher/--lower the direction is guessed from the name: loss, error,\n"
    "rmse, … are lower-is-better; acc, auc, f1, precision, recall, … higher.\n";

static bool color;
static bool full_diff; /* --full: data-like files' patches too */
static bool show_sys;  /* --sys: the system monitor's sys/ metrics too */

/* A metric of the system monitor (sys/cpu_percent, sys/gpu0/…): recorded
 * for every wrapped run, so in a diff it is noise unless asked for. */
static bool sys_metric(const char *key)
{
	return strncmp(key, "sys/", 4) == 0;
}

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

/* A value as the tables show it: "-" when absent, a float as cli_fmt_num
 * writes a non-finite one (nan, inf), a string as its text (so a string
 * "NaN" stays NaN). */
static void value_text(char *out, size_t n, const cairn_value *v)
{
	switch (v->type) {
	case CAIRN_TYPE_BOOL: snprintf(out, n, "%s", v->i ? "true" : "false"); break;
	case CAIRN_TYPE_INT: snprintf(out, n, "%lld", (long long)v->i); break;
	case CAIRN_TYPE_FLOAT:
		if (isfinite(v->f))
			snprintf(out, n, "%.10g", v->f);
		else
			cli_fmt_num(out, n, v->f);
		break;
	case CAIRN_TYPE_STRING: snprintf(out, n, "%s", v->s); break;
	default: snprintf(out, n, "-"); break;
	}
}

static void num_text(char *out, size_t n, double v)
{
	cairn_value x = {.type = CAIRN_TYPE_FLOAT, .f = v};
	value_text(out, n, &x);
}

/* One side of an entry; an array or object of the environment as its
 * size when `sized`, else as "…". */
static void side_text(char *out, size_t n, const cairn_value *v, const char *js, size_t entries,
                      bool sized)
{
	if (v->type == CAIRN_TYPE_NONE && js && (js[0] == '[' || js[0] == '{')) {
		if (sized)
			snprintf(out, n, "(%zu entries)", entries);
		else
			snprintf(out, n, "…");
	} else {
		value_text(out, n, v);
	}
}

static void section(const char *title)
{
	printf("\n%s%s%s\n", c_on("1"), title, c_off());
}

static size_t key_width(const cairn_run_diff *d, cairn_diff_section sec)
{
	size_t w = 4;
	for (size_t i = 0; i < cairn_run_diff_count(d, sec); i++) {
		size_t l = strlen(cairn_run_diff_entry(d, sec, i)->key);
		if (l > w)
			w = l;
	}
	return w > 40 ? 40 : w;
}

/* changed, then added, then removed entries of a section */
static void print_entries(const cairn_run_diff *d, cairn_diff_section sec, const char *indent,
                          bool padded)
{
	static const cairn_diff_change order[] = {CAIRN_DIFF_CHANGED, CAIRN_DIFF_ADDED,
	                                          CAIRN_DIFF_REMOVED};
	int w = padded ? (int)key_width(d, sec) : 0;
	char x[512], y[512];
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < cairn_run_diff_count(d, sec); i++) {
			const cairn_diff_entry *e = cairn_run_diff_entry(d, sec, i);
			if (e->change != order[k])
				continue;
			if (k == 0) {
				side_text(x, sizeof x, &e->a, e->a_json, e->a_entries, false);
				side_text(y, sizeof y, &e->b, e->b_json, e->b_entries, false);
				printf("%s~ %-*s  %s → %s\n", indent, w, e->key, x, y);
			} else if (k == 1) {
				side_text(x, sizeof x, &e->b, e->b_json, e->b_entries, false);
				printf("%s%s+ %-*s  %s%s\n", indent, c_on("32"), w, e->key, x,
				       c_off());
			} else {
				side_text(x, sizeof x, &e->a, e->a_json, e->a_entries, false);
				printf("%s%s- %-*s  %s%s\n", indent, c_on("31"), w, e->key, x,
				       c_off());
			}
		}
	}
}

static void print_metrics(const cairn_run_diff *d)
{
	size_t n = cairn_run_diff_metric_count(d), w = 4, nchanged = 0, nsys = 0;
	for (size_t i = 0; i < n; i++) {
		const cairn_diff_metric *m = cairn_run_diff_metric(d, i);
		if (!show_sys && sys_metric(m->key)) {
			nsys++;
			continue;
		}
		size_t l = strlen(m->key);
		w = l > w ? l : w;
		nchanged += m->change == CAIRN_DIFF_CHANGED;
	}
	w = w > 40 ? 40 : w;
	if (nchanged)
		printf("  %-*s  %12s  %12s  %s\n", (int)w + 2, "", "a", "b", "change");
	for (size_t i = 0; i < n; i++) {
		const cairn_diff_metric *m = cairn_run_diff_metric(d, i);
		if (m->change != CAIRN_DIFF_CHANGED || (!show_sys && sys_metric(m->key)))
			continue;
		char x[64], y[64], dl[64] = "", r[64] = "";
		num_text(x, sizeof x, m->a);
		num_text(y, sizeof y, m->b);
		if (!isnan(m->delta)) {
			char t[48];
			cli_fmt_num(t, sizeof t, m->delta);
			snprintf(dl, sizeof dl, "%s%s", m->delta > 0 ? "+" : "", t);
		}
		if (!isnan(m->relative))
			snprintf(r, sizeof r, " (%+.1f%%)", m->relative * 100);
		const char *sgr = m->better ? (m->better == 'b' ? "32" : "31") : NULL;
		printf("  ~ %-*s  %12s  %12s  %s%s%s%s", (int)w, m->key, x, y, c_on(sgr), dl, r,
		       c_off());
		if (m->better)
			printf("  %c is better (%s is better)", m->better,
			       m->direction < 0 ? "lower" : "higher");
		printf("\n");
	}
	char x[64];
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < n; i++) {
			const cairn_diff_metric *m = cairn_run_diff_metric(d, i);
			if (m->change != (k == 0 ? CAIRN_DIFF_ADDED : CAIRN_DIFF_REMOVED) ||
			    (!show_sys && sys_metric(m->key)))
				continue;
			num_text(x, sizeof x, k == 0 ? m->b : m->a);
			printf("  %s%c %-*s  %12s%s  (only in %c)\n", c_on(k == 0 ? "32" : "31"),
			       k == 0 ? '+' : '-', (int)w, m->key, x, c_off(), k == 0 ? 'b' : 'a');
		}
	if (nsys)
		printf("  (%zu system metric%s (sys/*) left out: --sys shows them)\n", nsys,
		       nsys == 1 ? "" : "s");
}

static void code_side(char *out, size_t n, const cairn_run_code *c, int k)
{
	cairn_value v = {0};
	if (c && k == 0 && c->commit) {
		snprintf(out, n, "%.12s", c->commit);
		return;
	}
	if (c && k == 1 && c->branch)
		v = (cairn_value){.type = CAIRN_TYPE_STRING, .s = c->branch};
	else if (c && k == 2 && c->dirty >= 0)
		v = (cairn_value){.type = CAIRN_TYPE_BOOL, .i = c->dirty};
	else if (c && k == 3 && c->remote)
		v = (cairn_value){.type = CAIRN_TYPE_STRING, .s = c->remote};
	value_text(out, n, &v);
}

/* A size for people: 812 B, 12.3 KiB, 4.5 MiB. */
static void size_text(char *out, size_t n, int64_t v)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	if (v < 0) {
		snprintf(out, n, "?");
		return;
	}
	if (v < 1024) {
		snprintf(out, n, "%lld B", (long long)v);
		return;
	}
	double x = (double)v / 1024;
	int u = 0;
	while (x >= 1024 && u < 3) {
		x /= 1024;
		u++;
	}
	snprintf(out, n, "%.1f %s", x, units[u]);
}

/* "sha256:3f2a1b0c9d8e" — the algorithm and 12 digits. */
static void digest_text(char *out, size_t n, const char *d)
{
	const char *colon = d ? strchr(d, ':') : NULL;
	if (!d)
		snprintf(out, n, "-");
	else if (colon)
		snprintf(out, n, "%.*s:%.12s", (int)(colon - d), d, colon + 1);
	else
		snprintf(out, n, "%.12s", d);
}

/* One side of a data-like file's summary, or both joined by an arrow. */
static void data_summary(char *out, size_t n, const cairn_code_file *f)
{
	char sa[32], sb[32], da[96], db[96], rows[96] = "";
	size_text(sa, sizeof sa, f->old_size);
	size_text(sb, sizeof sb, f->new_size);
	digest_text(da, sizeof da, f->old_digest);
	digest_text(db, sizeof db, f->new_digest);
	if (f->change == CAIRN_CODE_ADDED || f->change == CAIRN_CODE_DELETED) {
		bool added = f->change == CAIRN_CODE_ADDED;
		int64_t r = added ? f->new_rows : f->old_rows;
		if (r >= 0)
			snprintf(rows, sizeof rows, ", %lld rows", (long long)r);
		snprintf(out, n, "%s%s%s, %s", added ? sb : sa, rows, f->binary ? ", binary" : "",
		         added ? db : da);
		return;
	}
	if (f->old_rows >= 0 || f->new_rows >= 0)
		snprintf(rows, sizeof rows, ", %lld → %lld rows", (long long)f->old_rows,
		         (long long)f->new_rows);
	snprintf(out, n, "%s → %s%s%s, %s → %s", sa, sb, rows, f->binary ? ", binary" : "", da, db);
}

/* The unified diff, coloured by line on a terminal. */
static void print_patch(const char *p)
{
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
		/* fwrite, not %.*s: a line may be longer than an int can say */
		printf("  %s", c_on(sgr));
		fwrite(p, 1, n, stdout);
		printf("%s\n", sgr ? c_off() : "");
		p += n + (nl ? 1 : 0);
	}
}

/* The files that differ, first as a list (data-like ones with their
 * summary), then the patches of the source files (all with --full). */
static void print_files(const cairn_code_changes *c)
{
	size_t n = cairn_code_changes_count(c), ndata = 0, w = 4;
	for (size_t i = 0; i < n; i++) {
		const cairn_code_file *f = cairn_code_changes_file(c, i);
		size_t l = cli_strwidth(f->path);
		w = l > w ? l : w;
		ndata += f->data != 0;
	}
	w = w > 48 ? 48 : w;
	printf("  %zu file%s changed", n, n == 1 ? "" : "s");
	if (ndata && !full_diff)
		printf(" (%zu data file%s summarised; --full diffs %s too)", ndata,
		       ndata == 1 ? "" : "s", ndata == 1 ? "it" : "them");
	printf(":\n");
	for (size_t i = 0; i < n; i++) {
		const cairn_code_file *f = cairn_code_changes_file(c, i);
		static const char marks[] = " MADM";
		static const char *const sgr[] = {NULL, NULL, "32", "31", NULL};
		char what[512];
		if (f->data)
			data_summary(what, sizeof what, f);
		else if (f->change == CAIRN_CODE_MODE)
			snprintf(what, sizeof what, "mode %06o → %06o", f->old_mode, f->new_mode);
		else if (f->note)
			snprintf(what, sizeof what, "(%s)", f->note);
		else
			snprintf(what, sizeof what, "+%lld -%lld", (long long)f->additions,
			         (long long)f->deletions);
		char *path = cli_safe_dup(f->path, 0);
		printf("    %s%c %-*s%s  %s%s\n", c_on(sgr[f->change]), marks[f->change], (int)w,
		       path ? path : "", c_off(), f->data ? "data: " : "", what);
		free(path);
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_code_file *f = cairn_code_changes_file(c, i);
		if (f->patch)
			print_patch(f->patch);
	}
}

static void print_code_changes(cairn_store *s, const char *a, const char *b)
{
	cairn_code_changes *c = NULL;
	cairn_code_diff_options o = CAIRN_CODE_DIFF_OPTIONS_INIT;
	o.full = full_diff;
	if (cairn_code_changes_new(&c, s, a, b, &o) != 0) {
		printf("  (the files cannot be compared: %s)\n", cairn_error_last());
		cairn_error_clear();
		return;
	}
	print_files(c);
	cairn_code_changes_free(c);
}

static void print_code(cairn_store *s, const cairn_run_diff *d)
{
	const cairn_diff_code *code = cairn_run_diff_code(d);
	const cairn_run_code *a = cairn_run_record_code(cairn_run_diff_run(d, 0)),
	                     *b = cairn_run_record_code(cairn_run_diff_run(d, 1));
	static const char *const keys[] = {"commit", "branch", "dirty", "remote"};
	int flags[] = {code->commit_changed, code->branch_changed, code->dirty_changed, -1};
	for (int k = 0; k < 4; k++) {
		char x[128], y[128];
		code_side(x, sizeof x, a, k);
		code_side(y, sizeof y, b, k);
		bool changed = flags[k] >= 0 ? flags[k] != 0 : strcmp(x, y) != 0;
		if (changed)
			printf("  %-7s %s → %s\n", keys[k], x, y);
	}
	if (code->snapshot_changed && !code->commit_changed)
		printf("  the uncommitted changes differ\n");
	if (code->diff && *code->diff)
		print_code_changes(s, cairn_run_record_id(cairn_run_diff_run(d, 0)),
		                   cairn_run_record_id(cairn_run_diff_run(d, 1)));
}

static void print_data(const cairn_run_diff *d)
{
	char same[1024] = "";
	size_t o = 0;
	for (size_t i = 0; i < cairn_run_diff_dataset_count(d); i++) {
		const cairn_diff_dataset *ds = cairn_run_diff_dataset(d, i);
		const cairn_run_dataset *a = ds->a, *b = ds->b;
		if (ds->change == CAIRN_DIFF_SAME) {
			if (o < sizeof same)
				o += (size_t)snprintf(same + o, sizeof same - o, "%s%s",
				                      o ? ", " : "", ds->name);
			continue;
		}
		if (ds->change == CAIRN_DIFF_ADDED) {
			printf("  %s+ %s  %s (%s)%s\n", c_on("32"), ds->name, b->digest, b->path,
			       c_off());
		} else if (ds->change == CAIRN_DIFF_REMOVED) {
			printf("  %s- %s  %s (%s)%s\n", c_on("31"), ds->name, a->digest, a->path,
			       c_off());
		} else {
			printf("  ~ %s  %s → %s  (%lld → %lld files, %lld → %lld bytes)\n",
			       ds->name, a->digest, b->digest, (long long)a->files,
			       (long long)b->files, (long long)a->bytes, (long long)b->bytes);
		}
		static const char *const marks[] = {"", "~", "+", "-"};
		static const cairn_diff_change order[] = {CAIRN_DIFF_ADDED, CAIRN_DIFF_REMOVED,
		                                          CAIRN_DIFF_CHANGED};
		for (int k = 0; k < 3 && ds->has_files; k++)
			for (size_t j = 0; j < ds->nfiles; j++)
				if (ds->files[j].change == order[k])
					printf("      %s %s\n", marks[order[k]], ds->files[j].path);
	}
	if (o)
		printf("  unchanged: %s\n", same);
}

static void print_env(const cairn_run_diff *d)
{
	int ra = cairn_run_diff_env_recorded(d, 0), rb = cairn_run_diff_env_recorded(d, 1);
	if (ra != rb)
		printf("  recorded for %s only\n", ra ? "a" : "b");
	size_t w = key_width(d, CAIRN_DIFF_ENV_DETAILS);
	for (size_t i = 0; i < cairn_run_diff_count(d, CAIRN_DIFF_ENV_DETAILS); i++) {
		const cairn_diff_entry *e = cairn_run_diff_entry(d, CAIRN_DIFF_ENV_DETAILS, i);
		char x[256], y[256];
		side_text(x, sizeof x, &e->a, e->a_json, e->a_entries, true);
		side_text(y, sizeof y, &e->b, e->b_json, e->b_entries, true);
		printf("  ~ %-*s  %s → %s\n", (int)w, e->key, x, y);
	}
	static const cairn_diff_section groups[] = {CAIRN_DIFF_ENV_PACKAGES, CAIRN_DIFF_ENV_VARS};
	static const char *const titles[] = {"packages", "environment variables"};
	for (int g = 0; g < 2; g++) {
		if (cairn_run_diff_count(d, groups[g]) == 0)
			continue;
		printf("  %s:\n", titles[g]);
		print_entries(d, groups[g], "    ", false);
	}
	if (cairn_run_diff_count(d, CAIRN_DIFF_ENV_FILES)) {
		static const cairn_diff_change order[] = {CAIRN_DIFF_CHANGED, CAIRN_DIFF_ADDED,
		                                          CAIRN_DIFF_REMOVED};
		printf("  files:\n");
		for (int k = 0; k < 3; k++)
			for (size_t i = 0; i < cairn_run_diff_count(d, CAIRN_DIFF_ENV_FILES); i++) {
				const cairn_diff_entry *e =
				    cairn_run_diff_entry(d, CAIRN_DIFF_ENV_FILES, i);
				if (e->change != order[k])
					continue;
				if (k == 0)
					printf("    ~ %s\n", e->key);
				else
					printf("    %s%s %s%s\n", c_on(k == 1 ? "32" : "31"),
					       k == 1 ? "+" : "-", e->key, c_off());
			}
	}
}

static void print_diff(cairn_store *s, const cairn_run_diff *d)
{
	const cairn_run_record *ra = cairn_run_diff_run(d, 0), *rb = cairn_run_diff_run(d, 1);
	printf("%sa%s %.8s %s   %sb%s %.8s %s\n", c_on("1"), c_off(), cairn_run_record_id(ra),
	       cairn_run_record_name(ra), c_on("1"), c_off(), cairn_run_record_id(rb),
	       cairn_run_record_name(rb));
	if (cairn_run_diff_identical(d)) {
		printf("\nidentical: params, metrics, code, data, environment, command, tags and "
		       "properties are the same\n");
		return;
	}
	if (cairn_run_diff_count(d, CAIRN_DIFF_PARAMS)) {
		section("params");
		print_entries(d, CAIRN_DIFF_PARAMS, "  ", true);
	}
	if (cairn_run_diff_metric_count(d)) {
		section("metrics");
		print_metrics(d);
	}
	if (!cairn_run_diff_code(d)->same) {
		section("code");
		print_code(s, d);
	}
	bool data_same = true;
	for (size_t i = 0; i < cairn_run_diff_dataset_count(d); i++)
		data_same &= cairn_run_diff_dataset(d, i)->change == CAIRN_DIFF_SAME;
	if (!data_same) {
		section("data");
		print_data(d);
	}
	if (!cairn_run_diff_env_same(d)) {
		section("environment");
		print_env(d);
	}
	if (!cairn_run_diff_command_same(d)) {
		const char *ca = cairn_run_record_command(ra), *cb = cairn_run_record_command(rb);
		section("command");
		printf("  %s- %s%s\n  %s+ %s%s\n", c_on("31"), ca ? ca : "-", c_off(), c_on("32"),
		       cb ? cb : "-", c_off());
	}
	if (cairn_run_diff_count(d, CAIRN_DIFF_TAGS)) {
		section("tags");
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; i < cairn_run_diff_count(d, CAIRN_DIFF_TAGS); i++) {
				const cairn_diff_entry *e =
				    cairn_run_diff_entry(d, CAIRN_DIFF_TAGS, i);
				if (e->change == (k == 0 ? CAIRN_DIFF_ADDED : CAIRN_DIFF_REMOVED))
					printf("  %s%s %s%s\n", c_on(k == 0 ? "32" : "31"),
					       k == 0 ? "+" : "-", e->key, c_off());
			}
	}
	if (cairn_run_diff_count(d, CAIRN_DIFF_PROPERTIES)) {
		section("properties");
		print_entries(d, CAIRN_DIFF_PROPERTIES, "  ", true);
	}
}

/* `cairn diff RUN`: the run's snapshot against its commit. */
static int diff_one_run(cairn_store *s, const char *run, bool as_json)
{
	cairn_run_record *r = NULL;
	cairn_code_changes *c = NULL;
	cairn_code_diff_options o = CAIRN_CODE_DIFF_OPTIONS_INIT;
	char *out = NULL;
	int rc = 0;
	o.full = full_diff;
	if (cairn_run_record_get(&r, s, run, 0) != 0 ||
	    cairn_code_changes_new(&c, s, cairn_run_record_id(r), NULL, &o) != 0) {
		rc = cli_fail_lib("cannot diff");
		goto done;
	}
	if (as_json) {
		if (cairn_code_changes_json(&out, c) != 0)
			rc = cli_fail_lib(NULL);
		else
			puts(out);
		goto done;
	}
	const cairn_run_code *code = cairn_run_record_code(r);
	char *name = cli_safe_dup(cairn_run_record_name(r), 0);
	printf("%s%.8s%s %s", c_on("1"), cairn_run_record_id(r), c_off(), name ? name : "");
	free(name);
	if (code && code->commit) {
		char *br = code->branch ? cli_safe_dup(code->branch, 0) : NULL;
		printf("   commit %.12s%s%s", code->commit, br ? " on " : "", br ? br : "");
		free(br);
	} else
		printf("   (no commit yet: every file is new)");
	printf("\n\n");
	if (cairn_code_changes_count(c) == 0)
		printf("no uncommitted changes\n");
	else
		print_files(c);
done:
	cairn_free(out);
	cairn_code_changes_free(c);
	cairn_run_record_free(r);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	enum { O_HELP = 1, O_JSON, O_HIGHER, O_LOWER, O_FULL, O_SYS };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"json", 0, false, O_JSON},
	                               {"full", 0, false, O_FULL},
	                               {"sys", 0, false, O_SYS},
	                               {"higher", 0, true, O_HIGHER},
	                               {"lower", 0, true, O_LOWER},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	char *out = NULL;
	cairn_run_diff *d = NULL;
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
		case O_FULL: full_diff = true; break;
		case O_SYS: show_sys = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 1 || a.npos > 2) {
		rc = cli_usage_error("diff",
		                     a.npos < 1 ? "name one run or two" : "too many arguments");
		goto done;
	}
	if (a.npos == 1 && (nh || nl || show_sys)) {
		rc = cli_usage_error("diff", "%s compares two runs' metrics; one run has no other",
		                     show_sys ? "--sys"
		                     : nh     ? "--higher"
		                              : "--lower");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	color = cli_color();
	if (a.npos == 1) {
		rc = diff_one_run(s, a.pos[0], as_json);
		goto done;
	}
	cairn_diff_options dopt = CAIRN_DIFF_OPTIONS_INIT;
	dopt.higher = higher;
	dopt.nhigher = nh;
	dopt.lower = lower;
	dopt.nlower = nl;
	if (as_json) {
		if (cairn_run_diff_json_opts(&out, s, a.pos[0], a.pos[1], &dopt) != 0)
			rc = cli_fail_lib("cannot diff");
		else
			puts(out);
		goto done;
	}
	if (cairn_run_diff_new(&d, s, a.pos[0], a.pos[1], &dopt) != 0) {
		rc = cli_fail_lib("cannot diff");
		goto done;
	}
	print_diff(s, d);
done:
	cairn_run_diff_free(d);
	cairn_free(out);
	cli_args_free(&a);
	free(higher);
	free(lower);
	return rc;
}
