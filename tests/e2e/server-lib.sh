# tests/e2e/server-lib.sh — a `cairn server` on the test's store, for the
# tests that talk to one over loopback (remote.t, agent.t, remote-cli.t).
# Source it after lib.sh.  It sets SRV_STORE (the test's store), PORT and
# U (the server's URL), and gives:
#   start_server   start it (as $TOK's holder asks it); true once it answers
#   stop_server    stop it (also at exit)
#   local_cairn    cairn on the server's store directly, not through it
SRV_STORE=$CAIRN_DIR
SRV_PID=
stop_server() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null; SRV_PID=; return 0; }
trap 'stop_server; _cleanup' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
U=http://127.0.0.1:$PORT
start_server() {
	"$CAIRN" server --store "$SRV_STORE" --listen "127.0.0.1:$PORT" >>"$T/server.log" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 1 100); do
		curl -sf -H "Authorization: Bearer $TOK" "$U/api/v1/" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
local_cairn() { env -u CAIRN_URI CAIRN_DIR=$SRV_STORE "$CAIRN" "$@"; }
