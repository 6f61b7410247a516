/*
 * cli/cmd-ls.c — `cairn ls`: list runs, newest first.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/clock.h"
#include "util/json.h"

static const char usage[] =
    "usage: cairn ls [-p PROJECT] [--limit N] [--format table|json|csv] [--all]\n\n"
    "List runs, newest first.\n\n"
    "options:\n"
    "  -p, --project P    only runs of project P\n"
    "  -n, --limit N      at most N runs\n"
    "  -f, --format F     table (default), json or csv\n"
    "      --json         same as --format json\n"
    "  -a, --all          include deleted runs\n";

static void fmt_duration(char *out, size_t n, double secs)
{
	if (secs < 0)
		secs = 0;
	long s = (long)secs;
	if (s < 60)
		snprintf(out, n, "%.1fs", secs);
	else if (s < 3600)
		snprintf(out, n, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(out, n, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

int cmd_ls(int argc, char **argv)
{
	enum { O_HELP = 1, O_PROJECT, O_LIMIT, O_FORMAT, O_JSON, O_ALL };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"project", 'p', true, O_PROJECT},
	                               {"limit", 'n', true, O_LIMIT},
	                               {"format", 'f', true, O_FORMAT},
	                               {"json", 0, false, O_JSON},
	                               {"all", 'a', false, O_ALL},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_list_options lo = CAIRN_LIST_OPTIONS_INIT;
	const char *format = "table";
	char *out = NULL;
	json_doc *doc = NULL;
	table *t = NULL;
	int o, rc = 0;
	cli_args_init(&a, "ls", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_PROJECT: lo.project = a.val; break;
		case O_LIMIT: {
			char *end;
			long long v = strtoll(a.val, &end, 10);
			if (*end || end == a.val || v < 0) {
				rc = cli_usage_error(
				    "ls", "--limit needs a non-negative integer, got '%s'", a.val);
				goto done;
			}
			lo.limit = v;
			break;
		}
		case O_FORMAT: format = a.val; break;
		case O_JSON: format = "json"; break;
		case O_ALL: lo.include_deleted = 1; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "csv")) {
		rc = cli_usage_error("ls", "--format must be table, json or csv, not '%s'", format);
		goto done;
	}
	if (a.npos) {
		rc = cli_usage_error("ls", "unexpected argument '%s'", a.pos[0]);
		goto done;
	}
	if ((rc = cli_open_store(&s)) != 0)
		goto done;
	if (cairn_run_list_json(&out, s, &lo) != 0) {
		rc = cli_fail_lib("cannot list runs");
		goto done;
	}
	if (strcmp(format, "json") == 0) {
		fputs(out, stdout);
		fputc('\n', stdout);
		goto done;
	}
	char err[128];
	doc = json_parse(out, strlen(out), NULL, err, sizeof err);
	if (!doc) {
		rc = cli_fail("internal: bad JSON from the library: %s", err);
		goto done;
	}
	t = table_new(7);
	const char *heads[] = {"ID", "NAME", "PROJECT", "STATUS", "STARTED", "DURATION", "TAGS"};
	for (int c = 0; c < 7; c++)
		table_header(t, c, heads[c]);
	table_align_right(t, 5, true);
	for (const json *r = json_root(doc)->child; r; r = r->next) {
		char id[9], started[32], dur[32] = "", tags[512] = "";
		snprintf(id, sizeof id, "%s", json_get_str(r, "id"));
		double st = 0, en = 0;
		json_get_num(r, "start_time", &st);
		clock_format_short(started, st);
		if (json_get_num(r, "end_time", &en) && en > 0)
			fmt_duration(dur, sizeof dur, en - st);
		else if (strcmp(json_get_str(r, "status"), "running") == 0)
			fmt_duration(dur, sizeof dur, clock_now() - st);
		size_t tl = 0;
		const json *tg = json_get(r, "tags");
		for (const json *x = tg ? tg->child : NULL; x; x = x->next)
			tl += (size_t)snprintf(tags + tl, tl < sizeof tags ? sizeof tags - tl : 0,
			                       "%s%s", tl ? "," : "", x->str);
		const char *cells[] = {id,
		                       json_get_str(r, "name"),
		                       json_get_str(r, "project"),
		                       json_get_str(r, "status"),
		                       started,
		                       dur,
		                       tags};
		table_row(t, cells);
	}
	if (strcmp(format, "csv") == 0)
		table_print_csv(t, stdout);
	else
		table_print(t, stdout, cli_term_width());
done:
	table_free(t);
	json_doc_free(doc);
	cairn_free(out);
	cairn_store_close(s);
	cli_args_free(&a);
	return rc;
}
