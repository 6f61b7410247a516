/*
 * tests/fuzz/fuzz-config.c — the config flattener (YAML through libyaml, and
 * JSON) on arbitrary bytes.  The first byte picks the syntax (even: YAML).
 * Must never crash, hang or leak, whatever the nesting or aliases.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	buf b = BUF_INIT;
	config_flatten_buf(&b, (const char *)data + 1, size - 1, (data[0] & 1) == 0, "fuzz");
	buf_free(&b);
	cairn_error_clear();
	return 0;
}
