#!/usr/bin/env bash
# tests/e2e/s3.t — objects in an S3 bucket, end to end against a real S3
# server (s3rver on loopback, behind the signature gate: tests/e2e/s3lib.sh):
# `cairn init --objects`, a run with a code snapshot and artifacts whose
# objects land in the bucket, checkout and downloads back byte for byte
# from an empty cache, idempotent uploads, purge deleting keys,
# $CAIRN_OBJECTS, the server's proxy and presigned downloads, multipart
# uploads of files over the (lowered) threshold and their aborts on a
# failing part or a bad answer, and the faults: bad URIs, credentials in a URI, wrong key id, wrong secret, a
# bucket that denies writes, no such bucket, an unreachable endpoint; and
# that no credential reaches the store or its logs.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/s3lib.sh"
s3_available || s3_skip_all "s3rver is not installed (scripts/install-deps runs npm ci; or set S3RVER)"
plan 86

export CAIRN_SAMPLE_INTERVAL=60
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git() { command git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main "$@"; }
last() { "$CAIRN" ls --format json | json 'j[0]["id"]'; }
keys() { find "$T/s3/cairn-test/$1" -name '*._S3rver_object' 2>/dev/null | wc -l; }
s3_start
export AWS_SESSION_TOKEN=cairn-e2e-token-41d2

# --- bad URIs, before anything is made ---------------------------------------
mkdir bad
fails 'init --objects with credentials in the URI' 1 "$CAIRN" init --objects 's3://AKIAX:hunter2@cairn-test/p' bad
like '... says why' "$(err)" 'carries credentials'
unlike '... and never repeats the password' "$(err)" 'hunter2'
one_error_line '... in one line'
fails 'a bucket name with capitals' 1 "$CAIRN" init --objects 's3://Cairn_Test/p' bad
like '... is not a bucket name' "$(err)" 'not a bucket name'
fails 'a key prefix with ..' 1 "$CAIRN" init --objects 's3://cairn-test/a/../b' bad
fails 'another scheme' 1 "$CAIRN" init --objects 'gs://cairn-test/p' bad
like '... names what a location is' "$(err)" 'directory or s3://bucket/prefix'
fails 'a relative objects directory' 1 "$CAIRN" init --objects 'rel/objects' bad
fails 'no such bucket' 1 "$CAIRN" init --objects 's3://no-such-bucket/p' bad
like '... says so' "$(err)" "no such bucket 'no-such-bucket'"
AWS_ENDPOINT_URL=http://127.0.0.1:1 fails 'an unreachable endpoint' 1 "$CAIRN" init --objects 's3://cairn-test/p' bad
like '... names it' "$(err)" 'cannot reach the object store at http://127.0.0.1:1'
is '... and no store was made' "$(ls -A bad)" ''

# --- a store with its objects in the bucket ----------------------------------
mkdir proj && cd proj
ok 'cairn init --objects s3://cairn-test/team' "$CAIRN" init --objects s3://cairn-test/team
like '... says where the objects go' "$(out)" 'objects in s3://cairn-test/team'
export CAIRN_DIR=$PWD/.cairn
is 'the setting is saved in the store' "$(sqlite3 .cairn/cairn.db "select value from settings where key = 'objects'")" s3://cairn-test/team

git init -q .
printf 'print("train")\n' > train.py
printf 'lr: 0.1\n' > config.yaml
git add -A && git commit -qm first
printf 'print("train v2")\n' > train.py
printf 'scratch = 1\n' > notes.py
head -c 1500000 /dev/urandom > model.bin
ok 'cairn run with a code snapshot, a config and an artifact' \
	"$CAIRN" run --config config.yaml -- sh -c "\"$CAIRN\" log artifact model.bin && echo trained"
R=$(last)
is '... no object in .cairn/objects' "$(find .cairn/objects -type f | wc -l)" 0
n=$(keys team)
[ "$n" -ge 5 ]; _report $? "... the objects are keys in the bucket ($n)"
ls "$T/s3/cairn-test/team/" | head -1 | grep -qE '^[0-9a-f]{2}$'; _report $? '... laid out as prefix/ab/cdef… like objects/'

rm -rf .cairn/cache
ok 'cairn checkout from an empty cache' "$CAIRN" checkout "$R" "$T/co"
cmp -s train.py "$T/co/train.py" && cmp -s notes.py "$T/co/notes.py" && cmp -s config.yaml "$T/co/config.yaml"
_report $? '... the work tree comes back byte for byte'

# --- idempotent uploads ------------------------------------------------------
before=$(keys team)
ok 'the same bytes logged by another run' "$CAIRN" run -- "$CAIRN" log artifact model.bin
R2=$(last)
is '... add only that run'"'"'s own small objects, not the artifact again' \
	"$(( $(keys team) - before < 5 ))" 1
AWS_ENDPOINT_URL=$S3_DIRECT ok 'a PUT of an existing key is harmless (straight to s3rver)' \
	curl -sf --aws-sigv4 aws:amz:us-east-1:s3 -u S3RVER:x -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
	-T model.bin "$S3_DIRECT/cairn-test/team/$(sha256sum model.bin | cut -c1-2)/$(sha256sum model.bin | cut -c3-64)"

# --- the server: proxy (default) and presigned URLs --------------------------
start_srv() {
	"$CAIRN" server --listen 127.0.0.1:0 --no-auth --quiet "$@" >"$T/srv.out" 2>"$T/srv.err" &
	SRV=$!
	S3_PIDS+=($SRV)
	for _ in $(seq 1 100); do grep -q http "$T/srv.out" 2>/dev/null && break; sleep 0.1; done
	URL=$(grep -o 'http://[^ ]*' "$T/srv.out" | sed 's|/$||')
}
rm -rf .cairn/cache
start_srv
ok 'proxy: the artifact downloads through the server' curl -sf -o "$T/dl.bin" "$URL/api/v1/runs/$R/artifacts/model.bin"
cmp -s model.bin "$T/dl.bin"; _report $? '... byte for byte'
ok '... and a byte range of it' curl -sf -r 100-199 -o "$T/part.bin" "$URL/api/v1/runs/$R/artifacts/model.bin"
is '... the right hundred bytes' "$(cmp -s <(tail -c +101 model.bin | head -c 100) "$T/part.bin"; echo $?)" 0
kill $SRV; wait $SRV 2>/dev/null
start_srv --objects-url presign
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/api/v1/runs/$R/artifacts/model.bin")
like 'presign: the server redirects to the bucket' "$code" "^307 $AWS_ENDPOINT_URL/cairn-test/team/"
ok '... the presigned URL downloads (its signature checked by the gate)' curl -sfL -o "$T/ps.bin" "$URL/api/v1/runs/$R/artifacts/model.bin"
cmp -s model.bin "$T/ps.bin"; _report $? '... byte for byte'
loc=${code#307 }
bad_url=$(echo "$loc" | sed -E 's/(X-Amz-Signature=)[0-9a-f]/\10/; s/(X-Amz-Signature=)0(0)/\11\2/')
[ "$bad_url" != "$loc" ] || bad_url="${loc%?}x"
is '... a tampered presigned URL is refused' "$(curl -s -o /dev/null -w '%{http_code}' "$bad_url")" 403
kill $SRV; wait $SRV 2>/dev/null
fails 'server --objects-url takes proxy or presign' 2 "$CAIRN" server --objects-url nope

# --- multipart uploads (thresholds lowered to S3's least part, 5 MiB) --------
uploads() { ls -A "$T/s3/cairn-test/._S3rver_uploads" 2>/dev/null | wc -l; }
arts() { sqlite3 .cairn/cairn.db "select count(*) from artifacts"; }
export CAIRN_S3_MULTIPART_THRESHOLD=5242880 CAIRN_S3_PART_SIZE=5242880
head -c 12000000 /dev/urandom > big.bin
: > "$GATE_LOG"
ok 'a file over the threshold is logged' "$CAIRN" log --run "$R2" artifact big.bin
is '... in three UploadPart requests (5 MiB, 5 MiB, the rest)' \
	"$(grep -cE '^PUT [^ ]*\?partNumber=[123]&uploadId=[0-9a-f]+ 200$' "$GATE_LOG")" 3
is '... between one CreateMultipartUpload and one CompleteMultipartUpload' \
	"$(grep -cE '^POST [^ ]*\?(uploads=|uploadId=[0-9a-f]+) 200$' "$GATE_LOG")" 2
is '... no single PUT of it' "$(grep -cE '^PUT [^ ?]* ' "$GATE_LOG")" 0
is '... and no upload left open' "$(uploads)" 0
big=$(sha256sum big.bin | cut -c1-64)
cmp -s big.bin "$T/s3/cairn-test/team/${big:0:2}/${big:2}._S3rver_object"
_report $? '... the key holds the bytes, whole, under its SHA-256'
rm -rf .cairn/cache
start_srv
ok '... downloads through the server from an empty cache' curl -sf -o "$T/big.dl" "$URL/api/v1/runs/$R2/artifacts/big.bin"
cmp -s big.bin "$T/big.dl"; _report $? '... byte for byte'
kill $SRV; wait $SRV 2>/dev/null
: > "$GATE_LOG"
ok 'the same bytes logged again' "$CAIRN" log --run "$R2" artifact big.bin
is '... upload nothing (a HEAD finds the key)' "$(grep -cE '^(PUT|POST) ' "$GATE_LOG")" 0

head -c 12000000 /dev/urandom > big2.bin
n=$(keys team) a=$(arts)
s3_gate --fail-part 2
AWS_ENDPOINT_URL=$GATE_URL fails 'a part the service keeps failing' 1 "$CAIRN" log --run "$R2" artifact big2.bin
like '... says which part and why' "$(err)" 'cannot upload part 2 of 3 of object [0-9a-f]{12}…: .*HTTP 500 InternalError'
like '... and that the upload was aborted' "$(err)" 'the upload was aborted'
one_error_line '... in one line'
is '... part 1 was sent, part 2 tried three times, part 3 never' \
	"$(grep -cE '^PUT [^ ]*partNumber=1&' "$GATE_LOG") $(grep -cE '^PUT [^ ]*partNumber=2&' "$GATE_LOG") $(grep -cE '^PUT [^ ]*partNumber=3&' "$GATE_LOG")" '1 3 0'
is '... AbortMultipartUpload was sent and done' "$(grep -cE '^DELETE [^ ]*\?uploadId=[0-9a-f]+ 204$' "$GATE_LOG")" 1
is '... no upload or part left behind' "$(uploads)" 0
is '... no key, and no artifact recorded' "$(keys team) $(arts)" "$n $a"
s3_gate --bad-answer create
AWS_ENDPOINT_URL=$GATE_URL fails 'an UploadId that cannot be used as it is' 1 "$CAIRN" log --run "$R2" artifact big2.bin
like '... is an answer that is not one' "$(err)" 'gave an answer to CreateMultipartUpload that is not one'
is '... no part was sent' "$(grep -c '^PUT ' "$GATE_LOG")" 0
s3_gate --bad-answer complete
AWS_ENDPOINT_URL=$GATE_URL fails 'a CompleteMultipartUpload answered 200 with an <Error>' 1 "$CAIRN" log --run "$R2" artifact big2.bin
like '... is the error, and the upload aborted' "$(err)" 'CompleteMultipartUpload failed: InternalError: We encountered an internal error. \(the upload was aborted\)'
is '... all three parts were sent, then the abort' \
	"$(grep -cE '^PUT [^ ]*partNumber=' "$GATE_LOG") $(grep -cE '^DELETE [^ ]*\?uploadId=[0-9a-f]+ 204$' "$GATE_LOG")" '3 1'
is '... no upload left, no key, no artifact' "$(uploads) $(keys team) $(arts)" "0 $n $a"
CAIRN_S3_PART_SIZE=1000 fails 'a part size under 5 MiB' 1 "$CAIRN" log --run "$R2" artifact big2.bin
like '... names the knob and its bounds' "$(err)" "CAIRN_S3_PART_SIZE='1000' is not a size in bytes from 5242880 to 5368709120"
CAIRN_S3_MULTIPART_THRESHOLD=64M fails 'a threshold that is not bytes' 1 "$CAIRN" log --run "$R2" artifact big2.bin
ok '... and logged once the service is well' "$CAIRN" log --run "$R2" artifact big2.bin
is '... its key there, no upload left' "$(( $(keys team) - n )) $(uploads)" '1 0'
unset CAIRN_S3_MULTIPART_THRESHOLD CAIRN_S3_PART_SIZE

# --- faults on a working store -----------------------------------------------
printf 'more\n' > more.txt
AWS_SECRET_ACCESS_KEY=wrong-secret fails 'a wrong secret' 1 "$CAIRN" log --run "$R" artifact more.txt
like '... is SignatureDoesNotMatch' "$(err)" 'SignatureDoesNotMatch'
AWS_ACCESS_KEY_ID=AKIANOBODY fails 'an unknown key id' 1 "$CAIRN" log --run "$R" artifact more.txt
like '... is InvalidAccessKeyId' "$(err)" "InvalidAccessKeyId"
one_error_line '... in one line'
s3_gate --deny-writes
AWS_ENDPOINT_URL=$GATE_URL fails 'a bucket that denies writes' 1 "$CAIRN" log --run "$R" artifact more.txt
like '... says it denies writing' "$(err)" 'denies .* to write objects to it \(AccessDenied'
rm -rf .cairn/cache
AWS_ENDPOINT_URL=$GATE_URL ok '... while reading still works' "$CAIRN" checkout "$R" "$T/co2"
CAIRN_OBJECTS=s3://no-such-bucket/x fails 'no such bucket' 1 "$CAIRN" log --run "$R" artifact more.txt
like '... says so' "$(err)" "no such bucket 'no-such-bucket'"
AWS_ENDPOINT_URL=http://127.0.0.1:1 fails 'an unreachable endpoint' 1 "$CAIRN" log --run "$R" artifact more.txt
unset AWS_ACCESS_KEY_ID; HOME=$T/nohome fails 'no credentials at all' 1 "$CAIRN" log --run "$R" artifact more.txt
export AWS_ACCESS_KEY_ID=S3RVER
like '... says where they come from' "$(err)" 'AWS_ACCESS_KEY_ID'

# --- a profile file, $CAIRN_OBJECTS, purge -----------------------------------
mkdir -p "$HOME/.aws"
printf '[ci]\naws_access_key_id = S3RVER\naws_secret_access_key = %s\n' "$S3_SECRET" >"$HOME/.aws/credentials"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
AWS_PROFILE=ci ok 'credentials from a profile of ~/.aws/credentials' "$CAIRN" log --run "$R" artifact more.txt
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_SESSION_TOKEN=cairn-e2e-token-41d2
CAIRN_OBJECTS=s3://cairn-test/env ok '$CAIRN_OBJECTS overrides the setting' "$CAIRN" log --run "$R2" artifact notes.py
is '... the object is under its prefix' "$(keys env)" 1
n=$(keys team)
ok 'cairn rm --purge of the first run' "$CAIRN" rm --purge "$R"
[ "$(keys team)" -lt "$n" ]; _report $? "... deletes the keys only it used ($n -> $(keys team))"

# --- no credential anywhere in the store -------------------------------------
hits=$(grep -rlaE "$S3_SECRET|cairn-e2e-token|wrong-secret" "$CAIRN_DIR" "$T/s3" 2>/dev/null | grep -v '/cache/' | wc -l)
is 'no secret or token in cairn.db, its WAL, its logs or the bucket' "$hits" 0
is '... nor in the store'"'"'s settings' "$(sqlite3 .cairn/cairn.db 'select count(*) from settings where value like "%@%"')" 0
done_testing
