# bespoke image push against a real registry (docker-registry, the
# reference distribution server) on loopback, with skopeo as the oracle:
# the pushed image reads back with the same manifest digest, a second push
# sends no blob, a corrupt blob stops the push before anything is sent.
. "$TESTLIB"
command -v docker-registry >/dev/null || skip "no docker-registry"
command -v umoci >/dev/null || skip "no umoci"
command -v skopeo >/dev/null || skip "no skopeo"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >reg.yml <<Y
version: 0.1
storage:
  filesystem:
    rootdirectory: $PWD/regdata
http:
  addr: 127.0.0.1:$port
Y
docker-registry serve reg.yml >reg.log 2>&1 &
REG=$!
trap 'kill $REG 2>/dev/null' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

# A base image with one layer holding a file.
umoci init --layout img >/dev/null
umoci new --image img:base >/dev/null
umoci unpack --image img:base bundle >/dev/null 2>&1 || skip "umoci unpack needs privileges"
mkdir -p bundle/rootfs/etc
echo "hello from bespoke" >bundle/rootfs/etc/motd
umoci repack --image img:v1 bundle >/dev/null

expect_exit 0 $B image push oci:img:v1 http://127.0.0.1:$port/team/ws:v1
contains out.txt "pushed team/ws:v1@sha256:"
digest=$(sed -n 's/.*@\(sha256:[0-9a-f]*\):.*/\1/p' out.txt)
skopeo inspect --tls-verify=false docker://127.0.0.1:$port/team/ws:v1 >insp.json || fail "skopeo inspect"
[ "$(json_get insp.json 'd["Digest"]')" = "$digest" ] || fail "digest differs"
[ "$(json_get insp.json 'len(d["Layers"])')" = 1 ] || fail "one layer"
skopeo copy --src-tls-verify=false docker://127.0.0.1:$port/team/ws:v1 oci:back:v1 >/dev/null || fail "skopeo copy"
umoci unpack --image back:v1 back-bundle >/dev/null 2>&1
grep -q "hello from bespoke" back-bundle/rootfs/etc/motd || fail "the file did not travel"

# Again, under another tag: nothing is sent twice.
expect_exit 0 $B --json image push oci:img:v1 http://127.0.0.1:$port/team/ws:again
[ "$(json_get out.txt 'd["blobs_sent"]')" = 0 ] || fail "blobs sent again"
[ "$(json_get out.txt 'd["blobs_present"]')" = 2 ] || fail "layer and config already there"

# A corrupt layer: refused before anything is sent, the tag never appears.
cp -r img bad
layer=$(python3 -c "
import json
i = json.load(open('bad/index.json'))
m = [x for x in i['manifests'] if x['annotations']['org.opencontainers.image.ref.name'] == 'v1'][0]
man = json.load(open('bad/blobs/sha256/' + m['digest'][7:]))
print(man['layers'][0]['digest'][7:])")
chmod u+w bad/blobs/sha256/$layer
printf 'x' >>bad/blobs/sha256/$layer
expect_exit 2 $B image push oci:bad:v1 http://127.0.0.1:$port/team/bad:v1
contains err.txt "does not match its digest"
! skopeo inspect --tls-verify=false docker://127.0.0.1:$port/team/bad:v1 >/dev/null 2>&1 || fail "a tag for a corrupt image"

# Refusals.
expect_exit 1 $B image push oci:img:nope http://127.0.0.1:$port/team/ws
contains err.txt "no image tagged 'nope'"
expect_exit 1 $B image push img:v1 http://127.0.0.1:$port/team/ws
contains err.txt "oci:DIR:TAG"
expect_exit 1 $B image push oci:img:v1 ftp://127.0.0.1/x
expect_exit 1 $B image push oci:img:v1 http://127.0.0.1:$port/Team/WS
contains err.txt "lowercase"
expect_exit 2 $B image push oci:img:v1 http://127.0.0.1:1/team/ws
