/*
 * cli/main.c — the `cairn` program: global options and the command table.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

typedef struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
    {"init", cmd_init, "create a store (.cairn/) in a directory"},
    {"run", cmd_run, "run a command and record its code, params, environment and output"},
    {"start", cmd_start, "create a run and print its id (for shell scripts)"},
    {"finish", cmd_finish, "set a run's final status"},
    {"log", cmd_log, "log a metric, param, tag, property, artifact or image"},
    {"ls", cmd_ls, "list, filter, sort and group runs (the query language)"},
    {"best", cmd_best, "the best run by a metric"},
    {"diff", cmd_diff, "what differs between two runs"},
    {"compare", cmd_compare, "runs side by side, what differs"},
    {"show", cmd_show, "show everything recorded for a run"},
    {"tag", cmd_tag, "add or remove tags"},
    {"note", cmd_note, "set a run's note"},
    {"rm", cmd_rm, "delete runs"},
    {"ui", cmd_ui, "browse the store in a web browser (web UI and HTTP API)"},
    {"server", cmd_server, "serve the store's HTTP API and web UI to a team"},
    {"checkout", cmd_checkout, "restore a run's code into a directory"},
    {"data", cmd_data, "hash, compare and list data versions"},
    {"sweep", cmd_sweep, "search hyperparameters: trials as child runs (grid, random, tpe)"},
};

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
	        "                or the per-user store)\n"
	        "  --version     print the version\n\n"
	        "'cairn <command> -h' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	int i = 1;
	/* A closed pipe (cairn ls | head) ends output quietly. */
	signal(SIGPIPE, SIG_DFL);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
			cli_store_dir = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--store=", 8) == 0) {
			cli_store_dir = argv[i] + 8;
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
					return commands[c].fn(2, hargv);
		}
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
		if (strcmp(commands[c].name, name) == 0)
			return commands[c].fn(argc - i, argv + i);
	fprintf(stderr, "error: '%s' is not a cairn command (see 'cairn -h')\n", name);
	return EXIT_USAGE;
}
