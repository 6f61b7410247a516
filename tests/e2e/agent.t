#!/usr/bin/env bash
# tests/e2e/agent.t — `cairn agent SWEEP` (issue 16, "many machines"): a
# real `cairn server` on loopback over the test's store (SQLite, or
# PostgreSQL with CAIRN_TEST_PG=1), with tokens, and agents that name it
# with --store URL.
#   - cairn sweep over a server store works, and gives the trials it gives
#     against the store itself (same seed);
#   - two agents on one server store never run the same trial and together
#     complete exactly the budget; the last one finishes the sweep;
#   - the creating `cairn sweep` and an agent drive one TPE sweep at once;
#   - an agent on a finished sweep exits 0 and changes nothing; a bad
#     SWEEP, a run that is no sweep, a bad flag: one error, its exit code;
#   - a read-scope token cannot claim (HTTP 403), and nothing is claimed;
#   - a claim is never spooled: with the server down `cairn sweep` fails
#     at its first claim saying so; the sweep it spooled, once synced, is
#     run by an agent;
#   - agents on the store itself (no server) share a sweep the same way;
#   - an interrupted agent exits 130 and re-queues its trials, which
#     another agent runs.
. "$(dirname "$0")/lib.sh"
plan 60

export CAIRN_SAMPLE_INTERVAL=60
. "$ROOT/tests/e2e/server-lib.sh"
# started TRIAL numbers in an agent's output, sorted, one line
started() { sed -n 's/^\[\([0-9]*\)\/[0-9]*\] start .*/\1/p' "$1" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
trial_params() { # the params of a sweep's trials, by trial number
	"$CAIRN" ls "parent = $1" --format json |
		json '" ".join("%s:%s" % (r["name"].rsplit("-", 1)[1], ",".join("%s=%s" % (k, r["params"][k]) for k in sorted(r["params"]))) for r in sorted(j, key=lambda r: int(r["name"].rsplit("-", 1)[1])))'
}
# trial_states SWEEP: "state:count ..." of the sweep's trial queue in the server's store
trial_states() {
	CAIRN_DIR=$SRV_STORE store_sql "SELECT t.state, count(*) FROM sweep_trials t JOIN runs r ON r.rid = t.sweep_rid WHERE r.id = '$1' GROUP BY t.state ORDER BY t.state" | tr '\n' ' ' | sed 's/ $//'
}

"$CAIRN" --store "$SRV_STORE" init >/dev/null 2>&1 || local_cairn ls >/dev/null
TOK=$(local_cairn token create --scope write --name agent-t 2>>"$T/server.log")
READ_TOK=$(local_cairn token create --scope read --name agent-read 2>>"$T/server.log")
export CAIRN_TOKEN=$TOK
ok "the server starts on the store" start_server
export CAIRN_DIR=$U

# A deterministic objective that takes a moment, so that agents overlap.
cat >obj.sh <<'EOF'
#!/bin/sh
sleep "${SLEEP:-0}"
awk -v x="$1" -v k="$2" 'BEGIN { printf "loss=%.6f\n", (x - 0.3) ^ 2 + (k - 2) ^ 2 }'
EOF
chmod +x obj.sh
cat >rand.yaml <<'EOF'
method: random
metric: {name: loss, goal: minimize}
trials: 8
seed: 5
parameters:
  x: {min: 0.0, max: 1.0}
  k: {min: 1, max: 3}
EOF

# --- cairn sweep over a server store -------------------------------------------------------
ok "cairn sweep runs against the server" "$CAIRN" sweep -c rand.yaml -n viaserver -- ./obj.sh {x} {k}
like "to the end" "$(out)" "best: trial [0-9]+ loss="
S1=$("$CAIRN" ls "name = viaserver" --format json | json 'j[0]["id"]')
local_cairn sweep -c rand.yaml -n local -- ./obj.sh {x} {k} >/dev/null 2>&1
S2=$(local_cairn ls "name = local" --format json | json 'j[0]["id"]')
is "its trials are those the same sweep gets on the store itself" "$(trial_params "$S1")" "$(trial_params "$S2")"
is "every trial done, in the server's queue" "$(trial_states "$S1")" "2|8"

# --- bad input -----------------------------------------------------------------------------------
fails "cairn agent without a sweep is a usage error" 2 "$CAIRN" agent
one_error_line "one error line"
fails "a bad -j is a usage error" 2 "$CAIRN" agent "$S1" -j 0
fails "a bad --gpus is a usage error" 2 "$CAIRN" agent "$S1" --gpus a,b
fails "a bad SWEEP fails" 1 "$CAIRN" agent nosuchsweep
like "naming it" "$(err)" "^error: cannot open the sweep: .*'nosuchsweep'"
one_error_line "in one line"
ok "a run that is no sweep" "$CAIRN" start -n plain
fails "is refused" 1 "$CAIRN" agent plain
like "saying so" "$(err)" "is not a sweep"

# --- two agents on one server store ------------------------------------------------------------------
ok "cairn sweep --create-only records the sweep" "$CAIRN" sweep -q --create-only -c rand.yaml -n shared -- ./obj.sh {x} {k}
SW=$(out)
like "and prints its id with -q" "$SW" '^[0-9a-f]{32}$'
is "no trial yet" "$("$CAIRN" ls "parent = $SW" --format json | json 'len(j)')" 0
SLEEP=0.3 "$CAIRN" agent "$SW" >a1.out 2>a1.err &
A1=$!
SLEEP=0.3 "$CAIRN" agent "$SW" -j 2 >a2.out 2>a2.err
R2=$?
wait $A1
R1=$?
is "both agents exit 0" "$R1 $R2" "0 0"
like "one agent ran trials" "$(started a1.out)" '^[0-9]'
like "and so did the other" "$(started a2.out)" '^[0-9]'
is "no trial ran twice, and together they ran exactly the budget" \
	"$( (started a1.out; echo; started a2.out) | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')" "0 1 2 3 4 5 6 7 "
is "8 trial runs, one per trial, children of the sweep" \
	"$("$CAIRN" ls "parent = $SW" --format json | json '" ".join(sorted(r["name"] for r in j))')" \
	"shared-0 shared-1 shared-2 shared-3 shared-4 shared-5 shared-6 shared-7"
is "every trial done" "$(trial_states "$SW")" "2|8"
is "the trials are the ones cairn sweep itself makes" "$(trial_params "$SW" | sed 's/[0-9]*://g')" "$(trial_params "$S1" | sed 's/[0-9]*://g')"
is "the sweep is finished, its best recorded" \
	"$("$CAIRN" show "$SW" --json | json 'j["status"] + " " + j["properties"]["sweep.best_trial"]')" \
	"finished $("$CAIRN" show "$S1" --json | json 'j["properties"]["sweep.best_trial"]')"

# --- an agent on a finished sweep ------------------------------------------------------------------
sweep_state() { "$CAIRN" show "$1" --json; trial_states "$1"; "$CAIRN" ls "parent = $1" --format json; }
before=$(sweep_state "$SW")
ok "an agent on a finished sweep exits 0" "$CAIRN" agent "$SW"
like "saying nothing is left" "$(out)" "nothing left to claim"
is "and changes nothing" "$(sweep_state "$SW")" "$before"

# --- the creator and an agent at once, TPE ---------------------------------------------------------
cat >tpe.yaml <<'EOF'
method: tpe
metric: {name: loss, goal: minimize}
trials: 10
seed: 2
tpe: {startup_trials: 3}
parameters:
  x: {min: 0.0, max: 1.0}
  k: {min: 1, max: 3}
EOF
SLEEP=0.3 "$CAIRN" sweep -c tpe.yaml -n both -- ./obj.sh {x} {k} >c.out 2>c.err &
C1=$!
for _ in $(seq 1 50); do grep -q start c.out 2>/dev/null && break; sleep 0.1; done
BOTH=$("$CAIRN" ls "name = both" --format json | json 'j[0]["id"]')
SLEEP=0.3 "$CAIRN" agent "$BOTH" >a3.out 2>a3.err
R3=$?
wait $C1
RC=$?
is "the creator and the agent both exit 0" "$RC $R3" "0 0"
like "the agent ran trials of it" "$(started a3.out)" '^[0-9]'
is "no trial ran twice, together exactly the budget" \
	"$( (started c.out; echo; started a3.out) | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 "
is "10 trials done" "$(trial_states "$BOTH")" "2|10"
is "the sweep ends finished" "$("$CAIRN" show "$BOTH" --json | json 'j["status"]')" finished

# --- scopes: a read token cannot claim --------------------------------------------------------------
ok "a new sweep to claim from" "$CAIRN" sweep -q --create-only -c rand.yaml -n scoped -- ./obj.sh {x} {k}
SC=$(out)
fails "an agent with a read-scope token fails" 1 env CAIRN_TOKEN="$READ_TOK" "$CAIRN" agent "$SC"
like "the server forbids the claim (HTTP 403)" "$(err)" "^error: cannot hand out the next trial: .*HTTP 403"
one_error_line "in one line"
is "nothing was claimed" "$(trial_states "$SC")" ""
is "and the sweep was not touched" "$("$CAIRN" show "$SC" --json | json 'j["status"]')" finished

# --- a claim is never spooled ------------------------------------------------------------------------
stop_server
fails "cairn sweep with the server down fails at its first claim" 1 "$CAIRN" sweep -c rand.yaml -n offline -- ./obj.sh {x} {k}
like "saying a claim needs the server" "$(err)" "^error: cannot hand out the next trial: cannot reach the server at $U: trial_claim needs the server \(it is never kept in the offline spool\)"
ok "the server is back" start_server
ok "cairn sync sends the sweep the spool kept" "$CAIRN" sync
is "the sweep is there, with no trial claimed" "$("$CAIRN" show offline --json | json 'j["status"]') $(trial_states "$("$CAIRN" ls "name = offline" --format json | json 'j[0]["id"]')")" "killed "
ok "an agent then runs it" "$CAIRN" agent offline -q
is "to the end" "$("$CAIRN" ls "parent = $("$CAIRN" ls "name = offline" --format json | json 'j[0]["id"]')" --format json | json 'len(j)') $("$CAIRN" show offline --json | json 'j["status"]')" "8 finished"

# --- agents on the store itself (no server) ----------------------------------------------------------
export CAIRN_DIR=$SRV_STORE
ok "a sweep created on the store itself" "$CAIRN" sweep -q --create-only -c rand.yaml -n direct -- ./obj.sh {x} {k}
DI=$(out)
SLEEP=0.3 "$CAIRN" agent "$DI" -q >d1.out 2>d1.err &
D1=$!
SLEEP=0.3 "$CAIRN" agent "$DI" >d2.out 2>d2.err
R5=$?
wait $D1
R4=$?
is "two agents on the store both exit 0" "$R4 $R5" "0 0"
is "together exactly the budget, each trial once" "$("$CAIRN" ls "parent = $DI" --format json | json '" ".join(sorted(r["name"] for r in j))')" \
	"direct-0 direct-1 direct-2 direct-3 direct-4 direct-5 direct-6 direct-7"
is "every trial done" "$(trial_states "$DI")" "2|8"

# --- an agent interrupted: its trials go back to the queue, another agent finishes ----------------
printf '#!/bin/sh\n[ -e slow ] && exec sleep 30\nexec ./obj.sh "$@"\n' >maybe-slow.sh
chmod +x maybe-slow.sh
touch slow
ok "a sweep for an interrupted agent" "$CAIRN" sweep -q --create-only -c rand.yaml -n stopped -- ./maybe-slow.sh {x} {k}
ST=$(out)
"$CAIRN" agent "$ST" -j 2 >i1.out 2>i1.err &
I1=$!
for _ in $(seq 1 100); do [ "$(grep -c ' start ' i1.out 2>/dev/null)" = 2 ] && break; sleep 0.1; done
sleep 0.5
is "the sweep runs while its agent works" "$("$CAIRN" show "$ST" --json | json 'j["status"]')" running
kill -INT $I1
wait $I1
is "the interrupted agent exits 130" "$?" 130
like "saying where its trials went" "$(cat i1.out)" "interrupted: back in the queue for 'cairn agent ${ST:0:8}'"
is "its two trials are queued again" "$(trial_states "$ST")" "0|2"
is "the sweep ends killed (no other driver)" "$("$CAIRN" show "$ST" --json | json 'j["status"]')" killed
rm slow
ok "another agent finishes the sweep" "$CAIRN" agent "$ST" -q
is "every trial once, done" "$(trial_states "$ST")" "2|8"
is "the sweep is finished" "$("$CAIRN" show "$ST" --json | json 'j["status"]')" finished

done_testing
