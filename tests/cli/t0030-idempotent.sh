# Ingesting the same data twice changes nothing; overlapping data merges.
. "$TESTLIB"

for i in $(seq 0 999); do echo "vm1,cpu,$((1372636800 + i * 300)),$i.5"; done >a.csv
expect_exit 0 $B --db s.db ingest a.csv
contains out.txt "1000 samples (1000 new"
$B --db s.db --json stats >s1.json
expect_exit 0 $B --db s.db ingest a.csv
contains out.txt "(0 new, 0 replaced, 1000 unchanged)"
$B --db s.db --json stats >s2.json
cmp s1.json s2.json || fail "a second ingest changed the store"
# Half old (new values), half new.
for i in $(seq 500 1499); do echo "vm1,cpu,$((1372636800 + i * 300)),7"; done >b.csv
expect_exit 0 $B --db s.db ingest b.csv
contains out.txt "(500 new, 500 replaced, 0 unchanged)"
expect_exit 0 $B --db s.db --json stats
[ "$(json_get out.txt 'd["samples"]')" = 1500 ] || fail "1500 samples"
expect_exit 0 $B --db s.db check
