#!/usr/bin/env bash
# tests/e2e/files-query.t — the query language's `reads` and `wrote`
# (docs/cli/ls.md, docs/internals/query.md): reads are the paths of a run's
# input datasets, wrote its artifacts' paths (not cairn's own logs and
# configs) and its output datasets'; a literal without a leading '/'
# matches a whole path or any tail after a '/'; =, !=, ~, !~, like, ilike,
# in and a bare `reads` / `wrote`; the ls column lists the paths; order
# comparisons and parts are refused with one error.  Run on SQLite and on
# PostgreSQL (CAIRN_TEST_PG=1).
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
mkdir -p data/train plots
echo 1 >data/train/a.csv
echo 2 >data/valid.csv
echo m >model.pt
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\10\2\0\0\0\x90wS\xde' >plots/roc.png
echo o >out.bin

a=$("$CAIRN" start -n reader)
ok "a run reads a folder and a file" "$CAIRN" data log data/train --name train --run "$a"
ok "and another file" "$CAIRN" data log data/valid.csv --run "$a"
"$CAIRN" finish "$a" >/dev/null
b=$("$CAIRN" start -n writer)
ok "a run writes a model" "$CAIRN" log artifact model.pt --name ckpt/model.pt --run "$b"
ok "and a plot" "$CAIRN" log image roc plots/roc.png --run "$b"
ok "and an output dataset" "$CAIRN" data log out.bin --role output --run "$b"
"$CAIRN" finish "$b" >/dev/null
c=$("$CAIRN" start -n neither)
ok "a run that logs only its own output" "$CAIRN" log metric loss 1 --run "$c"
"$CAIRN" finish "$c" >/dev/null

q() { "$CAIRN" ls "$1" --format csv --columns name | tail -n +2 | sort | tr '\n' ' '; }
is "reads: runs that read anything" "$(q 'reads')" "reader "
is "not reads" "$(q 'not reads')" "neither writer "
is "wrote: runs that wrote anything" "$(q 'wrote')" "writer "
is "reads ~ a relative glob matches a tail" "$(q 'reads ~ "data/train*"')" "reader "
is "reads = a file name" "$(q 'reads = "valid.csv"')" "reader "
is "reads = a part of a name is no match" "$(q 'reads = "alid.csv"')" ""
is "reads = the absolute path" "$(q "reads = \"$T/data/valid.csv\"")" "reader "
is "an absolute glob must match from the root" "$(q 'reads ~ "/data/*"')" ""
is "reads !~: none of the paths matches" "$(q 'reads !~ "*.csv"')" "neither writer "
is "reads in" "$(q 'reads in ("nothing", "valid.csv")')" "reader "
is "reads not in" "$(q 'reads not in ("valid.csv")')" "neither writer "
is "reads like" "$(q 'reads like "%VALID%"')" ""
is "reads ilike" "$(q 'reads ilike "%VALID%"')" "reader "
is "wrote ~ *.pt" "$(q 'wrote ~ "*.pt"')" "writer "
is "wrote = model.pt (a tail of ckpt/model.pt)" "$(q 'wrote = "model.pt"')" "writer "
is "wrote: images count" "$(q 'wrote ~ "*.png"')" "writer "
is "wrote: output datasets count" "$(q 'wrote = "out.bin"')" "writer "
is "wrote: cairn's own logs do not" "$(q 'wrote ~ "*.log"')" ""
is "reads: output datasets do not" "$(q 'reads = "out.bin"')" ""
is "combined with other fields" "$(q 'reads or metrics.loss = 1')" "neither reader "

is "the ls column lists the paths read" \
	"$("$CAIRN" ls 'name = "reader"' --format csv --columns reads | tail -1)" \
	"\"$T/data/train,$T/data/valid.csv\""

# the issue's own example: what `cairn run` saw a command read and write, with no flags
mkdir -p proj/data && (cd proj && echo 'a,b' >data/train_1.csv && echo 'c' >data/train_2.csv)
(cd proj && "$CAIRN" run -n auto -- sh -c 'cat data/train_1.csv data/train_2.csv >model.pt') >/dev/null 2>&1
is "reads ~ \"data/train*\" finds the run that read them" "$(q 'reads ~ "data/train*"')" "auto reader "
is "wrote ~ \"*.pt\" finds the run that wrote one" "$(q 'wrote ~ "*.pt"')" "auto writer "

fails "an order comparison is refused" 2 "$CAIRN" ls 'reads > "a"'
like "  with what and where" "$(err)" "reads is a set of paths: it has no order .* at character 1"
fails "reads has no parts" 2 "$CAIRN" ls 'reads.path = "a"'
fails "sorting by a set is refused" 2 "$CAIRN" ls --sort reads

done_testing
