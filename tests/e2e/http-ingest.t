#!/usr/bin/env bash
# tests/e2e/http-ingest.t — POST /api/v1/runs/{run}/metrics through both of
# its decoders (docs/internals/ingest.md): the same points sent in the
# common shape (the fast decoder) and in shapes only the general JSON path
# reads (escapes, other members, a member twice, step -0, whitespace) land
# the same rows; a bad point after good ones gets the general path's
# message, naming the member, and writes nothing; automatic steps go on
# from batch to batch.  Over loopback with curl, on a --no-auth `cairn ui`.
. "$(dirname "$0")/lib.sh"
plan 20

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

"$CAIRN" init >/dev/null
A=$("$CAIRN" start -p ingest -n fast)
B=$("$CAIRN" start -p ingest -n general)
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/srv.out" 2>"$T/srv.err" &
SRV=$!
PIDS+=($SRV)
for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')

req() {
	local m=$1 p=$2; shift 2
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$URL$p")
}
body() { cat "$T/body"; }
post() { req POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }
msg() { body | json 'j["error"]["message"]'; }
history() { req GET "/api/v1/runs/$1/metrics/$2?raw=1" && body | json 'j["points"]'; }

# --- the same points, both ways ------------------------------------------------------
post "/api/v1/runs/$A/metrics?sync=1" '{"metrics":[{"key":"loss","value":0.5,"step":0,"timestamp":1700000000.5},{"key":"loss","value":0.25,"step":1,"timestamp":1700000001},{"key":"acc","value":"NaN","step":0,"timestamp":1700000002},{"key":"acc","value":1e-300,"step":5,"timestamp":1700000003},{"key":"acc","value":-0.0001234,"step":6,"timestamp":1700000004}]}'
is 'the common shape: 200' "$STATUS" 200
is '... every point logged' "$(body | json 'j["logged"]')" 5
post "/api/v1/runs/$B/metrics?sync=1" ' { "extra" : true, "metrics" : [
  {"key":"lo\u0073s","value":0.5,"step":-0,"timestamp":1700000000.5},
  {"key":"loss","value":0.25,"step":1,"timestamp":1700000001,"note":"x"},
  {"key":"acc","value":"NaN","value":7,"step":0,"timestamp":1700000002},
  {"key":"acc","value":1E-300,"step":5,"timestamp":1700000003},
  {"key":"acc","value":-1.234e-4,"step":6,"timestamp":1700000004} ] } '
is 'shapes only the general path reads: 200' "$STATUS" 200
is '... every point logged' "$(body | json 'j["logged"]')" 5
history "$A" loss >"$T/a-loss"
history "$B" loss >"$T/b-loss"
is 'loss: the same rows both ways' "$(cat "$T/b-loss")" "$(cat "$T/a-loss")"
is '... and the rows sent' "$(cat "$T/a-loss")" '[[0, 1700000000.5, 0.5], [1, 1700000001, 0.25]]'
history "$A" acc >"$T/a-acc"
history "$B" acc >"$T/b-acc"
is 'acc: the same rows both ways (a member twice: the first)' "$(cat "$T/b-acc")" "$(cat "$T/a-acc")"
is '... NaN, the tiny and the negative value as sent' "$(cat "$T/a-acc")" \
	'[[0, 1700000002, "NaN"], [5, 1700000003, 1e-300], [6, 1700000004, -0.0001234]]'

# --- bad points after good ones: the general path's message, nothing written --------
before=$(store_digest)
bad() {
	post "/api/v1/runs/$A/metrics" "$1"
	is "$2: 400" "$STATUS" 400
	is "... $3" "$(msg)" "$3"
}
bad '{"metrics":[{"key":"a","value":1},{"key":"b","value":"x"}]}' 'a value that is not a number' \
	'metrics[1].value: expected a number (or "NaN", "Infinity", "-Infinity")'
bad '{"metrics":[{"key":"a","value":1},{"key":"../up","value":1}]}' 'a bad key' \
	"metrics[1].key: metric key '../up' contains a '..' component"
bad '{"metrics":[{"key":"a","value":1},{"key":"a","value":1,"step":1.5}]}' 'a step that is not an integer' \
	'metrics[1].step: expected an integer from 0 to 9223372036854775807'
bad '{"metrics":[{"key":"a","value":1},{"key":"a","value":1,"timestamp":253402300800}]}' 'a timestamp past 9999' \
	'metrics[1].timestamp: expected seconds since the epoch, at most 253402300799 (the end of year 9999)'
bad '{"metrics":[{"key":"a","value":1},{"key":"a"' 'a body cut short' \
	"invalid JSON body: expected ',' or '}' at offset 44"
is 'no bad batch wrote anything' "$(store_digest)" "$before"

# --- automatic steps go on from batch to batch ------------------------------------------
post "/api/v1/runs/$A/metrics" '{"metrics":[{"key":"auto","value":1},{"key":"auto","value":2},{"key":"auto","value":3}]}'
post "/api/v1/runs/$A/metrics?sync=1" '{"metrics":[{"key":"auto","value":4},{"key":"auto","value":5}]}'
is 'automatic steps across batches' "$(history "$A" auto | json '[p[0] for p in j]')" '[0, 1, 2, 3, 4]'
