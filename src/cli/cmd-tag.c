/*
 * cli/cmd-tag.c — `cairn tag`, `cairn note` and `cairn rm`: organising runs.
 */
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char tag_usage[] = "usage: cairn tag RUN TAG... [--remove]\n\n"
                                "Add tags to a run, or remove them with --remove.\n";

int cmd_tag(int argc, char **argv)
{
	enum { O_HELP = 1, O_REMOVE };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP}, {"remove", 'd', false, O_REMOVE}, {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run *r = NULL;
	bool remove = false;
	int o, rc = 0;
	cli_args_init(&a, "tag", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == O_HELP) {
			cli_help(tag_usage);
			goto done;
		}
		if (o == O_REMOVE)
			remove = true;
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 2) {
		rc = cli_usage_error("tag", "need a run and at least one tag");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0 || (rc = cli_open_run(&r, s, a.pos[0])) != 0)
		goto done;
	/* validate every tag first, so a bad one changes nothing */
	for (int i = 1; i < a.npos; i++)
		if ((remove ? cairn_key_validate(a.pos[i], "tag") : cairn_tag_validate(a.pos[i])) !=
		    0) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
	for (int i = 1; i < a.npos; i++) {
		int e = remove ? cairn_run_remove_tag(r, a.pos[i]) : cairn_run_set_tag(r, a.pos[i]);
		if (e) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
	}
done:
	cairn_run_free(r);
	cli_args_free(&a);
	return rc;
}

static const char note_usage[] = "usage: cairn note RUN TEXT\n\n"
                                 "Set a run's free-text note (an empty TEXT clears it).\n";

int cmd_note(int argc, char **argv)
{
	static const cli_opt opts[] = {{"help", 'h', false, 'h'}, {0}};
	cli_args a;
	cairn_store *s = NULL;
	cairn_run *r = NULL;
	int o, rc = 0;
	cli_args_init(&a, "note", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		cli_help(note_usage);
		goto done;
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos != 2) {
		rc = cli_usage_error("note", "need a run and the note's text");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0 || (rc = cli_open_run(&r, s, a.pos[0])) != 0)
		goto done;
	if (cairn_run_set_note(r, a.pos[1]) != 0)
		rc = cli_fail_lib(NULL);
done:
	cairn_run_free(r);
	cli_args_free(&a);
	return rc;
}

static const char rm_usage[] =
    "usage: cairn rm RUN... [--purge]\n\n"
    "Delete runs.  Without --purge a run is hidden (kept in the store; 'cairn ls --all'\n"
    "still lists it); with --purge its records and the objects no other run uses are\n"
    "removed for good.\n";

int cmd_rm(int argc, char **argv)
{
	enum { O_HELP = 1, O_PURGE };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP}, {"purge", 0, false, O_PURGE}, {0}};
	cli_args a;
	cairn_store *s = NULL;
	bool purge = false;
	int o, rc = 0;
	cli_args_init(&a, "rm", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == O_HELP) {
			cli_help(rm_usage);
			goto done;
		}
		purge = true;
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 1) {
		rc = cli_usage_error("rm", "need at least one run");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	/* resolve every id first: an unknown one deletes nothing */
	for (int i = 0; i < a.npos; i++) {
		char id[CAIRN_RUN_ID_HEXSZ + 1];
		if (cairn_run_resolve(id, s, a.pos[i]) != 0 && !purge) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
	}
	for (int i = 0; i < a.npos; i++) {
		if (cairn_run_delete(s, a.pos[i], purge) != 0) {
			rc = cli_fail_lib(NULL);
			goto done;
		}
	}
done:
	cli_args_free(&a);
	return rc;
}
