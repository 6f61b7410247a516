#!/usr/bin/env bash
# tests/e2e/artifact-rm.t — deleting one artifact and freeing its bytes
# (docs/cli/tag.md, `cairn rm RUN --artifact PATH`; docs/internals/store.md,
# "Deleting an artifact"), and checkpoints that keep their last N versions
# (`cairn log artifact --keep-last N`): an object goes when no record needs
# it — not while another artifact of the run, the run's code snapshot or
# another run still names the same bytes; a directory path takes what is
# under it; an unknown path or a bad combination changes nothing; a run of
# a `cairn server` store frees on the server.  Run on SQLite and on
# PostgreSQL (CAIRN_TEST_PG=1).
. "$(dirname "$0")/lib.sh"

objs() { find "$OBJECTS" -path "$OBJECTS/tmp" -prune -o -type f -print 2>/dev/null | wc -l | tr -d ' '; }
arts() { "$CAIRN" show "$1" --json | json '" ".join(sorted(a["path"] for a in j["artifacts"] if a["kind"] == "file"))'; }

mkdir -p w && cd w || exit 1
head -c 65536 /dev/urandom >big.bin
echo small >small.txt
a=$("$CAIRN" start -n a)
b=$("$CAIRN" start -n b)
"$CAIRN" log artifact big.bin --run "$a" >/dev/null
"$CAIRN" log artifact big.bin --name copy.bin --run "$a" >/dev/null
"$CAIRN" log artifact small.txt --name d/small.txt --run "$a" >/dev/null
"$CAIRN" log artifact small.txt --name d/e/small2.txt --run "$a" >/dev/null
"$CAIRN" log artifact big.bin --name theirs.bin --run "$b" >/dev/null
base=$(objs)

fails "an unknown artifact path" 1 "$CAIRN" rm "$a" --artifact nope.bin
like "  says which" "$(err)" "^error: run ${a:0:8} has no artifact 'nope.bin'$"
fails "one unknown path among several deletes nothing" 1 "$CAIRN" rm "$a" --artifact big.bin --artifact nope
is "  every artifact is still there" "$(arts "$a")" "big.bin copy.bin d/e/small2.txt d/small.txt"
fails "--artifact with --purge is a usage error" 2 "$CAIRN" rm "$a" --artifact big.bin --purge
fails "--artifact with two runs is a usage error" 2 "$CAIRN" rm "$a" "$b" --artifact big.bin
fails "a path with .. is refused" 1 "$CAIRN" rm "$a" --artifact ../big.bin
is "  nothing was removed" "$(objs)" "$base"

ok "delete one of two names of the same bytes" "$CAIRN" rm "$a" --artifact big.bin
is "  it says none was freed" "$(out)" "deleted 1 artifact of run ${a:0:8}; 0 objects freed"
is "  the other name is still there" "$(arts "$a")" "copy.bin d/e/small2.txt d/small.txt"
is "  and its object" "$(objs)" "$base"
ok "delete the last name in this run" "$CAIRN" rm "$a" --artifact copy.bin
is "  another run still has the bytes: kept" "$(objs)" "$base"
"$CAIRN" rm "$b" --artifact theirs.bin >/dev/null
is "the last reference anywhere goes: the object is freed" "$(objs)" "$((base - 1))"

ok "a directory path takes every file under it" "$CAIRN" rm "$a" --artifact d
is "  both files" "$(out)" "deleted 2 artifacts of run ${a:0:8}; 1 object freed"
is "  none left" "$(arts "$a")" ""

# a run whose code snapshot holds the same bytes as an artifact
mkdir -p ../repo && cd ../repo || exit 1
git init -q . && git config user.email t@e && git config user.name t
echo 'print("v1")' >train.py && git add train.py && git commit -qm init
echo 'print("dirty, not committed")' >train.py
"$CAIRN" run -n coded -- sh -c '"$0" log artifact train.py --name snap.py' "$CAIRN" >/dev/null 2>&1
c=$("$CAIRN" ls 'name = "coded"' --format csv --columns id | tail -1)
before=$(objs)
is "the run's code snapshot holds the file" "$("$CAIRN" show "$c" --json | json 'j["code"]["dirty"]')" True
ok "delete an artifact whose bytes the code snapshot holds" "$CAIRN" rm "$c" --artifact snap.py
is "  nothing is freed" "$(out)" "deleted 1 artifact of run ${c:0:8}; 0 objects freed"
is "  every object is still there" "$(objs)" "$before"
ok "  the run checks out" "$CAIRN" checkout "$c" ../co
is "  with the uncommitted file" "$(cat ../co/train.py)" 'print("dirty, not committed")'
ok "cairn gc afterwards" "$CAIRN" gc
ok "  and the run still checks out" "$CAIRN" checkout "$c" ../co2
is "  the same file" "$(cat ../co2/train.py)" 'print("dirty, not committed")'

# checkpoints: the last N versions
cd ../w || exit 1
k=$("$CAIRN" start -n ckpt)
before=$(objs)
for e in 1 2 3 4 5; do
	echo "weights $e" >ck.pt
	"$CAIRN" log artifact ck.pt --name ckpt/model.pt --keep-last 2 --run "$k" >/dev/null
done
is "--keep-last 2: the newest under its name and the last two versions" "$(arts "$k")" \
	"ckpt/model.pt ckpt/model.pt@v4 ckpt/model.pt@v5"
is "  older versions' bytes are freed" "$(objs)" "$((before + 2))"
fails "--keep-last 0" 2 "$CAIRN" log artifact ck.pt --keep-last 0 --run "$k"
fails "--keep-last for a metric" 2 "$CAIRN" log metric x 1 --keep-last 2 --run "$k"
fails "--keep-last of a directory" 1 "$CAIRN" log artifact . --keep-last 2 --run "$k"
like "  says why" "$(err)" "only a file has versions"
is "  nothing changed" "$(arts "$k")" "ckpt/model.pt ckpt/model.pt@v4 ckpt/model.pt@v5"

# through a server: the server frees
if [ -z "$PG" ]; then
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$CAIRN" server --store "$CAIRN_DIR" --listen "127.0.0.1:$PORT" --no-auth >"$T/server.log" 2>&1 &
	SRV=$!
	for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/" >/dev/null 2>&1 && break; sleep 0.1; done
	head -c 4096 /dev/urandom >remote.bin
	r=$(CAIRN_DIR=http://127.0.0.1:$PORT "$CAIRN" start -n remote)
	CAIRN_DIR=http://127.0.0.1:$PORT "$CAIRN" log artifact remote.bin --run "$r" >/dev/null
	before=$(objs)
	ok "rm --artifact through a server" env CAIRN_DIR="http://127.0.0.1:$PORT" "$CAIRN" rm "$r" --artifact remote.bin
	is "  the server's store freed the object" "$(objs)" "$((before - 1))"
	kill "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
else
	skip "rm --artifact through a server" "the server test runs on SQLite"
	skip "  the server's store freed the object" "the server test runs on SQLite"
fi

done_testing
