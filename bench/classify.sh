#!/usr/bin/env bash
# Workload class and persona accuracy.
#
#  1. bespoke classify --train on the Azure V1 vmtable sample: stratified
#     5-fold CV (seed 1) of the logistic model against the majority-class
#     baseline, in one run.
#  2. bespoke persona --all on a 36-user demo fleet: how often the first
#     persona is the user's persona_hint, from behaviour alone (CPU shape
#     and app launches, no text), and from each part on its own.
#
# Usage: bench/classify.sh [BINARY]   (default build/bespoke)
set -eu
B=${1:-build/bespoke}
DATA=${SHARED_DATA:-/work/shared/data}/azure-v1/vmtable-sample.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== workload class: $DATA"
if [ -r "$DATA" ]; then
	"$B" --db "$tmp/c.db" classify --train "$DATA"
	for l in 0.01 0.1 10; do
		printf 'lambda %-5s ' "$l"
		"$B" --db "$tmp/c.db" classify --train "$DATA" --lambda "$l" |
			grep '^logistic'
	done
else
	echo "(missing: set SHARED_DATA)"
fi

echo
for seed in 1 2; do
	echo "== personas from behaviour: demo fleet of 36 users, 28 days, seed $seed"
	"$B" --db "$tmp/d$seed.db" demo --users 36 --seed $seed >/dev/null
	printf 'usage + apps: '
	"$B" --db "$tmp/d$seed.db" persona --all | tail -1
	printf 'usage only:   '
	"$B" --db "$tmp/d$seed.db" persona --all --no-apps | tail -1
	printf 'apps only:    '
	"$B" --db "$tmp/d$seed.db" persona --all --no-usage | tail -1
done
