#!/usr/bin/env bash
# tests/e2e/ls-stream.t — `cairn ls` of more runs than it keeps in memory
# streams them: the records go out as the store gives them (JSON), or in a
# second pass over the same ids after one that chose the columns and
# measured them (table, CSV).  $CAIRN_LS_KEEP lowers the threshold so the
# streamed path runs here on a few hundred runs; its output must be the one
# the kept path prints, byte for byte, in every format and with a sort, a
# filter, an offset, --columns and +COLS.
. "$(dirname "$0")/lib.sh"
plan 30

# 240 runs in two projects, with params that vary and one that does not,
# a metric some runs lack, and tags on some
python3 - "$T/runs.json" <<'PY'
import json, sys
runs = []
for i in range(240):
    r = {"name": "r%03d" % i, "project": "a" if i % 3 else "b",
         "params": {"lr": round(0.001 * (i % 17 + 1), 6), "depth": i % 5, "fixed": "x"},
         "metrics": {"acc": round((i * 37 % 101) / 101.0, 6)}}
    if i % 4 == 0:
        r["metrics"]["loss"] = round(1.0 / (i + 1), 6)
    if i % 7 == 0:
        r["tags"] = ["seven"]
    runs.append(r)
json.dump(runs, open(sys.argv[1], "w"))
PY
python3 - "$T/runs.json" "$CAIRN" <<'PY' >"$T/mk.log" 2>&1
import json, subprocess, sys
runs, cairn = json.load(open(sys.argv[1])), sys.argv[2]
for r in runs:
    args = [cairn, "start", "-p", r["project"], "-n", r["name"]]
    for k, v in r["params"].items():
        args += ["--param", "%s=%s" % (k, v)]
    rid = subprocess.check_output(args, text=True).strip()
    for k, v in r["metrics"].items():
        subprocess.check_call([cairn, "log", "metric", k, str(v), "--run", rid])
    for t in r.get("tags", []):
        subprocess.check_call([cairn, "tag", rid, t])
    subprocess.check_call([cairn, "finish", rid], stdout=subprocess.DEVNULL)
PY
is "240 runs made" "$("$CAIRN" ls --format csv --columns id | tail -n +2 | wc -l)" 240

# same ARGS...: the kept and the streamed listing print the same bytes
same() {
	local d=$1; shift
	COLUMNS=160 "$CAIRN" ls "$@" >"$T/k.out" 2>"$T/k.err"
	local krc=$?
	COLUMNS=160 CAIRN_LS_KEEP=7 "$CAIRN" ls "$@" >"$T/s.out" 2>"$T/s.err"
	local src=$?
	[ $krc = 0 ] && [ $src = 0 ] && cmp -s "$T/k.out" "$T/s.out" && cmp -s "$T/k.err" "$T/s.err"
	_report $? "$d"
	cmp -s "$T/k.out" "$T/s.out" || diff "$T/k.out" "$T/s.out" | head -5 | sed 's/^/# /'
}
same "table" 
same "table, sorted" --sort -acc,name
same "table, filtered" 'acc > 0.5 and params.depth < 3'
same "table, one project" -p a
same "table, --columns" --columns name,params.lr,metrics.loss,tags
same "table, +COLS" --columns +params.fixed --sort lr
same "table, offset and limit" --offset 5 --limit 100
same "csv" --format csv
same "csv, sorted" --format csv --sort depth,-acc
same "csv, --columns" --format csv --columns id,name,status,metrics.acc
same "json" --format json
same "json, sorted and filtered" --format json --sort -loss 'loss is not null'
same "no match" 'acc > 2'
same "no match, json" --format json 'acc > 2'

# the streamed JSON parses and holds every run, each once
CAIRN_LS_KEEP=7 "$CAIRN" ls --format json >"$T/all.json"
is "the streamed JSON parses, every run once" \
	"$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(len(v), len({r["id"] for r in v}))' "$T/all.json")" "240 240"
is "newest first" "$(json 'j[0]["name"]+" "+j[-1]["name"]' <"$T/all.json")" "r239 r000"
# and a table of all of them
CAIRN_LS_KEEP=7 COLUMNS=200 "$CAIRN" ls >"$T/all.txt"
is "the streamed table: two header lines and a row per run" "$(wc -l <"$T/all.txt")" 242
like "the differing params are columns" "$(sed -n 2p "$T/all.txt")" "depth +lr"
unlike "the constant one is not" "$(sed -n 2p "$T/all.txt")" "fixed"
like "the metric some runs lack is" "$(sed -n 2p "$T/all.txt")" "acc +loss"
like "a project column: the runs span two" "$(sed -n 2p "$T/all.txt")" "PROJECT"
like "tags" "$(sed -n 2p "$T/all.txt")" "TAGS"
# widths come from every row: each row's start time under STARTED
is "every row aligned under the header" \
	"$(awk 'NR == 2 { p = index($0, "STARTED") } NR > 2 && substr($0, p, 5) !~ /^20[0-9][0-9]-$/ { bad++ } END { print bad + 0 }' "$T/all.txt")" 0
# bad input is still refused before anything is printed
fails "a bad query" 2 env CAIRN_LS_KEEP=7 "$CAIRN" ls 'acc >'
is "nothing on stdout" "$(out)" ""
fails "a bad sort" 2 env CAIRN_LS_KEEP=7 "$CAIRN" ls --sort 'acc desc desc'
# output that cannot be written is one error and exit 1
if [ -w /dev/full ]; then
	"$CAIRN" ls --format json >/dev/full 2>"$T/full.err"
	is "json into a full device: exit 1" "$?" 1
	like "it says why" "$(cat "$T/full.err")" "^error: cannot write the listing: No space left on device"
	is "one line" "$(wc -l <"$T/full.err")" 1
else
	skip "json into a full device" "no /dev/full"
	skip "it says why" "no /dev/full"
	skip "one line" "no /dev/full"
fi
done_testing
