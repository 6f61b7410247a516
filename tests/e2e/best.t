#!/usr/bin/env bash
# cairn best METRIC [QUERY]: the direction from the name or --higher/--lower,
# runs without a value (or NaN) never win, a query narrows, json is the run.
. "$(dirname "$0")/lib.sh"
plan 29

mk() {
	local id
	id=$($CAIRN start -n "$1" --param model="$2") || return 1
	shift 2
	for kv in "$@"; do $CAIRN log metric "${kv%%=*}" "${kv#*=}" --run "$id"; done
	$CAIRN finish "$id" >/dev/null
	echo "$id"
}
A=$(mk a lgbm valid_auc=0.91 loss=0.30 score=5)
B=$(mk b xgb valid_auc=0.95 loss=0.35 score=3)
C=$(mk c lgbm valid_auc=nan loss=0.20)
D=$(mk d rf loss=0.50)
name() { json 'j["name"]'; }

ok "best by a higher-is-better metric" $CAIRN best valid_auc --json
is "the highest" "$(out | name)" "b"
ok "metrics.KEY works too" $CAIRN best metrics.valid_auc --json
is "same" "$(out | name)" "b"
ok "lower is better for a loss" $CAIRN best loss --json
is "the lowest" "$(out | name)" "c"
ok "a query narrows" $CAIRN best valid_auc 'params.model = lgbm' --json
is "NaN never wins" "$(out | name)" "a"
ok "the query may be several words" $CAIRN best loss params.model = lgbm --json
is "lowest among lgbm" "$(out | name)" "c"
fails "unknown direction" 2 $CAIRN best score
like "asks for --higher or --lower" "$(err | head -1)" "cannot tell whether a higher or a lower metrics.score is better: give --higher or --lower"
ok "--higher" $CAIRN best score --higher --json
is "highest score" "$(out | name)" "a"
ok "--lower" $CAIRN best score --lower --json
is "lowest score" "$(out | name)" "b"
ok "--lower overrides the name" $CAIRN best valid_auc --lower --json
is "lowest auc" "$(out | name)" "a"
ok "table" $CAIRN best valid_auc
like "one run, with the metric" "$(out | tail -1)" "^[0-9a-f]{8} +b .*0\.95"
fails "nobody has it: a usage error" 2 $CAIRN best nope_acc
is "says so" "$(err)" "error: no run has a metric 'nope_acc' (see 'cairn best -h')"
fails "a typo" 2 $CAIRN best valid_aux
is "names the metric, and the one meant" "$(err)" "error: no run has a metric 'valid_aux' (did you mean metrics.valid_auc?) (see 'cairn best -h')"
fails "a param is not a metric" 2 $CAIRN best params.model
like "says so" "$(err)" "^error: params.model is not a metric"
fails "no run with a number: the operation fails" 1 $CAIRN best valid_auc 'params.model = rf'
is "one error line" "$(err)" "error: no run that matches the query has a value for metrics.valid_auc"
fails "no metric" 2 $CAIRN best
done_testing
