# bespoke plan: a constant series gets exactly one constant allocation; a
# daily square wave gets a plan that rises one lead time before each rise
# and falls one hold time after each fall; the plan is stored, and its
# cost adds up.
. "$TESTLIB"

# Four weeks, hourly: "square" runs 3 cores from 08:00 to 18:00 UTC and
# 0.5 otherwise; "flat" is constant.
python3 - <<'PY'
t0 = 1767225600  # 2026-01-01T00:00:00Z
with open("sq.csv", "w") as f:
    f.write("entity,metric,timestamp,value,unit\n")
    for h in range(28 * 24):
        t = t0 + h * 3600
        f.write(f"square,cpu_usage,{t},{3.0 if 8 <= h % 24 < 18 else 0.5},cores\n")
        f.write(f"square,mem_usage,{t},2048,MiB\n")
        f.write(f"flat,cpu_usage,{t},1.5,cores\n")
        f.write(f"flat,mem_usage,{t},3072,MiB\n")
PY
expect_exit 0 $B --db d.db ingest sq.csv

expect_exit 0 $B --db d.db --json plan flat --horizon 3d
python3 - <<'PY' || fail "constant plan"
import json
d = json.load(open("out.txt"))
assert d["format"] == "bespoke-plan" and d["plan_version"] == 1
assert len(d["steps"]) == 1 and d["changes"] == 0, d["steps"]
s = d["steps"][0]
assert s["from"] == "2026-01-29T00:00:00Z" and s["until"] == "2026-02-01T00:00:00Z"
assert abs(d["cost"] - s["price_hour"] * 72) < 1e-9
PY
expect_exit 0 $B --db d.db plan flat --horizon 3d
contains out.txt "0 changes"
contains out.txt "stored as plan v2"

for lead in 10m 1h; do
expect_exit 0 $B --db d.db --json plan square --horizon 3d --lead $lead --hold 2h --no-store
LEAD=$lead python3 - <<'PY' || fail "square-wave plan, lead $lead"
import json, os, datetime as dt
lead = {"10m": 600, "1h": 3600}[os.environ["LEAD"]]
d = json.load(open("out.txt"))
assert "plan_version" not in d
steps = d["steps"]
ts = lambda s: int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())
t0 = ts("2026-01-29T00:00:00Z")
ups = [ts(s["from"]) for a, s in zip(steps, steps[1:]) if s["price_hour"] > a["price_hour"]]
downs = [ts(s["from"]) for a, s in zip(steps, steps[1:]) if s["price_hour"] < a["price_hour"]]
assert ups == [t0 + day * 86400 + 8 * 3600 - lead for day in range(3)], (ups, steps)
assert downs == [t0 + day * 86400 + 18 * 3600 + 2 * 3600 for day in range(3)], (downs, steps)
for s in steps:  # the high shape covers the p95 peak of 3 cores
    if s["need"]["cpu"] >= 3:
        assert s["price_hour"] == max(x["price_hour"] for x in steps)
assert abs(sum(s["cost"] for s in steps) - d["cost"]) < 1e-6 * d["cost"]
PY
done

# A hold longer than the trough: never scales down after the first rise.
expect_exit 0 $B --db d.db --json plan square --horizon 3d --hold 16h --no-store
[ "$(json_get out.txt 'd["changes"]')" = 1 ] || fail "hold 16h should keep the peak shape"

expect_exit 1 $B --db d.db plan square --lead soon
contains err.txt "--lead"
expect_exit 1 $B --db d.db plan nobody
contains err.txt "nobody"
expect_exit 1 $B --db d.db plan
contains err.txt "one entity"

# No look-ahead: samples at or after the decision time never change it.
expect_exit 0 $B --db d.db --json plan square --at 2026-01-20T00:00:00Z --horizon 2d --no-store
python3 -c "import json; d=json.load(open('out.txt')); print(json.dumps(d['steps'], sort_keys=True))" >before.json
python3 - <<'PY'
t = 1768867200  # 2026-01-20T00:00:00Z
with open("late.csv", "w") as f:
    for h in range(9 * 24):
        f.write(f"square,cpu_usage,{t + h * 3600},7.5,cores\n")
        f.write(f"square,mem_usage,{t + h * 3600},30000,MiB\n")
PY
expect_exit 0 $B --db d.db ingest late.csv
expect_exit 0 $B --db d.db --json plan square --at 2026-01-20T00:00:00Z --horizon 2d --no-store
python3 -c "import json; d=json.load(open('out.txt')); print(json.dumps(d['steps'], sort_keys=True))" >after.json
cmp before.json after.json || fail "samples after --at changed the plan"
expect_exit 0 $B --db d.db --json plan square --horizon 2d --no-store
python3 -c "import json; d=json.load(open('out.txt')); print(json.dumps(d['steps'], sort_keys=True))" >latest.json
! cmp -s before.json latest.json || fail "the new samples should change a plan made after them"
