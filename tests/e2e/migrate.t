#!/usr/bin/env bash
# tests/e2e/migrate.t — `cairn migrate FROM TO` between backends and object
# places: a store with a dirty git run (code snapshot, environment,
# dataset, config), thousands of metric points with NaN, typed params, an
# artifact, a sweep with its trial queue, a soft-deleted run and a running
# one goes SQLite -> SQLite, SQLite -> PostgreSQL -> SQLite, and into a store
# whose objects are in an S3 bucket.  Every copy holds the same runs (a dump
# of every record, every metric point and the thinned histories from the
# tiles: tests/tools/tool-dump.c) and the same number of rows per table, and
# a checkout from the copy is the same tree.  Also the errors.
. "$(dirname "$0")/lib.sh"
pg_skip "this file makes its own SQLite, PostgreSQL and bucket stores (one pass covers all)"
. "$ROOT/tests/e2e/s3lib.sh"
plan 42

export CAIRN_SAMPLE_INTERVAL=60
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git() { command git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main "$@"; }
TOOLS=$(dirname "$CAIRN")/tests
dump() { "$TOOLS/tool-dump" "$1" >"$2" 2>"$T/.dump.err" || { echo "# tool-dump $1: $(cat "$T/.dump.err")"; return 1; }; }
TABLES="runs params metric_points metric_summary metric_tiles tags properties artifacts datasets object_refs code_map sweep_trials keys projects"
counts_sqlite() { local t; for t in $TABLES; do printf '%s %s\n' "$t" "$(sqlite3 "$1/cairn.db" "SELECT count(*) FROM $t")"; done; }
counts_pg() { local t; for t in $TABLES; do printf '%s %s\n' "$t" "$(psql -X -q -t -A "$1" -c "SELECT count(*) FROM $t")"; done; }
newstore() { mkdir -p "$T/$1" && "$CAIRN" init "$T/$1" >/dev/null && echo "$T/$1/.cairn"; }

# --- the source store -----------------------------------------------------------------
mkdir repo && cd repo
git init -q .
mkdir -p data
cat > train.py <<'PY'
import math, sys
for i in range(3000):
    v = float("nan") if i == 1500 else math.exp(-i / 700.0)
    print(f"loss={v}")
print("acc=0.93")
PY
printf 'lr: 0.1\nlayers: [64, 32]\n' > config.yaml
printf 'data/\n' > .gitignore
printf 'a,b\n1,2\n' > data/train.csv
git add -A && git commit -qm first
printf '# uncommitted\n' >> train.py
ok "a dirty run with data, a config and 3000 points" "$CAIRN" run -n main -t baseline -d data --note "the first" -- python3 train.py --config config.yaml --seed 7
MAIN=$("$CAIRN" ls --format json | json 'j[0]["id"]')
printf 'weights\n' > model.bin
ok "an artifact" "$CAIRN" log --run "$MAIN" artifact model.bin
ok "a property" "$CAIRN" log --run "$MAIN" property owner ada
cd "$T"
T2=$("$CAIRN" start -n typed)
ok "typed params (NaN, inf, a string NaN)" "$TOOLS/tool-params" "$CAIRN_DIR" "$T2" fn=float:nan fi=float:-inf sn=str:NaN n=int:3
"$CAIRN" finish "$T2" >/dev/null
cat > obj.sh <<'SH'
#!/bin/sh
echo "loss=$1"
SH
chmod +x obj.sh
printf 'method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n  x: {values: [3, 1, 2]}\n' > grid.yaml
ok "a sweep" "$CAIRN" sweep -c grid.yaml -n gs -q -- ./obj.sh '{x}'
GONE=$("$CAIRN" start -n gone)
ok "a soft-deleted run" "$CAIRN" rm "$GONE"
LIVE=$("$CAIRN" start -n live)
dump "$CAIRN_DIR" src.dump
is "the source dumps" "$?" 0
ok "the dump holds the 3000 points" grep -Eq '"count": ?3000' src.dump
ok "... the deleted run and the trials" sh -c "grep -q '\"name\": *\"gone\"' src.dump && grep -q '\"name\": *\"gs-2\"' src.dump"
counts_sqlite "$CAIRN_DIR" > src.counts
like "it has the points" "$(grep '^metric_points' src.counts)" "^metric_points [0-9]{4}"

# --- SQLite -> SQLite ------------------------------------------------------------------------
B=$(newstore b)
ok "migrate into a new directory store" "$CAIRN" migrate "$CAIRN_DIR" "$B"
like "it says what it copied" "$(cat "$T/.out")" "8 runs, .* metric points"
like "... and the objects" "$(cat "$T/.out")" "[1-9][0-9]* objects copied"
dump "$B" b.dump
ok "every run, every point and every thinned history is the same" cmp src.dump b.dump
counts_sqlite "$B" > b.counts
ok "the same rows in every table" diff src.counts b.counts
ok "a checkout from the copy" "$CAIRN" --store "$B" checkout main co-b
ok "... is the run's tree" diff -r -x .git -x data -x model.bin repo co-b
ok "sequence numbers go on after the copied ones" "$CAIRN" --store "$B" start -n next
is "... 9" "$("$CAIRN" --store "$B" show next --json | json 'j["seq"]')" 9
fails "the target must be empty" 1 "$CAIRN" migrate "$CAIRN_DIR" "$B"
like "... it says so" "$(cat "$T/.err")" "already has 9 runs: cairn migrate copies into an empty store"
is "... and nothing changed" "$(counts_sqlite "$B" | grep '^runs ')" "runs 9"

# --- SQLite -> PostgreSQL -> SQLite ------------------------------------------------------------
base=${CAIRN_TEST_PG_URI:-}
if [ -z "$base" ]; then _pg_own=$("$ROOT/scripts/pg-cluster" start) && base=$_pg_own; fi
PGU=$("$ROOT/scripts/pg-cluster" createdb "$base" "mig$$")
ok "a PostgreSQL store" "$CAIRN" init "$PGU&objects=$T/pgobjects"
ok "migrate into PostgreSQL" "$CAIRN" migrate "$CAIRN_DIR" "$PGU"
dump "$PGU" pg.dump
ok "the same runs in PostgreSQL" cmp src.dump pg.dump
counts_pg "$PGU" > pg.counts
ok "the same rows per table in PostgreSQL" diff src.counts pg.counts
ok "a checkout from PostgreSQL" "$CAIRN" --store "$PGU" checkout main co-pg
ok "... is the run's tree" diff -r -x .git -x data -x model.bin repo co-pg
C=$(newstore c)
ok "and back into SQLite" "$CAIRN" migrate "$PGU" "$C"
dump "$C" c.dump
ok "the round trip holds the same runs" cmp src.dump c.dump
counts_sqlite "$C" > c.counts
ok "... and rows" diff src.counts c.counts

# --- local objects -> a bucket ---------------------------------------------------------------
if s3_available; then
	s3_start
	mkdir -p "$T/d"
	ok "a store with its objects in a bucket" "$CAIRN" init --objects s3://cairn-test/mig "$T/d"
	ok "migrate into it" "$CAIRN" migrate "$CAIRN_DIR" "$T/d/.cairn"
	dump "$T/d/.cairn" d.dump
	ok "the same runs" cmp src.dump d.dump
	is "no object file is in the store directory" "$(find "$T/d/.cairn/objects" -type f | wc -l)" 0
	ok "the objects are in the bucket" test "$(find "$T/s3/cairn-test/mig" -name '*._S3rver_object' | wc -l)" -gt 5
	ok "a checkout from the bucket" "$CAIRN" --store "$T/d/.cairn" checkout main co-d
	ok "... is the run's tree" diff -r -x .git -x data -x model.bin repo co-d
else
	for i in 1 2 3 4 5 6 7; do echo "ok $((_n + i)) # SKIP s3rver is not installed"; done
	_n=$((_n + 7))
fi

# --- errors ------------------------------------------------------------------------------------
fails "no stores" 2 "$CAIRN" migrate
fails "one store" 2 "$CAIRN" migrate "$CAIRN_DIR"
fails "a source that is not there" 1 "$CAIRN" migrate "$T/nosuch" "$(newstore e)"
like "... says which" "$(cat "$T/.err")" "the store to copy: cannot open store '$T/nosuch'"

exit $_fail
