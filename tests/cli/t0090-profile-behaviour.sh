# The Behaviour Profile's behaviour part: the next applications from the
# user's own sequence (vi is always followed by make), what it uses each day, the coming day, a
# persona from the shipped catalog, no look-ahead past --at, and
# --no-behaviour.
. "$TESTLIB"

# Three weeks of hourly CPU and memory for one user, busy in working hours.
python3 - <<'PY'
import math
t0 = 1767225600  # 2026-01-01T00:00:00Z
with open("usage.csv", "w") as f:
    f.write("entity,metric,timestamp,value\n")
    for h in range(21 * 24):
        hod = h % 24
        busy = 9 <= hod < 18
        f.write(f"dev,cpu_usage,{t0 + h * 3600},{3.0 if busy else 0.3 + 0.01 * (h % 7)}\n")
        f.write(f"dev,mem_usage,{t0 + h * 3600},{4000 + (2000 if busy else 0)}\n")
# Each day from 10:00: an edit-build-debug loop, a browser, chat.
with open("events.csv", "w") as f:
    f.write("entity,timestamp,kind,name\n")
    for d in range(21):
        base = t0 + d * 86400 + 10 * 3600
        for k, app in enumerate(["vim", "make", "gdb", "git", "vscode", "firefox", "vim", "make", "slack"]):
            f.write(f"dev,{base + k * 300},app,{app}\n")
    # After --at (day 21): a different tool every minute; must not count.
    for k in range(200):
        f.write(f"dev,{t0 + 21 * 86400 + 3600 + k * 60},app,photoshop\n")
PY
expect_exit 0 $B --db d.db ingest usage.csv events.csv
expect_exit 0 $B --db d.db --json predict dev --at 2026-01-22T00:00:00Z
python3 - <<'PY' || fail "behaviour JSON"
import json
d = json.load(open("out.txt"))
b = d["behaviour"]
apps = b["apps"]
# The last launch before --at is "make" after "vi"; the context ends "vi make".
names = [a["name"] for a in apps["next"]]
assert "photoshop" not in names, names
# Every tool was used on every day before --at, photoshop only after it.
day = {a["name"]: a["p"] for a in apps["coming_day"]}
assert set(day) == {"vim", "make", "gdb", "git", "vscode", "firefox", "slack"}, day
assert min(day.values()) > 0.9, day
assert all(0 <= a["p"] <= 1 for a in apps["next"] + apps["coming_day"])
p = b["personas"]
assert abs(sum(x["p"] for x in p) - 1) < 1e-6
assert all(p[i]["p"] >= p[i + 1]["p"] for i in range(len(p) - 1))
assert p[0]["name"] == "developer", p[:3]
assert "no classifier stored" in b["missing"]["workload"]
PY

# A sequence where vi is always followed by make: make is first after vi.
python3 - <<'PY'
with open("vi.csv", "w") as f:
    f.write("entity,timestamp,kind,name\n")
    t = 1767225600
    for k in range(60):
        for app in ["ls", "vi", "make", "cd", "vi", "make", "vi"][: 7 if k == 59 else 6]:
            f.write(f"dev,{t},app,{app}\n")
            t += 60
PY
expect_exit 0 $B --db v.db ingest usage.csv vi.csv
expect_exit 0 $B --db v.db --json predict dev --no-store
[ "$(json_get out.txt 'd["behaviour"]["apps"]["next"][0]["name"]')" = make ] || fail "make after vi"

# The text summary names the parts.
expect_exit 0 $B --db d.db predict dev --at 2026-01-22T00:00:00Z
contains out.txt "personas: developer"
contains out.txt "coming day:"
contains out.txt "no workload: no classifier stored"

# Without behaviour, and with a catalog that does not exist.
expect_exit 0 $B --db d.db --json predict dev --no-behaviour --no-store
[ "$(json_get out.txt '"behaviour" in d')" = False ] || fail "--no-behaviour"
expect_exit 1 $B --db d.db predict dev --catalog /nonexistent/personas.yaml
contains err.txt "/nonexistent/personas.yaml"

# With a classifier stored, the workload class is there, with its version.
python3 - <<'PY'
import random
random.seed(3)
with open("vmtable.csv", "w") as f:
    f.write("vm_id,subscription_id,deployment_id,timestamp_vm_created,timestamp_vm_deleted,max_cpu,avg_cpu,p95_max_cpu,vm_category,vm_virtual_core_count_bucket,vm_memory_gb_bucket,duration\n")
    for i in range(80):
        inter = i % 2 == 0
        avg = random.uniform(2, 10) if inter else random.uniform(40, 80)
        p95 = avg * (3 if inter else 1.2)
        f.write(f"v{i},s,d,0,2591400,{min(100, p95 * 1.3):.2f},{avg:.2f},{min(100, p95):.2f},{'Interactive' if inter else 'Delay-insensitive'},2,4,2591400\n")
PY
expect_exit 0 $B --db d.db classify --train vmtable.csv
expect_exit 0 $B --db d.db --json predict dev --at 2026-01-22T00:00:00Z --no-store
python3 - <<'PY' || fail "workload in the profile"
import json
w = json.load(open("out.txt"))["behaviour"]["workload"]
assert w["class"] in ("interactive", "batch") and 0 <= w["p_interactive"] <= 1, w
assert w["model_version"] >= 1
PY
