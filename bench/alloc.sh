#!/usr/bin/env bash
# Allocation on real traces: the shape optimizer's speed against plain
# enumeration (build/bench/bench_alloc), then a day-ahead check on
# Bitbrains Rnd (GWA-T-12, July 2013): for each of the first N VMs,
# `recommend --at T --tier medium` decides from the history before T, and
# the next 24 h of real 5-minute samples are scored against the chosen
# shape and against the size provisioned in the trace:
#
#   violation  share of samples where CPU (MHz / the VM's MHz per core) or
#              memory (KB / 2^20) exceeds the allocation
#   cost       $/h of the chosen shape and of the provisioned size priced
#              on the same catalog
#
# Usage: bench/alloc.sh [BINARY] [N]   (default build/bespoke, 50 VMs)
set -eu
B=${1:-build/bespoke}
N=${2:-50}
DATA=${SHARED_DATA:-/work/shared/data}/bitbrains-rnd/2013-7
T=${BSP_ALLOC_AT:-2013-07-25T00:00:00Z}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== shape optimizer: GLPK against enumeration, shipped catalog"
if [ -x build/bench/bench_alloc ]; then
	build/bench/bench_alloc -n 20000
else
	echo "(build/bench/bench_alloc missing: make bench-bins)"
fi

echo
echo "== day-ahead recommendation on Bitbrains Rnd: first $N VMs, decided at $T"
if [ ! -d "$DATA" ]; then
	echo "(missing: set SHARED_DATA)"
	exit 0
fi
mkdir "$tmp/in"
ls "$DATA" | sort -n | head -n "$N" | while read -r f; do cp "$DATA/$f" "$tmp/in/"; done
"$B" --db "$tmp/b.db" ingest "$tmp/in" >/dev/null
start=$(date +%s.%N)
"$B" --db "$tmp/b.db" --json recommend --all --at "$T" --tier medium >"$tmp/rec.json" 2>"$tmp/rec.err" || true
end=$(date +%s.%N)
"$B" --db "$tmp/b.db" export --metric cpu_usage,cpu_capacity,cpu_cores,mem_usage,mem_capacity \
	--from "$T" --until 2013-07-26T00:00:00Z >"$tmp/actual.csv"
python3 - "$tmp/rec.json" "$tmp/actual.csv" "$(echo "$end - $start" | bc)" <<'PY'
import collections, csv, json, sys
recs = json.load(open(sys.argv[1]))
if isinstance(recs, dict):
    recs = [recs]
rows = collections.defaultdict(lambda: collections.defaultdict(dict))
for r in csv.DictReader(open(sys.argv[2])):
    rows[r["entity"]][int(r["ts"])][r["metric"]] = float(r["value"])
n = viol = viol_p = 0
cost = cost_p = 0.0
exp = 0.0
for rec in recs:
    have = rec["choice"]["provides"]
    pts = rows.get(rec["entity"], {})
    for ts, m in pts.items():
        if "cpu_usage" not in m or "mem_usage" not in m:
            continue
        cores = m.get("cpu_cores") or 1
        mhz = (m.get("cpu_capacity") or 2600 * cores) / cores
        cpu = m["cpu_usage"] / mhz
        mem = m["mem_usage"] / 2**20
        n += 1
        viol += cpu > have["cpu"] + 1e-9 or mem > have["memory"] + 1e-9
        viol_p += cpu > cores + 1e-9 or mem > m.get("mem_capacity", float("inf")) / 2**20 + 1e-9
    cost += rec["cost_hour"]
    cost_p += rec["current"]["price_hour"] if rec["current"] else rec["cost_hour"]
    exp += rec["violation"]["any"]
k = len(recs)
print(f"{k} VMs recommended in {float(sys.argv[3]):.2f} s (profile, forecast and choice each)")
print(f"{'':14} {'$/h (fleet)':>12} {'violation (5-min samples)':>26}")
print(f"{'recommended':14} {cost:12.3f} {100 * viol / max(n, 1):25.2f}%   expected {100 * exp / max(k, 1):.2f}%")
print(f"{'provisioned':14} {cost_p:12.3f} {100 * viol_p / max(n, 1):25.2f}%")
print(f"{n} samples scored; savings {100 * (1 - cost / cost_p):.1f}% of the provisioned cost")
PY
if [ -s "$tmp/rec.err" ]; then
	echo "$(wc -l <"$tmp/rec.err") VMs refused, e.g.:"
	head -1 "$tmp/rec.err" | cut -c1-150 | sed 's/^/  /'
fi
exit 0
