#!/usr/bin/env bash
# tests/e2e/show.t — what `cairn show` prints for a person, on a terminal:
# every string from the store (name, tags, params, metrics, properties, note,
# command, cwd, datasets and their files, artifacts) has its control
# characters made spaces, as `cairn ls` does, so none can drive the terminal;
# --json stays exact.
. "$(dirname "$0")/lib.sh"

C1=$'\xc2\x9b' # U+009B: CSI, as a C1 control, in values (names refuse C0 and C1 alike)
N1=' '          # where a name had it: what show prints for it anyway
NOTE=$'line1\e[5m\nline2\r\x07end'
PROP=$'v\e[31mred\e]0;title\a'
mkdir -p $'w\e[7m' data
touch data/a $'data/b\e[32mgreen'
cd $'w\e[7m'
id=$("$CAIRN" start -n "run${N1}2J" -t "tag-31m" --param "k=v"$'\e[2J')
export CAIRN_RUN_ID=$id
"$CAIRN" log property p "$PROP"
"$CAIRN" log metric "m${N1}k" 1
printf x >f
"$CAIRN" log artifact f --name "a${N1}4m"
"$CAIRN" note "$id" "$NOTE"
"$CAIRN" finish "$id"
unset CAIRN_RUN_ID
"$CAIRN" run -n plain -d "ds=../data" -- sh -c 'true' $'arg\e[1A' "arg${C1}x" >/dev/null 2>&1
id2=$("$CAIRN" ls --format json | json 'j[0]["id"]')

# the output of `cairn show` on a terminal (script gives it a pty), lines
# ending in the pty's \r\n turned back into \n
on_tty() { script -qc "COLUMNS=200 $*" /dev/null | sed 's/\r$//'; }
# has BYTES TEXT: TEXT holds one of the bytes (a grep bracket expression)
has() { printf '%s' "$2" | LC_ALL=C grep -q "[$1]"; }
# every C0 but \t and \n, DEL, and 0x9b (CSI alone, or in U+009B)
CONTROLS=$'\x01-\x08\x0b-\x1f\x7f'$'\x9b'

out1=$(on_tty "$CAIRN" show "$id")
out2=$(on_tty "$CAIRN" show "$id2")
like "show prints the run on a terminal" "$out1" "^run 2J  $id"
has "$CONTROLS" "$out1"; is "no control character reaches the terminal (name, tags, params, metrics, properties, note, artifacts)" $? 1
printf '%s' "$out1" | LC_ALL=C grep -q $'\xc2\x9b'; is "no C1 control either" $? 1
has "$CONTROLS" "$out2"; is "nor from the command, cwd, dataset name and file names" $? 1
printf '%s' "$out2" | LC_ALL=C grep -q $'\xc2\x9b'; is "nor a C1 one there" $? 1
like "tags: as stored" "$out1" "^tags +tag-31m$"
like "params: in the table" "$out1" "^  k +v \[2J$"
like "metrics: the key" "$out1" "^  m k +1 "
like "properties: key and value" "$out1" "^  p = v \[31mred \]0;title $"
like "note: the first line" "$out1" "^note +line1 \[5m$"
like "note: a second line keeps its place, its \\r and BEL made spaces" "$out1" "^          line2  end$"
like "artifacts: the name" "$out1" "^  a 4m "
like "command" "$out2" "^command +sh -c true 'arg \[1A' 'arg x'$"
like "cwd" "$out2" "^cwd +.*/w \[7m$"
like "dataset name" "$out2" "^  ds \(input\)"
like "dataset files" "$out2" "^      b \[32mgreen$"

# with colour, the only escapes are cairn's own (bold)
out=$(env -u NO_COLOR script -qc "COLUMNS=200 $CAIRN show $id" /dev/null)
like "colour on a terminal" "$out" $'\e\\[1m'
stripped=$(printf '%s' "$out" | sed $'s/\e\\[[01]m//g; s/\r$//')
has $'\e' "$stripped"; is "and no other escape" $? 1

# into a pipe: the same text
ok "show into a pipe" "$CAIRN" show "$id"
has "$CONTROLS" "$(out)"; is "no control character into a pipe either" $? 1

# --json is exact
"$CAIRN" show "$id" --json >j.json
is "--json keeps the note exactly" "$(NOTE=$NOTE python3 -c 'import json,os; print(json.load(open("j.json"))["note"] == os.environ["NOTE"])')" True
is "--json keeps the property exactly" "$(PROP=$PROP python3 -c 'import json,os; print(json.load(open("j.json"))["properties"]["p"] == os.environ["PROP"])')" True
is "--json keeps the name exactly" "$(json 'j["name"] == "run 2J"' <j.json)" True
fails "a C1 control in a name is refused at the door" 1 "$CAIRN" start -n "run${C1}2J"
is "--json holds the escapes, JSON-escaped" "$(grep -c $'\e' j.json)" 0

# cairn ls goes through the same function: C1 controls too
out=$(on_tty "$CAIRN" ls)
like "ls shows the run" "$out" "run 2J"
printf '%s' "$out" | LC_ALL=C grep -q $'\xc2\x9b'; is "with no C1 control" $? 1

done_testing
