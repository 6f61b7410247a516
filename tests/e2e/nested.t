#!/usr/bin/env bash
# tests/e2e/nested.t — nested runs and resuming (docs/cli/start.md,
# docs/cli/show.md, docs/internals/query.md): `parent = RUN` and `children`
# in queries, cairn show's parent and children lines (and --json), `cairn
# start --resume RUN` (status, end time, exit code, steps that continue, a
# param given again), a Python script resuming through CAIRN_RUN_ID, and the
# errors: an unknown run, a deleted one, --resume with -p/-n.
. "$(dirname "$0")/lib.sh"

PY=$(command -v python3)
export PYTHONPATH=$ROOT/python
[ -n "${CAIRN_LIB:-}" ] || export CAIRN_LIB=$(dirname "$CAIRN")/libcairn.so

q() { "$CAIRN" ls "$1" --format csv --columns name | tail -n +2 | sort | tr '\n' ' '; }
field() { "$CAIRN" show "$1" --json | json "$2"; }

# --- a parent, three children, a grandchild, a deleted child -------------------
p=$("$CAIRN" start -n sweep)
for i in 1 2 3; do
	CAIRN_RUN_ID=$p "$CAIRN" run -n "trial-$i" -- true >/dev/null 2>&1
done
t1=$("$CAIRN" ls 'name = "trial-1"' --format json | json 'j[0]["id"]')
CAIRN_RUN_ID=$t1 "$CAIRN" run -n grandchild -- true >/dev/null 2>&1
gone=$(CAIRN_RUN_ID=$p "$CAIRN" run -n gone -- sh -c 'echo $CAIRN_RUN_ID' 2>/dev/null | tail -1)
ok "delete one child" "$CAIRN" rm "$gone"
"$CAIRN" start -n loner >/dev/null

is "parent = RUN (full id)" "$(q "parent = $p")" "trial-1 trial-2 trial-3 "
is "parent = RUN (a prefix)" "$(q "parent = ${p:0:8}")" "trial-1 trial-2 trial-3 "
is "parent: every child run" "$(q parent)" "grandchild trial-1 trial-2 trial-3 "
is "not parent" "$(q 'not parent')" "loner sweep "
is "children: runs that have children" "$(q children)" "sweep trial-1 "
is "not children" "$(q 'not children')" "grandchild loner trial-2 trial-3 "
is "children = 3 (a deleted child is not counted)" "$(q 'children = 3')" "sweep "
is "children > 0 and parent" "$(q 'children > 0 and parent')" "trial-1 "
is "children = 0" "$(q 'children = 0')" "grandchild loner trial-2 trial-3 "
is "--sort children" \
	"$("$CAIRN" ls --sort=-children,name --format csv --columns name,children | sed -n 2,3p | tr '\n' ' ')" \
	"sweep,3 trial-1,1 "
fails "children compares as a number" 2 "$CAIRN" ls 'children = "x"'

out=$("$CAIRN" show "$p")
like "show: the children count" "$out" "^children  3$"
like "show: a child by name and id" "$out" "^  trial-1  $t1$"
unlike "show: no deleted child" "$out" "gone"
like "show a child: its parent by name and id" "$("$CAIRN" show "$t1")" "^parent    sweep  $p$"
unlike "show a run without family: no parent line" "$("$CAIRN" show loner)" "^(parent|children) "
is "show --json: children" "$(field "$p" 'j["children"]')" 3
is "show --json: parent" "$(field "$t1" 'j["parent"]')" "$p"
# a listing reads child counts per batch of runs (one grouped statement),
# not per run: every run's count, the deleted child left out
is "ls --format json: each run's children" \
    "$("$CAIRN" ls --format json --sort name | json '",".join("%s=%d" % (r["name"], r["children"]) for r in j)')" \
    "grandchild=0,loner=0,sweep=3,trial-1=1,trial-2=0,trial-3=0"
for i in 4 5 6 7; do
	CAIRN_RUN_ID=$p "$CAIRN" run -n "trial-$i" -- true >/dev/null 2>&1
done
out=$("$CAIRN" show "$p")
like "show: a long list ends with how to list them all" "$out" "… 2 more: cairn ls 'parent = $p'"
is "show: the first five children, oldest first" \
	"$(echo "$out" | grep -E '^  trial-' | awk '{print $1}' | tr '\n' ' ')" \
	"trial-1 trial-2 trial-3 trial-4 trial-5 "

# --- cairn start --resume ---------------------------------------------------------
r=$("$CAIRN" start -n res --param lr=0.1)
"$CAIRN" log metric loss 1 --run "$r"
"$CAIRN" log metric loss 0.5 --run "$r"
ok "finish" "$CAIRN" finish "$r" --status failed --exit-code 4
is "failed with exit code 4" "$(field "$r" '(j["status"], j["exit_code"])')" "('failed', 4)"
ok "start --resume" "$CAIRN" start --resume "$r" --param lr=0.1 -t resumed
is "it prints the run's id" "$(out)" "$r"
is "running again, end time and exit code cleared" \
	"$(field "$r" '(j["status"], j["end_time"], j["exit_code"])')" "('running', None, None)"
is "no heartbeat: the shell owns it, as after cairn start" "$(field "$r" 'j["heartbeat"]')" None
is "the tag was added" "$(field "$r" 'j["tags"]')" '["resumed"]'
"$CAIRN" log metric loss 0.25 --run "$r"
is "a metric without --step continues after the last step" \
	"$("$CAIRN" ls "id = $r" --format csv --columns metrics.loss.step,metrics.loss.count | tail -1)" "2,3"
ok "finish it again" "$CAIRN" finish "$r"
is "finished" "$(field "$r" '(j["status"], j["exit_code"])')" "('finished', 0)"
fails "--resume with another param value" 1 "$CAIRN" start --resume "$r" --param lr=0.2
one_error_line "the param error: one line"
like "that names write-once" "$(err)" "write-once"
fails "--resume an unknown run" 1 "$CAIRN" start --resume f00dfeed
is "one clear error" "$(err)" "error: cannot resume the run: no run 'f00dfeed'"
fails "--resume a deleted run" 1 "$CAIRN" start --resume "$gone"
like "says it is deleted" "$(err)" "is deleted: a deleted run cannot be resumed"
fails "--resume with --name" 2 "$CAIRN" start --resume "$r" -n other
like "says why" "$(err)" "no --project or --name"

# --- resuming through CAIRN_RUN_ID ---------------------------------------------------
cat >train.py <<'PY'
import os, sys, cairn
run = cairn.init(capture_code=False, capture_env=False)
for i in range(3):
    run.log_metric("loss", 1.0 / (i + 1))
print(run.id)
if sys.argv[1:] == ["crash"]:
    run.flush()
    os._exit(3)
PY
c=$("$PY" train.py crash)
is "the script died: its run reads as running" "$(field "$c" 'j["status"]')" running
ok "run it again with CAIRN_RUN_ID" env CAIRN_RUN_ID="$c" "$PY" train.py
is "the same run" "$(out)" "$c"
is "the run is finished, not crashed" "$(field "$c" 'j["status"]')" finished
is "its steps continue, none twice" \
	"$("$CAIRN" ls "id = $c" --format csv --columns metrics.loss.step,metrics.loss.count | tail -1)" "5,6"
ok "and after it finished, once more" env CAIRN_RUN_ID="$c" "$PY" train.py
is "finished again, 9 points" \
	"$(field "$c" '(j["status"], j["metrics"]["loss"]["count"], j["metrics"]["loss"]["step"])')" \
	"('finished', 9, 8)"
fails "CAIRN_RUN_ID naming a deleted run" 1 env CAIRN_RUN_ID="$gone" "$PY" train.py
like "a NotFoundError" "$(err)" "NotFoundError: no run"

# --- the same through a cairn server (the remote backend) ----------------------------
SRV_STORE=$CAIRN_DIR
SRV_PID=
trap '[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; _cleanup' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
U=http://127.0.0.1:$PORT
TOK=$("$CAIRN" token create --scope write --name nested-t 2>/dev/null)
export CAIRN_TOKEN=$TOK
"$CAIRN" server --store "$SRV_STORE" --listen "127.0.0.1:$PORT" >>"$T/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 1 100); do
	curl -sf -H "Authorization: Bearer $TOK" "$U/api/v1/" >/dev/null 2>&1 && break
	sleep 0.1
done
export CAIRN_DIR=$U
is "remote: parent = RUN" "$(q "parent = ${t1:0:8}")" "grandchild "
is "remote: children = 1" "$(q 'children = 1 and parent')" "trial-1 "
is "remote: show --json children" "$(field "$p" 'j["children"]')" 7
ok "remote: finish" "$CAIRN" finish "$r"
ok "remote: start --resume" "$CAIRN" start --resume "$r"
is "remote: running again" "$(field "$r" '(j["status"], j["end_time"], j["exit_code"])')" \
	"('running', None, None)"
"$CAIRN" log metric loss 0.125 --run "$r"
is "remote: the step continues" "$(field "$r" '(j["metrics"]["loss"]["step"], j["metrics"]["loss"]["count"])')" \
	"(3, 4)"
fails "remote: --resume a deleted run" 1 "$CAIRN" start --resume "$gone"
like "remote: says it is deleted" "$(err)" "is deleted: a deleted run cannot be resumed"
ok "remote: CAIRN_RUN_ID resumes the finished script run" env CAIRN_RUN_ID="$c" "$PY" train.py
is "remote: finished, steps continue" \
	"$(field "$c" '(j["status"], j["metrics"]["loss"]["count"], j["metrics"]["loss"]["step"])')" \
	"('finished', 12, 11)"

done_testing
