/*
 * tests/unit/test-fevent.c — the file-event messages of `cairn run`'s
 * automatic capture (src/cli/fevent.c, part of the tool, compiled in here):
 * what the shim and the Python hook send is accepted with every field, and
 * each way a message can be wrong is refused whole.
 */
#include "unit.h"

#include "cli/fevent.c"

static int parse(fevent *ev, const char *s)
{
	return fevent_parse(ev, s, strlen(s));
}

static void test_accepts(void **state)
{
	(void)state;
	fevent ev;
	assert_int_equal(parse(&ev, "cairn1 4242 r 80000 /data/train.csv"), 0);
	assert_int_equal(ev.pid, 4242);
	assert_int_equal(ev.op, 'r');
	assert_int_equal(ev.flags, 0x80000);
	assert_int_equal(ev.path_len, strlen("/data/train.csv"));
	assert_memory_equal(ev.path, "/data/train.csv", ev.path_len);
	assert_int_equal(parse(&ev, "cairn1 1 w 241 /a b\nc"), 0); /* spaces, newlines */
	assert_int_equal(ev.op, 'w');
	assert_int_equal(ev.flags, 0x241);
	assert_int_equal(ev.path_len, 6);
	assert_int_equal(parse(&ev, "cairn1 2147483647 r ffffffff /"), 0);
	assert_int_equal(ev.pid, 2147483647L);
	assert_int_equal(ev.flags, 0xffffffffu);
	/* the longest path */
	char m[FEVENT_MSG_MAX + 8];
	int n = snprintf(m, sizeof m, "cairn1 7 r 0 /");
	memset(m + n, 'x', FEVENT_PATH_MAX - 1);
	assert_int_equal(fevent_parse(&ev, m, (size_t)n + FEVENT_PATH_MAX - 1), 0);
	assert_int_equal(ev.path_len, FEVENT_PATH_MAX);
	/* one more byte is too long */
	m[n + FEVENT_PATH_MAX - 1] = 'x';
	assert_int_equal(fevent_parse(&ev, m, (size_t)n + FEVENT_PATH_MAX), -1);
}

static void test_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "cairn1",
	    "cairn1 ",
	    "cairn2 1 r 0 /x",
	    "CAIRN1 1 r 0 /x",
	    "cairn1 0 r 0 /x",           /* pid 0 */
	    "cairn1 01 r 0 /x",          /* leading zero */
	    "cairn1 2147483648 r 0 /x",  /* over 2^31-1 */
	    "cairn1 12345678901 r 0 /x", /* 11 digits */
	    "cairn1 -1 r 0 /x",
	    "cairn1 1 x 0 /x", /* op */
	    "cairn1 1 rw 0 /x",
	    "cairn1 1 r  /x",          /* no flags */
	    "cairn1 1 r 0G /x",        /* not hex */
	    "cairn1 1 r 0A /x",        /* upper case */
	    "cairn1 1 r 123456789 /x", /* 9 digits */
	    "cairn1 1 r 0 x",          /* relative */
	    "cairn1 1 r 0 ",           /* empty path */
	    "cairn1 1 r 0",            /* no path */
	    "cairn1  1 r 0 /x",        /* two spaces */
	    "cairn1 1\tr 0 /x",
	};
	fevent ev;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(&ev, bad[i]) != -1)
			fail_msg("accepted '%s'", bad[i]);
	static const char nul[] = "cairn1 1 r 0 /a\0b";
	assert_int_equal(fevent_parse(&ev, nul, sizeof nul - 1), -1);
	assert_int_equal(fevent_parse(&ev, NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
