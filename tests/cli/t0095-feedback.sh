# Feedback: a stored profile against what came after its origin; a level
# shift after the origin is flagged as drift (exit 3), the result is
# stored as a document unless --no-store, and the refusals.
. "$TESTLIB"

expect_exit 0 $B --db d.db demo --users 3 --days 21
expect_exit 0 $B --db d.db predict user-001-developer --at 2026-01-18T00:00:00Z
expect_exit 0 $B --db d.db --json feedback user-001-developer
python3 - <<'PY' || fail "feedback JSON"
import json
d = json.load(open("out.txt"))
assert d["format"] == "bespoke-feedback" and d["drift"] is False
for name, m in d["metrics"].items():
    assert m["steps"] == 24, (name, m)
    assert m["mase"] > 0 and 0 <= m["coverage95"] <= 1 and m["drift"] is False, (name, m)
PY
[ "$(sqlite3 d.db "SELECT count(*) FROM doc WHERE kind='feedback'")" = 1 ] || fail "stored"
expect_exit 0 $B --db d.db feedback user-001-developer --no-store
contains out.txt "cpu_usage"
[ "$(sqlite3 d.db "SELECT count(*) FROM doc WHERE kind='feedback'")" = 1 ] || fail "--no-store stored"

# The day after the origin, CPU runs at ten times its usual level.
python3 - <<'PY'
t0 = 1768694400  # 2026-01-18T00:00:00Z
with open("shift.csv", "w") as f:
    for i in range(288):
        f.write(f"user-001-developer,cpu_usage,{t0 + i * 300},{40 + (i % 7)}\n")
PY
expect_exit 0 $B --db d.db ingest shift.csv
expect_exit 3 $B --db d.db --json feedback user-001-developer --until 2026-01-19T00:00:00Z
python3 - <<'PY' || fail "drift"
import json
d = json.load(open("out.txt"))
assert d["drift"] is True
c = d["metrics"]["cpu_usage"]
assert c["drift"] is True and c["mase"] > 3 and "why" in c, c
assert d["metrics"]["mem_usage"]["drift"] is False
PY

expect_exit 1 $B --db d.db feedback nobody
printf 'lonely,cpu_usage,1768694400,1\n' >lonely.csv
expect_exit 0 $B --db d.db ingest lonely.csv
expect_exit 1 $B --db d.db feedback lonely
contains err.txt "no stored profile"
# A profile whose forecast starts after the last sample: nothing to compare.
expect_exit 0 $B --db d.db --json feedback user-000-office
[ "$(json_get out.txt 'd["metrics"]["cpu_usage"]["steps"]')" = 0 ] || fail "0 steps"
expect_exit 1 $B --db d.db feedback user-001-developer --version 99
