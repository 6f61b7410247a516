#!/usr/bin/env bash
# cairn compare: runs side by side, only what differs (params, final
# metrics, data digests) unless --all; --transpose, json and csv; errors.
. "$(dirname "$0")/lib.sh"
plan 25

add_data() {
	store_sql "INSERT INTO datasets(rid, name, path, role, algo, digest, files, bytes, created)
	     SELECT rid, '$2', 'data/$2', 'input', 'xxh128', '$3', 1, 1, 0 FROM runs WHERE id = '$1'"
}
A=$($CAIRN start -n one --param lr=0.1 --param model=lgbm -t x)
B=$($CAIRN start -n two --param lr=0.01 --param model=lgbm -t y)
C=$($CAIRN start -n three --param lr=0.1 --param model=lgbm --param seed=3)
$CAIRN log metric acc 0.9 --run "$A"; $CAIRN log metric acc 0.95 --run "$B"; $CAIRN log metric acc 0.9 --run "$C"
$CAIRN log metric loss 0.3 --run "$A"; $CAIRN log metric loss 0.3 --run "$B"; $CAIRN log metric loss 0.3 --run "$C"
add_data "$A" train xxh128:aaaa; add_data "$B" train xxh128:bbbb; add_data "$C" train xxh128:aaaa
add_data "$A" valid xxh128:cccc; add_data "$B" valid xxh128:cccc; add_data "$C" valid xxh128:cccc
before=$(store_digest)

ok "compare" $CAIRN compare "$A" "$B" three
rows=$(out | awk 'NR > 1 {print $1}' | tr '\n' ' ')
is "only what differs" "$rows" "name status params.lr params.seed metrics.acc datasets.train "
is "runs are columns" "$(out | head -1 | wc -w)" 3
like "values side by side" "$(out | grep '^params.lr')" "^params.lr +0.1 +0.01 +0.1$"
like "runs without the param show nothing" "$(out | grep '^params.seed')" "^params.seed +3$"
like "digests" "$(out | grep '^datasets.train')" "xxh128:aaaa +xxh128:bbbb"
ok "--all" $CAIRN compare "$A" "$B" --all
rows=$(out | awk 'NR > 1 {print $1}' | tr '\n' ' ')
is "everything" "$rows" "name status params.lr params.model metrics.acc metrics.loss datasets.train datasets.valid tags "
ok "--transpose" $CAIRN compare "$A" "$B" --transpose
is "runs are rows" "$(out | wc -l)" 3
like "fields are columns" "$(out | head -1)" "^ID +name +status +params.lr +metrics.acc +datasets.train"
ok "json" $CAIRN compare "$A" "$B" --json
is "rows" "$(out | json '[r["field"] for r in j["rows"]]')" '["name", "status", "params.lr", "metrics.acc", "datasets.train"]'
is "values" "$(out | json 'j["rows"][2]["values"]')" '["0.1", "0.01"]'
ok "csv" $CAIRN compare "$A" "$B" --format csv
is "full ids in the header" "$(out | head -1)" ",$A,$B"
ok "identical runs say so" $CAIRN compare "$A" "$A"
like "nothing differs" "$(out)" "are the same; --all shows them"
ok "one run shows all of it" $CAIRN compare "$C"
like "every param" "$(out)" "params.seed"
fails "an unknown run" 1 $CAIRN compare "$A" nosuchrun
one_error_line "one error line"
fails "no run" 2 $CAIRN compare
fails "bad format" 2 $CAIRN compare "$A" --format yaml
is "compare changes nothing" "$(store_digest)" "$before"
done_testing
