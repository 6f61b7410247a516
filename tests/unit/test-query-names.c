/*
 * tests/unit/test-query-names.c — bare names (lib/query/names.c) through the
 * public API: resolution among the runs in scope (project, deleted runs,
 * points still in the writer), ambiguity and unknown names with their
 * positions, the warnings for metrics and params no run has, suggestions by
 * edit distance, and the tag rule (cairn_tag_validate).  Both backends.
 */
#include "unit.h"

#include "lib/query/names.h"

static char *resolve(cairn_store *s, const char *project, int deleted, const char *field, int *rc,
                     size_t *pos)
{
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.project = project;
	o.include_deleted = deleted;
	char *out = NULL;
	*rc = cairn_query_field_resolve(&out, s, &o, field, pos);
	return out;
}

static void expect_field(cairn_store *s, const char *project, const char *field, const char *want)
{
	int rc;
	size_t pos;
	char *got = resolve(s, project, 0, field, &rc, &pos);
	if (rc)
		fail_msg("'%s': %s", field, cairn_error_last());
	assert_string_equal(got, want);
	cairn_free(got);
}

static void expect_error(cairn_store *s, const char *project, int deleted, const char *field,
                         const char *msg)
{
	int rc;
	size_t pos = 99;
	char *got = resolve(s, project, deleted, field, &rc, &pos);
	assert_int_equal(rc, CAIRN_EINVALID);
	assert_null(got);
	if (!strstr(cairn_error_last(), msg))
		fail_msg("'%s': got '%s', want '%s'", field, cairn_error_last(), msg);
	assert_int_equal(pos, 0);
}

static cairn_run *mk(cairn_store *s, const char *project)
{
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.project = project;
	cairn_run *r;
	assert_ok(cairn_run_create(&r, s, &o));
	return r;
}

static void test_distance(void **st)
{
	(void)st;
	assert_int_equal(qnames_distance("kitten", "sitting", 5), 3);
	assert_int_equal(qnames_distance("valid_acc", "valid_accc", 3), 1);
	assert_int_equal(qnames_distance("acc", "cac", 3), 1); /* a transposition */
	assert_int_equal(qnames_distance("Valid_Acc", "valid_acc", 3), 0);
	assert_int_equal(qnames_distance("", "abc", 3), 3);
	assert_int_equal(qnames_distance("abcdefgh", "a", 2), 3); /* capped */
	assert_int_equal(qnames_distance("loss", "host", 1), 2);
}

static void test_resolve(void **st)
{
	(void)st;
	unit_store u;
	unit_store_open(&u);
	cairn_run *a = mk(u.s, "p1"), *b = mk(u.s, "p1"), *c = mk(u.s, "p2"), *d = mk(u.s, "p1");
	assert_ok(cairn_run_log_metric(a, "acc", 0.9, 0, 1.0));
	assert_ok(cairn_run_log_metric(a, "score", 1, 0, 1.0));
	assert_ok(cairn_run_log_param_text(a, "lr", "0.1"));
	assert_ok(cairn_run_log_param_text(b, "score", "5"));
	assert_ok(cairn_run_log_param_text(b, "a b", "x"));
	assert_ok(cairn_run_log_param_text(b, "model.depth", "3"));
	assert_ok(cairn_run_log_metric(c, "only_p2", 1, 0, 1.0));
	assert_ok(cairn_run_log_metric(d, "gone", 1, 0, 1.0));
	assert_ok(cairn_run_flush(d));
	assert_ok(cairn_run_delete(u.s, cairn_run_id(d), 0));
	/* still in the writer's buffer: the resolver flushes first */
	assert_ok(cairn_run_log_metric(b, "late", 2, 0, 1.0));

	expect_field(u.s, NULL, "acc", "metrics.acc");
	expect_field(u.s, NULL, "acc.max", "metrics.acc.max");
	expect_field(u.s, NULL, "lr", "params.lr");
	expect_field(u.s, NULL, "model.depth", "params.model.depth");
	expect_field(u.s, NULL, "`a b`", "params.`a b`");
	expect_field(u.s, NULL, "late", "metrics.late");
	expect_field(u.s, NULL, "status", "status"); /* attributes come first */
	expect_field(u.s, NULL, "metrics.nope", "metrics.nope");
	expect_field(u.s, "p2", "only_p2", "metrics.only_p2");
	expect_error(u.s, "p1", 0, "only_p2", "no run of project 'p1' has a metric or param");
	expect_error(u.s, NULL, 0, "score",
	             "ambiguous name 'score': did you mean metrics.score or params.score");
	expect_field(u.s, "p2", "metrics.score", "metrics.score");
	expect_error(u.s, NULL, 0, "acx",
	             "unknown field 'acx': no run has a metric or param of "
	             "that name (did you mean metrics.acc?)");
	expect_error(u.s, NULL, 0, "gone", "unknown field 'gone'");
	int rc;
	size_t pos;
	char *got = resolve(u.s, NULL, 1, "gone", &rc, &pos);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "metrics.gone");
	cairn_free(got);

	/* queries and sorts: the position of the problem, and which text */
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	int in_sort = -1;
	o.query = "acc > 0.5 and lr < 1";
	o.sort = "-acc,lr";
	assert_ok(cairn_query_check(u.s, &o, &pos, &in_sort));
	o.query = "acc > 0.5 and score < 1";
	assert_int_equal(cairn_query_check(u.s, &o, &pos, &in_sort), CAIRN_EINVALID);
	assert_int_equal(pos, 14);
	assert_int_equal(in_sort, 0);
	o.query = NULL;
	o.sort = "lr,-score";
	assert_int_equal(cairn_query_check(u.s, &o, &pos, &in_sort), CAIRN_EINVALID);
	assert_int_equal(pos, 4);
	assert_int_equal(in_sort, 1);
	/* without a store a bare name is unknown, as before */
	assert_int_equal(cairn_query_validate("acc > 0.5", &pos), CAIRN_EINVALID);

	/* the query runs with it, and groups by it */
	char *js;
	o.query = "acc > 0.5";
	o.sort = "-acc";
	assert_ok(cairn_query_runs_json(&js, u.s, &o));
	assert_non_null(strstr(js, "\"total\":1"));
	cairn_free(js);
	o.query = NULL;
	o.sort = NULL;
	assert_ok(cairn_query_group_json(&js, u.s, &o, "lr", "acc"));
	assert_non_null(strstr(js, "\"group_by\":\"params.lr\""));
	assert_non_null(strstr(js, "\"metric\":\"metrics.acc\""));
	cairn_free(js);
	assert_int_equal(cairn_query_group_json(&js, u.s, &o, "score", NULL), CAIRN_EINVALID);

	cairn_run_free(a);
	cairn_run_free(b);
	cairn_run_free(c);
	cairn_run_free(d);
	unit_store_close(&u);
}

/* The first rows of a key decide presence only when they are in scope; a
 * key whose first 64+ rows are in another project or deleted is read whole. */
static void test_peek_fallback(void **st)
{
	(void)st;
	unit_store u;
	unit_store_open(&u);
	for (int i = 0; i < 80; i++) {
		cairn_run *r = mk(u.s, i < 70 ? "many" : "gone");
		assert_ok(cairn_run_log_metric(r, "m", i, 0, 1.0));
		assert_ok(cairn_run_log_param_text(r, "p", i < 70 ? "a" : "b"));
		assert_ok(cairn_run_flush(r));
		if (i >= 70)
			assert_ok(cairn_run_delete(u.s, cairn_run_id(r), 0));
		cairn_run_free(r);
	}
	cairn_run *last = mk(u.s, "one");
	assert_ok(cairn_run_log_metric(last, "m", 1000, 0, 1.0)); /* last in the index */
	cairn_run_free(last);
	expect_field(u.s, "one", "m", "metrics.m");
	expect_field(u.s, "many", "m", "metrics.m");
	expect_error(u.s, "gone", 0, "m", "no run of project 'gone' has a metric or param");
	expect_error(u.s, "one", 0, "p", "no run of project 'one' has a metric or param");
	int rc;
	size_t pos;
	char *got = resolve(u.s, "gone", 1, "p", &rc, &pos);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "params.p");
	cairn_free(got);
	unit_store_close(&u);
}

static void test_warnings(void **st)
{
	(void)st;
	unit_store u;
	unit_store_open(&u);
	cairn_run *a = mk(u.s, "p1"), *b = mk(u.s, "p2");
	assert_ok(cairn_run_log_metric(a, "valid_loss", 0.3, 0, 1.0));
	assert_ok(cairn_run_log_param_text(a, "model", "lgbm"));
	assert_ok(cairn_run_log_metric(b, "train_acc", 0.3, 0, 1.0));
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	char *js;
	o.query = "metrics.valid_loss < 1 and params.model = lgbm";
	assert_ok(cairn_query_warnings(&js, u.s, &o));
	assert_string_equal(js, "[]");
	cairn_free(js);
	o.query = "metrics.nope > 1 or (params.modle = x and not metrics.nope < 0)";
	o.sort = "-metrics.loss";
	assert_ok(cairn_query_warnings(&js, u.s, &o));
	assert_string_equal(js,
	                    "[\"no run has a metric 'nope'\","
	                    "\"no run has a param 'modle' (did you mean params.model?)\","
	                    "\"no run has a metric 'loss' (did you mean metrics.valid_loss?)\"]");
	cairn_free(js);
	o.query = "metrics.train_acc > 0";
	o.sort = NULL;
	o.project = "p1";
	assert_ok(cairn_query_warnings(&js, u.s, &o));
	assert_string_equal(js, "[\"no run of project 'p1' has a metric 'train_acc'\"]");
	cairn_free(js);
	o.query = "metrics.acc >";
	assert_int_equal(cairn_query_warnings(&js, u.s, &o), CAIRN_EINVALID);
	cairn_run_free(a);
	cairn_run_free(b);
	unit_store_close(&u);
}

static void test_tags(void **st)
{
	(void)st;
	assert_ok(cairn_tag_validate("baseline"));
	assert_ok(cairn_tag_validate("lr-sweep"));
	assert_ok(cairn_tag_validate("owner=ann"));
	assert_ok(cairn_tag_validate("exp/1"));
	assert_int_equal(cairn_tag_validate("a,b"), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "tag 'a,b' contains a comma at byte 1"));
	assert_int_equal(cairn_tag_validate("two words"), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "contains a space at byte 3"));
	assert_int_equal(cairn_tag_validate("k=a b"), CAIRN_EINVALID);
	assert_int_equal(cairn_tag_validate(""), CAIRN_EINVALID);

	unit_store u;
	unit_store_open(&u);
	const char *tags[] = {"ok", "bad tag"};
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.tags = tags;
	o.ntags = 2;
	cairn_run *r = NULL;
	assert_int_equal(cairn_run_create(&r, u.s, &o), CAIRN_EINVALID);
	assert_null(r);
	o.ntags = 1;
	assert_ok(cairn_run_create(&r, u.s, &o));
	assert_int_equal(cairn_run_set_tag(r, "x,y"), CAIRN_EINVALID);
	assert_ok(cairn_run_remove_tag(r, "x,y")); /* removal takes any key */
	cairn_run_free(r);
	char *n = unit_store_sql(&u, "SELECT count(*) FROM runs");
	assert_string_equal(n, "1\n");
	free(n);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_distance),      cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_peek_fallback), cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
