#!/usr/bin/env bash
# tests/e2e/pg-servers.t — several `cairn server` processes on one PostgreSQL
# database (issue 13): two servers on loopback serve and accept writes at the
# same time; clients create runs, log params and stream metrics through both;
# one server is killed (SIGKILL) mid-stream and restarted on its port.  Then
# every point a server acknowledged is in the database exactly once, the runs'
# sequence numbers are unique, write-once params hold across servers, and
# both servers answer with the same data.  Last, clients log points without
# steps to one run through both servers: every step is distinct.
#
# "Acknowledged" is a 200 to POST .../metrics?sync=1, which commits before it
# answers (docs/http-api.md); a client whose request fails (the server killed
# under it) sends the same batch to the other server, as a client of a
# load-balanced pair does.  Resending a batch that had committed is harmless:
# a point is keyed by (run, key, step, timestamp) and replaced, never doubled.
# Always on PostgreSQL: a cluster of its own unless CAIRN_TEST_PG_URI names one.
CAIRN_TEST_PG=1
source "$(dirname "$0")/lib.sh"
STORE=$CAIRN_DIR
DB=${STORE%&objects=*}
sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$DB" -c "$1"; }

PIDS=()
cleanup_servers() { local p; for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'cleanup_servers; _cleanup' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_server NAME PORT: `cairn server --store URI` on 127.0.0.1:PORT in the
# background; its pid in SRV_NAME, true once it answers GET /api/v1/
start_server() {
	"$CAIRN" server --store "$STORE" --listen "127.0.0.1:$2" --no-auth --quiet >>"$T/$1.out" 2>>"$T/$1.err" &
	local pid=$!
	PIDS+=("$pid")
	printf -v "SRV_$1" %s "$pid"
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$2/api/v1/" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

"$CAIRN" init "$STORE" >/dev/null
PA=$(free_port)
PB=$(free_port)
ok "server A on the database" start_server A "$PA"
ok "server B on the same database" start_server B "$PB"
A=http://127.0.0.1:$PA B=http://127.0.0.1:$PB

# The clients: NC processes, each creating its run through one server and
# streaming NB batches of BS points through both in turn, with sync=1.
NC=6 NB=40 BS=250
cat >"$T/client.py" <<'PY'
import json, sys, time, urllib.request, urllib.error

i, nb, bs, ack = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
servers = sys.argv[5:]

def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())

def send(k, path, body, want):
    """Send to servers[k], then the others in turn until one acknowledges;
    a refused connection, a reset or a 5xx is retried, anything else fails."""
    deadline = time.time() + 60
    while True:
        base = servers[k % len(servers)]
        try:
            st, j = post(base, path, body)
            if st == want:
                return j
            sys.exit("client %d: %s %s answered %d" % (i, base, path, st))
        except urllib.error.HTTPError as e:
            if e.code < 500:
                sys.exit("client %d: %s %s answered %d: %s" % (i, base, path, e.code, e.read()))
        except (OSError, ValueError):
            pass
        if time.time() > deadline:
            sys.exit("client %d: no server acknowledged %s" % (i, path))
        with open(ack, "a") as f:
            f.write("retry %d %s\n" % (i, path))
        k += 1
        time.sleep(0.05)

run = send(i, "/api/v1/runs", {"project": "team", "name": "client-%d" % i,
                               "params": {"client": i, "lr": 0.001 * (i + 1)}}, 201)
rid = run["id"]
# params through the other server: new keys are fine, the same value again is fine
send(i + 1, "/api/v1/runs/%s/params" % rid, {"params": {"batch": bs, "client": i}}, 200)
with open(ack, "a") as f:
    f.write("run %d %s %d\n" % (i, rid, run["seq"]))
    f.flush()
    for b in range(nb):
        pts = [{"key": "loss", "value": (b * bs + s) * 0.5, "step": b * bs + s,
                "timestamp": 1700000000 + b * bs + s} for s in range(bs)]
        pts += [{"key": "acc", "value": 1.0 / (1 + b), "step": b, "timestamp": 1700000000 + b}]
        j = send(i + b, "/api/v1/runs/%s/metrics?sync=1" % rid, {"metrics": pts}, 200)
        assert j["logged"] == len(pts), j
        f.write("ack %d %d\n" % (i, b))
        f.flush()
PY

# Runs created straight on the database at the same time: a third writer of
# the same projects row.
( for _ in $(seq 10); do "$CAIRN" --store "$STORE" start -p team >/dev/null || echo FAIL; done ) >"$T/cli.out" 2>&1 &
CLI=$!
CL=()
for i in $(seq 0 $((NC - 1))); do
	python3 "$T/client.py" "$i" "$NB" "$BS" "$T/ack.$i" "$A" "$B" >"$T/client.$i.out" 2>&1 &
	CL+=($!)
done

# Kill A once a quarter of the batches are acknowledged, restart it on its port.
want=$((NC * NB / 4))
for _ in $(seq 1 600); do
	n=$(cat "$T"/ack.* 2>/dev/null | grep -c '^ack')
	[ "$n" -ge "$want" ] && break
	sleep 0.05
done
acked_before=$(cat "$T"/ack.* | grep -c '^ack')
kill -9 "$SRV_A"
wait "$SRV_A" 2>/dev/null
is "server A was killed mid-stream (SIGKILL)" "$(kill -0 "$SRV_A" 2>/dev/null && echo alive || echo dead)" dead
sleep 0.3
ok "server A restarts on the same port and database" start_server A "$PA"

fail=0
for p in "${CL[@]}"; do wait "$p" || fail=$((fail + 1)); done
wait "$CLI"
is "every client finished, all its batches acknowledged" "$fail" 0
[ "$fail" = 0 ] || cat "$T"/client.*.out | sed 's/^/# /' | head -20
is "... $NC x $NB batches" "$(cat "$T"/ack.* | grep -c '^ack')" $((NC * NB))
like "... some of them before the kill, some after" "$acked_before" "^[1-9]"
echo "# requests sent again to the other server after the kill: $(cat "$T"/ack.* | grep -c '^retry')"
is "the CLI's runs beside the servers': no failure" "$(grep -c FAIL "$T/cli.out")" 0

# --- nothing lost, nothing doubled ---------------------------------------------------
N=$((NB * BS))
is "every run holds every loss point exactly once" \
	"$(sql "SELECT count(*) FROM (SELECT r.rid FROM runs r JOIN metric_points m ON m.rid = r.rid
	        JOIN keys k ON k.id = m.kid AND k.name = 'loss' WHERE r.name LIKE 'client-%'
	        GROUP BY r.rid HAVING count(*) = $N AND count(DISTINCT m.step) = $N
	        AND min(m.step) = 0 AND max(m.step) = $((N - 1))
	        AND sum(m.value) = $(((N - 1) * N / 4))) x")" "$NC"
is "... and every acc point (one a batch)" \
	"$(sql "SELECT count(*) FROM (SELECT r.rid FROM runs r JOIN metric_points m ON m.rid = r.rid
	        JOIN keys k ON k.id = m.kid AND k.name = 'acc' WHERE r.name LIKE 'client-%'
	        GROUP BY r.rid HAVING count(*) = $NB AND count(DISTINCT m.step) = $NB) x")" "$NC"
is "no other points" "$(sql "SELECT count(*) FROM metric_points")" $((NC * (N + NB)))
is "the summaries agree (last step of loss)" \
	"$(sql "SELECT count(*) FROM metric_summary s JOIN keys k ON k.id = s.kid
	        WHERE k.name = 'loss' AND s.last_step = $((N - 1)) AND s.last = $(((N - 1)))::float8 / 2")" "$NC"

# --- sequence numbers -----------------------------------------------------------------
is "$((NC + 10)) runs in project team, $((NC + 10)) distinct sequence numbers 1..$((NC + 10))" \
	"$(sql "SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || min(seq) || ' ' || max(seq)
	        FROM runs r JOIN projects p ON p.id = r.project_id WHERE p.name = 'team'")" \
	"$((NC + 10)) $((NC + 10)) 1 $((NC + 10))"
is "the seq each server answered is the stored one" \
	"$(cat "$T"/ack.* | awk '$1 == "run" { print $3, $4 }' | sort | md5sum)" \
	"$(sql "SELECT id || ' ' || seq FROM runs WHERE name LIKE 'client-%'" | sort | md5sum)"

# --- params across servers, reads from both --------------------------------------------------
R0=$(awk '$1 == "run" { print $3 }' "$T/ack.0")
is "params written through both servers are all there" \
	"$(curl -s "$B/api/v1/runs/$R0" | json 'sorted(j["params"].items())')" \
	'[["batch", '"$BS"'], ["client", 0], ["lr", 0.001]]'
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary '{"params": {"lr": 0.5}}' "$A/api/v1/runs/$R0/params")
is "a param written once through B cannot change through the restarted A (409)" "$STATUS" 409
is "... and is unchanged" "$(curl -s "$A/api/v1/runs/$R0" | json 'j["params"]["lr"]')" 0.001
is "both servers answer the same run" \
	"$(curl -s "$A/api/v1/runs/$R0" | json 'j["metrics"]')" "$(curl -s "$B/api/v1/runs/$R0" | json 'j["metrics"]')"
is "... with every loss point in its history" \
	"$(curl -s "$A/api/v1/runs/$R0/metrics/loss?raw=1" | json 'len(j["points"])')" "$N"

# --- default steps through both servers ----------------------------------------------------
# Clients logging points without a step to one run and key, each batch to
# the other server: the step of each is counted in the database, inside the
# insert's transaction, after the series' last one (docs/internals/store.md,
# "Default steps"), so no two points get the same step and none is lost.
RS=$(curl -s -H 'Content-Type: application/json' --data-binary '{"project": "team", "name": "shared"}' \
	"$A/api/v1/runs" | json 'j["id"]')
SC=4 SB=30 SP=20
cat >"$T/stepless.py" <<'PY'
import json, sys, urllib.request
i, rid, nb, bs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
servers = sys.argv[5:]
for b in range(nb):
    pts = [{"key": "shared", "value": i * 100000 + b * bs + p} for p in range(bs)]
    req = urllib.request.Request(servers[(i + b) % len(servers)] + "/api/v1/runs/%s/metrics?sync=1" % rid,
                                 data=json.dumps({"metrics": pts}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200 and json.loads(r.read())["logged"] == bs
PY
SL=()
for i in $(seq 0 $((SC - 1))); do
	python3 "$T/stepless.py" "$i" "$RS" "$SB" "$SP" "$A" "$B" >"$T/stepless.$i.out" 2>&1 &
	SL+=($!)
done
fail=0
for p in "${SL[@]}"; do wait "$p" || fail=$((fail + 1)); done
is "$SC clients logged stepless points to one run through both servers" "$fail" 0
[ "$fail" = 0 ] || cat "$T"/stepless.*.out | sed 's/^/# /' | head -20
SN=$((SC * SB * SP))
is "... every point is there, each with its own step 0..$((SN - 1))" \
	"$(sql "SELECT count(*) || ' ' || count(DISTINCT m.step) || ' ' || min(m.step) || ' ' || max(m.step)
	        FROM metric_points m JOIN runs r ON r.rid = m.rid WHERE r.id = '$RS'")" "$SN $SN 0 $((SN - 1))"
is "... each client's points in the order it sent them" \
	"$(sql "SELECT count(*) FROM metric_points a JOIN metric_points b ON a.rid = b.rid
	        AND a.kid = b.kid AND floor(a.value / 100000) = floor(b.value / 100000)
	        AND a.value < b.value AND a.step > b.step JOIN runs r ON r.rid = a.rid WHERE r.id = '$RS'")" 0
is "... and the summary's last step is the last of them" \
	"$(curl -s "$B/api/v1/runs/$RS" | json 'j["metrics"]["shared"]["step"]')" "$((SN - 1))"

# --- stopping ---------------------------------------------------------------------------------
for s in A B; do
	p=SRV_$s
	kill -TERM "${!p}"
	wait "${!p}"
	is "server $s stops cleanly on SIGTERM" "$?" 0
done
PIDS=()
done_testing
