# Real traces from ../shared/data, when present: a few Bitbrains VMs, a
# PlanetLab day, Schonlau histories, the Azure vmtable sample.
. "$TESTLIB"

D=${SHARED_DATA:-}
[ -d "$D/bitbrains-rnd/2013-7" ] || skip "no shared data at '$D': real-data test skipped"

expect_exit 0 $B --db r.db ingest "$D/bitbrains-rnd/2013-7/1.csv.gz" "$D/bitbrains-rnd/2013-7/2.csv.gz" "$D/bitbrains-rnd/2013-8/1.csv.gz"
expect_exit 0 $B --db r.db --json stats
samples=$(json_get out.txt 'd["samples"]')
bps=$(json_get out.txt 'd["file_bytes_per_sample"]')
[ "$samples" -gt 150000 ] || fail "expected >150k samples, got $samples"
expect_exit 0 $B --db r.db --json series 1
python3 - <<'PY' || fail "series 1 lacks July and August"
import json; d = json.load(open("out.txt"))
cpu = [s for s in d if s["metric"] == "cpu_usage"][0]
assert cpu["first"].startswith("2013-06-30") or cpu["first"].startswith("2013-07"), cpu
assert cpu["last"].startswith("2013-08") or cpu["last"].startswith("2013-09"), cpu
PY
# Re-ingest of real data changes nothing.
expect_exit 0 $B --db r.db ingest "$D/bitbrains-rnd/2013-7/1.csv.gz"
contains out.txt "(0 new, 0 replaced"
if [ -d "$D/schonlau" ]; then
	expect_exit 0 $B --db r.db ingest "$D/schonlau/User1" "$D/schonlau/User2"
	expect_exit 0 $B --db r.db --json entities
	[ "$(json_get out.txt "[x['events'] for x in d if x['name']=='User1'][0]")" = 15000 ] || fail "User1 has 15000 commands"
fi
if [ -f "$D/azure-v1/vmtable-sample.csv" ]; then
	expect_exit 0 $B --db r.db ingest "$D/azure-v1/vmtable-sample.csv"
	expect_exit 0 $B --db r.db --json entities
	[ "$(json_get out.txt 'len(d)')" -gt 300 ] || fail "vmtable entities missing"
fi
expect_exit 0 $B --db r.db check
echo "real data: $samples samples, $bps bytes/sample"
