# The agent: readings of this machine into a local store (sane values,
# a program launched meanwhile recorded as an app event), then into a
# daemon that is down when the agent starts (buffered, delivered once it
# comes up), and a profile built from what the agent sent.
. "$TESTLIB"
command -v curl >/dev/null || skip "no curl"

# Local store; a uniquely named program starts halfway through.
cp /bin/sleep ./bsp-probe-app
( sleep 0.6; ./bsp-probe-app 1 ) &
expect_exit 0 $B --db c.db collect --interval 100ms --duration 1500ms --entity testhost --no-users
contains err.txt "own CPU"
wait
expect_exit 0 $B --db c.db --json series testhost
python3 - <<'PY' || fail "local readings"
import json
s = {x["metric"]: x for x in json.load(open("out.txt"))}
for m in ("cpu_usage_pct", "cpu_usage", "mem_usage", "mem_capacity", "disk_total", "net_total", "cpu_cores", "collect_cpu_pct"):
    assert m in s, (m, sorted(s))
assert s["cpu_usage_pct"]["samples"] >= 10, s["cpu_usage_pct"]
assert s["mem_usage"]["unit"] == "KB"
PY
me=$(id -un)
expect_exit 0 $B --db c.db --json entities
python3 - "$me" <<'PY' || fail "the launch"
import json, sys
e = {x["name"]: x for x in json.load(open("out.txt"))}
assert sys.argv[1] in e and e[sys.argv[1]]["events"] >= 1, e.keys()
PY
sqlite3 c.db "SELECT name FROM event" | grep -qx bsp-probe-app || fail "bsp-probe-app not recorded"

# Programs that start and end between two readings (50 ms against a 1 s
# interval): the kernel's proc connector sees them (as root); scanning
# /proc cannot. They live 50 ms so that reading their name after the exec
# event does not race their exit on a slow (sanitizer) build.
cp /bin/sleep ./bsp-short-app
( sleep 0.4; ./bsp-short-app 0.05; ./bsp-short-app 0.05 ) &
expect_exit 0 $B --db s.db collect --interval 1s --duration 1500ms --entity h --no-users
wait
if grep -q "launches from the proc connector" err.txt; then
	[ "$(sqlite3 s.db "SELECT count(*) FROM event WHERE name = 'bsp-short-app'")" = 2 ] ||
		fail "the connector missed short-lived launches"
else
	contains err.txt "launches from the /proc scan"
fi
( sleep 0.4; ./bsp-short-app ) &
expect_exit 0 $B --db s2.db collect --interval 1s --duration 1500ms --entity h --no-users --no-connector
wait
contains err.txt "launches from the /proc scan"

# Bad options.
expect_exit 1 $B collect --interval 1ms
contains err.txt "--interval"
expect_exit 1 $B collect --to ftp://x
contains err.txt "--to"
expect_exit 1 $B collect --to http://127.0.0.1:9 --token-file /nonexistent
contains err.txt "/nonexistent"

# A daemon that is not there yet: the agent buffers, then delivers.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The agent's token is 1,200 characters long (a JWT-sized token), so that
# nothing on its way may cut it.
AGENT_TOKEN=agent-$(python3 -c 'import random; random.seed(3); print("".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(1200)))')
printf '%s agent\nadmin-0123456789abcdef admin\n' "$AGENT_TOKEN" >tokens.txt
echo "$AGENT_TOKEN" >agent.tok
$B collect --to http://127.0.0.1:$port --token-file agent.tok --interval 250ms \
	--duration 20s --entity e2e-host --no-users --no-apps 2>agent.err &
AG=$!
sleep 1.5
up_ms=$(python3 -c 'import time; print(int(time.time()*1000))')
$B --db d.db serve --loop 0 --listen 127.0.0.1:$port --tokens tokens.txt 2>serve.err &
SV=$!
trap 'kill $AG $SV 2>/dev/null' EXIT
wait $AG || { cat agent.err; fail "agent exited $?"; }
contains agent.err "buffering"
contains agent.err "daemon back"
A="Authorization: Bearer admin-0123456789abcdef"
curl -s -H "$A" "http://127.0.0.1:$port/v1/entities/e2e-host" >e.json
python3 - "$up_ms" <<'PY' || { cat e.json; fail "buffered readings"; }
import json, sys, datetime
d = json.load(open("e.json"))
first = datetime.datetime.fromisoformat(d["first"].replace("Z", "+00:00")).timestamp() * 1000
assert first < int(sys.argv[1]), "nothing from before the daemon started"
assert d["samples"] >= 7 * 70, d["samples"]
PY
# A profile from the agent's readings, at 1 s steps.
code=$(curl -s -o p.json -w '%{http_code}' -H "$A" "http://127.0.0.1:$port/v1/entities/e2e-host/profile?refresh=1&step=1s&horizon=10s&history=1h&metrics=cpu_usage_pct,mem_usage")
[ "$code" = 200 ] || { cat p.json; fail "profile: $code"; }
python3 - <<'PY' || fail "profile from the agent"
import json
d = json.load(open("p.json"))
q = d["metrics"]["mem_usage"]["forecast"]["quantiles"]
assert len(q["p95"]) == 10 and all(v > 0 for v in q["p50"])
PY
kill -TERM $SV; wait $SV

# --spool: an agent that stops while the daemon is away keeps what it
# could not send, and the next run sends it first.
expect_exit 1 $B collect --spool sp --duration 1s
contains err.txt "only with --to"
expect_exit 0 $B collect --to http://127.0.0.1:$port --token-file agent.tok --interval 250ms \
	--duration 1500ms --entity spool-host --no-users --no-apps --spool sp
contains err.txt "kept in sp for the next run"
ls sp/*-s.csv >/dev/null 2>&1 || fail "nothing spooled"
stopped_ms=$(python3 -c 'import time; print(int(time.time()*1000))')
$B --db d.db serve --loop 0 --listen 127.0.0.1:$port --tokens tokens.txt 2>serve.err &
SV=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
expect_exit 0 $B collect --to http://127.0.0.1:$port --token-file agent.tok --interval 250ms \
	--duration 500ms --entity spool-host --no-users --no-apps --spool sp
contains err.txt "to send first"
[ -z "$(ls sp)" ] || { ls sp; fail "the spool was not emptied"; }
curl -s -H "$A" "http://127.0.0.1:$port/v1/entities/spool-host" >e.json
python3 - "$stopped_ms" <<'PY' || { cat e.json; fail "spooled readings"; }
import json, sys, datetime
d = json.load(open("e.json"))
first = datetime.datetime.fromisoformat(d["first"].replace("Z", "+00:00")).timestamp() * 1000
assert first < int(sys.argv[1]) - 1000, "the first run's readings are missing"
PY
kill -TERM $SV; wait $SV
