/*
 * cli/cmd-migrate.c — `cairn migrate FROM TO`: copy a whole store into an
 * empty one (SQLite <-> PostgreSQL, objects in a directory <-> a bucket),
 * with a progress bar on a terminal and a count of what was copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn migrate FROM TO [--progress] [-q]\n\n"
    "Copy every run of the store FROM into the store TO, which must exist (cairn\n"
    "init, with --objects for a bucket) and have no runs.  FROM and TO are what\n"
    "--store takes: a store directory or a postgresql:// URI.  Ids, params, every\n"
    "metric point, artifacts, code snapshots and environments come out identical;\n"
    "each object is copied into TO's own object place.\n\n"
    "options:\n"
    "      --progress   show the progress bar even when stderr is not a terminal\n"
    "  -q, --quiet      print nothing but errors\n";

typedef struct bar {
	bool on, shown;
	struct timespec last;
} bar;

static int progress_cb(const cairn_migrate_progress *p, void *payload)
{
	bar *b = payload;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double dt = (double)(now.tv_sec - b->last.tv_sec) + (now.tv_nsec - b->last.tv_nsec) / 1e9;
	if (!b->on || (dt < 0.2 && p->done < p->total))
		return 0;
	b->last = now;
	int w = 30, fill = p->total > 0 ? (int)(w * p->done / p->total) : w;
	fprintf(stderr, "\r\033[K  %-4s [%.*s%*s] %lld/%lld  %lld points, %lld objects", p->phase,
	        fill, "##############################", w - fill, "", (long long)p->done,
	        (long long)p->total, (long long)p->stats->metric_points,
	        (long long)p->stats->objects);
	fflush(stderr);
	b->shown = true;
	return 0;
}

int cmd_migrate(int argc, char **argv)
{
	enum { O_HELP = 1, O_PROGRESS, O_QUIET };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"progress", 0, false, O_PROGRESS},
	                               {"quiet", 'q', false, O_QUIET},
	                               {0}};
	cli_args a;
	cairn_store *from = NULL, *to = NULL;
	bool quiet = false;
	bar b = {cli_isatty(stderr), false, {0, 0}};
	int o, rc = 0;
	cli_args_init(&a, "migrate", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_PROGRESS: b.on = true; break;
		case O_QUIET: quiet = true; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos != 2) {
		rc = cli_usage_error("migrate", a.npos < 2 ? "name the store to copy and the store "
		                                             "to copy it into"
		                                           : "too many arguments");
		goto done;
	}
	if (quiet)
		b.on = false;
	if (cairn_store_open(&from, a.pos[0]) != 0) {
		rc = cli_fail_lib("the store to copy");
		goto done;
	}
	if (cairn_store_open(&to, a.pos[1]) != 0) {
		rc = cli_fail_lib("the store to copy into");
		goto done;
	}
	cairn_migrate_options mo = CAIRN_MIGRATE_OPTIONS_INIT;
	cairn_migrate_stats st;
	mo.progress = progress_cb;
	mo.payload = &b;
	int e = cairn_store_migrate(from, to, &mo, &st);
	if (b.shown)
		fputs(b.on && cli_isatty(stderr) ? "\r\033[K" : "\n", stderr);
	if (e) {
		rc = cli_fail_lib("cannot copy the store");
		goto done;
	}
	if (!quiet) {
		printf("copied %s into %s (objects: %s)\n", cairn_store_path(from),
		       cairn_store_path(to), cairn_store_objects(to));
		printf("  %lld runs, %lld params, %lld metric points, %lld tags, %lld properties\n",
		       (long long)st.runs, (long long)st.params, (long long)st.metric_points,
		       (long long)st.tags, (long long)st.properties);
		printf(
		    "  %lld artifacts, %lld datasets, %lld sweep trials, %lld code cache entries\n",
		    (long long)st.artifacts, (long long)st.datasets, (long long)st.trials,
		    (long long)st.code_map);
		printf("  %lld objects copied (%lld bytes)\n", (long long)st.objects,
		       (long long)st.object_bytes);
	}
done:
	cairn_store_close(to);
	cairn_store_close(from);
	cli_args_free(&a);
	return rc;
}
