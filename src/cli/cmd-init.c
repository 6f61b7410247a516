/*
 * cli/cmd-init.c — `cairn init [--objects URI] [DIR]`: create DIR/.cairn,
 * its objects in objects/ or in the place URI names (a bucket).
 */
#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn init [--objects URI] [DIR]\n\n"
    "Create a store (.cairn/) in DIR (default: the working directory).\n"
    "cairn commands run below DIR find it by walking up, as git finds .git.\n\n"
    "  --objects URI   keep the objects (artifacts, code snapshots, configs) in\n"
    "                  s3://bucket/prefix, or an absolute directory, instead of\n"
    "                  .cairn/objects; endpoint, region and credentials come from\n"
    "                  AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, ... or\n"
    "                  ~/.aws, and are never stored\n";

int cmd_init(int argc, char **argv)
{
	static const cli_opt opts[] = {{"help", 'h', false, 'h'}, {"objects", 0, true, 'o'}, {0}};
	cli_args a;
	int o, rc = 0;
	const char *objects = NULL;
	cli_args_init(&a, "init", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		if (o == 'h') {
			cli_help(usage);
			goto done;
		}
		if (o == 'o')
			objects = a.val;
	}
	if (o < 0 || a.npos > 1) {
		rc = o < 0 ? EXIT_USAGE : cli_usage_error("init", "too many arguments");
		goto done;
	}
	char *dir = NULL;
	int e = cairn_store_init_objects(&dir, a.npos ? a.pos[0] : NULL, objects);
	if (e == CAIRN_EEXISTS && dir) {
		printf("store %s already exists\n", dir);
	} else if (e) {
		rc = cli_fail_lib(NULL);
	} else if (objects) {
		printf("initialised empty cairn store in %s, objects in %s\n", dir, objects);
	} else {
		printf("initialised empty cairn store in %s\n", dir);
	}
	cairn_free(dir);
done:
	cli_args_free(&a);
	return rc;
}
