#!/usr/bin/env bash
# tests/e2e/read-pool.t — the server's read pool (docs/internals/server.md,
# "Read pool"): reads run on peer handles of the store, writes on the one
# writer, so
#   - a read right after an acknowledged (unsynced) metric batch sees every
#     point of it, with the pool and without (--readers 0), for the client
#     (token) that logged it; another token sees it once committed;
#   - many reads at once, beside a writer, each get their whole answer;
#   - a write made on the writer is what the next read sees;
#   - --threads and --readers take bounded numbers (usage error otherwise).
# Over loopback with curl, on a --no-auth `cairn ui` (SQLite, or PostgreSQL
# with CAIRN_TEST_PG=1: a connection per reader).
. "$(dirname "$0")/lib.sh"
plan 18

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

"$CAIRN" init >/dev/null
for i in $(seq 1 30); do "$CAIRN" run -p pool -n "r$i" -- true >/dev/null 2>&1; done
A=$("$CAIRN" start -p pool -n logged)

serve() {
	"$CAIRN" ui --listen 127.0.0.1:0 --quiet "$@" >"$T/srv.out" 2>"$T/srv.err" &
	SRV=$!
	PIDS+=($SRV)
	for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
	URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
}
stop() { kill "$SRV"; wait "$SRV" 2>/dev/null; }
# batch FROM N: N points of loss from step FROM, acknowledged before committed
batch() {
	python3 -c 'import json,sys; a,n=map(int,sys.argv[1:]); print(json.dumps({"metrics":[{"key":"loss","value":1.0/(s+1),"step":s} for s in range(a,a+n)]}))' "$1" "$2" |
		curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- "$URL/api/v1/runs/$A/metrics"
}
points() { curl -s "$URL/api/v1/runs/$A/metrics/loss?raw=1" | json 'len(j["points"])'; }

serve --threads 4 --readers 3
is "an unsynced batch is acknowledged" "$(batch 0 5000)" 200
is "and a read at once sees all of it (pool)" "$(points)" 5000

# eight readers at once, and a writer beside them
for k in $(seq 1 8); do
	( for _ in 1 2 3; do curl -s "$URL/api/v1/runs?limit=100&sort=name" | json 'len(j["runs"])'; done >"$T/read.$k" ) &
done
for b in 1 2 3 4; do batch $((5000 * b)) 5000 >>"$T/writes"; done
wait $(jobs -p | grep -v "^$SRV$") 2>/dev/null
is "each of 24 concurrent reads got every run" "$(cat "$T"/read.* | sort | uniq -c | sed 's/^ *//')" "24 31"
is "every batch beside them acknowledged" "$(cat "$T/writes")" "200200200200"
is "and every point is read back" "$(points)" 25000
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
	--data-binary '{"note":"read me"}' "$URL/api/v1/runs/$A/note")
is "a write on the writer" "$code" 200
is "is what the next read sees" "$(curl -s "$URL/api/v1/runs/$A" | json 'j["note"]')" "read me"
stop

serve --readers 0
is "without the pool: a batch acknowledged" "$(batch 25000 100)" 200
is "and read back at once" "$(points)" 25100
stop

# Read-your-writes is per client (its token): a client reads every point
# acknowledged to it; another client's read does not wait for them, and
# sees them once the writer commits (within its 200 ms interval).
WTOK=$("$CAIRN" token create --scope write --name pool-writer)
RTOK=$("$CAIRN" token create --scope read --name pool-reader)
serve --auth --threads 4 --readers 3
tbatch() {
	python3 -c 'import json,sys; a,n=map(int,sys.argv[1:]); print(json.dumps({"metrics":[{"key":"loss","value":1.0/(s+1),"step":s} for s in range(a,a+n)]}))' "$1" "$2" |
		curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $WTOK" -H 'Content-Type: application/json' --data-binary @- "$URL/api/v1/runs/$A/metrics"
}
tpoints() { curl -s -H "Authorization: Bearer $1" "$URL/api/v1/runs/$A/metrics/loss?raw=1" | json 'len(j["points"])'; }
is "a token's batch is acknowledged" "$(tbatch 25100 5000)" 200
is "and that token's read at once sees all of it" "$(tpoints "$WTOK")" 30100
ok=0
for b in 1 2 3 4 5; do
	[ "$(tbatch $((30100 + 1000 * b)) 1000)" = 200 ] || break
	[ "$(tpoints "$WTOK")" = $((30100 + 1000 * b)) ] || break
	ok=$b
done
is "five more batches, each read back at once by its writer" "$ok" 5
seen=0
for _ in $(seq 1 50); do
	seen=$(tpoints "$RTOK")
	[ "$seen" = 35100 ] && break
	sleep 0.1
done
is "another token sees them once committed" "$seen" 35100
stop

fails "--threads 0" 2 "$CAIRN" ui --listen 127.0.0.1:0 --threads 0
like "says what it takes" "$(err)" "--threads needs a number from 1 to 256, got '0'"
fails "--readers -1" 2 "$CAIRN" ui --listen 127.0.0.1:0 --readers -1
like "says what it takes" "$(err)" "--readers needs a number from 0 to 256, got '-1'"
fails "--readers many" 2 "$CAIRN" ui --listen 127.0.0.1:0 --readers many
done_testing
