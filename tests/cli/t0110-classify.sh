# bespoke classify: train with cross-validation on a vmtable file, store
# the model, evaluate it, classify vmtable entities and demo users, and
# refuse bad input clearly.
. "$TESTLIB"

# 40 rows with a clear rule: interactive VMs idle (avg 2-6% of a 70-95%
# peak), batch VMs busy (avg 45-64%). One Unknown row is ignored.
{
	echo "vm_id,subscription_id,deployment_id,timestamp_vm_created,timestamp_vm_deleted,max_cpu,avg_cpu,p95_max_cpu,vm_category,vm_virtual_core_count_bucket,vm_memory_gb_bucket,duration"
	for i in $(seq 0 39); do
		j=$((i % 5))
		if [ $((i % 2)) = 0 ]; then
			echo "vm$i,s,d,0,3600,$((70 + 5 * j)),$((2 + j)),$((25 + 3 * j)),Interactive,2,4,3600"
		else
			echo "vm$i,s,d,0,3600,$((80 + 3 * j)),$((45 + 4 * j)),$((78 + 3 * j)),Delay-insensitive,2,4,3600"
		fi
	done
	echo "vmU,s,d,0,3600,50,10,30,Unknown,2,4,3600"
} >vt.csv

# No model yet: a clear instruction.
expect_exit 0 $B --db c.db demo --users 2 --days 3
expect_exit 1 $B --db c.db classify user-000-office
contains err.txt "classify --train"

expect_exit 0 $B --db c.db classify --train vt.csv
contains out.txt "40 rows (20 interactive, 20 delay-insensitive), 1 Unknown ignored"
contains out.txt "logistic-l2       1.000         1.000     1.000"
contains out.txt "majority"
contains out.txt "stored classifier version 1"
expect_exit 0 $B --db c.db --json classify --train vt.csv --folds 4 --seed 7
[ "$(json_get out.txt 'd["model_version"]')" = 2 ] || fail "second training is version 2"
[ "$(json_get out.txt 'd["cv"]["baseline"]["balanced_accuracy"]')" = 0.5 ] || fail "baseline"

expect_exit 0 $B --db c.db --json classify --evaluate vt.csv
[ "$(json_get out.txt 'd["accuracy"]')" = 1.0 ] || fail "evaluate"

# vmtable rows as entities: classified from their attributes.
expect_exit 0 $B --db c.db ingest vt.csv
expect_exit 0 $B --db c.db --json classify vm0
[ "$(json_get out.txt 'd["class"]')" = interactive ] || fail "vm0"
[ "$(json_get out.txt 'd["source"]')" = summary ] || fail "source"
[ "$(json_get out.txt 'd["model_version"]')" = 2 ] || fail "version"
expect_exit 0 $B --db c.db classify vm1
contains out.txt "delay-insensitive"
# demo users: from their CPU series, with the series-only features.
expect_exit 0 $B --db c.db --json classify user-001-developer
python3 - <<'PY' || fail "series features"
import json
d = json.load(open("out.txt"))
assert d["source"] == "cpu_usage", d
f = d["features"]
assert 0 < f["avg"] <= f["p95"] <= f["max"] <= 1, f
assert f["diurnal"] is not None and f["acf24"] is not None
PY
expect_exit 0 $B --db c.db --json classify --all
[ "$(json_get out.txt 'len(d["entities"])')" = 43 ] || fail "--all"

# Refusals.
expect_exit 1 $B --db c.db classify nobody
expect_exit 1 $B --db c.db classify --train missing.csv
contains err.txt "missing.csv"
printf 'a,s,d,0,1,90,x,30,Interactive,2,4,1\n' >bad.csv
expect_exit 1 $B --db c.db classify --train bad.csv
contains err.txt "bad.csv:1:"
expect_exit 1 $B --db c.db classify
expect_exit 1 $B --db c.db classify --all vm0
exit 0
