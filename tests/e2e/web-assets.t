#!/usr/bin/env bash
# tests/e2e/web-assets.t — the web UI embedded in the binary
# (src/server/web-assets.c, committed) matches its source in web/: rebuilding
# with the pinned esbuild from package-lock.json gives the same bytes.
. "$(dirname "$0")/lib.sh"
plan 2
if ! command -v node >/dev/null 2>&1 || [ ! -d "$ROOT/node_modules/esbuild" ]; then
	echo "ok 1 # SKIP node or node_modules missing (scripts/install-deps installs them)"
	echo "ok 2 # SKIP node or node_modules missing"
	exit 0
fi
ok 'src/server/web-assets.c matches web/ (npm run build, then commit)' node "$ROOT/web/build.mjs" --check
like 'the check says so' "$(out)" 'matches'
done_testing
