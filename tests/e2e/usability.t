#!/usr/bin/env bash
# tests/e2e/usability.t — the usability pass of issue 12, end to end in real
# git repositories: `cairn init` keeps git status clean (info/exclude), the
# per-user store fall-back is announced, `cairn show` prints the Python
# version and packages, `cairn diff RUN` shows a run's uncommitted changes
# (CLI and HTTP), code diffs list files first and summarise data files, the
# system metrics stay out of `cairn diff` unless --sys, and a checkout
# remembers its origin so a rerun diffs clean against the original.
. "$(dirname "$0")/lib.sh"
plan 112

export CAIRN_SAMPLE_INTERVAL=60
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git() { command git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main -c advice.detachedHead=false "$@"; }
last() { "$CAIRN" ls --format json | json 'j[0]["id"]'; }
field() { "$CAIRN" show "$1" --json | json "$2"; }
nocd() { env -u CAIRN_DIR "$@"; }

# --- cairn init inside git: .cairn/ goes to .git/info/exclude --------------------------------
mkdir g && cd g && git init -q . && printf 'x = 1\n' > a.py && git add a.py && git commit -qm one
ok "init in a git work tree" nocd "$CAIRN" init
is "says it added .cairn/ to the exclude file" "$(err)" "added .cairn/ to .git/info/exclude"
is "the exclude file has the line" "$(grep -cx '.cairn/' .git/info/exclude)" 1
is "git status stays clean" "$(git status --porcelain)" ""
ok "init again" nocd "$CAIRN" init
is "says nothing more on stderr" "$(err)" ""
is "and adds no second line" "$(grep -cx '.cairn/' .git/info/exclude)" 1
mkdir sub && ok "a store in a subdirectory" nocd "$CAIRN" init sub
is "is covered by the same line: nothing added" "$(err):$(grep -cx '.cairn/' .git/info/exclude)" ":1"
is "git status stays clean with it" "$(git status --porcelain)" ""
git worktree add -q ../wt 2>/dev/null
sed -i '/^\.cairn\/$/d' .git/info/exclude
cd ../wt
ok "init in a linked worktree" nocd "$CAIRN" init
like "names the main repository's exclude file" "$(err)" "^added .cairn/ to $T/g/.git/info/exclude$"
is "git status in the worktree stays clean" "$(git status --porcelain)" ""
cd "$T"
mkdir h && cd h && git init -q . && rm -rf .git/info && printf 'a file\n' > .git/info
ok "init where the exclude file cannot be written still makes the store" nocd "$CAIRN" init
like "with a warning naming the file" "$(err)" "^warning: cannot add .cairn/ to $T/h/.git/info/exclude"
is "the store is there" "$(test -d .cairn && echo yes)" yes
cd "$T"
mkdir plain && cd plain
ok "init outside git" nocd "$CAIRN" init
is "says nothing about git" "$(err)" ""
cd "$T"

# --- the per-user store is announced, once -----------------------------------------------------------
mkdir -p nowhere/deep && cd nowhere/deep
ok "ls with no store above" nocd "$CAIRN" ls
is "says once which store it uses" "$(err)" "cairn: no .cairn found above $T/nowhere/deep; using the per-user store ~/.local/share/cairn (cairn init makes a project store)"
ok "a run there" nocd "$CAIRN" run -- true
is "says it once per command" "$(err | grep -c 'per-user store')" 1
ok "--store names the store" nocd "$CAIRN" --store "$HOME/.local/share/cairn" ls
is "and nothing is said" "$(err)" ""
ok "CAIRN_DIR names the store" env CAIRN_DIR="$HOME/.local/share/cairn" "$CAIRN" ls
is "and nothing is said either" "$(err)" ""
cd "$T/plain"
ok "a store found walking up" nocd "$CAIRN" ls
is "is not announced" "$(err)" ""
cd "$T"

# --- cairn show: the Python version and the packages ---------------------------------------------------
printf 'print("acc=0.5")\n' > hello.py
ok "a Python run" "$CAIRN" run -- python3 hello.py
py=$(last)
ok "show" "$CAIRN" show "$py"
like "prints the Python version" "$(out)" "^  python +3\.[0-9]+\.[0-9]+ \("
npk=$(field "$py" 'len(j["environment"]["packages"])')
like "the package count" "$(out)" "^  packages +$npk(: |$)"
like "and how to see them all" "$(out)" "cairn show --packages lists them all"
ok "show --packages" "$CAIRN" show "$py" --packages
is "lists every package, one a line" "$(out | sed -n '/^  packages/,/^$/p' | grep -c '^    ')" "$npk"
ok "a run that is not Python" "$CAIRN" run -- true
ok "show" "$CAIRN" show "$(last)"
unlike "has no python line" "$(out)" "^  python "

# --- cairn diff RUN: a run's uncommitted changes ---------------------------------------------------------
mkdir proj && cd proj && git init -q .
printf 'lr = 0.1\nprint("acc=0.5")\n' > train.py
python3 -c 'print("id,x,y"); [print(f"{i},{i*0.5},{i%3}") for i in range(600)]' > data.csv
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' > plot.png
git add -A && git commit -qm data
ok "a clean run" "$CAIRN" run -- python3 train.py
clean=$(last)
ok "diff of a clean run" "$CAIRN" diff "$clean"
like "says there are no uncommitted changes" "$(out)" "^no uncommitted changes$"
like "against its commit" "$(out)" "commit $(git rev-parse --short=12 HEAD) on main"
sed -i 's/0.1/0.2/' train.py
echo "600,300.0,0" >> data.csv
printf 'more' >> plot.png
printf 'def f():\n    return 1\n' > util.py
ok "a dirty run" "$CAIRN" run -- python3 train.py
dirty=$(last)
ok "diff RUN" "$CAIRN" diff "$dirty"
o=$(out)
like "lists the changed files first" "$(echo "$o" | sed -n 3p)" "^  4 files changed \(2 data files summarised; --full diffs them too\):$"
like "a source file with its line counts" "$o" "^    M train.py +\+1 -1$"
like "a CSV summarised: sizes, rows, digests" "$o" "^    M data.csv +data: [0-9.]+ KiB → [0-9.]+ KiB, 601 → 602 rows, sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}$"
like "an image summarised as binary" "$o" "^    M plot.png +data: 16 B → 20 B, binary, sha256:"
like "an untracked file as added" "$o" "^    A util.py +\+2 -0$"
like "the source diff follows" "$o" "^  \+lr = 0.2$"
unlike "the CSV's lines do not" "$o" "600,300.0,0"
ok "diff RUN --full" "$CAIRN" diff "$dirty" --full
like "has the CSV's lines" "$(out)" "^  \+600,300.0,0$"
ok "diff RUN --json" "$CAIRN" diff "$dirty" --json
is "files in path order with their kind" "$(out | json '[(f["path"], f["change"], f["data"]) for f in j["files"]]')" '[["data.csv", "modified", true], ["plot.png", "modified", true], ["train.py", "modified", false], ["util.py", "added", false]]'
is "a data file's rows and no patch" "$(out | json '[j["files"][0]["a"]["rows"], j["files"][0]["b"]["rows"], j["files"][0]["patch"]]')" '[601, 602, null]'
is "the diff holds the source patches only" "$(out | json '"lr = 0.2" in j["diff"] and "600,300.0" not in j["diff"]')" True
cd "$T"
ok "a run outside git" "$CAIRN" run -- true
fails "diff RUN outside git fails" 1 "$CAIRN" diff "$(last)"
like "saying there is no commit" "$(err)" "captured outside git: there is no commit"
fails "--sys with one run is a usage error" 2 "$CAIRN" diff "$dirty" --sys

# --- the same over HTTP ------------------------------------------------------------------------------
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >srv.out 2>srv.err &
SRV=$!
for _ in $(seq 1 100); do grep -q http srv.out 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' srv.out | sed 's|/$||')
get() { STATUS=$(curl -s -o body -w '%{http_code}' "$URL$1"); }
get "/api/v1/diff/code?a=$dirty"
is "GET /api/v1/diff/code?a=RUN: 200" "$STATUS" 200
is "the run's changed files" "$(json '[f["path"] for f in j["files"]]' <body)" '["data.csv", "plot.png", "train.py", "util.py"]'
get "/api/v1/diff/code?a=$clean"
is "a clean run: no files" "$STATUS:$(json 'len(j["files"])' <body)" "200:0"
get "/api/v1/diff/code?a=$dirty&full=1&path=data.csv"
is "one data file's patch with full=1&path=" "$(json '[len(j["files"]), "+600,300.0,0" in j["files"][0]["patch"]]' <body)" '[1, true]'
get "/api/v1/diff/code?a=$clean&b=$dirty"
is "two runs still compare" "$STATUS:$(json 'len(j["files"])' <body)" "200:4"
get "/api/v1/diff/code?a=$dirty&full=2"
is "full must be 0 or 1" "$STATUS" 400
get "/api/v1/diff/code?b=$dirty"
is "a is required" "$STATUS" 400
kill -TERM $SRV && wait $SRV
is "the server stops cleanly" "$?" 0

# --- cairn diff A B: files first, data summarised; sys/* left out ------------------------------------------
ok "diff A B" "$CAIRN" diff "$clean" "$dirty"
o=$(out)
like "the code section lists the files" "$o" "^  4 files changed \(2 data files summarised"
like "summarises the CSV" "$o" "^    M data.csv +data: .*601 → 602 rows"
unlike "without its lines" "$o" "600,300.0,0"
ok "diff A B --full" "$CAIRN" diff "$clean" "$dirty" --full
like "diffs the CSV too" "$(out)" "^  \+600,300.0,0$"
sa=$("$CAIRN" start -n sys-a) && sb=$("$CAIRN" start -n sys-b)
"$CAIRN" log metric acc 0.5 --run "$sa" && "$CAIRN" log metric acc 0.7 --run "$sb"
"$CAIRN" log metric sys/cpu_percent 40 --run "$sa" && "$CAIRN" log metric sys/cpu_percent 90 --run "$sb"
"$CAIRN" log metric sys/gpu0/util_percent 10 --run "$sb"
ok "diff of runs with system metrics" "$CAIRN" diff "$sa" "$sb"
o=$(out)
like "shows the metric that matters" "$o" "^  ~ acc "
unlike "leaves the sys/ metrics out" "$o" "sys/(cpu|gpu)"
like "says how many it left out" "$o" "^  \(2 system metrics \(sys\/\*\) left out: --sys shows them\)$"
ok "diff --sys" "$CAIRN" diff "$sa" "$sb" --sys
like "shows a changed system metric" "$(out)" "^  ~ sys/cpu_percent "
like "and one only in b" "$(out)" "^  \+ sys/gpu0/util_percent .*\(only in b\)$"

# --- a checkout remembers its origin ------------------------------------------------------------------------
git init -q --bare remote.git
cd proj && git remote add origin "$T/remote.git" && cd "$T"
ok "a dirty run with a remote" sh -c 'cd proj && "$CAIRN" run -- python3 train.py'
orig=$(last)
ok "checkout" "$CAIRN" checkout "$orig" co
like "says the checkout is a git repository" "$(out)" "co is a git repository: HEAD stands in for commit $(cd proj && git rev-parse --short=12 HEAD)"
is "HEAD holds the original tree" "$(cd co && git rev-parse 'HEAD^{tree}')" "$(cd proj && git rev-parse 'HEAD^{tree}')"
is "on the original branch" "$(cd co && git symbolic-ref --short HEAD)" main
is "with the original remote" "$(cd co && git remote get-url origin)" "$T/remote.git"
is "git status shows the run's changes" "$(cd co && git status --porcelain | tr '\n' ' ')" " M data.csv  M plot.png  M train.py ?? util.py "
like "git diff shows what the run changed" "$(cd co && git diff train.py)" "^\+lr = 0.2$"
ok "a rerun in the checkout" sh -c 'cd co && "$CAIRN" run -- python3 train.py'
rerun=$(last)
is "is recorded against the original commit" "$(field "$rerun" 'j["code"]["commit"]')" "$(cd proj && git rev-parse HEAD)"
ok "diff ORIGINAL RERUN" "$CAIRN" diff "$orig" "$rerun"
unlike "shows no code section" "$(out)" "^code$"
ok "the rerun's own uncommitted changes" "$CAIRN" diff "$rerun"
like "are the original's" "$(out)" "^  4 files changed"
echo '# tuned' >> co/train.py
ok "a rerun after changing one file" sh -c 'cd co && "$CAIRN" run -- python3 train.py'
ok "diff ORIGINAL RERUN" "$CAIRN" diff "$orig" "$(last)"
o=$(out)
like "lists exactly one file" "$o" "^  1 file changed:$"
like "the one changed" "$o" "^    M train.py +\+1 -0$"
is "and its diff only" "$(echo "$o" | grep -c '^  diff --git')" 1
(cd co && git add -A && git commit -qm tuned)
ok "a rerun after a commit in the checkout" sh -c 'cd co && "$CAIRN" run -- python3 train.py'
is "records the new commit" "$(field "$(last)" 'j["code"]["commit"]')" "$(cd co && git rev-parse HEAD)"
ok "checkout of a clean run" "$CAIRN" checkout "$clean" co-clean
is "git status there is clean" "$(cd co-clean && git status --porcelain)" ""
ok "a rerun of the clean checkout" sh -c 'cd co-clean && "$CAIRN" run -- python3 train.py'
ok "diff CLEAN RERUN" "$CAIRN" diff "$clean" "$(last)"
unlike "shows no code section" "$(out)" "^code$"
ok "checkout --no-git" "$CAIRN" checkout "$orig" co-plain --no-git
is "writes the files only" "$(test -e co-plain/.git && echo git || echo plain):$(cat co-plain/train.py | head -1)" "plain:lr = 0.2"
ok "checkout --json" "$CAIRN" checkout "$orig" co-json --json
is "says it made a git repository" "$(out | json 'j["git"]')" True

done_testing
