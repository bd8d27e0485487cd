# bespoke image base: a Debian root filesystem by mmdebstrap as an OCI
# base, with a package really installed into it, then a personalized
# build on it; umoci and oci-image-tool as oracles.
. "$TESTLIB"
command -v mmdebstrap >/dev/null || skip "no mmdebstrap"
command -v umoci >/dev/null || skip "no umoci"

expect_exit 1 $B image base --out oci:L:x --suite "Book Worm"
contains err.txt "suite"
expect_exit 1 $B image base --out oci:L:x --include "jq;rm"
contains err.txt "not a Debian package name"
expect_exit 1 $B image base
contains err.txt "--out"

SOURCE_DATE_EPOCH=1700000000 expect_exit 0 $B --json image base --out oci:L:bookworm --include jq
[ "$(json_get out.txt 'd["tar_bytes"] > 50000000')" = True ] || fail "a root filesystem"
oci-image-tool validate --type image --ref name=bookworm L >ot.txt 2>&1 || { cat ot.txt; fail "oci-image-tool"; }
umoci unpack --image L:bookworm rfs >/dev/null 2>&1 || fail "umoci unpack"
grep -q "^12\." rfs/rootfs/etc/debian_version || fail "not bookworm"
[ -x rfs/rootfs/usr/bin/jq ] || fail "jq was not installed into the base"

# A personalized image on it: the base's setuid programs are the base's.
expect_exit 0 $B --db d.db demo --users 1 --days 14
expect_exit 0 $B --db d.db image build user-000-office --base oci:L:bookworm \
	--out oci:L:office --no-cloud-init
expect_exit 0 $B --db d.db image fsck --images L
umoci unpack --image L:office office >/dev/null 2>&1 || fail "umoci unpack office"
[ -f office/rootfs/etc/bespoke/image.json ] && [ -x office/rootfs/usr/bin/jq ] || fail "layers"

# --install: the plan's packages go into the root filesystem (the base is
# made again with them), not to first boot.
cat >small.yaml <<'Y'
version: 1
components:
  - name: json-tools
    kind: package
    description: A small tool everybody here uses.
    use: '1'
    packages: [jq, tree]
    size_mb: 2
    launch_seconds_saved: 5
Y
SOURCE_DATE_EPOCH=1700000000 expect_exit 0 $B --db d.db image build user-000-office --base oci:L:bookworm \
	--out oci:L:office-inst --no-cloud-init --install --catalog small.yaml
contains out.txt "installed into the root filesystem"
umoci unpack --image L:office-inst inst >/dev/null 2>&1 || fail "umoci unpack installed"
[ -x inst/rootfs/usr/bin/tree ] || fail "tree was not installed"
[ ! -e inst/rootfs/etc/bespoke/packages.list ] || fail "a first-boot list for installed packages"
expect_exit 0 $B --db d.db image fsck --images L
# Another base: --install needs one made by image base.
umoci init --layout U >/dev/null && umoci new --image U:empty >/dev/null
expect_exit 1 $B --db d.db image build user-000-office --base oci:U:empty --out oci:U:x \
	--no-cloud-init --install --catalog small.yaml
contains err.txt "was not made by"
