/*
 * cli/cmd-gc.c — `cairn gc`: collect what crashed writers and deletions
 * left in the store (cairn_store_gc): the logs of a killed `cairn run`
 * attached to their run, stray temp files, unreferenced objects.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn gc [--tmp-age SECONDS] [--no-objects] [--json]\n\n"
    "Collect what crashed writers and deletions left behind: the logs a killed\n"
    "'cairn run' was writing are attached to their run (opening the store does\n"
    "this too), temp files in objects/tmp that no process holds and nobody\n"
    "touched for an hour are removed, and so is every object that no run\n"
    "references any more (the bytes of deleted artifacts, of purges that\n"
    "were interrupted).  Safe while other processes use the store.\n\n"
    "options:\n"
    "      --tmp-age SECONDS  age after which a stray temp file goes (default 3600)\n"
    "      --no-objects       leave unreferenced objects alone\n"
    "      --json             print the counts as JSON\n";

int cmd_gc(int argc, char **argv)
{
	enum { O_HELP = 1, O_AGE, O_NOOBJ, O_JSON };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"tmp-age", 0, true, O_AGE},
	                               {"no-objects", 0, false, O_NOOBJ},
	                               {"json", 0, false, O_JSON},
	                               {0}};
	cli_args a;
	cairn_gc_options go = CAIRN_GC_OPTIONS_INIT;
	bool json = false;
	int o, rc = 0;
	cli_args_init(&a, "gc", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_AGE: {
			char *end;
			double v = strtod(a.val, &end);
			if (end == a.val || *end || !isfinite(v) || v < 0) {
				rc = cli_usage_error(
				    "gc", "--tmp-age takes seconds (0 or more), not '%s'", a.val);
				goto done;
			}
			go.tmp_age = v;
			break;
		}
		case O_NOOBJ: go.objects = 0; break;
		case O_JSON: json = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos) {
		rc = cli_usage_error("gc", "takes no arguments");
		goto done;
	}
	cairn_store *s;
	if ((rc = cli_store(&s)) != 0)
		goto done;
	cairn_gc_stats st;
	if (cairn_store_gc(s, &go, &st) != 0) {
		rc = cli_fail_lib("cannot collect the store's garbage");
		goto done;
	}
	if (json)
		printf("{\"logs_recovered\": %lld, \"log_bytes\": %lld, \"tmp_removed\": %lld, "
		       "\"tmp_bytes\": %lld, \"objects_removed\": %lld, \"object_bytes\": %lld}\n",
		       (long long)st.logs_recovered, (long long)st.log_bytes,
		       (long long)st.tmp_removed, (long long)st.tmp_bytes,
		       (long long)st.objects_removed, (long long)st.object_bytes);
	else
		printf("%lld logs of crashed runs attached (%lld bytes), %lld temp files removed "
		       "(%lld bytes), %lld unreferenced objects removed (%lld bytes)\n",
		       (long long)st.logs_recovered, (long long)st.log_bytes,
		       (long long)st.tmp_removed, (long long)st.tmp_bytes,
		       (long long)st.objects_removed, (long long)st.object_bytes);
done:
	cli_args_free(&a);
	return rc;
}
