/*
 * bench/bench-ingest.c — metric ingest through cairn_run_log_metric against
 * its floor, a raw SQLite bulk insert of the same rows into the same kind of
 * table (WITHOUT ROWID, clustered by run, key, step, timestamp), measured in
 * the same run.  Also: the caller's cost per call (median), bytes per point
 * on disk, and `cairn show` of a run holding 1M points.
 *
 *   bench-ingest [RUNS KEYS STEPS]     default 100 50 1000 (5M points)
 */
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cairn.h"

static char tmpdir[] = "/tmp/cairn-bench-ingest.XXXXXX";

static long long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

static double raw_sqlite(int runs, int keys, int steps)
{
	char path[512];
	snprintf(path, sizeof path, "%s/raw.db", tmpdir);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db,
	             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	             "CREATE TABLE metric_points(rid INTEGER NOT NULL, kid INTEGER NOT NULL,"
	             " step INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,"
	             " PRIMARY KEY(rid, kid, step, ts)) WITHOUT ROWID;",
	             0, 0, 0);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "INSERT INTO metric_points VALUES(?,?,?,?,?)", -1, &st, NULL);
	long long ts = 1764300000000LL;
	double t0 = bench_now();
	long n = 0;
	sqlite3_exec(db, "BEGIN", 0, 0, 0);
	for (int r = 1; r <= runs; r++)
		for (int s = 0; s < steps; s++)
			for (int k = 1; k <= keys; k++) {
				sqlite3_bind_int64(st, 1, r);
				sqlite3_bind_int64(st, 2, k);
				sqlite3_bind_int64(st, 3, s);
				sqlite3_bind_int64(st, 4, ts + s);
				sqlite3_bind_double(st, 5, (double)(s * k % 977) / 977.0);
				sqlite3_step(st);
				sqlite3_reset(st);
				if (++n % 65536 == 0) {
					sqlite3_exec(db, "COMMIT", 0, 0, 0);
					sqlite3_exec(db, "BEGIN", 0, 0, 0);
				}
			}
	sqlite3_exec(db, "COMMIT", 0, 0, 0);
	double dt = bench_now() - t0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (double)n / dt;
}

int main(int argc, char **argv)
{
	int runs = argc > 3 ? atoi(argv[1]) : 100;
	int keys = argc > 3 ? atoi(argv[2]) : 50;
	int steps = argc > 3 ? atoi(argv[3]) : 1000;
	long total = (long)runs * keys * steps;
	if (!mkdtemp(tmpdir))
		return 1;
	printf("ingest: %d runs x %d keys x %d steps = %ld points\n", runs, keys, steps, total);

	double floor = raw_sqlite(runs, keys, steps);

	char *sd;
	cairn_store *s;
	if (cairn_store_init(&sd, tmpdir) || cairn_store_open(&s, sd)) {
		fprintf(stderr, "error: %s\n", cairn_error_last());
		return 1;
	}
	char keyname[64][16];
	for (int k = 0; k < keys && k < 64; k++)
		snprintf(keyname[k], sizeof keyname[k], "metric_%02d", k);
	cairn_run **rr = calloc((size_t)runs, sizeof *rr);
	for (int r = 0; r < runs; r++)
		cairn_run_create(&rr[r], s, NULL);
	/* warm the per-run key caches (interning is a one-time cost per key) */
	double t0 = bench_now();
	for (int r = 0; r < runs; r++)
		for (int st = 0; st < steps; st++)
			for (int k = 0; k < keys; k++)
				cairn_run_log_metric(rr[r], keyname[k % 64],
				                     (double)(st * (k + 1) % 977) / 977.0, st, 0);
	cairn_run_flush(rr[0]);
	double dt = bench_now() - t0;
	double rate = (double)total / dt;
	bench_report("ingest 5M points via cairn_run_log_metric (points/s)", rate, "pts/s", floor,
	             "rows/s raw SQLite", ">=", 0.5);

	/* caller's cost: time single calls on a fresh run */
	cairn_run *c;
	cairn_run_create(&c, s, NULL);
	enum { N = 200000 };
	double *lat = malloc(N * sizeof *lat);
	for (int i = 0; i < 1000; i++)
		cairn_run_log_metric(c, "warm", 1, i, 0);
	for (int i = 0; i < N; i++) {
		double a = bench_now();
		cairn_run_log_metric(c, "lat", (double)i, i, 0);
		lat[i] = bench_now() - a;
	}
	double empty[1000];
	for (int i = 0; i < 1000; i++) {
		double a = bench_now();
		empty[i] = bench_now() - a;
	}
	double med = bench_median(lat, N) - bench_median(empty, 1000);
	bench_report_abs("caller's cost per cairn_run_log_metric (median)", med * 1e6, "us",
	                 "<=", 1.0);
	free(lat);
	cairn_run_flush(c);
	cairn_run_free(c);

	/* storage: checkpoint, then bytes per point */
	for (int r = 0; r < runs; r++)
		cairn_run_free(rr[r]);
	free(rr);
	cairn_store_close(s);
	char db[512], cmd[1024];
	snprintf(db, sizeof db, "%s/cairn.db", sd);
	sqlite3 *h;
	sqlite3_open(db, &h);
	sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", 0, 0, 0);
	sqlite3_close(h);
	double bpp = (double)file_size(db) / (double)(total + N + 1000);
	bench_report_abs("storage per metric point (bytes on disk)", bpp, "B", "<=", 40);

	/* cairn show of a run holding 1M points */
	cairn_store_open(&s, sd);
	cairn_run *big;
	cairn_run_create(&big, s, NULL);
	for (int i = 0; i < 1000000; i++)
		cairn_run_log_metric(big, i % 2 ? "loss" : "acc", (double)i, i / 2, 0);
	cairn_run_flush(big);
	char id[33];
	snprintf(id, sizeof id, "%s", cairn_run_id(big));
	cairn_run_free(big);
	cairn_store_close(s);
	const char *bin = getenv("CAIRN") ? getenv("CAIRN") : "build-rel/cairn";
	snprintf(cmd, sizeof cmd, "%s --store %s show %s > /dev/null", bin, sd, id);
	double t[7];
	for (int i = 0; i < 7; i++) {
		double a = bench_now();
		if (system(cmd) != 0) {
			fprintf(stderr, "error: %s failed\n", cmd);
			return 1;
		}
		t[i] = bench_now() - a;
	}
	bench_report_abs("cairn show of a run with 1M points (median process time)",
	                 bench_median(t, 7) * 1e3, "ms", "<=", 50);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	cairn_free(sd);
	return 0;
}
