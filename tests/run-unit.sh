#!/usr/bin/env bash
# Runs each cmocka unit-test binary and prints one closing line:
# "unit: N passed, N failed".
set -u
pass=0; fail=0
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
