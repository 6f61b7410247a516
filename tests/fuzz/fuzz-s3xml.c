/*
 * tests/fuzz/fuzz-s3xml.c — fuzz target for the S3 client's reader of the
 * service's answers (lib/store/s3/s3xml.c): whatever the bytes, s3_xml_text
 * reads none past the document's end, answers -1, 0 or 1, and a text it
 * gives fits its buffer and holds no control character, asking only
 * whether the element is there agrees; s3_header_etag's
 * value is one s3_token_ok accepts once unquoted.
 *
 * Input: one byte choosing the path (and buffer size), then the document
 * (also read as one header line).  Corpus: tests/fuzz/corpus/s3xml/
 * (replayed by `make test`); dictionary tests/fuzz/s3xml.dict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store/s3/s3xml.h"

static const char *const paths[] = {
    "InitiateMultipartUploadResult/UploadId",
    "CompleteMultipartUploadResult",
    "Error/Code",
    "Error/Message",
    "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *path = paths[data[0] % (sizeof paths / sizeof paths[0])];
	size_t outn = (size_t)(data[0] >> 3) + 1; /* 1..32 */
	size--;
	/* a copy of exactly the document's bytes, so ASan sees any overread */
	char *doc = malloc(size ? size : 1);
	if (!doc)
		return 0;
	memcpy(doc, data + 1, size);
	char out[64];
	memset(out, 'x', sizeof out);
	int rc = s3_xml_text(doc, size, path, out, outn);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 1) {
		size_t n = strnlen(out, outn);
		if (n >= outn)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)out[i] < 0x20)
				abort();
	}
	/* asking only whether the element is there agrees: a malformed document
	 * is one whatever the buffer */
	int there = s3_xml_text(doc, size, path, NULL, 0);
	if ((there == -1 && rc != -1) || (rc != -1 && rc != there))
		abort();
	char etag[140];
	rc = s3_header_etag(doc, size, etag, sizeof etag);
	if (rc == 1) {
		size_t n = strlen(etag);
		if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
			etag[n - 1] = '\0';
			memmove(etag, etag + 1, n - 1);
		}
		if (!s3_token_ok(etag, 128))
			abort();
	}
	free(doc);
	return 0;
}
