#!/usr/bin/env bash
# tests/e2e/remote-cli.t — the commands issue 14 says work against a server
# unchanged, beyond those remote.t reads back (ls/show/diff/compare/best/
# data ls/checkout) and agent.t drives (sweep, agent): a real `cairn server`
# on loopback over the test's store (SQLite, or PostgreSQL with
# CAIRN_TEST_PG=1), with a token, clients that name it by CAIRN_URI.
#   - cairn reproduce of a run through the server: code restored, data
#     checked, the command run again as a new run on the server, metrics match;
#   - cairn data show / diff / log through the server: the output the store
#     itself gives, and a dataset logged through it lands there;
#   - cairn sweep (CAIRN_URI) and cairn sweep --resume of it through the server;
#   - cairn migrate with a server's URL as FROM or TO: one clear error (exit
#     1), before anything is copied (a copy needs the store itself).
. "$(dirname "$0")/lib.sh"
plan 19

export CAIRN_SAMPLE_INTERVAL=60
. "$ROOT/tests/e2e/server-lib.sh"

"$CAIRN" --store "$SRV_STORE" init >/dev/null 2>&1 || local_cairn ls >/dev/null
TOK=$(local_cairn token create --scope write --name cli-t 2>>"$T/server.log")
export CAIRN_TOKEN=$TOK
ok "the server starts on the store" start_server
unset CAIRN_DIR
export CAIRN_URI=$U

mkdir -p "$T/proj" && cd "$T/proj" && git init -q . &&
	printf 'import sys\nprint("loss=%%s" %% (len(open("data/a").read()) / 10))\n' >train.py &&
	git add . && git -c user.email=a@b -c user.name=a commit -qm x
mkdir -p data && echo abc >data/a
ok "cairn run through the server" "$CAIRN" run -p cli -n orig --data data -- python3 train.py
cd "$T"

# --- reproduce -------------------------------------------------------------------------
ok "cairn reproduce through the server" "$CAIRN" reproduce orig "$T/repro" -n again
like "every metric matches" "$(out)" "all 1 metric match"
is "the reproduction is a run on the server" "$(local_cairn show again --json | json 'j["status"]')" finished
ok "its code was restored" test -f "$T/repro/train.py"

# --- data --------------------------------------------------------------------------------
for c in "data show orig" "data diff orig orig" "data show orig data --json"; do
	# shellcheck disable=SC2086
	is "'cairn $c' reads the same through the server" "$("$CAIRN" $c 2>&1)" "$(local_cairn $c 2>&1)"
done
mkdir -p d2 && echo x >d2/x
ok "cairn data log through the server" "$CAIRN" data log d2 --run orig --name extra --role output
is "the dataset is on the server's store" "$(local_cairn data show orig extra --json | json 'j["datasets"][0]["name"]+" "+j["datasets"][0]["role"]')" "extra output"

# --- sweep and its resume ------------------------------------------------------------------
cat >sw.yaml <<'Y'
method: random
metric: {name: loss, goal: minimize}
trials: 3
seed: 4
parameters:
  x: {min: 0.0, max: 1.0}
Y
ok "cairn sweep through the server (CAIRN_URI)" "$CAIRN" sweep -c sw.yaml -n sw -q -- sh -c 'echo "loss={x}"'
SW=$(local_cairn show sw --json | json 'j["id"]')
is "its trials are on the server, finished" "$(local_cairn ls "parent = $SW" --format csv | grep -c finished)" 3
ok "cairn sweep --resume of it through the server" "$CAIRN" sweep --resume sw -q
is "changes nothing on a complete sweep" "$(local_cairn ls "parent = $SW" --format csv | grep -c finished)" 3

# --- migrate ------------------------------------------------------------------------------------
mkdir -p "$T/empty"
"$CAIRN" --store "$T/empty" init >/dev/null 2>&1
fails "cairn migrate from a server's URL" 1 "$CAIRN" migrate "$U" "$T/empty"
like "says to run it where the server's store is" "$(err)" "^error: .*$U is a cairn server: cairn migrate copies between stores it opens itself; run it where the server's store is"
fails "cairn migrate into a server's URL" 1 "$CAIRN" migrate "$SRV_STORE" "$U"
is "and copied nothing" "$(CAIRN_DIR="$T/empty" "$CAIRN" ls --format csv 2>&1 | grep -c orig)" 0
done_testing
