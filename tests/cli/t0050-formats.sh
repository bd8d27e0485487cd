# Every format by detection, from small files written here.
. "$TESTLIB"

mkdir -p traces/20110303 hist
printf 'Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\tDisk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]\n' >traces/7.csv
# Rows in the trace's shape, with values made up here.
printf '1372629900;\t4;\t9200.5;\t123.4567891;\t1.34;\t16777216.0;\t2097152.5;\t160.5;\t22.1;\t0.5;\t2.25\n' >>traces/7.csv
printf '1372630200;\t4;\t9200.5;\t33.300000000000004;\t0.36;\t16777216.0;\t1048576.25;\t0.0;\t3.5;\t0.25;\t1.0\n' >>traces/7.csv
gzip traces/7.csv
for i in $(seq 1 288); do echo $((i % 100)); done >traces/20110303/host_a
printf 'ls\ncd\nvi\nmake\n' >hist/alice
printf 'entity,timestamp,kind,name\nbob,1372636800,app,chrome\nbob,1372636900,app,excel\n' >events.csv
printf '# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1{instance="web1:9100",job="node"} 0.42 1372636800000\nnode_memory_MemFree_bytes{instance="web1:9100"} 1.5e+09 1372636800000\n' >scrape.prom
printf 'm_1,386640,41,92,,,,,\nm_1,386340,40,91,,,,,\n' >machine_usage.csv
printf '0,vmA,1.5,9.5,4.2\n300,vmA,1.0,8.0,3.1\n' >cpu_readings.csv

expect_exit 0 $B --db s.db ingest traces hist events.csv scrape.prom machine_usage.csv cpu_readings.csv
expect_exit 0 $B --db s.db --json entities
for e in 7 host_a alice bob web1:9100 m_1 vmA; do
	json_get out.txt "[x['name'] for x in d]" | grep -q "'$e'" || fail "entity $e missing"
done
expect_exit 0 $B --db s.db series 7
contains out.txt "cpu_usage"
contains out.txt "mem_usage"
contains out.txt "disk_total"
contains out.txt "net_total"
contains out.txt "MHz"
expect_exit 0 $B --db s.db export 7 --metric cpu_usage
contains out.txt "7,cpu_usage,,1372629900,123.4567891"
contains out.txt "7,cpu_usage,,1372630200,33.300000000000004"
expect_exit 0 $B --db s.db export 7 --metric disk_total
contains out.txt "1372629900,182.6"
expect_exit 0 $B --db s.db --json series host_a
[ "$(json_get out.txt 'd[0]["samples"]')" = 288 ] || fail "288 planetlab samples"
expect_exit 0 $B --db s.db export host_a
contains out.txt "host_a,cpu_usage_pct,,1299110400,1"
expect_exit 0 $B --db s.db --json entities
[ "$(json_get out.txt "[x['events'] for x in d if x['name']=='alice'][0]")" = 4 ] || fail "4 commands"
expect_exit 0 $B --db s.db export web1:9100
contains out.txt 'web1:9100,node_load1,"job=""node""",1372636800,0.42'
