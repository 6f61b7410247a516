/*
 * tests/unit/test-reports.c — the typed forms of the library's reports, and
 * that each `*_json` wrapper writes the same facts: the group result
 * (cairn_query_group: typed values, a float param NaN apart from a string
 * param "NaN", the missing group, metric statistics), the run diff
 * (cairn_run_diff_new: params keeping their types, metrics with the better
 * run, tags, properties, command, datasets), and the failure paths of every
 * typed entry point (bad arguments, unknown runs).
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

/* --- run diffs ------------------------------------------------------------------ */

static const cairn_diff_entry *entry(const cairn_run_diff *d, cairn_diff_section sec,
                                     const char *key)
{
	for (size_t i = 0; i < cairn_run_diff_count(d, sec); i++)
		if (strcmp(cairn_run_diff_entry(d, sec, i)->key, key) == 0)
			return cairn_run_diff_entry(d, sec, i);
	return NULL;
}

static void test_run_diff(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *a = new_run(u.s, "a"), *b = new_run(u.s, "b");
	log_float(a, "x", NAN);
	log_str(b, "x", "NaN");
	log_float(a, "same", 1.5);
	log_float(b, "same", 1.5);
	log_float(a, "gone", INFINITY);
	cairn_value one = {.type = CAIRN_TYPE_INT, .i = 1};
	assert_ok(cairn_run_log_param(b, "new", &one));
	assert_ok(cairn_run_log_metric(a, "loss", 0.5, 0, 0));
	assert_ok(cairn_run_log_metric(b, "loss", 0.25, 0, 0));
	assert_ok(cairn_run_log_metric(a, "acc", 0.5, 0, 0));
	assert_ok(cairn_run_log_metric(b, "acc", NAN, 0, 0));
	assert_ok(cairn_run_log_metric(b, "only_b", 3, 0, 0));
	assert_ok(cairn_run_set_tag(a, "old"));
	assert_ok(cairn_run_set_tag(b, "new"));
	assert_ok(cairn_run_set_property(a, "owner", "ann"));
	assert_ok(cairn_run_set_property(b, "owner", "bob"));
	assert_ok(cairn_run_flush(a));
	assert_ok(cairn_run_flush(b));

	cairn_run_diff *d = NULL;
	assert_ok(cairn_run_diff_new(&d, u.s, "a", "b", NULL));
	assert_false(cairn_run_diff_identical(d));
	assert_string_equal(cairn_run_record_name(cairn_run_diff_run(d, 0)), "a");
	assert_string_equal(cairn_run_record_name(cairn_run_diff_run(d, 1)), "b");
	assert_null(cairn_run_diff_run(d, 2));
	/* params: the float NaN and the string "NaN" differ, each keeps its type */
	assert_int_equal(cairn_run_diff_count(d, CAIRN_DIFF_PARAMS), 3);
	const cairn_diff_entry *e = entry(d, CAIRN_DIFF_PARAMS, "x");
	assert_non_null(e);
	assert_int_equal(e->change, CAIRN_DIFF_CHANGED);
	assert_int_equal(e->a.type, CAIRN_TYPE_FLOAT);
	assert_true(isnan(e->a.f));
	assert_int_equal(e->b.type, CAIRN_TYPE_STRING);
	assert_string_equal(e->b.s, "NaN");
	e = entry(d, CAIRN_DIFF_PARAMS, "gone");
	assert_int_equal(e->change, CAIRN_DIFF_REMOVED);
	assert_int_equal(e->b.type, CAIRN_TYPE_NONE);
	e = entry(d, CAIRN_DIFF_PARAMS, "new");
	assert_int_equal(e->change, CAIRN_DIFF_ADDED);
	assert_int_equal(e->b.i, 1);
	assert_null(entry(d, CAIRN_DIFF_PARAMS, "same"));
	/* metrics: loss is better lower, acc's NaN makes a the better */
	assert_int_equal(cairn_run_diff_metric_count(d), 3);
	for (size_t i = 0; i < 3; i++) {
		const cairn_diff_metric *m = cairn_run_diff_metric(d, i);
		if (strcmp(m->key, "loss") == 0) {
			assert_int_equal(m->change, CAIRN_DIFF_CHANGED);
			assert_int_equal(m->direction, -1);
			assert_int_equal(m->better, 'b');
			assert_true(m->delta == -0.25);
			assert_true(m->relative == -0.5);
		} else if (strcmp(m->key, "acc") == 0) {
			assert_int_equal(m->better, 'a');
			assert_true(isnan(m->delta));
		} else {
			assert_string_equal(m->key, "only_b");
			assert_int_equal(m->change, CAIRN_DIFF_ADDED);
			assert_true(m->b == 3);
		}
	}
	assert_null(cairn_run_diff_metric(d, 3));
	/* tags, properties, command, code, data, environment */
	assert_int_equal(entry(d, CAIRN_DIFF_TAGS, "new")->change, CAIRN_DIFF_ADDED);
	assert_int_equal(entry(d, CAIRN_DIFF_TAGS, "old")->change, CAIRN_DIFF_REMOVED);
	e = entry(d, CAIRN_DIFF_PROPERTIES, "owner");
	assert_string_equal(e->a.s, "ann");
	assert_string_equal(e->b.s, "bob");
	assert_true(cairn_run_diff_command_same(d));
	assert_true(cairn_run_diff_code(d)->same);
	assert_null(cairn_run_diff_code(d)->diff);
	assert_int_equal(cairn_run_diff_dataset_count(d), 0);
	assert_true(cairn_run_diff_env_same(d));
	assert_int_equal(cairn_run_diff_count(d, 99), 0);
	assert_null(cairn_run_diff_entry(d, CAIRN_DIFF_PARAMS, 99));

	/* the JSON wrapper says the same */
	char *out = NULL;
	assert_ok(cairn_run_diff_json(&out, u.s, "a", "b"));
	assert_non_null(strstr(out, "{\"key\":\"x\",\"a\":{\"$float\":\"NaN\"},\"b\":\"NaN\"}"));
	assert_non_null(
	    strstr(out, "\"removed\":[{\"key\":\"gone\",\"value\":{\"$float\":\"Infinity\"}}]"));
	assert_non_null(strstr(out, "\"identical\":false"));
	cairn_free(out);
	cairn_run_diff_free(d);

	/* a run against itself */
	assert_ok(cairn_run_diff_new(&d, u.s, "a", "a", NULL));
	assert_true(cairn_run_diff_identical(d));
	assert_int_equal(cairn_run_diff_count(d, CAIRN_DIFF_PARAMS), 0);
	cairn_run_diff_free(d);
	cairn_run_free(a);
	cairn_run_free(b);
	unit_store_close(&u);
}

static void test_run_diff_errors(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *a = new_run(u.s, "a");
	assert_ok(cairn_run_flush(a));
	cairn_run_diff *d = (cairn_run_diff *)1;
	assert_int_equal(cairn_run_diff_new(&d, u.s, "a", "nosuchrun", NULL), CAIRN_ENOTFOUND);
	assert_null(d);
	assert_int_equal(cairn_run_diff_new(&d, u.s, "nosuchrun", "a", NULL), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_run_diff_new(&d, NULL, "a", "a", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_run_diff_new(&d, u.s, NULL, "a", NULL), CAIRN_EINVALID);
	assert_int_equal(cairn_run_diff_new(NULL, u.s, "a", "a", NULL), CAIRN_EINVALID);
	cairn_diff_options o = CAIRN_DIFF_OPTIONS_INIT;
	o.version = 99;
	assert_int_equal(cairn_run_diff_new(&d, u.s, "a", "a", &o), CAIRN_EINVALID);
	char *out = (char *)1;
	assert_int_equal(cairn_run_diff_json(&out, u.s, "a", "nosuchrun"), CAIRN_ENOTFOUND);
	assert_null(out);
	/* NULL-safe */
	cairn_run_diff_free(NULL);
	assert_null(cairn_run_diff_run(NULL, 0));
	assert_int_equal(cairn_run_diff_count(NULL, CAIRN_DIFF_PARAMS), 0);
	assert_int_equal(cairn_run_diff_metric_count(NULL), 0);
	assert_null(cairn_run_diff_code(NULL));
	assert_int_equal(cairn_run_diff_dataset_count(NULL), 0);
	cairn_run_free(a);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_typed),
	    cmocka_unit_test(test_group_errors),
	    cmocka_unit_test(test_run_diff),
	    cmocka_unit_test(test_run_diff_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
