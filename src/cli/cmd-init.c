/*
 * cli/cmd-init.c — `cairn init [DIR]`: create DIR/.cairn.
 */
#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn init [DIR]\n\n"
    "Create a store (.cairn/) in DIR (default: the working directory).\n"
    "cairn commands run below DIR find it by walking up, as git finds .git.\n";

int cmd_init(int argc, char **argv)
{
	static const cli_opt opts[] = {{"help", 'h', false, 'h'}, {0}};
	cli_args a;
	int o, rc = 0;
	cli_args_init(&a, "init", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == 'h') {
			cli_help(usage);
			goto done;
		}
	}
	if (o < 0 || a.npos > 1) {
		rc = o < 0 ? EXIT_USAGE : cli_usage_error("init", "too many arguments");
		goto done;
	}
	char *dir = NULL;
	int e = cairn_store_init(&dir, a.npos ? a.pos[0] : NULL);
	if (e == CAIRN_EEXISTS && dir) {
		printf("store %s already exists\n", dir);
	} else if (e) {
		rc = cli_fail_lib(NULL);
	} else {
		printf("initialised empty cairn store in %s\n", dir);
	}
	cairn_free(dir);
done:
	cli_args_free(&a);
	return rc;
}
