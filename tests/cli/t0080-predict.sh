# The prediction commands on a small demo fleet: train, predict (profile
# JSON and versions), forecast (CSV, no look-ahead), backtest, and the
# clear refusals.
. "$TESTLIB"

expect_exit 0 $B --db d.db demo --users 4 --days 21
expect_exit 0 $B --db d.db train --all
contains out.txt "trained 4 of 4"
expect_exit 0 $B --db d.db --json predict user-000-office
python3 - <<'PY' || fail "profile JSON"
import json, math
d = json.load(open("out.txt"))
assert d["format"] == "bespoke-profile" and d["profile_version"] >= 1
open("v.txt", "w").write(str(d["profile_version"] + 1))
m = d["metrics"]
assert set(m) == {"cpu_usage", "mem_usage", "disk_total", "net_total"}, m.keys()
for name, x in m.items():
    f = x["forecast"]
    assert len(f["point"]) == 24
    q = f["quantiles"]
    for k in ("p50", "p90", "p95", "p99"):
        assert len(q[k]) == 24 and all(v is not None and v >= 0 for v in q[k]), (name, k)
    for h in range(24):
        assert q["p50"][h] <= q["p90"][h] <= q["p95"][h] <= q["p99"][h], (name, h)
    assert 0 <= x["daily_peak"]["hour_utc"] < 24
    assert len(x["history"]["daily_shape"]) == 24 and len(x["history"]["weekly_shape"]) == 7
    assert x["model"]["model_version"] >= 1  # the stored model was used
    assert x["model"]["backtest"]["mase"] > 0
# an office worker peaks in working hours (UTC offset within +-12 h)
PY
expect_exit 0 $B --db d.db --json predict user-000-office --horizon 7d
[ "$(json_get out.txt 'd["profile_version"]')" = "$(cat v.txt)" ] || fail "the next profile is the next version"
[ "$(json_get out.txt 'len(d["metrics"]["cpu_usage"]["forecast"]["point"])')" = 168 ] || fail "7 days of hours"
expect_exit 0 $B --db d.db predict user-001-developer --step 15m --horizon 6h --no-store
contains out.txt "cpu_usage"

# forecast: CSV columns, and nothing after --from matters.
expect_exit 0 $B --db d.db forecast --all --from 2026-01-20T00:00:00Z --horizon 24h --step 1h --metrics cpu_usage,mem_usage --format csv
head -1 out.txt | grep -qx "entity,metric,ts,mean,p50,p90,p95,p99" || fail "header"
[ "$(grep -c ',cpu_usage,' out.txt)" = 96 ] || fail "4 users x 24 hours"
grep -q "^user-002-batch,mem_usage,1768867200," out.txt || fail "first step at --from"
cp out.txt before.csv
# Rewrite everything from the origin on with other values.
for h in $(seq 0 200); do
	for u in user-000-office user-001-developer user-002-batch user-003-ml; do
		echo "$u,cpu_usage,$((1768867200 + h * 300)),99"
		echo "$u,mem_usage,$((1768867200 + h * 300)),12345"
	done
done >late.csv
expect_exit 0 $B --db d.db ingest late.csv
expect_exit 0 $B --db d.db forecast --all --from 2026-01-20T00:00:00Z --metrics cpu_usage,mem_usage
cmp out.txt before.csv || fail "samples after --from changed the forecast"

expect_exit 0 $B --db d.db backtest --origins 2 --from 2026-01-18T00:00:00Z
contains out.txt "bespoke"
contains out.txt "snaive_day"
expect_exit 0 $B --db d.db --json backtest --origins 1 --from 2026-01-18T00:00:00Z user-002-batch
[ "$(json_get out.txt 'd["rows"][0]["forecasts"]')" -gt 0 ] || fail "backtest scored nothing"

# Refusals: too little history, unknown entity, metric, model, options.
printf 'tiny,cpu_usage,1768867200,1\ntiny,cpu_usage,1768867500,2\ntiny,cpu_usage,1768867800,3\n' >tiny.csv
expect_exit 0 $B --db d.db ingest tiny.csv
expect_exit 1 $B --db d.db predict tiny
contains err.txt "not enough history"
expect_exit 1 $B --db d.db train tiny
contains err.txt "tiny"
expect_exit 1 $B --db d.db predict nobody
contains err.txt "nobody"
expect_exit 1 $B --db d.db predict user-000-office --metrics gpu
contains err.txt "gpu"
expect_exit 1 $B --db d.db train --all --model crystal_ball
contains err.txt "crystal_ball"
expect_exit 1 $B --db d.db forecast --all
contains err.txt "--from"
expect_exit 1 $B --db d.db predict user-000-office --step 7m
contains err.txt "--step"
