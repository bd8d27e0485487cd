# bespoke image push against a real registry (docker-registry, the
# reference distribution server) on loopback, with skopeo as the oracle:
# the pushed image reads back with the same manifest digest, a second push
# sends no blob, a corrupt blob stops the push before anything is sent.
# Then the two ways registries ask for credentials: Basic (htpasswd) and
# Bearer tokens from a token server (RS256 JWTs with their certificate,
# as Docker Hub's and Harbor's carry, over 2 KB each).
. "$TESTLIB"
command -v docker-registry >/dev/null || skip "no docker-registry"
command -v umoci >/dev/null || skip "no umoci"
command -v skopeo >/dev/null || skip "no skopeo"

PIDS=""
trap 'kill $PIDS 2>/dev/null' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_registry NAME < AUTH: a docker-registry on a free loopback port
# (REG_PORT) with the configuration's auth section read from stdin.
start_registry() {
	REG_PORT=$(free_port)
	{
		printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n' "$PWD/$1-data"
		printf 'http:\n  addr: 127.0.0.1:%s\n' "$REG_PORT"
		cat
	} >"$1.yml"
	docker-registry serve "$1.yml" >"$1.log" 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 50); do curl -s "http://127.0.0.1:$REG_PORT/v2/" >/dev/null && return; sleep 0.1; done
}
start_registry open </dev/null
port=$REG_PORT

# A base image with one layer holding a file.
umoci init --layout img >/dev/null
umoci new --image img:base >/dev/null
umoci unpack --image img:base bundle >/dev/null 2>&1 || skip "umoci unpack needs privileges"
mkdir -p bundle/rootfs/etc
echo "hello from bespoke" >bundle/rootfs/etc/motd
umoci repack --image img:v1 bundle >/dev/null

# read_back PORT [USER:PASSWORD]: skopeo reads team/ws:v1 back from the
# registry on PORT: the digest pushed, one layer, and the file inside.
read_back() {
	local creds=() copy=() dir="back-$1"
	if [ -n "${2:-}" ]; then creds=(--creds "$2"); copy=(--src-creds "$2"); fi
	skopeo inspect --tls-verify=false "${creds[@]}" docker://127.0.0.1:$1/team/ws:v1 >insp.json || fail "skopeo inspect on :$1"
	[ "$(json_get insp.json 'd["Digest"]')" = "$digest" ] || fail "digest differs on :$1"
	[ "$(json_get insp.json 'len(d["Layers"])')" = 1 ] || fail "one layer on :$1"
	skopeo copy --src-tls-verify=false "${copy[@]}" docker://127.0.0.1:$1/team/ws:v1 "oci:$dir:v1" >/dev/null || fail "skopeo copy from :$1"
	umoci unpack --image "$dir:v1" "$dir-bundle" >/dev/null 2>&1
	grep -q "hello from bespoke" "$dir-bundle/rootfs/etc/motd" || fail "the file did not travel from :$1"
}

expect_exit 0 $B image push oci:img:v1 http://127.0.0.1:$port/team/ws:v1
contains out.txt "pushed team/ws:v1@sha256:"
digest=$(sed -n 's/.*@\(sha256:[0-9a-f]*\):.*/\1/p' out.txt)
read_back "$port"

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

# ---- Basic: a registry with an htpasswd file ------------------------------
command -v htpasswd >/dev/null || skip "no htpasswd (apache2-utils)"
htpasswd -Bbn alice 's3cret pass' >htpasswd 2>/dev/null
start_registry basic <<Y
auth:
  htpasswd:
    realm: bespoke-test
    path: $PWD/htpasswd
Y
bport=$REG_PORT
printf 's3cret pass\n' >good.pw
printf 'wrong\n' >bad.pw
expect_exit 1 $B image push oci:img:v1 http://127.0.0.1:$bport/team/ws:v1
contains err.txt "wants a user and password"
expect_exit 1 $B image push --user alice --password-file bad.pw oci:img:v1 http://127.0.0.1:$bport/team/ws:v1
contains err.txt "refused the credentials"
expect_exit 0 $B image push --user alice --password-file good.pw oci:img:v1 http://127.0.0.1:$bport/team/ws:v1
read_back "$bport" 'alice:s3cret pass'
# The password from the environment works the same.
BESPOKE_REGISTRY_PASSWORD='s3cret pass' expect_exit 0 $B --json image push --user alice oci:img:v1 http://127.0.0.1:$bport/team/ws:env
[ "$(json_get out.txt 'd["blobs_sent"]')" = 0 ] || fail "blobs sent again (basic)"

# ---- Bearer: a registry that trusts a token server -------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout tok.key -out tok.crt \
	-subj /CN=bespoke-test-tokens -days 2 >/dev/null 2>&1 || fail "openssl req"
cat >tokend.py <<'PY'
# The token server of the registry's Bearer challenge: Basic credentials
# in, an RS256 JWT granting the scopes asked for out, its certificate in
# the x5c header as the distribution server expects.
import base64, http.server, json, os, subprocess, sys, time, urllib.parse

port, key, cert, user = sys.argv[1:5]
password = open(sys.argv[5]).readline().rstrip("\n")
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                     capture_output=True, check=True).stdout
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Tokens(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path != "/token" or self.headers.get("Authorization") != want:
            self.send_response(401)
            self.end_headers()
            return
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                typ, name, actions = one.split(":", 2)
                access.append({"type": typ, "name": name,
                               "actions": actions.split(",")})
        now = int(time.time())
        head = {"typ": "JWT", "alg": "RS256",
                "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "bespoke-test-issuer", "sub": user,
                  "aud": q.get("service", [""])[0], "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": b64u(os.urandom(9)),
                  "access": access}
        signing = (b64u(json.dumps(head).encode()) + "." +
                   b64u(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                             input=signing, capture_output=True,
                             check=True).stdout
        body = json.dumps({"token": signing.decode() + "." + b64u(sig)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())


http.server.HTTPServer(("127.0.0.1", int(port)), Tokens).serve_forever()
PY
tport=$(free_port)
# A password of 3,000 characters, as long as the tokens some registries
# hand out as passwords (ECR's are about 3 KB).
python3 -c 'import random; random.seed(7); print("".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(3000)))' >long.pw
python3 tokend.py "$tport" tok.key tok.crt alice long.pw >tokend.log 2>&1 &
PIDS="$PIDS $!"
start_registry bearer <<Y
auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: bespoke-registry
    issuer: bespoke-test-issuer
    rootcertbundle: $PWD/tok.crt
Y
rport=$REG_PORT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$tport/" && break; sleep 0.1; done
# a token this large is what a 2 KB answer buffer once cut short
len=$(curl -s -u "alice:$(cat long.pw)" "http://127.0.0.1:$tport/token?service=bespoke-registry&scope=repository:team/ws:pull" | wc -c)
[ "$len" -gt 2048 ] || fail "the token answer is only $len bytes"
expect_exit 1 $B image push --user alice --password-file bad.pw oci:img:v1 http://127.0.0.1:$rport/team/ws:v1
contains err.txt "refused the credentials"
expect_exit 0 $B image push --user alice --password-file long.pw oci:img:v1 http://127.0.0.1:$rport/team/ws:v1
contains out.txt "pushed team/ws:v1@$digest"
read_back "$rport" "alice:$(cat long.pw)"
