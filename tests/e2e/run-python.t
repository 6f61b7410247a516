#!/usr/bin/env bash
# cairn run of a Python command records the parsed argparse namespace,
# defaults included, through the startup hook (python/pyhook, installed as
# share/cairn/pyhook), named by dest; other programs keep argv as the source.
source "$(dirname "$0")/lib.sh"

PY=$(command -v python3)
cat > train.py <<'PY'
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", "--learning-rate", dest="learning_rate", type=float, default=0.1)
p.add_argument("-k", "--k-neighbors", type=int, default=5)
p.add_argument("--optimizer", default="adam")
args = p.parse_args()
print("trained with", args.learning_rate)
PY
params() { "$CAIRN" show "${1:-$(newest)}" --json | json 'j["params"]'; }
prop() { "$CAIRN" show "$(newest)" --json | json "j['properties'].get('$1')"; }
newest() { "$CAIRN" ls --format json --limit 1 | json 'j[0]["id"]'; }

# --- the namespace, from the build tree ------------------------------------------------
ok "python3 train.py" "$CAIRN" run -- "$PY" train.py -k 3 --learning-rate 0.2
is "by dest, defaults included, no 'k'" "$(params)" \
	'{"k_neighbors": 3, "learning_rate": 0.2, "optimizer": "adam"}'
is "which were defaults" "$(prop argparse.defaults)" '["optimizer"]'
"$CAIRN" show "$(newest)" > show.txt
like "show marks the default" "$(grep '^  optimizer' show.txt)" '^  optimizer +adam +\(default\)$'
like "and not what was typed" "$(grep '^  k_neighbors' show.txt)" '^  k_neighbors +3$'
like "the program's output passes" "$("$CAIRN" run -- "$PY" train.py --lr 0.5)" '^trained with 0.5$'
is "--lr is the dest learning_rate" "$(params)" '{"k_neighbors": 5, "learning_rate": 0.5, "optimizer": "adam"}'
ok "--param wins over the namespace" "$CAIRN" run --param optimizer=sgd -- "$PY" train.py
is "optimizer = sgd" "$(params | json 'j["optimizer"]')" sgd

# a script with a python #! line, and python -m
chmod +x train.py
sed -i "1i #!$PY" train.py
ok "./train.py" "$CAIRN" run -- ./train.py -k 4
is "namespace from a #! script" "$(params | json 'j["k_neighbors"]')" 4
mkdir -p pkg && cp train.py pkg/mod.py && : > pkg/__init__.py
ok "python3 -m pkg.mod" "$CAIRN" run -- "$PY" -m pkg.mod --lr 0.7
is "namespace from -m" "$(params)" '{"k_neighbors": 5, "learning_rate": 0.7, "optimizer": "adam"}'

# --- where argv stays the source ----------------------------------------------------------
ok "a program that is not Python" "$CAIRN" run -- sh -c 'exit 0' --lr 0.3 -k 2
is "argv names" "$(params)" '{"k": 2, "lr": 0.3}'
ok "CAIRN_PYHOOK=0 turns the hook off" env CAIRN_PYHOOK=0 "$CAIRN" run -- "$PY" train.py -k 3
is "argv names then" "$(params)" '{"k": 3}'
is "and no defaults property" "$(prop argparse.defaults)" None
# a launcher: its own parser is not the program's; the script's arguments are
cat > launch.py <<PY
#!$PY
import argparse, subprocess, sys
p = argparse.ArgumentParser()
p.add_argument("--nproc", type=int, default=1)
p.add_argument("script")
a, rest = p.parse_known_args()
sys.exit(subprocess.call([sys.executable, a.script] + rest))
PY
chmod +x launch.py
ok "a launcher running a script" "$CAIRN" run -- ./launch.py --nproc 2 train.py --lr 0.4
is "the script's arguments, not the launcher's namespace" "$(params)" '{"lr": 0.4}'
fails "a parse error: the command's exit code" 2 "$CAIRN" run -- "$PY" train.py --bogus
is "argv params then" "$(params)" '{"bogus": true}'

# --- never in the way ----------------------------------------------------------------------
mkdir -p site
echo 'import os; os.environ["FROM_SITE"] = "yes"' > site/sitecustomize.py
cat > env.py <<'PY'
import os, sys
print(os.environ.get("FROM_SITE"), os.environ.get("PYTHONPATH"), any("pyhook" in p for p in sys.path))
PY
ok "with a sitecustomize of the user's" env PYTHONPATH="$T/site" "$CAIRN" run -- "$PY" env.py
is "it still runs, PYTHONPATH and sys.path are the user's" "$(out)" "yes $T/site False"
cat > odd.py <<'PY'
import argparse
class Odd:
    def __str__(self): raise RuntimeError("no text")
p = argparse.ArgumentParser()
p.add_argument("--x", default=Odd())
p.add_argument("--lr", type=float)
print("ran", p.parse_args().lr)
PY
ok "a namespace that cannot be reported" "$CAIRN" run -- "$PY" odd.py --lr 0.1
is "the program is not disturbed" "$(out):$(err)" "ran 0.1:"
is "the command line is recorded" "$(params)" '{"lr": 0.1}'
ok "CAIRN_PYHOOK_DEBUG=1 says why" env CAIRN_PYHOOK_DEBUG=1 "$CAIRN" run -- "$PY" odd.py
like "on stderr" "$(err)" '^cairn pyhook: cannot report the namespace: RuntimeError'

# --- after make install ---------------------------------------------------------------------
ok "make install PREFIX" make -s -C "$ROOT" install PREFIX="$T/prefix"
ok "the hook is installed" test -r "$T/prefix/share/cairn/pyhook/sitecustomize.py"
ok "the installed cairn runs train.py" "$T/prefix/bin/cairn" run -- "$PY" train.py -k 6
is "with its hook" "$(params)" '{"k_neighbors": 6, "learning_rate": 0.1, "optimizer": "adam"}'
done_testing
