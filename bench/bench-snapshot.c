/*
 * bench/bench-snapshot.c — capturing the code of a dirty tree: a git
 * repository of 10,000 files with 100 of them modified, through
 * cairn_run_capture (code only), against `git status --porcelain` on the
 * same tree (the walk any snapshot has to do).  Median of 15 captures on a
 * commit already seen (the common case: many runs per commit); the first
 * capture, which stores the committed tree once, is printed beside it.
 * Target: under 200 ms.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cairn.h"

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "bench-snapshot: failed: %s\n", cmd);
		exit(1);
	}
}

static double capture(cairn_store *s, const char *repo)
{
	cairn_run *r = NULL;
	cairn_capture_options o = CAIRN_CAPTURE_OPTIONS_INIT;
	o.env = 0;
	o.cwd = repo;
	if (cairn_run_create(&r, s, NULL) != 0) {
		fprintf(stderr, "bench-snapshot: %s\n", cairn_error_last());
		exit(1);
	}
	double t0 = bench_now();
	if (cairn_run_capture(r, &o) != 0) {
		fprintf(stderr, "bench-snapshot: %s\n", cairn_error_last());
		exit(1);
	}
	double t = bench_now() - t0;
	cairn_run_free(r);
	return t;
}

int main(void)
{
	char tmpl[] = "/tmp/cairn-bench-snap.XXXXXX";
	char *dir = mkdtemp(tmpl);
	char cmd[8192], repo[4200];
	if (!dir) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(repo, sizeof repo, "%s/repo", dir);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	/* 10,000 files in 100 directories; commit; let the index settle (files
	 * written in the second of the index are re-read by any status) */
	snprintf(cmd, sizeof cmd,
	         "mkdir -p %s && cd %s && git init -q . && for d in $(seq 0 99); do mkdir -p d$d; "
	         "for f in $(seq 0 99); do printf 'def f_%%s():\\n    return %%s\\n' $d$f $f > "
	         "d$d/m$f.py; done; done && git add -A && git -c user.name=b -c user.email=b@b "
	         "commit -qm init && sleep 1.1 && git status --porcelain > /dev/null && "
	         "for d in $(seq 0 99); do echo '# changed' >> d$d/m7.py; done && sleep 1.1",
	         repo, repo);
	sh(cmd);
	char *store_dir = NULL;
	cairn_store *s = NULL;
	if (cairn_store_init(&store_dir, dir) != 0 || cairn_store_open(&s, store_dir) != 0) {
		fprintf(stderr, "bench-snapshot: %s\n", cairn_error_last());
		return 1;
	}
	double first = capture(s, repo);
	enum { N = 15 };
	double t[N], g[N];
	snprintf(cmd, sizeof cmd, "cd %s && git status --porcelain > /dev/null", repo);
	for (int i = 0; i < N; i++) {
		double t0 = bench_now();
		sh(cmd);
		g[i] = bench_now() - t0;
		t[i] = capture(s, repo);
	}
	double med = bench_median(t, N) * 1000, gmed = bench_median(g, N) * 1000;
	printf("# 10,000 files, 100 modified: first capture (stores the committed tree) %.0f ms\n",
	       first * 1000);
	printf("BENCH snapshot_dirty_10k: %.4g ms | floor %.4g ms (git status) | ratio %.3f | "
	       "target < 200 ms | %s\n",
	       med, gmed, med / gmed, med < 200 ? "PASS" : "MISS");
	cairn_store_close(s);
	cairn_free(store_dir);
	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	sh(cmd);
	return 0;
}
