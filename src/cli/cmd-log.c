/*
 * cli/cmd-log.c — `cairn log WHAT …`: log into a run from any language.
 * The run is --run RUN or $CAIRN_RUN_ID (set by `cairn run` for its child).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn log metric KEY VALUE [--step N]\n"
    "       cairn log param KEY VALUE\n"
    "       cairn log tag TAG...\n"
    "       cairn log property KEY VALUE\n"
    "       cairn log artifact PATH [--name NAME] [--keep-last N]\n"
    "       cairn log image KEY PATH [--step N]\n\n"
    "Log into the run named by --run RUN, or $CAIRN_RUN_ID (set by 'cairn run').\n"
    "Metric values are numbers (nan, inf and -inf are accepted); params are typed\n"
    "(int, float, bool, string) from their text.\n\n"
    "options:\n"
    "  --run RUN     the run (id, unique prefix of 4+ hex digits, or name)\n"
    "  --step N      the step of a metric or image (default: the key's next step)\n"
    "  --name NAME   the artifact's name inside the run (default: the base name)\n"
    "  --keep-last N a file logged again under NAME keeps its last N versions\n"
    "                (NAME@v1, NAME@v2, ...; NAME is the newest), older ones freed\n";

static int parse_step(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < 0)
		return -1;
	*out = v;
	return 0;
}

int cmd_log(int argc, char **argv)
{
	enum { O_HELP = 1, O_RUN, O_STEP, O_NAME, O_KEEP };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},   {"run", 'r', true, O_RUN},
	                               {"step", 's', true, O_STEP},    {"name", 'n', true, O_NAME},
	                               {"keep-last", 0, true, O_KEEP}, {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run *r = NULL;
	const char *run = NULL, *name = NULL, *step_s = NULL, *keep_s = NULL;
	int64_t step = CAIRN_STEP_AUTO;
	int o, rc = 0;
	cli_args_init(&a, "log", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_RUN: run = a.val; break;
		case O_STEP: step_s = a.val; break;
		case O_NAME: name = a.val; break;
		case O_KEEP: keep_s = a.val; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 1) {
		rc = cli_usage_error(
		    "log", "say what to log: metric, param, tag, property, artifact or image");
		goto done;
	}
	const char *what = a.pos[0];
	int need = 0;
	if (strcmp(what, "metric") == 0 || strcmp(what, "param") == 0 ||
	    strcmp(what, "property") == 0 || strcmp(what, "image") == 0)
		need = 2;
	else if (strcmp(what, "artifact") == 0)
		need = 1;
	else if (strcmp(what, "tag") == 0)
		need = -1;
	else {
		rc = cli_usage_error(
		    "log", "cannot log '%s' (metric, param, tag, property, artifact, image)", what);
		goto done;
	}
	if ((need > 0 && a.npos - 1 != need) || (need < 0 && a.npos < 2)) {
		rc = cli_usage_error("log", "'log %s' takes %s", what,
		                     need == 2   ? "two arguments"
		                     : need == 1 ? "one argument"
		                                 : "at least one tag");
		goto done;
	}
	if (step_s && parse_step(step_s, &step) != 0) {
		rc =
		    cli_usage_error("log", "--step needs a non-negative integer, got '%s'", step_s);
		goto done;
	}
	int keep = 0;
	if (keep_s) {
		char *end;
		errno = 0;
		long k = strtol(keep_s, &end, 10);
		if (end == keep_s || *end || errno || k < 1 || k > 1000000 ||
		    strcmp(what, "artifact") != 0) {
			rc = cli_usage_error("log",
			                     "--keep-last needs a number from 1 (for 'log "
			                     "artifact'), got '%s'",
			                     keep_s);
			goto done;
		}
		keep = (int)k;
	}
	double value = 0;
	if (strcmp(what, "metric") == 0 && cairn_metric_value_parse(a.pos[2], &value) != 0) {
		rc = cli_fail("metric '%s': %s", a.pos[1], cairn_error_last());
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	if ((rc = cli_open_run(&r, s, run)) != 0)
		goto done;
	int e = 0;
	if (strcmp(what, "metric") == 0)
		e = cairn_run_log_metric(r, a.pos[1], value, step, 0);
	else if (strcmp(what, "param") == 0)
		e = cairn_run_log_param_text(r, a.pos[1], a.pos[2]);
	else if (strcmp(what, "property") == 0)
		e = cairn_run_set_property(r, a.pos[1], a.pos[2]);
	else if (strcmp(what, "image") == 0)
		e = cairn_run_log_image(r, a.pos[1], a.pos[2], step);
	else if (strcmp(what, "artifact") == 0)
		e = keep ? cairn_run_log_artifact_keep(r, a.pos[1], name, keep)
		         : cairn_run_log_artifact(r, a.pos[1], name);
	else
		for (int i = 1; i < a.npos && !e; i++)
			e = cairn_run_set_tag(r, a.pos[i]);
	if (!e)
		e = cairn_run_flush(r);
	if (e)
		rc = cli_fail_lib(NULL);
done:
	cairn_run_free(r);
	cli_args_free(&a);
	return rc;
}
