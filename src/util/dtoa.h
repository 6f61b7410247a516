/*
 * util/dtoa.h — the shortest decimal text of a double that reads back as the
 * same double, formatted as printf's "%.{p}g" with the smallest such p >= 6
 * (what json_num always wrote).
 *
 * Why: JSON output of query results formats tens of thousands of doubles, and
 * the printf/strtod round-trip loop costs ~1.5 µs each; the exact integer
 * method here costs ~50 ns for the common range (see dtoa.c).  Stateless and
 * thread-safe.
 */
#ifndef CAIRN_UTIL_DTOA_H
#define CAIRN_UTIL_DTOA_H

#include <stddef.h>

/* Write v (finite) into out; returns the length.  32 bytes always suffice. */
size_t dtoa_shortest(char out[32], double v);

/* The decimal digits of u written backwards ending just before end; returns
 * where they start (20 bytes always suffice).  Two digits a step from a
 * table: the divisions by 10 were a third of json_int and of the digits
 * above. */
char *dtoa_u64(char *end, unsigned long long u);

/* The same by printf and strtod only (the reference the tests compare with). */
size_t dtoa_shortest_slow(char out[32], double v);

#endif
