/*
 * bench/bench-shim.c — what the LD_PRELOAD shim of `cairn run`
 * (src/shim/shim.c) adds to a program's opens, against the same loop with no
 * shim, measured in the same run (issue 17):
 *
 *   shim_open_close  open(O_RDONLY) + close of one existing file, ns per
 *                    pair, with the shim reporting to a live socket, beside
 *                    the same loop without it; target: at most 1000 ns added
 *   shim_open_new    the same over 2,000 distinct files, each opened once
 *                    (every open is reported: the cost of a new path)
 *
 * The loops run in children of this program (it re-executes itself with
 * "--loop"), the shimmed one with LD_PRELOAD and CAIRN_SHIM_SOCK naming a
 * socket this process binds and drains, as `cairn run` does.  Each figure
 * is the median of 5 repetitions.  The shim is libcairn-shim.so beside the
 * bench's folder (build-rel/), or $CAIRN_SHIM.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define LOOPS   1000000
#define NFILES  2000
#define REPEATS 5

static char dir[PATH_MAX];

/* --- the loops (in the child) ------------------------------------------------------------------
 */

static int loop_main(const char *what, const char *d)
{
	char p[PATH_MAX + 32];
	double t0, t1;
	if (strcmp(what, "same") == 0) {
		snprintf(p, sizeof p, "%s/f0", d);
		for (int i = 0; i < 1000; i++) /* warm: the first open is reported */
			close(open(p, O_RDONLY));
		t0 = bench_now();
		for (int i = 0; i < LOOPS; i++) {
			int fd = open(p, O_RDONLY);
			if (fd < 0)
				return 1;
			close(fd);
		}
		t1 = bench_now();
		printf("%.3f\n", (t1 - t0) / LOOPS * 1e9);
	} else {
		static char names[NFILES][PATH_MAX + 32];
		for (int i = 0; i < NFILES; i++)
			snprintf(names[i], sizeof names[i], "%s/f%d", d, i);
		t0 = bench_now();
		for (int i = 0; i < NFILES; i++) {
			int fd = open(names[i], O_RDONLY);
			if (fd < 0)
				return 1;
			close(fd);
		}
		t1 = bench_now();
		printf("%.3f\n", (t1 - t0) / NFILES * 1e9);
	}
	return 0;
}

/* --- the parent ------------------------------------------------------------------------------ */

static int sock = -1;
static volatile int stop;

static void *drain(void *arg)
{
	char m[8192];
	(void)arg;
	while (!stop)
		if (recv(sock, m, sizeof m, 0) < 0 && errno != EAGAIN && errno != EINTR)
			break;
	return NULL;
}

static double run_loop(const char *self, const char *what, const char *shim, const char *name)
{
	int p[2];
	if (pipe(p) != 0)
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		if (shim) {
			setenv("LD_PRELOAD", shim, 1);
			setenv("CAIRN_SHIM_SOCK", name, 1);
		} else {
			unsetenv("LD_PRELOAD");
		}
		execl(self, self, "--loop", what, dir, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char b[64] = "";
	ssize_t n = read(p[0], b, sizeof b - 1);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench-shim: the loop failed\n");
		exit(1);
	}
	b[n] = '\0';
	return atof(b);
}

static void cleanup(void)
{
	char p[PATH_MAX + 32];
	for (int i = 0; i < NFILES; i++) {
		snprintf(p, sizeof p, "%s/f%d", dir, i);
		unlink(p);
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--loop") == 0)
		return loop_main(argv[2], argv[3]);
	char self[PATH_MAX], shim[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	if (getenv("CAIRN_SHIM")) {
		snprintf(shim, sizeof shim, "%s", getenv("CAIRN_SHIM"));
	} else {
		char d[PATH_MAX];
		snprintf(d, sizeof d, "%s", self);
		*strrchr(d, '/') = '\0';
		snprintf(shim, sizeof shim, "%s/../libcairn-shim.so", d);
	}
	if (access(shim, R_OK) != 0) {
		fprintf(stderr, "bench-shim: no shim at %s\n", shim);
		return 1;
	}
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof dir, "%s/bench-shim.XXXXXX", tmp);
	if (!mkdtemp(dir))
		return 1;
	atexit(cleanup);
	for (int i = 0; i < NFILES; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof p, "%s/f%d", dir, i);
		int fd = open(p, O_WRONLY | O_CREAT, 0644);
		if (fd < 0 || write(fd, "x", 1) != 1)
			return 1;
		close(fd);
	}
	char name[64];
	snprintf(name, sizeof name, "cairn-bench-%d", (int)getpid());
	sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path + 1, name, strlen(name));
	struct timeval tv = {0, 100000};
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (bind(sock, (struct sockaddr *)&a,
	         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) != 0)
		return 1;
	pthread_t th;
	pthread_create(&th, NULL, drain, NULL);

	const char *kinds[] = {"same", "new"};
	const char *names[] = {"shim_open_close", "shim_open_new"};
	for (int k = 0; k < 2; k++) {
		double with[REPEATS], without[REPEATS];
		for (int r = 0; r < REPEATS; r++) {
			without[r] = run_loop(self, kinds[k], NULL, name);
			with[r] = run_loop(self, kinds[k], shim, name);
		}
		double w = bench_median(with, REPEATS), wo = bench_median(without, REPEATS);
		double added = w - wo;
		int pass = k == 1 || added <= 1000;
		printf("BENCH %s: %.4g ns | floor %.4g ns (no shim) | ratio %.3f | target added "
		       "<= 1000 ns (added %.4g ns) | %s\n",
		       names[k], w, wo, wo > 0 ? w / wo : 0, added,
		       k == 1 ? "INFO"
		       : pass ? "PASS"
		              : "MISS");
		fflush(stdout);
	}
	stop = 1;
	pthread_join(th, NULL);
	close(sock);
	return 0;
}
