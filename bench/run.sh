#!/usr/bin/env bash
# make bench: every benchmark, each printing bespoke's figures beside its
# reference measured in the same run. Real traces are read from
# ../shared/data (or $SHARED_DATA); without them the benchmark says so and
# skips.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHARED_DATA=${SHARED_DATA:-$(pwd)/../shared/data}
bench/ingest.sh
