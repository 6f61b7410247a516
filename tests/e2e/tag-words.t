#!/usr/bin/env bash
# tests/e2e/tag-words.t — a tag is one word: a comma or a space would make
# one tag read as several where tags are listed, so every way of adding a
# tag refuses them (cairn tag, start -t, run -t, log tag, the HTTP API's
# new runs and tag lists), with one clear error and nothing written; removing
# such a tag from an older store still works.
. "$(dirname "$0")/lib.sh"

ID=$($CAIRN start -n keep -t base)
before=$(store_digest)

fails "cairn tag: a comma" 1 $CAIRN tag "$ID" ok "a,b"
is "says what and where" "$(err)" "error: tag 'a,b' contains a comma at byte 1 (a tag is one word: use '-', '_' or key=value, e.g. 'lr-sweep')"
fails "cairn tag: a space" 1 $CAIRN tag "$ID" "two words"
like "says so" "$(err)" "^error: tag 'two words' contains a space at byte 3 "
fails "cairn tag: key=value with a space in the value" 1 $CAIRN tag "$ID" "note=a b"
is "no tag written, not even the good one before it" "$(store_digest)" "$before"
fails "cairn start -t" 1 $CAIRN start -n x -t "a,b"
one_error_line "one error line"
fails "cairn run -t" 1 $CAIRN run -n y -t "a b" -- true
like "the same error" "$(err)" "contains a space"
fails "cairn log tag" 1 $CAIRN log tag "x,y" --run "$ID"
is "no run made, nothing changed" "$(store_digest)" "$before"
ok "a word with - _ / = is fine" $CAIRN tag "$ID" lr-sweep v_2 exp/1 owner=ann
is "added" "$($CAIRN show "$ID" --json | json 'j["tags"]')" '["base", "exp/1", "lr-sweep", "owner=ann", "v_2"]'

# an older store may hold one: it is shown quoted (ls-layout.t) and can be removed
store_sql "INSERT INTO tags(rid, tag) SELECT rid, 'old,tag' FROM runs WHERE id = '$ID'" >/dev/null
ok "remove an old tag with a comma" $CAIRN tag "$ID" "old,tag" --remove
is "gone" "$($CAIRN show "$ID" --json | json '"old,tag" in j["tags"]')" "False"

# the HTTP API refuses them before writing anything
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/srv.out" 2>"$T/srv.err" &
SRV=$!
trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; _cleanup' EXIT
for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
post() { STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$2" "$URL$1"); }
body() { cat "$T/body"; }
before=$(store_digest)
post "/api/v1/runs/$ID/tags" '{"tags":["fine","a b"]}'
is "POST tags with a space: 400" "$STATUS" 400
like "names the tag" "$(body | json 'j["error"]["message"]')" "tags\[1\]: tag 'a b' contains a space"
post /api/v1/runs '{"name":"z","tags":["x,y"]}'
is "POST runs with a comma tag: 400" "$STATUS" 400
like "names it" "$(body | json 'j["error"]["message"]')" "tag 'x,y' contains a comma"
is "nothing written" "$(store_digest)" "$before"
post "/api/v1/runs/$ID/tags" '{"tags":["fine"]}'
is "a good tag: 200" "$STATUS $(body | json '"fine" in j["tags"]')" "200 True"
kill -TERM $SRV; wait $SRV
is "the server stops cleanly" "$?" 0
is "nothing on its stderr" "$(cat "$T/srv.err")" ""
trap _cleanup EXIT
done_testing
