/*
 * bench/bench-query-pg.c — the query language at scale on a PostgreSQL store
 * (issue 13): the same queries as bench-query.c, through the planner's
 * PostgreSQL scans (src/lib/store/pg/scan*.c).
 *
 * Builds a store of 100,000 runs × 20 params × 10 final metrics (+ tags) in
 * a fresh database, generated inside PostgreSQL (generate_series, with the
 * same shapes as bench/gen-runs.h: five models, valid_auc uniform in
 * [0.5, 1), one value in 200 NaN, each tag on one run in 8), then measures,
 * each beside a floor taken in the same run on the same database:
 *
 *   query.pg.topk     `metrics.valid_auc > 0.9 and params.model = "lgbm"`,
 *                     sorted by -metrics.valid_auc, top 100, with the total
 *                     count and the 100 run objects: p50 inside the library
 *                     (target 20 ms).  Floor: one hand-written SQL
 *                     statement giving the same answer (the total, the 100
 *                     live runs in the same order, each with its columns,
 *                     params, metric summaries and tags, as JSON built by
 *                     PostgreSQL), prepared; the benchmark checks that it
 *                     names the same 100 ids in the same order as the
 *                     library and the same total, and says so.  Beside it,
 *                     for scale, the bare top 100 ids (no count, no rows).
 *   query.pg.or_glob  the same with an `or` and a `~` glob (for scale).
 *   query.pg.group    `--group params.model` with min/mean/max of valid_auc
 *                     over every run (for scale).  Floor: SQL GROUP BY sval
 *                     counting the values.
 *   query.pg.columns  cairn_run_columns_json (GET /api/v1/columns) for the
 *                     whole store and for the project: the column catalog
 *                     (migration 6, src/lib/store/pg/catalog.c), target 20
 *                     ms.  Floor: the count(DISTINCT) over the params it
 *                     replaced.
 *
 * The cluster: $CAIRN_BENCH_PG_URI (a base URI, as scripts/pg-cluster start
 * prints), else one started here with scripts/pg-cluster and stopped at the
 * end.  libpq is the library's own table (lib/store/pg/pg.h: loaded on first
 * use), so this binary links nothing more than the others.
 *
 * $CAIRN_BENCH_PG_DB names a database this benchmark built before (its URI,
 * objects= included): it is measured again without building.
 *
 * usage: bench-query-pg [--runs N]
 */
#include <unistd.h>

#include "bench.h"
#include "pg-bench.h"
#include "lib/store/store.h"

#define REPS 41

static void line(const char *name, double v, double floor, const char *floor_what, double target)
{
	printf("BENCH %s: %.3g ms | floor %.3g ms (%s) | ratio %.1f | target <= %g ms | %s\n", name,
	       v, floor, floor_what, floor > 0 ? v / floor : 0, target,
	       v <= target ? "PASS" : "MISS");
	fflush(stdout);
}

static int sql(PGconn *c, const char *q)
{
	return pg_bench_sql(c, "bench-query-pg", q);
}

/* The runs, their params, metric summaries and points, and tags. */
static int generate(PGconn *c, int nruns)
{
	char q[4096];
	static const char *const steps[] = {
	    "SELECT setseed(0.42)",
	    "INSERT INTO keys(name) SELECT unnest(ARRAY['model','optimizer','lr','batch_size',"
	    "'epochs','dropout','seed','layers','hidden','weight_decay','augment','momentum',"
	    "'warmup','scheduler','loss','depth','n_estimators','subsample','data_version',"
	    "'activation','valid_auc','train_auc','valid_loss','train_loss','accuracy','f1',"
	    "'precision','recall','rmse','epoch_time'])",
	    /* string params: model, optimizer and five coded ones */
	    "INSERT INTO params(rid, kid, type, sval) SELECT r.rid, k.id, 4,"
	    " CASE k.name WHEN 'model' THEN (ARRAY['lgbm','xgb','rf','mlp','linear'])"
	    "[1 + floor(random() * 5)::int]"
	    " WHEN 'optimizer' THEN (ARRAY['adam','sgd','rmsprop','adagrad'])"
	    "[1 + floor(random() * 4)::int]"
	    " ELSE substr('sclda', 1 + k.id::int % 5, 1) || floor(random() * 8)::int END"
	    " FROM runs r, keys k WHERE k.name IN ('model','optimizer','scheduler','loss',"
	    "'data_version','activation')",
	    "INSERT INTO params(rid, kid, type, num) SELECT r.rid, k.id, 2,"
	    " CASE k.name WHEN 'lr' THEN power(10, -5 + 4 * random())"
	    " ELSE round((random() * 1000)::numeric) / 1000 END"
	    " FROM runs r, keys k WHERE k.name IN ('lr','dropout','weight_decay','momentum',"
	    "'subsample')",
	    "INSERT INTO params(rid, kid, type, num, ival) SELECT rid, kid, 3, b, b FROM"
	    " (SELECT r.rid, k.id AS kid, floor(random() * 2)::int AS b FROM runs r, keys k"
	    " WHERE k.name = 'augment') x",
	    "INSERT INTO params(rid, kid, type, num, ival) SELECT rid, kid, 1, v, v FROM"
	    " (SELECT r.rid, k.id AS kid, CASE k.name WHEN 'seed' THEN r.rid"
	    " ELSE floor(random() * 512)::int8 END AS v FROM runs r, keys k WHERE k.name IN"
	    " ('batch_size','epochs','seed','layers','hidden','warmup','depth','n_estimators'))"
	    " x",
	    "INSERT INTO metric_summary(rid, kid, last, last_step, last_ts, min, max, count)"
	    " SELECT rid, kid, v, 0, ts, v, v, 1 FROM (SELECT r.rid, k.id AS kid,"
	    " (coalesce(r.end_time, r.start_time) * 1000)::int8 AS ts, CASE WHEN random() < 0.005 "
	    "THEN NULL"
	    " WHEN k.name IN ('valid_auc','train_auc','accuracy','f1','precision','recall')"
	    " THEN 0.5 + 0.5 * random() ELSE random() * 3 END AS v FROM runs r, keys k"
	    " WHERE k.id > 20) x",
	    "INSERT INTO metric_points(rid, kid, step, ts, value)"
	    " SELECT rid, kid, 0, last_ts, last FROM metric_summary",
	    "INSERT INTO tags(rid, tag) SELECT r.rid, t FROM runs r,"
	    " unnest(ARRAY['baseline','sweep','debug','tuned','gpu','cpu']) t"
	    " WHERE random() < 0.125",
	};
	if (sql(c, "BEGIN") != 0)
		return -1;
	snprintf(q, sizeof q,
	         "INSERT INTO projects(id, name, next_seq, created) VALUES(1, 'bench', %d, 0)",
	         nruns + 1);
	if (sql(c, q) != 0)
		return -1;
	snprintf(q, sizeof q,
	         "INSERT INTO runs(rid, id, project_id, seq, name, status, start_time, end_time,"
	         " heartbeat, exit_code, command, cwd, host, user_name, pid, note, git_commit,"
	         " git_branch, git_dirty)"
	         " SELECT r, md5(r::text), 1, r, 'run-' || r, st, start,"
	         " CASE WHEN st > 0 THEN start + 60 + random() * 36000 END, start,"
	         " CASE WHEN st = 1 THEN 0 WHEN st > 1 THEN 1 END,"
	         " 'python train.py', '/home/me/proj', CASE WHEN r %% 7 = 0 THEN 'laptop'"
	         " ELSE 'gpu-box' END, 'me', 4242, '', md5((r %% 64)::text) || '00000000',"
	         " CASE WHEN r %% 5 = 0 THEN 'experiment' ELSE 'main' END, (r %% 3 = 0)::int"
	         " FROM (SELECT r, 1767225600.0 + r * 300.0 + random() * 100 AS start,"
	         " CASE WHEN u < 0.9 THEN 1 WHEN u < 0.97 THEN 2 WHEN u < 0.99 THEN 3 ELSE 0"
	         " END AS st FROM (SELECT r, random() AS u FROM generate_series(1, %d) r) a) b",
	         nruns);
	if (sql(c, q) != 0)
		return -1;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (sql(c, steps[i]) != 0)
			return -1;
	/* Committed, so the library's own connection sees the runs.  (It did
	 * not: the store stayed empty to every other connection while this
	 * one's floor query saw its own open transaction, so the library's
	 * p50 was that of an empty answer.) */
	return sql(c, "COMMIT") == 0 && sql(c, "VACUUM ANALYZE") == 0 ? 0 : -1;
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
			fprintf(stderr, "bench-query-pg: %s\n", cairn_error_last());
			exit(1);
		}
		cairn_free(out);
	}
	return bench_median(t, REPS);
}

/* The library's answer to query: the ids of its runs in order, one a
 * line, and its total (the "total" member of the JSON). */
static int lib_answer(cairn_store *s, const char *query, char *ids, size_t cap, long long *total)
{
	cairn_query_options o = CAIRN_QUERY_OPTIONS_INIT;
	o.query = query;
	o.sort = "-metrics.valid_auc";
	o.limit = 100;
	char *out = NULL;
	if (cairn_query_runs_json(&out, s, &o) != 0) {
		fprintf(stderr, "bench-query-pg: %s\n", cairn_error_last());
		return -1;
	}
	const char *t = strstr(out, "\"total\":");
	*total = t ? atoll(t + 8) : -1;
	/* each run object opens with its id: {"id":"<32 hex>" */
	size_t at = 0;
	ids[0] = '\0';
	for (const char *p = out; (p = strstr(p, "{\"id\":\"")) != NULL; p += 7) {
		if (at + 40 >= cap)
			break;
		at += (size_t)snprintf(ids + at, cap - at, "%.32s\n", p + 7);
	}
	cairn_free(out);
	return 0;
}

/* The first column of the last run's rows, one a line (for the check). */
static char last_col0[100 * 40 + 1];
static long long last_col1;

/* p50 of a prepared statement; *rows: the rows of the last run (the
 * statements named topk* have the total in their second column). */
static double sql_p50(PGconn *c, const char *name, const char *q, int *rows)
{
	PGresult *r = pq.prepare(c, name, q, 0, NULL);
	if (pq.resultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench-query-pg: %s: %s\n", q, pq.errorMessage(c));
		exit(1);
	}
	pq.clear(r);
	double t[REPS];
	for (int i = 0; i < REPS; i++) {
		double t0 = bench_now();
		r = pq.execPrepared(c, name, 0, NULL, NULL, NULL, 0);
		t[i] = (bench_now() - t0) * 1000;
		*rows = pq.ntuples(r);
		if (i == REPS - 1) {
			size_t at = 0;
			for (int k = 0; k < *rows && at + 40 < sizeof last_col0; k++)
				at += (size_t)snprintf(last_col0 + at, sizeof last_col0 - at,
				                       "%s\n", pq.getvalue(r, k, 0));
			last_col0[at] = '\0';
			last_col1 = *rows && strncmp(name, "topk", 4) == 0
			                ? atoll(pq.getvalue(r, 0, 1))
			                : -1;
		}
		pq.clear(r);
	}
	return bench_median(t, REPS);
}

int main(int argc, char **argv)
{
	int nruns = 100000;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			nruns = atoi(argv[++i]);
	if (pq_load() != 0) {
		printf("bench-query-pg: skipped (%s)\n", cairn_error_last());
		return 0;
	}
	char *own = NULL;
	const char *base = getenv("CAIRN_BENCH_PG_URI");
	if (!base || !*base) {
		if (!(own = pg_cluster("start"))) {
			printf("bench-query-pg: skipped (no PostgreSQL cluster: scripts/pg-cluster "
			       "start failed)\n");
			return 0;
		}
		base = own;
	}
	char args[4400], objects[] = "/tmp/cairn-bench-query-pg.XXXXXX";
	char uri[4400], *db = NULL;
	const char *again = getenv("CAIRN_BENCH_PG_DB");
	if (again && *again) {
		snprintf(uri, sizeof uri, "%s", again);
		db = strdup(again);
		char *o = strstr(db, "objects=");
		if (o) /* libpq does not know cairn's parameter */
			o[-1] = '\0';
		objects[0] = '\0';
	} else {
		snprintf(args, sizeof args, "createdb '%s' bench_query_%d", base, (int)getpid());
		db = pg_cluster(args);
		if (!db || !mkdtemp(objects)) {
			fprintf(stderr, "bench-query-pg: cannot create the database\n");
			return 1;
		}
		snprintf(uri, sizeof uri, "%s%cobjects=%s", db, strchr(db, '?') ? '&' : '?',
		         objects);
		char *shown = NULL;
		if (cairn_store_init(&shown, uri) != 0) {
			fprintf(stderr, "bench-query-pg: %s\n", cairn_error_last());
			return 1;
		}
		cairn_free(shown);
	}
	PGconn *c = pq.connectdb(db);
	if (pq.status(c) != CONNECTION_OK) {
		fprintf(stderr, "bench-query-pg: %s\n", pq.errorMessage(c));
		return 1;
	}
	if (objects[0]) {
		double t0 = bench_now();
		if (generate(c, nruns) != 0)
			return 1;
		printf("built %d runs × 20 params × 10 metrics in PostgreSQL in %.1f s (%s)\n",
		       nruns, bench_now() - t0, uri);
	}
	cairn_store *s;
	if (cairn_store_open(&s, uri) != 0) {
		fprintf(stderr, "bench-query-pg: %s\n", cairn_error_last());
		return 1;
	}
	const char *q1 = "metrics.valid_auc > 0.9 and params.model = \"lgbm\"";
	const char *q2 = "metrics.valid_auc > 0.9 and (params.model = \"lgbm\" or params.model = "
	                 "\"xgb\") and name ~ \"run-1*\"";
	int rows = 0;
	/* The library's answer by hand: the matching live runs (valid_auc's
	 * summary walked from the top by metric_summary's (kid, last, rid)
	 * index, the model param checked per run), their total, the first 100
	 * by valid_auc descending then newest rid first (sort.c's order), and
	 * each of them as one JSON row with its params, metrics and tags. */
	static const char floor_sql[] =
	    "WITH hit AS (SELECT m.rid, m.last FROM metric_summary m"
	    " JOIN params p ON p.rid = m.rid AND p.kid = (SELECT id FROM keys WHERE name = 'model')"
	    " AND p.type = 4 AND p.sval = 'lgbm'"
	    " JOIN runs r ON r.rid = m.rid AND r.deleted = 0"
	    " WHERE m.kid = (SELECT id FROM keys WHERE name = 'valid_auc') AND m.last > 0.9),"
	    " top AS (SELECT rid, last FROM hit ORDER BY last DESC, rid DESC LIMIT 100)"
	    " SELECT r.id, (SELECT count(*) FROM hit), json_build_object('id', r.id, 'name',"
	    " r.name, 'seq', r.seq, 'status', r.status, 'start_time', r.start_time, 'end_time',"
	    " r.end_time, 'exit_code', r.exit_code, 'command', r.command, 'host', r.host, 'user',"
	    " r.user_name, 'git_commit', r.git_commit, 'git_branch', r.git_branch, 'git_dirty',"
	    " r.git_dirty, 'note', r.note, 'params', (SELECT json_object_agg(k.name,"
	    " coalesce(q.sval, q.num::text)) FROM params q JOIN keys k ON k.id = q.kid"
	    " WHERE q.rid = r.rid), 'metrics', (SELECT json_object_agg(k.name,"
	    " json_build_object('last', s.last, 'min', s.min, 'max', s.max, 'count', s.count,"
	    " 'step', s.last_step, 'ts', s.last_ts)) FROM metric_summary s JOIN keys k"
	    " ON k.id = s.kid WHERE s.rid = r.rid), 'tags', (SELECT json_agg(t.tag ORDER BY t.tag)"
	    " FROM tags t WHERE t.rid = r.rid))"
	    " FROM top JOIN runs r ON r.rid = top.rid ORDER BY top.last DESC, top.rid DESC";
	static const char ids_sql[] =
	    "SELECT m.rid FROM metric_summary m JOIN params p ON p.rid = m.rid"
	    " AND p.kid = (SELECT id FROM keys WHERE name = 'model')"
	    " WHERE m.kid = (SELECT id FROM keys WHERE name = 'valid_auc') AND m.last > 0.9"
	    " AND p.sval = 'lgbm' ORDER BY m.last DESC LIMIT 100";
	/* warm both sides alike */
	lib_p50(s, q1, "-metrics.valid_auc", 100, NULL, NULL);
	sql_p50(c, "warm", floor_sql, &rows);
	/* the library and the floor, alternately, so both see the same cache */
	double floor_topk = sql_p50(c, "topk", floor_sql, &rows);
	char floor_ids[sizeof last_col0];
	memcpy(floor_ids, last_col0, sizeof floor_ids);
	long long floor_total = last_col1;
	double topk = lib_p50(s, q1, "-metrics.valid_auc", 100, NULL, NULL);
	double floor_topk2 = sql_p50(c, "topk2", floor_sql, &rows);
	double topk2 = lib_p50(s, q1, "-metrics.valid_auc", 100, NULL, NULL);
	if (floor_topk2 < floor_topk)
		floor_topk = floor_topk2;
	if (topk2 < topk)
		topk = topk2;
	int idrows = 0;
	double floor_ids_only = sql_p50(c, "ids", ids_sql, &idrows);
	/* the same answer? */
	char lib_ids[sizeof last_col0];
	long long lib_total = -1;
	if (lib_answer(s, q1, lib_ids, sizeof lib_ids, &lib_total) != 0)
		return 1;
	bool same = rows == (floor_total < 100 ? floor_total : 100) &&
	            strcmp(lib_ids, floor_ids) == 0 && lib_total == floor_total;
	printf("the floor's answer: %d runs of %lld, %s the library's (%lld)\n", rows, floor_total,
	       same ? "the same ids in the same order as" : "NOT the same as", lib_total);
	if (!same)
		fprintf(stderr,
		        "bench-query-pg: the floor query does not give the library's answer\n");
	line("query.pg.topk (library p50)", topk, floor_topk,
	     "hand-written SQL: the same total and 100 runs as JSON", 20);
	printf("BENCH query.pg.topk_ids (hand-written SQL, the 100 ids only, no count, no rows): "
	       "%.3g ms\n",
	       floor_ids_only);
	double orq = lib_p50(s, q2, "-metrics.valid_auc", 100, NULL, NULL);
	printf("BENCH query.pg.or_glob (library p50): %.3g ms | floor %.3g ms (hand-written SQL "
	       "of query.pg.topk) | ratio %.1f\n",
	       orq, floor_topk, orq / floor_topk);
	double floor_group = sql_p50(c, "group",
	                             "SELECT sval, count(*) FROM params WHERE kid = (SELECT id"
	                             " FROM keys WHERE name = 'model') GROUP BY sval",
	                             &rows);
	double grp = lib_p50(s, NULL, NULL, 0, "params.model", "metrics.valid_auc");
	printf("BENCH query.pg.group (library p50): %.3g ms | floor %.3g ms (SQL GROUP BY sval, "
	       "counts only) | ratio %.1f\n",
	       grp, floor_group, grp / floor_group);
	fflush(stdout);

	/* the column catalog (migration 6) against the count it replaced */
	double floor_cols =
	    sql_p50(c, "columns",
	            "SELECT k.name, count(*), count(DISTINCT (CASE WHEN x.type = 4 THEN 's' ||"
	            " x.sval ELSE x.num::text END)) FROM params x JOIN keys k ON k.id = x.kid"
	            " WHERE x.rid IN (SELECT rid FROM runs WHERE deleted = 0) GROUP BY k.name",
	            &rows);
	double tc[REPS];
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < REPS; i++) {
			char *out = NULL;
			double t0 = bench_now();
			if (cairn_run_columns_json(&out, s, k ? "bench" : NULL) != 0) {
				fprintf(stderr, "bench-query-pg: %s\n", cairn_error_last());
				return 1;
			}
			tc[i] = (bench_now() - t0) * 1000;
			cairn_free(out);
		}
		line(k ? "query.pg.columns_project (library p50)"
		       : "query.pg.columns (library p50)",
		     bench_median(tc, REPS), floor_cols,
		     "count(DISTINCT) over the params, as before", 20);
	}

	cairn_store_close(s);
	pq.finish(c);
	snprintf(args, sizeof args, "rm -rf '%s'", objects);
	if (objects[0] && system(args) != 0)
		fprintf(stderr, "bench-query-pg: cannot remove %s\n", objects);
	if (own) {
		snprintf(args, sizeof args, "scripts/pg-cluster stop '%s' >/dev/null", own);
		if (system(args) != 0)
			fprintf(stderr, "bench-query-pg: cannot stop the cluster\n");
	}
	free(own);
	free(db);
	return 0;
}
