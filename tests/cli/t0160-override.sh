# bespoke override: an administrator's values win over the predictions in
# recommend and plan until they expire; every change is a new version that
# --list shows; --clear ends it; bad values are refused and store nothing.
. "$TESTLIB"

python3 - <<'PY'
t0 = 1767225600  # 2026-01-01T00:00:00Z, four weeks of a constant VM
with open("flat.csv", "w") as f:
    for h in range(28 * 24):
        f.write(f"flat,cpu_usage,{t0 + h * 3600},1.5,cores\n")
        f.write(f"flat,mem_usage,{t0 + h * 3600},3072,MiB\n")
PY
expect_exit 0 $B --db d.db ingest flat.csv
expect_exit 0 $B --db d.db --json recommend flat
base=$(json_get out.txt 'd["choice"]["name"]')
[ "$(json_get out.txt 'd["override"]')" = None ] || fail "no override yet"
[ "$(json_get out.txt 'd["origin"]')" = 2026-01-29T00:00:00Z ] || fail "origin"

# Until noon on the forecast's first day: 40 GiB, whatever the forecast.
expect_exit 0 $B --db d.db override flat --mem 40GiB --expires 2026-01-29T12:00:00Z --reason "load test"
contains out.txt "override v1"
expect_exit 0 $B --db d.db --json recommend flat
python3 - <<'PY' || fail "override wins in recommend"
import json
d = json.load(open("out.txt"))
assert d["override"]["memory"] == 40 and d["override"]["reason"] == "load test"
assert d["override"]["override_version"] == 1
assert d["need"]["memory"]["value"] == 40
assert d["choice"]["provides"]["memory"] >= 40
assert any("override v1" in r for r in d["reasons"])
PY
expect_exit 0 $B --db d.db recommend flat
contains out.txt "override v1 in force: load test"
expect_exit 0 $B --db d.db --json plan flat --horizon 1d
BASE=$base python3 - <<'PY' || fail "override wins in plan, then expires"
import json, os
d = json.load(open("out.txt"))
s = d["steps"]
assert d["override_version"] == 1
assert len(s) == 2, s
assert s[0]["override"] and s[0]["need"]["memory"] == 40 and s[0]["until"] == "2026-01-29T12:00:00Z"
assert not s[1]["override"] and s[1]["from"] == "2026-01-29T12:00:00Z"
assert s[1]["shape"] == os.environ["BASE"] and s[1]["why"] == "override expired"
PY

# An instance type override.
expect_exit 0 $B --db d.db override flat --type r5.2xlarge --expires 2026-02-01T00:00:00Z --reason "vendor certified"
expect_exit 0 $B --db d.db --json recommend flat
[ "$(json_get out.txt 'd["choice"]["name"]')" = r5.2xlarge ] || fail "type override"

# Expired at the decision time: the forecast decides again.
expect_exit 0 $B --db d.db override flat --cpu 32 --expires 2026-01-28T00:00:00Z --reason "last week's test"
expect_exit 0 $B --db d.db --json recommend flat
[ "$(json_get out.txt 'd["override"]')" = None ] || fail "an expired override must not win"
[ "$(json_get out.txt 'd["choice"]["name"]')" = "$base" ] || fail "back to the forecast"

# A duration counts from now, which is after the trace: in force.
expect_exit 0 $B --db d.db override flat --cpu 6 --expires 2h --reason "incident"
expect_exit 0 $B --db d.db --json recommend flat
[ "$(json_get out.txt 'd["need"]["cpu"]["value"]')" = 6.0 ] || fail "duration expiry"
expect_exit 0 $B --db d.db override flat --clear --reason "incident over"
contains out.txt "cleared (v5)"
expect_exit 0 $B --db d.db --json recommend flat
[ "$(json_get out.txt 'd["override"]')" = None ] || fail "cleared"

expect_exit 0 $B --db d.db override flat --list
contains out.txt "cleared"
contains out.txt "replaced"
contains out.txt "load test"
[ "$(grep -c '^[0-9]' out.txt)" = 5 ] || fail "five versions"
expect_exit 0 $B --db d.db --json override flat --list
[ "$(json_get out.txt '[x["override_version"] for x in d]')" = "[5, 4, 3, 2, 1]" ] || fail "newest first"

# Refusals store nothing.
expect_exit 1 $B --db d.db override flat --mem lots --expires 1h --reason x
contains err.txt "--mem"
expect_exit 1 $B --db d.db override flat --cpu 2 --reason x
contains err.txt "--expires"
expect_exit 1 $B --db d.db override flat --cpu 2 --expires 1h
contains err.txt "--reason"
expect_exit 1 $B --db d.db override flat --cpu -1 --expires 1h --reason x
contains err.txt "--cpu"
expect_exit 1 $B --db d.db override flat --type z9.huge --expires 1h --reason x
contains err.txt "z9.huge"
expect_exit 1 $B --db d.db override flat --expires tomorrowish --cpu 2 --reason x
contains err.txt "--expires"
expect_exit 1 $B --db d.db override nobody --cpu 2 --expires 1h --reason x
contains err.txt "nobody"
expect_exit 1 $B --db d.db override flat --list --clear
expect_exit 0 $B --db d.db --json override flat --list
[ "$(json_get out.txt 'len(d)')" = 5 ] || fail "a refusal stored something"
