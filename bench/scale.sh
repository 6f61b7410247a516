#!/usr/bin/env bash
# bench/scale.sh — issue 18's figures at a million runs (bench/scale.py).
# SCALE_RUNS=N for another size, SCALE_STORE=DIR to reuse a built store;
# building 1M runs takes a few minutes.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/scale.py
