#!/usr/bin/env bash
# Installs the Debian packages bespoke needs to build, test and benchmark,
# when they are missing. Idempotent and quiet when everything is there.
# Needs root (or sudo) only when something has to be installed.
set -euo pipefail

# Build and run.
pkgs="build-essential pkg-config libsqlite3-dev sqlite3 libjansson-dev
zlib1g-dev libgsl-dev libcyaml-dev libglpk-dev libcmocka-dev clang libclang-rt-14-dev
python3 gzip curl openssl libvirt-clients libcurl4-openssl-dev libssl-dev libmicrohttpd-dev
libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libarchive-dev prometheus mmdebstrap
umoci oci-image-tool cloud-init skopeo docker-registry apache2-utils
nodejs chromium fonts-dejavu-core"
# Benchmarks' references (make bench).
if [ "${BSP_DEPS_BENCH:-0}" = 1 ]; then
	pkgs="$pkgs hyperfine r-base-core r-cran-forecast wrk"
fi

missing=()
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
