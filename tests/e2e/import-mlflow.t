#!/usr/bin/env bash
# tests/e2e/import-mlflow.t — `cairn import mlflow PATH`: an mlruns/ tree
# written here in MLflow's FileStore layout (meta.yaml files with the fields
# MLflow writes, metrics/KEY lines "timestamp value step", params/KEY,
# tags/KEY, artifacts/, a nested metric key, a deleted run, two
# experiments) is imported and every param, metric point, tag, status,
# time, artifact and id is checked in the store (through cairn show --json
# and the HTTP API of cairn ui, MLflow's routes included).  A second import
# changes nothing; new runs, points, params and artifacts are added by a
# third; every bad input is one error naming the file (and line) and leaves
# the store as it was.  With CAIRN_TEST_PG=1 the store is PostgreSQL.
. "$(dirname "$0")/lib.sh"

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "$_pg_own" ] && "$ROOT/scripts/pg-cluster" stop "$_pg_own"
	rm -rf "$T"
}
trap cleanup EXIT

ML=$T/mlruns
mkexp() { # ID NAME
	mkdir -p "$ML/$1"
	cat >"$ML/$1/meta.yaml" <<EOF
artifact_location: file://$ML/$1
creation_time: 1700000000000
experiment_id: '$1'
last_update_time: 1700000000000
lifecycle_stage: active
name: $2
EOF
}
# mkrun EXP RUN_ID NAME STATUS START END STAGE
mkrun() {
	local d=$ML/$1/$2
	mkdir -p "$d/metrics" "$d/params" "$d/tags" "$d/artifacts"
	cat >"$d/meta.yaml" <<EOF
artifact_uri: file://$d/artifacts
end_time: $6
entry_point_name: ''
experiment_id: '$1'
lifecycle_stage: $7
run_id: $2
run_name: $3
run_uuid: $2
source_name: ''
source_type: 4
source_version: ''
start_time: $5
status: $4
tags: []
user_id: alice
EOF
	printf '%s' "$3" >"$d/tags/mlflow.runName"
	printf alice >"$d/tags/mlflow.user"
	printf LOCAL >"$d/tags/mlflow.source.type"
}

mkexp 0 Default
mkexp 1 vision
mkdir -p "$ML/1/tags" && printf 'cv' >"$ML/1/tags/area"
mkdir -p "$ML/.trash/7" && printf 'experiment_id: "7"\nname: gone\nlifecycle_stage: deleted\n' >"$ML/.trash/7/meta.yaml"
mkdir -p "$ML/models" # the model registry's folder: not an experiment

R1=0a1b2c3d4e5f60718293a4b5c6d7e8f9 # finished, everything
R2=ffeeddccbbaa99887766554433221100 # deleted, in Default
R3=1234567890abcdef1234567890abcdef # running, then finished
mkrun 1 $R1 bright-fox-42 3 1700000000000 1700000060000 active
D1=$ML/1/$R1
printf 0.01 >"$D1/params/lr"
printf 32 >"$D1/params/batch_size"
printf adam >"$D1/params/optimizer"
printf 1e-3 >"$D1/params/wd"
printf True >"$D1/params/shuffle"
printf vision >"$D1/tags/team"
printf 'first try' >"$D1/tags/mlflow.note.content"
printf 3fa2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4 >"$D1/tags/mlflow.source.git.commit"
printf main >"$D1/tags/mlflow.source.git.branch"
printf '1700000001000 0.9 0\n1700000002000 0.5 1\n1700000003000 nan 2\n1700000004000 -inf 3\n' >"$D1/metrics/loss"
mkdir -p "$D1/metrics/train"
printf '1700000001500 0.75 0\n1700000002500 0.8125 10\n' >"$D1/metrics/train/acc"
echo 'hello from mlflow' >"$D1/artifacts/notes.txt"
mkdir -p "$D1/artifacts/model/data"
head -c 5000 /dev/urandom >"$D1/artifacts/model/data/weights.bin"
printf 'flavors: {}\n' >"$D1/artifacts/model/MLmodel"

mkrun 0 $R2 old-run FAILED 1690000000000 1690000005000 deleted
printf '1690000001000 1.5 0\n' >"$ML/0/$R2/metrics/loss"
printf 7 >"$ML/0/$R2/params/seed"

mkrun 1 $R3 live-run 1 1700000100000 null active
D3=$ML/1/$R3
printf '1700000101000 2.0 0\n' >"$D3/metrics/loss"
rm -rf "$D3/artifacts"
# moved from another machine: artifact_uri names a path that is not here
sed -i "s|^artifact_uri: .*|artifact_uri: file:///elsewhere/mlruns/1/$R3/artifacts|" "$D3/meta.yaml"

# show RUN EXPR: a Python expression over `cairn show RUN --json`
show() { "$CAIRN" show "$1" --json | json "$2"; }
# showd RUN EXPR: the same for a deleted run (cairn ls --all; no artifacts)
showd() { "$CAIRN" ls --all --json "id = $1" | json "(lambda j: $2)(j[0])"; }
npoints() { store_sql "SELECT count(*) FROM metric_points" 2>/dev/null || echo '?'; }
nruns() { "$CAIRN" ls --all --json | json 'len(j)'; }

# --- usage -------------------------------------------------------------------------------
fails "no source is a usage error" 2 "$CAIRN" import
fails "an unknown source is a usage error" 2 "$CAIRN" import wandb "$ML"
fails "no path is a usage error" 2 "$CAIRN" import mlflow
ok "-h shows the usage" "$CAIRN" import -h
like "... which names the source" "$(out)" 'cairn import mlflow PATH'

# --- a dry run writes nothing --------------------------------------------------------------
"$CAIRN" ls >/dev/null # the store made, so the digest below is of it
d0=$(store_digest)
ok "--dry-run checks the tree" "$CAIRN" import mlflow "$ML" --dry-run
like "... says what it would import" "$(out)" '3 runs to add, 0 to extend, 0 unchanged'
like "... counts params, tags, points, artifacts" "$(out)" '6 params, 7 tags, 8 metric points, 3 artifacts'
like "... mentions the trashed experiment" "$(out)" '1 deleted experiments in .trash/ left out'
like "... and the projects it would make" "$(out)" '2 projects to make or update'
is "... and changes nothing" "$(store_digest)" "$d0"

# --- the first import ----------------------------------------------------------------------
ok "import mlflow" "$CAIRN" import mlflow "$ML"
like "... adds the three runs" "$(out)" '3 runs added, 0 extended, 0 unchanged'
like "... with every point" "$(out)" '6 params, 7 tags, 8 metric points, 3 artifacts'
is "three runs in the store" "$(nruns)" 3
ID1=$("$CAIRN" ls --json 'properties.`mlflow.run_id` = "'$R1'"' | json 'j[0]["id"]')
ID2=$("$CAIRN" ls --all --json 'properties.`mlflow.run_id` = "'$R2'"' | json 'j[0]["id"]')
ID3=$("$CAIRN" ls --json 'properties.`mlflow.run_id` = "'$R3'"' | json 'j[0]["id"]')
like "the runs are found by mlflow.run_id" "$ID1 $ID2 $ID3" '^[0-9a-f]{32} [0-9a-f]{32} [0-9a-f]{32}$'

is "experiment name -> project" "$(show $ID1 'j["project"]')" vision
is "Default -> the project default" "$(showd $ID2 'j["project"]')" default
is "run_name -> name" "$(show $ID1 'j["name"]')" bright-fox-42
is "user_id -> user" "$(show $ID1 'j["user"]')" alice
is "status 3 -> finished" "$(show $ID1 'j["status"]')" finished
is "status FAILED -> failed" "$(showd $ID2 'j["status"]')" failed
is "status 1 -> running" "$(show $ID3 'j["status"]')" running
is "start_time in ms, kept" "$(show $ID1 'j["start_time"]')" 1700000000
is "end_time in ms, kept" "$(show $ID1 'j["end_time"]')" 1700000060
is "a running run has no end" "$(show $ID3 'j["end_time"]')" None
is "lifecycle deleted -> a deleted run" "$(showd $ID2 'j["deleted"]')" True
is "an active run is not deleted" "$(show $ID1 'j["deleted"]')" False
is "ls hides the deleted run" "$("$CAIRN" ls --json | json 'len(j)')" 2
is "original ids as properties" "$(show $ID1 'j["properties"]')" \
	'{"mlflow.experiment_id": "1", "mlflow.run_id": "'$R1'"}'
is "... of the Default experiment too" "$(showd $ID2 'j["properties"]["mlflow.experiment_id"]')" 0
is "params typed as MLflow's API types them" "$(show $ID1 'j["params"]')" \
	'{"batch_size": 32, "lr": 0.01, "optimizer": "adam", "shuffle": "True", "wd": "1e-3"}'
is "the deleted run's param" "$(showd $ID2 'j["params"]')" '{"seed": 7}'
is "key/value tags (system tags are fields)" "$(show $ID1 'j["tags"]')" \
	'["mlflow.source.type=LOCAL", "team=vision"]'
is "mlflow.note.content -> note" "$(show $ID1 'j["note"]')" 'first try'
is "mlflow.source.git.commit -> commit" "$(show $ID1 'j["code"]["commit"]')" 3fa2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4
is "mlflow.source.git.branch -> branch" "$(show $ID1 'j["code"]["branch"]')" main
is "metric counts" "$(show $ID1 '{k: v["count"] for k, v in j["metrics"].items()}')" \
	'{"loss": 4, "train/acc": 2}'
is "the last loss is -inf" "$(show $ID1 'j["metrics"]["loss"]["last"]')" -Infinity
is "every point in the store" "$(npoints)" 8
is "artifacts with their relative paths" "$(show $ID1 '[a["path"] + ":" + str(a["size"]) for a in j["artifacts"]]')" \
	'["model/MLmodel:12", "model/data/weights.bin:5000", "notes.txt:18"]'
is "a run without artifacts/ has none" "$(show $ID3 'len(j["artifacts"])')" 0

# every point and the artifacts' bytes through the HTTP API
"$CAIRN" ui --listen 127.0.0.1:0 --quiet >"$T/srv.out" 2>"$T/srv.err" &
SRV=$!
PIDS+=($SRV)
for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
hist() { curl -s "$URL/api/v1/runs/$1/metrics/$2?raw=1" | json 'j["points"]'; }
is "loss: every point (step, time, value)" "$(hist $ID1 loss)" \
	'[[0, 1700000001, 0.9], [1, 1700000002, 0.5], [2, 1700000003, "NaN"], [3, 1700000004, "-Infinity"]]'
is "the nested key train/acc, ms kept" "$(hist $ID1 train/acc)" \
	'[[0, 1700000001.5, 0.75], [10, 1700000002.5, 0.8125]]'
for f in notes.txt model/data/weights.bin model/MLmodel; do
	curl -s -o "$T/dl" "$URL/api/v1/runs/$ID1/artifacts/$f"
	ok "artifact $f: the same bytes" cmp "$T/dl" "$D1/artifacts/$f"
done
# and as MLflow's API shows it: the run looks like one logged through it
curl -s "$URL/api/2.0/mlflow/runs/get?run_id=$ID1" >"$T/mlrun.json"
is "MLflow's runs/get: name, user, status, times" \
	"$(json '[j["run"]["info"][k] for k in ("run_name", "user_id", "status", "start_time", "end_time")]' <"$T/mlrun.json")" \
	'["bright-fox-42", "alice", "FINISHED", 1700000000000, 1700000060000]'
is "MLflow's runs/get: params as strings, as they were" \
	"$(json '{p["key"]: p["value"] for p in j["run"]["data"]["params"]}' <"$T/mlrun.json")" \
	'{"batch_size": "32", "lr": "0.01", "optimizer": "adam", "shuffle": "True", "wd": "1e-3"}'
is "MLflow's runs/get: the tags read back" \
	"$(json '{t["key"]: t["value"] for t in j["run"]["data"]["tags"] if t["key"] in ("team", "mlflow.runName", "mlflow.user", "mlflow.source.git.commit", "mlflow.note.content")}' <"$T/mlrun.json")" \
	'{"mlflow.note.content": "first try", "mlflow.runName": "bright-fox-42", "mlflow.source.git.commit": "3fa2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4", "mlflow.user": "alice", "team": "vision"}'
curl -s "$URL/api/2.0/mlflow/metrics/get-history?run_id=$ID1&metric_key=loss" >"$T/mlh.json"
is "MLflow's get-history: timestamps in ms as logged" \
	"$(json '[(m["timestamp"], m["step"]) for m in j["metrics"]]' <"$T/mlh.json")" \
	'[[1700000001000, 0], [1700000002000, 1], [1700000003000, 2], [1700000004000, 3]]'
kill -TERM $SRV
wait $SRV
is "cairn ui stops cleanly" "$?" 0
is "... with no sanitizer report" "$(grep -ci sanitizer "$T/srv.err")" 0
is "project tags from the experiment's tags" \
	"$(store_sql "SELECT value FROM project_tags WHERE key = 'area'" 2>/dev/null)" cv

# --- the second import adds nothing ----------------------------------------------------------
d1=$(store_digest)
ok "a second import" "$CAIRN" import mlflow "$ML"
like "... finds nothing new" "$(out)" '0 runs added, 0 extended, 3 unchanged'
unlike "... no project to update" "$(out)" 'projects made'

like "... and counts nothing" "$(out)" '0 params, 0 tags, 0 metric points, 0 artifacts'
is "... and leaves the store exactly as it was" "$(store_digest)" "$d1"
is "... the same runs" "$(nruns)" 3
is "... the same points" "$(npoints)" 8

# --- what is new since is added, only that -----------------------------------------------------
printf '1700000005000 0.25 4\n1700000006000 0.125 5\n' >>"$D1/metrics/loss"
printf '1700000102000 1.0 1\n' >>"$D3/metrics/loss"
printf 10 >"$D1/params/epochs"
echo 'a new plot' >"$D1/artifacts/plot.svg"
printf 'vision-2' >"$D1/tags/team"
sed -i 's/^status: 1$/status: 3/; s/^end_time: null$/end_time: 1700000200000/' "$D3/meta.yaml"
R4=abcdefabcdefabcdefabcdefabcdef01
mkrun 1 $R4 new-run KILLED 1700000300000 1700000310000 active
printf '1700000301000 3 0\n1700000302000 4 1\n1700000303000 5 2\n' >"$ML/1/$R4/metrics/loss"
printf 0.1 >"$ML/1/$R4/params/lr"
ok "a third import" "$CAIRN" import mlflow "$ML" --progress
like "... adds the new run and extends two" "$(out)" '1 runs added, 2 extended, 1 unchanged'
like "... with only what is new" "$(out)" '2 params, 2 tags, 6 metric points, 1 artifacts'
like "--progress shows the progress line" "$(err)" 'runs \[#+\] 3/3'
is "four runs" "$(nruns)" 4
is "every point once" "$(npoints)" 14
is "loss has its two new points" "$(show $ID1 'j["metrics"]["loss"]["count"]')" 6
is "the new param" "$(show $ID1 'j["params"]["epochs"]')" 10
is "the changed tag" "$(show $ID1 '[t for t in j["tags"] if t.startswith("team")]')" '["team=vision-2"]'
is "the new artifact" "$(show $ID1 'len(j["artifacts"])')" 4
is "the running run has finished" "$(show $ID3 '[j["status"], j["end_time"]]')" '["finished", 1700000200]'
ID4=$("$CAIRN" ls --json 'properties.`mlflow.run_id` = "'$R4'"' | json 'j[0]["id"]')
is "the new run: KILLED -> killed, its points" "$(show $ID4 '[j["status"], j["metrics"]["loss"]["count"], j["params"]["lr"]]')" \
	'["killed", 3, 0.1]'
is "the deleted run is still deleted" "$(showd $ID2 'j["deleted"]')" True
d2=$(store_digest)
ok "and again" "$CAIRN" import mlflow "$ML" -q
is "... quiet: prints nothing" "$(out)" ''
is "... and changes nothing" "$(store_digest)" "$d2"

# --- bad input: one error naming the file and line; nothing written ---------------------------
# Each case adds a good new run (R5, read first) beside the bad one, so
# only a tree checked whole before any write leaves the store as it was.
R5=00000000000000000000000000000005
R6=ffffffffffffffffffffffffffffff06
bad_case() { # DESC REGEX: run the import, which must fail and change nothing
	local before; before=$(store_digest)
	fails "$1: exit 1" 1 "$CAIRN" import mlflow "$ML"
	one_error_line "$1: one error line"
	like "$1: says what and where" "$(err)" "$2"
	is "$1: the store is unchanged" "$(store_digest)" "$before"
}
mkrun 1 $R5 good-run 3 1700000400000 1700000410000 active
printf '1700000401000 1 0\n' >"$ML/1/$R5/metrics/loss"
mkrun 1 $R6 bad-run 3 1700000500000 1700000510000 active
B=$ML/1/$R6

printf '1700000501000 0.5 0\n1700000502000 0.4 1\n1700000503000\n' >"$B/metrics/loss"
bad_case "a metric line without a value" "metrics/loss:3: expected 'timestamp value step'"
printf '1700000501000 0.5 0\n1700000502000 abc 1\n' >"$B/metrics/loss"
bad_case "a value that is not a number" "metrics/loss:2: value 'abc' is not a number"
printf '1700000501000 0.5 x\n' >"$B/metrics/loss"
bad_case "a step that is not an integer" "metrics/loss:1: step 'x' is not an integer"
printf '1700000501000 0.5 -1\n' >"$B/metrics/loss"
bad_case "a negative step" "metrics/loss:1: step -1 is negative"
{ printf '1700000501000 0.5 0\n'; printf '1700000502000 0.%0300d 1\n' 1; } >"$B/metrics/loss"
bad_case "an over-long line" "metrics/loss:2: line longer than 256 bytes"
printf '1700000501000 0.5 0\n' >"$B/metrics/loss"
cp "$B/meta.yaml" "$T/meta.good"
printf 'run_id: %s\nstatus: [3\n' $R6 >"$B/meta.yaml"
bad_case "a malformed meta.yaml" "$R6/meta.yaml:[0-9]+: "
sed 's/^status: 3$/status: DONE/' "$T/meta.good" >"$B/meta.yaml"
bad_case "a status that is not MLflow's" "$R6/meta.yaml: status 'DONE' is not one of MLflow's"
sed 's/^start_time: .*/start_time: yesterday/' "$T/meta.good" >"$B/meta.yaml"
bad_case "a time that is not ms" "$R6/meta.yaml: start_time is not a time"
sed "s/^run_id: .*/run_id: other/" "$T/meta.good" >"$B/meta.yaml"
bad_case "a run_id that is not its directory" "run_id 'other' is not the directory's name"
cp "$T/meta.good" "$B/meta.yaml"
head -c 9000 /dev/zero | tr '\0' x >"$B/params/big"
bad_case "an over-long param" "$R6/params/big: longer than 8000 bytes"
rm "$B/params/big"
printf 0.02 >"$ML/1/$R1/params/lr"
bad_case "a param changed since it was imported" "params/lr: the run imported before .* has the value '0.01', this one '0.02'"
printf 0.01 >"$ML/1/$R1/params/lr"
printf x >"$B/tags/has space"
bad_case "a tag key cairn cannot hold" "tags/has space: tag 'has space' contains a space"
rm "$B/tags/has space"
mkdir -p "$ML/0/$R6" && cp -r "$B/." "$ML/0/$R6/" && sed -i "s/^experiment_id: .*/experiment_id: '0'/" "$ML/0/$R6/meta.yaml"
bad_case "a run id in two experiments" "$R6: the run id is also .*$R6's"
rm -rf "$ML/0/$R6"
sed -i 's|^name: vision$|name: /Users/ada/vision|' "$ML/1/meta.yaml"
bad_case "an experiment name that cannot be a project's" "1/meta.yaml: the experiment's name cannot be a project's: .*--project NAME"
sed -i 's|^name: /Users/ada/vision$|name: vision|' "$ML/1/meta.yaml"
mkdir -p "$T/notml/sub"
fails "a directory that is not an mlruns/" 1 "$CAIRN" import mlflow "$T/notml"
like "... says so" "$(err)" "not an MLflow file store"
fails "a file" 1 "$CAIRN" import mlflow "$ML/1/meta.yaml"
like "... says so" "$(err)" "not a directory"
fails "a path that does not exist" 1 "$CAIRN" import mlflow "$T/nope"
like "... says so" "$(err)" "nope: No such file"

# fixed, the two runs go in
ok "the fixed tree imports" "$CAIRN" import mlflow "$ML"
like "... the two new runs" "$(out)" '2 runs added, 0 extended'

# --- --project: every run into one project --------------------------------------------------------
ok "--dry-run --project: the runs are found by id, wherever they are" "$CAIRN" import mlflow "$ML" --project elsewhere --dry-run
like "... nothing new" "$(out)" '0 runs to add, 0 to extend, 6 unchanged'
mkdir -p "$T/p2" && "$CAIRN" init "$T/p2" >/dev/null
ok "--project into another store" "$CAIRN" --store "$T/p2/.cairn" import mlflow "$ML" --project all
like "... every run" "$(out)" '6 runs added'
is "... in the one project" "$("$CAIRN" --store "$T/p2/.cairn" ls --all --json | json 'sorted(set(r["project"] for r in j))')" '["all"]'
is "... the experiment's id still kept" "$("$CAIRN" --store "$T/p2/.cairn" ls --all --json 'properties.`mlflow.run_id` = "'$R2'"' | json 'j[0]["properties"]["mlflow.experiment_id"]')" 0

# --- a cairn server's store (the remote backend) ----------------------------------------------
mkdir -p "$T/srv" && "$CAIRN" init "$T/srv" >/dev/null
CAIRN_DIR=$T/srv/.cairn "$CAIRN" server --listen 127.0.0.1:0 --no-auth >"$T/srv2.out" 2>"$T/srv2.err" &
SRV=$!
PIDS+=($SRV)
for _ in $(seq 1 100); do grep -q http "$T/srv2.out" 2>/dev/null && break; sleep 0.1; done
RURL=$(grep -o 'http://[^ ]*' "$T/srv2.out" | sed 's|/$||')
ok "import into a server's store (--store URL)" "$CAIRN" --store "$RURL" import mlflow "$ML"
like "... every run" "$(out)" '6 runs added, 0 extended, 0 unchanged'
like "... says what a remote store cannot take" "$(err)" 'warning: .*experiment tags .* not imported'
ok "... and again" "$CAIRN" --store "$RURL" import mlflow "$ML"
like "... adds nothing" "$(out)" '0 runs added, 0 extended, 6 unchanged'
RID1=$("$CAIRN" --store "$RURL" ls --json 'properties.`mlflow.run_id` = "'$R1'"' | json 'j[0]["id"]')
is "... the run's fields, as on a local store" \
	"$("$CAIRN" --store "$RURL" show "$RID1" --json | json '[j["name"], j["user"], j["status"], j["code"]["commit"], j["note"], j["metrics"]["loss"]["count"], len(j["artifacts"])]')" \
	'["bright-fox-42", "alice", "finished", "3fa2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4", "first try", 6, 4]'
kill -TERM $SRV
wait $SRV
is "the server stops cleanly" "$?" 0
is "... with no sanitizer report" "$(grep -ci sanitizer "$T/srv2.err")" 0

done_testing
