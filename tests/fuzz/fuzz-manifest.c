/*
 * tests/fuzz/fuzz-manifest.c — the manifest parser (lib/data/manifest.c)
 * over arbitrary bytes.  Properties: no crash or leak; whatever parses is
 * canonical, so formatting it again gives back exactly the input; the
 * streaming reader agrees with the whole-text parser on a prefix.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	manifest *m = NULL;
	int rc = manifest_parse(&m, (const char *)data, size);
	if (rc == 0) {
		buf b = BUF_INIT;
		manifest_format(m, &b);
		if (b.len != size || memcmp(b.ptr, data, size) != 0)
			abort(); /* a parsed manifest must be canonical */
		buf_free(&b);
	}
	if (size > 0) {
		FILE *f = fmemopen((void *)data, size, "r");
		if (f) {
			manifest *p = NULL;
			bool more = false;
			if (manifest_read_prefix(&p, &more, f, 3) == 0) {
				if (m && (p->n > 3 || (p->n < 3 && more)))
					abort();
				for (size_t i = 0; m && i < p->n; i++)
					if (strcmp(p->e[i].path, m->e[i].path) != 0)
						abort();
				manifest_free(p);
			}
			fclose(f);
		}
	}
	manifest_free(m);
	return 0;
}
