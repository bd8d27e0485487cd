#!/usr/bin/env bash
# HTTP API load: wrk on loopback against GET /v1/entities/{id}/profile (a
# stored profile, with a bearer token), beside GET /healthz (the daemon's
# floor: routing and a reply, no store) in the same run. Goal (issue 7):
# at least 20,000 requests/s with p99 under 10 ms on 2 cores. Then
# remote-write ingest (bench_remote_write: Prometheus-shaped requests from
# 4 connections); goal 1 million samples/s.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(pwd)/build/bespoke
command -v wrk >/dev/null || { echo "== serve: no wrk (apt install wrk): skipped"; exit 0; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$B" --db "$tmp/d.db" demo --users 8 --days 14 >/dev/null
printf 'bench-token-0123456789abcdef admin\nbench-agent-0123456789abcdef agent\n' >"$tmp/tokens"
"$B" --db "$tmp/d.db" serve --loop 0 --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--tokens "$tmp/tokens" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$tmp/port")
auth="Authorization: Bearer bench-token-0123456789abcdef"
curl -sf -H "$auth" "$url/v1/entities/user-001-developer/profile" >/dev/null
secs=${BSP_WRK_SECONDS:-10}
echo "== serve: wrk, 2 threads, 64 connections, ${secs} s each (goal: >= 20000 req/s, p99 < 10 ms)"
printf '%-34s %12s %10s %10s %10s\n' route "req/s" p50 p99 "non-2xx"
for route in /healthz /v1/entities/user-001-developer/profile; do
	out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "$auth" "$url$route")
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	printf '%-34s %12s %10s %10s %10s\n' "$route" "$rps" "$p50" "$p99" "${bad:-0}"
done
echo "== serve: remote-write ingest (goal: >= 1000000 samples/s)"
t0=$(date +%s.%N)
build/bench/bench_remote_write "$url/api/v1/write" bench-agent-0123456789abcdef \
	--seconds "$secs" --series 10000 --per-request 2000 --connections 4
# Acknowledged is not stored: wait for the flusher to empty the log.
for _ in $(seq 600); do
	m=$(curl -s "$url/metrics")
	pending=$(awk '/^bespoke_remote_write_pending_bytes/ {print $2}' <<<"$m")
	[ "$pending" = 0 ] && break
	sleep 0.1
done
t1=$(date +%s.%N)
stored=$(awk '/^bespoke_remote_write_flushed_samples_total/ {print $2}' <<<"$m")
python3 -c "import sys; s, a, b = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'stored: {s} samples in {b - a:.1f} s from the first request to an empty log = {s / (b - a):.0f} samples/s')" "$stored" "$t0" "$t1"
