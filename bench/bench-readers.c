/*
 * bench/bench-readers.c — concurrent readers of one `cairn server` while a
 * writer logs (issue 18): 8 clients each read pages of /api/v1/runs on a
 * 100,000-run store (the first page, a page sorted by a metric, a filtered
 * page, in turn) while one more client posts metric batches of 1,000 points
 * without a pause.
 *
 *   floor   one reader alone beside the same writer: its p95.
 *   figure  each of 8 readers at once: the p95 over all their requests.
 *           Target: at most 3x the floor.
 *
 * The readers hold a read token of their own (a team member browsing while
 * a training job logs), so their reads do not wait for the writer's
 * acknowledged points: read-your-writes is per token (server/pool.c).
 * Beside it, for information, the same with the writer's own token (each
 * read waits for the points acknowledged to it), and the same 8 readers on
 * a server with `--readers 0` (every request on the one store handle, as
 * before the read pool): what the pool buys (no target).  Both servers run with --threads 12, so
 * that requests never queue for a thread and the figures are about the store.
 *
 * Note that p95 under 8 readers is bounded below by the CPU: on a machine
 * with fewer than 8 cores the readers take turns for the cores, whatever
 * the server does.  The line says how many cores there were.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "gen-runs.h"
#include "http-client.h"

#define NRUNS    100000
#define NREADERS 8
#define PER_READ 40 /* requests per reader */

static const char *const pages[] = {
    "/api/v1/runs?limit=100",
    "/api/v1/runs?limit=100&sort=-metrics.valid_auc",
    "/api/v1/runs?limit=100&q=params.model%20%3D%20%22lgbm%22&sort=metrics.valid_loss",
};

static char token[CAIRN_TOKEN_LEN + 1];  /* the writer's (write scope) */
static char rtoken[CAIRN_TOKEN_LEN + 1]; /* the readers' (read scope) */
static const char *read_token = rtoken;
static int port;
static volatile int writing;
static char run_path[128];

typedef struct reader {
	pthread_t th;
	int id;
	double lat[PER_READ];
} reader;

static void *read_loop(void *arg)
{
	reader *r = arg;
	hc_conn c;
	hc_open(&c, port, read_token);
	for (int i = 0; i < PER_READ; i++) {
		const char *p = pages[(i + r->id) % 3];
		double a = bench_now();
		if (hc_request(&c, "GET", p, NULL) != 200)
			hc_die(p);
		r->lat[i] = (bench_now() - a) * 1000;
	}
	hc_close(&c);
	return NULL;
}

static void *write_loop(void *arg)
{
	(void)arg;
	hc_conn c;
	hc_open(&c, port, token);
	size_t cap = 64 << 10;
	char *body = malloc(cap);
	for (int b = 0; __atomic_load_n(&writing, __ATOMIC_ACQUIRE); b++) {
		size_t n = (size_t)snprintf(body, cap, "{\"metrics\":[");
		for (int i = 0; i < 1000; i++)
			n += (size_t)snprintf(body + n, cap - n,
			                      "%s{\"key\":\"loss\",\"value\":%.6f,\"step\":%d}",
			                      i ? "," : "", 1.0 / (b * 1000 + i + 1), b * 1000 + i);
		snprintf(body + n, cap - n, "]}");
		if (hc_request(&c, "POST", run_path, body) != 200)
			hc_die("POST metrics");
	}
	free(body);
	hc_close(&c);
	return NULL;
}

/* p95 of every request of n readers run at once beside the writer. */
static double readers_p95(int n)
{
	reader rs[NREADERS];
	pthread_t w;
	__atomic_store_n(&writing, 1, __ATOMIC_RELEASE);
	pthread_create(&w, NULL, write_loop, NULL);
	usleep(200 * 1000); /* the writer under way */
	for (int i = 0; i < n; i++) {
		rs[i].id = i;
		pthread_create(&rs[i].th, NULL, read_loop, &rs[i]);
	}
	double all[NREADERS * PER_READ];
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(rs[i].th, NULL);
		for (int j = 0; j < PER_READ; j++)
			all[k++] = rs[i].lat[j];
	}
	__atomic_store_n(&writing, 0, __ATOMIC_RELEASE);
	pthread_join(w, NULL);
	qsort(all, k, sizeof *all, bench_cmp_double);
	return all[(size_t)(0.95 * (double)(k - 1))];
}

static pid_t serve(const char *cairn, const char *store_dir, const char *readers)
{
	const char *extra[] = {"--threads", "12", readers ? "--readers" : NULL, readers, NULL};
	pid_t pid = hc_start_server_with(cairn, store_dir, &port, extra);
	/* warm the caches: each page once per reader connection's worth */
	hc_conn c;
	hc_open(&c, port, token);
	for (int i = 0; i < 3 * NREADERS; i++)
		hc_request(&c, "GET", pages[i % 3], NULL);
	if (hc_request(&c, "POST", "/api/v1/runs", "{\"project\":\"ingest\"}") != 201)
		hc_die("create run");
	char *idp = strstr(c.buf, "\"id\":\"");
	snprintf(run_path, sizeof run_path, "/api/v1/runs/%.32s/metrics", idp + 6);
	hc_close(&c);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *cairn = getenv("CAIRN") ? getenv("CAIRN") : "build-rel/cairn";
	char tmpl[] = "/tmp/cairn-bench-readers.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		hc_die("mkdtemp");
	char *store_dir = NULL;
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
	snprintf(token, sizeof token, "%s", secret);
	cairn_free(secret);
	to.scope = CAIRN_SCOPE_READ;
	to.name = "bench-reader";
	if (cairn_token_create(&secret, NULL, s, &to) != 0)
		hc_die("token create");
	snprintf(rtoken, sizeof rtoken, "%s", secret);
	cairn_free(secret);
	cairn_store_close(s);

	pid_t pid = serve(cairn, store_dir, NULL);
	double one = readers_p95(1);
	double eight = readers_p95(NREADERS);
	stop(pid);
	char name[160];
	snprintf(name, sizeof name,
	         "8 HTTP readers of /api/v1/runs pages beside a writer, p95 (%ld cores)",
	         sysconf(_SC_NPROCESSORS_ONLN));
	bench_report(name, eight, "ms", one, "ms (one reader beside the writer)", "<=", 3);

	/* the readers with the writer's token: each read waits for the points
	 * acknowledged to it (read-your-writes), up to two commits of the
	 * writer's buffer */
	read_token = token;
	pid = serve(cairn, store_dir, NULL);
	double one_same = readers_p95(1);
	double eight_same = readers_p95(NREADERS);
	stop(pid);
	read_token = rtoken;
	printf("BENCH 8 HTTP readers with the writer's own token (each waits for its points), p95: "
	       "%.4g ms | one reader %.4g ms | ratio %.3f | info\n",
	       eight_same, one_same, one_same > 0 ? eight_same / one_same : 0);

	pid = serve(cairn, store_dir, "0");
	double one0 = readers_p95(1);
	double eight0 = readers_p95(NREADERS);
	stop(pid);
	printf("BENCH 8 HTTP readers without the read pool (--readers 0), p95: %.4g ms | one "
	       "reader %.4g ms | ratio %.3f | with the pool %.4g ms | info\n",
	       eight0, one0, one0 > 0 ? eight0 / one0 : 0, eight);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	free(store_dir);
	return system(cmd) != 0;
}
