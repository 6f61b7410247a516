/*
 * tests/tools/tool-params.c — logs typed params through the C API, for the
 * type-fidelity tests: the command line types params from text, so a float
 * NaN or infinity cannot be given there.
 *
 *   tool-params STORE_DIR RUN_ID KEY=TYPE:VALUE...
 *
 * TYPE is float (VALUE read by cairn_metric_value_parse: nan, inf, -inf, or
 * a number), int, bool (true/false) or str (VALUE as it is).  Exits 0 when
 * every param was logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: tool-params STORE RUN KEY=TYPE:VALUE...\n");
		return 2;
	}
	cairn_store *s;
	cairn_run *r;
	if (cairn_store_open(&s, argv[1]) != 0 || cairn_run_open(&r, s, argv[2]) != 0) {
		fprintf(stderr, "error: %s\n", cairn_error_last());
		return 1;
	}
	int rc = 0;
	for (int i = 3; i < argc && rc == 0; i++) {
		char *key = strdup(argv[i]), *eq = strchr(key, '='),
		     *colon = eq ? strchr(eq, ':') : NULL;
		if (!colon) {
			fprintf(stderr, "error: expected KEY=TYPE:VALUE, got '%s'\n", argv[i]);
			free(key);
			rc = 2;
			break;
		}
		*eq = *colon = '\0';
		const char *type = eq + 1, *val = colon + 1;
		cairn_value v = {0};
		if (strcmp(type, "float") == 0) {
			v.type = CAIRN_TYPE_FLOAT;
			rc = cairn_metric_value_parse(val, &v.f);
		} else if (strcmp(type, "int") == 0) {
			v.type = CAIRN_TYPE_INT;
			v.i = atoll(val);
		} else if (strcmp(type, "bool") == 0) {
			v.type = CAIRN_TYPE_BOOL;
			v.i = strcmp(val, "true") == 0;
		} else {
			v.type = CAIRN_TYPE_STRING;
			v.s = val;
		}
		if (rc == 0)
			rc = cairn_run_log_param(r, key, &v);
		if (rc)
			fprintf(stderr, "error: %s\n", cairn_error_last());
		free(key);
	}
	cairn_run_free(r);
	cairn_store_close(s);
	return rc ? 1 : 0;
}
