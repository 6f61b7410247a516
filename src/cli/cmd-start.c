/*
 * cli/cmd-start.c — `cairn start` and `cairn finish`: open and close runs
 * from shell scripts.  `cairn start --resume RUN` puts an ended run back to
 * running (cairn_run_resume) instead of creating one; the options that
 * only name a new run (-p, -n) are refused with it.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char start_usage[] =
    "usage: cairn start [-p PROJECT] [-n NAME] [-t TAG]... [--param K=V]... [--note TEXT]\n"
    "       cairn start --resume RUN [-t TAG]... [--param K=V]... [--note TEXT]\n\n"
    "Create a run (status running) and print its id on stdout, so a script can do\n"
    "  export CAIRN_RUN_ID=$(cairn start -p salt)\n"
    "  cairn log metric loss 0.3 --step 1\n"
    "  cairn finish $CAIRN_RUN_ID\n\n"
    "With --resume, put the existing run RUN back to running (end time and exit\n"
    "code cleared) and print its id: metrics logged without --step continue\n"
    "after each key's last step, and a param given again must keep its value.\n\n"
    "options:\n"
    "      --resume RUN       resume RUN (an id, unique prefix or name)\n"
    "  -p, --project PROJECT  project (default: $CAIRN_PROJECT or 'default')\n"
    "  -n, --name NAME        run name (default: generated, e.g. brisk-heron-3)\n"
    "  -t, --tag TAG          add a tag (repeatable)\n"
    "      --param K=V        record a param, typed (repeatable)\n"
    "      --note TEXT        a free-text note\n";

int cmd_start(int argc, char **argv)
{
	enum { O_HELP = 1, O_PROJECT, O_NAME, O_TAG, O_PARAM, O_NOTE, O_RESUME };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP},      {"resume", 0, true, O_RESUME},
	    {"project", 'p', true, O_PROJECT}, {"name", 'n', true, O_NAME},
	    {"tag", 't', true, O_TAG},         {"param", 0, true, O_PARAM},
	    {"note", 0, true, O_NOTE},         {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run *r = NULL;
	const char **tags = calloc((size_t)argc + 1, sizeof *tags);
	const char **params = calloc((size_t)argc + 1, sizeof *params);
	size_t ntags = 0, nparams = 0;
	const char *note = NULL, *resume = NULL;
	cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
	int o, rc = 0;
	cli_args_init(&a, "start", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(start_usage); goto done;
		case O_PROJECT: ro.project = a.val; break;
		case O_NAME: ro.name = a.val; break;
		case O_TAG: tags[ntags++] = a.val; break;
		case O_PARAM:
			if (!strchr(a.val, '=')) {
				rc = cli_usage_error("start", "--param needs KEY=VALUE, got '%s'",
				                     a.val);
				goto done;
			}
			params[nparams++] = a.val;
			break;
		case O_NOTE: note = a.val; break;
		case O_RESUME: resume = a.val; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos) {
		rc = cli_usage_error("start", "unexpected argument '%s'", a.pos[0]);
		goto done;
	}
	if (resume && (ro.project || ro.name)) {
		rc = cli_usage_error("start",
		                     "--resume takes an existing run: no --project or --name");
		goto done;
	}
	ro.tags = tags;
	ro.ntags = ntags;
	if ((rc = cli_store(&s)) != 0)
		goto done;
	if (resume) {
		if (cairn_run_resume(&r, s, resume) != 0) {
			rc = cli_fail_lib("cannot resume the run");
			goto done;
		}
		for (size_t i = 0; i < ntags; i++)
			if (cairn_run_set_tag(r, tags[i]) != 0) {
				rc = cli_fail_lib(NULL);
				goto done;
			}
	} else if (cairn_run_create(&r, s, &ro) != 0) {
		rc = cli_fail_lib("cannot start a run");
		goto done;
	}
	for (size_t i = 0; i < nparams; i++) {
		char *kv = strdup(params[i]);
		char *eq = kv ? strchr(kv, '=') : NULL;
		if (!eq) {
			free(kv);
			continue;
		}
		*eq = '\0';
		int e = cairn_run_log_param_text(r, kv, eq + 1);
		free(kv);
		if (e) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
	}
	if (note && cairn_run_set_note(r, note) != 0) {
		rc = cli_fail_lib(NULL);
		goto done;
	}
	printf("%s\n", cairn_run_id(r));
done:
	cairn_run_free(r);
	cli_args_free(&a);
	free(tags);
	free(params);
	return rc;
}

static const char finish_usage[] =
    "usage: cairn finish [RUN] [--status finished|failed|killed|pruned] [--exit-code N]\n\n"
    "Set a run's final status (default: finished) and end time.  RUN defaults to\n"
    "$CAIRN_RUN_ID.\n";

int cmd_finish(int argc, char **argv)
{
	enum { O_HELP = 1, O_STATUS, O_EXIT };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"status", 's', true, O_STATUS},
	                               {"exit-code", 0, true, O_EXIT},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run *r = NULL;
	cairn_status st = CAIRN_STATUS_FINISHED;
	int exit_code = 0, o, rc = 0;
	bool have_exit = false;
	cli_args_init(&a, "finish", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(finish_usage); goto done;
		case O_STATUS:
			if (cairn_status_parse(&st, a.val) != 0 || st == CAIRN_STATUS_RUNNING ||
			    st == CAIRN_STATUS_CRASHED) {
				rc = cli_usage_error(
				    "finish",
				    "--status must be finished, failed, killed or pruned, not '%s'",
				    a.val);
				goto done;
			}
			break;
		case O_EXIT: {
			char *end;
			long v = strtol(a.val, &end, 10);
			if (*end || end == a.val) {
				rc = cli_usage_error(
				    "finish", "--exit-code needs an integer, got '%s'", a.val);
				goto done;
			}
			exit_code = (int)v;
			have_exit = true;
			break;
		}
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos > 1) {
		rc = cli_usage_error("finish", "too many arguments");
		goto done;
	}
	if (!have_exit && st == CAIRN_STATUS_FAILED)
		exit_code = 1;
	if ((rc = cli_store(&s)) != 0)
		goto done;
	if ((rc = cli_open_run(&r, s, a.npos ? a.pos[0] : NULL)) != 0)
		goto done;
	if (cairn_run_finish(r, st, exit_code) != 0)
		rc = cli_fail_lib("cannot finish the run");
done:
	cairn_run_free(r);
	cli_args_free(&a);
	return rc;
}
