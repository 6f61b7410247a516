/*
 * tests/fuzz/fuzz-argv.c — params, masked command lines and credential
 * masking from an arbitrary command line (NUL-separated arguments).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	const char *argv[64];
	int argc = 0;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text; argc < 64 && p <= text + size; p += strlen(p) + 1)
		argv[argc++] = p;
	char *out = NULL;
	if (argc > 0 && cairn_argv_params_json(&out, argc, argv) == 0)
		cairn_free(out);
	if (argc > 0 && cairn_command_line_masked(&out, argc, argv) == 0)
		cairn_free(out);
	if (cairn_mask_credentials(&out, text) == 0)
		cairn_free(out);
	cairn_name_is_secret(text);
	cairn_error_clear();
	free(text);
	return 0;
}
