#!/usr/bin/env bash
# End-to-end: init, start/log/finish, show, ls, tag, note, rm through the real binary.
source "$(dirname "$0")/lib.sh"

unset CAIRN_DIR
mkdir proj && cd proj
ok "init creates .cairn" $CAIRN init
like "init says where" "$(out)" "initialised empty cairn store in .*/proj/.cairn"
ok "init again is not an error" $CAIRN init
like "and says it exists" "$(out)" "already exists"
mkdir -p sub/dir && cd sub/dir
ok "start finds the store by walking up" $CAIRN start -p salt -n first -t baseline --param lr=0.1 --param model=lgbm
id=$(out)
like "start prints a 32-hex id" "$id" '^[0-9a-f]{32}$'
cd "$T/proj"
export CAIRN_RUN_ID=$id
ok "log metric" $CAIRN log metric valid_auc 0.81 --step 0
ok "log metric again" $CAIRN log metric valid_auc 0.93 --step 1
ok "log metric auto step" $CAIRN log metric loss 0.5
ok "log metric negative value" $CAIRN log metric delta -0.25
ok "log metric nan" $CAIRN log metric weird nan
ok "log param" $CAIRN log param epochs 10
ok "log param same value again" $CAIRN log param epochs 10
ok "log tag" $CAIRN log tag gpu fast
ok "log property" $CAIRN log property data_version v3
echo "weights" > model.bin
ok "log artifact" $CAIRN log artifact model.bin --name models/model.bin
printf '\x89PNG\r\n\x1a\n0000' > cm.png
ok "log image" $CAIRN log image confusion cm.png --step 1
ok "finish" $CAIRN finish "$id"

ok "show --json" $CAIRN show "$id" --json
j=$(out)
is "show: name" "$(echo "$j" | json 'j["name"]')" "first"
is "show: project" "$(echo "$j" | json 'j["project"]')" "salt"
is "show: status" "$(echo "$j" | json 'j["status"]')" "finished"
is "show: params typed" "$(echo "$j" | json 'j["params"]')" '{"epochs": 10, "lr": 0.1, "model": "lgbm"}'
is "show: metric summary" "$(echo "$j" | json '[j["metrics"]["valid_auc"][k] for k in ("last","min","max","count","step")]')" "[0.93, 0.81, 0.93, 2, 1]"
is "show: negative metric" "$(echo "$j" | json 'j["metrics"]["delta"]["last"]')" "-0.25"
is "show: NaN metric" "$(echo "$j" | json 'j["metrics"]["weird"]["last"]')" "NaN"
is "show: tags" "$(echo "$j" | json 'j["tags"]')" '["baseline", "fast", "gpu"]'
is "show: properties" "$(echo "$j" | json 'j["properties"]')" '{"data_version": "v3"}'
is "show: artifacts" "$(echo "$j" | json '[a["path"] for a in j["artifacts"]]')" '["images/confusion/00000001.png", "models/model.bin"]'
like "show: every key" "$(echo "$j" | json 'sorted(j)')" '"artifacts".*"end_time".*"id".*"metrics".*"name".*"note".*"params".*"project".*"properties".*"start_time".*"status".*"tags"'

ok "show by prefix (human)" $CAIRN show "${id:0:6}"
like "show lists params" "$(out)" "lr +0.1"
like "show lists metrics" "$(out)" "valid_auc +0.93 +0.81 +0.93 +2 +1"

ok "tag add" $CAIRN tag "${id:0:8}" best
ok "tag remove" $CAIRN tag "${id:0:8}" gpu --remove
ok "note" $CAIRN note "$id" "lr sweep winner"
$CAIRN show "$id" --json > j.json
is "tags after tag/untag" "$(json 'j["tags"]' < j.json)" '["baseline", "best", "fast"]'
is "note set" "$(json 'j["note"]' < j.json)" "lr sweep winner"

id2=$($CAIRN start -p salt)
ok "ls --format json" $CAIRN ls --format json
is "ls newest first" "$(out | json '[r["id"] for r in j]')" "[\"$id2\", \"$id\"]"
ok "ls --limit 1 csv" $CAIRN ls --limit 1 --format csv
is "csv: header + 1 row" "$(out | wc -l)" "2"
ok "rm hides the run" $CAIRN rm "$id2"
is "ls after rm" "$($CAIRN ls --format json | json 'len(j)')" "1"
done_testing
