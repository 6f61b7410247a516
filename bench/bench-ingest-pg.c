/*
 * bench/bench-ingest-pg.c — metric ingest into a PostgreSQL store (issue 13):
 * 5M points through cairn_run_log_metric (the writer's batches, each one
 * transaction with its summaries and tiles, src/lib/store/pg/metrics.c)
 * beside its floor, a raw COPY of the same rows into the same table on the
 * same cluster, measured in the same run.  Target: at least 0.5x the floor.
 *
 *   floor    one COPY metric_points FROM STDIN in one transaction, the rows
 *            formatted in C as they are sent (1 MiB per PQputCopyData): no
 *            summaries, no tiles, nothing but the rows and the table's
 *            primary key.  Measured in COPY's text format and in its binary
 *            one; the floor is the faster of the two.
 *   library  the same rows (run-major, then step, then key) through the C
 *            API, timed until cairn_run_flush returns (every point
 *            committed); then count(*) checks that all of them are there.
 *
 * metric_points has no foreign keys, so the floor writes rows of runs that
 * do not exist; the table is emptied (TRUNCATE, a fresh file) and
 * checkpointed before each side, so both start from an empty table.
 *
 * The cluster: $CAIRN_BENCH_PG_URI (a base URI, as scripts/pg-cluster start
 * prints), else one started here with scripts/pg-cluster and stopped at the
 * end.
 *
 *   bench-ingest-pg [RUNS KEYS STEPS]     default 100 50 1000 (5M points)
 */
#include <stdint.h>
#include <unistd.h>

#include "bench.h"
#include "pg-bench.h"

static void sql(PGconn *c, const char *q)
{
	if (pg_bench_sql(c, "bench-ingest-pg", q) != 0)
		exit(1);
}

static long long count_points(PGconn *c)
{
	PGresult *r = pq.exec(c, "SELECT count(*) FROM metric_points");
	long long n = pq.resultStatus(r) == PGRES_TUPLES_OK ? atoll(pq.getvalue(r, 0, 0)) : -1;
	pq.clear(r);
	return n;
}

static double value_of(int s, int k)
{
	return (double)(s * (k + 1) % 977) / 977.0;
}

#define TS0 1764300000000LL

/* One binary tuple of COPY (5 fields: int8 x4, float8): 2 + 5 * (4 + 8). */
#define BIN_ROW 62
static size_t bin_row(char *p, int64_t rid, int64_t kid, int64_t step, int64_t ts, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	const uint64_t f[5] = {(uint64_t)rid, (uint64_t)kid, (uint64_t)step, (uint64_t)ts, bits};
	put_be(p, 5, 2);
	for (int i = 0; i < 5; i++) {
		put_be(p + 2 + 12 * i, 8, 4);
		put_be(p + 6 + 12 * i, f[i], 8);
	}
	return BIN_ROW;
}

/* The floor: the rows formatted in C as they are sent (COPY's text format,
 * or its binary one), one COPY, one transaction.  Seconds taken. */
static double raw_copy(PGconn *c, int runs, int keys, int steps, bool binary)
{
	char *chunk = malloc(1 << 20);
	size_t len = 0;
	double t0 = bench_now();
	sql(c, "BEGIN");
	PGresult *r =
	    pq.exec(c, binary ? "COPY metric_points(rid, kid, step, ts, value) FROM"
	                        " STDIN (FORMAT binary)"
	                      : "COPY metric_points(rid, kid, step, ts, value) FROM STDIN");
	if (pq.resultStatus(r) != PGRES_COPY_IN) {
		fprintf(stderr, "bench-ingest-pg: COPY: %s\n", pq.errorMessage(c));
		exit(1);
	}
	pq.clear(r);
	if (binary) {
		memcpy(chunk, "PGCOPY\n\377\r\n\0", 11);
		memset(chunk + 11, 0, 8); /* flags, header extension length */
		len = 19;
	}
	for (int ri = 1; ri <= runs; ri++)
		for (int s = 0; s < steps; s++)
			for (int k = 0; k < keys; k++) {
				if (len > (1 << 20) - 128) {
					pq.putCopyData(c, chunk, (int)len);
					len = 0;
				}
				if (binary)
					len += bin_row(chunk + len, ri, k + 1, s, TS0 + s,
					               value_of(s, k));
				else
					len += (size_t)snprintf(chunk + len, 128,
					                        "%d\t%d\t%d\t%lld\t%.17g\n", ri,
					                        k + 1, s, TS0 + s, value_of(s, k));
			}
	if (binary) {
		put_be(chunk + len, 0xffff, 2);
		len += 2;
	}
	if (len)
		pq.putCopyData(c, chunk, (int)len);
	pq.putCopyEnd(c, NULL);
	while ((r = pq.getResult(c))) {
		if (pq.resultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "bench-ingest-pg: COPY: %s\n", pq.errorMessage(c));
			exit(1);
		}
		pq.clear(r);
	}
	sql(c, "COMMIT");
	double dt = bench_now() - t0;
	free(chunk);
	return dt;
}

/* Empty every table the ingest writes, then checkpoint: each side starts
 * from empty files and a clean buffer cache. */
static void reset(PGconn *c)
{
	sql(c, "TRUNCATE metric_points, metric_summary, metric_tiles");
	sql(c, "CHECKPOINT");
}

int main(int argc, char **argv)
{
	int runs = argc > 3 ? atoi(argv[1]) : 100;
	int keys = argc > 3 ? atoi(argv[2]) : 50;
	int steps = argc > 3 ? atoi(argv[3]) : 1000;
	long long total = (long long)runs * keys * steps;
	if (pq_load() != 0) {
		printf("bench-ingest-pg: skipped (%s)\n", cairn_error_last());
		return 0;
	}
	char *own = NULL;
	const char *base = getenv("CAIRN_BENCH_PG_URI");
	if (!base || !*base) {
		if (!(own = pg_cluster("start"))) {
			printf(
			    "bench-ingest-pg: skipped (no PostgreSQL cluster: scripts/pg-cluster "
			    "start failed)\n");
			return 0;
		}
		base = own;
	}
	char args[4400], uri[4400], objects[] = "/tmp/cairn-bench-ingest-pg.XXXXXX";
	snprintf(args, sizeof args, "createdb '%s' bench_ingest_%d", base, (int)getpid());
	char *db = pg_cluster(args);
	if (!db || !mkdtemp(objects)) {
		fprintf(stderr, "bench-ingest-pg: cannot create the database\n");
		return 1;
	}
	snprintf(uri, sizeof uri, "%s&objects=%s", db, objects);
	char *shown = NULL;
	cairn_store *s = NULL;
	if (cairn_store_init(&shown, uri) != 0 || cairn_store_open(&s, uri) != 0) {
		fprintf(stderr, "bench-ingest-pg: %s\n", cairn_error_last());
		return 1;
	}
	cairn_free(shown);
	PGconn *c = pq.connectdb(db);
	if (pq.status(c) != CONNECTION_OK) {
		fprintf(stderr, "bench-ingest-pg: %s\n", pq.errorMessage(c));
		return 1;
	}
	printf("ingest into PostgreSQL: %d runs x %d keys x %d steps = %lld points\n", runs, keys,
	       steps, total);

	/* the runs and keys first, so neither side pays for them */
	char keyname[64][16];
	for (int k = 0; k < keys && k < 64; k++)
		snprintf(keyname[k], sizeof keyname[k], "metric_%02d", k);
	cairn_run **rr = calloc((size_t)runs, sizeof *rr);
	for (int r = 0; r < runs; r++)
		if (cairn_run_create(&rr[r], s, NULL) != 0) {
			fprintf(stderr, "bench-ingest-pg: %s\n", cairn_error_last());
			return 1;
		}
	for (int k = 0; k < keys; k++)
		cairn_run_log_metric(rr[0], keyname[k % 64], 0, 0, 0);
	cairn_run_flush(rr[0]);

	reset(c);
	double text_s = raw_copy(c, runs, keys, steps, false);
	long long nfloor = count_points(c);
	reset(c);
	double bin_s = raw_copy(c, runs, keys, steps, true);
	if (count_points(c) != nfloor)
		nfloor = -1;
	reset(c);
	double floor_s = text_s < bin_s ? text_s : bin_s;
	printf("raw COPY: text %.3g rows/s, binary %.3g rows/s (the floor is the faster)\n",
	       (double)total / text_s, (double)total / bin_s);

	double t0 = bench_now();
	for (int r = 0; r < runs; r++)
		for (int st = 0; st < steps; st++)
			for (int k = 0; k < keys; k++)
				cairn_run_log_metric(rr[r], keyname[k % 64], value_of(st, k), st,
				                     (double)(TS0 + st) / 1000.0);
	int rc = cairn_run_flush(rr[0]);
	double lib_s = bench_now() - t0;
	long long nlib = count_points(c);
	if (rc != 0)
		fprintf(stderr, "bench-ingest-pg: %s\n", cairn_error_last());
	if (nfloor != total || nlib != total)
		fprintf(stderr,
		        "bench-ingest-pg: points stored: floor %lld, library %lld, want %lld\n",
		        nfloor, nlib, total);
	bench_report("ingest.pg 5M points via cairn_run_log_metric (points/s)",
	             (double)total / lib_s, "pts/s", (double)total / floor_s,
	             "rows/s raw COPY, same table", ">=", 0.5);

	for (int r = 0; r < runs; r++)
		cairn_run_free(rr[r]);
	free(rr);
	cairn_store_close(s);
	pq.finish(c);
	snprintf(args, sizeof args, "rm -rf '%s'", objects);
	if (system(args) != 0)
		fprintf(stderr, "bench-ingest-pg: cannot remove %s\n", objects);
	if (own) {
		snprintf(args, sizeof args, "scripts/pg-cluster stop '%s' >/dev/null", own);
		if (system(args) != 0)
			fprintf(stderr, "bench-ingest-pg: cannot stop the cluster\n");
	}
	free(own);
	free(db);
	return nfloor == total && nlib == total && rc == 0 ? 0 : 1;
}
