#!/usr/bin/env bash
# bench/remote.sh — logging to a cairn server by its URL (bench/remote.py),
# with the interpreter that has the binding's dependencies and the library
# in $CAIRN_LIB (build-rel/ from `make bench`, else build/).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ -z "${CAIRN_LIB:-}" ]; then
	if [ -f build-rel/libcairn.so ]; then CAIRN_LIB=$PWD/build-rel/libcairn.so; else CAIRN_LIB=$PWD/build/libcairn.so; fi
fi
if [ -z "${CAIRN:-}" ]; then
	if [ -x build-rel/cairn ]; then CAIRN=$PWD/build-rel/cairn; else CAIRN=$PWD/build/cairn; fi
fi
export CAIRN CAIRN_LIB
exec "$PY" bench/remote.py
