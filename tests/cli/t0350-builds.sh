# requestImageBuild over HTTP: a build is queued (202 and an id), runs on
# the daemon's worker, and GET /v1/builds/{id} gives its result; the image
# it made is a valid OCI image (umoci) holding the software asked for;
# bad requests are refused at once, a bad package name fails the build
# with the reason, and user tokens see only their own builds.
. "$TESTLIB"
command -v curl >/dev/null || skip "no curl"
command -v umoci >/dev/null || skip "no umoci"

expect_exit 0 $B --db d.db demo --users 3 --days 14
umoci init --layout d.db-images >/dev/null
umoci new --image d.db-images:debian12 >/dev/null
ADMIN=admin-0123456789abcdef
USER=user-0123456789abcdef0
printf '%s admin\n%s user user-001-developer\n' $ADMIN $USER >tokens.txt
$B --db d.db serve --loop 0 --no-cloud-init --listen 127.0.0.1:0 --port-file port --tokens tokens.txt 2>serve.err &
PID=$!
trap 'kill $PID 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
U=http://127.0.0.1:$(cat port)
post() { # post TOKEN JSON -> code, body in body.txt
	curl -s -o body.txt -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' --data "$2" $U/v1/builds
}
wait_build() { # wait_build ID TOKEN -> the final document in b.json
	for _ in $(seq 300); do
		curl -s -H "Authorization: Bearer $2" $U/v1/builds/$1 >b.json
		case $(json_get b.json 'd["state"]') in done|failed) return 0 ;; esac
		sleep 0.2
	done
	cat b.json; fail "build $1 did not finish"
}

code=$(post $USER '{"entity": "user-001-developer", "os": "debian12", "software": ["postgresql-client", "htop"], "tier": "high"}')
[ "$code" = 202 ] || { cat body.txt; fail "queued: $code"; }
id=$(json_get body.txt 'd["id"]')
[ "$(json_get body.txt 'd["href"]')" = "/v1/builds/$id" ] || fail "href"
wait_build $id $USER
python3 - <<'PY' || { cat b.json; fail "build result"; }
import json
d = json.load(open("b.json"))
assert d["state"] == "done", d
r = d["result"]
assert r["digest"].startswith("sha256:") and r["ref"].startswith("oci:d.db-images:user-001-developer-")
assert d["request"]["tier"] == "high"
PY
tag=$(json_get b.json 'd["result"]["ref"].rsplit(":", 1)[1]')
umoci unpack --image d.db-images:$tag bundle >/dev/null 2>&1 || fail "umoci unpack"
grep -qx postgresql-client bundle/rootfs/etc/bespoke/packages.list || fail "the software asked for"
grep -qx htop bundle/rootfs/etc/bespoke/packages.list || fail "htop"
# The build is in the entity's image history.
curl -s -H "Authorization: Bearer $USER" $U/v1/entities/user-001-developer/images >imgs.json
grep -q "$(json_get b.json 'd["result"]["digest"]')" imgs.json || fail "image history"

# Refused at once.
[ "$(post $USER '{"entity": "user-000-office", "os": "debian12"}')" = 403 ] || fail "another's entity"
[ "$(post $ADMIN '{"entity": "user-000-office"}')" = 422 ] || fail "no base"
contains body.txt "base"
[ "$(post $ADMIN '{"entity": "user-000-office", "os": "debian12", "gpu": 1}')" = 422 ] || fail "unknown field"
[ "$(post $ADMIN '{"entity": "nobody", "os": "debian12"}')" = 404 ] || fail "unknown entity"
[ "$(post $ADMIN 'not json')" = 400 ] || fail "not json"
[ "$(post $ADMIN '{"entity": "user-000-office", "os": "../etc"}')" = 422 ] || fail "os tag"
# Accepted, then failed with the reason.
[ "$(post $ADMIN '{"entity": "user-000-office", "os": "debian12", "software": ["Bad Name;rm"]}')" = 202 ] || fail "queued"
bad=$(json_get body.txt 'd["id"]')
wait_build $bad $ADMIN
[ "$(json_get b.json 'd["state"]')" = failed ] || fail "a bad package name built"
contains b.json "not a Debian package name"
# Other people's builds look absent; unknown ids too.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $USER" $U/v1/builds/$bad)
[ "$code" = 404 ] || fail "a user saw another's build: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" $U/v1/builds/0123456789abcdef0123456789abcdef)
[ "$code" = 404 ] || fail "unknown build: $code"
kill -TERM $PID; wait $PID || fail "serve exit $?"
