/*
 * tests/unit/test-log-params.c — cairn_run_log_params, the batch entry point
 * the HTTP API uses for a body of params: one transaction, write-once, all
 * or nothing (a conflict, a bad key or a value too long writes none of the
 * batch), the same value again is fine, and a large batch is stored whole.
 */
#include "unit.h"

static char *params_json(unit_store *u, cairn_run *r)
{
	char *out = NULL;
	assert_ok(cairn_run_get_json(&out, u->s, cairn_run_id(r)));
	char *p = strstr(out, "\"params\":");
	assert_non_null(p);
	char *e = strchr(p, '}');
	assert_non_null(e);
	char *copy = strndup(p, (size_t)(e - p + 1));
	cairn_free(out);
	return copy;
}

static cairn_value int_value(int64_t i)
{
	cairn_value v = {0};
	v.type = CAIRN_TYPE_INT;
	v.i = i;
	return v;
}

static void test_batch_is_stored(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	const char *keys[] = {"lr", "model.depth", "name"};
	cairn_value v[3] = {{0}, int_value(3), {0}};
	v[0].type = CAIRN_TYPE_FLOAT;
	v[0].f = 0.5;
	v[2].type = CAIRN_TYPE_STRING;
	v[2].s = "mlp";
	assert_ok(cairn_run_log_params(r, keys, v, 3));
	assert_ok(cairn_run_log_params(r, keys, v, 3)); /* the same values again */
	char *p = params_json(&u, r);
	assert_string_equal(p, "\"params\":{\"lr\":0.5,\"model.depth\":3,\"name\":\"mlp\"}");
	free(p);
	assert_ok(cairn_run_log_params(r, NULL, NULL, 0));
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_all_or_nothing(void **state)
{
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	cairn_value one = int_value(1), two = int_value(2);
	assert_ok(cairn_run_log_param(r, "a", &one));
	/* another value for "a", last in the batch: "b" is not written either */
	const char *keys[] = {"b", "a"};
	cairn_value v[] = {one, two};
	assert_int_equal(cairn_run_log_params(r, keys, v, 2), CAIRN_ECONFLICT);
	/* one key twice with two values */
	const char *dup[] = {"c", "c"};
	assert_int_equal(cairn_run_log_params(r, dup, v, 2), CAIRN_ECONFLICT);
	/* a bad key, or a value over 64 KiB, refuses the batch before writing */
	const char *bad[] = {"d", "../x"};
	assert_int_equal(cairn_run_log_params(r, bad, v, 2), CAIRN_EINVALID);
	char *big = malloc(64 * 1024 + 2);
	memset(big, 'x', 64 * 1024 + 1);
	big[64 * 1024 + 1] = '\0';
	cairn_value s = {0};
	s.type = CAIRN_TYPE_STRING;
	s.s = big;
	const char *k2[] = {"e", "f"};
	cairn_value v2[] = {one, s};
	assert_int_equal(cairn_run_log_params(r, k2, v2, 2), CAIRN_ETOOBIG);
	free(big);
	char *p = params_json(&u, r);
	assert_string_equal(p, "\"params\":{\"a\":1}");
	free(p);
	assert_int_equal(cairn_run_log_params(NULL, keys, v, 2), CAIRN_EINVALID);
	cairn_run_free(r);
	unit_store_close(&u);
}

static void test_many(void **state)
{
	enum { N = 20000 };
	unit_store u;
	cairn_run *r;
	unit_store_open(&u);
	assert_ok(cairn_run_create(&r, u.s, NULL));
	char(*names)[16] = malloc(N * sizeof *names);
	const char **keys = malloc(N * sizeof *keys);
	cairn_value *v = malloc(N * sizeof *v);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "k%05d", i);
		keys[i] = names[i];
		v[i] = int_value(i);
	}
	assert_ok(cairn_run_log_params(r, keys, v, N));
	char *p = params_json(&u, r);
	assert_non_null(strstr(p, "\"k19999\":19999"));
	free(p);
	free(names);
	free(keys);
	free(v);
	cairn_run_free(r);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_is_stored),
	    cmocka_unit_test(test_all_or_nothing),
	    cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
