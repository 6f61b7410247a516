#!/usr/bin/env bash
# tests/e2e/ls-names.t — bare names and the messages around them: `valid_acc`
# for metrics.valid_acc (or a param) in a query, --sort, --group, --metric,
# --columns and `best`, resolved among the runs in scope by the library, so
# the HTTP API gets the same; an ambiguous name says both spellings; an
# unknown one, the closest name; a metric or param no run has is a warning
# on stderr; and every usage error of ls, best and compare exits 2.
. "$(dirname "$0")/lib.sh"

mk() { # mk PROJECT NAME PARAMS... -- METRICS...
	local p=$1 n=$2; shift 2
	local args=() id
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--param "$1"); shift; done
	[ "${1:-}" = -- ] && shift
	id=$($CAIRN start -p "$p" -n "$n" "${args[@]}") || return 1
	for kv in "$@"; do $CAIRN log metric "${kv%%=*}" "${kv#*=}" --run "$id"; done
	$CAIRN finish "$id" >/dev/null
	echo "$id"
}
mk salt a1 model=lgbm lr=0.1 -- valid_acc=0.91 valid_loss=0.3 score=2 >/dev/null
mk salt b2 model=xgb lr=0.01 score=5 -- valid_acc=0.95 valid_loss=0.2 >/dev/null
mk salt c3 model=lgbm lr=0.001 -- valid_acc=0.80 valid_loss=0.5 >/dev/null
mk other d4 model=rf score=3 -- train_acc=0.7 >/dev/null
names() { json '",".join(r["name"] for r in j)'; }
before=$(store_digest)

# bare names where exactly one of metrics.X / params.X exists
ok "a bare metric in a query" $CAIRN ls 'valid_acc > 0.9' --json
is "as metrics.valid_acc" "$(out | names)" "b2,a1"
ok "a bare param" $CAIRN ls model = lgbm --json
is "as params.model" "$(out | names)" "c3,a1"
ok "a dotted bare name with a part" $CAIRN ls 'valid_loss.min < 0.25' --json
is "as metrics.valid_loss.min" "$(out | names)" "b2"
ok "--sort" $CAIRN ls --sort -valid_acc --json
is "by metrics.valid_acc" "$(out | names)" "b2,a1,c3,d4"
ok "--sort shows the key as a column" env COLUMNS=200 $CAIRN ls --sort -valid_acc -p salt
like "first among the metrics" "$(out | sed -n 2p)" "STATUS +valid_acc +score +valid_loss "
ok "--group and --metric" $CAIRN ls --group model --metric valid_acc -p salt --json
is "resolved" "$(out | json '[j["group_by"], j["metric"], [g["value"] for g in j["groups"]]]')" \
	'["params.model", "metrics.valid_acc", ["lgbm", "xgb"]]'
ok "--group by the sort key's metric" $CAIRN ls --group model --sort -valid_acc -p salt
like "summarised by it" "$(out | head -1)" "MEAN metrics.valid_acc"
ok "--columns" $CAIRN ls --columns name,valid_acc,lr --sort name -p salt --format csv
is "full names in CSV" "$(out | head -2)" "name,metrics.valid_acc,params.lr
a1,0.91,0.1"
ok "scope: in project other, score is only a param" $CAIRN ls -p other 'score = 3' --json
is "params.score" "$(out | names)" "d4"
ok "an attribute name stays the attribute" $CAIRN ls 'name = a1' --json
is "the run's name" "$(out | names)" "a1"

# ambiguous and unknown bare names: usage errors with a caret
fails "ambiguous in a query" 2 $CAIRN ls 'score > 1'
is "both spellings" "$(err)" "error: invalid query: ambiguous name 'score': did you mean metrics.score or params.score at character 1
  score > 1
  ^"
fails "ambiguous in --sort" 2 $CAIRN ls --sort lr,-score
like "at the key" "$(err | head -1)" "^error: invalid sort: ambiguous name 'score': did you mean metrics.score or params.score at character 5$"
fails "ambiguous in --group" 2 $CAIRN ls --group score
like "says so" "$(err | head -1)" "ambiguous name 'score'"
fails "unknown, with the closest name" 2 $CAIRN ls 'valid_accc > 0.5'
like "did you mean" "$(err | head -1)" "^error: invalid query: unknown field 'valid_accc': no run has a metric or param of that name \(did you mean metrics.valid_acc\?\) at character 1$"
fails "a word of a key" 2 $CAIRN ls --sort loss
like "suggests the key" "$(err | head -1)" "did you mean metrics.valid_loss\?"
fails "an attribute typo" 2 $CAIRN ls 'stauts = finished'
like "suggests the attribute" "$(err | head -1)" "did you mean status\?"
fails "unknown in a project" 2 $CAIRN ls -p other 'valid_acc > 0'
like "names the project" "$(err | head -1)" "no run of project 'other' has a metric or param of that name"

# a metric or param no run has: nothing matches, and stderr says why
ok "metrics.nope" $CAIRN ls 'metrics.nope > 1'
is "nothing listed" "$(out | wc -l)" 1
is "a warning" "$(err)" "warning: no run has a metric 'nope'"
ok "a typo'd metric" $CAIRN ls 'metrics.valid_accc > 0.5' --json
is "stdout is still JSON" "$(out)" "[]"
is "the closest name" "$(err)" "warning: no run has a metric 'valid_accc' (did you mean metrics.valid_acc?)"
ok "a typo'd param" $CAIRN ls 'params.modle = lgbm or metrics.valid_acc > 0.9' --json
is "the rest of the query still runs" "$(out | names)" "b2,a1"
is "a param warning" "$(err)" "warning: no run has a param 'modle' (did you mean params.model?)"
ok "a sort key no run has" $CAIRN ls --sort metrics.f1 --json
is "warned too" "$(err)" "warning: no run has a metric 'f1'"
ok "the scope counts" $CAIRN ls -p other 'metrics.valid_acc > 0'
is "not in project other" "$(err)" "warning: no run of project 'other' has a metric 'valid_acc'"
ok "a key that exists: no warning" $CAIRN ls 'metrics.valid_acc > 2'
is "stderr empty" "$(err)" ""

# best: a bare METRIC is a metric that some run must have
ok "best by a bare metric" $CAIRN best valid_acc --json
is "the best" "$(out | json 'j["name"]')" "b2"
fails "a typo" 2 $CAIRN best valid_accc
is "not 'cannot tell whether higher is better'" "$(err)" "error: no run has a metric 'valid_accc' (did you mean metrics.valid_acc?) (see 'cairn best -h')"
fails "a bad METRIC" 2 $CAIRN best 'metrics.'
fails "a param" 2 $CAIRN best params.lr
fails "ambiguous query" 2 $CAIRN best valid_acc 'score > 1'

# usage errors exit 2, across ls, best and compare
fails "--group: a bad field" 2 $CAIRN ls --group 'metrics.'
fails "--group: unknown" 2 $CAIRN ls --group nosuch
fails "--group: tags" 2 $CAIRN ls --group tags
like "says why" "$(err)" "cannot group by 'tags'"
fails "--group json: tags" 2 $CAIRN ls --group tags --json
fails "--metric: not summarisable" 2 $CAIRN ls --group model --metric tags
fails "--metric without --group" 2 $CAIRN ls --metric valid_acc
fails "--sort: bad" 2 $CAIRN ls --sort 'metrics.valid_acc,'
fails "--sort: not sortable" 2 $CAIRN ls --sort tags
fails "--columns: bad" 2 $CAIRN ls --columns 'name,metrics.'
fails "--columns: ambiguous" 2 $CAIRN ls --columns score
fails "--limit: bad" 2 $CAIRN ls --limit x
fails "--format: bad" 2 $CAIRN ls --format yaml
fails "best --format: bad" 2 $CAIRN best valid_acc --format yaml
fails "best: an unknown option" 2 $CAIRN best valid_acc --sort x
fails "compare: no run" 2 $CAIRN compare
fails "compare: bad format" 2 $CAIRN compare a1 --format yaml
fails "compare: an unknown option" 2 $CAIRN compare a1 --nope
is "nothing changed" "$(store_digest)" "$before"

# the HTTP API resolves the same names through the same library call
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/srv.out" 2>"$T/srv.err" &
SRV=$!
trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; _cleanup' EXIT
for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
get() { STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -G "$URL$1" "${@:2}"); }
body() { cat "$T/body"; }
get /api/v1/runs --data-urlencode 'q=valid_acc > 0.9' --data-urlencode 'sort=-valid_acc'
is "GET runs?q=valid_acc > 0.9: 200" "$STATUS" 200
is "matches, sorted" "$(body | json '",".join(r["name"] for r in j["runs"])')" "b2,a1"
get /api/v1/runs --data-urlencode 'q=score > 1'
is "ambiguous: 400" "$STATUS" 400
is "invalid_query, with the position" "$(body | json '[j["error"]["code"], j["error"]["position"]]')" '["invalid_query", 0]'
like "both spellings" "$(body | json 'j["error"]["message"]')" "ambiguous name 'score': did you mean metrics.score or params.score"
get /api/v1/runs --data-urlencode 'sort=valid_accc'
is "an unknown sort key: 400 invalid_sort" "$STATUS $(body | json 'j["error"]["code"]')" "400 invalid_sort"
get /api/v1/runs --data-urlencode 'q=score = 3' --data-urlencode project=other
is "the project scopes it" "$STATUS $(body | json '[r["name"] for r in j["runs"]]')" '200 ["d4"]'
get /api/v1/runs --data-urlencode group=model --data-urlencode metric=valid_acc --data-urlencode project=salt
is "group and metric" "$STATUS $(body | json '[j["group_by"], j["metric"]]')" '200 ["params.model", "metrics.valid_acc"]'
get /api/v1/query --data-urlencode 'q=metrics.nope > 1 and valid_acc > 0'
is "query check: warnings" "$STATUS $(body | json 'j')" '200 {"ok": true, "warnings": ["no run has a metric '"'nope'"'"]}'
get /api/v1/query --data-urlencode 'q=score > 1'
is "query check: ambiguous is 400" "$STATUS" 400
kill -TERM $SRV; wait $SRV
is "the server stops cleanly" "$?" 0
is "nothing on its stderr" "$(cat "$T/srv.err")" ""
trap _cleanup EXIT
done_testing
