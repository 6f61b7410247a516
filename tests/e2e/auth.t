#!/usr/bin/env bash
# tests/e2e/auth.t — tokens, sessions and TLS on a real `cairn server` over
# loopback (issue 14, docs/internals/auth.md): `cairn token` create/ls/
# revoke/audit and their bad input; 401 without a token, with a malformed,
# unknown, revoked or expired one (with WWW-Authenticate); 403 for a scope
# below the route's; a project-limited token that cannot see, list or
# change other projects (404 like a run that does not exist); writes
# attributed to the token's name (the run's user, the audit log); browser
# sessions: the cookie's attributes, a write without the CSRF header
# refused, logout; that no token or session id is ever in the server's
# logs or in the store; --no-auth refused off loopback; HTTPS with a
# self-signed certificate that curl refuses without --cacert.
. "$(dirname "$0")/lib.sh"
plan 115

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'cleanup; _cleanup' EXIT

# start NAME ARGS...: `cairn ARGS` (ui or server) in the background with its
# output in $T/NAME.out/.err; sets URL (http or https) and SRV
start() {
	local name=$1
	shift
	"$CAIRN" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	SRV=$!
	PIDS+=($SRV)
	for _ in $(seq 1 100); do grep -q 'http' "$T/$name.out" 2>/dev/null && break; sleep 0.1; done
	URL=$(grep -Eo 'https?://[^ ]*' "$T/$name.out" | sed 's|/$||')
}
# stop PID: SIGTERM, which ends a server cleanly (exit 0)
stop() { kill -TERM "$1"; wait "$1"; }
# req METHOD PATH [curl args...]: body in $T/body, headers in $T/hdr, status in $STATUS
req() {
	local m=$1 p=$2
	shift 2
	STATUS=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$m" "$@" "$URL$p")
}
body() { cat "$T/body"; }
bearer() { echo "Authorization: Bearer $1"; }
JSON='Content-Type: application/json'

"$CAIRN" init >/dev/null
R1=$("$CAIRN" start -p p1 -n one)
R2=$("$CAIRN" start -p p2 -n two)

# --- cairn token -------------------------------------------------------------------
ok 'token create --scope read' "$CAIRN" token create --scope read --name reader
READ=$(out)
like '... prints the token alone on stdout' "$READ" '^cairn_[0-9a-f]{64}$'
like '... and what it is on stderr' "$(err)" "created token 'reader' \(id 1, scope read, every project, expires never\)"
WRITE=$("$CAIRN" token create --scope write --name writer 2>/dev/null)
ADMIN=$("$CAIRN" token create --scope admin --name boss 2>/dev/null)
P1=$("$CAIRN" token create --scope write --project p1 --name p1-bot 2>/dev/null)
ok 'token create without a name' "$CAIRN" token create --scope read
ANON=$(out)
like '... names it token-XXXXXXXX' "$(err)" "created token 'token-[0-9a-f]{8}'"
isnt_same() { [ "$2" != "$3" ]; _report $? "$1"; }
isnt_same 'two tokens differ' "$READ" "$WRITE"
ok 'token ls' "$CAIRN" token ls
like '... lists name, scope and project' "$(out)" 'p1-bot +write +p1 '
unlike '... never a token' "$(out)" 'cairn_[0-9a-f]'
ok 'token ls --json' "$CAIRN" token ls --json
is '... five tokens' "$(out | json 'len(j)')" 5
is '... the project-limited one' "$(out | json '[t["project"] for t in j if t["name"]=="p1-bot"][0]')" p1
unlike '... and no token in JSON either' "$(out)" 'cairn_[0-9a-f]'
fails 'a name taken' 1 "$CAIRN" token create --scope read --name reader
one_error_line '... one error line'
like '... says so' "$(err)" "a token named 'reader' exists already"
fails 'a bad scope is a usage error' 2 "$CAIRN" token create --scope root
fails 'create without --scope' 2 "$CAIRN" token create
fails 'a bad --expires' 2 "$CAIRN" token create --scope read --expires 30
like '... names the units' "$(err)" 's, m, h, d, w'
fails 'an all-digit name' 1 "$CAIRN" token create --scope read --name 123
fails 'a name with a space' 1 "$CAIRN" token create --scope read --name 'a b'
fails '--scope belongs to create only' 2 "$CAIRN" token ls --scope read
fails 'an unknown subcommand' 2 "$CAIRN" token frob
fails 'revoking an unknown name' 1 "$CAIRN" token revoke nobody
like '... says so' "$(err)" "no token is named 'nobody'"
fails 'revoking an unknown id' 1 "$CAIRN" token revoke 999

# --- refusals at start -------------------------------------------------------------
fails '--no-auth on 0.0.0.0 is refused' 2 "$CAIRN" server --listen 0.0.0.0:0 --no-auth
one_error_line '... one error line'
like '... saying why' "$(err)" "--no-auth is only for a loopback address, not '0.0.0.0'"
fails '--auth and --no-auth together' 2 "$CAIRN" server --auth --no-auth
fails '--tls-cert without --tls-key' 2 "$CAIRN" server --tls-cert x.pem
fails 'a --tls-cert that cannot be read' 1 "$CAIRN" server --tls-cert nope.pem --tls-key nope.pem
like '... names it' "$(err)" "cannot read --tls-cert 'nope.pem'"

# --- a server that requires tokens ---------------------------------------------------
start srv server --listen 127.0.0.1:0
req GET /api/v1/runs
is 'no token: 401' "$STATUS" 401
like '... with WWW-Authenticate' "$(cat "$T/hdr")" 'WWW-Authenticate: Bearer realm="cairn"'
like '... and a message that says how' "$(body | json 'j["error"]["message"]')" 'Authorization: Bearer TOKEN'
req GET /api/v1/runs -H 'Authorization: Basic dTpw'
is 'another scheme: 401' "$STATUS" 401
req GET /api/v1/runs -H "$(bearer nonsense)"
is 'a malformed token: 401' "$STATUS" 401
like '... marked invalid_token' "$(cat "$T/hdr")" 'error="invalid_token"'
req GET /api/v1/runs -H "$(bearer "cairn_$(printf '%064d' 0)")"
is 'an unknown token: 401' "$STATUS" 401
req GET /api/v1/runs -H "$(bearer "$READ")"
is 'a read token lists runs' "$STATUS" 200
is '... all of them' "$(body | json 'j["total"]')" 2
req POST "/api/v1/runs/$R1/tags" -H "$(bearer "$READ")" -H "$JSON" -d '{"tags":["x"]}'
is 'a read token cannot write: 403' "$STATUS" 403
like '... the scope it needs' "$(body | json 'j["error"]["message"]')" "the token 'reader' has the read scope; POST .* needs write"
req DELETE "/api/v1/runs/$R1" -H "$(bearer "$READ")" -H "$JSON"
is '... nor delete' "$STATUS" 403
is '... and the run kept its tags' "$("$CAIRN" show "$R1" --json | json 'j["tags"]')" '[]'
req POST "/api/v1/runs/$R1/tags" -H "$(bearer "$WRITE")" -H "$JSON" -d '{"tags":["x"]}'
is 'a write token writes' "$STATUS" 200
req POST /api/v1/runs -H "$(bearer "$WRITE")" -H "$JSON" -d '{"project":"p2","name":"api-made"}'
is 'a write token creates a run' "$STATUS" 201
is '... whose user is the token name' "$(body | json 'j["user"]')" writer
req GET /api/v1/audit -H "$(bearer "$WRITE")"
is 'the audit log needs admin' "$STATUS" 403
req GET /api/v1/audit -H "$(bearer "$ADMIN")"
is 'an admin token reads it' "$STATUS" 200
is '... every write, by token name' "$(body | json '[(a["token"], a["method"], a["status"]) for a in j["audit"]]')" \
	'[["writer", "POST", 201], ["writer", "POST", 200]]'
is '... with the full path' "$(body | json 'j["audit"][1]["path"]')" "/api/v1/runs/$R1/tags"
ok 'token audit lists it too' "$CAIRN" token audit
like '... by name' "$(out)" "writer +POST +/api/v1/runs/$R1/tags +200"
# metric batches are audited once per token, run and minute
for i in 1 2 3; do
	req POST "/api/v1/runs/$R1/metrics?sync=1" -H "$(bearer "$WRITE")" -H "$JSON" -d "{\"metrics\":[{\"key\":\"loss\",\"value\":$i,\"step\":$i}]}"
done
is 'metric batches are taken' "$STATUS" 200
is '... and audited once' "$(store_sql "SELECT count(*) FROM audit WHERE path LIKE '%/metrics'")" 1
is '... though every point is there' "$("$CAIRN" show "$R1" --json | json 'j["metrics"]["loss"]["count"]')" 3

# --- a token limited to a project ------------------------------------------------------
req GET "/api/v1/runs/$R1" -H "$(bearer "$P1")"
is 'a p1 token reads a p1 run' "$STATUS" 200
req GET "/api/v1/runs/$R2" -H "$(bearer "$P1")"
is '... not a p2 run: 404' "$STATUS" 404
other=$(body | json 'j["error"]["message"]')
req GET "/api/v1/runs/$(printf '%032d' 7)" -H "$(bearer "$P1")"
is '... the same answer as for a run that does not exist' "$other" "$(body | json 'j["error"]["message"]' | sed "s/$(printf '%032d' 7)/$R2/")"
req GET "/api/v1/runs?columns=id,project" -H "$(bearer "$P1")"
is '... lists p1 runs only' "$(body | json '[r["project"] for r in j["runs"]]')" '["p1"]'
req GET "/api/v1/runs?project=p2" -H "$(bearer "$P1")"
is '... none when it asks for p2' "$(body | json 'j["total"]')" 0
req GET /api/v1/projects -H "$(bearer "$P1")"
is '... sees the p1 project only' "$(body | json '[p["name"] for p in j["projects"]]')" '["p1"]'
req POST "/api/v1/runs/$R2/tags" -H "$(bearer "$P1")" -H "$JSON" -d '{"tags":["y"]}'
is '... cannot tag a p2 run: 404' "$STATUS" 404
req GET "/api/v1/diff?a=$R1&b=$R2" -H "$(bearer "$P1")"
is '... nor diff with one' "$STATUS" 404
req POST /api/v1/runs -H "$(bearer "$P1")" -H "$JSON" -d '{"project":"p2"}'
is '... cannot create a run in p2: 403' "$STATUS" 403
req POST /api/v1/runs -H "$(bearer "$P1")" -H "$JSON" -d '{"name":"bot-run"}'
is '... creates in p1 without naming it' "$(body | json 'j["project"]')" p1
is 'p2 is unchanged' "$("$CAIRN" show "$R2" --json | json 'j["tags"]')" '[]'

# --- revoked and expired tokens --------------------------------------------------------
ok 'revoke the writer by name' "$CAIRN" token revoke writer
like '... says so' "$(err)" "revoked token 'writer'"
# a token the server verified is trusted for at most 1 s (AUTH_CACHE_TTL)
for _ in $(seq 1 50); do
	req GET /api/v1/runs -H "$(bearer "$WRITE")"
	[ "$STATUS" = 401 ] && break
	sleep 0.1
done
is 'a revoked token gets 401 (within the cache time)' "$STATUS" 401
like '... saying it was revoked' "$(body | json 'j["error"]["message"]')" "the token 'writer' was revoked"
LATE=$("$CAIRN" token create --scope read --name late 2>/dev/null)
LID=$("$CAIRN" token ls --json | json '[t["id"] for t in j if t["name"] == "late"][0]')
"$CAIRN" token revoke "$LID" 2>/dev/null
req GET /api/v1/runs -H "$(bearer "$LATE")"
is 'a token revoked by id before any use: 401 at once' "$STATUS" 401
SHORT=$("$CAIRN" token create --scope read --name short --expires 1s 2>/dev/null)
sleep 2
req GET /api/v1/runs -H "$(bearer "$SHORT")"
is 'an expired token: 401' "$STATUS" 401
like '... saying it expired' "$(body | json 'j["error"]["message"]')" "the token 'short' has expired"
REV=$("$CAIRN" token create --scope read --name api-revoked 2>/dev/null)
req GET /api/v1/runs -H "$(bearer "$REV")"
req DELETE /api/v1/tokens/api-revoked -H "$(bearer "$ADMIN")" -H "$JSON"
is 'an admin revokes through the API' "$STATUS" 200
req GET /api/v1/runs -H "$(bearer "$REV")"
is '... which this server honours at once' "$STATUS" 401
ok 'token ls shows the revocations' "$CAIRN" token ls --json
is '... revoked ones' "$(out | json 'sorted(t["name"] for t in j if t["revoked"])')" '["api-revoked", "late", "writer"]'
is '... and when the others were last used' "$(out | json '[t["name"] for t in j if t["last_used"]]' | grep -c reader)" 1

# --- browser sessions ---------------------------------------------------------------------
WEB=$("$CAIRN" token create --scope write --name webuser 2>/dev/null)
req POST /api/v1/session -H "$JSON" -d '{"token":"cairn_nope"}'
is 'logging in with a bad token: 401' "$STATUS" 401
req POST /api/v1/session -H "$JSON" -d "{\"token\":\"$WEB\"}"
is 'logging in with a token' "$STATUS" 200
COOKIE=$(grep -i '^Set-Cookie:' "$T/hdr" | tr -d '\r')
like '... sets an HttpOnly, SameSite=Strict cookie' "$COOKIE" '^Set-Cookie: cairn_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$'
SID=$(echo "$COOKIE" | sed 's/.*cairn_session=\([0-9a-f]*\);.*/\1/')
isnt_same '... whose value is not the token' "$SID" "$WEB"
CSRF=$(body | json 'j["csrf"]')
like '... and answers the CSRF token' "$CSRF" '^[0-9a-f]{64}$'
C="Cookie: cairn_session=$SID"
req GET /api/v1/runs -H "$C"
is 'the cookie reads' "$STATUS" 200
req GET /api/v1/session -H "$C"
is 'GET /api/v1/session says who' "$(body | json '[j["name"], j["scope"]]')" '["webuser", "write"]'
is '... and the same CSRF token' "$(body | json 'j["csrf"]')" "$CSRF"
req POST "/api/v1/runs/$R1/tags" -H "$C" -H "$JSON" -d '{"tags":["csrf-less"]}'
is 'a write with the cookie but no CSRF header: 403' "$STATUS" 403
is '... code csrf' "$(body | json 'j["error"]["code"]')" csrf
req POST "/api/v1/runs/$R1/tags" -H "$C" -H "$JSON" -H "X-CSRF-Token: $(printf '%064d' 0)" -d '{"tags":["csrf-less"]}'
is '... a wrong CSRF token: 403' "$STATUS" 403
unlike '... and the tag is not there' "$("$CAIRN" show "$R1" --json | json 'j["tags"]')" csrf-less
req POST "/api/v1/runs/$R1/tags" -H "$C" -H "$JSON" -H "X-CSRF-Token: $CSRF" -d '{"tags":["from-browser"]}'
is 'with the CSRF header it writes' "$STATUS" 200
is '... attributed to the token' "$(store_sql "SELECT token FROM audit WHERE path = '/api/v1/runs/$R1/tags' ORDER BY id DESC LIMIT 1")" webuser
req DELETE /api/v1/session -H "$C" -H "$JSON"
is 'logout without the CSRF header: 403' "$STATUS" 403
req DELETE /api/v1/session -H "$C" -H "$JSON" -H "X-CSRF-Token: $CSRF"
is 'logout' "$STATUS" 200
like '... clears the cookie' "$(grep -i '^Set-Cookie:' "$T/hdr")" 'cairn_session=; .*Max-Age=0'
req GET /api/v1/runs -H "$C"
is 'the session is gone: 401' "$STATUS" 401
RSID=$(curl -s -D - -o /dev/null -H "$JSON" -d "{\"token\":\"$READ\"}" "$URL/api/v1/session" | sed -n 's/.*cairn_session=\([0-9a-f]*\);.*/\1/p')
RCSRF=$(curl -s -H "Cookie: cairn_session=$RSID" "$URL/api/v1/session" | json 'j["csrf"]')
req POST "/api/v1/runs/$R1/tags" -H "Cookie: cairn_session=$RSID" -H "$JSON" -H "X-CSRF-Token: $RCSRF" -d '{"tags":["no"]}'
is "a read token's session cannot write: 403" "$STATUS" 403
"$CAIRN" token revoke reader 2>/dev/null
req GET /api/v1/runs -H "Cookie: cairn_session=$RSID"
is "revoking a token ends its sessions" "$STATUS" 401

# --- no secret in the logs or the store -------------------------------------------------
stop "$SRV"
is 'the server stops cleanly' "$?" 0
leaks=0
for s in "$READ" "$WRITE" "$ADMIN" "$P1" "$ANON" "$LATE" "$SHORT" "$REV" "$WEB" "$SID" "$RSID"; do
	grep -q -- "$s" "$T/srv.out" "$T/srv.err" && leaks=$((leaks + 1))
	store_holds "$s" && leaks=$((leaks + 1))
	store_holds "${s#cairn_}" && leaks=$((leaks + 1))
done
is 'no token or session id in the logs or the store' "$leaks" 0
like '... though the log has the requests' "$(cat "$T/srv.err")" "POST /api/v1/session 200"

# --- no authentication: loopback only ------------------------------------------------------
start noauth server --listen 127.0.0.1:0 --no-auth --quiet
req GET /api/v1/runs
is 'server --no-auth on loopback needs no token' "$STATUS" 200
req GET /api/v1/session
is '... and says so' "$(body)" '{"auth":false}'
stop "$SRV"
start ui ui --listen 127.0.0.1:0 --quiet
req GET /api/v1/runs
is 'cairn ui on loopback needs no token' "$STATUS" 200
stop "$SRV"
start uiauth ui --listen 127.0.0.1:0 --auth --quiet
req GET /api/v1/runs
is 'cairn ui --auth does' "$STATUS" 401
stop "$SRV"

# --- HTTPS ------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
	-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null
start tls server --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --quiet
like 'a TLS server prints an https URL' "$URL" '^https://127\.0\.0\.1:[0-9]+$'
curl -s -o /dev/null "$URL/api/v1/runs"
is 'curl refuses its self-signed certificate' "$?" 60
req GET /api/v1/runs --cacert "$T/cert.pem" -H "$(bearer "$ADMIN")"
is '... and with --cacert it answers' "$STATUS" 200
req POST /api/v1/session --cacert "$T/cert.pem" -H "$JSON" -d "{\"token\":\"$ADMIN\"}"
like '... its session cookie is Secure' "$(grep -i '^Set-Cookie:' "$T/hdr")" 'SameSite=Strict; Max-Age=43200; Secure'
curl -s -o /dev/null "http://${URL#https://}/api/v1/runs"
isnt_same 'plain HTTP to it gets no answer' "$?" 0
stop "$SRV"
is '... and it stops cleanly' "$?" 0

done_testing
