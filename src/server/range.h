/*
 * server/range.h — the Range request header (RFC 9110 section 14), for
 * artifact downloads.  One range is served; a list of several is ignored
 * (the whole body, 200), as the RFC allows.  Stateless and thread-safe.
 */
#ifndef CAIRN_SERVER_RANGE_H
#define CAIRN_SERVER_RANGE_H

#include <stdint.h>

typedef enum http_range {
	RANGE_NONE,          /* no usable Range: serve the whole body (200) */
	RANGE_OK,            /* serve bytes first..last (206) */
	RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * /size */
} http_range;

/* Reads the header value `h` (NULL: none) against a body of `size` bytes. */
http_range http_range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *last);

#endif
