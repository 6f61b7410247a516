/*
 * cli/main.c — the `cairn` program: global options and the command table.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

/* What each command needs (CLI_STORE, CLI_RUN: cli.h) is said here, once;
 * cli_store() opens the store for the commands that declare it, and main
 * closes it when the command returns. */
typedef struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	unsigned needs;
	const char *summary;
} command;

#define STORE CLI_STORE
#define RUN   (CLI_STORE | CLI_RUN)

static const command commands[] = {
    {"init", cmd_init, 0, "create a store (.cairn/) in a directory"},
    {"run", cmd_run, STORE, "run a command and record its code, params, environment and output"},
    {"start", cmd_start, STORE, "create a run and print its id (for shell scripts)"},
    {"finish", cmd_finish, RUN, "set a run's final status"},
    {"log", cmd_log, RUN, "log a metric, param, tag, property, artifact or image"},
    {"ls", cmd_ls, STORE, "list, filter, sort and group runs (the query language)"},
    {"best", cmd_best, STORE, "the best run by a metric"},
    {"diff", cmd_diff, RUN, "what differs between two runs"},
    {"compare", cmd_compare, RUN, "runs side by side, what differs"},
    {"show", cmd_show, RUN, "show everything recorded for a run"},
    {"tag", cmd_tag, RUN, "add or remove tags"},
    {"note", cmd_note, RUN, "set a run's note"},
    {"rm", cmd_rm, RUN, "delete runs"},
    {"ui", cmd_ui, STORE, "browse the store in a web browser (web UI and HTTP API)"},
    {"server", cmd_server, STORE, "serve the store's HTTP API and web UI to a team"},
    {"checkout", cmd_checkout, RUN, "restore a run's code into a directory"},
    {"reproduce", cmd_reproduce, RUN, "re-run a run from its records and check its results"},
    {"data", cmd_data, RUN, "hash, compare and list data versions"},
    {"sweep", cmd_sweep, STORE, "search hyperparameters: trials as child runs (grid, random, tpe)"},
    {"agent", cmd_agent, STORE, "work on a sweep's trials, on this machine beside others"},
    {"token", cmd_token, STORE, "create, list and revoke the tokens a server accepts"},
    {"migrate", cmd_migrate, 0, "copy a whole store into another (SQLite, PostgreSQL, a bucket)"},
    {"import", cmd_import, STORE, "import runs from an MLflow file store (mlruns/)"},
    {"gc", cmd_gc, STORE,
     "attach a crashed run's logs, remove stray temp files and unused objects"},
    {"sync", cmd_sync, 0, "send the writes kept while a server could not be reached"},
    {"login", cmd_login, 0, "keep a token for a cairn server"},
};

static int run_command(const command *c, int argc, char **argv)
{
	cli_command_begin(c->name, c->needs);
	int rc = c->fn(argc, argv);
	cli_command_end();
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cairn [--store DIR] <command> [<args>]\n\n"
	           "cairn records code, data, params, environment and metrics of every run.\n\n"
	           "commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
	        "\nglobal options:\n"
	        "  --store DIR   use the store in DIR (default: $CAIRN_DIR, the nearest .cairn/,\n"
	        "                or the per-user store); a URL is a cairn server's store\n"
	        "  --cacert F    trust the CA certificates in F for https:// servers\n"
	        "                (sets CAIRN_CA_BUNDLE)\n"
	        "  --version     print the version\n\n"
	        "'cairn <command> -h' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	int i = 1;
	/* A closed pipe (cairn ls | head) ends output quietly. */
	signal(SIGPIPE, SIG_DFL);
	/* Started by a command that an outer `cairn run` traces (a sweep script
	 * running trials): what cairn itself reads (a code snapshot, its store)
	 * is not that run's data, so the shim loaded into us stops reporting. */
	void (*shim_off)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "cairn_shim_disable");
	if (shim_off)
		shim_off();
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
			cli_store_dir = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--store=", 8) == 0) {
			cli_store_dir = argv[i] + 8;
			i++;
		} else if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc) {
			setenv("CAIRN_CA_BUNDLE", argv[i + 1], 1);
			i += 2;
		} else if (strncmp(argv[i], "--cacert=", 9) == 0) {
			setenv("CAIRN_CA_BUNDLE", argv[i] + 9, 1);
			i++;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("cairn %s\n", cairn_version());
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--store") == 0) {
			fprintf(stderr, "error: option '--store' needs a directory\n");
			return EXIT_USAGE;
		} else {
			fprintf(stderr, "error: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[i];
	if (strcmp(name, "help") == 0) {
		if (i + 1 < argc) {
			char *hargv[] = {argv[i + 1], "-h", NULL};
			for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
				if (strcmp(commands[c].name, argv[i + 1]) == 0)
					return run_command(&commands[c], 2, hargv);
		}
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
		if (strcmp(commands[c].name, name) == 0)
			return run_command(&commands[c], argc - i, argv + i);
	fprintf(stderr, "error: '%s' is not a cairn command (see 'cairn -h')\n", name);
	return EXIT_USAGE;
}
