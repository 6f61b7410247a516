# tests/e2e/lib.sh — TAP helpers for end-to-end tests of the real `cairn`
# binary.  Each test file sources this, calls `plan N`, and uses the checks
# below.  Every test runs in a fresh temporary directory with its own store
# (CAIRN_DIR) and HOME, removed at exit.
#
#   CAIRN   the binary under test (default: build-san/cairn, else build/cairn)
#   CAIRN_TEST_PG=1
#           the store is a fresh PostgreSQL database instead (CAIRN_DIR is its
#           URI, the objects under $T/store/objects), on the cluster
#           CAIRN_TEST_PG_URI names or, without one, on a cluster this file
#           starts (scripts/pg-cluster) and removes at exit.  What a test
#           checks in the store goes through store_sql, store_dump,
#           store_digest, store_holds and $OBJECTS (below), the same on either
#           backend; a check that means something on one only says
#           `skip DESC REASON` on the other, and a file about the directory
#           layout calls `pg_skip REASON` after sourcing this.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${CAIRN:-}" ]; then
	if [ -x "$ROOT/build-san/cairn" ]; then CAIRN=$ROOT/build-san/cairn; else CAIRN=$ROOT/build/cairn; fi
fi
case $CAIRN in /*) ;; *) CAIRN=$ROOT/$CAIRN ;; esac
export CAIRN
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

T=$(mktemp -d "${TMPDIR:-/tmp}/cairn-e2e.XXXXXX")
_pg_own=
_cleanup() {
	[ -n "$_pg_own" ] && "$ROOT/scripts/pg-cluster" stop "$_pg_own"
	rm -rf "$T"
}
trap _cleanup EXIT
export HOME=$T/home
mkdir -p "$HOME"
unset CAIRN_RUN_ID CAIRN_URI CAIRN_PROJECT XDG_DATA_HOME
export CAIRN_DIR=$T/store
mkdir -p "$CAIRN_DIR"
PG=
PG_DB=
OBJECTS=$CAIRN_DIR/objects # where the store's object files are, on either backend
if [ "${CAIRN_TEST_PG:-}" = 1 ]; then
	PG=1
	if [ -z "${CAIRN_TEST_PG_URI:-}" ]; then
		_pg_own=$("$ROOT/scripts/pg-cluster" start) || exit 1
		CAIRN_TEST_PG_URI=$_pg_own
	fi
	_db=$("$ROOT/scripts/pg-cluster" createdb "$CAIRN_TEST_PG_URI" "e$$_${RANDOM}") || exit 1
	PG_DB=$_db # the database's URI for libpq (psql), without cairn's objects=
	export CAIRN_DIR="$_db&objects=$T/store/objects"
	OBJECTS=$T/store/objects
fi
# pg_skip REASON: on PostgreSQL, skip this whole file (TAP's skip_all)
pg_skip() { if [ -n "$PG" ]; then echo "1..0 # SKIP on postgresql: $1"; exit 0; fi; }
cd "$T"
export NO_COLOR=1

_n=0
_fail=0
_planned=
plan() { echo "1..$1"; _planned=1; }
_report() { # ok? description
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _fail=$((_fail + 1)); fi
}
# ok DESC CMD...: the command succeeds
ok() { local d=$1; shift; "$@" >"$T/.out" 2>"$T/.err"; local rc=$?; _report $rc "$d"; [ $rc = 0 ] || { echo "# exit $rc: $*"; sed 's/^/# /' "$T/.err" | head -20; }; return 0; }
# fails DESC CODE CMD...: the command exits with CODE (1 or 2)
fails() { local d=$1 want=$2; shift 2; "$@" >"$T/.out" 2>"$T/.err"; local rc=$?; [ $rc = "$want" ]; _report $? "$d"; [ $rc = "$want" ] || { echo "# wanted exit $want, got $rc: $*"; sed 's/^/# /' "$T/.err" | head -20; }; return 0; }
# is DESC GOT WANT
is() { [ "$2" = "$3" ]; _report $? "$1"; [ "$2" = "$3" ] || { echo "#   got: '$2'"; echo "#  want: '$3'"; }; return 0; }
# like DESC TEXT REGEX
like() { echo "$2" | grep -Eq -- "$3"; local rc=$?; _report $rc "$1"; [ $rc = 0 ] || { echo "#   '$2'"; echo "#   does not match /$3/"; }; return 0; }
unlike() { echo "$2" | grep -Eq -- "$3"; local rc=$?; [ $rc != 0 ]; _report $? "$1"; return 0; }
# can_drop_root: true when the tests run as root and setpriv can become nobody
can_drop_root() {
	command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] &&
		setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null
}
# as_nobody CMD...: run CMD as the unprivileged user nobody, so that file
# modes hold (they do not stop root, and the tests run as root).  $CAIRN is
# swapped for a copy inside $T: the checkout may sit where nobody cannot reach
# it (a clone under /root, mode 700).
as_nobody() {
	if [ ! -x "$T/.nobody/cairn" ]; then
		mkdir -p "$T/.nobody" && cp "$CAIRN" "$T/.nobody/cairn"
		chmod 755 "$T" "$T/.nobody" "$T/.nobody/cairn"
	fi
	local a args=()
	for a in "$@"; do
		[ "$a" = "$CAIRN" ] && a=$T/.nobody/cairn
		args+=("$a")
	done
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME=/tmp ASAN_OPTIONS=detect_leaks=0 "${args[@]}"
}
# the stdout / stderr of the last ok/fails
out() { cat "$T/.out"; }
err() { cat "$T/.err"; }
# Exactly one line on stderr, starting "error: "
one_error_line() {
	local n; n=$(grep -c '' "$T/.err"); local first; first=$(head -1 "$T/.err")
	[ "$n" = 1 ] && [ "${first#error: }" != "$first" ]; _report $? "$1"
	[ "$n" = 1 ] || { echo "# stderr:"; sed 's/^/#   /' "$T/.err"; }; return 0
}
# json EXPR: evaluate a Python expression over the JSON on stdin bound to `j`
json() { python3 -c 'import json,sys; j=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if not isinstance(r,(dict,list)) else json.dumps(r,sort_keys=True))' "$1"; }
# store_sql SQL: run SQL on the store's database, sqlite3 or psql by the
# backend; rows on stdout one a line, columns joined by '|' (the two clients
# print alike).  SQL that both dialects take works on either; a test that
# needs one dialect's words checks $PG (a run's user is runs.user_name on
# PostgreSQL, a reserved word there).
store_sql() {
	if [ -n "$PG" ]; then
		psql -X -q -t -A -v ON_ERROR_STOP=1 "$PG_DB" -c "$1"
	else
		sqlite3 "$CAIRN_DIR/cairn.db" "$1"
	fi
}
# store_dump: the store's database as text, every row of every table in a
# fixed order (sqlite3's .dump; on PostgreSQL each table's rows as text)
store_dump() {
	if [ -n "$PG" ]; then
		local t
		for t in $(store_sql "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
			echo "-- $t"
			store_sql "SELECT x::text FROM \"$t\" x ORDER BY 1"
		done 2>&1
	else
		sqlite3 "$CAIRN_DIR/cairn.db" .dump 2>/dev/null | grep -v '^PRAGMA'
	fi
}
# a fingerprint of the store's contents (to assert "unchanged")
store_digest() { store_dump | sha256sum | cut -c1-16; }
# store_holds TEXT: true when TEXT is anywhere in the store: its database
# (on SQLite every file of the store directory, so its WAL too; on
# PostgreSQL every row) or any object (a zstd frame decompressed first)
store_holds() {
	if [ -n "$PG" ]; then
		store_dump | grep -qa -- "$1" && return 0
		grep -rqa -- "$1" "$OBJECTS" 2>/dev/null && return 0
	else
		grep -rqa -- "$1" "$CAIRN_DIR" && return 0
	fi
	local f
	for f in $(find "$OBJECTS" -type f 2>/dev/null); do
		if [ "$(head -c4 "$f" | od -An -tx1 | tr -d ' ')" = 28b52ffd ]; then
			zstd -dcq "$f" | grep -qa -- "$1" && return 0
		fi
	done
	return 1
}
# skip DESC REASON: a check that does not apply here (TAP's "ok N # skip")
skip() { _n=$((_n + 1)); echo "ok $_n - $1 # skip $2"; }
# done_testing: print the plan at the end (when plan was not called) and exit
done_testing() { [ -n "$_planned" ] || echo "1..$_n"; [ $_fail = 0 ]; exit $?; }
