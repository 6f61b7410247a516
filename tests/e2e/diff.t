#!/usr/bin/env bash
# cairn diff: two runs that differ in each dimension a run records today
# (params, metrics with directions, code, data, environment, command, tags,
# properties), identical runs, --json's shape, --higher/--lower, errors.
# Code, data, environment and command are written into the store directly,
# as `cairn run` and `cairn run --data` would record them.
. "$(dirname "$0")/lib.sh"
plan 64

sql() { store_sql "$1"; }
put_env() { # put_env RUN JSON: store an environment object for a run
	local oid
	oid=$(printf '%s' "$2" | sha256sum | cut -c1-64)
	mkdir -p "$OBJECTS/${oid:0:2}"
	printf '%s' "$2" >"$OBJECTS/${oid:0:2}/${oid:2}"
	sql "UPDATE runs SET env_oid = '$oid' WHERE id = '$1'"
}
add_data() { # add_data RUN NAME DIGEST FILES
	sql "INSERT INTO datasets(rid, name, path, role, algo, digest, files, bytes, created)
	     SELECT rid, '$2', 'data/$2', 'input', 'xxh128', '$3', $4, $4 * 100, 0 FROM runs WHERE id = '$1'"
}

A=$($CAIRN start -n alpha -t baseline -t shared --param lr=0.1 --param model=lgbm --param dropout=0.2)
B=$($CAIRN start -n beta -t shared -t tuned --param lr=0.01 --param model=lgbm --param seed=7)
for kv in "valid_auc 0.90" "loss 0.40" "rmse 1.5" "epoch_time 30" "old 1"; do $CAIRN log metric $kv --run "$A"; done
for kv in "valid_auc 0.93" "loss 0.45" "rmse 1.2" "epoch_time 20" "new 2"; do $CAIRN log metric $kv --run "$B"; done
$CAIRN log property owner ann --run "$A"
$CAIRN log property owner bob --run "$B"
sql "UPDATE runs SET command = 'python train.py --lr 0.1', git_commit = '1111111111111111111111111111111111111111', git_branch = 'main', git_dirty = 0 WHERE id = '$A'"
sql "UPDATE runs SET command = 'python train.py --lr 0.01', git_commit = '2222222222222222222222222222222222222222', git_branch = 'exp', git_dirty = 1 WHERE id = '$B'"
add_data "$A" train xxh128:aaaa 10
add_data "$B" train xxh128:bbbb 12
add_data "$A" valid xxh128:cccc 5
add_data "$B" valid xxh128:cccc 5
add_data "$B" test xxh128:dddd 3
put_env "$A" '{"os":"Linux","kernel":"6.1","cpu":"x86","gpus":[{"name":"A100","memory_bytes":80,"driver":"535"}],"packages":{"numpy":"1.26","torch":"2.1","jax":"0.4"},"files":[{"path":"environment.yml","digest":"sha256:1","size":10},{"path":"Makefile","digest":"sha256:9","size":5}],"env_vars":{"CUDA_VISIBLE_DEVICES":"0"}}'
put_env "$B" '{"os":"Linux","kernel":"6.5","cpu":"x86","gpus":[{"name":"H100","memory_bytes":80,"driver":"550"}],"packages":{"numpy":"2.0","torch":"2.1","scipy":"1.11"},"files":[{"path":"environment.yml","digest":"sha256:2","size":11},{"path":"Makefile","digest":"sha256:9","size":5},{"path":"Dockerfile","digest":"sha256:3","size":7}],"env_vars":{"CUDA_VISIBLE_DEVICES":"0,1"}}'
before=$(store_digest)

ok "diff" $CAIRN diff "$A" "$B"
D=$(out)
sections=$(echo "$D" | grep -E '^(params|metrics|code|data|environment|command|tags|properties)$' | tr '\n' ' ')
is "every dimension, in order" "$sections" "params metrics code data environment command tags properties "
like "param changed" "$D" "~ lr +0.1 → 0.01"
like "param added" "$D" "\+ seed +7"
like "param removed" "$D" "- dropout +0.2"
unlike "an equal param is not shown" "$D" "model"
like "metric change, absolute and relative, higher is better" "$D" "~ valid_auc +0.9 +0.93 +\+0.03 \(\+3.3%\) +b is better \(higher is better\)"
like "lower is better for a loss" "$D" "~ loss .*\+0.05 \(\+12.5%\) +a is better \(lower is better\)"
like "rmse is lower-is-better" "$D" "~ rmse .*b is better \(lower is better\)"
like "unknown direction: no verdict" "$D" "~ epoch_time +30 +20 +-10 \(-33.3%\)$"
like "metric only in b" "$D" "\+ new"
like "metric only in a" "$D" "- old"
like "commit change" "$D" "commit +111111111111 → 222222222222"
like "branch change" "$D" "branch +main → exp"
like "dirty change" "$D" "dirty +false → true"
like "changed dataset" "$D" "~ train +xxh128:aaaa → xxh128:bbbb +\(10 → 12 files"
like "added dataset" "$D" "\+ test +xxh128:dddd"
like "unchanged datasets listed once" "$D" "unchanged: valid"
like "os detail changed" "$D" "~ kernel +6.1 → 6.5"
like "gpus changed" "$D" "~ gpus"
like "package changed" "$D" "~ numpy +1.26 → 2.0"
like "package added" "$D" "\+ scipy +1.11"
like "package removed" "$D" "- jax +0.4"
unlike "an equal package is not shown" "$D" "torch"
like "environment file changed" "$D" "~ environment.yml"
like "environment file added" "$D" "\+ Dockerfile"
unlike "an equal environment file is not shown" "$D" "Makefile"
like "environment variables" "$D" "~ CUDA_VISIBLE_DEVICES +0 → 0,1"
like "command" "$D" "- python train.py --lr 0.1"
like "tags added" "$D" "\+ tuned"
like "tags removed" "$D" "- baseline"
unlike "a shared tag is not shown" "$D" "shared"
like "properties" "$D" "~ owner +ann → bob"
unlike "no colour into a pipe" "$D" $'\033'

ok "diff --json" $CAIRN diff "$A" "$B" --json
J=$(out)
is "not identical" "$(echo "$J" | json 'j["identical"]')" "False"
is "param change" "$(echo "$J" | json 'j["params"]["changed"]')" '[{"a": 0.1, "b": 0.01, "key": "lr"}]'
is "metric verdicts" "$(echo "$J" | json '[(m["key"], m["direction"], m["better"]) for m in j["metrics"]["changed"]]')" \
	'[["epoch_time", null, null], ["loss", "lower", "a"], ["rmse", "lower", "b"], ["valid_auc", "higher", "b"]]'
is "relative change" "$(echo "$J" | json 'round(j["metrics"]["changed"][3]["relative"], 4)')" "0.0333"
is "code" "$(echo "$J" | json '(j["code"]["commit_changed"], j["code"]["branch_changed"], j["code"]["dirty_changed"], j["code"]["diff"])')" "(True, True, True, None)"
is "data statuses" "$(echo "$J" | json '[(d["name"], d["status"]) for d in j["data"]["datasets"]]')" \
	'[["train", "changed"], ["valid", "same"], ["test", "added"]]'
is "packages" "$(echo "$J" | json 'j["environment"]["packages"]')" \
	'{"added": [{"name": "scipy", "value": "1.11"}], "changed": [{"a": "1.26", "b": "2.0", "name": "numpy"}], "removed": [{"name": "jax", "value": "0.4"}]}'
is "tags" "$(echo "$J" | json 'j["tags"]')" '{"added": ["tuned"], "removed": ["baseline"]}'

ok "--lower overrides the guess" $CAIRN diff "$A" "$B" --json --lower valid_auc --higher epoch_time
is "verdicts" "$(echo "$(out)" | json '[(m["key"], m["better"]) for m in j["metrics"]["changed"]]')" \
	'[["epoch_time", "a"], ["loss", "a"], ["rmse", "b"], ["valid_auc", "a"]]'

# identical runs
C=$($CAIRN start -n gamma --param lr=0.1 -t x)
E=$($CAIRN start -n delta --param lr=0.1 -t x)
$CAIRN log metric acc 0.5 --run "$C"
$CAIRN log metric acc 0.5 --run "$E"
before=$(store_digest)
ok "identical runs" $CAIRN diff "$C" "$E"
like "say so" "$(out)" "^identical: "
ok "identical --json" $CAIRN diff "$C" "$E" --json
is "identical" "$(out | json 'j["identical"]')" "True"
ok "a run against itself" $CAIRN diff "$A" alpha
like "is identical" "$(out)" "identical"

# code: two `cairn run`s of a git repository whose file changed in between
mkdir repo && (cd repo && git init -q && git config user.email t@t && git config user.name t &&
	printf 'lr = 0.1\nprint(lr)\n' >train.py && git add . && git commit -qm init)
(cd repo && $CAIRN run -n code1 -- true && sed -i 's/0.1/0.01/' train.py && $CAIRN run -n code2 -- true) >/dev/null 2>&1
ok "diff of two captured runs" $CAIRN diff code1 code2
like "the unified source diff" "$(out)" "-lr = 0.1"
like "both sides" "$(out)" "\+lr = 0.01"
ok "in json" $CAIRN diff code1 code2 --json
like "code.diff" "$(out | json 'j["code"]["diff"]')" "^diff --git a/train.py b/train.py"
(cd repo && $CAIRN run -n code3 -- true) >/dev/null 2>&1
ok "same code" $CAIRN diff code2 code3 --json
is "no code section" "$(out | json '(j["code"]["same"], j["code"]["diff"])')" "(True, None)"
before=$(store_digest)

fails "an unknown run" 1 $CAIRN diff "$A" ffff0000
one_error_line "one error line"
fails "one run without a code snapshot" 1 $CAIRN diff "$A"
like "says it has none" "$(err)" "has no code snapshot"
fails "three runs are a usage error" 2 $CAIRN diff "$A" "$A" "$A"
is "diff changes nothing" "$(store_digest)" "$before"
done_testing
