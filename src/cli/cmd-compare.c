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

static bool any_differs(json_doc **docs, int n, const rfield *f)
{
	char a[512], b[512];
	bool pa = rfield_text(json_root(docs[0]), f, a, sizeof a, true);
	for (int i = 1; i < n; i++) {
		bool pb = rfield_text(json_root(docs[i]), f, b, sizeof b, true);
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

/* Every key of an object member, over all runs, in sorted order. */
static int add_keys(frow **rows, int *nrows, int *cap, json_doc **docs, int n, const char *member,
                    const char *kind, bool all)
{
	/* collect */
	const char **keys = NULL;
	int nk = 0, ck = 0;
	for (int i = 0; i < n; i++) {
		const json *o = json_get(json_root(docs[i]), member);
		for (const json *k = o ? o->child : NULL; k; k = k->next) {
			const char *name =
			    strcmp(member, "datasets") == 0 ? json_get_str(k, "name") : k->key;
			if (!name)
				continue;
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
		rfield_make(&f, kind, keys[i], strcmp(kind, "metric") == 0 ? "last" : NULL);
		if (all || any_differs(docs, n, &f))
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
	json_doc *docs[MAX_RUNS] = {0};
	char *texts[MAX_RUNS] = {0};
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
		char err[128];
		if (cairn_run_get_json(&texts[n], s, a.pos[n]) != 0) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
		docs[n] = json_parse(texts[n], strlen(texts[n]), NULL, err, sizeof err);
		if (!docs[n]) {
			rc = cli_fail("internal: bad JSON from the library: %s", err);
			goto done;
		}
	}
	/* one run compares with nothing: show all of it */
	bool every = all || n == 1;
	rfield f;
	rfield_make(&f, "attribute", "name", NULL);
	add_row(&rows, &nrows, &cap, &f);
	rfield_make(&f, "attribute", "status", NULL);
	add_row(&rows, &nrows, &cap, &f);
	if (add_keys(&rows, &nrows, &cap, docs, n, "params", "param", every) ||
	    add_keys(&rows, &nrows, &cap, docs, n, "metrics", "metric", every) ||
	    add_keys(&rows, &nrows, &cap, docs, n, "datasets", "dataset", every) ||
	    (all && add_keys(&rows, &nrows, &cap, docs, n, "properties", "property", true))) {
		rc = cli_fail("out of memory");
		goto done;
	}
	if (all) {
		rfield_make(&f, "tags", "tags", NULL);
		snprintf(f.name, sizeof f.name, "tags");
		add_row(&rows, &nrows, &cap, &f);
	}
	bool csv = strcmp(format, "csv") == 0;
	if (strcmp(format, "json") == 0) {
		buf b = BUF_INIT;
		buf_puts(&b, "{\"runs\":[");
		for (int i = 0; i < n; i++) {
			const json *r = json_root(docs[i]);
			buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
			json_str(&b, json_get_str(r, "id"));
			buf_puts(&b, ",\"name\":");
			json_str(&b, json_get_str(r, "name"));
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
				if (rfield_text(json_root(docs[i]), &rows[k].f, v, sizeof v, true))
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
			         json_get_str(json_root(docs[i]), "id"));
			table_header(t, i + 1, vals[i]);
		}
		for (int k = 0; k < nrows; k++) {
			bool right = rfield_numeric(&rows[k].f, json_root(docs[0]));
			cells[0] = rows[k].f.name;
			for (int i = 0; i < n; i++) {
				rfield_text(json_root(docs[i]), &rows[k].f, vals[i], sizeof vals[i],
				            csv);
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
			table_align_right(t, k + 1, rfield_numeric(&rows[k].f, json_root(docs[0])));
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
			         json_get_str(json_root(docs[i]), "id"));
			tcells[0] = tv[0];
			for (int k = 0; k < nrows; k++) {
				rfield_text(json_root(docs[i]), &rows[k].f, tv[k + 1],
				            sizeof tv[k + 1], csv);
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
		json_doc_free(docs[i]);
		cairn_free(texts[i]);
	}
	free(rows);
	cli_args_free(&a);
	return rc;
}
