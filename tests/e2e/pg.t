#!/usr/bin/env bash
# tests/e2e/pg.t — what only a PostgreSQL store has: URIs (bad ones, wrong
# credentials, no such database), a database of another application or of a
# newer schema, sequence numbers under concurrent inserts from several
# processes, the purge race on the objects lock, and the server stopping
# under a run.  Always on PostgreSQL: a cluster of its own unless
# CAIRN_TEST_PG_URI names one (scripts/pg-cluster).
CAIRN_TEST_PG=1
source "$(dirname "$0")/lib.sh"

base=$CAIRN_TEST_PG_URI
sock=$(echo "$base" | sed -n 's/.*[?&]host=\([^&]*\).*/\1/p')
port=$(echo "$base" | sed -n 's/.*[?&]port=\([0-9]*\).*/\1/p')
newdb() { "$ROOT/scripts/pg-cluster" createdb "$base" "$1" >/dev/null; echo "postgresql://postgres@/$1?host=$sock&port=$port"; }
sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$1" -c "$2"; }

# --- init and URIs ----------------------------------------------------------------------
u=$(newdb "p$$_init")
ok "init a database" $CAIRN init "$u"
like "init says where" "$(out)" "initialised empty cairn store in postgresql://"
ok "init it again" $CAIRN init "$u"
like "... says it exists" "$(out)" "already exists"
ok "postgres:// works too" $CAIRN --store "postgres://${u#postgresql://}" start -n alias
fails "a bad URI" 1 $CAIRN --store 'postgresql://u:hunter22@[bad' start
one_error_line "a bad URI: one error line"
like "... that says so" "$(err)" "invalid store URI"
unlike "... without the password" "$(err)" "hunter22"
fails "an unknown scheme" 1 $CAIRN --store 'nosuch://x/y' start
like "... says no backend knows it" "$(err)" "no store backend knows this URI scheme"

pwdb=$(newdb "p$$_pw")
wrong="postgresql://cairn_pw:wrongpass@/p$$_pw?host=$sock&port=$port"
right="postgresql://cairn_pw:secret@/p$$_pw?host=$sock&port=$port"
fails "a wrong password" 1 $CAIRN --store "$wrong" start
one_error_line "a wrong password: one error line"
like "... that says why" "$(err)" "password authentication failed"
unlike "... and never shows it" "$(err)" "wrongpass"
like "... the URI with *** instead" "$(err)" "cairn_pw:\*\*\*@"
ok "the right password" $CAIRN --store "$right" init
unlike "init does not print the password" "$(out)" "secret"
ok "a run with it" $CAIRN --store "$right" start -n pw
unlike "... nor does start" "$(out)$(err)" "secret"
is "the password is stored nowhere in the database" \
	"$(sql "$pwdb" "SELECT count(*) FROM cairn_meta WHERE value LIKE '%secret%'")" 0
fails "no such database" 1 $CAIRN --store "postgresql://cairn_pw:secret@/nodb$$?host=$sock&port=$port" start
one_error_line "no such database: one error line"
like "... that says so" "$(err)" "does not exist"
unlike "... without the password" "$(err)" "secret"

# --- databases that are not cairn stores ---------------------------------------------------
other=$(newdb "p$$_other")
sql "$other" "CREATE TABLE invoices(id int); INSERT INTO invoices VALUES (1)"
fails "another application's database" 1 $CAIRN --store "$other" start
one_error_line "another application's database: one error line"
like "... is not a cairn store" "$(err)" "is not a cairn store"
is "... and is left as it was" "$(sql "$other" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 1
newer=$(newdb "p$$_newer")
ok "a store" $CAIRN init "$newer"
sql "$newer" "UPDATE cairn_meta SET value = '99' WHERE key = 'schema_version'"
fails "a newer schema" 1 $CAIRN --store "$newer" start
one_error_line "a newer schema: one error line"
like "... says to upgrade" "$(err)" "schema version 99.*upgrade cairn"

# --- concurrency -------------------------------------------------------------------------------
for p in 1 2 3 4 5 6; do
	( for i in 1 2 3 4 5; do $CAIRN start -p par >/dev/null 2>"$T/par$p.$i.err" || { echo FAIL; cat "$T/par$p.$i.err"; }; done ) >"$T/par$p" 2>&1 &
done
wait
is "six processes inserting at once: no failure" "$(cat "$T"/par* | grep -c FAIL)" 0
is "30 runs, 30 distinct sequence numbers 1..30" \
	"$(sql "${CAIRN_DIR%&objects=*}" "SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || min(seq) || ' ' || max(seq) FROM runs r JOIN projects p ON p.id = r.project_id WHERE p.name = 'par'")" \
	"30 30 1 30"

# The purge race of store.t, on the advisory lock: no artifact loses its bytes.
lost=0
for i in $(seq 8); do
	echo "c$i" > g.txt
	A=$($CAIRN start)
	$CAIRN log --run "$A" artifact g.txt
	B=$($CAIRN start -n "race$i")
	$CAIRN rm --purge "$A" & $CAIRN log --run "$B" artifact g.txt & wait
	d=$($CAIRN show "race$i" --json | json '[a["digest"] for a in j["artifacts"]][0]')
	[ -f "$OBJECTS/${d:0:2}/${d:2}" ] || lost=$((lost + 1))
done
is "no artifact lost its bytes in 8 races" "$lost" 0

# --- the server stops under a run ----------------------------------------------------------------
own=$("$ROOT/scripts/pg-cluster" start)
odb=$("$ROOT/scripts/pg-cluster" createdb "$own" down)
ok "a store on a second cluster" $CAIRN init "$odb"
R=$($CAIRN --store "$odb" start -n victim)
ok "log a metric" $CAIRN --store "$odb" log --run "$R" metric loss 1 --step 1
"$ROOT/scripts/pg-cluster" pgctl "$own" -m fast stop
fails "PostgreSQL stopped: logging fails" 1 $CAIRN --store "$odb" log --run "$R" metric loss 2 --step 2
one_error_line "... with one error line"
like "... that says the store is unreachable" "$(err)" "cannot open store 'postgresql://.*down"
"$ROOT/scripts/pg-cluster" pgctl "$own" start
ok "it is back: logging works again" $CAIRN --store "$odb" log --run "$R" metric loss 3 --step 3
ok "show" $CAIRN --store "$odb" show "$R" --json
is "the points before and after are there, nothing half-written" \
	"$(out | json 'j["metrics"]["loss"]["count"]')" 2
"$ROOT/scripts/pg-cluster" stop "$own"

done_testing
