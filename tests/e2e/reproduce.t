#!/usr/bin/env bash
# tests/e2e/reproduce.t — `cairn reproduce`: a deterministic script in a git
# repository with an ignored data folder; the reproduction restores the code,
# checks the data and the environment, re-runs and compares every final
# metric.  Also: a changed data file stops it before anything runs, a
# changed package version is reported (and refused with --strict-env), a
# perturbed result gives a per-metric mismatch and exit 1, tolerances, and
# the errors.
. "$(dirname "$0")/lib.sh"
plan 49

export CAIRN_SAMPLE_INTERVAL=60
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git() { command git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main "$@"; }
runs() { "$CAIRN" ls --format json | json 'len(j)'; }
newest() { "$CAIRN" ls --format json | json 'j[0]["id"]'; }

# A package the interpreter sees, at a version the test can change.
mkdir -p "$T/site/fakepkg-1.0.dist-info"
printf 'Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n' >"$T/site/fakepkg-1.0.dist-info/METADATA"
export PYTHONPATH=$T/site

mkdir repo && cd repo
git init -q .
mkdir -p src data
cat > src/train.py <<'PY'
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--data")
a = p.parse_args()
n = sum(len(line) for line in open(a.data))
off = float(os.environ.get("PERTURB", "0"))
print(f"loss={1.0 / (1 + a.lr * n) + off}")
print(f"acc={a.lr * n / (1 + a.lr * n)}")
PY
printf 'data/\n' > .gitignore
printf 'a,b\n1,2\n3,4\n' > data/train.csv
git add -A && git commit -qm first
printf '# an uncommitted change\n' >> src/train.py
cd src
ok "the original run" "$CAIRN" run -n orig -d ../data -- python3 train.py --lr 0.1 --data ../data/train.csv
cd "$T"
ORIG=$(newest)
is "one run" "$(runs)" 1

# --- a faithful reproduction ---------------------------------------------------------
ok "reproduce: all metrics match" "$CAIRN" reproduce orig
out=$(cat "$T/.out")
like "the code is restored into ./reproduce-ID" "$out" "^code: restored 2 files into reproduce-${ORIG:0:8} \(commit [0-9a-f]{12}"
like "the data is checked" "$out" "^data: data \(.*\): unchanged"
like "ignored data is linked into the restored tree" "$out" "linked reproduce-${ORIG:0:8}/data -> $T/repo/data"
like "the environment is compared" "$out" "^environment: the same as the run's"
like "a verdict per metric" "$out" "^acc +0\.5454545455 +0\.5454545455 +match"
like "the summary" "$out" "all 2 metrics match"
is "the restored tree has the uncommitted change" "$(tail -1 reproduce-${ORIG:0:8}/src/train.py)" "# an uncommitted change"
REPRO=$(newest)
is "a new run" "$(runs)" 2
is "linked to the original" "$("$CAIRN" show "$REPRO" --json | json 'j["properties"]["reproduces"]')" "$ORIG"
ok "diff original reproduction" "$CAIRN" diff "$ORIG" "$REPRO"
unlike "the restored tree is not a code change" "$(cat "$T/.out")" "^code"
unlike "nor a data or param change" "$(cat "$T/.out")" "^(data|params|command)"
ok "the same code version" test "$("$CAIRN" show "$ORIG" --json | json 'j["code"]')" = "$("$CAIRN" show "$REPRO" --json | json 'j["code"]')"
fails "the directory is not empty the second time" 1 "$CAIRN" reproduce orig
like "it says so" "$(cat "$T/.err")" "cannot restore run ${ORIG:0:8}'s code into reproduce-${ORIG:0:8}"
ok "into a named directory" "$CAIRN" reproduce orig "$T/again"
ok "the restored file is there" test -f "$T/again/src/train.py"

# --- --here: over a clean work tree -----------------------------------------------------
cd repo
fails "--here refuses a work tree with changes" 1 "$CAIRN" reproduce orig --here
like "and says why" "$(cat "$T/.err")" "--here needs a clean git work tree"
git commit -qam "keep the change" && printf 'print("loss=9")\n' >> src/train.py && git commit -qam later
ok "--here restores over the work tree" "$CAIRN" reproduce orig --here
like "and the metrics match" "$(cat "$T/.out")" "all 2 metrics match"
is "the later commit's change is undone in the tree" "$(tail -1 src/train.py)" "# an uncommitted change"
is "git sees exactly that change" "$(git status --porcelain)" " M src/train.py"
fails "--here takes no DIR" 2 "$CAIRN" reproduce orig somewhere --here
git checkout -q -- . && cd "$T"

# --- a perturbed result ----------------------------------------------------------------
PERTURB=0.25 "$CAIRN" reproduce orig "$T/p1" >"$T/.out" 2>"$T/.err"
is "a mismatch exits 1" $? 1
like "the metric that moved is named" "$(cat "$T/.out")" "^loss .*MISMATCH \(\|diff\| 0\.25\)"
like "the one that did not still matches" "$(cat "$T/.out")" "^acc .*match"
like "the summary counts" "$(cat "$T/.out")" "1 of 2 metrics differ"
PERTURB=1e-6 "$CAIRN" reproduce orig "$T/p2" >"$T/.out" 2>&1
is "a small difference is a mismatch at the default tolerance" $? 1
ok "--atol admits it" env PERTURB=1e-6 "$CAIRN" reproduce orig "$T/p3" --atol 1e-5

# --- the environment ---------------------------------------------------------------------
mv "$T/site/fakepkg-1.0.dist-info" "$T/site/fakepkg-2.0.dist-info"
printf 'Metadata-Version: 2.1\nName: fakepkg\nVersion: 2.0\n' >"$T/site/fakepkg-2.0.dist-info/METADATA"
ok "a changed package is reported, and the run goes on" "$CAIRN" reproduce orig "$T/e1"
like "which package, from which version to which" "$(cat "$T/.out")" "package fakepkg: 1\.0 -> 2\.0"
n=$(runs)
fails "--strict-env refuses" 1 "$CAIRN" reproduce orig "$T/e2" --strict-env
like "and says why" "$(cat "$T/.err")" "the environment differs \(1 difference\); not running \(--strict-env\)"
is "nothing ran" "$(runs)" "$n"

# --- the data ----------------------------------------------------------------------------------
printf '5,6\n' >> repo/data/train.csv
fails "a changed data file stops it" 1 "$CAIRN" reproduce orig "$T/d1"
like "the changed file is listed" "$(cat "$T/.out")" "changed train\.csv"
like "the reason" "$(cat "$T/.err")" "1 dataset changed since the run; not running"
is "before anything ran" "$(runs)" "$n"
"$CAIRN" reproduce orig "$T/d2" --allow-data-change >"$T/.out" 2>&1
is "--allow-data-change runs anyway (and the metrics differ)" $? 1
like "it ran" "$(cat "$T/.out")" "MISMATCH"

# --- errors ------------------------------------------------------------------------------------
fails "no run" 2 "$CAIRN" reproduce
fails "an unknown run" 1 "$CAIRN" reproduce nosuchrun
fails "a bad tolerance" 2 "$CAIRN" reproduce orig --rtol -1
cd repo/src
"$CAIRN" run -n secret -- python3 -c 'print("x=1")' --api-key hunter2 >/dev/null 2>&1
cd "$T"
fails "a command with a masked secret cannot be re-run" 1 "$CAIRN" reproduce secret "$T/s1"
like "it says which argument" "$(cat "$T/.err")" "masked secret in argument 5"

exit $_fail
