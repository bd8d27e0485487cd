# bespoke resize: the coming hour's CPU and memory as the simulator's
# bespoke policy decides them. Known answers on a constructed fleet (a
# constant VM gets exactly the fleet's factor times its usage), the same
# decision as `bespoke simulate` replaying the same hours, a burst held
# for a day and then let go, the policy's minimum, an override winning,
# the stored documents, the Kubernetes output, and the refusals.
. "$TESTLIB"

# 18 days of 5-minute samples from 2026-01-01 (1767225600): "flat" uses 1
# core and 2048 MiB; "cycle" a daily wave with noise; "burst" idles at 0.1
# core and 512 MiB but runs at 2 cores from 02:00 to 02:30 on day 17
# (2026-01-18).
python3 - <<'PY' || fail "fleet"
import math, random
random.seed(11)
t0 = 1767225600
with open("fleet.csv", "w") as f:
    f.write("entity,metric,timestamp,value,unit\n")
    for i in range(18 * 288):
        t = t0 + 300 * i
        f.write(f"flat,cpu_usage,{t},1,cores\n")
        f.write(f"flat,mem_usage,{t},2048,MiB\n")
        w = 2 + math.sin(2 * math.pi * (i % 288) / 288)
        f.write(f"cycle,cpu_usage,{t},{w * random.uniform(0.8, 1.2):.4f},cores\n")
        f.write(f"cycle,mem_usage,{t},{1024 * w * random.uniform(0.9, 1.1):.1f},MiB\n")
        b = 2 if i // 288 == 17 and 24 <= i % 288 < 30 else 0.1
        f.write(f"burst,cpu_usage,{t},{b * random.uniform(0.95, 1.05):.4f},cores\n")
        f.write(f"burst,mem_usage,{t},{512 * random.uniform(0.95, 1.05):.1f},MiB\n")
PY
expect_exit 0 $B --db s.db ingest fleet.csv

# Day 17 at 12:00: the burst (02:00) is in the last day.
AT=2026-01-18T12:20:00Z
T=1768737600 # 2026-01-18T12:00:00Z, the hour decided
expect_exit 0 $B --db s.db --json resize flat cycle burst --at $AT \
	--use kubernetes --no-store
cp out.txt noon.json
python3 - <<'PY' || fail "known answers"
import json
rows = {r["entity"]: r for r in json.load(open("noon.json"))}
f = rows["flat"]["factor"]
assert rows["flat"]["from"] == "2026-01-18T12:00:00Z", rows["flat"]
# a constant VM: its base is its usage, the allocation the factor times
# it, or the allocation in force where that is less than 10% above it
for key, use in (("cpu", 1), ("memory", 2)):
    x = rows["flat"][key]
    assert abs(x["last_day_peak"] - use) < 1e-12, x
    want = f[key] * use
    if abs(x["next"] - want) > 1e-9 * want:
        assert x["next"] == x["in_force"] and want < x["next"] < want / 0.9, x
        assert x["why"].startswith("held"), x
    else:
        assert "peak" in x["why"], x
# the burst of 02:00 is held: at least the burst's 2 cores, times the factor
b = rows["burst"]["cpu"]
assert b["last_day_peak"] > 1.9 and b["next"] >= 1.9 * f["cpu"], b
assert "resize_version" not in rows["flat"], "--no-store stored"
PY

# The same decision as the simulator replaying the same hours.
expect_exit 0 $B --db s.db simulate --from 2026-01-18T11:00:00Z \
	--until 2026-01-18T13:00:00Z --history 16d --policy bespoke \
	--export sim.csv
python3 - <<'PY' || fail "resize is the simulator's decision"
import csv, json
rows = {r["entity"]: r for r in json.load(open("noon.json"))}
n = 0
for r in csv.DictReader(open("sim.csv")):
    if int(r["ts"]) != 1768737600:
        continue
    x = rows[r["entity"]]
    key, scale = ("cpu", 1) if r["metric"] == "cpu_usage" else ("memory", 1024)
    assert abs(float(r["alloc"]) / scale - x[key]["next"]) < 1e-9 * x[key]["next"], (r, x[key])
    n += 1
assert n == 6, n
PY

# A day after the burst it is let go: down to the idle level.
expect_exit 0 $B --db s.db --json resize burst --at 2026-01-19T03:00:00Z \
	--use kubernetes --no-store
python3 - <<'PY' || fail "the burst let go"
import json
r = json.load(open("out.txt"))
assert r["cpu"]["last_day_peak"] < 0.2, r
assert r["cpu"]["next"] < 0.3, r
PY

# The default policy's minimum (1 GiB of memory) wins over 512 MiB.
expect_exit 0 $B --db s.db resize burst --at $AT
contains out.txt "the policy's minimum, 1 GiB"
contains out.txt "stored as each entity's next resize document"
expect_exit 0 $B --db s.db --json resize burst --at $AT
[ "$(json_get out.txt 'd["resize_version"]')" = 2 ] || fail "the second resize is v2"
[ "$(json_get out.txt 'd["memory"]["next"]')" = 1.0 ] || fail "memory at the minimum"

# virsh commands that resize a domain in place, run by virsh itself on
# its test driver (the domain renamed to the driver's "test"): whole
# vCPUs up from the decision, memory in KiB.
expect_exit 0 $B --db s.db resize flat --at $AT --use kubernetes \
	--format virsh --no-store
contains out.txt 'setvcpus "flat" '
contains out.txt 'setmem "flat" '
if command -v virsh >/dev/null; then
	sed 's/"flat"/"test"/' out.txt >cmds.txt
	echo "dominfo test" >>cmds.txt
	virsh -c test:///default <cmds.txt >vi.txt 2>&1 || { cat vi.txt; fail "virsh"; }
	lacks vi.txt "error"
	cpu=$(awk '/^setvcpus/ {print $3}' cmds.txt)
	mem=$(awk '/^setmem/ {print $3}' cmds.txt)
	grep -Eq "^CPU\(s\): +$cpu\$" vi.txt || { cat vi.txt; fail "vCPUs not $cpu"; }
	grep -Eq "^Used memory: +$mem KiB" vi.txt || { cat vi.txt; fail "memory not $mem KiB"; }
	python3 - "$cpu" "$mem" <<'PY' || fail "virsh figures against the decision"
import json, math, sys
r = {x["entity"]: x for x in json.load(open("noon.json"))}["flat"]
assert int(sys.argv[1]) == max(1, math.ceil(r["cpu"]["next"] - 1e-9)), r
assert int(sys.argv[2]) == math.ceil(r["memory"]["next"] * 1048576), r
PY
else
	echo "virsh not installed: the commands are not run"
fi

# An override wins while it is in force.
expect_exit 0 $B --db s.db override flat --cpu 4 --expires 2h \
	--reason "load test"
expect_exit 0 $B --db s.db --json resize flat --at $AT --use kubernetes
python3 - <<'PY' || fail "override"
import json
r = json.load(open("out.txt"))
assert r["cpu"]["next"] == 4 and "load test" in r["cpu"]["why"], r
assert r["override_version"] == 1, r
PY

# Kubernetes requests and limits.
expect_exit 0 $B --db s.db resize flat --at $AT --use kubernetes \
	--format k8s --no-store
contains out.txt "cpu: 4000m"
contains out.txt "memory: "
contains out.txt "limits:"

# Refusals.
expect_exit 1 $B --db s.db resize nosuch --at $AT
contains err.txt "nosuch"
expect_exit 1 $B --db s.db resize flat --target 0.7
contains err.txt "--target"
expect_exit 1 $B --db s.db resize flat --format xml
contains err.txt "--format: 'xml' is not k8s or virsh"
expect_exit 1 $B --db s.db resize flat --all
contains err.txt "--all"
expect_exit 1 $B --db s.db resize flat --use nosuch
contains err.txt "nosuch"
printf 'entity,metric,timestamp,value\nvm,disk_read,1767225600,1\n' >other.csv
expect_exit 0 $B --db empty.db ingest other.csv
expect_exit 1 $B --db empty.db resize vm
contains err.txt "no cpu_usage or mem_usage"
# An entity without usage: an error when named, skipped by --all.
printf 'entity,metric,timestamp,value\nlogger,disk_read,1768737000,5\n' >disk.csv
expect_exit 0 $B --db s.db ingest disk.csv
expect_exit 1 $B --db s.db resize logger --at $AT --no-store
contains err.txt "logger: no cpu_usage or mem_usage samples"
expect_exit 0 $B --db s.db resize --all --at $AT --no-store
lacks out.txt "logger"
contains out.txt "flat "
