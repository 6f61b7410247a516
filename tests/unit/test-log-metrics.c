/*
 * tests/unit/test-log-metrics.c — cairn_run_log_metrics, the batch entry
 * point the Python binding uses for run.log_metrics(dict): steps (explicit
 * and per-key automatic), timestamps, non-finite values, and that a bad key
 * logs nothing; and that automatic steps stay distinct when two store
 * handles (two processes, two servers) log one series at once; and the
 * writer's marks (cairn_store_write_mark, cairn_store_flush_to).
 */
#include <math.h>
#include <pthread.h>

#include "unit.h"

static char *history(unit_store *u, cairn_run *r, const char *key)
{
	char *out = NULL;
	assert_ok(cairn_run_metric_history_json(&out, u->s, cairn_run_id(r), key));
	return out;
}

static void test_explicit_step(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	const char *keys[] = {"loss", "acc"};
	double v[] = {0.5, 0.75};
	assert_ok(cairn_run_log_metrics(r, keys, v, 2, 3, 1700000000.0));
	char *h = history(&u, r, "loss");
	assert_string_equal(h, "[[3,1700000000,0.5]]");
	cairn_free(h);
	h = history(&u, r, "acc");
	assert_string_equal(h, "[[3,1700000000,0.75]]");
	cairn_free(h);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_auto_step_per_key(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_metric(r, "a", 1, 5, 0));
	const char *keys[] = {"a", "b"};
	double v[] = {2, 3};
	assert_ok(cairn_run_log_metrics(r, keys, v, 2, CAIRN_STEP_AUTO, 1700000000.0));
	char *h = history(&u, r, "a");
	assert_non_null(strstr(h, "[6,1700000000,2]"));
	cairn_free(h);
	h = history(&u, r, "b");
	assert_string_equal(h, "[[0,1700000000,3]]");
	cairn_free(h);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_non_finite_and_many(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	enum { N = 300 }; /* over the stack buffer: the heap path */
	const char *keys[N];
	char names[N][16];
	double v[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "k%d", i);
		keys[i] = names[i];
		v[i] = i;
	}
	v[0] = NAN;
	v[1] = INFINITY;
	v[2] = -INFINITY;
	assert_ok(cairn_run_log_metrics(r, keys, v, N, 0, 1700000000.0));
	char *h = history(&u, r, "k0");
	assert_string_equal(h, "[[0,1700000000,\"NaN\"]]");
	cairn_free(h);
	h = history(&u, r, "k2");
	assert_string_equal(h, "[[0,1700000000,\"-Infinity\"]]");
	cairn_free(h);
	h = history(&u, r, "k299");
	assert_string_equal(h, "[[0,1700000000,299]]");
	cairn_free(h);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_bad_key_logs_nothing(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	const char *keys[] = {"good", "", "also"};
	double v[] = {1, 2, 3};
	assert_int_equal(cairn_run_log_metrics(r, keys, v, 3, 0, 0), CAIRN_EINVALID);
	assert_true(strlen(cairn_error_last()) > 0);
	const char *nullkey[] = {"good", NULL};
	assert_int_equal(cairn_run_log_metrics(r, nullkey, v, 2, 0, 0), CAIRN_EINVALID);
	assert_int_equal(cairn_run_log_metrics(r, keys, v, 1, -2, 0), CAIRN_EINVALID);
	assert_int_equal(cairn_run_log_metrics(NULL, keys, v, 1, 0, 0), CAIRN_EINVALID);
	assert_ok(cairn_run_log_metrics(r, NULL, NULL, 0, 0, 0)); /* nothing to log */
	char *h = history(&u, r, "good");
	assert_string_equal(h, "[]");
	cairn_free(h);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_step_and_timestamp_ranges(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	/* the last step there is; no automatic step after it (it used to wrap
	 * to -2^63) */
	assert_ok(cairn_run_log_metric(r, "st", 1, INT64_MAX, 1700000000.0));
	assert_int_equal(cairn_run_log_metric(r, "st", 2, CAIRN_STEP_AUTO, 0), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "no step after 9223372036854775807"));
	const char *keys[] = {"fresh", "st"};
	double v[] = {1, 2};
	assert_int_equal(cairn_run_log_metrics(r, keys, v, 2, CAIRN_STEP_AUTO, 0), CAIRN_EINVALID);
	/* timestamps outside 1970..9999 are errors, not -2^63 ms */
	static const double bad_ts[] = {1e16, 1e300, -1, NAN, INFINITY, CAIRN_TIMESTAMP_MAX + 1};
	for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++) {
		assert_int_equal(cairn_run_log_metric(r, "ts", 1, 0, bad_ts[i]), CAIRN_EINVALID);
		assert_non_null(strstr(cairn_error_last(), "timestamp"));
		assert_int_equal(cairn_run_log_metrics(r, keys, v, 1, 0, bad_ts[i]),
		                 CAIRN_EINVALID);
	}
	assert_ok(cairn_run_log_metric(r, "ts", 1, 0, CAIRN_TIMESTAMP_MAX));
	char *h = history(&u, r, "st");
	assert_string_equal(h, "[[9223372036854775807,1700000000,1]]");
	cairn_free(h);
	h = history(&u, r, "fresh");
	assert_string_equal(h, "[]");
	cairn_free(h);
	h = history(&u, r, "ts");
	assert_string_equal(h, "[[0,253402300799,1]]");
	cairn_free(h);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* Two writers of one series, each on its own store handle (its own
 * connection; what two `cairn server` processes on one database are), log
 * points without steps at once, flushing often so that their batches
 * interleave.  Each default step is counted in the insert transaction
 * (fold.h), so every point is there and the steps are 0..2N-1, each once.
 * (A handle counting from the last step it read at its first point gave
 * both writers the same steps.) */
#define TWO_N 300
typedef struct two_writer {
	const char *store_dir, *id;
	double base;
	int rc;
} two_writer;

static void *two_write(void *arg)
{
	two_writer *w = arg;
	cairn_store *s = NULL;
	cairn_run *r = NULL;
	w->rc = cairn_store_open(&s, w->store_dir);
	if (w->rc == 0)
		w->rc = cairn_run_open(&r, s, w->id);
	for (int i = 0; w->rc == 0 && i < TWO_N; i++) {
		w->rc = cairn_run_log_metric(r, "shared", w->base + i, CAIRN_STEP_AUTO, 0);
		if (w->rc == 0 && i % 7 == 6)
			w->rc = cairn_run_flush(r);
	}
	if (w->rc == 0)
		w->rc = cairn_run_flush(r);
	cairn_run_free(r);
	cairn_store_close(s);
	return NULL;
}

static void test_auto_steps_two_handles(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_metric(r, "shared", -1, CAIRN_STEP_AUTO, 0)); /* step 0 */
	assert_ok(cairn_run_flush(r));
	two_writer w[2] = {{u.store_dir, cairn_run_id(r), 1000, 0},
	                   {u.store_dir, cairn_run_id(r), 2000, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, two_write, &w[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_ok(w[i].rc);
	}
	/* this handle's next default step follows both writers' */
	assert_ok(cairn_run_log_metric(r, "shared", -2, CAIRN_STEP_AUTO, 0));
	assert_ok(cairn_run_flush(r));
	char q[256];
	snprintf(q, sizeof q,
	         "SELECT count(*), count(DISTINCT step), min(step), max(step) FROM metric_points"
	         " WHERE rid = (SELECT rid FROM runs WHERE id = '%s')",
	         cairn_run_id(r));
	char *got = unit_store_sql(&u, q);
	char want[64];
	snprintf(want, sizeof want, "%d|%d|0|%d\n", 2 * TWO_N + 2, 2 * TWO_N + 2, 2 * TWO_N + 1);
	assert_string_equal(got, want);
	free(got);
	/* each writer's points in its own order: steps rise with its values */
	snprintf(q, sizeof q,
	         "SELECT count(*) FROM metric_points a JOIN metric_points b ON a.rid = b.rid AND"
	         " a.kid = b.kid AND floor(a.value / 1000) = floor(b.value / 1000) AND"
	         " a.value < b.value AND a.step > b.step WHERE a.value >= 1000");
	got = unit_store_sql(&u, q);
	assert_string_equal(got, "0\n");
	free(got);
	char *h = history(&u, r, "shared");
	assert_non_null(strstr(h, "[0,"));
	cairn_free(h);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* cairn_store_write_mark and cairn_store_flush_to: a mark counts the points
 * logged through the handle, and a wait for it leaves them committed (read
 * outside the handle); marks taken earlier are no wait at all. */
static void test_write_mark(void **state)
{
	(void)state;
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_int_equal(cairn_store_write_mark(u.s), 0);
	cairn_store_flush_to(u.s, 0); /* nothing logged: returns */
	cairn_store_flush_to(NULL, 5);
	assert_int_equal(cairn_store_write_mark(NULL), 0);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	for (int i = 0; i < 3000; i++)
		assert_ok(cairn_run_log_metric(r, "m", i, i, 0));
	uint64_t mark = cairn_store_write_mark(u.s);
	assert_int_equal(mark, 3000);
	cairn_store_flush_to(u.s, mark);
	char q[256];
	snprintf(q, sizeof q,
	         "SELECT count(*) FROM metric_points WHERE rid = (SELECT rid FROM runs WHERE id ="
	         " '%s')",
	         cairn_run_id(r));
	char *got = unit_store_sql(&u, q);
	assert_string_equal(got, "3000\n");
	free(got);
	for (int i = 3000; i < 3010; i++)
		assert_ok(cairn_run_log_metric(r, "m", i, i, 0));
	assert_int_equal(cairn_store_write_mark(u.s), 3010);
	cairn_store_flush_to(u.s, mark); /* committed already */
	cairn_store_flush_to(u.s, 3010);
	got = unit_store_sql(&u, q);
	assert_string_equal(got, "3010\n");
	free(got);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_metric_value_parse(void **state)
{
	double v;
	assert_ok(cairn_metric_value_parse("4.9e-324", &v));
	assert_true(v > 0 && v < 1e-323); /* the smallest subnormal */
	assert_ok(cairn_metric_value_parse("1e-400", &v));
	assert_true(v == 0);
	assert_ok(cairn_metric_value_parse("-Infinity", &v));
	assert_true(isinf(v) && v < 0);
	assert_ok(cairn_metric_value_parse("NaN", &v));
	assert_true(isnan(v));
	assert_ok(cairn_metric_value_parse("+inf", &v));
	assert_true(isinf(v) && v > 0);
	assert_ok(cairn_metric_value_parse("-0.25e2", &v));
	assert_true(v == -25);
	static const char *const bad[] = {"",     "1e999", "-1e999", "0x10", "0x1p3",
	                                  "1.5x", "nanx",  "in",     " 1",   "1 "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(cairn_metric_value_parse(bad[i], &v), CAIRN_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_explicit_step),
	    cmocka_unit_test(test_auto_step_per_key),
	    cmocka_unit_test(test_non_finite_and_many),
	    cmocka_unit_test(test_bad_key_logs_nothing),
	    cmocka_unit_test(test_step_and_timestamp_ranges),
	    cmocka_unit_test(test_metric_value_parse),
	    cmocka_unit_test(test_auto_steps_two_handles),
	    cmocka_unit_test(test_write_mark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
