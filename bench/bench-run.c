/*
 * bench/bench-run.c — `cairn run` against running the command directly.
 *
 *   run_overhead   `cairn run -- true` in a clean git repository of 1,000
 *                  files, against `true` itself, spawned the same way
 *                  (median of 30 each, after warm-up runs).  Target: at most
 *                  30 ms more.
 *   passthrough    `cairn run -- cat FILE > /dev/null` against
 *                  `cat FILE | cat > /dev/null` for a file of lines (1 GiB,
 *                  or $BENCH_PASSTHROUGH_MB): throughput.
 *                  Target: at least 0.5x.  Median of 5, interleaved.
 *
 * $CAIRN names the binary (scripts/run-bench sets it to build-rel/cairn).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "bench-run: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Run argv with stdout to /dev/null (or to out_fd); seconds taken. */
static double timed(char *const argv[], int out_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	double t0 = bench_now();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		die(argv[0]);
	int st;
	waitpid(pid, &st, 0);
	double t = bench_now() - t0;
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench-run: %s failed\n", argv[0]);
		exit(1);
	}
	return t;
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "bench-run: failed: %s\n", cmd);
		exit(1);
	}
}

int main(void)
{
	const char *cairn = getenv("CAIRN");
	if (!cairn || !*cairn)
		cairn = "build-rel/cairn";
	char cairn_abs[4096];
	if (!realpath(cairn, cairn_abs))
		die(cairn);
	char tmpl[] = "/tmp/cairn-bench-run.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		die("mkdtemp");
	char cmd[8192], store[4200], repo[4200];
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(repo, sizeof repo, "%s/repo", dir);
	mkdir(store, 0777);
	setenv("CAIRN_DIR", store, 1);
	setenv("CAIRN_SAMPLE_INTERVAL", "60", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);

	/* --- overhead ---------------------------------------------------------------- */
	snprintf(
	    cmd, sizeof cmd,
	    "mkdir -p %s && cd %s && git init -q . && for d in 0 1 2 3 4 5 6 7 8 9; do mkdir -p "
	    "pkg$d; for f in $(seq 0 99); do echo \"x_$d_$f = $f\" > pkg$d/m$f.py; done; done && "
	    "git add -A && git -c user.name=b -c user.email=b@b commit -qm init && "
	    "sleep 1.1 && git status --porcelain >/dev/null",
	    repo, repo);
	sh(cmd);
	if (chdir(repo) != 0)
		die(repo);
	char *run_true[] = {cairn_abs, "run", "--", "true", NULL};
	char *plain_true[] = {"true", NULL};
	double first = timed(run_true, -1);
	for (int i = 0; i < 3; i++)
		timed(run_true, -1);
	enum { N = 30 };
	double a[N], b[N];
	for (int i = 0; i < N; i++) {
		b[i] = timed(plain_true, -1);
		a[i] = timed(run_true, -1);
	}
	double with = bench_median(a, N) * 1000, without = bench_median(b, N) * 1000;
	printf(
	    "# 1,000-file clean git repo: cairn run -- true %.1f ms, true %.2f ms (median of %d);"
	    " first run on the commit (stores the tree) %.1f ms\n",
	    with, without, N, first * 1000);
	double over = with - without;
	printf("BENCH run_overhead: %.4g ms over `true` | floor %.4g ms | target <= 30 ms | %s\n",
	       over, without, over <= 30 ? "PASS" : "MISS");
	fflush(stdout);

	/* --- pass-through ------------------------------------------------------------- */
	long mb = 1024;
	const char *e = getenv("BENCH_PASSTHROUGH_MB");
	if (e && atol(e) > 0)
		mb = atol(e);
	char file[4200];
	snprintf(file, sizeof file, "%s/lines.txt", dir);
	FILE *f = fopen(file, "w");
	if (!f)
		die(file);
	/* log-like lines; one in 10,000 carries a metric, as real output does */
	long long target = (long long)mb << 20, written = 0;
	char line[256];
	for (long long i = 0; written < target; i++) {
		int n =
		    i % 10000 == 0
		        ? snprintf(line, sizeof line, "step %lld loss=%.4f lr=0.001\n", i / 10000,
		                   1.0 / (double)(i + 1))
		        : snprintf(
		              line, sizeof line,
		              "INFO worker %lld processed batch %lld of shard %lld in %lld us\n",
		              i % 16, i, i % 1024, (i * 7919) % 100000);
		fwrite(line, 1, (size_t)n, f);
		written += n;
	}
	fclose(f);
	char pipe_cmd[8400];
	snprintf(pipe_cmd, sizeof pipe_cmd, "cat '%s' | cat > /dev/null", file);
	char *floor_argv[] = {"sh", "-c", pipe_cmd, NULL};
	char *run_cat[] = {cairn_abs, "run", "--no-code", "--", "cat", file, NULL};
	timed(floor_argv, -1); /* page cache */
	double fl[5], fi[5];
	for (int i = 0; i < 5; i++) {
		fl[i] = timed(floor_argv, -1);
		fi[i] = timed(run_cat, -1);
	}
	double mbs = (double)written / (1 << 20);
	double thr = mbs / bench_median(fi, 5), thr_floor = mbs / bench_median(fl, 5);
	printf("# %.0f MiB of lines (scale: BENCH_PASSTHROUGH_MB=%ld)\n", mbs, mb);
	bench_report("passthrough", thr, "MiB/s", thr_floor, "MiB/s (cat | cat)", ">=", 0.5);

	if (chdir("/") != 0)
		die("/");
	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	sh(cmd);
	return 0;
}
