/*
 * tests/unit/test-record.c — cairn/record.h: the accessors of one record
 * (typed params: a float NaN / +-Inf against the strings "NaN" /
 * "Infinity"), the query iterator over more runs than one batch (order,
 * total, records outliving the iterator), fields read out of records, and
 * the JSON projection (the same text as cairn_run_get_json, the columns
 * form, the {"$float": ...} encoding of non-finite float params), a batch
 * read as each of its runs alone, cairn_store_set_cache, and records read
 * with no full scan per record after ANALYZE.
 */
#include "unit.h"

#include <math.h>

#include <sqlite3.h>

#include "lib/store/sqlite/sqlite.h"
#include "util/json.h"

static cairn_run *new_run(cairn_store *s, const char *name)
{
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.name = name;
	o.project = "p";
	cairn_run *r;
	assert_ok(cairn_run_create(&r, s, &o));
	return r;
}

static void test_typed_params(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *run = new_run(u.s, "typed");
	cairn_value v = {0};
	v.type = CAIRN_TYPE_FLOAT;
	v.f = NAN;
	assert_ok(cairn_run_log_param(run, "f_nan", &v));
	v.f = INFINITY;
	assert_ok(cairn_run_log_param(run, "f_inf", &v));
	v.f = -INFINITY;
	assert_ok(cairn_run_log_param(run, "f_ninf", &v));
	v.f = 2.0;
	assert_ok(cairn_run_log_param(run, "f_two", &v));
	v.type = CAIRN_TYPE_STRING;
	v.s = "NaN";
	assert_ok(cairn_run_log_param(run, "s_nan", &v));
	v.s = "Infinity";
	assert_ok(cairn_run_log_param(run, "s_inf", &v));
	v.type = CAIRN_TYPE_INT;
	v.i = 7;
	assert_ok(cairn_run_log_param(run, "i", &v));
	v.type = CAIRN_TYPE_BOOL;
	v.i = 1;
	assert_ok(cairn_run_log_param(run, "b", &v));
	assert_ok(cairn_run_log_metric(run, "loss", NAN, 0, 0));
	assert_ok(cairn_run_log_metric(run, "loss", 0.5, 1, 0));
	assert_ok(cairn_run_set_tag(run, "zeta"));
	assert_ok(cairn_run_set_tag(run, "alpha"));
	assert_ok(cairn_run_set_property(run, "ver", "3"));
	assert_ok(cairn_run_flush(run));

	cairn_run_record *r;
	assert_ok(cairn_run_record_get(&r, u.s, "typed", 0));
	assert_string_equal(cairn_run_record_id(r), cairn_run_id(run));
	assert_string_equal(cairn_run_record_name(r), "typed");
	assert_string_equal(cairn_run_record_project(r), "p");
	assert_int_equal(cairn_run_record_status(r), CAIRN_STATUS_RUNNING);
	int64_t ec;
	assert_int_equal(cairn_run_record_exit_code(&ec, r), CAIRN_ENOTFOUND);
	assert_string_equal(cairn_run_record_note(r), "");

	assert_int_equal(cairn_run_record_param_count(r), 8);
	/* key order */
	assert_string_equal(cairn_run_record_param(NULL, r, 0), "b");
	assert_null(cairn_run_record_param(NULL, r, 8));
	assert_ok(cairn_run_record_param_get(&v, r, "f_nan"));
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	assert_true(isnan(v.f));
	assert_ok(cairn_run_record_param_get(&v, r, "f_inf"));
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	assert_true(isinf(v.f) && v.f > 0);
	assert_ok(cairn_run_record_param_get(&v, r, "f_ninf"));
	assert_true(isinf(v.f) && v.f < 0);
	assert_ok(cairn_run_record_param_get(&v, r, "s_nan"));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	assert_string_equal(v.s, "NaN");
	assert_ok(cairn_run_record_param_get(&v, r, "s_inf"));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	assert_string_equal(v.s, "Infinity");
	assert_ok(cairn_run_record_param_get(&v, r, "i"));
	assert_int_equal(v.type, CAIRN_TYPE_INT);
	assert_int_equal(v.i, 7);
	assert_ok(cairn_run_record_param_get(&v, r, "b"));
	assert_int_equal(v.type, CAIRN_TYPE_BOOL);
	assert_int_equal(cairn_run_record_param_get(&v, r, "nope"), CAIRN_ENOTFOUND);

	const cairn_metric_summary *m = cairn_run_record_metric_get(r, "loss");
	assert_non_null(m);
	assert_true(m->last == 0.5 && m->min == 0.5 && m->max == 0.5);
	assert_int_equal(m->count, 2);
	assert_int_equal(m->step, 1);
	assert_null(cairn_run_record_metric_get(r, "acc"));
	assert_int_equal(cairn_run_record_tag_count(r), 2);
	assert_string_equal(cairn_run_record_tag(r, 0), "alpha");
	assert_true(cairn_run_record_has_tag(r, "zeta"));
	assert_false(cairn_run_record_has_tag(r, "beta"));
	assert_string_equal(cairn_run_record_property_get(r, "ver"), "3");

	/* fields */
	cairn_field f;
	size_t pos = 99;
	assert_ok(cairn_field_parse(&f, "metrics.loss.count", &pos));
	assert_int_equal(f.kind, CAIRN_FIELD_METRIC);
	assert_int_equal(f.part, CAIRN_METRIC_COUNT);
	assert_string_equal(f.key, "loss");
	assert_ok(cairn_run_record_field(&v, r, &f));
	assert_int_equal(v.type, CAIRN_TYPE_INT);
	assert_int_equal(v.i, 2);
	cairn_field_free(&f);
	assert_ok(cairn_field_parse(&f, "params.s_nan", NULL));
	assert_ok(cairn_run_record_field(&v, r, &f));
	assert_int_equal(v.type, CAIRN_TYPE_STRING);
	cairn_field_free(&f);
	assert_ok(cairn_field_parse(&f, "tags", NULL));
	assert_ok(cairn_run_record_field(&v, r, &f));
	assert_string_equal(v.s, "alpha,zeta");
	cairn_field_free(&f);
	assert_ok(cairn_field_parse(&f, "started", NULL));
	assert_int_equal(f.kind, CAIRN_FIELD_ATTRIBUTE);
	assert_ok(cairn_run_record_field(&v, r, &f));
	assert_int_equal(v.type, CAIRN_TYPE_FLOAT);
	cairn_field_free(&f);
	cairn_field_free(&f); /* harmless twice */
	assert_int_equal(cairn_field_parse(&f, "metrics.", &pos), CAIRN_EINVALID);

	/* JSON: the projection is what cairn_run_get_json returns (which adds
	 * artifacts), and non-finite float params cannot pass for strings */
	char *js, *full;
	cairn_run_record *ra;
	assert_ok(cairn_run_record_get(&ra, u.s, cairn_run_id(run), CAIRN_RECORD_ARTIFACTS));
	assert_ok(cairn_run_record_json(&js, ra, NULL, 0));
	assert_ok(cairn_run_get_json(&full, u.s, cairn_run_id(run)));
	assert_string_equal(js, full);
	assert_non_null(strstr(js, "\"f_nan\":{\"$float\":\"NaN\"}"));
	assert_non_null(strstr(js, "\"f_inf\":{\"$float\":\"Infinity\"}"));
	assert_non_null(strstr(js, "\"f_ninf\":{\"$float\":\"-Infinity\"}"));
	assert_non_null(strstr(js, "\"s_nan\":\"NaN\""));
	assert_non_null(strstr(js, "\"f_two\":2.0"));
	cairn_free(js);
	cairn_free(full);
	const char *cols[] = {"params.s_inf", "status", "metrics.loss"};
	assert_ok(cairn_run_record_json(&js, r, cols, 3));
	char want[512];
	snprintf(want, sizeof want,
	         "{\"id\":\"%s\",\"status\":\"running\",\"params\":{\"s_inf\":\"Infinity\"},"
	         "\"metrics\":{\"loss\":{",
	         cairn_run_id(run));
	assert_true(strncmp(js, want, strlen(want)) == 0);
	cairn_free(js);
	cairn_run_record_free(ra);
	cairn_run_record_free(r);
	cairn_run_record_free(NULL);
	assert_int_equal(cairn_run_record_get(&r, u.s, "nosuchrun", 0), CAIRN_ENOTFOUND);
	cairn_run_free(run);
	unit_store_close(&u);
}

/* More runs than one batch: order, total, limit/offset, and records that
 * outlive their iterator. */
static void test_iterator(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	enum { N = 600 };
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "r%03d", i);
		cairn_run *run = new_run(u.s, name);
		cairn_value v = {.type = CAIRN_TYPE_INT, .i = i};
		assert_ok(cairn_run_log_param(run, "i", &v));
		cairn_run_free(run);
	}
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.sort = "params.i";
	cairn_run_iter *it;
	cairn_run_record *r, *keep = NULL;
	assert_ok(cairn_query_iter_new(&it, u.s, &o));
	assert_int_equal(cairn_run_iter_total(it), N);
	int n = 0, rc;
	while ((rc = cairn_run_iter_next(&r, it)) == 0) {
		cairn_value v;
		assert_ok(cairn_run_record_param_get(&v, r, "i"));
		assert_int_equal(v.i, n);
		n++;
		if (n == 3)
			keep = r; /* kept past the iterator */
		else
			cairn_run_record_free(r);
	}
	assert_int_equal(rc, CAIRN_ITEROVER);
	assert_int_equal(n, N);
	assert_int_equal(cairn_run_iter_next(&r, it), CAIRN_ITEROVER);
	cairn_run_iter_free(it);
	assert_string_equal(cairn_run_record_name(keep), "r002");
	cairn_run_record_free(keep);

	o.query = "params.i >= 100";
	o.limit = 300;
	o.offset = 10;
	o.sort = "-params.i";
	assert_ok(cairn_query_iter_new(&it, u.s, &o));
	assert_int_equal(cairn_run_iter_total(it), N - 100);
	n = 0;
	while (cairn_run_iter_next(&r, it) == 0) {
		cairn_value v;
		assert_ok(cairn_run_record_param_get(&v, r, "i"));
		assert_int_equal(v.i, N - 1 - 10 - n);
		cairn_run_record_free(r);
		n++;
	}
	assert_int_equal(n, 300);
	/* an iterator freed before its end releases what it holds */
	cairn_run_iter_free(it);
	assert_ok(cairn_query_iter_new(&it, u.s, NULL));
	assert_ok(cairn_run_iter_next(&r, it));
	cairn_run_iter_free(it);
	cairn_run_record_free(r);
	cairn_run_iter_free(NULL);

	o.query = "params.i >";
	assert_int_equal(cairn_query_iter_new(&it, u.s, &o), CAIRN_EINVALID);
	assert_null(it);
	unit_store_close(&u);
}

/* The params and metrics of a batch are put in key order by reusing the
 * last run's order when its keys are the same (store/record-load.c): runs
 * with the same keys logged in other orders, with fewer, more or none, a
 * deleted run and tags between them must read exactly as each run loaded
 * alone (cairn_run_record_get: a batch of one). */
static void test_batch_orders(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	static const char *const sets[][6] = {
	    {"b", "a", "c", NULL},
	    {"b", "a", "c", NULL},
	    {"a", NULL},
	    {NULL},
	    {"c", "b", "a", "d", NULL},
	    {"b", "a", "c", NULL},
	    {"zz", "a", "b", "c", NULL},
	    {"a", "b", "c", "d", NULL},
	    {"d", NULL},
	};
	enum { NSETS = sizeof sets / sizeof sets[0], N = 40 };
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "b%02d", i);
		cairn_run *run = new_run(u.s, name);
		const char *const *keys = sets[i % NSETS];
		for (int k = 0; keys[k]; k++) {
			cairn_value v = {.type = CAIRN_TYPE_INT, .i = i * 10 + k};
			assert_ok(cairn_run_log_param(run, keys[k], &v));
			/* the metrics in the reverse order of the set after the first */
			const char *mk = keys[i % 3 ? k : 0];
			assert_ok(
			    cairn_run_log_metric(run, i % 2 ? keys[k] : mk, i + k * 0.5, k, 0));
		}
		if (i % 5 == 0)
			assert_ok(cairn_run_set_tag(run, "t"));
		assert_ok(cairn_run_flush(run));
		cairn_run_free(run);
		if (i == 13)
			assert_ok(cairn_run_delete(u.s, name, false));
	}
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.include_deleted = 1;
	cairn_run_iter *it;
	cairn_run_record *r;
	assert_ok(cairn_query_iter_new(&it, u.s, &o));
	int n = 0;
	while (cairn_run_iter_next(&r, it) == 0) {
		cairn_run_record *one;
		assert_ok(
		    cairn_run_record_get(&one, u.s, cairn_run_record_id(r), CAIRN_RECORD_DELETED));
		assert_int_equal(cairn_run_record_param_count(r),
		                 cairn_run_record_param_count(one));
		const char *prev = NULL;
		for (size_t i = 0; i < cairn_run_record_param_count(r); i++) {
			cairn_value a, b;
			const char *ka = cairn_run_record_param(&a, r, i);
			const char *kb = cairn_run_record_param(&b, one, i);
			assert_string_equal(ka, kb);
			assert_int_equal(a.i, b.i);
			if (prev)
				assert_true(strcmp(prev, ka) < 0);
			prev = ka;
		}
		assert_int_equal(cairn_run_record_metric_count(r),
		                 cairn_run_record_metric_count(one));
		prev = NULL;
		for (size_t i = 0; i < cairn_run_record_metric_count(r); i++) {
			const cairn_metric_summary *a = cairn_run_record_metric(r, i);
			const cairn_metric_summary *b = cairn_run_record_metric(one, i);
			assert_string_equal(a->key, b->key);
			assert_true(a->last == b->last && a->count == b->count);
			if (prev)
				assert_true(strcmp(prev, a->key) < 0);
			prev = a->key;
		}
		char *ja, *jb;
		assert_ok(cairn_run_record_json(&ja, r, NULL, 0));
		assert_ok(cairn_run_record_json(&jb, one, NULL, 0));
		assert_string_equal(ja, jb);
		cairn_free(ja);
		cairn_free(jb);
		cairn_run_record_free(one);
		cairn_run_record_free(r);
		n++;
	}
	assert_int_equal(n, N);
	cairn_run_iter_free(it);
	unit_store_close(&u);
}

/* cairn_store_set_cache: a size in range is taken (and the store still
 * reads), one out of range is refused with nothing changed. */
static void test_set_cache(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_run *run = new_run(u.s, "c");
	cairn_run_free(run);
	assert_ok(cairn_store_set_cache(u.s, 512));
	assert_ok(cairn_store_set_cache(u.s, 64));
	assert_int_equal(cairn_store_set_cache(u.s, 63), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "64 KiB"));
	assert_int_equal(cairn_store_set_cache(u.s, -1), CAIRN_EINVALID);
	assert_int_equal(cairn_store_set_cache(u.s, (INT64_C(1) << 30) + 1), CAIRN_EINVALID);
	assert_int_equal(cairn_store_set_cache(NULL, 512), CAIRN_EINVALID);
	cairn_run_record *r;
	assert_ok(cairn_run_record_get(&r, u.s, "c", 0));
	assert_string_equal(cairn_run_record_name(r), "c");
	cairn_run_record_free(r);
	unit_store_close(&u);
}

/* Steps of full scans summed over the store's prepared statements. */
static int64_t fullscan_steps(cairn_store *s, bool reset)
{
	int64_t n = 0;
	sqlite3 *db = store_sqlite_db(s);
	for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st))
		n += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, reset);
	return n;
}

/* ANALYZE of a store without nested runs rates runs_parent as one value
 * over every run; the child count of each record (and the children column)
 * must still look it up in that index, not scan every run once per record
 * (a 100-record page of a 100,000-run store took 0.8 s that way). */
static void test_records_after_analyze(void **state)
{
	(void)state;
	if (unit_pg())
		skip(); /* the counter read here is SQLite's */
	unit_store u;
	unit_store_open(&u);
	enum { N = 1500 };
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "a%04d", i);
		cairn_run_free(new_run(u.s, name));
	}
	assert_int_equal(sqlite3_exec(store_sqlite_db(u.s), "ANALYZE", NULL, NULL, NULL),
	                 SQLITE_OK);
	static const char *const sorts[] = {NULL, "children", "-children"};
	for (size_t k = 0; k < sizeof sorts / sizeof *sorts; k++) {
		cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
		o.sort = sorts[k];
		o.limit = 100;
		cairn_run_iter *it;
		cairn_run_record *r;
		fullscan_steps(u.s, true);
		assert_ok(cairn_query_iter_new(&it, u.s, &o));
		int n = 0;
		while (cairn_run_iter_next(&r, it) == 0) {
			assert_int_equal(cairn_run_record_children(r), 0);
			cairn_run_record_free(r);
			n++;
		}
		assert_int_equal(n, 100);
		int64_t steps = fullscan_steps(u.s, false);
		cairn_run_iter_free(it);
		/* one pass over the runs at most (a sort by children reads every
		 * run's count), not one per record: that was N * 100 */
		if (steps > 2 * N)
			fail_msg("sort %s: %lld full-scan steps for %d runs",
			         sorts[k] ? sorts[k] : "-", (long long)steps, N);
	}
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_typed_params),          cmocka_unit_test(test_iterator),
	    cmocka_unit_test(test_batch_orders),          cmocka_unit_test(test_set_cache),
	    cmocka_unit_test(test_records_after_analyze),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
