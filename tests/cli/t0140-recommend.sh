# bespoke recommend: the cheapest shape on the shipped catalog and on a
# hand-made one (checked here by exhaustive search over the YAML), savings,
# reasons, runtime adjustment with an adjustment document, the exports checked
# by their own tools (virsh, a YAML parser), and the clear refusals.
. "$TESTLIB"

expect_exit 0 $B --db d.db demo --users 3 --days 21
expect_exit 0 $B --db d.db recommend user-000-office
contains out.txt "user-000-office:"
contains out.txt "is the cheapest allowed shape"
contains out.txt "p95 peak"
contains out.txt "against the provisioned"
contains out.txt "stored as recommendation v1"
# Kept as documents (the API's profile route shows the latest), unless
# --no-store.
expect_exit 0 $B --db d.db --json recommend user-000-office
[ "$(json_get out.txt 'd["recommendation_version"]')" = 2 ] || fail "the second recommendation is v2"
expect_exit 0 $B --db d.db --json recommend --no-store user-000-office
[ "$(json_get out.txt '"recommendation_version" in d')" = False ] || fail "--no-store stored"
expect_exit 0 $B --db d.db --json recommend user-000-office
[ "$(json_get out.txt 'd["recommendation_version"]')" = 3 ] || fail "--no-store took a version"

# JSON: every need covered, cost = price x horizon, savings = current - cost.
expect_exit 0 $B --db d.db --json recommend --all --tier high
python3 - <<'PY' || fail "recommend JSON"
import json
recs = json.load(open("out.txt"))
assert len(recs) == 3, len(recs)
for r in recs:
    assert r["format"] == "bespoke-recommendation" and r["tier"] == "high" and r["quantile"] == 0.99
    have = r["choice"]["provides"]
    for k, n in r["need"].items():
        if n["value"] is not None:
            assert have[k] >= n["value"] - 1e-9, (r["entity"], k, have[k], n["value"])
    assert abs(r["cost_horizon"] - r["cost_hour"] * r["horizon_seconds"] / 3600) < 1e-6
    assert abs(r["savings_hour"] - (r["current"]["price_hour"] - r["cost_hour"])) < 1e-9
    assert 0 <= r["violation"]["any"] <= 1
    assert r["profile_version"] >= 1 and r["reasons"]
PY

# A hand-made catalog: the choice is the cheapest by exhaustive search.
cat >cat.yaml <<'Y'
version: 1
source: test catalog
storage:
  - {name: hdd, kind: hdd, size_gib: 100, iops: 200, mbps: 40, price_hour: 0.005}
  - {name: ssd, kind: ssd, size_gib: 100, iops: 3000, mbps: 125, price_hour: 0.011}
  - {name: fast, kind: nvme, size_gib: 100, iops: 20000, mbps: 800, price_hour: 0.09}
types:
  - {name: a.1, family: a, vcpu: 1, memory_gib: 2, network_gbps: 1, price_hour: 0.02, spot_hour: 0.008}
  - {name: a.2, family: a, vcpu: 2, memory_gib: 4, network_gbps: 1, price_hour: 0.04, spot_hour: 0.016}
  - {name: a.4, family: a, vcpu: 4, memory_gib: 8, network_gbps: 2, price_hour: 0.08, spot_hour: 0.032}
  - {name: b.2, family: b, vcpu: 2, memory_gib: 16, network_gbps: 2, price_hour: 0.07, spot_hour: 0.028}
  - {name: b.4, family: b, vcpu: 4, memory_gib: 32, network_gbps: 4, price_hour: 0.14, spot_hour: 0.056}
  - {name: c.8, family: c, vcpu: 8, memory_gib: 8, network_gbps: 4, price_hour: 0.12, spot_hour: 0.048}
  - {name: d.16, family: d, vcpu: 16, memory_gib: 64, network_gbps: 10, price_hour: 0.50, spot_hour: 0.2}
Y
cat >pol.yaml <<'Y'
version: 1
tiers:
  - {name: medium, quantile: 0.95, violation: 0.02}
  - {name: high, quantile: 0.99, violation: 0.005}
policies:
  - {name: default}
  - {name: tight, budget_hour: 0.001}
  - {name: nob, families: [a, c, d]}
  - {name: spotty, spot: always}
Y
for tier in medium high; do
for pol in default nob; do
expect_exit 0 $B --db d.db --json recommend --all --catalog cat.yaml --policy pol.yaml --use $pol --tier $tier
cp out.txt rec-$pol-$tier.json
POL=$pol python3 - rec-$pol-$tier.json <<'PY' || fail "exhaustive check ($pol $tier)"
import json, os, sys, yaml
cat = yaml.safe_load(open("cat.yaml"))
fams = {"default": None, "nob": {"a", "c", "d"}}[os.environ["POL"]]
for r in json.load(open(sys.argv[1])):
    need = {k: (v["value"] or 0) for k, v in r["need"].items()}
    best = None
    for t in cat["types"]:
        if fams and t["family"] not in fams:
            continue
        for s in cat["storage"]:
            have = {"cpu": t["vcpu"], "memory": t["memory_gib"], "network": t["network_gbps"],
                    "iops": s["iops"], "disk_mbps": s["mbps"]}
            if all(have[k] >= need[k] for k in need):
                p = t["price_hour"] + s["price_hour"]
                if best is None or p < best[0] - 1e-12:
                    best = (p, t["name"], s["name"])
    assert best, r["entity"]
    assert abs(r["cost_hour"] - best[0]) < 1e-9, (r["entity"], r["choice"], best)
PY
done
done

# Spot where the policy allows it: the cheapest at spot prices.
expect_exit 0 $B --db d.db --json recommend user-001-developer --catalog cat.yaml --policy pol.yaml --use spotty
python3 - <<'PY' || fail "spot"
import json, yaml
cat = yaml.safe_load(open("cat.yaml"))
d = json.load(open("out.txt"))
need = {k: (v["value"] or 0) for k, v in d["need"].items()}
best = min(t["spot_hour"] + s["price_hour"] for t in cat["types"] for s in cat["storage"]
           if t["vcpu"] >= need["cpu"] and t["memory_gib"] >= need["memory"] and
           t["network_gbps"] >= need["network"] and s["iops"] >= need["iops"] and s["mbps"] >= need["disk_mbps"])
assert d["choice"]["spot"] is True and abs(d["cost_hour"] - best) < 1e-9, (d["choice"], best)
PY

# Custom sizes (policy kubernetes of the shipped file): Fargate prices.
expect_exit 0 $B --db d.db --json recommend user-001-developer --use kubernetes
python3 - <<'PY' || fail "custom size"
import json, math
d = json.load(open("out.txt"))
c = d["choice"]
assert c["family"] == "custom" and c["name"].startswith("custom-"), c
cpu, mem = c["provides"]["cpu"], c["provides"]["memory"]
assert cpu == math.ceil(d["need"]["cpu"]["value"] / 0.25 - 1e-9) * 0.25
assert mem == max(0.5, math.ceil(d["need"]["memory"]["value"] / 0.5 - 1e-9) * 0.5)
storage = {"st1-500": 0.030822, "gp3-100": 0.010959, "gp3-100-fast": 0.147945, "io2-100-32k": 2.866438}
assert abs(c["price_hour"] - (cpu * 0.04048 + mem * 0.004445 + storage[c["storage"]])) < 1e-9, c
PY

# Impossible constraints: named.
expect_exit 1 $B --db d.db recommend user-000-office --catalog cat.yaml --policy pol.yaml --use tight
contains err.txt "budget"
contains err.txt "user-000-office"
# Bad YAML: file, line and field.
sed 's/vcpu: 4, memory_gib: 32/vcpu: four, memory_gib: 32/' cat.yaml >bad.yaml
expect_exit 1 $B --db d.db recommend user-000-office --catalog bad.yaml --policy pol.yaml
contains err.txt "bad.yaml:12:"
contains err.txt "vcpu"
expect_exit 1 $B --db d.db recommend user-000-office --tier platinum
contains err.txt "platinum"
expect_exit 1 $B --db d.db recommend user-000-office --use nosuch
contains err.txt "nosuch"
expect_exit 1 $B --db d.db recommend nobody
contains err.txt "nobody"
expect_exit 1 $B --db d.db recommend user-000-office --format pdf
contains err.txt "pdf"

# Exports: the instance name, Kubernetes YAML, libvirt XML through virsh.
expect_exit 0 $B --db d.db --json recommend user-001-developer
name=$(json_get out.txt 'd["choice"]["name"]')
need_cpu=$(json_get out.txt 'd["need"]["cpu"]["value"]')
expect_exit 0 $B --db d.db recommend user-001-developer --format instance
[ "$(cat out.txt)" = "$name" ] || fail "instance name '$(cat out.txt)' != '$name'"
expect_exit 0 $B --db d.db recommend user-001-developer --format k8s
cp out.txt pod.yaml
NEED_CPU=$need_cpu python3 - <<'PY' || fail "k8s YAML"
import os, yaml
d = yaml.safe_load(open("pod.yaml"))
assert d["apiVersion"] == "v1" and d["kind"] == "Pod"
c = d["spec"]["containers"][0]
res = c["resources"]
def cpu(q): return int(q[:-1]) / 1000 if q.endswith("m") else float(q)
def mem(q): assert q.endswith("Mi"); return int(q[:-2])
assert cpu(res["requests"]["cpu"]) >= float(os.environ["NEED_CPU"]) - 1e-3
assert cpu(res["limits"]["cpu"]) >= cpu(res["requests"]["cpu"])
assert mem(res["limits"]["memory"]) >= mem(res["requests"]["memory"]) > 0
assert d["metadata"]["name"] == c["name"] == "user-001-developer"
PY
expect_exit 0 $B --db d.db recommend user-001-developer --format libvirt
cp out.txt dom.xml
contains dom.xml "<iotune>"
contains dom.xml "<bandwidth>"
if command -v virsh >/dev/null; then
	expect_exit 0 virsh -c test:///default define --validate dom.xml
	contains out.txt "user-001-developer"
else
	echo "virsh not installed: libvirt XML not validated"
fi
expect_exit 1 $B --db d.db recommend --all --format libvirt
contains err.txt "one entity"

# Runtime adjustment: memory use jumps to 99% of what is allocated, just
# after the forecast's origin (decisions stay as of that origin).
expect_exit 0 $B --db d.db --json recommend user-000-office
at=$(json_get out.txt 'd["origin"]')
expect_exit 0 $B --db d.db --json recommend user-000-office --at "$at"
have=$(json_get out.txt 'd["choice"]["provides"]["memory"]')
mib=$(python3 -c "print(round($have * 1024 * 0.99))")
t=$(python3 -c "import datetime as d; print(int(d.datetime.fromisoformat('$at'.replace('Z','+00:00')).timestamp()) + 300)")
echo "user-000-office,mem_usage,$t,$mib,MiB" >jump.csv
expect_exit 0 $B --db d.db ingest jump.csv
expect_exit 0 $B --db d.db --json recommend user-000-office --observed --at "$at"
python3 - <<'PY' || fail "adjusted"
import json
d = json.load(open("out.txt"))
fb = d["adjustment"]
assert fb["format"] == "bespoke-adjustment" and fb["kind"] == "under-provisioned"
ev = [e for e in fb["events"] if e["resource"] == "memory"][0]
assert ev["share"] >= 0.9
assert d["choice"]["provides"]["memory"] >= ev["observed"] / 0.9 - 1e-9
assert any("raised at once" in r for r in d["reasons"])
PY
expect_exit 0 $B --db d.db recommend user-000-office --observed --at "$at"
contains out.txt "adjustment v2 stored"
