#!/usr/bin/env bash
# bench/sweep.sh — cairn sweep's bookkeeping per trial (claim, template,
# spawn, reading the result back), beside its floor in the same run: the
# same command under plain `cairn run`, once per trial.  Target: at most
# 10 ms per trial over the floor.  Then the search quality against Optuna
# (bench/sweep-quality.py) when python3-optuna is installed.
set -eu
cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-$PWD/build-rel/cairn}
[ -x "$CAIRN" ] || CAIRN=$PWD/build/cairn
N=${SWEEP_BENCH_TRIALS:-30}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CAIRN_DIR=$T/store CAIRN_SAMPLE_INTERVAL=60
mkdir -p "$CAIRN_DIR"
cd "$T"
printf 'method: random\nmetric: {name: loss}\ntrials: %d\nparameters:\n  x: {min: 0.0, max: 1.0}\n' "$N" > s.yaml
now() { date +%s.%N; }
"$CAIRN" run -- sh -c 'echo loss=1' >/dev/null # warm the store
t0=$(now)
for _ in $(seq 1 "$N"); do "$CAIRN" run --no-code -- sh -c 'echo loss=1' >/dev/null; done
t1=$(now)
"$CAIRN" sweep -q -c s.yaml -- sh -c 'echo loss=1' >/dev/null
t2=$(now)
# the sweep's trials capture the code too (a trial is a full cairn run): the
# floor above skips it only because there is no repository here (no-op)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$N" 'BEGIN {
	run = (b - a) / n * 1000; sw = (c - b) / n * 1000; over = sw - run
	printf "cairn run -- sh: %.2f ms per run; cairn sweep: %.2f ms per trial\n", run, sw
	printf "BENCH sweep overhead per trial: %.2f ms | floor %.2f ms (cairn run) | ratio %.3f | target <= 10 ms over | %s\n",
		over, run, sw / run, over <= 10 ? "PASS" : "MISS"
}'
cd - >/dev/null
if /usr/bin/python3 -c 'import optuna' 2>/dev/null; then
	CAIRN_LIB=${CAIRN_LIB:-$(dirname "$CAIRN")/libcairn.so} /usr/bin/python3 bench/sweep-quality.py
else
	echo "sweep quality: skipped (python3-optuna is not installed)"
fi
