/*
 * tests/fuzz/fuzz-http-range.c — fuzz target for the Range header parser
 * (server/range.c, compiled in): whatever the header, a 206 range lies inside
 * the body, and the parser reads no byte past the header's end.
 *
 * Input: 8 bytes of body size (little-endian), then the header value.
 * Corpus: tests/fuzz/corpus/http-range/ (replayed by `make test`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/range.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint64_t body = 0;
	for (int i = 0; i < 8; i++)
		body |= (uint64_t)data[i] << (8 * i);
	char *h = malloc(size - 8 + 1);
	if (!h)
		return 0;
	memcpy(h, data + 8, size - 8);
	h[size - 8] = '\0';
	uint64_t first, last;
	if (http_range_parse(h, body, &first, &last) == RANGE_OK && !(first <= last && last < body))
		abort();
	free(h);
	return 0;
}
