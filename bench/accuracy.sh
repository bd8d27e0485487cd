#!/usr/bin/env bash
# Forecast accuracy and speed on Bitbrains Rnd (July and August 2013), beside
# daily seasonal naive and R's forecast package (ets, mstl, auto.arima) in the
# same run. The protocol is in docs/forecasting.md.
#
#  1. bench_accuracy: hourly means of cpu_usage, mem_usage, disk_total and
#     net_total; history from 2013-07-01; origins 00:00 UTC on seven August
#     days; 24 h ahead. Every series is scored for bespoke and the seasonal
#     naive baselines; R runs on a subset of VMs spread over the fleet (it
#     takes seconds per fit), and the subset's table compares everything on
#     the same tasks.
#  2. The commands a user runs: `bespoke train --all` over both months and
#     `bespoke forecast --all` 7 days ahead from the stored models, timed.
#
# Usage: bench/accuracy.sh   (after make bench-bins; $SHARED_DATA as in run.sh)
# $BSP_BENCH_WORK keeps the store and R's files between runs (default: a
# temporary folder removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/bespoke
A=build/bench/bench_accuracy
DATA=${SHARED_DATA:-../shared/data}/bitbrains-rnd

echo "== forecast accuracy: Bitbrains Rnd 2013-7 + 2013-8"
if [ ! -d "$DATA/2013-7" ] || [ ! -d "$DATA/2013-8" ]; then
	echo "(missing $DATA/2013-7 and 2013-8: skipped)"
	exit 0
fi
if [ -n "${BSP_BENCH_WORK:-}" ]; then
	work=$BSP_BENCH_WORK
	mkdir -p "$work"
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
db=$work/bb.db
[ -s "$db" ] || "$B" --db "$db" ingest "$DATA/2013-7" "$DATA/2013-8" >/dev/null

rargs=()
if command -v Rscript >/dev/null &&
	Rscript -e 'suppressPackageStartupMessages(library(forecast))' 2>/dev/null; then
	rargs=(--rscript bench/forecast_r.R --work "$work")
else
	echo "(R's forecast package is missing: the R columns are skipped;"
	echo " BSP_DEPS_BENCH=1 scripts/install-deps.sh installs it)"
fi
"$A" "$db" "${rargs[@]}" --speed 2013-07-01,2013-09-01

echo
echo "== the commands: train --all, then forecast --all 7 days ahead"
cp "$db" "$work/cli.db"
t0=$(date +%s.%N)
"$B" --db "$work/cli.db" train --all >/dev/null
t1=$(date +%s.%N)
"$B" --db "$work/cli.db" forecast --all --from 2013-09-01 --horizon 7d \
	--step 1h --format csv >"$work/forecast.csv"
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v rows="$(($(wc -l <"$work/forecast.csv") - 1))" 'BEGIN {
	printf "train --all %.1f s; forecast --all --horizon 7d %.1f s (%d rows); together %.1f s (goal: under 20 s)\n",
		b - a, c - b, rows, c - a }'
rm -f "$work/cli.db"*
