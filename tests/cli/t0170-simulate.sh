# bespoke simulate on a small constructed fleet: the table, --json with a
# known answer (a constant VM against its provisioned size), --export
# columns and row count, decisions that ignore samples after them, and the
# clear refusals.
. "$TESTLIB"

# Ten days of 5-minute samples from 2026-01-01 (1767225600): "flat" uses
# 1 core and 2048 MiB of its 4 cores and 8192 MiB; "cycle" follows a daily
# wave with noise; "cpuonly" has no memory series and no capacity.
python3 - <<'PY' || fail "fleet"
import math, random
random.seed(7)
t0 = 1767225600
with open("fleet.csv", "w") as f:
    f.write("entity,metric,timestamp,value,unit\n")
    for i in range(10 * 288):
        t = t0 + 300 * i
        f.write(f"flat,cpu_usage,{t},1,cores\n")
        f.write(f"flat,mem_usage,{t},2048,MiB\n")
        w = 2 + math.sin(2 * math.pi * (i % 288) / 288)
        f.write(f"cycle,cpu_usage,{t},{w * random.uniform(0.8, 1.2):.4f},cores\n")
        f.write(f"cycle,mem_usage,{t},{1024 * w:.1f},MiB\n")
        f.write(f"cpuonly,cpu_usage,{t},{random.uniform(0, 0.5):.4f},cores\n")
        if i % 12 == 0:
            for e in ("flat", "cycle"):
                f.write(f"{e},cpu_capacity,{t},4,cores\n")
                f.write(f"{e},mem_capacity,{t},8192,MiB\n")
PY
expect_exit 0 $B --db s.db ingest fleet.csv

FROM=2026-01-09T00:00:00Z
UNTIL=2026-01-11T00:00:00Z
expect_exit 0 $B --db s.db simulate --from $FROM --until $UNTIL --step 1h
contains out.txt "48 steps"
for p in bespoke vpa autopilot provisioned reactive forecast; do
	[ "$(grep -c "^$p " out.txt)" = 2 ] || fail "$p: a cpu and a mem row"
done
contains out.txt "violation"

# JSON, and a known answer: "flat" uses 1 of its 4 cores for 48 hours:
# cost 4 x 48 x 0.035, slack (4 - 1) / 4 every day, no violation, no change.
expect_exit 0 $B --db s.db --json simulate --from $FROM --until $UNTIL \
	--policy provisioned --metrics cpu --entities flat
python3 - <<'PY' || fail "provisioned on flat"
import json
d = json.load(open("out.txt"))
assert d["steps"] == 48 and d["entities"] == 1, d
(r,) = d["rows"]
assert r["policy"] == "provisioned" and r["resource"] == "cpu", r
assert r["points"] == 48 * 12 and r["violations"] == 0, r
assert abs(r["cost_usd"] - 4 * 48 * 0.035) < 1e-9, r
assert abs(r["vcpu_hours"] - 192) < 1e-9, r
assert abs(r["slack"] - 0.75) < 1e-12 and r["entity_days"] == 2, r
assert abs(r["slack_clipped"] - 0.75) < 1e-12 and r["under_days"] == 0, r
assert r["changes"] == 0, r
PY

expect_exit 0 $B --db s.db --json simulate --from $FROM --until $UNTIL
python3 - <<'PY' || fail "all policies in JSON"
import json
d = json.load(open("out.txt"))
rows = {(r["policy"], r["resource"]): r for r in d["rows"]}
assert len(rows) == 12, rows.keys()
assert d["entities"] == 3
for r in d["rows"]:
    assert 0 <= r["violation_rate"] <= 1, r
    assert r["cost_usd"] > 0, r
# provisioned has no capacity for cpuonly, and only two memory series exist
assert rows[("provisioned", "cpu")]["entities"] == 2
assert rows[("vpa", "mem")]["entities"] == 2
assert rows[("vpa", "cpu")]["entities"] == 3
# both of bespoke's policies size under the provisioned size; the
# forecast follows the wave, the peak hold keeps the day's top
for p in ("bespoke", "forecast"):
    assert rows[(p, "cpu")]["cost_usd"] < rows[("provisioned", "cpu")]["cost_usd"], p
assert rows[("forecast", "cpu")]["cost_usd"] < rows[("bespoke", "cpu")]["cost_usd"]
PY

# --export: one row per entity, resource and step, ts at the step start.
expect_exit 0 $B --db s.db simulate --from $FROM --until $UNTIL \
	--export alloc.csv
head -1 alloc.csv | grep -qx "entity,metric,ts,alloc" || fail "export header"
[ "$(($(wc -l <alloc.csv) - 1))" = $((5 * 48)) ] || fail "export rows: 5 series x 48 steps"
grep -q "^cycle,mem_usage,1767916800," alloc.csv || fail "first step at --from"
grep -q "^cpuonly,mem_usage" alloc.csv && fail "cpuonly has no memory"
# VPA's constant on flat: one value for every step.
expect_exit 0 $B --db s.db simulate --from $FROM --until $UNTIL \
	--policy vpa,reactive --export vpa.csv --entities flat,cycle
[ "$(grep '^flat,cpu_usage' vpa.csv | cut -d, -f4 | sort -u | wc -l)" = 1 ] ||
	fail "VPA on a constant changed"

# Decisions ignore everything at or after them: rewrite day 2 of the
# replay and the first day's decisions stay the same.
cp alloc.csv before.csv
python3 - <<'PY'
t0 = 1767916800 + 86400
with open("late.csv", "w") as f:
    for i in range(288):
        for e in ("flat", "cycle", "cpuonly"):
            f.write(f"{e},cpu_usage,{t0 + 300 * i},9.5,cores\n")
PY
expect_exit 0 $B --db s.db ingest late.csv
expect_exit 0 $B --db s.db simulate --from $FROM --until $UNTIL \
	--export after.csv
awk -F, 'NR > 1 && $3 < 1768003200' before.csv >b1.txt
awk -F, 'NR > 1 && $3 < 1768003200' after.csv >a1.txt
[ -s b1.txt ] || fail "no first-day rows"
cmp b1.txt a1.txt || fail "samples after a decision changed it"
cmp before.csv after.csv >/dev/null && fail "the rewrite changed nothing later"

# Refusals.
expect_exit 1 $B --db s.db simulate --until $UNTIL
contains err.txt "--from"
expect_exit 1 $B --db s.db simulate --from $UNTIL --until $FROM
contains err.txt "--until"
expect_exit 1 $B --db s.db simulate --from $FROM --until $UNTIL --policy vpa,crystal
contains err.txt "crystal"
expect_exit 1 $B --db s.db simulate --from $FROM --until $UNTIL --metrics gpu
contains err.txt "gpu"
expect_exit 1 $B --db s.db simulate --from $FROM --until $UNTIL --entities flat,nobody
contains err.txt "nobody"
expect_exit 1 $B --db s.db simulate --from $FROM --until $UNTIL --step 7x
contains err.txt "--step"
expect_exit 1 $B --db s.db simulate --from $FROM --until $UNTIL --target 0.7
contains err.txt "--target"
expect_exit 1 $B --db s.db simulate --from $FROM --until $UNTIL --export-policy vpa
contains err.txt "--export"
expect_exit 1 $B --db s.db simulate --from $FROM --until $UNTIL --policy vpa --export x.csv --export-policy bespoke
contains err.txt "bespoke"
expect_exit 1 $B --db missing.db simulate --from $FROM --until $UNTIL
expect_exit 0 $B simulate --help
contains out.txt "--policy"
