#!/usr/bin/env bash
# bench/startup.sh — what starting the `cairn` process costs, beside the
# floors it is measured against in the same run:
#
#   cairn --version          vs  a C hello world compiled here with cc -O2
#   cairn ls (100-run store) vs  sqlite3 cairn.db 'select count(*) from runs'
#
# Target for both: at most 2x the floor.  Most of a short command's time is
# the dynamic linker mapping and relocating shared libraries, so the figure
# says how many the tool loads before main(); the heavy ones (libgit2,
# libmicrohttpd, libcrypto) are dlopen()ed by the code that uses them
# (docs/internals/build.md).
#
# Each figure is the median wall time of STARTUP_REPS (default 300) runs of
# the process, spawned by a small C driver compiled here (a shell loop would
# add its own fork to every sample).  The two commands of a pair alternate,
# so a noisy moment on the machine hits both alike.  The same figures for
# the .so-linked tool (cairn-so) are printed for information.
set -eu
cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-$PWD/build-rel/cairn}
[ -x "$CAIRN" ] || CAIRN=$PWD/build/cairn
REPS=${STARTUP_REPS:-300}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cat >"$T/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("hello, world"); return 0; }
EOF
# spawn REPS -- CMD_A... -- CMD_B...: runs A and B alternately REPS times
# each (stdout to /dev/null) and prints the two median wall times in ms.
cat >"$T/spawn.c" <<'EOF'
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double once(char **argv, posix_spawn_file_actions_t *fa) {
	pid_t pid; int st; double t0 = now();
	if (posix_spawn(&pid, argv[0], fa, NULL, argv, environ) != 0) { perror(argv[0]); exit(1); }
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "%s failed\n", argv[0]); exit(1); }
	return now() - t0;
}
int main(int argc, char **argv) {
	int n = atoi(argv[1]), i = 3;
	char **a = argv + 3;
	while (i < argc && strcmp(argv[i], "--") != 0) i++;
	argv[i] = NULL;
	char **b = argv + i + 1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	double *ta = malloc(n * sizeof *ta), *tb = malloc(n * sizeof *tb);
	for (int k = 0; k < 10; k++) { once(a, &fa); once(b, &fa); } /* warm the page cache */
	for (int k = 0; k < n; k++) { ta[k] = once(a, &fa); tb[k] = once(b, &fa); }
	qsort(ta, n, sizeof *ta, cmp);
	qsort(tb, n, sizeof *tb, cmp);
	printf("%.4f %.4f\n", ta[n / 2] * 1e3, tb[n / 2] * 1e3);
	return 0;
}
EOF
cc -O2 -o "$T/hello" "$T/hello.c"
cc -O2 -o "$T/spawn" "$T/spawn.c"

# A 100-run store: each run has a param, a metric and a tag, as a small
# project's store would.
export CAIRN_DIR=$T/store CAIRN_SAMPLE_INTERVAL=60
mkdir -p "$CAIRN_DIR"
(cd "$T" && for i in $(seq 1 100); do
	"$CAIRN" run --no-code -t bench --param lr=0.$i -- sh -c "echo loss=0.$i" >/dev/null
done)
SQLITE=$(command -v sqlite3)

report() { # NAME FIGURE FLOOR FLOOR_NAME
	awk -v name="$1" -v v="$2" -v f="$3" -v fn="$4" 'BEGIN {
		r = v / f
		printf "BENCH %s: %.3f ms | floor %.3f ms (%s) | ratio %.3f | target <= 2 | %s\n",
			name, v, f, fn, r, r <= 2 ? "PASS" : "MISS" }'
}
pair() { "$T/spawn" "$REPS" -- "$@"; }

for tool in "$CAIRN" "$(dirname "$CAIRN")/cairn-so"; do
	[ -x "$tool" ] || continue
	tag=$(basename "$tool")
	echo "$tag: $(ldd "$tool" | wc -l) shared objects at start-up"
	read -r floor fig < <(pair "$T/hello" -- "$tool" --version)
	report "$tag --version" "$fig" "$floor" "hello world"
	read -r floor fig < <(pair "$SQLITE" "$CAIRN_DIR/cairn.db" 'select count(*) from runs' \
		-- "$tool" ls)
	report "$tag ls (100 runs)" "$fig" "$floor" "sqlite3 count(*)"
done
