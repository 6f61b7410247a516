#!/usr/bin/env bash
# tests/e2e/crash-logs.t — kill -9 of `cairn run` keeps the logs it was
# streaming (attached when the store is next opened, or by `cairn gc`), a
# live writer's log is never taken, and `cairn gc` removes stray temp files
# and unreferenced objects, nothing else.
. "$(dirname "$0")/lib.sh"
plan 31

field() { "$CAIRN" show "$1" --json | json "$2"; }
object() { echo "$OBJECTS/${1:0:2}/${1:2}"; }
log_digest() { field "$1" "[a['digest'] for a in j['artifacts'] if a['path']=='logs/$2'][0]"; }
export CAIRN_SAMPLE_INTERVAL=60
# wait_for FILE: until FILE exists (10 s at most)
wait_for() { for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

# --- kill -9 of cairn run ---------------------------------------------------------
"$CAIRN" run -n victim -- sh -c 'echo line one; echo err one >&2; echo line two;
	echo $$ > child.pid; exec sleep 60' > victim.out 2>&1 &
cpid=$!
wait_for child.pid
for _ in $(seq 100); do grep -q 'line two' victim.out 2>/dev/null && break; sleep 0.1; done
side=$(ls "$OBJECTS"/tmp/*.stream 2>/dev/null | wc -l)
is "a live stream is named in a sidecar beside its temp file" "$side" 2
cp "$(ls "$OBJECTS"/tmp/*.stream | head -1)" live-sidecar.json
is "the sidecar names the run and the log" \
	"$(json 'j["path"][:5], j["kind"]' < live-sidecar.json)" "('logs/', 'log')"
ok "opening the store beside a live writer" "$CAIRN" ls
is "leaves its streams alone" "$(ls "$OBJECTS"/tmp/*.stream 2>/dev/null | wc -l)" 2
sleep 0.5 # the worker writes a committed slot at once
kill -9 $cpid
{ wait $cpid; } 2>/dev/null
kill "$(cat child.pid)" 2>/dev/null
id=$("$CAIRN" ls --format json 'name = victim' | json 'j[0]["id"]')
dig=$(log_digest "$id" stdout.log)
like "the killed run has its stdout log" "$dig" '^[0-9a-f]{64}$'
is "holding what was written" "$(cat "$(object "$dig")")" "$(printf 'line one\nline two')"
is "and its stderr log" "$(cat "$(object "$(log_digest "$id" stderr.log)")")" "err one"
is "of kind log" "$(field "$id" "sorted(set(a['kind'] for a in j['artifacts']))")" '["log"]'
is "no sidecar is left" "$(ls "$OBJECTS"/tmp/*.stream 2>/dev/null | wc -l)" 0
is "no temp file is left" "$(ls "$OBJECTS"/tmp 2>/dev/null | wc -l)" 0
# a heartbeat older than CAIRN_HEARTBEAT_STALE makes the killed run crashed
sleep 1.2
is "the killed run is crashed" "$(CAIRN_HEARTBEAT_STALE=1 field "$id" 'j["status"]')" crashed
like "show says how long it lasted, to its last beat" \
	"$(CAIRN_HEARTBEAT_STALE=1 "$CAIRN" show "$id" | grep '^last beat')" '^last beat .* \([0-9.]+s\)$'
is "its duration is up to the last heartbeat, not unknown" \
	"$(CAIRN_HEARTBEAT_STALE=1 "$CAIRN" ls --format json 'name = victim and duration >= 0 and duration < 30s' | json 'j[0]["id"]')" "$id"
ok "gc afterwards" "$CAIRN" gc --json
is "finds nothing more to attach" "$(out | json 'j["logs_recovered"]')" 0

# --- a log recovered by gc ------------------------------------------------------------
"$CAIRN" run -n victim2 -- sh -c 'echo only line; echo $$ > child2.pid; exec sleep 60' \
	> /dev/null 2>&1 &
cpid=$!
wait_for child2.pid
sleep 0.5
kill -9 $cpid
{ wait $cpid; } 2>/dev/null
kill "$(cat child2.pid)" 2>/dev/null
# the store is not opened in between: gc is the first to see the dead writer
ok "gc after a second kill -9" "$CAIRN" gc --json
is "reports its two logs attached" "$(out | json 'j["logs_recovered"]')" 2
id2=$("$CAIRN" ls --format json 'name = victim2' | json 'j[0]["id"]')
is "the log holds the line" "$(cat "$(object "$(log_digest "$id2" stdout.log)")")" "only line"

# --- sidecars of purged runs and of other stores ------------------------------------
mkdir -p "$OBJECTS/tmp"
python3 - "$OBJECTS/tmp" <<'PY'
import json, sys
d = sys.argv[1]
live = json.load(open("live-sidecar.json"))
for name, store, run in (("obj-gone", live["store"], "0" * 32), ("obj-other", "/elsewhere/.cairn", "1" * 32)):
    open(f"{d}/{name}", "w").write("bytes\n")
    json.dump(dict(live, store=store, run=run), open(f"{d}/{name}.stream", "w"))
PY
ok "gc with a purged run's sidecar and another store's" "$CAIRN" gc --no-objects --json
is "the purged run's temp file goes" "$(ls "$OBJECTS"/tmp/obj-gone* 2>/dev/null | wc -l)" 0
is "another store's stays" "$(ls "$OBJECTS"/tmp/obj-other* 2>/dev/null | wc -l)" 2
rm -f "$OBJECTS"/tmp/obj-other*

# --- stray temp files ------------------------------------------------------------------
echo old > "$OBJECTS/tmp/obj-old"; touch -d '2 hours ago' "$OBJECTS/tmp/obj-old"
echo held > "$OBJECTS/tmp/obj-held"; touch -d '2 hours ago' "$OBJECTS/tmp/obj-held"
echo young > "$OBJECTS/tmp/obj-young"
# the holder says when it holds the lock (a loaded machine starts python slowly)
python3 -c 'import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(30)' "$OBJECTS/tmp/obj-held" "$T/held.ready" &
fpid=$!
for _ in $(seq 1 300); do [ -e "$T/held.ready" ] && break; sleep 0.1; done
ok "gc with stray temp files" "$CAIRN" gc --json --no-objects
is "removes the old one nobody holds" "$(out | json 'j["tmp_removed"], j["tmp_bytes"]')" "(1, 4)"
is "keeps the held one and the young one" "$(ls "$OBJECTS"/tmp | sort | tr '\n' ' ')" "obj-held obj-young "
kill $fpid 2>/dev/null; wait $fpid 2>/dev/null
ok "--tmp-age 0 takes any temp file nobody holds" "$CAIRN" gc --tmp-age 0 --no-objects
is "so none is left" "$(ls "$OBJECTS"/tmp | wc -l)" 0

# --- unreferenced objects --------------------------------------------------------------
junk=$(printf 'junk bytes' | sha256sum | cut -c1-64)
mkdir -p "$OBJECTS/${junk:0:2}"; printf 'junk bytes' > "$(object "$junk")"
before=$(find "$OBJECTS" -path "$OBJECTS/tmp" -prune -o -type f -print | wc -l)
ok "gc removes an object nothing references" "$CAIRN" gc --json
is "only that one" "$(out | json 'j["objects_removed"], j["object_bytes"]')" "(1, 10)"
is "the killed runs' logs are still there" "$(cat "$(object "$dig")")" "$(printf 'line one\nline two')"

fails "--tmp-age takes seconds" 2 "$CAIRN" gc --tmp-age soon
fails "gc takes no arguments" 2 "$CAIRN" gc now
done_testing
