#!/usr/bin/env bash
# tests/e2e/sweep.t — `cairn sweep`: bad input changes nothing, a grid finds
# the known optimum, a seeded random search repeats itself, -j 2 runs two
# trials at once, --gpus pins them, early stopping marks a trial pruned,
# Ctrl-C then --resume completes exactly the missing trials, --config-out,
# conditional parameters, TPE.
. "$(dirname "$0")/lib.sh"
plan 58

export CAIRN_SAMPLE_INTERVAL=60
"$CAIRN" init >/dev/null 2>&1
ids() { "$CAIRN" ls "$1" --format json | json '" ".join(sorted(r["id"] for r in j))'; }
sweep_id() { "$CAIRN" ls "name = '$1'" --format json | json 'j[0]["id"]'; }
trial_params() { # the params of a sweep's trials, by trial name
	"$CAIRN" ls "parent = $1" --format json |
		json '" ".join("%s:%s" % (r["name"].rsplit("-", 1)[1], ",".join("%s=%s" % (k, r["params"][k]) for k in sorted(r["params"]))) for r in sorted(j, key=lambda r: int(r["name"].rsplit("-", 1)[1])))'
}

# A deterministic objective: loss = (x - 0.3)^2 + (k - 2)^2, minimum at x=0.3 k=2.
cat > obj.sh <<'EOF'
#!/bin/sh
awk -v x="$1" -v k="$2" 'BEGIN { printf "loss=%.6f\n", (x - 0.3) ^ 2 + (k - 2) ^ 2 }'
EOF
chmod +x obj.sh
cat > grid.yaml <<'EOF'
method: grid
metric: {name: loss, goal: minimize}
parameters:
  x: {values: [0.1, 0.3, 0.5]}
  k: {min: 1, max: 3}
EOF

# --- bad input: one error line, nothing stored --------------------------------------
before=$(store_digest)
fails "no sweep file is a usage error" 2 "$CAIRN" sweep -- ./obj.sh
one_error_line "one error line"
fails "no command is a usage error" 2 "$CAIRN" sweep -c grid.yaml
fails "a bad -j is a usage error" 2 "$CAIRN" sweep -c grid.yaml -j 0 -- ./obj.sh {x} {k}
printf 'method: grid\nmetric: {name: loss}\nparameters:\n  x: {values: [1]}\nbudget: 3\n' > typo.yaml
fails "an unknown key in the sweep file fails" 1 "$CAIRN" sweep -c typo.yaml -- ./obj.sh {x} 1
like "naming the file, line and key" "$(err)" "^error: typo.yaml:5: unknown key 'budget'"
one_error_line "in one line"
printf 'method: random\nmetric: {name: loss}\ntrials: 2\nparameters:\n  x: {min: 1, max: abc}\n' > bad.yaml
fails "a bad range fails" 1 "$CAIRN" sweep -c bad.yaml -- ./obj.sh {x} 1
like "naming the key" "$(err)" "parameters.x.max: expected a number, got 'abc'"
fails "an unknown placeholder fails" 1 "$CAIRN" sweep -c grid.yaml -- ./obj.sh {x} {depth}
like "naming it" "$(err)" "unknown placeholder '\{depth\}'"
one_error_line "in one line"
fails "a command that does not exist fails" 1 "$CAIRN" sweep -c grid.yaml -- ./nope.sh {x} {k}
fails "{config} without --config-out fails" 1 "$CAIRN" sweep -c grid.yaml -- ./obj.sh {config}
fails "a --config-out of another kind is a usage error" 2 "$CAIRN" sweep -c grid.yaml --config-out c.txt -- ./obj.sh
fails "a missing sweep file fails" 1 "$CAIRN" sweep -c missing.yaml -- ./obj.sh
is "and nothing was stored" "$(store_digest)" "$before"

# --- grid: exhaustive, stable order, the optimum -------------------------------------------
ok "a grid sweep runs" "$CAIRN" sweep -c grid.yaml -n g -- ./obj.sh {x} {k}
like "it says the best" "$(out)" "best: trial 4 loss=0 +x=0.3 k=2"
like "with a line per trial" "$(out)" "\[8/9\] done +loss=1.04"
g=$(sweep_id g)
is "9 trials, children of the sweep" "$("$CAIRN" ls "parent = $g" --format json | json 'len(j)')" 9
is "in grid order" "$(trial_params "$g")" \
	"0:k=1,x=0.1 1:k=2,x=0.1 2:k=3,x=0.1 3:k=1,x=0.3 4:k=2,x=0.3 5:k=3,x=0.3 6:k=1,x=0.5 7:k=2,x=0.5 8:k=3,x=0.5"
is "ls --sort finds the optimum first" \
	"$("$CAIRN" ls "parent = $g" --sort metrics.loss --format json | json 'j[0]["name"]')" g-4
ok "cairn best works on the trials" "$CAIRN" best metrics.loss "parent = $g"
like "and names it" "$(out)" "g-4"
is "the sweep records its best" "$("$CAIRN" show "$g" --json | json 'j["properties"]["sweep.best_trial"]')" 4
is "the sweep is tagged and finished" "$("$CAIRN" show "$g" --json | json 'j["status"] + " " + ",".join(j["tags"])')" "finished sweep"
is "a trial's run has the params" "$("$CAIRN" show g-4 --json | json 'j["params"]["x"]')" 0.3

# --- random: seeded, repeatable ----------------------------------------------------------------
cat > rand.yaml <<'EOF'
method: random
metric: {name: loss}
trials: 4
seed: 11
parameters:
  x: {min: 0.0, max: 1.0}
  k: {min: 1, max: 3}
EOF
ok "a random sweep runs" "$CAIRN" sweep -q -c rand.yaml -n r1 -- ./obj.sh {x} {k}
ok "the same again" "$CAIRN" sweep -q -c rand.yaml -n r2 -- ./obj.sh {x} {k}
ok "another seed" "$CAIRN" sweep -q -c rand.yaml --seed 12 -n r3 -- ./obj.sh {x} {k}
p1=$(trial_params "$(sweep_id r1)")
is "the same seed gives the same trials" "$(trial_params "$(sweep_id r2)")" "$p1"
[ "$(trial_params "$(sweep_id r3)")" != "$p1" ]; is "another seed other trials" $? 0

# --- -j 2 and --gpus ----------------------------------------------------------------------------
cat > par.sh <<'EOF'
#!/bin/sh
touch "running.$2"; sleep 0.6
n=$(ls running.* | wc -l); echo "$n" >> concurrent.log
echo "gpu=${CUDA_VISIBLE_DEVICES:-none} loss=$1"
rm -f "running.$2"
EOF
chmod +x par.sh
ok "-j 2 runs" "$CAIRN" sweep -q -c rand.yaml -j 2 --gpus 3,5 -n par -- ./par.sh {x} {trial}
is "two trials ran at once" "$(sort -n concurrent.log | tail -1)" 2
is "each pinned to one of the GPUs" \
	"$("$CAIRN" ls "parent = $(sweep_id par)" --format json | json '" ".join(sorted(set(str(int(r["metrics"]["gpu"]["last"])) for r in j)))')" "3 5"

# --- early stopping ---------------------------------------------------------------------------------
cat > curve.sh <<'EOF'
#!/bin/sh
for s in 0 1 2 3 4 5; do echo "step=$s acc=$(awk -v q="$1" -v s="$s" 'BEGIN { print q * (s + 1) }')"; sleep 0.3; done
EOF
chmod +x curve.sh
cat > es.yaml <<'EOF'
method: grid
metric: {name: acc, goal: maximize}
early_terminate: {type: median, warmup_steps: 1, min_trials: 2}
parameters:
  q: {values: [0.5, 0.6, 0.1]}
EOF
ok "a sweep with early stopping runs" "$CAIRN" sweep -c es.yaml -n es -- ./curve.sh {q}
like "the weak trial is pruned" "$(out)" "\[2/3\] pruned"
is "its run's status is pruned" "$("$CAIRN" show es-2 --json | json 'j["status"]')" pruned
is "pruned is a query word" "$("$CAIRN" ls "parent = $(sweep_id es) and status = pruned" --format json | json 'len(j)')" 1
like "ls shows it" "$("$CAIRN" ls "parent = $(sweep_id es)")" "es-2 +pruned"

# --- Ctrl-C, then --resume ------------------------------------------------------------------------------
cat > slow.sh <<'EOF'
#!/bin/sh
echo "$1" >> started.log
sleep 0.8
echo "loss=$1"
EOF
chmod +x slow.sh
cat > six.yaml <<'EOF'
method: grid
metric: {name: loss}
parameters:
  x: {values: [1, 2, 3, 4, 5, 6]}
EOF
"$CAIRN" sweep -q -c six.yaml -n stop -- ./slow.sh {x} >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ "$(cat started.log 2>/dev/null | grep -c '')" -ge 2 ] && break; sleep 0.1; done
kill -INT $pid
wait $pid
is "an interrupted sweep exits 130" $? 130
s=$(sweep_id stop)
is "the sweep ended killed" "$("$CAIRN" show "$s" --json | json 'j["status"]')" killed
done_before=$("$CAIRN" ls "parent = $s and status = finished" --format json | json 'len(j)')
ok "--resume completes it" "$CAIRN" sweep --resume "$s"
is "every trial finished exactly once" \
	"$("$CAIRN" ls "parent = $s and status = finished" --format json | json '" ".join(sorted(r["name"] for r in j))')" \
	"stop-0 stop-1 stop-2 stop-3 stop-4 stop-5"
is "only the missing trials ran again" "$(grep -c '' started.log)" $((6 + 1))
[ "$done_before" -ge 1 ] && [ "$done_before" -lt 6 ]; is "some had finished before the interrupt" $? 0
is "the resumed sweep finished" "$("$CAIRN" show "$s" --json | json 'j["status"]')" finished
fails "resuming a run that is no sweep fails" 1 "$CAIRN" sweep --resume g-4
like "saying so" "$(err)" "is not a sweep"

# --- --config-out and conditional parameters -----------------------------------------------------
cat > cond.yaml <<'EOF'
method: grid
metric: {name: loss}
parameters:
  opt: {values: [adam, sgd]}
  momentum: {values: [0.5, 0.9], when: {opt: sgd}}
EOF
cat > cfg.sh <<'EOF'
#!/bin/sh
echo "args: $*" >&2
grep -q 'opt' "$1" && echo "loss=$(grep -c '' "$1")"
EOF
chmod +x cfg.sh
ok "--config-out writes each trial's values" "$CAIRN" sweep -q -c cond.yaml --config-out 'cfg-{trial}.yaml' -n cfg -- ./cfg.sh {config}
is "three trials (momentum only with sgd)" "$(trial_params "$(sweep_id cfg)")" "0:opt=adam 1:momentum=0.5,opt=sgd 2:momentum=0.9,opt=sgd"
is "the file holds the values" "$(cat cfg-2.yaml)" "$(printf '"opt": "sgd"\n"momentum": 0.9')"
cat > arg.sh <<'EOF'
#!/bin/sh
echo "loss=$#"
EOF
chmod +x arg.sh
ok "an inactive parameter's option is left out" "$CAIRN" sweep -q -c cond.yaml -n argc -- ./arg.sh --opt {opt} --momentum {momentum}
is "2 arguments without momentum, 4 with" \
	"$("$CAIRN" ls "parent = $(sweep_id argc)" --format json | json '" ".join(str(int(r["metrics"]["loss"]["last"])) for r in sorted(j, key=lambda r: r["name"]))')" "2 4 4"

# --- TPE ----------------------------------------------------------------------------------------------------
sed 's/method: random/method: tpe/; s/trials: 4/trials: 14\ntpe: {startup_trials: 4}/' rand.yaml > tpe.yaml
ok "a tpe sweep runs" "$CAIRN" sweep -q -c tpe.yaml -n t1 -- ./obj.sh {x} {k}
ok "the same again" "$CAIRN" sweep -q -c tpe.yaml -n t2 -- ./obj.sh {x} {k}
is "TPE is reproducible with the same seed" "$(trial_params "$(sweep_id t2)")" "$(trial_params "$(sweep_id t1)")"
