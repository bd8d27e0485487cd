# Personalized images: plan (rules, knapsack within a budget, reasons),
# build on a base made by umoci, checked by outside tools (umoci unpack,
# oci-image-tool validate, cloud-init schema), reproducible digests,
# validation, and planted bad content refused without a tag.
. "$TESTLIB"
command -v umoci >/dev/null || skip "umoci not installed"
command -v oci-image-tool >/dev/null || skip "oci-image-tool not installed"

# ---- a profile from the store --------------------------------------------
expect_exit 0 $B --db d.db demo --users 4 --days 14
expect_exit 0 $B --db d.db --json predict user-003-ml
expect_exit 0 $B --db d.db image catalog
contains out.txt "components"
contains out.txt "db-clients"

expect_exit 0 $B --db d.db --json image plan user-003-ml --budget-mb 400
python3 - <<'PY' || fail "plan JSON"
import json
d = json.load(open("out.txt"))
assert d["format"] == "bespoke-image-plan" and d["entity"] == "user-003-ml"
assert d["profile_version"] >= 1
items = {i["component"]: i for m in d["modules"] for i in m["items"]}
assert [m["name"] for m in d["modules"]] == ["resources", "software", "services", "data", "network"]
# within the budget, and the value is the sum over the chosen packages
pk = [i for i in items.values() if i["kind"] == "package" and i["chosen"]]
assert d["packages_mb"] <= 400 and d["packages_mb"] == sum(i["size_mb"] for i in pk)
assert abs(d["expected_seconds_saved"] - sum(i["value"] for i in pk)) < 1e-6
# an ML engineer gets the scientific stack; 950 MB of frameworks do not fit
assert items["python-datascience"]["chosen"], items["python-datascience"]
assert not items["ml-frameworks"]["chosen"]
assert "knapsack left it out" in items["ml-frameworks"]["reason"]
assert 'persona["ml-engineer"]=' in items["python-datascience"]["reason"]
assert not items["db-clients"]["chosen"] and "is false" in items["db-clients"]["reason"]
paths = [f["path"] for f in d["diff"]["files_added"]]
assert paths == sorted(paths) and "/etc/bespoke/image.json" in paths
assert "python3-numpy" in d["diff"]["packages_first_boot"]
assert "python3-torch" not in d["diff"]["packages_first_boot"]
PY
# without a budget the frameworks come too
expect_exit 0 $B --db d.db --json image plan user-003-ml
[ "$(json_get out.txt '[i["chosen"] for m in d["modules"] for i in m["items"] if i["component"] == "ml-frameworks"][0]')" = True ] || fail "no budget: everything whose rule holds"
expect_exit 0 $B --db d.db image plan user-003-ml
contains out.txt "difference from the base image:"
contains out.txt "+ python-datascience"

# ---- a constructed profile: a database user, known numbers ------------------
cat >dba.json <<'EOF'
{"format": "bespoke-profile", "version": 1, "entity": "db7", "profile_version": 5,
 "metrics": {"mem_usage": {"unit": "MiB", "model": {"model_version": 3},
   "forecast": {"point": [9000, 12000], "quantiles": {"p50": [8000, 16000], "p95": [10000, 20000]}}}},
 "behaviour": {"workload": {"class": "interactive", "p_interactive": 0.9},
   "personas": [{"name": "dba", "p": 0.8}, {"name": "developer", "p": 0.2}],
   "apps": {"next": [], "coming_hour": [{"name": "psql", "p": 0.6}],
            "coming_day": [{"name": "psql", "p": 0.9}]}}}
EOF
expect_exit 0 $B --json image plan --profile dba.json
python3 - <<'PY' || fail "dba plan"
import json
d = json.load(open("out.txt"))
items = {i["component"]: i for m in d["modules"] for i in m["items"]}
for c in ("db-cache-tuning", "db-hugepages", "db-clients", "interactive-latency"):
    assert items[c]["chosen"], (c, items[c]["reason"])
assert not items["batch-limits"]["chosen"]
# P(use) = max(psql p_day 0.9, mysql 0, dba 0.8); value = 0.9 x 25 s
assert abs(items["db-clients"]["p_use"] - 0.9) < 1e-12 and abs(items["db-clients"]["value"] - 22.5) < 1e-9
# hugepages = mem.p50 (max over the horizon: 16000 MiB) / 4 / 2 MiB pages
assert d["diff"]["sysctl"]["vm.nr_hugepages"] == "2000", d["diff"]["sysctl"]
assert d["diff"]["sysctl"]["vm.dirty_ratio"] == "10"
assert d["models"] == "mem_usage=3" and d["profile_version"] == 5
assert "postgresql-client" in d["diff"]["packages_first_boot"]
assert not items["db-hugepages-planned"]["chosen"]
PY
# with a resource plan: huge pages from its memory (GiB): 48 * 1024 / 4 / 2
cat >rplan.json <<'EOF'
{"format": "bespoke-plan", "entity": "db7", "steps": [
 {"need": {"cpu": 4, "memory": 32}}, {"need": {"cpu": 8, "memory": 48}}]}
EOF
expect_exit 0 $B --json image plan --profile dba.json --resource-plan rplan.json
python3 - <<'PY' || fail "dba plan with a resource plan"
import json
d = json.load(open("out.txt"))
items = {i["component"]: i for m in d["modules"] for i in m["items"]}
assert items["db-hugepages-planned"]["chosen"] and not items["db-hugepages"]["chosen"]
assert "plan.memory=48" in items["db-hugepages-planned"]["reason"]
assert d["diff"]["sysctl"]["vm.nr_hugepages"] == "6144", d["diff"]["sysctl"]
PY

# ---- build on a base made by umoci ------------------------------------------
umoci init --layout base >/dev/null || fail "umoci init"
umoci new --image base:v1 >/dev/null || fail "umoci new"
mkdir -p src/etc/bespoke src/etc/sysctl.d && echo "ID=bespoke-test" >src/etc/os-release
echo '{"old": true}' >src/etc/bespoke/image.json
echo "vm.swappiness = 60" >src/etc/sysctl.d/90-bespoke.conf
umoci insert --rootless --image base:v1 src/etc /etc >/dev/null 2>&1 || fail "umoci insert"
# a second base layer removes one of those again
umoci insert --rootless --image base:v1 --whiteout /etc/sysctl.d/90-bespoke.conf >/dev/null 2>&1 || fail "umoci insert --whiteout"

# the difference from this base: image.json is replaced, the whited-out
# sysctl file counts as new
expect_exit 0 $B --db d.db --json image plan user-003-ml --base oci:base:v1
python3 - <<'PY' || fail "plan against the base"
import json
d = json.load(open("out.txt"))["diff"]
rep = [f["path"] for f in d["files_replaced"]]
add = [f["path"] for f in d["files_added"]]
assert rep == ["/etc/bespoke/image.json"], rep
assert "/etc/sysctl.d/90-bespoke.conf" in add and "/etc/bespoke/image.json" not in add
PY
expect_exit 0 $B --db d.db image plan user-003-ml --base oci:base:v1
contains out.txt "~ /etc/bespoke/image.json"

export SOURCE_DATE_EPOCH=1700000000
expect_exit 0 $B --db d.db --json image build user-003-ml --base oci:base:v1 --out oci:reg:ml --user-data ml.yaml
d1=$(json_get out.txt 'd["digest"]')
[ "$(json_get out.txt 'd["build_version"]')" = 1 ] || fail "the build is stored as image document version 1"
[ "$(json_get out.txt 'd["base_digest"]')" = "$(python3 -c 'import json; print(json.load(open("base/index.json"))["manifests"][0]["digest"])')" ] || fail "base digest"
oci-image-tool validate --type image --ref name=ml reg >ot.txt 2>&1 || { cat ot.txt; fail "oci-image-tool rejects the image"; }
umoci unpack --rootless --image reg:ml bundle >/dev/null 2>um.txt || { cat um.txt; fail "umoci unpack"; }
r=bundle/rootfs
[ "$(cat $r/etc/os-release)" = "ID=bespoke-test" ] || fail "the base layer is kept"
grep -qx "vm.max_map_count = 262144" $r/etc/sysctl.d/90-bespoke.conf || fail "sysctl file"
grep -qx "python3-numpy" $r/etc/bespoke/packages.list || fail "package list"
[ -x $r/usr/local/sbin/bespoke-firstboot ] || fail "first-boot script is executable"
sh -n $r/usr/local/sbin/bespoke-firstboot || fail "first-boot script syntax"
[ "$(readlink $r/etc/systemd/system/multi-user.target.wants/bespoke-firstboot.service)" = /etc/systemd/system/bespoke-firstboot.service ] || fail "first-boot unit enabled"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["entity"]=="user-003-ml" and d["components"]' $r/etc/bespoke/image.json || fail "image.json"
# annotations and history
man=$(python3 -c 'import json; print([m["digest"] for m in json.load(open("reg/index.json"))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]=="ml"][0])')
python3 - "reg/blobs/sha256/${man#sha256:}" <<'PY' || fail "manifest annotations"
import json, sys
m = json.load(open(sys.argv[1]))
a = m["annotations"]
assert a["io.bespoke.base.layers"] == "2" and a["io.bespoke.entity"] == "user-003-ml"
assert int(a["io.bespoke.profile.version"]) >= 1 and "cpu_usage=" in a["io.bespoke.models"]
assert a["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
assert len(m["layers"]) == 3
PY
# the cloud-init twin
head -1 ml.yaml | grep -qx "#cloud-config" || fail "user-data header"
if command -v cloud-init >/dev/null; then
	cloud-init schema --config-file ml.yaml >ci.txt 2>&1 || { cat ci.txt; fail "cloud-init schema rejects the user-data"; }
fi
contains ml.yaml "python3-numpy"
contains ml.yaml "/etc/sysctl.d/90-bespoke.conf"

# the same base and profile: the same digest, in another layout too
expect_exit 0 $B --db d.db --json image build user-003-ml --base oci:base:v1 --out oci:reg2:ml --user-data ml2.yaml
[ "$(json_get out.txt 'd["digest"]')" = "$d1" ] || fail "rebuild gives another digest"
expect_exit 0 $B --db d.db --json image build user-003-ml --base oci:base:v1 --out oci:reg:ml-again --no-cloud-init --user-data ml3.yaml
[ "$(json_get out.txt 'd["digest"]')" = "$d1" ] || fail "rebuild in the same layout"
SOURCE_DATE_EPOCH=1700000001 expect_exit 0 $B --db d.db --json image build user-003-ml --base oci:base:v1 --out oci:reg:later --no-cloud-init --user-data ml4.yaml
[ "$(json_get out.txt 'd["digest"]')" != "$d1" ] || fail "the epoch is part of the image"
# into the base's own layout: only the new blobs are added
nb=$(ls base/blobs/sha256 | wc -l)
expect_exit 0 $B image build --profile dba.json --base oci:base:v1 --out oci:base:db7 --no-cloud-init --user-data db7.yaml
[ "$(ls base/blobs/sha256 | wc -l)" = $((nb + 3)) ] || fail "layer, config and manifest only"
oci-image-tool validate --type image --ref name=db7 base >ot.txt 2>&1 || { cat ot.txt; fail "oci-image-tool: db7"; }
# blobs are shared: the base layer is stored once in reg
[ "$(ls reg/blobs/sha256 | wc -l)" -le 9 ] || fail "blobs not shared"

expect_exit 0 $B image validate oci:reg:ml --user-data ml.yaml
contains out.txt "valid"
expect_exit 1 $B image validate oci:reg:nosuch
contains err.txt "no image tagged 'nosuch'"

# ---- planted bad content -------------------------------------------------------
cat >bad.yaml <<'EOF'
version: 1
components:
  - name: rootme
    kind: file
    files:
      - path: /usr/local/bin/rootme
        mode: "4755"
        content: "#!/bin/sh\n"
  - name: leaked-key
    kind: file
    files:
      - path: /etc/bespoke/id_ed25519
        mode: "0600"
        content: |
          -----BEGIN OPENSSH PRIVATE KEY-----
          b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
          -----END OPENSSH PRIVATE KEY-----
EOF
expect_exit 1 $B image build --profile dba.json --catalog bad.yaml --base oci:base:v1 --out oci:reg:evil --no-cloud-init --user-data evil.yaml
contains err.txt "/usr/local/bin/rootme: setuid: mode 4755"
contains err.txt "/etc/bespoke/id_ed25519: secret: holds a private key"
contains err.txt "image not tagged"
lacks reg/index.json '"evil"'
expect_exit 0 $B image validate oci:reg:ml

cat >trav.yaml <<'EOF'
version: 1
components:
  - name: sneaky
    kind: file
    files:
      - path: /etc/../root/.ssh/authorized_keys
        content: "ssh-ed25519 AAAA\n"
EOF
expect_exit 1 $B image plan --profile dba.json --catalog trav.yaml
contains err.txt "trav.yaml:6:15: files.path: '/etc/../root/.ssh/authorized_keys' climbs out with '..' (path traversal)"

cat >rule.yaml <<'EOF'
version: 1
components:
  - name: typo
    kind: sysctl
    condition: 'persona["dba"] > 0.5 && mem.p50 >'
    sysctl: {vm.swappiness: "10"}
EOF
expect_exit 1 $B image plan --profile dba.json --catalog rule.yaml
contains err.txt "rule.yaml:5:50: expected a value"

# ---- clear refusals --------------------------------------------------------------
expect_exit 1 $B --db d.db image plan nobody
contains err.txt "nobody: no stored profile"
expect_exit 1 $B image build --profile dba.json --base oci:base:v1
contains err.txt "--out oci:DIR:TAG are required"
expect_exit 1 $B image build --profile dba.json --base oci:base:nope --out oci:reg:x
contains err.txt "no image tagged 'nope'"
echo '{"format": "bespoke-profile", "metrics": [' >broken.json
expect_exit 1 $B image plan --profile broken.json
contains err.txt "broken.json:"
expect_exit 1 $B image frobnicate
contains err.txt "not a subcommand"

# a damaged blob is found by validate
layer=$(python3 - "reg/blobs/sha256/${man#sha256:}" <<'PY'
import json, sys
print(json.load(open(sys.argv[1]))["layers"][-1]["digest"][7:])
PY
)
chmod u+w reg/blobs/sha256/$layer
printf 'X' | dd of=reg/blobs/sha256/$layer bs=1 seek=30 conv=notrunc 2>/dev/null
expect_exit 1 $B image validate oci:reg:ml
contains err.txt "digest"
exit 0
