# Prometheus remote-write into the daemon, with a real Prometheus as the
# sender: it scrapes the daemon's own /metrics every second and writes the
# samples back through POST /api/v1/write with an agent token. Then bad
# bodies, and every acknowledged sample surviving SIGKILL.
. "$TESTLIB"
command -v curl >/dev/null || skip "no curl"
command -v prometheus >/dev/null || skip "no prometheus"

AGENT=agent-0123456789abcdef
ADMIN=admin-0123456789abcdef
printf '%s admin\n%s agent\n' $ADMIN $AGENT >tokens.txt
start() {
	rm -f port
	$B --db d.db serve --loop 0 --listen 127.0.0.1:0 --port-file port --tokens tokens.txt "$@" 2>>serve.err &
	PID=$!
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
	[ -s port ] || { cat serve.err; fail "serve did not start"; }
	P=$(cat port)
}
start
cat >prom.yml <<Y
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: bespoke
    static_configs:
      - targets: ["127.0.0.1:$P"]
remote_write:
  - url: http://127.0.0.1:$P/api/v1/write
    authorization:
      credentials: $AGENT
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
Y
prometheus --config.file=prom.yml --storage.tsdb.path=tsdb \
	--web.listen-address=127.0.0.1:0 >prom.log 2>&1 &
PROM=$!
trap 'kill $PROM $PID 2>/dev/null' EXIT
# The series arrive under the entity named by the instance label.
ok=
for _ in $(seq 60); do
	curl -s -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$P/v1/entities/127.0.0.1:$P" >ent.json
	if python3 -c "
import json, sys
d = json.load(open('ent.json'))
m = {s['metric'] for s in d.get('series_list', [])}
sys.exit(0 if {'bespoke_http_requests_total', 'up', 'scrape_duration_seconds'} <= m else 1)" 2>/dev/null; then
		ok=1; break
	fi
	sleep 0.5
done
[ -n "$ok" ] || { tail -20 prom.log; cat ent.json; fail "no remote-written series from Prometheus"; }
python3 - <<'PY' || fail "series shape"
import json
d = json.load(open("ent.json"))
s = {x["metric"]: x for x in d["series_list"]}
assert s["scrape_duration_seconds"]["unit"] == "s"
assert 'job="bespoke"' in s["up"]["labels"]
assert any('code="' in x["labels"] for x in d["series_list"] if x["metric"] == "bespoke_http_requests_total")
PY
kill $PROM; wait $PROM 2>/dev/null

# Bad bodies: not snappy, snappy around garbage, wrong encoding, no token.
printf 'hello' >junk.bin
code() { curl -s -o body.txt -w '%{http_code}' -X POST -H "Authorization: Bearer $1" "${@:2}"; }
[ "$(code $AGENT --data-binary @junk.bin -H 'Content-Encoding: snappy' http://127.0.0.1:$P/api/v1/write)" = 400 ] || fail "junk: $(cat body.txt)"
contains body.txt "snappy"
[ "$(code $AGENT --data-binary @junk.bin -H 'Content-Encoding: gzip' http://127.0.0.1:$P/api/v1/write)" = 415 ] || fail "gzip"
[ "$(code wrong-token-0123456789 --data-binary @junk.bin http://127.0.0.1:$P/api/v1/write)" = 401 ] || fail "token"
python3 - <<'PY'
# snappy block format by hand: a literal of 5 bytes that are no protobuf
body = bytes([5, 4 << 2]) + b"\xff\xff\xff\xff\xff"
open("notpb.bin", "wb").write(body)
PY
[ "$(code $AGENT --data-binary @notpb.bin http://127.0.0.1:$P/api/v1/write)" = 400 ] || fail "not protobuf: $(cat body.txt)"
contains body.txt "WriteRequest"

# SIGKILL with remote-written samples acknowledged but not yet flushed
# (--flush 1h): the append log brings every one of them back at start.
kill -TERM $PID; wait $PID
start --flush 1h
python3 - <<'PY'
import struct
def varint(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(num, wt, payload):
    key = varint(num << 3 | wt)
    return key + (varint(len(payload)) + payload if wt == 2 else payload)
def label(n, v): return field(1, 2, field(1, 2, n.encode()) + field(2, 2, v.encode()))
def sample(v, t): return field(2, 2, field(1, 1, struct.pack("<d", v)) + field(2, 0, varint(t)))
for r in range(30):
    wr = b""
    for s in range(10):
        wr += field(1, 2, label("__name__", "node_load1") + label("instance", "rw-vm") +
                    label("cpu", str(s)) + sample(r + s / 10, 1767225600000 + r * 15000))
    # snappy block format: the length, then one literal (tag 61: 2-byte length)
    body = varint(len(wr)) + bytes([61 << 2]) + struct.pack("<H", len(wr) - 1) + wr
    open(f"rw{r}.bin", "wb").write(body)
PY
acked=0
for r in $(seq 0 29); do
	[ "$(code $AGENT --data-binary @rw$r.bin -H 'Content-Encoding: snappy' http://127.0.0.1:$P/api/v1/write)" = 204 ] && acked=$((acked + 10))
done
[ $acked = 300 ] || fail "acknowledged $acked of 300: $(cat body.txt)"
kill -KILL $PID
wait $PID 2>/dev/null
start
contains serve.err "stored 300 remote-written samples left from the last run"
curl -s -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$P/v1/entities/rw-vm" >rw.json
[ "$(json_get rw.json 'd["samples"]')" = 300 ] || fail "stored $(json_get rw.json 'd["samples"]') of 300 after SIGKILL"

# SIGKILL during ingest: every acknowledged sample is there afterwards.
n=0
for i in $(seq 1 40); do
	printf 'entity,metric,timestamp,value\nkill-vm,cpu_usage,%s,%s\n' $((1767225600 + i * 300)) $i >one.csv
	[ "$(code $AGENT --data-binary @one.csv http://127.0.0.1:$P/v1/ingest)" = 200 ] && n=$i
	[ $i = 30 ] && kill -KILL $PID
done
wait $PID 2>/dev/null
[ $n -ge 30 ] || fail "acknowledged only $n before the kill"
start
curl -s -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$P/v1/entities/kill-vm" >k.json
[ "$(json_get k.json 'd["samples"]')" = $n ] || fail "acknowledged $n, stored $(json_get k.json 'd["samples"]')"
kill -TERM $PID; wait $PID
