/*
 * tests/unit/test-log-params.c — cairn_run_log_params, the batch entry point
 * the HTTP API uses for a body of params: one transaction, write-once, all
 * or nothing (a conflict, a bad key or a value too long writes none of the
 * batch), the same value again is fine, and a large batch is stored whole;
 * on PostgreSQL, two writers interning the same new keys in opposite
 * orders do not deadlock.
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

/* PostgreSQL: another writer's transaction (psql, keeping the store's
 * protocol: PG_LOCK_KEYS, "cairnkey", before a new key) interns key y,
 * sleeps, then interns x; the store's batch interns x then y meanwhile.
 * Without the lock the two deadlock (each holds the unique entry the other
 * waits for; PostgreSQL fails one of them); with it, the batch waits for
 * psql's commit and finds both keys.  A refused batch leaves nothing, its
 * new key included. */
static void test_new_keys_two_writers(void **state)
{
	if (!unit_pg()) {
		print_message("# skip on sqlite: one writer at a time, no such race\n");
		skip();
	}
	unit_store u;
	unit_store_open(&u);
	cairn_run *r;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	char cmd[8800];
	snprintf(cmd, sizeof cmd,
	         "psql -X -q -v ON_ERROR_STOP=1 \"%s\" -c \"BEGIN;"
	         " SELECT pg_advisory_xact_lock(x'636169726e6b6579'::bigint);"
	         " INSERT INTO keys(name) VALUES('ky') ON CONFLICT DO NOTHING; SELECT pg_sleep(1);"
	         " INSERT INTO keys(name) VALUES('kx') ON CONFLICT DO NOTHING; COMMIT\""
	         " >/dev/null 2>&1",
	         u.db);
	FILE *bg = popen(cmd, "r");
	assert_non_null(bg);
	usleep(300 * 1000); /* psql holds ky by now */
	const char *keys[] = {"kx", "ky"};
	cairn_value v[] = {int_value(1), int_value(2)};
	assert_ok(cairn_run_log_params(r, keys, v, 2));
	assert_int_equal(pclose(bg), 0); /* and psql was no deadlock's victim either */
	char *p = params_json(&u, r);
	assert_string_equal(p, "\"params\":{\"kx\":1,\"ky\":2}");
	free(p);
	/* refused as a whole: no param of the batch, and no new key */
	const char *k2[] = {"kz", "kx"};
	assert_int_equal(cairn_run_log_params(r, k2, v, 2), CAIRN_ECONFLICT);
	p = params_json(&u, r);
	assert_string_equal(p, "\"params\":{\"kx\":1,\"ky\":2}");
	free(p);
	char *n = unit_store_sql(&u, "SELECT count(*) FROM keys WHERE name IN ('kx', 'ky', 'kz')");
	assert_string_equal(n, "2\n");
	free(n);
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
	    cmocka_unit_test(test_new_keys_two_writers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
