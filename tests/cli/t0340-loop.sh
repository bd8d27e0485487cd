# The daemon's learn loop: a first pass finds nothing to do on a fresh
# demo fleet; then a day of CPU at ten times its level arrives through the
# API, a pass is asked for, and the loop flags the drift, refits that
# entity, stores a new profile past the new data, and reports it all in
# /v1/loop, /v1/entities/{id}/feedback and /metrics.
. "$TESTLIB"
command -v curl >/dev/null || skip "no curl"

expect_exit 0 $B --db d.db demo --users 3 --days 21
ADMIN=admin-0123456789abcdef
USER=user-0123456789abcdef0
printf '%s admin\n%s user user-001-developer\n' $ADMIN $USER >tokens.txt
# A webhook receiver: every POST body is appended to hook.log.
cat >hook.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        with open("hook.log", "ab") as f:
            f.write(self.headers.get("Authorization", "").encode() + b" " + body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open("hook.port", "w").write(str(s.server_port))
s.serve_forever()
PY
python3 hook.py &
HOOK=$!
for _ in $(seq 50); do [ -s hook.port ] && break; sleep 0.1; done
# A webhook token of 1,500 characters (JWT-sized): it must arrive whole.
HOOK_TOKEN=hook-$(python3 -c 'import random; random.seed(4); print("".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(1500)))')
echo "$HOOK_TOKEN" >hook.tok
rm -f port
$B --db d.db serve --loop 1h --listen 127.0.0.1:0 --port-file port --tokens tokens.txt \
	--webhook http://127.0.0.1:$(cat hook.port)/scale --webhook-token-file hook.tok 2>serve.err &
PID=$!
trap 'kill $PID $HOOK 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
U=http://127.0.0.1:$(cat port)
A="Authorization: Bearer $ADMIN"
runs() { curl -s -H "$A" $U/v1/loop | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"])'; }
wait_runs() {
	for _ in $(seq 300); do [ "$(runs)" -ge "$1" ] && return 0; sleep 0.1; done
	curl -s -H "$A" $U/v1/loop; fail "the loop did not finish pass $1"
}
wait_runs 1
curl -s -H "$A" $U/v1/loop >l1.json
python3 - <<'PY' || { cat l1.json; fail "first pass"; }
import json
d = json.load(open("l1.json"))
p = d["last_pass"]
assert d["enabled"] and p["entities"] == 3 and p["failed"] == 0, d
assert p["retrained"] == 0 and p["profiles"] == 0 and p["drifted"] == 0, d
# every entity is resized for the coming hour, a first decision each
assert p["resized"] == 3 and d["totals"]["resize_events"] == 3, d
PY
curl -s -H "Authorization: Bearer $USER" $U/v1/entities/user-001-developer/resize >rz1.json
python3 - <<'PY' || { cat rz1.json; fail "resize document"; }
import json
d = json.load(open("rz1.json"))
assert d["format"] == "bespoke-resize" and d["entity"] == "user-001-developer", d
assert d["cpu"]["next"] > 0 and d["memory"]["next"] > 0, d
PY
v1=$(curl -s -H "$A" $U/v1/entities/user-001-developer/profile | python3 -c 'import json,sys; print(json.load(sys.stdin)["profile_version"])')

python3 - <<'PY'
t0 = 1769385600  # 2026-01-26T00:00:00Z, the profiles' origin
with open("shift.csv", "w") as f:
    f.write("entity,metric,timestamp,value\n")
    for i in range(288):
        f.write(f"user-001-developer,cpu_usage,{t0 + i * 300},{40 + (i % 7)}\n")
PY
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$A" --data-binary @shift.csv $U/v1/ingest)
[ "$code" = 200 ] || fail "ingest $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $USER" $U/v1/loop/run)
[ "$code" = 403 ] || fail "a user token ran the loop: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$A" $U/v1/loop/run)
[ "$code" = 202 ] || fail "loop/run $code"
wait_runs 2
curl -s -H "$A" $U/v1/loop >l2.json
python3 - <<'PY' || { cat l2.json; fail "second pass"; }
import json
p = json.load(open("l2.json"))["last_pass"]
assert p["drifted"] == 1 and p["retrained"] == 1 and p["profiles"] == 1 and p["failed"] == 0, p
assert p["recommended"] == 1 and p["anomaly_reports"] == 1, p
PY
curl -s -H "Authorization: Bearer $USER" $U/v1/entities/user-001-developer/feedback >fb.json
python3 - <<'PY' || { cat fb.json; fail "feedback"; }
import json
d = json.load(open("fb.json"))
assert d["drift"] is True and d["metrics"]["cpu_usage"]["drift"] is True, d
assert d["metrics"]["cpu_usage"]["steps"] >= 23  # the hour of the last sample may be partial
PY
curl -s -H "$A" $U/v1/entities/user-001-developer/profile >p.json
python3 - "$v1" <<'PY' || fail "new profile"
import json, sys
d = json.load(open("p.json"))
assert d["profile_version"] > int(sys.argv[1])
assert d["origin"] == "2026-01-27T00:00:00Z", d["origin"]
# getPredictedResourceProfile: the shape the loop recommended with it.
rec = d["recommendation"]
assert rec["choice"]["name"] and rec["choice"]["price_hour"] > 0, rec["choice"]
plan = d["plan"]
assert plan["format"] == "bespoke-plan" and plan["steps"], plan.keys()
PY
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$A" $U/v1/entities/user-000-office/feedback)
[ "$code" = 404 ] || fail "feedback of an entity without any: $code"
curl -s $U/metrics >m.txt
contains m.txt "bespoke_loop_runs_total 2"
contains m.txt "bespoke_loop_drifted_total 1"
contains m.txt "bespoke_loop_retrained_total 1"
contains m.txt "bespoke_loop_scale_events_total 1"
contains m.txt "bespoke_loop_resize_events_total"
contains m.txt "bespoke_loop_webhook_failures_total 0"
# The week's anomalies: the day at ten times its level is in them.
curl -s -H "$A" $U/v1/entities/user-001-developer/anomalies >an.json
python3 -c "
import json; d = json.load(open('an.json'))
assert d['format'] == 'bespoke-anomalies'" || fail "anomaly report from the loop"
# The scale event reached the webhook, with its token, and so did the
# resize events: three first decisions, then user-001-developer's, whose
# day at ten times its level raised its CPU.
grep -q "^Bearer $HOOK_TOKEN " hook.log || fail "webhook token"
[ "$(grep -vc "^Bearer $HOOK_TOKEN " hook.log)" = 0 ] || fail "a webhook call without the token"
sed "s/^Bearer $HOOK_TOKEN //" hook.log >ev.jsonl
python3 - <<'PY' || { cat ev.jsonl; fail "events"; }
import json
ev = [json.loads(l) for l in open("ev.jsonl")]
scale = [e for e in ev if e["event"] == "bespoke.scale"]
assert len(scale) == 1, scale
e = scale[0]
assert e["entity"] == "user-001-developer"
assert e["from"] is None and e["to"] and e["recommendation"]["choice"]["name"] == e["to"]
rz = [e for e in ev if e["event"] == "bespoke.resize"]
assert len(rz) == len(ev) - 1, ev
# the first pass: a first decision for each, for the hour after the data
assert sorted(e["entity"] for e in rz[:3]) == [
    "user-000-office", "user-001-developer", "user-002-batch"], rz
assert all(e["resize"]["from"] == "2026-01-26T00:00:00Z" for e in rz[:3]), rz
# the second: the new day's peak (46) sizes the developer's CPU; the
# others have no sample in the last day and keep what they had
later = {e["entity"]: e["resize"] for e in rz[3:]}
dev = later["user-001-developer"]
assert dev["from"] == "2026-01-27T00:00:00Z", dev
assert dev["cpu"]["last_day_peak"] == 46 and dev["cpu"]["next"] >= 46, dev
assert "peak" in dev["cpu"]["why"], dev
for e, r in later.items():
    if e != "user-001-developer":
        assert r["cpu"]["why"].startswith("kept"), r
assert all(e["resize"]["format"] == "bespoke-resize" for e in rz)
PY
kill -TERM $PID; wait $PID || fail "serve exit $?"
