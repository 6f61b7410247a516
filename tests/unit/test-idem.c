/*
 * tests/unit/test-idem.c — a keyed write of the JSON API's kind
 * (cairn_store_idem_begin .. _commit around run-handle calls, as the
 * server's idem_write does for POST /api/v1/runs/ID/metrics), on either
 * backend:
 *   - a process that logs points inside it and dies after the write and
 *     before the key (the "idem" hook) has stored neither; the retry stores
 *     the points once, auto steps and server-time timestamps included (they
 *     would not absorb a double), and its key;
 *   - a flush inside it does not wait for the buffered writer (which would
 *     wait for the held lock) and the write's own reads see its points;
 *   - an abort drops its points and makes run handles forget key ids learnt
 *     inside it (a rolled-back key's id may become another key's);
 *   - another thread's points during it go through the writer as ever, and
 *     an abort does not take them.
 * The store protocol's route has its own test (test-remote.c,
 * test_idempotency_in_txn); over HTTP: tests/python/test_remote_idem.py.
 */
#include "unit.h"

#include <sys/wait.h>
#include <unistd.h>

#include "lib/store/store.h"

static void die_at_idem(cairn_store *s, const char *point, void *arg)
{
	(void)s;
	(void)arg;
	if (strcmp(point, "idem") == 0)
		_exit(42); /* the server dies after the write, before its key */
}

static void log3(cairn_run *r, const char *key)
{
	for (int i = 0; i < 3; i++)
		assert_ok(cairn_run_log_metric(r, key, i * 0.5, CAIRN_STEP_AUTO, 0));
}

static char *points_of(const unit_store *u, const char *key)
{
	char q[256];
	snprintf(q, sizeof q,
	         "SELECT p.step FROM metric_points p JOIN keys k ON k.id = p.kid"
	         " WHERE k.name = '%s' ORDER BY p.step",
	         key);
	return unit_store_sql(u, q);
}

static void expect(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void test_run_metrics_in_txn(void **state)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *run;
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	o.project = "p";
	assert_ok(cairn_run_create(&run, u.s, &o));
	char id[CAIRN_RUN_ID_HEXSZ + 1];
	snprintf(id, sizeof id, "%s", cairn_run_id(run));
	cairn_run_free(run);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cairn_store *c;
		cairn_run *r;
		if (cairn_store_open(&c, u.store_dir) != 0 || cairn_run_open(&r, c, id) != 0 ||
		    cairn_store_idem_begin(c) != 0)
			_exit(1);
		store_test_hook(c, die_at_idem, NULL);
		for (int i = 0; i < 3; i++)
			if (cairn_run_log_metric(r, "loss", i, CAIRN_STEP_AUTO, 0) != 0)
				_exit(2);
		if (cairn_run_flush(r) != 0) /* must not wait for the writer */
			_exit(3);
		cairn_store_idem_commit(c, "json-1", 200, "{}", 2);
		_exit(4);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 42);
	/* neither the points nor the key ... */
	expect(unit_store_sql(&u, "SELECT count(*) FROM metric_points"), "0\n");
	int status;
	char *body;
	size_t len;
	assert_int_equal(cairn_store_idem_get(u.s, "json-1", &status, &body, &len),
	                 CAIRN_ENOTFOUND);
	/* ... and the retry applies it once; its own reads inside see it */
	assert_ok(cairn_run_open(&run, u.s, id));
	assert_ok(cairn_store_idem_begin(u.s));
	log3(run, "loss");
	cairn_run_record *rec;
	assert_ok(cairn_run_record_get(&rec, u.s, id, 0));
	cairn_run_record_free(rec);
	expect(unit_store_sql(&u, "SELECT count(*) FROM metric_points"), "0\n"); /* not yet */
	assert_ok(cairn_store_idem_commit(u.s, "json-1", 200, "{}", 2));
	expect(points_of(&u, "loss"), "0\n1\n2\n");
	assert_ok(cairn_store_idem_get(u.s, "json-1", &status, &body, &len));
	assert_int_equal(status, 200);
	cairn_free(body);
	/* the buffered writer is as before outside a keyed write */
	log3(run, "loss");
	assert_ok(cairn_run_flush(run));
	expect(points_of(&u, "loss"), "0\n1\n2\n3\n4\n5\n");
	cairn_run_free(run);
	unit_store_close(&u);
}

static void test_abort_forgets_keys(void **state)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *run;
	assert_ok(cairn_run_create(&run, u.s, NULL));
	/* "acc" is interned inside the keyed write, which is rolled back */
	assert_ok(cairn_store_idem_begin(u.s));
	log3(run, "acc");
	assert_ok(cairn_run_flush(run)); /* into the transaction */
	cairn_store_idem_abort(u.s);
	expect(unit_store_sql(&u, "SELECT count(*) FROM metric_points"), "0\n");
	/* another key takes the next id; "acc" must not reuse the stale one */
	log3(run, "other");
	log3(run, "acc");
	assert_ok(cairn_run_flush(run));
	expect(points_of(&u, "other"), "0\n1\n2\n");
	expect(points_of(&u, "acc"), "0\n1\n2\n"); /* its steps start again at 0 */
	/* a commit that fails (the key is refused) stores none of the points */
	assert_ok(cairn_store_idem_begin(u.s));
	log3(run, "late");
	assert_int_equal(cairn_store_idem_commit(u.s, "bad key!", 200, "", 0), CAIRN_EINVALID);
	expect(points_of(&u, "late"), "");
	log3(run, "late");
	assert_ok(cairn_run_flush(run));
	expect(points_of(&u, "late"), "0\n1\n2\n");
	cairn_run_free(run);
	unit_store_close(&u);
}

typedef struct other {
	cairn_run *run;
	int rc;
} other;

static void *other_thread(void *arg)
{
	other *o = arg;
	o->rc = cairn_run_log_metric(o->run, "x", 1, 0, 0); /* to the writer: returns now */
	return NULL;
}

static void test_other_thread_during_hold(void **state)
{
	unit_store u;
	unit_store_open(&u);
	cairn_run *a, *b;
	assert_ok(cairn_run_create(&a, u.s, NULL));
	assert_ok(cairn_run_create(&b, u.s, NULL));
	/* learnt outside, so the other thread interns nothing while we hold */
	assert_ok(cairn_run_log_metric(b, "x", 0, 1, 0));
	assert_ok(cairn_run_flush(b));
	assert_ok(cairn_store_idem_begin(u.s));
	log3(a, "mine");
	other o = {b, -1};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, other_thread, &o), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_ok(o.rc);
	cairn_store_idem_abort(u.s);
	assert_ok(cairn_run_flush(b));
	expect(points_of(&u, "mine"), "");
	expect(points_of(&u, "x"), "0\n1\n");
	cairn_run_free(a);
	cairn_run_free(b);
	unit_store_close(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_metrics_in_txn),
	    cmocka_unit_test(test_abort_forgets_keys),
	    cmocka_unit_test(test_other_thread_during_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
