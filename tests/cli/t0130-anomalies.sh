# bespoke anomalies: a planted spike in a constructed series is the period
# listed (text and JSON), training leaves it out so that the forecast
# matches the same series without it, results are stored as versions, and
# bad options and inputs are refused with clear messages.
. "$TESTLIB"

# Five weeks of hourly CPU for two VMs from 2013-07-01 (a Monday): a daily
# cycle, quieter weekends, seeded noise. vm-spiky is vm-clean plus a burst
# of five times the usual on 2013-07-31 from 13:00 to 16:00.
python3 - <<'PY' || fail "making the data"
import math, random
rnd = random.Random(130)
t0 = 1372636800
with open("usage.csv", "w") as f:
    f.write("entity,metric,timestamp,value\n")
    for i in range(24 * 35):
        hour, day = i % 24, (i // 24) % 7
        v = 100 + 60 * math.sin(math.pi * (hour - 6) / 12)
        if day >= 5:
            v *= 0.7
        v = max(0.0, v + rnd.gauss(0, 5))
        spike = 24 * 30 + 13 <= i < 24 * 30 + 16
        f.write("vm-clean,cpu_usage,%d,%.3f\n" % (t0 + 3600 * i, v))
        f.write("vm-spiky,cpu_usage,%d,%.3f\n" % (t0 + 3600 * i, 5 * v if spike else v))
PY
expect_exit 0 $B --db a.db ingest usage.csv

# Before any training: a model is fitted on the window.
expect_exit 0 $B --db a.db anomalies vm-spiky
contains out.txt "cpu_usage 2013-07-31 13:00–16:00"
contains out.txt "the p99 band"
contains out.txt "fitted on the window"
contains out.txt "(version 1)"

expect_exit 0 $B --db a.db --json anomalies vm-spiky
python3 - <<'PY' || fail "anomalies JSON"
import json
d = json.load(open("out.txt"))
assert d["format"] == "bespoke-anomalies" and d["entity"] == "vm-spiky", d
assert d["anomalies_version"] == 2, d["anomalies_version"]
m = d["metrics"]["cpu_usage"]
spike = [p for p in m["periods"] if p["start"] == "2013-07-31T13:00:00Z"]
assert len(spike) == 1, m["periods"]
p = spike[0]
assert p["end"] == "2013-07-31T16:00:00Z" and p["points"] == 3, p
assert p["direction"] == "above" and not p["shift"], p
assert p["observed"] > p["band_hi"] and p["ratio"] > 2, p
assert p["explanation"].startswith("cpu_usage 2013-07-31 13:00"), p
# everything else: at most 1% of the points examined
others = m["flagged"] - p["points"]
assert m["points"] > 24 * 14 and others * 100 < m["points"], (others, m["points"])
PY

# The clean twin: nothing worth a period of its own beyond the noise.
expect_exit 0 $B --db a.db --json anomalies vm-clean --no-store
python3 - <<'PY' || fail "clean series"
import json
m = json.load(open("out.txt"))["metrics"]["cpu_usage"]
assert m["flagged"] * 100 < m["points"], m
assert not [p for p in m["periods"] if p["start"].startswith("2013-07-31T1")], m["periods"]
PY

# Training leaves the spike out: forecasts of both twins agree, p99
# included, and the stored model (made without the spike) still finds it.
expect_exit 0 $B --db a.db train vm-clean vm-spiky
expect_exit 0 $B --db a.db forecast vm-clean vm-spiky --from 2013-08-05T00:00:00Z
python3 - <<'PY' || fail "forecast with the spike left out"
import csv
rows = list(csv.DictReader(open("out.txt")))
q = {}
for r in rows:
    for k in ("p95", "p99"):
        q.setdefault((r["entity"], k), []).append(float(r[k]))
for k in ("p95", "p99"):
    c = sum(q[("vm-clean", k)]) / 24
    s = sum(q[("vm-spiky", k)]) / 24
    assert abs(s - c) < 0.05 * c, (k, c, s)
PY
expect_exit 0 $B --db a.db --json anomalies vm-spiky --no-store
python3 - <<'PY' || fail "stored model"
import json
m = json.load(open("out.txt"))["metrics"]["cpu_usage"]
assert m["model"]["source"] == "stored" and m["model"]["model_version"] == 1, m["model"]
assert [p for p in m["periods"] if p["start"] == "2013-07-31T13:00:00Z"], m["periods"]
PY

# A window: --from/--until keep the spike out of view.
expect_exit 0 $B --db a.db anomalies vm-spiky --from 2013-08-01T00:00:00Z --no-store
lacks out.txt "2013-07-31 13:00"
contains out.txt "from 2013-08-01T00:00:00Z"

# Refusals, and nothing stored by them.
expect_exit 1 $B --db a.db anomalies vm-spiky --level 1.5
contains err.txt "--level"
expect_exit 1 $B --db a.db anomalies vm-spiky --level 0.5
contains err.txt "--level"
expect_exit 1 $B --db a.db anomalies vm-spiky --factor 0.5
contains err.txt "--factor"
expect_exit 1 $B --db a.db anomalies vm-spiky --block 90m
contains err.txt "--block"
expect_exit 1 $B --db a.db anomalies vm-spiky --step 7m
contains err.txt "--step"
expect_exit 1 $B --db a.db anomalies vm-spiky --from 2013-08-02 --until 2013-08-01
contains err.txt "--from"
expect_exit 1 $B --db a.db anomalies vm-spiky --from yesterday
contains err.txt "'yesterday'"
expect_exit 1 $B --db a.db anomalies nobody
contains err.txt "nobody"
expect_exit 1 $B --db a.db anomalies vm-spiky --metrics gpu
contains err.txt "gpu"
expect_exit 1 $B --db a.db anomalies
contains err.txt "--all"
printf 'tiny,cpu_usage,1372636800,1\ntiny,cpu_usage,1372640400,2\n' >tiny.csv
expect_exit 0 $B --db a.db ingest tiny.csv
expect_exit 1 $B --db a.db anomalies tiny
contains err.txt "not enough history"
expect_exit 0 $B --db a.db --json anomalies vm-spiky
[ "$(json_get out.txt 'd["anomalies_version"]')" = 3 ] || fail "refusals stored nothing: the next version is 3"
