/*
 * tests/unit/test-http-range.c — the Range header parser of the server
 * (server/range.c, compiled in), against RFC 9110 section 14.1.
 */
#include "unit.h"

#include "server/range.c"

static void expect(const char *h, uint64_t size, http_range want, uint64_t first, uint64_t last)
{
	uint64_t a = 77, b = 77;
	http_range got = http_range_parse(h, size, &a, &b);
	if (got != want)
		fail_msg("'%s' of %llu bytes: got %d, want %d", h ? h : "(none)",
		         (unsigned long long)size, (int)got, (int)want);
	if (want == RANGE_OK && (a != first || b != last))
		fail_msg("'%s': got %llu-%llu, want %llu-%llu", h, (unsigned long long)a,
		         (unsigned long long)b, (unsigned long long)first,
		         (unsigned long long)last);
}

static void test_ranges(void **state)
{
	(void)state;
	expect(NULL, 10, RANGE_NONE, 0, 0);
	expect("bytes=0-0", 10, RANGE_OK, 0, 0);
	expect("bytes=2-4", 10, RANGE_OK, 2, 4);
	expect("BYTES=2-4", 10, RANGE_OK, 2, 4);
	expect("bytes=7-", 10, RANGE_OK, 7, 9);
	expect("bytes=5-100", 10, RANGE_OK, 5, 9);
	expect("bytes=-3", 10, RANGE_OK, 7, 9);
	expect("bytes=-30", 10, RANGE_OK, 0, 9);
	expect("bytes=9-9", 10, RANGE_OK, 9, 9);
	/* unsatisfiable or invalid: 416 */
	expect("bytes=10-", 10, RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=10-20", 10, RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=-0", 10, RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0);
	expect("bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0);
	/* not this grammar, a list, another unit: ignored */
	static const char *const ignored[] = {"bytes=",
	                                      "bytes=-",
	                                      "bytes=a-b",
	                                      "bytes= 1-2",
	                                      "bytes=1 -2",
	                                      "bytes=1-2 ",
	                                      "bytes=+1-2",
	                                      "bytes=1-+2",
	                                      "bytes=0-1,4-5",
	                                      "items=0-1",
	                                      "bytes=1",
	                                      "bytes=--1",
	                                      "bytes=18446744073709551616-",
	                                      "bytes=0-18446744073709551616",
	                                      "bytes=1-2-3",
	                                      "bytes=5-1"};
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		expect(ignored[i], 10, RANGE_NONE, 0, 0);
	/* the largest values do not overflow */
	expect("bytes=18446744073709551614-", UINT64_MAX, RANGE_OK, UINT64_MAX - 1, UINT64_MAX - 1);
	expect("bytes=-18446744073709551615", UINT64_MAX, RANGE_OK, 0, UINT64_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
