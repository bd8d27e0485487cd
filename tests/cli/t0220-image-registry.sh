# The image registry: history, revoke, rollback, list; builds killed at
# random moments leave a layout that fsck passes; gc removes what no tag
# reaches and leftovers; a corrupt blob is found by fsck.
. "$TESTLIB"
command -v umoci >/dev/null || skip "no umoci"

expect_exit 0 $B --db d.db demo --users 2 --days 14
umoci init --layout d.db-images >/dev/null
umoci new --image d.db-images:debian12 >/dev/null
for i in 1 2 3; do
	SOURCE_DATE_EPOCH=$i expect_exit 0 $B --db d.db image build user-000-office \
		--base oci:d.db-images:debian12 --out oci:d.db-images:office-v$i --no-cloud-init
done
expect_exit 0 $B --db d.db --json image history user-000-office
[ "$(json_get out.txt '[x["image_version"] for x in d]')" = "[3, 2, 1]" ] || fail "history"
d2=$(json_get out.txt 'd[1]["digest"]')
d1=$(json_get out.txt 'd[2]["digest"]')

# diff: the same files rebuilt (another mtime) are the same; a build with
# no room for packages drops the package list.
expect_exit 0 $B --db d.db image diff user-000-office 1 2
contains out.txt "(the same files)"
SOURCE_DATE_EPOCH=9 expect_exit 0 $B --db d.db image build user-000-office \
	--base oci:d.db-images:debian12 --out oci:d.db-images:office-small --no-cloud-init --budget-mb 1
expect_exit 0 $B --db d.db --json image diff user-000-office 3 4
python3 -c "
import json; d = {x['path']: x['change'] for x in json.load(open('out.txt'))}
assert d.get('etc/bespoke/packages.list') == 'removed', d" || fail "diff"
expect_exit 1 $B --db d.db image diff user-000-office 1 99
# v4 was an experiment: back to v3 (the rollback below goes further back).
expect_exit 0 $B --db d.db image rollback user-000-office --to 3 --reason "keep packages"
expect_exit 0 $B --db d.db --json image history user-000-office
[ "$(json_get out.txt 'd[0]["rollback_to"]')" = 3 ] || fail "explicit rollback"

# Revoke v2: a rollback skips it, and an explicit one is refused.
expect_exit 1 $B --db d.db image revoke user-000-office 2
contains err.txt "--reason"
expect_exit 0 $B --db d.db image revoke user-000-office 2 --reason "bad sysctl"
expect_exit 1 $B --db d.db image rollback user-000-office --to 2 --reason x
contains err.txt "revoked"
expect_exit 0 $B --db d.db image rollback user-000-office --to 1 --reason "v3 is slow"
contains out.txt "image v1 is now v6"
expect_exit 0 $B --db d.db --json image history user-000-office
[ "$(json_get out.txt 'd[0]["digest"]')" = "$d1" ] || fail "v1 is current again"
[ "$(json_get out.txt 'd[0]["rollback_to"]')" = 1 ] || fail "rollback recorded"
[ "$(json_get out.txt '[x["revoked"] for x in d if x["image_version"] == 2][0]')" = True ] || fail "v2 revoked"
d3=$(json_get out.txt '[x["digest"] for x in d if x["image_version"] == 3][0]')
# Without --to: the newest earlier image that differs and is not revoked.
expect_exit 0 $B --db d.db image rollback user-000-office --reason "back again"
contains out.txt "image v5 is now v7"
expect_exit 0 $B --db d.db --json image history user-000-office
[ "$(json_get out.txt 'd[0]["digest"]')" = "$d3" ] || fail "default rollback target"
expect_exit 0 $B --db d.db --json image list
python3 - "$d2" <<'PY' || fail "list"
import json, sys
d = {x["tag"]: x for x in json.load(open("out.txt"))}
assert d["office-v2"]["state"] == "revoked" and d["office-v2"]["digest"] == sys.argv[1]
assert d["office-v1"]["built_for"]["entity"] == "user-000-office"
assert d["debian12"]["built_for"] is None
PY
expect_exit 1 $B --db d.db image history nobody

# Builds killed with SIGKILL at moments spread over their run: the layout
# always passes fsck (leftovers are counted, not problems).
for i in $(seq 1 25); do
	SOURCE_DATE_EPOCH=$((100 + i)) timeout -s KILL "0.0$((i % 9 + 1))" \
		$B --db d.db image build user-001-developer --base oci:d.db-images:debian12 \
		--out oci:d.db-images:dev-$i --no-cloud-init >/dev/null 2>&1 || true
	expect_exit 0 $B --db d.db image fsck
done
expect_exit 0 umoci ls --layout d.db-images

# gc: untag v3, then its blobs go (with no grace), the rest stays sound.
python3 - <<'PY'
import json
p = "d.db-images/index.json"
d = json.load(open(p))
d["manifests"] = [m for m in d["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] != "office-v3"]
json.dump(d, open(p, "w"))
PY
expect_exit 0 $B --db d.db --json image gc --dry-run --grace 0
[ "$(json_get out.txt 'd["unreferenced"] >= 3')" = True ] || fail "v3's blobs unreferenced"
n_before=$(ls d.db-images/blobs/sha256 | wc -l)
[ "$n_before" = "$(ls d.db-images/blobs/sha256 | wc -l)" ] || fail "dry run removed files"
expect_exit 0 $B --db d.db --json image gc --grace 0
[ "$(json_get out.txt 'd["removed"] >= 3')" = True ] || fail "gc removed nothing"
expect_exit 0 $B --db d.db --json image fsck
[ "$(json_get out.txt 'd["unreferenced"] + d["leftovers"]')" = 0 ] || fail "gc left something"
umoci unpack --image d.db-images:office-v1 b1 >/dev/null 2>&1 || fail "v1 broken by gc"

# A blob changed on disk is found.
blob=$(ls d.db-images/blobs/sha256 | head -1)
chmod u+w d.db-images/blobs/sha256/$blob
printf 'x' >>d.db-images/blobs/sha256/$blob
expect_exit 1 $B --db d.db image fsck
contains out.txt "problem:"
