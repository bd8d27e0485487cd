#!/usr/bin/env bash
# Personalized images at fleet scale: N users' images built on one base
# into one OCI layout (the registry). Prints the time per image (goal: under
# 1 s; the base is never re-compressed) and the registry's size beside the
# base's (goal: N images add only their personalization layers), and as a
# reference the time umoci takes to add one layer of the same files.
#
# Usage: bench/images.sh [N] [BASE_MB]   (after make; needs umoci)
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(pwd)/build/bespoke
N=${1:-1000}
BASE_MB=${2:-64}
command -v umoci >/dev/null || { echo "(umoci missing: skipped)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== images: $N users on one ${BASE_MB} MB base"
umoci init --layout reg >/dev/null
umoci new --image reg:base >/dev/null
mkdir -p rootfs/usr/share/bench
# Incompressible, so the base layer weighs what it says.
head -c $((BASE_MB << 20)) /dev/urandom >rootfs/usr/share/bench/blob
umoci insert --rootless --image reg:base rootfs/usr /usr >/dev/null 2>&1
base_bytes=$(du -sb reg | cut -f1)

# N profiles: a persona mix and application use that vary per user.
python3 - "$N" <<'PY'
import json, random, sys
n = int(sys.argv[1])
rnd = random.Random(42)
personas = ["data-scientist", "ml-engineer", "developer", "build-agent", "dba",
            "office-worker", "sre", "data-engineer", "streamer", "financial-modeller"]
apps = ["psql", "mysql", "jupyter", "python", "make", "gcc", "git", "docker", "htop"]
for i in range(n):
    w = [rnd.random() ** 4 for _ in personas]
    s = sum(w)
    ps = sorted(({"name": p, "p": x / s} for p, x in zip(personas, w)), key=lambda e: -e["p"])
    day = [{"name": a, "p": rnd.random()} for a in apps]
    prof = {"format": "bespoke-profile", "version": 1, "entity": "user-%04d" % i,
            "profile_version": 1,
            "metrics": {"mem_usage": {"unit": "MiB", "forecast": {"point": [4096],
                        "quantiles": {"p50": [rnd.choice([2048, 8192, 32768])]}}}},
            "behaviour": {"workload": {"class": rnd.choice(["interactive", "batch"]),
                                       "p_interactive": rnd.random()},
                          "personas": ps,
                          "apps": {"next": [], "coming_hour": day, "coming_day": day}}}
    json.dump(prof, open("p%04d.json" % i, "w"))
PY

t0=$(date +%s.%N)
for ((i = 0; i < N; i++)); do
	f=$(printf "p%04d.json" "$i")
	SOURCE_DATE_EPOCH=1700000000 "$B" image build --profile "$f" \
		--base oci:reg:base --out oci:reg:"u$i" --budget-mb 800 \
		--no-cloud-init --user-data ud.yaml >/dev/null
done
t1=$(date +%s.%N)
reg_bytes=$(du -sb reg | cut -f1)
tags=$(python3 -c 'import json; print(len(json.load(open("reg/index.json"))["manifests"]))')

# The reference: umoci adding one layer of the same files to the base.
mkdir -p one && umoci unpack --rootless --image reg:u0 one >/dev/null 2>&1
t2=$(date +%s.%N)
umoci insert --rootless --image reg:base one/rootfs/etc /etc >/dev/null 2>&1
t3=$(date +%s.%N)

awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$N" -v tags="$tags" \
	-v base="$base_bytes" -v reg="$reg_bytes" 'BEGIN {
	printf "bespoke image build: %.1f ms per image (%d images, %.1f s; goal: under 1 s each)\n",
		(b - a) * 1000 / n, n, b - a
	printf "umoci insert of one such layer (reference): %.1f ms\n", (d - c) * 1000
	printf "registry: %.1f MB for %d tagged images on a %.1f MB base: %.1f KB per image (%.0f MB if each image held its base)\n",
		reg / 1048576, tags - 1, base / 1048576, (reg - base) / 1024 / n, (base * n + reg - base) / 1048576 }'
