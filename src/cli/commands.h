/*
 * cli/commands.h — one entry point per subcommand (src/cli/cmd-<name>.c).
 * Each takes argv with argv[0] = the subcommand's name and returns the exit code.
 */
#ifndef CAIRN_CLI_COMMANDS_H
#define CAIRN_CLI_COMMANDS_H

#include "cairn.h"
#include <stdbool.h>

int cmd_init(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_finish(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_note(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_ui(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_data(int argc, char **argv);
/* cmd-data.c: print a few manifest paths of a run's directory dataset. */
void data_print_sample(cairn_store *s, const char *run, const char *name, int n);
int cmd_best(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_login(int argc, char **argv);
/* cmd-ls.c: ls, and best (the top run by a metric) */
int ls_run(int argc, char **argv, bool best);

#endif
