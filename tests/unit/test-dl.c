/*
 * tests/unit/test-dl.c — util/dl.h: a library loaded on first use, its
 * table typed from the real prototypes, and a clear message when the
 * library or one of its symbols is missing; and that opening a store and
 * listing runs maps none of the libraries loaded that way.
 */
#include "unit.h"

#include <math.h>

#include "util/dl.h"
#include "util/sha.h"

#define M_FUNCS(X) X(cos) X(sqrt)
struct m_api {
#define M_SLOT(f) __typeof__(f) *f;
	M_FUNCS(M_SLOT)
#undef M_SLOT
};
#define M_NAME(f) #f,
static const char *const m_names[] = {M_FUNCS(M_NAME) NULL};

static void test_dl_loads_once(void **st)
{
	struct m_api m = {0};
	dl_lib l = DL_LIB_INIT("libm", "libm.so.6", m_names, &m);
	assert_int_equal(dl_load(&l), 0);
	assert_true(m.cos(0.0) == 1.0);
	assert_true(m.sqrt(16.0) == 4.0);
	assert_int_equal(dl_load(&l), 0); /* a second call finds it loaded */
	assert_string_equal(dl_error(&l), "");
}

static void test_dl_missing_library(void **st)
{
	struct m_api m = {0};
	dl_lib l = DL_LIB_INIT("libnope", "libnope.so.9", m_names, &m);
	assert_int_equal(dl_load(&l), -1);
	assert_non_null(strstr(dl_error(&l), "cannot load libnope (libnope.so.9): "));
	assert_null(m.cos);
	assert_int_equal(dl_load(&l), -1); /* the outcome is final */
}

static void test_dl_missing_symbol(void **st)
{
	static const char *const names[] = {"cos", "cairn_no_such_function", NULL};
	struct {
		void (*a)(void), (*b)(void);
	} t = {0};
	dl_lib l = DL_LIB_INIT("libm", "libm.so.6", names, &t);
	assert_int_equal(dl_load(&l), -1);
	assert_non_null(
	    strstr(dl_error(&l), "cannot load libm (libm.so.6): no symbol cairn_no_such_function"));
}

static int mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[4096];
	int found = 0;
	while (fgets(line, sizeof line, f))
		found |= strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/* The commands that only read the store never map the heavy libraries;
 * hashing an object id maps libcrypto, and only it.  On PostgreSQL the
 * store maps libpq, which links libcrypto itself (TLS): there the check is
 * that libpq is mapped and libgit2 and libmicrohttpd are not. */
static void test_lazy_dependencies(void **st)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *r = NULL;
	assert_ok(cairn_run_create(&r, u.s, NULL));
	assert_ok(cairn_run_log_param_text(r, "model", "lgbm"));
	assert_ok(cairn_run_finish(r, CAIRN_STATUS_FINISHED, 0));
	cairn_run_free(r);
	char *json = NULL;
	assert_ok(cairn_query_runs_json(&json, u.s, NULL));
	cairn_free(json);
	assert_false(mapped("libgit2"));
	assert_false(mapped("libmicrohttpd"));
	if (unit_pg()) {
		assert_true(mapped("libpq"));
		unit_store_close(&u);
		return;
	}
	assert_false(mapped("libcrypto"));
	char hex[65];
	assert_int_equal(sha_buf_hex("abc", 3, hex), 0);
	assert_null(sha_error());
	assert_true(mapped("libcrypto"));
	assert_false(mapped("libgit2"));
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dl_loads_once),
	    cmocka_unit_test(test_dl_missing_library),
	    cmocka_unit_test(test_dl_missing_symbol),
	    cmocka_unit_test(test_lazy_dependencies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
