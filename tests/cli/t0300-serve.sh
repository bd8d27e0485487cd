# The HTTP API daemon on a free loopback port: every route with good and bad
# input and every role (admin, user, agent, none), ingest all-or-nothing,
# size limits, the OpenAPI document, /metrics, TLS, and a clean stop.
. "$TESTLIB"
command -v curl >/dev/null || skip "no curl"

expect_exit 0 $B --db d.db demo --users 3 --days 14
cat >tokens.txt <<'T'
# token                          role   entities
admin-0123456789abcdef           admin
user-0123456789abcdef0           user   user-000-office
agent-0123456789abcdef           agent
T

start() { # start ARGS...: serve in the background, wait for its port
	rm -f port
	$B --db d.db serve --loop 0 --listen 127.0.0.1:0 --port-file port "$@" 2>serve.err &
	PID=$!
	trap 'kill $PID 2>/dev/null' EXIT
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
	[ -s port ] || { cat serve.err; fail "serve did not start"; }
	P=$(cat port)
}
stop() {
	kill -TERM $PID
	wait $PID || fail "serve exited $? on SIGTERM"
}
# req CODE TOKEN METHOD PATH [curl args]: body in body.txt
req() {
	local want=$1 tok=$2 m=$3 path=$4; shift 4
	local auth=()
	[ "$tok" != - ] && auth=(-H "Authorization: Bearer $tok")
	got=$(curl -s -o body.txt -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "${URL:-http://127.0.0.1:$P}$path")
	[ "$got" = "$want" ] || { cat body.txt; fail "$m $path: $got, expected $want"; }
}
is_error() { # the body is a JSON error with this status
	python3 -c "import json; d=json.load(open('body.txt')); assert d['error']['status']==$1 and d['error']['message'], d" ||
		fail "not a JSON $1 error: $(cat body.txt)"
}
ADMIN=admin-0123456789abcdef
USER=user-0123456789abcdef0
AGENT=agent-0123456789abcdef

start --tokens tokens.txt --max-body 4096
req 200 - GET /healthz
req 401 - GET /v1/entities; is_error 401
req 401 wrong-token-0123456789 GET /v1/entities; is_error 401
contains body.txt "invalid bearer token"
req 200 $ADMIN GET /v1/entities
[ "$(json_get body.txt 'len(d["entities"])')" = 3 ] || fail "admin sees 3"
req 200 $USER GET /v1/entities
[ "$(json_get body.txt '[e["name"] for e in d["entities"]]')" = "['user-000-office']" ] || fail "user sees its own only"
req 403 $USER GET /v1/entities/user-001-developer/profile; is_error 403
req 403 $AGENT GET /v1/entities; is_error 403
req 200 $USER GET /v1/entities/user-000-office/profile
[ "$(json_get body.txt 'd["format"]')" = bespoke-profile ] || fail "profile"
v1=$(json_get body.txt 'd["profile_version"]')
req 200 $USER GET /v1/entities/user-000-office/profile
[ "$(json_get body.txt 'd["profile_version"]')" = "$v1" ] || fail "the stored profile is served again"
req 200 $USER GET "/v1/entities/user-000-office/profile?refresh=1"
[ "$(json_get body.txt 'd["profile_version"]')" = $((v1 + 1)) ] || fail "refresh stores the next version"
req 200 $USER GET /v1/entities/user-000-office/profile
[ "$(json_get body.txt 'd["profile_version"]')" = $((v1 + 1)) ] || fail "the refreshed profile is served"
# Another process stores a profile: the daemon serves it, not its cache.
expect_exit 0 $B --db d.db predict user-000-office
for _ in 1 2 3 4; do
	req 200 $USER GET /v1/entities/user-000-office/profile
	[ "$(json_get body.txt 'd["profile_version"]')" = $((v1 + 2)) ] || fail "stale profile after another writer"
done
req 200 $ADMIN GET /v1/entities/user-000-office
[ "$(json_get body.txt 'len(d["series_list"])')" = 4 ] || fail "series list"
req 200 $ADMIN GET "/v1/entities/user-001-developer/forecast?horizon=6h&step=1h&metrics=cpu_usage"
[ "$(json_get body.txt 'len(d["metrics"]["cpu_usage"]["quantiles"]["p95"])')" = 6 ] || fail "6 steps of p95"
req 400 $ADMIN GET "/v1/entities/user-001-developer/forecast?horizon=banana"; is_error 400
contains body.txt "horizon"
req 400 $ADMIN GET "/v1/entities/user-001-developer/forecast?horizon=90d"; is_error 400
req 404 $ADMIN GET /v1/entities/nobody/forecast; is_error 404
req 404 $ADMIN GET "/v1/entities/user-001-developer/forecast?metrics=no_such_metric"; is_error 404
req 200 $ADMIN GET /v1/entities/user-001-developer/apps
python3 -c "import json; d=json.load(open('body.txt')); assert d['apps']['next'] and d['apps']['coming_day']" || fail "apps"
req 200 $ADMIN GET /v1/entities/user-001-developer/persona
[ "$(json_get body.txt 'd["personas"][0]["name"]')" = developer ] || fail "persona"
req 405 $ADMIN DELETE /v1/entities; is_error 405
curl -s -i -X DELETE -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$P/v1/entities" | grep -qi '^Allow: GET' || fail "Allow header"
req 404 $ADMIN GET /v2/nothing; is_error 404

# The stored anomaly report, as `bespoke anomalies` stored it.
req 404 $USER GET /v1/entities/user-000-office/anomalies; is_error 404
expect_exit 0 $B --db d.db anomalies user-000-office
req 200 $USER GET /v1/entities/user-000-office/anomalies
python3 -c "import json; d = json.load(open('body.txt')); assert d['entity'] == 'user-000-office'" || fail "anomalies"

# Overrides (overrideResourceProfile): admins set and clear, users read.
req 404 $USER GET /v1/entities/user-000-office/override; is_error 404
req 201 $ADMIN PUT /v1/entities/user-000-office/override -H 'Content-Type: application/json' \
	--data '{"cpu": 6, "memory": 24, "expires": "2h", "reason": "quarter-end close"}'
python3 -c "
import json; d = json.load(open('body.txt'))
assert d['in_force'] is True and d['override']['cpu'] == 6 and d['override']['memory'] == 24
assert d['override']['reason'] == 'quarter-end close'" || fail "override stored"
req 200 $USER GET /v1/entities/user-000-office/override
[ "$(json_get body.txt 'd["in_force"]')" = True ] || fail "user reads the override"
req 403 $USER PUT /v1/entities/user-000-office/override --data '{"cpu": 64, "expires": "2h", "reason": "mine"}'; is_error 403
req 400 $ADMIN PUT /v1/entities/user-000-office/override --data 'cpu=6'; is_error 400
req 422 $ADMIN PUT /v1/entities/user-000-office/override --data '{"cpu": -1, "expires": "2h", "reason": "x"}'; is_error 422
contains body.txt "cpu"
req 422 $ADMIN PUT /v1/entities/user-000-office/override --data '{"cpu": 2, "reason": "x"}'; is_error 422
contains body.txt "expires"
req 422 $ADMIN PUT /v1/entities/user-000-office/override --data '{"type": "z9.mega", "expires": "2h", "reason": "x"}'; is_error 422
contains body.txt "not in the instance catalog"
req 422 $ADMIN PUT /v1/entities/user-000-office/override --data '{"cpu": 2, "expires": "2h", "reason": "x", "gpu": 1}'; is_error 422
req 200 $ADMIN GET /v1/entities/user-000-office/override
[ "$(json_get body.txt 'd["override"]["cpu"]')" = 6.0 ] || fail "refused requests changed the override"
req 200 $ADMIN DELETE "/v1/entities/user-000-office/override?reason=close%20done"
[ "$(json_get body.txt 'd["in_force"]')" = False ] || fail "cleared"
expect_exit 0 $B --db d.db override user-000-office --list
contains out.txt "quarter-end close"

# Ingest: the agent may write; a bad line stores nothing and is named.
printf 'entity,metric,timestamp,value\nnew-vm,cpu_usage,2026-01-10T00:00:00Z,1.5\nnew-vm,cpu_usage,2026-01-10T00:05:00Z,2.5\n' >good.csv
req 200 $AGENT POST /v1/ingest --data-binary @good.csv -H 'Content-Type: text/csv'
[ "$(json_get body.txt 'd["samples"]')" = 2 ] || fail "2 samples"
req 403 $USER POST /v1/ingest --data-binary @good.csv
printf 'entity,metric,timestamp,value\nbad-vm,cpu_usage,2026-01-10T00:00:00Z,1\nbad-vm,cpu_usage,yesterday,2\n' >bad.csv
req 422 $AGENT POST /v1/ingest --data-binary @bad.csv; is_error 422
contains body.txt ":3:"
req 400 $AGENT POST /v1/ingest; is_error 400
head -c 8000 /dev/zero | tr '\0' 'x' >big.txt
req 413 $AGENT POST /v1/ingest --data-binary @big.txt; is_error 413
# gzip bodies (Content-Encoding: gzip), also several members in a row;
# a corrupt or cut one is refused, and one that inflates past --max-body
# is a 413 however small it travels.
printf 'entity,metric,timestamp,value\ngz-vm,cpu_usage,2026-01-10T00:00:00Z,1\n' | gzip >a.gz
printf 'gz-vm,cpu_usage,2026-01-10T00:05:00Z,2\ngz-vm,cpu_usage,2026-01-10T00:10:00Z,3\n' | gzip >b.gz
cat a.gz b.gz >ab.gz
req 200 $AGENT POST /v1/ingest --data-binary @ab.gz -H 'Content-Encoding: gzip'
[ "$(json_get body.txt 'd["samples"]')" = 3 ] || fail "3 samples from two gzip members"
head -c 30 ab.gz >cut.gz
req 400 $AGENT POST /v1/ingest --data-binary @cut.gz -H 'Content-Encoding: gzip'; is_error 400
contains body.txt "gzip"
gzip -c big.txt >big.gz
[ "$(stat -c %s big.gz)" -lt 4096 ] || fail "the bomb should travel small"
req 413 $AGENT POST /v1/ingest --data-binary @big.gz -H 'Content-Encoding: gzip'; is_error 413
req 415 $AGENT POST /v1/ingest --data-binary @good.csv -H 'Content-Encoding: br'; is_error 415
expect_exit 0 $B --db d.db export gz-vm --metric cpu_usage
[ "$(grep -c '^gz-vm' out.txt)" = 3 ] || { cat out.txt; fail "gzip samples stored"; }
req 200 $ADMIN GET /v1/entities
python3 -c "
import json; n=[e['name'] for e in json.load(open('body.txt'))['entities']]
assert 'new-vm' in n and 'bad-vm' not in n, n" || fail "ingest all or nothing"

# The OpenAPI document names every route the daemon answers.
req 200 - GET /openapi.json
python3 - <<'PY' || fail "openapi"
import json
d = json.load(open("body.txt"))
assert d["openapi"].startswith("3.")
want = {"/healthz", "/metrics", "/openapi.json", "/v1/entities", "/v1/entities/{id}",
        "/v1/entities/{id}/profile", "/v1/entities/{id}/forecast", "/v1/entities/{id}/apps",
        "/v1/entities/{id}/persona", "/v1/ingest", "/api/v1/write",
        "/v1/entities/{id}/feedback", "/v1/loop", "/v1/loop/run", "/v1/entities/{id}/override",
        "/v1/entities/{id}/anomalies", "/v1/builds", "/v1/builds/{id}"}
assert want <= set(d["paths"]), want - set(d["paths"])
PY
req 200 - GET /metrics
contains body.txt 'bespoke_http_requests_total{code="401"} 2'
contains body.txt 'bespoke_ingested_samples_total 5'
contains body.txt 'bespoke_store_entities 5'
stop

# Refusals at start: beyond loopback without tokens, bad tokens files.
expect_exit 1 $B --db d.db serve --listen 0.0.0.0:0
contains err.txt "not loopback"
printf 'short admin\n' >t1.txt
expect_exit 1 $B --db d.db serve --tokens t1.txt
contains err.txt "t1.txt:1:"
printf 'user-0123456789abcdef0 user\n' >t2.txt
expect_exit 1 $B --db d.db serve --tokens t2.txt
contains err.txt "t2.txt:1: a user token names its entities"
printf 'admin-0123456789abcdef root\n' >t3.txt
expect_exit 1 $B --db d.db serve --tokens t3.txt
contains err.txt "role 'root'"
expect_exit 1 $B --db d.db serve --listen localhost
contains err.txt "ADDR:PORT"
expect_exit 1 $B --db d.db serve --cert x.pem
contains err.txt "go together"

# TLS with a self-signed certificate.
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
		-days 2 -subj /CN=127.0.0.1 >/dev/null 2>&1 || fail "openssl"
	start --cert cert.pem --key key.pem
	URL=https://127.0.0.1:$P req 200 - GET /healthz -k
	got=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/healthz" || true)
	[ "$got" != 200 ] || fail "plain HTTP on the TLS port"
	stop
fi
