#!/usr/bin/env bash
# examples/shell/train.sh — track a tiny experiment from the shell with
# `cairn start` / `cairn log` / `cairn finish`.  The "training" is a small
# gradient descent on y = 3x + 1 written in awk, so it needs nothing else.
#   usage: train.sh LR EPOCHS
set -eu
CAIRN=${CAIRN:-cairn}
lr=${1:-0.1}
epochs=${2:-20}
export CAIRN_RUN_ID=$($CAIRN start -p linefit -t shell --param lr="$lr" --param epochs="$epochs")
awk -v lr="$lr" -v epochs="$epochs" 'BEGIN {
	w = 0; b = 0; n = 20
	for (e = 0; e < epochs; e++) {
		gw = 0; gb = 0; loss = 0
		for (i = 0; i < n; i++) { x = i / n; y = 3 * x + 1; p = w * x + b; d = p - y
			loss += d * d / n; gw += 2 * d * x / n; gb += 2 * d / n }
		w -= lr * gw; b -= lr * gb
		printf "%d %.6f\n", e, loss
	}
}' | while read -r step loss; do
	$CAIRN log metric loss "$loss" --step "$step"
done
$CAIRN finish
echo "$CAIRN_RUN_ID"
