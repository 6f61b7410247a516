#!/usr/bin/env bash
# End-to-end: how the store is found and how runs are named — a `.cairn`
# that is not a store directory, a run name that is also another run's id
# prefix — plus `ls --limit 0` and purges racing writers of the same bytes.
source "$(dirname "$0")/lib.sh"
pg_skip "about the directory layout (discovery, .cairn files, init of a directory); its purge race runs on postgresql in pg.t"

check() { # DESC CODE PATTERN CMD...
	local d=$1 code=$2 pat=$3; shift 3
	fails "$d: exit $code" "$code" "$@"
	one_error_line "$d: one error line"
	like "$d: message" "$(err | head -1)" "$pat"
}

# --- a name that is also an id prefix ---------------------------------------------------------
a=$($CAIRN start -n first)
b=$($CAIRN start -n "${a:0:8}")
before=$(store_digest)
check "show NAME-or-PREFIX" 1 "run '${a:0:8}' is ambiguous" $CAIRN show "${a:0:8}"
like "show: names the run with the name" "$(err)" "$b"
like "show: names the run with the prefix" "$(err)" "$a"
check "tag NAME-or-PREFIX" 1 "is ambiguous" $CAIRN tag "${a:0:8}" x
is "an ambiguous tag changes nothing" "$(store_digest)" "$before"
ok "the full id is exact" $CAIRN show "$a" --json
is "full id: that run" "$(out | json 'j["name"]')" "first"
ok "more digits settle it" $CAIRN tag "${a:0:9}" x
ok "so does the other run's id" $CAIRN show "$b" --json
is "other id: that run" "$(out | json 'j["tags"]')" "[]"

# --- ls --limit 0 is a usage error, not "every run" ---------------------------------------------
check "ls --limit 0" 2 "--limit must be at least 1" $CAIRN ls --limit 0
is "ls --limit 0: nothing listed" "$(out)" ""
check "ls --limit 0 --json" 2 "--limit must be at least 1" $CAIRN ls --limit 0 --json
ok "ls --limit 1 lists one" $CAIRN ls --limit 1 --json
is "ls --limit 1: one run" "$(out | json 'len(j)')" "1"

# --- a .cairn that is not a store directory ---------------------------------------------------
# (discovery: no CAIRN_DIR; a silent fall-back would create $HOME/.local/share/cairn)
nocd() { env -u CAIRN_DIR "$@"; }
mkdir -p w/sub && echo "not a store" > w/.cairn
check "init over a file" 1 "'$T/w/.cairn' exists and is a regular file" nocd $CAIRN init w
is "init over a file: nothing printed" "$(out)" ""
cd w/sub
check "discovery meets a file" 1 "'$T/w/.cairn' is not a store directory: it is a regular file" nocd $CAIRN start
check "ls meets a file" 1 "is not a store directory" nocd $CAIRN ls
cd "$T" && rm w/.cairn && ln -s "$T/gone" w/.cairn
check "init over a dangling link" 1 "symbolic link to '$T/gone', which does not exist" nocd $CAIRN init w
cd w/sub
check "discovery meets a dangling link" 1 "is not a store directory: it is a symbolic link to '$T/gone', which does not exist" nocd $CAIRN start
cd "$T"
ok "no per-user store was created" test ! -e "$HOME/.local/share/cairn"
is "the file and the link are left alone" "$(readlink w/.cairn)" "$T/gone"
rm w/.cairn && mkdir real && nocd $CAIRN init real >/dev/null && ln -s "$T/real/.cairn" w/.cairn
ok "init over a link to a store: already there" nocd $CAIRN init w
like "init over a link to a store: says so" "$(out)" "already exists"
cd w/sub
ok "discovery through a link to a store" nocd $CAIRN start -n linked
ok "ls through the link" nocd $CAIRN ls --json
is "ls through the link: the run" "$(out | json '[r["name"] for r in j]')" '["linked"]'
cd "$T"
ok "the run is in the linked store" nocd $CAIRN --store real/.cairn show linked

# --- a purge racing a writer of the same bytes (issue 10) -------------------------------------
# Run A holds g.txt; B logs the same bytes while A is purged.  The writer
# finds the object on disk and skips writing it; the purge must not remove it
# from under B's reference.  Real processes, so the interleaving varies; the
# deterministic versions of every window are in tests/unit/test-objects.c.
lost=0
for i in $(seq 12); do
	echo "c$i" > g.txt
	A=$($CAIRN start)
	$CAIRN log --run "$A" artifact g.txt
	B=$($CAIRN start -n "race$i")
	$CAIRN rm --purge "$A" & $CAIRN log --run "$B" artifact g.txt & wait
	d=$($CAIRN show "race$i" --json | json '[a["digest"] for a in j["artifacts"]][0]')
	[ -f "$OBJECTS/${d:0:2}/${d:2}" ] || lost=$((lost + 1))
done
is "no artifact lost its bytes in 12 races" "$lost" 0

done_testing
