/*
 * cli/cmd-checkout.c — `cairn checkout RUN DIR`: rebuild the code a run saw
 * (its commit, staged and unstaged changes, and untracked files) in DIR,
 * from the store alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn checkout RUN DIR [--repo PATH] [--no-git] [--json]\n\n"
    "Restore the run's code snapshot into DIR (created if needed; it must be\n"
    "empty): the files of its commit plus every change the run saw, staged or\n"
    "not, and untracked files that were not ignored.  Nothing else is needed:\n"
    "the snapshot is in the store, so an unpushed or since rewritten commit, or\n"
    "a deleted repository, does not matter.\n\n"
    "A run made in git gets a git repository in DIR: HEAD holds the run's\n"
    "committed tree (a stand-in for its commit, on its branch), and the run's\n"
    "changes are uncommitted, so git diff shows them and a run made in DIR is\n"
    "recorded against the original commit (cairn diff shows only what changed).\n\n"
    "options:\n"
    "  --repo PATH   a git repository to take files from that the snapshot did not\n"
    "                store (over the size cap); default: the run's own repository\n"
    "  --no-git      restore the files only, without a git repository\n"
    "  --json        print what was restored as JSON\n";

int cmd_checkout(int argc, char **argv)
{
	enum { O_HELP = 1, O_REPO, O_JSON, O_NO_GIT };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"repo", 0, true, O_REPO},
	                               {"no-git", 0, false, O_NO_GIT},
	                               {"json", 0, false, O_JSON},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_checkout_options co = CAIRN_CHECKOUT_OPTIONS_INIT;
	char *report = NULL;
	cairn_checkout_report *rep = NULL;
	bool as_json = false;
	int o, rc = 0;
	cli_args_init(&a, "checkout", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_REPO: co.repo = a.val; break;
		case O_JSON: as_json = true; break;
		case O_NO_GIT: co.no_git = 1; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos != 2) {
		rc = cli_usage_error("checkout", a.npos < 2 ? "name a run and a directory"
		                                            : "too many arguments");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	int e;
	if (as_json) {
		e = cairn_code_checkout_ext(&report, s, a.pos[0], a.pos[1], &co);
		if (e && !report) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
		puts(report);
	} else {
		e = cairn_code_checkout_report(&rep, s, a.pos[0], a.pos[1], &co);
		if (e && !rep) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
		const char *commit = cairn_checkout_report_commit(rep);
		const char *sub = cairn_checkout_report_subdir(rep);
		printf("restored %lld files into %s", (long long)cairn_checkout_report_files(rep),
		       a.pos[1]);
		if (commit)
			printf(" (commit %.12s + the run's changes)", commit);
		printf("\n");
		if (sub && *sub)
			printf("the run started in %s/%s\n", a.pos[1], sub);
		if (cairn_checkout_report_git(rep) && commit)
			printf("%s is a git repository: HEAD stands in for commit %.12s, the run's "
			       "changes are uncommitted (git status shows them)\n",
			       a.pos[1], commit);
		else if (cairn_checkout_report_git(rep))
			printf("%s is a git repository with no commit yet, as the run's was\n",
			       a.pos[1]);
	}
	if (e)
		rc = cli_fail_lib(NULL);
done:
	cairn_checkout_report_free(rep);
	cairn_free(report);
	cli_args_free(&a);
	return rc;
}
