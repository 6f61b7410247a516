/*
 * tests/unit/test-project.c — cairn/project.h: the project list with and
 * without run counts (cairn_projects_get counts the runs that are not
 * deleted; cairn_projects_get_ext with CAIRN_PROJECTS_NO_COUNTS gives -1
 * and the same projects otherwise), and unknown flags refused.
 */
#include "unit.h"

static void new_run(cairn_store *s, const char *project, char id[33])
{
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.project = project;
	cairn_run *r;
	assert_ok(cairn_run_create(&r, s, &o));
	snprintf(id, 33, "%s", cairn_run_id(r));
	cairn_run_free(r);
}

static void test_counts_and_no_counts(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	char id[33], gone[33];
	new_run(u.s, "a", id);
	new_run(u.s, "a", id);
	new_run(u.s, "a", gone);
	new_run(u.s, "b", id);
	int64_t empty;
	assert_ok(cairn_project_create(&empty, u.s, "empty"));
	assert_ok(cairn_project_set_tag(u.s, empty, "team", "vision"));
	assert_ok(cairn_run_delete(u.s, gone, 0));

	cairn_project *p, *q;
	size_t n, m;
	assert_ok(cairn_projects_get(&p, &n, u.s));
	assert_ok(cairn_projects_get_ext(&q, &m, u.s, CAIRN_PROJECTS_NO_COUNTS));
	assert_int_equal(n, 3);
	assert_int_equal(m, n);
	static const char *const names[] = {"a", "b", "empty"};
	static const int64_t runs[] = {2, 1, 0};
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(p[i].name, names[i]);
		assert_int_equal(p[i].runs, runs[i]);
		/* the same project, uncounted */
		assert_int_equal(q[i].id, p[i].id);
		assert_string_equal(q[i].name, p[i].name);
		assert_int_equal(q[i].deleted, p[i].deleted);
		assert_true(q[i].created == p[i].created);
		assert_int_equal(q[i].runs, -1);
		assert_int_equal(q[i].ntags, p[i].ntags);
	}
	assert_int_equal(q[2].ntags, 1);
	assert_string_equal(q[2].tag_keys[0], "team");
	assert_string_equal(q[2].tag_values[0], "vision");
	cairn_projects_free(p, n);
	cairn_projects_free(q, m);

	/* flags 0 is cairn_projects_get */
	assert_ok(cairn_projects_get_ext(&p, &n, u.s, 0));
	assert_int_equal(n, 3);
	assert_int_equal(p[0].runs, 2);
	cairn_projects_free(p, n);
	unit_store_close(&u);
}

static void test_bad_flags(void **state)
{
	(void)state;
	unit_store u;
	unit_store_open(&u);
	cairn_project *p = (cairn_project *)&u;
	size_t n = 7;
	assert_int_equal(cairn_projects_get_ext(&p, &n, u.s, 0x10), CAIRN_EINVALID);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_non_null(strstr(cairn_error_last(), "flags"));
	assert_int_equal(cairn_projects_get_ext(&p, &n, NULL, 0), CAIRN_EINVALID);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_and_no_counts),
	    cmocka_unit_test(test_bad_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
