#!/usr/bin/env bash
# tests/e2e/ls-layout.t — the `cairn ls` table people read: golden outputs at
# 80, 120 and 200 columns (ID and NAME whole, whole columns left out by
# priority before anything is cut, metrics before params under one group
# line, sys/ metrics out of the defaults, stderr saying what was hidden),
# the same on a terminal as through $COLUMNS, cells whole in a pipe and cut
# only on a terminal, and old tags with commas or spaces shown quoted.
#
# The store is fixed: names, params, metrics, and times set in the store;
# ids are shown masked as their run's sequence number.  To rewrite the
# goldens after an intended change: CAIRN_GOLDEN_UPDATE=1 prove tests/e2e/ls-layout.t
. "$(dirname "$0")/lib.sh"
export TZ=UTC
GOLDEN=$ROOT/tests/e2e/golden

mk() { # mk NAME STATUS PARAMS... -- METRICS... (tag=T)
	local n=$1 st=$2; shift 2
	local args=() id
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--param "$1"); shift; done
	[ "${1:-}" = -- ] && shift
	id=$($CAIRN start -p vision -n "$n" "${args[@]}") || return 1
	while [ $# -gt 0 ]; do
		case $1 in
		tag=*) $CAIRN tag "$id" "${1#tag=}" ;;
		*) $CAIRN log metric "${1%%=*}" "${1#*=}" --run "$id" ;;
		esac
		shift
	done
	$CAIRN finish "$id" --status "$st" >/dev/null
	echo "$id"
}
mk resnet18-baseline finished model=resnet18 optimizer=sgd learning_rate=0.1 batch_size=128 weight_decay=0.0005 epochs=30 seed=7 \
	-- valid_acc=0.9112 valid_loss=0.3121 train_loss=0.2011 f1=0.9034 sys/cpu=87.5 sys/rss=2.1e9 tag=baseline >/dev/null
mk resnet18-adam finished model=resnet18 optimizer=adam learning_rate=0.001 batch_size=128 weight_decay=0.0005 epochs=30 seed=7 \
	-- valid_acc=0.9254 valid_loss=0.2744 train_loss=0.1502 f1=0.9188 sys/cpu=91.25 sys/rss=2.2e9 >/dev/null
mk resnet50-adam finished model=resnet50 optimizer=adam learning_rate=0.001 batch_size=64 weight_decay=0.0001 epochs=40 seed=7 \
	-- valid_acc=0.9431 valid_loss=0.2207 train_loss=0.0934 f1=0.9377 sys/cpu=95.0 sys/rss=4.8e9 tag=tuned >/dev/null
mk vit-small-warmup failed model=vit_small optimizer=adamw learning_rate=0.0003 batch_size=256 weight_decay=0.05 epochs=40 seed=7 \
	-- valid_acc=0.5012 valid_loss=1.9342 train_loss=1.7204 sys/cpu=99.5 sys/rss=6.4e9 >/dev/null
mk vit-small-long finished model=vit_small optimizer=adamw learning_rate=0.0003 batch_size=256 weight_decay=0.05 epochs=100 seed=7 \
	-- valid_acc=0.9502 valid_loss=0.1988 train_loss=0.0521 f1=0.9467 sys/cpu=98.75 sys/rss=6.5e9 tag=tuned tag=long >/dev/null
mk mobilenet-v3 finished model=mobilenet_v3 optimizer=sgd learning_rate=0.05 batch_size=128 weight_decay=0.00004 epochs=60 seed=7 \
	-- valid_acc=0.8967 valid_loss=0.3598 train_loss=0.2466 f1=0.8874 sys/cpu=64.0 sys/rss=1.2e9 tag=mobile >/dev/null
# fixed times: the runs start a day apart from 2026-03-01 09:00 UTC and take 25m + seq*7m
store_sql "UPDATE runs SET start_time = 1772355600 + (seq - 1) * 86400, end_time = 1772355600 + (seq - 1) * 86400 + 1500 + seq * 420, heartbeat = 1772355600 + (seq - 1) * 86400 + 1500 + seq * 420" >/dev/null
# ids masked: a run's id shows as its sequence number, 8 digits like the id's prefix
MASK=$(store_sql "SELECT substr(id, 1, 8) || '|' || seq FROM runs ORDER BY seq" | while IFS='|' read -r p n; do printf 's/%s/%08d/g;' "$p" "$n"; done)
mask() { sed "$MASK"; }

# golden NAME ARGS...: `cairn ls ARGS` (stdout, then stderr) against golden/NAME.txt
golden() {
	local name=$1; shift
	env "$@" >"$T/g.out" 2>"$T/g.err"
	{ cat "$T/g.out"; echo "-- stderr"; cat "$T/g.err"; } | mask >"$T/g.txt"
	if [ "${CAIRN_GOLDEN_UPDATE:-}" = 1 ]; then cp "$T/g.txt" "$GOLDEN/$name.txt"; fi
	local d; d=$(diff -u "$GOLDEN/$name.txt" "$T/g.txt")
	is "golden $name" "$d" ""
	# the streamed listing (more runs than are kept) prints the same
	env CAIRN_LS_KEEP=1 "$@" >"$T/s.out" 2>"$T/s.err"
	{ cat "$T/s.out"; echo "-- stderr"; cat "$T/s.err"; } | mask >"$T/s.txt"
	d=$(diff -u "$GOLDEN/$name.txt" "$T/s.txt")
	is "golden $name, streamed" "$d" ""
}
# widest W FILE: no line of FILE is wider than W terminal columns
widest() {
	local w; w=$(python3 -c 'import sys, unicodedata as u; print(max([sum(2 if u.east_asian_width(c) in "WF" else 1 for c in l.rstrip("\n")) for l in open(sys.argv[1])] or [0]))' "$2")
	[ "$w" -le "$1" ]; _report $? "no line wider than $1 columns ($w)"
}
# the output of a command on a terminal (script gives it a pty), \r\n back to \n
on_tty() { script -qc "$*" /dev/null | sed 's/\r$//'; }

for w in 80 120 200; do
	golden "ls-$w" COLUMNS=$w "$CAIRN" ls
	widest $w "$T/g.out"
done
golden ls-sort-80 COLUMNS=80 "$CAIRN" ls --sort -valid_acc
golden ls-sort-120 COLUMNS=120 "$CAIRN" ls --sort -valid_acc
golden ls-plus-120 COLUMNS=120 "$CAIRN" ls --sort valid_loss --columns +sys/cpu,params.seed -p vision 'valid_loss < 1'

# a terminal of the same width shows the same table and note
COLUMNS=120 "$CAIRN" ls >"$T/p.out" 2>"$T/p.err"
on_tty "COLUMNS=120 $CAIRN ls" >"$T/tty.out"
is "on a terminal of 120 columns: the same" "$(cat "$T/tty.out")" "$(cat "$T/p.out" "$T/p.err")"
stty_out=$(on_tty "stty cols 80 rows 30; unset COLUMNS; $CAIRN ls")
is "the width comes from the terminal without \$COLUMNS" "$(echo "$stty_out" | mask)" "$(sed '/^-- stderr$/d' "$GOLDEN/ls-80.txt")"

# what the defaults leave out stays reachable
ok "sys/ metrics are not default columns" env COLUMNS=400 "$CAIRN" ls
unlike "no sys/cpu" "$(out)" "sys/"
ok "a sort key shows one" env COLUMNS=400 "$CAIRN" ls --sort -sys/cpu
like "sys/cpu first among the metrics" "$(out | sed -n 2p)" "STATUS +sys/cpu +f1 "
ok "--columns names one" env COLUMNS=400 "$CAIRN" ls --columns name,metrics.sys/rss
is "as asked" "$(out | sed -n 2p | tr -s ' ')" "name sys/rss"
ok "CSV keeps the full field names" "$CAIRN" ls --columns name,valid_acc,model --format csv --sort name
is "csv" "$(out | head -2)" "name,metrics.valid_acc,params.model
mobilenet-v3,0.8967,mobilenet_v3"

# ID and NAME are never cut nor left out, however narrow
ok "20 columns" env COLUMNS=20 "$CAIRN" ls
like "whole ids and names" "$(out | mask | sed -n 2p)" "^00000006  mobilenet-v3$"
tty20=$(on_tty "COLUMNS=20 $CAIRN ls" | mask)
like "on a terminal too" "$tty20" "00000001  resnet18-baseline"
like "and says the rest is hidden" "$tty20" "\+ 14 columns hidden \(status, metrics.f1, "

# a pipe gets every cell whole; a terminal cuts only what cannot fit otherwise
NOTE=$(printf 'note-%.0s0123456789' $(seq 1 15))
CMD="python3 train.py --config configs/$(printf 'very-long-name-%.0s' $(seq 1 8)).yaml --epochs 100"
L=$(store_sql "SELECT id FROM runs WHERE seq = 5")
"$CAIRN" note "$L" "$NOTE"
store_sql "UPDATE runs SET command = '$CMD' WHERE seq = 5" >/dev/null
ok "a pipe without \$COLUMNS" "$CAIRN" ls --columns name,note,command 'name = vit-small-long'
is "the note whole" "$(out | tail -1 | awk '{print $2}')" "$NOTE"
like "the command whole" "$(out | tail -1)" "$CMD\$"
unlike "nothing cut" "$(out)" "…"
ok "a pipe with \$COLUMNS=80" env COLUMNS=80 "$CAIRN" ls --columns name,note,command 'name = vit-small-long'
unlike "columns left out, not cut" "$(out)" "…"
is "what is left" "$(out | tail -1)" "vit-small-long"
like "and said" "$(err)" "^\+ 2 columns hidden \(note, command\); use --columns or a wider terminal$"
on_tty "COLUMNS=80 $CAIRN ls --columns name,note,command 'name = vit-small-long'" >"$T/cut.out"
like "a terminal cuts the note to fit" "$(sed -n 2p "$T/cut.out")" "^vit-small-long  note-0123456789.*…$"
widest 80 "$T/cut.out"

# tags written before commas and spaces were refused read as one each
store_sql "INSERT INTO tags(rid, tag) SELECT rid, 'a,b' FROM runs WHERE seq = 6" >/dev/null
store_sql "INSERT INTO tags(rid, tag) SELECT rid, 'two words' FROM runs WHERE seq = 6" >/dev/null
ok "old tags" "$CAIRN" ls --columns name,tags 'name = mobilenet-v3'
is "quoted" "$(out | tail -1)" 'mobilenet-v3  "a,b",mobile,"two words"'
ok "in CSV too" "$CAIRN" ls --columns name,tags 'name = mobilenet-v3' --format csv
is "one field" "$(out | tail -1)" 'mobilenet-v3,"""a,b"",mobile,""two words"""'
done_testing
