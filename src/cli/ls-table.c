/*
 * cli/ls-table.c — the tables of `cairn ls` and `cairn best` (ls-table.h).
 *
 * The default columns show what varies, results first: ID and NAME (never
 * left out, never cut), STATUS, the sort keys and the final metrics that
 * differ among the listed runs, the params that differ, then STARTED,
 * DURATION and TAGS.  System-monitor metrics (sys/cpu, sys/gpu0/util, …)
 * are left out of the defaults: they differ in every run and say nothing
 * about the model; a sort key, --columns or +COLS still shows them.
 *
 * On a terminal the table is ranked (table_priority): when it is too wide,
 * whole columns are left out, lowest priority first, before anything is
 * cut, and stderr says which ("+ 3 columns hidden (params.seed, …)").
 * Metric and param columns are headed by their key under a one-line group
 * label ("metrics", "params"), so a header is `valid_acc`, not
 * `metrics.valid_acc`; CSV keeps the full field names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ls-table.h"

/* --- columns ------------------------------------------------------------------ */

void cols_add(cols *c, const rfield *f, const char *head, int prio)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->v[i].f.name, f->name) == 0) {
			if (prio > c->v[i].prio)
				c->v[i].prio = prio;
			return;
		}
	if (c->n == c->cap) {
		int nc = c->cap ? c->cap * 2 : 16;
		col *nv = realloc(c->v, (size_t)nc * sizeof *nv);
		if (!nv)
			return;
		c->v = nv;
		c->cap = nc;
	}
	/* a metric or param goes after the last column of its kind, so groups
	 * stay together (--columns +params.seed); anything else at the end */
	int at = c->n;
	if (f->kind == CAIRN_FIELD_METRIC || f->kind == CAIRN_FIELD_PARAM)
		for (int i = 0; i < c->n; i++)
			if (c->v[i].f.kind == f->kind)
				at = i + 1;
	memmove(&c->v[at + 1], &c->v[at], (size_t)(c->n - at) * sizeof *c->v);
	c->n++;
	col *x = &c->v[at];
	memset(x, 0, sizeof *x);
	x->f = *f;
	x->prio = prio;
	snprintf(x->head, sizeof x->head, "%s", head ? head : f->name);
}

/* --- the runs ------------------------------------------------------------------- */

void runs_free(runs *r)
{
	for (size_t i = 0; i < r->n; i++)
		cairn_run_record_free(r->v[i]);
	free(r->v);
}

int runs_load(runs *r, cairn_run_iter *it)
{
	cairn_run_record *rec;
	int rc;
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
	return rc == CAIRN_ITEROVER ? 0 : rc;
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

/* A metric's or param's header under its group: the key, with a metric's
 * part ("loss.min"). */
static const char *short_head(const rfield *f, char *out, size_t n)
{
	static const char *const mparts[] = {"", ".min", ".max", ".count", ".step"};
	if (f->kind == CAIRN_FIELD_METRIC)
		snprintf(out, n, "%s%s", f->key, f->part > 0 && f->part < 5 ? mparts[f->part] : "");
	else
		snprintf(out, n, "%s", f->key);
	return out;
}

/* "+ 3 columns hidden (params.seed, params.lr, tags); use --columns or a
 * wider terminal", on stderr. */
static void say_hidden(const table *t, const cols *c, int hidden)
{
	if (hidden <= 0)
		return;
	fprintf(stderr, "+ %d column%s hidden (", hidden, hidden == 1 ? "" : "s");
	int said = 0;
	for (int i = 0; i < c->n; i++) {
		if (table_shown(t, i))
			continue;
		if (said == 4) {
			fputs(", …", stderr);
			break;
		}
		fprintf(stderr, "%s", said ? ", " : "");
		cli_fputs_safe(stderr, c->v[i].f.name, 0);
		said++;
	}
	fputs("); use --columns or a wider terminal\n", stderr);
}

/* The runs table's columns: headers, alignment (from a sample record),
 * priorities and groups. */
static table *runs_table(const cols *c, const cairn_run_record *sample)
{
	table *t = table_new(c->n);
	if (!t)
		return NULL;
	for (int i = 0; i < c->n; i++) {
		const rfield *f = &c->v[i].f;
		table_header(t, i, c->v[i].head);
		table_align_right(t, i, rfield_numeric(f, sample));
		table_priority(t, i, c->v[i].prio);
		char sh[320];
		if (f->kind == CAIRN_FIELD_METRIC)
			table_group(t, i, "metrics", short_head(f, sh, sizeof sh));
		else if (f->kind == CAIRN_FIELD_PARAM)
			table_group(t, i, "params", short_head(f, sh, sizeof sh));
	}
	return t;
}

/* One run's cells (and their colours) for the columns. */
typedef struct rowbuf {
	const char **cells, **sgr;
	char (*vals)[512];
} rowbuf;

static int rowbuf_init(rowbuf *b, int ncols)
{
	size_t n = (size_t)ncols + 1;
	b->cells = calloc(n, sizeof *b->cells);
	b->sgr = calloc(n, sizeof *b->sgr);
	b->vals = calloc(n, sizeof *b->vals);
	return b->cells && b->sgr && b->vals ? 0 : -1;
}

static void rowbuf_free(rowbuf *b)
{
	free(b->cells);
	free(b->sgr);
	free(b->vals);
}

static void rowbuf_fill(rowbuf *b, const cairn_run_record *rec, const cols *c, bool csv)
{
	for (int i = 0; i < c->n; i++) {
		rfield_text(rec, &c->v[i].f, b->vals[i], sizeof b->vals[i], csv);
		b->cells[i] = b->vals[i];
		b->sgr[i] =
		    c->v[i].f.kind == CAIRN_FIELD_ATTRIBUTE && strcmp(c->v[i].f.key, "status") == 0
		        ? status_color(b->vals[i])
		        : NULL;
	}
}

/* After a table: "20 of 1500 runs" on a terminal (the total is counted
 * only there), and what the width left out. */
static void runs_footer(const table *t, const cols *c, size_t shown, cairn_run_iter *it, int hidden)
{
	if (cli_isatty(stdout)) {
		int64_t total = cairn_run_iter_total(it);
		if ((int64_t)shown < total)
			printf("%s%zu of %lld runs%s\n", cli_color() ? "\033[2m" : "", shown,
			       (long long)total, cli_color() ? "\033[0m" : "");
	}
	say_hidden(t, c, hidden);
}

void ls_print_runs(const runs *rs, cols *c, bool csv, cairn_run_iter *it)
{
	table *t = runs_table(c, rs->n ? rs->v[0] : NULL);
	rowbuf b;
	if (!t || rowbuf_init(&b, c->n) != 0) {
		table_free(t);
		rowbuf_free(&b);
		return;
	}
	for (size_t r = 0; r < rs->n; r++) {
		rowbuf_fill(&b, rs->v[r], c, csv);
		table_row(t, b.cells);
		for (int i = 0; i < c->n; i++)
			if (b.sgr[i])
				table_cell_color(t, table_nrows(t) - 1, i, b.sgr[i]);
	}
	if (csv)
		table_print_csv(t, stdout);
	else
		runs_footer(t, c, table_nrows(t), it, table_print(t, stdout, cli_term_width()));
	rowbuf_free(&b);
	table_free(t);
}

int ls_stream_runs(cairn_run_iter *it, cols *c, bool csv)
{
	cairn_run_record *rec = NULL;
	rowbuf b;
	table *t = NULL;
	int rc = rowbuf_init(&b, c->n) != 0 ? CAIRN_ENOMEM : 0;
	size_t shown = 0;
	/* a table is measured first (one pass, nothing kept), then printed in
	 * a second pass over the same ids */
	cairn_run_iter_rewind(it);
	while (rc == 0 && (rc = cairn_run_iter_next(&rec, it)) == 0) {
		if (!t && !(t = runs_table(c, rec)))
			rc = CAIRN_ENOMEM;
		if (rc == 0 && csv) {
			cairn_run_record_free(rec);
			break;
		}
		if (rc == 0) {
			rowbuf_fill(&b, rec, c, false);
			table_measure(t, b.cells);
		}
		cairn_run_record_free(rec);
	}
	if (rc == CAIRN_ITEROVER || (rc == 0 && csv))
		rc = 0;
	if (rc == 0 && !t && !(t = runs_table(c, NULL)))
		rc = CAIRN_ENOMEM;
	int hidden = 0;
	if (rc == 0) {
		if (csv)
			table_csv_head(t, stdout);
		else
			hidden = table_print_head(t, stdout, cli_term_width());
		cairn_run_iter_rewind(it);
	}
	while (rc == 0 && (rc = cairn_run_iter_next(&rec, it)) == 0) {
		rowbuf_fill(&b, rec, c, csv);
		if (csv)
			table_csv_row(t, stdout, b.cells);
		else
			table_print_row(t, stdout, b.cells, b.sgr);
		shown++;
		cairn_run_record_free(rec);
	}
	if (rc == CAIRN_ITEROVER) {
		rc = 0;
		if (!csv)
			runs_footer(t, c, shown, it, hidden);
	}
	rowbuf_free(&b);
	table_free(t);
	return rc;
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
 * writes it (nan, inf), a string as its text; a tag's "" group holds its
 * bare tags (present without a value), named so as the web UI names it. */
static void group_value_text(char *v, size_t n, const cairn_group *g, bool tag)
{
	const cairn_value *val = &g->value;
	if (g->missing)
		snprintf(v, n, "(none)");
	else if (tag && val->type == CAIRN_TYPE_STRING && !val->s[0])
		snprintf(v, n, "(bare tag)");
	else if (val->type == CAIRN_TYPE_STRING)
		snprintf(v, n, "%s", val->s);
	else if (val->type == CAIRN_TYPE_BOOL)
		snprintf(v, n, "%s", val->i ? "true" : "false");
	else if (val->type == CAIRN_TYPE_INT)
		snprintf(v, n, "%lld", (long long)val->i);
	else
		cli_fmt_num(v, n, val->f);
}

int ls_print_groups(const cairn_group_result *res, bool csv, bool by_metric, bool desc)
{
	const char *metric = cairn_group_result_metric(res);
	const char *field = cairn_group_result_field(res);
	bool tag = !csv && field && strncmp(field, "tags.", 5) == 0; /* csv: the value, "" */
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
		group_value_text(v, sizeof v, g, tag);
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
