#!/usr/bin/env bash
# tests/e2e/tag-values.t — key/value tags (docs/cli/tag.md): `cairn tag RUN
# key=value` gives a tag a value, a bare tag still means "present", setting
# a key again replaces its value, --remove takes the key; `tags.key = "v"`,
# like / ilike / in / != on a tag's value; ls (the tags column and
# tags.K), show, compare, diff and --json show them; --sort and --group
# tags.K order and group by the value.
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

is "ls: the tags column shows key=value" \
	"$("$CAIRN" ls --format csv --columns name,tags | tail -n +2 | sort | tr '\n' ' ')" \
	'a,"baseline,team=vision" b,team=nlp c,expr=a=b '
like "ls: so does the table's TAGS column" "$("$CAIRN" ls 'name = "a"')" " baseline,team=vision$"
like "compare: the tags row shows values" "$("$CAIRN" compare "$a" "$b" --all)" \
	"^tags +baseline,team=vision +team=nlp$"
is "diff: a changed value is the old text removed and the new one added" \
	"$("$CAIRN" diff "$a" "$b" --json | json 'j["tags"]')" \
	'{"added": ["team=nlp"], "removed": ["baseline", "team=vision"]}'
like "diff: the tags section" "$("$CAIRN" diff "$a" "$b")" "^  - team=vision$"
ok "the same key with the same value is no difference" "$CAIRN" tag "$c" team=vision
is "diff: only the bare tag differs" "$("$CAIRN" diff "$a" "$c" --json | json 'j["tags"]')" \
	'{"added": ["expr=a=b"], "removed": ["baseline"]}'
d=$("$CAIRN" start -n d)
e=$("$CAIRN" start -n e)
ok "a bare tag of the same key" "$CAIRN" tag "$d" team
s() { "$CAIRN" ls --sort "$1" --format csv --columns name | tail -n +2 | tr '\n' ' '; }
is "sort by a tag's value (bare first, missing last)" "$(s tags.team,name)" "d b a c e "
is "sort by a tag's value, descending" "$(s -tags.team,name)" "a c b d e "
is "group by a tag's value" "$("$CAIRN" ls --group tags.team --format csv | tr '\n' ' ')" \
	"tags.team,RUNS ,1 nlp,1 vision,2 (none),1 "
like "group in the table: the bare tags' group is named" "$("$CAIRN" ls --group tags.team)" \
	"\(bare tag\) +1"
is "group --format json: a bare tag's value is empty" \
	"$("$CAIRN" ls --group tags.team --format json | json '[(g["value"], g["count"]) for g in j["groups"]]')" \
	'[["", 1], ["nlp", 1], ["vision", 2], [null, 1]]'
is "a query and a group together" \
	"$("$CAIRN" ls 'tags.team != "nlp"' --group tags.team --format csv | tr '\n' ' ')" \
	"tags.team,RUNS vision,2 "
is "a bare tag matches no negated comparison either" \
	"$(q 'tags.team != "nlp" or tags.team not in ("nlp") or tags.team !~ "n*" or tags.team not like "n%"')" \
	"a c "
is "the bare tag's runs: present, and no value" "$(q 'tags.team and not tags.team like "%"')" "d "
fails "a tag has no values to summarise" 2 "$CAIRN" ls --group tags.team --metric tags.team
like "says so" "$(err)" "'tags.team' has no values to summarise"
fails "the set of tags still cannot group" 2 "$CAIRN" ls --group tags
"$CAIRN" rm "$d" "$e" >/dev/null
"$CAIRN" tag "$c" team --remove >/dev/null

ok "setting the key again replaces the value" "$CAIRN" tag "$a" team=infra
is "one tag, the new value" "$("$CAIRN" show "$a" --json | json 'j["tags"]')" \
	'["baseline", "team=infra"]'
ok "--remove takes the key" "$CAIRN" tag "$a" team --remove
is "the tag is gone" "$("$CAIRN" show "$a" --json | json 'j["tags"]')" '["baseline"]'
fails "an empty key is refused" 1 "$CAIRN" tag "$a" =v
like "one error line saying what" "$(err)" "empty tag"
is "nothing was written" "$("$CAIRN" show "$a" --json | json 'j["tags"]')" '["baseline"]'
done_testing
