/*
 * bench/bench-servers-pg.c — several servers on one PostgreSQL database
 * (issue 13): 8 clients log 100,000 points each through 2 `cairn server`
 * processes on one database (clients 0, 2, 4, 6 on the first, the others on
 * the second), POST /api/v1/runs/ID/metrics with 1,000 points per request
 * over keep-alive, the last request with sync=1.  The figure is the total
 * rate, from the first request to the last answer; then every point is
 * counted in the database (each run exactly 100,000, distinct steps).
 *
 * Beside it, in the same run on the same database: the floor, a raw binary
 * COPY of the same 800,000 rows into the same table (one COPY, one
 * transaction: what the database can take), and for scale the same 8
 * clients through one server.  The point tables are emptied (TRUNCATE) and
 * checkpointed before each.
 *
 * The cluster: $CAIRN_BENCH_PG_URI, else one started with scripts/pg-cluster
 * and stopped at the end.  The servers are $CAIRN (default build-rel/cairn).
 *
 *   bench-servers-pg [CLIENTS POINTS]     default 8 100000
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "http-client.h"
#include "pg-bench.h"

#define PER 1000 /* points per request */

static void die(const char *what)
{
	fprintf(stderr, "bench-servers-pg: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sql(PGconn *c, const char *q)
{
	if (pg_bench_sql(c, "bench-servers-pg", q) != 0)
		exit(1);
}

static long long sql_int(PGconn *c, const char *q)
{
	PGresult *r = pq.exec(c, q);
	long long n = pq.resultStatus(r) == PGRES_TUPLES_OK && pq.ntuples(r) == 1
	                  ? atoll(pq.getvalue(r, 0, 0))
	                  : -1;
	pq.clear(r);
	return n;
}

/* `cairn server --store URI` on a free loopback port: its pid, *port. */
static pid_t start_server(const char *cairn, const char *uri, int *port)
{
	int p[2];
	if (pipe(p) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(cairn, cairn, "server", "--store", uri, "--listen", "127.0.0.1:0",
		      "--no-auth", "--quiet", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char line[4096];
	size_t n = 0;
	while (n < sizeof line - 1) {
		ssize_t r = read(p[0], line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(p[0]);
	char *u = strstr(line, "http://127.0.0.1:");
	if (!u) {
		fprintf(stderr, "bench-servers-pg: cairn server said: %s\n", line);
		exit(1);
	}
	*port = atoi(u + 17);
	return pid;
}

/* A client: create run NAME through the server on port, then log npoints
 * (steps 0..npoints-1 of "loss") PER a request; exits 0 when every request
 * was answered 200. */
static void client(int port, const char *name, long npoints, int go)
{
	hc_conn c;
	hc_open(&c, port, ""); /* the servers run with --no-auth */
	char tok;
	if (read(go, &tok, 1) != 0) /* the start: the parent closes its end */
		_exit(1);
	char body[256];
	snprintf(body, sizeof body, "{\"project\":\"servers\",\"name\":\"%s\"}", name);
	if (hc_request(&c, "POST", "/api/v1/runs", body) != 201)
		_exit(2);
	char *idp = strstr(c.buf, "\"id\":\"");
	if (!idp)
		_exit(3);
	char rid[33];
	snprintf(rid, sizeof rid, "%.32s", idp + 6);
	char path[256];
	size_t cap = PER * 96 + 64;
	char *b = malloc(cap);
	for (long s0 = 0; s0 < npoints; s0 += PER) {
		size_t n = (size_t)snprintf(b, cap, "{\"metrics\":[");
		for (long s = s0; s < s0 + PER && s < npoints; s++)
			n += (size_t)snprintf(b + n, cap - n,
			                      "%s{\"key\":\"loss\",\"value\":%.6f,\"step\":%ld,"
			                      "\"timestamp\":%ld}",
			                      s > s0 ? "," : "", 1.0 / (double)(s + 1), s,
			                      1700000000L + s);
		snprintf(b + n, cap - n, "]}");
		snprintf(path, sizeof path, "/api/v1/runs/%s/metrics%s", rid,
		         s0 + PER >= npoints ? "?sync=1" : "");
		int st = hc_request(&c, "POST", path, b);
		if (st != 200) {
			fprintf(stderr, "bench-servers-pg: %s answered %d: %.300s\n", path, st,
			        c.buf);
			_exit(4);
		}
	}
	_exit(0);
}

/* nclients clients on the given servers (client i on ports[i % nports]);
 * the seconds from the start to the last answer, or -1 when one failed. */
static double clients(const int *ports, int nports, int nclients, long npoints, const char *tag)
{
	int go[2];
	if (pipe(go) != 0)
		die("pipe");
	pid_t *pids = calloc((size_t)nclients, sizeof *pids);
	for (int i = 0; i < nclients; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s-%d", tag, i);
		if ((pids[i] = fork()) == 0) {
			close(go[1]);
			client(ports[i % nports], name, npoints, go[0]);
		}
	}
	close(go[0]);
	usleep(200000); /* every client connected */
	double t0 = bench_now();
	close(go[1]);
	int bad = 0;
	for (int i = 0; i < nclients; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench-servers-pg: client %d failed (%d)\n", i,
			        WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			bad++;
		}
	}
	double dt = bench_now() - t0;
	free(pids);
	return bad ? -1 : dt;
}

/* Every client's run holds npoints distinct points; the number of runs
 * that do. */
static long long complete_runs(PGconn *c, const char *tag, long npoints)
{
	char q[1024];
	snprintf(q, sizeof q,
	         "SELECT count(*) FROM (SELECT r.rid FROM runs r JOIN metric_points m ON"
	         " m.rid = r.rid WHERE r.name LIKE '%s-%%' GROUP BY r.rid HAVING count(*) = %ld"
	         " AND count(DISTINCT m.step) = %ld) x",
	         tag, npoints, npoints);
	return sql_int(c, q);
}

/* The floor: the same rows in one binary COPY, one transaction.  Seconds. */
static double raw_copy(PGconn *c, int nclients, long npoints)
{
	char *chunk = malloc(1 << 20);
	double t0 = bench_now();
	sql(c, "BEGIN");
	PGresult *r = pq.exec(c, "COPY metric_points(rid, kid, step, ts, value) FROM STDIN"
	                         " (FORMAT binary)");
	if (pq.resultStatus(r) != PGRES_COPY_IN) {
		fprintf(stderr, "bench-servers-pg: COPY: %s\n", pq.errorMessage(c));
		exit(1);
	}
	pq.clear(r);
	memcpy(chunk, "PGCOPY\n\377\r\n\0", 11);
	memset(chunk + 11, 0, 8);
	size_t len = 19;
	for (int i = 0; i < nclients; i++)
		for (long s = 0; s < npoints; s++) {
			if (len > (1 << 20) - 128) {
				pq.putCopyData(c, chunk, (int)len);
				len = 0;
			}
			double v = 1.0 / (double)(s + 1);
			uint64_t bits;
			memcpy(&bits, &v, sizeof bits);
			const uint64_t f[5] = {(uint64_t)(1000000 + i), 1, (uint64_t)s,
			                       (uint64_t)(1700000000000LL + s * 1000), bits};
			put_be(chunk + len, 5, 2);
			for (int k = 0; k < 5; k++) {
				put_be(chunk + len + 2 + 12 * k, 8, 4);
				put_be(chunk + len + 6 + 12 * k, f[k], 8);
			}
			len += 62;
		}
	put_be(chunk + len, 0xffff, 2);
	pq.putCopyData(c, chunk, (int)len + 2);
	pq.putCopyEnd(c, NULL);
	while ((r = pq.getResult(c))) {
		if (pq.resultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "bench-servers-pg: COPY: %s\n", pq.errorMessage(c));
			exit(1);
		}
		pq.clear(r);
	}
	sql(c, "COMMIT");
	double dt = bench_now() - t0;
	free(chunk);
	return dt;
}

static void reset(PGconn *c)
{
	sql(c, "TRUNCATE metric_points, metric_summary, metric_tiles");
	sql(c, "CHECKPOINT");
}

int main(int argc, char **argv)
{
	int nclients = argc > 2 ? atoi(argv[1]) : 8;
	long npoints = argc > 2 ? atol(argv[2]) : 100000;
	if (nclients < 1 || nclients > 64 || npoints < 1)
		return 2;
	double total = (double)nclients * (double)npoints;
	if (pq_load() != 0) {
		printf("bench-servers-pg: skipped (%s)\n", cairn_error_last());
		return 0;
	}
	const char *cairn = getenv("CAIRN") ? getenv("CAIRN") : "build-rel/cairn";
	char *own = NULL;
	const char *base = getenv("CAIRN_BENCH_PG_URI");
	if (!base || !*base) {
		if (!(own = pg_cluster("start"))) {
			printf(
			    "bench-servers-pg: skipped (no PostgreSQL cluster: scripts/pg-cluster "
			    "start failed)\n");
			return 0;
		}
		base = own;
	}
	char args[4400], uri[4400], objects[] = "/tmp/cairn-bench-servers-pg.XXXXXX";
	snprintf(args, sizeof args, "createdb '%s' bench_servers_%d", base, (int)getpid());
	char *db = pg_cluster(args);
	if (!db || !mkdtemp(objects)) {
		fprintf(stderr, "bench-servers-pg: cannot create the database\n");
		return 1;
	}
	snprintf(uri, sizeof uri, "%s&objects=%s", db, objects);
	char *shown = NULL;
	if (cairn_store_init(&shown, uri) != 0) {
		fprintf(stderr, "bench-servers-pg: %s\n", cairn_error_last());
		return 1;
	}
	cairn_free(shown);
	PGconn *c = pq.connectdb(db);
	if (pq.status(c) != CONNECTION_OK) {
		fprintf(stderr, "bench-servers-pg: %s\n", pq.errorMessage(c));
		return 1;
	}
	int ports[2];
	pid_t srv[2];
	for (int i = 0; i < 2; i++)
		srv[i] = start_server(cairn, uri, &ports[i]);
	printf("servers on one PostgreSQL database: %d clients x %ld points, %d a request\n",
	       nclients, npoints, PER);

	reset(c);
	double floor_s = raw_copy(c, nclients, npoints);
	reset(c);
	double two_s = clients(ports, 2, nclients, npoints, "two");
	long long two_ok = complete_runs(c, "two", npoints);
	reset(c);
	double one_s = clients(ports, 1, nclients, npoints, "one");
	long long one_ok = complete_runs(c, "one", npoints);
	int rc = 0;
	if (two_s < 0 || one_s < 0 || two_ok != nclients || one_ok != nclients) {
		fprintf(
		    stderr,
		    "bench-servers-pg: runs with every point: two servers %lld, one %lld, of %d\n",
		    two_ok, one_ok, nclients);
		rc = 1;
	}
	printf("BENCH servers.pg %d clients x %ld points through 2 servers (total): %.4g pts/s | "
	       "floor %.4g rows/s (raw binary COPY of the same rows, same table) | ratio %.3f | "
	       "every point present: %s\n",
	       nclients, npoints, total / two_s, total / floor_s, floor_s / two_s,
	       two_ok == nclients ? "yes" : "NO");
	printf("BENCH servers.pg the same through 1 server (for scale): %.4g pts/s | 1 server / "
	       "2 servers %.3f | every point present: %s\n",
	       total / one_s, two_s / one_s, one_ok == nclients ? "yes" : "NO");
	fflush(stdout);

	for (int i = 0; i < 2; i++) {
		kill(srv[i], SIGTERM);
		waitpid(srv[i], NULL, 0);
	}
	pq.finish(c);
	snprintf(args, sizeof args, "rm -rf '%s'", objects);
	if (system(args) != 0)
		fprintf(stderr, "bench-servers-pg: cannot remove %s\n", objects);
	if (own) {
		snprintf(args, sizeof args, "scripts/pg-cluster stop '%s' >/dev/null", own);
		if (system(args) != 0)
			fprintf(stderr, "bench-servers-pg: cannot stop the cluster\n");
	}
	free(own);
	free(db);
	return rc;
}
