#!/usr/bin/env bash
# tests/e2e/http-api.t — `cairn ui` and the /api/v1/ HTTP API end to end over
# loopback with curl: every endpoint, every error status (400, 403, 404, 405,
# 409, 413, 415, 416, 500), paging by cursor, sampled histories, artifact
# downloads, byte ranges and path traversal attempts, the Host check, writes
# from other sites' pages (CSRF), data diffs that must not read the server's
# files, per-request caps, clients that end early, idle-connection timeouts,
# and that every server stops cleanly on SIGTERM with nothing on its stderr
# (so a LeakSanitizer report fails the test).
. "$(dirname "$0")/lib.sh"
plan 254

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
NSRV=0
trap cleanup EXIT

# start_server ARGS...: run `cairn ui` in the background, set URL and PORT
start_server() {
	NSRV=$((NSRV + 1))
	SRVERR=$T/srv-$NSRV.err
	"$CAIRN" ui --listen 127.0.0.1:0 --quiet "$@" >"$T/srv.out" 2>"$SRVERR" &
	SRV=$!
	PIDS+=($SRV)
	for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
	URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
	PORT=${URL##*:}
}
# stop_server PID ERRFILE WHAT: SIGTERM, which must end the server cleanly
# (exit 0), so the sanitizers' exit checks (LeakSanitizer) run; a --quiet
# server's stderr must then be empty (but for the plain-HTTP warning), so any
# report of theirs fails the test and is shown
stop_server() {
	kill -TERM "$1"
	wait "$1"
	is "$3 stops cleanly on SIGTERM" "$?" 0
	local rest
	rest=$(grep -v '^warning: serving plain HTTP ' "$2")
	is "... with nothing on its stderr (no sanitizer report)" "$(echo "$rest" | head -1)" ''
	[ -z "$rest" ] || echo "$rest" | sed 's/^/#   /' | head -40
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
# req METHOD PATH [curl args...]: body in $T/body, status in $STATUS
req() {
	local m=$1 p=$2; shift 2
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$URL$p")
}
body() { cat "$T/body"; }
post() { local p=$1 b=$2; shift 2; req POST "$p" -H 'Content-Type: application/json' --data-binary "$b" "$@"; }
# del PATH [curl args...]: a DELETE as a client sends it (writes say they are JSON)
del() { local p=$1; shift; req DELETE "$p" -H 'Content-Type: application/json' "$@"; }
errcode() { body | json 'j["error"]["code"]'; }

"$CAIRN" init >/dev/null
ID=$("$CAIRN" start -p demo -n alpha -t base --param lr=0.1 --param model=mlp)
BETA=$("$CAIRN" start -p demo -n beta --param lr=0.2)
"$CAIRN" start -p other -n gamma >/dev/null
printf 'hello artifact\n' >notes.txt
"$CAIRN" log artifact notes.txt --name logs/notes.txt --run "$ID"
printf '\x89PNG\r\n\x1a\n0000' >img.png
"$CAIRN" log image samples img.png --step 3 --run "$ID"
printf '<script>alert(1)</script>' >page.html
"$CAIRN" log artifact page.html --run "$ID"
mkdir ds && printf 'a\n' >ds/a.txt && printf 'b1\n' >ds/b.txt
"$CAIRN" data log ds --run "$ID" >/dev/null
printf 'b2\n' >ds/b.txt
"$CAIRN" data log ds --run "$BETA" >/dev/null

# --- starting ----------------------------------------------------------------
fails '--no-auth on a non-loopback address is refused' 2 "$CAIRN" ui --listen 0.0.0.0:0 --no-auth
one_error_line 'one error line for it'
like 'the error says why' "$(err)" 'only for a loopback address'
fails 'a malformed --listen is a usage error' 2 "$CAIRN" ui --listen 'nope:port'
fails 'a bare IPv6 address needs brackets' 2 "$CAIRN" server --listen ::1:80
ok 'cairn ui -h' "$CAIRN" ui -h
ok 'cairn server -h' "$CAIRN" server -h

# a non-loopback `cairn ui` requires tokens (tests/e2e/auth.t), and says
# that plain HTTP carries them unencrypted; --public is still accepted
"$CAIRN" ui --listen 0.0.0.0:0 --public --quiet >"$T/pub.out" 2>"$T/pub.err" &
pub=$!
PIDS+=($pub)
for _ in $(seq 1 50); do grep -q http "$T/pub.out" 2>/dev/null && break; sleep 0.1; done
like 'a non-loopback server warns about plain HTTP' "$(cat "$T/pub.err")" '^warning: serving plain HTTP .*unencrypted'
stop_server "$pub" "$T/pub.err" 'a --public server'

# A stop signal that comes while the store is still opening (here: locked by
# another process) waits until the server is up, which then stops cleanly;
# it used to kill the process outright, with nothing released and no leak check.
if [ -n "$PG" ]; then
	# the store's marker table locked: opening reads it, so it waits
	store_sql "BEGIN; LOCK TABLE cairn_meta IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT" >/dev/null &
	lockp=$!
	for _ in $(seq 1 50); do
		[ "$(store_sql "SELECT count(*) FROM pg_locks WHERE relation = 'cairn_meta'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
		sleep 0.1
	done
else
	python3 - "$CAIRN_DIR/cairn.db" >"$T/lock.out" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode=EXCLUSIVE")
c.execute("BEGIN EXCLUSIVE")
c.execute("SELECT count(*) FROM runs").fetchall()
print("locked", flush=True)
time.sleep(3)
c.execute("COMMIT")
EOF
	lockp=$!
	for _ in $(seq 1 50); do grep -q locked "$T/lock.out" 2>/dev/null && break; sleep 0.1; done
fi
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/opening.out" 2>"$T/opening.err" &
opening=$!
PIDS+=($opening)
sleep 1
unlike 'the store is still opening' "$(cat "$T/opening.out")" http
stop_server "$opening" "$T/opening.err" 'a server signalled while its store opens'
wait "$lockp"

start_server
like 'port 0 picks a port and prints the URL' "$URL" '^http://127\.0\.0\.1:[0-9]+$'
unlike 'the port is not 0' "$PORT" '^0$'

# --- reads ---------------------------------------------------------------------
req GET /api/v1/
is 'GET /api/v1/ is 200' "$STATUS" 200
is 'it names the API' "$(body | json 'j["api"]')" v1
req GET /api/v1/projects
is 'projects: 200' "$STATUS" 200
is 'projects with run counts' "$(body | json '[(p["name"], p["runs"]) for p in j["projects"]]')" '[["demo", 2], ["other", 1]]'
req GET '/api/v1/columns?project=demo'
is 'columns: runs in scope' "$(body | json 'j["runs"]')" 2
is 'columns: params with distinct counts' "$(body | json '[(p["key"], p["count"], p["distinct"]) for p in j["params"]]')" '[["lr", 2, 2], ["model", 1, 1]]'

req GET '/api/v1/runs?limit=2'
is 'runs: 200' "$STATUS" 200
is 'runs: total' "$(body | json 'j["total"]')" 3
is 'runs: a page of 2' "$(body | json 'len(j["runs"])')" 2
CURSOR=$(body | json 'j["next"]')
like 'runs: an opaque cursor for the next page' "$CURSOR" '^[A-Za-z0-9._-]+$'
first=$(body | json '[r["name"] for r in j["runs"]]')
req GET "/api/v1/runs?limit=2&cursor=$CURSOR"
is 'runs: the cursor gives the rest' "$(body | json 'len(j["runs"])')" 1
is 'runs: no cursor after the last page' "$(body | json 'j["next"]')" None
unlike 'runs: pages do not overlap' "$first" "$(body | json 'j["runs"][0]["name"]')"
req GET "/api/v1/runs?limit=2&project=demo&cursor=$CURSOR"
is 'a cursor of another query: 400' "$STATUS" 400
is '... code bad_cursor' "$(errcode)" bad_cursor
req GET '/api/v1/runs?cursor=%21%21%21'
is 'a garbage cursor: 400' "$STATUS" 400
req GET '/api/v1/runs?limit=0'
is 'limit 0: 400' "$STATUS" 400
req GET '/api/v1/runs?limit=abc'
is 'limit not a number: 400' "$STATUS" 400
req GET "/api/v1/runs?project=demo&columns=name,params.lr"
is 'columns keep only what was asked (and id)' "$(body | json 'sorted(j["runs"][0].keys())')" '["id", "name", "params"]'
is 'columns pick params by key' "$(body | json 'sorted(j["runs"][1]["params"].keys())')" '["lr"]'
req GET "/api/v1/runs?q=$(printf 'x%.0s' $(seq 1 9000))"
is 'an argument over 8 KiB: 400' "$STATUS" 400

req GET "/api/v1/runs/$ID"
is 'one run: 200' "$STATUS" 200
is 'it has everything show --json has' "$(body | json 'sorted(j.keys())')" "$("$CAIRN" show "$ID" --json | json 'sorted(j.keys())')"
req GET "/api/v1/runs/${ID:0:8}"
is 'a unique prefix names a run' "$(body | json 'j["id"]')" "$ID"
req GET /api/v1/runs/ffffffffffff
is 'an unknown run: 404' "$STATUS" 404
is 'errors are {"error":{"code","message"}}' "$(body | json 'sorted(j["error"].keys())')" '["code", "message"]'
is '... code not_found' "$(errcode)" not_found

# --- metrics --------------------------------------------------------------------
python3 - "$T/m.json" <<'EOF'
import json, sys
pts = [{"key": "loss", "value": 1.0 / (1 + s), "step": s} for s in range(5000)]
pts[2500]["value"] = 99.0          # a spike sampling must keep
pts.append({"key": "nanny", "value": "NaN", "step": 0})
json.dump({"metrics": pts}, open(sys.argv[1], "w"))
EOF
req POST "/api/v1/runs/$ID/metrics?sync=1" -H 'Content-Type: application/json' --data-binary @"$T/m.json"
is 'batch of 5001 points: 200' "$STATUS" 200
is 'logged count' "$(body | json 'j["logged"]')" 5001
req GET "/api/v1/runs/$ID/metrics/loss?points=100"
is 'sampled history: 200' "$STATUS" 200
is 'it is sampled' "$(body | json 'j["sampled"]')" True
is 'it counts every point' "$(body | json 'j["count"]')" 5000
is 'at most 100 points' "$(body | json 'len(j["points"]) <= 100')" True
is 'the spike survives' "$(body | json 'max(p[2] for p in j["points"])')" 99
is 'the first point survives (bucket max)' "$(body | json 'j["points"][0][0]')" 0
is 'points in step order' "$(body | json 'all(a[0] <= b[0] for a, b in zip(j["points"], j["points"][1:]))')" True
req GET "/api/v1/runs/$ID/metrics/loss?raw=1"
is 'raw history has every point' "$(body | json 'len(j["points"])')" 5000
req GET "/api/v1/runs/$ID/metrics/nanny"
is 'NaN comes back as "NaN"' "$(body | json 'j["points"][0][2]')" NaN
req GET "/api/v1/runs/$ID/metrics/nope"
is 'an unknown metric: 404' "$STATUS" 404
req GET "/api/v1/runs/$ID/metrics/nope?raw=1"
is 'an unknown metric, raw: 404' "$STATUS" 404
req GET "/api/v1/runs/$ID/metrics/loss?points=1"
is 'points below 2: 400' "$STATUS" 400
# a step window (a chart zoomed in): only its points, thinned within it
req GET "/api/v1/runs/$ID/metrics/loss?from=2400&to=2599&points=1000"
is 'a window: 200' "$STATUS" 200
is '... every point of the window' "$(body | json '[len(j["points"]), j["count"], j["sampled"]]')" '[200, 200, false]'
is '... and only those' "$(body | json '[j["points"][0][0], j["points"][-1][0]]')" '[2400, 2599]'
req GET "/api/v1/runs/$ID/metrics/loss?from=2000&to=2999&points=100"
is '... thinned within it, the spike kept' \
	"$(body | json '[j["count"], j["sampled"], len(j["points"]) <= 100, max(p[2] for p in j["points"]), all(2000 <= p[0] <= 2999 for p in j["points"])]')" \
	'[1000, true, true, 99, true]'
req GET "/api/v1/runs/$ID/metrics/loss?from=4000"
is '... from alone: to the end' "$(body | json '[j["count"], j["points"][-1][0]]')" '[1000, 4999]'
req GET "/api/v1/runs/$ID/metrics/loss?from=9000&to=9999"
is '... past the end: an empty series' "$(body | json '[j["count"], j["points"]]')" '[0, []]'
req GET "/api/v1/runs/$ID/metrics/loss?from=10&to=5"
is '... from after to: 400' "$STATUS" 400
req GET "/api/v1/runs/$ID/metrics/loss?from=-1"
is '... a negative step: 400' "$STATUS" 400
req GET "/api/v1/runs/$ID/metrics/loss?to=x"
is '... not a number: 400' "$STATUS" 400
post "/api/v1/runs/$ID/metrics" '{"metrics":[{"key":"a","value":1},{"key":"b","value":"x"}]}'
is 'a bad value: 400' "$STATUS" 400
like '... naming the member' "$(body | json 'j["error"]["message"]')" 'metrics\[1\]\.value'
post "/api/v1/runs/$ID/metrics" '{"metrics":[{"key":"../up","value":1}]}'
is 'a bad key: 400' "$STATUS" 400
post "/api/v1/runs/$ID/metrics" '{"metrics":[{"key":"a","value":1,"step":-3}]}'
is 'a negative step: 400' "$STATUS" 400
post "/api/v1/runs/$ID/metrics" '{"metrics":[{"key":"a",'
is 'truncated JSON: 400' "$STATUS" 400
like '... with the offset' "$(body | json 'j["error"]["message"]')" 'offset [0-9]+'
req POST "/api/v1/runs/$ID/metrics" --data-binary '{"metrics":[]}' -H 'Content-Type: text/plain'
is 'a body that is not JSON by type: 415' "$STATUS" 415
post /api/v1/runs/ffffffffffff/metrics '{"metrics":[{"key":"a","value":1}]}'
is 'metrics into an unknown run: 404' "$STATUS" 404

# --- params, properties, create, finish --------------------------------------------
before=$(store_digest)
post "/api/v1/runs/$ID/params" '{"params":{"new":1,"lr":0.5}}'
is 'a param with another value: 409' "$STATUS" 409
is '... code conflict' "$(errcode)" conflict
is 'the conflict changed nothing' "$(store_digest)" "$before"
post "/api/v1/runs/$ID/params" '{"params":{"lr":0.1,"opt":{"name":"adam","beta":0.9}}}'
is 'params (same value again, nested): 200' "$STATUS" 200
req GET "/api/v1/runs/$ID"
is 'nested params are flattened' "$(body | json 'j["params"]["opt.name"]')" adam
post "/api/v1/runs/$ID/params" '{"params":{"x":[1]}}'
is 'an array param: 400' "$STATUS" 400
post "/api/v1/runs/$ID/properties" '{"properties":{"data_version":"v3"}}'
is 'properties: 200' "$STATUS" 200

post /api/v1/runs '{"project":"remote","name":"r1","tags":["api"],"params":{"lr":0.01},"note":"from http"}'
is 'create a run: 201' "$STATUS" 201
RID=$(body | json 'j["id"]')
is 'the run has its params' "$(body | json 'j["params"]["lr"]')" 0.01
is 'and its note' "$(body | json 'j["note"]')" 'from http'
post /api/v1/runs '{"project":"bad//name"}'
is 'a bad project name: 400' "$STATUS" 400
post /api/v1/runs '{"parent":"ffffffffffff"}'
is 'an unknown parent: 404' "$STATUS" 404
post /api/v1/runs '{"params":{"a":1,"a":2}}'
is 'one param twice: 409' "$STATUS" 409
post "/api/v1/runs/$RID/finish" '{"status":"failed","exit_code":3}'
is 'finish: 200' "$STATUS" 200
is 'status failed' "$(body | json 'j["status"]')" failed
is 'exit code kept' "$(body | json 'j["exit_code"]')" 3
post "/api/v1/runs/$RID/finish" '{}'
is 'finishing twice: 409' "$STATUS" 409
post "/api/v1/runs/$ID/finish" '{"status":"running"}'
is 'finish with status running: 400' "$STATUS" 400

# --- items per request: linear, and capped with 413 -------------------------------------
# gen FILE KIND N [EXTRA]: a request body with N items of KIND
gen() {
	python3 - "$@" <<'EOF'
import json, sys
f, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
extra = sys.argv[4] if len(sys.argv) > 4 else ""
many = {f"p{i}": i for i in range(n)}
if kind == "params":
    b = {"params": {"deep": many} if extra == "nested" else many}
    if extra == "long":
        many["zz_long"] = "x" * (64 * 1024 + 1)
    if extra == "dup":
        many["a.b"] = 1
        many["a"] = {"b": 2}
elif kind == "create":
    b = {"project": "big", "name": "big-" + extra, "params": many}
    if extra == "long":
        many["zz_long"] = "x" * (64 * 1024 + 1)
elif kind == "metrics":
    b = {"metrics": [{"key": "m", "value": i, "step": i} for i in range(n)]}
elif kind == "properties":
    b = {"properties": {f"k{i}": "v" for i in range(n)}}
elif kind == "tags":
    b = {"tags": [f"t{i}" for i in range(n)]}
json.dump(b, open(f, "w"))
EOF
}
bigpost() { req POST "$1" -H 'Content-Type: application/json' --data-binary @"$T/big.json" --max-time 60; }
BIG=$("$CAIRN" start -p big -n target)
before=$(store_digest)
for spec in 'params 10001' 'params 10001 nested' 'create 10001' 'metrics 100001' 'properties 10001' 'tags 1001'; do
	set -- $spec
	gen "$T/big.json" "$@"
	case $1 in create) bigpost /api/v1/runs ;; *) bigpost "/api/v1/runs/$BIG/$1" ;; esac
	is "one past the cap ($spec): 413" "$STATUS" 413
	is '... code too_large' "$(errcode)" too_large
	like '... naming the cap' "$(body | json 'j["error"]["message"]')" 'too many .*at most [0-9]+'
done
gen "$T/big.json" params 9999 long
bigpost "/api/v1/runs/$BIG/params"
is 'a batch with one value over 64 KiB: 413' "$STATUS" 413
gen "$T/big.json" params 9000 dup
bigpost "/api/v1/runs/$BIG/params"
is 'a batch naming a key twice (a.b and a: {b}): 409' "$STATUS" 409
gen "$T/big.json" create 9999 long
bigpost /api/v1/runs
is 'creating a run with a value over 64 KiB: 413' "$STATUS" 413
is 'nothing of any of them was stored (no run created either)' "$(store_digest)" "$before"
gen "$T/big.json" params 10000
bigpost "/api/v1/runs/$BIG/params"
is 'a batch of 10,000 params (the cap): 200' "$STATUS" 200
is '... all logged' "$(body | json 'j["logged"]')" 10000
is '... all stored' "$("$CAIRN" show "$BIG" --json | json 'len(j["params"])')" 10000
post "/api/v1/runs/$BIG/params" '{"params":{"p0":0,"p9999":"another"}}'
is 'a conflict at the end of a batch: 409' "$STATUS" 409
gen "$T/big.json" create 10000 ok
bigpost /api/v1/runs
is 'creating a run with 10,000 params: 201' "$STATUS" 201
is '... all of them' "$(body | json 'len(j["params"])')" 10000

# --- tags and notes -------------------------------------------------------------------
post "/api/v1/runs/$ID/tags" '{"tags":["keep","exp/1"]}'
is 'add tags: 200' "$STATUS" 200
is 'tags now' "$(body | json 'j["tags"]')" '["base", "exp/1", "keep"]'
del "/api/v1/runs/$ID/tags/exp/1"
is 'remove a tag with a slash: 200' "$STATUS" 200
is 'tags after' "$(body | json 'j["tags"]')" '["base", "keep"]'
req PUT "/api/v1/runs/$ID/note" -H 'Content-Type: application/json' --data-binary '{"note":"<b>hi</b>"}'
is 'set the note: 200' "$STATUS" 200
is 'note stored as given' "$("$CAIRN" show "$ID" --json | json 'j["note"]')" '<b>hi</b>'
del "/api/v1/runs/$ID/note"
is 'clear the note: 200' "$STATUS" 200
post "/api/v1/runs/$ID/note" '{"note":5}'
is 'a note that is not a string: 400' "$STATUS" 400

# --- writes from other sites' pages (CSRF) ---------------------------------------------
# What a page of another site can make a browser send without a CORS
# preflight: no type or text/plain, form or multipart bodies, and its own
# Origin and Sec-Fetch-Site.  None of it may change the store.
TGT=$("$CAIRN" start -p csrf -n target -t keep)
J='Content-Type: application/json'
before=$(store_digest)
req POST "/api/v1/runs/$TGT/finish"
is 'a body-less POST without a type (a no-cors fetch): 415' "$STATUS" 415
is '... code unsupported_media_type' "$(errcode)" unsupported_media_type
req POST "/api/v1/runs/$TGT/heartbeat"
is 'a body-less heartbeat without a type: 415' "$STATUS" 415
req POST "/api/v1/runs/$TGT/finish" -H 'Content-Type: text/plain' --data-binary '{}'
is 'text/plain JSON: 415' "$STATUS" 415
req POST "/api/v1/runs/$TGT/tags" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary '{"tags":["pwned"],"x":"="}'
is 'a form whose body is JSON: 415' "$STATUS" 415
req POST "/api/v1/runs/$TGT/tags" -F 'tags=pwned'
is 'a multipart form: 415' "$STATUS" 415
req POST "/api/v1/runs/$TGT/tags" -H 'Content-Type: application/jsonp' --data-binary '{"tags":["pwned"]}'
is 'a type that only starts like JSON: 415' "$STATUS" 415
req DELETE "/api/v1/runs/$TGT/tags/keep"
is 'a DELETE without a type: 415' "$STATUS" 415
req DELETE "/api/v1/runs/$TGT"
is 'deleting a run without a type: 415' "$STATUS" 415
post "/api/v1/runs/$TGT/finish" '{}' -H 'Origin: http://evil.example'
is 'JSON from another origin: 403' "$STATUS" 403
is '... code forbidden' "$(errcode)" forbidden
post "/api/v1/runs/$TGT/finish" '{}' -H "Origin: http://127.0.0.1:$((PORT + 1))"
is 'JSON from another port of the same host: 403' "$STATUS" 403
post "/api/v1/runs/$TGT/finish" '{}' -H 'Origin: null'
is 'JSON from an opaque origin (sandbox, data:, file:): 403' "$STATUS" 403
req POST "/api/v1/runs/$TGT/finish" -H 'Origin: http://evil.example'
is 'a body-less POST from another origin: 403' "$STATUS" 403
post "/api/v1/runs/$TGT/finish" '{}' -H 'Sec-Fetch-Site: cross-site'
is 'Sec-Fetch-Site: cross-site: 403' "$STATUS" 403
post "/api/v1/runs/$TGT/finish" '{}' -H 'Sec-Fetch-Site: same-site'
is 'Sec-Fetch-Site: same-site: 403' "$STATUS" 403
del "/api/v1/runs/$TGT/tags/keep" -H 'Sec-Fetch-Site: cross-site'
is 'a typed DELETE from another site: 403' "$STATUS" 403
req PUT "/api/v1/runs/$TGT/note" -H "$J" -H 'Origin: http://evil.example' --data-binary '{"note":"pwned"}'
is 'a note from another origin: 403' "$STATUS" 403
req POST /api/v1/runs -H 'Content-Type: text/plain' --data-binary '{"name":"pwned"}'
is 'creating a run with a text/plain body: 415' "$STATUS" 415
is 'none of it changed the store' "$(store_digest)" "$before"
is 'the run is still running' "$("$CAIRN" show "$TGT" --json | json 'j["status"]')" running
req OPTIONS "/api/v1/runs/$TGT/finish" -H "Origin: http://evil.example" -H 'Access-Control-Request-Method: POST'
unlike 'a CORS preflight is never granted' "$STATUS" '^2'
post "/api/v1/runs/$TGT/heartbeat" '' -H "Origin: $URL" -H 'Sec-Fetch-Site: same-origin'
is "the UI's own page (same origin): 200" "$STATUS" 200
req POST "/api/v1/runs/$TGT/heartbeat" -H "$J" -H 'Sec-Fetch-Site: none'
is 'a request the user made (Sec-Fetch-Site: none): 200' "$STATUS" 200
req POST "/api/v1/runs/$TGT/finish" -H 'Content-Type: application/json; charset=utf-8'
is 'a client without Origin, a body-less typed POST: 200' "$STATUS" 200
is '... finished the run' "$(body | json 'j["status"]')" finished

# --- artifacts --------------------------------------------------------------------------
req GET "/api/v1/runs/$ID/artifacts?prefix=logs/"
is 'list artifacts by prefix' "$(body | json '[a["path"] for a in j["artifacts"]]')" '["logs/notes.txt"]'
ctype=$(curl -s -o "$T/dl" -D - "$URL/api/v1/runs/$ID/artifacts/logs/notes.txt" | tr -d '\r')
is 'download: the bytes' "$(cat "$T/dl")" 'hello artifact'
like 'download: text content type' "$ctype" 'Content-Type: text/plain; charset=utf-8'
like 'download: sandboxed' "$ctype" 'Content-Security-Policy: sandbox'
hdr=$(curl -s -o /dev/null -D - "$URL/api/v1/runs/$ID/artifacts/images/samples/00000003.png" | tr -d '\r')
like 'an image is served inline as image/png' "$hdr" 'Content-Type: image/png'
like '... inline' "$hdr" 'Content-Disposition: inline'
hdr=$(curl -s -o /dev/null -D - "$URL/api/v1/runs/$ID/artifacts/page.html" | tr -d '\r')
like 'HTML is an attachment, never rendered in the UI origin' "$hdr" 'Content-Disposition: attachment'
# Byte ranges (RFC 9110): notes.txt is "hello artifact\n", 15 bytes.
# range SPEC [curl args]: GET it with that Range; headers in $T/hdr
range() { local r=$1; shift; req GET "/api/v1/runs/$ID/artifacts/logs/notes.txt" -H "Range: $r" -D "$T/hdr" "$@"; }
crange() { tr -d '\r' <"$T/hdr" | sed -n 's/^Content-Range: //Ip'; }
range bytes=0-4
is 'a byte range: 206' "$STATUS" 206
is '... its bytes' "$(body)" hello
is '... Content-Range' "$(crange)" 'bytes 0-4/15'
range bytes=6-
is 'an open range: 206' "$STATUS" 206
is '... to the end' "$(body)" artifact
is '... Content-Range' "$(crange)" 'bytes 6-14/15'
range bytes=-9
is 'a suffix range: 206' "$STATUS" 206
is '... the last 9 bytes' "$(body)" artifact
is '... Content-Range' "$(crange)" 'bytes 6-14/15'
range bytes=-100
is 'a suffix longer than the file: all of it' "$(crange)" 'bytes 0-14/15'
range bytes=10-1000
is 'a range past the end is cut at the end' "$(crange)" 'bytes 10-14/15'
range bytes=14-14
is 'the last byte alone' "$STATUS/$(crange)" '206/bytes 14-14/15'
range bytes=15-
is 'a first byte past the end: 416' "$STATUS" 416
is '... Content-Range: bytes */LENGTH' "$(crange)" 'bytes */15'
is '... code range_not_satisfiable' "$(errcode)" range_not_satisfiable
unlike '... not cached as the file' "$(tr -d '\r' <"$T/hdr")" 'immutable|ETag'
range bytes=100-200
is 'a range wholly past the end: 416' "$STATUS/$(crange)" '416/bytes */15'
range bytes=-0
is 'an empty suffix: 416' "$STATUS" 416
range bytes=5-1
is 'last before first is invalid, so ignored: 200' "$STATUS" 200
is '... the whole file' "$(body)" 'hello artifact'
is '... no Content-Range' "$(crange)" ''
for bad in 'bytes=abc' 'items=0-4' 'bytes=0-1,3-4' 'bytes=-' 'bytes 0-4'; do
	range "$bad"
	is "an unusable Range '$bad' is ignored: 200, whole" "$STATUS $(body)" '200 hello artifact'
done
etag=$(curl -s -o /dev/null -D - "$URL/api/v1/runs/$ID/artifacts/logs/notes.txt" | tr -d '\r' | sed -n 's/^ETag: //Ip')
range bytes=0-4 -H "If-Range: $etag"
is 'If-Range with the ETag: 206' "$STATUS" 206
range bytes=0-4 -H 'If-Range: "other"'
is 'If-Range with another validator: the whole file' "$STATUS $(body)" '200 hello artifact'
for bad in '..%2F..%2Fcairn.db' '%2e%2e/%2e%2e/cairn.db' 'logs/..%2F..%2Fx' '%252e%252e/x' 'logs%255c..%255cx' '..%5Cx'; do
	req GET "/api/v1/runs/$ID/artifacts/$bad" --path-as-is
	is "traversal '$bad': 400" "$STATUS" 400
done
req GET "/api/v1/runs/$ID/artifacts//etc/passwd" --path-as-is
is 'an absolute artifact path: 400' "$STATUS" 400
req GET "/api/v1/runs/$ID/artifacts/nope.txt"
is 'an unknown artifact: 404' "$STATUS" 404
oid=$(store_sql "SELECT oid FROM artifacts WHERE path = 'logs/notes.txt'")
mv "$OBJECTS/${oid:0:2}/${oid:2}" "$T/saved-object"
req GET "/api/v1/runs/$ID/artifacts/logs/notes.txt"
is 'an artifact whose object the store lost: 500' "$STATUS" 500
is '... code internal' "$(errcode)" internal
mv "$T/saved-object" "$OBJECTS/${oid:0:2}/${oid:2}"

req GET "/api/v1/runs/$ID/code"
is 'a run without a code snapshot: 404' "$STATUS" 404

# --- queries, groups, diffs ----------------------------------------------------------
req GET '/api/v1/query?q=status%20%3D%20finished'
{
	is 'a valid query: 200' "$STATUS" 200
	req GET '/api/v1/runs?q=params.lr%20%3E'
	is 'an invalid query: 400' "$STATUS" 400
	is '... code invalid_query' "$(errcode)" invalid_query
	like '... with its position' "$(body | json 'j["error"]["position"]')" '^[0-9]+$'
	req GET '/api/v1/runs?q=params.lr%20%3E%200.15&columns=name'
	is 'a query filters' "$(body | json '[r["name"] for r in j["runs"]]')" '["beta"]'
	req GET '/api/v1/runs?project=demo&sort=params.lr&columns=name'
	is 'sort ascending' "$(body | json '[r["name"] for r in j["runs"]]')" '["alpha", "beta"]'
	req GET '/api/v1/runs?project=demo&group=params.lr'
	is 'group by a param' "$(body | json 'len(j["groups"])')" 2
	req GET "/api/v1/diff?a=$ID&b=beta"
	is 'the full diff of two runs: 200' "$STATUS" 200
}

# --- data diffs compare what the store records, never the server's files ------------------
req GET "/api/v1/diff/data?a=$ID&b=beta"
is 'data diff of two runs: 200' "$STATUS" 200
is '... the changed file' "$(body | json '[d["changed"] for d in j["datasets"]]')" '[["b.txt"]]'
req GET "/api/v1/diff/data?a=$ID:ds&b=beta:ds"
is 'data diff of RUN:NAME: the same' "$(body | json '[d["changed"] for d in j["datasets"]]')" '[["b.txt"]]'
ma=$("$CAIRN" show "$ID" --json | json 'j["datasets"][0]["manifest"]')
mb=$("$CAIRN" show "$BETA" --json | json 'j["datasets"][0]["manifest"]')
req GET "/api/v1/diff/data?a=$ma&b=$mb"
is 'data diff of two recorded manifests: 200' "$STATUS" 200
req GET "/api/v1/diff/data?a=$ID:nope&b=beta"
is 'a dataset the run lacks: 404' "$STATUS" 404
for p in /etc/passwd /etc "$T/notes.txt" notes.txt "$T/ds" ds . /usr; do
	req GET /api/v1/diff/data -G --max-time 20 --data-urlencode "a=$p" --data-urlencode "b=$p"
	is "data diff of a path on the server ('$p'): 404" "$STATUS" 404
	unlike "... no digest of it in the answer" "$(body)" 'digest|files'
done
req GET /api/v1/diff/data -G --data-urlencode "a=$T/ds" --data-urlencode "b=$ID"
is 'a path against a run: 404' "$STATUS" 404
like '... the error says what is accepted' "$(body | json 'j["error"]["message"]')" 'not a run, RUN:DATASET or a stored manifest'
: >"$T/$ma" # a file named like a manifest id in the server's directory
req GET "/api/v1/diff?a=$ID&b=beta"
is 'the full diff compares stored manifests, not a file named like one' "$(body | json '[d["files"]["changed"] for d in j["data"]["datasets"]]')" '[["b.txt"]]'
rm -f "$T/$ma"

# --- routing, methods, hosts ----------------------------------------------------------
req PATCH /api/v1/runs
is 'a method the route lacks: 405' "$STATUS" 405
req GET /api/v1/nothing
is 'an unknown endpoint: 404' "$STATUS" 404
req GET /api/2.0/mlflow/experiments/search
is 'the MLflow prefix is MLflow'"'"'s API (docs/mlflow.md)' "$STATUS" 200
req GET /api/2.0/mlflow/nothing
is 'an unknown MLflow endpoint: 404 in MLflow'"'"'s error shape' \
	"$STATUS $(json 'j["error_code"]' <"$T/body" 2>/dev/null)" "404 ENDPOINT_NOT_FOUND"
req GET /api/v1/projects -H 'Host: evil.example:80'
is 'a non-loopback Host: 400 (DNS rebinding)' "$STATUS" 400
req GET /runs
is 'the UI is served for client routes' "$STATUS" 200
like '... as HTML' "$(body)" '<!doctype html>'
req GET /assets/app.js
is 'the UI script is embedded' "$STATUS" 200
req GET /nope.js
is 'a missing file: 404' "$STATUS" 404
del "/api/v1/runs/$RID"
is 'delete a run: 200' "$STATUS" 200
req GET "/api/v1/runs/$RID"
is 'a deleted run is gone: 404' "$STATUS" 404

# --- limits: body cap and idle timeout (a second server) ---------------------------------
# --- connections that end early -----------------------------------------------------------
# Clients that close or reset mid-request and mid-answer, half requests, and
# connections still open in the middle of a body or an answer when the server
# stops.  The server must keep answering, store nothing from a cut body, and
# stop cleanly with nothing for LeakSanitizer to report (checked at stop).
python3 - "$PORT" "$ID" >"$T/early.out" 2>&1 <<'EOF' &
import json, socket, struct, sys, time
port, rid = int(sys.argv[1]), sys.argv[2]
def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(2)
    return s
def recv(s, n):
    try:
        return s.recv(n)
    except OSError:
        return b""
def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
body = json.dumps({"metrics": [{"key": "cut", "value": i, "step": i} for i in range(5000)]}).encode()
head = (f"POST /api/v1/runs/{rid}/metrics?sync=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
chunked = (f"POST /api/v1/runs/{rid}/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
big = f"GET /api/v1/runs/{rid}/metrics/loss?raw=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
cases = [
    lambda s: (s.sendall(b"GET /api/v1/ HTT"), s.close()),                    # half a request line
    lambda s: (s.sendall(head), s.close()),                                   # headers, no body
    lambda s: (s.sendall(head + body[: len(body) // 2]), s.close()),          # half a body
    lambda s: (s.sendall(head + body[: len(body) // 2]), rst(s)),             # ... reset
    lambda s: (s.sendall(head + body[:1000]), s.shutdown(socket.SHUT_WR), recv(s, 100), s.close()),
    lambda s: (s.sendall(chunked + b"%x\r\n" % len(body) + body[:150000]), rst(s)),
    lambda s: (s.sendall(big), s.close()),                                    # a big answer, unread
    lambda s: (s.sendall(big), recv(s, 1000), rst(s)),                         # ... reset mid-answer
    lambda s: (s.sendall(big * 3 + b"GET /api/v1/ HTTP/1.1\r\n"), s.close()), # pipelined, cut
]
for i in range(3):
    for c in cases:
        c(conn())
keep = [conn() for _ in range(3)]
keep[0].sendall(head + body[:100000])     # a body in progress at shutdown
keep[1].sendall(big * 2)                   # answers nobody reads
keep[2].sendall(b"GET /api/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers in progress
print("ready", flush=True)
time.sleep(30)
EOF
early=$!
PIDS+=($early)
for _ in $(seq 1 100); do grep -q ready "$T/early.out" 2>/dev/null && break; sleep 0.1; done
is 'the clients that end early have done their worst' "$(cat "$T/early.out")" ready
req GET /api/v1/
is 'the server still answers' "$STATUS" 200
req GET "/api/v1/runs/$ID/metrics/cut"
is 'nothing was stored from a body that was cut' "$STATUS" 404
stop_server "$SRV" "$SRVERR" 'the server, with connections open mid-request'
kill "$early" 2>/dev/null
wait "$early" 2>/dev/null

start_server --max-body 2048 --timeout 1
big=$(python3 -c 'print("{\"note\":\"" + "x" * 5000 + "\"}")')
post "/api/v1/runs/$ID/note" "$big"
is 'a body over --max-body: 413' "$STATUS" 413
is '... code too_large' "$(errcode)" too_large
req POST "/api/v1/runs/$ID/note" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "$big"
is 'a chunked body over the cap: 413' "$STATUS" 413
post "/api/v1/runs/$ID/note" '{"note":"small"}'
is 'a body under the cap still works' "$STATUS" 200
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /api/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n' >&3
sleep 3
timeout 5 cat <&3 >/dev/null
is 'a stalled request is closed after the timeout' "$?" 0
exec 3<&-
stop_server "$SRV" "$SRVERR" 'the second server'

done_testing
