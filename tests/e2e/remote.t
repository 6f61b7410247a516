#!/usr/bin/env bash
# tests/e2e/remote.t — logging to a `cairn server` by its URL (issue 14): a
# real server process on loopback over the test's store (SQLite, or
# PostgreSQL with CAIRN_TEST_PG=1), clients that name it with --store URL,
# CAIRN_DIR=URL or CAIRN_URI=URL.
#   - start/log/finish and `cairn run`, read back with ls/show/diff/compare/
#     best/data/checkout, give the same output as against the store itself;
#   - the server stopped in the middle of a `cairn run` and restarted 5 s
#     later: every point and the final state arrive once, sent by the
#     running process itself (the spool is empty afterwards);
#   - the server down from the start: the run gets its id locally, `cairn
#     sync --status` shows what waits, `cairn sync` sends it, same id;
#   - a write resent with the same Idempotency-Key is applied once;
#   - a torn journal tail is cut and reported, a damaged record in the
#     middle stops `cairn sync` with the file and the offset;
#   - big objects are streamed and sent once; tokens go in a header.
. "$(dirname "$0")/lib.sh"

. "$ROOT/tests/e2e/server-lib.sh"
export CAIRN_DIR=$U
SPOOL=$HOME/.local/share/cairn/spool
# points NAME KEY: "count|distinct steps" of the run's metric in the server's store
points() {
	CAIRN_DIR=$SRV_STORE store_sql "SELECT count(*), count(DISTINCT m.step) FROM metric_points m JOIN runs r ON r.rid = m.rid JOIN keys k ON k.id = m.kid WHERE r.name = '$1' AND k.name = '$2'"
}

"$CAIRN" --store "$SRV_STORE" init >/dev/null 2>&1 || local_cairn ls >/dev/null
# the server asks for a token (as a team's does); the clients send it from CAIRN_TOKEN
TOK=$(local_cairn token create --scope write --name remote-t 2>>"$T/server.log")
export CAIRN_TOKEN=$TOK
ok "the server starts on the store" start_server

# --- the backbone: start / log / finish / read, by each way of naming it -----------
ok "cairn start against the URL" "$CAIRN" start -p demo -n first -t base --param lr=0.1
ID=$(out)
ok "cairn log metric" "$CAIRN" log --run "$ID" metric loss 0.5 --step 1
ok "cairn log metric (CAIRN_URI, no CAIRN_DIR)" env -u CAIRN_DIR CAIRN_URI=$U "$CAIRN" log --run "$ID" metric loss 0.25 --step 2
ok "cairn finish" "$CAIRN" finish "$ID"
is "the server's store has the run, finished" "$(local_cairn show "$ID" --json | json 'j["status"]')" finished
is "and both points" "$(points first loss)" "2|2"
mkdir -p "$T/proj" && cd "$T/proj" && git init -q . && echo 'print(1)' >train.py &&
	git add . && git -c user.email=a@b -c user.name=a commit -qm x && echo dirty >>train.py
mkdir -p data && echo a >data/a && echo b >data/b
ok "cairn run against the URL (code, data, params, output metrics)" \
	"$CAIRN" run -p demo -n second --data data --param lr=0.2 -- sh -c 'echo "acc=0.7"; echo "loss=0.3"'
cd "$T"
for c in "ls" "ls --format json" "ls metrics.acc>0.5 --sort -metrics.acc" "ls --group project" "ls acc>0.5 --sort -acc" "ls nope>1" "ls accc>1" \
	"show second" "show second --json" "diff first second" "compare first second" \
	"best acc" "data ls second"; do
	# shellcheck disable=SC2086
	is "'cairn $c' reads the same through the server" "$("$CAIRN" $c 2>&1)" "$(local_cairn $c 2>&1)"
done
rm -rf co1 co2
local_cairn checkout second co1 >/dev/null
ok "cairn checkout through the server" "$CAIRN" checkout second co2
ok "restores the same files" diff -r -x .git co1 co2
if [ -d co1/.git ]; then
	is "and the same commit tree" "$(git -C co2 rev-parse 'HEAD^{tree}' 2>&1)" "$(git -C co1 rev-parse 'HEAD^{tree}' 2>&1)"
fi

# --- big objects: streamed past the body cap, sent once ---------------------------------
head -c 20000000 /dev/urandom >big.bin
ok "a 20 MB artifact through the server (over its 16 MiB body cap)" "$CAIRN" log --run "$ID" artifact big.bin
ok "a second run logs the same bytes" "$CAIRN" log --run second artifact big.bin
OID=$(sha256sum big.bin | cut -c1-64)
is "the bytes were sent once (one PUT, then a HEAD found them)" "$(grep -c "^PUT /api/v1/objects/$OID" "$T/server.log")" 1
is "the server holds the object whole" "$(sha256sum "$OBJECTS/${OID:0:2}/${OID:2}" | cut -c1-64)" "$OID"

# --- the server stopped in the middle of a run, back 5 s later --------------------------
"$CAIRN" run -p demo -n midrun -- sh -c 'i=0; while [ $i -lt 200 ]; do echo "step $i loss=$i"; i=$((i+1)); sleep 0.05; done' >"$T/mid.out" 2>&1 &
RUN_PID=$!
sleep 2
stop_server
sleep 5
ok "the server is back 5 s later" start_server
wait $RUN_PID
is "the run ends well while its server was away" "$?" 0
is "every point arrived once (200 points, 200 steps)" "$(points midrun loss)" "200|200"
is "the final state arrived" "$(local_cairn show midrun --json | json 'j["status"]')" finished
is "the running process sent its spool itself" "$(find "$SPOOL" -name '*.journal' 2>/dev/null | wc -l)" 0

# --- the server down from the start, then cairn sync -------------------------------------
stop_server
ok "cairn start with the server down" "$CAIRN" start -p demo -n offline1
OFF=$(out)
like "it has an id at once" "$OFF" '^[0-9a-f]{32}$'
ok "cairn log while the server is down" "$CAIRN" log --run "$OFF" metric loss 0.5 --step 1
ok "cairn run while the server is down" "$CAIRN" run -p demo -n offline2 -- sh -c 'for i in 1 2 3 4 5; do echo "step $i loss=0.$i"; done'
ok "cairn finish while the server is down" "$CAIRN" finish "$OFF"
fails "a read while the server is down fails" 1 "$CAIRN" ls
like "saying it cannot reach the server" "$(err)" "^error: .*cannot reach the server at $U"
ok "cairn sync --status" "$CAIRN" sync --status
like "shows what waits" "$(out)" 'writes \(6 metric points\) in [0-9]+ journals waiting'
ok "the server is back" start_server
ok "cairn sync sends the spool" "$CAIRN" sync
like "with a summary line" "$(out)" '^sent [0-9]+ writes \(6 metric points\) from [0-9]+ journals to '
is "the offline run is on the server with its id" "$(local_cairn show offline1 --json | json 'j["id"]+" "+j["status"]')" "$OFF finished"
is "with its point" "$(points offline1 loss)" "1|1"
is "the offline cairn run too, every point once" "$(points offline2 loss)" "5|5"
ok "cairn sync again: nothing waits" "$CAIRN" sync
is "says so" "$(out)" "nothing waiting in the spool"

# --- idempotency keys: a resent write is applied once --------------------------------------
post() { curl -s -X POST -H 'Content-Type: application/json' -H "Idempotency-Key: $1" -H "Authorization: Bearer $TOK" \
	"$U/api/v1/runs/$ID/metrics?sync=1" -d '{"metrics":[{"key":"idem","value":1}]}'; }
A1=$(post k-1)
A2=$(post k-1)
is "the same key twice: one point" "$(points first idem)" "1|1"
is "and the same answer" "$A2" "$A1"
post k-2 >/dev/null
is "another key: applied" "$(points first idem)" "2|2"

# --- damaged journals -------------------------------------------------------------------------
stop_server
"$CAIRN" start -p demo -n torn >/dev/null
J=$(find "$SPOOL" -name '*.journal' | head -1)
printf '\x30\x00\x00\x00\x01garbage' >>"$J"
ok "a journal with a torn tail: status" "$CAIRN" sync --status
like "reports the torn tail" "$(out)" 'torn tail of 12 bytes'
start_server
ok "cairn sync cuts it and sends the rest" "$CAIRN" sync
like "and says so" "$(err)" "warning: .*torn last record of 12 bytes"
ok "the run before the tear arrived" local_cairn show torn
stop_server
"$CAIRN" run -p demo -n bad1 -- true >/dev/null 2>&1
J=$(find "$SPOOL" -name '*.journal' | head -1)
python3 - "$J" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
hl = 8 + 8 + 4 + int.from_bytes(b[16:20], "little") + 40
b[hl + 30] ^= 0xff  # a byte inside the first record
open(p, "wb").write(bytes(b))
PY
start_server
fails "a record damaged in the middle stops cairn sync" 1 "$CAIRN" sync
like "naming the file and the offset" "$(err)" "error: the spool journal '$J' is damaged at offset [0-9]+"
ok "and nothing after it was sent" sh -c "! CAIRN_DIR='$SRV_STORE' '$CAIRN' show bad1 >/dev/null 2>&1"
rm -rf "$SPOOL"

# --- tokens ---------------------------------------------------------------------------------------
FP=$(free_port)
python3 - "$FP" >"$T/hdr.log" 2>/dev/null <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print(self.headers.get("Authorization"), flush=True)
        self.send_response(401); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b'{"error":{"code":"unauthorized","message":"a token is needed"}}')
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
FAKE=$!
sleep 0.5
fails "a server that refuses the token" 1 env CAIRN_TOKEN=s3cret "$CAIRN" --store "http://127.0.0.1:$FP" ls
like "says how to give one" "$(err)" "HTTP 401: a token is needed.*CAIRN_TOKEN or 'cairn login"
is "the token went as a bearer header" "$(head -1 "$T/hdr.log")" "Bearer s3cret"
echo tok-from-login | "$CAIRN" login "http://127.0.0.1:$FP" --no-check >/dev/null
is "cairn login keeps the token in a file of mode 0600" "$(stat -c %a "$HOME/.config/cairn/credentials")" 600
env -u CAIRN_TOKEN "$CAIRN" --store "http://127.0.0.1:$FP" ls >/dev/null 2>&1
is "and it is sent without CAIRN_TOKEN" "$(tail -1 "$T/hdr.log")" "Bearer tok-from-login"
kill $FAKE
fails "cairn init of a URL is refused" 1 "$CAIRN" init "$U"

# --- the real server's tokens (server/auth.c) --------------------------------------------
mkdir -p "$T/nohome"
fails "no token: the server refuses" 1 env -u CAIRN_TOKEN HOME=$T/nohome "$CAIRN" ls
like "and says a token is needed" "$(err)" "401"
RTOK=$(local_cairn token create --scope read --name remote-reader 2>/dev/null)
ok "a read token reads" env CAIRN_TOKEN="$RTOK" "$CAIRN" ls
fails "a read token cannot write" 1 env CAIRN_TOKEN="$RTOK" "$CAIRN" start -p demo -n refused
like "and is told why" "$(err)" "403|scope"
is "nothing was kept for later" "$(env CAIRN_TOKEN="$RTOK" "$CAIRN" sync --status 2>&1 | grep -c refused)" 0
is "the refused run is not on the server" "$(local_cairn ls --format csv | grep -c refused)" 0
done_testing
