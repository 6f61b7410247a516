/*
 * tests/fuzz/fuzz-notebook.c — extracting a notebook's code from arbitrary
 * bytes (a file in someone's work tree).
 */
#include <stdint.h>
#include <stdlib.h>

#include "cairn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *code = NULL;
	if (cairn_notebook_code(&code, data, size) == 0)
		cairn_free(code);
	cairn_error_clear();
	return 0;
}
