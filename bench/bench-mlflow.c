/*
 * bench/bench-mlflow.c — MLflow's tracking API on `cairn server`
 * (docs/mlflow.md, issue 15), each figure beside cairn's own endpoint doing
 * the same work in the same run, against the real server ($CAIRN, default
 * build-rel/cairn) on loopback with a write token on every request, over
 * one keep-alive connection:
 *
 *   log-batch   POST /api/2.0/mlflow/runs/log-batch, 1,000 metrics a
 *               request as MLflow's Python client sends them (4 keys × 250
 *               steps, millisecond timestamps, full-precision doubles), into
 *               one run, the request until its answer; log-batch commits
 *               before it answers, as MLflow's own server does.  Floor: the
 *               same points through cairn's POST /api/v1/runs/ID/metrics
 *               (bench-http's ingest endpoint) with sync=1, which commits
 *               before answering too.  Also printed: that endpoint without
 *               sync=1 (buffered, then drained by a read at the end).
 *               Target: at least 200,000 points/s.
 *   runs/search POST /api/2.0/mlflow/runs/search on 100,000 runs of one
 *               experiment (bench/gen-runs.h: 20 params, 10 metrics each),
 *               filter `metrics.valid_auc > 0.9 and params.model = 'lgbm'`
 *               (~4,000 matches), order_by `metrics.valid_auc DESC`,
 *               max_results 100, the first page; p50 (p90 in the name) of 30.  Floor:
 *               the same query and sort through GET /api/v1/runs?q=&sort=
 *               &limit=100, alternating with it.  Target: p50 at most 30 ms.
 *
 * The ingest phases alternate (MLflow's, cairn's synced, cairn's buffered;
 * three rounds, each into fresh runs) and each figure is the median round,
 * so all see the same machine.  Each
 * answer is checked (the page has 100 runs, sorted, with a page token; the
 * runs hold every point sent), so a fast wrong answer cannot pass.
 *
 *   bench-mlflow               both
 *   bench-mlflow search        only runs/search (to profile one path)
 *   bench-mlflow log-batch     only log-batch
 */
#include <signal.h>
#include <sys/wait.h>

#include "bench.h"
#include "gen-runs.h"
#include "http-client.h"

#define NRUNS   100000
#define NSEARCH 30
#define ROUNDS  3
#define NBATCH  100  /* requests per ingest phase */
#define PER     1000 /* metrics per request */
#define NKEYS   4

static const char *const keys[NKEYS] = {"train_loss", "train_acc", "lr", "grad_norm"};
static const double ts0 = 1767225600000.0; /* ms, 2026-01-01 */

/* The value of key k at step s: a smooth curve with the noise of training. */
static double point_value(int k, int64_t s)
{
	double noise = (double)(((uint64_t)s * 2654435761u + (uint64_t)k * 40503u) % 10007) / 1e5;
	switch (k) {
	case 0: return 2.3 / (1.0 + (double)s / 900.0) + noise;
	case 1: return 1.0 - 0.9 / (1.0 + (double)s / 700.0) - noise / 2;
	case 2: return 3e-4 * (1.0 - (double)s / 1e6);
	default: return 0.5 + noise * 10;
	}
}

/* Request b's 1,000 points (steps 250b .. 250b+249, each key), as MLflow's
 * log-batch body (mlflow: 1) or cairn's metrics body. */
static size_t batch_body(char *out, size_t cap, int b, bool mlflow, const char *run_id)
{
	size_t n = mlflow ? (size_t)snprintf(out, cap, "{\"run_id\":\"%s\",\"metrics\":[", run_id)
	                  : (size_t)snprintf(out, cap, "{\"metrics\":[");
	int per_key = PER / NKEYS;
	for (int i = 0; i < per_key; i++) {
		int64_t step = (int64_t)b * per_key + i;
		int64_t ts = (int64_t)ts0 + step * 137; /* ~7 steps a second */
		for (int k = 0; k < NKEYS; k++) {
			const char *sep = i || k ? "," : "";
			double v = point_value(k, step);
			if (mlflow)
				n += (size_t)snprintf(
				    out + n, cap - n,
				    "%s{\"key\":\"%s\",\"value\":%.17g,\"timestamp\":"
				    "%lld,\"step\":%lld}",
				    sep, keys[k], v, (long long)ts, (long long)step);
			else
				n += (size_t)snprintf(
				    out + n, cap - n,
				    "%s{\"key\":\"%s\",\"value\":%.17g,\"timestamp\":"
				    "%lld.%03lld,\"step\":%lld}",
				    sep, keys[k], v, (long long)(ts / 1000), (long long)(ts % 1000),
				    (long long)step);
		}
	}
	n += (size_t)snprintf(out + n, cap - n, mlflow ? "],\"params\":[],\"tags\":[]}" : "]}");
	if (n >= cap)
		hc_die("batch body too long");
	return n;
}

/* The 32-hex id after `"member":"` in c's answer. */
static void answer_id(const hc_conn *c, const char *member, char id[33])
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":\"", member);
	const char *p = strstr(c->buf, pat);
	if (!p || strlen(p + strlen(pat)) < 32) {
		fprintf(stderr, "bench-mlflow: no %s in %.300s\n", member, c->buf);
		exit(1);
	}
	snprintf(id, 33, "%.32s", p + strlen(pat));
}

/* The run's count of points of key, from cairn's run object. */
static long long points_of(hc_conn *c, const char *run_id, const char *key)
{
	char path[128], pat[64];
	snprintf(path, sizeof path, "/api/v1/runs/%s", run_id);
	hc_expect(c, "GET", path, NULL, 200);
	snprintf(pat, sizeof pat, "\"%s\":{", key);
	const char *m = strstr(c->buf, pat);
	const char *cnt = m ? strstr(m, "\"count\":") : NULL;
	return cnt ? atoll(cnt + 8) : -1;
}

static size_t count_of(const char *s, const char *pat)
{
	size_t n = 0;
	for (const char *p = strstr(s, pat); p; p = strstr(p + 1, pat))
		n++;
	return n;
}

/* The search page is what was asked: 100 runs, a page token, valid_auc
 * descending and above 0.9, model lgbm. */
static void check_mlflow_page(const char *body)
{
	size_t runs = count_of(body, "\"run_id\":");
	double last = 2;
	size_t sorted = 0;
	for (const char *p = strstr(body, "\"key\":\"valid_auc\",\"value\":"); p;
	     p = strstr(p + 1, "\"key\":\"valid_auc\",\"value\":")) {
		double v = atof(p + 27);
		if (v <= 0.9 || v > last)
			break;
		last = v;
		sorted++;
	}
	if (runs != 100 || sorted != 100 || !strstr(body, "\"next_page_token\":") ||
	    count_of(body, "{\"key\":\"model\",\"value\":\"lgbm\"}") != 100) {
		fprintf(stderr,
		        "bench-mlflow: runs/search answered %zu runs (%zu sorted): %.300s\n", runs,
		        sorted, body);
		exit(1);
	}
}

static void report(const char *name, double v, const char *unit, double floor,
                   const char *floor_what, const char *op, double target)
{
	int pass = strcmp(op, ">=") == 0 ? v >= target : v <= target;
	printf("BENCH %s: %.4g %s | floor %.4g %s (%s) | ratio %.3f | target %s %g %s | %s\n", name,
	       v, unit, floor, unit, floor_what, floor ? v / floor : 0, op, target, unit,
	       pass ? "PASS" : "MISS");
	fflush(stdout);
}

static double percentile(double *v, size_t n, double p)
{
	qsort(v, n, sizeof *v, bench_cmp_double);
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static void bench_search(hc_conn *c)
{
	const char *filter = "metrics.valid_auc > 0.9 and params.model = 'lgbm'";
	char body[512], q[256], path[1024];
	snprintf(body, sizeof body,
	         "{\"experiment_ids\":[\"1\"],\"filter\":\"%s\",\"run_view_type\":\"ACTIVE_ONLY\","
	         "\"max_results\":100,\"order_by\":[\"metrics.valid_auc DESC\"]}",
	         filter);
	hc_urlencode(q, sizeof q, "metrics.valid_auc > 0.9 and params.model = 'lgbm'");
	snprintf(path, sizeof path,
	         "/api/v1/runs?project=bench&q=%s&sort=-metrics.valid_auc&limit=100", q);
	double ml[NSEARCH], nat[NSEARCH];
	for (int i = 0; i < 3; i++) { /* warm the server's caches */
		hc_expect(c, "POST", "/api/2.0/mlflow/runs/search", body, 200);
		hc_expect(c, "GET", path, NULL, 200);
	}
	hc_expect(c, "POST", "/api/2.0/mlflow/runs/search", body, 200);
	check_mlflow_page(c->buf);
	size_t bytes = c->len;
	for (int i = 0; i < NSEARCH; i++) {
		double a = bench_now();
		hc_expect(c, "GET", path, NULL, 200);
		nat[i] = (bench_now() - a) * 1000;
		if (count_of(c->buf, "\"valid_auc\":{") != 100)
			hc_die("GET /api/v1/runs did not answer 100 runs");
		a = bench_now();
		hc_expect(c, "POST", "/api/2.0/mlflow/runs/search", body, 200);
		ml[i] = (bench_now() - a) * 1000;
	}
	double nat50 = percentile(nat, NSEARCH, 0.5), nat90 = percentile(nat, NSEARCH, 0.9);
	double ml50 = percentile(ml, NSEARCH, 0.5), ml90 = percentile(ml, NSEARCH, 0.9);
	fprintf(stderr, "bench-mlflow: runs/search answer %zu bytes\n", bytes);
	char name[160];
	snprintf(name, sizeof name,
	         "MLflow runs/search, filter + order_by, first 100 of 100k runs, p50 (p90 %.1f ms, "
	         "cairn's %.1f ms)",
	         ml90, nat90);
	report(name, ml50, "ms", nat50, "GET /api/v1/runs?q=&sort= the same query", "<=", 30);
}

/* The modes of an ingest phase. */
enum { VIA_MLFLOW, VIA_CAIRN_SYNC, VIA_CAIRN_BUFFERED };

/* One phase: NBATCH requests into run_id, the time of the requests (and,
 * for cairn's buffered endpoint, of the read that commits what they left
 * in the writer). */
static double ingest_phase(hc_conn *c, char *body, size_t cap, int via, const char *run_id)
{
	char path[128];
	if (via == VIA_MLFLOW)
		snprintf(path, sizeof path, "/api/2.0/mlflow/runs/log-batch");
	else
		snprintf(path, sizeof path, "/api/v1/runs/%s/metrics%s", run_id,
		         via == VIA_CAIRN_SYNC ? "?sync=1" : "");
	double t = 0;
	for (int b = 0; b < NBATCH; b++) {
		batch_body(body, cap, b, via == VIA_MLFLOW, run_id);
		double a = bench_now();
		hc_expect(c, "POST", path, body, 200);
		t += bench_now() - a;
	}
	if (via == VIA_CAIRN_BUFFERED) {
		snprintf(path, sizeof path, "/api/v1/runs/%s/metrics/%s?points=2", run_id, keys[0]);
		double a = bench_now();
		hc_expect(c, "GET", path, NULL, 200); /* reads flush the writer */
		t += bench_now() - a;
	}
	return t;
}

static void bench_ingest(hc_conn *c)
{
	hc_expect(c, "POST", "/api/2.0/mlflow/experiments/create", "{\"name\":\"ingest\"}", 200);
	char exp[32];
	const char *e = strstr(c->buf, "\"experiment_id\":\"");
	snprintf(exp, sizeof exp, "%.*s", e ? (int)strcspn(e + 17, "\"") : 0, e ? e + 17 : "");
	size_t cap = 256 << 10;
	char *body = malloc(cap);
	double rate[3][ROUNDS];
	char ids[3][ROUNDS][33];
	for (int r = 0; r < ROUNDS; r++) {
		char req[256];
		snprintf(
		    req, sizeof req,
		    "{\"experiment_id\":\"%s\",\"run_name\":\"mlflow-%d\",\"start_time\":%.0f}",
		    exp, r, ts0);
		hc_expect(c, "POST", "/api/2.0/mlflow/runs/create", req, 200);
		answer_id(c, "run_id", ids[VIA_MLFLOW][r]);
		for (int v = VIA_CAIRN_SYNC; v <= VIA_CAIRN_BUFFERED; v++) {
			hc_expect(c, "POST", "/api/v1/runs", "{\"project\":\"ingest\"}", 201);
			answer_id(c, "id", ids[v][r]);
		}
		for (int v = 0; v < 3; v++)
			rate[v][r] =
			    (double)NBATCH * PER / ingest_phase(c, body, cap, v, ids[v][r]);
		fprintf(
		    stderr,
		    "bench-mlflow: round %d: log-batch %.0f points/s; cairn's endpoint %.0f with "
		    "sync=1, %.0f buffered and drained\n",
		    r + 1, rate[VIA_MLFLOW][r], rate[VIA_CAIRN_SYNC][r],
		    rate[VIA_CAIRN_BUFFERED][r]);
	}
	free(body);
	long long want = (long long)NBATCH * PER / NKEYS;
	for (int v = 0; v < 3; v++)
		for (int r = 0; r < ROUNDS; r++)
			for (int k = 0; k < NKEYS; k++) {
				long long got = points_of(c, ids[v][r], keys[k]);
				if (got != want) {
					fprintf(stderr,
					        "bench-mlflow: run %s has %lld points of %s, not "
					        "%lld\n",
					        ids[v][r], got, keys[k], want);
					exit(1);
				}
			}
	report("MLflow log-batch, 1000 metrics per request, keep-alive, committed",
	       bench_median(rate[VIA_MLFLOW], ROUNDS), "points/s",
	       bench_median(rate[VIA_CAIRN_SYNC], ROUNDS), "POST /api/v1/runs/ID/metrics?sync=1",
	       ">=", 200000);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";
	if (argc > 2 || (*only && strcmp(only, "search") != 0 && strcmp(only, "log-batch") != 0)) {
		fprintf(stderr, "usage: bench-mlflow [search | log-batch]\n");
		return 2;
	}
	const char *cairn = getenv("CAIRN") ? getenv("CAIRN") : "build-rel/cairn";
	char tmpl[] = "/tmp/cairn-bench-mlflow.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		hc_die("mkdtemp");
	char *store_dir = NULL;
	double t0 = bench_now();
	if (cairn_store_init(&store_dir, dir) != 0 || gen_runs(store_dir, NRUNS) != 0)
		hc_die("cannot generate the store");
	cairn_store *s;
	if (cairn_store_open(&s, store_dir) != 0)
		hc_die("open the store");
	cairn_token_options to = CAIRN_TOKEN_OPTIONS_INIT;
	to.scope = CAIRN_SCOPE_WRITE;
	to.name = "bench";
	char *secret = NULL;
	if (cairn_token_create(&secret, NULL, s, &to) != 0)
		hc_die("token create");
	cairn_store_close(s);
	fprintf(stderr, "bench-mlflow: generated %d runs in %.1fs\n", NRUNS, bench_now() - t0);

	int port;
	pid_t pid = hc_start_server(cairn, store_dir, &port);
	hc_conn c;
	hc_open(&c, port, secret);
	cairn_free(secret);
	if (strcmp(only, "log-batch") != 0)
		bench_search(&c);
	if (strcmp(only, "search") != 0)
		bench_ingest(&c);
	hc_close(&c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	cairn_free(store_dir);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) != 0;
}
