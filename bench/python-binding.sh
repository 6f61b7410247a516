#!/usr/bin/env bash
# bench/python-binding.sh — the Python binding's benchmarks (see
# bench/python-binding.py), with the interpreter that has numpy & co.
# (/usr/bin/python3 on Debian) and the library in $CAIRN_LIB (build-rel/ from
# `make bench`, else build/).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ -z "${CAIRN_LIB:-}" ]; then
	if [ -f build-rel/libcairn.so ]; then CAIRN_LIB=$PWD/build-rel/libcairn.so; else CAIRN_LIB=$PWD/build/libcairn.so; fi
fi
export CAIRN_LIB
exec "$PY" bench/python-binding.py
