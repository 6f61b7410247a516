#!/usr/bin/env bash
# tests/e2e/checkout.t — `cairn checkout`: a throw-away git repository with
# staged, unstaged and untracked changes and a notebook; a run; the
# checkout reproduces the work tree byte for byte.  Also: unpushed commits
# with the repository gone, a pushed commit, --require-clean, code outside
# git, and the errors.
. "$(dirname "$0")/lib.sh"
plan 37

last() { "$CAIRN" ls --format json | json 'j[0]["id"]'; }
field() { "$CAIRN" show "$1" --json | json "$2"; }
export CAIRN_SAMPLE_INTERVAL=60
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git() { command git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main -c advice.detachedHead=false "$@"; }

# --- the repository ---------------------------------------------------------------
mkdir repo && cd repo
git init -q .
mkdir -p src notebooks data
printf 'import sys\nprint("train", sys.argv[1:])\n' > train.py
printf 'def f():\n    return 1\n' > src/model.py
printf 'lr: 0.1\n' > config.yaml
printf '#!/bin/sh\necho tool\n' > tool.sh && chmod +x tool.sh
printf 'obsolete\n' > old.py
printf 'numpy\n' > requirements.txt
printf '*.log\ndata/\n' > .gitignore
cat > notebooks/explore.ipynb <<'NB'
{"nbformat": 4, "nbformat_minor": 5, "metadata": {},
 "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
            "source": ["import math\n", "print(math.pi)"]}]}
NB
ln -s src/model.py model_link.py
git add -A && git commit -qm first
# staged, unstaged, staged-then-changed, untracked, deleted, ignored
printf 'def f():\n    return 2\n' > src/model.py                 # unstaged
printf 'lr: 0.2\n' > config.yaml && git add config.yaml           # staged
printf 'import sys\nprint("v2")\n' > train.py && git add train.py && printf '# more\n' >> train.py
printf 'def g():\n    pass\n' > src/helper.py && git add src/helper.py   # added
mkdir -p scratch && printf 'tmp = 1\n' > scratch/notes.py                # untracked
printf 'latin1 = 1\n' > "$(printf 'scratch/caf\xe9.py')"                  # a name that is not UTF-8
cat > notebooks/new.ipynb <<'NB'
{"nbformat": 4, "nbformat_minor": 5, "metadata": {},
 "cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
            "source": "x = 41 + 1\n"}]}
NB
git rm -q old.py                                                         # deleted
printf 'noise\n' > run.log && printf 'big data\n' > data/set.csv         # ignored
cd src
ok "a run from a subdirectory of a dirty tree" "$CAIRN" run -- python3 ../train.py --lr 0.5
cd "$T"
id=$(last)
"$CAIRN" show "$id" --json >show.json
python3 -c 'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))' show.json
is "show --json is valid UTF-8 with a file name that is not" "$?" 0
is "the commit is recorded" "$(field "$id" 'j["code"]["commit"]')" "$(cd repo && git rev-parse HEAD)"
is "the branch" "$(field "$id" 'j["code"]["branch"]')" main
is "the tree is dirty" "$(field "$id" 'j["code"]["dirty"]')" True
is "there is a snapshot" "$(field "$id" 'len(j["code"]["snapshot"])')" 64
is "environment files are found at the project root" "$(field "$id" '[f["path"] for f in j["environment"]["files"]]')" '["requirements.txt"]'
is "the interpreter was asked" "$(field "$id" 'j["environment"]["python"]["version"].count(".")')" 2

ok "checkout" "$CAIRN" checkout "$id" co
like "says what it restored" "$(out)" "restored [0-9]+ files into co \(commit [0-9a-f]{12}"
like "and where the run started" "$(out)" "started in co/src"
diff -r -x .git -x run.log -x data repo co > diff.out
is "the checkout is the work tree, byte for byte" "$?:$(cat diff.out)" "0:"
is "ignored files are not restored" "$(ls co | grep -c -e run.log -e data)" 0
is "the deleted file stays deleted" "$(test -e co/old.py; echo $?)" 1
is "modes are kept" "$(test -x co/tool.sh; echo $?)" 0
is "links are kept" "$(readlink co/model_link.py)" src/model.py
ok "checkout --json" "$CAIRN" checkout "$id" co2 --json
is "reports the files" "$(out | json 'j["files"]')" "$(cd co2 && find . -path ./.git -prune -o \( -type f -o -type l \) -print | wc -l)"

# --- errors -----------------------------------------------------------------------------
fails "into a non-empty directory" 1 "$CAIRN" checkout "$id" co
one_error_line "is one error line"
like "saying so" "$(err)" "not empty"
fails "an unknown run" 1 "$CAIRN" checkout ffffffff co3
ok "a run without code" "$CAIRN" run --no-code -- true
fails "cannot be checked out" 1 "$CAIRN" checkout "$(last)" co3
like "saying it has no snapshot" "$(err)" "no code snapshot"
fails "missing arguments are a usage error" 2 "$CAIRN" checkout "$id"
ok "-h" "$CAIRN" checkout -h

# --- an unpushed commit, and then no repository at all ---------------------------------------
cd repo && git add -A && git commit -qm second && cd "$T"
cd repo
ok "a run on an unpushed commit" "$CAIRN" run -- true
cd "$T"
id=$(last)
is "that commit is the run's" "$(field "$id" 'j["code"]["commit"]')" "$(cd repo && git rev-parse HEAD)"
mv repo repo.gone
cp -a repo.gone repo.copy && rm -rf repo.gone
ok "checkout without the repository" "$CAIRN" checkout "$id" co4
diff -r -x .git -x run.log -x data repo.copy co4 > diff.out
is "is still byte for byte" "$?:$(cat diff.out)" "0:"

# --- a pushed commit, --require-clean ---------------------------------------------------------------
git init -q --bare remote.git
cd repo.copy && git remote add origin "$T/remote.git" && git push -q origin main 2>/dev/null && cd "$T"
(cd repo.copy && "$CAIRN" run -- true)
is "the remote is recorded" "$(field "$(last)" 'j["code"]["remote"]')" "$T/remote.git"
before=$(store_digest)
echo change >> repo.copy/train.py
cd repo.copy
fails "--require-clean refuses a dirty tree" 1 "$CAIRN" run --require-clean -- true
cd "$T"
like "naming the change" "$(err)" "train.py"
is "and leaves no run behind" "$(store_digest)" "$before"

# --- outside git ----------------------------------------------------------------------------------------
mkdir plain && printf 'print(1)\n' > plain/main.py && printf 'x\n' > plain/README.md
(cd plain && "$CAIRN" run -- true)
ok "a run outside git can be checked out" "$CAIRN" checkout "$(last)" co5
diff -r plain co5 > diff.out
is "with its source files" "$?:$(cat diff.out)" "0:"

done_testing
