#!/usr/bin/env bash
# tests/e2e/so-tool.t — the tool as an honest client of the library: cairn-so
# is the same objects as cairn, linked against libcairn.so (only its
# CAIRN_EXTERN symbols), so it builds only while the tool keeps to the public
# API; here it runs the common path (init, run, ls, show).  And the heavy
# libraries are loaded by the code that uses them, never at start-up.
. "$(dirname "$0")/lib.sh"

SO=$(dirname "$CAIRN")/cairn-so
ok "cairn-so is built beside cairn" test -x "$SO"
ok "and linked against libcairn.so" sh -c "ldd '$SO' | grep -q 'libcairn\.so\.0 => $(dirname "$CAIRN")/'"
for bin in "$CAIRN" "$SO"; do
	n=$(basename "$bin")
	unlike "$n loads no libgit2, libmicrohttpd or libcrypto at start-up" \
		"$(ldd "$bin")" 'libgit2|libmicrohttpd|libcrypto'
done

mkdir -p proj && cd proj
ok "init" "$SO" init
ok "version" "$SO" --version
is "same version as cairn" "$(out)" "$("$CAIRN" --version)"
export CAIRN_DIR=$PWD/.cairn
ok "run" "$SO" run -n smoke -t so --param lr=0.1 -- sh -c 'echo loss=0.5'
ok "ls" "$SO" ls --format json
id=$(out | json 'j[0]["id"]')
is "ls finds the run" "$(out | json 'j[0]["name"]')" "smoke"
ok "show" "$SO" show "$id" --json
is "show has its param" "$(out | json 'j["params"]["lr"]')" "0.1"
is "and its metric" "$(out | json 'j["metrics"]["loss"]["last"]')" "0.5"
ok "cairn reads what cairn-so wrote" "$CAIRN" show "$id"
done_testing
