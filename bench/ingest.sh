#!/usr/bin/env bash
# Ingest speed and stored size on the Bitbrains GWA-T-12 Rnd trace, July 2013
# (250 VMs), next to:
#   - zcat alone decompressing the same files (the floor; goal: bespoke
#     within 3x of it),
#   - sqlite3's .import of the same samples as long CSV,
#   - promtool tsdb create-blocks-from openmetrics on the same samples
#     (Prometheus' own block format; size per sample side by side);
# and the time to read one series' month as a 5-minute grid (goal: < 1 ms),
# next to the same read from the long table in SQLite with an index.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${SHARED_DATA:-../shared/data}/bitbrains-rnd/2013-7
B=build/bespoke
if [ ! -d "$D" ]; then
	echo "bench/ingest: no Bitbrains data at $D: skipped"
	exit 0
fi
W=$(mktemp -d /tmp/bsp-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
files=("$D"/*.gz)

# Warm the page cache so every contender reads from memory.
cat "${files[@]}" >/dev/null

t0=$(now); zcat "${files[@]}" >/dev/null; t1=$(now)
zcat_s=$(secs "$t0" "$t1")

t0=$(now); $B --db "$W/b.db" ingest --quiet "$D" >"$W/ingest.txt"; t1=$(now)
bsp_s=$(secs "$t0" "$t1")
$B --db "$W/b.db" --json stats >"$W/stats.json"
samples=$(python3 -c "import json;print(json.load(open('$W/stats.json'))['samples'])")
bsp_bps=$(python3 -c "import json;print(f\"{json.load(open('$W/stats.json'))['file_bytes_per_sample']:.3f}\")")
chunk_bps=$(python3 -c "import json;print(f\"{json.load(open('$W/stats.json'))['bytes_per_sample']:.3f}\")")

# The same samples as long CSV (not timed: preparation).
$B --db "$W/b.db" export >"$W/long.csv"

t0=$(now)
sqlite3 "$W/s.db" <<SQL
CREATE TABLE samples(entity TEXT, metric TEXT, labels TEXT, ts REAL, value REAL);
.mode csv
.import --skip 1 $W/long.csv samples
SQL
t1=$(now)
sq_s=$(secs "$t0" "$t1")
sq_bytes=$(stat -c %s "$W/s.db")

# promtool's backfill parses its whole input once per 2-hour block, so a
# month takes over an hour: it gets the first day of every VM (12 blocks),
# and bespoke ingests that same day beside it.
day_end=1372723200 # 2013-07-02T00:00:00Z
awk -F, -v end=$day_end 'NR > 1 && $4 < end' "$W/long.csv" >"$W/day.csv"
day_samples=$(wc -l <"$W/day.csv")
awk -F, '{printf "bitbrains_%s{vm=\"%s\"} %s %s\n", $2, $1, $5, $4} END {print "# EOF"}' "$W/day.csv" >"$W/om_day.txt"
(echo "entity,metric,labels,ts,value"; cat "$W/day.csv") >"$W/day_h.csv"
t0=$(now); $B --db "$W/day.db" ingest --quiet "$W/day_h.csv" >/dev/null; t1=$(now)
bday_s=$(secs "$t0" "$t1")
bday_bytes=$(python3 -c "import json,subprocess;print(json.loads(subprocess.check_output(['$B','--db','$W/day.db','--json','stats']))['file_bytes'])")
pt_s=NA; pt_bytes=0
if command -v promtool >/dev/null; then
	t0=$(now)
	if promtool tsdb create-blocks-from openmetrics "$W/om_day.txt" "$W/prom" >"$W/promtool.log" 2>&1; then
		t1=$(now); pt_s=$(secs "$t0" "$t1")
		pt_bytes=$(du -sb "$W/prom" | cut -f1)
	else
		echo "promtool failed:"; tail -5 "$W/promtool.log"
	fi
fi

per() { python3 -c "print(f'{$1 / $2:.3f}' if $2 else 'NA')"; }
rate() { python3 -c "print('NA' if '$2' == 'NA' else f'{$1 / float($2) / 1e6:.2f}M')"; }
echo
echo "== ingest: Bitbrains Rnd 2013-7, ${#files[@]} files, $samples samples"
printf '%-40s %9s %12s %14s\n' "tool" "seconds" "samples/s" "bytes/sample"
printf '%-40s %9s %12s %14s\n' "zcat (decompress only)" "$zcat_s" "$(rate "$samples" "$zcat_s")" "-"
printf '%-40s %9s %12s %14s\n' "bespoke ingest (whole store file)" "$bsp_s" "$(rate "$samples" "$bsp_s")" "$bsp_bps"
printf '%-40s %9s %12s %14s\n' "  (chunk payload only)" "" "" "$chunk_bps"
printf '%-40s %9s %12s %14s\n' "sqlite3 .import, long CSV" "$sq_s" "$(rate "$samples" "$sq_s")" "$(per "$sq_bytes" "$samples")"
echo "-- the first day only ($day_samples samples), for promtool:"
printf '%-40s %9s %12s %14s\n' "bespoke ingest (long CSV, one day)" "$bday_s" "$(rate "$day_samples" "$bday_s")" "$(per "$bday_bytes" "$day_samples")"
printf '%-40s %9s %12s %14s\n' "promtool create-blocks (one day)" "$pt_s" "$(rate "$day_samples" "$pt_s")" "$(per "$pt_bytes" "$day_samples")"
python3 -c "print(f'bespoke/zcat time ratio: {$bsp_s / $zcat_s:.2f}x (goal: at most 3x); stored {$bsp_bps} bytes/sample (goal: at most 2)')"

echo
echo "== read: one series' month as a 5-minute grid (VM 1, cpu_usage, July 2013)"
make -s build/bench/bench_read >/dev/null
printf '%-40s ' "bespoke read_grid"
build/bench/bench_read "$W/b.db" 1 cpu_usage 2013-07-01T00:00:00Z 2013-08-01T00:00:00Z 2000
sqlite3 "$W/s.db" "CREATE INDEX i ON samples(entity, metric, ts);" >/dev/null
q="SELECT CAST(ts/300 AS INTEGER)*300 AS b, avg(value) FROM samples WHERE entity='1' AND metric='cpu_usage' AND ts >= 1372636800 AND ts < 1375315200 GROUP BY b;"
t0=$(now)
for _ in $(seq 20); do echo "$q"; done | sqlite3 "$W/s.db" >/dev/null
t1=$(now)
python3 -c "print(f\"{'sqlite3, indexed long table':40s} 20 reads: mean {($t1 - $t0) / 20 * 1e6:.1f} us (includes the sqlite3 process start once)\")"
