#!/usr/bin/env bash
# make bench: every benchmark, each printing bespoke's figures beside its
# reference measured in the same run. Real traces are read from
# ../shared/data (or $SHARED_DATA); without them a benchmark says so and
# skips.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHARED_DATA=${SHARED_DATA:-$(pwd)/../shared/data}
bench/ingest.sh
if [ -d "$SHARED_DATA/bitbrains-rnd/2013-7" ]; then
	echo
	echo "== chunk codec: Bitbrains Rnd 2013-7, per column, next to plain Gorilla"
	build/bench/bench_codec "$SHARED_DATA"/bitbrains-rnd/2013-7/*.gz
fi
if [ -x bench/accuracy.sh ]; then
	echo
	bench/accuracy.sh
fi
for b in bench/apps.sh bench/classify.sh bench/anomalies.sh bench/simulate.sh bench/images.sh bench/serve.sh; do
	if [ -x "$b" ]; then
		echo
		"$b"
	fi
done
if [ -d "$SHARED_DATA/bitbrains-rnd/2013-7" ]; then
	echo
	bench/alloc.sh build/bespoke 250
fi
