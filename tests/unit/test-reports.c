/*
 * tests/unit/test-reports.c — the typed forms of the library's reports, and
 * that each `*_json` wrapper writes the same facts: the group result
 * (cairn_query_group: typed values, a float param NaN apart from a string
 * param "NaN", the missing group, metric statistics), and the failure paths
 * of every typed entry point (bad arguments, unknown runs).
 */
#include "unit.h"

#include <math.h>

static cairn_run *new_run(cairn_store *s, const char *name)
{
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.name = name;
	o.project = "p";
	cairn_run *r;
	assert_ok(cairn_run_create(&r, s, &o));
	return r;
}

static void log_float(cairn_run *r, const char *key, double f)
{
	cairn_value v = {.type = CAIRN_TYPE_FLOAT, .f = f};
	assert_ok(cairn_run_log_param(r, key, &v));
}

static void log_str(cairn_run *r, const char *key, const char *s)
{
	cairn_value v = {.type = CAIRN_TYPE_STRING, .s = s};
	assert_ok(cairn_run_log_param(r, key, &v));
}

/* --- groups ------------------------------------------------------------------ */

static void test_group_typed(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	/* x: float NaN, float inf, string "NaN", 2.0, 2.0, and one run without */
	cairn_run *r[6];
	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof name, "r%d", i);
		r[i] = new_run(u.s, name);
	}
	log_float(r[0], "x", NAN);
	log_float(r[1], "x", INFINITY);
	log_str(r[2], "x", "NaN");
	log_float(r[3], "x", 2.0);
	log_float(r[4], "x", 2.0);
	for (int i = 0; i < 6; i++) {
		assert_ok(cairn_run_log_metric(r[i], "acc", i == 4 ? NAN : 0.1 * i, 0, 0));
		assert_ok(cairn_run_flush(r[i]));
	}

	cairn_group_result *g = NULL;
	assert_ok(cairn_query_group(&g, u.s, NULL, "params.x", "metrics.acc"));
	assert_int_equal(cairn_group_result_total(g), 6);
	assert_string_equal(cairn_group_result_field(g), "params.x");
	assert_string_equal(cairn_group_result_metric(g), "metrics.acc");
	size_t n = cairn_group_result_count(g);
	assert_int_equal(n, 5); /* 2.0, inf, "NaN", NaN, missing (value order) */
	int seen_fnan = 0, seen_snan = 0, seen_two = 0, seen_inf = 0;
	for (size_t i = 0; i < n; i++) {
		const cairn_group *gr = cairn_group_result_get(g, i);
		assert_non_null(gr);
		if (gr->missing) {
			assert_int_equal(i, n - 1);
			assert_int_equal(gr->value.type, CAIRN_TYPE_NONE);
			assert_int_equal(gr->count, 1);
			continue;
		}
		if (gr->value.type == CAIRN_TYPE_STRING) {
			assert_string_equal(gr->value.s, "NaN");
			seen_snan++;
		} else {
			assert_int_equal(gr->value.type, CAIRN_TYPE_FLOAT);
			if (isnan(gr->value.f))
				seen_fnan++;
			else if (isinf(gr->value.f))
				seen_inf++;
			else {
				assert_true(gr->value.f == 2.0);
				assert_int_equal(gr->count, 2);
				/* r4's NaN is left out of the statistics */
				assert_int_equal(gr->values, 1);
				assert_true(fabs(gr->mean - 0.3) < 1e-12);
				assert_true(gr->min == gr->max);
				seen_two++;
			}
		}
	}
	assert_int_equal(seen_fnan + seen_snan + seen_two + seen_inf, 4);
	assert_int_equal(seen_fnan, 1);
	assert_int_equal(seen_snan, 1);
	assert_null(cairn_group_result_get(g, n));
	cairn_group_result_free(g);

	/* the JSON wrapper: a float NaN param is {"$float": "NaN"}, the string stays */
	char *out = NULL;
	assert_ok(cairn_query_group_json(&out, u.s, NULL, "params.x", "metrics.acc"));
	assert_non_null(strstr(out, "{\"value\":{\"$float\":\"NaN\"}"));
	assert_non_null(strstr(out, "{\"value\":{\"$float\":\"Infinity\"}"));
	assert_non_null(strstr(out, "{\"value\":\"NaN\""));
	assert_non_null(strstr(out, "{\"value\":2.0,"));
	assert_non_null(strstr(out, "{\"value\":null,\"missing\":true,\"count\":1"));
	cairn_free(out);

	/* a metric's NaN stays the string "NaN"; no metric: counts only */
	assert_ok(cairn_query_group(&g, u.s, NULL, "metrics.acc", NULL));
	assert_null(cairn_group_result_metric(g));
	const cairn_group *last = cairn_group_result_get(g, cairn_group_result_count(g) - 1);
	assert_false(last->missing);
	assert_int_equal(last->value.type, CAIRN_TYPE_FLOAT);
	assert_true(isnan(last->value.f));
	assert_int_equal(last->values, 0);
	assert_true(isnan(last->mean));
	cairn_group_result_free(g);
	assert_ok(cairn_query_group_json(&out, u.s, NULL, "metrics.acc", NULL));
	assert_non_null(strstr(out, "{\"value\":\"NaN\",\"count\":1"));
	assert_null(strstr(out, "$float"));
	cairn_free(out);

	for (int i = 0; i < 6; i++)
		cairn_run_free(r[i]);
	unit_store_close(&u);
}

static void test_group_errors(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_group_result *g = (cairn_group_result *)1;
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	assert_int_equal(cairn_query_group(&g, u.s, &o, "tags", NULL), CAIRN_EINVALID);
	assert_null(g);
	assert_int_equal(cairn_query_group(&g, u.s, &o, "params.", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_query_group(&g, u.s, &o, "", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_query_group(&g, u.s, &o, NULL, NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_query_group(&g, u.s, &o, "params.x", "tags"), CAIRN_EINVALID);
	assert_int_equal(cairn_query_group(&g, NULL, &o, "params.x", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_query_group(NULL, u.s, &o, "params.x", NULL), CAIRN_EINVALID);
	o.query = "metrics.acc >";
	assert_int_equal(cairn_query_group(&g, u.s, &o, "params.x", NULL), CAIRN_EINVALID);
	assert_null(g);
	/* an empty store: no groups at all */
	o.query = NULL;
	assert_ok(cairn_query_group(&g, u.s, &o, "params.x", NULL));
	assert_int_equal(cairn_group_result_count(g), 0);
	assert_int_equal(cairn_group_result_total(g), 0);
	cairn_group_result_free(g);
	/* NULL-safe accessors */
	cairn_group_result_free(NULL);
	assert_int_equal(cairn_group_result_count(NULL), 0);
	assert_null(cairn_group_result_get(NULL, 0));
	assert_null(cairn_group_result_field(NULL));
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_typed),
	    cmocka_unit_test(test_group_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
