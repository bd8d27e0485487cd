#!/usr/bin/env bash
# The allocation simulator on Bitbrains Rnd (250 VMs, July and August 2013):
# bespoke against the Kubernetes VPA recommender, Autopilot's moving window,
# the sizes provisioned in the trace and a reactive threshold autoscaler,
# hourly decisions, CPU and memory. The protocol is in docs/simulate.md.
#
#  1. July: replay the last week of July with the history before it. This
#     is where bespoke's parameters were chosen; it reads no August data.
#  2. August: the whole month with July as history, run once with those
#     parameters, timed on 2 threads (goal: under 60 s).
#
# Usage: bench/simulate.sh   (after make; $SHARED_DATA as in run.sh)
# $BSP_BENCH_WORK keeps the store between runs (default: a temporary folder
# removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/bespoke
DATA=${SHARED_DATA:-../shared/data}/bitbrains-rnd

echo "== allocation simulator: Bitbrains Rnd 2013-7 + 2013-8"
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

echo
echo "-- July 25-31 (history: July 1-24; parameters chosen here)"
"$B" --db "$db" simulate --from 2013-07-25 --until 2013-08-01 --step 1h \
	--threads 2

echo
echo "-- August 1-31 (history: July), 250 VMs x 744 hourly steps x 6 policies"
t0=$(date +%s.%N)
"$B" --db "$db" simulate --from 2013-08-01 --until 2013-09-01 --step 1h \
	--threads 2 --export "$work/august.csv"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v rows="$(($(wc -l <"$work/august.csv") - 1))" 'BEGIN {
	printf "wall time %.1f s on 2 threads (goal: under 60 s); bespoke exported %d rows\n",
		b - a, rows }'
