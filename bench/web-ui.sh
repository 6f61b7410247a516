#!/usr/bin/env bash
# bench/web-ui.sh — the web UI in headless Chromium on a 100,000-run store
# (or WEBUI_STORE):
# time from navigation to the runs table's first page on screen (target
# under 1 s; floor: the same page's GET /api/v1/runs?limit=100 alone), and
# the frame times while scrolling through the table.  Needs node_modules
# (scripts/install-deps) and /usr/bin/chromium.
set -eu
cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-$PWD/build-rel/cairn}
GEN=${BENCH_HTTP:-$PWD/build-rel/bench/bench-http}
if [ ! -d node_modules/playwright-core ] || [ ! -x /usr/bin/chromium ]; then
	echo "web-ui: skipped (no node_modules or chromium; run scripts/install-deps)" >&2
	exit 0
fi
dir=$(mktemp -d /tmp/cairn-bench-ui.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
# WEBUI_STORE: an existing store to read instead (say one of 1M runs that
# bench-query --runs 1000000 --keep DIR built: WEBUI_STORE=DIR/.cairn)
store=${WEBUI_STORE:-}
if [ -z "$store" ]; then
	"$GEN" --make-store "$dir" >/dev/null
	store=$dir/.cairn
fi
CAIRN_DIR=$store "$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$dir/url" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 100); do grep -q http "$dir/url" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$dir/url" | sed 's|/$||')
node bench/web-ui.mjs "$url"
