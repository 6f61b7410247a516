/*
 * tests/fuzz/fuzz-config.c — the config flattener (YAML through libyaml, and
 * JSON) and the masking of a config's stored copy, on arbitrary bytes.  The
 * first byte picks the syntax (even: YAML).  Must never crash, hang or leak,
 * whatever the nesting or aliases; a copy that is stored must hold no
 * credential the masker would still change.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	bool yaml = (data[0] & 1) == 0;
	buf b = BUF_INIT;
	config_flatten_buf(&b, text, size - 1, yaml, "fuzz");
	buf_free(&b);
	buf_init(&b);
	if (config_snapshot_text(&b, text, size - 1, yaml ? CONFIG_YAML : CONFIG_JSON, "fuzz") ==
	        0 &&
	    mask_would_change(b.ptr, b.len))
		abort();
	buf_free(&b);
	cairn_error_clear();
	return 0;
}
