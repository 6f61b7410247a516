# tests/e2e/s3lib.sh — a real S3 server on loopback for end-to-end tests,
# sourced after lib.sh.
#
#   s3_start          start s3rver (npm, pinned in package-lock.json) on a free
#                     loopback port with its data in $T/s3 and a bucket
#                     cairn-test, and the signature gate (tests/s3/s3gate.py)
#                     in front of it; export AWS_ENDPOINT_URL (the gate), the
#                     credentials and the region.  S3_DIRECT is s3rver itself.
#   s3_gate ARGS...   start another gate (e.g. --deny-writes, --fail-part 2);
#                     sets GATE_URL and GATE_LOG (its requests, one a line)
#   s3_stop           stop them all (also at exit)
#   s3_skip_all WHY   when s3rver is not installed: a TAP skip, exit 0
#
# s3rver 3.7.1 checks that the access key id exists but not SigV4
# signatures, and has no bucket policies: the gate verifies every
# signature with the secret below (so a wrong secret is refused as AWS
# would) and, with --deny-writes, refuses PUT and DELETE (a bucket that
# denies writes).  $S3RVER names s3rver's bin/s3rver.js when it is not in
# the checkout's node_modules (scripts/install-deps runs npm ci).
S3RVER_JS=${S3RVER:-$ROOT/node_modules/s3rver/bin/s3rver.js}
S3_SECRET=cairn-e2e-secret-7f3a9c
S3_PIDS=()
s3_available() { [ -f "$S3RVER_JS" ] && command -v node >/dev/null; }
s3_skip_all() { echo "1..0 # SKIP $1"; exit 0; }
# _s3_wait_port LOG REGEX: the port printed in LOG once it appears
_s3_wait_port() {
	local i
	for i in $(seq 1 150); do
		grep -qE "$2" "$1" 2>/dev/null && break
		sleep 0.1
	done
	grep -oE "$2" "$1" | grep -oE '[0-9]+$' | head -1
}
s3_gate() {
	local n=${#S3_PIDS[@]}
	python3 "$ROOT/tests/s3/s3gate.py" --upstream "$S3_DIRECT" --secret "$S3_SECRET" \
		--data "$T/s3" --log "$T/gate-$n.requests" "$@" \
		>"$T/.gate-$n.log" 2>&1 &
	S3_PIDS+=($!)
	GATE_URL=http://127.0.0.1:$(_s3_wait_port "$T/.gate-$n.log" 'listening [0-9]+')
	GATE_LOG=$T/gate-$n.requests
}
s3_start() {
	mkdir -p "$T/s3"
	node "$S3RVER_JS" -d "$T/s3" -a 127.0.0.1 -p 0 --silent --no-vhost-buckets \
		--configure-bucket cairn-test >"$T/.s3rver.log" 2>&1 &
	S3_PIDS+=($!)
	S3_DIRECT=http://127.0.0.1:$(_s3_wait_port "$T/.s3rver.log" 'listening on 127.0.0.1:[0-9]+')
	s3_gate
	export AWS_ENDPOINT_URL=$GATE_URL AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=$S3_SECRET
	export AWS_REGION=us-east-1
	unset AWS_ENDPOINT_URL_S3 AWS_PROFILE AWS_SESSION_TOKEN CAIRN_OBJECTS
}
s3_stop() {
	local p
	for p in "${S3_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	S3_PIDS=()
}
trap 's3_stop; rm -rf "$T"' EXIT
