/*
 * tests/unit/test-buf.c — util/buf.h's size cap (curl's dynbuf): an append
 * past the cap is refused whole and the buffer turns "too big", sticky
 * until buf_clear; the cap survives free/detach/clear; growth never
 * allocates past the cap; and read_file reports a file over its cap as
 * -EFBIG, also when the file grows after the size check (a FIFO).  The
 * appends' fast path (the bytes fit in what is allocated) must not get
 * round either sticky state, nor a cap set on a buffer that already has
 * more room than the cap allows (read_file does that).
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/fs.h"

static void test_cap_refuses_whole_append(void **st)
{
	buf b;
	buf_init_cap(&b, 10);
	buf_puts(&b, "0123456");
	assert_true(buf_ok(&b));
	buf_puts(&b, "789"); /* exactly at the cap: fine */
	assert_true(buf_ok(&b));
	assert_int_equal(b.len, 10);
	buf_putc(&b, 'x'); /* one past */
	assert_false(buf_ok(&b));
	assert_true(buf_too_big(&b));
	assert_string_equal(b.ptr, "0123456789"); /* what was there stays */
	buf_puts(&b, "");                         /* sticky: ignored */
	buf_printf(&b, "%d", 1);
	assert_string_equal(b.ptr, "0123456789");
	assert_true(b.cap <= 11);    /* never allocated past the cap (+ NUL) */
	assert_null(buf_detach(&b)); /* like oom: no string */
	assert_int_equal(b.max, 10); /* and the cap is kept */
	assert_true(buf_ok(&b));
	buf_free(&b);
}

static void test_cap_one_big_append(void **st)
{
	buf b;
	buf_init_cap(&b, 4);
	buf_puts(&b, "abcdefgh");
	assert_true(buf_too_big(&b));
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	buf_clear(&b); /* resets the state, keeps the cap */
	assert_true(buf_ok(&b));
	buf_puts(&b, "abcd");
	assert_true(buf_ok(&b));
	buf_puts(&b, "e");
	assert_true(buf_too_big(&b));
	buf_free(&b);
	assert_int_equal(b.max, 4);
	buf_puts(&b, "abcde");
	assert_true(buf_too_big(&b));
	buf_free(&b);
}

static void test_cap_printf_large(void **st)
{
	buf b;
	buf_init_cap(&b, 1000);
	buf_printf(&b, "%0999d", 7); /* 999 bytes: the large-format path */
	assert_true(buf_ok(&b));
	buf_printf(&b, "%0300d", 7);
	assert_true(buf_too_big(&b));
	assert_int_equal(b.len, 999);
	buf_free(&b);
}

static void test_no_cap(void **st)
{
	buf b = BUF_INIT;
	assert_int_equal(b.max, 0);
	for (int i = 0; i < 10000; i++)
		buf_puts(&b, "0123456789");
	assert_true(buf_ok(&b));
	assert_false(buf_too_big(&b));
	assert_int_equal(b.len, 100000);
	buf_free(&b);
}

static void test_sticky_when_room_left(void **st)
{
	buf b = BUF_INIT;
	buf_puts(&b, "abc");
	assert_true(b.cap - b.len > 8); /* room for the appends below */
	b.oom = true;                   /* as after a failed realloc */
	buf_putc(&b, 'x');
	buf_puts(&b, "yz");
	buf_add(&b, "w", 1);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.ptr, "abc");
	buf_clear(&b);
	buf_putc(&b, 'x');
	assert_true(buf_ok(&b));
	assert_string_equal(b.ptr, "x");
	b.too_big = true;
	buf_putc(&b, 'y');
	buf_puts(&b, "z");
	assert_string_equal(b.ptr, "x");
	buf_free(&b);
}

static void test_cap_below_allocation(void **st)
{
	buf b = BUF_INIT;
	buf_grow(&b, 1000); /* room for 1000 bytes, then a cap of 10 */
	assert_true(b.cap > 1000);
	b.max = 10;
	buf_puts(&b, "0123456789");
	assert_true(buf_ok(&b));
	buf_putc(&b, 'x');
	assert_true(buf_too_big(&b));
	buf_clear(&b);
	buf_puts(&b, "0123456789");
	buf_add(&b, "x", 1);
	assert_true(buf_too_big(&b));
	assert_string_equal(b.ptr, "0123456789");
	buf_free(&b);
}

static void *feed_fifo(void *p)
{
	int fd = open(p, O_WRONLY);
	char block[4096];
	memset(block, 'x', sizeof block);
	for (int i = 0; i < 64 && fd >= 0; i++)
		if (write(fd, block, sizeof block) < 0)
			break;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_read_file_cap(void **st)
{
	char *dir = unit_tmpdir();
	char *f = path_join(dir, "f");
	FILE *fp = fopen(f, "w");
	fputs("hello world", fp);
	fclose(fp);
	buf b = BUF_INIT;
	assert_int_equal(read_file(f, 11, &b), 0);
	assert_string_equal(b.ptr, "hello world");
	assert_int_equal(b.max, 0); /* read_file's cap is for the call only */
	buf_free(&b);
	assert_int_equal(read_file(f, 10, &b), -EFBIG);
	buf_free(&b);
	/* a FIFO has no size to check first: the buffer's cap stops it */
	char *fifo = path_join(dir, "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	signal(SIGPIPE, SIG_IGN); /* the reader stops early; the writer sees EPIPE */
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, feed_fifo, fifo), 0);
	assert_int_equal(read_file(fifo, 10000, &b), -EFBIG);
	assert_true(b.len <= 10000);
	buf_free(&b);
	pthread_join(th, NULL);
	/* again into a buffer that already has far more room than the cap */
	buf_grow(&b, 1 << 20);
	pthread_t th2;
	assert_int_equal(pthread_create(&th2, NULL, feed_fifo, fifo), 0);
	assert_int_equal(read_file(fifo, 10000, &b), -EFBIG);
	assert_true(b.len <= 10000);
	assert_int_equal(b.max, 0);
	buf_free(&b);
	pthread_join(th2, NULL);
	free(fifo);
	free(f);
	unit_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_refuses_whole_append),
	    cmocka_unit_test(test_cap_one_big_append),
	    cmocka_unit_test(test_cap_printf_large),
	    cmocka_unit_test(test_no_cap),
	    cmocka_unit_test(test_sticky_when_room_left),
	    cmocka_unit_test(test_cap_below_allocation),
	    cmocka_unit_test(test_read_file_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
