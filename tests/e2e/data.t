#!/usr/bin/env bash
# tests/e2e/data.t — `cairn data hash|diff|show|log`: digests against the
# coreutils/xxhash tools, the manifest digest, the cache (hits, touch, same
# size, same mtime), datasets on runs, diffs, and the error paths (missing
# path, symlink loop, unreadable files as an unprivileged user).
. "$(dirname "$0")/lib.sh"
plan 100

# Files older than the cache's racy window (50 ms) are cached.
settle() { sleep 0.12; }
digest_of() { "$CAIRN" data hash "$@" --json | json 'j["digest"]'; }
stat_of() { "$CAIRN" data hash "$1" --json | json "j['stats']['$2']"; }

mkdir -p d/sub
printf 'hello\n' > d/a.txt
printf 'x%.0s' $(seq 1 5000) > d/sub/b.bin
head -c 3500000 /dev/zero | tr '\0' 'q' > d/big.bin
ln -s a.txt d/link
settle

# --- digests against the usual tools -------------------------------------------
for f in d/a.txt d/sub/b.bin d/big.bin; do
	is "xxh128 of $f = xxh128sum" "$(digest_of "$f")" "xxh128:$(xxh128sum "$f" | cut -d' ' -f1)"
	is "md5 of $f = md5sum" "$(digest_of "$f" --digest md5)" "md5:$(md5sum "$f" | cut -d' ' -f1)"
	is "sha256 of $f = sha256sum" "$(digest_of "$f" --digest sha256)" \
		"sha256:$(sha256sum "$f" | cut -d' ' -f1)"
done
fails "a character device is not hashed" 1 "$CAIRN" data hash /dev/null
printf '' > empty
is "xxh128 of an empty file" "$(digest_of empty)" "xxh128:99aa06d3014798d86001c324468d497f"

# --- a directory's digest is the digest of its manifest ---------------------------
ok "hash a directory" "$CAIRN" data hash d
like "text output: digest, path, counts" "$(out)" '^xxh128:[0-9a-f]{32}  d  \(4 files, 3\.51 MB\)$'
m=$(printf 'cairn-manifest 1 xxh128 dir\nf\t%s\t%s\t%s\nf\t%s\t%s\t%s\nl\t%s\t%s\t%s\t%s\nf\t%s\t%s\t%s\n' \
	"$(xxh128sum d/a.txt | cut -d' ' -f1)" 6 a.txt \
	"$(xxh128sum d/big.bin | cut -d' ' -f1)" 3500000 big.bin \
	"$(printf 'a.txt' | xxh128sum | cut -d' ' -f1)" 5 link a.txt \
	"$(xxh128sum d/sub/b.bin | cut -d' ' -f1)" 5000 sub/b.bin | xxh128sum | cut -d' ' -f1)
is "directory digest = xxh128sum of the canonical manifest" "$(digest_of d)" "xxh128:$m"
"$CAIRN" data hash d --json > h.json
is "JSON: files" "$(json 'j["files"]' < h.json)" 4
is "JSON: bytes (regular files only)" "$(json 'j["bytes"]' < h.json)" 3505006
is "JSON: no errors" "$(json 'len(j["errors"])' < h.json)" 0
ok "two paths" "$CAIRN" data hash d/a.txt d --json
is "several paths: a JSON array" "$(out | json 'len(j)')" 2

# --- the hash cache ------------------------------------------------------------------
mkdir -p c
for i in $(seq 1 50); do printf 'file %d\n' "$i" > "c/f$i.txt"; done
settle
is "first hash reads every file" "$(stat_of c files_read)" 50
is "second hash reads none" "$(stat_of c files_read)" 0
is "second hash: 50 cache hits" "$(stat_of c cache_hits)" 50
before=$(digest_of c)
touch c/f7.txt; settle
is "touch: one file read again" "$(stat_of c files_read)" 1
is "touch: same digest" "$(digest_of c)" "$before"
printf 'FILE 8\n' > c/f8.txt; settle
is "same size, new content: one file read" "$(stat_of c files_read)" 1
after=$(digest_of c)
unlike "same size, new content: new digest" "$after" "^$before\$"
touch -r c/f9.txt c/ref
printf 'FILE 9\n' > c/f9.txt
touch -r c/ref c/f9.txt; rm c/ref; settle
is "same mtime, new content (ctime): one file read" "$(stat_of c files_read)" 1
unlike "same mtime, new content: new digest" "$(digest_of c)" "^$after\$"
is "cache and no cache agree" "$(digest_of c)" "$(digest_of c --no-cache)"
is "--no-cache reads everything" "$("$CAIRN" data hash c --no-cache --json | json 'j["stats"]["files_read"]')" 50

# --- links and special files ------------------------------------------------------------
mkdir -p l
printf 'in\n' > l/in.txt
ln -s ../d/a.txt l/out
ln -s loop2 l/loop1; ln -s loop1 l/loop2
mkfifo l/pipe
mkdir -p l/.cairn && printf 'db\n' > l/.cairn/cairn.db
ok "links inside a tree are recorded, not followed" "$CAIRN" data hash l
like "a store inside the tree is skipped" "$(err)" "^note: l/.cairn: cairn store skipped$"
like "special file: a note" "$(err)" "^note: l/pipe: special file skipped: FIFO$"
is "links count as entries" "$("$CAIRN" data hash l --json | json 'j["files"]')" 4
is "only the regular file is read" "$("$CAIRN" data hash l --json --no-cache | json 'j["stats"]["files_read"]')" 1

# --- bad input -------------------------------------------------------------------------------
fails "missing path" 1 "$CAIRN" data hash nope
one_error_line "missing path: one error line"
like "missing path: named" "$(err)" "cannot hash 'nope': no such file or directory"
ln -s loop loop
fails "symlink loop" 1 "$CAIRN" data hash loop
one_error_line "symlink loop: one error line"
like "symlink loop: named" "$(err)" "cannot hash 'loop': symbolic link loop"
ln -s nowhere dangling
fails "dangling link" 1 "$CAIRN" data hash dangling
like "dangling link: named" "$(err)" "'dangling': dangling symbolic link"
fails "a FIFO" 1 "$CAIRN" data hash l/pipe
like "a FIFO: why" "$(err)" "not a regular file or directory"
fails "no path" 2 "$CAIRN" data hash
fails "unknown digest" 2 "$CAIRN" data hash d --digest crc32
like "unknown digest: named" "$(err)" "crc32"
fails "unknown subcommand" 2 "$CAIRN" data frob
ok "help" "$CAIRN" data -h
fails "good and missing path: exit 1" 1 "$CAIRN" data hash d/a.txt nope
like "good and missing path: the good one printed" "$(out)" "d/a.txt"

# Unreadable files, for real: as an unprivileged user (tests run as root).
if can_drop_root; then
	chmod 755 "$T"
	mkdir -p u/sub
	for i in 1 2 3; do printf 'u%d\n' "$i" > "u/sub/f$i"; done
	chmod 000 u/sub/f2
	mkdir -p u/locked && printf 'x\n' > u/locked/x && chmod 000 u/locked
	chmod -R a+rX u/sub/f1 u/sub/f3
	nobody() { as_nobody "$@"; }
	fails "unreadable files inside: exit 1" 1 nobody "$CAIRN" data hash u --no-cache
	like "first line: the error" "$(head -1 "$T/.err")" "^error: cannot hash 'u': 2 entries could not be hashed"
	like "each problem listed" "$(err)" "  u/sub/f2: Permission denied"
	like "an unreadable directory listed" "$(err)" "  u/locked: Permission denied"
	is "no digest printed" "$(out)" ""
	fails "unreadable: --json" 1 nobody "$CAIRN" data hash u --no-cache --json
	is "JSON: digest null" "$(out | json 'j["digest"]')" "None"
	is "JSON: both errors" "$(out | json 'len(j["errors"])')" 2
	is "JSON: the readable files were hashed" "$(out | json 'j["files"]')" 2
	fails "unreadable single file" 1 nobody "$CAIRN" data hash u/sub/f2 --no-cache
	one_error_line "unreadable single file: one error line"
	like "unreadable single file: named" "$(err)" "cannot hash 'u/sub/f2': Permission denied"
else
	for i in $(seq 1 11); do echo "ok $((_n + 1)) # SKIP setpriv cannot drop privileges here"; _n=$((_n + 1)); done
fi

# --- datasets on runs, show, diff -------------------------------------------------------------
mkdir -p v/imgs
for i in $(seq -w 1 12); do printf 'img %s\n' "$i" > "v/imgs/$i.png"; done
printf 'gone\n' > v/gone.txt
printf 'v1\n' > v/edit.txt
settle
r1=$("$CAIRN" start -n first)
ok "log a dataset" "$CAIRN" data log v --run "$r1"
ok "log an output" "$CAIRN" data log d/a.txt --name model --role output --run "$r1"
s1=$(store_digest)
fails "log a missing path" 1 "$CAIRN" data log nope --run "$r1"
one_error_line "log a missing path: one error line"
is "log a missing path: store unchanged" "$(store_digest)" "$s1"
fails "log: bad role" 2 "$CAIRN" data log v --role sideways --run "$r1"
ok "show lists the dataset" "$CAIRN" show "$r1"
like "show: data section" "$(out)" "v \(input\)  $T/v  xxh128:[0-9a-f]{32}  14 files"
like "show: a sample of paths" "$(out)" "imgs/01.png"
like "show: how many more" "$(out)" "… 9 more"
ok "data show, limited" "$CAIRN" data show "$r1" v --limit 2
like "data show: entries in path order" "$(out | tr "\n" " ")" "edit.txt .*gone.txt"
like "data show: the rest counted" "$(out)" "… 12 more"
ok "data show --json" "$CAIRN" data show "$r1" --json
is "data show --json: both datasets" "$(out | json 'len(j["datasets"])')" 2

rm v/gone.txt
printf 'v2\n' > v/edit.txt
printf 'new\n' > v/new.txt
settle
r2=$("$CAIRN" start -n second)
ok "log the new version" "$CAIRN" data log v --run "$r2"
ok "diff two runs" "$CAIRN" data diff "$r1" "$r2"
like "diff: added" "$(out)" "  \+ new.txt"
like "diff: removed" "$(out)" "  - gone.txt"
like "diff: changed" "$(out)" "  ~ edit.txt"
like "diff: totals" "$(out)" "1 added, 1 removed, 1 changed"
like "diff: a dataset in one run only" "$(out)" "model: only in A"
ok "diff --json" "$CAIRN" data diff "$r1" "$r2" --json
is "diff --json: changed" "$(out | json '[d["changed"] for d in j["datasets"] if d["name"]=="v"][0]')" '["edit.txt"]'
ok "diff RUN:NAME against the path" "$CAIRN" data diff "$r2:v" v
like "diff RUN:NAME: same" "$(out)" "^v: same"
fails "diff a missing version" 1 "$CAIRN" data diff "$r1" nope
one_error_line "diff a missing version: one error line"
like "diff a missing version: named" "$(err)" "'nope' is not an existing path, a stored manifest or a run"

# Purging a run removes a manifest no other run shares.
oid=$("$CAIRN" show "$r1" --json | json '[d["manifest"] for d in j["datasets"] if d["name"]=="v"][0]')
ok "the manifest object exists" test -f "$OBJECTS/${oid:0:2}/${oid:2}"
ok "purge the run" "$CAIRN" rm --purge "$r1"
fails "the manifest object is gone" 1 test -f "$OBJECTS/${oid:0:2}/${oid:2}"

# --- progress ------------------------------------------------------------------------------------
ok "not a terminal: no progress" "$CAIRN" data hash c
is "not a terminal: stderr empty" "$(err)" ""
ok "--progress forces it" "$CAIRN" data hash c --progress --no-cache
like "--progress: files and rate" "$(err)" "50/50 files .* ETA"

done_testing
