#!/usr/bin/env bash
# tests/e2e/auto-capture.t — `cairn run` records, with no flags, the files
# the command read (as input datasets) and wrote (as artifacts): through the
# LD_PRELOAD shim for any program (a Python script, a C program, a child it
# forks and execs with an environment of its own), through the audit hook
# for Python; the ignore rules, git's tracked files, the size limit,
# --artifacts, --no-auto-capture, a folder of many inputs, a bad message on
# the channel, the programs the shim cannot reach (static, setuid); and the
# shim leaves results and errno as they are.
. "$(dirname "$0")/lib.sh"
plan 69

SHIM=$(dirname "$CAIRN")/libcairn-shim.so
last() { "$CAIRN" ls --format json | json 'j[0]["id"]'; }
field() { "$CAIRN" show "$1" --json | json "$2"; }
# the run's input datasets as "name=digest" lines, sorted
inputs() { "$CAIRN" show "$1" --json | json '"\n".join(sorted(d["name"]+"="+d["algo"]+":"+d["digest"] for d in j["datasets"] if d["role"]=="input"))'; }
# the artifacts the command wrote (not cairn's logs), as "path:kind"
wrote() { "$CAIRN" show "$1" --json | json '"\n".join(sorted(a["path"]+":"+a["kind"] for a in j["artifacts"] if a["kind"] not in ("log","config","env")))'; }
outputs() { "$CAIRN" show "$1" --json | json '"\n".join(sorted(d["name"] for d in j["datasets"] if d["role"]=="output"))'; }
hash() { "$CAIRN" data hash "$1" | cut -d' ' -f1; }
export CAIRN_SAMPLE_INTERVAL=60

mkdir -p proj/data && cd proj
printf 'a,1\n' > data/a.csv; printf 'b,2\n' > data/b.csv; printf 'c,3\n' > data/c.csv
want_in=$(printf 'data/a.csv=%s\ndata/b.csv=%s\ndata/c.csv=%s' "$(hash data/a.csv)" "$(hash data/b.csv)" "$(hash data/c.csv)")

# --- a Python script -----------------------------------------------------------------------------
cat > train.py <<'PY'
import json, os
rows = [open(os.path.join("data", n)).read() for n in ("a.csv", "b.csv", "c.csv")]
import csv, argparse, decimal  # library files are read too
with open("model.bin", "wb") as f:
    f.write(b"weights" * 10)
with open("plot.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
print("loss=0.25")
PY
ok "a Python script runs under cairn run" "$CAIRN" run -- python3 train.py
id=$(last)
is "its three inputs are datasets, with the engine's digests" "$(inputs "$id")" "$want_in"
is "its model and plot are artifacts, the plot an image" "$(wrote "$id")" "$(printf 'model.bin:file\nplot.png:image')"
is "the plot has an image media type" "$(field "$id" '[a["media_type"] for a in j["artifacts"] if a["path"]=="plot.png"][0]')" image/png
dig=$(field "$id" '[a["digest"] for a in j["artifacts"] if a["path"]=="model.bin"][0]')
is "the model is stored with its SHA-256" "$dig" "$(sha256sum model.bin | cut -d' ' -f1)"
is "no interpreter or library file is recorded" "$(field "$id" 'len([d for d in j["datasets"] if not d["path"].startswith("'"$PWD"'/data/")])')" 0
is "the script itself is code, not data" "$(inputs "$id" | grep -c train.py)" 0
is "datasets.path is absolute" "$(field "$id" '[d["path"] for d in j["datasets"] if d["name"]=="data/a.csv"][0]')" "$PWD/data/a.csv"
is "the metric is still parsed" "$(field "$id" 'j["metrics"]["loss"]["last"]')" 0.25

ok "show --files lists it" "$CAIRN" show "$id" --files
like "with the inputs' digests" "$(out)" "data/a.csv +xxh128:$(hash data/a.csv | cut -d: -f2)"
like "and the outputs stored" "$(out)" "model\.bin +70  sha256:$dig  stored"
ok "show --files --json" "$CAIRN" show "$id" --files --json
is "JSON: read and wrote" "$(out | json '[len(j["read"]), sorted(w["path"] for w in j["wrote"]), j["capture"]]')" '[3, ["model.bin", "plot.png"], null]'

cp data/a.csv a.bak && printf 'a,9\n' > data/a.csv
"$CAIRN" run -- python3 train.py >/dev/null
mv a.bak data/a.csv
like "cairn diff compares the inputs as it does --data datasets" "$("$CAIRN" diff "$id" "$(last)")" "~ data/a\.csv +[0-9a-f]+ → [0-9a-f]+"

# --- a C program ------------------------------------------------------------------------------
cat > prog.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	char b[64];
	FILE *f = fopen("data/a.csv", "r");
	if (!f || !fgets(b, sizeof b, f)) return 1;
	fclose(f);
	int fd = open("data/b.csv", O_RDONLY);
	if (fd < 0 || read(fd, b, sizeof b) < 0) return 1;
	close(fd);
	fd = openat(AT_FDCWD, "data/c.csv", O_RDONLY);
	if (fd < 0) return 1;
	close(fd);
	f = fopen("model.bin", "wb");
	fputs("c-model", f);
	fclose(f);
	fd = open("plot.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (write(fd, "\x89PNG\r\n\x1a\n", 8) != 8) return 1;
	close(fd);
	return rename("plot.tmp", "plot.png");
}
C
cc -o prog prog.c
ok "a C program runs under cairn run" "$CAIRN" run -- ./prog
id=$(last)
is "its three inputs are datasets" "$(inputs "$id")" "$want_in"
is "its outputs (one renamed into place) are artifacts" "$(wrote "$id")" "$(printf 'model.bin:file\nplot.png:image')"
is "the program itself is not an input" "$(field "$id" 'len([d for d in j["datasets"] if d["name"]=="prog"])')" 0

# --- a child forked and exec'd with its own environment ----------------------------------------
cat > spawn.c <<'C'
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = {"cat", "data/c.csv", NULL};
		char *envp[] = {"PATH=/usr/bin:/bin", NULL}; /* no LD_PRELOAD: the shim puts it back */
		execve("/bin/cat", argv, envp);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
C
cc -o spawn spawn.c
ok "a program that forks and execs a child" "$CAIRN" run -- ./spawn
is "the child's read is recorded" "$(inputs "$(last)")" "data/c.csv=$(hash data/c.csv)"
ok "a shell pipeline's children" "$CAIRN" run -- sh -c 'cat data/a.csv | env -i /bin/cat - data/b.csv > joined.txt'
is "are traced (env -i included)" "$(inputs "$(last)")" "$(printf 'data/a.csv=%s\ndata/b.csv=%s' "$(hash data/a.csv)" "$(hash data/b.csv)")"
is "and the shell's redirection is an output" "$(wrote "$(last)")" "joined.txt:file"

# --- cairn run inside cairn run (a sweep script's trials) -----------------------------------------
"$CAIRN" run -n outer -- sh -c '"$CAIRN" run -n inner -- cat data/a.csv' >/dev/null
inner=$("$CAIRN" ls --format json | json '[r["id"] for r in j if r["name"]=="inner"][0]')
outer=$("$CAIRN" ls --format json | json '[r["id"] for r in j if r["name"]=="outer"][0]')
is "the inner run records its command's read" "$(inputs "$inner")" "data/a.csv=$(hash data/a.csv)"
is "the outer run records nothing cairn itself read (its code capture)" "$(inputs "$outer")" ""

# --- Python opens the shim cannot see: the audit hook --------------------------------------------
CAIRN_SHIM=0 "$CAIRN" run -- python3 -c 'import os; os.close(os.open("data/b.csv", os.O_RDONLY)); open("h.txt","w").write("x")' 2>err.txt
id=$(last)
is "without the shim, Python's opens come through the audit hook" "$(inputs "$id")" "data/b.csv=$(hash data/b.csv)"
is "its writes too" "$(wrote "$id")" "h.txt:file"
like "the run says it was not traced" "$(field "$id" 'j["properties"]["capture.files"]')" "^untraced: no shim"

# --- git: tracked files are code, untracked ones data ------------------------------------------
git init -q . && git add train.py data/a.csv && git -c user.email=t@e -c user.name=t commit -qm init
ok "in a git work tree" "$CAIRN" run -- python3 train.py
is "the tracked data file is code, not an input" "$(inputs "$(last)")" "$(printf 'data/b.csv=%s\ndata/c.csv=%s' "$(hash data/b.csv)" "$(hash data/c.csv)")"
mkdir -p sub && (cd sub && "$CAIRN" run -- cat ../data/c.csv >/dev/null)
is "a read above the working directory, in the work tree, is an input" "$(inputs "$(last)")" "data/c.csv=$(hash data/c.csv)"
rm -rf .git

# --- ignore rules --------------------------------------------------------------------------------
ok "--capture-ignore GLOB" "$CAIRN" run --capture-ignore 'b.csv' --capture-ignore 'plot.*' -- python3 train.py
is "leaves the input out" "$(inputs "$(last)" | cut -d= -f1 | tr '\n' ' ')" "data/a.csv data/c.csv "
is "and the output" "$(wrote "$(last)")" "model.bin:file"
CAIRN_CAPTURE_IGNORE='data/*:model.bin' "$CAIRN" run --capture-ignore '!data/c.csv' -- python3 train.py >/dev/null
is "CAIRN_CAPTURE_IGNORE, and !GLOB keeps what it matches" "$(inputs "$(last)" | cut -d= -f1)" "data/c.csv"
mkdir -p __pycache__ .ipynb_checkpoints
"$CAIRN" run -- sh -c 'echo x > __pycache__/m.pyc; echo y > .ipynb_checkpoints/n; cat /etc/hostname >/dev/null; echo z > keep.txt' >/dev/null
is "the default rules leave out bytecode, checkpoints and system files" "$(wrote "$(last)"; inputs "$(last)")" "keep.txt:file"
"$CAIRN" run --capture-ignore '!__pycache__/*' -- sh -c 'echo x > __pycache__/m.pyc' >/dev/null
is "!GLOB overrides a default rule" "$(wrote "$(last)")" "__pycache__/m.pyc:file"
is "the store's own files are never recorded" "$(field "$(last)" 'len([d for d in j["datasets"] if "/store/" in d["path"]])')" 0

# --- read and written; a folder of many ---------------------------------------------------------
"$CAIRN" run -- sh -c 'cat data/a.csv > /dev/null; cp data/a.csv both.csv; cat both.csv > /dev/null' >/dev/null
is "a file read and written is an output, not an input" "$(inputs "$(last)" | cut -d= -f1; wrote "$(last)")" "$(printf 'data/a.csv\nboth.csv:file')"
mkdir -p data/images
for i in $(seq 1 20); do echo "img $i" > data/images/$i.png; done
ok "a run reading 20 files in one folder" "$CAIRN" run -- sh -c 'cat data/images/*.png > /dev/null'
is "records the folder as one dataset" "$(field "$(last)" '[(d["name"], d["files"]) for d in j["datasets"]]')" '[["data/images", 20]]'
is "with the digest of the folder" "$(inputs "$(last)")" "data/images=$(hash data/images)"
"$CAIRN" run -- sh -c 'cat data/images/*.png > /dev/null; echo idx > data/images/0-index.txt' >/dev/null
is "a folder the run also wrote into stays file by file" "$(field "$(last)" 'len([d for d in j["datasets"] if d["role"]=="input"])')" 20
rm data/images/0-index.txt

# --- --data-root -------------------------------------------------------------------------------
mkdir -p ../ext && echo ext > ../ext/e.txt
"$CAIRN" run -- cat ../ext/e.txt >/dev/null
is "a read outside the project is not an input" "$(inputs "$(last)")" ""
"$CAIRN" run --data-root ../ext -- cat ../ext/e.txt >/dev/null
is "unless under a --data-root" "$(inputs "$(last)")" "ext/e.txt=$(hash ../ext/e.txt)"
"$CAIRN" run --data-root /etc -- cat /etc/passwd >/dev/null
is "a --data-root in a system tree lifts its rule (the shim reports it too)" "$(inputs "$(last)")" "etc/passwd=$(hash /etc/passwd)"
fails "--data-root needs a directory" 2 "$CAIRN" run --data-root nowhere -- true
"$CAIRN" run --data data/a.csv -- cat data/a.csv >/dev/null
is "a --data file is not recorded twice" "$(field "$(last)" '[d["name"] for d in j["datasets"]]')" '["a.csv"]'
cp data/b.csv a.csv
"$CAIRN" run --data data/a.csv -- cat a.csv >/dev/null 2>err.txt
is "an input named as a --data dataset does not replace it" "$(field "$(last)" '[d["path"] for d in j["datasets"]]')" "[\"$PWD/data/a.csv\"]"
rm a.csv

# --- the size limit ------------------------------------------------------------------------------
ok "--auto-artifact-max 16" "$CAIRN" run --auto-artifact-max 16 -- python3 train.py
id=$(last)
is "the larger output is not stored" "$(wrote "$id")" ""
is "but recorded as an output dataset, by digest" "$(outputs "$id" | tr '\n' ' ')" "model.bin plot.png "
"$CAIRN" show "$id" --files > files.txt
like "show --files says so" "$(cat files.txt)" "model\.bin +70  xxh128:[0-9a-f]+  not stored"
fails "a bad size" 2 "$CAIRN" run --auto-artifact-max lots -- true
fails "--artifacts needs a glob" 2 "$CAIRN" run --artifacts '' -- true
fails "--capture-ignore needs a glob" 2 "$CAIRN" run --capture-ignore '!' -- true

# --- --artifacts, --no-auto-capture ---------------------------------------------------------------
echo before > pre-made.txt
ok "--no-auto-capture" "$CAIRN" run --no-auto-capture -- sh -c 'echo "[$LD_PRELOAD]"; cat data/a.csv; echo x > new.txt'
is "puts no shim in the command's environment" "$(head -1 "$T/.out")" "[]"
is "and records no file" "$(inputs "$(last)")$(wrote "$(last)")" ""
"$CAIRN" run --no-auto-capture --artifacts '*.txt' --artifacts 'data/?.csv' -- true >/dev/null
is "--artifacts stores the files that match, traced or not" "$(wrote "$(last)" | tr '\n' ' ')" "data/a.csv:file data/b.csv:file data/c.csv:file err.txt:file files.txt:file h.txt:file joined.txt:file keep.txt:file new.txt:file pre-made.txt:file "

# --- a malicious child: garbage on the channel ----------------------------------------------------
cat > bad.py <<'PY'
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = "\0" + os.environ["CAIRN_SHIM_SOCK"]
for m in [b"garbage", b"cairn1 0 r 0 /etc/passwd", b"cairn1 1 q 0 /x", b"cairn1 1 r 0 rel",
          b"cairn1 1 r zz /x", b"cairn1 1 r 0 /a\0b", b"x" * 9000, b"cairn1 99999999999 r 0 /x"]:
    s.sendto(m, a)
PY
ok "garbage on the channel does not stop the run" "$CAIRN" run -- python3 bad.py
like "it is counted and skipped" "$(err)" "8 malformed file events were ignored"

# --- results and errno are kept -------------------------------------------------------------------
mkdir -p adir && touch afile
cat > errs.c <<'C'
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define T(call) do { errno = 0; long r = (long)(call); printf("%-50s r=%ld errno=%s\n", #call, r < 0 ? r : (r > 2 ? 3 : r), strerror(errno)); } while (0)
int main(void)
{
	T(open("missing/x", O_RDONLY));
	T(open("afile/x", O_RDONLY));
	T(open("adir", O_WRONLY));
	T(open("afile", O_CREAT | O_EXCL | O_WRONLY, 0644));
	T(openat(AT_FDCWD, "missing", O_RDONLY));
	T(creat("missing/y", 0644));
	T(fopen("missing/z", "r") ? 1 : -1);
	T(fopen("adir", "w") ? 1 : -1);
	T(rename("afile", "missing/dir/afile"));
	T(rename("nothing", "other"));
	errno = 1234;
	int fd = open("afile", O_RDONLY);
	printf("success leaves errno alone: %d\n", errno);
	close(fd);
	return 0;
}
C
cc -o errs errs.c
./errs > plain.txt
LD_PRELOAD=$SHIM CAIRN_SHIM_SOCK=cairn-nobody-listens ./errs > shimmed.txt
is "failing opens: the same results and errno with the shim" "$(diff plain.txt shimmed.txt && echo same)" same
"$CAIRN" run -- ./errs > run.txt
is "and under cairn run" "$(diff plain.txt run.txt && echo same)" same
like "errno survives a successful open" "$(cat plain.txt)" "success leaves errno alone: 1234"

# --- what cannot be traced ----------------------------------------------------------------------
if cc -static -o static-cat prog.c 2>/dev/null; then
	"$CAIRN" run -- ./static-cat 2>err.txt
	is "a static binary is said untraced in the record" "$(field "$(last)" 'j["properties"]["capture.files"]')" "untraced: static binary"
	like "and on stderr" "$(cat err.txt)" "warning: cairn cannot see the files './static-cat' opens \(static binary\)"
else
	skip "a static binary is said untraced in the record" "no libc.a for cc -static"
	skip "and on stderr" "no libc.a for cc -static"
fi
cp /bin/true suid-true && chmod u+s suid-true
"$CAIRN" run -- ./suid-true 2>/dev/null
is "a setuid program too" "$(field "$(last)" 'j["properties"]["capture.files"]')" "untraced: setuid program"
done_testing
