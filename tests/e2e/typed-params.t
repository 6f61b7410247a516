#!/usr/bin/env bash
# tests/e2e/typed-params.t — type fidelity of params through every reader:
# a float param NaN / +Inf / -Inf and a string param "NaN" / "Infinity" /
# "-Infinity" stay apart in `cairn show` (--json and the table), `cairn ls`
# (json, csv, table), `cairn ls --group`, `cairn compare`, `cairn diff` and
# the HTTP API.  In JSON a
# non-finite float param is {"$float": "NaN"} (docs/internals/json.md).
. "$(dirname "$0")/lib.sh"

TOOLS=$(dirname "$CAIRN")/tests
id=$("$CAIRN" start -n typed)
"$TOOLS/tool-params" "$CAIRN_DIR" "$id" fn=float:nan fi=float:inf fm=float:-inf f2=float:2 \
	sn=str:NaN si=str:Infinity sm=str:-Infinity >"$T/tp.err" 2>&1
is "typed params logged through the C API" "$?" 0
"$CAIRN" finish "$id"

"$CAIRN" show "$id" --json >j.json
is "show --json: float NaN" "$(json 'j["params"]["fn"]' <j.json)" '{"$float": "NaN"}'
is "show --json: float +Inf" "$(json 'j["params"]["fi"]' <j.json)" '{"$float": "Infinity"}'
is "show --json: float -Inf" "$(json 'j["params"]["fm"]' <j.json)" '{"$float": "-Infinity"}'
is "show --json: a finite float keeps its point" "$(grep -o '"f2":[^,}]*' j.json)" '"f2":2.0'
is "show --json: string NaN" "$(json 'j["params"]["sn"]' <j.json)" NaN
is "show --json: string Infinity" "$(json 'j["params"]["si"]' <j.json)" Infinity

cols=params.fn,params.sn,params.fi,params.si,params.fm,params.sm
is "ls csv: floats as nan/inf, strings as their text" \
	"$("$CAIRN" ls --columns "$cols" --format csv | tail -1)" "nan,NaN,inf,Infinity,-inf,-Infinity"
out=$("$CAIRN" ls --columns "$cols")
like "ls table: the same" "$out" "nan +NaN +inf +Infinity +-inf +-Infinity"
is "ls json: the same objects as show" \
	"$("$CAIRN" ls --format json | json 'j[0]["params"]')" "$(json 'j["params"]' <j.json)"
out=$("$CAIRN" show "$id")
like "show: float NaN as nan" "$out" "fn +nan"
like "show: string NaN as NaN" "$out" "sn +NaN"
like "show: string Infinity as Infinity" "$out" "si +Infinity"
out=$("$CAIRN" compare "$id" --format csv)
like "compare: float inf" "$out" "params.fi,inf"
like "compare: string Infinity" "$out" "params.si,Infinity"
is "a query on the string NaN finds the run" "$("$CAIRN" ls 'params.sn = "NaN"' --format csv --columns name | tail -1)" typed
is "a query tells the float NaN from the string" "$("$CAIRN" ls 'params.fn = nan' --format csv --columns name | tail -1)" typed

# the HTTP API sends the same run object
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/srv.out" 2>"$T/srv.err" &
SRV=$!
for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
curl -s "$URL/api/v1/runs/$id" >h.json
is "HTTP run: float NaN" "$(json 'j["params"]["fn"]' <h.json)" '{"$float": "NaN"}'
is "HTTP run: string NaN" "$(json 'j["params"]["sn"]' <h.json)" NaN
curl -s "$URL/api/v1/runs?columns=params.fn,params.sn" >l.json
is "HTTP runs list, projected: float NaN" "$(json 'j["runs"][0]["params"]["fn"]' <l.json)" '{"$float": "NaN"}'
is "... and string NaN" "$(json 'j["runs"][0]["params"]["sn"]' <l.json)" NaN
is "... and only those params" "$(json 'sorted(j["runs"][0]["params"])' <l.json)" '["fn", "sn"]'
# ... and takes the same form in: {"$float": "NaN"} is a float, "NaN" a string
hid=$("$CAIRN" start -n http-typed)
code=$(curl -s -o "$T/p.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-d '{"params":{"hn":{"$float":"NaN"},"hi":{"$float":"-Infinity"},"hs":"NaN","m":{"d":1}}}' \
	"$URL/api/v1/runs/$hid/params")
is "HTTP params with {\"\$float\": ...} are taken" "$code" 200
"$CAIRN" show "$hid" --json >hp.json
is "... as a float NaN" "$(json 'j["params"]["hn"]' <hp.json)" '{"$float": "NaN"}'
is "... and a float -Inf" "$(json 'j["params"]["hi"]' <hp.json)" '{"$float": "-Infinity"}'
is "... while \"NaN\" stays a string" "$(json 'j["params"]["hs"]' <hp.json)" NaN
is "... and nested objects still flatten" "$(json 'j["params"]["m.d"]' <hp.json)" 1
code=$(curl -s -o "$T/p.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-d '{"params":{"bad":{"$float":"soon"}}}' "$URL/api/v1/runs/$hid/params")
is "a \$float that is no number is a 400" "$code" 400
# groups: a float NaN and a string "NaN" are two groups, each keeping its type
gid=$("$CAIRN" start -n grouped)
"$TOOLS/tool-params" "$CAIRN_DIR" "$gid" fn=str:NaN >"$T/tp.err" 2>&1
"$CAIRN" ls --group params.fn --json >g.json
is "ls --group json: float NaN and string NaN apart" \
	"$(json '[g["value"] for g in j["groups"]]' <g.json)" '["NaN", {"$float": "NaN"}, null]'
out=$("$CAIRN" ls --group params.fn --format csv)
like "ls --group csv: the float as nan" "$out" $'\nnan,1'
like "ls --group csv: the string as NaN" "$out" $'\nNaN,1'
out=$("$CAIRN" diff "$id" "$gid")
like "diff: the float NaN against the string NaN" "$out" "~ fn +nan → NaN"
"$CAIRN" diff "$id" "$gid" --json >d.json
is "diff --json: each side keeps its type" \
	"$(json '[(c["a"], c["b"]) for c in j["params"]["changed"] if c["key"] == "fn"]' <d.json)" \
	'[[{"$float": "NaN"}, "NaN"]]'
is "diff --json: a removed float inf param" \
	"$(json '[r["value"] for r in j["params"]["removed"] if r["key"] == "fi"]' <d.json)" \
	'[{"$float": "Infinity"}]'
curl -s "$URL/api/v1/runs?group=params.fn" >hg.json
is "HTTP group view: the same values" "$(json '[g["value"] for g in j["groups"]]' <hg.json)" \
	'["NaN", {"$float": "NaN"}, null]'
kill -TERM $SRV
wait $SRV
is "the server stops cleanly" "$?" 0

done_testing
