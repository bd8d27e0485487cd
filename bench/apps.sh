#!/usr/bin/env bash
# Next-command prediction and software recommendations on the Schonlau
# masquerade data: ingests the 50 histories into a temporary store, runs
# `apps --evaluate` (first 5,000 commands train, masquerade blocks
# skipped) and `recommend-software --evaluate` (20% of each user's
# commands hidden), and prints both tables. docs/apps.md records them.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
B=${BESPOKE:-$here/build/bespoke}
DATA=${SCHONLAU:-$here/../shared/data/schonlau}
[ -d "$DATA" ] || { echo "no Schonlau data at $DATA"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$B" --db "$tmp/s.db" ingest "$DATA" >/dev/null 2>&1
echo "== next command (apps --evaluate, order 3, population, online)"
"$B" apps --evaluate "$DATA" --train-first 5000
for o in 1 2; do
	echo "-- order $o"
	"$B" apps --evaluate "$DATA" --train-first 5000 --order $o | tail -3 | head -1
done
echo "-- order 3 without the population model"
"$B" apps --evaluate "$DATA" --train-first 5000 --no-population | tail -3 | head -1
echo "-- order 3 with decay 0.999"
"$B" apps --evaluate "$DATA" --train-first 5000 --decay 0.999 | tail -3 | head -1
echo "== software recommendations (recommend-software --evaluate)"
for seed in 1 2 3; do
	"$B" --db "$tmp/s.db" recommend-software --evaluate --holdout 0.2 --seed $seed
done
