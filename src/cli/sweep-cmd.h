/*
 * cli/sweep-cmd.h — a sweep trial's command: the `{name}` template and the
 * --config-out file (sweep-cmd.c), shared by `cairn sweep` and its tests.
 *
 * Template syntax, per argument: `{name}` is the trial's value of parameter
 * name, `{trial}` the trial number, `{config}` the --config-out path;
 * `{{` and `}}` are literal braces.  An argument that names a conditional
 * parameter which is inactive in the trial is left out, and so is the
 * option just before it when the argument is that placeholder alone and the
 * option is a bare `-x`/`--name` (`--momentum {momentum}` disappears as a
 * pair).
 */
#ifndef CAIRN_CLI_SWEEP_CMD_H
#define CAIRN_CLI_SWEEP_CMD_H

#include <stdbool.h>

#include "cairn.h"
#include "util/buf.h"

/* Check every placeholder of the template against the spec; 0, or -1 with
 * a message in err ("unknown placeholder '{lr2}' in argument 3"). */
int sweep_template_check(const cairn_sweep_spec *spec, char *const *tmpl, int n, bool have_config,
                         char *err, size_t errsz);

/* A value as command-line text: strings as they are, numbers in the
 * shortest form that reads back to the same double, true/false. */
void sweep_value_text(buf *b, const cairn_value *v);

/* Expand the template for one trial into a NULL-terminated argv (malloc'd
 * strings; free with sweep_argv_free).  params are the trial's. */
char **sweep_template_expand(char *const *tmpl, int n, const cairn_params *params, long long trial,
                             const char *config_path);
void sweep_argv_free(char **argv);

/* Expand `{trial}` in a --config-out path. */
char *sweep_path_expand(const char *path, long long trial);

/* Write a trial's params to path as YAML (.yaml/.yml) or JSON (.json);
 * 0 or -1 with errno set. */
int sweep_config_write(const char *path, const cairn_params *params);

/* A trial's params as a JSON object, values as sweep_value_text writes
 * them (strings quoted): the sweep.best_params property. */
void sweep_params_json(buf *b, const cairn_params *params);

#endif
