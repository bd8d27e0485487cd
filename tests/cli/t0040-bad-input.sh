# Bad lines are named by file and line, skipped by default, and make the
# whole file count for nothing with --on-error=abort; a truncated gzip is an
# error that leaves what was stored intact.
. "$TESTLIB"

cat >bad.csv <<'CSV'
entity,metric,timestamp,value
vm1,cpu,1372636800,1
vm1,cpu,1372637100
vm1,cpu,notatime,3
vm1,cpu,1372637700,NaN
vm1,cpu,1372638000,abc
vm1,cpu,1372638300,1e400
vm1,cpu,1372638600,2
CSV
expect_exit 0 $B --db s.db ingest bad.csv
contains err.txt "bad.csv:3:"
contains err.txt "bad.csv:4:"
contains err.txt "bad.csv:5:"
contains err.txt "bad.csv:6:"
contains err.txt "bad.csv:7:"
contains out.txt "2 samples"
$B --db s.db --json stats >before.json

# abort: nothing from that file is stored, exit 1, earlier data intact.
sed 's/vm1/vm9/' bad.csv >bad2.csv
expect_exit 1 $B --db s.db ingest --on-error=abort bad2.csv
contains err.txt "bad2.csv:3:"
expect_exit 0 $B --db s.db --json entities
[ "$(json_get out.txt 'len(d)')" = 1 ] || fail "vm9 must not exist"

# A truncated gzip: an error naming the file, nothing from it stored.
for i in $(seq 0 20000); do echo "vm5,cpu,$((1372636800 + i * 300)),$i"; done | gzip -c >big.csv.gz
head -c $(( $(stat -c %s big.csv.gz) / 2 )) big.csv.gz >trunc.csv.gz
expect_exit 1 $B --db s.db ingest trunc.csv.gz
contains err.txt "trunc.csv.gz"
expect_exit 0 $B --db s.db --json entities
[ "$(json_get out.txt 'len(d)')" = 1 ] || fail "vm5 must not exist"
$B --db s.db --json stats >after.json
cmp before.json after.json || fail "failed ingests changed the store"
expect_exit 0 $B --db s.db check

# The whole gzip reads transparently.
expect_exit 0 $B --db s.db ingest big.csv.gz
contains out.txt "20001 samples (20001 new"
# A file that is no known format is refused by name.
printf '\x00\x01\x02binary\xff\n' >blob.bin
expect_exit 1 $B --db s.db ingest blob.bin
contains err.txt "blob.bin"
