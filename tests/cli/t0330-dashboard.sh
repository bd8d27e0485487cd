# The dashboard: the series route it draws actual usage from (checked
# against hourly means computed here from the raw export), then the page
# itself in headless Chromium driven by playwright-core (tests/web/): the
# sign-in form, the fleet table against the API, one entity's forecast
# chart geometry, empty states, errors in words, and two screenshots that
# must be the right size, not blank, and differ.
. "$TESTLIB"
command -v curl >/dev/null || skip "no curl"
ROOT=$(cd "$(dirname "$TESTLIB")/../.." && pwd)

# ---- a demo fleet with profiles that hold a workload class -------------------
expect_exit 0 $B --db d.db demo --users 6 --days 14
# A cleanly separable vmtable: interactive VMs idle, batch VMs busy.
{
	echo "vm_id,subscription_id,deployment_id,timestamp_vm_created,timestamp_vm_deleted,max_cpu,avg_cpu,p95_max_cpu,vm_category,vm_virtual_core_count_bucket,vm_memory_gb_bucket,duration"
	for i in $(seq 0 39); do
		j=$((i % 5))
		if [ $((i % 2)) = 0 ]; then
			echo "vm$i,s,d,0,3600,$((70 + 5 * j)),$((2 + j)),$((25 + 3 * j)),Interactive,2,4,3600"
		else
			echo "vm$i,s,d,0,3600,$((80 + 3 * j)),$((45 + 4 * j)),$((78 + 3 * j)),Delay-insensitive,2,4,3600"
		fi
	done
} >vt.csv
expect_exit 0 $B --db d.db classify --train vt.csv
expect_exit 0 $B --db d.db train --all
contains out.txt "trained 6 of 6"
USERS="user-000-office user-001-developer user-002-batch user-003-ml user-004-service user-005-analyst"
CATALOG=$ROOT/data/personas.yaml
for u in $USERS; do expect_exit 0 $B --db d.db predict "$u" --catalog "$CATALOG"; done
# What the later stages store, for the entity page to show:
# - the batch user's profile as of a day before its last sample, and the
#   feedback on it: the actual line runs on under the forecast;
expect_exit 0 $B --db d.db predict user-002-batch --at 2026-01-18T00:00:00Z --catalog "$CATALOG"
$B --db d.db feedback user-002-batch >out.txt 2>err.txt
case $? in 0 | 3) ;; *) cat err.txt; fail "feedback" ;; esac
# - plans for two users (each also stores a new profile), and for the
#   first a recommendation (the profile route carries it) and a resize
#   decision for the coming hour;
for u in user-001-developer user-005-analyst; do
	expect_exit 0 $B --db d.db plan $u --horizon 24h --catalog "$ROOT/data/instances.yaml" --policy "$ROOT/data/policy.yaml"
	[ $u = user-001-developer ] &&
		expect_exit 0 $B --db d.db recommend $u --catalog "$ROOT/data/instances.yaml" --policy "$ROOT/data/policy.yaml" &&
		expect_exit 0 $B --db d.db resize $u --policy "$ROOT/data/policy.yaml"
	expect_exit 0 $B --db d.db predict $u --catalog "$CATALOG"
done
# - two image builds of the ML user, on a base made by umoci.
IMAGES=0
if command -v umoci >/dev/null; then
	umoci init --layout base >/dev/null && umoci new --image base:v1 >/dev/null &&
		mkdir -p rootfs/etc && echo "ID=bespoke-test" >rootfs/etc/os-release &&
		umoci insert --rootless --image base:v1 rootfs/etc /etc >/dev/null 2>&1 || fail "umoci base"
	SOURCE_DATE_EPOCH=1700000000 expect_exit 0 $B --db d.db image build user-003-ml --catalog "$ROOT/data/components.yaml" --base oci:base:v1 --out oci:reg:ml --user-data ml1.yaml
	expect_exit 0 $B --db d.db predict user-003-ml --horizon 36h --catalog "$CATALOG"
	SOURCE_DATE_EPOCH=1700000100 expect_exit 0 $B --db d.db image build user-003-ml --catalog "$ROOT/data/components.yaml" --base oci:base:v1 --out oci:reg:ml2 --user-data ml2.yaml
	IMAGES=2
else
	echo "no umoci: the image history is checked empty only"
fi

cat >tokens.txt <<'T'
admin-0123456789abcdef           admin
user-0123456789abcdef0           user   user-000-office
T
ADMIN=admin-0123456789abcdef
USER=user-0123456789abcdef0

# The daemon's learn loop is off (--loop 0): it would replace the profiles
# made above as of earlier times.
start() { # start ARGS...: serve in the background, wait for its port
	rm -f port
	$B --db d.db serve --listen 127.0.0.1:0 --port-file port "$@" 2>serve.err &
	PID=$!
	# A failing check exits at once: the daemon must not outlive it.
	trap 'kill -TERM $PID 2>/dev/null' EXIT
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
	[ -s port ] || { cat serve.err; fail "serve did not start"; }
	P=$(cat port)
}
stop() {
	kill -TERM $PID
	wait $PID || fail "serve exited $? on SIGTERM"
	trap - EXIT
}
# req CODE TOKEN PATH: GET, body in body.txt
req() {
	local want=$1 tok=$2 path=$3 auth=()
	[ "$tok" != - ] && auth=(-H "Authorization: Bearer $tok")
	got=$(curl -s -o body.txt -w '%{http_code}' "${auth[@]}" "http://127.0.0.1:$P$path")
	[ "$got" = "$want" ] || { cat body.txt; fail "GET $path: $got, expected $want"; }
}
is_error() {
	python3 -c "import json; d=json.load(open('body.txt')); assert d['error']['status']==$1 and d['error']['message'], d" ||
		fail "not a JSON $1 error: $(cat body.txt)"
}

start --tokens tokens.txt --catalog "$CATALOG" --loop 0
S=/v1/entities/user-001-developer/series

# ---- the series route ---------------------------------------------------------
# Hourly means over one day, against means of the raw samples.
expect_exit 0 $B --db d.db export user-001-developer --metric cpu_usage \
	--from 2026-01-16T00:00:00Z --until 2026-01-17T00:00:00Z
cp out.txt raw.csv
req 200 $ADMIN "$S?metric=cpu_usage&from=2026-01-16T00:00:00Z&until=2026-01-17T00:00:00Z&step=1h"
python3 - <<'PY' || fail "hourly means"
import csv, json
d = json.load(open("body.txt"))
assert d["metric"] == "cpu_usage" and d["unit"] == "cores" and d["step_seconds"] == 3600, d
assert d["start"] == "2026-01-16T00:00:00Z" and d["until"] == "2026-01-17T00:00:00Z", d
assert d["points"] == 24 == len(d["values"]), d["points"]
sums, counts = [0.0] * 24, [0] * 24
for row in csv.DictReader(open("raw.csv")):
    h = (int(row["ts"]) - 1768521600) // 3600
    sums[h] += float(row["value"]); counts[h] += 1
assert sum(counts) >= 24 * 11, counts
for h in range(24):
    want = sums[h] / counts[h]
    assert abs(d["values"][h] - want) <= 1e-6 * max(1, abs(want)), (h, d["values"][h], want)
PY
# Daily maxima, and a start that is not on a step boundary (rounded down).
expect_exit 0 $B --db d.db export user-001-developer --metric mem_usage \
	--from 2026-01-15T00:00:00Z --until 2026-01-17T00:00:00Z
cp out.txt raw.csv
req 200 $ADMIN "$S?metric=mem_usage&from=2026-01-15T07:30:00Z&until=2026-01-17T00:00:00Z&step=1d&agg=max"
python3 - <<'PY' || fail "daily maxima"
import csv, json
d = json.load(open("body.txt"))
assert d["start"] == "2026-01-15T00:00:00Z" and d["points"] == 2 and d["step_seconds"] == 86400, d
mx = [max(float(r["value"]) for r in csv.DictReader(open("raw.csv")) if (int(r["ts"]) - 1768435200) // 86400 == k) for k in (0, 1)]
assert d["values"] == mx, (d["values"], mx)
PY
# Defaults: hourly means for the week up to just after the last sample.
req 200 $ADMIN "$S?metric=cpu_usage"
[ "$(json_get body.txt 'd["points"], d["start"], d["until"]')" = "168 2026-01-12T00:00:00Z 2026-01-19T00:00:00Z" ] ||
	fail "default range: $(json_get body.txt 'd["points"], d["start"], d["until"]')"
# Hours without samples are null, not zero: the demo starts on Jan 5.
req 200 $ADMIN "$S?metric=cpu_usage&from=2026-01-04T22:00:00Z&until=2026-01-05T02:00:00Z"
python3 -c "
import json; v = json.load(open('body.txt'))['values']
assert v[:2] == [None, None] and all(isinstance(x, float) for x in v[2:]) and len(v) == 4, v" || fail "gaps are null"
# Bad arguments: 400 naming the argument; unknown metric or entity 404;
# another user's entity 403; no token 401.
for q in "" "metric=" "metric=cpu_usage&step=banana" "metric=cpu_usage&step=10s" \
	"metric=cpu_usage&step=2d" "metric=cpu_usage&from=yesterday" "metric=cpu_usage&until=2026-13-40" \
	"metric=cpu_usage&from=2026-01-16&until=2026-01-15" "metric=cpu_usage&agg=median" \
	"metric=cpu_usage&from=2020-01-01&until=2026-01-01&step=1h" "metric=cpu_usage&until=99999999999999999999"; do
	req 400 $ADMIN "$S?$q"; is_error 400
done
req 400 $ADMIN "$S?metric=cpu_usage&agg=median"
contains body.txt "agg"
req 400 $ADMIN "$S?metric=cpu_usage&from=2020-01-01&until=2026-01-01&step=1h"
contains body.txt "points"
req 404 $ADMIN "$S?metric=gpu_usage"; is_error 404
contains body.txt "gpu_usage"
req 404 $ADMIN "/v1/entities/nobody/series?metric=cpu_usage"; is_error 404
req 403 $USER "$S?metric=cpu_usage"; is_error 403
req 200 $USER "/v1/entities/user-000-office/series?metric=cpu_usage&step=1d"
[ "$(json_get body.txt 'd["points"]')" = 7 ] || fail "a user reads its own series"
req 401 - "$S?metric=cpu_usage"; is_error 401
# The stored plan and image builds, as stored, with version and time.
req 200 $ADMIN /v1/entities/user-001-developer/plan
python3 -c "
import json; d = json.load(open('body.txt'))
assert d['format'] == 'bespoke-plan' and d['plan_version'] == 1 and d['stored'].endswith('Z'), d
assert d['steps'][0]['from'] < d['steps'][-1]['until']" || fail "plan route"
req 200 $ADMIN "/v1/entities/user-001-developer/plan?version=1"
req 404 $ADMIN "/v1/entities/user-001-developer/plan?version=2"; is_error 404
req 400 $ADMIN "/v1/entities/user-001-developer/plan?version=0"; is_error 400
req 400 $ADMIN "/v1/entities/user-001-developer/plan?version=1x"; is_error 400
req 404 $ADMIN /v1/entities/user-000-office/plan; is_error 404
contains body.txt "no plan yet"
req 404 $ADMIN /v1/entities/nobody/plan; is_error 404
req 403 $USER /v1/entities/user-001-developer/plan; is_error 403
req 200 $ADMIN /v1/entities/user-000-office/images
[ "$(json_get body.txt 'd["total"], d["images"]')" = "0 []" ] || fail "no images: an empty list"
req 200 $ADMIN "/v1/entities/user-003-ml/images?limit=1"
[ "$(json_get body.txt 'd["total"], len(d["images"])')" = "$IMAGES $((IMAGES < 1 ? IMAGES : 1))" ] || fail "images limit"
req 400 $ADMIN "/v1/entities/user-003-ml/images?limit=101"; is_error 400
req 403 $USER /v1/entities/user-003-ml/images; is_error 403
# The page and its files are open; the API behind them is not.
req 200 - /
contains body.txt '/ui/app.js'
# Every file the page names is served, with its type.
for f in $(grep -o '"/ui/[^"]*"' body.txt | tr -d '"'); do
	[ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$P$f")" = "200 $(case $f in
		*.js) echo 'text/javascript; charset=utf-8' ;; *.css) echo 'text/css; charset=utf-8' ;; *.svg) echo image/svg+xml ;; esac)" ] ||
		fail "$f is not served"
done
[ "$(grep -c '"/ui/' body.txt)" -ge 6 ] || fail "the page's files"
req 404 - /ui/nothing.js; is_error 404
req 200 - /openapi.json
python3 -c "
import json; p = json.load(open('body.txt'))['paths']
assert {'/v1/entities/{id}/series', '/v1/entities/{id}/plan', '/v1/entities/{id}/images'} <= set(p)" ||
	fail "the dashboard's routes are in the OpenAPI document"

# ---- the page in a browser --------------------------------------------------------
# What the API says, for the test to compare the page with.
for u in $USERS; do
	req 200 $ADMIN "/v1/entities/$u/profile"
	cp body.txt "profile-$u.json"
done
for u in $USERS; do
	got=$(curl -s -o "plan-$u.json" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$P/v1/entities/$u/plan")
	case $got in 200 | 404) ;; *) cat "plan-$u.json"; fail "plan of $u: $got" ;; esac
done
req 200 $ADMIN /v1/entities/user-002-batch/feedback
cp body.txt feedback.json
req 200 $ADMIN /v1/entities/user-003-ml/images
cp body.txt images.json
req 200 $ADMIN /v1/entities/user-001-developer/resize
cp body.txt resize.json
req 404 $ADMIN /v1/entities/user-002-batch/resize
IMAGES=$IMAGES python3 - $USERS <<'PY' || fail "expected.json"
import json, os, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
out = {"entities": {}, "step_seconds": 3600}
for u in sys.argv[1:]:
    p = json.load(open(f"profile-{u}.json"))
    ps = max(p["behaviour"]["personas"], key=lambda x: x["p"])
    m = p["metrics"]
    e = out["entities"][u] = {
        "class": p["behaviour"]["workload"]["class"], "persona": ps["name"],
        "cpu_p95": m["cpu_usage"]["daily_peak"]["p95"], "cpu_unit": m["cpu_usage"]["unit"],
        "mem_p95": m["mem_usage"]["daily_peak"]["p95"], "mem_unit": m["mem_usage"]["unit"],
        "metrics": sorted(m), "horizon_steps": len(m["cpu_usage"]["forecast"]["quantiles"]["p50"]),
        "origin": p["origin"], "plan": None,
        "rec": {"shape": p["recommendation"]["choice"]["name"], "cost_hour": p["recommendation"]["cost_hour"],
                "reasons": len(p["recommendation"]["reasons"])} if "recommendation" in p else None,
    }
    assert p["step_seconds"] == 3600
    plan = json.load(open(f"plan-{u}.json"))
    if "steps" in plan:
        # Savings against the plan's dearest stretch held throughout.
        hours = sum((t(s["until"]) - t(s["from"])) / 3600 for s in plan["steps"])
        peak = max(s["cost"] / ((t(s["until"]) - t(s["from"])) / 3600) for s in plan["steps"])
        e["plan"] = {"steps": [s["shape"] for s in plan["steps"]], "prices": [s["price_hour"] for s in plan["steps"]],
                     "cost": plan["cost"], "saved": peak * hours - plan["cost"], "hours": hours}
assert sum(1 for e in out["entities"].values() if e["plan"]) == 2
assert [u for u, e in out["entities"].items() if e["rec"]] == ["user-001-developer"], out["entities"]
out["feedback"] = json.load(open("feedback.json"))
assert set(out["feedback"]["metrics"]) == set(out["entities"]["user-002-batch"]["metrics"])
assert out["entities"]["user-002-batch"]["origin"] == "2026-01-18T00:00:00Z"
rz = json.load(open("resize.json"))
out["entities"]["user-001-developer"]["resize"] = {
    "cpu": rz["cpu"]["next"], "cpu_unit": rz["cpu"]["unit"],
    "memory": rz["memory"]["next"], "memory_unit": rz["memory"]["unit"]}
out["images"] = json.load(open("images.json"))["images"]
assert len(out["images"]) == int(os.environ["IMAGES"]), len(out["images"])
assert [i["image_version"] for i in out["images"]] == list(range(len(out["images"]), 0, -1))
json.dump(out, open("expected.json", "w"), indent=1)
PY

# Chromium and playwright-core: installed when missing, skipped only when
# they cannot be.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || true
	CHROMIUM=$(command -v chromium || true)
fi
[ -n "$CHROMIUM" ] || { stop; skip "chromium is not installed and cannot be (scripts/install-deps.sh installs it)"; }
command -v node >/dev/null && command -v npm >/dev/null ||
	{ stop; skip "node and npm are not installed (scripts/install-deps.sh installs them)"; }
if [ ! -d "$ROOT/tests/web/node_modules/playwright-core" ]; then
	(cd "$ROOT/tests/web" && npm ci --no-audit --no-fund --loglevel=error) >npm.log 2>&1 ||
		{ cat npm.log; stop; skip "npm ci in tests/web failed: playwright-core cannot be installed"; }
fi

# The PNG reader the screenshot checks rely on, against known answers.
node --test "$ROOT/tests/web/png.test.js" >png-test.log 2>&1 || { cat png-test.log; stop; fail "png.test.js"; }
node "$ROOT/tests/web/dashboard.js" "http://127.0.0.1:$P" $ADMIN $USER user-000-office "$PWD" "$CHROMIUM" ||
	{ stop; fail "the dashboard in Chromium"; }
for f in fleet.png entity.png; do
	[ "$(head -c 8 $f | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$f is not a PNG"
done
cmp -s fleet.png entity.png && fail "the two screenshots are the same"
stop
# Without tokens (loopback only) the page never asks for one; an entity
# with too little history is listed with the reason it has no profile.
printf 'tiny,cpu_usage,1768867200,1\ntiny,cpu_usage,1768867500,2\n' >tiny.csv
expect_exit 0 $B --db d.db ingest tiny.csv
start --catalog "$CATALOG" --loop 0
node "$ROOT/tests/web/dashboard.js" open "http://127.0.0.1:$P" "$CHROMIUM" 7 || { stop; fail "the open daemon in Chromium"; }
stop
exit 0
