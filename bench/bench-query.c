/*
 * bench/bench-query.c — the query language at scale (issue 5).
 *
 * Builds a store of 100,000 runs × 20 params × 10 final metrics (+ tags)
 * straight into SQLite (bench/gen-runs.h), then measures, each beside a
 * floor taken in the same run:
 *
 *   query.topk        `metrics.valid_auc > 0.9 and params.model = "lgbm"`,
 *                     sorted by -metrics.valid_auc, top 100, with the total
 *                     count and the 100 run objects: p50 inside the library
 *                     (target 5 ms).  Floor: the best hand-ordered SQL for
 *                     the 100 ids alone (no count, no JSON).  For scale, the
 *                     plan SQLite picks for the same query written as joins.
 *   query.topk_cli    the whole `cairn ls … --limit 100 --format json`
 *                     process (target 50 ms).  Floor: `cairn --version`.
 *   query.or_glob     the same with an `or` and a `~` glob (target 20 ms),
 *                     library and process.
 *   query.group       `--group params.model` with min/mean/max of valid_auc
 *                     over all 100,000 runs (target 50 ms), library and
 *                     process.  Floor: SQL GROUP BY counting the values.
 *   query.json100     the 100 run objects: batched (what queries use)
 *                     against store_run_json once per run.
 *
 * usage: bench-query [--runs N] [--keep DIR]   (DIR: reuse or create there)
 */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "gen-runs.h"
#include "lib/store/store.h"

extern char **environ;

#define REPS     41
#define CLI_REPS 15

static const char *cairn_bin;
static char store_dir[4200];

static void line(const char *name, double v, double floor, const char *floor_what, double target)
{
	printf("BENCH %s: %.3g ms | floor %.3g ms (%s) | ratio %.1f | target <= %g ms | %s\n", name,
	       v, floor, floor_what, floor > 0 ? v / floor : 0, target,
	       v <= target ? "PASS" : "MISS");
	fflush(stdout);
}

static double lib_p50(cairn_store *s, const char *query, const char *sort, int64_t limit,
                      const char *group, const char *metric)
{
	double t[REPS];
	for (int i = 0; i < REPS; i++) {
		cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
		o.query = query;
		o.sort = sort;
		o.limit = limit;
		char *out = NULL;
		double t0 = bench_now();
		int rc = group ? cairn_query_group_json(&out, s, &o, group, metric)
		               : cairn_query_runs_json(&out, s, &o);
		t[i] = (bench_now() - t0) * 1000;
		if (rc) {
			fprintf(stderr, "bench-query: %s\n", cairn_error_last());
			exit(1);
		}
		cairn_free(out);
	}
	return bench_median(t, REPS);
}

/* p50 wall time of a cairn process, stdout to /dev/null. */
static double cli_p50(const char *const *args)
{
	double t[CLI_REPS];
	char *argv[32];
	int n = 0;
	argv[n++] = (char *)cairn_bin;
	argv[n++] = "--store";
	argv[n++] = store_dir;
	for (; *args; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < CLI_REPS; i++) {
		pid_t pid;
		double t0 = bench_now();
		if (posix_spawn(&pid, cairn_bin, &fa, NULL, argv, environ) != 0) {
			perror("bench-query: spawn");
			exit(1);
		}
		int st;
		waitpid(pid, &st, 0);
		t[i] = (bench_now() - t0) * 1000;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench-query: %s %s failed\n", cairn_bin, argv[3]);
			exit(1);
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	return bench_median(t, CLI_REPS);
}

/* The 100 ids by the best plan written by hand: walk the metric index
 * from the top, probe the param by primary key. */
static double sql_floor_topk(sqlite3 *db, int64_t kid_auc, int64_t kid_model)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db,
	                   "SELECT m.rid FROM metric_summary m CROSS JOIN params p"
	                   " ON p.rid = m.rid AND p.kid = ?2 WHERE m.kid = ?1 AND m.last > 0.9"
	                   " AND p.value = 'lgbm' ORDER BY m.last DESC LIMIT 100",
	                   -1, &st, NULL);
	double t[REPS];
	for (int i = 0; i < REPS; i++) {
		double t0 = bench_now();
		sqlite3_bind_int64(st, 1, kid_auc);
		sqlite3_bind_int64(st, 2, kid_model);
		int n = 0;
		while (sqlite3_step(st) == SQLITE_ROW)
			n++;
		sqlite3_reset(st);
		t[i] = (bench_now() - t0) * 1000;
		if (n != 100)
			fprintf(stderr, "bench-query: floor query found %d rows\n", n);
	}
	sqlite3_finalize(st);
	return bench_median(t, REPS);
}

/* What SQLite's planner does with the query written as plain joins, with
 * the total count a runs table needs (the MLflow-shaped way). */
static double sql_naive(sqlite3 *db, int64_t kid_auc, int64_t kid_model)
{
	static const char *const sql[] = {
	    "SELECT count(*) FROM runs r JOIN metric_summary m ON m.rid = r.rid AND m.kid = ?1"
	    " JOIN params p ON p.rid = r.rid AND p.kid = ?2 WHERE m.last > 0.9 AND p.value = 'lgbm'"
	    " AND r.deleted = 0",
	    "SELECT r.rid FROM runs r JOIN metric_summary m ON m.rid = r.rid AND m.kid = ?1"
	    " JOIN params p ON p.rid = r.rid AND p.kid = ?2 WHERE m.last > 0.9 AND p.value = 'lgbm'"
	    " AND r.deleted = 0 ORDER BY m.last DESC LIMIT 100"};
	double t[5];
	for (int i = 0; i < 5; i++) {
		double t0 = bench_now();
		for (int k = 0; k < 2; k++) {
			sqlite3_stmt *st;
			sqlite3_prepare_v2(db, sql[k], -1, &st, NULL);
			sqlite3_bind_int64(st, 1, kid_auc);
			sqlite3_bind_int64(st, 2, kid_model);
			while (sqlite3_step(st) == SQLITE_ROW)
				;
			sqlite3_finalize(st);
		}
		t[i] = (bench_now() - t0) * 1000;
	}
	return bench_median(t, 5);
}

static double sql_floor_group(sqlite3 *db, int64_t kid_model)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT value, count(*) FROM params WHERE kid = ? GROUP BY value",
	                   -1, &st, NULL);
	double t[REPS];
	for (int i = 0; i < REPS; i++) {
		double t0 = bench_now();
		sqlite3_bind_int64(st, 1, kid_model);
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		sqlite3_reset(st);
		t[i] = (bench_now() - t0) * 1000;
	}
	sqlite3_finalize(st);
	return bench_median(t, REPS);
}

static int64_t key_id(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	sqlite3_prepare_v2(db, "SELECT id FROM keys WHERE name = ?", -1, &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

int main(int argc, char **argv)
{
	gen_store g;
	if (gen_store_open(&g, "bench-query", argc, argv) != 0)
		return 1;
	snprintf(store_dir, sizeof store_dir, "%s", g.store_dir);
	char db_path[4300];
	snprintf(db_path, sizeof db_path, "%s/cairn.db", store_dir);
	cairn_bin = getenv("CAIRN");
	if (!cairn_bin || access(cairn_bin, X_OK) != 0)
		cairn_bin = "build-rel/cairn";
	cairn_store *s;
	if (cairn_store_open(&s, store_dir) != 0) {
		fprintf(stderr, "bench-query: %s\n", cairn_error_last());
		return 1;
	}
	sqlite3 *db;
	sqlite3_open(db_path, &db);
	int64_t kid_auc = key_id(db, "valid_auc"), kid_model = key_id(db, "model");

	const char *q1 = "metrics.valid_auc > 0.9 and params.model = \"lgbm\"";
	const char *q2 = "metrics.valid_auc > 0.9 and (params.model = \"lgbm\" or params.model = "
	                 "\"xgb\") and name ~ \"run-1*\"";
	/* warm both sides alike */
	lib_p50(s, q1, "-metrics.valid_auc", 100, NULL, NULL);
	sql_floor_topk(db, kid_auc, kid_model);

	double floor_topk = sql_floor_topk(db, kid_auc, kid_model);
	double naive = sql_naive(db, kid_auc, kid_model);
	double topk = lib_p50(s, q1, "-metrics.valid_auc", 100, NULL, NULL);
	line("query.topk (library p50)", topk, floor_topk, "hand-ordered SQL, 100 ids only", 5);
	printf("      for scale: the same as plain SQL joins, as SQLite plans them: %.3g ms\n",
	       naive);

	double ver = cli_p50((const char *const[]){"--version", NULL});
	double topk_cli = cli_p50((const char *const[]){
	    "ls", q1, "--sort", "-metrics.valid_auc", "--limit", "100", "--format", "json", NULL});
	line("query.topk_cli (process p50)", topk_cli, ver, "cairn --version", 50);

	double orq = lib_p50(s, q2, "-metrics.valid_auc", 100, NULL, NULL);
	line("query.or_glob (library p50)", orq, floor_topk, "hand-ordered SQL of query.topk", 20);
	double orq_cli = cli_p50((const char *const[]){"ls", q2, "--sort", "-metrics.valid_auc",
	                                               "--limit", "100", "--format", "json", NULL});
	line("query.or_glob_cli (process p50)", orq_cli, ver, "cairn --version", 20);

	double floor_group = sql_floor_group(db, kid_model);
	double grp = lib_p50(s, NULL, NULL, 0, "params.model", "metrics.valid_auc");
	line("query.group (library p50)", grp, floor_group, "SQL GROUP BY value, counts only", 50);
	double grp_cli =
	    cli_p50((const char *const[]){"ls", "--group", "params.model", "--sort",
	                                  "-metrics.valid_auc", "--format", "json", NULL});
	line("query.group_cli (process p50)", grp_cli, ver, "cairn --version", 50);

	/* the run objects: batched vs one store_run_json per run */
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.query = q1;
	o.sort = "-metrics.valid_auc";
	o.limit = 100;
	char *out = NULL;
	cairn_query_runs_json(&out, s, &o);
	int64_t rids[100];
	char ids[100][33];
	int n = 0;
	for (const char *p = out; n < 100 && (p = strstr(p, "{\"id\":\"")); p++) {
		snprintf(ids[n], sizeof ids[n], "%.32s", p + 7);
		const char *q = strstr(p, "\"seq\":");
		rids[n++] = atoll(q + 6); /* seq == rid in the generated store */
	}
	cairn_free(out);
	double tb[REPS], tp[REPS];
	for (int i = 0; i < REPS; i++) {
		buf b = BUF_INIT;
		double t0 = bench_now();
		bool own;
		store_lock(s);
		store_read_begin(s, &own);
		for (int k = 0; k < n; k++)
			store_run_json(s, rids[k], false, &b);
		store_read_end(s, own);
		store_unlock(s);
		tp[i] = (bench_now() - t0) * 1000;
		buf_free(&b);
	}
	double per_run = bench_median(tp, REPS);
	/* batched: a query whose cost is nearly all JSON: the 100 ids given */
	char idq[8192];
	size_t o2 = (size_t)snprintf(idq, sizeof idq, "id in (");
	for (int k = 0; k < n; k++)
		o2 += (size_t)snprintf(idq + o2, sizeof idq - o2, "%s%s", k ? "," : "", ids[k]);
	snprintf(idq + o2, sizeof idq - o2, ")");
	for (int i = 0; i < REPS; i++) {
		cairn_query_options oo = CAIRN_QUERY_OPTIONS_INIT;
		oo.query = idq;
		double t0 = bench_now();
		cairn_query_runs_json(&out, s, &oo);
		tb[i] = (bench_now() - t0) * 1000;
		cairn_free(out);
	}
	double batched = bench_median(tb, REPS);
	printf(
	    "BENCH query.json100 (100 run objects, p50): %.3g ms batched (incl. an id-in query) | "
	    "floor %.3g ms (store_run_json per run, one transaction) | ratio %.2f\n",
	    batched, per_run, per_run > 0 ? batched / per_run : 0);

	sqlite3_close(db);
	cairn_store_close(s);
	gen_store_done(&g, "bench-query");
	return 0;
}
