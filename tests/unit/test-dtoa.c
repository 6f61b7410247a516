/*
 * tests/unit/test-dtoa.c — the fast shortest-double formatter against the
 * printf/strtod loop it replaces, over millions of doubles of every shape
 * the fast path takes (and some it hands back).
 */
#include "unit.h"

#include <math.h>

#include "util/dtoa.h"

static uint64_t st = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	st ^= st << 13;
	st ^= st >> 7;
	st ^= st << 17;
	return st;
}

/* The loop json_num had before: smallest precision from 6 that reads back. */
static void ref6(char out[32], double v)
{
	for (int p = 6; p <= 17; p++) {
		snprintf(out, 32, "%.*g", p, v);
		if (p == 17 || strtod(out, NULL) == v)
			break;
	}
}

static void check(double v)
{
	char a[32], b[32], c[32];
	dtoa_shortest(a, v);
	dtoa_shortest_slow(b, v);
	if (strcmp(a, b) != 0)
		fail_msg("%.17g: fast '%s', printf '%s'", v, a, b);
	ref6(c, v);
	if (strcmp(a, c) != 0)
		fail_msg("%.17g: fast '%s', printf from 6 digits '%s'", v, a, c);
	if (strtod(a, NULL) != v)
		fail_msg("%.17g: '%s' does not read back", v, a);
}

static void random_bits(void **state)
{
	(void)state;
	for (int i = 0; i < 400000; i++) {
		uint64_t bits = rnd();
		/* exponents around the fast range: 1e-7 .. 1e16 */
		uint64_t e = 1023 - 24 + rnd() % 80;
		bits = (bits & ~(0x7ffull << 52)) | (e << 52);
		double v;
		memcpy(&v, &bits, sizeof v);
		check(v);
	}
}

static void short_decimals(void **state)
{
	(void)state;
	for (int i = 0; i < 300000; i++) {
		double v =
		    (double)(int64_t)(rnd() % 2000001 - 1000000) / pow(10, (double)(rnd() % 12));
		check(v);
	}
}

static void edges(void **state)
{
	(void)state;
	static const double vals[] = {0.1,
	                              0.2,
	                              0.3,
	                              1.0 / 3,
	                              2.0 / 3,
	                              0.5,
	                              0.25,
	                              0.125,
	                              0.0625,
	                              1e-5,
	                              1.0000000000000002,
	                              0.9999999999999999,
	                              99999.5,
	                              123456789012345.6,
	                              999999999999999.9,
	                              1e15 - 0.5,
	                              1e-5 * 1.5,
	                              9.9999999999999995e-06,
	                              0.30000000000000004,
	                              1.5,
	                              2.5,
	                              4503599627370495.5,
	                              0.1 + 0.7,
	                              1.7976931348623157e308,
	                              5e-324,
	                              1e21,
	                              1e22,
	                              123.456,
	                              1e100};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		check(vals[i]);
		check(-vals[i]);
	}
	for (int e = -20; e < 52; e++) {
		double p = ldexp(1.0, e);
		check(p);
		check(nextafter(p, 0));
		check(nextafter(p, INFINITY));
	}
	for (int e = -6; e < 16; e++) {
		double p = pow(10, e);
		check(p);
		check(nextafter(p, 0));
		check(nextafter(p, INFINITY));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_bits),
	    cmocka_unit_test(short_decimals),
	    cmocka_unit_test(edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
