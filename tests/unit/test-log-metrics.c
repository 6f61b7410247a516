/*
 * tests/unit/test-log-metrics.c — cairn_run_log_metrics, the batch entry
 * point the Python binding uses for run.log_metrics(dict): steps (explicit
 * and per-key automatic), timestamps, non-finite values, and that a bad key
 * logs nothing.
 */
#include <math.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_explicit_step),
	    cmocka_unit_test(test_auto_step_per_key),
	    cmocka_unit_test(test_non_finite_and_many),
	    cmocka_unit_test(test_bad_key_logs_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
