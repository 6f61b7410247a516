#!/usr/bin/env bash
# tests/e2e/run.t — `cairn run`: pass-through, logs, exit codes, failure to
# start, CAIRN_RUN_ID/CAIRN_DIR, metric lines, params and configs, signals,
# crashed detection, secrets, system samples, GPUs through a fake NVML.
. "$(dirname "$0")/lib.sh"
plan 115

last() { "$CAIRN" ls --format json | json 'j[0]["id"]'; }
field() { "$CAIRN" show "$1" --json | json "$2"; }
object() { echo "$OBJECTS/${1:0:2}/${1:2}"; }
export CAIRN_SAMPLE_INTERVAL=60   # no sys samples unless a test asks

# --- pass-through and logs ------------------------------------------------------
printf 'out line\n\x00\x01binary\xff no newline' > want.out
printf 'err line\n' > want.err
ok "a command runs" "$CAIRN" run -- sh -c 'cat want.out; cat want.err >&2'
cmp -s "$T/.out" want.out; is "stdout passes through byte for byte" $? 0
cmp -s "$T/.err" want.err; is "stderr passes through byte for byte" $? 0
id=$(last)
is "the run finished" "$(field "$id" 'j["status"]')" finished
is "exit code 0 recorded" "$(field "$id" 'j["exit_code"]')" 0
dig=$(field "$id" '[a["digest"] for a in j["artifacts"] if a["path"]=="logs/stdout.log"][0]')
cmp -s "$(object "$dig")" want.out; is "stdout stored as logs/stdout.log" $? 0
dig=$(field "$id" '[a["digest"] for a in j["artifacts"] if a["path"]=="logs/stderr.log"][0]')
cmp -s "$(object "$dig")" want.err; is "stderr stored as logs/stderr.log" $? 0
is "logs are of kind log" "$(field "$id" 'sorted(set(a["kind"] for a in j["artifacts"] if a["path"].startswith("logs/")))')" '["log"]'
is "the command line is recorded" "$(field "$id" 'j["command"]')" "sh -c 'cat want.out; cat want.err >&2'"

head -c 6000000 /dev/urandom | base64 > big.txt
"$CAIRN" run -- cat big.txt > big.out
cmp -s big.txt big.out; is "6 MB of output pass through intact" $? 0
dig=$(field "$(last)" '[a["digest"] for a in j["artifacts"] if a["path"]=="logs/stdout.log"][0]')
cmp -s "$(object "$dig")" big.txt; is "and are stored intact" $? 0

# --- exit codes -----------------------------------------------------------------------
"$CAIRN" run -- sh -c 'exit 3' >/dev/null 2>&1
is "cairn run exits with the child's code" $? 3
id=$(last)
is "a non-zero exit is failed" "$(field "$id" 'j["status"]')" failed
is "with its exit code" "$(field "$id" 'j["exit_code"]')" 3
"$CAIRN" run -- sh -c 'kill -SEGV $$' >/dev/null 2>&1
is "death by a signal exits 128+N" $? 139
is "a crash by SIGSEGV is failed" "$(field "$(last)" 'j["status"]')" failed

# --- failure to start ---------------------------------------------------------------------
before=$(store_digest)
fails "a missing command is an error" 1 "$CAIRN" run -- no-such-command-xyz
one_error_line "one error line"
like "saying it was not found" "$(err)" "cannot run 'no-such-command-xyz': command not found"
printf 'echo hi\n' > noexec.sh
fails "a file that is not executable is an error" 1 "$CAIRN" run -- ./noexec.sh
like "saying why" "$(err)" "permission denied"
mkdir -p adir
fails "a directory is an error" 1 "$CAIRN" run -- ./adir
is "and no run was created" "$(store_digest)" "$before"
fails "no command is a usage error" 2 "$CAIRN" run
fails "an unknown option is a usage error" 2 "$CAIRN" run --bogus -- true
fails "a bad metric pattern is a usage error" 2 "$CAIRN" run --metric-pattern '(' -- true
ok "-h works" "$CAIRN" run -h
like "and documents --require-clean" "$(out)" "--require-clean"

# --- the child attaches to the run --------------------------------------------------------
ok "the child sees CAIRN_RUN_ID and CAIRN_DIR" "$CAIRN" run -- sh -c 'echo "$CAIRN_RUN_ID $CAIRN_DIR"; "$CAIRN" log metric from_child 7 --step 2'
id=$(last)
is "CAIRN_RUN_ID is the run" "$(out | cut -d' ' -f1)" "$id"
if [ -n "$PG" ]; then
	is "CAIRN_DIR is the store's URI, as given (the child connects with it)" "$(out | cut -d' ' -f2)" "$CAIRN_DIR"
else
	is "CAIRN_DIR is the store, absolute" "$(out | cut -d' ' -f2)" "$(cd "$CAIRN_DIR" && pwd -P)"
fi
is "cairn log in the child logs into the run" "$(field "$id" 'j["metrics"]["from_child"]["last"]')" 7
if [ -n "$PG" ]; then
	skip "CAIRN_DIR is absolute with a relative --store" "a URI store has no relative form"
else
	(cd adir && "$CAIRN" --store ../store run -- sh -c 'echo "$CAIRN_DIR"' >"$T/dir.out")
	is "CAIRN_DIR is absolute with a relative --store" "$(cat "$T/dir.out")" "$(cd "$CAIRN_DIR" && pwd -P)"
fi

# --- metrics from the output ------------------------------------------------------------------
ok "metric lines" "$CAIRN" run -- sh -c 'echo "epoch 1 loss=0.5 acc=0.7"; echo "epoch 2 loss=0.25 acc=0.8"; echo "val_loss: 0.3" >&2; echo "12:30:45 no metric"'
id=$(last)
is "loss recorded" "$(field "$id" 'j["metrics"]["loss"]["last"]')" 0.25
is "with the epoch as step" "$(field "$id" 'j["metrics"]["loss"]["step"]')" 2
is "several per line" "$(field "$id" 'j["metrics"]["acc"]["count"]')" 2
is "stderr lines too" "$(field "$id" 'j["metrics"]["val_loss"]["last"]')" 0.3
is "times are not metrics" "$(field "$id" 'sorted(k for k in j["metrics"] if not k.startswith("sys/"))')" '["acc", "loss", "val_loss"]'
ok "--no-metrics" "$CAIRN" run --no-metrics -- sh -c 'echo loss=1'
is "records none" "$(field "$(last)" 'len(j["metrics"])')" 0
ok "--metric-pattern" "$CAIRN" run --metric-pattern '^M ([a-z]+) ([0-9.]+)$' -- sh -c 'echo "M score 9.5"; echo loss=1'
is "uses the pattern only" "$(field "$(last)" 'sorted(j["metrics"])')" '["score"]'

# --- params and configs --------------------------------------------------------------------
printf 'lr: 0.1\nmodel:\n  depth: 3\n  layers: [64, 64]\nseed: 1\n' > cfg.yaml
printf '{"optim": {"beta": 0.9}}' > extra.json
ok "params from the command line and configs" "$CAIRN" run --param seed=7 --config extra.json -- sh -c 'true' x --lr 0.01 --config cfg.yaml --flag name=abc
id=$(last)
is "the command line beats the config" "$(field "$id" 'j["params"]["lr"]')" 0.01
is "configs are flattened" "$(field "$id" 'j["params"]["model.depth"]')" 3
is "lists are strings" "$(field "$id" 'j["params"]["model.layers"]')" "[64, 64]"
is "--config files too" "$(field "$id" 'j["params"]["optim.beta"]')" 0.9
is "--param beats both" "$(field "$id" 'j["params"]["seed"]')" 7
is "bare flags are true" "$(field "$id" 'j["params"]["flag"]')" True
is "key=value arguments" "$(field "$id" 'j["params"]["name"]')" abc
is "config files are snapshotted" "$(field "$id" 'sorted(a["path"] for a in j["artifacts"] if a["kind"]=="config")')" '["config/cfg.yaml", "config/extra.json"]'
printf 'a: 1\nb: [1, 2\n' > broken.yaml
ok "a malformed config does not stop the run" "$CAIRN" run -- sh -c 'echo ran' --config broken.yaml
like "it is a warning naming file and line" "$(err)" "^warning: .*broken.yaml.*line [0-9]"
is "the command ran" "$(out)" ran
fails "a missing --config file is an error" 1 "$CAIRN" run --config nope.yaml -- true

# --- secrets ------------------------------------------------------------------------------------
export MY_SERVICE_TOKEN=s3cr3t-token-value CUDA_API_KEY=s3cr3t-cuda-key HF_HOME=https://u:s3cr3t-in-url@hub/x
ok "a run with secrets around" "$CAIRN" run -- sh -c 'true' --api-key s3cr3t-arg-value --db https://me:s3cr3t-arg-url@db/x
unset MY_SERVICE_TOKEN CUDA_API_KEY HF_HOME
id=$(last)
store_holds s3cr3t; is "no secret value anywhere in the store (db, WAL, objects)" $? 1
like "the command line is masked" "$(field "$id" 'j["command"]')" "--api-key \*\*\* --db 'https://\*\*\*@db/x'"
is "allow-listed variables are kept, masked" "$(field "$id" 'j["environment"]["env_vars"]["HF_HOME"]')" 'https://***@hub/x'
is "secret names are dropped even when allow-listed" "$(field "$id" '"CUDA_API_KEY" in j["environment"]["env_vars"]')" False

# Credentials inside URLs in config files: masked in the params and in the
# stored copy of each file.  The files sit outside the working directory, so
# the code snapshot (which stores the project's files as they are) does not
# hold them; the store is then searched whole for the password.
mkdir -p creds proj
cat > creds/db.yaml <<'YAML'
# fallback: postgres://bob:hunt3r2-pw@backup/x
api:
  url: postgres://bob:hunt3r2-pw@db/x
  mirrors: [https://alice:hunt3r2-pw@m1/a, {u: "redis://:hunt3r2-pw@r:6379"}]
  escaped: "mysql:\/\/carol:hunt3r2-pw@h\x2Fdb"
lr: 0.1
YAML
printf '%s' '{"db": {"url": "postgres://bob:hunt3r2-pw@db/x", "replicas": ["https://bob:hunt3r2-pw@r1/x", 2]}, "php": "mysql:\/\/bob:hunt3r2-pw@h\/db", "seed": 3}' > creds/app.json
# a UTF-16 file: nothing to mask in its bytes, so its copy is refused
python3 -c 'import sys; sys.stdout.buffer.write("u: x://u:hunt3r2-pw@h\n".encode("utf-16"))' > creds/u16.yaml
(cd proj && "$CAIRN" run --config ../creds/db.yaml --config ../creds/u16.yaml -- sh -c 'true' x --cfg ../creds/app.json >/dev/null 2>"$T/cfg.err")
id=$(last)
is "configs with credentials: one warning, for the copy it cannot mask" "$(cat "$T/cfg.err")" "warning: config '../creds/u16.yaml' is not stored: a credential in a URL in it cannot be masked in the file"
is "its params are recorded, masked" "$(field "$id" 'j["params"]["u"]')" 'x://***@h'
store_holds hunt3r2; is "no config password anywhere in the store (db, WAL, objects)" $? 1
is "a URL in a YAML config is masked in the params" "$(field "$id" 'j["params"]["api.url"]')" 'postgres://***@db/x'
is "URLs nested in a YAML list are masked" "$(field "$id" 'j["params"]["api.mirrors"]')" '["https://***@m1/a", {"u": "redis://***@r:6379"}]'
is "a URL written with escapes is masked" "$(field "$id" 'j["params"]["api.escaped"]')" 'mysql://***@h/db'
is "a URL in a JSON config is masked in the params" "$(field "$id" 'j["params"]["db.url"]')" 'postgres://***@db/x'
is "URLs nested in a JSON list are masked" "$(field "$id" 'j["params"]["db.replicas"]')" '["https://***@r1/x", 2]'
is "a JSON URL written with escaped slashes is masked" "$(field "$id" 'j["params"]["php"]')" 'mysql://***@h/db'
is "other params are kept" "$(field "$id" '[j["params"]["lr"], j["params"]["seed"]]')" '[0.1, 3]'
dig=$(field "$id" '[a["digest"] for a in j["artifacts"] if a["path"]=="config/db.yaml"][0]')
is "the stored YAML keeps its text, with credentials masked" "$(cat "$(object "$dig")")" "$(printf '%s\n' \
	'# fallback: postgres://***@backup/x' 'api:' '  url: postgres://***@db/x' \
	'  mirrors: [https://***@m1/a, {u: "redis://***@r:6379"}]' '  escaped: "mysql://***@h/db"' 'lr: 0.1')"
dig=$(field "$id" '[a["digest"] for a in j["artifacts"] if a["path"]=="config/app.json"][0]')
is "the stored JSON is the same JSON, masked" "$(json 'j["php"], j["db"]["replicas"][0], j["seed"]' < "$(object "$dig")")" "('mysql://***@h/db', 'https://***@r1/x', 3)"
rm -rf creds proj

# --- signals ----------------------------------------------------------------------------------------
cat > trap.sh <<'SH'
trap 'echo "got $1"; exit 7' "$1"
echo ready
while :; do sleep 0.05; done
SH
for sig in TERM HUP; do
	"$CAIRN" run -- sh trap.sh $sig > sig.out 2>&1 &
	w=$!
	for i in $(seq 200); do grep -q ready sig.out 2>/dev/null && break; sleep 0.05; done
	kill -$sig $w
	wait $w
	is "SIG$sig: cairn run exits with the child's code" $? 7
	like "SIG$sig is forwarded to the child" "$(cat sig.out)" "got $sig"
	is "SIG$sig: the run is killed" "$(field "$(last)" 'j["status"]')" killed
done
# SIGINT: background jobs of a script ignore it, so start cairn with it restored
python3 -c 'import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
	"$CAIRN" run -- sh -c 'echo ready; exec sleep 30' > sig.out 2>&1 &
w=$!
for i in $(seq 200); do grep -q ready sig.out 2>/dev/null && break; sleep 0.05; done
kill -INT $w
wait $w
is "SIGINT: the child dies of it, cairn exits 130" $? 130
is "SIGINT: the run is killed" "$(field "$(last)" 'j["status"]')" killed

# --- crashed: the wrapper killed with SIGKILL --------------------------------------------------------
CAIRN_HEARTBEAT_INTERVAL=0.1 "$CAIRN" run -- sh -c 'echo $$ > child.pid; exec sleep 30' > /dev/null 2>&1 &
w=$!
for i in $(seq 200); do [ -s child.pid ] && break; sleep 0.05; done
id=$(last)
is "a live run with a fresh heartbeat is running" "$(CAIRN_HEARTBEAT_STALE=5 "$CAIRN" show "$id" --json | json 'j["status"]')" running
{ kill -9 $w; wait $w; } 2>/dev/null
kill "$(cat child.pid)" 2>/dev/null
sleep 2
is "a run whose wrapper died shows as crashed" "$(CAIRN_HEARTBEAT_STALE=1 "$CAIRN" show "$id" --json | json 'j["status"]')" crashed
like "in cairn ls too" "$(CAIRN_HEARTBEAT_STALE=1 "$CAIRN" ls)" "crashed"

# --- system samples and GPUs ---------------------------------------------------------------------------
ok "system samples while the child lives" env CAIRN_SAMPLE_INTERVAL=0.05 "$CAIRN" run -- sh -c 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); sleep 0.05; done'
is "sys/rss_bytes and sys/cpu_percent recorded" "$(field "$(last)" '"sys/rss_bytes" in j["metrics"] and "sys/cpu_percent" in j["metrics"]')" True
ok "--no-sys" env CAIRN_SAMPLE_INTERVAL=0.05 "$CAIRN" run --no-sys -- sleep 0.3
is "records no samples" "$(field "$(last)" '[k for k in j["metrics"] if k.startswith("sys/")]')" "[]"
if ${CC:-cc} -shared -fPIC -o fake-nvml.so "$ROOT/tests/e2e/fake-nvml.c" 2>/dev/null; then
	ok "a run on a (fake) GPU machine" env CAIRN_NVML_LIB=$T/fake-nvml.so CAIRN_SAMPLE_INTERVAL=0.05 "$CAIRN" run -- sleep 0.5
	id=$(last)
	is "the GPU is in the environment" "$(field "$id" 'j["environment"]["gpus"]')" '[{"driver": "999.1", "memory_bytes": 85899345920, "name": "Fake GPU 9000"}]'
	is "GPU samples are recorded" "$(field "$id" 'j["metrics"]["sys/gpu0/util_percent"]["last"]')" 42
	is "GPU memory too" "$(field "$id" 'j["metrics"]["sys/gpu0/memory_bytes"]["last"]')" 21474836480
else
	for i in 1 2 3 4; do echo "ok $((_n + 1)) # skip no C compiler"; _n=$((_n + 1)); done
fi
ok "a run without NVML" "$CAIRN" run -- true
is "records its GPUs as a list (empty without NVML)" "$(field "$(last)" 'isinstance(j["environment"]["gpus"], list)')" True

# --- runs inside runs; background writers ------------------------------------------------------------------
ok "a run started inside a run" "$CAIRN" run -- sh -c '"$CAIRN" run -- true'
is "has the outer run as its parent" "$(field "$(last)" 'j["parent"]')" "$("$CAIRN" ls --format json | json 'j[1]["id"]')"
log_of() { cat "$(object "$(field "$1" '[a["digest"] for a in j["artifacts"] if a["path"]=="logs/stdout.log"][0]')")"; }
# wait_for FILE [TENTHS]: until FILE exists (default 10 s)
wait_for() { local i; for i in $(seq "${2:-100}"); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
# seconds since $t0 (date +%s.%N)
since() { python3 -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$t0"; }

# Output a background job writes after the command exits: stored within the
# bound, passed on (not stored) after it, and the job never meets a closed
# pipe because cairn exited.
ok "a background job writing within the bound" "$CAIRN" run -- sh -c '(sleep 0.5; echo within) & echo early'
is "its output passes through" "$(out)" "$(printf 'early\nwithin')"
is "and is stored" "$(log_of "$(last)")" "$(printf 'early\nwithin')"
t0=$(date +%s.%N)
CAIRN_DRAIN_TIMEOUT=0.5 "$CAIRN" run -- sh -c '(sleep 3; echo late && touch late.ok) & echo early' > late.out
is "a job writing after the bound: cairn run exits with the command's code" $? 0
took=$(since)
python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 2.5)' "$took"; is "after the bound, not the job ($took s)" $? 0
id=$(last)
wait_for late.ok; is "the job's late write succeeds (no SIGPIPE)" $? 0
is "and reaches cairn's stdout" "$(cat late.out)" "$(printf 'early\nlate')"
is "the early output is stored, the late one not" "$(log_of "$id")" early

# With nothing left holding the output, no wait whatever the bound.
t0=$(date +%s.%N)
CAIRN_DRAIN_TIMEOUT=30 timeout 20 "$CAIRN" run -- sh -c 'echo hi' >/dev/null
is "no background job: cairn run returns" $? 0
took=$(since)
python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 10)' "$took"; is "at once ($took s, bound 30 s)" $? 0
t0=$(date +%s.%N)
CAIRN_DRAIN_TIMEOUT=30 timeout 20 "$CAIRN" run -- sh -c '(exec >/dev/null 2>&1; echo $$ > quiet.pid; exec sleep 30) & echo hi' >/dev/null
is "a background job with its output closed: cairn run returns" $? 0
took=$(since)
python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 10)' "$took"; is "at once too ($took s)" $? 0
wait_for quiet.pid && kill "$(cat quiet.pid)" 2>/dev/null

# A writer that never stops: cairn run returns after the bound; the drainer
# passes its output on for as long as it writes, and ends with it.
timeout 30 "$CAIRN" run -- sh -c 'echo out; sh -c "echo \$\$ > bg.pid; while :; do echo bg; done" & sleep 0.2' > bg.out 2>/dev/null
is "a background writer left behind does not keep cairn run waiting" $? 0
like "the command's own output comes first" "$(head -1 bg.out)" "^out$"
wait_for bg.pid
n1=$(wc -c < bg.out); sleep 0.3; n2=$(wc -c < bg.out)
[ "$n2" -gt "$n1" ]; is "its output still reaches cairn's stdout after cairn exits" $? 0
kill "$(cat bg.pid)"
holders() { for f in /proc/[0-9]*/fd/*; do [ "$(readlink "$f" 2>/dev/null)" = "$T/bg.out" ] && echo "$f"; done; }
for i in $(seq 50); do [ -z "$(holders)" ] && break; sleep 0.1; done
is "the drainer ends when the writer does" "$(holders)" ""
# The reader of cairn's output goes away while a job still writes: the job
# meets the closed pipe, as it would without cairn.
CAIRN_DRAIN_TIMEOUT=0.2 timeout 30 "$CAIRN" run -- sh -c '(sleep 1; yes; touch yes.done) & echo a' 2>/dev/null | head -1 >/dev/null
wait_for yes.done; is "a job writing into a closed reader stops (SIGPIPE), as without cairn" $? 0
CAIRN_DRAIN_TIMEOUT=soon "$CAIRN" run -- true 2>"$T/dt.err"
like "a bad CAIRN_DRAIN_TIMEOUT is a warning" "$(cat "$T/dt.err")" "^warning: CAIRN_DRAIN_TIMEOUT='soon' is not a number"

# --- a closed reader stops the child as it would without cairn ------------------------------------------
timeout 20 "$CAIRN" run -- yes 2>/dev/null | head -1 > /dev/null
is "cairn run -- yes | head ends" "${PIPESTATUS[0]}" 141

done_testing
