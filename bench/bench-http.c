/*
 * bench/bench-http.c — the HTTP API's figures, each beside its floor:
 *
 *   runs page   GET /api/v1/runs?limit=100 on a 100,000-run store, p50 over
 *               keep-alive; floor: GET /api/v1/ (an empty answer) on the same
 *               connection.  Target: p50 under 20 ms.
 *   history     a 1,000,000-point series thinned to 1,000 points, through the
 *               library and over HTTP; floor: a bare SQLite scan of the same
 *               series.  Target: under 50 ms.
 *   ingest      POST /api/v1/runs/ID/metrics, 1,000 points per request,
 *               keep-alive: the server's path, from the request to the points
 *               in the store's writer (what the answer {"logged": N} says,
 *               as cairn_run_log_metric's return does); floor: the empty
 *               request's rate, as points/s if it carried 1,000 points.
 *               Target: at least 2,000,000 points/s.
 *   committed   the same batches until the last point is committed (the
 *               ingest time plus the drain a read forces at the end); floor:
 *               the library's own cairn_run_log_metric and flush of the same
 *               points into the same store.  Target: at least 300,000
 *               points/s.  The gap between the two lines is the store's
 *               commit (docs/internals/ingest.md).
 *
 * The runs are generated with direct SQL (seconds, not minutes) and the long
 * series through the library's writer, then served by the real `cairn
 * server` ($CAIRN, default build-rel/cairn), which requires a token: every
 * request carries one (Authorization: Bearer), so the figures include the
 * authentication a team's server does (docs/internals/auth.md).
 *
 *   bench-http                 run the benchmark
 *   bench-http --make-store D  only generate the 100,000-run store in D/.cairn
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cairn.h"
#include "http-client.h"

#define NRUNS   100000
#define NPOINTS 1000000

static void die(const char *what)
{
	fprintf(stderr, "bench-http: %s: %s\n", what,
	        cairn_error_last()[0] ? cairn_error_last() : strerror(errno));
	exit(1);
}

static void sql(sqlite3 *db, const char *s)
{
	char *err = NULL;
	if (sqlite3_exec(db, s, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench-http: %s: %s\n", s, err);
		exit(1);
	}
}

/* 100,000 runs in 2 projects with 5 params, 3 metric summaries and a tag
 * each, plus one run holding a 1,000,000-point series "loss". */
static void make_store(const char *dir, char big_id[33])
{
	char *store_dir = NULL;
	cairn_store *s = NULL;
	if (cairn_store_init(&store_dir, dir) != 0 || cairn_store_open(&s, store_dir) != 0)
		die("cannot create the store");
	cairn_run *r = NULL;
	cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
	ro.project = "big";
	ro.name = "million";
	if (cairn_run_create(&r, s, &ro) != 0 || cairn_run_log_metric(r, "loss", 1, 0, 0) != 0 ||
	    cairn_run_log_metric(r, "acc", 0, 0, 0) != 0 || cairn_run_flush(r) != 0)
		die("cannot create the big run");
	snprintf(big_id, 33, "%s", cairn_run_id(r));
	cairn_run_free(r);
	cairn_store_close(s);

	char path[4096];
	snprintf(path, sizeof path, "%s/cairn.db", store_dir);
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die("cannot open the database");
	sqlite3_busy_timeout(db, 10000);
	sql(db, "PRAGMA synchronous=OFF; BEGIN");
	sql(db, "INSERT OR IGNORE INTO projects(name, created) VALUES('sweep', 0), ('other', 0)");
	sql(db, "INSERT OR IGNORE INTO keys(name) VALUES('lr'),('batch'),('model'),('depth'),"
	        "('dropout'),('valid_auc'),('train_loss'),('epoch_time')");
	sqlite3_stmt *run, *par, *sum, *tag;
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO runs(id, project_id, seq, name, status, start_time, end_time,"
	    " host, user) VALUES(?, (SELECT id FROM projects WHERE name = ?), ?, ?, ?, ?,"
	    " ?, 'bench', 'bench')",
	    -1, &run, NULL);
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO params(rid, kid, type, value) VALUES(?, (SELECT id FROM keys"
	    " WHERE name = ?), ?, ?)",
	    -1, &par, NULL);
	sqlite3_prepare_v2(
	    db,
	    "INSERT INTO metric_summary(rid, kid, last, last_step, last_ts, min, max,"
	    " count) VALUES(?, (SELECT id FROM keys WHERE name = ?), ?, 99, 0, ?, ?, 100)",
	    -1, &sum, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO tags(rid, tag) VALUES(?, ?)", -1, &tag, NULL);
	static const char *const models[] = {"mlp", "cnn", "lgbm", "resnet"};
	for (int i = 0; i < NRUNS; i++) {
		char id[33], name[64];
		snprintf(id, sizeof id, "%08x%024x", 0xb0000000u + (unsigned)i,
		         (unsigned)i * 2654435761u);
		snprintf(name, sizeof name, "run-%d", i);
		const char *proj = i % 10 ? "sweep" : "other";
		sqlite3_bind_text(run, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(run, 2, proj, -1, SQLITE_STATIC);
		sqlite3_bind_int(run, 3, i + 1);
		sqlite3_bind_text(run, 4, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(run, 5, i % 50 == 0 ? 0 : 1);
		sqlite3_bind_double(run, 6, 1.7e9 + i * 60.0);
		sqlite3_bind_double(run, 7, 1.7e9 + i * 60.0 + 30 + i % 600);
		if (sqlite3_step(run) != SQLITE_DONE)
			die("insert run");
		sqlite3_reset(run);
		sqlite3_int64 rid = sqlite3_last_insert_rowid(db);
		struct {
			const char *k;
			int type;
			double v;
			const char *s;
		} ps[] = {{"lr", 2, 1e-4 * (1 + i % 97), NULL},
		          {"batch", 1, 32 << (i % 4), NULL},
		          {"model", 4, 0, models[i % 4]},
		          {"depth", 1, 2 + i % 10, NULL},
		          {"dropout", 2, (i % 5) / 10.0, NULL}};
		for (int p = 0; p < 5; p++) {
			sqlite3_bind_int64(par, 1, rid);
			sqlite3_bind_text(par, 2, ps[p].k, -1, SQLITE_STATIC);
			sqlite3_bind_int(par, 3, ps[p].type);
			if (ps[p].s)
				sqlite3_bind_text(par, 4, ps[p].s, -1, SQLITE_STATIC);
			else if (ps[p].type == 1)
				sqlite3_bind_int64(par, 4, (sqlite3_int64)ps[p].v);
			else
				sqlite3_bind_double(par, 4, ps[p].v);
			if (sqlite3_step(par) != SQLITE_DONE)
				die("insert param");
			sqlite3_reset(par);
		}
		static const char *const ms[] = {"valid_auc", "train_loss", "epoch_time"};
		for (int m = 0; m < 3; m++) {
			double v = (m == 0 ? 0.8 : m == 1 ? 0.3 : 12) + (i % 1000) / 10000.0;
			sqlite3_bind_int64(sum, 1, rid);
			sqlite3_bind_text(sum, 2, ms[m], -1, SQLITE_STATIC);
			sqlite3_bind_double(sum, 3, v);
			sqlite3_bind_double(sum, 4, v * 0.9);
			sqlite3_bind_double(sum, 5, v * 1.1);
			if (sqlite3_step(sum) != SQLITE_DONE)
				die("insert summary");
			sqlite3_reset(sum);
		}
		sqlite3_bind_int64(tag, 1, rid);
		sqlite3_bind_text(tag, 2, i % 3 ? "sweep" : "baseline", -1, SQLITE_STATIC);
		sqlite3_step(tag);
		sqlite3_reset(tag);
	}
	sql(db, "UPDATE projects SET next_seq = 100001 WHERE name IN ('sweep', 'other')");
	sqlite3_finalize(run);
	sqlite3_finalize(par);
	sqlite3_finalize(sum);
	sqlite3_finalize(tag);
	sql(db, "COMMIT; ANALYZE");
	sqlite3_close(db);
	/* The big series: 1,000,000 points of "loss" through the library's
	 * writer (which also keeps the tiles thinned reads use). */
	if (cairn_store_open(&s, store_dir) != 0 || cairn_run_open(&r, s, big_id) != 0)
		die("reopen the store");
	for (int i = 1; i < NPOINTS; i++)
		if (cairn_run_log_metric(r, "loss", 1.0 / (1 + i * 1e-4) + (i % 9973 == 0 ? 5 : 0),
		                         i, 1700000000.0 + i * 0.01) != 0)
			die("log a point");
	if (cairn_run_flush(r) != 0)
		die("flush");
	cairn_run_free(r);
	cairn_store_close(s);
	cairn_free(store_dir);
}

/* --- a minimal keep-alive HTTP/1.1 client ---------------------------------------- */

static char token[CAIRN_TOKEN_LEN + 1]; /* a write token of the store */

static void report_floor(const char *name, double v, const char *unit, double floor,
                         const char *floor_what, const char *op, double target)
{
	int pass = strcmp(op, ">=") == 0 ? v >= target : v <= target;
	printf("BENCH %s: %.4g %s | floor %.4g %s (%s) | ratio %.3f | target %s %g %s | %s\n", name,
	       v, unit, floor, unit, floor_what, floor ? v / floor : 0, op, target, unit,
	       pass ? "PASS" : "MISS");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char big[33];
	if (argc == 3 && strcmp(argv[1], "--make-store") == 0) {
		make_store(argv[2], big);
		printf("%s/.cairn\n", argv[2]);
		return 0;
	}
	const char *cairn = getenv("CAIRN") ? getenv("CAIRN") : "build-rel/cairn";
	char tmpl[] = "/tmp/cairn-bench-http.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		die("mkdtemp");
	double t0 = bench_now();
	make_store(dir, big);
	fprintf(stderr, "bench-http: generated %d runs and a %d-point series in %.1fs\n", NRUNS,
	        NPOINTS, bench_now() - t0);
	char store_dir[4200];
	snprintf(store_dir, sizeof store_dir, "%s/.cairn", dir);

	/* History through the library, beside a bare SQLite scan of the series. */
	cairn_store *s;
	if (cairn_store_open(&s, store_dir) != 0)
		die("open store");
	double lib[7], floor_scan[7];
	for (int k = 0; k < 7; k++) {
		char *out = NULL;
		double a = bench_now();
		if (cairn_run_metric_sample_json(&out, s, big, "loss", 1000) != 0)
			die("sample");
		lib[k] = (bench_now() - a) * 1000;
		cairn_free(out);
	}
	cairn_token_options to = CAIRN_TOKEN_OPTIONS_INIT;
	to.scope = CAIRN_SCOPE_WRITE;
	to.name = "bench";
	char *secret = NULL;
	if (cairn_token_create(&secret, NULL, s, &to) != 0)
		die("token create");
	snprintf(token, sizeof token, "%s", secret);
	cairn_free(secret);

	cairn_store_close(s);
	{
		sqlite3 *db;
		char path[4300];
		snprintf(path, sizeof path, "%s/cairn.db", store_dir);
		sqlite3_open(path, &db);
		sqlite3_stmt *st;
		sqlite3_prepare_v2(
		    db,
		    "SELECT step, ts, value FROM metric_points WHERE rid = (SELECT rid FROM"
		    " runs WHERE id = ?) AND kid = (SELECT id FROM keys WHERE name = 'loss')"
		    " ORDER BY step, ts",
		    -1, &st, NULL);
		for (int k = 0; k < 7; k++) {
			double a = bench_now(), sum = 0;
			sqlite3_bind_text(st, 1, big, -1, SQLITE_STATIC);
			while (sqlite3_step(st) == SQLITE_ROW)
				sum += sqlite3_column_double(st, 2) +
				       (double)sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			floor_scan[k] = (bench_now() - a) * 1000;
			if (sum == -1)
				printf("%g", sum);
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	report_floor("history 1M points to 1000 (library)", bench_median(lib, 7), "ms",
	             bench_median(floor_scan, 7), "bare SQLite scan", "<=", 50);

	int port;
	pid_t pid = hc_start_server(cairn, store_dir, &port);
	hc_conn c;
	hc_open(&c, port, token);
	enum { NREQ = 200 };
	double lat[NREQ], empty[NREQ];
	/* warm up */
	for (int i = 0; i < 5; i++) {
		hc_request(&c, "GET", "/api/v1/runs?limit=100", NULL);
		hc_request(&c, "GET", "/api/v1/", NULL);
	}
	for (int i = 0; i < NREQ; i++) {
		double a = bench_now();
		if (hc_request(&c, "GET", "/api/v1/", NULL) != 200)
			die("GET /api/v1/");
		empty[i] = (bench_now() - a) * 1000;
		a = bench_now();
		if (hc_request(&c, "GET", "/api/v1/runs?limit=100", NULL) != 200)
			die("GET /api/v1/runs");
		lat[i] = (bench_now() - a) * 1000;
	}
	double floor_ms = bench_median(empty, NREQ);
	report_floor("GET /api/v1/runs first page of 100 of 100k runs, p50",
	             bench_median(lat, NREQ), "ms", floor_ms, "GET /api/v1/ on the same connection",
	             "<=", 20);

	char path[256];
	double hist[9];
	snprintf(path, sizeof path, "/api/v1/runs/%s/metrics/loss?points=1000", big);
	for (int i = 0; i < 9; i++) {
		double a = bench_now();
		if (hc_request(&c, "GET", path, NULL) != 200)
			die("GET history");
		hist[i] = (bench_now() - a) * 1000;
	}
	report_floor("history 1M points to 1000 over HTTP", bench_median(hist, 9), "ms",
	             bench_median(floor_scan, 7), "bare SQLite scan", "<=", 50);

	/* Ingest: 1,000 points per request into a fresh run. */
	if (hc_request(&c, "POST", "/api/v1/runs", "{\"project\":\"ingest\"}") != 201)
		die("create run");
	char *idp = strstr(c.buf, "\"id\":\"");
	char rid[33];
	snprintf(rid, sizeof rid, "%.32s", idp + 6);
	size_t cap = 64 << 10;
	char *body = malloc(cap);
	enum { NBATCH = 300, PER = 1000 };
	char mpath[256];
	snprintf(mpath, sizeof mpath, "/api/v1/runs/%s/metrics", rid);
	double ingest_t = 0, empty_t = 0;
	for (int b = 0; b < NBATCH; b++) {
		size_t n = (size_t)snprintf(body, cap, "{\"metrics\":[");
		for (int i = 0; i < PER; i++)
			n += (size_t)snprintf(body + n, cap - n,
			                      "%s{\"key\":\"%s\",\"value\":%.6f,\"step\":%d}",
			                      i ? "," : "", i % 2 ? "loss" : "acc",
			                      1.0 / (b * PER + i + 1), b * (PER / 2) + i / 2);
		snprintf(body + n, cap - n, "]}");
		double a = bench_now();
		if (hc_request(&c, "POST", mpath, body) != 200)
			die("POST metrics");
		ingest_t += bench_now() - a;
		a = bench_now();
		hc_request(&c, "GET", "/api/v1/", NULL);
		empty_t += bench_now() - a;
	}
	double a = bench_now();
	snprintf(path, sizeof path, "/api/v1/runs/%s/metrics/loss?points=2", rid);
	hc_request(&c, "GET", path, NULL); /* reads flush the writer */
	double drain = bench_now() - a;
	double rate = (double)NBATCH * PER / ingest_t;
	double floor_rate = (double)NBATCH * PER / empty_t;
	report_floor("HTTP ingest, 1000 points per request, keep-alive", rate, "points/s",
	             floor_rate, "empty requests at 1000 points each", ">=", 2000000);
	double committed = (double)NBATCH * PER / (ingest_t + drain);
	free(body);
	hc_close(&c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* The committed figure's floor: the same points through the library's
	 * writer into the same store, in this process (the server is gone). */
	if (cairn_store_open(&s, store_dir) != 0)
		die("reopen the store");
	cairn_run_options lo = CAIRN_RUN_OPTIONS_INIT;
	lo.project = "ingest";
	cairn_run *lr = NULL;
	if (cairn_run_create(&lr, s, &lo) != 0)
		die("create the library's run");
	a = bench_now();
	for (int b = 0; b < NBATCH; b++)
		for (int i = 0; i < PER; i++)
			if (cairn_run_log_metric(lr, i % 2 ? "loss" : "acc",
			                         1.0 / (b * PER + i + 1), b * (PER / 2) + i / 2,
			                         0) != 0)
				die("log a point");
	if (cairn_run_flush(lr) != 0)
		die("flush");
	double lib_rate = (double)NBATCH * PER / (bench_now() - a);
	cairn_run_free(lr);
	cairn_store_close(s);
	report_floor("HTTP ingest committed, 1000 points per request", committed, "points/s",
	             lib_rate, "cairn_run_log_metric and flush in-process", ">=", 300000);
	char cmd[4400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
