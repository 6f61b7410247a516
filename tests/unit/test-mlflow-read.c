/*
 * tests/unit/test-mlflow-read.c — the MLflow file-store reader of `cairn
 * import mlflow` (src/cli/mlflow-read.c): metric lines at their edges
 * (int64 bounds, two fields, tabs, CR, nan/inf), statuses, artifact_uri
 * forms, and a small tree read whole, with its fallbacks (run name and
 * user from tags, artifacts from the run's own directory, links left out)
 * and the messages that name file and line.  The reader belongs to the
 * tool, so it is compiled in from its source.
 */
#include "unit.h"

#include <math.h>
#include <sys/stat.h>

#include "cli/mlflow-files.c"
#include "cli/mlflow-read.c"

static int line(const char *text, mlr_point *p, char *err)
{
	return mlr_metric_line(text, strlen(text), p, err, 200);
}

static void test_metric_lines(void **state)
{
	(void)state;
	mlr_point p;
	char err[200];
	assert_int_equal(line("1700000000000 0.5 3", &p, err), 0);
	assert_true(p.ts == 1700000000000 && p.value == 0.5 && p.step == 3);
	assert_int_equal(line("5 0.25", &p, err), 0); /* older files: no step */
	assert_true(p.ts == 5 && p.step == 0);
	assert_int_equal(line("5\t1e-3\t7\r", &p, err), 0);
	assert_true(p.value == 1e-3 && p.step == 7);
	assert_int_equal(line("5 nan 0", &p, err), 0);
	assert_true(isnan(p.value));
	assert_int_equal(line("5 -inf 0", &p, err), 0);
	assert_true(isinf(p.value) && p.value < 0);
	assert_int_equal(line("9223372036854775807 1 -9223372036854775808", &p, err), 0);
	assert_true(p.ts == INT64_MAX && p.step == INT64_MIN);

	static const char *const bad[][2] = {
	    {"", "expected 'timestamp value step'"},
	    {"17", "expected 'timestamp value step'"},
	    {"1 2 3 4", "more fields"},
	    {"x 0.5 1", "timestamp 'x' is not a count of milliseconds"},
	    {"-1 0.5 1", "not a count of milliseconds"},
	    {"9223372036854775808 1 1", "not a count of milliseconds"},
	    {"1 abc 1", "value 'abc' is not a number"},
	    {"1 0x10 1", "is not a number"},
	    {"1 1e999 1", "is not a number"},
	    {"1 0.5 1.5", "step '1.5' is not an integer"},
	    {"1 0.5 -9223372036854775809", "is not an integer"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(line(bad[i][0], &p, err), -1);
		if (!strstr(err, bad[i][1]))
			fail_msg("'%s': '%s' does not say '%s'", bad[i][0], err, bad[i][1]);
	}
}

static void test_status(void **state)
{
	(void)state;
	int s;
	assert_int_equal(mlr_status_parse("3", &s), 0);
	assert_int_equal(s, MLR_FINISHED);
	assert_int_equal(mlr_status_parse("KILLED", &s), 0);
	assert_int_equal(s, MLR_KILLED);
	assert_int_equal(mlr_status_parse("SCHEDULED", &s), 0);
	assert_int_equal(s, MLR_SCHEDULED);
	static const char *const bad[] = {"0", "6", "33", "finished", "", "3 "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(mlr_status_parse(bad[i], &s), -1);
}

static void test_uri(void **state)
{
	(void)state;
	char *p = uri_path("file:///srv/ml%20runs/1/x/artifacts", "/r");
	assert_string_equal(p, "/srv/ml runs/1/x/artifacts");
	free(p);
	p = uri_path("file://host/srv/a", "/r");
	assert_string_equal(p, "/srv/a");
	free(p);
	p = uri_path("/abs/a", "/r");
	assert_string_equal(p, "/abs/a");
	free(p);
	p = uri_path("artifacts", "/r");
	assert_string_equal(p, "/r/artifacts");
	free(p);
	assert_null(uri_path("s3://bucket/1/x/artifacts", "/r"));
	assert_null(uri_path("mlflow-artifacts:/1/x/artifacts", "/r"));
}

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = path_join(dir, rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
	*slash = '/';
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

#define RID "0123456789abcdef0123456789abcdef"

static void test_tree(void **state)
{
	(void)state;
	char *root = unit_tmpdir();
	put(root, "1/meta.yaml", "experiment_id: '1'\nname: vision\nlifecycle_stage: active\n");
	put(root, "1/tags/area", "cv");
	put(root, "models/m/meta.yaml", "name: m\n"); /* the registry: models/ has none */
	put(root, "1/" RID "/meta.yaml",
	    "artifact_uri: file:///nowhere/" RID "/artifacts\nend_time: null\n"
	    "experiment_id: '1'\nlifecycle_stage: deleted\nrun_id: " RID "\n"
	    "start_time: 1700000000000\nstatus: RUNNING\ntags: []\n");
	put(root, "1/" RID "/tags/mlflow.runName", "from-tag");
	put(root, "1/" RID "/tags/mlflow.user", "bob");
	put(root, "1/" RID "/params/lr", "0.01");
	put(root, "1/" RID "/metrics/train/loss", "1700000000001 0.5 0\n1700000000002 0.25 1\n");
	put(root, "1/" RID "/artifacts/a/b.txt", "bytes");
	char *link = path_join(root, "1/" RID "/artifacts/link");
	assert_int_equal(symlink("/etc/passwd", link), 0);
	free(link);

	mlr_store s;
	char err[MLR_ERR];
	assert_int_equal(mlr_store_open(&s, root, err, sizeof err), 0);
	assert_int_equal(s.nexps, 1);
	assert_string_equal(s.exps[0].name, "vision");
	assert_int_equal(s.exps[0].ntags, 1);
	assert_string_equal(s.exps[0].tags[0].value, "cv");
	assert_int_equal(s.exps[0].nruns, 1);
	mlr_run r;
	assert_int_equal(
	    mlr_run_read(&r, &s.exps[0], s.exps[0].runs[0], MLR_POINTS, err, sizeof err), 0);
	assert_string_equal(r.run_id, RID);
	assert_string_equal(r.name, "from-tag"); /* no run_name: the tag */
	assert_string_equal(r.user, "bob");
	assert_int_equal(r.status, MLR_RUNNING);
	assert_true(r.start == 1700000000000 && r.end == 0 && r.deleted);
	assert_int_equal(r.nparams, 1);
	assert_string_equal(r.params[0].value, "0.01");
	assert_int_equal(r.nmetrics, 1);
	assert_string_equal(r.metrics[0].key, "train/loss");
	assert_int_equal(r.metrics[0].n, 2);
	assert_true(r.metrics[0].pts[1].value == 0.25 && r.metrics[0].pts[1].step == 1);
	/* artifact_uri is elsewhere: the run's own artifacts/, the link left out */
	assert_int_equal(r.narts, 1);
	assert_string_equal(r.arts[0].path, "a/b.txt");
	assert_int_equal(r.arts[0].size, 5);
	mlr_run_free(&r);

	/* a bad line: the file and its line */
	put(root, "1/" RID "/metrics/train/loss", "1700000000001 0.5 0\n1700000000002 0.5 -2\n");
	assert_int_equal(mlr_run_read(&r, &s.exps[0], s.exps[0].runs[0], 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "metrics/train/loss:2: step -2 is negative"));
	mlr_run_free(&r);
	put(root, "1/" RID "/metrics/train/loss", "0 0.5 0\n");
	assert_int_equal(mlr_run_read(&r, &s.exps[0], s.exps[0].runs[0], 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "metrics/train/loss:1: timestamp 0 is not a time"));
	mlr_run_free(&r);
	mlr_store_free(&s);

	/* an experiment_id that is not its directory's */
	put(root, "1/meta.yaml", "experiment_id: '2'\nname: vision\n");
	assert_int_equal(mlr_store_open(&s, root, err, sizeof err), -1);
	assert_non_null(strstr(err, "experiment_id '2' is not the directory's name '1'"));
	mlr_store_free(&s);
	unit_rmrf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metric_lines),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_uri),
	    cmocka_unit_test(test_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
