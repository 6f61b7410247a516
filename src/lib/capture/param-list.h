/*
 * lib/capture/param-list.h — building the public cairn_params lists (param-list.c)
 * inside the library: a command line's params (capture), a config file's,
 * a sweep trial's.  A list owns copies of its keys and string values;
 * params_add keeps the order of addition and does not merge keys.
 */
#ifndef CAIRN_LIB_CAPTURE_PARAM_LIST_H
#define CAIRN_LIB_CAPTURE_PARAM_LIST_H

#include "lib/internal.h"

/* An empty list, or NULL (out of memory, error raised). */
cairn_params *params_new(void);
/* Append a copy of key and value; CAIRN_ENOMEM. */
int params_add(cairn_params *p, const char *key, const cairn_value *v);
/* A flat JSON object's members as params, typed as cairn_run_log_params_json
 * says: numbers int or float as written, true/false bools, strings strings,
 * null the string "null", anything else its JSON text as a string.  Non-
 * finite floats written as "NaN"/"Infinity" strings stay strings (that is
 * how the library's own writers have always meant them).  CAIRN_EINVALID
 * for text that is not a JSON object, with `what` naming it. */
int params_from_json(cairn_params **out, const char *text, const char *what);
/* Record a list as the run's params in one transaction (cairn_run_set_params
 * with overwrite, else cairn_run_log_params). */
int params_record(cairn_run *run, const cairn_params *p, bool overwrite);
/* A list as a JSON object, each value by json_typed_value (capture.h). */
void params_json(buf *b, const cairn_params *p);

#endif
