#!/usr/bin/env bash
# tests/e2e/tag-values.t — key/value tags (docs/cli/tag.md): `cairn tag RUN
# key=value` gives a tag a value, a bare tag still means "present", setting
# a key again replaces its value, --remove takes the key; `tags.key = "v"`,
# like / ilike / in / != on a tag's value; ls, show and --json show them.
. "$(dirname "$0")/lib.sh"

a=$("$CAIRN" start -n a)
b=$("$CAIRN" start -n b)
c=$("$CAIRN" start -n c)
ok "tag key=value and a bare tag" "$CAIRN" tag "$a" team=vision baseline
ok "tag another run" "$CAIRN" tag "$b" team=nlp
ok "a value may hold further =" "$CAIRN" tag "$c" "expr=a=b"

q() { "$CAIRN" ls "$1" --format csv --columns name | tail -n +2 | sort | tr '\n' ' '; }
is "tags.team = \"vision\"" "$(q 'tags.team = "vision"')" "a "
is "tags.team != \"vision\": runs with another value" "$(q 'tags.team != "vision"')" "b "
is "tags.team like" "$(q "tags.team like 'n%'")" "b "
is "tags.team ilike" "$(q "tags.team ilike 'VIS%'")" "a "
is "tags.team in" "$(q 'tags.team in ("nlp", "x")')" "b "
is "a bare key: present with any value" "$(q 'tags.team')" "a b "
is "a bare tag: present" "$(q 'tags.baseline')" "a "
is "a bare tag has no value to compare" "$(q 'tags.baseline = "x"')" ""
is "a value with =" "$(q 'tags.expr = "a=b"')" "c "
is "not tags.team" "$(q 'not tags.team')" "c "

is "ls shows the value in a tags column" \
	"$("$CAIRN" ls 'name = "a"' --format csv --columns tags.team | tail -1)" "vision"
like "show prints key=value" "$("$CAIRN" show "$a")" "tags +baseline team=vision"
is "show --json: tags as their text" "$("$CAIRN" show "$a" --json | json 'j["tags"]')" \
	'["baseline", "team=vision"]'

ok "setting the key again replaces the value" "$CAIRN" tag "$a" team=infra
is "one tag, the new value" "$("$CAIRN" show "$a" --json | json 'j["tags"]')" \
	'["baseline", "team=infra"]'
ok "--remove takes the key" "$CAIRN" tag "$a" team --remove
is "the tag is gone" "$("$CAIRN" show "$a" --json | json 'j["tags"]')" '["baseline"]'
fails "an empty key is refused" 1 "$CAIRN" tag "$a" =v
like "one error line saying what" "$(err)" "empty tag"
is "nothing was written" "$("$CAIRN" show "$a" --json | json 'j["tags"]')" '["baseline"]'
done_testing
