#!/usr/bin/env bash
# cairn ls: the query language end to end — filters, typed comparisons,
# sorting (missing and NaN last), limits, groups, columns that show what
# differs, terminal fitting, colour only on a terminal, csv/json, and the
# caret under a bad query.
. "$(dirname "$0")/lib.sh"
plan 86
export TZ=UTC

mk() { # mk PROJECT NAME PARAMS... -- METRICS...
	local p=$1 n=$2; shift 2
	local args=() id
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--param "$1"); shift; done
	[ "${1:-}" = -- ] && shift
	id=$($CAIRN start -p "$p" -n "$n" "${args[@]}") || return 1
	while [ $# -gt 0 ]; do
		case $1 in
		tag=*) $CAIRN tag "$id" "${1#tag=}" ;;
		prop=*) local kv=${1#prop=}; $CAIRN log property "${kv%%=*}" "${kv#*=}" --run "$id" ;;
		*) $CAIRN log metric "${1%%=*}" "${1#*=}" --run "$id" ;;
		esac
		shift
	done
	echo "$id"
}

A=$(mk salt a1 model=lgbm lr=0.1 seed=1 -- acc=0.91 loss=0.3 tag=baseline)
B=$(mk salt b2 model=xgb lr=0.01 seed=1 -- acc=0.95 loss=0.2 tag=tuned prop=owner=ann)
C=$(mk salt c3 model=lgbm lr=0.001 seed=1 -- acc=0.80 loss=nan tag=debug)
D=$(mk salt d4 model=rf seed=1 -- loss=0.5)
E=$(mk other e5 model=lgbm lr=0.5 seed=1 -- acc=0.99 tag=debug tag=tuned)
F=$(mk other f6 model=5 lr=1e-3 seed=1 -- acc=0.70)
for r in $A $B $C; do $CAIRN finish "$r" >/dev/null; done
$CAIRN finish "$D" --status failed >/dev/null
before=$(store_digest)

ids() { json '",".join(r["name"] for r in j)'; }

ok "ls lists every run" $CAIRN ls
is "six rows, the header and the group line over it" "$(out | wc -l)" 8
ok "ls --json" $CAIRN ls --json
is "newest first" "$(out | ids)" "f6,e5,d4,c3,b2,a1"

ok "a metric comparison" $CAIRN ls 'metrics.acc > 0.9' --format json
is "matches" "$(out | ids)" "e5,b2,a1"
ok "and, or, not, parentheses" $CAIRN ls '(params.model = "lgbm" or params.model = xgb) and not tags.debug' --json
is "matches" "$(out | ids)" "b2,a1"
ok "the query may be several arguments" $CAIRN ls params.model = lgbm --json
is "joined with spaces" "$(out | ids)" "e5,c3,a1"
ok "in (...)" $CAIRN ls 'params.model in (rf, xgb)' --json
is "matches" "$(out | ids)" "d4,b2"
ok "typed: a numeric param compares as a number" $CAIRN ls 'params.lr < 0.05' --json
is "matches 0.01, 0.001, 1e-3" "$(out | ids)" "f6,c3,b2"
ok "typed: a string param that looks like a number" $CAIRN ls 'params.model = 5' --json
is "matches the string '5'" "$(out | ids)" "f6"
ok "missing fields do not match, even with !=" $CAIRN ls 'params.lr != 0.1' --json
is "d4 has no lr" "$(out | ids)" "f6,e5,c3,b2"
ok "NaN equals only nan" $CAIRN ls 'metrics.loss = nan' --json
is "matches" "$(out | ids)" "c3"
ok "glob" $CAIRN ls 'name ~ "[ab]*"' --json
is "matches" "$(out | ids)" "b2,a1"
ok "status" $CAIRN ls 'status = failed or status = running' --json
is "matches" "$(out | ids)" "f6,e5,d4"
ok "MLflow syntax" $CAIRN ls "metrics.acc > 0.9 AND params.\`model\` LIKE 'l%' AND attributes.status = 'RUNNING'" --json
is "matches" "$(out | ids)" "e5"
ok "tags as a set" $CAIRN ls 'tags ~ "t*" and tags != debug' --json
is "matches" "$(out | ids)" "b2"
ok "properties" $CAIRN ls 'properties.owner = ann' --json
is "matches" "$(out | ids)" "b2"

ok "sort descending" $CAIRN ls --sort=-metrics.acc --json
is "runs without acc last" "$(out | ids)" "e5,b2,a1,c3,f6,d4"
ok "sort ascending: missing and NaN still last" $CAIRN ls --sort metrics.loss --json
is "order" "$(out | ids)" "b2,a1,d4,c3,f6,e5"
ok "two keys" $CAIRN ls --sort 'params.model,-metrics.acc' --json
is "numbers before text, then by acc" "$(out | ids)" "f6,e5,a1,c3,d4,b2"
ok "limit and offset" $CAIRN ls --sort -metrics.acc --limit 2 --offset 1 --json
is "window" "$(out | ids)" "b2,a1"
ok "project" $CAIRN ls -p other --json
is "only that project" "$(out | ids)" "f6,e5"

# default columns: what differs among the listed runs
ok "table" $CAIRN ls -p salt
like "metrics, then params, under group labels" "$(out | head -1)" "^ +metrics +params$"
like "params that differ are shown, by key" "$(out | sed -n 2p)" " lr( |$)"
unlike "params that are the same are not" "$(out | sed -n 2p)" "seed"
like "final metrics that differ, before the params" "$(out | sed -n 2p)" "STATUS +acc +loss +lr +model"
ok "a single project hides the project column" $CAIRN ls -p salt
unlike "no PROJECT" "$(out | sed -n 2p)" "PROJECT"
ok "columns" $CAIRN ls --columns name,metrics.acc,params.seed,tags
is "just those" "$(out | sed -n 2p | tr -s ' ')" "name acc seed tags"
is "under their groups" "$(out | head -1 | tr -s ' ')" " metrics params"
ok "+columns adds" $CAIRN ls -p salt --columns +params.seed
like "defaults and seed, with the other params" "$(out | sed -n 2p)" "STATUS .* lr +model +seed +STARTED"
ok "csv" $CAIRN ls --sort -metrics.acc --columns name,metrics.acc --format csv
is "csv rows" "$(out | head -3 | tr '\n' ' ')" "name,metrics.acc e5,0.99 b2,0.95 "

# the terminal: widths and colour
ok "narrow terminal" env COLUMNS=50 $CAIRN ls
maxw=$(out | python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in sys.stdin))')
[ "$maxw" -le 50 ]; _report $? "no line wider than the terminal ($maxw)"
unlike "columns are left out, no cell is cut" "$(out)" "…"
like "stderr says which" "$(err)" "^\+ [0-9]+ columns hidden \(.*\); use --columns or a wider terminal$"
W=$($CAIRN start -p wide -n 学習率の実験ランその一 -t データ)
ok "wide characters" env COLUMNS=40 $CAIRN ls -p wide
maxw=$(out | python3 -c 'import sys, unicodedata as u; print(max(sum(2 if u.east_asian_width(c) in "WF" else 1 for c in l.rstrip("\n")) for l in sys.stdin))')
[ "$maxw" -le 40 ]; _report $? "count two columns each ($maxw)"
$CAIRN rm --purge "$W" >/dev/null
unlike "no colour into a pipe" "$(cat "$T/.out")" $'\033'
tty_out=$(env -u NO_COLOR script -qc "COLUMNS=200 $CAIRN ls" /dev/null)
like "colour on a terminal" "$tty_out" $'\033\\[1m'
tty_out=$(NO_COLOR=1 script -qc "COLUMNS=200 $CAIRN ls" /dev/null)
unlike "NO_COLOR turns it off" "$tty_out" $'\033\\['

# groups
ok "group" $CAIRN ls --group params.model --sort -metrics.acc
like "one row per value with count and stats" "$(out | grep '^lgbm')" "^lgbm +3 +0\.8 +0\.9 +0\.99"
ok "group json" $CAIRN ls --group params.model --metric metrics.acc --json
is "counts" "$(out | json '[(g["value"], g["count"]) for g in j["groups"]]')" \
	"[[5, 1], [\"lgbm\", 3], [\"rf\", 1], [\"xgb\", 1]]"
ok "group with a filter" $CAIRN ls 'tags.debug' --group params.model --json
is "filtered" "$(out | json '[(g["value"], g["count"]) for g in j["groups"]]')" "[[\"lgbm\", 2]]"

# deleted runs
ok "rm a run" $CAIRN rm "$D"
ok "deleted runs are hidden" $CAIRN ls --json
is "five" "$(out | json 'len(j)')" 5
ok "--all shows them" $CAIRN ls --all --json
is "six" "$(out | json 'len(j)')" 6
before=$(store_digest)

# errors
fails "a bad query is a usage error" 2 $CAIRN ls 'metrics.acc >'
is "the message, then the query and a caret" "$(err)" "error: invalid query: expected a value after '>' at the end
  metrics.acc >
               ^"
fails "the caret points at the problem" 2 $CAIRN ls 'params.model = lgbm and foo = 1'
is "under foo" "$(err | tail -1)" "                          ^"
fails "a bad sort" 2 $CAIRN ls --sort 'metrics.acc,-tags'
like "names it" "$(err | head -1)" "^error: invalid sort: cannot sort by tags"
fails "a bad column" 2 $CAIRN ls --columns 'name,bogus'
fails "a bad format" 2 $CAIRN ls --format xml
like "says so" "$(err | head -1)" "^error: --format must be table, json or csv"
fails "a bad limit" 2 $CAIRN ls --limit -3
is "queries change nothing" "$(store_digest)" "$before"

# a value past long long's range is printed, not cast (UB under the sanitizer build)
huge=$($CAIRN start -p huge -n huge)
$CAIRN log metric big 1e21 --run "$huge"
$CAIRN log metric small -3e19 --run "$huge"
$CAIRN finish "$huge"
like "a metric of 1e21 reads 1e+21" "$($CAIRN ls -p huge --columns metrics.big,metrics.small --format table 2>&1)" "1e\+21 +-3e\+19"
done_testing
