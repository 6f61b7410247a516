#!/usr/bin/env bash
# tests/e2e/text-and-ranges.t — what may enter the store as text and as a
# number, through the CLI, `cairn run` and the HTTP API:
#   - keys, names and tags must be UTF-8 text (no invalid bytes, no C0/C1
#     control such as U+0085): one clear error, nothing stored;
#   - text that must be kept as it is (log output, notes, file names) may hold
#     any bytes, and every JSON output stays valid UTF-8, escaping such a byte
#     as \udcXX, which reads back to the same byte; a postgresql store holds
#     UTF-8 text only, and refuses such text with one clear error (log output
#     is an object, so any bytes there still);
#   - steps are 0..2^63-1 with no automatic step after the last one;
#     timestamps are seconds up to the end of year 9999;
#   - metric values from text: subnormals are numbers, 1e999 is not.
. "$(dirname "$0")/lib.sh"

# strict_json: stdin is valid UTF-8 and valid JSON (Python's strict decoder)
strict_json() { python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))'; }

"$CAIRN" init >/dev/null
id=$("$CAIRN" start -n textual)
before=$(store_digest)

# --- names are text -----------------------------------------------------------
fails "metric key with byte 0xff: exit 1" 1 "$CAIRN" log metric "$(printf 'bad\xff')" 1 --run "$id"
one_error_line "0xff: one error line"
like "0xff: says what" "$(err)" "metric key is not valid UTF-8 \(byte 0xff at offset 3\)"
fails "metric key with U+0085: exit 1" 1 "$CAIRN" log metric "$(printf 'a\xc2\x85b')" 1 --run "$id"
like "U+0085: a control character" "$(err)" "control character at byte 1"
fails "tag with an encoded surrogate: exit 1" 1 "$CAIRN" tag "$id" "$(printf 'x\xed\xa0\x80')"
like "surrogate: not UTF-8" "$(err)" "not valid UTF-8"
fails "overlong encoding of '/': exit 1" 1 "$CAIRN" log param "$(printf 'p\xc0\xaf')" 1 --run "$id"
fails "run name with a lone continuation byte: exit 1" 1 "$CAIRN" start -n "$(printf 'n\x80')"
fails "property key with 0xfe: exit 1" 1 "$CAIRN" log property "$(printf 'k\xfe')" v --run "$id"
is "nothing stored by any of them" "$(store_digest)" "$before"
ok "a key in another script is fine" "$CAIRN" log metric "прогресс.λ" 1 --run "$id"

# --- text kept as it is, JSON still valid --------------------------------------
if [ -n "$PG" ]; then
	# a postgresql store holds UTF-8 text only (docs/internals/store.md, "Text")
	before=$(store_digest)
	fails "a note with bytes that are not UTF-8: exit 1 on postgresql" 1 "$CAIRN" note "$id" "$(printf 'caf\xe9 \xff\xfe end')"
	one_error_line "a note that is not UTF-8: one error line"
	like "... that says why" "$(err)" "not valid UTF-8 \(byte 0xe9 at offset 3\), and a postgresql store holds UTF-8 text only"
	fails "a param value that is not UTF-8: exit 1 on postgresql" 1 "$CAIRN" log param blob "$(printf 'v\xff')" --run "$id"
	like "... that says why" "$(err)" "not valid UTF-8 \(byte 0xff at offset 1\)"
	is "nothing stored by either" "$(store_digest)" "$before"
else
	ok "a note with bytes that are not UTF-8" "$CAIRN" note "$id" "$(printf 'caf\xe9 \xff\xfe end')"
	ok "a param value that is not UTF-8" "$CAIRN" log param blob "$(printf 'v\xff')" --run "$id"
	ok "show --json" "$CAIRN" show "$id" --json
	out | strict_json
	is "show --json is valid UTF-8 JSON" "$?" 0
	is "the note reads back byte for byte (surrogateescape)" \
		"$(out | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.stdout.buffer.write(j["note"].encode("utf-8","surrogateescape"))' | od -An -tx1 | tr -d ' \n')" \
		"$(printf 'caf\xe9 \xff\xfe end' | od -An -tx1 | tr -d ' \n')"
fi
ok "ls --json" "$CAIRN" ls --format json
out | strict_json
is "ls --json is valid UTF-8 JSON" "$?" 0

# a command's output with such bytes under cairn run
ok "cairn run of a command printing bytes that are not UTF-8" \
	"$CAIRN" run -n noisy -- sh -c 'printf "loss=0.5\n\377\376 raw \300\n"'
ok "show --json of that run" "$CAIRN" show noisy --json
out | strict_json
is "its JSON is valid UTF-8" "$?" 0

# --- steps ----------------------------------------------------------------------
ok "the largest step" "$CAIRN" log metric st 1 --step 9223372036854775807 --run "$id"
before=$(store_digest)
fails "no automatic step after it: exit 1" 1 "$CAIRN" log metric st 2 --run "$id"
one_error_line "step overflow: one error line"
like "step overflow: says so" "$(err)" "no step after 9223372036854775807"
is "step overflow: nothing stored" "$(store_digest)" "$before"
fails "a step past int64 on the command line: usage error" 2 \
	"$CAIRN" log metric st 2 --step 9223372036854775808 --run "$id"
ok "a history from step 0 to 2^63-1 reads back" "$CAIRN" log metric wide 0 --step 0 --run "$id"
ok "show --json after it" "$CAIRN" show "$id" --json
is "the last step kept" "$(out | json 'j["metrics"]["st"]["step"]')" \
	9223372036854775807

# --- metric values from text ----------------------------------------------------
ok "a subnormal value is a number" "$CAIRN" log metric tiny 4.9e-324 --run "$id"
fails "1e999 is not a value: exit 1" 1 "$CAIRN" log metric huge 1e999 --run "$id"
like "1e999: says why" "$(err)" "past the range of a double"
ok "-Infinity in any case" "$CAIRN" log metric neg -INFINITY --run "$id"
fails "a hex float is not a value" 1 "$CAIRN" log metric hex 0x1p3 --run "$id"
ok "1e19 stored and shown" "$CAIRN" log metric big 1e19 --run "$id"
ok "show --json of 1e19 (no UB in the integer test)" "$CAIRN" show "$id" --json

# --- over HTTP --------------------------------------------------------------------
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/srv.out" 2>"$T/srv.err" &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
post() { STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$2" "$URL$1"); }

before=$(store_digest)
post "/api/v1/runs/$id/metrics?sync=1" '{"metrics":[{"key":"h","value":1,"step":9223372036854775808}]}'
is "HTTP step 2^63: 400" "$STATUS" 400
like "HTTP step 2^63: says the range" "$(cat "$T/body")" "from 0 to 9223372036854775807"
post "/api/v1/runs/$id/metrics?sync=1" '{"metrics":[{"key":"h","value":1,"timestamp":1e16}]}'
is "HTTP timestamp 1e16: 400" "$STATUS" 400
post "/api/v1/runs/$id/metrics?sync=1" '{"metrics":[{"key":"h","value":1,"timestamp":1e300}]}'
is "HTTP timestamp 1e300: 400" "$STATUS" 400
post "/api/v1/runs/$id/metrics?sync=1" '{"metrics":[{"key":"bad\udcff","value":1}]}'
is "HTTP key with an escaped 0xff byte: 400" "$STATUS" 400
post "/api/v1/runs/$id/metrics?sync=1" '{"metrics":[{"key":"bad\u0085","value":1}]}'
is "HTTP key with U+0085: 400" "$STATUS" 400
post "/api/v1/runs/$id/tags" "$(printf '{"tags":["t\xff"]}')"
is "HTTP tag with a raw 0xff byte: 400" "$STATUS" 400
is "HTTP: nothing stored by the bad requests" "$(store_digest)" "$before"
post "/api/v1/runs/$id/metrics?sync=1" '{"metrics":[{"key":"h","value":1,"step":9223372036854775807,"timestamp":253402300799}]}'
is "HTTP: the largest step and timestamp are accepted" "$STATUS" 200
curl -s "$URL/api/v1/runs/$id" | strict_json
is "GET /api/v1/runs/ID is valid UTF-8 JSON" "$?" 0
curl -s "$URL/api/v1/runs" | strict_json
is "GET /api/v1/runs is valid UTF-8 JSON" "$?" 0
curl -s "$URL/api/v1/columns" | strict_json
is "GET /api/v1/columns is valid UTF-8 JSON" "$?" 0
curl -s "$URL/api/v1/runs/$id/metrics/st" | strict_json
is "the history up to step 2^63-1 reads back" "$?" 0
kill $srv; wait $srv 2>/dev/null
is "the server did not crash or leak" "$(grep -a -c -E 'Sanitizer|runtime error' "$T/srv.err")" 0
done_testing
