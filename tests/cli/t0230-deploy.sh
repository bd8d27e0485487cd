# bespoke deploy: the current image at its recommended size, for libvirt
# (the domain is defined in libvirt's test driver by virsh), cloud-init,
# kubernetes and a registry (docker-registry on loopback, read back with
# skopeo); a revoked image is refused; each deployment is recorded.
. "$TESTLIB"
command -v umoci >/dev/null || skip "no umoci"

expect_exit 0 $B --db d.db demo --users 2 --days 14
umoci init --layout d.db-images >/dev/null
umoci new --image d.db-images:debian12 >/dev/null
expect_exit 1 $B --db d.db deploy user-000-office --to libvirt --out dep
contains err.txt "no image built"
expect_exit 0 $B --db d.db image build user-000-office --base oci:d.db-images:debian12 \
	--out oci:d.db-images:office-v1 --no-cloud-init --user-data office.user-data

if command -v virsh >/dev/null; then
	expect_exit 0 $B --db d.db deploy user-000-office --to libvirt --out dep --apply test:///default
	contains out.txt "defined with virsh"
	virsh -q -c test:///default define --validate dep/user-000-office.xml >/dev/null || fail "virsh validate"
	grep -q "image sha256:" dep/user-000-office.xml || fail "image in the domain description"
	cmp dep/user-000-office.user-data office.user-data || fail "user-data"
fi
expect_exit 0 $B --db d.db --json deploy user-000-office --to cloud-init --out dep
shape=$(json_get out.txt 'd["shape"]')
[ "$(cat dep/user-000-office.instance-type)" = "$shape" ] || fail "instance type"
[ "$(json_get out.txt 'd["target"]')" = cloud-init ] || fail "record"
# An override in force changes the size deployed.
expect_exit 0 $B --db d.db override user-000-office --cpu 32 --expires 2h --reason "load test"
expect_exit 0 $B --db d.db --json deploy user-000-office --to cloud-init --out dep
[ "$(json_get out.txt 'd["shape"]')" != "$shape" ] || fail "the override did not count"

if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/regdata\nhttp:\n  addr: 127.0.0.1:%s\n' "$PWD" $port >reg.yml
	docker-registry serve reg.yml >reg.log 2>&1 &
	REG=$!
	trap 'kill $REG 2>/dev/null' EXIT
	for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
	expect_exit 0 $B --db d.db --json deploy user-000-office --to kubernetes --registry http://127.0.0.1:$port/ws/office --out dep
	digest=$(json_get out.txt 'd["pushed"]["digest"]')
	grep -q "image: \"127.0.0.1:$port/ws/office@$digest\"" dep/user-000-office.yaml || { cat dep/user-000-office.yaml; fail "pod image"; }
	if python3 -c "import yaml" 2>/dev/null; then
		python3 -c "
import yaml; d = yaml.safe_load(open('dep/user-000-office.yaml'))
assert d['kind'] == 'Pod' and d['spec']['containers'][0]['resources']['limits']['cpu']" || fail "pod yaml"
	fi
	[ "$(skopeo inspect --tls-verify=false docker://127.0.0.1:$port/ws/office:v1 | json_get /dev/stdin 'd["Digest"]')" = "$digest" ] || fail "pushed"
fi

expect_exit 0 $B --db d.db image revoke user-000-office 1 --reason "bad sysctl"
expect_exit 1 $B --db d.db deploy user-000-office --to cloud-init --out dep
contains err.txt "revoked"
expect_exit 1 $B --db d.db deploy user-000-office --to mars
expect_exit 1 $B --db d.db deploy user-000-office --to registry
contains err.txt "--registry"
[ "$(sqlite3 d.db "SELECT count(*) FROM doc WHERE kind='deployment'")" -ge 3 ] || fail "deployments recorded"
# The image history shows where each build went.
expect_exit 0 $B --db d.db --json image history user-000-office
python3 -c "
import json; d = json.load(open('out.txt'))
assert 'cloud-init' in d[0]['deployed'], d[0]" || fail "history of deployments"
