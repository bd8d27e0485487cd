#!/usr/bin/env bash
# Anomalies on real usage: Bitbrains Rnd, July 2013 (250 VMs, a row about
# every 300 s; docs/anomalies.md cites the trace).
#
#  1. `bespoke anomalies --all` with models fitted on each window (two
#     passes, docs/anomalies.md), hourly step means, the default band
#     (p1..p99 widened 1.5x): points examined, flagged, the share
#     flagged, periods, periods that are changes (kept in training), and
#     the one-off flags above and below the band as shares of the points,
#     per metric, with the time taken.
#  2. `bespoke train --all` (which leaves the flags out of training), then
#     `bespoke anomalies --all` again with the stored models, timed.
#  3. The five periods furthest outside their band, explained (periods
#     off a band of no width, after a history of zeros, left aside).
#
# Usage: bench/anomalies.sh [BINARY]   (default build/bespoke; $SHARED_DATA
# as in bench/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(realpath "${1:-build/bespoke}")
DATA=${SHARED_DATA:-../shared/data}/bitbrains-rnd/2013-7

echo "== anomalies: Bitbrains Rnd 2013-7"
if [ ! -d "$DATA" ]; then
	echo "(missing $DATA: skipped)"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/bb.db
"$B" --db "$db" ingest "$DATA" >/dev/null

now() { date +%s.%N; }
elapsed() { awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'; }
summary() {
	python3 - "$1" "$2" <<'PY'
import json, sys
tot = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    for name, m in d["metrics"].items():
        t = tot.setdefault(name, [0] * 7)
        t[0] += 1
        t[1] += m["points"]
        t[2] += m["flagged"]
        t[3] += len(m["periods"])
        t[4] += sum(1 for p in m["periods"] if p["shift"])
        # one-off flags (not part of a change), by side, in steps
        t[5] += sum(p["points"] for p in m["periods"] if not p["shift"] and p["direction"] == "above")
        t[6] += sum(p["points"] for p in m["periods"] if not p["shift"] and p["direction"] == "below")
fmt = "%-13s %5s %9s %8s %8s %7s %8s %8s %8s"
print(fmt % ("metric", "VMs", "points", "flagged", "share", "periods", "changes", "above", "below"))
def row(name, t):
    pct = lambda k: "%.3f%%" % (100.0 * k / max(t[1], 1))
    print(fmt % (name, t[0] or "", t[1], t[2], pct(t[2]), t[3], t[4], pct(t[5]), pct(t[6])))
for name, t in sorted(tot.items()):
    row(name, t)
row("all", [0] + [sum(t[i] for t in tot.values()) for i in range(1, 7)])
print("time: %s s" % sys.argv[2])
PY
}

t0=$(now)
"$B" --db "$db" --json anomalies --all --no-store --refit >"$work/window.jsonl" 2>"$work/err1" || true
t1=$(now)
echo "-- models fitted on each window (two passes)"
summary "$work/window.jsonl" "$(elapsed)"
[ -s "$work/err1" ] && echo "entities refused: $(wc -l <"$work/err1") (e.g. $(head -1 "$work/err1"))"

t0=$(now)
"$B" --db "$db" train --all >/dev/null 2>&1 || true
t1=$(now)
echo
echo "-- train --all with the flags left out: $(elapsed) s"
t0=$(now)
"$B" --db "$db" --json anomalies --all --no-store >"$work/stored.jsonl" 2>/dev/null || true
t1=$(now)
echo "-- stored models"
summary "$work/stored.jsonl" "$(elapsed)"

echo
echo "-- the five periods furthest outside their band"
python3 - "$work/stored.jsonl" <<'PY'
import json, sys
ps = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    for m in d["metrics"].values():
        for p in m["periods"]:
            # no severity: the band had no width (a history of zeros)
            ps.append((p["severity"], d["entity"], p["explanation"]))
ps = [p for p in ps if p[0] is not None]
for sev, e, text in sorted(ps, reverse=True)[:5]:
    print("VM %s, %.1f band widths out: %s" % (e, sev, text))
PY
