# Long CSV in, the same samples out: entities, series, export (raw and on a
# grid), stats, check.
. "$TESTLIB"

cat >m.csv <<'CSV'
entity,metric,timestamp,value
vm1,cpu,1372636800,1.5
vm1,cpu,1372637100,2.5
vm1,cpu,1372637400,3.25
vm1,mem,2013-07-01T00:00:00Z,1024
vm2,cpu,1372636800,0.1
CSV
expect_exit 0 $B --db s.db ingest m.csv
contains out.txt "5 samples (5 new"
expect_exit 0 $B --db s.db entities
contains out.txt "vm1"
contains out.txt "vm2"
expect_exit 0 $B --db s.db --json entities
[ "$(json_get out.txt 'len(d)')" = 2 ] || fail "two entities expected"
[ "$(json_get out.txt 'd[0]["samples"]')" = 4 ] || fail "vm1 has 4 samples"
expect_exit 0 $B --db s.db series vm1
contains out.txt "cpu"
contains out.txt "mem"
expect_exit 1 $B --db s.db series nobody
contains err.txt "nobody"

expect_exit 0 $B --db s.db export vm1 --metric cpu
contains out.txt "vm1,cpu,,1372636800,1.5"
contains out.txt "vm1,cpu,,1372637400,3.25"
[ "$(wc -l <out.txt)" = 4 ] || fail "header + 3 rows expected"
# A 10-minute grid: mean of the first two, then the third.
expect_exit 0 $B --db s.db export vm1 --metric cpu --step 10m --from 1372636800 --until 1372638000
contains out.txt "vm1,cpu,,1372636800,2"
contains out.txt "vm1,cpu,,1372637400,3.25"
expect_exit 0 $B --db s.db export vm1 --metric cpu --step 10m --agg max --from 1372636800 --until 1372639200
contains out.txt "1372636800,2.5"
contains out.txt "1372638600,NaN"
expect_exit 0 $B --db s.db export vm1 --metric cpu --step 10m --fill previous --from 1372636800 --until 1372639200
contains out.txt "1372638600,3.25"
expect_exit 0 $B --db s.db export --json vm2
[ "$(json_get out.txt 'd[0]["points"][0][1]')" = 0.1 ] || fail "json point"
expect_exit 1 $B --db s.db export vm1 --agg median
contains err.txt "--agg"
expect_exit 1 $B --db s.db export vm1 --from yesterday
contains err.txt "--from"

expect_exit 0 $B --db s.db --json stats
[ "$(json_get out.txt 'd["samples"]')" = 5 ] || fail "5 samples stored"
expect_exit 0 $B --db s.db check
contains out.txt "ok"

# export → ingest is lossless, labels included (a Prometheus scrape has them).
printf 'up{instance="h1",job="a,b"} 1 1372636800000\nup{instance="h1",job="c"} 0 1372636800000\nload{instance="h1"} 0.30000000000000004 1372636800000\n' >scrape.prom
expect_exit 0 $B --db s.db ingest scrape.prom
$B --db s.db export >all.csv
expect_exit 0 $B --db copy.db ingest all.csv
$B --db copy.db export >again.csv
cmp all.csv again.csv || fail "export → ingest → export differs"
contains all.csv '"job=""a,b"""'
contains all.csv 'h1,load,,1372636800,0.30000000000000004'
