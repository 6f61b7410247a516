/*
 * cli/cmd-tag.c — `cairn tag`, `cairn note` and `cairn rm`: organising runs.
 */
#include <stdio.h>
#include <stdlib.h>
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
    "usage: cairn rm RUN... [--purge]\n"
    "       cairn rm RUN --artifact PATH...\n\n"
    "Delete runs.  Without --purge a run is hidden (kept in the store; 'cairn ls --all'\n"
    "still lists it); with --purge its records and the objects no other run uses are\n"
    "removed for good.  With --artifact, delete the run's artifact at PATH (every one\n"
    "under PATH when it names a directory) and free the bytes nothing else uses.\n\n"
    "options:\n"
    "  --purge          remove the runs' records and unused objects for good\n"
    "  --artifact PATH  delete this artifact of RUN (repeatable)\n";

/* cairn rm RUN --artifact PATH...: every path checked to be there before
 * any is deleted, so a typo deletes nothing. */
static int rm_artifacts(cairn_store *s, const char *run, char **paths, int n)
{
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	if (cairn_run_resolve(id, s, run) != 0)
		return cli_fail_lib(NULL);
	for (int i = 0; i < n; i++) {
		char oid[CAIRN_OID_HEXSZ + 1];
		int64_t size;
		char *media = NULL;
		int rc = cairn_artifact_lookup(oid, &size, &media, s, id, paths[i]);
		cairn_free(media);
		if (rc == CAIRN_ENOTFOUND) {
			/* a directory: some artifact under it */
			cairn_run_record *r = NULL;
			bool under = false;
			size_t pl = strlen(paths[i]);
			if (cairn_run_record_get(&r, s, id, CAIRN_RECORD_ARTIFACTS) == 0)
				for (size_t k = 0; k < cairn_run_record_artifact_count(r) && !under;
				     k++) {
					const char *ap = cairn_run_record_artifact(r, k)->path;
					under = strncmp(ap, paths[i], pl) == 0 && ap[pl] == '/';
				}
			cairn_run_record_free(r);
			if (!under) {
				return cli_fail("run %.8s has no artifact '%s'", id, paths[i]);
			}
		} else if (rc) {
			return cli_fail_lib(NULL);
		}
	}
	int64_t total = 0;
	size_t freed = 0;
	for (int i = 0; i < n; i++) {
		int64_t k = 0;
		size_t f = 0;
		if (cairn_artifact_delete(s, id, paths[i], &k, &f) != 0)
			return cli_fail_lib(NULL);
		total += k;
		freed += f;
	}
	printf("deleted %lld artifact%s of run %.8s; %zu object%s freed\n", (long long)total,
	       total == 1 ? "" : "s", id, freed, freed == 1 ? "" : "s");
	return 0;
}

int cmd_rm(int argc, char **argv)
{
	enum { O_HELP = 1, O_PURGE, O_ARTIFACT };
	static const cli_opt opts[] = {{"help", 'h', false, O_HELP},
	                               {"purge", 0, false, O_PURGE},
	                               {"artifact", 0, true, O_ARTIFACT},
	                               {0}};
	cli_args a;
	cairn_store *s = NULL;
	bool purge = false;
	char **paths = NULL;
	int npaths = 0;
	int o, rc = 0;
	cli_args_init(&a, "rm", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == O_HELP) {
			cli_help(rm_usage);
			goto done;
		}
		if (o == O_PURGE) {
			purge = true;
			continue;
		}
		char **np = realloc(paths, (size_t)(npaths + 1) * sizeof *np);
		if (!np) {
			rc = cli_fail("out of memory");
			goto done;
		}
		paths = np;
		paths[npaths++] = (char *)a.val;
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos < 1) {
		rc = cli_usage_error("rm", "need at least one run");
		goto done;
	}
	if (npaths && (purge || a.npos != 1)) {
		rc = cli_usage_error("rm",
		                     purge ? "--artifact deletes artifacts, not runs: drop --purge"
		                           : "--artifact takes exactly one run");
		goto done;
	}
	if ((rc = cli_store(&s)) != 0)
		goto done;
	if (npaths) {
		rc = rm_artifacts(s, a.pos[0], paths, npaths);
		goto done;
	}
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
	free(paths);
	cli_args_free(&a);
	return rc;
}
