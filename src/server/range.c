/*
 * server/range.c — the Range header, by RFC 9110 section 14.1.
 *
 *   Range = "bytes=" range-spec        (one; a comma means a list: ignored)
 *   range-spec  = first "-" [ last ]   int-range
 *               / "-" length            suffix-range
 *
 * The outcomes, and why:
 *   - no header, another unit, a list of ranges, or text that is not this
 *     grammar (letters, signs, spaces, digits past 2^64): ignored, 200 with
 *     the whole body — the RFC lets a server ignore what it does not support;
 *   - `first` at or past the end, a suffix of length 0, any range of an
 *     empty body: unsatisfiable, 416 (14.1.1: "unsatisfiable");
 *   - `last` below `first` (`bytes=5-1`): an invalid range-spec (14.1.1),
 *     ignored like any other text outside the grammar (14.2 allows it), so
 *     that 416 means one thing only: a well-formed range outside the body;
 *   - otherwise 206, `last` clipped to the end, a suffix longer than the
 *     body meaning all of it.
 */
#include "server/range.h"

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>

/* Digits at *p into *out (at least one, no overflow); advances *p. */
static bool digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

http_range http_range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (!h || strncasecmp(h, "bytes=", 6) != 0)
		return RANGE_NONE;
	const char *p = h + 6;
	uint64_t a, b;
	if (*p == '-') { /* suffix: the last b bytes */
		p++;
		if (!digits(&p, &b) || *p)
			return RANGE_NONE;
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return RANGE_OK;
	}
	if (!digits(&p, &a) || *p++ != '-')
		return RANGE_NONE;
	bool open = *p == '\0';
	if (!open && (!digits(&p, &b) || *p))
		return RANGE_NONE;
	if (!open && b < a)
		return RANGE_NONE;
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	*first = a;
	*last = open || b >= size ? size - 1 : b;
	return RANGE_OK;
}
