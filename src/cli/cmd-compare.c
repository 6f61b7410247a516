/*
 * cli/cmd-compare.c — `cairn compare RUN...`: one table with the runs as
 * columns (or rows, --transpose) and, by default, only the params, final
 * metrics and data digests whose values differ among them (--all: every
 * one, plus tags and properties).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/fields.h"
#include "util/json.h"

static const char usage[] =
    "usage: cairn compare RUN... [--all] [--transpose] [--format table|json|csv]\n\n"
    "Compare runs side by side: one column per run, one row per param, final metric\n"
    "and dataset digest whose value differs among them.\n\n"
    "options:\n"
    "  -a, --all          every param, metric and dataset, and tags and properties\n"
    "  -t, --transpose    one row per run instead\n"
    "  -f, --format F     table (default), json or csv\n"
    "      --json         same as --format json\n";

#define MAX_RUNS 64

typedef struct frow {
	rfield f;
} frow;

static bool any_differs(cairn_run_record **recs, int n, const rfield *f)
{
	char a[512], b[512];
	bool pa = rfield_text(recs[0], f, a, sizeof a, true);
	for (int i = 1; i < n; i++) {
		bool pb = rfield_text(recs[i], f, b, sizeof b, true);
		if (pa != pb || strcmp(a, b) != 0)
			return true;
	}
	return false;
}

static int add_row(frow **rows, int *nrows, int *cap, const rfield *f)
{
	for (int i = 0; i < *nrows; i++)
		if (strcmp((*rows)[i].f.name, f->name) == 0)
			return 0;
	if (*nrows == *cap) {
		int nc = *cap ? *cap * 2 : 32;
		frow *nr = realloc(*rows, (size_t)nc * sizeof *nr);
		if (!nr)
			return -1;
		*rows = nr;
		*cap = nc;
	}
	(*rows)[(*nrows)++].f = *f;
	return 0;
}

/* The i-th key of a run's params, metrics, datasets or properties. */
static const char *key_at(const cairn_run_record *r, cairn_field_kind kind, size_t i)
{
	switch (kind) {
	case CAIRN_FIELD_PARAM: return cairn_run_record_param(NULL, r, i);
	case CAIRN_FIELD_METRIC: {
		const cairn_metric_summary *m = cairn_run_record_metric(r, i);
		return m ? m->key : NULL;
	}
	case CAIRN_FIELD_DATASET: {
		const cairn_run_dataset *d = cairn_run_record_dataset(r, i);
		return d ? d->name : NULL;
	}
	case CAIRN_FIELD_PROPERTY: return cairn_run_record_property(NULL, r, i);
	default: return NULL;
	}
}

/* Every key of one kind, over all runs, in sorted order. */
static int add_keys(frow **rows, int *nrows, int *cap, cairn_run_record **recs, int n,
                    cairn_field_kind kind, bool all)
{
	/* collect */
	const char **keys = NULL;
	int nk = 0, ck = 0;
	for (int i = 0; i < n; i++) {
		const char *name;
		for (size_t k = 0; (name = key_at(recs[i], kind, k)) != NULL; k++) {
			bool seen = false;
			for (int j = 0; j < nk && !seen; j++)
				seen = strcmp(keys[j], name) == 0;
			if (seen)
				continue;
			if (nk == ck) {
				ck = ck ? ck * 2 : 32;
				const char **nkeys = realloc(keys, (size_t)ck * sizeof *nkeys);
				if (!nkeys) {
					free(keys);
					return -1;
				}
				keys = nkeys;
			}
			keys[nk++] = name;
		}
	}
	/* sort (insertion: few keys) */
	for (int i = 1; i < nk; i++)
		for (int j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			const char *t = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	int rc = 0;
	for (int i = 0; i < nk && rc == 0; i++) {
		rfield f;
		rfield_make(&f, kind, keys[i], -1);
		if (all || any_differs(recs, n, &f))
			rc = add_row(rows, nrows, cap, &f);
	}
	free(keys);
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	enum { O_HELP = 1, O_ALL, O_TRANSPOSE, O_FORMAT, O_JSON };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"all", 'a', false, O_ALL},
	                               {"transpose", 't', false, O_TRANSPOSE},
	                               {"format", 'f', true, O_FORMAT},
	                               {"json", 0, false, O_JSON},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run_record *recs[MAX_RUNS] = {0};
	frow *rows = NULL;
	int nrows = 0, cap = 0, n = 0;
	bool all = false, transpose = false;
	const char *format = "table";
	table *t = NULL;
	int o, rc = 0;
	cli_args_init(&a, "compare", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_ALL: all = true; break;
		case O_TRANSPOSE: transpose = true; break;
		case O_FORMAT: format = a.val; break;
		case O_JSON: format = "json"; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "csv")) {
		rc = cli_usage_error("compare", "--format must be table, json or csv, not '%s'",
		                     format);
		goto done;
	}
	if (a.npos < 1) {
		rc = cli_usage_error("compare", "name the runs to compare");
		goto done;
	}
	if (a.npos > MAX_RUNS) {
		rc = cli_usage_error("compare", "at most %d runs", MAX_RUNS);
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	for (n = 0; n < a.npos; n++) {
		if (cairn_run_record_get(&recs[n], s, a.pos[n], 0) != 0) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
	}
	/* one run compares with nothing: show all of it */
	bool every = all || n == 1;
	rfield f;
	rfield_make(&f, CAIRN_FIELD_ATTRIBUTE, "name", -1);
	add_row(&rows, &nrows, &cap, &f);
	rfield_make(&f, CAIRN_FIELD_ATTRIBUTE, "status", -1);
	add_row(&rows, &nrows, &cap, &f);
	if (add_keys(&rows, &nrows, &cap, recs, n, CAIRN_FIELD_PARAM, every) ||
	    add_keys(&rows, &nrows, &cap, recs, n, CAIRN_FIELD_METRIC, every) ||
	    add_keys(&rows, &nrows, &cap, recs, n, CAIRN_FIELD_DATASET, every) ||
	    (all && add_keys(&rows, &nrows, &cap, recs, n, CAIRN_FIELD_PROPERTY, true))) {
		rc = cli_fail("out of memory");
		goto done;
	}
	if (all) {
		rfield_make(&f, CAIRN_FIELD_TAGS, "tags", -1);
		snprintf(f.name, sizeof f.name, "tags");
		add_row(&rows, &nrows, &cap, &f);
	}
	bool csv = strcmp(format, "csv") == 0;
	if (strcmp(format, "json") == 0) {
		buf b = BUF_INIT;
		buf_puts(&b, "{\"runs\":[");
		for (int i = 0; i < n; i++) {
			buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
			json_str(&b, cairn_run_record_id(recs[i]));
			buf_puts(&b, ",\"name\":");
			json_str(&b, cairn_run_record_name(recs[i]));
			buf_putc(&b, '}');
		}
		buf_puts(&b, "],\"rows\":[");
		for (int k = 0; k < nrows; k++) {
			buf_puts(&b, k ? ",{\"field\":" : "{\"field\":");
			json_str(&b, rows[k].f.name);
			buf_puts(&b, ",\"values\":[");
			for (int i = 0; i < n; i++) {
				char v[4096];
				if (i)
					buf_putc(&b, ',');
				if (rfield_text(recs[i], &rows[k].f, v, sizeof v, true))
					json_str(&b, v);
				else
					buf_puts(&b, "null");
			}
			buf_puts(&b, "]}");
		}
		buf_puts(&b, "]}");
		puts(b.ptr);
		buf_free(&b);
		goto done;
	}
	const char *cells[MAX_RUNS + 1];
	static char vals[MAX_RUNS + 1][512];
	if (!transpose) {
		t = table_new(n + 1);
		table_header(t, 0, "");
		for (int i = 0; i < n; i++) {
			snprintf(vals[i], sizeof vals[i], "%.*s", csv ? 32 : 8,
			         cairn_run_record_id(recs[i]));
			table_header(t, i + 1, vals[i]);
		}
		for (int k = 0; k < nrows; k++) {
			bool right = rfield_numeric(&rows[k].f, recs[0]);
			cells[0] = rows[k].f.name;
			for (int i = 0; i < n; i++) {
				rfield_text(recs[i], &rows[k].f, vals[i], sizeof vals[i], csv);
				cells[i + 1] = vals[i];
				if (right)
					table_align_right(t, i + 1, true);
			}
			table_row(t, cells);
		}
	} else {
		t = table_new(nrows + 1);
		table_header(t, 0, "ID");
		for (int k = 0; k < nrows; k++) {
			table_header(t, k + 1, rows[k].f.name);
			table_align_right(t, k + 1, rfield_numeric(&rows[k].f, recs[0]));
		}
		const char **tcells = calloc((size_t)nrows + 1, sizeof *tcells);
		char(*tv)[512] = calloc((size_t)nrows + 1, sizeof *tv);
		if (!tcells || !tv) {
			free(tcells);
			free(tv);
			rc = cli_fail("out of memory");
			goto done;
		}
		for (int i = 0; i < n; i++) {
			snprintf(tv[0], sizeof tv[0], "%.*s", csv ? 32 : 8,
			         cairn_run_record_id(recs[i]));
			tcells[0] = tv[0];
			for (int k = 0; k < nrows; k++) {
				rfield_text(recs[i], &rows[k].f, tv[k + 1], sizeof tv[k + 1], csv);
				tcells[k + 1] = tv[k + 1];
			}
			table_row(t, tcells);
		}
		free(tcells);
		free(tv);
	}
	if (csv)
		table_print_csv(t, stdout);
	else
		table_print(t, stdout, cli_term_width());
	if (!csv && !all && n > 1 && nrows == 2)
		printf("(params, metrics and data are the same; --all shows them)\n");
done:
	table_free(t);
	for (int i = 0; i < MAX_RUNS; i++) {
		cairn_run_record_free(recs[i]);
	}
	free(rows);
	cli_args_free(&a);
	return rc;
}
