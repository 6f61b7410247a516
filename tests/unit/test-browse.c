/*
 * tests/unit/test-browse.c — cairn/browse.h: projects, columns, thinned
 * metric histories (the point-scan path and the tile path, NaN buckets, the
 * tiles of points stored before migration 3), artifact lookups.  The column
 * catalog's own tests are test-catalog.c.
 */
#include "unit.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "lib/store/sqlite/sqlite.h"
#include "util/json.h"

static json_doc *parse(const char *text)
{
	char err[128];
	json_doc *d = json_parse(text, strlen(text), NULL, err, sizeof err);
	if (!d)
		fail_msg("bad JSON (%s): %.200s", err, text);
	return d;
}

/* Check a thinned history against the series it came from: at most max
 * points, in step order, each one a real point, the extremes kept. */
static void check_sample(const json *root, const double *vals, int64_t n, size_t max_points,
                         bool want_sampled)
{
	const json *pts = json_get(root, "points");
	assert_non_null(pts);
	assert_true(pts->len <= max_points);
	assert_int_equal(json_get(root, "sampled")->b, want_sampled);
	double lo = INFINITY, hi = -INFINITY, got_lo = INFINITY, got_hi = -INFINITY;
	for (int64_t i = 0; i < n; i++) {
		if (isnan(vals[i]))
			continue;
		lo = fmin(lo, vals[i]);
		hi = fmax(hi, vals[i]);
	}
	int64_t prev = -1;
	for (const json *p = pts->child; p; p = p->next) {
		int64_t step = p->child->i;
		double v;
		assert_true(json_num_value(p->child->next->next, &v));
		assert_true(step >= prev);
		prev = step;
		assert_true(step >= 0 && step < n);
		if (isnan(vals[step]))
			assert_true(isnan(v));
		else
			assert_true(v == vals[step]);
		if (!isnan(v)) {
			got_lo = fmin(got_lo, v);
			got_hi = fmax(got_hi, v);
		}
	}
	assert_true(got_lo == lo);
	assert_true(got_hi == hi);
}

static double *series(int64_t n, uint32_t seed)
{
	double *v = malloc((size_t)n * sizeof *v);
	uint32_t x = seed;
	for (int64_t i = 0; i < n; i++) {
		x = x * 1664525u + 1013904223u;
		v[i] = (double)(x >> 8) / (1 << 24);
	}
	return v;
}

static void log_series(cairn_run *r, const char *key, const double *v, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		assert_ok(cairn_run_log_metric(r, key, v[i], i, 1700000000.0 + (double)i));
	assert_ok(cairn_run_flush(r));
}

static void test_sample_paths(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	const char *id = cairn_run_id(r);
	char *out;

	double *small = series(10, 1);
	log_series(r, "small", small, 10);
	assert_ok(cairn_run_metric_sample_json(&out, u.s, id, "small", 100));
	json_doc *d = parse(out);
	assert_int_equal(json_get(json_root(d), "points")->len, 10);
	check_sample(json_root(d), small, 10, 100, false);
	json_doc_free(d);
	cairn_free(out);

	/* 5000 points into 50 buckets of 100 steps: the point scan. */
	double *mid = series(5000, 2);
	mid[1234] = 50;
	mid[4321] = -50;
	log_series(r, "mid", mid, 5000);
	assert_ok(cairn_run_metric_sample_json(&out, u.s, id, "mid", 100));
	d = parse(out);
	check_sample(json_root(d), mid, 5000, 100, true);
	assert_int_equal(json_get(json_root(d), "count")->i, 5000);
	json_doc_free(d);
	cairn_free(out);

	/* 300,000 points into 500 buckets of 600 steps: whole tiles. */
	int64_t n = 300000;
	double *big = series(n, 3);
	big[77777] = 1e9;
	big[222222] = -1e9;
	for (int64_t i = 100000; i < 101000; i++)
		big[i] = NAN; /* a NaN stretch inside numbers */
	for (int64_t i = 250000; i < 252000; i++)
		big[i] = NAN; /* a stretch covering whole buckets */
	log_series(r, "big", big, n);
	assert_ok(cairn_run_metric_sample_json(&out, u.s, id, "big", 1000));
	d = parse(out);
	check_sample(json_root(d), big, n, 1000, true);
	bool nan_seen = false;
	for (const json *p = json_get(json_root(d), "points")->child; p; p = p->next) {
		double v;
		json_num_value(p->child->next->next, &v);
		nan_seen = nan_seen || isnan(v);
	}
	assert_true(nan_seen);
	assert_true(json_get(json_root(d), "points")->len > 900); /* uses its budget */
	json_doc_free(d);
	cairn_free(out);

	/* The same series logged again at other timestamps: tiles merge. */
	assert_int_equal(cairn_run_metric_sample_json(&out, u.s, id, "nope", 100), CAIRN_ENOTFOUND);
	assert_int_equal(cairn_run_metric_sample_json(&out, u.s, "ffffffffffff", "big", 100),
	                 CAIRN_ENOTFOUND);
	assert_int_equal(cairn_run_metric_sample_json(&out, u.s, id, "../x", 100), CAIRN_EINVALID);
	free(small);
	free(mid);
	free(big);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* Steps of a window's points: all in [lo, hi], in order; *n of them. */
static void window_steps(const json *root, int64_t lo, int64_t hi, size_t *n)
{
	int64_t prev = -1;
	*n = 0;
	for (const json *p = json_get(root, "points")->child; p; p = p->next, (*n)++) {
		int64_t step = p->child->i;
		if (step < lo || step > hi || step < prev)
			fail_msg("step %lld outside %lld..%lld or out of order", (long long)step,
			         (long long)lo, (long long)hi);
		prev = step;
	}
}

/* A zoomed chart's window: from..to only, thinned within it. */
static void test_sample_window(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	const char *id = cairn_run_id(r);
	int64_t n = 200000;
	double *v = series(n, 4);
	v[123456] = 1e9; /* a spike inside the window below */
	log_series(r, "loss", v, n);
	char *out;
	size_t got;
	/* 1% of the series, every point asked for: every point of the window */
	assert_ok(cairn_run_metric_window_json(&out, u.s, id, "loss", 5000, 122000, 123999));
	json_doc *d = parse(out);
	window_steps(json_root(d), 122000, 123999, &got);
	assert_int_equal(got, 2000);
	assert_int_equal(json_get(json_root(d), "count")->i, 2000);
	assert_false(json_get(json_root(d), "sampled")->b);
	json_doc_free(d);
	cairn_free(out);
	/* thinned within the window (buckets narrower than a tile): every point
	 * in the window, the spike kept */
	assert_ok(cairn_run_metric_window_json(&out, u.s, id, "loss", 100, 120000, 129999));
	d = parse(out);
	window_steps(json_root(d), 120000, 129999, &got);
	assert_true(got <= 100 && got > 50);
	assert_int_equal(json_get(json_root(d), "count")->i, 10000);
	assert_true(json_get(json_root(d), "sampled")->b);
	bool spike = false;
	for (const json *p = json_get(json_root(d), "points")->child; p; p = p->next)
		spike = spike || p->child->i == 123456;
	assert_true(spike);
	json_doc_free(d);
	cairn_free(out);
	/* a wide window: whole tiles, widened to their edges at most */
	assert_ok(cairn_run_metric_window_json(&out, u.s, id, "loss", 100, 1000, 150999));
	d = parse(out);
	window_steps(json_root(d), 1000 & ~255, 150999 | 255, &got);
	assert_true(got <= 100 && got > 50);
	assert_true(json_get(json_root(d), "sampled")->b);
	json_doc_free(d);
	cairn_free(out);
	/* outside the series, or backwards: an empty series, not an error */
	assert_ok(cairn_run_metric_window_json(&out, u.s, id, "loss", 100, 500000, 600000));
	d = parse(out);
	assert_int_equal(json_get(json_root(d), "points")->len, 0);
	assert_int_equal(json_get(json_root(d), "count")->i, 0);
	json_doc_free(d);
	cairn_free(out);
	assert_ok(cairn_run_metric_window_json(&out, u.s, id, "loss", 100, 10, 5));
	d = parse(out);
	assert_int_equal(json_get(json_root(d), "points")->len, 0);
	json_doc_free(d);
	cairn_free(out);
	/* the whole range is the unwindowed answer */
	char *whole;
	assert_ok(cairn_run_metric_window_json(&out, u.s, id, "loss", 300, INT64_MIN, INT64_MAX));
	assert_ok(cairn_run_metric_sample_json(&whole, u.s, id, "loss", 300));
	assert_string_equal(out, whole);
	cairn_free(out);
	cairn_free(whole);
	free(v);
	cairn_run_free(r);
	unit_store_close(&u);
}

/* Points stored before migration 3 get their tiles from the migration. */
static void test_tiles_backfill(void **st)
{
	char *dir = unit_tmpdir();
	char sd[4200], db[4300];
	snprintf(sd, sizeof sd, "%s/.cairn", dir);
	mkdir(sd, 0777);
	snprintf(db, sizeof db, "%s/cairn.db", sd);
	int64_t n = 20000;
	double *v = series(n, 9);
	v[5555] = 77;
	v[9999] = NAN;
	{
		cairn_store tmp;
		memset(&tmp, 0, sizeof tmp);
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&tmp.lock, &a);
		tmp.dir = sd;
		sqlite_be be = {0};
		tmp.ops = &store_sqlite_ops;
		tmp.be = &be;
		assert_int_equal(sqlite3_open(db, &be.db), 0);
		assert_ok(store_migrate(&tmp, 2));
		assert_int_equal(
		    sqlite3_exec(be.db,
		                 "INSERT INTO projects(id, name, created) VALUES(1, 'p', 0);"
		                 "INSERT INTO runs(rid, id, project_id, seq, name, start_time)"
		                 " VALUES(1, 'abcdabcdabcdabcdabcdabcdabcdabcd', 1, 1, 'old', 0);"
		                 "INSERT INTO keys(id, name) VALUES(1, 'loss');",
		                 0, 0, 0),
		    0);
		sqlite3_stmt *ins;
		sqlite3_prepare_v2(be.db, "INSERT INTO metric_points VALUES(1, 1, ?, ?, ?)", -1,
		                   &ins, 0);
		sqlite3_exec(be.db, "BEGIN", 0, 0, 0);
		for (int64_t i = 0; i < n; i++) {
			sqlite3_bind_int64(ins, 1, i);
			sqlite3_bind_int64(ins, 2, 1000 * i);
			if (isnan(v[i]))
				sqlite3_bind_null(ins, 3);
			else
				sqlite3_bind_double(ins, 3, v[i]);
			assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
			sqlite3_reset(ins);
		}
		sqlite3_finalize(ins);
		sqlite3_exec(
		    be.db,
		    "INSERT INTO metric_summary VALUES(1, 1, 0.5, 19999, 19999000, 0, 77, 20000);"
		    "COMMIT",
		    0, 0, 0);
		sqlite3_close(be.db);
		pthread_mutex_destroy(&tmp.lock);
	}
	cairn_store *s;
	assert_ok(cairn_store_open(&s, sd));
	char *out;
	assert_ok(cairn_run_metric_sample_json(&out, s, "abcd", "loss", 40)); /* 500-step buckets */
	json_doc *d = parse(out);
	check_sample(json_root(d), v, n, 40, true);
	json_doc_free(d);
	cairn_free(out);
	cairn_store_close(s);
	free(v);
	unit_rmrf(dir);
	free(dir);
}

static void test_projects_columns_artifacts(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	cairn_run *a, *b;
	o.project = "p1";
	assert_ok(cairn_run_create(&a, u.s, &o));
	o.project = "p2";
	assert_ok(cairn_run_create(&b, u.s, &o));
	assert_ok(cairn_run_log_param_text(a, "lr", "0.1"));
	assert_ok(cairn_run_log_param_text(b, "lr", "0.2"));
	assert_ok(cairn_run_log_param_text(a, "seed", "1"));
	assert_ok(cairn_run_log_param_text(b, "seed", "1"));
	assert_ok(cairn_run_set_tag(a, "t"));
	assert_ok(cairn_run_log_metric(a, "m", 1, 0, 0));
	assert_ok(cairn_run_log_artifact_buf(a, "hi", 2, "d/x.txt", NULL));

	char *out;
	assert_ok(cairn_project_list_json(&out, u.s));
	json_doc *d = parse(out);
	assert_int_equal(json_root(d)->len, 2);
	assert_string_equal(json_get_str(json_root(d)->child, "name"), "p1");
	assert_int_equal(json_get(json_root(d)->child, "runs")->i, 1);
	json_doc_free(d);
	cairn_free(out);

	assert_ok(cairn_run_columns_json(&out, u.s, NULL));
	d = parse(out);
	const json *r = json_root(d);
	assert_int_equal(json_get(r, "runs")->i, 2);
	const json *lr = json_get(r, "params")->child, *seed = lr->next;
	assert_string_equal(json_get_str(lr, "key"), "lr");
	assert_int_equal(json_get(lr, "distinct")->i, 2);
	assert_int_equal(json_get(seed, "distinct")->i, 1);
	assert_int_equal(json_get(seed, "count")->i, 2);
	assert_int_equal(json_get(json_get(r, "metrics")->child, "count")->i, 1);
	assert_string_equal(json_get_str(json_get(r, "tags")->child, "tag"), "t");
	json_doc_free(d);
	cairn_free(out);
	assert_ok(cairn_run_columns_json(&out, u.s, "p2"));
	d = parse(out);
	assert_int_equal(json_get(json_root(d), "runs")->i, 1);
	assert_int_equal(json_get(json_root(d), "tags")->len, 0);
	json_doc_free(d);
	cairn_free(out);

	/* A deleted run leaves the counts. */
	assert_ok(cairn_run_delete(u.s, cairn_run_id(b), 0));
	assert_ok(cairn_run_columns_json(&out, u.s, NULL));
	d = parse(out);
	assert_int_equal(json_get(json_root(d), "runs")->i, 1);
	assert_int_equal(json_get(json_get(json_root(d), "params")->child, "count")->i, 1);
	assert_int_equal(json_get(json_get(json_root(d), "params")->child, "distinct")->i, 1);
	json_doc_free(d);
	cairn_free(out);

	char oid[CAIRN_OID_HEXSZ + 1], *media;
	int64_t size;
	assert_ok(cairn_artifact_lookup(oid, &size, &media, u.s, cairn_run_id(a), "d/x.txt"));
	assert_int_equal(size, 2);
	assert_string_equal(media, "text/plain");
	cairn_free(media);
	assert_int_equal(cairn_artifact_lookup(oid, &size, &media, u.s, cairn_run_id(a), "d/y.txt"),
	                 CAIRN_ENOTFOUND);
	assert_int_equal(cairn_artifact_lookup(oid, &size, &media, u.s, cairn_run_id(a), "../x"),
	                 CAIRN_EINVALID);
	assert_int_equal(cairn_artifact_lookup(oid, &size, &media, u.s, cairn_run_id(a), "/etc/x"),
	                 CAIRN_EINVALID);
	cairn_run_free(a);
	cairn_run_free(b);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample_paths),
	    cmocka_unit_test(test_sample_window),
	    cmocka_unit_test(test_tiles_backfill),
	    cmocka_unit_test(test_projects_columns_artifacts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
