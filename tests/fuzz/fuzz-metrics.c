/*
 * tests/fuzz/fuzz-metrics.c — the metric-line recogniser on arbitrary
 * output: the default rules, and a fixed custom pattern.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

static int count(void *ctx, const char *key, double value, int64_t step)
{
	(void)key;
	(void)value;
	(void)step;
	(*(int *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cairn_metric_parser *def, *custom;
	if (!def && cairn_metric_parser_new(&def, NULL) != 0)
		return 0;
	if (!custom && cairn_metric_parser_new(&custom, "([a-z_]+)[=:] *([^ ]+)") != 0)
		return 0;
	int n = 0;
	const char *p = (const char *)data, *end = p + size;
	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		cairn_metric_parse_line(def, p, len, count, &n);
		cairn_metric_parse_line(custom, p, len, count, &n);
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}
