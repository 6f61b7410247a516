#!/usr/bin/env bash
# tests/e2e/http-keyset.t — paging GET /api/v1/runs by its `next` cursor, a
# keyset position (docs/http-api.md): for several sorts (ties on the first
# key broken by later keys and by creation, NaN and missing values last)
# and page sizes, the pages joined are the one-page listing, each run
# exactly once; offsets still page; a tampered cursor or one of another
# query is 400 bad_cursor; and the server stops cleanly.
. "$(dirname "$0")/lib.sh"
plan 28

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

"$CAIRN" init >/dev/null
models=(a b c 1 2.5 b)
for i in $(seq 1 30); do
	id=$("$CAIRN" start -p demo -n "run-$((i % 7))" --param "model=${models[$((i % 6))]}" --param "lr=0.$((i % 4))")
	case $((i % 5)) in
	0) ;;                                            # no metric: missing
	1) "$CAIRN" log metric acc nan --run "$id" ;;    # NaN
	*) "$CAIRN" log metric acc "0.$((i % 3))" --run "$id" ;;
	esac
done

"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/srv.out" 2>"$T/srv.err" &
SRV=$!
PIDS+=($SRV)
for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')

# walk URL SORT SIZE: the ids of every page through `next`, one per line,
# then the number of pages
cat >"$T/walk.py" <<'PY'
import json, sys, urllib.parse, urllib.request
url, sort, size = sys.argv[1], sys.argv[2], sys.argv[3]
args = {"limit": size, "columns": "name"}
if sort:
    args["sort"] = sort
ids, pages, offsets = [], 0, []
cursor = None
while True:
    a = dict(args)
    if cursor:
        a["cursor"] = cursor
    with urllib.request.urlopen(url + "/api/v1/runs?" + urllib.parse.urlencode(a)) as r:
        j = json.load(r)
    offsets.append(j["offset"] == len(ids))
    ids += [x["id"] for x in j["runs"]]
    pages += 1
    cursor = j["next"]
    if not cursor or pages > 100:
        break
print(json.dumps({"ids": ids, "pages": pages, "offsets_ok": all(offsets)}))
PY
one() { # SORT: every id in one page
	curl -s "$URL/api/v1/runs?limit=1000&columns=name&sort=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")" | json '[r["id"] for r in j["runs"]]'
}
for sort in "" "-metrics.acc" "metrics.acc,name" "params.model" "-params.model,-name" "name,params.lr"; do
	want=$(one "$sort")
	for size in 1 4 7; do
		got=$(python3 "$T/walk.py" "$URL" "$sort" "$size")
		is "sort '$sort', pages of $size: every run once, in order" \
			"$(echo "$got" | json 'j["ids"]')" "$want"
	done
done
is 'the listing holds every run' "$(one "" | json 'len(j)')" 30
got=$(python3 "$T/walk.py" "$URL" "-metrics.acc" 4)
is 'each page says its offset' "$(echo "$got" | json 'j["offsets_ok"]')" True

# offsets still page (random access)
req() { STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "$URL$1"); }
req '/api/v1/runs?limit=5&offset=25&sort=name&columns=name'
is 'offset: the last page' "$(json '[r["id"] for r in j["runs"]]' <"$T/body")" "$(one name | json 'j[25:]')"

# bad cursors
req '/api/v1/runs?limit=4&sort=-metrics.acc'
C=$(json 'j["next"]' <"$T/body")
req "/api/v1/runs?limit=4&sort=metrics.acc&cursor=$C"
is 'a cursor of another sort: 400' "$STATUS" 400
is '... bad_cursor' "$(json 'j["error"]["code"]' <"$T/body")" bad_cursor
# the position tampered with (one character of it changed)
T2=$(python3 -c 'import sys; c=sys.argv[1]; i=c.index(".")+8; print(c[:i] + ("A" if c[i] != "A" else "B") + c[i+1:])' "$C")
req "/api/v1/runs?limit=4&sort=-metrics.acc&cursor=$T2"
is 'a tampered position: 400' "$STATUS" 400
is '... bad_cursor' "$(json 'j["error"]["code"]' <"$T/body")" bad_cursor
req "/api/v1/runs?limit=4&sort=-metrics.acc&cursor=${C%%.*}."
is 'a cursor with an empty position: 400' "$STATUS" 400

kill -TERM "$SRV"
wait "$SRV"
is 'the server stops cleanly on SIGTERM' "$?" 0
is '... with nothing on its stderr' "$(grep -v '^warning: serving plain HTTP ' "$T/srv.err" | head -1)" ''
PIDS=()
